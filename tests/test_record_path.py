"""The record-writing entry points give exactly the outputs of ``process_batch``, byte for byte.

``process_records`` (the connectors) and ``write_json_lines`` (the CLI) are generated from the
same handler logic as ``process``/``process_batch`` with another output fragment writer; these
tests run all of them on the same generated streams — invalid payloads, extra metadata in any
position, every kind of result (numbers, strings with escapes and lone surrogates, booleans,
arrays, objects, null/undefined/NaN, throwing mappings), impure statics — and compare every byte
and every counter. ``process_batch`` (checked against QuickJS by ``conformance/``) is the oracle.
"""

from __future__ import annotations

import logging

import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conformance.streams import streams
from runtime import ConfigError, Message, StreamProcessor
from runtime.logs import RateLimitedLog
from runtime.writers import escape_json_text, meta_fragments, quoted_escaped

_QUIET = logging.getLogger("tests.record_path.quiet")
_QUIET.disabled = True
_QUIET.propagate = False

PREFIX = "umh.v1.t"
SOURCES = {"a": f"{PREFIX}._raw.a", "b": f"{PREFIX}._raw.b", "c": f"{PREFIX}._raw.a"}
# every kind of result the writers handle, and results that produce no output
MAPPINGS = {
    "num": "a * 2", "sum": "a + b", "str": "'<' + a + '>\\n\"q\"\\\\'", "astral": "'😀é' + b",
    "lone": "String.fromCharCode(0xd800) + a", "bool": "a > b", "arr": "[a, b, 'x\"']",
    "obj": "({k: a, 'é\"': [b]})", "undef": "a > 1e9 ? undefined : null", "nan": "a - NaN",
    "throws": "a.b.c", "fn": "b > 1e9 ? 1 : (() => 1)", "static": "'SN-\"1\"'",
    "now": "typeof Date.now()", "nested": {"deep": "c / 4"}, "big": "a * 1e300 * 1e10",
}
CONFIG = {"output_topic": PREFIX, "model": {"name": "m", "version": "v1"}, "sources": SOURCES,
          "mapping": MAPPINGS}
TOPIC_LIST = [*dict.fromkeys(SOURCES.values()), f"{PREFIX}._raw.other"]

_values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False), st.integers(-2**70, 2**70),
    st.text(max_size=6), st.booleans(), st.none(),
    st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=3)), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(-5, 5), max_size=3),
    st.sampled_from(["1e400", '"\\ud800"', "-0", "-0.0", "123456789012345678901234567890"]).map(
        lambda raw: ("raw", raw)),
)
_timestamps = st.one_of(st.integers(1, 2**53), st.integers(-2**70, 2**70),
                        st.sampled_from([0, 1.5, "7", True, None, 2**64, 1e20, 1764000000000.0]))
_meta_extra = st.lists(st.tuples(st.sampled_from(["k", "é", "a\"b", "z"]), st.text(max_size=4)),
                       max_size=3)


@st.composite
def _payload_text(draw) -> bytes:
    """Payload text: mostly timeseries objects (with extra fields, odd timestamps, values of any
    JSON type), sometimes no object or no JSON at all, sometimes after whitespace."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.sampled_from([b"invalid json", b"[1]", b"null", b"", b'"s"', b" 5",
                                     b'{"value": 1, "timestamp_ms": 1', b"\xff{}",
                                     b'{"value": NaN, "timestamp_ms": 1}']))
    value = draw(_values)
    ts = draw(_timestamps)
    fields = []
    if value.__class__ is tuple:
        fields.append(b'"value":' + value[1].encode())
    elif draw(st.integers(0, 9)) > 0:
        text = str(value).encode() if value.__class__ is int else orjson.dumps(value)
        fields.append(b'"value":' + text)
    if draw(st.integers(0, 9)) > 0:
        ts_text = str(ts).encode() if ts.__class__ is int else orjson.dumps(ts)
        fields.append(b'"timestamp_ms":' + ts_text)
    if draw(st.booleans()):
        fields.append(b'"extra":{"x":[1,2]}')
    if draw(st.booleans()):
        fields.append(b'"value":2.5')  # a duplicate key: the last one counts, as in JSON.parse
    fields = draw(st.permutations(fields))
    text = b"{" + b",".join(fields) + b"}"
    return b" \n" + text if kind == 1 else text


@st.composite
def _message(draw) -> Message:
    extra = draw(_meta_extra)
    meta: dict[str, str] = {}
    position = draw(st.integers(0, len(extra)))
    for k, (key, value) in enumerate(extra):
        if k == position:
            meta["umh_topic"] = ""
        meta[key] = value
    topic = draw(st.one_of(st.sampled_from(TOPIC_LIST), st.none()))
    if topic is None:
        meta.pop("umh_topic", None)
    else:
        meta["umh_topic"] = topic
    return Message(draw(_payload_text()), meta)


def _expected_lines(messages: list[Message]) -> bytes:
    """What the CLI wrote before the JSON Lines writer: orjson.dumps of each output message."""
    return b"".join(orjson.dumps({"payload": m.payload.decode("utf-8"), "meta": m.meta}) + b"\n"
                    for m in messages)


def _as_entry(message: Message, parsed: bool) -> tuple[object, dict]:
    """A CLI entry: the payload text, or (when the text is JSON orjson reads) the parsed value."""
    if parsed:
        try:
            return orjson.loads(message.payload), message.meta
        except orjson.JSONDecodeError:
            pass
    return message.payload, message.meta


def _processors(config: dict, n: int) -> list[StreamProcessor]:
    return [StreamProcessor(config, log=RateLimitedLog(_QUIET)) for _ in range(n)]


def _check(config: dict, messages: list[Message], batches: list[int]) -> None:
    """Feed ``messages`` in the given batch sizes to each entry point of its own processor."""
    oracle, records, lines_text, lines_parsed, lines_ref = _processors(config, 5)
    pos = 0
    for size in batches + [len(messages)]:
        batch, pos = messages[pos:pos + size], pos + size
        expected = oracle.process_batch(batch)
        # the records path: (topic, payload, extra) with the extra passed through per input
        got = records.process_records([
            (m.meta.get("umh_topic"), m.payload, id(m)) for m in batch])
        owner = {id(m): m for m in batch}
        assert [(o.meta["umh_topic"], o.payload) for o in expected] == [(t, p) for t, p, _ in got]
        for o, (_, _, x) in zip(expected, got):
            assert o.meta == {**owner[x].meta, "umh_topic": o.meta["umh_topic"]}
        # the JSON Lines path: payload text, and payload parsed the way the CLI parses the envelope
        assert b"".join(lines_text.write_json_lines(
            [_as_entry(m, False) for m in batch])) == _expected_lines(expected)
        parsed = [_as_entry(m, True) for m in batch]
        reference = lines_ref.process_batch([
            Message(p if p.__class__ is bytes else orjson.dumps(p), meta) for p, meta in parsed])
        assert b"".join(lines_parsed.write_json_lines(parsed)) == _expected_lines(reference)
        if pos >= len(messages):
            break
    for p in (records, lines_text):
        assert p.metrics == oracle.metrics
        assert p.state() == oracle.state()
    assert lines_parsed.metrics == lines_ref.metrics


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_message(), min_size=1, max_size=25), st.lists(st.integers(0, 6), max_size=4))
def test_record_and_line_paths_equal_process_batch(messages, batches):
    _check(CONFIG, messages, batches)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(streams(), st.lists(st.integers(0, 4), max_size=3))
def test_conformance_streams_on_every_path(stream, batches):
    config, messages = stream
    try:
        StreamProcessor(config, log=RateLimitedLog(_QUIET))
    except ConfigError:  # refused at load (e.g. a static that can never output): no stream to run
        assume(False)
    _check(config, messages, batches)


def test_pump_example_stream_on_every_path():
    from conformance.streams import example_streams

    for _name, config, messages in example_streams():
        _check(config, messages, [1, 7, 100])


def test_topics_route_as_text_or_bytes():
    p, q = _processors(CONFIG, 2)
    payload = b'{"value":3,"timestamp_ms":5}'
    by_text = p.process_records([(SOURCES["a"], payload, None)])
    by_bytes = q.process_records([(SOURCES["a"].encode(), payload, None)])
    assert by_text == by_bytes and by_text
    assert p.process_records([(None, payload, None), ("umh.v1.t._raw.zzz", payload, None)]) == []
    assert p.metrics.dropped_missing_topic == 1 and p.metrics.dropped_unknown_topic == 1


@pytest.mark.parametrize("meta", [
    {"umh_topic": "t"}, {"a": "1", "umh_topic": "t"}, {"umh_topic": "t", "b": "é\"\n"},
    {"a": "", "umh_topic": "t", "b": "2", "c": "\u2028"},
])
def test_meta_fragments(meta):
    pre, post = meta_fragments(meta)
    line = b'{"payload":"' + pre + orjson.dumps("X") + post
    assert line == orjson.dumps({"payload": "", "meta": {**meta, "umh_topic": "X"}}) + b"\n"


@pytest.mark.parametrize("s", ["", "a\"b\\c", "é😀\n\t\x00\x1f", "\ud800x", "\u2028"])
def test_escaping_is_per_fragment(s):
    from runtime.encode import json_quote

    payload = b'{"value":' + json_quote(s) + b',"timestamp_ms":1}'
    assert orjson.dumps(payload.decode())[1:-1] == (
        escape_json_text(b'{"value":') + quoted_escaped(s) + escape_json_text(b',"timestamp_ms":1}'))


def test_build_is_linear_in_topics_and_mappings():
    """2,000 sources and 2,000 mappings: the old build (every topic against every mapping) took
    several seconds; a wide bound, since the machine is shared."""
    import time

    n = 2000
    config = {"output_topic": PREFIX, "model": {"name": "m", "version": "v1"},
              "sources": {f"a{k}": f"{PREFIX}._raw.t{k}" for k in range(n)},
              "mapping": {f"m{k}": f"a{k} + a{(k + 1) % n}" for k in range(n)}}
    started = time.perf_counter()
    p = StreamProcessor(config, log=RateLimitedLog(_QUIET))
    assert time.perf_counter() - started < 20
    out = p.process_batch([Message(b'{"value":%d,"timestamp_ms":1}' % k, {"umh_topic": f"{PREFIX}._raw.t{k}"})
                           for k in range(n)])
    # message k completes m(k-1) = a(k-1) + a(k); the last one also m(n-1) = a(n-1) + a0
    assert len(out) == n
    assert out[-1].payload == b'{"value":%d,"timestamp_ms":1}' % (n - 1)


def test_topics_of_one_structure_share_a_template_with_their_own_constants():
    """50 topics of the same structure: one compiled handler per writer, each copy bound to its
    own topic, output topic, mapping function and state (a wrong binding shows in the bytes)."""
    n = 50
    config = {"output_topic": PREFIX, "model": {"name": "m", "version": "v1"},
              "sources": {f"a{k}": f"{PREFIX}._raw.t{k}" for k in range(n)},
              "mapping": {f"m{k}": f"a{k} * {k + 1}" for k in range(n)}}
    p = StreamProcessor(config, log=RateLimitedLog(_QUIET))
    msgs = [Message(b'{"value":%d,"timestamp_ms":7}' % k, {"umh_topic": f"{PREFIX}._raw.t{k}", "x": str(k)})
            for k in reversed(range(n))]
    out = p.process_batch(msgs)
    assert [(m.meta, m.payload) for m in out] == [
        ({"umh_topic": f"{PREFIX}._m_v1.m{k}", "x": str(k)}, b'{"value":%d,"timestamp_ms":7}' % (k * (k + 1)))
        for k in reversed(range(n))]
    records = p.process_records([(m.meta["umh_topic"], m.payload, None) for m in msgs])
    assert [(t, v) for t, v, _ in records] == [(m.meta["umh_topic"], m.payload) for m in out]
    assert len(p._shapes) == 2  # the Message and the record writers' templates
    assert p.state() == {f"a{k}": float(k) for k in range(n)}


def test_meta_fragments_of_unhashable_values_are_not_cached():
    meta = {"a": ["x"], "umh_topic": "t"}
    for _ in range(2):
        pre, post = meta_fragments(meta)
        assert b'{"payload":"' + pre + b'"X"' + post == orjson.dumps(
            {"payload": "", "meta": {"a": ["x"], "umh_topic": "X"}}) + b"\n"
