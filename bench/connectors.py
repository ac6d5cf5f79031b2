"""End-to-end throughput over a broker: ``runtime/connectors/bench.py`` run from ``python -m bench``.

Each broker is measured in a fresh process (``bench_kafka`` / ``bench_mqtt`` of
``runtime.connectors.bench``, the same code as ``python -m runtime.connectors.bench kafka|mqtt -n N``),
which starts the broker (librdkafka's mock cluster / a ``mosquitto`` on a free loopback port), queues N
pump messages, starts ``python -m runtime run examples/pump.yaml --kafka/--mqtt`` and times it from
"partitions assigned" / "connected" to the last output received by an independent client.

A broker that is not installed, or a run that fails or times out, gives a result with ``error`` set
instead of figures: the report says so and the rest of ``python -m bench`` goes on.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BROKERS = ("kafka", "mqtt")
LABELS = {
    "kafka": "Kafka (librdkafka mock cluster, 1 broker, 4 partitions)",
    "mqtt": "MQTT (mosquitto, QoS 1, persistent session)",
}
BOUNDS = {
    "kafka": "librdkafka produce/consume on the mock cluster (one mock broker inside the benchmark "
             "process, loopback)",
    "mqtt": "paho-mqtt's pure-Python packet handling (processor and test clients), QoS 1 "
            "acknowledgements of inputs and outputs",
}
_MARK = "BENCH-CONNECTOR-RESULT "
_SNIPPET = f"""
import json, sys
from runtime.connectors import bench as b
broker, n = sys.argv[1], int(sys.argv[2])
root = sys.argv[3] if len(sys.argv) > 3 else None
r = (b.bench_kafka if broker == "kafka" else b.bench_mqtt)(n, root=root)
r["expected"] = b.outputs_per_run(n)
print({_MARK!r} + json.dumps(r), flush=True)
"""


def command(broker: str, n: int, root: Path | None = None) -> str:
    return f"python -m runtime.connectors.bench {broker} -n {n}" + (" --root BASELINE" if root else "")


def unavailable(broker: str) -> str | None:
    """Why ``broker`` cannot be measured here, or None."""
    if broker == "kafka":
        if importlib.util.find_spec("confluent_kafka") is None:
            return "confluent-kafka (librdkafka's mock cluster) is not installed"
        return None
    if importlib.util.find_spec("paho") is None:
        return "paho-mqtt is not installed"
    if not (shutil.which("mosquitto") or os.path.exists("/usr/sbin/mosquitto")):
        return "the `mosquitto` binary is not installed"
    return None


def measure(broker: str, n: int, timeout: float, root: Path | None = None) -> dict[str, Any]:
    """One run; always a dict with ``broker``, ``inputs``, ``command`` and either figures or ``error``.
    ``root``: the processor of another checkout (a baseline)."""
    res: dict[str, Any] = {"broker": broker, "inputs": n, "command": command(broker, n, root)}
    why = unavailable(broker)
    if why:
        res["error"] = f"broker unavailable: {why}"
        return res
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    # a session of its own, so that a run that hangs can be ended with everything it started
    # (the broker, the processor subprocess)
    extra = [str(root)] if root is not None else []
    proc = subprocess.Popen([sys.executable, "-c", _SNIPPET, broker, str(n), *extra], cwd=ROOT, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        res["error"] = f"timed out after {timeout:g} s"
        return res
    line = next((ln for ln in reversed(out.splitlines()) if ln.startswith(_MARK)), None)
    if proc.returncode != 0 or line is None:
        tail = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("%")][-1:]
        res["error"] = f"failed (exit status {proc.returncode}){': ' + tail[0] if tail else ''}"
        return res
    r = json.loads(line[len(_MARK):])
    seconds = r["seconds"]
    res.update(outputs=r["outputs"], expected=r["expected"], seconds=seconds,
               inputs_per_s=r["msg_per_s"], outputs_per_s=r["outputs"] / seconds if seconds > 0 else 0.0)
    # the processor's own --stats lines, kept in the JSON only: for Kafka its records_in also counts
    # its own outputs read back from the shared topic and dropped on the fast path
    res["processor"] = [ln.strip()[len("processor "):] for ln in out.splitlines()
                        if ln.strip().startswith("processor ")]
    if r["outputs"] < r["expected"]:
        res["error"] = f"incomplete: {r['outputs']:,} of {r['expected']:,} outputs received"
    return res


def run(counts: dict[str, int], timeout: float, log: Any = None, root: Path | None = None) -> dict[str, Any]:
    """``{broker: result}`` for every broker in ``counts`` (a count of 0: skipped); ``root``: the
    processor of another checkout."""
    out: dict[str, Any] = {}
    for broker, n in counts.items():
        if not n:
            continue
        if log:
            whose = f" (processor: {root})" if root else ""
            log(f"end to end over a broker: {broker}, {n:,} inputs{whose}")
        out[broker] = measure(broker, n, timeout, root)
    return out
