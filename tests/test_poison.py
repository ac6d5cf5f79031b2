"""Nothing a message contains stops the stream: poison payloads, library misuse, warnings that
say what happened, the silent-source warning, and the CLI's robustness (issue 13)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from runtime import Message, StreamProcessor
from runtime.cli import main
from runtime.logs import RateLimitedLog, shorten
from runtime.message import trusted_message
from runtime.payload import MAX_DEPTH
from runtime.watch import DONE, SourceWatch

ROOT = Path(__file__).resolve().parent.parent
PUMP_YAML = ROOT / "examples" / "pump.yaml"
BASE = "umh.v1.corpA.plant-A.aawd"
PRESS, TEMPF, RUN = BASE + "._raw.press", BASE + "._raw.tempF", BASE + "._raw.run"
OUT = BASE + "._pump_v1."


def pump() -> StreamProcessor:
    return StreamProcessor.from_yaml(PUMP_YAML)


def good(value: float = 2.0, ts: int = 5) -> Message:
    return Message(b'{"value":%s,"timestamp_ms":%d}' % (repr(value).encode(), ts), {"umh_topic": PRESS})


def nested(depth: int) -> bytes:
    return b'{"value":' + b"[" * depth + b"1" + b"]" * depth + b',"timestamp_ms":5}'


def balanced(p: StreamProcessor) -> bool:
    m = p.metrics
    return m.messages_in == m.processed + m.dropped_missing_topic + m.dropped_unknown_topic + m.invalid


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(x for x in sys.path if x)}


# ---- a deeply nested value: invalid with its reason, the batch goes on
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 450, 1023])
def test_deep_value_is_invalid_and_the_batch_goes_on(depth, caplog):
    p = pump()
    poison = Message(nested(depth), {"umh_topic": PRESS})
    with caplog.at_level(logging.WARNING, logger="runtime"):
        out = p.process_batch([good(2.0), poison, good(4.0)])
    assert [m.payload for m in out if m.meta["umh_topic"] == OUT + "pressure"] == [
        b'{"value":6.00001,"timestamp_ms":5}', b'{"value":8.00001,"timestamp_ms":5}']
    m = p.metrics
    assert (m.messages_in, m.processed, m.invalid) == (3, 2, 1) and balanced(p)
    assert p.state()["press"] == 4.0
    [warning] = [r.getMessage() for r in caplog.records]
    assert PRESS in warning and f"nested more than {MAX_DEPTH} levels" in warning
    assert p.process(poison) == [] and p.metrics.invalid == 2


def test_deepest_allowed_value_is_processed_like_javascript():
    p = StreamProcessor({"output_topic": BASE, "model": {"name": "m", "version": "v1"},
                         "sources": {"v": PRESS}, "mapping": {"s": "JSON.stringify(v)", "n": "String(v)"}})
    [s, n] = p.process(Message(nested(MAX_DEPTH), {"umh_topic": PRESS}))
    text = "[" * MAX_DEPTH + "1" + "]" * MAX_DEPTH
    assert orjson.loads(s.payload)["value"] == text
    assert orjson.loads(n.payload)["value"] == "1"


def test_deep_value_through_the_cli(tmp_path):
    lines = [{"payload": '{"value":2,"timestamp_ms":5}', "meta": {"umh_topic": PRESS}},
             {"payload": nested(700).decode(), "meta": {"umh_topic": PRESS}},
             {"payload": '{"value":4,"timestamp_ms":6}', "meta": {"umh_topic": PRESS}}]
    r = subprocess.run([sys.executable, "-m", "runtime", "run", str(PUMP_YAML), "--stats"], env=env(),
                       input=b"\n".join(orjson.dumps(x) for x in lines), capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    outs = [orjson.loads(x) for x in r.stdout.splitlines()]
    pressure = [o["payload"] for o in outs if o["meta"]["umh_topic"] == OUT + "pressure"]
    assert pressure == ['{"value":6.00001,"timestamp_ms":5}', '{"value":8.00001,"timestamp_ms":6}']
    err = r.stderr.decode()
    assert "stats: invalid: 1" in err and "stats: processed: 2" in err and "nested more than" in err


def test_a_payload_object_too_deep_to_write_back_is_a_bad_line():
    # 300 levels: orjson reads up to 1024 but writes at most 255
    deep = (b'{"payload": {"value": ' + b"[" * 300 + b"]" * 300 + b', "timestamp_ms": 1}, '
            b'"meta": {"umh_topic": "' + PRESS.encode() + b'"}}')
    good_line = orjson.dumps({"payload": {"value": 4, "timestamp_ms": 6}, "meta": {"umh_topic": PRESS}})
    r = subprocess.run([sys.executable, "-m", "runtime", "run", str(PUMP_YAML), "--stats"], env=env(),
                       input=deep + b"\n" + good_line + b"\n", capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 4  # the good line's outputs
    err = r.stderr.decode()
    assert "input line 1: \"payload\" cannot be written back as JSON" in err and "bad_input_lines: 1" in err


# ---- the library API validates its inputs
def test_message_str_payload_is_utf8():
    m = Message('{"value":"é","timestamp_ms":5}', {"umh_topic": PRESS})
    assert m.payload == '{"value":"é","timestamp_ms":5}'.encode()
    assert pump().process(m)[2].payload == '{"value":"é4.00001","timestamp_ms":5}'.encode()


@pytest.mark.parametrize("payload,meta,words", [
    ({"value": 1}, {"umh_topic": PRESS}, ("payload", "bytes", "dict")),
    (12, {"umh_topic": PRESS}, ("payload", "bytes", "int")),
    (None, {"umh_topic": PRESS}, ("payload", "bytes", "NoneType")),
    (b"{}", None, ("meta", "dict of str", "NoneType")),
    (b"{}", [("umh_topic", PRESS)], ("meta", "dict of str", "list")),
    (b"{}", {"umh_topic": ["a", "b"]}, ("meta", "value of 'umh_topic'", "list", "['a', 'b']")),
    (b"{}", {"umh_topic": PRESS, "n": 5}, ("meta", "value of 'n'", "int 5")),
    (b"{}", {1: PRESS}, ("meta", "key", "int 1")),
    (b"{}", {"umh_topic": PRESS, "s": "a\udc80"}, ("meta", "value of 's'", "lone surrogate", "index 1")),
    (b"{}", {"umh_topic": PRESS, "\ud800": "x"}, ("meta", "key", "lone surrogate", "index 0")),
])
def test_message_refuses_what_is_not_bytes_and_str_meta(payload, meta, words):
    with pytest.raises(TypeError) as e:
        Message(payload, meta)
    for w in words:
        assert w in str(e.value), (w, str(e.value))


@pytest.mark.parametrize("bad", [
    object(), None, trusted_message(b"{}", None), trusted_message(b"{}", {"umh_topic": ["x"]}),  # type: ignore[arg-type]
    trusted_message(None, {"umh_topic": PRESS}),  # type: ignore[arg-type]
    trusted_message(b"{}", {"umh_topic": {"a": 1}}),  # type: ignore[dict-item]
])
def test_misused_messages_never_escape(bad, caplog):
    p = pump()
    with caplog.at_level(logging.WARNING, logger="runtime"):
        assert p.process(bad) == []
        assert len(p.process_batch([good(), bad, good()])) == 8
    m = p.metrics
    assert (m.messages_in, m.invalid, m.processed) == (4, 2, 2) and balanced(p)
    assert caplog.records and "invalid message" in caplog.records[0].getMessage()


def test_message_mutated_after_construction_is_counted_invalid(caplog):
    m = good()
    m.meta["umh_topic"] = ["unhashable"]  # type: ignore[assignment]
    p = pump()
    with caplog.at_level(logging.WARNING, logger="runtime"):
        assert p.process(m) == []
    assert p.metrics.invalid == 1
    assert "umh_topic is list ['unhashable'], not a str" in caplog.records[0].getMessage()


# ---- warnings: per (topic, kind), naming the field and the value, shortened
def test_each_kind_of_invalid_payload_shows_under_a_flood(caplog):
    p = pump()
    batch = []
    for i in range(1500):
        batch.append(Message(b"not json %d" % i, {"umh_topic": PRESS}))
        batch.append(Message(b'{"value":null,"timestamp_ms":5}', {"umh_topic": PRESS}))
        batch.append(Message(b'{"value":1,"timestamp_ms":1.5}', {"umh_topic": PRESS}))
        batch.append(Message(b'{"value":1', {"umh_topic": PRESS}))
    with caplog.at_level(logging.WARNING, logger="runtime"):
        assert p.process_batch(batch) == []
        p.flush_log()
    text = [r.getMessage() for r in caplog.records]
    assert any("not valid JSON" in t and "payload 'not json 0'" in t for t in text)
    assert any('"value" is null' in t for t in text)
    assert any('"timestamp_ms" must be a JSON integer, got the fractional number 1.5' in t for t in text)
    assert any("not valid JSON" in t and "payload '{\"value\":1'" in t for t in text)
    # the first of each kind, then one summary per kind: nothing else
    assert len(text) == 8, text
    assert p.metrics.invalid == 6000 and balanced(p)


def test_warning_shows_a_shortened_payload(caplog):
    p = pump()
    with caplog.at_level(logging.WARNING, logger="runtime"):
        p.process(Message(b"{" + b"x" * 100_000, {"umh_topic": PRESS}))
    [text] = [r.getMessage() for r in caplog.records]
    assert "payload '{xxxxxxx" in text and "(100,001 bytes)" in text and len(text) < 400


def test_shorten():
    assert shorten("abc") == "'abc'"
    assert shorten(b"\xff{") == "'\\\\xff{'"
    long = shorten("y" * 1000, 20)
    assert long.startswith("'yyyy") and long.endswith("... (1,000 characters)") and len(long) < 50


def test_rate_limited_log_keys_do_not_hide_each_other(caplog):
    clock = [0.0]
    log = RateLimitedLog(interval=10.0, clock=lambda: clock[0])
    with caplog.at_level(logging.WARNING, logger="runtime"):
        for _ in range(100):
            log.warning(("t", "json"), "bad json")
            log.warning(("t", "value"), "null value")
    assert [r.getMessage() for r in caplog.records] == ["bad json", "null value"]


# ---- a source topic that never speaks
def silent_config() -> dict:
    return {"output_topic": BASE, "model": {"name": "m", "version": "v1"},
            "sources": {"press": PRESS, "tF": BASE + "._raw.tempf"},  # typo: the topic is tempF
            "mapping": {"sum": "press + tF"}}


def test_silent_source_topic_is_named_after_n_messages(caplog):
    p = StreamProcessor(silent_config(), silent_after_messages=1000)
    with caplog.at_level(logging.WARNING, logger="runtime"):
        for i in range(999):
            p.process(good(float(i)))
        assert not caplog.records
        p.process_batch([good(), Message(b'{"value":1,"timestamp_ms":5}', {"umh_topic": TEMPF})])
        p.process_batch([good()] * 5000)
    [text] = [r.getMessage() for r in caplog.records]
    assert "'umh.v1.corpA.plant-A.aawd._raw.tempf' (sources.tF)" in text and "no valid message" in text
    assert "1,001 messages" in text  # checked after the batch that crossed 1,000


def test_no_silent_warning_when_every_source_spoke(caplog):
    p = StreamProcessor(silent_config() | {"sources": {"press": PRESS, "tF": TEMPF}},
                        silent_after_messages=10)
    with caplog.at_level(logging.WARNING, logger="runtime"):
        p.process_batch([good(), Message(b'{"value":1,"timestamp_ms":5}', {"umh_topic": TEMPF})])
        p.process_batch([good()] * 100)
    assert not caplog.records


def test_silent_source_after_t_seconds(caplog):
    clock = [100.0]
    state = ["x", None]
    log = logging.getLogger("runtime")
    w = SourceWatch({"a": "umh.v1.a._raw.a", "b": "umh.v1.a._raw.b"}, lambda: tuple(state), None, log,
                    after_messages=10_000, after_seconds=60.0, clock=lambda: clock[0])
    with caplog.at_level(logging.WARNING, logger="runtime"):
        assert w.check(5) == 105
        clock[0] = 159.0
        assert w.check(6) == 106 and not caplog.records
        clock[0] = 160.0
        assert w.check(7) == DONE
    [text] = [r.getMessage() for r in caplog.records]
    assert "'umh.v1.a._raw.b' (sources.b)" in text and "60 s" in text


# ---- the CLI
def test_a_50_mb_line_is_read_in_linear_time(tmp_path):
    line = orjson.dumps({"payload": "x" * 50_000_000, "meta": {"umh_topic": PRESS}})
    inp = tmp_path / "big.jsonl"
    inp.write_bytes(line + b"\n" + orjson.dumps({"payload": {"value": 1, "timestamp_ms": 5},
                                                  "meta": {"umh_topic": PRESS}}) + b"\n")
    outp = tmp_path / "out.jsonl"
    t = time.perf_counter()
    assert main(["run", str(PUMP_YAML), "--input", str(inp), "--output", str(outp),
                 "--log-level", "error"]) == 0
    elapsed = time.perf_counter() - t
    assert len(outp.read_bytes().splitlines()) == 4  # the big line is invalid, the next one is processed
    assert elapsed < 10, elapsed  # quadratic reading took 30 s for this line on the dev machine


@pytest.mark.parametrize("cmd", [
    ["-m", "runtime", "check", str(PUMP_YAML)],
    ["-m", "runtime", "run", str(PUMP_YAML), "--input", str(ROOT / "examples" / "pump.jsonl"),
     "--log-level", "error"],
    ["-m", "transpiler", "explain", "press * 2 + 1", "--vars", "press"],
])
def test_a_closed_output_ends_every_command_quietly(cmd):
    # the reader is gone before the command writes: every write meets a broken pipe
    r, w = os.pipe()
    os.close(r)
    proc = subprocess.run([sys.executable, *cmd], stdout=w, stderr=subprocess.PIPE, env=env(), timeout=60)
    os.close(w)
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr and b"BrokenPipe" not in proc.stderr, \
        proc.stderr


def test_looping_static_with_no_time_limit_does_not_hang_at_load(tmp_path):
    cfg = tmp_path / "loop.yaml"
    cfg.write_text(f"output_topic: {BASE}\nmodel: {{name: m, version: v1}}\nsources: {{p: {PRESS}}}\n"
                   "mapping:\n  loop: '(() => { while (true) {} })()'\n  ok: p + 1\n")
    t = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "runtime", "check", str(cfg), "--time-limit", "-1"],
                       capture_output=True, env=env(), timeout=60)
    assert r.returncode == 2 and time.monotonic() - t < 30
    err = r.stderr.decode()
    assert "mapping 'loop' ((() => { while (true) {} })())" in err and "time limit of 1 s exceeded" in err


def test_mapping_failure_warning_is_shortened(caplog):
    long_expr = "(" + " + ".join(["p"] * 40) + ").x.y"
    p = StreamProcessor({"output_topic": BASE, "model": {"name": "m", "version": "v1"},
                         "sources": {"p": PRESS},
                         "mapping": {"bad": long_expr, "huge": "null[p.repeat(300)]"}})
    with caplog.at_level(logging.WARNING, logger="runtime"):
        p.process(Message(b'{"value":"ab","timestamp_ms":5}', {"umh_topic": PRESS}))
    texts = [r.getMessage() for r in caplog.records]
    assert len(texts) == 2 and all(len(t) < 400 for t in texts), texts
    assert texts[0].startswith("mapping 'bad' ((p + p + p") and "...) failed: TypeError" in texts[0]
    assert texts[1].startswith("mapping 'huge' (null[p.repeat(300)]) failed: TypeError")
    assert p.metrics.mapping_errors == 2
