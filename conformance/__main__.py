"""``python -m conformance [--examples N] [--seed S | --seeds K] [--oracle quickjs|node] [--report PATH]``

Runs the corpus, the evaluation-order family, N generated expression cases, the example
streams and N/100 generated streams through both engines, prints the table by construct
family and every disagreement, writes a JSON report if asked, and exits 1 on any disagreement.
The seed is printed at the start (a random one when none is given); ``--seeds K`` runs K
consecutive seeds from it. ``--oracle node`` also runs every expression case through V8
(``node``, one process, in one batch per seed) and counts disagreements with it outside
``conformance.quickjs_deviations.IMPLEMENTATION_DEFINED``.

Nightly-style run: ``python -m conformance --examples 100000 --seed $(date +%Y%m%d)``.
"""

from __future__ import annotations

import argparse
import json
import random
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
    parser.add_argument("--seeds", type=int, default=1, metavar="K",
                        help="run K consecutive seeds starting at --seed (default 1)")
    parser.add_argument("--oracle", choices=("quickjs", "node"), default="quickjs",
                        help="'node' also checks every expression case against V8")
    parser.add_argument("--report", metavar="PATH", help="write a JSON report here")
    parser.add_argument("--no-corpus", action="store_true", help="skip the corpus")
    args = parser.parse_args(argv)

    first = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    failed = 0
    reports = []
    for seed in range(first, first + max(1, args.seeds)):
        print(f"seed {seed} (examples {args.examples}, oracle {args.oracle})", flush=True)
        conf, report = run_seed(args, seed)
        reports.append(report)
        failed += bool(conf.disagreements or conf.node_disagreements)
    if args.seeds > 1:
        print(f"\n{args.seeds} seeds from {first}: {failed} with disagreements")
    if args.report:
        with open(args.report, "w", encoding="utf-8") as fh:
            json.dump(reports[0] if len(reports) == 1 else reports, fh, ensure_ascii=False, indent=1)
    return 1 if failed else 0


def run_seed(args: argparse.Namespace, seed: int) -> tuple[Conformance, dict]:
    """One complete run with one seed; prints its table and disagreements."""
    conf = Conformance(oracle=args.oracle)
    started = time.perf_counter()
    timings = {}
    if not args.no_corpus:
        t = time.perf_counter()
        conf.run_corpus()
        conf.run_evaluation_order(seed)
        timings["corpus"] = time.perf_counter() - t
    if args.examples > 0:
        t = time.perf_counter()
        conf.run_generated(args.examples, seed)
        timings["generated"] = time.perf_counter() - t
    t = time.perf_counter()
    conf.run_examples()
    streams = args.streams if args.streams is not None else max(10, args.examples // 100)
    if streams > 0:
        conf.run_streams(streams, seed)
    timings["processor"] = time.perf_counter() - t
    if args.oracle == "node":
        t = time.perf_counter()
        conf.finish()
        timings["node"] = time.perf_counter() - t
    elapsed = time.perf_counter() - started

    print(conf.table())
    print(f"\n{elapsed:.1f} s (" + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()) + ")")
    if conf.deviations_seen:
        print("known QuickJS deviations, decided by V8: "
              + ", ".join(f"{k} {v}" for k, v in conf.deviations_seen.items()))
    if conf.disagreements:
        print(f"\n{len(conf.disagreements)} disagreement(s):")
        for d in conf.disagreements:
            print(d.describe())
    else:
        print("no disagreements")
    if args.oracle == "node":
        total = sum(c.cases for c in conf.node_counts.values())
        print(f"V8 (node): {total} cases, {len(conf.node_disagreements)} disagreement(s)"
              + "".join(f", listed {k} {v}" for k, v in conf.implementation_defined_seen.items()))
        for d in conf.node_disagreements:
            print(d.describe())
    report = conf.report()
    report["seed"] = seed
    report["examples"] = args.examples
    report["seconds"] = round(elapsed, 1)
    report["oracle"] = args.oracle
    report["deviations_seen"] = conf.deviations_seen
    if args.oracle == "node":
        report["node_disagreements"] = [d.as_dict() for d in conf.node_disagreements]
        report["implementation_defined_seen"] = conf.implementation_defined_seen
    return conf, report


if __name__ == "__main__":
    sys.exit(main())
