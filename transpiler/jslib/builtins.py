"""The global functions and namespace objects the python engine lowers.

Each entry takes raw JavaScript values (generated code may skip a ToNumber it has proven
unnecessary: the ``Math`` functions are called with numbers directly). ``NAMESPACES`` maps
``Math``/``Number``/``JSON``/``String``/``Date`` to their members; anything missing here is
outside the python subset and runs in QuickJS.
"""

from __future__ import annotations

import math
import time
from typing import Any

from transpiler.errors import range_error
from transpiler.jslib import jmath, numbers
from transpiler.jslib.coerce import to_boolean, to_number, to_string, to_uint32
from transpiler.jslib.jsjson import json_parse, json_stringify
from transpiler.jslib.values import UNDEFINED, to_utf16

INF = math.inf

# Every function here ignores arguments beyond those it declares, as JavaScript functions do
# (``isNaN(x, y)``, ``Number.isInteger(x, 1)``): hence the ``*_`` parameters.


def js_number(value: Any = 0.0, *_: Any) -> float:
    return to_number(value)


def js_string(value: Any = "", *_: Any) -> str:
    return to_string(value)


def js_boolean(value: Any = UNDEFINED, *_: Any) -> bool:
    return to_boolean(value)


def parse_int(string: Any = UNDEFINED, radix: Any = UNDEFINED, *_: Any) -> float:
    s = to_string(string)
    return numbers.parse_int(s, None if radix is UNDEFINED else to_number(radix))


def parse_float(string: Any = UNDEFINED, *_: Any) -> float:
    return numbers.parse_float(to_string(string))


def is_nan(value: Any = UNDEFINED, *_: Any) -> bool:
    n = to_number(value)
    return n != n


def is_finite(value: Any = UNDEFINED, *_: Any) -> bool:
    n = to_number(value)
    return n == n and n not in (INF, -INF)


def number_is_finite(value: Any = UNDEFINED, *_: Any) -> bool:
    return value.__class__ is float and value == value and value not in (INF, -INF)


def number_is_nan(value: Any = UNDEFINED, *_: Any) -> bool:
    return value.__class__ is float and value != value


def number_is_integer(value: Any = UNDEFINED, *_: Any) -> bool:
    return number_is_finite(value) and value.is_integer()


def number_is_safe_integer(value: Any = UNDEFINED, *_: Any) -> bool:
    return number_is_integer(value) and abs(value) <= 9007199254740991.0


def from_char_code(*codes: Any) -> str:
    return "".join(chr(to_uint32(c) & 0xFFFF) for c in codes)


def from_code_point(*points: Any) -> str:
    out = []
    for p in points:
        n = to_number(p)
        if not (0.0 <= n <= 1114111.0 and n.is_integer()):  # NaN fails the range test
            raise range_error("invalid code point")
        cp = int(n)
        if cp >= 0x10000:
            cp -= 0x10000
            out.append(chr(0xD800 + (cp >> 10)) + chr(0xDC00 + (cp & 0x3FF)))
        else:
            out.append(chr(cp))
    return "".join(out)


def date_now(*_: Any) -> float:
    return float(time.time_ns() // 1_000_000)


def json_stringify_call(value: Any = UNDEFINED, replacer: Any = UNDEFINED, space: Any = UNDEFINED,
                        *_: Any) -> Any:
    """JSON.stringify inside an expression: the text in UTF-16 form, like every string the
    engine produces (``json_stringify`` itself returns an ordinary ``str`` for output)."""
    text = json_stringify(value, replacer, space)
    return text if text is UNDEFINED or text.isascii() else to_utf16(text)


def json_parse_call(text: Any = UNDEFINED, *_: Any) -> Any:
    return json_parse(to_string(text))


GLOBAL_FUNCTIONS: dict[str, Any] = {
    "Number": js_number, "String": js_string, "Boolean": js_boolean,
    "parseInt": parse_int, "parseFloat": parse_float, "isNaN": is_nan, "isFinite": is_finite,
}

GLOBAL_CONSTANTS: dict[str, Any] = {"undefined": UNDEFINED, "NaN": math.nan, "Infinity": INF}

NAMESPACE_FUNCTIONS: dict[str, dict[str, Any]] = {
    "Math": jmath.FUNCTIONS,
    "Number": {
        "isFinite": number_is_finite, "isNaN": number_is_nan, "isInteger": number_is_integer,
        "isSafeInteger": number_is_safe_integer, "parseFloat": parse_float, "parseInt": parse_int,
    },
    "JSON": {"stringify": json_stringify_call, "parse": json_parse_call},
    "String": {"fromCharCode": from_char_code, "fromCodePoint": from_code_point},
    "Date": {"now": date_now},
}

NAMESPACE_CONSTANTS: dict[str, dict[str, Any]] = {
    "Math": jmath.CONSTANTS,
    "Number": {
        "MAX_SAFE_INTEGER": 9007199254740991.0, "MIN_SAFE_INTEGER": -9007199254740991.0,
        "EPSILON": 2.220446049250313e-16, "MAX_VALUE": 1.7976931348623157e308,
        "MIN_VALUE": 5e-324, "POSITIVE_INFINITY": INF, "NEGATIVE_INFINITY": -INF,
        "NaN": math.nan,
    },
}

# ``.length`` of the function values above (``Math.max.length`` is 2); every other one is 1
FUNCTION_LENGTHS: dict[str, int] = {
    "parseInt": 2, "Number.parseInt": 2, "Math.atan2": 2, "Math.hypot": 2, "Math.imul": 2,
    "Math.max": 2, "Math.min": 2, "Math.pow": 2, "Math.random": 0, "JSON.stringify": 3,
    "JSON.parse": 2, "Date.now": 0,
}

# calls whose result changes from one evaluation to the next
IMPURE_CALLS: frozenset[tuple[str, str]] = frozenset({("Math", "random"), ("Date", "now")})
