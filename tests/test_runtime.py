"""The runtime against the behaviour contract (docs: /work/shared/reference/behaviour.md)."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import orjson
import pytest
import quickjs
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import runtime.config
from runtime import ConfigError, MappingInfo, Message, Metrics, StreamProcessor
from runtime.encode import json_quote, timestamp_suffix, value_bytes
from runtime.handwritten import make_handwritten
from runtime.logs import RateLimitedLog
from transpiler.jslib.numbers import number_to_string

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
BASE = "umh.v1.corpA.plant-A.aawd"
PRESS, TEMPF, RUN = BASE + "._raw.press", BASE + "._raw.tempF", BASE + "._raw.run"
OUT = BASE + "._pump_v1."
TS = 1764000000000
ENGINES = ("python", "quickjs")

PUMP = {
    "output_topic": BASE,
    "model": {"name": "pump", "version": "v1"},
    "sources": {"press": PRESS, "tF": TEMPF, "r": RUN},
    "mapping": {
        "pressure": "press+4.00001",
        "temperature": "tF*69/31",
        "motor": {"rpm": "press/4"},
        "status": 'r ? "active" : "inactive"',
        "serialNumber": '"SN-P42-008"',
        "deviceType": '"pump"',
    },
}

_JS = quickjs.Context()


def js(expr: str):
    """Evaluate a JavaScript expression in QuickJS (the reference engine)."""
    return _JS.eval(expr)


def js_payload(value_expr: str, ts: str | int = TS) -> bytes:
    """The payload QuickJS makes: JSON.stringify({value: <value_expr>, timestamp_ms: <ts>})."""
    return js(f"JSON.stringify({{value: ({value_expr}), timestamp_ms: {ts}}})").encode()


def msg(topic: str | None, payload: bytes | str | dict, **extra: str) -> Message:
    if isinstance(payload, dict):
        payload = orjson.dumps(payload)
    elif isinstance(payload, str):
        payload = payload.encode()
    meta = dict(extra)
    if topic is not None:
        meta["umh_topic"] = topic
    return Message(payload, meta)


def value_msg(topic: str, value, ts: int = TS) -> Message:
    return msg(topic, {"value": value, "timestamp_ms": ts})


def config(mapping: dict, sources: dict | None = None) -> dict:
    return {"output_topic": BASE, "model": {"name": "pump", "version": "v1"},
            "sources": sources or {"press": PRESS, "tF": TEMPF, "r": RUN}, "mapping": mapping}


def topics(outputs: list[Message]) -> list[str]:
    return [m.meta["umh_topic"].removeprefix(OUT) for m in outputs]


@pytest.fixture(params=ENGINES)
def engine(request) -> str:
    return request.param


# ---- basics
def test_message_is_slotted_and_comparable():
    m = Message(b"x", {"a": "b"})
    assert not hasattr(m, "__dict__")
    assert m == Message(b"x", {"a": "b"}) and m != Message(b"y", {"a": "b"})
    assert "payload=b'x'" in repr(m)


def test_pump_press_message(engine):
    p = StreamProcessor(PUMP, engine=engine)
    out = p.process(value_msg(PRESS, 25.5))
    # statics first (document order), then dynamic mappings depending on press (document order)
    assert topics(out) == ["serialNumber", "deviceType", "pressure", "motor.rpm"]
    assert [m.payload for m in out] == [
        js_payload('"SN-P42-008"'), js_payload('"pump"'), js_payload("25.5+4.00001"), js_payload("25.5/4"),
    ]
    assert out[2].payload == b'{"value":29.50001,"timestamp_ms":1764000000000}'


def test_pump_other_topics(engine):
    p = StreamProcessor(PUMP, engine=engine)
    out = p.process(value_msg(TEMPF, 160.8))
    assert topics(out) == ["serialNumber", "deviceType", "temperature"]
    assert out[2].payload == js_payload("160.8*69/31")
    out = p.process(value_msg(RUN, True))
    assert topics(out) == ["serialNumber", "deviceType", "status"]
    assert out[2].payload == js_payload('"active"')
    assert p.process(value_msg(RUN, 0))[2].payload == js_payload('"inactive"')


def test_handwritten_matches_processor():
    p = StreamProcessor(PUMP)
    hand = make_handwritten()
    messages = [value_msg(PRESS, 25.5), value_msg(TEMPF, 160.8), value_msg(RUN, 1.0),
                value_msg(PRESS, 31.25, 17)]
    for m in messages:
        assert hand(m) == p.process(m)
    for bad in [msg(None, b"x"), msg(BASE + "._raw.other", b"x"), msg(PRESS, b"invalid json")]:
        assert hand(bad) == p.process(bad) == []


# ---- steps 1-3
def test_missing_topic_dropped():
    p = StreamProcessor(PUMP)
    assert p.process(msg(None, {"value": 1.0, "timestamp_ms": TS}, other="x")) == []
    assert p.metrics.dropped_missing_topic == 1 and p.metrics.processed == 0


def test_unknown_topic_dropped_before_parsing(caplog):
    p = StreamProcessor(PUMP)
    with caplog.at_level(logging.DEBUG, logger="runtime"):
        assert p.process(msg(BASE + "._raw.unknown", b"not even json")) == []
    m = p.metrics
    assert m.dropped_unknown_topic == 1 and m.invalid == 0 and m.messages_in == 1
    assert caplog.records == []


INVALID_PAYLOADS = {
    "not JSON": b"invalid json",
    "empty": b"",
    "array": b"[1, 2]",
    "string": b'"x"',
    "null": b"null",
    "number": b"42",
    "missing timestamp_ms": b'{"value": 1}',
    "zero timestamp_ms": b'{"value": 1, "timestamp_ms": 0}',
    "negative zero timestamp_ms": b'{"value": 1, "timestamp_ms": -0}',
    "string timestamp_ms": b'{"value": 1, "timestamp_ms": "1764000000000"}',
    "fractional timestamp_ms": b'{"value": 1, "timestamp_ms": 1.5}',
    "fraction syntax timestamp_ms": b'{"value": 1, "timestamp_ms": 1764000000000.0}',
    "exponent timestamp_ms": b'{"value": 1, "timestamp_ms": 1.764e12}',
    "boolean timestamp_ms": b'{"value": 1, "timestamp_ms": true}',
    "null timestamp_ms": b'{"value": 1, "timestamp_ms": null}',
    "object timestamp_ms": b'{"value": 1, "timestamp_ms": {}}',
    "null value": b'{"value": null, "timestamp_ms": 1764000000000}',
    "missing value": b'{"timestamp_ms": 1764000000000}',
    "truncated": b'{"value": 1, "timestamp_ms": 17640',
    "NaN literal": b'{"value": NaN, "timestamp_ms": 1764000000000}',
    "invalid UTF-8": b'{"value": "\xff", "timestamp_ms": 1764000000000}',
}


@pytest.mark.parametrize("payload", INVALID_PAYLOADS.values(), ids=INVALID_PAYLOADS.keys())
def test_invalid_payloads(payload, caplog):
    p = StreamProcessor(PUMP)
    with caplog.at_level(logging.WARNING, logger="runtime"):
        assert p.process(msg(PRESS, payload)) == []
    assert p.metrics.invalid == 1 and p.metrics.processed == 0 and p.metrics.outputs == 0
    assert p.state() == {}
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith(f"invalid timeseries payload on {PRESS}: ")
    assert '"timestamp_ms"' in record.getMessage() and record.getMessage().endswith("skipping")


@pytest.mark.parametrize("ts", [-1, -1764000000000, 1, 2**53, 2**53 + 1, 2**63 - 1, 2**64 + 1, 10**25,
                                -(10**30)])
def test_valid_unusual_timestamps(ts):
    p = StreamProcessor(config({"x": "press"}))
    [out] = p.process(msg(PRESS, b'{"value": 1, "timestamp_ms": %d}' % ts))
    assert out.payload == js_payload("1", ts)


def test_extra_fields_ignored():
    p = StreamProcessor(config({"x": "press"}))
    [out] = p.process(msg(PRESS, b'{"quality": "good", "value": 2, "timestamp_ms": 5, "unit": "bar"}'))
    assert out.payload == b'{"value":2,"timestamp_ms":5}'


# ---- step 4: values
JSON_VALUES = [
    "25.5", "26", "-0", "0", "1e21", "1e-7", "123456789012345678901234567890", "9007199254740993",
    "1e400", "-1e400", "0.1", "5e-324", '"text"', '""', '"caf\\u00e9 \\ud83d\\ude00"', '"\\ud800 lone"',
    "true", "false", "[]", "[1, 2.5, \"a\", null, [true, {}]]", '{"b": 1, "2": 2, "1": {"x": [3]}}', "{}",
]


@pytest.mark.parametrize("value", JSON_VALUES)
def test_values_of_every_json_type(value, engine):
    p = StreamProcessor(config({"same": "press", "kind": "typeof press"}), engine=engine)
    out = p.process(msg(PRESS, '{"value": ' + value + ', "timestamp_ms": 7}'))
    expected = js(f"JSON.stringify({{value: JSON.parse({json.dumps(value)}), timestamp_ms: 7}})")
    if value in ("1e400", "-1e400"):  # JSON.parse gives +-Infinity: no output for `same`
        assert topics(out) == ["kind"]
        assert out[0].payload == b'{"value":"number","timestamp_ms":7}'
        return
    assert out[0].payload == expected.encode()
    assert out[1].payload == js_payload(f"typeof JSON.parse({json.dumps(value)})", 7)


def test_large_integers_round_like_javascript():
    p = StreamProcessor(config({"x": "press", "odd": "press % 2"}))
    out = p.process(msg(PRESS, b'{"value": 9007199254740993, "timestamp_ms": 1}'))
    assert out[0].payload == b'{"value":9007199254740992,"timestamp_ms":1}'
    assert out[1].payload == b'{"value":0,"timestamp_ms":1}'


def test_state_keeps_latest_value():
    p = StreamProcessor(PUMP)
    p.process(value_msg(PRESS, 1.0))
    p.process(value_msg(PRESS, 2))
    p.process(msg(PRESS, b"broken"))
    assert p.state() == {"press": 2.0}
    assert p.state()["press"].__class__ is float


# ---- step 5: order, aliases, waiting
def test_document_order_statics_first(engine):
    p = StreamProcessor(config({"a": "press + 1", "b": '"B"', "c": {"d": "press * 2", "e": "Math.PI"},
                                "f": "press - 1", "g": "tF"}), engine=engine)
    out = p.process(value_msg(PRESS, 10.0))
    assert topics(out) == ["b", "c.e", "a", "c.d", "f"]
    assert [m.payload for m in out] == [js_payload(x) for x in ['"B"', "Math.PI", "11", "20", "9"]]


def test_several_aliases_of_one_topic(engine):
    sources = {"a": PRESS, "b": PRESS, "t": TEMPF}
    mapping = {"x": "a + 1", "y": "b * 2", "z": "a + b", "w": "t + a"}
    p = StreamProcessor(config(mapping, sources), engine=engine)
    out = p.process(value_msg(PRESS, 3.0))
    assert topics(out) == ["x", "y", "z"]
    assert p.state() == {"a": 3.0, "b": 3.0}
    out = p.process(value_msg(TEMPF, 4.0))
    assert topics(out) == ["w"] and out[0].payload == js_payload("7")


def test_waiting_for_dependencies(caplog):
    p = StreamProcessor(config({"sum": "press + tF", "rpm": "press / 4"}))
    with caplog.at_level(logging.DEBUG, logger="runtime"):
        out = p.process(value_msg(PRESS, 8.0))
    assert topics(out) == ["rpm"]
    assert p.metrics.waiting == 1 and p.metrics.mapping_errors == 0
    assert any(r.levelno == logging.DEBUG and r.getMessage() == "cannot evaluate 'sum' yet: waiting for 'tF'"
               for r in caplog.records)
    assert not any(r.levelno >= logging.WARNING for r in caplog.records)
    out = p.process(value_msg(TEMPF, 2.0))
    assert topics(out) == ["sum"] and out[0].payload == js_payload("10")
    out = p.process(value_msg(PRESS, 4.0))
    assert topics(out) == ["sum", "rpm"]
    assert out[0].payload == js_payload("6") and out[1].payload == js_payload("1")
    # a message on run touches neither mapping
    assert p.process(value_msg(RUN, True)) == []
    assert p.metrics.waiting == 1


def test_static_outputs_on_every_source_topic():
    p = StreamProcessor(config({"k": '"K"'}))
    for t in (PRESS, TEMPF, RUN):
        assert topics(p.process(value_msg(t, 1.0))) == ["k"]


# ---- step 6: failures
@pytest.mark.parametrize("expr,what", [
    ("press / 0", "Infinity"), ("-press / 0", "-Infinity"), ("press * NaN", "NaN"),
    ("press ? undefined : 1", "undefined"), ("press ? null : 1", "null"),
    ("press ? Math.sqrt : 1", "function"), ("[press][5]", "undefined"),
])
def test_results_without_output(expr, what, engine, caplog):
    p = StreamProcessor(config({"ok1": "press + 1", "bad": expr, "ok2": "press * 3"}), engine=engine)
    with caplog.at_level(logging.WARNING, logger="runtime"):
        out = p.process(value_msg(PRESS, 2.0))
    assert topics(out) == ["ok1", "ok2"]
    assert p.metrics.mapping_errors == 1 and p.metrics.outputs == 2
    [record] = caplog.records
    assert record.getMessage().startswith(f"mapping 'bad' ({expr}) failed: ")
    assert what in record.getMessage() and record.getMessage().endswith("no output for it")


def test_throwing_mapping_does_not_affect_others(engine, caplog):
    p = StreamProcessor(config({"a": "press + 1", "bad": "press.foo.bar", "c": "press * 2", "s": '"S"'}),
                        engine=engine)
    with caplog.at_level(logging.WARNING, logger="runtime"):
        out = p.process(value_msg(PRESS, 2.0))
    assert topics(out) == ["s", "a", "c"]
    [record] = caplog.records
    assert record.getMessage().startswith("mapping 'bad' (press.foo.bar) failed: TypeError: ")
    assert record.getMessage().endswith("; no output for it")
    assert p.metrics.mapping_errors == 1


def test_failure_log_is_rate_limited(caplog):
    clock = [100.0]
    log = RateLimitedLog(interval=10.0, clock=lambda: clock[0])
    p = StreamProcessor(config({"bad": "press.foo.bar", "ok": "press"}), log=log)
    with caplog.at_level(logging.WARNING, logger="runtime"):
        for _ in range(50):
            assert len(p.process(value_msg(PRESS, 1.0))) == 1
        assert len(caplog.records) == 1
        clock[0] += 11
        p.process(value_msg(PRESS, 1.0))
        assert len(caplog.records) == 2
        assert "(49 similar messages suppressed in the last 11s)" in caplog.records[1].getMessage()
        p.process(value_msg(PRESS, 1.0))
        p.flush_log()
        assert len(caplog.records) == 3 and "(1 similar message suppressed)" in caplog.records[2].getMessage()
    assert p.metrics.mapping_errors == 52


def test_invalid_log_is_rate_limited(caplog):
    p = StreamProcessor(PUMP)
    with caplog.at_level(logging.WARNING, logger="runtime"):
        for _ in range(20):
            p.process(msg(PRESS, b"junk"))
        p.process(msg(TEMPF, b"junk"))
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [
        f"invalid timeseries payload on {PRESS}", f"invalid timeseries payload on {TEMPF}"]
    assert p.metrics.invalid == 21


def test_failing_pure_static_is_a_load_error():
    # evaluated once at load: a static that cannot be output never could (see test_strict_config)
    with pytest.raises(ConfigError) as e:
        StreamProcessor(config({"u": "undefined", "k": "1 + 1"}))
    assert e.value.errors == ["mapping 'u' (undefined): its value is undefined; a static mapping is "
                              "evaluated once, so it can never produce output"]


# ---- step 7: payload bytes and metadata
@pytest.mark.parametrize("expr", [
    "26", "press * 0 + 26", "1e21", "1e21 + press", "-0", "press * -0", "0.1 + 0.2", "1e-7", "123e-20",
    "2**53", "1e16", "123456789.125", "-1.5e-5", "5e-324", "1.7976931348623157e308",
    '"caf\u00e9 \U0001f600"', '"quote \\" backslash \\\\ nl \\n tab \\t ctrl \\u0001 del \\u007f"',
    '"\\u2028\\u2029"', '"\\ud800"', '"a\\udc00b"', '"\\ud83d\\ude00"', "String.fromCharCode(0xD800 + press)",
    "true", "press > 1", "[1, 'a', null, undefined, NaN, [2]]", "({b: 1, a: [press], u: undefined, n: -0})",
    "({2: 'x', 1: 'y', z: 0})", "[Math.sqrt]", "''",
])
def test_payload_bytes_match_javascript(expr, engine):
    p = StreamProcessor(config({"x": expr}), engine=engine)
    out = p.process(value_msg(PRESS, 2.0))
    assert len(out) == 1, expr
    assert out[0].payload == js_payload(expr.replace("press", "2"))


def test_metadata_copied_with_topic_replaced():
    p = StreamProcessor(PUMP)
    inp = value_msg(PRESS, 1.5)
    inp.meta.update({"kafka_key": "k", "z": "last"})
    before = dict(inp.meta)
    out = p.process(inp)
    assert inp.meta == before
    for m, path in zip(out, ["serialNumber", "deviceType", "pressure", "motor.rpm"]):
        assert m.meta == {"umh_topic": OUT + path, "kafka_key": "k", "z": "last"}
        assert list(m.meta) == ["umh_topic", "kafka_key", "z"]
    assert len({id(m.meta) for m in out}) == len(out)


def test_output_topic_format():
    cfg = config({"a": {"b": {"c": "press"}}})
    cfg["model"] = {"name": "energy", "version": 3}
    [out] = StreamProcessor(cfg).process(value_msg(PRESS, 1.0))
    assert out.meta["umh_topic"] == BASE + "._energy_3.a.b.c"


# ---- statics: pure once, impure per message
def test_pure_static_computed_once(monkeypatch):
    calls = {}
    real = runtime.config.compile_expression

    def counting(source, variables=(), **kw):
        compiled = real(source, variables, **kw)
        fn = compiled.fn

        def wrapped(*args):
            calls[source] = calls.get(source, 0) + 1
            return fn(*args)

        compiled.fn = wrapped
        return compiled

    monkeypatch.setattr(runtime.config, "compile_expression", counting)
    p = StreamProcessor(config({"k": "Math.PI * 2", "d": "press + 1"}))
    for i in range(5):
        out = p.process(value_msg(PRESS, float(i)))
        assert out[0].payload == js_payload("Math.PI * 2")
    assert calls == {"Math.PI * 2": 1, "press + 1": 5}


@pytest.mark.parametrize("expr", ["Date.now()", "Math.random()"])
def test_impure_static_evaluated_every_message(expr, engine):
    p = StreamProcessor(config({"v": expr}), engine=engine)
    [info] = p.describe()
    assert info.kind == "static" and info.pure is False
    values = set()
    for _ in range(3):
        [out] = p.process(value_msg(PRESS, 1.0))
        values.add(json.loads(out.payload)["value"])
        time.sleep(0.003)
    assert len(values) == 3


def test_date_now_is_current_time():
    p = StreamProcessor(config({"now": "Date.now()", "later": "press + Date.now()"}))
    before = time.time() * 1000
    out = p.process(value_msg(PRESS, 1000.0))
    after = time.time() * 1000
    now = json.loads(out[0].payload)["value"]
    assert before - 1 <= now <= after + 1
    assert before + 999 <= json.loads(out[1].payload)["value"] <= after + 1001


# ---- configuration
def test_config_errors_reported_all_at_once():
    bad = {
        "mode": "batch",
        "model": {"name": "pump"},
        "sources": {"press": PRESS, "1abc": TEMPF, "Math": RUN, "class": RUN, "ok": 5},
        "mapping": {
            "x": "foo + press",
            "syntax": "press +",
            "stmt": "var a = 1",
            "blocked": "eval('1')",
            "nested": {"empty": None, "list": [1, 2]},
            "fine": "press * 2",
        },
        "extra": 1,
    }
    with pytest.raises(ConfigError) as info:
        StreamProcessor(bad)
    errors = info.value.errors
    text = "\n".join(errors)
    assert "mode: unknown mode 'batch' (expected 'timeseries')" in errors
    assert "output_topic: missing" in errors
    assert "model.version: missing" in errors
    assert "sources.1abc: alias must be a valid JavaScript identifier" in errors
    assert any(e.startswith("sources.Math: ") for e in errors)
    assert any(e.startswith("sources.class: ") for e in errors)
    assert any(e.startswith("sources.ok: topic must be") for e in errors)
    assert any(e.startswith("mapping 'x' (foo + press): ") and "unknown identifier 'foo'" in e
               for e in errors)
    assert any(e.startswith("mapping 'syntax' ") for e in errors)
    assert any(e.startswith("mapping 'stmt' ") for e in errors)
    assert any(e.startswith("mapping 'blocked' ") and "eval" in e for e in errors)
    assert "mapping 'nested.empty': missing expression" in errors
    assert any(e.startswith("mapping 'nested.list': ") for e in errors)
    assert any(e.startswith("extra: unknown field") for e in errors)
    assert "fine" not in text
    assert isinstance(info.value, ValueError) and "problems" in str(info.value)


def test_unknown_identifier_message_lists_sources():
    with pytest.raises(ConfigError) as info:
        StreamProcessor(config({"x": "foo + 1"}))
    [error] = info.value.errors
    assert error.startswith("mapping 'x' (foo + 1): ") and "unknown identifier 'foo'" in error
    assert "press, tF, r" in error


@pytest.mark.parametrize("cfg,error", [
    ({}, "sources: missing (at least one source is required)"),
    ({"sources": {}}, "sources: at least one source is required"),
    ({"model": None}, "model.name: missing"),
    ({"output_topic": ""}, "output_topic: must be a non-empty string"),
])
def test_required_fields(cfg, error):
    with pytest.raises(ConfigError) as info:
        StreamProcessor(cfg)
    assert error in info.value.errors


def test_not_a_mapping():
    with pytest.raises(ConfigError) as info:
        StreamProcessor(["x"])  # type: ignore[arg-type]
    assert info.value.errors == ["configuration: expected a mapping, got a list"]


def test_mode_timeseries_accepted_and_mapping_optional():
    cfg = config({})
    cfg["mode"] = "timeseries"
    del cfg["mapping"]
    p = StreamProcessor(cfg)
    assert p.process(value_msg(PRESS, 1.0)) == [] and p.metrics.processed == 1


def test_yaml_scalars_as_expressions():
    p = StreamProcessor(config({"five": 5, "yes": True, "no": False, "half": 2.5, "big": 1e21}))
    out = p.process(value_msg(PRESS, 1.0))
    assert [m.payload for m in out] == [js_payload(x) for x in ["5", "true", "false", "2.5", "1e21"]]
    assert [i.expression for i in p.describe()] == ["5", "true", "false", "2.5", "1e+21"]


def test_from_yaml(tmp_path):
    p = StreamProcessor.from_yaml(EXAMPLES / "pump.yaml")
    assert p.spec.sources == PUMP["sources"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        StreamProcessor.from_yaml(bad)
    assert "YAML syntax error" in info.value.errors[0]
    with pytest.raises(OSError):
        StreamProcessor.from_yaml(tmp_path / "missing.yaml")


def test_pump_example_is_the_benchmark_configuration():
    assert yaml.safe_load((EXAMPLES / "pump.yaml").read_text()) == PUMP


def test_describe(engine):
    p = StreamProcessor(config({"a": "press + tF", "b": '"x"', "c": "Date.now()"}), engine=engine)
    rows = p.describe()
    assert all(isinstance(r, MappingInfo) for r in rows)
    assert [(r.path, r.kind, r.pure, r.dependencies) for r in rows] == [
        ("a", "dynamic", True, ("press", "tF")), ("b", "static", True, ()), ("c", "static", False, ())]
    assert rows[0].as_dict()["output_topic"] == OUT + "a"
    assert rows[0].engine == engine


def test_bad_engine_option():
    with pytest.raises(ValueError):
        StreamProcessor(PUMP, engine="v8")


# ---- batches and metrics
def test_process_batch_equals_sequential_process():
    msgs = [value_msg([PRESS, TEMPF, RUN][i % 3], 25.5 + i, TS + i) for i in range(30)]
    msgs += [msg(None, b"x"), msg(PRESS, b"bad"), msg("foreign", b"x")]
    a, b = StreamProcessor(PUMP), StreamProcessor(PUMP)
    expected = [o for m in msgs for o in a.process(m)]
    assert b.process_batch(iter(msgs)) == expected
    assert a.metrics == b.metrics
    assert b.process_batch([]) == []


def test_metrics():
    p = StreamProcessor(config({"a": "press + tF", "b": "press.x.y", "c": "press"}))
    p.process(value_msg(PRESS, 1.0))  # a waits, b fails, c outputs
    p.process(msg(None, b"x"))
    p.process(msg("other", b"x"))
    p.process(msg(PRESS, b"[]"))
    p.process(value_msg(TEMPF, 1.0))  # a outputs
    m = p.metrics
    assert isinstance(m, Metrics)
    assert m.as_dict() == {"messages_in": 5, "processed": 2, "dropped_missing_topic": 1,
                           "dropped_unknown_topic": 1, "invalid": 1, "outputs": 2, "mapping_errors": 1,
                           "waiting": 1}


# ---- engines agree on the examples
def _example_messages(name: str) -> list[Message]:
    messages = []
    for line in (EXAMPLES / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        payload = obj["payload"]
        data = payload.encode() if isinstance(payload, str) else orjson.dumps(payload)
        messages.append(Message(data, obj["meta"]))
    return messages


@pytest.mark.parametrize("name", ["pump", "boiler"])
def test_engines_byte_identical_on_examples(name):
    messages = _example_messages(name)
    results = {}
    for eng in ENGINES:
        p = StreamProcessor.from_yaml(EXAMPLES / f"{name}.yaml", engine=eng)
        results[eng] = [(m.payload, m.meta) for m in p.process_batch(messages)]
        assert all(info.engine == eng for info in p.describe())
    assert len(results["python"]) > 100
    assert results["python"] == results["quickjs"]


def test_boiler_example_outputs():
    p = StreamProcessor.from_yaml(EXAMPLES / "boiler.yaml")
    out = p.process_batch(_example_messages("boiler"))
    paths = {m.meta["umh_topic"].split("._boiler_v2.")[1] for m in out}
    assert paths == {"assetId", "ratedOutputKw", "efficiency.percent", "efficiency.rounded",
                     "efficiency.status", "flueLossPercent", "fuelKw", "label", "alarm", "summary"}
    assert p.metrics.mapping_errors > 0  # the burner trip: efficiency divides by zero
    assert all(m.meta["plant"] == "hamburg" for m in out)


# ---- encoders against QuickJS (numbers against V8: QuickJS's Number::toString is not always
# the shortest, see conformance/quickjs_deviations.py)
@settings(max_examples=500, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_number_text_matches_javascript(x):
    from conformance.node import shared

    text, payload = shared().run_programs([f"__run(() => String({x!r}))",
                                           f"__run(() => JSON.stringify({x!r}))"])
    assert number_to_string(x) == text["ok"]
    assert value_bytes(x) == payload["ok"].encode()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())))
def test_json_quote_matches_javascript(s):
    literal = json.dumps(s, ensure_ascii=True)  # \uXXXX for everything, lone surrogates included
    assert json_quote(s) == js(f"JSON.stringify(JSON.parse({json.dumps(literal)}))").encode()


def test_timestamp_suffix():
    assert timestamp_suffix(5) == b',"timestamp_ms":5}'
    assert timestamp_suffix(2**53 + 1) == b',"timestamp_ms":9007199254740992}'
    assert timestamp_suffix(10**21) == b',"timestamp_ms":1e+21}'
    assert timestamp_suffix(10**400) == b',"timestamp_ms":null}'


# ---- bounded evaluation, value isolation, mixed engines
def test_time_limit_fails_only_that_mapping(caplog):
    from transpiler.quickjs_engine import QuickJSLimits

    cfg = config({"slow": "Array.from({length: 1e9}, (x, i) => i).length + press", "ok": "press + 1"})
    p = StreamProcessor(cfg, limits=QuickJSLimits(time_limit=0.2))
    assert p.describe()[0].engine == "quickjs"  # auto: what the python engine lacks runs in QuickJS
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="runtime"):
        out = p.process(value_msg(PRESS, 1.0))
    assert time.perf_counter() - started < 5
    assert topics(out) == ["ok"] and p.metrics.mapping_errors == 1
    assert "mapping 'slow' (" in caplog.records[0].getMessage()
    assert topics(p.process(value_msg(PRESS, 2.0))) == ["ok"]  # and the processor keeps working


def test_mutating_methods_do_not_change_state():
    p = StreamProcessor(config({"a": "press.reverse()[0]", "b": "press[0]", "c": "press.push(9)",
                                "d": "press.length"}))
    for _ in range(2):
        out = p.process(msg(PRESS, b'{"value": [1, 2, 3], "timestamp_ms": 1}'))
        assert [m.payload for m in out] == [js_payload(x, 1) for x in ["3", "1", "4", "3"]]
    assert p.state() == {"press": [1.0, 2.0, 3.0]}


def test_odd_characters_in_topics_and_paths_are_refused_and_generated_names_are_data():
    weird = "umh.v1.x'\"\\\n}.press"
    cfg = {"output_topic": "o'\"", "model": {"name": "m\\", "version": "v\n"},
           "sources": {"s0": weird, "loads": weird},
           "mapping": {"a'b": "s0 + 1", 'c"d': {"e\\": '"x"'}}}
    with pytest.raises(ConfigError) as e:
        StreamProcessor(cfg)
    fields = sorted(err.split(":")[0] for err in e.value.errors)
    assert fields == ["mapping 'a'b'", "mapping 'c\"d'", "model.name", "model.version", "output_topic",
                      "sources.loads", "sources.s0"], e.value.errors
    topic = "umh.v1.x._raw.press"
    cfg = {"output_topic": "umh.v1.o", "model": {"name": "m", "version": "v1"},  # aliases named like
           "sources": {"s0": topic, "loads": topic, "out": topic, "meta": topic},  # generated code's names
           "mapping": {"ab": "s0 + loads + out + meta", "cd": {"e": '"x"'}}}
    p = StreamProcessor(cfg)
    out = p.process(value_msg(topic, 1.0))
    assert [m.meta["umh_topic"] for m in out] == ["umh.v1.o._m_v1.cd.e", "umh.v1.o._m_v1.ab"]
    assert [m.payload for m in out] == [js_payload('"x"'), js_payload("4")]


def test_whitespace_before_the_object_is_valid_json():
    p = StreamProcessor(config({"x": "press"}))
    [out] = p.process(msg(PRESS, b' \r\n\t{"value": 1, "timestamp_ms": 2}  '))
    assert out.payload == b'{"value":1,"timestamp_ms":2}'


def test_process_batch_restores_the_garbage_collector_state():
    import gc

    p = StreamProcessor(PUMP)
    batch = [msg(PRESS, b'{"value": 1.5, "timestamp_ms": 7}')] * 3
    assert gc.isenabled()
    assert len(p.process_batch(batch)) == 12 and gc.isenabled()
    gc.disable()
    try:
        p.process_batch(batch)
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert p.process_batch([object()]) == []  # not a Message: counted as invalid
    assert p.metrics.invalid == 1 and gc.isenabled()

    def failing():
        yield batch[0]
        raise OSError("the caller's iterable failed")

    with pytest.raises(OSError):
        p.process_batch(failing())  # not a message's fault: propagates, the GC is back on
    assert gc.isenabled()


# ---- BigInt results: JSON.stringify throws a TypeError for a BigInt, so no output -------------

BIGINT_RESULTS = ["2n ** 64n + 1n + BigInt(press)", "BigInt(press)", "[press, 1n]",
                  "({a: {b: [BigInt(press)]}})", "[press, {c: 2n ** 70n}]"]


@pytest.mark.parametrize("engine", ["auto", "quickjs"])
@pytest.mark.parametrize("expr", BIGINT_RESULTS)
def test_a_bigint_result_is_a_mapping_error_on_every_path(engine, expr, caplog):
    with pytest.raises(quickjs.JSException, match="^TypeError: "):  # the oracle throws too
        js(f"JSON.stringify({{value: ({expr.replace('press', '3')}), timestamp_ms: {TS}}})")
    cfg = config({"b": expr, "ok": "press + 1"})
    payload = orjson.dumps({"value": 3, "timestamp_ms": TS})
    expected = js_payload("3 + 1")
    p = StreamProcessor(cfg, engine=engine)
    with caplog.at_level(logging.WARNING, logger="runtime"):
        out = p.process(Message(payload, {"umh_topic": PRESS}))
    assert [(m.meta["umh_topic"], m.payload) for m in out] == [(OUT + "ok", expected)]
    assert f"mapping 'b' ({expr}) failed: TypeError: Do not know how to serialize a BigInt" in caplog.text
    assert p.metrics.mapping_errors == 1
    p = StreamProcessor(cfg, engine=engine)
    assert p.process_records([(PRESS, payload, None)]) == [(OUT + "ok", expected, None)]
    assert p.metrics.mapping_errors == 1
    p = StreamProcessor(cfg, engine=engine)
    lines = b"".join(p.write_json_lines([(payload, {"umh_topic": PRESS})])).splitlines()
    assert [orjson.loads(x) for x in lines] == [
        {"payload": expected.decode(), "meta": {"umh_topic": OUT + "ok"}}]
    assert p.metrics.mapping_errors == 1


@pytest.mark.parametrize("engine", ["auto", "quickjs"])
@pytest.mark.parametrize("expr", ["1n", "[1, {a: 2n}]", "2n ** 64n + 1n"])
def test_a_static_bigint_is_refused_at_load(engine, expr):
    with pytest.raises(ConfigError) as info:
        StreamProcessor(config({"s": expr, "ok": "press + 1"}), engine=engine)
    assert f"mapping 's' ({expr}): " in str(info.value)
    assert "TypeError: Do not know how to serialize a BigInt" in str(info.value)
    assert "never produce output" in str(info.value)


@pytest.mark.parametrize("v", [1, -(2**64), [1.0, 2], {"a": [0]}, [{"b": {"c": 10**30}}]])
def test_value_bytes_refuses_a_bigint_anywhere(v):
    with pytest.raises(Exception) as info:  # noqa: PT011 - the JSError is checked below
        value_bytes(v)
    assert (info.value.name, info.value.message) == ("TypeError", "Do not know how to serialize a BigInt")
