"""The ``Math`` object of ES2017: every function takes numbers already converted by ToNumber.

Python's ``math`` raises where IEEE 754 (and so JavaScript) returns NaN or an infinity, and
returns ``int`` from floor/ceil/trunc; these wrappers restore the JavaScript results.
"""

from __future__ import annotations

import math
import random as _random
import struct

from transpiler.jslib.coerce import to_int32, to_number, to_uint32

NAN = math.nan
_pow = math.pow
INF = math.inf

CONSTANTS: dict[str, float] = {
    "E": math.e, "LN10": math.log(10), "LN2": math.log(2), "LOG10E": 1 / math.log(10),
    "LOG2E": 1 / math.log(2), "PI": math.pi, "SQRT1_2": math.sqrt(0.5), "SQRT2": math.sqrt(2),
}
# the exact doubles JavaScript uses (the computed ones above can be off by one ulp)
CONSTANTS.update(LN10=2.302585092994046, LN2=0.6931471805599453, LOG10E=0.4342944819032518,
                 LOG2E=1.4426950408889634, SQRT1_2=0.7071067811865476, SQRT2=1.4142135623730951)


def _domain(fn):
    """Wrap a libm function: domain errors give NaN, overflow gives the signed infinity."""
    def wrapped(x: float) -> float:
        try:
            return fn(x)
        except ValueError:
            return NAN
        except OverflowError:
            return INF
    wrapped.__name__ = fn.__name__
    return wrapped


def sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0.0 else NAN


def abs_(x: float) -> float:
    return abs(x)


def floor(x: float) -> float:
    if x != x or x in (INF, -INF) or x == 0.0:
        return x
    return float(math.floor(x))


def ceil(x: float) -> float:
    if x != x or x in (INF, -INF) or x == 0.0:
        return x
    if -1.0 < x < 0.0:
        return -0.0
    return float(math.ceil(x))


def trunc(x: float) -> float:
    if x != x or x in (INF, -INF) or x == 0.0:
        return x
    if -1.0 < x < 0.0:
        return -0.0
    return float(math.trunc(x))


def round_(x: float) -> float:
    """Math.round: half towards +Infinity, -0 for [-0.5, -0], exact near 0.5."""
    if x != x or x in (INF, -INF) or x == 0.0:
        return x
    if 0.0 < x < 0.5:
        return 0.0
    if -0.5 <= x < 0.0:
        return -0.0
    if abs(x) >= 4503599627370496.0:  # 2**52: already integral
        return x
    f = math.floor(x)
    return float(f + 1) if x - f >= 0.5 else float(f)


def sign(x: float) -> float:
    if x != x or x == 0.0:
        return x
    return 1.0 if x > 0.0 else -1.0


def pow_(b: float, e: float) -> float:
    """Number::exponentiate: libm's pow (as QuickJS), minus Python's exceptions and the two
    IEEE cases JavaScript defines differently (``1 ** NaN`` and ``(+-1) ** +-Infinity`` are NaN)."""
    try:
        r = _pow(b, e)
    except OverflowError:
        odd = e.is_integer() and e % 2.0 == 1.0
        return -INF if b < 0.0 and odd else INF
    except ValueError:
        if b == 0.0:  # zero to a negative power
            odd = e.is_integer() and e % 2.0 == 1.0
            return -INF if odd and math.copysign(1.0, b) < 0.0 else INF
        return NAN  # negative base, fractional exponent
    if r == 1.0 and e - e != 0.0:  # e is NaN or infinite
        return NAN
    return r


def log(x: float) -> float:
    if x == 0.0:
        return -INF
    return math.log(x) if x > 0.0 else NAN if x == x else x


def log2(x: float) -> float:
    if x == 0.0:
        return -INF
    return math.log2(x) if x > 0.0 else NAN if x == x else x


def log10(x: float) -> float:
    if x == 0.0:
        return -INF
    return math.log10(x) if x > 0.0 else NAN if x == x else x


def log1p(x: float) -> float:
    if x == -1.0:
        return -INF
    return math.log1p(x) if x > -1.0 else NAN if x == x else x


def atanh(x: float) -> float:
    if x == 1.0:
        return INF
    if x == -1.0:
        return -INF
    return _domain(math.atanh)(x)


def sinh(x: float) -> float:
    try:
        return math.sinh(x)
    except OverflowError:
        return math.copysign(INF, x)


def cosh(x: float) -> float:
    try:
        return math.cosh(x)
    except OverflowError:
        return INF


def expm1(x: float) -> float:
    try:
        return math.expm1(x)
    except OverflowError:
        return INF


def exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return INF


def atan2(y: float, x: float) -> float:
    return math.atan2(y, x)


def hypot(*xs: float) -> float:
    return math.hypot(*xs)


def max_(*xs: float) -> float:
    result = -INF
    for x in xs:
        if x != x:
            return NAN
        if x > result or (x == 0.0 and result == 0.0 and math.copysign(1.0, result) < 0.0):
            result = x
    return result


def min_(*xs: float) -> float:
    result = INF
    nan = False
    for x in xs:
        if x != x:
            nan = True
        elif x < result or (x == 0.0 and result == 0.0 and math.copysign(1.0, x) < 0.0):
            result = x
    return NAN if nan else result


def clz32(x: float) -> float:
    return float(32 - to_uint32(x).bit_length())


def imul(a: float, b: float) -> float:
    r = (to_int32(a) * to_int32(b)) & 0xFFFFFFFF
    return float(r - 0x100000000 if r >= 0x80000000 else r)


def fround(x: float) -> float:
    if x != x or x in (INF, -INF):
        return x
    try:
        return struct.unpack("f", struct.pack("f", x))[0]
    except OverflowError:
        # beyond the largest float32: rounds to it or to infinity (halfway point 2**128 - 2**103)
        limit = 3.4028235677973366e38
        if abs(x) < limit:
            return math.copysign(3.4028234663852886e38, x)
        return math.copysign(INF, x)


def random() -> float:
    return _random.random()


FUNCTIONS: dict[str, object] = {
    "abs": abs_, "acos": _domain(math.acos), "acosh": _domain(math.acosh),
    "asin": _domain(math.asin), "asinh": _domain(math.asinh), "atan": math.atan,
    "atanh": atanh, "atan2": atan2, "cbrt": math.cbrt, "ceil": ceil, "clz32": clz32,
    "cos": _domain(math.cos), "cosh": cosh, "exp": exp, "expm1": expm1,
    "floor": floor, "fround": fround, "hypot": hypot, "imul": imul, "log": log,
    "log1p": log1p, "log10": log10, "log2": log2, "max": max_, "min": min_,
    "pow": pow_, "random": random, "round": round_, "sign": sign, "sin": _domain(math.sin),
    "sinh": sinh, "sqrt": sqrt, "tan": _domain(math.tan),
    "tanh": math.tanh, "trunc": trunc,
}

# how many arguments each function reads (the rest are evaluated but ignored); None: all
ARITY: dict[str, int | None] = {name: 1 for name in FUNCTIONS}
ARITY.update(atan2=2, pow=2, imul=2, hypot=None, max=None, min=None, random=0)


def as_value(name: str):
    """``Math.<name>`` as a function value (``[Math.abs][0]('-5')``): called with raw JavaScript
    values, so it applies ToNumber to the arguments it reads, and NaN for missing ones."""
    fn, arity = FUNCTIONS[name], ARITY[name]

    def call(*args):
        used = args if arity is None else args[:arity]
        nums = [a if a.__class__ is float else to_number(a) for a in used]
        if arity is not None and len(nums) < arity:
            nums += [NAN] * (arity - len(nums))
        return fn(*nums)

    call.__name__ = name
    return call
