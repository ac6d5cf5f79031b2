"""Connector helpers without a broker: topic names, group ids, state snapshots, options."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from runtime import Message, StreamProcessor
from runtime.connectors import default_group, mqtt_to_umh, umh_to_mqtt
from runtime.connectors.common import decode_snapshot, encode_snapshot, restore_state

ROOT = Path(__file__).resolve().parents[1]

CONFIG = {
    "output_topic": "umh.v1.t",
    "model": {"name": "m", "version": "v1"},
    "sources": {"a": "umh.v1.t._raw.a", "b": "umh.v1.t._raw.b", "a2": "umh.v1.t._raw.a"},
    "mapping": {"out": "JSON.stringify([a, b])", "inv": "1 / a"},
}


def test_topic_conversion():
    assert umh_to_mqtt("umh.v1.acme._raw.press") == "umh/v1/acme/_raw/press"
    assert mqtt_to_umh("umh/v1/acme/_raw/press") == "umh.v1.acme._raw.press"
    assert mqtt_to_umh(umh_to_mqtt("umh.v1.corpA.plant-A.aawd._pump_v1.motor.rpm")) == \
        "umh.v1.corpA.plant-A.aawd._pump_v1.motor.rpm"


def test_default_group_derives_from_the_model():
    p = StreamProcessor.from_yaml(ROOT / "examples" / "pump.yaml")
    assert default_group(p) == "streamproc.umh.v1.corpA.plant-A.aawd._pump_v1"


@pytest.mark.parametrize("value", [
    b"25.5", b"-0.0", b"1e400", b'"caf\xc3\xa9 \\ud800"', b"true", b"[1,2.5,\"x\",{\"k\":null}]",
    b'{"z":1,"2":[true],"a":{"b":"c"}}', b"9007199254740993",
])
def test_snapshot_round_trip(value):
    """A value stored, snapshotted and restored into a fresh processor gives the same outputs."""
    first = StreamProcessor(CONFIG)
    first.process(Message(b'{"value":%s,"timestamp_ms":5}' % value, {"umh_topic": "umh.v1.t._raw.a"}))
    text = encode_snapshot(first, first.state(), 7)
    seq, values = decode_snapshot(text)
    assert seq == 7 and set(values) == {"umh.v1.t._raw.a"}
    second = StreamProcessor(CONFIG)
    assert restore_state(second, values) == 1
    probe = Message(b'{"value":3,"timestamp_ms":9}', {"umh_topic": "umh.v1.t._raw.b"})
    assert second.process(probe) == first.process(probe)
    sa, sb = first.state(), second.state()
    assert sa.keys() == sb.keys()
    for k in sa:
        if isinstance(sa[k], float):
            assert math.copysign(1, sa[k]) == math.copysign(1, sb[k]) and (sa[k] == sb[k])


def test_snapshot_rejects_foreign_metadata():
    assert decode_snapshot(None) is None
    assert decode_snapshot("") is None
    assert decode_snapshot("something else") is None
    assert decode_snapshot("streamproc1:{not json") is None
    assert decode_snapshot('streamproc1:{"v":2,"seq":1,"s":{}}') is None
    assert decode_snapshot('streamproc1:{"v":1,"seq":3,"s":{}}') == (3, {})


def test_restore_ignores_topics_no_longer_configured():
    p = StreamProcessor(CONFIG)
    assert restore_state(p, {"umh.v1.gone": b"1", "umh.v1.t._raw.b": b"2"}) == 1
    assert p.state() == {"b": 2.0}


def test_kafka_options_split_per_client():
    from runtime.connectors.common import ConnectorError
    from runtime.connectors.kafka import parse_options

    consumer, producer = parse_options(["a=1", "consumer.b=2", "producer.c=3", "d=x=y"])
    assert consumer == {"a": "1", "b": "2", "d": "x=y"}
    assert producer == {"a": "1", "c": "3", "d": "x=y"}
    with pytest.raises(ConnectorError):
        parse_options(["novalue"])
