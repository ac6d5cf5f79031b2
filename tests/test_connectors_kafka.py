"""Kafka connector over real network connections: librdkafka's mock cluster on loopback, the
processor as a subprocess (``python -m runtime run CONFIG --kafka ...``)."""

from __future__ import annotations

import collections
import re
import signal
import threading
import time
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from runtime import Message, StreamProcessor
from runtime.cli import main as cli_main
from runtime.connectors.common import decode_snapshot, default_group
from runtime.connectors.kafka import KafkaConnector
from runtime.connectors.testing import (
    InProcessConnector,
    MockKafkaCluster,
    ProcessorProcess,
    free_port,
    jsonl_outputs,
    kafka_records_from_jsonl,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[1]
PUMP = ROOT / "examples" / "pump.yaml"
PUMP_JSONL = ROOT / "examples" / "pump.jsonl"
TOPIC = "umh.messages"
PUMP_OUT = "umh.v1.corpA.plant-A.aawd._pump_v1."
PUMP_SRC = "umh.v1.corpA.plant-A.aawd._raw."
ASSIGNED = r"assigned all \d+ partitions"
# The mock cluster completes a rebalance only after the session timeout (less 1 s), and a
# restarted member waits for the killed one's session to expire: keep it short in tests (real
# brokers refuse less than 6 s; the default is 10 s).
FAST = ["consumer.session.timeout.ms=3000", "consumer.heartbeat.interval.ms=500"]
FAST_ARGS = [x for o in FAST for x in ("--kafka-option", o)]


@pytest.fixture
def bootstrap():
    with MockKafkaCluster() as bs:
        yield bs


def produce(bootstrap: str, records, topic: str = TOPIC) -> None:
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for key, value, headers in records:
        while True:
            try:
                p.produce(topic, value, key, headers=headers)
                break
            except BufferError:
                p.poll(0.05)
    assert p.flush(10) == 0


def ensure_topic(bootstrap: str, topic: str = TOPIC) -> None:
    """The mock cluster creates a topic on first produce (4 partitions)."""
    produce(bootstrap, [(b"umh.v1.nobody._raw.x", b"{}", None)], topic)


class OutputReader:
    """Reads every record of the topic (no group: all partitions from the beginning) in a thread
    and keeps those whose key starts with ``prefix``."""

    def __init__(self, bootstrap: str, prefix: str, topic: str = TOPIC) -> None:
        self.records: list[tuple[str, bytes, dict, int, int]] = []
        self.prefix = prefix.encode()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        c = Consumer({"bootstrap.servers": bootstrap, "group.id": "test-reader", "enable.auto.commit": False})
        n = len(c.list_topics(topic, timeout=10).topics[topic].partitions)
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(n)])
        self._consumer = c
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for r in self._consumer.consume(1000, 0.1):
                if r.error() is None and r.key() is not None and r.key().startswith(self.prefix):
                    meta = {k: v.decode() for k, v in (r.headers() or [])}
                    assert "umh_topic" not in meta  # the key is the umh_topic
                    meta["umh_topic"] = r.key().decode()
                    with self._lock:
                        self.records.append((r.key().decode(), r.value(), meta, r.partition(), r.offset()))

    def count(self) -> int:
        with self._lock:
            return len(self.records)

    def snapshot(self) -> list:
        with self._lock:
            return list(self.records)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._consumer.close()


def committed(bootstrap: str, group: str, topic: str = TOPIC) -> list[TopicPartition]:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        n = len(c.list_topics(topic, timeout=10).topics[topic].partitions)
        return c.committed([TopicPartition(topic, p) for p in range(n)], timeout=10)
    finally:
        c.close()


def end_offsets(bootstrap: str, topic: str = TOPIC) -> dict[int, int]:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "test-watermarks"})
    try:
        n = len(c.list_topics(topic, timeout=10).topics[topic].partitions)
        return {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(n)}
    finally:
        c.close()


def run_args(bootstrap: str, *extra: str) -> list[str]:
    return ["--kafka", bootstrap, "--log-level", "info", *FAST_ARGS, *extra]


def in_process(config, bootstrap: str, **options) -> InProcessConnector:
    processor = StreamProcessor.from_yaml(config)
    group = options.pop("group", None) or default_group(processor)
    return InProcessConnector(lambda stopper: KafkaConnector(
        processor, bootstrap, TOPIC, group, options=FAST, stopper=stopper, **options))


# --------------------------------------------------------------------------- end to end
def test_pump_example_end_to_end_equals_json_lines(bootstrap):
    """The CLI as a subprocess over the pump example: the outputs equal those of ``streamproc run``
    on the same messages from JSON Lines; SIGINT stops it promptly and commits."""
    inputs = kafka_records_from_jsonl(PUMP_JSONL)
    produce(bootstrap, inputs)
    expected = jsonl_outputs(PUMP, PUMP_JSONL)
    reader = OutputReader(bootstrap, PUMP_OUT)
    try:
        with ProcessorProcess(PUMP, *run_args(bootstrap, "--stats")) as proc:
            proc.wait_for(ASSIGNED)
            assert wait_until(lambda: reader.count() >= len(expected), 20), proc.stderr
            time.sleep(0.2)
            started = time.monotonic()
            assert proc.stop(signal.SIGINT) == 0, proc.stderr
            assert time.monotonic() - started < 5
            stderr = proc.stderr
        time.sleep(0.3)
        got = reader.snapshot()
    finally:
        reader.close()
    assert len(got) == len(expected)
    # the same outputs: key = output umh_topic, value = exact payload, headers = other metadata
    norm = lambda rows: collections.Counter((t, p, tuple(sorted(m.items()))) for t, p, m, *_ in rows)
    assert norm(got) == norm(expected)
    assert any(m.get("kafka_key") == "plant-A" for _t, _p, m, *_ in got)  # input metadata carried
    # a topic's records share a partition, so the outputs of one source topic keep the JSON Lines
    # order (the statics, made from every source topic, interleave the partitions differently)
    dynamic = {PUMP_OUT + k for k in ("pressure", "temperature", "motor.rpm", "status")}
    per_key = lambda rows: {t: [p for t2, p, *_ in rows if t2 == t] for t, *_ in rows if t in dynamic}
    assert per_key(sorted(got, key=lambda r: (r[3], r[4]))) == per_key(expected)
    # bad records (no key, invalid payloads) and foreign topics were counted and skipped
    stats = dict(re.findall(r"stats: (\w+): ([\d,.]+)", stderr))
    assert stats["invalid"] == "15" and stats["dropped_no_topic_fast_path"] == "13", stderr
    assert int(stats["outputs_acked"]) == len(expected)
    assert int(stats["dropped_foreign_fast_path"]) >= 16  # foreign inputs, and our own outputs
    assert "msg_per_s" in stats
    # the clean stop committed everything consumed: all inputs, and the outputs read back
    ends = end_offsets(bootstrap)
    done = committed(bootstrap, default_group(StreamProcessor.from_yaml(PUMP)))
    assert sum(tp.offset for tp in done) >= len(inputs)
    assert all(0 <= tp.offset <= ends[tp.partition] for tp in done)


SUM_CONFIG = """\
output_topic: umh.v1.t
model: {name: sum, version: v1}
sources:
  a: umh.v1.t._raw.a
  b: umh.v1.t._raw.b
mapping:
  total: a + b
"""


def test_state_survives_a_restart_and_produce_topic(bootstrap, tmp_path):
    """The state travels with the committed offsets: a mapping over two topics whose first value
    arrived before a restart produces when the second arrives after it. Outputs go to the
    ``produce_topic``; records of other topics are dropped on the fast path."""
    cfg = tmp_path / "sum.yaml"
    cfg.write_text(SUM_CONFIG)
    produce(bootstrap, [(b"umh.v1.other._raw.x", b'{"value":1,"timestamp_ms":1}', None)] * 5
            + [(b"umh.v1.t._raw.a", b'{"value":40,"timestamp_ms":1}', [("site", "x")])])
    ensure_topic(bootstrap, "derived")
    reader = OutputReader(bootstrap, "umh.v1.t._sum_v1.", topic="derived")
    group = default_group(StreamProcessor.from_yaml(cfg))
    try:
        with in_process(cfg, bootstrap, produce_topic="derived") as run:
            run.wait_for(ASSIGNED)
            assert wait_until(lambda: run.connector.stats.records_in == 6, 10)
            assert run.connector.stats.foreign == 5
            assert run.stop() == 0, run.lines
        snaps = [decode_snapshot(tp.metadata) for tp in committed(bootstrap, group)]
        assert any(s is not None and s[1] == {"umh.v1.t._raw.a": b"40"} for s in snaps), snaps
        assert reader.count() == 0
        produce(bootstrap, [(b"umh.v1.t._raw.b", b'{"value":2,"timestamp_ms":2}', [("site", "y")])])
        with in_process(cfg, bootstrap, produce_topic="derived") as run:
            run.wait_for("restored the state of 1 source topics")
            assert wait_until(lambda: reader.count() >= 1, 20), run.lines
            assert run.stop() == 0
        got = reader.snapshot()
    finally:
        reader.close()
    assert [(t, p, m) for t, p, m, *_ in got] == [
        ("umh.v1.t._sum_v1.total", b'{"value":42,"timestamp_ms":2}',
         {"site": "y", "umh_topic": "umh.v1.t._sum_v1.total"})]


# --------------------------------------------------------------------------- faults
def pump_stream(n: int, base_ts: int = 1_764_000_000_000):
    topics = ["press", "tempF", "run"]
    for i in range(n):
        t = topics[i % 3]
        value = "true" if t == "run" and i % 2 else ("false" if t == "run" else f"{i / 7:.4f}")
        yield (f"{PUMP_SRC}{t}".encode(), b'{"value":%s,"timestamp_ms":%d}' % (value.encode(), base_ts + i),
               [("site", "plant-A")])


def expected_outputs(records) -> set[tuple[str, bytes]]:
    p = StreamProcessor.from_yaml(PUMP)
    out = p.process_batch(Message(v, {"umh_topic": k.decode(), **dict(h)}) for k, v, h in records)
    return {(m.meta["umh_topic"], m.payload) for m in out}


def test_killed_mid_stream_resumes_from_committed_offsets(bootstrap):
    """SIGKILL mid-stream, restart: it resumes from the committed offsets and every input's
    outputs arrive at least once."""
    records = list(pump_stream(20_000))
    expected = expected_outputs(records)
    ensure_topic(bootstrap)
    reader = OutputReader(bootstrap, PUMP_OUT)
    group = default_group(StreamProcessor.from_yaml(PUMP))
    chunks = [records[i:i + 500] for i in range(0, len(records), 500)]

    def feed() -> None:
        for chunk in chunks:
            produce(bootstrap, chunk)
            time.sleep(0.08)

    feeder = threading.Thread(target=feed)
    received = lambda: {(t, p) for t, p, *_ in reader.snapshot()}
    try:
        with ProcessorProcess(PUMP, *run_args(bootstrap)) as first:
            first.wait_for(ASSIGNED)
            feeder.start()
            # let it process and commit a part, then kill it without warning
            assert wait_until(lambda: reader.count() >= len(expected) // 5, 20), first.stderr
            time.sleep(1.2)
            first.kill()
        killed_at = reader.count()
        assert killed_at < len(expected), "the stream ended before the kill: make it longer"
        mid = committed(bootstrap, group)
        assert any(tp.offset > 0 for tp in mid), "nothing was committed before the kill"
        assert all(decode_snapshot(tp.metadata) is not None for tp in mid if tp.offset > 0)
        with ProcessorProcess(PUMP, *run_args(bootstrap)) as second:
            line = second.wait_for(ASSIGNED, timeout=30)
            # it resumes where the first one committed, not from the beginning
            resumed = {int(p): int(o) for p, o in re.findall(r"(\d+): (-?\d+)", line.split("offsets:")[1])}
            assert resumed == {tp.partition: tp.offset for tp in mid}
            feeder.join(30)
            assert wait_until(lambda: expected <= received(), 30), (len(expected - received()), second.stderr)
            assert second.stop() == 0, second.stderr
        got = reader.snapshot()
    finally:
        feeder.join(30)
        reader.close()
    # at-least-once: every output arrived, some perhaps twice, but the restart did not start over
    assert expected <= {(t, p) for t, p, *_ in got}
    assert len(got) < 2 * len(expected)
    ends = end_offsets(bootstrap)
    assert all(0 < tp.offset <= ends[tp.partition] for tp in committed(bootstrap, group))


def test_second_instance_of_a_group_is_refused(bootstrap):
    """One configuration is one consumer: a second member of its group refuses and leaves, and the
    first one, paused while the group was split, owns every partition again and goes on."""
    ensure_topic(bootstrap)
    reader = OutputReader(bootstrap, PUMP_OUT)
    try:
        with in_process(PUMP, bootstrap) as first:
            first.wait_for(ASSIGNED)
            mark = first.mark()
            with in_process(PUMP, bootstrap) as second:
                assert second.wait(30) == 1
                assert "already has another active consumer" in second.error
                assert "--group" in second.error
            first.wait_for("pauses until it owns all of them", since=mark)
            first.wait_for(ASSIGNED, timeout=20, since=mark)
            produce(bootstrap, list(pump_stream(3)))
            assert wait_until(lambda: reader.count() >= 3 + 3 * 2, 20), first.lines
            assert first.stop() == 0, first.lines
    finally:
        reader.close()


def test_unreachable_broker_is_a_clear_error(capsys):
    address = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    assert cli_main(["run", str(PUMP), "--kafka", address]) == 1
    assert time.monotonic() - started < 12
    assert f"cannot reach the Kafka broker at {address}" in capsys.readouterr().err


def test_connector_options_are_checked(capsys):
    with pytest.raises(SystemExit) as e:
        cli_main(["run", str(PUMP), "--kafka", "127.0.0.1:1", "--input", str(PUMP_JSONL)])
    assert e.value.code == 2
    assert "--input/--output are for JSON Lines" in capsys.readouterr().err
    assert cli_main(["run", str(PUMP), "--kafka", "127.0.0.1:1", "--kafka-option", "nonsense"]) == 1
    assert "expected KEY=VALUE" in capsys.readouterr().err
    assert cli_main(["run", str(PUMP), "--kafka", "127.0.0.1:1", "--kafka-option", "no.such.property=1"]) == 1
    assert "invalid Kafka configuration" in capsys.readouterr().err
