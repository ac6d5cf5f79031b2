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


class Invalid(Exception):
    """The payload is not a valid timeseries message; ``str(exc)`` is the reason."""


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
        raise Invalid('missing "timestamp_ms"')
    ts = obj["timestamp_ms"]
    cls = ts.__class__
    if cls is int:
        if ts == 0:
            raise Invalid('"timestamp_ms" is 0')
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
    raise Invalid(f'"timestamp_ms" must be a JSON integer, got {describe_json_type(ts)}')


def to_js(v: object) -> object:
    """A parsed JSON value as the JavaScript value it denotes: integers become doubles
    (rounding beyond 2**53 as JavaScript does), objects take JavaScript property order."""
    cls = v.__class__
    if cls is int:
        try:
            return float(v)  # type: ignore[arg-type]
        except OverflowError:
            return math.inf if v > 0 else -math.inf  # type: ignore[operator]
    if cls is list:
        return [to_js(x) for x in v]  # type: ignore[attr-defined]
    if cls is dict:
        return js_object({k: to_js(x) for k, x in v.items()})  # type: ignore[attr-defined]
    return v
