"""RESULTS.md and throughput.png from the results of ``python -m bench``."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from bench import connectors, scenarios

GO_MSG_S = 35_943
TARGET_MSG_S = 250_000
MIB = 1024 * 1024


# ------------------------------------------------------------------------------------------- helpers
def ns(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.1f}"


def rate(ns_per_msg: float | None) -> str:
    return "–" if not ns_per_msg else f"{1e9 / ns_per_msg:,.0f}"


def x(a: float | None, b: float | None) -> str:
    """a / b as a factor."""
    if not a or not b:
        return "–"
    return f"{a / b:.2f}x"


def pct(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "–"
    return f"{100 * a / b:.0f}%"


def verdict(ok: bool | None) -> str:
    if ok is None:
        return "not judged (quick run)"
    return "met" if ok else "**MISSED**"


def kib(b: float | None) -> str:
    return "–" if b is None else f"{b / 1024:.2f} KiB"


def jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {("|".join(map(str, k)) if isinstance(k, tuple) else str(k)): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    return obj


def from_json(data: dict[str, Any]) -> dict[str, Any]:
    """Inverse of ``jsonable`` for the results: "a|b|c" keys of the timing tables back to tuples."""

    def key(k: str) -> Any:
        if "|" not in k:
            return k
        return tuple(int(p) if p.isdigit() else p for p in k.split("|"))

    timings = data["timings"]
    for table, rows in timings.items():
        if isinstance(rows, dict):
            timings[table] = {key(k): v for k, v in rows.items()}
    return data


# ------------------------------------------------------------------------------------------- figures
class Figures:
    """The derived numbers RESULTS.md, the chart and the headline share."""

    def __init__(self, r: dict[str, Any]) -> None:
        t = r["timings"]
        self.r = r
        self.P, self.E, self.V, self.B, self.M = (t["processing"], t["expressions"], t["variables"],
                                                  t["batches"], t["micro"])
        self.ht = {v: self.P[("HighThroughput", v)] for v in scenarios.VARIANTS}
        self.ht_process = {v: self.P[("HighThroughput.process", v)] for v in scenarios.VARIANTS}
        self.floor_fraction = self.ht["floor"] / self.ht["python"]
        self.floor_fraction_process = self.ht_process["floor"] / self.ht_process["python"]
        self.fast = {name: self.P[(name, "python")] / self.ht["python"] for name, _, _ in scenarios.FAST_PATHS}
        self.expr_speedup = {name: self.E[(name, "quickjs", "honest")] / self.E[(name, "python", "honest")]
                             for name, *_ in scenarios.EXPRESSIONS}
        self.micro_net = {k: max(v - self.M[(k[0], "empty")], 0.0) for k, v in self.M.items()}
        self.micro_vs_qjs = {n: self.micro_net[(n, "quickjs-raw")] / self.micro_net[(n, "fn")]
                             for n, *_ in scenarios.EXPRESSIONS}
        self.micro_vs_lambda = {n: self.micro_net[(n, "fn")] / self.micro_net[(n, "lambda")]
                                for n, *_ in scenarios.EXPRESSIONS}
        sizes = [n for n, _ in scenarios.BATCHES]
        self.batch_press = [self.B[(n, "python", "press")] for n in sizes]
        self.batch_mixed = [self.B[(n, "python", "mixed")] for n in sizes]
        self.flatness = max(self.batch_press) / min(self.batch_press)
        self.flatness_mixed = max(self.batch_mixed[1:]) / min(self.batch_mixed[1:])
        mem = r["memory"]
        self.alloc = mem["alloc"]
        self.have_memray = self.alloc.get("python") is not None
        self.rss = mem["rss"]

    def alloc_bytes(self, v: str) -> float | None:
        a = self.alloc.get(v)
        return a["bytes"] if a else None

    def rss_flat(self, v: str) -> bool:
        return self.rss[v]["growth_after_warmup"] < MIB

    def targets(self) -> list[tuple[str, str, bool | None]]:
        rows = []
        py = self.ht["python"]
        rows.append((f"HighThroughput >= {TARGET_MSG_S:,} msg/s on one core (python engine, batch of 1)",
                     f"{rate(py)} msg/s (process(msg): {rate(self.ht_process['python'])})",
                     1e9 / py >= TARGET_MSG_S))
        rows.append(("HighThroughput >= 70% of the hand-written floor, same run",
                     f"{self.floor_fraction:.0%} (process(msg): {self.floor_fraction_process:.0%})",
                     self.floor_fraction >= 0.7))
        for name, *_ in scenarios.EXPRESSIONS:
            rows.append((f"Expression {name} (honest): python engine >= 2x faster than quickjs engine",
                         f"{self.expr_speedup[name]:.2f}x", self.expr_speedup[name] >= 2))
        for name, *_ in scenarios.EXPRESSIONS:
            # the transpiler issue's targets; string concatenation is bound by number-to-string
            # formatting, which QuickJS does in C: there the target is not being slower than it
            need = 1.0 if name == "StringConcat" else 2.0
            label = "not slower than" if need == 1.0 else "fn >= 2x faster than"
            rows.append((f"Expression {name}: {label} raw QuickJS, within 1.5x of a lambda",
                         f"{self.micro_vs_qjs[name]:.2f}x faster; {self.micro_vs_lambda[name]:.2f}x the lambda",
                         self.micro_vs_qjs[name] >= need and self.micro_vs_lambda[name] <= 1.5))
        for name, frac in self.fast.items():
            rows.append((f"Fast path {name} < 1/5 of a processed message", f"{frac:.1%}", frac < 0.2))
        rows.append(("Per-message cost flat from batch 1 to batch 1000 (press-only batches, max/min <= 1.2)",
                     f"max/min = {self.flatness:.2f} (mixed batches 10..1000: {self.flatness_mixed:.2f})",
                     self.flatness <= 1.2))
        b = self.alloc_bytes("python")
        tm = self.r["memory"]["tracemalloc"]["python"]["retained_bytes"]
        if b is not None:
            rows.append(("Allocated bytes per processed message <= 2 KB (all allocations, freed or not: memray)",
                         f"{b:,.0f} B in {self.alloc['python']['allocs']:.1f} allocations "
                         f"(retained by the outputs: {tm:,.0f} B)", b <= 2048))
        else:
            rows.append(("Allocated bytes per processed message <= 2 KB (retained, tracemalloc; memray missing)",
                         f"{tm:,.0f} B retained", tm <= 2048))
        for v in scenarios.ENGINES:
            rr = self.rss[v]
            rows.append((f"Resident memory flat over {rr['messages']:,} messages ({v} engine)",
                         f"{rr['growth_after_warmup'] / MIB:+.2f} MiB after warm-up "
                         f"({rr['warm'] / MIB:.1f} -> {rr['end'] / MIB:.1f} MiB)",
                         self.rss_flat(v) if rr["messages"] >= 1_000_000 else None))
        return rows


# ------------------------------------------------------------------------------------------- markdown
def markdown(r: dict[str, Any]) -> str:
    f = Figures(r)
    env = r["env"]
    L: list[str] = []
    w = L.append
    w("# Benchmark results")
    w("")
    w(f"Generated by `python -m bench{' --quick' if r['mode'] == 'quick' else ''}` "
      f"({r['mode']} run, {r['elapsed_s']:.0f} s) on {env['date']}.")
    w("")
    w(f"- **Machine**: {env['cpu']}, {env['cores']} cores, {env['system']}; load average at start "
      f"{', '.join(f'{v:.2f}' for v in env['loadavg'] or ())} (shared, noisy machine)")
    w(f"- **Python**: {env['implementation']} {env['python']}; "
      + ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v))
    w(f"- **Code**: commit {env['commit']}{' with uncommitted changes in runtime/ or transpiler/' if env['dirty'] else ''}")
    w("- **Original**: the Go plugin's report, Apple M3 Pro (`shared/seed/performance-report.md`); "
      "a different machine, so *Go/ours* ratios compare machines as well as implementations. "
      "The ratios between our columns are measured in the same run, seconds apart.")
    w("- **Method**: each figure is the fastest of several interleaved samples of CPU time "
      "(`bench/timing.py`); all columns of a table are sampled round-robin so that load bursts hit "
      "them alike. *python* / *quickjs*: `StreamProcessor(config, engine=...)`; *floor*: "
      "`runtime/handwritten.py`, the pump configuration's handler written by hand (same bytes and "
      "metadata out). ns are per processed batch call unless said otherwise.")
    w("")

    w("## Targets")
    w("")
    w("| target | measured | |")
    w("|---|---|---|")
    for target, measured, ok in f.targets() + path_targets(r):
        w(f"| {target} | {measured} | {verdict(ok)} |")
    w("")
    missed = [t for t, _, ok in f.targets() + path_targets(r) if ok is False]
    if missed:
        w(f"{len(missed)} target(s) missed; see *Why targets are missed* below.")
    else:
        w("All targets met.")
    w("")

    # ---- processing
    w("## Message processing (report table 1)")
    w("")
    w("The test processor (pump configuration), the press message, `process_batch` of a batch of 1 as the "
      "report ran it; the four rows are the same work (the report's figures were the same too). "
      "The last row is the same through `process(message)`.")
    w("")
    w("| scenario | original (Go) ns | ours python ns | ours quickjs ns | floor ns | python msg/s "
      "| Go / python | quickjs / python | floor / python |")
    w("|---|---|---|---|---|---|---|---|---|")
    for name, orig in scenarios.PROCESSING + [("HighThroughput.process", None)]:
        py, qj, fl = (f.P[(name, v)] for v in scenarios.VARIANTS)
        label = "HighThroughput via process(msg)" if name.endswith(".process") else name
        if name == "HighThroughput":
            label = "**HighThroughput** (headline)"
        w(f"| {label} | {ns(orig)} | {ns(py)} | {ns(qj)} | {ns(fl)} | {rate(py)} | {x(orig, py)} "
          f"| {x(qj, py)} | {pct(fl, py)} |")
    w("")
    w(f"Go: {GO_MSG_S:,} msg/s; ours (python engine): {rate(f.ht['python'])} msg/s; hand-written floor: "
      f"{rate(f.ht['floor'])} msg/s.")
    w("")

    # ---- fast paths
    w("## Fast paths (report table 2)")
    w("")
    w("A message the processor drops, `process_batch` of a batch of 1. *fraction* = cost / cost of a "
      "processed message (HighThroughput, same engine, same run); target < 20%.")
    w("")
    w("| scenario | original (Go) ns | ours python ns | ours quickjs ns | floor ns | python fraction "
      "| quickjs fraction | Go fraction |")
    w("|---|---|---|---|---|---|---|---|")
    for name, orig, _ in scenarios.FAST_PATHS:
        py, qj, fl = (f.P[(name, v)] for v in scenarios.VARIANTS)
        w(f"| {name} | {ns(orig)} | {ns(py)} | {ns(qj)} | {ns(fl)} | {pct(py, f.ht['python'])} "
          f"| {pct(qj, f.ht['quickjs'])} | {pct(orig, 27_822)} |")
    w("")
    w("Invalid JSON is timed with warnings enabled: the first one is logged, the rest counted by the "
      "rate-limited log (the production path).")
    w("")

    # ---- expressions
    w("## JavaScript expressions (report table 3)")
    w("")
    w("One mapping `result` (model test/v1), the press message, batch of 1. *as report*: exactly the "
      "report's run, in which `tF` never has a value, so the three expressions using it are skipped "
      "(no JavaScript runs: that is why the report found them \"16x faster\"). *honest*: one tempF "
      "message first, so every expression is evaluated. Baselines: the expression as a plain QuickJS "
      "function in its own context called directly from Python with (press, tF) = (25.5, 25.5), "
      "without and with a 1 s time limit (no processor around it).")
    w("")
    w("| expression | original (Go) ns | python, as report | quickjs, as report | python, honest "
      "| quickjs, honest | raw QuickJS call | raw QuickJS call, time limit | Go / python (honest) "
      "| quickjs / python (honest, target >= 2x) |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    for name, src, orig, _ in scenarios.EXPRESSIONS:
        e = f.E
        w(f"| `{src}` | {ns(orig)} | {ns(e[(name, 'python', 'report')])} | {ns(e[(name, 'quickjs', 'report')])} "
          f"| {ns(e[(name, 'python', 'honest')])} | {ns(e[(name, 'quickjs', 'honest')])} "
          f"| {ns(e[(name, 'raw', 'nolimit')])} | {ns(e[(name, 'raw', 'limit')])} "
          f"| {x(orig, e[(name, 'python', 'honest')])} | {x(e[(name, 'quickjs', 'honest')], e[(name, 'python', 'honest')])} |")
    w("")
    outs = r["timings"].get("expression_outputs", {})
    if outs:
        skipped = [n for (n, v, mode), k in outs.items() if mode == "report" and v == "python" and k == 0]
        w(f"Outputs per message: as report, {', '.join(skipped) or 'none'} produce none (waiting for tF); "
          "honest, every expression produces one.")
        w("")

    # ---- micro
    w("## Expression evaluation paths (transpiler targets)")
    w("")
    w("Each path called 1,000 times on 1,000 distinct (press, tF) float pairs (the string "
      "concatenation formats a different number every call, so no formatting cache could help); "
      "ns per call **net of the loop** (the same loop with an empty body, "
      f"{ns(min(f.M[(n, 'empty')] for n, *_ in scenarios.EXPRESSIONS))}–"
      f"{ns(max(f.M[(n, 'empty')] for n, *_ in scenarios.EXPRESSIONS))} ns, is subtracted). "
      "*fn*: the python engine's `CompiledExpression.fn`; *QuickJS*: the expression precompiled as a "
      "plain QuickJS function, no time limit, called from Python; *lambda*: hand-written Python on floats "
      "(`bench/scenarios.py: LAMBDAS`; the string one uses `repr`, right for these inputs only).")
    w("")
    w("| expression | fn ns | QuickJS ns | lambda ns | QuickJS / fn (target >= 2x) | fn / lambda (target <= 1.5x) |")
    w("|---|---|---|---|---|---|")
    for name, src, *_ in scenarios.EXPRESSIONS:
        m = f.micro_net
        w(f"| `{src}` | {ns(m[(name, 'fn')])} | {ns(m[(name, 'quickjs-raw')])} | {ns(m[(name, 'lambda')])} "
          f"| {f.micro_vs_qjs[name]:.2f}x | {f.micro_vs_lambda[name]:.2f}x |")
    w("")
    w("### QuickJS through our engine: time limit active vs not")
    w("")
    w("`compile_expression(source, engine=\"quickjs\")` with the default `QuickJSLimits` (1 s time limit) "
      "vs `QuickJSLimits(time_limit=-1)` (none), same loop, ns per call net of the loop; the raw call "
      "(no adapter, no limit) for reference.")
    w("")
    w("| expression | ours, time limit | ours, no time limit | time limit costs | raw QuickJS (no limit) | ours (no limit) - raw |")
    w("|---|---|---|---|---|---|")
    for name, src, *_ in scenarios.EXPRESSIONS:
        m = f.micro_net
        lim, nolim, raw = m[(name, "ours-quickjs-limit")], m[(name, "ours-quickjs-nolimit")], m[(name, "quickjs-raw")]
        w(f"| `{src}` | {ns(lim)} | {ns(nolim)} | {lim - nolim:+,.0f} ns ({x(lim, nolim)}) | {ns(raw)} "
          f"| {nolim - raw:+,.0f} ns |")
    w("")

    # ---- variables
    w("## Variable resolution (report table 4)")
    w("")
    w("The test processor, batch of 1. FirstVariable as the report ran it (a processor that starts without "
      "state, the press message repeated: only the first iteration is really first); SubsequentVariables: "
      "after one press and one tempF message, the run message (value 30.0) repeated; VariableOverwrite: "
      "a press message with a new value each iteration, payload built inside the timed loop.")
    w("")
    w("| scenario | original (Go) ns | ours python ns | ours quickjs ns | floor ns | Go / python | quickjs / python | floor / python |")
    w("|---|---|---|---|---|---|---|---|")
    for name, orig in scenarios.VARIABLES:
        py, qj, fl = (f.V[(name, v)] for v in scenarios.VARIANTS)
        w(f"| {name} | {ns(orig)} | {ns(py)} | {ns(qj)} | {ns(fl)} | {x(orig, py)} | {x(qj, py)} | {pct(fl, py)} |")
    fm = r["timings"]["first_message_median"]
    w(f"| FirstVariable, literally (first message of a fresh processor; median, wall clock) | – "
      f"| {ns(fm['python'])} | {ns(fm['quickjs'])} | {ns(fm['floor'])} | – | {x(fm['quickjs'], fm['python'])} "
      f"| {pct(fm['floor'], fm['python'])} |")
    w("")

    # ---- batches
    w("## Batch processing (report table 5)")
    w("")
    w("Message i has value 25.5+i and cycles press, tempF, run (so batch 1 is one press message, the others "
      "a third of each: 4, 3 and 3 outputs). *press-only*: the same batches with press messages only, the "
      "same work per message, which is what flatness is judged on.")
    w("")
    w("| batch | original total ns | original per msg | python total ns | python per msg | quickjs per msg "
      "| floor per msg | python per msg, press-only | python per msg, press-only, gc off | floor per msg, press-only "
      "| Go / python (per msg) | floor / python |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n, orig in scenarios.BATCHES:
        py, qj, fl = (f.B[(n, v, "mixed")] for v in scenarios.VARIANTS)
        pp, fp = f.B[(n, "python", "press")], f.B[(n, "floor", "press")]
        w(f"| {n} | {ns(orig)} | {ns(orig / n)} | {ns(py * n)} | {ns(py)} | {ns(qj)} | {ns(fl)} | {ns(pp)} "
          f"| {ns(f.B.get((n, 'python', 'press-nogc')))} | {ns(fp)} "
          f"| {x(orig / n, py)} | {pct(fl, py)} |")
    w("")
    w(f"Per-message cost, python engine: press-only max/min over batch 1..1000 = {f.flatness:.2f}; "
      f"mixed batches 10..1000 = {f.flatness_mixed:.2f}.")
    w("")

    # ---- throughput
    w("## Throughput: RealisticWorkload (report table 6)")
    w("")
    w("100 messages (60 press, 30 tempF, 10 run; value 25.5 + i%10) as 10 batches of 10.")
    w("")
    w("| variant | ns per message | msg/s | vs floor |")
    w("|---|---|---|---|")
    w("| original (Go) | not reported | not reported | – |")
    for v in scenarios.VARIANTS:
        t = f.B[("realistic", v, "")]
        w(f"| {v} | {ns(t)} | {rate(t)} | {pct(f.B[('realistic', 'floor', '')], t)} |")
    w("")
    if r.get("chart"):
        w(f"![throughput]({os.path.basename(r['chart'])})")
        w("")

    # ---- end to end over a broker
    L.extend(connectors_section(r))
    L.extend(paths_section(r))

    # ---- memory
    mem = r["memory"]
    w("## Memory (report table 7)")
    w("")
    w("MessageCreation: the press message (4 outputs), per processed message. Methods (`bench/memory.py`): "
      "*allocated*: every allocation made while processing, freed or not (memray, pymalloc and native "
      "allocations), the analogue of Go's B/op and allocs/op; *retained*: bytes still held by the outputs "
      "(tracemalloc, outputs kept); *peak*: tracemalloc peak of one call above the level before it; "
      "*blocks kept / dropped*: `sys.getallocatedblocks()` delta per message over a loop with gc disabled, "
      "outputs kept / outputs dropped (0 = nothing accumulates).")
    w("")
    w("| variant | allocated bytes | allocations | retained bytes | peak bytes | blocks kept | blocks dropped |")
    w("|---|---|---|---|---|---|---|")
    w("| original (Go) | 37.6 KB | 512 | – | – | – | – |")
    for v in scenarios.VARIANTS:
        a = mem["alloc"].get(v)
        tm, bl = mem["tracemalloc"][v], mem["blocks"][v]
        ab = f"{a['bytes']:,.0f}" if a else "memray not installed"
        an = f"{a['allocs']:.1f}" if a else "–"
        w(f"| {v} | {ab} | {an} "
          f"| {tm['retained_bytes']:,.0f} | {tm['peak_bytes']:,.0f} | {bl['blocks_kept']:.1f} | {bl['blocks_dropped']:.3f} |")
    w("")
    w("StateAccumulation: 1000 press messages with distinct values (built beforehand, outputs dropped); "
      "growth of traced memory and of live blocks after them (Go: \"linear growth, no leak\").")
    w("")
    w("| variant | messages | traced bytes grown | live blocks grown |")
    w("|---|---|---|---|")
    for v in scenarios.VARIANTS:
        st = mem["state"][v]
        w(f"| {v} | {st['messages']:,} | {st['bytes']:+,} | {st['blocks']:+,} |")
    w("")
    w("Resident memory (each run in a fresh process: `python -m bench.rss`), press messages with distinct "
      "values built on the fly, outputs dropped; sampled every "
      f"{f.rss['python']['samples'][1][0] if len(f.rss['python']['samples']) > 1 else 0:,} messages; "
      "flat = under 1 MiB of growth after the first sample.")
    w("")
    w("| variant | messages | RSS at start | after warm-up | at end | growth after warm-up | max - min after warm-up | CPU s |")
    w("|---|---|---|---|---|---|---|---|")
    for v in scenarios.VARIANTS:
        rr = f.rss[v]
        w(f"| {v} | {rr['messages']:,} | {rr['start'] / MIB:.1f} MiB | {rr['warm'] / MIB:.1f} MiB | {rr['end'] / MIB:.1f} MiB "
          f"| {rr['growth_after_warmup'] / MIB:+.2f} MiB | {rr['max_minus_min_after_warmup'] / MIB:.2f} MiB | {rr['cpu_s']:.1f} |")
    w("")

    # ---- why
    w("## Why targets are missed, and the profiles")
    w("")
    for line in why(f, r):
        w(line)
    w("")
    w("### cProfile: HighThroughput, python engine (`process(msg)`, sorted by own time)")
    w("")
    w("```")
    w(r["profiles"]["python"])
    w("```")
    w("")
    w("### cProfile: the hand-written floor, same messages")
    w("")
    w("```")
    w(r["profiles"]["floor"])
    w("```")
    w("")
    sites = (mem["alloc"].get("python") or {}).get("sites")
    if sites:
        src = mem.get("generated_source", "").splitlines()
        w("### Allocation sites, python engine (memray; bytes and allocations per message, innermost frames)")
        w("")
        w("| bytes | allocations | site | generated line |")
        w("|---|---|---|---|")
        for site, b, n in sites:
            code = ""
            first = site.split(" <- ")[0]
            if "<stream processor" in first and ":" in first:
                try:
                    lineno = int(first.rsplit(":", 1)[1].rstrip(")"))
                    code = f"`{src[lineno - 1].strip()}`"
                except (ValueError, IndexError):
                    code = ""
            w(f"| {b:,.0f} | {n:.1f} | {site.replace('|', '/')} | {code} |")
        w("")
    return "\n".join(L) + "\n"


def connectors_section(r: dict[str, Any]) -> list[str]:
    """The "End to end over a broker" table; results without connector figures (a smoke run, a JSON
    file from before they existed, a broker missing) say so instead."""
    out = ["## End to end over a broker (connectors)", ""]
    out.append(
        "`python -m runtime run examples/pump.yaml --kafka/--mqtt` as a subprocess, N pump messages (press, "
        "tempF, run in turn; 3.33 outputs each) already waiting for it in the broker; the clock starts when the "
        "processor owns the partitions / is connected and stops when the last output is in the topic (Kafka: "
        "counted from the partitions' end offsets, so no reader can fall behind) / has been received by an "
        "independent client (MQTT). Each run is bounded in time and reports what it counted. *inputs/s* = the "
        "inputs whose outputs arrived / that time. Loopback brokers on the same 2-core machine, so the broker, "
        "the test clients and the processor share the cores (`runtime/connectors/bench.py`, run in a fresh "
        "process by `bench/connectors.py`). Wall-clock time, one run each: noisier than the tables above.")
    out.append("")
    c = r.get("connectors")
    if c is None:
        out += ["Not measured: these results predate the connector benchmark.", ""]
        return out
    runs = c.get("runs") or {}
    if not runs:
        out += [f"{(c.get('note') or 'not measured').capitalize()}; `python -m bench` (full or --quick) measures "
                "them, or run the commands: `" + "`, `".join(
                    connectors.command(b, n) for b, n in (("kafka", 100_000), ("mqtt", 20_000))) + "`.", ""]
        return out
    out.append("| broker | inputs | outputs received | seconds | inputs/s | outputs/s | reproduce | bounded by |")
    out.append("|---|---|---|---|---|---|---|---|")
    notes = []
    for b in connectors.BROKERS:
        res = runs.get(b)
        if res is None:
            continue
        label, cmd, bound = connectors.LABELS[b], f"`{res['command']}`", connectors.BOUNDS[b]
        if "seconds" not in res:
            out.append(f"| {label} | {res['inputs']:,} | not measured: {res.get('error', '?')} | – | – | – | {cmd} | {bound} |")
            continue
        received = f"{res['outputs']:,} / {res['expected']:,}"
        if res.get("error"):
            received += " (**incomplete**)"
            notes.append(f"- {label}: {res['error']}; the rates count what arrived.")
        out.append(f"| {label} | {res['inputs']:,} | {received} | {res['seconds']:.2f} | {res['inputs_per_s']:,.0f} "
                   f"| {res['outputs_per_s']:,.0f} | {cmd} | {bound} |")
    out.append("")
    if r.get("mode") != "full" and any("seconds" in res for res in runs.values()):
        notes.append("- A quick run's counts are small: the fixed cost of the first fetch / of connecting weighs "
                     "more, so these rates are lower than the full run's (100,000 Kafka / 20,000 MQTT inputs).")
    if notes:
        out += notes + [""]
    return out


def why(f: Figures, r: dict[str, Any]) -> list[str]:
    out = []
    py = f.ht["python"]
    if 1e9 / py < TARGET_MSG_S:
        out.append(
            f"- **Throughput target ({TARGET_MSG_S:,} msg/s) missed**: {rate(py)} msg/s. The hand-written floor "
            f"reaches only {rate(f.ht['floor'])} msg/s on this machine in the same run, so no implementation in "
            f"CPython on it can meet the target; our processor runs at {f.floor_fraction:.0%} of the floor. "
            "The profiles below show where a message's time goes: the generated handler itself (payload "
            "parse, validation, four `Message` objects with copied metadata), `orjson.loads`, "
            "`Message.__init__` and `dict.copy`, about the same calls as the floor.")
    if f.floor_fraction < 0.7:
        out.append(f"- **Floor ratio missed**: {f.floor_fraction:.0%} of the hand-written floor (target 70%).")
    for name, s in f.expr_speedup.items():
        if s < 2:
            py_ns, qj_ns = f.E[(name, "python", "honest")], f.E[(name, "quickjs", "honest")]
            out.append(
                f"- **{name}: in the processor the python engine is {s:.2f}x faster than the quickjs engine** "
                f"(target 2x). A message costs {ns(py_ns)} ns with the python engine, of which the expression "
                f"is about {ns(f.micro_net[(name, 'fn')])} ns (evaluation-paths table); the rest (parse, "
                f"validate, state, one output `Message`) is the same for both engines. QuickJS adds "
                f"{ns(qj_ns - py_ns)} ns per evaluation (adapter + time limit: see the time-limit table), "
                f"so the ratio is ({ns(py_ns)} + {ns(qj_ns - py_ns)}) / {ns(py_ns)}: the fixed per-message "
                "cost caps it. Only a cheaper common path (see the profile) raises it.")
    for name in f.micro_vs_qjs:
        lam_vs_qjs = f.micro_net[(name, "quickjs-raw")] / max(f.micro_net[(name, "lambda")], 1e-9)
        if f.micro_vs_qjs[name] < (1.0 if name == "StringConcat" else 2.0):
            why_text = (
                "converting the two floats to strings (orjson's Ryu in `fn`, `repr` in the lambda; QuickJS "
                "does the same work in C) dominates every path" if name == "StringConcat" else
                "the expression's work is a few C-level float operations either way, so call overhead "
                "dominates, and a Python-level call is slow on this machine")
            out.append(
                f"- **{name}: `fn` only {f.micro_vs_qjs[name]:.2f}x faster than raw QuickJS** (target 2x): "
                f"{why_text}; even the hand-written lambda is only {lam_vs_qjs:.2f}x faster than raw QuickJS "
                "in the same run.")
        if f.micro_vs_lambda[name] > 1.5:
            out.append(
                f"- **{name}: `fn` is {f.micro_vs_lambda[name]:.2f}x the hand-written lambda** (target 1.5x): "
                f"`fn` {ns(f.micro_net[(name, 'fn')])} ns vs lambda {ns(f.micro_net[(name, 'lambda')])} ns; "
                "the python engine's closure checks `x.__class__ is float` for every argument before its "
                "float body, and calls the JavaScript-exact helpers (`Math.pow` -> `jmath.pow_`, number "
                "formatting -> `numbers.number_to_string`) where the lambda uses `**` and `repr`.")
    for name, frac in f.fast.items():
        if frac >= 0.2:
            detail = ""
            if name == "InvalidJSON":
                detail = (" The payload is rejected without parsing, but every invalid message still goes through "
                          "`StreamProcessor._odd_start` and `RateLimitedLog.warning` (a `functools.partial` and a key "
                          "tuple built, `time.monotonic()` read) only to be counted.")
            out.append(f"- **Fast path {name}: {frac:.0%} of a processed message** (target < 20%).{detail}")
    if f.flatness > 1.2:
        nogc = [f.B.get((n, "python", "press-nogc")) for n, _ in scenarios.BATCHES]
        out.append(
            f"- **Batch flatness**: per-message cost (press-only batches) varies {f.flatness:.2f}x from batch 1 to "
            f"1000 ({', '.join(ns(v) for v in f.batch_press)} ns for 1/10/100/1000); the floor's press-only "
            f"batches: {', '.join(ns(f.B[(n, 'floor', 'press')]) for n, _ in scenarios.BATCHES)} ns; with the "
            f"garbage collector off during the call: {', '.join(ns(v) for v in nogc)} ns. Where the floor "
            "and the gc-off column move alike, the spread is this shared machine's noise, not the batch code "
            "(`process_batch` is one loop over the same handler as `process`).")
    b = f.alloc_bytes("python")
    if b is not None and b > 2048:
        fb = f.alloc_bytes("floor")
        tm = r["memory"]["tracemalloc"]["python"]["retained_bytes"]
        out.append(
            f"- **Allocated bytes per message ({b:,.0f} B) above 2 KB** when every allocation counts, freed or "
            f"not (memray): the hand-written floor allocates {fb:,.0f} B too, because a processed press message "
            f"must produce 4 output messages, each a `Message`, its payload `bytes` and a copy of the metadata "
            f"dict; {tm:,.0f} B of it are the outputs themselves (retained), the rest short-lived "
            "temporaries: the parsed payload dict, intermediate `bytes` concatenations and number formatting "
            "(the allocation-site table below lists them by line; a site allocating ~1 KiB in one allocation "
            "per call is an output buffer sized ahead, e.g. `orjson.dumps`).")
    for v in scenarios.ENGINES:
        rr = f.rss[v]
        if rr["messages"] < 1_000_000:
            out.append(f"- Resident memory ({v}): this run processed {rr['messages']:,} messages; the 1,000,000-message "
                       "run is the full `python -m bench`.")
        elif not f.rss_flat(v):
            out.append(f"- **Resident memory ({v}) grew {rr['growth_after_warmup'] / MIB:.2f} MiB** over the run.")
    if not out:
        out.append("Every target is met; the profiles are kept for reference.")
    return out


def headline(r: dict[str, Any]) -> str:
    f = Figures(r)
    lines = [
        f"HighThroughput: {rate(f.ht['python'])} msg/s python engine, {rate(f.ht['quickjs'])} quickjs, "
        f"floor {rate(f.ht['floor'])}; python = {f.floor_fraction:.0%} of floor "
        f"(process(msg): {rate(f.ht_process['python'])} msg/s, {f.floor_fraction_process:.0%})",
    ]
    for name, *_ in scenarios.EXPRESSIONS:
        m = f.micro_net
        lines.append(f"{name}: processor quickjs/python {f.expr_speedup[name]:.2f}x; fn {ns(m[(name, 'fn')])} ns, "
                     f"QuickJS {ns(m[(name, 'quickjs-raw')])} ns ({f.micro_vs_qjs[name]:.2f}x), lambda "
                     f"{ns(m[(name, 'lambda')])} ns (fn = {f.micro_vs_lambda[name]:.2f}x lambda)")
    lines.append("fast paths: " + ", ".join(f"{k} {v:.1%}" for k, v in f.fast.items()))
    lines.append(f"batch flatness (press-only max/min): {f.flatness:.2f}")
    b = f.alloc_bytes("python")
    if b is not None:
        lines.append(f"allocated per message: {b:,.0f} B, {f.alloc['python']['allocs']:.1f} allocations")
    lines.append("RSS growth after warm-up: " + ", ".join(
        f"{v} {f.rss[v]['growth_after_warmup'] / MIB:+.2f} MiB over {f.rss[v]['messages']:,}" for v in scenarios.VARIANTS))
    for target, measured, _ok in path_targets(r):
        lines.append(f"{target}: {measured}")
    runs = (r.get("connectors") or {}).get("runs") or {}
    if runs:
        lines.append("end to end: " + ", ".join(
            f"{b} {res['inputs_per_s']:,.0f} inputs/s ({res['outputs_per_s']:,.0f} outputs/s) over {res['inputs']:,}"
            + (f" [{res['error']}]" if res.get("error") else "") if "seconds" in res
            else f"{b} not measured ({res.get('error')})" for b, res in runs.items()))
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- chart
def write_chart(r: dict[str, Any], path: Path) -> str | None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    f = Figures(r)
    groups = [
        ("HighThroughput\n(batch of 1)", 27_822.0, f.ht),
        ("process(msg)", None, f.ht_process),
        ("Realistic\n(10 x 10)", None, {v: f.B[("realistic", v, "")] for v in scenarios.VARIANTS}),
        ("batch of 1000\n(per msg)", 23_706_790 / 1000, {v: f.B[(1000, v, "mixed")] for v in scenarios.VARIANTS}),
    ]
    series = [("original (Go, M3 Pro)", "#999999"), ("python", "#1f77b4"), ("quickjs", "#ff7f0e"),
              ("floor (hand-written)", "#2ca02c")]
    pf = path_figures(r)
    cli_rates = (pf or {}).get("cli_rate") or {}
    if cli_rates:
        fig, axes = plt.subplots(2, 2, figsize=(13, 9.2), gridspec_kw={"width_ratios": [3, 2]})
        (ax, ax2), (ax3, ax4) = axes
        _cli_chart(ax3, pf)
        _build_chart(ax4, pf)
    else:
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [3, 2]})
    width = 0.2
    for gi, (_, orig, vals) in enumerate(groups):
        values = [1e9 / orig if orig else 0.0] + [1e9 / vals[v] for v in scenarios.VARIANTS]
        for si, val in enumerate(values):
            if not val:
                continue
            ax.bar(gi + (si - 1.5) * width, val, width, color=series[si][1],
                   label=series[si][0] if gi == 0 else None)
            ax.text(gi + (si - 1.5) * width, val, f"{val / 1000:.0f}k", ha="center", va="bottom", fontsize=7)
    ax.axhline(TARGET_MSG_S, color="red", linestyle="--", linewidth=1, label=f"target {TARGET_MSG_S // 1000}k msg/s")
    ax.axhline(100_000, color="grey", linestyle=":", linewidth=1, label="report's target 100k msg/s")
    ax.set_xticks(range(len(groups)), [g[0] for g in groups], fontsize=8)
    ax.set_ylabel("messages / s (one core)")
    ax.set_title("Throughput, pump configuration")
    ax.legend(fontsize=7, loc="upper right")
    for v, color in (("python", "#1f77b4"), ("quickjs", "#ff7f0e"), ("floor", "#2ca02c")):
        samples = f.rss[v]["samples"]
        ax2.plot([n / 1e6 for n, _ in samples], [b / MIB for _, b in samples], marker=".", color=color, label=v)
    ax2.set_xlabel("messages processed (millions)")
    ax2.set_ylabel("resident memory (MiB)")
    ax2.set_title("Resident memory, distinct values, fresh process")
    ax2.set_ylim(bottom=0)
    ax2.legend(fontsize=7, loc="lower right")
    env = r["env"]
    fig.suptitle(f"{env['cpu']}, Python {env['python']} ({r['mode']} run)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)


# ------------------------------------------------------------------------------------------- output paths
PATH_LABELS = {"process_batch": "`process_batch` (Message objects)",
               "process_records": "`process_records` (connector records)",
               "write_json_lines": "`write_json_lines` (CLI output bytes)",
               "baseline process_batch": "baseline `process_batch`"}


def path_figures(r: dict[str, Any]) -> dict[str, Any] | None:
    """The output-path comparisons of ``bench/paths.py`` (None for results that predate them)."""
    p = r.get("paths")
    if not p:
        return None
    ep = {tuple(k.split("|")): v for k, v in (p.get("entry_points") or {}).items()}
    cli = p.get("cli") or {}
    runs = cli.get("runs") or {}
    out: dict[str, Any] = {"baseline": p.get("baseline"), "ep": ep, "cli": cli, "build": p.get("build") or {},
                           "build_baseline": p.get("build_baseline") or {}}
    ours = runs.get("streamproc")
    if ours:
        out["cli_rate"] = {name: cli["lines"] / v["cpu"] for name, v in runs.items() if v.get("cpu")}
        out["cli_processing_rate"] = {name: cli["lines"] / v["processing"] for name, v in runs.items()
                                      if v.get("processing")}
    pairs = [(p["ours"], p["baseline"]) for p in (r.get("connectors") or {}).get("kafka_pairs") or []
             if "seconds" in p["ours"] and "seconds" in p["baseline"] and p["baseline"]["inputs_per_s"]]
    if pairs:
        ratios = sorted(o["inputs_per_s"] / b["inputs_per_s"] for o, b in pairs)
        out["kafka_ratio"] = ratios[len(ratios) // 2] if len(ratios) % 2 else (
            ratios[len(ratios) // 2 - 1] + ratios[len(ratios) // 2]) / 2
        out["kafka_pairs"] = [(o["inputs_per_s"], b["inputs_per_s"]) for o, b in pairs]
    return out


def path_targets(r: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    f = path_figures(r)
    if f is None:
        return []
    rows: list[tuple[str, str, bool | None]] = []
    runs = (f["cli"].get("runs") or {})
    node = runs.get("node peer")
    if node and node.get("cpu_ratio"):
        speed = 1 / node["cpu_ratio"]
        rows.append((f"CLI whole-process throughput >= 1.8x the Node peer ({f['cli']['lines']:,} pump lines, "
                     "CPU time, paired)", f"{speed:.2f}x", speed >= 1.8))
    base = runs.get("baseline streamproc")
    if base and base.get("cpu_ratio"):
        speed = 1 / base["cpu_ratio"]
        rows.append(("CLI whole-process throughput >= 1.8x the baseline's CLI (same file, paired)",
                     f"{speed:.2f}x", speed >= 1.8))
    ep = f["ep"]
    if ("baseline process_batch", "batch1") in ep:
        b = ep[("baseline process_batch", "batch1")]
        best = min(("process_records", "write_json_lines"), key=lambda k: ep[(k, "batch1")])
        rows.append(("Processor batch path >= 1.8x the baseline's process_batch (HighThroughput, batch of 1)",
                     f"{best}: {b / ep[(best, 'batch1')]:.2f}x; process_records "
                     f"{b / ep[('process_records', 'batch1')]:.2f}x; process_batch "
                     f"{b / ep[('process_batch', 'batch1')]:.2f}x", b / ep[(best, "batch1")] >= 1.8))
    if "kafka_ratio" in f:
        rows.append(("Kafka end to end >= 1.5x the baseline (outputs counted by end offsets; median of paired "
                     "rounds)",
                     f"{f['kafka_ratio']:.2f}x", f["kafka_ratio"] >= 1.5))
    b10k = f["build"].get("10000")
    if b10k:
        rows.append(("Build with 10,000 source topics and 10,000 mappings < 5 s",
                     f"{b10k['build']:.2f} s" if "build" in b10k else b10k.get("error", "?"),
                     b10k.get("build", 1e9) < 5))
    return rows


def paths_section(r: dict[str, Any]) -> list[str]:
    f = path_figures(r)
    out = ["## Output paths: records instead of objects, CLI vs Node, build time", ""]
    if f is None:
        return out + ["Not measured: these results predate the output-path benchmark (`bench/paths.py`).", ""]
    base = f["baseline"]
    out.append("The same work through each batch entry point of the processor (`bench/paths.py`): the press message "
               "of the pump configuration as a batch of 1 (HighThroughput) and batches of 1,000 mixed messages; "
               "interleaved samples in one process." + (f" Baseline: {base}, loaded side by side." if base else
                                                         " No baseline in this run (`--baseline REV`)."))
    out.append("")
    ep = f["ep"]
    names = [k for k in PATH_LABELS if (k, "batch1") in ep]
    ref = "baseline process_batch" if ("baseline process_batch", "batch1") in ep else "process_batch"
    out.append(f"| entry point | batch of 1: ns/msg | msg/s | batch of 1000: ns/msg | msg/s | vs {PATH_LABELS[ref]} |")
    out.append("|---|---|---|---|---|---|")
    for k in names:
        a, b = ep[(k, "batch1")], ep.get((k, "batch1000"))
        out.append(f"| {PATH_LABELS[k]} | {ns(a)} | {rate(a)} | {ns(b)} | {rate(b)} | "
                   f"{ep[(ref, 'batch1')] / a:.2f}x / {ep[(ref, 'batch1000')] / b:.2f}x |")
    out.append("")
    cli = f["cli"]
    runs = cli.get("runs") or {}
    out.append(f"**CLI against the Node peer** on {cli.get('lines', 0):,} lines of "
               f"`examples/make_pump_jsonl.py --pump {cli.get('lines', 0)}` (invalid payloads, foreign topics, "
               f"extra metadata included): `python -m runtime run examples/pump.yaml --stats < FILE`, "
               f"`node shared/peers/node_peer.js pump.json < FILE`" + (" and the baseline's CLI" if base else "")
               + f", run in turn, {cli.get('rounds', 0)} rounds; medians. *whole process* = CPU time (user + system) "
               "of the finished process, start-up included; *processing* = the run's own clock after start-up "
               "(`--stats` elapsed_s; the peer's `processed in`: wall clock, so it also counts time spent waiting for "
               "the shared cores). Throughput ratios (x faster) are the medians of the per-round ratios.")
    out.append("")
    if runs:
        out.append("| command | whole process: CPU s | lines/s | wall s | processing only: wall s | lines/s "
                   "| ours / it: whole (CPU) | processing |")
        out.append("|---|---|---|---|---|---|---|---|")
        for name, v in runs.items():
            speed = f"{1 / v['cpu_ratio']:.2f}x" if v.get("cpu_ratio") else "–"
            pspeed = f"{1 / v['processing_ratio']:.2f}x" if v.get("processing_ratio") else "–"
            proc = v.get("processing")
            proc_cells = f"{proc:.2f} | {cli['lines'] / proc:,.0f}" if proc else "– | –"
            out.append(f"| {name} | {v['cpu']:.2f} | {cli['lines'] / v['cpu']:,.0f} | {v['wall']:.2f} | "
                       f"{proc_cells} | {speed} | {pspeed} |")
        out.append("")
        out.append("Outputs byte-identical across the commands: " + ("**yes**" if cli.get("identical") else
                                                                    "**NO** (see the digests in the JSON)") + ".")
        out.append("")
    for note in cli.get("notes") or []:
        out.append(f"- {note}")
    if cli.get("notes"):
        out.append("")
    out.append("**Build time** (`StreamProcessor(config)` with N sources and N mappings `a<k> + a<k+1>`, CPU "
               "seconds, a fresh process each; *first messages* = one message on every topic right after, when "
               "each topic's handler is compiled):")
    out.append("")
    out.append("| sources = mappings | build s | first messages s |" + (" baseline build s |" if base else ""))
    out.append("|---|---|---|" + ("---|" if base else ""))
    for n, v in f["build"].items():
        cells = [f"{v['build']:.3f}", f"{v['first_messages']:.3f}"] if "build" in v else [v.get("error", "?"), "–"]
        if base:
            bv = f["build_baseline"].get(n)
            cells.append(f"{bv['build']:.3f}" if bv and "build" in bv else ("not measured" if not bv else bv["error"]))
        out.append(f"| {int(n):,} | " + " | ".join(cells) + " |")
    out.append("")
    kb = ((r.get("connectors") or {}).get("baseline_runs") or {}).get("kafka")
    if kb:
        figures = (f"{kb['inputs_per_s']:,.0f} inputs/s ({kb['outputs']:,} / {kb['expected']:,} outputs in "
                   f"{kb['seconds']:.2f} s)" if "seconds" in kb else kb.get("error", "?"))
        out.append(f"**Kafka end to end, baseline processor** (same benchmark, outputs counted by end offsets; "
                   f"the baseline's median run): {figures}.")
        if "kafka_pairs" in f:
            rounds = "; ".join(f"{o:,.0f} vs {b:,.0f}" for o, b in f["kafka_pairs"])
            out.append("")
            out.append(f"Ours and the baseline's processor in turn, {len(f['kafka_pairs'])} rounds (inputs/s, ours vs "
                       f"baseline): {rounds}; median of the per-round ratios = **{f['kafka_ratio']:.2f}x**.")
        out.append("")
    return out


def _cli_chart(ax: Any, pf: dict[str, Any]) -> None:
    """``streamproc run`` against the Node peer (and the baseline): whole process and processing."""
    names = list(pf["cli_rate"])
    colors = {"streamproc": "#1f77b4", "node peer": "#8c564b", "baseline streamproc": "#999999"}
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        vals = [pf["cli_rate"].get(name, 0.0), pf.get("cli_processing_rate", {}).get(name, 0.0)]
        for gi, val in enumerate(vals):
            if not val:
                continue
            xpos = gi + (i - (len(names) - 1) / 2) * width
            ax.bar(xpos, val, width, color=colors.get(name, "#333333"), label=name if gi == 0 else None)
            ax.text(xpos, val, f"{val / 1000:.0f}k", ha="center", va="bottom", fontsize=7)
    ax.set_xticks([0, 1], ["whole process (CPU time)", "processing only (wall clock)"], fontsize=8)
    ax.set_ylabel("input lines / s")
    ax.set_title(f"CLI vs Node peer, {pf['cli']['lines']:,} pump lines (JSON Lines in and out)")
    ax.legend(fontsize=7, loc="upper right")


def _build_chart(ax: Any, pf: dict[str, Any]) -> None:
    for key, label, color in (("build", "build", "#1f77b4"), ("build_baseline", "baseline build", "#999999")):
        pts = sorted((int(n), v["build"]) for n, v in pf[key].items() if "build" in v)
        if pts:
            ax.plot([n for n, _ in pts], [s for _, s in pts], marker="o", color=color, label=label)
    pts = sorted((int(n), v["first_messages"]) for n, v in pf["build"].items() if "build" in v)
    if pts:
        ax.plot([n for n, _ in pts], [s for _, s in pts], marker=".", linestyle="--", color="#1f77b4",
                label="first message on every topic")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("sources = mappings")
    ax.set_ylabel("CPU seconds")
    ax.set_title("Build time")
    ax.legend(fontsize=7, loc="upper left")
