"""Known QuickJS deviations from ECMAScript, and where the standard leaves room.

The python engine follows ECMA-262 (the 2025 edition). QuickJS (quickjs-ng) is the everyday
oracle; where it departs from the standard the case is listed in ``DEVIATIONS`` with an
example expression, QuickJS's answer, the standard's answer (which V8 gives) and the section.
A case whose answers differ in the way an entry describes (its ``matches``) is checked
against V8 (``conformance.node``) instead of QuickJS; any other difference is a disagreement.
The runner also sends to V8 a case whose variables hold a number QuickJS prints longer (a
value derived from that text, such as its ``.length``, cannot be matched textually).

``IMPLEMENTATION_DEFINED`` lists where the standard lets engines differ and the python engine
follows QuickJS: with ``--oracle node`` a case V8 answers differently is accepted when it
matches one of those entries and our answer is QuickJS's.

``tests/test_quickjs_deviations.py`` keeps every entry true: QuickJS still gives ``quickjs``,
V8 and the python engine give ``standard`` (a fixed QuickJS makes its entry fail).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.reference import APPROXIMATED, Outcome, ulp_distance
from transpiler.jslib.numbers import number_to_string


@dataclass(frozen=True)
class Deviation:
    """One kind of difference between QuickJS and the standard (or V8)."""

    name: str
    expression: str  # an example, evaluated without variables
    quickjs: str  # QuickJS's answer, as conformance.runner.show renders it
    standard: str  # the standard's answer (V8's)
    section: str  # where ECMA-262 (2025) decides
    matches: Callable[[str, Outcome, Outcome], bool]  # (source, QuickJS's/V8's outcome, ours)


_NUMBER_CHARS = frozenset("0123456789.eE+-")


def shortest_reprint_equal(theirs: str, mine: str) -> bool:
    """True when ``theirs`` becomes ``mine`` by re-printing some numbers in it shortest.

    Numbers in a concatenation have no visible bounds ("2.57.1202363472230444e-30765" is
    "2.5" + "7.1202363472230444e-307" + "65"), so at the first difference every split of the
    run of number characters around it is tried: ``theirs`` = P + Q + rest with Q a number
    printed with 17 significant digits (QuickJS's deviation: 17 where fewer round-trip, as
    for 54 of the 2,098 powers of two), ``mine`` has Number::toString(Q) in its place, and the
    rests match the same way.
    """
    return theirs != mine and _reprint_match(theirs, mine)


def _significant_digits(number: str) -> int:
    """Significant digits of a number's text ("0.000125e-3" has 3)."""
    return len(number.lower().split("e")[0].replace(".", "").lstrip("+-").lstrip("0"))


def _reprint_match(theirs: str, mine: str) -> bool:
    # a loop, not recursion: a long string may hold thousands of such numbers (s.repeat(n));
    # at each difference the first split that re-prints is taken (a wrong choice can only
    # report a disagreement, never hide one)
    while theirs != mine:
        i = next((k for k, (a, b) in enumerate(zip(theirs, mine)) if a != b),
                 min(len(theirs), len(mine)))
        lo = i
        while lo > 0 and theirs[lo - 1] in _NUMBER_CHARS:
            lo -= 1
        hi = i
        while hi < len(theirs) and theirs[hi] in _NUMBER_CHARS:
            hi += 1
        step = _reprint_step(theirs, mine, lo, i, hi)
        if step is None:
            return False
        theirs, mine = step
    return True


def _reprint_step(theirs: str, mine: str, lo: int, i: int, hi: int) -> tuple[str, str] | None:
    """The rests of ``theirs`` and ``mine`` after the first number around index ``i`` that
    QuickJS printed with 17 significant digits and ``mine`` holds re-printed shortest."""
    for start in range(lo, i + 1):
        for end in range(hi, i, -1):
            q = theirs[start:end]
            try:
                value = float(q)
            except ValueError:
                continue
            if value - value != 0.0:
                continue
            o = number_to_string(value)
            if "E" in q:  # the text went through toUpperCase
                o = o.upper()
            rest_t, rest_m = theirs[end:], mine[start + len(o):]
            if (_significant_digits(q) == 17 and len(q) > len(o) and mine.startswith(o, start)
                    and rest_t[:1] == rest_m[:1]):  # the split must end where both go on alike
                return rest_t, rest_m
    return None


def _numbers_close(theirs: str, mine: str, ulps: int) -> bool:
    """True when ``theirs`` and ``mine`` differ only in numbers (each printed by
    Number::toString) whose values are at most ``ulps`` units in the last place apart."""
    if theirs == mine:
        return True
    i = next((k for k, (a, b) in enumerate(zip(theirs, mine)) if a != b), min(len(theirs), len(mine)))
    lo = i
    while lo > 0 and theirs[lo - 1] in _NUMBER_CHARS:
        lo -= 1
    hi_t, hi_m = i, i
    while hi_t < len(theirs) and theirs[hi_t] in _NUMBER_CHARS:
        hi_t += 1
    while hi_m < len(mine) and mine[hi_m] in _NUMBER_CHARS:
        hi_m += 1
    for start in range(lo, i + 1):
        for end_t in range(hi_t, max(start, i - 1), -1):  # the number may end at the difference
            for end_m in range(hi_m, max(start, i - 1), -1):
                q, o = theirs[start:end_t], mine[start:end_m]
                try:
                    a, b = float(q), float(o)
                except ValueError:
                    continue
                if (a - a == 0.0 and b - b == 0.0 and number_to_string(a) == q.lower()
                        and number_to_string(b) == o.lower() and ulp_distance(a, b) <= ulps
                        and _numbers_close(theirs[end_t:], mine[end_m:], ulps)):
                    return True
    return False


def _texts(value: Any) -> list[str]:
    """The strings inside a result (a string, or strings nested in arrays/objects)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in [k, *_texts(v)]]
    return []


def longer_number_digits(source: str, quickjs: Outcome, ours: Outcome) -> bool:
    """QuickJS printed a number with more digits than the shortest that round-trip: the
    results differ only in strings that become equal once those numbers are re-printed."""
    if quickjs.error or ours.error:
        return False
    theirs, mine = _texts(quickjs.value), _texts(ours.value)
    return (len(theirs) == len(mine) and theirs != mine
            and all(t == m or shortest_reprint_equal(t, m) for t, m in zip(theirs, mine)))


def template_conversion_order(source: str, quickjs: Outcome, ours: Outcome) -> bool:
    """QuickJS evaluates every substitution of a template before converting any with
    ToString, so a later substitution's error wins over an earlier conversion's."""
    return ("${" in source and bool(quickjs.error) and bool(ours.error)
            and quickjs.error != ours.error)


DEVIATIONS: tuple[Deviation, ...] = (
    Deviation(
        "number-to-string-not-shortest", "String(2**-24)",
        '"5.9604644775390625e-8"', '"5.960464477539063e-8"',
        "6.1.6.1.20 Number::toString, step 5: k (the number of digits) is as small as possible",
        longer_number_digits),
    Deviation(
        "template-substitution-order", "`${({toString: 1})}${'x'.repeat(-1)}`",
        "throws RangeError", "throws TypeError",
        "13.2.8.6 Runtime Semantics: Evaluation of TemplateLiteral / SubstitutionTemplate: each "
        "substitution is converted (? ToString) before the next is evaluated",
        template_conversion_order),
)


def radix_to_string(source: str, v8: Outcome, ours: Outcome) -> bool:
    """Number.prototype.toString with a radix other than 10: V8 prints more digits."""
    return "toString(" in source and not v8.error and not ours.error


def _squeezed(outcome: Outcome) -> list[str]:
    return ["".join(t.split()) for t in _texts(outcome.value)]


# the body of a built-in's source text, in any layout, also JSON-escaped ("{\\n    [native...")
_NATIVE_BODY = re.compile(r"\{(?:\s|\\+n)*\[native code\](?:\s|\\+n)*\}")


def native_function_source(source: str, v8: Outcome, ours: Outcome) -> bool:
    """The source text of a built-in function: the layout of ``[native code]`` differs."""
    def normal(outcome: Outcome) -> list[str]:
        return [_NATIVE_BODY.sub("{ [native code] }", t) for t in _texts(outcome.value)]
    return (not v8.error and not ours.error
            and _texts(v8.value) != _texts(ours.value)
            and normal(v8) == normal(ours)
            and any("[native code]" in t for t in _texts(ours.value)))


def approximated_math(source: str, v8: Outcome, ours: Outcome) -> bool:
    """A Math function the standard calls implementation-approximated (``Math.atan2``,
    ``Math.pow``, ...): V8's approximation differs from the C library's (QuickJS's and ours)
    by a few units in the last place, also where the number was turned into text."""
    if not any(name in source for name in APPROXIMATED) or v8.error or ours.error:
        return False
    if v8.value.__class__ is float and ours.value.__class__ is float:
        return (v8.value - v8.value == 0.0 and ours.value - ours.value == 0.0
                and ulp_distance(v8.value, ours.value) <= _APPROXIMATION_ULPS)
    theirs, mine = _texts(v8.value), _texts(ours.value)
    return (len(theirs) == len(mine) and theirs != mine
            and all(_numbers_close(t, m, _APPROXIMATION_ULPS) for t, m in zip(theirs, mine)))


_APPROXIMATION_ULPS = 4


def json_fractional_space(source: str, v8: Outcome, ours: Outcome) -> bool:
    """JSON.stringify with a space argument between 0 and 1: V8 indents with an empty gap."""
    return ("JSON.stringify" in source and not v8.error and not ours.error
            and _squeezed(v8) == _squeezed(ours))


IMPLEMENTATION_DEFINED: tuple[Deviation, ...] = (
    Deviation(
        "radix-to-string", "(2**60).toString(3)",
        '"21200101122222021102111220121120000000"',
        '"21200101122222021102111220121112210000" (V8)',
        "21.1.3.6 Number.prototype.toString: for radixes other than 10 the algorithm is "
        "implementation-defined", radix_to_string),
    Deviation(
        "approximated-math", "Math.atan2(-101, -1)",
        "-1.5806969933828852", "-1.5806969933828854 (V8)",
        "21.3.2 (Value Properties of the Math Object): the functions other than abs, ceil, "
        "floor, ... are implementation-approximated", approximated_math),
    Deviation(
        "native-function-source", "[[].join][0]()",
        '"function join() {\\n    [native code]\\n}"', '"function join() { [native code] }" (V8)',
        "20.2.3.5 Function.prototype.toString: a built-in's text is implementation-defined "
        "(NativeFunction syntax; whitespace is free)", native_function_source),
)

V8_DEVIATIONS: tuple[Deviation, ...] = (
    Deviation(
        "json-stringify-fractional-space", "JSON.stringify([1], null, 0.5)",
        '"[1]" (QuickJS, the standard)', '"[\\n1\\n]" (V8)',
        "25.5.2.1 JSON.stringify step 6.b: spaceMV = ToIntegerOrInfinity(0.5) = 0 < 1, so gap "
        "is the empty String; 25.5.2.6 SerializeJSONArray then writes no line breaks",
        json_fractional_space),
)
"""Where V8 departs from the standard and QuickJS (and the python engine) do not: accepted
with ``--oracle node``. Each ``quickjs`` field here holds the standard's answer."""
