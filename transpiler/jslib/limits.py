"""The python engine's memory bound: the longest string and array an operation may build.

Every builder of a string or array (``repeat``, ``padStart``/``padEnd``, ``concat``, ``+`` and
template literals, ``join``, ``split``, ``replace``/``replaceAll``, ``JSON.stringify``,
``normalize``, case mapping, array ``toString``/``concat``) computes the length its result
*would* have and calls ``check_new_length`` / ``check_new_array_length`` **before** building
it, so an expression can never hold much more than the cap (the inputs it already has, plus
at most one chunk). Over the cap is a ``RangeError``, as in QuickJS (whose own string limit is
2**30 - 1 and whose memory limit stops arrays at a few million elements).

This module imports nothing from ``jslib``, so every other module can use it.
"""

from __future__ import annotations

from transpiler.errors import JSError

MAX_STRING_LENGTH = 2**24
"""Longest string (in UTF-16 code units) an operation may build; longer is a RangeError.
Settable (tests lower it)."""

MAX_ARRAY_LENGTH = 2**20
"""Most elements an array built by the python engine (``split``, ``concat``) may have; more is
a RangeError. A list element costs 8 bytes plus, for ``split``, a string object of ~50-80
bytes, so this keeps an array's memory near that of the longest string. Settable."""


def check_new_length(n: float) -> None:
    """Raise RangeError("invalid string length") when a string of ``n`` UTF-16 code units would
    be longer than MAX_STRING_LENGTH: the one check every string builder makes before building."""
    if n > MAX_STRING_LENGTH:
        raise JSError("RangeError", "invalid string length")


def check_new_array_length(n: float) -> None:
    """Raise RangeError("invalid array length") when an array of ``n`` elements would be longer
    than MAX_ARRAY_LENGTH (checked before building)."""
    if n > MAX_ARRAY_LENGTH:
        raise JSError("RangeError", "invalid array length")


def too_long() -> str:
    """Raise the RangeError of a string over the cap (generated code: ``s if ok else _too_long()``)."""
    raise JSError("RangeError", "invalid string length")
