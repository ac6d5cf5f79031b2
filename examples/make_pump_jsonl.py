"""Generate pump.jsonl and boiler.jsonl: JSON Lines inputs for `streamproc run` (fixed seed).

    python examples/make_pump_jsonl.py      # rewrites examples/pump.jsonl and examples/boiler.jsonl
    python examples/make_pump_jsonl.py --pump 300000 --output /tmp/pump300k.jsonl
                                            # only the pump stream, N lines, to PATH (benchmarks)

Besides realistic values, the files contain the cases a real feed has: invalid payloads,
messages without umh_topic, foreign topics, extra metadata.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
T0 = 1764000000000


def _line(payload, meta) -> str:
    return json.dumps({"payload": payload, "meta": meta}, ensure_ascii=False)


def pump(rng: random.Random, n: int = 300) -> list[str]:
    base = "umh.v1.corpA.plant-A.aawd._raw."
    lines = []
    ts = T0
    press, temp, run = 25.5, 160.0, True
    invalid = [
        "invalid json", "[1, 2, 3]", '{"value": 25.5}', '{"value": 25.5, "timestamp_ms": 0}',
        '{"value": 25.5, "timestamp_ms": "1764000000000"}', '{"value": 25.5, "timestamp_ms": 1.5}',
        '{"value": 25.5, "timestamp_ms": true}', '{"value": null, "timestamp_ms": 1764000000000}',
        '{"timestamp_ms": 1764000000000}', "", "null",
    ]
    for i in range(n):
        ts += rng.randint(50, 1500)
        roll = rng.random()
        meta = {"umh_topic": ""}
        if rng.random() < 0.1:
            meta["kafka_key"] = "plant-A"
        if roll < 0.5:
            press = round(max(0.0, press + rng.gauss(0, 0.8)), 3)
            meta["umh_topic"] = base + "press"
            payload = {"value": press, "timestamp_ms": ts}
        elif roll < 0.75:
            temp = round(temp + rng.gauss(0, 1.5), 1)
            meta["umh_topic"] = base + "tempF"
            payload = {"value": temp if rng.random() < 0.8 else int(temp), "timestamp_ms": ts}
        elif roll < 0.85:
            run = run if rng.random() < 0.8 else not run
            meta["umh_topic"] = base + "run"
            payload = {"value": run if rng.random() < 0.7 else int(run), "timestamp_ms": ts}
        elif roll < 0.91:
            meta["umh_topic"] = base + rng.choice(["press", "tempF", "run"])
            payload = rng.choice(invalid)  # raw text: the payload is given as a string
        elif roll < 0.95:
            meta = {"kafka_key": "no-topic"}
            payload = {"value": 1.0, "timestamp_ms": ts}
        else:
            meta["umh_topic"] = base + rng.choice(["vibration", "humidity"])
            payload = {"value": rng.random(), "timestamp_ms": ts}
        if i == 0:  # the very first messages: tF and r still missing (waiting)
            meta["umh_topic"], payload = base + "press", {"value": 25.5, "timestamp_ms": ts}
        if i == 7:  # a value of another JSON type: string concatenation in press+4.00001
            meta["umh_topic"], payload = base + "press", {"value": "12.5", "timestamp_ms": ts}
        lines.append(_line(payload, meta))
    return lines


def boiler(rng: random.Random) -> list[str]:
    base = "umh.v1.acme.hamburg.utilities.boiler2._raw."
    lines = []
    ts = T0
    steam, feed, gas, flue = 3800.0, 105.0, 290.0, 175.0
    for i in range(250):
        ts += rng.randint(200, 2000)
        roll = rng.random()
        meta = {"umh_topic": "", "plant": "hamburg"}
        if roll < 0.3:
            steam = round(max(0.0, steam + rng.gauss(0, 60)), 1)
            meta["umh_topic"], value = base + "steam_flow_kg_h", steam
        elif roll < 0.5:
            feed = round(feed + rng.gauss(0, 1.2), 2)
            meta["umh_topic"], value = base + "feedwater_temp_c", feed
        elif roll < 0.75:
            gas = round(max(0.0, gas + rng.gauss(0, 5)), 2)
            meta["umh_topic"], value = base + "gas_flow_nm3_h", gas
        elif roll < 0.95:
            flue = round(flue + rng.gauss(0, 4), 1)
            meta["umh_topic"], value = base + "flue_gas_temp_c", flue
        else:
            meta["umh_topic"], value = base + "drum_level_mm", rng.randint(-50, 50)
        payload = {"value": value, "timestamp_ms": ts}
        if i == 120:  # a burner trip: gas flow 0 -> efficiency divides by zero (Infinity: no output)
            meta["umh_topic"], payload = base + "gas_flow_nm3_h", {"value": 0, "timestamp_ms": ts}
        if i == 121:
            meta["umh_topic"], payload = base + "gas_flow_nm3_h", {"value": gas, "timestamp_ms": ts}
        if i == 200:
            payload = '{"value": 1e400, "timestamp_ms": 1}'
        lines.append(_line(payload, meta))
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pump", type=int, metavar="N", help="write only the pump stream, N lines")
    parser.add_argument("--output", metavar="PATH", help="where --pump writes (default examples/pump.jsonl)")
    args = parser.parse_args(argv)
    if args.pump is not None:
        path = Path(args.output) if args.output else HERE / "pump.jsonl"
        path.write_text("\n".join(pump(random.Random(42), args.pump)) + "\n", encoding="utf-8")
        return
    (HERE / "pump.jsonl").write_text("\n".join(pump(random.Random(42))) + "\n", encoding="utf-8")
    (HERE / "boiler.jsonl").write_text("\n".join(boiler(random.Random(7))) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
