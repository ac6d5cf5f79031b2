"""The one front-end: parse with esprima-fork, then one scope-correct walk over every node.

``analyse(source, variables)`` returns an ``Analysis``: the expression's AST, its dependencies
(the variables it reads, in first-appearance order) and its purity. It raises
``ExpressionError`` for anything that is not one valid expression or that is not allowed.

Parsing
    The source is parsed as the strict-mode script ``"use strict";(<source>\\n)`` — the same
    strict, parenthesised reading QuickJS gives it (``return (<source>)``), so a leading ``{``
    is an object literal. The wrapper's ``(`` must enclose the whole source: text that closes
    it early (``1), (2``) is refused. Positions are Python string indices
    (``positionEncoding='scalar'``), so ranges slice the source directly even with astral
    characters; every error names its position in the user's own text.

The walk
    Children are found by structure: every attribute of a node holding a node or a list of
    nodes (``children``), never a list of field names. Each node type has a rule in
    ``_Walker.RULES``: a ``visit_<Type>`` method where the type binds names, is not a reference
    (labels, property keys) or is refused; the structural walk otherwise. A type without a rule
    is refused. Scopes follow ECMAScript: a function has a parameter scope and a body scope
    (``var`` and function declarations hoist to it); blocks, ``switch`` bodies, ``for`` heads and
    ``catch`` parameters have their own (``let``/``const``/class/function-in-block).

Purity
    An expression is impure when it can reach the clock or the random source: the globals
    ``Date``, ``Math`` and ``Intl`` are pure only in the shapes listed in ``policy.PURE_MEMBERS``
    (``Math.floor``, ``Date.UTC``, ``new Date(x)``); any other use (``Math['random']``,
    ``[Date][0]``, ``({random}) = Math``) is impure, and so is a ``new Date(x)`` in an expression
    with a computed key that is not a constant (``d['constr' + 'uctor'].now()``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import esprima
from esprima.nodes import Node

from transpiler.errors import ExpressionError
from transpiler.policy import (
    BLOCKED_NAMES,
    BLOCKED_PROPERTIES,
    CLOCK_OR_RANDOM_GLOBALS,
    KNOWN_GLOBALS,
    PURE_MEMBERS,
)

PREFIX = '"use strict";('  # node ranges are offsets into PREFIX + source + SUFFIX
SUFFIX = "\n)"
OFFSET = len(PREFIX)
_OPTIONS = {"range": True, "positionEncoding": "scalar"}
_FUNCTIONS = frozenset({"ArrowFunctionExpression", "FunctionExpression", "FunctionDeclaration"})


@dataclass(frozen=True)
class Analysis:
    source: str
    ast: Any = field(repr=False)  # the expression node (ranges are offset by OFFSET)
    dependencies: tuple[str, ...]
    is_pure: bool


def children(node: Node) -> Iterator[Node]:
    """Every child node of an esprima node: each attribute holding a node or a list of nodes."""
    for value in node.__dict__.values():
        if isinstance(value, Node):
            yield value
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Node):
                    yield item


def position(source: str, index: int) -> str:
    """'line L, column C' (1-based, columns in characters) of ``index`` in ``source``."""
    if index >= len(source):
        return "at end of expression"
    index = max(index, 0)
    before = source[:index].replace("\r\n", "\n").replace("\r", "\n")
    before = before.replace("\u2028", "\n").replace("\u2029", "\n")
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    return f"line {line}, column {column}"


def _parse(text: str) -> Node:
    return esprima.parseScript(text, _OPTIONS)


def _syntax_error(source: str, err: esprima.Error) -> ExpressionError:
    message = str(err.message or err)
    if message.startswith("Line ") and ": " in message:
        message = message.split(": ", 1)[1]
    if "resource limit" in message:  # esprima-fork's recursion bound: no position to give
        return ExpressionError(f"SyntaxError: {message}")
    index = (err.index or OFFSET) - OFFSET
    if message.startswith("Nullish coalescing requires parentheses"):
        # esprima-fork reports the end of the binary expression; point at the operator that
        # mixes (node: "Unexpected token '??'" there)
        index = _mixed_nullish_operator(source, index)
    return ExpressionError(f"SyntaxError: {message} ({position(source, index)})")


_LOGICAL = {"??": "??", "||": "||&&", "&&": "||&&"}
_OPENING, _CLOSING = frozenset("([{"), frozenset(")]}")
_RESETS = frozenset({"?", ":", ",", "=>", ";"})  # operands of these are separate expressions


def _tokens(source: str) -> list[Any]:
    try:
        return esprima.tokenize(source, {"range": True})
    except Exception:  # noqa: BLE001 - only used to place an error the parser already found
        return []


def _mixed_nullish_operator(source: str, default: int) -> int:
    """Offset of the first ``??`` or ``||``/``&&`` token that follows the other kind at the same
    level (same brackets, no ``?:``/``,``/assignment between): where ``a ?? b || c`` fails."""
    seen: list[set[str]] = [set()]
    for token in _tokens(source):
        value = token.value
        if token.type == "Punctuator":
            if value in _OPENING:
                seen.append(set())
            elif value in _CLOSING and len(seen) > 1:
                seen.pop()
            elif value in _RESETS or (value.endswith("=") and value not in ("==", "===", "!=", "!==",
                                                                             "<=", ">=")):
                seen[-1] = set()
            elif value in _LOGICAL:
                if any(kind not in _LOGICAL[value] for kind in seen[-1]):
                    return token.range[0]
                seen[-1].add(value)
        elif token.type == "Template":  # `${ opens and }` closes a substitution
            if value.endswith("${"):
                seen.append(set())
            if value.startswith("}") and len(seen) > 1:
                seen.pop()
    return default


def _template_error(source: str) -> ExpressionError | None:
    """esprima-fork asserts on an empty substitution (`` `${}` ``): the ``}`` is unexpected."""
    tokens = _tokens(source)
    for before, token in zip(tokens, tokens[1:]):
        if before.type == "Template" and before.value.endswith("${") and token.value.startswith("}"):
            return ExpressionError(
                f"SyntaxError: Unexpected token '}}' ({position(source, token.range[0])})")
    return None


# Characters no engine takes in source text: QuickJS reads C strings (NUL ends them) of UTF-8
# (a surrogate code point has no encoding). Refused here, once, so that every engine agrees.
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")


def _check_source_characters(source: str) -> None:
    """Raise ExpressionError naming the first NUL or surrogate code point in ``source`` and its
    position: the source text must be well-formed Unicode without NUL (write ``\\0`` or
    ``\\ud800`` escapes in string literals instead)."""
    found = _FORBIDDEN.search(source)
    if found is not None:
        ch = found.group()
        what = "NUL character" if ch == "\x00" else "surrogate code point"
        raise ExpressionError(
            f"SyntaxError: {what} U+{ord(ch):04X} in the expression text "
            f"({position(source, found.start())}); write it as an escape such as "
            f"'\\u{ord(ch):04x}' in a string literal")


def parse_expression(source: str) -> Node:
    """Parse ``source`` as one JavaScript expression in strict mode and return its node.

    Raises ExpressionError: empty source, syntax errors (the parser's message and the position
    in ``source``), statements, or parser resource limits (deep nesting).
    """
    if not source.strip():
        raise ExpressionError("empty expression")
    _check_source_characters(source)
    try:
        program = _parse(PREFIX + source + SUFFIX)
    except esprima.Error as err:
        raise _unwrapped_error(source, err) from None
    except RecursionError:
        raise ExpressionError("SyntaxError: the expression nests deeper than the parser's limit") from None
    except Exception as err:  # noqa: BLE001 - esprima-fork asserts on a few invalid inputs (`${}`)
        raise _template_error(source) or ExpressionError(
            f"SyntaxError: invalid expression ({type(err).__name__}: {err})") from None
    body = program.body
    if len(body) == 2 and body[1].type == "ExpressionStatement" and body[1].expression.range[0] >= OFFSET:
        return body[1].expression
    raise _statement_error(source) or ExpressionError(
        "expected a single expression, found text after its end (a ')' closes more than it opened)")


def _unwrapped_error(source: str, err: esprima.Error) -> ExpressionError:
    """The error for a source the wrapped parse refused: statements are named; an error the
    parser found in the wrapper's closing ``)`` is taken from the unwrapped source instead, so
    it points into the user's own text (``p * 2)``: the user's ``)``, column 6)."""
    statements = _statement_error(source)
    if statements is not None:
        return statements
    if (err.index or 0) - OFFSET >= len(source):
        try:
            _parse('"use strict";' + source)
        except esprima.Error as plain:
            plain.index = (plain.index or 0) + 1  # same prefix length as the wrapper's
            return _syntax_error(source, plain)
        except Exception:  # noqa: BLE001, S110 - keep the wrapped parse's error
            pass
    return _syntax_error(source, err)


def _statement_error(source: str) -> ExpressionError | None:
    """If ``source`` parses as statements other than one expression, say what they are."""
    try:
        body = _parse('"use strict";' + source).body[1:]
    except Exception:  # noqa: BLE001 - not statements either: the caller reports its own error
        return None
    if len(body) == 1 and body[0].type == "ExpressionStatement":
        return None
    kinds = ", ".join(sorted({_describe_statement(s) for s in body})) or "nothing"
    return ExpressionError(f"expected a single expression, found {kinds}")


def _describe_statement(stmt: Node) -> str:
    names = {
        "VariableDeclaration": "a declaration ('{kind}')", "FunctionDeclaration": "a function declaration",
        "WhileStatement": "a 'while' statement", "ForStatement": "a 'for' statement",
        "IfStatement": "an 'if' statement", "ExpressionStatement": "several statements",
        "ClassDeclaration": "a class declaration", "EmptyStatement": "an empty statement",
    }
    text = names.get(stmt.type, f"a statement ({stmt.type})")
    return text.format(kind=getattr(stmt, "kind", ""))


# --- declarations ----------------------------------------------------------------------------

def pattern_names(pattern: Node | None, out: set[str]) -> None:
    """The names a binding pattern declares (``{a, b: [c, ...d] = e}`` -> a, c, d)."""
    if pattern is None:
        return
    t = pattern.type
    if t == "Identifier":
        out.add(pattern.name)
    elif t == "AssignmentPattern":
        pattern_names(pattern.left, out)
    elif t == "RestElement":
        pattern_names(pattern.argument, out)
    elif t == "ArrayPattern":
        for el in pattern.elements:
            pattern_names(el, out)
    elif t == "ObjectPattern":
        for prop in pattern.properties:
            pattern_names(prop.value if prop.type == "Property" else prop, out)


def var_names(node: Node, out: set[str]) -> None:
    """Names ``var`` declares anywhere under ``node``, nested functions excluded (hoisting)."""
    for child in children(node):
        t = child.type
        if t in _FUNCTIONS or t in ("ClassExpression", "ClassDeclaration"):
            continue
        if t == "VariableDeclaration" and child.kind == "var":
            for decl in child.declarations:
                pattern_names(decl.id, out)
        var_names(child, out)


def lexical_names(statements: list[Node], out: set[str]) -> None:
    """Names a statement list declares for its own block: let/const, classes, functions."""
    for stmt in statements:
        t = stmt.type
        if t == "VariableDeclaration" and stmt.kind != "var":
            for decl in stmt.declarations:
                pattern_names(decl.id, out)
        elif t in ("FunctionDeclaration", "ClassDeclaration") and stmt.id is not None:
            out.add(stmt.id.name)


class Scope:
    """The names bound in one scope; ``parent`` is the enclosing one (None: the expression)."""

    __slots__ = ("parent", "names")

    def __init__(self, parent: Scope | None, names: set[str]) -> None:
        self.parent = parent
        self.names = names

    def binds(self, name: str) -> bool:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                return True
            scope = scope.parent
        return False


def _binds(scope: Scope | None, name: str) -> bool:
    return scope is not None and scope.binds(name)


def _static_key(node: Node, computed: bool) -> str | None:
    """The property name of a member or key when it is known without evaluating anything."""
    if not computed:
        if node.type == "Identifier":
            return node.name
        if node.type == "Literal" and not isinstance(node.value, bool) and node.value is not None:
            return str(node.value) if isinstance(node.value, str) else None
        return None
    if node.type == "Literal" and isinstance(node.value, str):
        return node.value
    if node.type == "TemplateLiteral" and not node.expressions:
        return node.quasis[0].value.cooked
    return None


# --- the walk --------------------------------------------------------------------------------

class _Walker:
    """One pass over the expression: refusals, references, purity."""

    # node types walked structurally (every child, in the current scope)
    STRUCTURAL = frozenset({
        "ArrayExpression", "AwaitExpression", "ConditionalExpression",
        "DebuggerStatement", "DoWhileStatement", "EmptyStatement", "ExpressionStatement",
        "IfStatement", "ObjectExpression", "ReturnStatement",
        "SequenceExpression", "SpreadElement", "TaggedTemplateExpression", "TemplateLiteral",
        "TemplateElement", "ThrowStatement", "TryStatement", "VariableDeclaration",
        "WhileStatement", "YieldExpression", "ChainExpression", "CallExpression", "SwitchCase",
    })
    # types esprima-fork produces only in modules, JSX or as parser-internal placeholders
    REFUSED = {
        "ImportDeclaration": "'import' declarations", "ImportDefaultSpecifier": "'import' declarations",
        "ImportNamespaceSpecifier": "'import' declarations", "ImportSpecifier": "'import' declarations",
        "ImportAttribute": "'import' declarations", "ExportAllDeclaration": "'export' declarations",
        "ExportDefaultDeclaration": "'export' declarations",
        "ExportDefaultSpecifier": "'export' declarations",
        "ExportNamedDeclaration": "'export' declarations", "ExportSpecifier": "'export' declarations",
        "Program": "a nested program", "ArrowParameterPlaceHolder": "a parser placeholder",
        "BlockComment": "a comment node", "LineComment": "a comment node",
        "ClassExpression": "classes", "ClassDeclaration": "classes", "ClassBody": "classes",
        "MethodDefinition": "classes", "FieldDefinition": "classes", "PropertyDefinition": "classes",
        "StaticBlock": "classes", "PrivateIdentifier": "classes", "Super": "'super'",
        "ThisExpression": "'this'", "WithStatement": "'with'", "ImportExpression": "'import'",
    }

    def __init__(self, variables: tuple[str, ...]) -> None:
        self.variables = variables
        self.variable_set = frozenset(variables)
        self.references: list[tuple[int, str]] = []
        self.is_pure = True
        self.dates = False  # a `new Date(x)` was judged pure ...
        self.dynamic_keys = False  # ... and a computed key could still reach its `constructor`
        self.rules: dict[str, Callable[[Node, Scope | None], None]] = {}
        for name in self.STRUCTURAL:
            self.rules[name] = self.walk_children
        for name in self.REFUSED:
            self.rules[name] = self.refuse
        for name in dir(self):
            if name.startswith("visit_"):
                self.rules[name[6:]] = getattr(self, name)

    def fail(self, message: str) -> None:
        raise ExpressionError(message)

    def visit(self, node: Node, scope: Scope | None) -> None:
        rule = self.rules.get(node.type)
        if rule is None:  # a node type this walk does not know: refuse rather than guess
            self.fail(f"unsupported syntax ({node.type}) in a mapping expression")
        rule(node, scope)

    def walk_children(self, node: Node, scope: Scope | None) -> None:
        for child in children(node):
            self.visit(child, scope)

    def refuse(self, node: Node, scope: Scope | None) -> None:
        what = self.REFUSED[node.type]
        verb = "is" if what.startswith("'") else "are"
        self.fail(f"{what} {verb} not allowed in mapping expressions"
                  if what != "'this'" else "'this' is blocked in mapping expressions")

    # --- names -----------------------------------------------------------------------------
    def visit_Identifier(self, node: Node, scope: Scope | None) -> None:
        """An identifier in a reference position."""
        name = node.name
        if name in BLOCKED_NAMES:
            self.fail(f"'{name}' is blocked in mapping expressions")
        if _binds(scope, name):
            return
        if name in self.variable_set:
            self.references.append((node.range[0], name))
        elif name in KNOWN_GLOBALS:
            if name in CLOCK_OR_RANDOM_GLOBALS:
                self.is_pure = False  # reached in a shape not known to be pure
        else:
            known = ", ".join(self.variables) if self.variables else "none"
            self.fail(f"unknown identifier '{name}' (variables: {known})")

    def visit_Literal(self, node: Node, scope: Scope | None) -> None:
        pass  # strict-mode literal rules (octal) are the parser's early errors

    def visit_BinaryExpression(self, node: Node, scope: Scope | None) -> None:
        """Operators, walked along the left spine without recursion (``p + p + ... + p``
        nests as deep as it is long)."""
        rights = []
        while node.type in ("BinaryExpression", "LogicalExpression"):
            rights.append(node.right)
            node = node.left
        self.visit(node, scope)
        for right in reversed(rights):
            self.visit(right, scope)

    visit_LogicalExpression = visit_BinaryExpression

    def visit_MetaProperty(self, node: Node, scope: Scope | None) -> None:
        self.fail(f"'{node.meta.name}.{node.property.name}' is blocked in mapping expressions")

    def visit_UnaryExpression(self, node: Node, scope: Scope | None) -> None:
        if node.operator == "delete":
            self.fail("'delete' is blocked in mapping expressions")
        self.visit(node.argument, scope)

    def check_property(self, name: str | None) -> None:
        if name is not None and name in BLOCKED_PROPERTIES:
            self.fail(f"property '{name}' is blocked in mapping expressions")

    def _global(self, node: Node, scope: Scope | None) -> str | None:
        """The name of a clock-or-random global ``node`` refers to, if it does."""
        if node.type == "Identifier" and node.name in CLOCK_OR_RANDOM_GLOBALS \
                and not _binds(scope, node.name) and node.name not in self.variable_set:
            return node.name
        return None

    def visit_MemberExpression(self, node: Node, scope: Scope | None) -> None:
        key = _static_key(node.property, node.computed)
        owner = self._global(node.object, scope)
        if owner is None or key not in PURE_MEMBERS[owner]:
            self.visit(node.object, scope)  # any other use of Date/Math/Intl marks it impure
        self.check_property(key)
        if node.computed:
            self.dynamic_keys = self.dynamic_keys or key is None
            self.visit(node.property, scope)

    def visit_NewExpression(self, node: Node, scope: Scope | None) -> None:
        args = node.arguments
        if self._global(node.callee, scope) == "Date" and args \
                and all(a.type != "SpreadElement" for a in args):
            self.dates = True  # new Date(x): a given time, not the clock
        else:
            self.visit(node.callee, scope)
        for arg in args:
            self.visit(arg, scope)

    def visit_Property(self, node: Node, scope: Scope | None) -> None:
        if node.computed:
            self.visit(node.key, scope)
        elif _static_key(node.key, False) == "__proto__" and not node.shorthand and node.kind == "init":
            self.fail("property '__proto__' is blocked in mapping expressions")
        self.visit(node.value, scope)

    # --- functions and scopes --------------------------------------------------------------
    def _visit_function(self, node: Node, scope: Scope | None) -> None:
        params: set[str] = set()
        for param in node.params:
            pattern_names(param, params)
        if node.type == "FunctionExpression" and node.id is not None:
            params.add(node.id.name)  # its own name, visible inside only
            self.binding(node.id, scope)
        outer = Scope(scope, params)
        for param in node.params:
            self.binding(param, outer)
        body = node.body
        if body.type != "BlockStatement":  # an arrow's expression body
            self.visit(body, outer)
            return
        names: set[str] = set()
        var_names(body, names)
        lexical_names(body.body, names)
        inner = Scope(outer, names)
        for stmt in body.body:
            self.visit(stmt, inner)

    visit_ArrowFunctionExpression = _visit_function
    visit_FunctionExpression = _visit_function

    def visit_FunctionDeclaration(self, node: Node, scope: Scope | None) -> None:
        self.binding(node.id, scope)  # declared in the enclosing scope by lexical/var collection
        self._visit_function(node, scope)

    def visit_BlockStatement(self, node: Node, scope: Scope | None) -> None:
        names: set[str] = set()
        lexical_names(node.body, names)
        inner = Scope(scope, names) if names else scope
        for stmt in node.body:
            self.visit(stmt, inner)

    def visit_SwitchStatement(self, node: Node, scope: Scope | None) -> None:
        self.visit(node.discriminant, scope)
        names: set[str] = set()
        for case in node.cases:
            lexical_names(case.consequent, names)
        inner = Scope(scope, names)
        for case in node.cases:
            self.visit(case, inner)

    def _head_scope(self, head: Node | None, scope: Scope | None) -> Scope | None:
        if head is not None and head.type == "VariableDeclaration" and head.kind != "var":
            names: set[str] = set()
            for decl in head.declarations:
                pattern_names(decl.id, names)
            return Scope(scope, names)
        return scope

    def visit_ForStatement(self, node: Node, scope: Scope | None) -> None:
        inner = self._head_scope(node.init, scope)
        for part in (node.init, node.test, node.update, node.body):
            if part is not None:
                self.visit(part, inner)

    def _visit_for_in_of(self, node: Node, scope: Scope | None) -> None:
        inner = self._head_scope(node.left, scope)
        self.visit(node.right, inner)  # `for (let x of x)`: the right sees the head's names (TDZ)
        if node.left.type == "VariableDeclaration":
            self.visit(node.left, inner)
        else:
            self.target(node.left, inner, "assignment")
        self.visit(node.body, inner)

    visit_ForInStatement = _visit_for_in_of
    visit_ForOfStatement = _visit_for_in_of

    def visit_CatchClause(self, node: Node, scope: Scope | None) -> None:
        names: set[str] = set()
        pattern_names(node.param, names)
        inner = Scope(scope, names)
        if node.param is not None:
            self.binding(node.param, inner)
        self.visit(node.body, inner)

    def visit_VariableDeclarator(self, node: Node, scope: Scope | None) -> None:
        self.binding(node.id, scope)
        if node.init is not None:
            self.visit(node.init, scope)

    def visit_LabeledStatement(self, node: Node, scope: Scope | None) -> None:
        self.visit(node.body, scope)  # the label is not a reference

    def visit_BreakStatement(self, node: Node, scope: Scope | None) -> None:
        pass

    visit_ContinueStatement = visit_BreakStatement

    def binding(self, pattern: Node, scope: Scope | None) -> None:
        """A binding position: names are declared (already collected into ``scope``); default
        values and computed keys are read."""
        t = pattern.type
        if t == "Identifier":
            if pattern.name in BLOCKED_NAMES:
                self.fail(f"'{pattern.name}' is blocked in mapping expressions")
        elif t == "AssignmentPattern":
            self.binding(pattern.left, scope)
            self.visit(pattern.right, scope)
        elif t == "RestElement":
            self.binding(pattern.argument, scope)
        elif t == "ArrayPattern":
            for el in pattern.elements:
                if el is not None:
                    self.binding(el, scope)
        elif t == "ObjectPattern":
            for prop in pattern.properties:
                if prop.type == "Property":
                    self._pattern_key(prop, scope)
                    self.binding(prop.value, scope)
                else:
                    self.binding(prop, scope)
        else:
            self.fail(f"unsupported binding pattern ({t})")

    def _pattern_key(self, prop: Node, scope: Scope | None) -> None:
        """A destructuring key reads that property of the value."""
        if prop.computed:
            self.dynamic_keys = self.dynamic_keys or _static_key(prop.key, True) is None
            self.visit(prop.key, scope)
        else:
            self.check_property(_static_key(prop.key, False))

    def _pattern_elsewhere(self, node: Node, scope: Scope | None) -> None:
        """Patterns are walked by ``binding`` and ``target``, which know whether they declare or
        assign; met anywhere else, refuse rather than guess which names they bind."""
        self.fail(f"unsupported syntax ({node.type}) in this position")

    visit_ObjectPattern = _pattern_elsewhere
    visit_ArrayPattern = _pattern_elsewhere
    visit_AssignmentPattern = _pattern_elsewhere
    visit_RestElement = _pattern_elsewhere

    # --- assignments -----------------------------------------------------------------------
    def target(self, node: Node, scope: Scope | None, what: str) -> None:
        """An assignment target: only names declared inside the expression may change."""
        if scope is None:
            self.fail(f"{what} is not allowed in a mapping expression (it must not change state)")
        t = node.type
        if t == "Identifier":
            if node.name in BLOCKED_NAMES:
                self.fail(f"'{node.name}' is blocked in mapping expressions")
            if not scope.binds(node.name):
                self.fail(f"{what} to '{node.name}' is not allowed: only names declared inside the "
                          f"expression's own functions can be assigned")
        elif t == "MemberExpression":
            base = node
            while base.type == "MemberExpression":
                base = base.object
            if base.type != "Identifier":
                self.fail(f"{what} to this target is not allowed in a mapping expression")
            if not scope.binds(base.name):
                self.fail(f"{what} to '{base.name}' is not allowed: only names declared inside the "
                          f"expression's own functions can be assigned")
            self.visit(node, scope)
        elif t == "AssignmentPattern":
            self.target(node.left, scope, what)
            self.visit(node.right, scope)
        elif t == "RestElement":
            self.target(node.argument, scope, what)
        elif t == "ArrayPattern":
            for el in node.elements:
                if el is not None:
                    self.target(el, scope, what)
        elif t == "ObjectPattern":
            for prop in node.properties:
                if prop.type == "Property":
                    self._pattern_key(prop, scope)
                    self.target(prop.value, scope, what)
                else:
                    self.target(prop, scope, what)
        else:
            self.fail(f"{what} to this target is not allowed in a mapping expression")

    def visit_AssignmentExpression(self, node: Node, scope: Scope | None) -> None:
        self.target(node.left, scope, "assignment")
        self.visit(node.right, scope)

    def visit_UpdateExpression(self, node: Node, scope: Scope | None) -> None:
        self.target(node.argument, scope, f"'{node.operator}'")

    def dependencies(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for _, name in sorted(self.references):
            seen.setdefault(name, None)
        return tuple(seen)


RULES: frozenset[str] = frozenset(_Walker(()).rules)  # every node type the walk has a rule for


def _value_node(node: Node) -> Node:
    while node.type == "SequenceExpression":
        node = node.expressions[-1]
    return node


def analyse(source: str, variables: tuple[str, ...]) -> Analysis:
    """Parse and check ``source``; raise ExpressionError for anything not allowed."""
    node = parse_expression(source)
    if _value_node(node).type in ("ArrowFunctionExpression", "FunctionExpression"):
        raise ExpressionError("the expression is a function, not a value: call it to map its result, "
                              "e.g. (function () { ... })() or (() => ...)()")
    walker = _Walker(variables)
    try:
        walker.visit(node, None)
    except RecursionError:
        raise ExpressionError(f"the expression nests deeper than the analysis limit "
                              f"(about {sys.getrecursionlimit() // 2} levels)") from None
    # a Date instance's constructor is Date itself: with a computed key anywhere, assume reached
    pure = walker.is_pure and not (walker.dates and walker.dynamic_keys)
    return Analysis(source, node, walker.dependencies(), pure)
