"""Lowering of a checked JavaScript expression AST to Python source, one ``visit_<Node>`` each.

Every visit returns a ``Code``: the Python source of the sub-expression, the JavaScript type
it is known to have (or ANY), and its value when it is a compile-time constant. Types drive
specialisation: ``a + b`` on two numbers is Python's ``+``; on unknown types it is
``_add(a, b)``, the full ECMAScript algorithm. When every operand of a node is a constant, the
node is folded: its code is evaluated once, here, and replaced by a literal.

Anything outside the python subset raises ``Unsupported`` naming the construct; the caller
then hands the expression to QuickJS.
"""

from __future__ import annotations

import builtins as builtins_module
import keyword
import math
import time
from dataclasses import dataclass
from typing import Any

from esprima.nodes import Node

from transpiler.analysis import OFFSET as SOURCE_OFFSET
from transpiler.helpers import HELPERS
from transpiler.jslib import arrays, builtins, jmath, limits, strings
from transpiler.jslib.members import BOOLEAN_METHODS, METHOD_NAMES, NUMBER_METHODS, OBJECT_METHODS
from transpiler.jslib.prototypes import unlowered_names
from transpiler.jslib.values import UNDEFINED, is_array_index, to_utf16

# JavaScript types codegen can prove; ASTR is a string known to be ASCII (no export needed)
NUM, STR, ASTR, BOOL, NULL, UNDEF, ARR, OBJ, FUNC, ANY = (
    "number", "string", "ascii-string", "boolean", "null", "undefined", "array", "object",
    "function", "any")
STRINGS = (STR, ASTR)
PRIMITIVES = (NUM, STR, ASTR, BOOL, NULL, UNDEF)
_NO_CONST = object()

FOLD_BUDGET = 0.05
"""Seconds of constant folding one CodeGenerator may spend; later nodes are left to run time."""
FOLD_MAX_LENGTH = 4096
"""Longest string folded into the generated source; a longer constant is computed at run time
(so neither the source nor the compile cache holds it)."""

_STRING_RESULTS = {
    "string": {"charAt", "slice", "substring", "substr", "toUpperCase", "toLowerCase", "trim",
               "trimStart", "trimEnd", "padStart", "padEnd", "repeat", "concat", "replace",
               "replaceAll", "toString", "valueOf", "normalize"},
    "number": {"charCodeAt", "indexOf", "lastIndexOf"},
    "boolean": {"includes", "startsWith", "endsWith"},
}


class Unsupported(Exception):
    """The expression uses a construct the python engine does not lower."""

    def __init__(self, construct: str, node: Node | None = None) -> None:
        where = ""
        if node is not None and getattr(node, "range", None):  # ranges count the parse wrapper
            where = f" at offset {max(node.range[0] - SOURCE_OFFSET, 0)}"
        super().__init__(f"{construct}{where}")
        self.construct = construct


@dataclass(frozen=True)
class Code:
    src: str
    type: str = ANY
    const: Any = _NO_CONST
    simple: bool = False  # a name or literal: can be repeated without evaluating twice
    nonneg: bool = False  # a number known to be >= 0, -0 or NaN (so math.sqrt cannot raise)
    # a concatenation: (is literal, text or source, length bounded: a literal or a primitive
    # that is not a string, whose ToString is at most ~25 code units)
    pieces: tuple[tuple[bool, str, bool], ...] | None = None

    @property
    def is_const(self) -> bool:
        return self.const is not _NO_CONST

    @property
    def safe(self) -> bool:
        """Evaluating it cannot throw (a name, a literal, a folded constant)."""
        return self.simple or self.const is not _NO_CONST


def literal(value: Any) -> Code:
    """The Code of a constant primitive JavaScript value."""
    cls = value.__class__
    if cls is float:
        if value != value:
            src = "_NAN"
        elif value in (math.inf, -math.inf):
            src = "_INF" if value > 0 else "(-_INF)"
        else:
            src = repr(value) if math.copysign(1.0, value) > 0 else f"({value!r})"
        return Code(src, NUM, value, True, nonneg=not value < 0.0)
    if cls is str:
        return Code(repr(value), ASTR if value.isascii() else STR, value, True)
    if cls is bool:
        return Code(repr(value), BOOL, value, True)
    if value is None:
        return Code("None", NULL, None, True)
    if value is UNDEFINED:
        return Code("_UNDEF", UNDEF, UNDEFINED, True)
    raise TypeError(f"not a primitive constant: {value!r}")


def number_literal(raw: str) -> float:
    """The Number value of a NumericLiteral's source text (ES2026 §12.9.3: separators ignored,
    rounded to the nearest double; beyond the largest double it is Infinity)."""
    raw = raw.replace("_", "")
    lower = raw.lower()
    if lower.startswith(("0x", "0o", "0b")):
        try:
            return float(int(raw[2:], {"x": 16, "o": 8, "b": 2}[lower[1]]))
        except OverflowError:  # int -> float rounds correctly and overflows only past the max
            return math.inf
    return float(raw)


def python_name(js_name: str, index: int) -> str:
    """A readable Python parameter name for a JavaScript variable (``press`` stays ``press``)."""
    if js_name.isascii() and js_name.isidentifier() and not keyword.iskeyword(js_name) \
            and not js_name.startswith("_") and js_name not in HELPERS \
            and not hasattr(builtins_module, js_name):  # generated code calls abs, float, len
        return js_name
    return f"_v{index}"


def _merge(a: str, b: str) -> str:
    if a == b:
        return a
    if a in STRINGS and b in STRINGS:
        return STR
    return ANY


class CodeGenerator:
    """Lowers one expression under one assumption about the variables' types."""

    def __init__(self, names: dict[str, str], types: dict[str, str]) -> None:
        self.names = names      # JavaScript variable -> Python parameter name
        self.types = types      # JavaScript variable -> type assumed in this body
        self._temps = 0
        self._fold_spent = 0.0  # seconds spent folding constants (see FOLD_BUDGET)
        self._guards: list[str] | None = None  # inside an optional chain: its nullish tests

    # --- infrastructure --------------------------------------------------------------------
    def visit(self, node: Node) -> Code:
        method = getattr(self, "visit_" + node.type, None)
        if method is None:
            raise Unsupported(_DESCRIPTIONS.get(node.type, node.type), node)
        return method(node)

    def temp(self) -> str:
        self._temps += 1
        return f"_t{self._temps}"

    def bind(self, code: Code) -> tuple[str, str]:
        """(code that evaluates and names the value, the name to reuse it by)."""
        if code.simple:
            return code.src, code.src
        name = self.temp()
        return f"({name} := {code.src})", name

    def make(self, src: str, typ: str, parts: list[Code], foldable: bool = True,
             nonneg: bool = False, pieces: tuple | None = None) -> Code:
        """A node's Code; folded to a literal when every part is a constant.

        Folding runs the node's code under the same caps as run time (``jslib.limits``) and
        within FOLD_BUDGET seconds per generator; a value that throws, a string longer than
        FOLD_MAX_LENGTH and everything after the budget is spent are left to run time."""
        if foldable and self._fold_spent < FOLD_BUDGET and all(p.is_const for p in parts):
            start = time.perf_counter()
            try:
                value = eval(src, HELPERS, {})  # noqa: S307 - our own generated code
            except Exception:  # noqa: BLE001 - it throws at run time as JavaScript would
                return Code(src, typ)
            finally:
                self._fold_spent += time.perf_counter() - start
            if value.__class__ is str and len(value) > FOLD_MAX_LENGTH:
                return Code(src, typ, nonneg=nonneg, pieces=pieces)
            if value.__class__ in (float, str, bool) or value is None or value is UNDEFINED:
                return literal(value)
        return Code(src, typ, nonneg=nonneg, pieces=pieces)

    def operands_first(self, codes: list[Code], converted: Any) -> tuple[list[Code], str]:
        """Keep ECMAScript's order when operands are converted inline.

        An operator or built-in evaluates all its operands, left to right, before it converts
        any (ToPrimitive/ToNumber/ToString, which may throw on an object): ``a - b.c`` reads
        ``b.c`` before ``a.valueOf`` runs. Generated code that converts an operand in place
        (``_num(a) - _num(b.c)``) would convert ``a`` first; so when an operand that may throw
        follows one that ``converted(code)`` says is converted, every operand that may throw
        is evaluated into a temporary first. Returns the operands to use and the prefix
        (``"(_t1 := ...), "``) the caller puts in a tuple before its expression (see
        ``sequenced``), or ``""`` when inline conversion is already in order.
        """
        pending = False
        needed = False
        for code in codes:
            if pending and not code.safe:
                needed = True
                break
            pending = pending or converted(code)
        if not needed:
            return codes, ""
        out, binds = [], []
        for code in codes:
            if code.safe:
                out.append(code)
            else:
                name = self.temp()
                binds.append(f"({name} := {code.src}), ")
                out.append(Code(name, code.type, simple=True, nonneg=code.nonneg))
        return out, "".join(binds)

    @staticmethod
    def sequenced(prefix: str, src: str) -> str:
        """``src`` evaluated after the temporaries of ``operands_first``."""
        return f"({prefix}{src})[-1]" if prefix else src

    def power(self, base: Code, exponent: Code) -> str:
        """``base ** exponent`` on numbers. A positive integral constant exponent cannot make
        libm's pow raise or disagree with JavaScript except by overflow, so inside the range
        where it cannot overflow it is a bare ``math.pow`` behind one comparison."""
        c = exponent.const
        if exponent.is_const and c.is_integer() and 1.0 <= c <= 64.0:
            first, name = self.bind(base)
            limit = repr(10.0 ** (300.0 / c))
            exact = f"_Math_pow({name}, {exponent.src})"
            return f"(_mpow({name}, {exponent.src}) if -{limit} < {first} < {limit} else {exact})"
        return f"_Math_pow({base.src}, {exponent.src})"

    def as_number(self, code: Code) -> str:
        return code.src if code.type == NUM else f"_num({code.src})"

    def string_pieces(self, code: Code) -> tuple[tuple[bool, str, bool], ...]:
        """``code`` converted to string, as concatenation pieces (constants as literal text)."""
        if code.pieces is not None:
            return code.pieces
        if code.is_const and code.type in STRINGS:
            return ((True, code.const, True),) if code.const else ()
        bounded = code.type in PRIMITIVES and code.type not in STRINGS
        return ((False, self.as_string(code), bounded),)

    def concatenation(self, codes: list[Code], parts: list[Code]) -> Code:
        """String concatenation of ``codes`` (each converted by ToString) as one f-string.

        When a piece is a string of unknown length, the result's length is checked against
        the cap before the string is built: every non-literal piece is evaluated (in order)
        into a temporary, their lengths summed, and the f-string built only under the cap."""
        pieces: list[tuple[bool, str, bool]] = []
        for code in codes:
            for piece in self.string_pieces(code):
                if piece[0] and pieces and pieces[-1][0]:
                    pieces[-1] = (True, pieces[-1][1] + piece[1], True)
                else:
                    pieces.append(piece)
        ascii_only = all(c.type in (ASTR, NUM, BOOL, NULL, UNDEF) for c in codes)
        typ = ASTR if ascii_only else STR
        if len(pieces) < 2 or all(bounded for _, _, bounded in pieces):
            return self.make(_render(pieces), typ, parts, pieces=tuple(pieces))
        fixed = sum(len(text) for lit, text, _ in pieces if lit)
        named: list[tuple[bool, str, bool]] = []
        lengths = []
        for lit, text, bounded in pieces:
            if lit:
                named.append((lit, text, bounded))
            else:
                name = self.temp()
                lengths.append(f"len({name} := {text})")
                named.append((False, name, bounded))
        total = self.temp()
        # a large result is reported as heavy work (the time limit) and checked against the cap
        small = min(limits.HEAVY_LENGTH, limits.MAX_STRING_LENGTH) - fixed
        test = (f"({total} := {' + '.join(lengths)}) <= {small} "
                f"or _big_string({total}, {limits.MAX_STRING_LENGTH - fixed})")
        src = f"({_render(named)} if {test} else _too_long())"
        return self.make(src, typ, parts, pieces=tuple(pieces))

    def as_string(self, code: Code) -> str:
        if code.type in STRINGS:
            return code.src
        if code.type == NUM:
            return f"_n2s({code.src})"
        return f"_str({code.src})"

    def truth(self, code: Code, bound: str | None = None) -> str:
        """A Python expression that is True exactly when ToBoolean(code) is.

        ``bound``: the name ``code.src`` already assigns its value to, if any.
        """
        t = code.type
        if t == BOOL:
            return code.src
        if t in STRINGS:
            return f"({code.src} != '')"
        if t == NUM:
            first, name = (code.src, bound) if bound else self.bind(code)
            return f"({first} == {name} and {name} != 0.0)"
        if t in (NULL, UNDEF) and code.simple:
            return "False"
        if t in (ARR, OBJ, FUNC):
            return f"({code.src}, True)[1]"
        return f"_bool({code.src})"

    # --- literals and names ----------------------------------------------------------------
    def visit_Literal(self, node: Node) -> Code:
        if getattr(node, "regex", None) is not None:
            raise Unsupported("regular expression literal", node)
        if getattr(node, "bigint", None) is not None:
            raise Unsupported("BigInt literal", node)
        value = node.value
        if value is None or isinstance(value, (bool, str)):
            return literal(to_utf16(value) if isinstance(value, str) else value)
        return literal(number_literal(node.raw))

    def visit_Identifier(self, node: Node) -> Code:
        name = node.name
        if name in self.names:
            return Code(self.names[name], self.types[name], simple=True)
        if name in builtins.GLOBAL_CONSTANTS:
            return literal(builtins.GLOBAL_CONSTANTS[name])
        if name in builtins.GLOBAL_FUNCTIONS:
            return Code(f"_fv_{name}", FUNC, simple=True)
        raise Unsupported(f"global '{name}' used as a value", node)

    def visit_TemplateLiteral(self, node: Node) -> Code:
        codes: list[Code] = []
        parts: list[Code] = []
        for i, quasi in enumerate(node.quasis):
            codes.append(literal(to_utf16(quasi.value.cooked)))
            if i < len(node.expressions):
                parts.append(self.visit(node.expressions[i]))
                codes.append(parts[-1])
        return self.concatenation(codes, parts)

    def visit_ArrayExpression(self, node: Node) -> Code:
        items = []
        for el in node.elements:
            if el is None:
                raise Unsupported("array hole", node)
            items.append(self.visit(el).src)
        return Code("[" + ", ".join(items) + "]", ARR)

    def visit_ObjectExpression(self, node: Node) -> Code:
        entries = []
        index_keys = False
        for prop in node.properties:
            if prop.type != "Property":
                raise Unsupported("object spread", prop)
            if prop.computed or prop.kind != "init" or prop.method:
                raise Unsupported("computed key, method or accessor in an object literal", prop)
            key = prop.key
            if key.type == "Identifier":
                name = key.name
            elif isinstance(key.value, str):
                name = to_utf16(key.value)
            else:  # a numeric key names the property by its canonical string
                name = HELPERS["_n2s"](self.visit_Literal(key).const)
            index_keys = index_keys or is_array_index(name)
            entries.append(f"{name!r}: {self.visit(prop.value).src}")
        src = "{" + ", ".join(entries) + "}"
        return Code(f"_obj({src})" if index_keys else src, OBJ)

    def visit_SequenceExpression(self, node: Node) -> Code:
        codes = [self.visit(e) for e in node.expressions]
        return self.make("(" + ", ".join(c.src for c in codes) + ")[-1]", codes[-1].type, codes)

    # --- operators -------------------------------------------------------------------------
    def visit_UnaryExpression(self, node: Node) -> Code:
        op = node.operator
        arg = self.visit(node.argument)
        if op == "-":
            src = f"(-{arg.src})" if arg.type == NUM else f"_neg({arg.src})"
            return self.make(src, NUM, [arg])
        if op == "+":
            return self.make(self.as_number(arg), NUM, [arg])
        if op == "!":
            return self.make(f"(not {self.truth(arg)})", BOOL, [arg])
        if op == "~":
            return self.make(f"_bnot({arg.src})", NUM, [arg])
        if op == "typeof":
            if arg.type in (NUM, STR, ASTR, BOOL, UNDEF, FUNC) and arg.simple:
                name = "string" if arg.type in STRINGS else arg.type
                return literal(name)
            if arg.type in (NULL, ARR, OBJ) and arg.simple:
                return literal("object")
            return self.make(f"_typeof({arg.src})", ASTR, [arg])
        if op == "void":
            return literal(UNDEFINED) if arg.simple else Code(f"({arg.src}, _UNDEF)[1]", UNDEF)
        raise Unsupported(f"unary operator '{op}'", node)

    def _chain(self, node: Node) -> Code | None:
        """A long left-deep chain of binary/logical operators (``p + p + ... + p``, ``a && b &&
        ...``) as a flat tuple of steps, ``(_t1 := p + p, _t2 := _t1 + p, ...)[-1]``: nested,
        its code would exceed CPython's 200 levels of parentheses. Each step evaluates the next
        right operand after the accumulated left one, as JavaScript does; a logical step leaves
        the value untouched (without evaluating its right operand) once it short-circuits."""
        links = []
        while node.type in _CHAINED and len(links) <= CHAIN_LENGTH:
            links.append(node)
            node = node.left
        if len(links) <= CHAIN_LENGTH:
            return None
        while node.type in _CHAINED:
            links.append(node)
            node = node.left
        acc = self.visit(node)
        steps = []
        for link in reversed(links):
            right = self.visit(link.right)
            step = (self._binary if link.type == "BinaryExpression" else self._logical)(link, acc, right)
            name = self.temp()
            steps.append(f"({name} := {step.src})")
            acc = Code(name, step.type, simple=True, nonneg=step.nonneg)
        return Code("(" + ", ".join(steps) + ")[-1]", acc.type, nonneg=acc.nonneg)

    def visit_BinaryExpression(self, node: Node) -> Code:
        chain = self._chain(node)
        if chain is not None:
            return chain
        return self._binary(node, self.visit(node.left), self.visit(node.right))

    def _binary(self, node: Node, left: Code, right: Code) -> Code:
        op = node.operator
        lt, rt = left.type, right.type
        parts = [left, right]
        both_num = lt == NUM and rt == NUM
        if op == "+":
            return self._plus(left, right)
        both_nonneg = left.nonneg and right.nonneg
        if op in ("-", "*"):
            square = op == "*" and left.simple and left.src == right.src
            (a, b), first = self.operands_first(parts, lambda c: c.type != NUM)
            src = self.sequenced(first, f"({self.as_number(a)} {op} {self.as_number(b)})")
            return self.make(src, NUM, parts, nonneg=op == "*" and (square or both_nonneg))
        if op == "/":
            if both_num and right.is_const and right.const != 0.0 and right.const == right.const:
                return self.make(f"({left.src} / {right.src})", NUM, parts, nonneg=both_nonneg)
            return self.make(f"_div({left.src}, {right.src})", NUM, parts, nonneg=both_nonneg)
        if op == "%":
            return self.make(f"_mod({left.src}, {right.src})", NUM, parts)
        if op == "**":
            if both_num:
                return self.make(self.power(left, right), NUM, parts)
            return self.make(f"_pow({left.src}, {right.src})", NUM, parts)
        if op in ("<", ">", "<=", ">="):
            if both_num or (lt in STRINGS and rt in STRINGS):
                return self.make(f"({left.src} {op} {right.src})", BOOL, parts)
            helper = {"<": "_lt", ">": "_gt", "<=": "_le", ">=": "_ge"}[op]
            return self.make(f"{helper}({left.src}, {right.src})", BOOL, parts)
        if op in ("==", "!=", "===", "!=="):
            same_kind = both_num or (lt in STRINGS and rt in STRINGS) or (lt == BOOL and rt == BOOL)
            if same_kind:
                py_op = "==" if op in ("==", "===") else "!="
                return self.make(f"({left.src} {py_op} {right.src})", BOOL, parts)
            helper = "_leq" if op in ("==", "!=") else "_seq"
            src = f"{helper}({left.src}, {right.src})"
            return self.make(src if op in ("==", "===") else f"(not {src})", BOOL, parts)
        helper = {"&": "_band", "|": "_bor", "^": "_bxor", "<<": "_shl", ">>": "_shr",
                  ">>>": "_ushr"}.get(op)
        if helper is not None:
            return self.make(f"{helper}({left.src}, {right.src})", NUM, parts)
        raise Unsupported(f"operator '{op}'", node)

    def _plus(self, left: Code, right: Code) -> Code:
        """``+``: numeric add, string concatenation, or the general algorithm."""
        lt, rt = left.type, right.type
        parts = [left, right]
        if lt == NUM and rt == NUM:
            return self.make(f"({left.src} + {right.src})", NUM, parts,
                             nonneg=left.nonneg and right.nonneg)
        if lt in STRINGS or rt in STRINGS:
            # both operands are evaluated before either is converted: when converting one may
            # throw (an object's ToPrimitive) and a later operand may throw too, bind them first
            (a, b), first = self.operands_first(parts, lambda c: c.type not in PRIMITIVES)
            code = self.concatenation([a, b], parts)
            return Code(self.sequenced(first, code.src), code.type) if first else code
        return self.make(f"_add({left.src}, {right.src})", ANY, parts)

    def visit_LogicalExpression(self, node: Node) -> Code:
        chain = self._chain(node)
        if chain is not None:
            return chain
        return self._logical(node, self.visit(node.left), self.visit(node.right))

    def _logical(self, node: Node, left: Code, right: Code) -> Code:
        typ = _merge(left.type, right.type)
        if node.operator == "??":
            return self._coalesce(left, right)
        if node.operator not in ("&&", "||"):
            raise Unsupported(f"operator '{node.operator}'", node)
        if left.type == BOOL:
            py_op = "and" if node.operator == "&&" else "or"
            return self.make(f"({left.src} {py_op} {right.src})", typ, [left, right])
        first, name = self.bind(left)
        test = self.truth(Code(first, left.type), bound=name)
        if node.operator == "&&":
            src = f"({right.src} if {test} else {name})"
        else:
            src = f"({name} if {test} else {right.src})"
        return self.make(src, typ, [left, right])

    def _coalesce(self, left: Code, right: Code) -> Code:
        """``left ?? right`` (ES2026 §13.13): right only when left is null or undefined."""
        if left.type in (NULL, UNDEF):
            return right if left.simple else Code(f"({left.src}, {right.src})[1]", right.type)
        if left.type != ANY:
            return left
        first, name = self.bind(left)
        src = f"({right.src} if {self.nullish(first, name)} else {name})"
        return self.make(src, ANY, [left, right])

    @staticmethod
    def nullish(first: str, name: str) -> str:
        """A test that the value ``first`` evaluates (and ``name`` then holds) is null/undefined."""
        return f"({first} is None or {name} is _UNDEF)"

    def visit_ChainExpression(self, node: Node) -> Code:
        """An optional chain (``a?.b.c``, ``f?.()``): undefined as a whole as soon as one
        optional link's object is null or undefined (ES2026 §13.3.9). Each optional link adds
        its test to ``_guards``; the tests run in order, before the rest of the chain."""
        outer, self._guards = self._guards, []
        try:
            inner = self.visit(node.expression)
            guards = self._guards
        finally:
            self._guards = outer
        if not guards:
            return inner
        return Code(f"(_UNDEF if {' or '.join(guards)} else {inner.src})", _merge(UNDEF, inner.type))

    def optional(self, code: Code, node: Node) -> Code:
        """The object of an optional link (``code?.``): tested for nullish, then reused by name."""
        if not node.optional or code.type in (NUM, STR, ASTR, BOOL, ARR, OBJ, FUNC):
            return code
        if self._guards is None:
            raise Unsupported("optional link outside a chain", node)
        first, name = self.bind(code)
        self._guards.append(self.nullish(first, name))
        return Code(name, code.type, simple=True)

    def visit_ConditionalExpression(self, node: Node) -> Code:
        test = self.visit(node.test)
        yes = self.visit(node.consequent)
        no = self.visit(node.alternate)
        if test.is_const:
            return yes if builtins.js_boolean(test.const) else no
        return Code(f"({yes.src} if {self.truth(test)} else {no.src})", _merge(yes.type, no.type))

    # --- members and calls -----------------------------------------------------------------
    def _namespace(self, node: Node) -> str | None:
        """'Math' for ``Math.x`` (a global namespace the python engine knows), else None."""
        obj = node.object
        if obj.type == "Identifier" and obj.name not in self.names and not node.computed:
            if obj.name in builtins.NAMESPACE_FUNCTIONS:
                return obj.name
            if obj.name in builtins.GLOBAL_FUNCTIONS or obj.name in _QUICKJS_GLOBALS:
                raise Unsupported(f"'{obj.name}.{node.property.name}'", node)
        return None

    def visit_MemberExpression(self, node: Node) -> Code:
        ns = self._namespace(node)
        if ns is not None:
            name = node.property.name
            constants = builtins.NAMESPACE_CONSTANTS.get(ns, {})
            if name in constants:
                return literal(constants[name])
            if name in builtins.NAMESPACE_FUNCTIONS[ns]:
                return Code(f"_fv_{ns}_{name}", FUNC, simple=True)
            raise Unsupported(f"'{ns}.{name}'", node)
        obj = self.optional(self.visit(node.object), node)
        if not node.computed:
            name = node.property.name
            if name == "length":
                if obj.type in STRINGS or obj.type == ARR:
                    return self.make(f"float(len({obj.src}))", NUM, [obj])
                return self.make(f"_len({obj.src})", ANY, [obj])
            if name in _UNLOWERED.get(obj.type, _UNLOWERED_ANY):
                raise Unsupported(f"'.{name}' of a built-in prototype read as a value", node)
            return self.make(f"_get({obj.src}, {name!r})", ANY, [obj])
        key = self.visit(node.property)
        return self.make(f"_get({obj.src}, {key.src})", ANY, [obj, key])

    def visit_CallExpression(self, node: Node) -> Code:
        callee = node.callee
        if node.optional:  # f?.(): the callee value is tested, so it cannot be a method call
            return self._optional_call(callee, node)
        if callee.type == "Identifier" and callee.name not in self.names \
                and callee.name in builtins.GLOBAL_FUNCTIONS:
            return self._global_call(callee.name, [self.visit(a) for a in node.arguments], node)
        if callee.type == "MemberExpression":
            ns = self._namespace(callee)
            if ns is not None:
                return self._namespace_call(ns, callee.property.name, node)
            return self._method_call(callee, node)
        fn = self.visit(callee)
        args = [self.visit(a) for a in node.arguments]
        return Code(f"_callv({', '.join([fn.src] + [a.src for a in args])})", ANY)

    def _optional_call(self, callee: Node, node: Node) -> Code:
        """``callee?.(args)``; a member callee keeps its object as ``this``."""
        if callee.type != "MemberExpression" or self._namespace(callee) is not None:
            fn = self.optional(self.visit(callee), node)
            args = self._args(node)
            return Code(f"_callv({', '.join([fn.src] + [a.src for a in args])})", ANY)
        obj = self.optional(self.visit(callee.object), callee)
        first, name = self.bind(obj)
        if callee.computed:
            key = self.visit(callee.property)
            key_first, key_name = self.bind(key)
        else:
            key_first = key_name = repr(callee.property.name)
        method = self.optional(Code(f"_get({first}, {key_first})", ANY), node)
        args = self._args(node)
        return Code(f"({method.src}, _call({', '.join([name, key_name] + [a.src for a in args])}))[1]",
                    ANY)

    def _args(self, node: Node) -> list[Code]:
        for a in node.arguments:
            if a.type == "SpreadElement":
                raise Unsupported("spread argument", a)
        return [self.visit(a) for a in node.arguments]

    def _global_call(self, name: str, args: list[Code], node: Node) -> Code:
        if name == "Number" and args and args[0].type == NUM and len(args) == 1:
            return args[0]
        if name == "String" and len(args) == 1 and args[0].type in (NUM, *STRINGS):
            return self.make(self.as_string(args[0]), args[0].type if args[0].type in STRINGS else ASTR, args)
        typ = {"Number": NUM, "String": STR, "Boolean": BOOL, "parseInt": NUM, "parseFloat": NUM,
               "isNaN": BOOL, "isFinite": BOOL}[name]
        return self.make(f"_g_{name}({', '.join(a.src for a in args)})", typ, args)

    def _namespace_call(self, ns: str, name: str, node: Node) -> Code:
        table = builtins.NAMESPACE_FUNCTIONS[ns]
        if name not in table:
            if name in builtins.NAMESPACE_CONSTANTS.get(ns, {}):  # Math.PI(): not a function
                value = literal(builtins.NAMESPACE_CONSTANTS[ns][name])
                return Code(f"_callv({', '.join([value.src] + [a.src for a in self._args(node)])})", ANY)
            raise Unsupported(f"'{ns}.{name}()'", node)
        args = self._args(node)
        pure = (ns, name) not in builtins.IMPURE_CALLS
        if ns == "Math":
            return self._math_call(name, args, pure)
        typ = {"Date": NUM, "String": STR}.get(ns, ANY)
        if ns == "Number":
            typ = NUM if name.startswith("parse") else BOOL
        return self.make(f"_{ns}_{name}({', '.join(a.src for a in args)})", typ, args, foldable=pure)

    def _math_call(self, name: str, all_args: list[Code], pure: bool) -> Code:
        args, first = self.operands_first(all_args, lambda c: c.type != NUM)
        code = self._math_src(name, args, pure)
        return self.make(self.sequenced(first, code.src), NUM, all_args, foldable=pure,
                         nonneg=code.nonneg)

    def _math_src(self, name: str, args: list[Code], pure: bool) -> Code:
        arity = jmath.ARITY[name]
        used = args if arity is None else args[:arity]
        extra = [] if arity is None else args[arity:]
        nums = [self.as_number(a) for a in used]
        if arity is not None:
            nums += ["_NAN"] * (arity - len(nums))
        if name == "sqrt" and used:
            arg = used[0]
            if arg.nonneg:  # math.sqrt raises only below zero
                src = f"_msqrt({arg.src})"
            else:
                first, var = self.bind(Code(nums[0], NUM, simple=arg.simple and arg.type == NUM))
                src = f"(_msqrt({var}) if {first} >= 0.0 else _NAN)"
        elif name == "abs":
            src = f"abs({nums[0]})"
        elif name == "pow" and len(used) == 2 and used[0].type == NUM and used[1].type == NUM:
            src = self.power(used[0], used[1])
        else:
            src = f"_Math_{name}({', '.join(nums)})"
        if extra:
            src = f"_first({src}, {', '.join(a.src for a in extra)})"
        nonneg = name in ("abs", "sqrt", "exp", "hypot", "cosh")
        return Code(src, NUM, nonneg=nonneg)

    def _method_call(self, callee: Node, node: Node) -> Code:
        if callee.computed:
            key = self.visit(callee.property)
            if not (key.is_const and isinstance(key.const, str)):
                obj = self.optional(self.visit(callee.object), callee)
                return self._generic_call(obj, key, self._args(node))
            name = key.const
        else:
            name = callee.property.name
        if name not in METHOD_NAMES:
            raise Unsupported(f"method '.{name}()'", node)
        obj = self.optional(self.visit(callee.object), callee)
        args = self._args(node)
        arg_src = "".join(", " + a.src for a in args)
        typ = ANY
        if obj.type in STRINGS and name in strings.STRING_METHODS:
            src = f"_s_{name}({obj.src}{arg_src})"
            for result_type, names in _STRING_RESULTS.items():
                if name in names:
                    typ = {"string": STR, "number": NUM, "boolean": BOOL}[result_type]
        elif obj.type == NUM and name in NUMBER_METHODS:
            src = f"_n_{name}({obj.src}{arg_src})"
            typ = NUM if name == "valueOf" else ASTR
        elif obj.type == ARR and name in arrays.ARRAY_METHODS:
            src = f"_a_{name}({obj.src}{arg_src})"
        else:
            return self._generic_call(obj, literal(name), args)
        return self.make(src, typ, [obj, *args])

    def _generic_call(self, obj: Code, key: Code, args: list[Code]) -> Code:
        """``obj[key](...args)`` on a receiver of unknown type. ECMA-262 13.3.6.1: the callee
        is read (GetValue: a TypeError on a null/undefined base) before the arguments are
        evaluated, so with arguments that may throw the call is ``_mref(obj, key)(...)``."""
        if all(a.safe for a in args):
            src = f"_call({', '.join([obj.src, key.src] + [a.src for a in args])})"
        else:
            src = f"_mref({obj.src}, {key.src})({', '.join(a.src for a in args)})"
        return self.make(src, ANY, [obj, key, *args])


# Per static receiver type: the names of built-in prototype properties (QuickJS's, generated)
# that ``_get`` does not implement. Reading one (``typeof arr.map``) must not give undefined:
# such an expression is QuickJS's. ``length`` is lowered above; a function's ``name``/``length``
# by ``_get``.
_UNLOWERED: dict[str, frozenset[str]] = {
    STR: unlowered_names(strings.STRING_METHODS, ("String",)),
    ASTR: unlowered_names(strings.STRING_METHODS, ("String",)),
    ARR: unlowered_names(arrays.ARRAY_METHODS, ("Array",)),
    NUM: unlowered_names(NUMBER_METHODS, ("Number",)),
    BOOL: unlowered_names(BOOLEAN_METHODS, ("Boolean",)),
    OBJ: unlowered_names(OBJECT_METHODS, ()),
    FUNC: unlowered_names({"name": 0, "length": 0}, ("Function",)),
}
_UNLOWERED_ANY: frozenset[str] = frozenset().union(*_UNLOWERED.values())


def _render(pieces: list[tuple[bool, str, bool]]) -> str:
    """Python source of a concatenation: an f-string (one BUILD_STRING, no intermediate
    strings), or ``''.join`` when an expression piece has characters an f-string field of
    Python 3.11 cannot hold."""
    if not pieces:
        return "''"
    if len(pieces) == 1:
        literal_piece, text, _ = pieces[0]
        return repr(text) if literal_piece else text
    if any(not lit and any(ch in src for ch in "'\"{}\\#") for lit, src, _ in pieces):
        return "''.join((" + ", ".join(repr(t) if lit else t for lit, t, _ in pieces) + "))"
    out = []
    for lit, text, _ in pieces:
        if lit:
            body = repr(text)
            if body[0] == '"':  # repr chose double quotes: the text has a ' and no "
                body = "'" + body[1:-1].replace("'", "\\'") + "'"
            out.append(body[1:-1].replace("{", "{{").replace("}", "}}"))
        else:
            out.append("{" + text + "}")
    return "f'" + "".join(out) + "'"


# left-deep operator chains longer than this are lowered flat (see CodeGenerator._chain)
CHAIN_LENGTH = 32
_CHAINED = frozenset({"BinaryExpression", "LogicalExpression"})

# globals that exist in QuickJS but not in the python subset: their members go to QuickJS
_QUICKJS_GLOBALS = frozenset({"Object", "Array", "Set", "Map", "RegExp", "Symbol", "BigInt",
                              "Intl", "Promise", "WeakMap", "WeakSet", "Error"})

_DESCRIPTIONS = {
    "ArrowFunctionExpression": "arrow function", "FunctionExpression": "function expression",
    "NewExpression": "'new'", "TaggedTemplateExpression": "tagged template",
    "SpreadElement": "spread", "AssignmentExpression": "assignment",
    "AwaitExpression": "'await'", "YieldExpression": "'yield'", "ClassExpression": "class",
}
