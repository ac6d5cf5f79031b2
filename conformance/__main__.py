"""``python -m conformance [--examples N] [--seed S] [--report PATH]``

Runs the corpus, N generated expression cases, the example streams and N/100 generated
streams through both engines, prints the table by construct family and every disagreement,
writes a JSON report if asked, and exits 1 on any disagreement.

Nightly-style run: ``python -m conformance --examples 100000 --seed $(date +%Y%m%d)``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from conformance.runner import Conformance


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance", description=__doc__.split("\n\n")[1])
    parser.add_argument("--examples", type=int, default=1000,
                        help="generated expression cases (default 1000)")
    parser.add_argument("--streams", type=int, default=None,
                        help="generated processor streams (default examples/100, at least 10)")
    parser.add_argument("--seed", type=int, default=None, help="Hypothesis seed (default: random)")
    parser.add_argument("--report", metavar="PATH", help="write a JSON report here")
    parser.add_argument("--no-corpus", action="store_true", help="skip the corpus")
    args = parser.parse_args(argv)

    conf = Conformance()
    started = time.perf_counter()
    timings = {}
    if not args.no_corpus:
        t = time.perf_counter()
        conf.run_corpus()
        timings["corpus"] = time.perf_counter() - t
    if args.examples > 0:
        t = time.perf_counter()
        conf.run_generated(args.examples, args.seed)
        timings["generated"] = time.perf_counter() - t
    t = time.perf_counter()
    conf.run_examples()
    streams = args.streams if args.streams is not None else max(10, args.examples // 100)
    if streams > 0:
        conf.run_streams(streams, args.seed)
    timings["processor"] = time.perf_counter() - t
    elapsed = time.perf_counter() - started

    print(conf.table())
    print(f"\n{elapsed:.1f} s (" + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()) + ")")
    if conf.disagreements:
        print(f"\n{len(conf.disagreements)} disagreement(s):")
        for d in conf.disagreements:
            print(d.describe())
    else:
        print("no disagreements")
    if args.report:
        report = conf.report()
        report["seed"] = args.seed
        report["examples"] = args.examples
        report["seconds"] = round(elapsed, 1)
        with open(args.report, "w", encoding="utf-8") as fh:
            json.dump(report, fh, ensure_ascii=False, indent=1)
    return 1 if conf.disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
