"""QuickJS comparison harness shared by the jslib tests (strings, arrays, JSON).

Values go in as JS literals, results come back as tagged JSON, so that -0, NaN, undefined and
lone surrogates survive the trip. Strings travel in UTF-16 form (one str character per code
unit) in both directions; errors come back as ``("ERR", name, message)``.

This is deliberately not ``conformance.reference``: its ``same`` compares strings by code units
(a UTF-16-form string equals its ordinary form, any two functions are equal), whereas these
tests also check that results are in UTF-16 form and compare errors by message; and its
``js_literal`` has no literal for functions.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import Any

import quickjs

from transpiler.errors import JSError
from transpiler.jslib.values import UNDEFINED, JSFunction

CTX = quickjs.Context()
CTX.eval(r"""
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
function __batch(f, cases) {
  return JSON.stringify(cases.map(([self, args]) => {
    try { return __enc(f.apply(self, args)); } catch (e) { return __err(e); }
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
    if isinstance(v, JSFunction):
        return "(function f() {})"
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


def js_batch(target: str, cases: Sequence[tuple[Any, tuple]]) -> list:
    """Apply the JS function ``target`` (an expression such as ``"String.prototype.padStart"`` or
    ``"JSON.parse"``) to each ``(this, args)`` case in QuickJS; results decoded, errors as tuples."""
    items = ("[" + lit(this) + ",[" + ",".join(lit(a) for a in args) + "]]" for this, args in cases)
    src = "[" + ",".join(items) + "]"
    return [dec(d) for d in json.loads(CTX.eval(f"__batch({target}, {src})"))]


def py_call(fn: Callable, args: Sequence) -> Any:
    """``fn(*args)``, with a JSError turned into ``("ERR", name, message)`` as js_batch reports it."""
    try:
        return fn(*args)
    except JSError as e:
        return ("ERR", e.name, e.message)


def assert_no_mismatches(bad: list) -> None:
    assert not bad, "\n".join(ascii(b) for b in bad[:20]) + f"\n({len(bad)} mismatches)"


def check_method(prototype: str, name: str, call: Callable[[Any, tuple], Any],
                 cases: Sequence[tuple[Any, tuple]]) -> None:
    """``prototype.name`` applied to each ``(this, args)`` case in QuickJS agrees with
    ``call(this, args)`` here."""
    expected = js_batch(f"{prototype}.{name}", cases)
    bad = []
    for (this, args), exp in zip(cases, expected):
        got = call(this, args)
        if not same(got, exp):
            bad.append((name, this, args, got, exp))
    assert_no_mismatches(bad)
