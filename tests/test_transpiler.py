"""The transpiler's API and every construct of the python subset, checked against QuickJS."""

from __future__ import annotations

import math
import re

import pytest

from conformance.reference import Reference, agree, allowed_ulps, evaluate_ours
from transpiler import UNDEFINED, CompiledExpression, ExpressionError, JSError, compile_expression

REF = Reference()

NUMBERS = [0.0, -0.0, 1.5, -7.0, 3.0, 25.5, math.nan, math.inf, -math.inf, 5e-324,
           1.7976931348623157e308, 9007199254740993, 1e21, 1e-7, 0.1, 1e150, -2e160, -1e-200]
STRINGS = ["", " 12 ", "0x1A", "1e3", "abc", "😀x", "é", "-0", "Infinity", "\t\n"]
OTHERS = [True, False, None, UNDEFINED, [1.0, "a"], [], {"k": 1.0}, {}]
VALUES = NUMBERS + STRINGS + OTHERS


def check(source: str, envs: list[dict]) -> None:
    names = list(envs[0]) if envs else []
    compiled = compile_expression(source, names, engine="python")
    assert compiled.engine == "python"
    ulps = allowed_ulps(source)
    for env in envs:
        ours = evaluate_ours(compiled, env)
        ref = REF.evaluate(source, env)
        assert agree(ours, ref, ulps), f"{source} with {env}: ours {ours}, QuickJS {ref}"


UNARY = [  # expressions over one variable `a`, each tried with every value in VALUES
    "a + 1", "1 + a", "a + ''", "'' + a", "a + 'x'", "a - 1", "a * 2", "a / 0", "0 / a", "a / a",
    "a % 3", "-7 % a", "a % -2", "a ** 2", "a ** 3", "Math.pow(a, 2)", "(a + 1) ** 7", "2 ** a",
    "a ** 0.5", "-a", "+a",
    "!a", "!!a", "~a", "a | 0", "a >>> 0", "a >> 1", "a << 33", "a & 255", "a ^ 1",
    "typeof a", "void a", "a == 0", "a != 0", "a === 0", "a == null", "a == undefined",
    "a == ''", "a == '0'", "a == false", "a < 1", "a > 'a'", "a <= '10'", "a >= null",
    "a && 'y'", "a || 'n'", "a ? 'yes' : 'no'", "(a, 1)", "`t${a}t`", "`${a}`", "[a, 1]",
    "({v: a, 2: 'two', 1: a})", "String(a)", "Number(a)", "Boolean(a)", "parseInt(a)",
    "parseFloat(a)", "isNaN(a)", "isFinite(a)", "Number.isInteger(a)", "Number.isSafeInteger(a)",
    "Number.isFinite(a)", "Number.isNaN(a)", "Math.round(a)", "Math.floor(a)", "Math.ceil(a)",
    "Math.trunc(a)", "Math.sign(a)", "Math.abs(a)", "Math.sqrt(a)", "Math.max(a, 1)",
    "Math.min(a, 0)", "Math.max()", "Math.min()", "Math.cbrt(a)", "Math.exp(a)", "Math.log(a)",
    "Math.sin(a)", "Math.atan2(a, 1)", "Math.hypot(a, 3)", "Math.fround(a)", "Math.clz32(a)",
    "Math.imul(a, 3)", "JSON.stringify(a)", "JSON.stringify([a])", "JSON.stringify({a: a})",
    "a.length", "a[0]", "a['length']", "a.toString()", "a + a", "a * a + 1", "a - -a",
]


@pytest.mark.parametrize("source", UNARY)
def test_one_variable_against_quickjs(source: str) -> None:
    check(source, [{"a": v} for v in VALUES])


BINARY = [
    "a + b", "a - b", "a * b", "a / b", "a % b", "a ** b", "a < b", "a > b", "a <= b", "a >= b",
    "a == b", "a != b", "a === b", "a !== b", "a && b", "a || b", "a ? b : a", "a & b", "a | b",
    "a >>> b", "a << b", "`${a}-${b}`", "Math.max(a, b)", "Math.min(a, b)", "Math.pow(a, b)",
]
PAIR_VALUES = [0.0, -0.0, 2.0, -1.5, math.nan, math.inf, "", "5", "a", "b", True, None, UNDEFINED,
               [2.0], {"x": 1.0}, 1e21, "😀"]


@pytest.mark.parametrize("source", BINARY)
def test_two_variables_against_quickjs(source: str) -> None:
    check(source, [{"a": a, "b": b} for a in PAIR_VALUES for b in PAIR_VALUES])


STRING_METHODS = [
    "s.charAt(1)", "s.charCodeAt(0)", "s.codePointAt(0)", "s.at(-1)", "s.indexOf('a')",
    "s.lastIndexOf('a')", "s.includes('😀')", "s.startsWith('a')", "s.endsWith('x')",
    "s.slice(1)", "s.slice(-2, -1)", "s.substring(3, 1)", "s.substr(-3, 2)", "s.toUpperCase()",
    "s.toLowerCase()", "s.trim()", "s.trimStart()", "s.trimEnd()", "s.padStart(8, 'ab')",
    "s.padEnd(6)", "s.repeat(2)", "s.concat(1, null)", "s.split('a')", "s.split('')",
    "s.replace('a', '[$&]')", "s.replaceAll('a', 'b')", "s.toString()", "s.length", "s[1]",
    "s < 'b'", "s + s.length",
]
STRING_VALUES = ["", "a", "banana", "😀a😀", " \u00a0pad\u2028 ", "ß straße", "ΑΣ", "x"]


@pytest.mark.parametrize("source", STRING_METHODS)
def test_string_methods_against_quickjs(source: str) -> None:
    check(source, [{"s": s} for s in STRING_VALUES])


NUMBER_METHODS = ["x.toFixed(2)", "x.toFixed(0)", "x.toPrecision(3)", "x.toExponential(2)",
                  "x.toExponential()", "x.toString(16)", "x.toString(2)", "x.toString()"]
NUMBER_VALUES = [0.0, -0.0, 1.005, 2.5, -1.5, 1e21, 123.456, 0.000001, 255.0, -255.5, math.nan,
                 math.inf, 5e-324]


@pytest.mark.parametrize("source", NUMBER_METHODS)
def test_number_methods_against_quickjs(source: str) -> None:
    check(source, [{"x": x} for x in NUMBER_VALUES])


ARRAY_METHODS = ["v.join('-')", "v.join()", "v.indexOf(1)", "v.includes(NaN)", "v.slice(1)",
                 "v.concat([9], 8)", "v.length", "v[0]", "v + ''", "String(v)"]
ARRAY_VALUES = [[], [1.0, 2.0, 1.0], [math.nan, None, UNDEFINED, "x"], [[1.0, 2.0], [3.0]]]


@pytest.mark.parametrize("source", ARRAY_METHODS)
def test_array_methods_against_quickjs(source: str) -> None:
    check(source, [{"v": v} for v in ARRAY_VALUES])


CONSTANTS = [
    "0x1A + 0o17 + 0b101", "1e3", ".5e-3", "'\\x41\\u0042\\u{1F600}\\n\\t\\'\\\\'", "'\\ud83d'",
    "`multi\nline`", "NaN", "Infinity", "-Infinity", "undefined", "null", "true", "[1, [2, 3]] + ''",
    "({}) + ''", "[null] + ''", "true + 1", "'a' + true", "null + 1", "undefined + 1", "'10' < '9'",
    "'10' < 9", "null >= 0", "undefined == 0", "'\\u00e9' > 'z'", "'\\uffff' < '😀'",
    "'😀'.length", "'😀'[0]", "'😀x'.slice(1)", "0.1 + 0.2", "0.1 + 0.2 + ''", "1 / 0", "-1 / 0",
    "0 / 0", "1 / -0", "-7 % 3", "5.5 % -2", "Math.round(-2.5)", "Math.round(2.5)",
    "Math.round(-0.4)", "Math.round(0.49999999999999994)", "Math.max(-0, 0)", "Math.min(0, -0)",
    "Math.max(1, NaN)", "Number('')", "Number(' 12 ')", "Number('0x1A')", "Number('1_0')",
    "Number('Infinity')", "Number('inf')", "parseInt('12px')", "parseInt('0x1A')",
    "parseFloat('.5e1x')", "~5.7", "2147483648 | 0", "-1 >>> 0", "1 << 33", "(1.005).toFixed(2)",
    "(2.5).toFixed(0)", "(1e21).toFixed(2)", "(-1.5).toFixed(0)", "(255).toString(16)",
    "(0.5).toString(2)", "JSON.stringify({a: undefined, b: NaN})", "JSON.stringify(-0)",
    "JSON.stringify('\\u2028')", "typeof null", "typeof Math.sqrt", "Math.PI", "Math.E * 2",
    "Number.MAX_SAFE_INTEGER + 2", "Number.EPSILON", "'' + 1e21", "'' + 1e-7", "'' + 1e-6",
    "'' + 1e16", "'' + -0", "9007199254740993", "'abc'.length + 1", "[1, 2, 3].length",
    "({a: 1}).a", "({a: 1}).b", "({'x y': 2})['x y']", "[1, 2][5]", "String.fromCharCode(72, 105)",
    "Math.pow(NaN, 0)", "1 ** Infinity", "10 ** 400", "Math.pow(-8, 1/3)", "'x'.repeat(0)",
    "[1, 2] == '1,2'", "({}) == '[object Object]'", "null == undefined", "NaN == NaN",
    "typeof typeof 1", "!''", "!'0'", "![]", "!{}", "1, 2, 3", "void 0", "JSON.stringify('a\"b')",
    "JSON.stringify([1, 'a', null, undefined, true])", "JSON.stringify({b: 1, a: [{}]})",
    "JSON.stringify({x: 1}, null, 2)", "Number.parseFloat('3.5kg')", "isNaN('abc')",
]


@pytest.mark.parametrize("source", CONSTANTS)
def test_constant_expressions_against_quickjs(source: str) -> None:
    check(source, [{}])


ERRORS = [("null.x", "TypeError"), ("undefined.x", "TypeError"), ("(1).toUpperCase()", "TypeError"),
          ("'x'.repeat(-1)", "RangeError"), ("(1).toFixed(101)", "RangeError"),
          ("(1).toString(1)", "RangeError"), ("'a'.join()", "TypeError"), ("Math.PI()", "TypeError"),
          ("null[0]", "TypeError"), ("String.fromCodePoint(-1)", "RangeError")]


@pytest.mark.parametrize(("source", "name"), ERRORS)
def test_errors_are_thrown_as_javascript_does(source: str, name: str) -> None:
    compiled = compile_expression(source, engine="python")
    with pytest.raises(JSError) as caught:
        compiled.fn()
    assert caught.value.name == name == REF.evaluate(source).error


@pytest.mark.parametrize(("source", "engine"), [
    ("(-a) ** 2", "python"), ("(-8) ** (1/3)", "python"), ("(-0) ** -1", "python"), ("a ?? 5", "python"),
    ("o?.x", "python"), ("1_000 + a", "python"), ("({...o, y: a})", "quickjs")])
def test_syntax_after_es2017_is_lowered_or_runs_in_quickjs(source: str, engine: str) -> None:
    compiled = compile_expression(source, ["a", "o"])
    assert compiled.engine == engine
    for a, o in [(2.0, {"x": 1.0}), (None, None), (-0.0, {}), ("s", {"y": 2.0})]:
        env = {"a": a, "o": o}
        assert agree(evaluate_ours(compiled, env), REF.evaluate(source, env))


# --- API ------------------------------------------------------------------------------------

def test_readme_example() -> None:
    e = compile_expression('press > 20 ? "high" : "normal"', ["press"])
    assert (e.engine, e.dependencies, e.fn(25.5)) == ("python", ("press",), "high")
    assert "if press.__class__ is float" in e.python_source
    assert isinstance(e, CompiledExpression)


def test_compiled_expressions_are_cached() -> None:
    a = compile_expression("press * 2 + tF", ["press", "tF"])
    b = compile_expression("press * 2 + tF", ("press", "tF"))
    assert a is b
    assert compile_expression("press * 2 + tF", ["tF", "press"]) is not a


def test_dependencies_in_first_appearance_order_and_flags() -> None:
    e = compile_expression("tF + press * tF", ["press", "tF", "r"])
    assert e.dependencies == ("tF", "press")
    assert not e.is_static and e.is_pure
    s = compile_expression("Math.PI * 2", ["press"])
    assert s.is_static and s.is_pure and s.dependencies == ()
    now = compile_expression("Date.now()", [])
    assert now.is_static and not now.is_pure
    rnd = compile_expression("press + Math.random()", ["press"])
    assert not rnd.is_pure


def test_fn_takes_dependencies_positionally_and_results_are_floats() -> None:
    e = compile_expression("b - a", ["a", "b"])
    assert e.dependencies == ("b", "a")
    assert e.fn(10, 4) == 6.0 and type(e.fn(10, 4)) is float
    assert e({"a": 4, "b": 10}) == 6.0


def test_int_input_is_the_double_javascript_makes_of_it() -> None:
    e = compile_expression("a + ''", ["a"])
    assert e.fn(2**53 + 1) == "9007199254740992"
    assert compile_expression("a + 1", ["a"]).fn(True) == 2.0


def test_strings_cross_the_boundary_as_ordinary_str() -> None:
    e = compile_expression("s + s.length", ["s"])
    assert e.fn("😀") == "😀2"
    assert compile_expression("s.slice(0, 1)", ["s"]).fn("😀") == "\ud83d"
    assert compile_expression("[s, {k: s}]", ["s"]).fn("é😀") == ["é😀", {"k": "é😀"}]


def test_missing_variable_in_call_is_a_reference_error() -> None:
    e = compile_expression("a + 1", ["a"])
    with pytest.raises(JSError) as caught:
        e({})
    assert caught.value.name == "ReferenceError" and "a" in caught.value.message


def test_unknown_identifier_names_it_and_lists_variables() -> None:
    with pytest.raises(ExpressionError, match=r"unknown identifier 'foo' \(variables: press, tF\)"):
        compile_expression("press + foo", ["press", "tF"])


@pytest.mark.parametrize(("source", "construct"), [
    ("eval('1')", "eval"), ("Function('return 1')()", "Function"), ("require('fs')", "require"),
    ("process.exit(1)", "process"), ("console.log(1)", "console"), ("globalThis", "globalThis"),
    ("setTimeout(() => 1, 0)", "setTimeout"), ("this.constructor", "this"),
    ("press.constructor", "constructor"), ("({}).__proto__", "__proto__"),
    ("Object.getPrototypeOf({})", "getPrototypeOf"), ("Reflect.ownKeys({})", "Reflect"),
    ("new Proxy({}, {})", "Proxy"), ("while (true) {}", "while"), ("var x = 1; x", "declaration"),
    ("function f() {}", "function"), ("press = 5", "assignment"), ("press++", "++"),
    ("delete o.x", "delete"), ("o['__proto__']", "__proto__"),
])
@pytest.mark.parametrize("engine", ["python", "auto", "quickjs"])
def test_blocked_constructs_are_refused_in_every_engine(source: str, construct: str, engine: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(construct)):
        compile_expression(source, ["press", "o"], engine=engine)


def test_python_engine_refuses_what_it_does_not_lower() -> None:
    with pytest.raises(ExpressionError, match="not supported by the python engine: method '.map"):
        compile_expression("[1, 2].map(x => x * 2)", [], engine="python")
    with pytest.raises(ExpressionError, match="regular expression"):
        compile_expression("s.split(/a/)", ["s"], engine="python")
    with pytest.raises(ExpressionError, match="arrow function"):
        compile_expression("(x => x * 2)(3)", [], engine="python")


def test_syntax_errors_and_bad_arguments() -> None:
    with pytest.raises(ExpressionError):
        compile_expression("press +", ["press"], engine="python")
    with pytest.raises(ExpressionError, match="engine"):
        compile_expression("1", [], engine="v8")
    with pytest.raises(ExpressionError, match="identifier"):
        compile_expression("1", ["not valid"])
    with pytest.raises(ExpressionError, match="empty"):
        compile_expression("  ", [])
    with pytest.raises(ExpressionError, match="(?i)octal"):
        compile_expression("017", [], engine="python")


def test_object_literal_at_top_level_is_an_object() -> None:
    assert compile_expression("{a: press, b: 2}", ["press"]).fn(1.0) == {"a": 1.0, "b": 2.0}


def test_long_strings_are_a_range_error() -> None:
    e = compile_expression("s.repeat(n)", ["s", "n"], engine="python")
    with pytest.raises(JSError) as caught:
        e.fn("xx", 2.0**24)
    assert caught.value.name == "RangeError"
    assert len(e.fn("xx", 1000.0)) == 2000


def test_constant_sub_expressions_are_folded() -> None:
    e = compile_expression("press * (60 * 60) + Math.PI * 2 + ('a' + 'b').length", ["press"])
    assert "3600.0" in e.python_source and "6.283185307179586" in e.python_source
    assert "2.0" in e.python_source and "'ab'" not in e.python_source


def test_float_operands_run_on_the_specialised_body() -> None:
    e = compile_expression("press + 4.00001", ["press"])
    fast_line = e.python_source.splitlines()[3]
    assert fast_line.strip() == "return (press + 4.00001)"


def test_variables_named_like_python_builtins_do_not_shadow_generated_code() -> None:
    e = compile_expression("len + float + abs + s.length + Math.abs(len)", ["len", "float", "abs", "s"])
    assert e.fn(1.0, 2.0, -3.0, "ab") == 3.0
    assert e.fn(1.0, 2.0, -3.0, 5.0) != e.fn(1.0, 2.0, -3.0, 5.0)  # (5).length is undefined: NaN


# --- built-in prototype members read as values (review items 5 and 6) -------------------------

def test_prototype_table_is_quickjs():
    from transpiler.jslib import prototypes
    assert prototypes.query_quickjs() == prototypes.PROTOTYPE_PROPERTIES


_RECEIVERS = {"String": ("s", "'ab'"), "Array": ("arr", "[1, 2]"), "Number": ("x", "(1.5)"),
              "Boolean": ("b", "true"), "Object": ("o", "({})")}
_ENV = {"s": "ab", "arr": [1.0, 2.0], "x": 1.5, "b": True, "o": {}, "k": ""}


def _prototype_cases() -> list[tuple[str, str]]:
    from transpiler.jslib.prototypes import PROTOTYPE_PROPERTIES
    from transpiler.policy import BLOCKED_PROPERTIES
    out = []
    for proto, (var, lit) in _RECEIVERS.items():
        for name in (*PROTOTYPE_PROPERTIES[proto], *PROTOTYPE_PROPERTIES["Object"]):
            if name not in BLOCKED_PROPERTIES:
                out += [(var, name), (lit, name)]
    return out


@pytest.mark.parametrize("receiver, name", _prototype_cases())
def test_typeof_a_builtin_method_read_as_a_value_agrees_with_quickjs(receiver, name):
    """Every own property of the built-in prototypes, read without a call: ``auto`` lowers it
    or hands it to QuickJS, never ``undefined`` where JavaScript has a method; a computed key
    in the python engine gives a function of the right name and length."""
    variables = list(_ENV)
    for source in (f"typeof {receiver}.{name}", f"{receiver}.{name} === undefined"):
        ours = evaluate_ours(compile_expression(source, variables), _ENV)
        assert agree(ours, REF.evaluate(source, _ENV)), source
    env = {**_ENV, "k": name}
    source = f"[typeof {receiver}[k], ({receiver}[k] || {{}}).length, ({receiver}[k] || {{}}).name]"
    ours = evaluate_ours(compile_expression(source, variables, engine="python"), env)
    assert agree(ours, REF.evaluate(source, env)), source


@pytest.mark.parametrize("source, env", [
    ("typeof arr.map", {"arr": [1.0]}), ("typeof s.match", {"s": "a"}),
    ("typeof s.toLocaleUpperCase", {"s": "a"}), ("typeof (1).toLocaleString", {}),
    ("arr.flat === undefined", {"arr": [1.0]}), ("typeof s.isWellFormed", {"s": "a"}),
])
def test_review_examples_of_unlowered_methods(source, env):
    compiled = compile_expression(source, list(env))
    assert compiled.engine == "quickjs"
    assert agree(evaluate_ours(compiled, env), REF.evaluate(source, env))
    with pytest.raises(ExpressionError, match="built-in prototype read as a value"):
        compile_expression(source, list(env), engine="python")


def test_calling_an_unlowered_method_read_by_a_computed_key_is_an_error_not_a_wrong_value():
    compiled = compile_expression("arr[k](1)", ["arr", "k"], engine="python")
    with pytest.raises(JSError, match="does not implement 'flat'"):
        compiled({"arr": [1.0], "k": "flat"})


@pytest.mark.parametrize("source", [
    "Number.parseFloat === parseFloat", "Number.parseInt === parseInt",
    "Number.isNaN === isNaN", "Number.isFinite === isFinite",
    "[Number.parseInt].includes(parseInt)", "Number.parseInt.name + Number.parseInt.length",
])
def test_number_parse_functions_are_the_global_ones(source):
    compiled = compile_expression(source, [], engine="python")
    assert agree(evaluate_ours(compiled, {}), REF.evaluate(source, {}))
