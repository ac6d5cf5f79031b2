"""QuickJS as the reference: evaluate an expression there, independently of our engines.

Values cross as JavaScript source literals and come back as tagged JSON, so that -0, NaN,
undefined and lone surrogates survive the trip; nothing here uses the project's own QuickJS
bridge, so a bug there cannot hide a bug in the python engine.
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import quickjs

from transpiler.jslib.values import UNDEFINED, JSFunction

_TAGGER = r"""
function __tag(v) {
  if (v === undefined) return {u: 1};
  if (v === null) return null;
  switch (typeof v) {
    case 'number': return {n: Object.is(v, -0) ? '-0' : String(v)};
    case 'string': case 'boolean': return v;
    case 'function': return {f: 1};
    case 'object':
      if (Array.isArray(v)) return {a: v.map(__tag)};
      return {o: Object.keys(v).map(k => [k, __tag(v[k])])};
    default: return {x: typeof v};
  }
}
function __run(f) {
  try { return JSON.stringify({ok: __tag(f())}); }
  catch (e) { return JSON.stringify({err: (e && e.name) || 'Error', msg: String(e && e.message)}); }
}
"""


@dataclass(frozen=True)
class Outcome:
    """What an evaluation did: returned ``value``, or threw an error named ``error``."""

    value: Any = None
    error: str | None = None
    message: str = ""


def js_number(x: float) -> str:
    """JavaScript source for a number literal (negative ones parenthesised)."""
    if x != x:
        return "NaN"
    if x in (math.inf, -math.inf):
        return "Infinity" if x > 0 else "(-Infinity)"
    if x == 0.0 and math.copysign(1.0, x) < 0:
        return "(-0)"
    text = repr(float(x))
    if text.endswith(".0"):
        text = text[:-2]
    return f"({text})" if x < 0 else text


def js_literal(value: Any) -> str:
    """JavaScript source for a Python value (as the value mapping defines it)."""
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return js_number(float(value))
    if isinstance(value, str):
        return json.dumps(value)  # ensure_ascii: astral chars as pairs, lone surrogates kept
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(js_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "({" + ", ".join(f"{json.dumps(str(k))}: {js_literal(v)}" for k, v in value.items()) + "})"
    raise TypeError(f"no JavaScript literal for {value!r}")


def _untag(v: Any) -> Any:
    if isinstance(v, dict):
        if "n" in v:
            return -0.0 if v["n"] == "-0" else float(v["n"])
        if "u" in v:
            return UNDEFINED
        if "a" in v:
            return [_untag(x) for x in v["a"]]
        if "o" in v:
            return {k: _untag(x) for k, x in v["o"]}
        if "f" in v:
            return JSFunction("function", None)
        return ("unsupported", v.get("x"))
    return v


class Reference:
    """One QuickJS context evaluating expressions over variable values."""

    def __init__(self, time_limit: float = 2.0) -> None:
        self.ctx = quickjs.Context()
        self.ctx.eval(_TAGGER)
        self.ctx.set_memory_limit(256 * 1024 * 1024)
        self.ctx.set_time_limit(time_limit)

    def evaluate(self, source: str, env: Mapping[str, Any] | None = None) -> Outcome:
        env = env or {}
        names = ", ".join(env)
        args = ", ".join(js_literal(v) for v in env.values())
        program = (f'__run(() => (function({names}) {{ "use strict"; return ({source}\n); }})({args}))')
        try:
            raw = self.ctx.eval(program)
        except quickjs.JSException as err:  # a syntax error in the expression itself
            return Outcome(error="SyntaxError", message=str(err).splitlines()[0])
        result = json.loads(raw)
        if "err" in result:
            return Outcome(error=result["err"], message=result.get("msg", ""))
        return Outcome(value=_untag(result["ok"]))


def _ordered_bits(x: float) -> int:
    bits = struct.unpack("<q", struct.pack("<d", x))[0]
    return bits if bits >= 0 else -(bits & 0x7FFFFFFFFFFFFFFF)


def ulp_distance(a: float, b: float) -> int:
    return abs(_ordered_bits(a) - _ordered_bits(b))


def same(a: Any, b: Any, ulps: int = 0) -> bool:
    """Deep equality by the conformance rules: Object.is for numbers (within ``ulps``),
    code units for strings, key order for objects."""
    if a.__class__ is float and b.__class__ is float:
        if a != a or b != b:
            return a != a and b != b
        if a == b:
            return math.copysign(1.0, a) == math.copysign(1.0, b)
        return ulps > 0 and math.isfinite(a) and math.isfinite(b) and ulp_distance(a, b) <= ulps
    if a.__class__ is not b.__class__:
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y, ulps) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k], ulps) for k in a)
    if isinstance(a, JSFunction):
        return True
    if isinstance(a, str):
        if a.encode("utf-16-le", "surrogatepass") == b.encode("utf-16-le", "surrogatepass"):
            return True
        # an approximated result written out (Math.hypot(...).toString()): the ulps still apply
        return ulps > 0 and _numeral(a) and _numeral(b) and same(float(a), float(b), ulps)
    return a == b


_NUMERAL = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?")


def _numeral(text: str) -> bool:
    """``text`` is exactly what Number::toString writes for some finite number."""
    from transpiler.jslib.numbers import number_to_string

    return bool(_NUMERAL.fullmatch(text)) and number_to_string(float(text)) == text


def evaluate_ours(compiled: Any, env: Mapping[str, Any]) -> Outcome:
    from transpiler.errors import JSError

    try:
        return Outcome(value=compiled(env))
    except JSError as err:
        return Outcome(error=err.name, message=err.message)


def agree(ours: Outcome, reference: Outcome, ulps: int = 0) -> bool:
    if ours.error or reference.error:
        return ours.error == reference.error
    return same(ours.value, reference.value, ulps)


APPROXIMATED: Sequence[str] = (
    "Math.sin", "Math.cos", "Math.tan", "Math.asin", "Math.acos", "Math.atan", "Math.atan2",
    "Math.sinh", "Math.cosh", "Math.tanh", "Math.asinh", "Math.acosh", "Math.atanh", "Math.exp",
    "Math.expm1", "Math.log", "Math.log1p", "Math.log2", "Math.log10", "Math.cbrt", "Math.hypot",
    "Math.pow", "**",
)


def allowed_ulps(source: str) -> int:
    """One ulp for the implementation-approximated functions the standard names."""
    return 1 if any(name in source for name in APPROXIMATED) else 0
