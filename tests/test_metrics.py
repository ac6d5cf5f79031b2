"""Prometheus metrics, /health and /ready (``runtime.metrics``), the slow-evaluation warning, and
the service options of ``streamproc run`` (--version, --stats-interval)."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import time
import types
import urllib.error
import urllib.request
from pathlib import Path

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families
from test_benthos import _messages

from runtime import Message, StreamProcessor
from runtime.connectors.testing import (
    MockKafkaCluster,
    ProcessorProcess,
    free_port,
    kafka_records_from_jsonl,
    wait_until,
)
from runtime.metrics import MetricsServer, Telemetry
from runtime.processor_set import ProcessorSet

ROOT = Path(__file__).resolve().parents[1]
PUMP = ROOT / "examples" / "pump.yaml"
PUMP_JSONL = ROOT / "examples" / "pump.jsonl"
PUMP_NAME = "umh.v1.corpA.plant-A.aawd._pump_v1"

FAILING = {  # one mapping fails on some values, one goes to QuickJS
    "output_topic": "umh.v1.t", "model": {"name": "m", "version": "v1"},
    "sources": {"a": "umh.v1.t._raw.a"},
    "mapping": {"ok": "a * 2", "bad": "a.x.y", "js": "[a, a].map(v => v + 1)[0]"},
}


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """(sample name, sorted labels) -> value, from the Prometheus text format."""
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def scrape(telemetry: Telemetry) -> dict:
    from prometheus_client import generate_latest

    return samples(generate_latest(telemetry.registry).decode())


def msg(topic: str, value: object, ts: int = 1) -> Message:
    return Message(orjson.dumps({"value": value, "timestamp_ms": ts}), {"umh_topic": topic})


def test_counters_gauges_and_histograms_follow_the_processor():
    p = StreamProcessor(FAILING)
    # every batch timed; the evaluations of the first batch are sampled, later ones are not
    t = Telemetry(p, sample_interval=3600.0, batch_sample=1)
    batches = [[msg("umh.v1.t._raw.a", 1.5), msg("umh.v1.t._raw.a", "s"), Message(b"{", {"umh_topic":
               "umh.v1.t._raw.a"}), Message(b"{}", {}), msg("umh.v1.other", 1)],
               [msg("umh.v1.t._raw.a", {"x": {"y": 3}})]]
    for b in batches:
        p.process_batch(b)
    s = scrape(t)
    m = p.metrics
    L = lambda **kw: tuple(sorted({"processor": "umh.v1.t._m_v1", **kw}.items()))
    assert s[("streamproc_messages_total", L(outcome="processed"))] == m.processed == 3
    assert s[("streamproc_messages_total", L(outcome="invalid"))] == m.invalid == 1
    assert s[("streamproc_messages_total", L(outcome="dropped_no_topic"))] == m.dropped_missing_topic == 1
    unknown = s[("streamproc_messages_total", L(outcome="dropped_unknown_topic"))]
    assert unknown == m.dropped_unknown_topic == 1
    assert sum(v for (n, _), v in s.items() if n == "streamproc_messages_total") == m.messages_in == 6
    assert s[("streamproc_outputs_total", L())] == m.outputs
    # mapping errors per mapping path: 'a.x.y' fails on 1.5 and "s", works on {x: {y: 3}}; 'ok'
    # gives NaN for "s" and for the object (not an output)
    errors = {dict(k)["mapping"]: v for (n, k), v in s.items() if n == "streamproc_mapping_errors_total"}
    assert errors == p.mapping_errors() == {"ok": 2, "bad": 2, "js": 0}
    assert sum(errors.values()) == m.mapping_errors
    assert s[("streamproc_active_mappings", L())] == 3
    assert s[("streamproc_active_variables", L())] == 1
    # every batch is timed; messages are counted by the batch means
    assert s[("streamproc_batch_duration_seconds_count", L())] == 2
    assert s[("streamproc_message_duration_seconds_count", L())] == 6
    assert s[("streamproc_batch_duration_seconds_sum", L())] > 0
    # the first batch compiles the handler (nothing to time yet); the evaluations of the second
    # are timed: 'ok', 'bad' (python) and 'js' (quickjs) for its one valid message
    py = s[("streamproc_evaluation_duration_seconds_count", L(engine="python"))]
    js = s[("streamproc_evaluation_duration_seconds_count", L(engine="quickjs"))]
    assert (py, js) == (2, 1)
    # process metrics come with the registry
    assert any(n.startswith("process_") for n, _ in s)


def test_timing_changes_no_output():
    """Sampled batches (wrapped mapping functions) give exactly the outputs of a plain processor."""
    stream = _messages(PUMP_JSONL) * 3
    plain = StreamProcessor.from_yaml(PUMP)
    timed = StreamProcessor.from_yaml(PUMP)
    Telemetry(timed, sample_interval=0.0, batch_sample=1, process_metrics=False)  # every batch sampled
    for i in range(0, len(stream), 50):
        assert timed.process_batch(stream[i:i + 50]) == plain.process_batch(stream[i:i + 50])
    assert timed.metrics == plain.metrics and timed.state() == plain.state()


def test_one_batch_in_n_is_timed():
    p = StreamProcessor(FAILING)
    t = Telemetry(p, batch_sample=4, process_metrics=False)
    for _ in range(9):
        p.process_batch([msg("umh.v1.t._raw.a", 1.0), msg("umh.v1.t._raw.a", 2.0)])
    s = scrape(t)
    L = (("processor", "umh.v1.t._m_v1"),)
    assert s[("streamproc_batch_duration_seconds_count", L)] == 3  # batches 1, 5 and 9
    assert s[("streamproc_message_duration_seconds_count", L)] == 6
    assert s[("streamproc_messages_total", (("outcome", "processed"), *L))] == 18  # counters: every message


def test_histogram_buckets_are_cumulative_and_le():
    p = StreamProcessor(FAILING)
    t = Telemetry(p, sample_interval=0.0, process_metrics=False)
    ins = t.instruments[0]
    ins.batch.observe(0.001)  # equal to a bound: in that bucket
    ins.batch.observe(20.0)  # beyond the last bound: +Inf only
    s = scrape(t)
    L = (("processor", "umh.v1.t._m_v1"),)
    b = lambda le: s[("streamproc_batch_duration_seconds_bucket", tuple(sorted((*L, ("le", le)))))]
    assert b("0.0005") == 0 and b("0.001") == 1 and b("10.0") == 1 and b("+Inf") == 2


def test_slow_evaluation_warning_names_the_mapping_and_is_rate_limited(caplog):
    config = {"output_topic": "umh.v1.t", "model": {"name": "m", "version": "v1"},
              "sources": {"a": "umh.v1.t._raw.a"},
              "mapping": {"fast": "a + 1",
                          "slow": "(() => { let s = 0; for (let i = 0; i < 200000; i++) s += i; "
                                  "return s + a })()"}}
    p = StreamProcessor(config)
    Telemetry(p, sample_interval=0.0, batch_sample=1, slow_threshold=0.001, process_metrics=False)
    with caplog.at_level(logging.WARNING, logger="runtime"):
        for _ in range(3):
            p.process_batch([msg("umh.v1.t._raw.a", 1.0)])
    slow = [r.getMessage() for r in caplog.records if "to evaluate" in r.getMessage()]
    assert len(slow) == 1, slow  # rate-limited per mapping: once per 10 s
    assert slow[0].startswith("mapping 'slow' ((() => {") and "engine quickjs" in slow[0]
    assert "threshold 1 ms" in slow[0]


def test_a_set_is_labelled_per_processor(tmp_path):
    a = StreamProcessor.from_yaml(PUMP)
    b = StreamProcessor(FAILING)
    s_ = ProcessorSet([a, b])
    t = Telemetry(s_, process_metrics=False)
    s_.process_batch(_messages(PUMP_JSONL) + [msg("umh.v1.t._raw.a", 2.0)])
    s = scrape(t)
    for p in (a, b):
        name = (("processor", f"{p.spec.output_topic}._{p.spec.model_name}_{p.spec.model_version}"),)
        assert s[("streamproc_outputs_total", name)] == p.metrics.outputs
        assert s[("streamproc_messages_total", tuple(sorted((*name, ("outcome", "processed")))))] == \
            p.metrics.processed


# --------------------------------------------------------------------------- over HTTP, end to end
def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def metrics_url(lines_source) -> str:
    line = lines_source.wait_for(r"serving metrics on http://[\d.]+:\d+/metrics", 20)
    port = re.search(r":(\d+)/metrics", line).group(1)
    return f"http://127.0.0.1:{port}"


class _Stderr:
    """wait_for over a subprocess's stderr read in a thread (stdin and stdout stay ours)."""

    def __init__(self, proc: subprocess.Popen) -> None:
        import threading

        self.lines: list[str] = []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self.thread.start()

    def _read(self, proc):
        for raw in proc.stderr:
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cond.notify_all()

    def wait_for(self, pattern: str, timeout: float = 20.0) -> str:
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    if rx.search(line):
                        return line
                left = deadline - time.monotonic()
                assert left > 0, "\n".join(self.lines)
                self.cond.wait(min(left, 0.2))


def test_scrape_during_a_json_lines_run_agrees_with_stats():
    """A real HTTP scrape while ``streamproc run`` waits for more input on stdin: the counters
    equal what --stats prints at the end (no input came after the scrape)."""
    env = {"PYTHONPATH": str(ROOT)}
    import os

    proc = subprocess.Popen([sys.executable, "-m", "runtime", "run", str(PUMP), "--metrics-port", "0",
                             "--metrics-address", "127.0.0.1", "--stats"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **env}, cwd=ROOT)
    try:
        err = _Stderr(proc)
        base = metrics_url(err)
        assert get(base + "/health") == (200, b"ok\n")
        proc.stdin.write(PUMP_JSONL.read_bytes())
        proc.stdin.flush()
        expected = len([m for m in StreamProcessor.from_yaml(PUMP).process_batch(_messages(PUMP_JSONL))])
        got = 0
        while got < expected:  # the outputs of everything written so far
            assert proc.stdout.readline(), "\n".join(err.lines)
            got += 1
        status, body = get(base + "/metrics")
        assert status == 200
        assert get(base + "/ready")[0] == 200
        assert get(base + "/nothing")[0] == 404
        s = samples(body.decode())
        proc.stdin.close()
        assert proc.wait(30) == 0
        err.thread.join(5)
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    stats = {k: int(v) for k, v in re.findall(r"stats: (\w+): (\d+)$", "\n".join(err.lines), re.M)}
    L = lambda **kw: tuple(sorted({"processor": PUMP_NAME, **kw}.items()))
    assert s[("streamproc_messages_total", L(outcome="processed"))] == stats["processed"] > 0
    assert s[("streamproc_messages_total", L(outcome="invalid"))] == stats["invalid"] > 0
    assert s[("streamproc_messages_total", L(outcome="dropped_no_topic"))] == stats["dropped_missing_topic"]
    unknown = s[("streamproc_messages_total", L(outcome="dropped_unknown_topic"))]
    assert unknown == stats["dropped_unknown_topic"]
    assert s[("streamproc_outputs_total", L())] == stats["outputs"] == expected
    assert sum(v for (n, _), v in s.items() if n == "streamproc_messages_total") == stats["messages_in"]
    assert 0 < s[("streamproc_message_duration_seconds_count", L())] <= stats["messages_in"]  # timed batches


def test_ready_turns_ready_after_connecting_to_kafka():
    """/health answers at once; /ready is 503 while the broker cannot be reached and 200 once the
    processor owns the partitions; the connector's counters are exported."""
    port = free_port()
    with ProcessorProcess(PUMP, "--kafka", f"127.0.0.1:{free_port()}", "--metrics-port", "0",
                          "--metrics-address", "127.0.0.1") as proc:
        base = metrics_url(proc)
        assert get(base + "/health")[0] == 200
        assert get(base + "/ready") == (503, b"not ready\n")
        assert proc.wait(30) == 1  # unreachable broker: exits with the clear error
    with MockKafkaCluster() as bootstrap:
        from test_connectors_kafka import FAST_ARGS, produce

        produce(bootstrap, kafka_records_from_jsonl(PUMP_JSONL))
        with ProcessorProcess(PUMP, "--kafka", bootstrap, "--metrics-port", str(port), "--metrics-address",
                              "127.0.0.1", "--stats", *FAST_ARGS) as proc:
            base = metrics_url(proc)
            ready_before = get(base + "/ready")[0]
            line = proc.wait_for(r"assigned all \d+ partitions")
            assert ready_before == 503 or line  # (the assignment may already have happened)
            assert wait_until(lambda: get(base + "/ready")[0] == 200, 10), proc.stderr
            url = base + "/metrics"
            assert wait_until(lambda: samples(get(url)[1].decode()).get(
                ("streamproc_connector_records_total", (("connector", "kafka"),)), 0) >= 300, 20)
            lag_of = lambda s: {k: v for k, v in s.items() if k[0] == "streamproc_connector_lag_records"}
            assert wait_until(lambda: lag_of(samples(get(url)[1].decode())), 10)  # measured every second
            s = samples(get(url)[1].decode())
            assert s[("streamproc_ready", ())] == 1
            assert lag_of(s) and all(v >= 0 for v in lag_of(s).values())
            assert proc.stop() == 0
            stats = dict(re.findall(r"stats: (\w+): (\d+)$", proc.stderr, re.M))
        assert s[("streamproc_connector_outputs_acknowledged_total", (("connector", "kafka"),))] <= \
            int(stats["outputs_acked"])


def test_metrics_port_in_use_is_a_clear_error(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "runtime", "run", str(PUMP), "--input", str(PUMP_JSONL),
                            "--metrics-port", str(port), "--metrics-address", "127.0.0.1"],
                           capture_output=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
                           timeout=60)
    assert r.returncode == 1
    assert f"cannot serve metrics on 127.0.0.1:{port}" in r.stderr.decode()


def test_metrics_server_in_process():
    p = StreamProcessor.from_yaml(PUMP)
    t = Telemetry(p, process_metrics=False)
    server = MetricsServer(t, 0, "127.0.0.1")
    try:
        base = f"http://127.0.0.1:{server.port}"
        assert get(base + "/ready")[0] == 503
        t.set_ready()
        assert get(base + "/ready") == (200, b"ready\n")
        status, body = get(base + "/metrics?x=1")
        assert status == 200 and b"# TYPE streamproc_messages_total counter" in body
    finally:
        server.close()


# --------------------------------------------------------------------------- service options
def test_version():
    import importlib.metadata

    import streamproc

    assert streamproc.__version__ == importlib.metadata.version("streamproc")
    r = subprocess.run([sys.executable, "-m", "runtime", "--version"], capture_output=True, text=True,
                       env={"PYTHONPATH": str(ROOT)}, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == f"streamproc {streamproc.__version__}"


def test_stats_interval_prints_counters_for_stdin_input():
    import os

    proc = subprocess.Popen([sys.executable, "-m", "runtime", "run", str(PUMP), "--stats-interval", "0.2"],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    try:
        err = _Stderr(proc)
        proc.stdin.write(PUMP_JSONL.read_bytes())
        proc.stdin.flush()
        line = err.wait_for(r"stats: messages_in=300 ", 20)
        assert "msg_per_s=" in line and "outputs=" in line
        proc.stdin.close()
        assert proc.wait(20) == 0
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()


def test_progress_line_replaces_itself_on_a_terminal():
    import io

    from runtime.progress import Progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    p = StreamProcessor.from_yaml(PUMP)
    out = Tty()
    prog = Progress(p, line=True, stream=out).start()
    p.process_batch(_messages(PUMP_JSONL))
    assert wait_until(lambda: "300 messages" in out.getvalue(), 5)
    prog.stop()
    text = out.getvalue()
    assert text.startswith("\rstreamproc: ") and "\n" not in text and text.endswith("\r\033[K")


@pytest.mark.parametrize("bad", [["--metrics-port", "x"], ["--mqtt-username", "u"], ["--mqtt-key", "k",
                                                                                    "--mqtt", "h:1"]])
def test_service_option_errors(bad, capsys):
    from runtime.cli import main

    with pytest.raises(SystemExit) as info:
        main(["run", str(PUMP), *bad])
    assert info.value.code == 2


def test_slow_evaluation_warning_from_the_command_line_without_a_metrics_server(tmp_path):
    cfg = tmp_path / "slow.yaml"
    cfg.write_text("output_topic: umh.v1.t\nmodel: {name: m, version: v1}\nsources: {a: umh.v1.t._raw.a}\n"
                   "mapping:\n  slow: '(() => { let s = 0; for (let i = 0; i < 300000; i++) s += i; "
                   "return s + a })()'\n")
    line = orjson.dumps({"payload": {"value": 1, "timestamp_ms": 1},
                         "meta": {"umh_topic": "umh.v1.t._raw.a"}})
    # two batches: the first compiles the topic's handler, the second's evaluations are timed
    proc = subprocess.Popen([sys.executable, "-m", "runtime", "run", str(cfg), "--slow-evaluation-ms", "0.5"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={"PYTHONPATH": str(ROOT)})
    proc.stdin.write(line + b"\n")
    proc.stdin.flush()
    assert proc.stdout.readline()
    proc.stdin.write(line + b"\n")
    proc.stdin.close()
    proc.stdout.read()
    assert proc.wait(60) == 0
    r = types.SimpleNamespace(stderr=proc.stderr.read())
    proc.stdout.close()
    proc.stderr.close()
    assert re.search(rb"WARNING: mapping 'slow' \(.*\) took [\d.]+ ms to evaluate \(engine quickjs; "
                     rb"slow-evaluation threshold 0.5 ms\)", r.stderr), r.stderr
    r = subprocess.run([sys.executable, "-m", "runtime", "run", str(cfg), "--slow-evaluation-ms", "0"],
                       input=line + b"\n", capture_output=True, env={"PYTHONPATH": str(ROOT)}, timeout=60)
    assert r.returncode == 0 and b"to evaluate" not in r.stderr


def test_a_log_line_erases_the_progress_line_first():
    import io

    from runtime.progress import Progress

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    prog = Progress(StreamProcessor.from_yaml(PUMP), line=True, stream=out)
    handler.addFilter(prog)
    log = logging.getLogger("test.progress")
    log.addHandler(handler)
    try:
        prog._write("\rstreamproc: 5 messages, 1 msg/s", drawn=True)
        log.warning("something happened")
    finally:
        log.removeHandler(handler)
    assert out.getvalue() == "\rstreamproc: 5 messages, 1 msg/s\r\033[Ksomething happened\n"
