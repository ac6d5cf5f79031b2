"""JavaScript values in Python, and the conversions at the engine boundary.

Inside generated code a JavaScript string is a Python ``str`` in *UTF-16 form*: every astral
character is stored as its two surrogate code points, so ``len``, indexing, slicing and ``<``
work in UTF-16 code units exactly as JavaScript does. Values entering an expression go through
``import_value`` and results leave through ``export_value``, which restores ordinary ``str``.
"""

from __future__ import annotations

import array
import math
import re
from collections.abc import Iterator
from typing import Any

from transpiler.jslib.limits import check_work, heavy_work


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


_SURROGATE = re.compile("[\ud800-\udfff]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")
_SHORT = 256  # below this many characters a regex with a callback a pair is faster (~1 us a pair)


def _split_astral(match: re.Match[str]) -> str:
    cp = ord(match.group()) - 0x10000
    return chr(0xD800 + (cp >> 10)) + chr(0xDC00 + (cp & 0x3FF))


def _join_pair(match: re.Match[str]) -> str:
    hi, lo = match.group()
    return chr(0x10000 + ((ord(hi) - 0xD800) << 10) + (ord(lo) - 0xDC00))

# An array of code points (4 bytes each) copies a str at C speed, lone surrogates included;
# 'w' (Python 3.13+) is always UCS-4, 'u' is wchar_t (UCS-4 on Linux and macOS).
_UCS4 = "w" if "w" in array.typecodes else "u"
_WIDE = array.array(_UCS4).itemsize == 4


_CHUNK = 1 << 20  # code units converted between two reports to heavy_work on the slow path


def _chunks(n: int) -> Iterator[int]:
    """Chunk starts for the surrogatepass codec, whose error path costs ~0.25 us a lone
    surrogate: reporting each chunk to ``heavy_work`` stops a huge one within the time limit."""
    for i in range(0, n, _CHUNK):
        if i:
            heavy_work()
        yield i


def _units_to_str(units: bytes) -> str:
    """The str whose code points are the UTF-16LE code units ``units`` (surrogates unjoined)."""
    wide = bytearray(2 * len(units))
    wide[0::4] = units[0::2]
    wide[1::4] = units[1::2]
    return array.array(_UCS4, bytes(wide)).tounicode()


def to_utf16(s: str) -> str:
    """Return ``s`` in UTF-16 form (astral characters as surrogate pairs).

    Long strings at C speed (the per-character codec error path of ``surrogatepass`` costs ~0.25 us a
    surrogate, so it is only taken for input holding lone surrogates). A long string reports
    its work to ``heavy_work``."""
    if s.isascii():
        return s
    if len(s) < _SHORT:
        return _ASTRAL.sub(_split_astral, s)
    check_work(len(s))
    try:
        units = s.encode("utf-16-le")
    except UnicodeEncodeError:  # lone surrogates in the input: kept as they are
        units = b"".join(
            s[i:i + _CHUNK].encode("utf-16-le", "surrogatepass") for i in _chunks(len(s)))
    if len(units) == 2 * len(s):
        return s  # BMP only: already in UTF-16 form
    if not _WIDE:
        return "".join(map(chr, array.array("H", units)))
    return _units_to_str(units)


def from_utf16(s: str) -> str:
    """Return an ordinary ``str``: valid surrogate pairs joined, lone surrogates kept.

    Long strings at C speed: the code points (all BMP in UTF-16 form) are narrowed to UTF-16LE code units
    and decoded, which joins each high surrogate followed by a low one; ``surrogatepass``
    keeps every other surrogate as it is. A long string reports its work to ``heavy_work``."""
    if s.isascii() or _SURROGATE.search(s) is None:
        return s
    if len(s) < _SHORT:
        return _PAIR.sub(_join_pair, s)
    check_work(len(s))
    points = array.array(_UCS4, s).tobytes() if _WIDE else b""
    if not _WIDE or points[2::4].count(0) != len(s):  # an astral character (not UTF-16 form)
        return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    units = bytearray(len(points) // 2)
    units[0::2] = points[0::4]
    units[1::2] = points[1::4]
    try:
        return units.decode("utf-16-le")
    except UnicodeDecodeError:  # lone surrogates: kept, through the slow error path
        pass
    parts = []
    start = 0
    while start < len(s):
        if start:
            heavy_work()
        end = min(start + _CHUNK, len(s))
        if end < len(s) and "\ud800" <= s[end - 1] <= "\udbff" and "\udc00" <= s[end] <= "\udfff":
            end += 1  # never split a pair
        parts.append(units[2 * start:2 * end].decode("utf-16-le", "surrogatepass"))
        start = end
    return "".join(parts)


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
