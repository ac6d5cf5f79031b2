"""ECMAScript type conversions (ECMA-262 section 7.1) and the equality/relational algorithms.

Every function takes and returns JavaScript values as the engine represents them (see
``values``): numbers are ``float``, strings ``str`` in UTF-16 form, ``None`` is null.
"""

from __future__ import annotations

import math
from typing import Any

from transpiler.errors import JSError, type_error
from transpiler.jslib.limits import check_new_length
from transpiler.jslib.numbers import number_to_string, string_to_number
from transpiler.jslib.values import UNDEFINED, JSFunction

_NAN = math.nan


def typeof(v: Any) -> str:
    cls = v.__class__
    if cls is float:
        return "number"
    if cls is str:
        return "string"
    if cls is bool:
        return "boolean"
    if v is UNDEFINED:
        return "undefined"
    if cls is JSFunction:
        return "function"
    return "object"


def to_boolean(v: Any) -> bool:
    cls = v.__class__
    if cls is bool:
        return v
    if cls is float:
        return v == v and v != 0.0
    if cls is str:
        return v != ""
    return v is not None and v is not UNDEFINED


def to_primitive(v: Any, hint: str = "default") -> Any:
    """ToPrimitive (ECMA-262 7.1.1) for our object kinds: arrays join, functions print their
    source, plain objects run OrdinaryToPrimitive (they may have own ``toString``/``valueOf``:
    a message value ``{"toString": 1}``)."""
    cls = v.__class__
    if cls is list:
        return array_join(v, ",")
    if cls is dict:
        if "valueOf" not in v and "toString" not in v:
            return "[object Object]"  # the inherited methods: valueOf gives the object itself
        return ordinary_to_primitive(v, hint)
    if cls is JSFunction:
        return "function " + v.name + "() {\n    [native code]\n}"
    return v


def ordinary_to_primitive(obj: dict, hint: str) -> Any:
    """OrdinaryToPrimitive(O, hint) (ECMA-262 7.1.1.1) on a plain object.

    "string" tries toString then valueOf, any other hint valueOf then toString. An own
    property that is not callable is skipped; an inherited ``Object.prototype.toString`` gives
    "[object Object]" and ``valueOf`` the object itself (not a primitive). Raises TypeError
    when neither gives a primitive.
    """
    for name in (("toString", "valueOf") if hint == "string" else ("valueOf", "toString")):
        if name in obj:
            method = obj[name]
            if method.__class__ is JSFunction:  # IsCallable
                result = _call_with_receiver(method, obj)
                if not _is_object(result):
                    return result
        elif name == "toString":
            return "[object Object]"
    raise type_error("cannot convert object to primitive value")


def _call_with_receiver(fn: JSFunction, this: dict) -> Any:
    """Call(fn, this) with no arguments."""
    from transpiler.jslib.members import call_with_this  # members imports this module

    try:
        return call_with_this(fn, this, ())
    except RecursionError:  # {toString: ''.at}: ToString calls itself, as in JavaScript
        raise JSError("RangeError", "Maximum call stack size exceeded") from None


def to_number(v: Any) -> float:
    cls = v.__class__
    if cls is float:
        return v
    if cls is bool:
        return 1.0 if v else 0.0
    if cls is str:
        return string_to_number(v)
    if v is None:
        return 0.0
    if v is UNDEFINED:
        return _NAN
    if cls is int:  # a Python int that escaped the boundary: treat as the double it denotes
        return float(v)
    return to_number(to_primitive(v, "number"))


def to_string(v: Any) -> str:
    cls = v.__class__
    if cls is str:
        return v
    if cls is float:
        return number_to_string(v)
    if cls is bool:
        return "true" if v else "false"
    if v is None:
        return "null"
    if v is UNDEFINED:
        return "undefined"
    return to_string(to_primitive(v, "string"))


def to_property_key(v: Any) -> str:
    return v if v.__class__ is str else to_string(v)


def to_integer_or_infinity(v: Any) -> float:
    n = v if v.__class__ is float else to_number(v)
    if n != n:
        return 0.0
    if n in (math.inf, -math.inf):
        return n
    return float(math.trunc(n)) + 0.0  # + 0.0 turns -0 into +0


def relative_index(v: Any, length: int) -> int:
    """ToIntegerOrInfinity(v) as a relative index (negative counts from the end), clamped to
    [0, length]: the start/end arguments of slice and friends."""
    x = to_integer_or_infinity(v)
    if x < 0:
        x += length
        return 0 if x <= 0 else int(x)
    return length if x >= length else int(x)


def to_int32(v: Any) -> int:
    n = v if v.__class__ is float else to_number(v)
    if n != n or n in (math.inf, -math.inf):
        return 0
    i = int(n) & 0xFFFFFFFF
    return i - 0x100000000 if i >= 0x80000000 else i


def to_uint32(v: Any) -> int:
    n = v if v.__class__ is float else to_number(v)
    if n != n or n in (math.inf, -math.inf):
        return 0
    return int(n) & 0xFFFFFFFF


def to_object_check(v: Any, what: str) -> None:
    """RequireObjectCoercible: reading from null/undefined is a TypeError."""
    if v is None or v is UNDEFINED:
        raise type_error(f"cannot read property '{what}' of {to_string(v)}")


def array_join(items: list, sep: str) -> str:
    """The elements of an array joined by ``sep`` (Array.prototype.join, 23.1.3.18)."""
    parts = ["" if x is None or x is UNDEFINED else
             (x if x.__class__ is str else to_string(x)) for x in items]
    if parts:  # the length first (jslib.limits)
        check_new_length(sum(map(len, parts)) + len(sep) * (len(parts) - 1))
    return sep.join(parts)


# --- equality (7.2.14, 7.2.15, 7.2.16) --------------------------------------------------------

def strict_equals(a: Any, b: Any) -> bool:
    ca, cb = a.__class__, b.__class__
    if ca is float and cb is float:
        return a == b
    if ca is not cb:
        return False
    if ca is str or ca is bool:
        return a == b
    return a is b


def same_value_zero(a: Any, b: Any) -> bool:
    if a.__class__ is float and b.__class__ is float and a != a:
        return b != b
    return strict_equals(a, b)


def same_value(a: Any, b: Any) -> bool:
    """Object.is: NaN equals NaN, -0 differs from 0."""
    if a.__class__ is float and b.__class__ is float:
        if a != a:
            return b != b
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return strict_equals(a, b)


def _is_object(v: Any) -> bool:
    cls = v.__class__
    return cls is list or cls is dict or cls is JSFunction


def loose_equals(a: Any, b: Any) -> bool:
    """IsLooselyEqual, the == algorithm."""
    ca, cb = a.__class__, b.__class__
    if ca is cb:
        return strict_equals(a, b)
    a_nullish = a is None or a is UNDEFINED
    b_nullish = b is None or b is UNDEFINED
    if a_nullish or b_nullish:
        return a_nullish and b_nullish
    if ca is float and cb is str:
        return a == string_to_number(b)
    if ca is str and cb is float:
        return string_to_number(a) == b
    if ca is bool:
        return loose_equals(1.0 if a else 0.0, b)
    if cb is bool:
        return loose_equals(a, 1.0 if b else 0.0)
    if _is_object(a) and not _is_object(b):
        return loose_equals(to_primitive(a), b)
    if _is_object(b) and not _is_object(a):
        return loose_equals(a, to_primitive(b))
    return False


# --- relational comparison (7.2.13 IsLessThan) -------------------------------------------------

def _compare(a: Any, b: Any, left_first: bool = True) -> bool | None:
    """IsLessThan(a, b): True, False, or None for undefined (a NaN was involved)."""
    if left_first:
        pa = to_primitive(a, "number")
        pb = to_primitive(b, "number")
    else:
        pb = to_primitive(b, "number")
        pa = to_primitive(a, "number")
    if pa.__class__ is str and pb.__class__ is str:
        return pa < pb  # UTF-16 form: code unit order
    na = to_number(pa)
    nb = to_number(pb)
    if na != na or nb != nb:
        return None
    return na < nb


def less_than(a: Any, b: Any) -> bool:
    return _compare(a, b) is True


def greater_than(a: Any, b: Any) -> bool:
    return _compare(b, a, left_first=False) is True


def less_equal(a: Any, b: Any) -> bool:
    r = _compare(b, a, left_first=False)
    return r is False


def greater_equal(a: Any, b: Any) -> bool:
    r = _compare(a, b)
    return r is False
