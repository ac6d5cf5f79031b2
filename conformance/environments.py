"""Variable values the conformance suite evaluates expressions in.

Every expression of the corpus and of the generator is written over the same variables:

=========  ==================================================================
``x, y``   numbers (0, -0, negative, fractional, 1e21, 1e-7, 2^53+1, 5e-324, NaN, ...)
``s, t``   strings (empty, padded numerals, hex/exponent numerals, non-ASCII, astral)
``f``      a boolean
``a, b``   anything: numbers, strings, booleans, null, undefined, arrays, objects
``arr``    an array
``o``      an object (keys drawn from ``OBJECT_KEYS``)
=========  ==================================================================

``ENVIRONMENTS`` is the fixed list the corpus runs every expression in: enough of them that
each value of each list below is taken by the variable of its kind at least once.
"""

from __future__ import annotations

import math

from transpiler.jslib.values import UNDEFINED

VARIABLES: tuple[str, ...] = ("x", "y", "s", "t", "f", "a", "b", "arr", "o")
OBJECT_KEYS: tuple[str, ...] = ("k", "v", "0", "1", "x y", "10", "é")

NUMBERS: list[float | int] = [
    0.0, -0.0, 1.0, -1.0, 2.5, -7.25, 0.1, 3.0, 1e21, 1e-7, 2**53 + 1, 5e-324, 255.0, -0.5,
    1.7976931348623157e308, math.nan, math.inf, -math.inf, 123.456, 4294967296.0, 2147483648.0,
    -2147483649.5, 0.5, 1.5, 1e-6, 9.995, 1e16, -1e-300, 65.0, 1234567.891,
    2.0**-24, 7.120236347223045e-307,  # QuickJS prints these with a digit too many (issue 11)
]

STRINGS: list[str] = [
    "", " 12 ", "0x1A", "1e3", "abc", "  -4.5\n", "0b101", "Infinity", "-0", "é", "😀x", "ß",
    "\u00a0 7 \u2028", "1,2", "null", "banana", "010", ".5", "5.", "+3", "1e1000", "İstanbul",
    "ΑΣ", "\ud83d", "\t", "a-b-a", "0o17", "-0x10", "12px", "x y",
]

ARRAYS: list[list] = [
    [], [1.0, 2.0, 1.0], [math.nan, None, UNDEFINED, "x"], [[1.0, 2.0], [3.0]], ["a", "b"],
    [-0.0], [True, {"k": 1.0}], ["😀", "", 1e21],
]

OBJECTS: list[dict] = [
    {}, {"k": 1.0}, {"v": "s", "k": [1.0]}, {"10": 1.0, "1": 2.0, "k": None},
    {"x y": -0.0, "é": "ü"}, {"k": {"k": "deep"}, "0": UNDEFINED},
    {"toString": 1.0}, {"valueOf": "v", "k": 1.0},  # own non-callable methods (message values)
]

OTHERS: list = [True, False, None, UNDEFINED]

ANY: list = NUMBERS + STRINGS + OTHERS + ARRAYS + OBJECTS


def _environments() -> list[dict]:
    count = max(len(ANY), 5)
    envs = []
    for i in range(count):
        envs.append({
            "x": NUMBERS[i % len(NUMBERS)],
            "y": NUMBERS[(i * 7 + 3) % len(NUMBERS)],
            "s": STRINGS[i % len(STRINGS)],
            "t": STRINGS[(i * 11 + 4) % len(STRINGS)],
            "f": i % 2 == 0,
            "a": ANY[i],
            "b": ANY[(i * 13 + 5) % len(ANY)],
            "arr": ARRAYS[i % len(ARRAYS)],
            "o": OBJECTS[i % len(OBJECTS)],
        })
    return envs


ENVIRONMENTS: list[dict] = _environments()
