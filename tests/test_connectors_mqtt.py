"""MQTT connector over real network connections: mosquitto on a free loopback port."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from runtime import Message, StreamProcessor
from runtime.cli import main as cli_main
from runtime.connectors.common import default_group
from runtime.connectors.mqtt import MqttConnector
from runtime.connectors.testing import (
    InProcessConnector,
    Mosquitto,
    ProcessorProcess,
    free_port,
    jsonl_outputs,
    kafka_records_from_jsonl,
    wait_until,
)

if Mosquitto().exe is None:  # a missing broker fails the suite rather than hiding these tests
    pytest.fail("mosquitto is not installed: run setup.sh (or apt-get install mosquitto)", pytrace=False)

ROOT = Path(__file__).resolve().parents[1]
PUMP = ROOT / "examples" / "pump.yaml"
PUMP_JSONL = ROOT / "examples" / "pump.jsonl"
PUMP_OUT = "umh/v1/corpA/plant-A/aawd/_pump_v1/"
PUMP_SRC = "umh/v1/corpA/plant-A/aawd/_raw/"
SUBSCRIBED = "subscribed to 3 source topics"


@pytest.fixture
def broker():
    with Mosquitto() as m:
        yield m


class Client:
    """A test client: publishes inputs, collects outputs under ``prefix`` (resubscribing after a
    reconnect), as (umh_topic, payload, metadata)."""

    def __init__(self, broker: Mosquitto, prefix: str | None = None) -> None:
        self.received: list[tuple[str, bytes, dict]] = []
        self.lock = threading.Lock()
        self.prefix = prefix
        self.connected = threading.Event()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        c.reconnect_delay_set(1, 2)
        c.max_inflight_messages_set(0)
        c.on_connect = self._on_connect
        c.on_message = self._on_message
        c.on_disconnect = lambda *a: self.connected.clear()
        c.connect("127.0.0.1", broker.port)
        c.loop_start()
        assert self.connected.wait(10)
        self.client = c

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        if self.prefix:
            client.subscribe(self.prefix + "#", qos=1)
            time.sleep(0.1)  # let the SUBACK arrive before publishing starts
        self.connected.set()

    def _on_message(self, client, userdata, msg) -> None:
        meta = dict(getattr(msg.properties, "UserProperty", None) or [])
        assert "umh_topic" not in meta  # the topic is the umh_topic
        meta["umh_topic"] = msg.topic.replace("/", ".")
        with self.lock:
            self.received.append((msg.topic.replace("/", "."), msg.payload, meta))

    def publish(self, topic: str, payload: bytes, meta: dict | None = None) -> None:
        props = Properties(PacketTypes.PUBLISH)
        if meta:
            props.UserProperty = list(meta.items())
        self.client.publish(topic.replace(".", "/"), payload, 1, properties=props)

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def snapshot(self) -> list:
        with self.lock:
            return list(self.received)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def publish_jsonl(client: Client, path: Path) -> int:
    n = 0
    for key, value, headers in kafka_records_from_jsonl(path):
        if key is not None:  # an MQTT message always has a topic
            client.publish(key.decode(), value, dict(headers or []))
            n += 1
    return n


def in_process(broker: Mosquitto, config=PUMP, client_id: str | None = None) -> InProcessConnector:
    processor = StreamProcessor.from_yaml(config)
    cid = client_id or default_group(processor)
    return InProcessConnector(lambda stopper: MqttConnector(processor, "127.0.0.1", broker.port, cid,
                                                            stopper=stopper))


def test_pump_example_end_to_end_equals_json_lines(broker):
    """The CLI as a subprocess: subscribed to exactly the source topics, outputs published to the
    converted output topics, metadata as user properties, in the JSON Lines order."""
    expected = jsonl_outputs(PUMP, PUMP_JSONL)
    out = Client(broker, PUMP_OUT)
    pub = Client(broker)
    try:
        with ProcessorProcess(PUMP, "--mqtt", broker.address, "--qos", "1", "--log-level", "info",
                              "--stats") as proc:
            proc.wait_for(SUBSCRIBED)
            publish_jsonl(pub, PUMP_JSONL)
            assert wait_until(lambda: out.count() >= len(expected), 20), proc.stderr
            time.sleep(0.2)
            started = time.monotonic()
            assert proc.stop(signal.SIGTERM) == 0, proc.stderr
            assert time.monotonic() - started < 5
            assert "invalid: 15" in proc.stderr and "outputs_acked: 916" in proc.stderr
        got = out.snapshot()
    finally:
        for c in (out, pub):
            c.close()
    assert got == [(t, p, m) for t, p, m in expected]
    # foreign topics were published but never reached the processor: it subscribed to the sources
    assert "dropped_unknown_topic: 0" in proc.stderr


def stream(client: Client, start: int, n: int) -> set[tuple[str, bytes]]:
    """Publish n pump messages; return the outputs they must produce."""
    p = StreamProcessor.from_yaml(PUMP)
    expected = set()
    for i in range(start, start + n):
        topic = PUMP_SRC.replace("/", ".") + ("press", "tempF")[i % 2]
        payload = b'{"value":%d.5,"timestamp_ms":%d}' % (i, 1_764_000_000_000 + i)
        client.publish(topic, payload)
        outputs = p.process(Message(payload, {"umh_topic": topic}))
        expected |= {(m.meta["umh_topic"], m.payload) for m in outputs}
    return expected


def test_broker_restart_mid_stream(broker):
    """mosquitto stopped and restarted mid-stream: the processor reconnects with backoff,
    subscribes again and processes what arrives after."""
    out = Client(broker, PUMP_OUT)
    pub = Client(broker)
    try:
        with in_process(broker) as run:
            run.wait_for(SUBSCRIBED)
            before = stream(pub, 0, 200)
            assert wait_until(lambda: before <= {(t, p) for t, p, _ in out.snapshot()}, 10), run.lines
            mark = run.mark()
            broker.stop()
            run.wait_for("lost the connection to the MQTT broker", since=mark)
            time.sleep(1.0)
            broker.start()
            run.wait_for("reconnected to the MQTT broker", timeout=20, since=mark)
            run.wait_for(SUBSCRIBED, since=mark)
            assert out.connected.wait(10) and pub.connected.wait(10)
            time.sleep(0.3)
            after = stream(pub, 1000, 200)
            assert wait_until(lambda: after <= {(t, p) for t, p, _ in out.snapshot()}, 15), run.lines
            assert run.stop() == 0
    finally:
        out.close()
        pub.close()


def test_second_client_takes_the_session_over(broker):
    """Same client id: the newcomer takes the session over, the first stops with a message."""
    out = Client(broker, PUMP_OUT)
    pub = Client(broker)
    try:
        with in_process(broker) as first:
            first.wait_for(SUBSCRIBED)
            with in_process(broker) as second:
                second.wait_for(SUBSCRIBED)
                assert first.wait(10) == 1
                assert "took over this session" in first.error and "--group" in first.error
                expected = stream(pub, 0, 10)
                assert wait_until(lambda: expected <= {(t, p) for t, p, _ in out.snapshot()}, 10)
                assert second.stop() == 0
    finally:
        out.close()
        pub.close()


def test_unacknowledged_inputs_come_back_after_a_restart(broker):
    """Inputs published while the processor is away wait in its persistent session."""
    out = Client(broker, PUMP_OUT)
    pub = Client(broker)
    try:
        with in_process(broker) as run:
            run.wait_for(SUBSCRIBED)
            assert run.stop() == 0
        expected = stream(pub, 0, 50)  # nobody is connected for these
        time.sleep(0.2)
        assert out.count() == 0
        with in_process(broker) as run:
            run.wait_for("connected to the MQTT broker")
            assert wait_until(lambda: expected <= {(t, p) for t, p, _ in out.snapshot()}, 10), run.lines
            assert run.stop() == 0
    finally:
        out.close()
        pub.close()


def test_unreachable_broker_is_a_clear_error(capsys):
    address = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    assert cli_main(["run", str(PUMP), "--mqtt", address]) == 1
    assert time.monotonic() - started < 5
    assert f"cannot reach the MQTT broker at {address}" in capsys.readouterr().err


def test_mqtt_option_is_checked(capsys):
    with pytest.raises(SystemExit):
        cli_main(["run", str(PUMP), "--mqtt", "localhost"])
    assert "expected HOST:PORT" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli_main(["run", str(PUMP), "--mqtt", "127.0.0.1:1", "--kafka", "127.0.0.1:2"])
    assert "exclusive" in capsys.readouterr().err
