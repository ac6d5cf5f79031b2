"""Output payload bytes: exactly ``JSON.stringify({value: v, timestamp_ms: t})``.

The hot path (generated handlers) inlines the float case; these helpers cover the rest and are
the single definition the generated code and the tests rely on.
"""

from __future__ import annotations

import math

from orjson import JSONEncodeError
from orjson import dumps as _dumps

from transpiler.errors import JSError
from transpiler.jslib.jsjson import BIGINT_MESSAGE, json_stringify
from transpiler.jslib.numbers import number_to_bytes, number_to_string
from transpiler.jslib.values import UNDEFINED, JSFunction

MAX_SAFE = 9007199254740992  # 2**53: integers up to this print the same as their double

__all__ = [
    "BadResult", "MAX_SAFE", "json_quote", "timestamp_suffix", "value_bytes",
]


class BadResult(Exception):
    """A mapping result that produces no output (undefined, null, function, NaN, +-Infinity)."""


def json_quote(s: str) -> bytes:
    """``JSON.stringify(s)`` as UTF-8 bytes (orjson escapes exactly like JSON.stringify, except
    that it refuses lone surrogates, which ``json_stringify`` escapes as ``\\udXXX``)."""
    try:
        return _dumps(s)
    except JSONEncodeError:
        return json_stringify(s).encode()


def value_bytes(v: object) -> bytes:
    """``JSON.stringify(v)`` for a mapping result, or ``BadResult`` when it produces no output.

    Raises ``JSError("TypeError", ...)`` where JSON.stringify throws: a BigInt (a Python
    ``int``, at the top or nested), a result beyond the maximum string length."""
    cls = v.__class__
    if cls is float:
        if v - v == 0.0:  # type: ignore[operator]  # finite
            return number_to_bytes(v)  # type: ignore[arg-type]
        raise BadResult(f"result is {number_to_string(v)}")  # type: ignore[arg-type]
    if cls is str:
        return json_quote(v)  # type: ignore[arg-type]
    if cls is bool:
        return b"true" if v else b"false"
    if v is None:
        raise BadResult("result is null")
    if v is UNDEFINED:
        raise BadResult("result is undefined")
    if isinstance(v, JSFunction):
        raise BadResult("result is a function")
    if cls is int:  # a BigInt (numbers are floats): JSON.stringify throws, nested ones too
        raise JSError("TypeError", BIGINT_MESSAGE)
    text = json_stringify(v)
    if text is UNDEFINED:
        raise BadResult(f"result cannot be serialised ({type(v).__name__})")
    return text.encode()  # type: ignore[union-attr]


def timestamp_suffix(ts: int | float) -> bytes:
    """``,"timestamp_ms":<t>}`` with ``t`` printed as the JavaScript number it becomes."""
    if ts.__class__ is int and -MAX_SAFE <= ts <= MAX_SAFE:
        return b',"timestamp_ms":%d}' % ts
    try:
        t = float(ts)
    except OverflowError:
        t = math.inf
    # JSON.stringify writes a non-finite number as null
    text = number_to_string(t) if t - t == 0.0 else "null"
    return b',"timestamp_ms":' + text.encode() + b"}"
