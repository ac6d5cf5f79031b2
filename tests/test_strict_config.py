"""A strict configuration (issue 13): YAML 1.2 text, duplicate keys, UNS names and topics,
mappings that can never output, all problems at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import quickjs

from runtime import ConfigError, StreamProcessor
from runtime.uns import location_problem, path_problem, segment_problem, topic_problem
from runtime.yaml12 import load

ROOT = Path(__file__).resolve().parent.parent
HEAD = """output_topic: umh.v1.corpA.plant-A.aawd
model: {name: pump, version: v1}
sources:
  press: umh.v1.corpA.plant-A.aawd._raw.press
"""


def errors_of(tmp_path: Path, text: str) -> list[str]:
    f = tmp_path / "c.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError) as e:
        StreamProcessor.from_yaml(f)
    return e.value.errors


def loaded(tmp_path: Path, text: str) -> StreamProcessor:
    f = tmp_path / "c.yaml"
    f.write_text(text)
    return StreamProcessor.from_yaml(f)


# ---- YAML 1.2: every mapping scalar is the text written
@pytest.mark.parametrize("leaf", ["NO", "on", "yes", "Off", "010", "0o17", "1:10", "1_000", ".inf", "0x1F",
                                  "1.50", "1e3", "true", "2026-01-01", "+12"])
def test_yaml_scalars_keep_their_text(leaf):
    data, problems = load(f"a: {leaf}\nb: [{leaf}]\n")
    assert data == {"a": leaf, "b": [leaf]} and problems == []


@pytest.mark.parametrize("leaf", ["~", "null", "Null", "NULL", ""])
def test_yaml_12_nulls(leaf):
    assert load(f"a: {leaf}\n") == ({"a": None}, [])


def test_explicit_tags_keep_the_text_too():
    assert load("a: !!int 010\nb: !!bool NO\nc: !!float 1.50\n")[0] == {"a": "010", "b": "NO", "c": "1.50"}


def test_expression_is_the_text_written(tmp_path):
    p = loaded(tmp_path, HEAD + "mapping:\n  a: 1.50\n  b: 0x1F\n  c: true\n  d: press * 10.50\n")
    assert [r.expression for r in p.describe()] == ["1.50", "0x1F", "true", "press * 10.50"]
    ctx = quickjs.Context()
    for m in p.spec.mappings[:3]:  # statics: the value JavaScript gives the text
        assert m.static_bytes == ctx.eval(f"JSON.stringify({m.source})").encode()


@pytest.mark.parametrize("leaf,words", [
    ("1:10", ("mapping 'shiftStart' (1:10)", "SyntaxError")),
    ("NO", ("mapping 'shiftStart' (NO)", "unknown identifier 'NO'", "(sources: press)")),
    ("on", ("mapping 'shiftStart' (on)", "unknown identifier 'on'")),
    ("010", ("mapping 'shiftStart' (010)", "SyntaxError", "ctal")),
])
def test_yaml_11_spellings_are_expressions_as_written(tmp_path, leaf, words):
    [error] = errors_of(tmp_path, HEAD + f"mapping:\n  shiftStart: {leaf}\n")
    for w in words:
        assert w in error, error


def test_010_is_a_syntax_error_in_javascript_strict_mode_too():
    with pytest.raises(quickjs.JSException, match="SyntaxError"):
        quickjs.Context().eval('"use strict"; (function () { return 010; })')


# ---- duplicate keys
def test_duplicate_keys_name_both_lines(tmp_path):
    errors = errors_of(tmp_path, HEAD + "  press: umh.v1.corpA.plant-A.aawd._raw.other\n"
                       "mapping:\n  a: press\n  b: 1\n  a: press * 2\n  m: {x: 1, x: 2}\n")
    assert errors == [
        f"{tmp_path / 'c.yaml'}: sources.press: duplicate key in sources at line 5 (first at line 4)",
        f"{tmp_path / 'c.yaml'}: mapping.a: duplicate key in mapping at line 9 (first at line 7)",
        f"{tmp_path / 'c.yaml'}: mapping.m.x: duplicate key in mapping.m at line 10, column 13 "
        "(first at line 10, column 7)",
    ]


def test_duplicate_keys_reported_with_every_other_problem(tmp_path):
    errors = errors_of(tmp_path, HEAD + "mapping:\n  a: 1\n  a: 2\n  b: foo\n")
    assert len(errors) == 2 and "duplicate key" in errors[0] and "unknown identifier 'foo'" in errors[1]


# ---- UNS names and topics
@pytest.mark.parametrize("text,field,words", [
    (HEAD.replace("aawd\nmodel", "aawd.\nmodel"), "output_topic",
     ("empty segment", "'umh.v1.corpA.plant-A.aawd.'")),
    (HEAD.replace("name: pump", "name: my pump"), "model.name", ("' '", "'my pump'")),
    (HEAD.replace("version: v1", "version: v1.2"), "model.version", ("'.'", "'v1.2'")),
    (HEAD.replace("press: umh.v1.corpA.plant-A.aawd._raw.press", "press: umh/v1/corpA/_raw/press"),
     "sources.press", ("'/'", "'umh/v1/corpA/_raw/press'")),
    (HEAD.replace("press: umh.v1.corpA.plant-A.aawd._raw.press", "press: umh.v1.corpA.plant-A.aawd.press"),
     "sources.press", ("data contract",)),
    (HEAD + "mapping:\n  '#': press\n", "mapping '#'", ("'#'",)),
    (HEAD + "mapping:\n  a+b: press\n", "mapping 'a+b'", ("'+'",)),
    (HEAD + "mapping:\n  my value: press\n", "mapping 'my value'", ("' '",)),
    (HEAD + "mapping:\n  a/b: press\n", "mapping 'a/b'", ("'/'",)),
    (HEAD + "mapping:\n  motor: {}\n", "mapping 'motor'", ("empty mapping",)),
    (HEAD + "mapping:\n  motor: {rpm: press, inner: {}}\n", "mapping 'motor.inner'", ("empty mapping",)),
])
def test_uns_rules_refuse(tmp_path, text, field, words):
    [error] = errors_of(tmp_path, text)
    assert error.startswith(field), error
    for w in words:
        assert w in error, error


def test_uns_rules_directly():
    assert topic_problem("umh.v1.a.b._raw.x.y") is None
    assert location_problem("umh.v1.a") is None and segment_problem("v-1_2") is None
    assert path_problem("motor.rpm") is None
    for bad in ("umh.v1.a._raw.", "umh.v1.a..b._raw.x", "umh.v1._raw.x", "umh.v1.a._raw", "umh.v1.a._.x",
                "umh.v1.a._raw.x#", "umh.v1.a._raw.+", "umh.v1.a b._raw.x", "umh.v2.a._raw.x"):
        assert topic_problem(bad) is not None, bad


# ---- mappings that can never output
@pytest.mark.parametrize("expr,words", [
    ("null", ("its value is null",)),
    ("undefined", ("its value is undefined",)),
    ("NaN", ("its value is NaN",)),
    ("1/0", ("its value is Infinity",)),
    ("-1/0", ("its value is -Infinity",)),
    ("Math.max", ("its value is a function",)),
    ("[() => 1][0]", ("its value is a function",)),
    ("'x'.repeat(-1)", ("evaluating it at load failed: RangeError",)),
    ("[].map(x => x)[0].y", ("evaluating it at load failed: TypeError",)),
])
def test_static_that_can_never_output_is_refused_by_check(tmp_path, expr, words):
    f = tmp_path / "c.yaml"
    f.write_text(HEAD + f"mapping:\n  ok: press\n  bad: \"{expr}\"\n")
    r = subprocess.run([sys.executable, "-m", "runtime", "check", str(f)], capture_output=True, timeout=60,
                       env={**os.environ, "PYTHONPATH": os.pathsep.join(x for x in sys.path if x)})
    assert r.returncode == 2
    err = r.stderr.decode()
    assert f"mapping 'bad' ({expr})" in err and "can never produce output" in err, err
    for w in words:
        assert w in err, err
    assert "'ok'" not in err


def test_impure_static_is_evaluated_per_message_not_refused(tmp_path):
    p = loaded(tmp_path, HEAD + "mapping:\n  r: 'Math.random() < 2 ? 1 : null'\n")
    assert p.spec.mappings[0].static_bytes is None


def test_every_problem_at_once(tmp_path):
    errors = errors_of(tmp_path, "output_topic: umh.v1.a.\nmodel: {name: a b, version: v1.2}\n"
                       "sources:\n  p: umh.v1.a._raw.p\n  q: umh/v1/a/_raw/q\n  p: umh.v1.a._raw.r\n"
                       "mapping:\n  '#': 1\n  e: {}\n  n: null\n  u: undefined\n")
    assert errors[0].endswith("sources.p: duplicate key in sources at line 6 (first at line 4)")
    fields = [e.split(":")[0] for e in errors[1:]]
    assert fields == ["output_topic", "model.name", "model.version", "sources.q", "mapping '#'",
                      "mapping 'e'", "mapping 'n'", "mapping 'u' (undefined)"], errors


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "examples").glob("*.yaml")))
def test_examples_load_under_the_strict_rules(name):
    p = StreamProcessor.from_yaml(ROOT / "examples" / name)
    assert p.describe()


# ---- a null key is named as written, wherever it stands ------------------------------------------

@pytest.mark.parametrize("written", ["~", "null", "Null", "NULL"])
def test_a_null_mapping_key_is_named_as_written(tmp_path, written):
    errors = errors_of(tmp_path, HEAD + f"mapping:\n  {written}: press + 1\n  ok: press\n"
                                        f"  a:\n    {written}: press\n")
    assert errors == [f"mapping '{written}': a field name must be a non-empty string, got null",
                      f"mapping 'a.{written}': a field name must be a non-empty string, got null"]


def test_an_empty_explicit_key_is_null_too_and_a_quoted_tilde_is_a_string(tmp_path):
    errors = errors_of(tmp_path, HEAD + "mapping:\n  ? \n  : press\n  ok: press\n")
    assert errors == ["mapping '': a field name must be a non-empty string, got null"]
    errors = errors_of(tmp_path, HEAD + 'mapping:\n  "~": press\n')
    assert len(errors) == 1 and errors[0].startswith("mapping '~': name '~' contains '~'")


def test_null_keys_elsewhere_are_named_as_written(tmp_path):
    errors = errors_of(tmp_path, HEAD.replace("sources:\n", "~: 1\nsources:\n  ~: umh.v1.a._raw.x\n")
                       + "mapping:\n  ok: press\n")
    assert errors[0] == "~: unknown field (expected one of: mode, output_topic, model, sources, mapping)"
    assert errors[1] == "sources.~: alias must be a valid JavaScript identifier"
    assert all("None" not in e for e in errors)


def test_a_null_key_of_a_python_dict_says_null():
    cfg = {"output_topic": "umh.v1.a", "model": {"name": "p", "version": "v1"},
           "sources": {"press": "umh.v1.a._raw.p"}, "mapping": {None: "press", "ok": "press"}}
    with pytest.raises(ConfigError) as e:
        StreamProcessor(cfg)
    assert e.value.errors == ["mapping 'null': a field name must be a non-empty string, got null"]


def test_null_values_are_still_none(tmp_path):
    data, problems = load("a: ~\nb: null\n~: x\n")
    assert problems == []
    assert [data["a"], data["b"]] == [None, None]
    assert [str(k) for k in data] == ["a", "b", "~"]
