"""The general (untyped) forms of JavaScript's operators.

Generated code uses a plain Python operator when the operand types are known to be numbers
and calls these only otherwise; this module is the one place each operator's full algorithm
lives (``+`` is ``add``).
"""

from __future__ import annotations

import math
from typing import Any

from transpiler.jslib.coerce import to_int32, to_number, to_primitive, to_string, to_uint32
from transpiler.jslib.jmath import pow_
from transpiler.jslib.limits import check_new_length

NAN = math.nan
INF = math.inf


def add(a: Any, b: Any) -> Any:
    """The ``+`` operator (ApplyStringOrNumericBinaryOperator with ``+``)."""
    if a.__class__ is float and b.__class__ is float:
        return a + b
    pa = to_primitive(a)
    pb = to_primitive(b)
    if pa.__class__ is str or pb.__class__ is str:
        sa, sb = to_string(pa), to_string(pb)
        check_new_length(len(sa) + len(sb))
        return sa + sb
    return to_number(pa) + to_number(pb)


def sub(a: Any, b: Any) -> float:
    return to_number(a) - to_number(b)


def mul(a: Any, b: Any) -> float:
    return to_number(a) * to_number(b)


def div(a: Any, b: Any) -> float:
    """Number::divide: IEEE 754 division, where Python raises on a zero divisor."""
    x = a if a.__class__ is float else to_number(a)
    y = b if b.__class__ is float else to_number(b)
    try:
        return x / y
    except ZeroDivisionError:
        if x != x or x == 0.0:
            return NAN
        return math.copysign(INF, x) * math.copysign(1.0, y)


def mod(a: Any, b: Any) -> float:
    """Number::remainder: the sign of the dividend (C fmod), NaN for a zero divisor."""
    x = a if a.__class__ is float else to_number(a)
    y = b if b.__class__ is float else to_number(b)
    if y == 0.0 or x != x or y != y or x in (INF, -INF):
        return NAN
    if y in (INF, -INF):
        return x
    return math.fmod(x, y)


def power(a: Any, b: Any) -> float:
    return pow_(to_number(a), to_number(b))


def neg(a: Any) -> float:
    return -to_number(a)


def bit_not(a: Any) -> float:
    return float(~to_int32(a))


def bit_and(a: Any, b: Any) -> float:
    return float(to_int32(a) & to_int32(b))


def bit_or(a: Any, b: Any) -> float:
    return float(to_int32(a) | to_int32(b))


def bit_xor(a: Any, b: Any) -> float:
    return float(to_int32(a) ^ to_int32(b))


def shift_left(a: Any, b: Any) -> float:
    r = (to_int32(a) << (to_uint32(b) & 31)) & 0xFFFFFFFF
    return float(r - 0x100000000 if r >= 0x80000000 else r)


def shift_right(a: Any, b: Any) -> float:
    return float(to_int32(a) >> (to_uint32(b) & 31))


def shift_right_unsigned(a: Any, b: Any) -> float:
    return float(to_uint32(a) >> (to_uint32(b) & 31))
