"""Resident memory over a long run, in a fresh process (so that nothing else inflates it).

    python -m bench.rss [--engine python|quickjs|floor] [--count 1000000] [--every 50000]

Processes ``count`` press messages with distinct values (built on the fly, outputs dropped) and
prints a JSON object with the resident set size sampled every ``every`` messages.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import Any

from bench import memory, scenarios


def run(engine: str, count: int, every: int) -> dict[str, Any]:
    p = scenarios.processor(scenarios.PUMP_CONFIG, engine)
    t0 = time.process_time()
    result = memory.rss_run(p.process, scenarios.distinct_press_messages(0, count), count, every)
    result["cpu_s"] = time.process_time() - t0
    result["engine"] = engine
    result["outputs_per_message"] = len(p.process(next(scenarios.distinct_press_messages(count, 1))))
    return result


def in_subprocess(engine: str, count: int, every: int) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.rss", "--engine", engine, "--count", str(count),
           "--every", str(every)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", default="python", choices=scenarios.VARIANTS)
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--every", type=int, default=50_000)
    args = ap.parse_args(argv)
    print(json.dumps(run(args.engine, args.count, args.every)))


if __name__ == "__main__":
    main()
