"""Hypothesis strategies: random well-formed expressions of the python subset, and variable values.

An expression is built as text from typed sub-expressions (number, string, boolean, any), up
to a bounded depth. Every ``one_of`` lists the leaves first, so Hypothesis shrinks a failing
expression towards a short one made of literals and variables: counterexamples read like
``(x % -0.5).toFixed(2)``, not like a tree dump. The type only shapes the grammar (a string
method gets a string-ish receiver); JavaScript coerces, so any combination is well-formed.

Impure calls (``Date.now``, ``Math.random``) are never generated: results must be comparable.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from conformance.environments import ARRAYS, NUMBERS, OBJECT_KEYS, OBJECTS, STRINGS
from conformance.reference import js_number
from transpiler.jslib.values import UNDEFINED


@dataclass(frozen=True)
class Expr:
    """Expression text, the construct family of its root, and how it may be embedded."""

    text: str
    family: str
    atom: bool = False   # embeds without parentheses (name, literal, call, member, bracketed)
    unary: bool = False  # a unary operation: parenthesised as the left operand of ``**``

    def __str__(self) -> str:
        return self.text


def paren(e: Expr) -> str:
    return e.text if e.atom else f"({e.text})"


_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f",
            "\v": "\\v", "\0": "\\0"}


def js_string(s: str, quote: str = "'") -> str:
    """JavaScript source for a string literal; non-ASCII kept readable, odd characters escaped."""
    out = [quote]
    for ch in s:
        cp = ord(ch)
        if ch == quote:
            out.append("\\" + ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch] if ch != "\0" else "\\x00")
        elif cp < 0x20 or cp == 0x7F or 0xD800 <= cp <= 0xDFFF or cp in (0x2028, 0x2029) \
                or 0x80 <= cp < 0xA0:
            out.append(f"\\u{cp:04x}")
        else:
            out.append(ch)
    out.append(quote)
    return "".join(out)


def _template_text(s: str) -> str:
    text = js_string(s, quote="`")[1:-1]
    return text.replace("${", "$\\{")


# --- leaves ------------------------------------------------------------------------------------

_NUMBER_SOURCES = ["0", "1", "2", "3", "10", "0.5", "1.5", "-1", "100", "255", "1e21", "1e-7",
                   "0x1F", "0o17", "0b101", ".5", "5.", "1E3", "2e-3", "9007199254740993",
                   "5e-324", "1.7976931348623157e308", "NaN", "Infinity", "-0", "0.1", "-2.5"]
_STRING_VALUES = ["", "a", "abc", " 12 ", "0x1A", "1e3", "-0", "é", "😀", "a,b", "x y", "$&",
                  "Infinity", "\n", "ß", "10", "9", "A", "null", "true", ".5", "\u00a0"]


def choice(*options: st.SearchStrategy) -> st.SearchStrategy:
    """One of ``options``, each equally likely. (``st.one_of`` flattens the branches of a
    mapped ``one_of`` into its own, which would make ``-e`` fourteen times likelier than
    ``a + b``; an index drawn here weighs the options as written, and shrinks to the first.)"""
    @st.composite
    def pick(draw):
        return draw(options[draw(st.integers(0, len(options) - 1))])
    return pick()


def _num_source(text: str) -> Expr:
    if text.startswith("-"):
        return Expr(f"({text})", "literals", atom=True, unary=True)
    return Expr(text, "literals", atom=True)


def _num_value(x: float) -> Expr:
    text = js_number(x)
    return Expr(text, "literals", atom=True, unary=text.startswith("(-"))


_var = lambda *names: st.sampled_from(names).map(lambda n: Expr(n, "variables", atom=True))  # noqa: E731

num_literal = choice(
    st.sampled_from(_NUMBER_SOURCES).map(_num_source),
    st.floats(allow_nan=False, allow_infinity=False).map(_num_value),
    st.integers(-300, 300).map(lambda i: _num_value(float(i))),
)
str_literal = choice(
    st.sampled_from(_STRING_VALUES),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=6),
    st.text(alphabet=" 0123456789.eE+-xXabn\t", max_size=6),
).map(lambda s: Expr(js_string(s), "literals", atom=True))
bool_literal = st.sampled_from(["true", "false"]).map(lambda t: Expr(t, "literals", atom=True))
other_literal = st.sampled_from(["null", "undefined"]).map(lambda t: Expr(t, "literals", atom=True))

NUM_LEAF = choice(_var("x", "y"), num_literal)
STR_LEAF = choice(_var("s", "t"), str_literal)
BOOL_LEAF = choice(_var("f"), bool_literal)
ANY_LEAF = choice(_var("a", "b"), NUM_LEAF, STR_LEAF, BOOL_LEAF, other_literal, _var("arr", "o"))

_MATH_1 = ["abs", "sign", "floor", "ceil", "round", "trunc", "sqrt", "cbrt", "exp", "expm1", "log",
           "log1p", "log2", "log10", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh",
           "tanh", "asinh", "acosh", "atanh", "fround", "clz32"]
_MATH_2 = ["atan2", "pow", "imul"]
_MATH_N = ["max", "min", "hypot"]
_MATH_CONSTANTS = ["PI", "E", "LN2", "LN10", "LOG2E", "LOG10E", "SQRT2", "SQRT1_2"]
_FUNCTION_VALUES = ["Math.abs", "Math.max", "Math.min", "Math.pow", "Math.round", "Math.hypot",
                    "Math.atan2", "Math.sign", "Math.floor", "Math.imul", "Math.clz32", "Math.fround",
                    "parseInt", "parseFloat", "Number", "String", "Boolean", "isNaN", "isFinite",
                    "Number.isInteger", "Number.isNaN", "JSON.stringify", "String.fromCharCode",
                    "'x'.at", "[].join"]
_NUMBER_CONSTANTS = ["MAX_SAFE_INTEGER", "MIN_SAFE_INTEGER", "EPSILON", "MAX_VALUE", "MIN_VALUE",
                     "POSITIVE_INFINITY", "NEGATIVE_INFINITY", "NaN"]

# small integer-ish arguments for indices, counts and digits
_SMALL = choice(st.integers(-3, 8).map(lambda i: _num_value(float(i))),
                st.sampled_from(["0.5", "-0", "NaN", "Infinity", "-Infinity", "1e21", "2.7"])
                .map(_num_source))


def receiver(e: Expr) -> str:
    """``e`` as the object of a member access (``1.toFixed()`` would not parse)."""
    return f"({e.text})" if not e.atom or e.text[:1].isdigit() or e.text[:1] == "." else e.text


def _call(receiver_: Expr, method: str, args: list[Expr], family: str) -> Expr:
    return Expr(f"{receiver(receiver_)}.{method}({', '.join(a.text for a in args)})", family, atom=True)


def _fn(name: str, args: list[Expr], family: str) -> Expr:
    return Expr(f"{name}({', '.join(a.text for a in args)})", family, atom=True)


def _binary(op: str, family: str):
    def build(lr: tuple[Expr, Expr]) -> Expr:
        left, right = lr
        lt = paren(left)
        if op == "**" and left.unary:  # `-a ** 2` is a syntax error: `(-a) ** 2` is meant
            lt = f"({left.text})"
        return Expr(f"{lt} {op} {paren(right)}", family)
    return build


def _unary(op: str):
    def build(e: Expr) -> Expr:
        text = paren(e)
        sep = " " if op[-1].isalpha() or (op in "+-" and text.startswith(op)) else ""
        return Expr(f"{op}{sep}{text}", "unary", unary=True)
    return build


def _key(k: str) -> str:
    """An object literal key: identifiers and numerals bare, anything else quoted."""
    return k if k.isidentifier() or k.replace(".", "").isdigit() else js_string(k)


class Grammar:
    """The strategies ``num(d)``, ``string(d)``, ``boolean(d)`` and ``any(d)`` for depth ``d``."""

    def __init__(self) -> None:
        self._memo: dict[tuple[str, int], st.SearchStrategy[Expr]] = {}

    def _get(self, kind: str, depth: int) -> st.SearchStrategy[Expr]:
        key = (kind, depth)
        if key not in self._memo:
            self._memo[key] = st.deferred(lambda: getattr(self, "_" + kind)(depth))
        return self._memo[key]

    def num(self, d: int) -> st.SearchStrategy[Expr]:
        return self._get("num", d)

    def string(self, d: int) -> st.SearchStrategy[Expr]:
        return self._get("string", d)

    def boolean(self, d: int) -> st.SearchStrategy[Expr]:
        return self._get("boolean", d)

    def any(self, d: int) -> st.SearchStrategy[Expr]:
        return self._get("any", d)

    # -- numbers
    def _num(self, d: int) -> st.SearchStrategy[Expr]:
        if d == 0:
            return NUM_LEAF
        n, a, s, b = self.num(d - 1), self.any(d - 1), self.string(d - 1), self.boolean(d - 1)
        arith = st.sampled_from(["-", "*", "/", "%", "**", "+"]).flatmap(
            lambda op: st.tuples(n if op == "+" else choice(n, a), choice(n, a))
            .map(_binary(op, "arithmetic")))
        bitwise = st.sampled_from(["&", "|", "^", "<<", ">>", ">>>"]).flatmap(
            lambda op: st.tuples(choice(n, a), choice(n, a)).map(_binary(op, "bitwise")))
        unary = choice(n.map(_unary("-")), a.map(_unary("+")), a.map(_unary("-")), n.map(_unary("~")))
        math1 = st.tuples(st.sampled_from(_MATH_1), choice(n, a)).map(
            lambda t: _fn(f"Math.{t[0]}", [t[1]], "math"))
        math2 = st.tuples(st.sampled_from(_MATH_2), n, choice(n, a)).map(
            lambda t: _fn(f"Math.{t[0]}", [t[1], t[2]], "math"))
        mathn = st.tuples(st.sampled_from(_MATH_N), st.lists(choice(n, a), max_size=3)).map(
            lambda t: _fn(f"Math.{t[0]}", t[1], "math"))
        constants = choice(
            st.sampled_from(_MATH_CONSTANTS).map(lambda c: Expr(f"Math.{c}", "math", atom=True)),
            st.sampled_from(_NUMBER_CONSTANTS).map(lambda c: Expr(f"Number.{c}", "globals", atom=True)))
        from_string = choice(
            s.map(lambda e: Expr(f"{receiver(e)}.length", "members", atom=True)),
            st.tuples(st.sampled_from(["charCodeAt", "codePointAt"]), s, _SMALL).map(
                lambda t: _call(t[1], t[0], [t[2]], "string-methods")),
            st.tuples(st.sampled_from(["indexOf", "lastIndexOf"]), s, s).map(
                lambda t: _call(t[1], t[0], [t[2]], "string-methods")),
        )
        globals_ = choice(
            st.lists(a, max_size=2).map(lambda args: _fn("Number", args, "globals")),
            st.tuples(s, st.sampled_from([[], ["16"], ["2"], ["36"], ["0"], ["37"]])).map(
                lambda t: Expr(f"parseInt({', '.join([t[0].text, *t[1]])})", "globals", atom=True)),
            s.map(lambda e: _fn("parseFloat", [e], "globals")),
            a.map(lambda e: _fn("parseInt", [e], "globals")),
        )
        arrays = choice(
            self._array(d - 1).map(lambda e: Expr(f"{receiver(e)}.length", "members", atom=True)),
            st.tuples(self._array(d - 1), a).map(lambda t: _call(t[0], "indexOf", [t[1]], "array-methods")),
        )
        ternary = st.tuples(choice(b, a), n, n).map(
            lambda t: Expr(f"{paren(t[0])} ? {paren(t[1])} : {paren(t[2])}", "ternary"))
        return choice(NUM_LEAF, arith, unary, math1, constants, bitwise, math2, mathn,
                         from_string, globals_, arrays, ternary)

    # -- strings
    def _string(self, d: int) -> st.SearchStrategy[Expr]:
        if d == 0:
            return STR_LEAF
        n, a, s, b = self.num(d - 1), self.any(d - 1), self.string(d - 1), self.boolean(d - 1)
        template = st.lists(st.tuples(st.text(alphabet="ab -:é😀$\\`{}\n", max_size=3), a),
                            min_size=1, max_size=3).flatmap(
            lambda parts: st.text(alphabet="ab -", max_size=2).map(
                lambda tail: Expr("`" + "".join(f"{_template_text(txt)}${{{e.text}}}" for txt, e in parts)
                                  + _template_text(tail) + "`", "templates", atom=True)))
        concat = choice(st.tuples(s, a), st.tuples(a, s)).map(_binary("+", "arithmetic"))
        conv = choice(
            a.map(lambda e: _fn("String", [e], "globals")),
            a.map(lambda e: Expr(f"typeof {paren(e)}", "unary", unary=True)),
            a.map(lambda e: _fn("JSON.stringify", [e], "json")),
            st.tuples(a, st.sampled_from(["null, 2", "null, '-'", "null, 0", "null, 12", "null, ''"])).map(
                lambda t: Expr(f"JSON.stringify({t[0].text}, {t[1]})", "json", atom=True)),
        )
        methods0 = st.tuples(s, st.sampled_from(["toUpperCase", "toLowerCase", "trim", "trimStart",
                                                 "trimEnd", "toString", "valueOf", "normalize"])).map(
            lambda t: _call(t[0], t[1], [], "string-methods"))
        methods_n = st.tuples(s, st.sampled_from(["charAt", "at", "slice", "substring", "substr"]),
                              st.lists(choice(_SMALL, n), max_size=2)).map(
            lambda t: _call(t[0], t[1], t[2], "string-methods"))
        methods_s = st.tuples(s, st.sampled_from(["concat", "replace", "replaceAll"]), s, choice(s, a)).map(
            lambda t: _call(t[0], t[1], [t[2], t[3]], "string-methods"))
        pad = st.tuples(s, st.sampled_from(["padStart", "padEnd"]), _SMALL,
                        st.lists(s, max_size=1)).map(
            lambda t: _call(t[0], t[1], [t[2], *t[3]], "string-methods"))
        repeat = st.tuples(s, st.integers(-1, 4)).map(
            lambda t: _call(t[0], "repeat", [_num_value(float(t[1]))], "string-methods"))
        normalize = st.tuples(s, st.sampled_from(["'NFC'", "'NFD'", "'NFKC'", "'NFKD'"])).map(
            lambda t: Expr(f"{receiver(t[0])}.normalize({t[1]})", "string-methods", atom=True))
        number_methods = choice(
            st.tuples(n, st.sampled_from(["toFixed", "toPrecision", "toExponential"]),
                      choice(st.integers(0, 21).map(lambda i: [_num_value(float(i))]), st.just([]))).map(
                lambda t: _call(t[0], t[1], t[2], "number-methods")),
            st.tuples(n, st.sampled_from([[], ["2"], ["16"], ["36"], ["8"], ["10"], ["3"]])).map(
                lambda t: Expr(f"{receiver(t[0])}.toString({', '.join(t[1])})", "number-methods", atom=True)),
        )
        join = st.tuples(self._array(d - 1), st.lists(s, max_size=1)).map(
            lambda t: _call(t[0], "join", t[1], "array-methods"))
        from_char = st.lists(choice(st.integers(0, 0x10FFFF).map(lambda i: _num_value(float(i))), n),
                             max_size=3).map(lambda args: _fn("String.fromCharCode", args, "globals"))
        from_cp = st.lists(st.integers(0, 0x10FFFF).map(lambda i: _num_value(float(i))),
                           min_size=1, max_size=3).map(
            lambda args: _fn("String.fromCodePoint", args, "globals"))
        ternary = st.tuples(choice(b, a), s, s).map(
            lambda t: Expr(f"{paren(t[0])} ? {paren(t[1])} : {paren(t[2])}", "ternary"))
        return choice(STR_LEAF, concat, template, methods0, methods_n, conv, methods_s, pad, repeat,
                         normalize, number_methods, join, from_char, from_cp, ternary)

    # -- booleans
    def _boolean(self, d: int) -> st.SearchStrategy[Expr]:
        if d == 0:
            return BOOL_LEAF
        n, a, s = self.num(d - 1), self.any(d - 1), self.string(d - 1)
        operand = choice(n, s, a)
        compare = st.sampled_from(["<", ">", "<=", ">="]).flatmap(
            lambda op: st.tuples(operand, operand).map(_binary(op, "comparison")))
        equal = st.sampled_from(["==", "!=", "===", "!=="]).flatmap(
            lambda op: st.tuples(operand, operand).map(_binary(op, "equality")))
        negate = a.map(_unary("!"))
        predicates = st.tuples(st.sampled_from(["isNaN", "isFinite", "Number.isInteger",
                                                "Number.isSafeInteger", "Number.isFinite",
                                                "Number.isNaN", "Boolean"]),
                               st.lists(a, min_size=1, max_size=2)).map(  # extra arguments too
            lambda t: _fn(t[0], t[1], "globals"))
        string_tests = st.tuples(s, st.sampled_from(["includes", "startsWith", "endsWith"]), s,
                                 st.lists(_SMALL, max_size=1)).map(
            lambda t: _call(t[0], t[1], [t[2], *t[3]], "string-methods"))
        array_tests = st.tuples(self._array(d - 1), a).map(
            lambda t: _call(t[0], "includes", [t[1]], "array-methods"))
        return choice(BOOL_LEAF, compare, equal, negate, predicates, string_tests, array_tests)

    # -- arrays (a literal or the variable) and anything
    def _array(self, d: int) -> st.SearchStrategy[Expr]:
        items = self.any(d) if d > 0 else ANY_LEAF
        literal = st.lists(items, max_size=3).map(
            lambda xs: Expr("[" + ", ".join(x.text for x in xs) + "]", "arrays-objects", atom=True))
        return choice(_var("arr"), literal)

    def _any(self, d: int) -> st.SearchStrategy[Expr]:
        if d == 0:
            return ANY_LEAF
        n, a, s, b = self.num(d), self.any(d - 1), self.string(d), self.boolean(d)
        lower_s = self.string(d - 1)
        logical = st.sampled_from(["&&", "||"]).flatmap(
            lambda op: st.tuples(a, a).map(_binary(op, "logical")))
        ternary = st.tuples(a, a, a).map(
            lambda t: Expr(f"{paren(t[0])} ? {paren(t[1])} : {paren(t[2])}", "ternary"))
        plus = st.tuples(a, a).map(_binary("+", "arithmetic"))
        obj = st.lists(st.tuples(st.sampled_from(OBJECT_KEYS + ("1.5", "2")), a), max_size=3).map(
            lambda kv: Expr("({" + ", ".join(f"{_key(k)}: {v.text}" for k, v in kv) + "})",
                            "arrays-objects", atom=True))
        member = choice(
            st.tuples(choice(_var("o"), a), st.sampled_from(OBJECT_KEYS)).map(
                lambda t: Expr(f"{receiver(t[0])}.{t[1]}" if t[1].isidentifier()
                               else f"{paren(t[0])}[{js_string(t[1])}]", "members", atom=True)),
            st.tuples(choice(self._array(d - 1), lower_s, a), choice(_SMALL, self.num(d - 1))).map(
                lambda t: Expr(f"{paren(t[0])}[{t[1].text}]", "members", atom=True)),
        )
        array_methods = choice(
            st.tuples(self._array(d - 1), st.sampled_from(["slice", "at"]), st.lists(_SMALL, max_size=2)).map(
                lambda t: _call(t[0], t[1], t[2][:1] if t[1] == "at" else t[2], "array-methods")),
            st.tuples(self._array(d - 1), st.lists(a, max_size=2)).map(
                lambda t: _call(t[0], "concat", t[1], "array-methods")),
            st.tuples(lower_s, st.lists(lower_s, max_size=1)).map(
                lambda t: _call(t[0], "split", t[1], "string-methods")),
        )
        functions = choice(
            st.tuples(choice(_var("f"), a), st.sampled_from(_FUNCTION_VALUES),
                      st.sampled_from(_FUNCTION_VALUES), st.lists(a, max_size=3)).map(
                lambda t: Expr(f"({paren(t[0])} ? {t[1]} : {t[2]})({', '.join(x.text for x in t[3])})",
                               "function-values", atom=True)),
            st.tuples(st.sampled_from(_FUNCTION_VALUES), st.lists(a, max_size=2)).map(
                lambda t: Expr(f"[{t[0]}][0]({', '.join(x.text for x in t[1])})", "function-values",
                               atom=True)),
            st.tuples(st.sampled_from(_FUNCTION_VALUES), st.sampled_from(["length", "name"])).map(
                lambda t: Expr(f"{t[0]}.{t[1]}", "function-values", atom=True)),
        )
        json = choice(a.map(lambda e: Expr(f"JSON.parse(JSON.stringify({e.text}))", "json", atom=True)),
                         lower_s.map(lambda e: _fn("JSON.parse", [e], "json")))
        sequence = st.tuples(a, a).map(lambda t: Expr(f"({t[0].text}, {t[1].text})", "unary", atom=True))
        void = a.map(_unary("void"))
        return choice(ANY_LEAF, n, s, b, logical, ternary, plus, self._array(d), obj, member,
                         array_methods, json, sequence, void, functions)


GRAMMAR = Grammar()
MAX_DEPTH = 3


def expressions(depth: int = MAX_DEPTH) -> st.SearchStrategy[Expr]:
    """Random well-formed expressions over the variables, of any type, up to ``depth``."""
    return GRAMMAR.any(depth)


# --- variable values ---------------------------------------------------------------------------

_numbers = st.one_of(st.sampled_from(NUMBERS).map(float), st.floats(),
                     st.integers(-(2**60), 2**60).map(float), st.integers(-1000, 1000).map(lambda i: i / 8))
_strings = st.one_of(st.sampled_from(STRINGS), st.text(max_size=6),
                     st.text(alphabet=" 0123456789.eE+-xXabInfity\t\n\u00a0", max_size=6))
_scalars = st.one_of(_numbers, _strings, st.booleans(), st.just(None), st.just(UNDEFINED))
_keys = st.sampled_from(OBJECT_KEYS)
_arrays = st.one_of(st.sampled_from(ARRAYS), st.lists(_scalars, max_size=4))
_objects = st.one_of(st.sampled_from(OBJECTS), st.dictionaries(_keys, _scalars, max_size=3))
_anything = st.one_of(_scalars, _arrays, _objects,
                      st.lists(st.one_of(_scalars, _arrays), max_size=3),
                      st.dictionaries(_keys, st.one_of(_scalars, _objects), max_size=2))


def environments() -> st.SearchStrategy[dict]:
    """Random values of every variable (each of the kind its name stands for)."""
    return st.fixed_dictionaries({
        "x": _numbers, "y": _numbers, "s": _strings, "t": _strings, "f": st.booleans(),
        "a": _anything, "b": _anything, "arr": _arrays, "o": _objects,
    })


def cases() -> st.SearchStrategy[tuple[Expr, dict]]:
    """(expression, values): the root is as likely a number, string or boolean expression as
    anything else, so that bare leaves are rare at the top."""
    from conformance.statements import cases as statement_cases  # that module builds on this one

    root = choice(GRAMMAR.any(MAX_DEPTH), GRAMMAR.num(MAX_DEPTH), GRAMMAR.string(MAX_DEPTH),
                  GRAMMAR.boolean(MAX_DEPTH), statement_cases())
    return st.tuples(root, environments())
