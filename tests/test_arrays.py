"""Array.prototype methods against QuickJS: every result (value, type, -0, NaN) or error."""

from __future__ import annotations

import copy
import itertools
import json
import math

import pytest
import quickjs
from hypothesis import given, settings
from hypothesis import strategies as st

from transpiler.errors import JSError
from transpiler.jslib.arrays import ARRAY_METHODS
from transpiler.jslib.values import UNDEFINED, to_utf16

# --- QuickJS harness: values go in as JS literals, results come back as tagged JSON ---------------

_CTX = quickjs.Context()
_CTX.eval(r"""
function __enc(v) {
  if (v === undefined) return {u: 1};
  if (typeof v === 'number') return {n: Object.is(v, -0) ? '-0' : String(v)};
  if (typeof v === 'string') {
    const c = []; for (let i = 0; i < v.length; i++) c.push(v.charCodeAt(i)); return {s: c};
  }
  if (v === null || typeof v === 'boolean') return {p: v};
  if (Array.isArray(v)) return {a: v.map(__enc)};
  if (typeof v === 'object') return {o: Object.keys(v).map(k => [__enc(k), __enc(v[k])])};
  return {t: typeof v};
}
function __err(e) { return {e: [String(e.name), __enc(String(e.message))]}; }
function __batch(name, cases) {
  return JSON.stringify(cases.map(([a, args]) => {
    try { return __enc(Array.prototype[name].apply(a, args)); } catch (e) { return __err(e); }
  }));
}
""")


def lit(v) -> str:
    """A JavaScript literal for an engine value (strings in UTF-16 form, lone surrogates ok)."""
    if v is UNDEFINED:
        return "undefined"
    if v is None:
        return "null"
    if v is True or v is False:
        return "true" if v else "false"
    if isinstance(v, float):
        if v != v:
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        if v == 0 and math.copysign(1.0, v) < 0:
            return "-0"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=True)
    if isinstance(v, list):
        return "[" + ",".join(lit(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k) + ":" + lit(x) for k, x in v.items()) + "}"
    raise TypeError(v)


def dec(d):
    if "u" in d:
        return UNDEFINED
    if "n" in d:
        return float(d["n"].replace("Infinity", "inf"))
    if "s" in d:
        return "".join(map(chr, d["s"]))
    if "p" in d:
        return d["p"]
    if "a" in d:
        return [dec(x) for x in d["a"]]
    if "o" in d:
        return {dec(k): dec(v) for k, v in d["o"]}
    if "e" in d:
        return ("ERR", d["e"][0], dec(d["e"][1]))
    return ("T", d["t"])


def same(a, b) -> bool:
    """SameValue on engine values, recursively; errors compare by (name, message)."""
    if isinstance(a, float) and isinstance(b, float):
        if a != a:
            return b != b
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


def js_batch(name: str, cases: list[tuple[str, tuple]]) -> list:
    items = ("[" + lit(s) + ",[" + ",".join(lit(a) for a in args) + "]]" for s, args in cases)
    src = "[" + ",".join(items) + "]"
    return [dec(d) for d in json.loads(_CTX.eval(f"__batch({json.dumps(name)}, {src})"))]


def py_call(name: str, a: list, args: tuple):
    try:
        before = copy.deepcopy(a)
        result = ARRAY_METHODS[name](a, *args)
        assert same(a, before), "receiver mutated"
        if isinstance(result, list):
            assert result is not a
        return result
    except JSError as e:
        return ("ERR", e.name, e.message)


def check(name: str, cases: list[tuple[list, tuple]]) -> None:
    expected = js_batch(name, cases)
    bad = []
    for (a, args), exp in zip(cases, expected):
        got = py_call(name, a, args)
        if not same(got, exp):
            bad.append((name, a, args, got, exp))
    assert not bad, "\n".join(ascii(b) for b in bad[:20]) + f"\n({len(bad)} mismatches)"


NAN = math.nan
RECEIVERS = [
    [], [1.0], [1.0, 2.0, 3.0], [1.0, 2.0, 1.0, 2.0], [NAN], [0.0, -0.0], [-0.0], ["a", "b", "a"],
    [None, UNDEFINED, 1.0], [[1.0, 2.0], [3.0, [4.0, None]]], [True, "1", 1.0, False, "true"],
    [{}], [{"a": 1.0}, []], ["", " ", ","], [to_utf16("😀"), "\ud83d", "é"], [1e21, 1e-7, -1.5, math.inf],
    [UNDEFINED], [None], [[]], [[None]], ["x", NAN, "NaN", UNDEFINED, "undefined"],
]
ARGS = [UNDEFINED, None, True, False, 0.0, -0.0, 1.0, 2.0, -1.0, -2.0, 1.5, -1.5, 3.0, 10.0, NAN, math.inf,
        -math.inf, 1e300, "", "a", "1", "NaN", "undefined", ",", " - ", to_utf16("😀"), [], [1.0], {}]
SMALL = [UNDEFINED, None, 0.0, -0.0, 1.0, -1.0, 2.0, -3.0, NAN, math.inf, -math.inf, "1", "a", 1.5]


def cases_for(arities: tuple[int, ...]) -> list[tuple[list, tuple]]:
    out: list[tuple[list, tuple]] = []
    for a in RECEIVERS:
        for k in arities:
            if k == 0:
                out.append((a, ()))
            elif k == 1:
                out.extend((a, (x,)) for x in ARGS)
            else:
                out.extend((a, xy) for xy in itertools.product(SMALL, repeat=2))
    return out


@pytest.mark.parametrize("name", ["indexOf", "lastIndexOf", "includes", "slice", "at", "join", "concat"])
def test_methods(name):
    cases = cases_for((0, 1, 2))
    if name in ("indexOf", "lastIndexOf", "includes"):
        # search for elements of the receiver itself, with and without a fromIndex
        for a in RECEIVERS:
            for x in a:
                if not isinstance(x, (list, dict)):
                    cases.extend([(a, (x,)), (a, (x, 1.0)), (a, (x, -1.0)), (a, (x, UNDEFINED))])
    check(name, cases)


def test_to_string_and_concat_many():
    check("toString", [(a, ()) for a in RECEIVERS])
    check("concat", [(a, (b, 1.0, c)) for a in RECEIVERS[:6] for b in RECEIVERS for c in ([], [[2.0]], "s")])


def test_readable_cases():
    m = ARRAY_METHODS
    assert m["join"]([1.0, [2.0, [3.0, None]], UNDEFINED, None, "x"]) == "1,2,3,,,,x"
    assert m["indexOf"]([NAN], NAN) == -1.0
    assert m["includes"]([NAN], NAN) is True
    assert m["indexOf"]([-0.0], 0.0) == 0.0
    assert m["lastIndexOf"]([1.0, 1.0], 1.0) == 1.0
    assert m["lastIndexOf"]([1.0, 1.0], 1.0, UNDEFINED) == 0.0  # present-but-undefined fromIndex is 0


values = st.one_of(st.sampled_from([UNDEFINED, None, True, False, NAN, -0.0, 0.0, "", "a", "1"]),
                   st.integers(-3, 3).map(float))
arrays = st.lists(st.one_of(values, st.lists(values, max_size=2)), max_size=6)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(arrays, st.lists(values, max_size=2).map(tuple)), min_size=1, max_size=20),
       st.sampled_from(["indexOf", "lastIndexOf", "includes", "slice", "at", "join", "concat"]))
def test_random_against_quickjs(cases, name):
    check(name, cases)
