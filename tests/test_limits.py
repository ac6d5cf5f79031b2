"""The python engine's memory bound (``transpiler.jslib.limits``): every builder checks the length
its result would have *before* building it; constant folding stays within the same caps and a
time budget; the compile cache is bounded in bytes."""

from __future__ import annotations

import gc
import json
import re
import subprocess
import sys
import time
import tracemalloc
import unicodedata
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.reference import Reference, same
from runtime import ConfigError, StreamProcessor
from transpiler import codegen, compile_expression, environment
from transpiler.errors import JSError
from transpiler.jslib import limits, strings, values
from transpiler.jslib.arrays import ARRAY_METHODS
from transpiler.jslib.jsjson import json_stringify, json_value_bound
from transpiler.jslib.operators import add
from transpiler.jslib.strings import STRING_METHODS
from transpiler.jslib.values import UNDEFINED, to_utf16

CAP = limits.MAX_STRING_LENGTH
REFERENCE = Reference()


# --- the issue's examples: RangeError within 1 s, bounded allocation --------------------------

@pytest.mark.parametrize("source, args", [
    ("a.repeat(2**24).split('').join(a.repeat(2**6))", ["a"]),
    ("a.repeat(2**24).split('').join(a.repeat(2**6))", ["\u20ac"]),   # two bytes a code unit
    ("a.repeat(2**23).concat(a.repeat(2**23), a)", ["a"]),
    ("`${a.repeat(2**23)}${a.repeat(2**23)}${a}`", ["a"]),
    ("a.repeat(2**23) + a.repeat(2**23) + a", ["a"]),
    ("JSON.stringify([a.repeat(2**22), a.repeat(2**22), a.repeat(2**22), a.repeat(2**22)], null, 10)", ["a"]),
    ("JSON.stringify(a.repeat(2**22))", ["\x01"]),                    # each unit becomes \u0001
    ("JSON.stringify([[[a.repeat(2**23)]], [[a.repeat(2**23)]]], null, '\t')", ["a"]),
    ("a.repeat(2**20).normalize('NFKD')", ["\ufdfa"]),               # 18 code units each
    ("a.repeat(2**23 + 1).toUpperCase()", ["\u00df"]),               # SS
    ("a.repeat(2**23 + 1).toLowerCase()", ["\u0130"]),               # i + combining dot
    ("a.repeat(2**13).replaceAll('', '$`')", ["a"]),                   # quadratic substitution
    ("a.repeat(2**23).padEnd(2**24 + 1, a)", ["a"]),
    ("[a.repeat(2**23), a.repeat(2**23), a] + ''", ["a"]),
])
def test_over_the_cap_fails_fast_without_building(source, args):
    compiled = compile_expression(source, ["a"])
    assert compiled.engine == "python"
    t0 = time.perf_counter()
    with pytest.raises(JSError) as info:
        compiled.fn(*args)
    elapsed = time.perf_counter() - t0
    assert info.value.name == "RangeError"
    assert elapsed < 1.0
    tracemalloc.start()  # again, measuring what it allocates (tracing slows it down)
    try:
        with pytest.raises(JSError):
            compiled.fn(*args)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    unit = 2 if any(ord(ch) > 255 for ch in args[0]) else 1
    # the inputs it built plus ~2x the cap (a string of CAP code units)
    assert peak < 3 * CAP * unit + (1 << 20), peak


def test_issue_example_in_a_fresh_process_max_rss():
    """The same bound seen from outside: the resident set of a process running the example."""
    code = (
        "import resource\n"
        "from transpiler import compile_expression\n"
        "f = compile_expression(\"a.repeat(2**24).split('').join(a.repeat(2**6))\", ['a']).fn\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n    f('a')\nexcept Exception as e:\n    print(type(e).__name__, e)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    error, grown = out.stdout.splitlines()
    assert error == "JSError RangeError: invalid array length"
    assert int(grown) * 1024 < 3 * CAP  # KiB: the 16 MiB string plus its temporaries


def test_twenty_big_constant_mappings_load_fast_and_leave_little_in_the_cache():
    # the issue's twenty statics are over the cap: each is a load error (a static that fails
    # can never output), all reported at once, fast
    config = {"output_topic": "umh.v1.c.s", "model": {"name": "m", "version": "v1"},
              "sources": {"p": "umh.v1.c.s._raw.p"},
              "mapping": {f"m{i}": f"'a'.repeat(2**24) + '{i}'" for i in range(20)}}
    t0 = time.perf_counter()
    with pytest.raises(ConfigError) as refused:
        StreamProcessor(config)
    assert time.perf_counter() - t0 < 2.0
    assert len(refused.value.errors) == 20
    assert all("RangeError: invalid string length" in e for e in refused.value.errors)
    # the same big constants inside dynamic mappings compile without a 16 MiB literal
    config["mapping"] = {f"m{i}": f"'a'.repeat(2**24 - 8) + p + '{i}'" for i in range(20)}
    t0 = time.perf_counter()
    processor = StreamProcessor(config)
    assert time.perf_counter() - t0 < 2.0
    sizes = [environment._footprint(m.compiled) for m in processor.spec.mappings]
    assert max(sizes) < 4096  # no 16 MiB literal in the generated code
    del processor
    gc.collect()
    assert environment.cache_info()[1] <= environment.CACHE_BYTES


def test_cache_is_bounded_in_bytes(monkeypatch):
    monkeypatch.setattr(environment, "CACHE_BYTES", 64 * 1024)
    for i in range(200):
        compile_expression(f"'{'x' * 1000}{i}' + p", ["p"])
    entries, size = environment.cache_info()
    assert size <= 64 * 1024
    assert entries < 200


# --- folding -------------------------------------------------------------------------------------

def test_folding_keeps_long_strings_out_of_the_source():
    short = compile_expression("'ab'.repeat(100) + p", ["p"])
    long = compile_expression("'ab'.repeat(3000) + p", ["p"])
    assert "abab" * 50 in short.python_source
    assert "abab" * 1100 not in long.python_source
    assert long.fn(1.0) == "ab" * 3000 + "1"


def test_folding_stops_when_its_time_budget_is_spent(monkeypatch):
    monkeypatch.setattr(codegen, "FOLD_BUDGET", 0.0)
    compiled = compile_expression("(2 ** 10 + 1).toString(16) + '-folding-budget-test'", [])
    assert "1024" not in compiled.python_source and "'401-" not in compiled.python_source
    assert compiled.fn() == "401-folding-budget-test"


def test_folding_over_the_cap_is_left_to_run_time():
    compiled = compile_expression("'a'.repeat(2**24) + 'folding-cap-test'", [])
    assert len(compiled.python_source) < 1000
    with pytest.raises(JSError, match="RangeError: invalid string length"):
        compiled.fn()


# --- exactness: RangeError exactly when the result would be longer than the cap -----------------

TEXT = st.text(alphabet=st.sampled_from(
    "ab$`'&\u00df\u0130\u03a3\u0301\u1100\u1161\uac00\ufdfa\U0001f600 .,"), max_size=12)


def _normalizer(form):
    return lambda x: strings._normalize(x, form)


def _uncapped(fn, *args):
    saved = limits.MAX_STRING_LENGTH, limits.MAX_ARRAY_LENGTH
    limits.MAX_STRING_LENGTH = limits.MAX_ARRAY_LENGTH = 1 << 40
    try:
        return fn(*args)
    finally:
        limits.MAX_STRING_LENGTH, limits.MAX_ARRAY_LENGTH = saved


OPERATIONS = {
    "repeat": lambda s, t, n: STRING_METHODS["repeat"](s, float(n)),
    "padStart": lambda s, t, n: STRING_METHODS["padStart"](s, float(n * 3), t or UNDEFINED),
    "padEnd": lambda s, t, n: STRING_METHODS["padEnd"](s, float(n * 3), t),
    "concat": lambda s, t, n: STRING_METHODS["concat"](s, t, s),
    "replace": lambda s, t, n: STRING_METHODS["replace"](s + t, t, s),
    "replaceAll": lambda s, t, n: STRING_METHODS["replaceAll"](s + t, t[:1], s),
    "join": lambda s, t, n: ARRAY_METHODS["join"]([s, t] * n, t),
    "add": lambda s, t, n: add(s, [t, s]),
    "stringify": lambda s, t, n: json_stringify([[s, {"k": t}]] * n, UNDEFINED, float(n)),
    "toUpperCase": lambda s, t, n: STRING_METHODS["toUpperCase"](s * n),
    "toLowerCase": lambda s, t, n: STRING_METHODS["toLowerCase"](s * n),
    **{form: partial(lambda form, s, t, n: STRING_METHODS["normalize"](s * n, form), form)
       for form in ("NFC", "NFD", "NFKC", "NFKD")},
}


@settings(max_examples=300, deadline=None)
@given(op=st.sampled_from(sorted(OPERATIONS)), s=TEXT, t=TEXT, n=st.integers(0, 6),
       extra=st.integers(0, 60))
def test_range_error_exactly_over_the_cap(op, s, t, n, extra):
    """A cap at least as long as the inputs (strings that exist are valid): the operation
    raises RangeError exactly when its uncapped result is longer than the cap."""
    s, t = to_utf16(s), to_utf16(t)
    fn = OPERATIONS[op]
    want = _uncapped(fn, s, t, n)
    cap = max(len(s), len(t)) * max(n, 1) + 25 + extra  # constants like "[]" or "null" fit
    saved = limits.MAX_STRING_LENGTH
    limits.MAX_STRING_LENGTH = cap
    try:
        if len(want) > cap:
            with pytest.raises(JSError, match="RangeError: invalid string length"):
                fn(s, t, n)
        else:
            assert fn(s, t, n) == want
    finally:
        limits.MAX_STRING_LENGTH = saved


@settings(max_examples=200, deadline=None)
@given(s=TEXT, n=st.integers(0, 8), cap=st.integers(0, 40))
def test_template_literal_checks_the_sum_first(s, n, cap):
    source = "`<${a}|${a.repeat(k)}>` + a"
    want = _uncapped(lambda: compile_expression(source, ["a", "k"]).fn(s, float(n)))
    saved = limits.MAX_STRING_LENGTH
    limits.MAX_STRING_LENGTH = cap
    environment.clear_cache()
    try:
        compiled = compile_expression(source, ["a", "k"])
        if len(to_utf16(want)) > cap:
            with pytest.raises(JSError, match="RangeError"):
                compiled.fn(s, float(n))
        else:
            assert compiled.fn(s, float(n)) == want
    finally:
        limits.MAX_STRING_LENGTH = saved
        environment.clear_cache()


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(
    "aA1 .'\u03a3\u03c3\u0301\u0345\u02b0\u00ad\u0130\u00df\u1100\u1161\u11a8\uac00\u4e00"
    "e\u0300\u0b47\u0b3e"), max_size=40), chunk=st.integers(1, 5))
def test_chunked_mapping_equals_whole_mapping(text, chunk):
    """Case mapping and normalization in chunks give what they give on the whole string."""
    cases = [(strings._upper, strings._anywhere), (strings._lower, strings._lower_cut)]
    cases += [(_normalizer(form), strings._normalize_cut) for form in ("NFC", "NFD", "NFKC", "NFKD")]
    for fn, cut in cases:
        # an expansion factor too large for the one-go path forces the chunks
        assert strings.map_in_chunks(text, fn, 1 << 40, cut, chunk) == to_utf16(fn(text))


def test_expansion_factors_hold_for_every_code_point():
    """CASE_EXPANSION and NORMALIZE_EXPANSION bound what one code point becomes (UTF-16 units)."""
    worst: dict[str, float] = {}
    # every assigned code point (unassigned ones map to themselves), except \0: the separator
    chars = [ch for ch in map(chr, range(1, 0x110000)) if unicodedata.category(ch) not in ("Cn", "Cs")]
    for name, fn in (("upper", strings._upper), ("lower", strings._lower),
                     *[(form, _normalizer(form)) for form in strings._FORMS]):
        joined = "\0".join(chars)  # one call: \0 maps to itself and stops every context
        pieces = fn(joined).split("\0")
        assert len(pieces) == len(chars)
        # only a longer result, or a BMP character mapped to an astral one, can exceed 1
        grown = [(c, p) for c, p in zip(chars, pieces) if len(p) > 1 or p > "\uffff" >= c]
        worst[name] = max(len(to_utf16(p)) / len(to_utf16(c)) for c, p in grown)
    assert worst["upper"] <= strings.CASE_EXPANSION and worst["lower"] <= strings.CASE_EXPANSION
    for form in strings._FORMS:
        assert worst[form] <= strings.NORMALIZE_EXPANSION[form], (form, worst[form])
    assert unicodedata.normalize("NFKD", "\ufdfa").__len__() == 18  # the factor is reached


def test_split_caps_the_array_before_building(monkeypatch):
    monkeypatch.setattr(limits, "MAX_ARRAY_LENGTH", 5)
    split = STRING_METHODS["split"]
    assert split("a,b,c,d,e", ",") == ["a", "b", "c", "d", "e"]
    assert split("a,b,c,d,e,f", ",", 5.0) == ["a", "b", "c", "d", "e"]
    for call in (lambda: split("a,b,c,d,e,f", ","), lambda: split("abcdef", ""),
                 lambda: ARRAY_METHODS["concat"]([1.0, 2.0, 3.0], [4.0, 5.0], 6.0)):
        with pytest.raises(JSError, match="RangeError: invalid array length"):
            call()
    assert json.loads(json.dumps(split("abcde", ""))) == list("abcde")


# --- time: work on large values counts against limits.TIME_LIMIT ----------------------------------

_SLOW_CHAIN = "a.repeat(2**22)" + ".toUpperCase().toLowerCase()" * 40 + ".length"


def test_a_long_chain_of_large_operations_is_interrupted(monkeypatch):
    monkeypatch.setattr(limits, "TIME_LIMIT", 0.3)
    compiled = compile_expression(_SLOW_CHAIN, ["a"])
    assert compiled.engine == "python"
    t0 = time.monotonic()
    with pytest.raises(JSError) as info:
        compiled.fn("\u00e9")
    elapsed = time.monotonic() - t0
    assert (info.value.name, info.value.message) == (
        "InternalError", "interrupted: time limit of 0.3 s exceeded")
    assert 0.3 <= elapsed < 0.45 + 0.5  # one operation past the limit, at most


@pytest.mark.parametrize("source", [
    "`${a.repeat(2**22)}${a}`.length",                           # concatenation, generated check
    "a.repeat(2**20).split('').join('').length",                # split, join
    "JSON.stringify(a.repeat(2**17).split(''), null, 2).length",  # serialization in chunks
    "a.repeat(2**20).normalize('NFKD').length",                  # normalization in chunks
])
def test_large_work_is_counted_per_evaluation(monkeypatch, source):
    """Each evaluation's clock starts with its own first large operation: many evaluations
    one after another, each well under the limit, never add up to a timeout."""
    compiled = compile_expression(f"({source}) + ({source})", ["a"])
    t0 = time.monotonic()
    compiled.fn("\u00e9")
    one = time.monotonic() - t0
    monkeypatch.setattr(limits, "TIME_LIMIT", max(2.5 * one, 0.05))
    for _ in range(6):
        compiled.fn("\u00e9")
    monkeypatch.setattr(limits, "TIME_LIMIT", one / 20)  # now each evaluation is too long
    with pytest.raises(JSError, match="interrupted: time limit"):
        compiled.fn("\u00e9")


def test_no_clock_outside_generated_code(monkeypatch):
    """Direct jslib calls and constant folding are not evaluations: no time limit applies."""
    monkeypatch.setattr(limits, "TIME_LIMIT", 0.0)
    assert len(STRING_METHODS["toUpperCase"]("\u00e9" * 2**18)) == 2**18
    compiled = compile_expression("'\u00e9'.repeat(2**18).toUpperCase() + 'no-clock-when-folding'", [])
    with pytest.raises(JSError, match="interrupted"):  # but the evaluation is one
        compiled.fn()


# --- astral characters: the UTF-16 form conversions run at C speed (review item 1) ------------

_PAIR_RE = re.compile("[\ud800-\udbff][\udc00-\udfff]")
_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")


def _old_from_utf16(s: str) -> str:
    """The former regex implementation (one callback a pair): the reference."""
    return _PAIR_RE.sub(
        lambda m: chr(0x10000 + ((ord(m[0][0]) - 0xD800) << 10) + (ord(m[0][1]) - 0xDC00)), s)


def _old_to_utf16(s: str) -> str:
    def split(m: re.Match[str]) -> str:
        cp = ord(m[0]) - 0x10000
        return chr(0xD800 + (cp >> 10)) + chr(0xDC00 + (cp & 0x3FF))
    return _ASTRAL_RE.sub(split, s)


# lone high and low surrogates, pairs, reversed pairs, ASCII, BMP and astral characters
_UNITS = st.text(alphabet=st.sampled_from(
    ["a", "\u00e9", "\uffff", "\ud800", "\udbff", "\udc00", "\udfff", "\ud83d", "\ude00",
     "\U0001f600", "\U00010000", "\U0010ffff"]), max_size=40)


@settings(max_examples=400, deadline=None)
@given(_UNITS)
def test_utf16_conversions_equal_the_former_implementation(s):
    # short strings keep the regex route; long ones (from values._SHORT) take the codec route
    for text in (s, s * (values._SHORT // max(len(s), 1) + 1), "\u00e9" * values._SHORT + s):
        assert values.from_utf16(text) == _old_from_utf16(text)
        assert values.to_utf16(text) == _old_to_utf16(text)
        assert values.to_utf16(values.from_utf16(text)) == _old_to_utf16(_old_from_utf16(text))


@settings(max_examples=100, deadline=None)
@given(_UNITS, st.integers(1, 5))
def test_utf16_conversions_in_chunks_never_split_a_pair(s, chunk):
    """The slow path (lone surrogates) converts in chunks: same result for every chunk size."""
    old = values._CHUNK
    values._CHUNK = chunk
    try:
        s = s + "\ud800" * values._SHORT + s  # lone surrogates: the chunked path
        u16 = _old_to_utf16(s)
        assert values.from_utf16(u16) == _old_from_utf16(u16)
        assert values.to_utf16(s) == u16
    finally:
        values._CHUNK = old


@pytest.mark.parametrize("source, value, length", [
    ("'\U0001f600'.repeat(2**23)", None, 2**23),              # the review's examples
    ("p.repeat(2**23)", "\U0001f600", 2**23),
    ("p", "\U0001f600" * 2**21, 2**21),                          # an 8 MB payload
    ("JSON.stringify(p.repeat(2**22)).length", "\U0001f600", 2**23 + 2),
])
def test_astral_strings_convert_fast(source, value, length):
    compiled = compile_expression(source, ["p"], engine="python")
    t0 = time.perf_counter()
    result = compiled({"p": value})
    assert time.perf_counter() - t0 < 2.0
    assert (len(result) if isinstance(result, str) else result) == length


@pytest.mark.parametrize("source", ["'\\ud800'.repeat(2**24)", "'a\\udc00'.repeat(2**23)"])
def test_lone_surrogates_conversion_is_interrupted(source):
    """Lone surrogates take the codec's slow error path: in chunks, within the time limit."""
    compiled = compile_expression(source, [], engine="python")
    t0 = time.perf_counter()
    try:
        assert len(compiled({})) == 2**24  # a fast machine may finish
    except JSError as e:
        assert e.name == "InternalError"
    assert time.perf_counter() - t0 < 2.0


# --- JSON.parse: the number of values is bounded before parsing (review item 2) ------------

@pytest.mark.parametrize("source", [
    "JSON.parse('[' + '[],'.repeat(5592404) + '[]]').length",
    "JSON.parse('[' + '0,'.repeat(2**23-2) + '0]').length",
])
def test_json_parse_over_the_value_cap_fails_fast(source):
    compiled = compile_expression(source, [], engine="python")
    t0 = time.perf_counter()
    with pytest.raises(JSError) as info:
        compiled({})
    assert time.perf_counter() - t0 < 1.0
    assert (info.value.name, info.value.message) == (
        "RangeError", f"JSON.parse: more than {limits.MAX_ARRAY_LENGTH} values")
    # the quickjs engine (64 MiB) runs out of memory on the same input: an error either way
    with pytest.raises(JSError, match="out of memory"):
        compile_expression(source, [], engine="quickjs")({})


@pytest.mark.parametrize("source", [
    "JSON.parse('\"' + ',[:'.repeat(2**19) + '\"').length",     # separators inside a string
    "JSON.parse('[\"' + '\\\\\",'.repeat(2**19) + '\"]')[0].length",  # escaped quotes
    "JSON.parse('[' + '0,'.repeat(2**19) + '0]').length",
])
def test_json_parse_under_the_cap_agrees_with_quickjs(source):
    ours = compile_expression(source, [], engine="python")({})
    assert same(ours, REFERENCE.evaluate(source).value)


def _count_values(v) -> int:
    if isinstance(v, list):
        return 1 + sum(map(_count_values, v))
    if isinstance(v, dict):
        return 1 + sum(map(_count_values, v.values()))
    return 1


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='a,[]{}:"\\'),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(alphabet='a,:"'), inner, max_size=5),
    max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(_JSON, st.booleans())
def test_json_value_bound_is_an_upper_bound(value, pretty):
    """The bound counts structure only (separators inside strings do not count)."""
    text = json.dumps(value, indent=1 if pretty else None)
    n = _count_values(value)
    assert n <= json_value_bound(text) <= 3 * n  # a value, a member, an empty array: one each


def test_json_value_cap_applies_to_long_texts(monkeypatch):
    monkeypatch.setattr(limits, "MAX_ARRAY_LENGTH", 8)
    parse = compile_expression("JSON.parse(t)", ["t"], engine="python")
    assert parse({"t": "[1,2,3,4,5,6,7] "}) == [1, 2, 3, 4, 5, 6, 7]
    assert parse({"t": '[",,,,,,,,,,,,,,"]'}) == [",,,,,,,,,,,,,,"]
    with pytest.raises(JSError, match="JSON.parse: more than 8 values"):
        parse({"t": "[1,2,3,4,5,6,7,8,9]"})
