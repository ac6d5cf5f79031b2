"""Parsing and static checks: one expression, nothing blocked, every name known.

The result, an ``Analysis``, carries what every engine needs: the expression's AST (or None
when esprima cannot parse it and QuickJS decides), its dependencies in first-appearance order
(scope-aware: an arrow parameter that shadows a variable is not a reference) and its purity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import esprima
import esprima.character
from esprima.nodes import Node

from transpiler.errors import ExpressionError
from transpiler.policy import BLOCKED_NAMES, BLOCKED_PROPERTIES, KNOWN_GLOBALS


def _release_esprima_tables() -> None:
    """esprima builds its identifier tables at import from a list of every Unicode code point
    by category, then keeps those lists: about 80 MiB a long-running processor never reads.
    Only the derived IDENTIFIER_START/IDENTIFIER_PART sets are used by the scanner."""
    for name in ("U_CATEGORIES", "UNICODE_LETTER", "UNICODE_COMBINING_MARK", "UNICODE_DIGIT",
                 "UNICODE_CONNECTOR_PUNCTUATION"):
        if hasattr(esprima.character, name):
            delattr(esprima.character, name)


_release_esprima_tables()

_FUNCTIONS = ("ArrowFunctionExpression", "FunctionExpression", "FunctionDeclaration")
_LEGACY_OCTAL = re.compile(r"^0[0-9]")
_OCTAL_ESCAPE = re.compile(r"\\(?:[1-9]|0[0-9])")
_SKIP_FIELDS = frozenset({"type", "range", "loc", "raw", "regex", "value", "operator", "kind",
                          "computed", "shorthand", "method", "generator", "isAsync", "expression",
                          "tail", "prefix", "directive", "sourceType", "delegate", "static"})


@dataclass(frozen=True)
class Analysis:
    source: str
    ast: Any | None = field(repr=False)  # the expression node; None if only QuickJS parses it
    dependencies: tuple[str, ...]
    is_pure: bool
    parse_error: str | None = None  # esprima's complaint, when ast is None


def children(node: Node) -> list[Node]:
    """The child nodes of an esprima node, in source order."""
    out: list[Node] = []
    for key, value in vars(node).items():
        if key in _SKIP_FIELDS or value is None:
            continue
        if isinstance(value, Node):
            out.append(value)
        elif isinstance(value, list):
            out.extend(v for v in value if isinstance(v, Node))
    return out


def parse_expression(source: str) -> tuple[Any | None, str | None]:
    """Parse ``source`` as one expression: (node, None), or (None, esprima's error message).

    A statement (``var x = 1; x``) is an ExpressionError at once; a leading ``{`` is read as an
    object literal, as QuickJS's ``return (<expr>)`` wrapper would.
    """
    if not source.strip():
        raise ExpressionError("empty expression")
    try:
        program = esprima.parseScript(source, {"range": True})
    except esprima.Error as err:
        try:  # `{a: 1}` is a block to a script parser, an object inside parentheses
            program = esprima.parseScript("(" + source + "\n)", {"range": True})
        except esprima.Error:
            return None, str(err)
    body = program.body
    if len(body) == 1 and body[0].type == "ExpressionStatement":
        return body[0].expression, None
    if len(body) == 1 and body[0].type in ("BlockStatement", "LabeledStatement"):
        try:
            wrapped = esprima.parseScript("(" + source + "\n)", {"range": True}).body
        except esprima.Error:
            wrapped = []
        if len(wrapped) == 1 and wrapped[0].type == "ExpressionStatement":
            return wrapped[0].expression, None
    kinds = ", ".join(sorted({_describe_statement(s) for s in body})) or "nothing"
    raise ExpressionError(f"expected a single expression, found {kinds}")


def _describe_statement(stmt: Node) -> str:
    names = {
        "VariableDeclaration": "a declaration ('{kind}')", "FunctionDeclaration": "a function declaration",
        "WhileStatement": "a 'while' statement", "ForStatement": "a 'for' statement",
        "IfStatement": "an 'if' statement", "ExpressionStatement": "several statements",
        "ClassDeclaration": "a class declaration", "EmptyStatement": "an empty statement",
    }
    text = names.get(stmt.type, f"a statement ({stmt.type})")
    return text.format(kind=getattr(stmt, "kind", ""))


class _Scope:
    """Names bound inside one function (parameters, declarations, its own name)."""

    def __init__(self, parent: _Scope | None, names: set[str]) -> None:
        self.parent = parent
        self.names = names

    def binds(self, name: str) -> bool:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.names:
                return True
            scope = scope.parent
        return False


def _pattern_names(pattern: Node | None, out: set[str]) -> None:
    if pattern is None:
        return
    t = pattern.type
    if t == "Identifier":
        out.add(pattern.name)
    elif t == "AssignmentPattern":
        _pattern_names(pattern.left, out)
    elif t == "RestElement":
        _pattern_names(pattern.argument, out)
    elif t == "ArrayPattern":
        for el in pattern.elements:
            _pattern_names(el, out)
    elif t == "ObjectPattern":
        for prop in pattern.properties:
            _pattern_names(prop.value if prop.type == "Property" else prop, out)


def _declared_names(body: Node, out: set[str]) -> None:
    """Every name declared anywhere in a function body, nested functions excluded."""
    for child in children(body):
        t = child.type
        if t == "VariableDeclarator":
            _pattern_names(child.id, out)
        elif t == "FunctionDeclaration":
            if child.id is not None:
                out.add(child.id.name)
            continue
        elif t == "CatchClause":
            _pattern_names(child.param, out)
        elif t == "ClassDeclaration" and child.id is not None:
            out.add(child.id.name)
        if t not in _FUNCTIONS:
            _declared_names(child, out)


class _Checker:
    """Walks the AST once: blocked constructs, unknown names, references, purity."""

    def __init__(self, source: str, variables: tuple[str, ...]) -> None:
        self.source = source
        self.variables = variables
        self.variable_set = frozenset(variables)
        self.references: list[tuple[int, str]] = []
        self.is_pure = True

    def fail(self, message: str) -> None:
        raise ExpressionError(message)

    def unknown(self, name: str) -> None:
        known = ", ".join(self.variables) if self.variables else "none"
        self.fail(f"unknown identifier '{name}' (variables: {known})")

    # --- the walk --------------------------------------------------------------------------
    def visit(self, node: Node, scope: _Scope | None) -> None:
        handler = getattr(self, "visit_" + node.type, None)
        if handler is not None:
            handler(node, scope)
        else:
            for child in children(node):
                self.visit(child, scope)

    def visit_Identifier(self, node: Node, scope: _Scope | None) -> None:
        name = node.name
        if name in BLOCKED_NAMES:
            self.fail(f"'{name}' is blocked in mapping expressions")
        if scope is not None and scope.binds(name):
            return
        if name in self.variable_set:
            self.references.append((node.range[0], name))
        elif name not in KNOWN_GLOBALS:
            self.unknown(name)

    def visit_Literal(self, node: Node, scope: _Scope | None) -> None:
        raw = node.raw or ""
        if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            if _LEGACY_OCTAL.match(raw):
                self.fail(f"legacy octal literal {raw} is not allowed (strict mode); write 0o{raw[1:]}")
        elif isinstance(node.value, str) and _OCTAL_ESCAPE.search(raw):
            self.fail(f"octal escape sequence in {raw} is not allowed (strict mode)")

    def visit_ThisExpression(self, node: Node, scope: _Scope | None) -> None:
        self.fail("'this' is blocked in mapping expressions")

    def visit_MetaProperty(self, node: Node, scope: _Scope | None) -> None:
        self.fail(f"'{node.meta.name}.{node.property.name}' is blocked in mapping expressions")

    def visit_Import(self, node: Node, scope: _Scope | None) -> None:
        self.fail("'import' is blocked in mapping expressions")

    def visit_UnaryExpression(self, node: Node, scope: _Scope | None) -> None:
        if node.operator == "delete":
            self.fail("'delete' is blocked in mapping expressions")
        self.visit(node.argument, scope)

    def _check_property(self, name: str) -> None:
        if name in BLOCKED_PROPERTIES:
            self.fail(f"property '{name}' is blocked in mapping expressions")

    def visit_MemberExpression(self, node: Node, scope: _Scope | None) -> None:
        prop = node.property
        self.visit(node.object, scope)
        if not node.computed:
            self._check_property(prop.name)
        elif prop.type == "Literal" and isinstance(prop.value, str):
            self._check_property(prop.value)
        elif prop.type == "TemplateLiteral" and not prop.expressions:
            self._check_property(prop.quasis[0].value.cooked)
        if node.computed:
            self.visit(prop, scope)
        self._note_impure_member(node, scope)

    def _note_impure_member(self, node: Node, scope: _Scope | None) -> None:
        obj, prop = node.object, node.property
        if (obj.type == "Identifier" and not node.computed and (scope is None or not scope.binds(obj.name))
                and (obj.name, prop.name) in (("Math", "random"), ("Date", "now"))):
            self.is_pure = False

    def visit_Property(self, node: Node, scope: _Scope | None) -> None:
        key = node.key
        if not node.computed:
            name = key.name if key.type == "Identifier" else str(key.value)
            if name == "__proto__":
                self.fail("property '__proto__' is blocked in mapping expressions")
        else:
            self.visit(key, scope)
        self.visit(node.value, scope)

    def visit_ObjectPattern(self, node: Node, scope: _Scope | None) -> None:
        for prop in node.properties:
            if prop.type == "Property" and not prop.computed:
                key = prop.key
                self._check_property(key.name if key.type == "Identifier" else str(key.value))
            self.visit(prop, scope)

    def visit_NewExpression(self, node: Node, scope: _Scope | None) -> None:
        if node.callee.type == "Identifier" and node.callee.name == "Date" and not node.arguments:
            self.is_pure = False
        for child in children(node):
            self.visit(child, scope)

    def visit_CallExpression(self, node: Node, scope: _Scope | None) -> None:
        if node.callee.type == "Identifier" and node.callee.name == "Date":
            self.is_pure = False
        for child in children(node):
            self.visit(child, scope)

    def _visit_assignment_target(self, target: Node, scope: _Scope | None, what: str) -> None:
        base = target
        while base.type == "MemberExpression":
            base = base.object
        if scope is None:
            self.fail(f"{what} is not allowed in a mapping expression (it must not change state)")
        if base.type == "Identifier" and not scope.binds(base.name):
            self.fail(f"{what} to '{base.name}' is not allowed: only names declared inside the "
                      f"expression's own functions can be assigned")
        if base.type not in ("Identifier", "ArrayPattern", "ObjectPattern"):
            self.fail(f"{what} to this target is not allowed in a mapping expression")
        self.visit(target, scope)

    def visit_AssignmentExpression(self, node: Node, scope: _Scope | None) -> None:
        self._visit_assignment_target(node.left, scope, "assignment")
        self.visit(node.right, scope)

    def visit_UpdateExpression(self, node: Node, scope: _Scope | None) -> None:
        self._visit_assignment_target(node.argument, scope, f"'{node.operator}'")

    def _visit_function(self, node: Node, scope: _Scope | None) -> None:
        names: set[str] = set()
        for param in node.params:
            _pattern_names(param, names)
        if getattr(node, "id", None) is not None:
            names.add(node.id.name)
        if node.body.type == "BlockStatement":
            _declared_names(node.body, names)
        inner = _Scope(scope, names)
        for param in node.params:
            self._visit_binding(param, inner)
        self.visit(node.body, inner)

    visit_ArrowFunctionExpression = _visit_function
    visit_FunctionExpression = _visit_function
    visit_FunctionDeclaration = _visit_function

    def _visit_binding(self, pattern: Node, scope: _Scope) -> None:
        """Binding positions declare names; only default values and computed keys are read."""
        t = pattern.type
        if t == "Identifier":
            if pattern.name in BLOCKED_NAMES:
                self.fail(f"'{pattern.name}' is blocked in mapping expressions")
        elif t == "AssignmentPattern":
            self._visit_binding(pattern.left, scope)
            self.visit(pattern.right, scope)
        elif t == "RestElement":
            self._visit_binding(pattern.argument, scope)
        elif t == "ArrayPattern":
            for el in pattern.elements:
                if el is not None:
                    self._visit_binding(el, scope)
        elif t == "ObjectPattern":
            for prop in pattern.properties:
                if prop.type == "Property":
                    if prop.computed:
                        self.visit(prop.key, scope)
                    else:
                        key = prop.key
                        self._check_property(key.name if key.type == "Identifier" else str(key.value))
                    self._visit_binding(prop.value, scope)
                else:
                    self._visit_binding(prop, scope)
        else:
            self.visit(pattern, scope)

    def visit_VariableDeclarator(self, node: Node, scope: _Scope | None) -> None:
        if scope is not None:
            self._visit_binding(node.id, scope)
        if node.init is not None:
            self.visit(node.init, scope)

    def visit_CatchClause(self, node: Node, scope: _Scope | None) -> None:
        if node.param is not None and scope is not None:
            self._visit_binding(node.param, scope)
        self.visit(node.body, scope)

    def _skip_label(self, node: Node, scope: _Scope | None) -> None:
        for child in children(node):
            if child is not getattr(node, "label", None):
                self.visit(child, scope)

    visit_LabeledStatement = _skip_label
    visit_BreakStatement = _skip_label
    visit_ContinueStatement = _skip_label

    def visit_MethodDefinition(self, node: Node, scope: _Scope | None) -> None:
        if node.computed:
            self.visit(node.key, scope)
        self.visit(node.value, scope)

    def visit_ClassExpression(self, node: Node, scope: _Scope | None) -> None:
        self.fail("classes are not allowed in mapping expressions")

    visit_ClassDeclaration = visit_ClassExpression

    def visit_WithStatement(self, node: Node, scope: _Scope | None) -> None:
        self.fail("'with' is not allowed in mapping expressions")

    def dependencies(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for _, name in sorted(self.references):
            seen.setdefault(name, None)
        return tuple(seen)


def analyse(source: str, variables: tuple[str, ...]) -> Analysis:
    """Parse and check ``source``; raise ExpressionError for anything not allowed."""
    node, error = parse_expression(source)
    if node is None:
        return Analysis(source, None, (), True, error)
    checker = _Checker(source, variables)
    checker.visit(node, None)
    return Analysis(source, node, checker.dependencies(), checker.is_pure)
