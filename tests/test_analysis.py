"""The static analysis (transpiler/analysis.py): a walk that reaches every node, scopes as the
language defines them, purity by what is reached, refusals anywhere in the tree.

Values are checked against the QuickJS reference given *every* variable: a dependency the
analysis misses shows as a ReferenceError on our side only. The property test compares the
dependencies with a second, deliberately simple resolver written here on esprima's plain dicts
(declarations mapped to the scope node that holds them, references resolved by walking up
parent links) over generated expressions with function bodies, statements, blocks, loops and
destructuring.
"""

from __future__ import annotations

import os
from typing import Any

import esprima
import pytest
from hypothesis import HealthCheck, given, settings

from conformance.reference import Reference, agree, evaluate_ours
from conformance.statements import function_bodies, nullish
from transpiler import ExpressionError, compile_expression
from transpiler.analysis import RULES, analyse

REF = Reference()
VARS = ("x", "y", "s", "t", "f", "a", "b", "arr", "o")
ENV = {"x": 2.0, "y": -1.5, "s": "ab", "t": "", "f": True, "a": None, "b": [1.0], "arr": [3.0, 4.0],
       "o": {"k": 1.0, "v": "w"}}


def same_as_reference(source: str, env: dict[str, Any] = ENV) -> Any:
    compiled = compile_expression(source, list(env))
    used = {name: env[name] for name in compiled.dependencies}
    ours, ref = evaluate_ours(compiled, used), REF.evaluate(source, env)
    assert agree(ours, ref), f"{source}: ours {ours} != QuickJS {ref}"
    return compiled


# --- the examples -----------------------------------------------------------------

@pytest.mark.parametrize(("source", "deps"), [
    ("(function () { var t = 0; t += press; return t; })()", ("press",)),
    ("(() => { { let press = 1; } return press; })()", ("press",)),
    ("(() => { try { throw 1; } catch (press) {} return press; })()", ("press",)),
    ("(() => { for (let press of [1]) {} return press; })()", ("press",)),
    ("(() => { for (let press = 0; press < 1; press++) {} return press; })()", ("press",)),
    ("(() => { switch (1) { case 1: let press = 2; } return press; })()", ("press",)),
    ("(() => { return press; var press = 1; })()", ()),  # var hoists to the function
    ("(() => { { var press = 1; } return press; })()", ()),
    ("(() => { return f(); function f() { return press; } })()", ("press",)),
    ("((a = press) => { var press = 1; return a; })()", ("press",)),  # defaults cannot see vars
    ("(function press() { return typeof press; })()", ()),
    ("(() => { const {k: press = tF} = {}; return press; })()", ("tF",)),
    ("(() => { lbl: for (;;) { break lbl; } return tF; })()", ("tF",)),
    ("s.a ?? \\u0074F", ("s", "tF")),
])
def test_dependencies_follow_the_scopes_of_the_language(source: str, deps: tuple[str, ...]) -> None:
    env = {"press": 7.0, "tF": 68.0, "s": {"a": None}}
    compiled = same_as_reference(source, env)
    assert compiled.dependencies == deps


def test_a_dependency_inside_a_body_makes_the_mapping_dynamic() -> None:
    compiled = compile_expression("(function () { var t = 0; t += press; return t; })()", ["press"])
    assert not compiled.is_static and compiled.fn(3.0) == 3.0


@pytest.mark.parametrize("source", [
    "Math.random()", "Math['random']()", "Math[`random`]()", "[Date][0].now()", "Date.now()",
    "(({random}) => random())(Math)", "(() => { const {random} = Math; return random(); })()",
    "(function () { var t = Math.random(); return t; })()", "new Date().getTime()", "Date()",
    "new Date(...[]).getTime()", "Math[['ran', 'dom'].join('')]()", "(m => m.random())(Math)",
    "new Intl.DateTimeFormat().format()", "Object.values(Math).length",
    "new Date(0)['constr' + 'uctor'].now()", "(() => { const {['constr' + 'uctor']: D} = new Date(0); "
    "return D.now(); })()",
])
def test_purity_follows_what_is_reached(source: str) -> None:
    assert not compile_expression(source, []).is_pure


@pytest.mark.parametrize("source", [
    "Math.floor(2.5) + Math.PI", "Math['max'](1, 2)", "new Date(0).getTime()", "Date.UTC(2020, 1)",
    "Date.parse('2020-01-01')", "(() => { const Math = {random: () => 4}; return Math.random(); })()",
])
def test_pure_uses_stay_pure(source: str) -> None:
    assert compile_expression(source, []).is_pure


@pytest.mark.parametrize(("source", "fragment"), [
    ("(function () { eval('1'); })()", "eval"),
    ("(() => { let q = globalThis; return 1; })()", "globalThis"),
    ("(() => { const o = {}; return o.constructor; })()", "constructor"),
    ("(() => { for (const k of [1]) { process.exit(); } })()", "process"),
    ("(() => { try {} catch ({constructor}) {} })()", "constructor"),
    ("(() => { let x = 1; { return this; } })()", "this"),
    ("(() => { press = 1; })()", "press"),
    ("(() => { [press] = [1]; })()", "press"),
    ("(() => { for (press of [1]); })()", "press"),
    ("(() => { class A {} })()", "classes"),
    ("(() => { return import('fs'); })()", "import"),
    ("(() => { return new.target; })()", "new.target"),
    ("({m() { return super.x; }}).m()", "super"),
    ("(() => { var eval2 = 1; return delete eval2.x; })()", "delete"),
])
def test_refusals_reach_into_function_bodies(source: str, fragment: str) -> None:
    for engine in ("python", "auto", "quickjs"):
        with pytest.raises(ExpressionError, match=fragment):
            compile_expression(source, ["press"], engine=engine)


# --- every node type has a rule -----------------------------------------------------------

# One snippet per ESTree type esprima-fork can produce for a script expression.
NODE_SNIPPETS = {
    "ArrayExpression": "[1]", "ArrayPattern": "(([q]) => q)([1])", "ArrowFunctionExpression": "(() => 1)()",
    "AssignmentExpression": "(() => { let q; q = 1; return q; })()",
    "AssignmentPattern": "((q = 1) => q)()", "AwaitExpression": "(async () => await 1)() && 1",
    "BinaryExpression": "1 + p", "BlockStatement": "(() => { { } })()",
    "BreakStatement": "(() => { for (;;) break; })()", "CallExpression": "Math.abs(p)",
    "CatchClause": "(() => { try {} catch (e) {} })()", "ChainExpression": "p?.x",
    "ConditionalExpression": "p ? 1 : 2",
    "ContinueStatement": "(() => { for (let i = 0; i < 1; i++) continue; })()",
    "DebuggerStatement": "(() => { debugger; })()", "DoWhileStatement": "(() => { do {} while (0); })()",
    "EmptyStatement": "(() => { ; })()", "ExpressionStatement": "(() => { 1; })()",
    "ForInStatement": "(() => { for (const k in {}) {} })()",
    "ForOfStatement": "(() => { for (const k of []) {} })()",
    "ForStatement": "(() => { for (;0;) {} })()", "FunctionDeclaration": "(() => { function g() {} })()",
    "FunctionExpression": "(function () {})()", "Identifier": "p", "IfStatement": "(() => { if (p) {} })()",
    "LabeledStatement": "(() => { l: ; })()", "Literal": "1", "LogicalExpression": "p && 1",
    "MemberExpression": "p.x", "NewExpression": "new Date(0)", "ObjectExpression": "({a: 1})",
    "ObjectPattern": "(({a}) => a)({})", "Property": "({a: 1})", "RestElement": "((...r) => r)()",
    "ReturnStatement": "(() => { return; })()", "SequenceExpression": "(1, 2)", "SpreadElement": "[...[]]",
    "SwitchCase": "(() => { switch (1) { case 1: } })()", "SwitchStatement": "(() => { switch (1) {} })()",
    "TaggedTemplateExpression": "String.raw`a`", "TemplateElement": "`a`", "TemplateLiteral": "`a${p}`",
    "ThrowStatement": "(() => { throw 1; })()", "TryStatement": "(() => { try {} finally {} })()",
    "UnaryExpression": "-p", "UpdateExpression": "(() => { let q = 0; q++; })()",
    "VariableDeclaration": "(() => { let q; })()", "VariableDeclarator": "(() => { let q; })()",
    "WhileStatement": "(() => { while (0) {} })()", "YieldExpression": "(function* () { yield 1; })() && 1",
    # refused, with a rule saying so
    "ThisExpression": "this", "MetaProperty": "(function () { return new.target; })()",
    "ImportExpression": "import('x')", "Super": "({m() { return super.x; }})",
    "ClassExpression": "(class {})", "ClassBody": "(class {})", "MethodDefinition": "(class { m() {} })",
    "PropertyDefinition": "(class { a = 1 })", "StaticBlock": "(class { static {} })",
    "PrivateIdentifier": "(class { #a = 1 })", "ClassDeclaration": "(() => { class A {} })()",
    "WithStatement": None,  # a strict-mode early error: never reaches the walk
}
NOT_IN_SCRIPT_EXPRESSIONS = {  # module syntax, JSX, parser placeholders, comments, the root
    "ExportAllDeclaration", "ExportDefaultDeclaration", "ExportNamedDeclaration", "ExportSpecifier",
    "ExportDefaultSpecifier", "ImportDeclaration", "ImportDefaultSpecifier", "ImportNamespaceSpecifier",
    "ImportSpecifier", "ImportAttribute", "ArrowParameterPlaceHolder", "BlockComment", "LineComment",
    "Program", "FieldDefinition",
}


def _types(node: Any, out: set[str]) -> set[str]:
    if isinstance(node, dict):
        if "type" in node:
            out.add(node["type"])
        for value in node.values():
            _types(value, out)
    elif isinstance(node, list):
        for value in node:
            _types(value, out)
    return out


def test_every_node_type_esprima_produces_has_a_rule() -> None:
    syntax = {v for k, v in vars(esprima.Syntax).items() if not k.startswith("_")}
    assert syntax - RULES == set(), "node types the analysis has no rule for"
    assert set(NODE_SNIPPETS) | NOT_IN_SCRIPT_EXPRESSIONS == syntax


@pytest.mark.parametrize("node_type", sorted(t for t, s in NODE_SNIPPETS.items() if s is not None))
def test_each_node_type_is_walked(node_type: str) -> None:
    source = NODE_SNIPPETS[node_type]
    tree = esprima.toDict(esprima.parseScript(f"({source})"))
    assert node_type in _types(tree, set()), f"{source!r} does not produce {node_type}"
    try:
        analysis = analyse(source, ("p",))
    except ExpressionError as refused:  # a refusal names the construct, never a Python error
        assert "not allowed" in str(refused) or "blocked" in str(refused)
    else:
        assert analysis.dependencies in ((), ("p",))


# --- a second resolver, deliberately simple -------------------------------------------------

_FUNCTIONS = {"FunctionExpression", "FunctionDeclaration", "ArrowFunctionExpression"}
_BLOCKS = {"BlockStatement", "ForStatement", "ForInStatement", "ForOfStatement", "SwitchStatement",
           "Program"} | _FUNCTIONS


def _nodes(node: Any, parent: Any, parents: dict[int, Any], order: list[Any]) -> None:
    if isinstance(node, list):
        for item in node:
            _nodes(item, parent, parents, order)
    elif isinstance(node, dict) and "type" in node:
        parents[id(node)] = parent
        order.append(node)
        for value in node.values():
            _nodes(value, node, parents, order)


def _pattern_ids(pattern: Any) -> list[Any]:
    if pattern is None:
        return []
    t = pattern["type"]
    if t == "Identifier":
        return [pattern]
    if t == "AssignmentPattern":
        return _pattern_ids(pattern["left"])
    if t == "RestElement":
        return _pattern_ids(pattern["argument"])
    if t == "ArrayPattern":
        return [i for el in pattern["elements"] for i in _pattern_ids(el)]
    if t == "ObjectPattern":
        return [i for p in pattern["properties"]
                for i in _pattern_ids(p["value"] if p["type"] == "Property" else p)]
    return []


def simple_dependencies(source: str, variables: tuple[str, ...]) -> tuple[str, ...]:
    """Free variables of ``source``: each declaration belongs to one scope node; a reference
    is free when no scope node above it declares its name."""
    tree = esprima.toDict(esprima.parseScript(f"({source}\n)", {"range": True}))
    parents: dict[int, Any] = {}
    order: list[Any] = []
    _nodes(tree, None, parents, order)

    def up(node: Any, kinds: set[str]) -> Any:
        node = parents[id(node)]
        while node["type"] not in kinds:
            node = parents[id(node)]
        return node

    declared: dict[int, set[str]] = {}
    binding_ids: set[int] = set()

    def declare(scope: Any, ids: list[Any]) -> None:
        declared.setdefault(id(scope), set()).update(i["name"] for i in ids)
        binding_ids.update(id(i) for i in ids)

    for node in order:
        t = node["type"]
        if t == "VariableDeclaration":
            ids = [i for d in node["declarations"] for i in _pattern_ids(d["id"])]
            if node["kind"] == "var":  # the function's body (its parameters cannot see it)
                fn = up(node, _FUNCTIONS | {"Program"})
                declare(fn["body"] if fn["type"] != "Program" else fn, ids)
            else:
                declare(up(node, _BLOCKS), ids)
        elif t in _FUNCTIONS:
            declare(node, [i for p in node["params"] for i in _pattern_ids(p)])
            if node.get("id"):
                declare(up(node, _BLOCKS) if t == "FunctionDeclaration" else node, [node["id"]])
        elif t == "CatchClause":
            declare(node, _pattern_ids(node.get("param")))
    refs: list[tuple[int, str]] = []
    for node in order:
        if node["type"] != "Identifier" or id(node) in binding_ids:
            continue
        parent = parents[id(node)]
        if parent["type"] == "MemberExpression" and parent["property"] is node and not parent["computed"]:
            continue
        if parent["type"] == "Property" and parent["key"] is node and not parent["computed"]:
            continue
        if parent["type"] in ("LabeledStatement", "BreakStatement", "ContinueStatement"):
            continue
        scope, free = parent, True
        while scope is not None:
            if node["name"] in declared.get(id(scope), ()):
                free = False
                break
            scope = parents[id(scope)]
        if free and node["name"] in variables:
            refs.append((node["range"][0], node["name"]))
    return tuple(dict.fromkeys(name for _, name in sorted(refs)))


def test_the_simple_resolver_sees_the_examples_alike() -> None:
    assert simple_dependencies("(() => { { let x = 1; } return x + y; })()", VARS) == ("x", "y")
    assert simple_dependencies("((a = x) => { var x; return a; })()", VARS) == ("x",)
    assert simple_dependencies("(() => { return x; var x; })()", VARS) == ()


PROPERTY_EXAMPLES = int(os.environ.get("ANALYSIS_EXAMPLES", "150"))


_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None, suppress_health_check=_SLOW_OK)
@given(function_bodies(depth=3))
def test_dependencies_equal_those_of_a_simple_resolver(expr) -> None:
    assert analyse(expr.text, VARS).dependencies == simple_dependencies(expr.text, VARS)


@settings(max_examples=100, deadline=None, suppress_health_check=_SLOW_OK)
@given(nullish())
def test_dependencies_of_optional_chains_equal_those_of_a_simple_resolver(expr) -> None:
    assert analyse(expr.text, VARS).dependencies == simple_dependencies(expr.text, VARS)


def test_many_declarations_compile_in_linear_time() -> None:
    """The token scan this walk replaced was quadratic in the number of declarations."""
    import time

    source = "(() => { " + " ".join(f"let v{i} = {i} + press;" for i in range(2000)) + " return v0; })()"
    started = time.monotonic()
    assert compile_expression(source, ["press"]).dependencies == ("press",)
    assert time.monotonic() - started < 10.0  # ~0.7 s; a wide bound on a shared machine


def test_divisions_are_not_read_as_regular_expressions() -> None:
    assert same_as_reference("(() => { let r = x / 2 / y; return r; })()").dependencies == ("x", "y")
    assert same_as_reference("x /2/ y + `${s /1/ 1}`").dependencies == ("x", "y", "s")
