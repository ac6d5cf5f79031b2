"""JavaScript values in Python, and the conversions at the engine boundary.

Inside generated code a JavaScript string is a Python ``str`` in *UTF-16 form*: every astral
character is stored as its two surrogate code points, so ``len``, indexing, slicing and ``<``
work in UTF-16 code units exactly as JavaScript does. Values entering an expression go through
``import_value`` and results leave through ``export_value``, which restores ordinary ``str``.
"""

from __future__ import annotations

import math
import re
from typing import Any


class _Undefined:
    """The JavaScript ``undefined`` (a singleton distinct from ``None``, which is ``null``)."""

    __slots__ = ()
    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self):
        return (_Undefined, ())


UNDEFINED = _Undefined()


class JSFunction:
    """A JavaScript function value (``Math.sqrt`` read without calling it).

    Generated code calls builtins directly; this wrapper only exists so that a function can be
    a value (``typeof Math.sqrt``, ``[Math.abs]``) and be called later through ``call_value``.
    """

    __slots__ = ("name", "impl", "length", "owner")

    def __init__(self, name: str, impl: Any, length: int | None = None, owner: type | None = None) -> None:
        self.name = name
        self.impl = impl
        self.length = length  # its ``.length`` (number of declared parameters), if known
        self.owner = owner    # for a method read as a value ('x'.at): the receiver type it is of

    def __repr__(self) -> str:
        return f"<JSFunction {self.name}>"


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


def _split_astral(match: re.Match[str]) -> str:
    cp = ord(match.group()) - 0x10000
    return chr(0xD800 + (cp >> 10)) + chr(0xDC00 + (cp & 0x3FF))


def to_utf16(s: str) -> str:
    """Return ``s`` in UTF-16 form (astral characters as surrogate pairs)."""
    if s.isascii():
        return s
    return _ASTRAL.sub(_split_astral, s)


def _join_pair(match: re.Match[str]) -> str:
    hi, lo = match.group()
    return chr(0x10000 + ((ord(hi) - 0xD800) << 10) + (ord(lo) - 0xDC00))


def from_utf16(s: str) -> str:
    """Return an ordinary ``str``: valid surrogate pairs joined, lone surrogates kept."""
    if s.isascii() or _SURROGATE.search(s) is None:
        return s
    return _PAIR.sub(_join_pair, s)


def int_to_double(v: int) -> float:
    """The double a Python int denotes (rounded; beyond the double range, +/-Infinity)."""
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def is_array_index(key: str) -> bool:
    """True for canonical array-index keys ("0", "17"), which JavaScript orders first."""
    return key.isascii() and key.isdigit() and (key == "0" or key[0] != "0") and int(key) < 4294967295


def js_object(items: dict[str, Any]) -> dict[str, Any]:
    """Reorder a dict into JavaScript property order: array indices ascending, then insertion."""
    if not any(is_array_index(k) for k in items):
        return items
    index_keys = sorted((k for k in items if is_array_index(k)), key=int)
    ordered = {k: items[k] for k in index_keys}
    for k, v in items.items():
        if k not in ordered:
            ordered[k] = v
    return ordered


def import_value(v: Any) -> Any:
    """Map a Python value onto the JavaScript value the engines work with."""
    cls = v.__class__
    if cls is float or cls is bool or v is None or v is UNDEFINED:
        return v
    if cls is str:
        return to_utf16(v)
    if isinstance(v, bool):
        return bool(v)
    if isinstance(v, int):
        return int_to_double(v)
    if isinstance(v, float):
        return float(v)
    if isinstance(v, str):
        return to_utf16(str(v))
    if isinstance(v, (list, tuple)):
        return [import_value(x) for x in v]
    if isinstance(v, dict):
        return js_object({to_utf16(str(k)): import_value(x) for k, x in v.items()})
    if isinstance(v, JSFunction):
        return v
    raise TypeError(f"cannot pass a Python {cls.__name__} to a JavaScript expression: {v!r}")


def export_value(v: Any) -> Any:
    """Map an engine result back to Python: numbers as float, strings as ordinary str."""
    cls = v.__class__
    if cls is float or cls is bool or v is None or v is UNDEFINED:
        return v
    if cls is str:
        return from_utf16(v)
    if cls is int:
        return float(v)
    if cls is list:
        return [export_value(x) for x in v]
    if cls is dict:
        return {from_utf16(k): export_value(x) for k, x in v.items()}
    return v
