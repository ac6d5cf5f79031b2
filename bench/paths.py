"""The output paths side by side, each against the same work done another way, in the same run.

* **entry points** (in this process, interleaved samples, ``bench/timing.py``): the pump
  configuration's press message through ``process_batch`` (Message objects), ``process_records``
  (the connectors' finished records) and ``write_json_lines`` (the CLI's output bytes), as a
  batch of 1 (HighThroughput) and in batches of 1,000 mixed messages; with ``--baseline``, the
  baseline's ``process_batch`` on the same inputs, loaded side by side (``bench/baseline.py``).
* **CLI vs Node** (whole processes, paired): ``python -m runtime run examples/pump.yaml`` against
  the plain Node.js implementation of the same contract (``shared/peers/node_peer.js``, config
  as JSON) and, with ``--baseline``, the baseline's CLI, on the same pump file (300,000 lines of
  ``examples/make_pump_jsonl.py --pump``), run in turn round after round; CPU time (user + system
  of the finished child) and wall time of the whole process, and the processing alone as each
  reports it (``--stats`` elapsed_s; the peer's own clock after start-up); outputs compared byte
  for byte.
* **build time**: ``StreamProcessor(config)`` for N sources and N mappings (``a<k> + a<k+1>``),
  each N in a fresh process, and the first message on every topic after it (when each handler
  is compiled).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

from bench.scenarios import PUMP_CONFIG, Op, batch_messages, message
from bench.timing import measure

ROOT = Path(__file__).resolve().parents[1]
# shared/ lies beside the repository (a worktree may sit deeper): the nearest one upwards
_PEER = Path("shared", "peers", "node_peer.js")
NODE_PEER = next((p / _PEER for p in ROOT.parents if (p / _PEER).exists()), ROOT.parent / _PEER)
PUMP_YAML = ROOT / "examples" / "pump.yaml"


# ------------------------------------------------------------------------------------ entry points
def _records(messages: list) -> list[tuple[str, bytes, None]]:
    return [(m.meta["umh_topic"], m.payload, None) for m in messages]


def _entries(messages: list) -> list[tuple[Any, dict]]:
    import orjson

    return [(orjson.loads(m.payload), m.meta) for m in messages]


def entry_point_ops(baseline: Any = None) -> dict[tuple[str, str], Op]:
    """``{(path, input): Op}``; inputs ``batch1`` (the press message) and ``batch1000``."""
    from runtime.processor import StreamProcessor

    from bench.scenarios import _quiet_log

    inputs = {"batch1": [message()], "batch1000": batch_messages(1000)}
    ops: dict[tuple[str, str], Op] = {}
    for name, msgs in inputs.items():
        n = len(msgs)
        ours = [StreamProcessor(PUMP_CONFIG, engine="python", log=_quiet_log()) for _ in range(3)]
        ops[("process_batch", name)] = Op(ours[0].process_batch, msgs, n)
        ops[("process_records", name)] = Op(ours[1].process_records, _records(msgs), n)
        ops[("write_json_lines", name)] = Op(ours[2].write_json_lines, _entries(msgs), n)
        if baseline is not None:
            old = baseline.StreamProcessor(PUMP_CONFIG, engine="python")
            old_msgs = [baseline.Message(m.payload, dict(m.meta)) for m in msgs]
            ops[("baseline process_batch", name)] = Op(old.process_batch, old_msgs, n)
        for op in ops.values():  # warm-up: state set, first warnings logged, handlers compiled
            for _ in range(3):
                op()
    return ops


def run_entry_points(sample_s: float, rounds: int, baseline: Any = None) -> dict[str, Any]:
    ops = entry_point_ops(baseline)
    res = measure(ops, sample_s, rounds)
    return {f"{path}|{name}": v for (path, name), v in res.items()}


# ------------------------------------------------------------------------------------ CLI vs Node
def pump_file(lines: int, directory: Path) -> Path:
    path = directory / f"pump{lines}.jsonl"
    if not path.exists():
        subprocess.run([sys.executable, str(ROOT / "examples" / "make_pump_jsonl.py"), "--pump", str(lines),
                        "--output", str(path)], check=True)
    return path


def _node() -> str | None:
    return shutil.which("node") if NODE_PEER.exists() else None


def _timed(cmd: list[str], stdin: Path, stdout: Path, env: dict[str, str], cwd: Path,
           timeout: float) -> dict[str, Any]:
    """Run ``cmd`` once: wall seconds, exit status, stderr (CPU time: ``_cpu_of``)."""
    with open(stdin, "rb") as inp, open(stdout, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=inp, stdout=out, stderr=subprocess.PIPE, env=env, cwd=cwd)
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return {"error": f"timed out after {timeout:g} s"}
        wall = time.perf_counter() - t0
    return {"wall": wall, "status": proc.returncode, "stderr": err.decode("utf-8", "replace")}


def _cpu_of(fn: Any) -> tuple[dict[str, Any], float]:
    """``fn()`` and the CPU seconds (user + system) of the children it waited for: the OS's
    accounting of the finished process."""
    before = os.times()
    r = fn()
    after = os.times()
    return r, (after.children_user - before.children_user) + (after.children_system - before.children_system)


_STATS_ELAPSED = re.compile(r"stats: elapsed_s: ([0-9.]+)")
_NODE_ELAPSED = re.compile(r"processed in ([0-9.]+) s")


def run_cli(lines: int, rounds: int, baseline_root: Path | None, timeout: float = 300.0) -> dict[str, Any]:
    """Whole-process runs of our CLI, the Node peer and the baseline CLI, in turn, ``rounds``
    times; medians and per-round (paired) ratios; outputs compared byte for byte."""
    tmp = Path(tempfile.mkdtemp(prefix="streamproc-bench-cli-"))
    try:
        data = pump_file(lines, tmp)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        commands: dict[str, tuple[list[str], dict[str, str], Path, re.Pattern[str]]] = {
            "streamproc": ([sys.executable, "-m", "runtime", "run", str(PUMP_YAML), "--stats"], env, ROOT,
                           _STATS_ELAPSED)}
        res: dict[str, Any] = {"lines": lines, "rounds": rounds, "runs": {}, "notes": []}
        node = _node()
        if node:
            import json

            config = tmp / "pump.json"
            config.write_text(json.dumps(PUMP_CONFIG), encoding="utf-8")
            commands["node peer"] = ([node, str(NODE_PEER), str(config)], dict(os.environ), ROOT,
                                     _NODE_ELAPSED)
        else:
            missing = "node" if NODE_PEER.exists() else NODE_PEER
            res["notes"].append(f"Node peer not measured: {missing} not found")
        if baseline_root is not None:
            commands["baseline streamproc"] = (
                [sys.executable, "-m", "runtime", "run", str(baseline_root / "examples" / "pump.yaml"),
                 "--stats"],
                {**os.environ, "PYTHONPATH": str(baseline_root)}, baseline_root, _STATS_ELAPSED)
        runs: dict[str, list[dict[str, Any]]] = {k: [] for k in commands}
        digests: dict[str, set[str]] = {k: set() for k in commands}
        for _ in range(rounds):
            for name, (cmd, cenv, cwd, elapsed) in commands.items():
                out = tmp / f"out-{len(runs[name])}.jsonl"
                r, cpu = _cpu_of(lambda cmd=cmd, cenv=cenv, cwd=cwd, out=out:
                                 _timed(cmd, data, out, cenv, cwd, timeout))
                if "error" in r:
                    res["notes"].append(f"{name}: {r['error']}")
                    continue
                m = elapsed.search(r["stderr"])
                runs[name].append({"cpu": cpu, "wall": r["wall"], "status": r["status"],
                                   "processing": float(m.group(1)) if m else None})
                digests[name].add(hashlib.sha256(out.read_bytes()).hexdigest())
                out.unlink()
        for name, rs in runs.items():
            if not rs:
                continue
            res["runs"][name] = {
                "cpu": median(r["cpu"] for r in rs), "wall": median(r["wall"] for r in rs),
                "processing": (median(r["processing"] for r in rs) if all(r["processing"] for r in rs)
                               else None),
                "status": sorted({r["status"] for r in rs}), "samples": rs}
        ours = runs.get("streamproc") or []
        for name in commands:
            if name == "streamproc" or not runs.get(name) or len(runs[name]) != len(ours):
                continue
            # paired: our run and theirs of the same round, then the median of the ratios
            res["runs"][name]["cpu_ratio"] = median(o["cpu"] / t["cpu"] for o, t in zip(ours, runs[name]))
            if all(r["processing"] for r in ours + runs[name]):
                res["runs"][name]["processing_ratio"] = median(
                    o["processing"] / t["processing"] for o, t in zip(ours, runs[name]))
        all_digests = set().union(*digests.values())
        res["identical"] = len(all_digests) == 1 and all(digests.values())
        res["digests"] = {k: sorted(v) for k, v in digests.items()}
        return res
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------------------------ build time
_BUILD_SNIPPET = """
import sys, time
from runtime.processor import StreamProcessor
from runtime.message import Message
n = int(sys.argv[1])
config = {"output_topic": "umh.v1.bench", "model": {"name": "m", "version": "v1"},
          "sources": {f"a{k}": f"umh.v1.bench._raw.t{k}" for k in range(n)},
          "mapping": {f"m{k}": f"a{k} + a{(k + 1) % n}" for k in range(n)}}
messages = [Message(b'{"value":1.5,"timestamp_ms":1}', {"umh_topic": f"umh.v1.bench._raw.t{k}"})
            for k in range(n)]
t0 = time.process_time()
p = StreamProcessor(config)
t1 = time.process_time()
out = p.process_batch(messages)
t2 = time.process_time()
assert len(out) == n, len(out)
print(f"BUILD {t1 - t0:.6f} {t2 - t1:.6f}")
"""


def run_build(sizes: tuple[int, ...], timeout: float = 300.0, root: Path = ROOT) -> dict[int, Any]:
    """``{n: {"build": s, "first_messages": s}}`` (CPU seconds) or ``{"error": ...}``, each n in a
    fresh process; ``root``: the checkout to build with."""
    out: dict[int, Any] = {}
    for n in sizes:
        try:
            proc = subprocess.run([sys.executable, "-c", _BUILD_SNIPPET, str(n)], capture_output=True,
                                  text=True, timeout=timeout, cwd=root,
                                  env={**os.environ, "PYTHONPATH": str(root)})
        except subprocess.TimeoutExpired:
            out[n] = {"error": f"timed out after {timeout:g} s"}
            continue
        m = re.search(r"BUILD ([0-9.]+) ([0-9.]+)", proc.stdout)
        out[n] = ({"build": float(m.group(1)), "first_messages": float(m.group(2))} if m
                  else {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]})
    return out
