"""ECMAScript number <-> string conversions (ECMA-262 2025, sections 6.1.6.1.20 and 7.1.4.1).

This is the one place where these conversions live. JavaScript numbers are Python ``float``.

* ``number_to_string`` is Number::toString(x) (radix 10) and sits on the hot path (string
  concatenation, JSON output): the standard asks for the shortest digits that round-trip
  ("k is as small as possible"), closest to the exact value; orjson's Ryu (three times faster
  than ``repr``) and ``repr`` (David Gay's shortest mode) both give exactly those digits, so
  only the layout is ours. QuickJS departs from the standard here (for some doubles, e.g.
  ``2**-24``, it prints 17 digits where 16 round-trip): the python engine follows the standard
  and V8, and ``conformance/quickjs_deviations.py`` records the difference.
* Radixes other than 10 are implementation-defined; there QuickJS's dtoa is ported: it tries
  shorter and shorter roundings, keeps the last that round-trips and prints the digits padded
  with zeros, never the exact value (``(2**60).toString(3)`` ends in zeros). The parser only
  looks at the first significant digits (38 in base 10), truncating the rest, as QuickJS does
  (the standard lets an implementation round after the 20th significant digit).
* toFixed / toPrecision / toExponential use the exact value of the double (integer arithmetic on
  ``as_integer_ratio``) with ties rounded away from zero, as the specification requires.
"""

from __future__ import annotations

import math
import re

from orjson import dumps as _dumps

from transpiler.errors import range_error

__all__ = [
    "number_to_bytes",
    "number_to_string",
    "number_to_string_radix",
    "parse_float",
    "parse_int",
    "string_to_number",
    "to_exponential",
    "to_fixed",
    "to_precision",
]

_NAN = math.nan
_INF = math.inf
_TWO53 = 9007199254740992.0
_E, _N = ord("e"), ord("n")  # searched as ints: `int in bytes` is several times faster than bytes

# StrWhiteSpaceChar as QuickJS sees it: WhiteSpace (TAB VT FF SP NBSP ZWNBSP and the Unicode
# "Zs" category) and LineTerminator (LF CR LS PS). U+180E and U+0085 are not whitespace.
_WS = (
    "\t\n\x0b\x0c\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_DEC_CHARS = "0123456789.eE+-"
_DIGITS36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_RANGE_MSG = "invalid number of digits"
_RADIX_MSG = "toString() radix argument must be between 2 and 36"

# QuickJS dtoa.c tables, indexed by radix - 2.
# Digits tried first by the shortest-representation search (always round-trips).
_DTOA_MAX_DIGITS = (
    54, 35, 28, 24, 22, 20, 19, 18, 17, 17, 16, 16, 15, 15, 15, 14, 14, 14,
    14, 14, 13, 13, 13, 13, 13, 13, 13, 12, 12, 12, 12, 12, 12, 12, 12,
)  # fmt: skip
# Significant digits the parser keeps for non power-of-two radixes (the rest is truncated).
_ATOD_MAX_DIGITS = (
    64, 80, 32, 55, 49, 45, 21, 40, 38, 37, 35, 34, 33, 32, 16, 31, 30, 30,
    29, 29, 28, 28, 27, 27, 27, 26, 26, 26, 26, 25, 12, 25, 25, 24, 24,
)  # fmt: skip
# round(2**24 / log2(radix)) for radixes that are not powers of two.
_MUL_LOG2_RADIX = (
    0x000000, 0xA1849D, 0x000000, 0x6E40D2, 0x6308C9, 0x5B3065, 0x000000, 0x50C24E,
    0x4D104D, 0x4A0027, 0x4768CE, 0x452E54, 0x433D00, 0x418677, 0x000000, 0x3EA16B,
    0x3D645A, 0x3C43C2, 0x3B3B9A, 0x3A4899, 0x39680B, 0x3897B3, 0x37D5AF, 0x372069,
    0x367686, 0x35D6DF, 0x354072, 0x34B261, 0x342BEA, 0x33AC62, 0x000000, 0x32BFD9,
    0x3251DD, 0x31E8D6, 0x318465,
)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Number -> string
# --------------------------------------------------------------------------------------------


def number_to_string(x: float) -> str:
    """Number::toString(x): the JavaScript ``String(x)`` (ECMA-262 6.1.6.1.20, radix 10).

    Shortest round-trip digits in JavaScript's layout. Fast paths: integers up to 2**53 print
    exactly (``-0`` as "0"); orjson's Ryu output is JavaScript's own wherever it has no
    exponent (its fixed range lies inside JavaScript's 1e-7 <= |x| < 1e21) or a negative
    exponent below -6 (JavaScript's exponent form, "5.960464477539063e-8"); the rest (large
    numbers, 1e-7 <= |x| < 1e-6 when orjson chose an exponent, NaN, infinities) goes to
    ``_to_string_slow``.
    """
    if x.is_integer():
        if -_TWO53 <= x <= _TWO53:
            return str(int(x))  # int(-0.0) == 0, so -0 prints "0"
        return _to_string_slow(x)
    b = _dumps(x)
    if _E in b or _N in b:  # exponent form, or "null" for NaN and the infinities
        return _from_exponent_form(x, b).decode()
    return b.decode()


def number_to_bytes(x: float) -> bytes:
    """``number_to_string(x)`` as ASCII bytes, without the str round trip (output payloads)."""
    if x.is_integer():
        if -_TWO53 <= x <= _TWO53:
            return b"%d" % x
        return _to_string_slow(x).encode()
    b = _dumps(x)
    if _E in b or _N in b:
        return _from_exponent_form(x, b)
    return b


def _from_exponent_form(x: float, b: bytes) -> bytes:
    """Number::toString of a non-integral x that orjson wrote as ``b`` in exponent form (or as
    "null"): orjson's text when JavaScript also uses the exponent form for it (an exponent
    below -6; orjson writes "5.960464477539063e-8" exactly as JavaScript does), else the
    layout of ``_to_string_slow``."""
    _, minus, exp = b.partition(b"e-")
    if minus and int(exp) > 6:
        return b
    return _to_string_slow(x).encode()


def _special_to_string(x: float) -> str | None:
    """Number::toString of NaN, +/-Infinity and +/-0, whatever the radix; None for the rest."""
    if x != x:
        return "NaN"
    if x == _INF:
        return "Infinity"
    if x == -_INF:
        return "-Infinity"
    if x == 0.0:
        return "0"
    return None


def _to_string_slow(x: float) -> str:
    """Number::toString for the values the fast paths do not lay out like JavaScript."""
    special = _special_to_string(x)
    if special is not None:
        return special
    digits, n = _shortest10(-x if x < 0 else x)
    s = _format_free(digits, n)
    return "-" + s if x < 0 else s


def _shortest10(a: float) -> tuple[str, int]:
    """Shortest round-trip digits of a > 0 (``repr``'s), with ``a = 0.digits * 10**n``."""
    r = repr(a)
    mant, _, exp = r.partition("e")
    ip, _, fp = mant.partition(".")
    if fp == "0":
        fp = ""
    n = len(ip) + (int(exp) if exp else 0)
    digits = ip + fp
    stripped = digits.lstrip("0")
    n -= len(digits) - len(stripped)
    return stripped.rstrip("0"), n


def _format_free(digits: str, n: int) -> str:
    """Lay out ``0.digits * 10**n`` as Number::toString does (step 6 onwards of the spec)."""
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    e = n - 1
    head = digits[0] + "." + digits[1:] if k > 1 else digits
    return head + ("e+" if e >= 0 else "e-") + str(abs(e))


def _mul_log2_radix(a: int, radix: int) -> int:
    """floor(a / log2(radix)), computed exactly as QuickJS does (table driven)."""
    if radix & (radix - 1) == 0:
        return a // (radix.bit_length() - 1)
    return (a * _MUL_LOG2_RADIX[radix - 2]) >> 24


def _round_scaled(n: int, d: int, radix: int, f: int, away: bool) -> int:
    """round(n / d * radix**f) to an integer; ties to even, or away from zero if ``away``."""
    if f >= 0:
        n *= radix**f
    else:
        d *= radix**-f
    q, r = divmod(n, d)
    r += r
    if r > d or (r == d and (away or q & 1)):
        q += 1
    return q


def _as_float(mant: int, radix: int, f: int) -> float:
    """mant * radix**f correctly rounded to a double (inf on overflow)."""
    try:
        if f >= 0:
            return float(mant * radix**f)
        return mant / radix**-f
    except OverflowError:
        return _INF


def _start_exponent(a: float, radix: int) -> int:
    """QuickJS's first guess E with radix**(E-1) <= a < 2 * radix**E (a > 0)."""
    return 1 + _mul_log2_radix(math.frexp(a)[1] - 1, radix)


def _free_format(a: float, radix: int) -> tuple[int, int, int]:
    """QuickJS's shortest-digits search (JS_DTOA_FORMAT_FREE) for a finite a > 0.

    Returns (mant, P, E) with ``a ~ mant * radix**(E - P)`` and mant of exactly P digits.
    Starting from a digit count that always round-trips, it rounds to one digit fewer at a
    time and keeps the last count that still converts back to ``a``.
    """
    n, d = a.as_integer_ratio()
    e0 = _start_exponent(a, radix)
    p = _DTOA_MAX_DIGITS[radix - 2]
    found: tuple[int, int, int] | None = None
    while True:
        mant_max = radix**p
        e = e0
        while True:
            mant = _round_scaled(n, d, radix, p - e, False)
            if mant < mant_max:
                break
            e += 1
        while mant % radix == 0:
            mant //= radix
            p -= 1
        if found is not None and _as_float(mant, radix, e - p) != a:
            break
        found = (mant, p, e)
        if p == 1:
            break
        p -= 1
    return found


def _int_to_radix(n: int, radix: int) -> str:
    """Digits of the integer n >= 0 in the given radix (lower-case letters)."""
    if radix == 10:
        return str(n)
    if radix == 16:
        return format(n, "x")
    if radix == 2:
        return format(n, "b")
    if radix == 8:
        return format(n, "o")
    if n == 0:
        return "0"
    out = []
    while n:
        n, r = divmod(n, radix)
        out.append(_DIGITS36[r])
    return "".join(reversed(out))


def number_to_string_radix(x: float, radix: int) -> str:
    """Number.prototype.toString(radix) exactly as QuickJS prints it (no exponent notation).

    Integers below 2**53 are printed exactly; other values use QuickJS's shortest round-trip
    digits in that radix, padded with zeros for large values and with leading zeros after
    "0." for small ones. ``radix`` is the already converted integer argument.
    """
    if radix == 10:
        return number_to_string(x)
    if not 2 <= radix <= 36:
        raise range_error(_RADIX_MSG)
    special = _special_to_string(x)
    if special is not None:
        return special
    a = -x if x < 0 else x
    sign = "-" if x < 0 else ""
    if a.is_integer() and a < _TWO53:
        return sign + _int_to_radix(int(a), radix)
    mant, p, e = _free_format(a, radix)
    digits = _int_to_radix(mant, radix).rjust(p, "0")
    if e <= 0:
        return sign + "0." + "0" * -e + digits
    if e >= p:
        return sign + digits + "0" * (e - p)
    return sign + digits[:e] + "." + digits[e:]


# --------------------------------------------------------------------------------------------
# toFixed / toPrecision / toExponential
# --------------------------------------------------------------------------------------------


def _to_int32_sat(v: float | None) -> int:
    """QuickJS JS_ToInt32Sat on an already numeric argument (None is undefined, i.e. NaN)."""
    if v is None or v != v:
        return 0
    if v >= 2147483647.0:
        return 2147483647
    if v <= -2147483648.0:
        return -2147483648
    return int(v)


def _fixed_digits(a: float, p: int) -> tuple[str, int]:
    """``a >= 0`` rounded to p significant digits, ties away from zero (JS_DTOA_FORMAT_FIXED).

    Returns (digits, E) with ``a ~ 0.digits * 10**E``; zero gives ("000...", 1).
    """
    if a == 0.0:
        return "0" * p, 1
    n, d = a.as_integer_ratio()
    e = _start_exponent(a, 10)
    mant_max = 10**p
    while True:
        mant = _round_scaled(n, d, 10, p - e, True)
        if mant < mant_max:
            return str(mant), e
        e += 1


def _exp_notation(digits: str, e: int) -> str:
    """d.ddde+N layout of ``0.digits * 10**e``."""
    head = digits[0] + "." + digits[1:] if len(digits) > 1 else digits
    e -= 1
    return head + ("e+" if e >= 0 else "e-") + str(abs(e))


def to_fixed(x: float, digits: float | None) -> str:
    """Number.prototype.toFixed: exact value of x, ties away from zero.

    The digits range is checked before x is looked at (so ``NaN.toFixed(101)`` throws);
    |x| >= 1e21 falls back to ToString. Negative values keep their sign even when they round
    to zero ("-0.00"), -0 does not.
    """
    f = _to_int32_sat(digits)
    if f < 0 or f > 100:
        raise range_error(_RANGE_MSG)
    if x != x:
        return "NaN"
    if x >= 1e21 or x <= -1e21:
        return number_to_string(x)
    neg = x < 0
    n, d = (-x if neg else x).as_integer_ratio()
    q, r = divmod(n * 10**f, d)
    if r + r >= d:
        q += 1
    s = str(q)
    if f:
        s = s.rjust(f + 1, "0")
        s = s[:-f] + "." + s[-f:]
    return "-" + s if neg else s


def to_exponential(x: float, digits: float | None) -> str:
    """Number.prototype.toExponential. ``digits`` None (undefined) means as many as needed.

    Non-finite x returns ToString(x) before the range of digits is checked.
    """
    f = _to_int32_sat(digits)
    if x != x or x == _INF or x == -_INF:
        return number_to_string(x)
    neg = x < 0
    a = -x if neg else x
    if digits is None:
        if a == 0.0:
            ds, e = "0", 1
        else:
            ds, e = _shortest10(a)
    else:
        if f < 0 or f > 100:
            raise range_error(_RANGE_MSG)
        ds, e = _fixed_digits(a, f + 1)
    s = _exp_notation(ds, e)
    return "-" + s if neg else s


def to_precision(x: float, precision: float | None) -> str:
    """Number.prototype.toPrecision. None (undefined) is ToString(x); non-finite x returns
    ToString(x) before the range of precision is checked."""
    if precision is None:
        return number_to_string(x)
    p = _to_int32_sat(precision)
    if x != x or x == _INF or x == -_INF:
        return number_to_string(x)
    if p < 1 or p > 100:
        raise range_error(_RANGE_MSG)
    neg = x < 0
    ds, e = _fixed_digits(-x if neg else x, p)
    if e <= -6 or e > p:
        s = _exp_notation(ds, e)
    elif e <= 0:
        s = "0." + "0" * -e + ds
    elif e < p:
        s = ds[:e] + "." + ds[e:]
    else:
        s = ds
    return "-" + s if neg else s


# --------------------------------------------------------------------------------------------
# String -> number
# --------------------------------------------------------------------------------------------

_RADIX_PREFIX = {"x": 16, "X": 16, "o": 8, "O": 8, "b": 2, "B": 2}
# Longest run of digits valid in each radix (index = radix).
_DIGIT_RES = [None, None] + [
    re.compile(f"[0-{r - 1}]*" if r <= 10 else f"[0-9a-{_DIGITS36[r - 1]}A-{_DIGITS36[r - 1].upper()}]*")
    for r in range(2, 37)
]
_PARSE_FLOAT_RE = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")


def _decimal_to_float(t: str) -> float:
    """Value of a syntactically valid StrDecimalLiteral (no Infinity) as QuickJS computes it.

    QuickJS keeps only the first 38 significant digits and truncates the rest before rounding
    correctly; Python's ``float`` rounds the full string, so long strings are cut first.
    """
    if len(t) <= 38:
        return float(t)
    mant, _, exp = t.replace("E", "e").partition("e")
    sign = ""
    if mant[0] in "+-":
        sign, mant = mant[0], mant[1:]
    ip, _, fp = mant.partition(".")
    digits = (ip + fp).lstrip("0")
    if len(digits) <= 38:
        return float(t)
    expn = (int(exp) if exp else 0) - len(fp) + len(digits) - 38
    return float(f"{sign}{digits[:38]}e{expn}")


def _digits_to_float(digits: str, radix: int, neg: bool) -> float:
    """Value of a non-empty string of digits valid in radix, as QuickJS's js_atod computes it."""
    digits = digits.lstrip("0")
    if not digits:
        return -0.0 if neg else 0.0
    if radix & (radix - 1) == 0:
        # Power-of-two radix: QuickJS rounds the exact value correctly (sticky bit).
        if (len(digits) - 1) * (radix.bit_length() - 1) >= 1024:
            v = _INF
        else:
            v = float(int(digits, radix))
    else:
        if len(digits) > 1100:  # >= radix**1100 > 2**1024
            v = _INF
        else:
            keep = _ATOD_MAX_DIGITS[radix - 2]
            v = _as_float(int(digits[:keep], radix), radix, max(len(digits) - keep, 0))
    return -v if neg else v


def string_to_number(s: str) -> float:
    """StringToNumber (ToNumber applied to a string), as QuickJS evaluates ``Number(s)``.

    Whitespace-trimmed; "" is 0; decimal literals with optional sign and exponent;
    "Infinity" with optional sign; unsigned 0x/0o/0b integers; anything else is NaN.
    """
    t = s.strip(_WS)
    if not t:
        return 0.0
    if not t.lstrip(_DEC_CHARS):
        # Only decimal-literal characters: Python's float grammar then equals JavaScript's
        # (no "inf"/"nan", no underscores, no non-ASCII digits can remain).
        try:
            float(t)
        except ValueError:
            return _NAN
        return _decimal_to_float(t)
    if len(t) > 2 and t[0] == "0" and t[1] in _RADIX_PREFIX:
        radix = _RADIX_PREFIX[t[1]]
        body = t[2:]
        if _DIGIT_RES[radix].fullmatch(body):
            return _digits_to_float(body, radix, False)
        return _NAN
    if t == "Infinity" or t == "+Infinity":
        return _INF
    if t == "-Infinity":
        return -_INF
    return _NAN


def parse_float(s: str) -> float:
    """Global parseFloat: the longest prefix (after whitespace) that is a StrDecimalLiteral."""
    m = _PARSE_FLOAT_RE.match(s.lstrip(_WS))
    if m is None:
        return _NAN
    t = m.group()
    if t[-1] == "y":  # [+-]Infinity
        return -_INF if t[0] == "-" else _INF
    return _decimal_to_float(t)


def _to_int32(v: float) -> int:
    """ToInt32 of a number."""
    if v != v or v in (_INF, -_INF):
        return 0
    i = int(v) & 0xFFFFFFFF
    return i - 0x100000000 if i & 0x80000000 else i


def parse_int(s: str, radix: float | None) -> float:
    """Global parseInt(s, radix); ``radix`` is already ToNumber'd, None for undefined.

    ToInt32(radix); 0 means 10, or 16 with a 0x prefix (also accepted after the sign when the
    radix is 16); outside 2..36 gives NaN. Takes the longest prefix of digits valid in the
    radix; long non power-of-two digit strings are truncated to QuickJS's precision first.
    """
    r = 0 if radix is None else _to_int32(radix)
    if r != 0 and not 2 <= r <= 36:
        return _NAN
    t = s.lstrip(_WS)
    neg = False
    if t[:1] in ("-", "+"):
        neg = t[0] == "-"
        t = t[1:]
    if (r == 0 or r == 16) and t[:2] in ("0x", "0X"):
        t = t[2:]
        r = 16
    elif r == 0:
        r = 10
    digits = _DIGIT_RES[r].match(t).group()
    if not digits:
        return _NAN
    return _digits_to_float(digits, r, neg)
