"""The one front-end (esprima-fork): what it accepts and refuses, where errors point, that compiling
raises nothing but ExpressionError, the identifier rule, and the modern syntax the python engine
lowers (checked against the QuickJS reference)."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess

import esprima
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.reference import Reference, agree, evaluate_ours
from runtime import ConfigError, Message, StreamProcessor
from transpiler import UNDEFINED, ExpressionError, compile_expression
from transpiler.analysis import OFFSET, analyse, parse_expression, position
from transpiler.errors import JSError
from transpiler.policy import RESERVED_WORDS, identifier_problem, is_identifier_name
from transpiler.quickjs_engine import default_engine

REF = Reference()

# --- syntax: the same verdicts as QuickJS (and Node where QuickJS is wrong) ------------------

VALID = [
    "/(?i:a)b/", "/(?<a>x)|(?<a>y)/", "/[\\p{L}--\\p{N}]/v", "/a/d", "/(?<=a)b/s", "/\\p{Script=Greek}/u",
    "(async () => { for await (const q of []) {} })", "async function* g() {}",
    "(class { static #a = 1; static m(o) { return #a in o; } })", "(class { static { } })",
    "1n ** 2n", "(a ||= 1)", "(() => { let q; q ??= 1; q &&= 2; })", "[1,,2]",
    "({get a() { return 1 }, set a(v) {}})", "(function* () { yield* [1]; })", "`a${1}b`",
    "String.raw`\\u00`", "a?.b?.[c]?.(d)", "(() => { try {} catch { } })", "x => { 'use strict'; }",
    "0.0000001_1", "1_000_000", "0xf_f", "a\u2028+ b", "(a, b) => a", "(-a) ** 2",
    "a ?? b", "(a ?? b) || c", "{a: 1, b: 2}", "{}", "({...a, b})", "[...a]", "(a, b)",
    "(function () { return new.target })", "\\u{61}wait", "x\\u200c", "'\\u{1F600}'", "`\\u{1F600}`",
    "(() => { label: for (;;) { break label; } })", "a /* c */ + // d\n b", "'😀' + 1", "ñ + ª",
    "f(a, b,)", "(a, b,) => 1", "'\u2028'", "import('x')", "({a} = o)", "[a, b] = [b, a]",
    "(class A extends B { constructor() { super(); } get x() { return 1 } static y() {} })",
    "async x => await x", "({async *m() {}})", "/a/y", "0O17", "0B1", "'\\u{10FFFF}'",
    "String.raw`\\unicode`", "(function (...r) {})", "({[k]: 1, m() {}, ...o})",
    "(() => { const {a, ...r} = o; })", "(function* () { const x = yield; })",
    "(async function () { for await (x of y); })", "(a) = 1", "({a}) => a", "a\n?.b", "a?.\nb",
    "a ?.5 : 1", "x => x\n(1)", "(() => { let\nx = 1 })", "'\\0'", "(class { static async *#m() {} })",
    "1 ?? 2 ?? 3", "a ||= b ||= c", "typeof await",
]
INVALID = [
    "`T=${x}\\u00`", "'\\u00'", "'\\x4'", "'\\u{110000}'", "010", "'\\07'", "08", "'\\8'",
    "(() => { with (a) {} })", "(() => { delete q; })", "(a, a) => 1", "(function (a, a) {})",
    "(function () { var yield; })", "(() => { arguments = 1; })", "1 = 2", "a++ ++", "-a ** 2",
    "a ?? b || c", "a?.b = 1", "new a?.b()", "a?.`x`", "/(?<a>x)(?<a>y)/", "/[/", "/a/gg", "`${}`",
    "1_", "1__0", "0_1", "(() => { break; })", "(() => { switch (1) { case 1: continue; } })",
    "return 1", "(p * 2", "p * 2)", "1), (2", "{", "}", "...a", "(async () => await)",
    "(class { constructor(){} constructor(){} })", "({ get a(x) {} })", "super()", "#x",
    "(() => { l: l: 1; })", "(class { #a; #a; })", "(class extends A { m() { super(); } })", "let",
    "yield", "(function () { 'use strict'; 010 })", "a => { 'use strict'; } ; 1", "/(?i-i:a)/",
    "0b2", "0o8", "0x", "1e", ".e1", "a\\u0020b", "new.target", "import.meta", "await 1",
    "import('x'", "a ? b", "() =>", "var x = 1", "x; y", "a?.b!", "({a: 1} = 1)", "((a)) => 1",
    "let\n[a] = b", "'\\09'", "(class { accessor x = 1 })", "using x = y", "a.#b",
    "(() => { using x = y })",
]
# QuickJS's verdict differs from the standard here; Node (vm.Script) and esprima-fork agree.
QUICKJS_DIFFERS = {
    "new a?.b()": "QuickJS accepts an optional chain as a 'new' callee (an early error)",
    "new.target": "QuickJS wraps the expression in a function, where new.target is allowed",
    "(() => { using x = y })": "QuickJS has 'using' declarations (later than ES2025)",
}


def _accepts(check, source: str) -> bool:
    try:
        check(source)
    except ExpressionError:
        return False
    return True


@pytest.mark.parametrize("source", VALID + INVALID)
def test_front_end_and_quickjs_accept_and_refuse_the_same_syntax(source: str) -> None:
    expected = source in VALID
    assert _accepts(parse_expression, source) == expected
    if source not in QUICKJS_DIFFERS:
        assert _accepts(default_engine().check_syntax, source) == expected


@pytest.mark.skipif(shutil.which("node") is None, reason="node is part of the test environment")
def test_where_quickjs_differs_node_agrees_with_the_front_end() -> None:
    script = ("const vm = require('vm'); const s = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
              "console.log(JSON.stringify(s.map(x => { try { new vm.Script('\"use strict\";(\\n' + x + "
              "'\\n)'); return true; } catch (e) { return false; } })));")
    sources = list(QUICKJS_DIFFERS)
    out = subprocess.run(["node", "-e", script], input=json.dumps(sources), capture_output=True,
                         text=True, check=True).stdout
    assert json.loads(out) == [_accepts(parse_expression, s) for s in sources]


@pytest.mark.parametrize(("source", "message", "where"), [
    ("(p * 2", "Unexpected end of input", "at end of expression"),
    ("p * 2)", "Unexpected token )", "line 1, column 6"),
    ("`T=${p}\\u00`", "Invalid escape sequence in template literal", None),
    ("'😀😀' + p +* 2", "Unexpected token *", "line 1, column 11"),  # characters (UTF-16 says 13)
    ("p +\n  * 2", "Unexpected token *", "line 2, column 3"),
    ("010", "Octal literals are not allowed in strict mode", "line 1, column 1"),
])
@pytest.mark.parametrize("engine", ["python", "auto", "quickjs"])
def test_syntax_errors_name_the_parser_message_and_a_position_in_the_users_text(
        source: str, message: str, where: str | None, engine: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source, ["p"], engine=engine)
    text = str(caught.value)
    assert text.startswith("SyntaxError: ") and message in text
    assert "';'" not in text and "use strict" not in text  # nothing of the parse wrapper
    if where is not None:
        assert where in text


def test_ranges_are_python_indices_even_after_astral_characters() -> None:
    source = "'😀\U0001f601' + press * tF"
    node = analyse(source, ("press", "tF")).ast
    right = node.right
    start, end = right.range[0] - OFFSET, right.range[1] - OFFSET
    assert source[start:end] == "press * tF"
    regex = "'😀😁' + /x/.test(p)"
    with pytest.raises(ExpressionError) as caught:
        compile_expression(regex, ["p"], engine="python")
    assert f"'.test()' at offset {regex.index('/')};" in str(caught.value)  # UTF-16 would say +2


def test_statements_are_named() -> None:
    for source, fragment in [("var x = 1; x", "declaration ('var')"), ("x; y", "several statements"),
                             ("while (true) {}", "'while'"), ("1), (2", "closes more than it opened")]:
        with pytest.raises(ExpressionError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
            compile_expression(source, ["x", "y"])


# --- compile raises nothing but ExpressionError -----------------------------------------------

NASTY = {
    "61 nested parentheses": "(" * 61 + "p" + ")" * 61,
    "30 nested object literals": "(" + "{a:" * 30 + "p" + "}" * 30 + ")",
    "68 && terms": " && ".join(["p"] * 68),
    "201 + terms": " + ".join(["p"] * 201),
    "NUL in a comment": "p /*\0*/ + 1",
    "0x and 260 f": "0x" + "f" * 260,
    "lone surrogate in a string": "'\ud800' + p",
    "lone surrogate in a comment": "p /* \udc00 */",
    "1000 nested arrays": "[" * 1000 + "p" + "]" * 1000,
    "5000 + terms": "+".join(["p"] * 5000),
}


@pytest.mark.parametrize("name", list(NASTY))
@pytest.mark.parametrize("engine", ["python", "auto"])
def test_nasty_sources_compile_or_are_an_expression_error(name: str, engine: str) -> None:
    source = NASTY[name]
    try:
        compiled = compile_expression(source, ["p"], engine=engine)
    except ExpressionError as err:
        assert "nest" in str(err) or "SyntaxError" in str(err), err
        return
    ours = evaluate_ours(compiled, {"p": 1.5} if compiled.dependencies else {})
    if "\0" not in source and "surrogate" not in name:  # QuickJS's C API takes neither
        assert agree(ours, REF.evaluate(source, {"p": 1.5}))


def test_the_issue_examples_compile_in_the_python_engine() -> None:
    for name in ("61 nested parentheses", "30 nested object literals", "68 && terms", "201 + terms",
                 "0x and 260 f"):
        compiled = compile_expression(NASTY[name], ["p"], engine="python")
        for p in (1.5, 0.0, "s", None):
            ours = evaluate_ours(compiled, {"p": p} if compiled.dependencies else {})
            assert agree(ours, REF.evaluate(NASTY[name], {"p": p})), name
    assert compile_expression("0x" + "f" * 260, []).fn() == float("inf")
    with pytest.raises(ExpressionError, match="SyntaxError"):
        compile_expression("`${}`", [])


# --- one source text for every engine: NUL and surrogate code points are refused ---------------

_SOURCE_CHARACTERS = st.lists(st.sampled_from(
    ["p", " + ", "'a", "'", "/* ", " */", "// ", "\n", "`", "${p}", "1", "\0", "\ud800", "\udbff",
     "\udc00", "\udfff", "\ud83d\ude00", "😀", "é"]), min_size=1, max_size=12).map("".join)


def _outcome(source: str, engine: str) -> str:
    try:
        compiled = compile_expression(source, ["p"], engine=engine)
    except ExpressionError as err:
        return f"ExpressionError: {err}"
    try:
        return repr(compiled.fn(*([2.0] if compiled.dependencies else [])))
    except JSError as err:
        return f"JSError: {err}"


@settings(max_examples=200, deadline=None)
@given(_SOURCE_CHARACTERS)
def test_engines_accept_the_same_source_characters(source: str) -> None:
    """Python and QuickJS engines agree on every source text, NUL and surrogates included:
    such a character is an ExpressionError naming it and its position (QuickJS's C API can
    take neither), decided once by the front-end."""
    python, quickjs = _outcome(source, "python"), _outcome(source, "quickjs")
    bad = next((i for i, ch in enumerate(source) if ch == "\0" or "\ud800" <= ch <= "\udfff"), None)
    if bad is not None:
        assert python == quickjs
        assert f"U+{ord(source[bad]):04X}" in python and position(source, bad) in python
    elif "not supported by the python engine" not in python:
        if python.startswith("ExpressionError") or quickjs.startswith("ExpressionError"):
            assert python.startswith("ExpressionError"), (python, quickjs)
            assert quickjs.startswith("ExpressionError"), (python, quickjs)
        else:
            assert python == quickjs


@pytest.mark.parametrize("source, message", [
    ("a + '\x00'", "NUL character U+0000 in the expression text (line 1, column 6)"),
    ("// \ud800\na", "surrogate code point U+D800 in the expression text (line 1, column 4)"),
    ("'x' + a /* \udc00 */", "surrogate code point U+DC00 in the expression text (line 1, column 12)"),
    ("'\ud83d\ude00'", "surrogate code point U+D83D in the expression text (line 1, column 2)"),
])
@pytest.mark.parametrize("engine", ["python", "quickjs", "auto"])
def test_review_examples_nul_and_surrogates(source: str, message: str, engine: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(message)):
        compile_expression(source, ["a"], engine=engine)


_pieces = st.sampled_from(["(", ")", "[", "]", "{", "}", "a:", "p", "1", "0x", "f", "&&", "+", "?.",
                           "??", "`", "${", "\\u00", "\0", "\ud800", "/*", "*/", "//", "\n", ",", "=>",
                           "'", '"', "e", "_", ".", "-", "**", "=", ";", "function", "return", "let",
                           "async", "new", "class", "#", "\\", "\u2028", "😀", "1n", "/", "in"])
_nasty = st.one_of(
    st.lists(_pieces, max_size=25).map("".join),
    st.tuples(st.sampled_from(["(", "[", "{a:", "-", "!", "p ? 1 : "]), st.integers(1, 400)).map(
        lambda t: t[0] * t[1] + "p" + {"(": ")", "[": "]", "{a:": "}"}.get(t[0], "") * t[1]),
    st.tuples(st.sampled_from(["&&", "+", "??", "||", "**", ",", "-", "<"]), st.integers(1, 600)).map(
        lambda t: f" {t[0]} ".join(["p"] * t[1])),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_nasty, st.sampled_from(["python", "auto"]))
def test_only_expression_errors_escape_compile_expression(source: str, engine: str) -> None:
    with contextlib.suppress(ExpressionError):
        compile_expression(source, ["p"], engine=engine)


# --- one identifier rule ----------------------------------------------------------------------

ALIASES = ["temp$F", "$voltage", "$", "ñ", "ª", "_x", "x\u200d", "ℌ", "π2"]


@pytest.mark.parametrize("alias", ALIASES)
@pytest.mark.parametrize("engine", ["python", "quickjs"])
def test_javascript_identifiers_work_as_variables_in_every_engine(alias: str, engine: str) -> None:
    assert identifier_problem(alias) is None
    compiled = compile_expression(f"{alias} * 2 + `${{{alias}}}`.length", [alias], engine=engine)
    assert compiled.dependencies == (alias,)
    assert compiled.fn(21.0) == 44.0


@pytest.mark.parametrize("alias", ["1abc", "a-b", "let", "eval", "Math", "undefined", "a\\u0062", "",
                                   "a b", "x\u00a0", "\u200d"])
def test_non_identifiers_reserved_blocked_and_globals_are_refused(alias: str) -> None:
    assert identifier_problem(alias) is not None
    with pytest.raises(ExpressionError, match="variable"):
        compile_expression("1", [alias])


def test_a_dollar_alias_runs_in_the_processor() -> None:
    config = {"output_topic": "umh.v1.t", "model": {"name": "m", "version": "v1"},
              "sources": {"temp$F": "umh.v1.t._raw.f", "ñ": "umh.v1.t._raw.n"},
              "mapping": {"c": "(temp$F - 32) / 1.8", "q": "ñ ?? 0"}}
    for engine in ("python", "quickjs"):
        processor = StreamProcessor(config, engine=engine)
        message = Message(b'{"value": 212, "timestamp_ms": 5}', {"umh_topic": "umh.v1.t._raw.f"})
        out = processor.process(message)
        assert [(m.meta["umh_topic"], m.payload) for m in out] == [
            ("umh.v1.t._m_v1.c", b'{"value":100,"timestamp_ms":5}')]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=4))
def test_the_identifier_rule_is_the_parsers(name: str) -> None:
    try:
        tree = esprima.parseScript(name)
        parsed = (len(tree.body) == 1 and tree.body[0].type == "ExpressionStatement"
                  and tree.body[0].expression.type == "Identifier" and tree.body[0].expression.name == name)
    except Exception:  # noqa: BLE001 - any refusal of the parser
        parsed = False
    if name in RESERVED_WORDS or name in ("null", "true", "false"):
        return
    assert is_identifier_name(name) == (parsed and "\\" not in name)


def test_a_function_valued_mapping_is_refused_at_load_and_told_to_call_it() -> None:
    for source in ("function() { return }", "() => 1", "(0, function () {})"):
        with pytest.raises(ExpressionError, match="call it"):
            compile_expression(source, [])
    config = {"output_topic": "umh.v1.t", "model": {"name": "m", "version": "v1"},
              "sources": {"p": "umh.v1.t._raw.p"}, "mapping": {"f": "function() { return }"}}
    with pytest.raises(ConfigError, match="call it"):
        StreamProcessor(config)


# --- modern syntax in the python engine ---------------------------------------------------------

MODERN = [
    "a ?? 5", "a ?? b ?? 'z'", "(a ?? b) || 'y'", "o?.k", "o?.k?.v", "o?.['k']", "a?.k", "a?.[0]",
    "a?.length", "arr?.[1] ?? -1", "a?.k.v", "(a?.k).v ?? 0", "s?.toUpperCase()", "s?.slice?.(1)",
    "a?.toString?.()", "o.missing?.()", "o?.k ?? a?.[1]", "1_000 + x", "0xf_f",
    "1_0.5e1_0", "0b1_0", "(-x) ** 2", "(-2) ** 2", "(-x) ** 0.5", "(+s) ** 2", "(-a) ** 2",
    "`${a ?? 'none'}`", "[a?.k, o?.k]", "a?.[s]", "Math.max?.(x, 1)", "(a ?? x) * 2",
]
ENVS = [
    {"a": None, "b": 1.0, "x": 2.0, "s": "ab", "o": {"k": {"v": 3.0}}, "arr": [1.0]},
    {"a": {"k": {"v": 0.0}}, "b": None, "x": -0.0, "s": "", "o": {}, "arr": []},
    {"a": "str", "b": "b", "x": -1.5, "s": "12", "o": {"k": None}, "arr": [None, 2.0]},
    {"a": [5.0, None], "b": False, "x": float("nan"), "s": "😀", "o": {"k": 1.0}, "arr": [3.0, None]},
    {"a": 0.0, "b": [], "x": 1e21, "s": "é", "o": {"k": "t"}, "arr": [0.0, 0.0]},
]


@pytest.mark.parametrize("source", MODERN)
def test_modern_syntax_is_lowered_and_agrees_with_quickjs(source: str) -> None:
    compiled = compile_expression(source, ["a", "b", "x", "s", "o", "arr"], engine="python")
    for env in ENVS:
        used = {k: env[k] for k in compiled.dependencies}
        ours, ref = evaluate_ours(compiled, used), REF.evaluate(source, env)
        assert agree(ours, ref), f"{source} with {used}: {ours} != {ref}"


def test_optional_chains_short_circuit_the_rest_of_the_chain() -> None:
    compiled = compile_expression("a?.b.c.d", ["a"], engine="python")
    assert compiled.fn(None) is UNDEFINED and compiled.fn({"b": {"c": {"d": 4.0}}}) == 4.0
    with pytest.raises(Exception, match="TypeError"):
        compiled.fn({"b": None})


def test_bigint_goes_to_quickjs_and_is_refused_by_the_python_engine() -> None:
    assert compile_expression("Number(2n ** 64n)", []).engine == "quickjs"
    with pytest.raises(ExpressionError, match="BigInt"):
        compile_expression("Number(2n)", [], engine="python")


def test_every_bad_mapping_is_one_line_of_one_config_error() -> None:
    config = {"output_topic": "umh.v1.t", "model": {"name": "m", "version": "v1"},
              "sources": {"p": "umh.v1.t._raw.p"},
              "mapping": {"a": "`${}`", "b": "(" * 300 + "p" + ")" * 300, "c": "function () {}",
                          "d": "p +", "e": "0x" + "f" * 260 + " + p", "f": "p /*\0*/ * 2"}}
    with pytest.raises(ConfigError) as caught:
        StreamProcessor(config)
    problems = caught.value.errors
    # each line: mapping '<path>' (<expression as written, shortened>): <problem>
    assert [e.split(":")[0].split(" (")[0] for e in problems] == ["mapping 'a'", "mapping 'b'", "mapping 'c'",
                                                                "mapping 'd'", "mapping 'f'"]


# --- parse error positions (review item 9): columns where node's caret points ------------------

@pytest.mark.parametrize("source, message", [
    ("`${}`", "Unexpected token '}' (line 1, column 4)"),
    ("`a${ }b`", "Unexpected token '}' (line 1, column 6)"),
    ("0 || a ?? 1", "mixed with logical operators (line 1, column 8)"),
    ("a ?? b || c", "mixed with logical operators (line 1, column 8)"),
    ("(a ?? b) || c && (b || a ?? c)", "mixed with logical operators (line 1, column 26)"),
    ("a ? b ?? c : a || b ?? c", "mixed with logical operators (line 1, column 21)"),
    ("`${a || b}` ?? c || a", "mixed with logical operators (line 1, column 18)"),
])
def test_parse_errors_point_at_the_offending_token(source: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(message)):
        compile_expression(source, ["a", "b", "c"])
