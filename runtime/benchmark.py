"""Development benchmark: ``process`` on the HighThroughput scenario against the hand-written floor.

    python -m runtime.benchmark [--number N] [--repeat R] [--engine auto|python|quickjs]

Both run in the same process, interleaved, best of R runs of N calls each (timeit), so machine
noise affects both alike. Also reports the fast paths (missing metadata, unknown topic, invalid
JSON) as a fraction of a processed message, and process_batch per message.
"""

from __future__ import annotations

import argparse
import logging
import time
import timeit
from pathlib import Path

from runtime.handwritten import make_handwritten
from runtime.message import Message
from runtime.processor import StreamProcessor

PUMP = Path(__file__).resolve().parent.parent / "examples" / "pump.yaml"
PRESS = "umh.v1.corpA.plant-A.aawd._raw.press"


def _best(fn, arg, number: int, repeat: int) -> float:
    return min(timeit.repeat(lambda: fn(arg), number=number, repeat=repeat)) / number


def run(number: int = 50_000, repeat: int = 7, engine: str = "auto") -> dict[str, float]:
    processor = StreamProcessor.from_yaml(PUMP, engine=engine)
    hand = make_handwritten()
    ts = int(time.time() * 1000)
    message = Message(b'{"value":25.5,"timestamp_ms":%d}' % ts, {"umh_topic": PRESS})
    assert processor.process(message) == hand(message) and len(hand(message)) == 4

    results: dict[str, list[float]] = {"process": [], "handwritten": []}
    for _ in range(repeat):  # interleave the two so that noise hits both
        results["process"].append(_best(processor.process, message, number, 1))
        results["handwritten"].append(_best(hand, message, number, 1))
    process_s = min(results["process"])
    hand_s = min(results["handwritten"])
    fast = {
        "missing metadata": Message(message.payload, {}),
        "unknown topic": Message(message.payload, {"umh_topic": "umh.v1.corpA.plant-A.aawd._raw.unknown"}),
        "invalid JSON": Message(b"invalid json", {"umh_topic": PRESS}),
    }
    out = {"process_ns": process_s * 1e9, "handwritten_ns": hand_s * 1e9, "ratio": hand_s / process_s}
    runtime_logger = logging.getLogger("runtime")
    level = runtime_logger.level
    try:
        # invalid JSON warns (rate-limited: the first one is logged, then counted); time the path
        # with warnings enabled and with them disabled
        runtime_logger.setLevel(logging.WARNING)
        processor.process(fast["invalid JSON"])
        for name, m in fast.items():
            out[f"{name}_ns"] = _best(processor.process, m, number, repeat) * 1e9
        runtime_logger.setLevel(logging.ERROR)
        invalid_s = _best(processor.process, fast["invalid JSON"], number, repeat)
        out["invalid JSON (warnings off)_ns"] = invalid_s * 1e9
    finally:
        runtime_logger.setLevel(level)
    batch = [message] * 1000
    batch_s = _best(processor.process_batch, batch, max(1, number // 1000), repeat)
    out["batch1000_per_msg_ns"] = batch_s / 1000 * 1e9
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--number", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--engine", default="auto")
    args = ap.parse_args()
    r = run(args.number, args.repeat, args.engine)
    p = r["process_ns"]
    print(f"HighThroughput process():      {p:8.0f} ns/msg  {1e9 / p:10,.0f} msg/s")
    h = r["handwritten_ns"]
    print(f"hand-written floor:            {h:8.0f} ns/msg  {1e9 / h:10,.0f} msg/s")
    print(f"ratio (hand-written / process): {r['ratio']:.1%}  (target >= 70%)")
    b = r["batch1000_per_msg_ns"]
    print(f"process_batch(1000), per msg:  {b:8.0f} ns/msg  {1e9 / b:10,.0f} msg/s")
    for name in ("missing metadata", "unknown topic", "invalid JSON", "invalid JSON (warnings off)"):
        ns = r[f"{name}_ns"]
        print(f"fast path {name + ':':30s} {ns:6.0f} ns = {ns / p:5.1%} of a processed message "
              "(target < 20%)")


if __name__ == "__main__":
    main()
