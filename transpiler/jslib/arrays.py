"""Array.prototype methods (ECMA-262 section 23.1.3) on JavaScript arrays (Python lists).

Every implementation is ``f(this, *args)`` with the raw JavaScript argument values; a missing
argument behaves as ``undefined``, except where the specification distinguishes an absent
argument (``lastIndexOf``'s ``fromIndex``). Arrays are dense (no holes). Methods that return
arrays return new lists and never mutate ``this``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from transpiler.jslib.coerce import (
    array_join,
    relative_index,
    same_value_zero,
    strict_equals,
    to_integer_or_infinity,
    to_string,
)
from transpiler.jslib.limits import check_new_array_length, check_work
from transpiler.jslib.strings import at  # the same algorithm for arrays and strings
from transpiler.jslib.values import UNDEFINED


def join(this: list, separator: Any = UNDEFINED, *_: Any) -> str:
    return array_join(this, "," if separator is UNDEFINED else to_string(separator))


def to_string_(this: list, *_: Any) -> str:
    return join(this)


def _start_index(this: list, from_index: Any) -> int | None:
    """The first index indexOf/includes examine, or None when the search is empty."""
    n = len(this)
    if n == 0:
        return None
    k = to_integer_or_infinity(from_index)
    if k >= n:
        return None
    if k < 0:
        k += n
        if k < 0:
            k = 0
    return int(k)


def index_of(this: list, search: Any = UNDEFINED, from_index: Any = UNDEFINED, *_: Any) -> float:
    check_work(len(this))
    k = _start_index(this, from_index)
    if k is None:
        return -1.0
    cls = search.__class__
    if cls is str or cls is bool:
        for i in range(k, len(this)):
            x = this[i]
            if x.__class__ is cls and x == search:
                return float(i)
        return -1.0
    for i in range(k, len(this)):
        if strict_equals(this[i], search):
            return float(i)
    return -1.0


def includes(this: list, search: Any = UNDEFINED, from_index: Any = UNDEFINED, *_: Any) -> bool:
    check_work(len(this))
    k = _start_index(this, from_index)
    if k is None:
        return False
    return any(same_value_zero(this[i], search) for i in range(k, len(this)))


def last_index_of(this: list, search: Any = UNDEFINED, *rest: Any) -> float:
    check_work(len(this))
    n = len(this)
    if n == 0:
        return -1.0
    if rest:  # "If fromIndex is present": an explicit undefined means 0, absent means n - 1
        k = to_integer_or_infinity(rest[0])
        if k < 0:
            k += n
            if k < 0:
                return -1.0
        elif k > n - 1:
            k = n - 1
        start = int(k)
    else:
        start = n - 1
    for i in range(start, -1, -1):
        if strict_equals(this[i], search):
            return float(i)
    return -1.0


def slice_(this: list, start: Any = UNDEFINED, end: Any = UNDEFINED, *_: Any) -> list:
    check_work(len(this))
    n = len(this)
    a = relative_index(start, n)
    b = n if end is UNDEFINED else relative_index(end, n)
    return this[a:b]


def concat(this: list, *items: Any) -> list:
    check_new_array_length(len(this) + sum(len(i) if i.__class__ is list else 1 for i in items))
    out = list(this)
    for item in items:
        if item.__class__ is list:
            out.extend(item)
        else:
            out.append(item)
    return out


ARRAY_METHODS: dict[str, Callable[..., Any]] = {
    "join": join,
    "indexOf": index_of,
    "lastIndexOf": last_index_of,
    "includes": includes,
    "slice": slice_,
    "concat": concat,
    "at": at,
    "toString": to_string_,
}
