"""JSON.stringify / JSON.parse against QuickJS: output strings, values and SyntaxErrors."""

from __future__ import annotations

import itertools
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qjs_harness import CTX, assert_no_mismatches, js_batch, py_call, same

from transpiler.errors import JSError
from transpiler.jslib.jsjson import json_parse, json_stringify, quote_json_string
from transpiler.jslib.strings import Unsupported
from transpiler.jslib.values import UNDEFINED, JSFunction, export_value, to_utf16


def json_batch(name: str, cases: list[tuple]) -> list:
    """JSON[name](...args) in QuickJS for each case."""
    return js_batch(f"JSON.{name}", [(UNDEFINED, args) for args in cases])


def check_stringify(cases: list[tuple]) -> None:
    expected = json_batch("stringify", cases)
    bad = []
    for args, exp in zip(cases, expected):
        for variant in (args, (export_value(args[0]), *args[1:])):  # UTF-16 form and ordinary str
            got = py_call(json_stringify, variant)
            if isinstance(got, str):
                got = to_utf16(got)  # QuickJS's string comes back in UTF-16 form
            if not same(got, exp) and not _number_deviation(got, exp):
                bad.append((variant, got, exp))
    assert_no_mismatches(bad)


def _number_deviation(got, exp) -> bool:
    """QuickJS printed a number with 17 digits where fewer round-trip (the listed deviation,
    conformance/quickjs_deviations.py): ours must be QuickJS's text with exactly those numbers
    re-printed shortest (the shortest digits themselves are checked against V8 in
    tests/test_numbers.py)."""
    from conformance.quickjs_deviations import shortest_reprint_equal

    return isinstance(got, str) and isinstance(exp, str) and shortest_reprint_equal(exp, got)


def check_parse(texts: list[str]) -> None:
    expected = json_batch("parse", [(t,) for t in texts])
    bad = []
    for t, exp in zip(texts, expected):
        got = py_call(json_parse, (t,))
        if not same(got, exp):
            bad.append((t, got, exp))
    assert_no_mismatches(bad)


# --- QuoteJSONString -------------------------------------------------------------------------------

def test_quote_every_bmp_character():
    """Every BMP code unit (lone surrogates included) as a one-character string."""
    out = json.loads(CTX.eval("""(function() { const o = [];
        for (let c = 0; c < 0x10000; c++) o.push(JSON.stringify(String.fromCharCode(c)));
        return JSON.stringify(o); })()"""))
    bad = [c for c in range(0x10000) if to_utf16(quote_json_string(chr(c))) != to_utf16(out[c])]
    assert not bad, [hex(c) for c in bad[:20]]


def test_quote_surrogates_both_forms():
    samples = ["a😀b", "😀", "\ud83d", "\ude00", "x\ude00\ud83dy", "\ud83d\ud83d\ude00",
               "é\u2028\x7f\x00\"\\"]
    expected = json_batch("stringify", [(to_utf16(s),) for s in samples])
    for s, exp in zip(samples, expected):
        assert to_utf16(quote_json_string(s)) == exp
        assert quote_json_string(to_utf16(s)) == quote_json_string(s)
    assert quote_json_string(to_utf16("😀")) == '"😀"'
    assert quote_json_string("\ud83d") == '"\\ud83d"'


# --- JSON.stringify --------------------------------------------------------------------------------

VALUES = [
    UNDEFINED, None, True, False, 0.0, -0.0, 1.0, -1.5, 1e21, 1e-7, 123456789.125,
    math.nan, math.inf, -math.inf,
    "", "abc", "é", to_utf16("a😀b"), "\ud800", "\u2028\u2029", "\x00\x1f\x7f", "\"\\/\b\f\n\r\t",
    [], {}, [UNDEFINED, None, math.nan, JSFunction("f", None)], {"a": UNDEFINED, "b": math.nan, "c": None},
    {"f": JSFunction("f", None), "x": 1.0}, [[[]], {}, [{}]], {"2": 1.0, "a": 2.0, "1": 3.0, "01": 4.0},
    {"k": [1.0, {"n": [True, "s"]}], "é": "😀", to_utf16("😀"): 1.0}, [1.0, [2.0, [3.0, [4.0]]]],
    JSFunction("f", None), {"": "", " ": [None]},
]
SPACES = [UNDEFINED, None, 2.0, 0.0, -1.0, 1.5, 10.0, 11.0, 100.0, math.nan, math.inf,
          "", "\t", "--", "abcdefghijklm",
          to_utf16("😀😀😀😀😀😀"), True, [], "  "]
REPLACERS = [UNDEFINED, None, [], ["a"], ["k", "n"], ["b", "a", "b"], [1.0, "2", 2.0], [True, None, {}, "c"],
             "a", 1.0, ["é", to_utf16("😀")]]


def test_stringify_values_spaces_replacers():
    cases = [(v,) for v in VALUES]
    cases += [(v, UNDEFINED, s) for v in VALUES for s in SPACES]
    cases += [(v, r) for v in VALUES for r in REPLACERS]
    cases += [(v, r, s) for v in VALUES[20:] for r in REPLACERS for s in (2.0, "\t")]
    check_stringify(cases)


def test_stringify_readable_cases():
    assert json_stringify({"a": UNDEFINED, "b": math.nan}) == '{"b":null}'
    assert json_stringify(-0.0) == "0"
    assert json_stringify("\u2028") == '"\u2028"'
    assert json_stringify(UNDEFINED) is UNDEFINED
    assert json_stringify({"a": [1.0]}, UNDEFINED, 2.0) == '{\n  "a": [\n    1\n  ]\n}'
    with pytest.raises(Unsupported):
        json_stringify({}, JSFunction("f", None))


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.floats(allow_nan=True, allow_infinity=True),
              st.sampled_from([UNDEFINED, -0.0, "é", "\ud800", to_utf16("😀"), "\u2028"]),
              st.text(max_size=6).map(to_utf16)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=3).map(to_utf16), inner, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(json_values, st.sampled_from([UNDEFINED, ["a", "0"]]), st.sampled_from(SPACES)),
                min_size=1, max_size=10))
def test_stringify_random(cases):
    check_stringify(cases)


# --- JSON.parse ------------------------------------------------------------------------------------

GOOD = ['0', '-0', '-0.0', '[-0]', '{"a":-0}', '1', '-1.5e3', '1E+2', '1e400', '-1e400', '1e-400',
        '9007199254740993',
        '123456789012345678901234567890', '0.1', '2.5e-324', '"abc"', '"\\u00e9\\ud83d\\ude00"', '"\\ud800"',
        '"x\\udc00y"', '"\\/\\b\\f\\n\\r\\t\\"\\\\"', '"é😀\u2028\x7f"', 'true', 'false', 'null', '[]', '{}',
        ' \t\n\r[1, [2, {"a": [null]}]] ', '{"b":1,"a":2,"b":3}', '{"2":1,"1":2,"x":3,"0":4,"01":5}',
        '{"__proto__": 1}', '{"é": {"😀": []}}', '[' * 50 + ']' * 50, '"' + 'x' * 1000 + '"']
BAD = ['', ' ', '{', '[', '[1,]', 'x', '01', '-01', '1 2', '"\x01"', '{"a" 1}', 'NaN', '"\\x"', 'tru',
       '{a:1}',
       '-', '1.', '1e', '1e+', '1ex', '"abc', '"\\u12"', '"\\u"', '"\\uZZZZ"', ' \x0c1', '[1,2', '[1 2]',
       '{"a":1,}', '{"a":1 "b"}', '{"a"', '{"a":', '{"a":}', '{,}', '{1:2}', '\n\n  x', '\n {"a" 1}', 'truex',
       'True', '"a"x', '["a"x]', 'é', '[1,é]', ':', '}', ']', '+1', '.5', '"\t"', '1e5.5', '[-]', '[1.e5]',
       '[1,,2]', '{"a"::1}', '"\\U0041"', '\ufeff1', '\u00a01', '\u20281', '"abc\n"', '\r\n\r\n x',
       '\r\r {"a" 1}', ' \r \r {"a" 1}', '\n\r\r{"a" 1}', '\r\n\n{"a" 1}', '"é\x01"', '"€\x01"',
       '"😀\x01"', '\x00', '\x7f', 'a_b$9', '$', '0x1', '[1]]', '"\ud800', '\ud800', '😀', '"\\ud83d\\u12"',
       '{"a":1}}', '{"a":[1}', '[{]', '[1}', '-Infinity', 'undefined', "'a'", '"\\\'"']


def test_parse_good_and_bad():
    check_parse([to_utf16(t) for t in GOOD + BAD])


def test_parse_error_line_and_column():
    # QuickJS's own line/column count around CR, LF, CRLF and multi-byte characters
    texts = []
    for n in range(4):
        for ws in itertools.product(["\n", "\r", " ", "é"], repeat=n):
            for head in ("{", '["é",'):
                texts.append(head + "".join(ws))
                texts.append(head + "".join(ws) + "x")
    check_parse(texts)


def test_parse_readable_cases():
    assert json_parse('{"b":1,"1":[-0]}') == {"1": [-0.0], "b": 1.0}
    assert math.copysign(1.0, json_parse("-0")) < 0
    assert json_parse('"\\ud83d\\ude00"') == "\ud83d\ude00"
    with pytest.raises(JSError) as info:
        json_parse("[1,]")
    assert (info.value.name, info.value.message) == ("SyntaxError", "unexpected token: ']'")


TOKENS = ['{', '}', '[', ']', ',', ':', ' ', '\n', '\r', '"a"', '"\\u00', '"', '1', '-', '0', '.', 'e',
          '+', '5',
          'true', 'nul', 'null', 'x', '\\', '\x01', 'é', '\ud800', '"\\n"']


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.sampled_from(TOKENS), max_size=10).map("".join), min_size=1, max_size=20),
       st.lists(json_values, max_size=5))
def test_parse_random(texts, values):
    # random token soup (mostly errors) and the output of JSON.stringify (always valid)
    good = [json_stringify(v, UNDEFINED, 1.0) for v in values]
    check_parse(texts + [to_utf16(t) for t in good if isinstance(t, str)])
