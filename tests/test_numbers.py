"""transpiler.jslib.numbers against QuickJS (quickjs-ng), the reference engine.

Every assertion compares with what QuickJS computes for the equivalent JavaScript; the few
literal expectations in ``test_documented_examples`` were checked in QuickJS as well.
Large batches (random doubles, all powers of two) are evaluated in one QuickJS call each.
"""

from __future__ import annotations

import decimal
import json
import math
import os
import random
import struct

import pytest
import quickjs
from hypothesis import given, settings
from hypothesis import strategies as st

from transpiler.errors import JSError
from transpiler.jslib.numbers import (
    number_to_bytes,
    number_to_string,
    number_to_string_radix,
    parse_float,
    parse_int,
    string_to_number,
    to_exponential,
    to_fixed,
    to_precision,
)

CTX = quickjs.Context()
HYP = settings(max_examples=300, deadline=None)
HYP_SMALL = settings(max_examples=150, deadline=None)


# ----------------------------------------------------------------------------- helpers


def js_lit(x: float) -> str:
    """A JavaScript expression for the double x (parenthesised, so methods can be called)."""
    if x != x:
        return "NaN"
    if x == math.inf:
        return "Infinity"
    if x == -math.inf:
        return "(-Infinity)"
    if x == 0.0 and math.copysign(1.0, x) < 0:
        return "(-0)"
    return f"({x!r})"


def js_arg(x: float | None) -> str:
    return "undefined" if x is None else js_lit(x)


def _wrap(expr: str) -> str:
    # String result, "-0" for negative zero, "Name: message" for a thrown error.
    return (
        f"(function(){{try{{var v={expr};return Object.is(v,-0)?'-0':String(v)}}"
        f"catch(e){{return e.name+': '+e.message}}}})()"
    )


def qjs(expr: str) -> str:
    """QuickJS's answer for expr, as a string (see _wrap)."""
    return CTX.eval(_wrap(expr))


def qjs_batch(exprs: list[str]) -> list[str]:
    out: list[str] = []
    for i in range(0, len(exprs), 1000):
        chunk = exprs[i : i + 1000]
        out += json.loads(CTX.eval("JSON.stringify([" + ",".join(map(_wrap, chunk)) + "])"))
    return out


def v8_batch(exprs: list[str]) -> list[str]:
    """V8's answers (node, one process for the batch) in the form of qjs()."""
    from conformance.node import shared

    return shared().run_programs([f"JSON.stringify({_wrap(e)})" for e in exprs])


def _longer_same_number(quickjs_says: str, v8_says: str) -> bool:
    """QuickJS's known Number::toString deviation: more digits than the shortest, same value."""
    try:
        return float(quickjs_says) == float(v8_says) and len(quickjs_says) > len(v8_says)
    except ValueError:
        return False


def standard_batch(exprs: list[str]) -> list[str]:
    """The standard's answers: QuickJS's, except where it prints a number with more digits than
    the shortest (conformance/quickjs_deviations.py), where V8's answer is the standard's."""
    quickjs_says = qjs_batch(exprs)
    v8_says = v8_batch(exprs)
    return [v if q != v and _longer_same_number(q, v) else q for q, v in zip(quickjs_says, v8_says)]


def py_str(fn, *args) -> str:
    """Our answer in the same form as qjs(): strings as is, errors as "Name: message"."""
    try:
        return fn(*args)
    except JSError as e:
        return f"{e.name}: {e.message}"


def py_num(fn, *args) -> str:
    """Our numeric answer, rendered without relying on number_to_string (exact via repr)."""
    v = fn(*args)
    assert type(v) is float
    return num_key(v)


def num_key(v: float) -> str:
    if v != v:
        return "NaN"
    if v == math.inf:
        return "Infinity"
    if v == -math.inf:
        return "-Infinity"
    if v == 0.0 and math.copysign(1.0, v) < 0:
        return "-0"
    return repr(v)


def js_num_key(s: str) -> str:
    """QuickJS's String(v) of a number, parsed back exactly (shortest round-trip digits)."""
    if s in ("NaN", "Infinity", "-Infinity", "-0"):
        return s
    return repr(float(s))


def bits_to_double(b: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", b))[0]


# ----------------------------------------------------------------------------- value sets

EDGE = [
    0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 2.225073858507201e-308,
    1.7976931348623157e308, -1.7976931348623157e308, 2.0**53, 2.0**53 + 2, 2.0**53 - 1,
    -(2.0**53) - 2, 2.0**60, 2.0**64, 1e21, -1e21, 1e21 - 65536, 999999999999999868928.0,
    1e-7, 1e-6, 1.5e-7, 9.999999999999999e-7, 123e-20, 0.1 + 0.2, 0.1, 0.5, 1.5, 2.5, -1.5,
    -2.5, 1.005, 1.45, 8.345, 1.0, -1.0, 25.5, 3.14159, -7.25, 1764000000000.0, 123.456,
    255.0, -255.5, 1e16, 1e15 + 0.3, 1 / 3, 2 / 3, 100.0, 1e20, 1e22, 1e100, 1e-100, 1e308,
    1e-323, 4.35, 0.000001234, 123456789.123456789, 7.0e-10, 2**-1022 * 3, math.pi, math.e,
    math.nan, math.inf, -math.inf,
]  # fmt: skip


def _random_doubles(n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    out = [bits_to_double(rng.getrandbits(64)) for _ in range(n)]
    out += [rng.uniform(-1e6, 1e6) for _ in range(n // 4)]
    out += [rng.randint(-(10**8), 10**8) / 100 for _ in range(n // 4)]
    out += [float(rng.randint(0, 2**75)) for _ in range(n // 8)]
    out += [rng.uniform(0, 1e-5) for _ in range(n // 8)]
    return out


RANDOM = _random_doubles(2000, seed=20240601)
POWERS_OF_TWO = [math.ldexp(1.0, k) for k in range(-1074, 1024)]

any_float = st.floats(allow_nan=True, allow_infinity=True)
# Mostly sensible digit arguments, sometimes anything (NaN, Infinity, fractions, huge).
digit_arg = st.one_of(
    st.integers(-3, 103).map(float),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
)


# ----------------------------------------------------------------------------- documentation


@pytest.mark.parametrize(
    ("fn", "args", "expected"),
    [
        (number_to_string, (1e21,), "1e+21"),
        (number_to_string, (1e-7,), "1e-7"),
        (number_to_string, (1e-6,), "0.000001"),
        (number_to_string, (-0.0,), "0"),
        (number_to_string, (70.0,), "70"),
        (number_to_string_radix, (255.0, 16), "ff"),
        (number_to_string_radix, (0.5, 2), "0.1"),
        (number_to_string_radix, (-255.5, 16), "-ff.8"),
        (number_to_string_radix, (0.1, 3), "0.0022002200220022002200220022002201"),
        (number_to_string_radix, (2.0**60, 3), "21200101122222021102111220121120000000"),
        (to_fixed, (1.005, 2.0), "1.00"),
        (to_fixed, (2.5, 0.0), "3"),
        (to_fixed, (-1.5, 0.0), "-2"),
        (to_fixed, (1e21, 2.0), "1e+21"),
        (to_fixed, (-1e-10, 2.0), "-0.00"),
        (to_precision, (0.000001, 2.0), "0.0000010"),
        (to_exponential, (123.456, None), "1.23456e+2"),
        (to_exponential, (0.0, 2.0), "0.00e+0"),
        (to_fixed, (1.0, 101.0), "RangeError: invalid number of digits"),
        (number_to_string_radix, (1.0, 37), "RangeError: toString() radix argument must be between 2 and 36"),
    ],
)
def test_documented_examples(fn, args, expected):
    assert py_str(fn, *args) == expected
    name = {
        number_to_string: "toString",
        number_to_string_radix: "toString",
        to_fixed: "toFixed",
        to_precision: "toPrecision",
        to_exponential: "toExponential",
    }[fn]
    js_args = ",".join(str(a) if isinstance(a, int) else js_arg(a) for a in args[1:])
    assert qjs(f"{js_lit(args[0])}.{name}({js_args})") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "0.0"), (" 12 ", "12.0"), ("0x1A", "26.0"), ("1_0", "NaN"), ("Infinity", "Infinity"),
        ("inf", "NaN"), ("-0", "-0"), ("\u00a0\ufeff\u2028 5 \u3000", "5.0"), ("\u180e5", "NaN"),
        ("9007199254740993.00000000000000000000000001", "9007199254740992.0"),
    ],
)  # fmt: skip
def test_documented_string_to_number(text, expected):
    # The last case: QuickJS truncates after 38 significant digits, then rounds (to even).
    assert py_num(string_to_number, text) == expected
    assert js_num_key(qjs(f"Number({json.dumps(text)})")) == expected


# ----------------------------------------------------------------------------- number_to_string


def v8_strings(xs: list[float]) -> list[str]:
    """V8's String(x) of each x, from one node process (conformance.node)."""
    from conformance.node import shared

    programs = ["JSON.stringify([" + ",".join(js_lit(x) for x in xs[i:i + 5000]) + "].map(String))"
                for i in range(0, len(xs), 5000)]  # 5,000 numbers per program: one compile each
    return [text for answer in shared().run_programs(programs) for text in answer]


def repr_digits(x: float) -> tuple[str, int]:
    """Python's shortest round-trip digits of |x| (``repr``, David Gay's shortest mode) and
    the decimal exponent n of ``0.digits * 10**n``: independent of numbers.py."""
    d = decimal.Decimal(repr(abs(x)))
    sign, digits, exp = d.normalize().as_tuple()
    text = "".join(map(str, digits))
    return text, len(text) + exp


def js_digits(s: str) -> tuple[str, int]:
    """The digits and exponent of a JavaScript number string (any layout), like repr_digits."""
    d = decimal.Decimal(s.lstrip("-"))
    sign, digits, exp = d.normalize().as_tuple()
    text = "".join(map(str, digits))
    return text, len(text) + exp


def check_shortest(xs: list[float]) -> None:
    """number_to_string and number_to_bytes of every x equal V8's String(x), whose digits are
    repr's (shortest round trip, ECMA-262 6.1.6.1.20 step 5); where QuickJS differs, its
    answer is the known deviation: more digits than needed, still denoting x."""
    expected = v8_strings(xs)
    quickjs_says = qjs_batch([f"String({js_lit(x)})" for x in xs])
    bad, bad_bytes, bad_digits, deviations = [], [], [], []
    for x, v8, qj in zip(xs, expected, quickjs_says):
        got = number_to_string(x)
        if got != v8:
            bad.append((x, got, v8))
        if number_to_bytes(x) != v8.encode():
            bad_bytes.append((x, number_to_bytes(x), v8))
        if math.isfinite(x) and x != 0.0 and js_digits(got) != repr_digits(x):
            bad_digits.append((x, got, repr_digits(x)))
        if qj != v8:
            deviations.append((x, qj, v8))
    assert bad[:10] == []
    assert bad_bytes[:10] == []
    assert bad_digits[:10] == []
    for x, qj, v8 in deviations:  # QuickJS: longer, same value, same layout otherwise
        assert float(qj) == x and len(js_digits(qj)[0]) > len(js_digits(v8)[0]), (x, qj, v8)
    return deviations


@pytest.mark.parametrize("x", EDGE, ids=repr)
def test_number_to_string_edge(x):
    assert number_to_string(x) == v8_strings([x])[0]


def test_issue_examples_number_to_string():
    # issue 11: QuickJS prints 7.1202363472230444e-307 and 5.9604644775390625e-8
    xs = [7.120236347223045e-307, 2.0**-24]
    assert [number_to_string(x) for x in xs] == v8_strings(xs)
    assert v8_strings(xs) == ["7.120236347223045e-307", "5.960464477539063e-8"]
    assert qjs("String(7.120236347223045e-307)") != number_to_string(7.120236347223045e-307)


def test_number_to_string_every_power_of_two_and_random_doubles():
    """All 2,098 powers of two (and their negatives) and NUMBER_SAMPLE random doubles (20,000
    in CI; ``NUMBER_SAMPLE=1000000`` for the full run) against V8 and repr."""
    n = int(os.environ.get("NUMBER_SAMPLE", "20000"))
    rng = random.Random(int(os.environ.get("NUMBER_SEED", "20261129")))
    xs = POWERS_OF_TWO + [-x for x in POWERS_OF_TWO]
    assert len(POWERS_OF_TWO) == 2098
    deviations = check_shortest(xs)
    assert deviations  # QuickJS's non-shortest powers of two (e.g. 2**-24) are among them
    for i in range(0, n, 50_000):
        chunk = [bits_to_double(rng.getrandbits(64)) for _ in range(min(50_000, n - i))]
        check_shortest(chunk + RANDOM[: 2000 if i == 0 else 0])


def test_number_to_string_across_every_decimal_magnitude():
    # the fast path trusts orjson's layout where it prints no exponent or an exponent below
    # -6: sweep the borders
    rng = random.Random(5)
    xs = [m * 10.0**k for k in range(-12, 23) for m in (rng.uniform(1, 10), round(rng.uniform(1, 10), 2),
                                                        -rng.uniform(1, 10), 1.5, 2.0**-3, 1.0)]
    check_shortest(xs)


@HYP
@given(any_float)
def test_number_to_string_hypothesis(x):
    assert number_to_string(x) == v8_strings([x])[0]
    assert number_to_bytes(x) == number_to_string(x).encode()


def test_number_to_string_returns_zero_for_negative_zero():
    assert number_to_string(-0.0) == qjs("String(-0)") == qjs("'' + -0")


# ----------------------------------------------------------------------------- radix

RADIXES = [2, 3, 4, 5, 7, 8, 10, 16, 32, 36]


@pytest.mark.parametrize("radix", RADIXES)
def test_radix_edge(radix):
    expected = qjs_batch([f"{js_lit(x)}.toString({radix})" for x in EDGE])
    for x, e in zip(EDGE, expected):
        assert py_str(number_to_string_radix, x, radix) == e, x


@pytest.mark.parametrize("radix", [0, 1, 37, -2, 100])
def test_radix_out_of_range(radix):
    assert py_str(number_to_string_radix, 1.5, radix) == qjs(f"(1.5).toString({radix})")


@pytest.mark.parametrize("radix", [2, 3, 6, 8, 11, 16, 35, 36])
def test_radix_random(radix):
    xs = RANDOM[::4] + POWERS_OF_TWO[::23]
    expected = qjs_batch([f"{js_lit(x)}.toString({radix})" for x in xs])
    got = [number_to_string_radix(x, radix) for x in xs]
    bad = [(x, g, e) for x, g, e in zip(xs, got, expected) if g != e]
    assert not bad[:10]


@HYP_SMALL
@given(any_float, st.integers(2, 36))
def test_radix_hypothesis(x, radix):
    assert number_to_string_radix(x, radix) == qjs(f"{js_lit(x)}.toString({radix})")


# ----------------------------------------------------------------------------- toFixed & co

DIGITS = [
    None, 0.0, 1.0, 2.0, 3.0, 7.0, 16.0, 20.0, 21.0, 22.0, 50.0, 100.0, 101.0, -1.0, 2.7, -0.5,
    math.nan, math.inf, -math.inf,
]  # fmt: skip


@pytest.mark.parametrize("digits", DIGITS, ids=repr)
def test_to_fixed_edge(digits):
    xs = EDGE + [0.000001, 0.5e-20, 0.45, 0.55, 10.5, 11.5, 1e20 + 0.5, 123.456e5]
    expected = standard_batch([f"{js_lit(x)}.toFixed({js_arg(digits)})" for x in xs])
    for x, e in zip(xs, expected):
        assert py_str(to_fixed, x, digits) == e, x


@pytest.mark.parametrize("digits", DIGITS, ids=repr)
def test_to_precision_edge(digits):
    expected = standard_batch([f"{js_lit(x)}.toPrecision({js_arg(digits)})" for x in EDGE])
    for x, e in zip(EDGE, expected):
        assert py_str(to_precision, x, digits) == e, x


@pytest.mark.parametrize("digits", DIGITS, ids=repr)
def test_to_exponential_edge(digits):
    expected = standard_batch([f"{js_lit(x)}.toExponential({js_arg(digits)})" for x in EDGE])
    for x, e in zip(EDGE, expected):
        assert py_str(to_exponential, x, digits) == e, x


@pytest.mark.parametrize(
    ("method", "fn"),
    [("toFixed", to_fixed), ("toPrecision", to_precision), ("toExponential", to_exponential)],
)
@pytest.mark.parametrize("digits", [None, 0.0, 1.0, 4.0, 15.0, 17.0, 25.0, 100.0])
def test_digit_methods_random(method, fn, digits):
    xs = RANDOM[::5] + POWERS_OF_TWO[::11]
    expected = standard_batch([f"{js_lit(x)}.{method}({js_arg(digits)})" for x in xs])
    bad = [(x, py_str(fn, x, digits), e) for x, e in zip(xs, expected) if py_str(fn, x, digits) != e]
    assert not bad[:10]


@HYP
@given(any_float, digit_arg)
def test_to_fixed_hypothesis(x, digits):
    expected = standard_batch([f"{js_lit(x)}.toFixed({js_arg(digits)})"])[0]
    assert py_str(to_fixed, x, digits) == expected


@HYP
@given(any_float, digit_arg)
def test_to_precision_hypothesis(x, digits):
    expected = standard_batch([f"{js_lit(x)}.toPrecision({js_arg(digits)})"])[0]
    assert py_str(to_precision, x, digits) == expected


@HYP
@given(any_float, digit_arg)
def test_to_exponential_hypothesis(x, digits):
    expected = standard_batch([f"{js_lit(x)}.toExponential({js_arg(digits)})"])[0]
    assert py_str(to_exponential, x, digits) == expected


# ----------------------------------------------------------------------------- strings -> numbers

NUMERIC_STRINGS = [
    "", " ", "0", "-0", "+0", "00", "-00.000", " 12 ", "12px", "1n", "1_0", "1e", "1e+", "1e-",
    "1e3", "1E3", "1e+3", "1e-3", ".5", "5.", ".", "+.5", "-.5e1", "5.e3", ".e3", "e3", "+", "-",
    "0x1A", "0X1a", "-0x1A", "+0x1A", "0x", "0x1g", "0xG", "0o17", "0O17", "0o8", "0b101", "0B2",
    "0b", "017", "089", "0.0000001", "Infinity", "-Infinity", "+Infinity", "infinity", "inf", "NaN",
    "Infinityx", "-Infinityx", "- 1", "1 2", "1..2", "1.2.3", "١٢", "\uff11", "12\x0034",
    "\u00a01\u00a0", "\ufeff1", "\u20281\u2029", "\u180e1", "\u00851", "\u200b1", "\t\n\x0b\x0c\r 7",
    "9007199254740993", "9007199254740993.00000000000000000000000001",
    "9007199254740993.0000000000000000000001",
    "0.1000000000000000055511151231257827021181583404541015625",
    "2.4703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125e-324",
    "1" * 400, "1" * 400 + "e-400", "0." + "0" * 400 + "1", "0x" + "f" * 300, "0b" + "1" * 70,
    "0o" + "7" * 30, "1e400", "-1e-400", "1e99999999999999999999", "0e99999999999999999999",
    "123456789012345678901234567890123456789012345678901234567890", "0" * 50 + "1",
    "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308", "5e-324",
    "2.4703282292062328e-324", "2.4703282292062327e-324", "zz", "ZZ", "0xzz", "  0x0x1", "-0x",
]  # fmt: skip

# Radix arguments as already ToNumber'd values; None is undefined.
PARSE_INT_RADIXES = [
    None, 0.0, -0.0, 2.0, 3.0, 8.0, 10.0, 16.0, 35.0, 36.0, 37.0, 1.0, -1.0, 16.9, -16.9,
    4294967312.0, -4294967286.0, 2.0**53, 1e30, math.nan, math.inf, -math.inf,
]  # fmt: skip


def _js_str(s: str) -> str:
    return json.dumps(s)


@pytest.mark.parametrize("text", NUMERIC_STRINGS, ids=repr)
def test_string_to_number_edge(text):
    assert py_num(string_to_number, text) == js_num_key(qjs(f"Number({_js_str(text)})"))


@pytest.mark.parametrize("text", NUMERIC_STRINGS, ids=repr)
def test_parse_float_edge(text):
    assert py_num(parse_float, text) == js_num_key(qjs(f"parseFloat({_js_str(text)})"))


@pytest.mark.parametrize("radix", PARSE_INT_RADIXES, ids=repr)
def test_parse_int_edge(radix):
    texts = NUMERIC_STRINGS + ["z", "Z1", "10", "-10", "  -0x10", "0x10", "ff", "FF", "1" * 100, "z" * 90]
    # Long strings in every radix: beyond QuickJS's digit budget the rest is truncated.
    rng = random.Random(7)
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(30, 120))) for _ in range(30)]
    expected = qjs_batch([f"parseInt({_js_str(t)}, {js_arg(radix)})" for t in texts])
    for t, e in zip(texts, expected):
        assert py_num(parse_int, t, radix) == js_num_key(e), t


def test_whitespace_set_matches_quickjs():
    # Every BMP code unit c (but surrogates): is c+"1"+c a number for Number / parseFloat / parseInt?
    js = CTX.eval(
        "(function(){var r=[];for(var c=0;c<0x10000;c++){if(c>=0xd800&&c<0xe000)continue;"
        "var s=String.fromCharCode(c);if(Number(s+'7'+s)===7&&parseInt(s+'7')===7&&parseFloat(s+'7')===7)"
        "r.push(c)}return JSON.stringify(r)})()"
    )
    ours = [
        c
        for c in range(0x10000)
        if not 0xD800 <= c < 0xE000
        and string_to_number(chr(c) + "7" + chr(c)) == 7.0
        and parse_int(chr(c) + "7", None) == 7.0
        and parse_float(chr(c) + "7") == 7.0
    ]
    assert ours == json.loads(js)


def test_long_decimal_strings_random():
    # Exact midpoints between adjacent doubles, and just above them: strings longer than
    # QuickJS's 38 significant digits, where its truncation decides the rounding.
    rng = random.Random(11)
    texts = []
    with decimal.localcontext() as dctx:
        dctx.prec = 2000
        for _ in range(200):
            x = abs(bits_to_double(rng.getrandbits(64)))
            if not math.isfinite(x) or x == 0.0 or x == 1.7976931348623157e308:
                continue
            mid = (decimal.Decimal(x) + decimal.Decimal(math.nextafter(x, math.inf))) / 2
            mant, exp = format(mid, "e").split("e")
            texts += [f"{mant}e{exp}", f"{mant}{'0' * rng.randint(0, 30)}1e{exp}", f"{mant[:40]}e{exp}"]
    expected = qjs_batch([f"Number({_js_str(t)})" for t in texts])
    for t, e in zip(texts, expected):
        assert py_num(string_to_number, t) == js_num_key(e), t
        assert py_num(parse_float, t) == js_num_key(e), t


# Numeric-looking text for hypothesis: tokens that exercise every branch of the grammars.
TOKENS = list("0123456789") + list(".eE+-xXoObBaAfFzZ_n ") + [
    "0x", "0b", "0o", "1e", "e-", "Infinity", "\u00a0", "\ufeff", "\u2028", "\u180e", "\t", "\x00",
    "99999999999",
]  # fmt: skip
numeric_text = st.one_of(
    st.lists(st.sampled_from(TOKENS), max_size=10).map("".join),
    st.floats(allow_nan=False).map(repr),
    st.integers().map(str),
    st.integers(min_value=0).map(hex),
    st.text(alphabet="0123456789.e-+", max_size=60),
)


@HYP
@given(numeric_text)
def test_string_to_number_hypothesis(text):
    assert py_num(string_to_number, text) == js_num_key(qjs(f"Number({_js_str(text)})"))


@HYP
@given(numeric_text)
def test_parse_float_hypothesis(text):
    assert py_num(parse_float, text) == js_num_key(qjs(f"parseFloat({_js_str(text)})"))


@HYP
@given(numeric_text, st.one_of(st.none(), st.integers(-2, 40).map(float), st.floats()))
def test_parse_int_hypothesis(text, radix):
    assert py_num(parse_int, text, radix) == js_num_key(qjs(f"parseInt({_js_str(text)}, {js_arg(radix)})"))


@HYP_SMALL
@given(any_float)
def test_round_trip_through_strings(x):
    # String(x) parsed back by Number / parseFloat gives x again in both engines.
    s = number_to_string(x)
    assert py_num(string_to_number, s) == js_num_key(qjs(f"Number(String({js_lit(x)}))"))
    assert py_num(parse_float, s) == js_num_key(qjs(f"parseFloat(String({js_lit(x)}))"))
