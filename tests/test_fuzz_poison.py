"""Fuzz: nothing a message contains escapes ``process``/``process_batch``, and the counters add up.

Generated and mutated payloads (valid timeseries objects, any JSON, nesting up to past orjson's
limit, random bytes, byte-level mutations of valid payloads) with generated metadata (source,
foreign and missing topics, extra keys, metadata that ``Message()`` would refuse smuggled in
through ``trusted_message``, objects that are not messages at all), in batches, through both
engines. Asserted: no exception; ``messages_in = processed + dropped_missing_topic +
dropped_unknown_topic + invalid``; ``process`` one by one and ``process_batch`` give the same
outputs and counters; every output payload is ``{"value":...,"timestamp_ms":...}`` JSON.

CI runs ``STREAMPROC_FUZZ_EXAMPLES`` (default 300) batches of 1 to 24 messages per engine; set
it higher for a longer run (the number of payloads tried is printed with ``-s``).
"""

from __future__ import annotations

import json
import logging
import os

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime import Message, StreamProcessor
from runtime.logs import RateLimitedLog
from runtime.message import trusted_message

EXAMPLES = int(os.environ.get("STREAMPROC_FUZZ_EXAMPLES", "300"))
BASE = "umh.v1.corpA.plant-A.aawd"
PRESS, TEMPF, RUN = BASE + "._raw.press", BASE + "._raw.tempF", BASE + "._raw.run"
CONFIG = {
    "output_topic": BASE, "model": {"name": "fuzz", "version": "v1"},
    "sources": {"press": PRESS, "tF": TEMPF, "r": RUN, "r2": RUN},
    "mapping": {
        "sum": "press + tF", "text": "String(r)", "json": "JSON.stringify(tF)", "len": "tF.length",
        "pair": "[press, r2]", "obj": "({p: press, t: tF})", "member": "tF.a", "cmp": "press > tF",
        "arrow": "[press].map(x => x * 2)[0]", "static": '"S"', "now": "Date.now() > 0",
    },
}
TRIED = {"payloads": 0, "batches": 0}


def dumps(v: object) -> bytes:
    """JSON text of ``v`` (the standard library: integers of any size, lone surrogates escaped)."""
    return json.dumps(v).encode()


_log = logging.getLogger("streamproc.fuzz")
_log.propagate = False
_log.addHandler(logging.NullHandler())
_log.setLevel(logging.WARNING)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)
timestamps = st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=False),
                       st.just(0), st.booleans(), st.none(), st.text(max_size=3))


@st.composite
def valid_objects(draw) -> bytes:
    obj = {}
    if draw(st.booleans()) or True:
        obj["value"] = draw(json_values)
    if draw(st.integers(0, 9)):
        obj["timestamp_ms"] = draw(timestamps) if draw(st.integers(0, 3)) == 0 else draw(
            st.integers(min_value=1, max_value=2**53))
    if draw(st.integers(0, 4)) == 0:
        obj[draw(st.text(max_size=5))] = draw(json_values)
    return dumps(obj)


@st.composite
def nested(draw) -> bytes:
    depth = draw(st.integers(0, 1100))
    open_, close = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]))
    return b'{"value":' + open_ * depth + b"1" + close * depth + b',"timestamp_ms":5}'


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(valid_objects() | nested()))
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        op = draw(st.integers(0, 2))
        if op == 0:
            data[i] = draw(st.integers(0, 255))
        elif op == 1:
            del data[i]
        else:
            data[i:i] = draw(st.binary(min_size=1, max_size=3))
    return bytes(data)


payloads = st.one_of(valid_objects(), valid_objects(), nested(), mutated(), mutated(),
                     json_values.map(dumps), st.binary(max_size=40),
                     st.text(max_size=30).map(lambda s: s.encode("utf-8", "surrogatepass")))
topics = st.sampled_from([PRESS, TEMPF, RUN, BASE + "._raw.other", "", "umh/v1/x"])
texts = st.text(max_size=8)


@st.composite
def messages(draw) -> object:
    payload = draw(payloads)
    meta = draw(st.dictionaries(texts, texts, max_size=3))
    kind = draw(st.integers(0, 19))
    if kind < 15:
        meta["umh_topic"] = draw(topics)
        return Message(payload, meta)
    if kind == 15:
        return Message(payload, meta)  # no umh_topic
    if kind == 16:  # what Message() refuses, smuggled past it
        return trusted_message(payload, draw(st.sampled_from([None, [], "meta", {"umh_topic": 5}])))
    if kind == 17:
        topic = draw(st.sampled_from([[PRESS], {PRESS: 1}, b"x", 1.5]))
        return trusted_message(payload, {"umh_topic": topic})
    if kind == 18:
        return trusted_message(draw(st.sampled_from([None, "text", 5, [b"x"]])), {"umh_topic": PRESS})
    return draw(st.sampled_from([None, 5, "message", object()]))


def _metrics(p: StreamProcessor) -> dict:
    return p.metrics.as_dict()


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    print(f"\nfuzz: {TRIED['payloads']} messages in {TRIED['batches']} batches, nothing escaped")


def processors(engine: str) -> tuple[StreamProcessor, StreamProcessor]:
    """Two fresh processors (an example's failure must not leak into the next)."""
    return tuple(  # type: ignore[return-value]
        StreamProcessor(CONFIG, engine=engine, log=RateLimitedLog(_log, interval=0.0)) for _ in "ab")


@pytest.mark.parametrize("engine", ["auto", "quickjs"])
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=st.lists(messages(), min_size=1, max_size=24), data=st.data())
def test_nothing_escapes_and_the_counters_add_up(engine, batch, data):
    one, many = processors(engine)
    before = _metrics(one)
    assert before == _metrics(many)
    singles = []
    for m in batch:
        singles.extend(one.process(m))
    split = data.draw(st.integers(0, len(batch)))
    batched = many.process_batch(batch[:split]) + many.process_batch(iter(batch[split:]))
    TRIED["payloads"] += len(batch)
    TRIED["batches"] += 1
    for p in (one, many):
        m = p.metrics
        assert m.messages_in - before["messages_in"] == len(batch)
        assert m.messages_in == m.processed + m.dropped_missing_topic + m.dropped_unknown_topic + m.invalid
    assert _metrics(one) == _metrics(many)
    assert one.state() == many.state() or "nan" in repr(one.state()).lower()
    assert len(singles) == len(batched) == one.metrics.outputs - before["outputs"]
    for a, b in zip(singles, batched, strict=True):
        assert a.meta == b.meta
        if not a.meta["umh_topic"].endswith(".now"):
            assert a.payload == b.payload
        obj = orjson.loads(a.payload)
        assert list(obj) == ["value", "timestamp_ms"] and obj["value"] is not None
