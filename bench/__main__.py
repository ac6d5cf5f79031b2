"""Run every benchmark scenario and write ``bench/RESULTS.md`` and ``bench/throughput.png``.

    python -m bench [--quick] [--out DIR] [--json FILE] [--baseline REV|DIR]

``--quick`` (under two minutes): shorter samples, fewer rounds, smaller memory runs, 100,000
messages for the resident-memory run instead of 1,000,000, and 10,000 / 2,000 inputs instead of
100,000 / 20,000 for the end-to-end runs over Kafka / MQTT. The timing method is described in
``bench/timing.py``, the memory methods in ``bench/memory.py``, the end-to-end runs over a broker in
``bench/connectors.py``, the output paths (record path, CLI against the Node peer, build time) in
``bench/paths.py``. ``--baseline`` measures an earlier commit (or checkout) in the same run where a
comparison says "today's" (``bench/baseline.py``).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import baseline, connectors, memory, paths, report, rss, scenarios
from bench.scenarios import VARIANTS, Op
from bench.timing import measure, single_calls

HERE = Path(__file__).resolve().parent


class Settings:
    def __init__(self, mode: str) -> None:
        self.mode = mode
        if mode == "full":
            self.sample_s, self.rounds = 0.03, 31
            self.alloc_n, self.rss_every = 20_000, 50_000
            self.rss_count, self.rss_count_quickjs = 1_000_000, 1_000_000
            self.first_n, self.profile_n = 200, 50_000
            self.connector_counts = {"kafka": 100_000, "mqtt": 20_000}
            self.connector_timeout = 600.0
            self.cli_lines, self.cli_rounds = 300_000, 5
            self.kafka_rounds = 3
            self.build_sizes, self.build_sizes_baseline = (100, 1_000, 10_000), (100, 1_000)
        elif mode == "quick":
            self.sample_s, self.rounds = 0.01, 7
            self.alloc_n, self.rss_every = 2_000, 10_000
            self.rss_count, self.rss_count_quickjs = 100_000, 20_000
            self.first_n, self.profile_n = 30, 5_000
            self.connector_counts = {"kafka": 10_000, "mqtt": 2_000}
            self.connector_timeout = 180.0
            self.cli_lines, self.cli_rounds = 300_000, 2
            self.kafka_rounds = 2
            self.build_sizes, self.build_sizes_baseline = (100, 1_000, 10_000), (100, 1_000)
        else:  # smoke: the code paths only (tests)
            self.sample_s, self.rounds = 0.001, 1
            self.alloc_n, self.rss_every = 200, 500
            self.rss_count, self.rss_count_quickjs = 2_000, 1_000
            self.first_n, self.profile_n = 3, 200
            self.connector_counts = {}  # no brokers in the smoke run
            self.connector_timeout = 0.0
            self.cli_lines, self.cli_rounds = 3_000, 1
            self.kafka_rounds = 0
            self.build_sizes, self.build_sizes_baseline = (100,), (100,)


def _log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def environment() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions = {}
    for mod in ("orjson", "quickjs", "esprima", "pytest_benchmark", "matplotlib", "memray"):
        try:
            from importlib.metadata import version
            name = {"quickjs": "quickjs-ng", "pytest_benchmark": "pytest-benchmark",
                    "esprima": "esprima-fork"}.get(mod, mod)
            versions[name] = version(name)
        except Exception:  # noqa: BLE001 - not installed
            versions[mod] = None
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True,
                                text=True, check=False).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "runtime", "transpiler"],
                               cwd=HERE.parent, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        commit, dirty = "", ""
    return {
        "cpu": cpu, "cores": os.cpu_count(), "machine": platform.machine(), "system": platform.platform(),
        "python": sys.version.split()[0], "implementation": platform.python_implementation(),
        "versions": versions, "commit": commit, "dirty": bool(dirty),
        "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def run_timings(s: Settings) -> dict[str, Any]:
    res: dict[str, Any] = {}

    _log("processing and fast paths")
    ops: dict[Any, Op] = {}
    for name, _ in scenarios.PROCESSING:
        for v in VARIANTS:
            ops[(name, v)] = scenarios.processing(name, v)
    for v in VARIANTS:
        ops[("HighThroughput.process", v)] = scenarios.processing("HighThroughput.process", v)
    for name, _, _ in scenarios.FAST_PATHS:
        for v in VARIANTS:
            ops[(name, v)] = scenarios.fast_path(name, v)
    res["processing"] = measure(ops, s.sample_s, s.rounds)

    _log("expressions")
    ops = {}
    for name, *_ in scenarios.EXPRESSIONS:
        for v in scenarios.ENGINES:
            ops[(name, v, "report")] = scenarios.expression(name, v, honest=False)
            ops[(name, v, "honest")] = scenarios.expression(name, v, honest=True)
        ops[(name, "raw", "nolimit")] = scenarios.raw_quickjs_call(name, None)
        ops[(name, "raw", "limit")] = scenarios.raw_quickjs_call(name, 1.0)
    res["expression_outputs"] = {k: op.extra.get("outputs") for k, op in ops.items() if op.extra}
    res["expressions"] = measure(ops, s.sample_s, s.rounds)

    _log("variables")
    ops = {}
    for name, _ in scenarios.VARIABLES:
        for v in VARIANTS:
            ops[(name, v)] = scenarios.variables(name, v)
    res["variables"] = measure(ops, s.sample_s, s.rounds)
    first: dict[str, float] = {}
    for v in VARIANTS:
        calls = sorted(single_calls(scenarios.first_message_ops(v, s.first_n)))
        first[v] = calls[len(calls) // 2]
    res["first_message_median"] = first

    _log("batches and throughput")
    # flatness first, in a small group of its own (samples close in time, twice the rounds)
    ops = {}
    for n, _ in scenarios.BATCHES:
        for v in ("python", "floor"):
            ops[(n, v, "press")] = scenarios.batch(n, v, mixed=False)
        ops[(n, "python", "press-nogc")] = scenarios.batch(n, "python", mixed=False, gc_off=True)
    batches = measure(ops, s.sample_s, 2 * s.rounds)
    ops = {}
    for n, _ in scenarios.BATCHES:
        for v in VARIANTS:
            ops[(n, v, "mixed")] = scenarios.batch(n, v, mixed=True)
        ops[(n, "quickjs", "press")] = scenarios.batch(n, "quickjs", mixed=False)
    for v in VARIANTS:
        ops[("realistic", v, "")] = scenarios.realistic(v)
    batches.update(measure(ops, s.sample_s, s.rounds))
    res["batches"] = batches

    _log("expression evaluation paths (micro)")
    ops = {}
    for name, *_ in scenarios.EXPRESSIONS:
        for v in scenarios.MICRO_VARIANTS:
            ops[(name, v)] = scenarios.micro(name, v)
    res["micro"] = measure(ops, s.sample_s, s.rounds)
    return res


def run_memory(s: Settings) -> dict[str, Any]:
    _log("memory: allocations per message")
    res: dict[str, Any] = {"alloc": {}, "tracemalloc": {}, "blocks": {}, "state": {}, "rss": {}}
    for v in VARIANTS:
        p = scenarios.processor(scenarios.PUMP_CONFIG, v)
        res["alloc"][v] = memory.memray_per_message(p.process, scenarios.PRESS_MESSAGE, s.alloc_n,
                                                    sites=10 if v == "python" else 0)
        res["tracemalloc"][v] = memory.tracemalloc_per_message(p.process, scenarios.PRESS_MESSAGE, s.alloc_n)
        res["blocks"][v] = memory.blocks_per_message(p.process, scenarios.PRESS_MESSAGE, s.alloc_n)
        p = scenarios.processor(scenarios.PUMP_CONFIG, v)
        res["state"][v] = memory.state_accumulation(p.process, scenarios.distinct_press_messages(0, 1000))
        if v == "python":
            res["generated_source"] = p.generated_source
    for v in VARIANTS:
        count = s.rss_count_quickjs if v == "quickjs" else s.rss_count
        _log(f"memory: resident set over {count:,} messages ({v}, fresh process)")
        res["rss"][v] = rss.in_subprocess(v, count, s.rss_every)
    return res


def run_profile(s: Settings) -> dict[str, str]:
    _log("profiles")
    out = {}
    for v in ("python", "floor"):
        p = scenarios.processor(scenarios.PUMP_CONFIG, v)
        m = scenarios.PRESS_MESSAGE
        process = p.process
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(s.profile_n):
            process(m)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(12)
        text = buf.getvalue()
        lines = [ln for ln in text.splitlines() if ln.strip()]
        start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
        out[v] = "\n".join(lines[start:])
    return out


def run_connectors(s: Settings, base: Path | None) -> dict[str, Any]:
    if not s.connector_counts:
        return {"runs": {}, "note": f"not measured in a {s.mode} run"}
    res = {"runs": connectors.run(s.connector_counts, s.connector_timeout, log=_log), "note": None}
    n = s.connector_counts.get("kafka")
    if base is not None and n:
        # one wall-clock run each is at the mercy of the shared machine: ours and the baseline's
        # in turn, several rounds, and the median of the per-round ratios
        pairs = []
        for _ in range(s.kafka_rounds):
            theirs = connectors.run({"kafka": n}, s.connector_timeout, log=_log, root=base)["kafka"]
            ours = connectors.run({"kafka": n}, s.connector_timeout, log=_log)["kafka"]
            pairs.append({"ours": ours, "baseline": theirs})
        res["kafka_pairs"] = pairs
        done = [p["baseline"] for p in pairs if "seconds" in p["baseline"]]
        if done:  # the baseline's median run, for the table
            res["baseline_runs"] = {"kafka": sorted(done, key=lambda r: r["inputs_per_s"])[len(done) // 2]}
    return res


def run_paths(s: Settings, base: Path | None, base_label: str | None) -> dict[str, Any]:
    res: dict[str, Any] = {"baseline": base_label}
    _log("output paths: entry points" + (" (and the baseline's process_batch)" if base else ""))
    res["entry_points"] = paths.run_entry_points(s.sample_s, s.rounds, baseline.load(base) if base else None)
    _log(f"output paths: CLI vs Node peer on {s.cli_lines:,} pump lines, {s.cli_rounds} rounds")
    res["cli"] = paths.run_cli(s.cli_lines, s.cli_rounds, base)
    _log("output paths: build time " + ", ".join(f"{n:,}" for n in s.build_sizes))
    res["build"] = {str(n): v for n, v in paths.run_build(s.build_sizes).items()}
    if base is not None:
        built = paths.run_build(s.build_sizes_baseline, root=base)
        res["build_baseline"] = {str(n): v for n, v in built.items()}
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="finish in under two minutes")
    ap.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)  # tests: code paths only
    ap.add_argument("--out", default=str(HERE), help="directory for RESULTS.md and throughput.png")
    ap.add_argument("--json", default=None, help="also write the raw results as JSON to this file")
    ap.add_argument("--baseline", default=None, metavar="REV|DIR",
                    help="also measure this commit (or checkout) where a comparison says 'today's'")
    ap.add_argument("--render", default=None, metavar="JSON",
                    help="measure nothing: write RESULTS.md and the chart from an earlier --json file")
    args = ap.parse_args(argv)
    out = Path(args.out)
    if args.render:
        results = report.from_json(json.loads(Path(args.render).read_text(encoding="utf-8")))
        return _write(results, out, None)
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    s = Settings(mode)
    t0 = time.perf_counter()
    results: dict[str, Any] = {"mode": mode, "env": environment()}
    results["timings"] = run_timings(s)
    results["memory"] = run_memory(s)
    results["profiles"] = run_profile(s)
    base, base_label = baseline.checkout(args.baseline) if args.baseline else (None, None)
    results["paths"] = run_paths(s, base, base_label)
    results["connectors"] = run_connectors(s, base)
    results["elapsed_s"] = time.perf_counter() - t0
    return _write(results, out, args.json)


def _write(results: dict[str, Any], out: Path, json_path: str | None) -> int:
    out.mkdir(parents=True, exist_ok=True)
    chart = report.write_chart(results, out / "throughput.png")
    results["chart"] = chart
    text = report.markdown(results)
    (out / "RESULTS.md").write_text(text, encoding="utf-8")
    if json_path:
        Path(json_path).write_text(json.dumps(report.jsonable(results), indent=1), encoding="utf-8")
    _log(f"wrote {out / 'RESULTS.md'}" + (f" and {chart}" if chart else " (no chart: matplotlib missing)")
         + f" (run: {results['elapsed_s']:.0f} s)")
    print(report.headline(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
