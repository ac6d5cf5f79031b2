"""A poison record between two good ones: the connector process stays up, the good records'
outputs arrive, the poison is counted, logged with its key/offset and skipped (committed past /
acknowledged), or dead-lettered (issue 13). Plus: an unreachable Kafka broker is one error."""

from __future__ import annotations

import re
import signal
import time

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from runtime.connectors.testing import (
    MockKafkaCluster,
    Mosquitto,
    ProcessorProcess,
    free_port,
    wait_until,
)
from tests.test_connectors_kafka import FAST_ARGS, OutputReader, committed, produce
from tests.test_connectors_mqtt import Client

CONFIG = """\
output_topic: umh.v1.t
model: {name: rep, version: v1}
sources:
  n: umh.v1.t._raw.n
mapping:
  out: '"x".repeat(n)'
"""
SRC = "umh.v1.t._raw.n"
OUT = "umh.v1.t._rep_v1.out"
DEEP = b'{"value":' + b"[" * 900 + b"]" * 900 + b',"timestamp_ms":2}'
TOO_LARGE = b'{"value":1500000,"timestamp_ms":3}'  # its output exceeds Kafka's 1 MB message.max.bytes


@pytest.fixture
def config(tmp_path):
    f = tmp_path / "rep.yaml"
    f.write_text(CONFIG)
    return f


def stats_of(stderr: str) -> dict[str, str]:
    return dict(re.findall(r"stats: (\w+): ([\d,.]+)", stderr))


@pytest.mark.parametrize("dead_letter", [False, True])
def test_kafka_poison_records_between_good_ones(config, dead_letter):
    with MockKafkaCluster() as bs:
        key = SRC.encode()
        records = [(key, b'{"value":3,"timestamp_ms":1}', None), (key, DEEP, None),
                   (key, TOO_LARGE, [("site", "a")]), (key, b'{"value":4,"timestamp_ms":4}', None)]
        produce(bs, records)
        produce(bs, [(b"umh.v1.nobody._raw.x", b"{}", None)], "dlq")  # the mock creates it on use
        reader = OutputReader(bs, OUT)
        extra = ("--dead-letter-topic", "dlq") if dead_letter else ()
        try:
            with ProcessorProcess(config, "--kafka", bs, "--stats", "--log-level", "info", *FAST_ARGS,
                                  *extra) as proc:
                proc.wait_for(r"assigned all \d+ partitions")
                assert wait_until(lambda: reader.count() >= 2, 20), proc.stderr
                time.sleep(1.5)  # a commit interval: the process must still be up afterwards
                assert proc.proc.poll() is None, proc.stderr
                assert proc.stop(signal.SIGTERM) == 0, proc.stderr
                stderr = proc.stderr
            got = reader.snapshot()
        finally:
            reader.close()
        assert [(k, v) for k, v, *_ in got] == [(OUT, b'{"value":"xxx","timestamp_ms":1}'),
                                                (OUT, b'{"value":"xxxx","timestamp_ms":4}')]
        stats = stats_of(stderr)
        assert stats["invalid"] == "1" and stats["outputs_refused"] == "1", stderr
        assert "nested more than 64 levels" in stderr
        refused = [line for line in stderr.splitlines() if "refused by Kafka for good" in line]
        assert len(refused) == 1 and OUT in refused[0] and "1,500,0" in refused[0]
        assert re.search(r"from the input records at partition \d+ offsets? \d+", refused[0]), refused
        # committed past the poison: every input record of the partition
        done = committed(bs, "streamproc.umh.v1.t._rep_v1")
        assert sum(max(tp.offset, 0) for tp in done) >= len(records) + 2  # + the outputs read back
        if dead_letter:
            c = Consumer({"bootstrap.servers": bs, "group.id": "dlq-reader"})
            n = len(c.list_topics("dlq", timeout=10).topics["dlq"].partitions)
            c.assign([TopicPartition("dlq", p, OFFSET_BEGINNING) for p in range(n)])
            dead = []
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not dead:
                dead = [r for r in c.consume(100, 0.5) if r.error() is None and r.key() == OUT.encode()]
            c.close()
            [d] = dead
            headers = dict(d.headers())
            assert b"MSG_SIZE_TOO_LARGE" in headers["streamproc_error"]
            assert headers["site"] == b"a" and headers["streamproc_value_bytes"] == b"1500029"
            assert "sent to the dead-letter topic dlq" in refused[0]


def test_unreachable_kafka_broker_is_one_clear_error(config):
    port = free_port()
    with ProcessorProcess(config, "--kafka", f"127.0.0.1:{port}") as proc:
        assert proc.wait(30) == 1
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"streamproc: cannot reach the Kafka broker at 127.0.0.1:{port}: ")
    assert "Connection refused" in lines[0]


def _stays_up_and_stops(proc, client, outputs: int, settle: float) -> tuple[list, str]:
    """Wait for ``outputs`` outputs, check the processor is still running ``settle`` s later,
    stop it with SIGTERM (exit 0); the outputs the client got and the processor's stderr."""
    assert wait_until(lambda: client.count() >= outputs, 20), proc.stderr
    time.sleep(settle)
    assert proc.proc.poll() is None, proc.stderr
    assert proc.stop(signal.SIGTERM) == 0, proc.stderr
    got = client.snapshot()
    client.client.loop_stop()
    client.client.disconnect()
    return got, proc.stderr


class SmallPackets(Mosquitto):
    CONF = Mosquitto.CONF + "max_packet_size 100000\n"  # announced in CONNACK (Maximum Packet Size)


def test_mqtt_output_larger_than_the_brokers_maximum_packet_size_is_skipped(config):
    # sent anyway, mosquitto closes the connection ("Packet too large") and the persistent
    # session resends it at every reconnect: the connector used to end as "taken over"
    with SmallPackets() as broker:
        client = Client(broker, prefix="umh/v1/t/_rep_v1/")
        with ProcessorProcess(config, "--mqtt", broker.address, "--stats", "--log-level", "info") as proc:
            proc.wait_for("subscribed to 1 source topics")
            client.publish(SRC, b'{"value":3,"timestamp_ms":1}')
            client.publish(SRC, b'{"value":200000,"timestamp_ms":2}')
            client.publish(SRC, b'{"value":4,"timestamp_ms":3}')
            got, stderr = _stays_up_and_stops(proc, client, 2, 1.0)
    assert [(t, p) for t, p, _ in got] == [(OUT, b'{"value":"xxx","timestamp_ms":1}'),
                                           (OUT, b'{"value":"xxxx","timestamp_ms":3}')]
    stats = stats_of(stderr)
    assert stats["outputs_refused"] == "1" and stats["outputs_acked"] == "2", stderr
    assert "lost the connection" not in stderr
    [line] = [x for x in stderr.splitlines() if "cannot be published" in x]
    assert f"'{OUT}' (200,029 bytes" in line and "exceed the broker's Maximum Packet Size 100,000" in line


def test_mqtt_poison_records_between_good_ones(config):
    with Mosquitto() as broker:
        client = Client(broker, prefix="umh/v1/t/_rep_v1/")
        with ProcessorProcess(config, "--mqtt", broker.address, "--stats", "--log-level", "info") as proc:
            proc.wait_for("subscribed to 1 source topics")
            client.publish(SRC, b'{"value":3,"timestamp_ms":1}')
            client.publish(SRC, DEEP)
            client.publish(SRC, b"\xff\xfe not json")
            client.publish(SRC, b'{"value":4,"timestamp_ms":4}')
            got, stderr = _stays_up_and_stops(proc, client, 2, 0.5)
        # acknowledged: a new session of the same client id gets nothing redelivered
        with ProcessorProcess(config, "--mqtt", broker.address, "--stats", "--log-level", "info") as again:
            again.wait_for("subscribed to 1 source topics")
            time.sleep(1.0)
            assert again.stop(signal.SIGTERM) == 0
            assert stats_of(again.stderr)["records_in"] == "0", again.stderr
    assert [(t, p) for t, p, _ in got] == [(OUT, b'{"value":"xxx","timestamp_ms":1}'),
                                           (OUT, b'{"value":"xxxx","timestamp_ms":4}')]
    stats = stats_of(stderr)
    assert stats["invalid"] == "2" and stats["records_in"] == "4", stderr
    assert "nested more than 64 levels" in stderr and "not valid JSON" in stderr


def test_librdkafka_log_is_deduplicated_at_warning_level(caplog):
    import logging

    from runtime.connectors.kafka import LibrdkafkaLog

    log = LibrdkafkaLog(logging.getLogger("runtime.connectors.kafka.librdkafka"))
    with caplog.at_level(logging.DEBUG, logger="runtime.connectors.kafka.librdkafka"):
        log.log(logging.ERROR, "%s [%s] %s", "FAIL", "rdkafka#producer-1", "quiet while connecting")
        log.quiet = False
        for i in range(80):
            log.log(logging.ERROR, "%s [%s] %s", "FAIL", f"rdkafka#producer-{i % 3}",
                    f"[thrd:x]: 127.0.0.1:1/bootstrap: Connect failed (after {i}ms in state CONNECT)")
            log.log(logging.INFO, "%s [%s] %s", "STATE", "rdkafka#producer-1", "info is dropped")
        log.log(logging.WARNING, "%s [%s] %s", "OFFSET", "rdkafka#consumer-2", "another kind")
        log.flush()
    lines = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert len(lines) == 3, lines
    assert all(level == logging.WARNING for level, _ in lines)
    assert "Connect failed (after 0ms" in lines[0][1] and "another kind" in lines[1][1]
    assert "79 similar messages suppressed" in lines[2][1]


@pytest.mark.parametrize("option", ["--topic", "--produce-topic", "--dead-letter-topic"])
def test_kafka_topic_options_are_checked(option, capsys):
    from runtime.cli import main

    with pytest.raises(SystemExit) as e:
        main(["run", "pump.yaml", "--kafka", "127.0.0.1:1", option, "umh/messages"])
    assert e.value.code == 2
    assert f"{option} 'umh/messages': not a Kafka topic name" in capsys.readouterr().err
