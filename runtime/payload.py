"""Input side: parsing and validating a timeseries payload exactly as the contract says.

The generated handlers inline the common case (orjson parses, ``timestamp_ms`` a positive int up
to 2**53, ``value`` a float or string); everything unusual comes here, where speed matters less.
"""

from __future__ import annotations

import json
import math

from orjson import JSONDecodeError

from runtime.encode import timestamp_suffix
from transpiler.jslib.values import js_object

__all__ = ["EXPECTED", "Invalid", "slow_loads", "slow_timestamp", "to_js", "describe_json_type"]

EXPECTED = 'expected {"value": <not null>, "timestamp_ms": <integer other than 0>}'


MAX_DEPTH = 64  # nesting levels of arrays/objects a "value" may have (the value itself is level 1)


class Invalid(Exception):
    """The payload is not a valid timeseries message; ``str(exc)`` is the reason and ``kind`` one
    of a few fixed words (``"json"``, ``"timestamp"``, ``"depth"``, ...) that warnings are
    rate-limited by, so every kind of problem shows."""

    def __init__(self, reason: str, kind: str = "json") -> None:
        super().__init__(reason)
        self.kind = kind


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _stdlib_loads(payload: bytes) -> object:
    return json.loads(payload.decode("utf-8"), parse_constant=_reject_constant)


def slow_loads(payload: bytes, error: JSONDecodeError) -> object:
    """Parse what orjson refused but ``JSON.parse`` accepts: numbers that overflow to Infinity
    (``1e400``) and lone surrogate escapes (``"\\ud800"``). Raise ``Invalid`` otherwise."""
    msg = error.msg
    if "infinity" in msg or "surrogate" in msg:
        try:
            return _stdlib_loads(payload)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            raise Invalid(f"not valid JSON ({exc})") from None
    raise Invalid(f"not valid JSON ({msg} at byte {error.pos})")


def describe_json_type(v: object) -> str:
    if v is None:
        return "null"
    if v is True or v is False:
        return "a boolean"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    if isinstance(v, dict):
        return "an object"
    if isinstance(v, float) and not v.is_integer():
        return f"the fractional number {v!r}"
    return f"the number {v!r}"


def slow_timestamp(obj: dict, payload: bytes) -> bytes:
    """Validate a ``timestamp_ms`` that is not a positive int <= 2**53; return the payload suffix
    ``,"timestamp_ms":<t>}`` or raise ``Invalid``."""
    if "timestamp_ms" not in obj:
        raise Invalid('missing "timestamp_ms"', "timestamp")
    ts = obj["timestamp_ms"]
    cls = ts.__class__
    if cls is int:
        if ts == 0:
            raise Invalid('"timestamp_ms" is 0', "timestamp")
        return timestamp_suffix(ts)
    if cls is float and (ts.is_integer() or math.isinf(ts)):
        # orjson reads integers beyond 64 bits (and 1e20 alike) as floats: ask the exact parser
        # whether the text was an integer literal.
        try:
            exact = _stdlib_loads(payload)["timestamp_ms"]
        except (ValueError, KeyError, TypeError, RecursionError):
            exact = ts
        if exact.__class__ is int and exact != 0:
            return timestamp_suffix(exact)
    raise Invalid(f'"timestamp_ms" must be a JSON integer, got {describe_json_type(ts)}', "timestamp")


def _to_double(v: int) -> float:
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def to_js(v: object) -> object:
    """A parsed JSON value as the JavaScript value it denotes: integers become doubles
    (rounding beyond 2**53 as JavaScript does), objects take JavaScript property order.

    Raises ``Invalid`` (kind ``"depth"``) for arrays/objects nested more than ``MAX_DEPTH``
    levels: a message decides the depth, so it is bounded here, once, rather than by every
    recursive algorithm the value later meets (``JSON.stringify``, the QuickJS bridge)."""
    cls = v.__class__
    if cls is int:
        return _to_double(v)  # type: ignore[arg-type]
    if cls is not list and cls is not dict:
        return v
    return _container(v, 1)


def _container(v: list | dict, depth: int) -> object:
    if depth > MAX_DEPTH:
        raise Invalid(f'"value" is nested more than {MAX_DEPTH} levels deep (arrays/objects)', "depth")
    if v.__class__ is list:
        out = []
        append = out.append
        for x in v:
            c = x.__class__
            if c is int:
                append(_to_double(x))
            elif c is list or c is dict:
                append(_container(x, depth + 1))
            else:
                append(x)
        return out
    d = {}
    for k, x in v.items():  # type: ignore[union-attr]
        c = x.__class__
        if c is int:
            d[k] = _to_double(x)
        elif c is list or c is dict:
            d[k] = _container(x, depth + 1)
        else:
            d[k] = x
    return js_object(d)
