"""Generated expressions with function bodies, statements, blocks, loops and destructuring, and
the ES2020 operators ``??`` and ``?.``: the families ``functions`` and ``nullish``.

A function-body expression is an immediately called function whose statements declare locals
that often *shadow* the variables (``x``, ``s``, ``a`` are also local names), in blocks,
``for`` heads, ``catch`` parameters and nested functions, with ``var`` hoisting. The python
engine hands such expressions to QuickJS; what the suite checks there is the static analysis:
a variable missed from the dependencies makes our evaluation throw a ReferenceError where the
reference, which is given every variable, returns a value.

Loops run a constant, small number of times; every generated program terminates. Each name is
declared at most once per function (no redeclaration early errors), and an assignment only
targets a ``let``/``var`` local declared before it in an enclosing scope of the same function.
"""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.strategies import GRAMMAR, Expr, choice, paren, receiver

LOCALS = ("x", "s", "a", "v", "w", "k", "n")  # x, s, a shadow variables of the environments
OUTER = ("x", "y", "s", "t", "f", "a", "b", "arr", "o")
_KEYS = ("k", "v", "x", "length", "0")


class _Function:
    """What the generator knows inside one function: the names declared in it (each once), the
    locals visible at the current point and those of them that may be assigned."""

    def __init__(self, parent: _Function | None, depth: int) -> None:
        self.parent = parent
        self.depth = depth
        self.declared: set[str] = set()
        self.visible: list[str] = []
        self.assignable: list[str] = []

    def chain(self, attribute: str) -> list[str]:
        out: list[str] = []
        fn: _Function | None = self
        while fn is not None:
            out += getattr(fn, attribute)
            fn = fn.parent
        return out

    def fresh(self, draw) -> str | None:
        free = [n for n in LOCALS if n not in self.declared]
        if not free:
            return None
        name = draw(st.sampled_from(free))
        self.declared.add(name)
        return name

    def declare(self, *names: str, assignable: bool = True) -> None:
        self.visible += names
        if assignable:
            self.assignable += names


@st.composite
def _expr(draw, fn: _Function, depth: int = 1) -> str:
    """An expression reading variables and locals (any name of OUTER or LOCALS may be either)."""
    if depth <= 0:
        return draw(choice(
            st.sampled_from(LOCALS[:3]),  # the names both variables and locals: shadowing decides
            st.sampled_from(OUTER + LOCALS[3:]).filter(lambda n: n in OUTER or n in fn.chain("visible")),
            st.sampled_from(["0", "1", "2.5", "-1", "'z'", "null", "undefined", "true"]),
        ))
    sub = _expr(fn, depth - 1)
    return draw(choice(
        sub,
        GRAMMAR.any(1).map(lambda e: e.text),
        st.tuples(sub, st.sampled_from(["+", "-", "*", "??", "&&", "||", "<", "==="]), sub).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(sub, st.sampled_from(_KEYS), st.booleans()).map(
            lambda t: f"({t[0]})?.{t[1]}" if t[1].isidentifier() and t[2] else f"({t[0]})?.[{t[1]!r}]"),
        st.tuples(sub, sub, sub).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        sub.map(lambda e: f"`<${{{e}}}>`"),
        sub.map(lambda e: f"String({e}).length"),
    ))


@st.composite
def _statements(draw, fn: _Function, depth: int, count: int) -> list[str]:
    return [draw(_statement(fn, depth)) for _ in range(count)]


@st.composite
def _block(draw, fn: _Function, depth: int, names: tuple[str, ...] = (), count: int | None = None) -> str:
    """A block; ``names`` (a loop variable, a catch parameter) are visible inside only."""
    saved = list(fn.visible), list(fn.assignable)
    fn.declare(*names, assignable=False)  # loop variables and catch parameters stay as they are
    n = draw(st.integers(0, 2)) if count is None else count
    body = draw(_statements(fn, depth - 1, n))
    fn.visible, fn.assignable = saved  # what the block declared ends with it (a var: a subset)
    return "{ " + " ".join(body) + " }"


@st.composite
def _statement(draw, fn: _Function, depth: int) -> str:
    kinds = ["decl", "destructure", "assign", "expr"]
    if depth > 0:
        kinds += ["if", "block", "for", "for-of", "for-in", "while", "try", "switch", "function", "label"]
    kind = draw(st.sampled_from(kinds))
    if kind == "decl":
        name = fn.fresh(draw)
        if name is None:
            return ";"
        keyword = draw(st.sampled_from(["let", "const", "var"]))
        init = draw(_expr(fn))
        fn.declare(name, assignable=keyword != "const")
        return f"{keyword} {name} = {init};"
    if kind == "destructure":
        first, second = fn.fresh(draw), fn.fresh(draw)
        if first is None or second is None:
            return ";"
        keyword = draw(st.sampled_from(["let", "const", "var"]))
        if draw(st.booleans()):
            default = draw(_expr(fn, 0))
            text = f"{keyword} {{k: {first}, v: {second} = {default}}} = {draw(_expr(fn, 0))} ?? {{}};"
        else:
            text = f"{keyword} [{first}, , ...{second}] = [{draw(_expr(fn, 0))}, 1, 2, 3];"
        fn.declare(first, second, assignable=keyword != "const")
        return text
    if kind == "assign":
        targets = fn.chain("assignable")
        if not targets:
            return f"void ({draw(_expr(fn))});"
        op = draw(st.sampled_from(["=", "+=", "??=", "||="]))
        return f"{draw(st.sampled_from(targets))} {op} {draw(_expr(fn))};"
    if kind == "expr":
        return f"({draw(_expr(fn))});"
    if kind == "if":
        return f"if ({draw(_expr(fn))}) {draw(_block(fn, depth))} else {draw(_block(fn, depth))}"
    if kind == "block":
        return draw(_block(fn, depth))
    if kind == "for":
        name = fn.fresh(draw)
        if name is None:
            return ";"
        limit = draw(st.integers(0, 3))
        return f"for (let {name} = 0; {name} < {limit}; {name}++) {draw(_block(fn, depth, (name,)))}"
    if kind in ("for-of", "for-in"):
        name = fn.fresh(draw)
        if name is None:
            return ";"
        source = draw(choice(
            st.sampled_from(["arr", "[1, 'q', null]", "Object.keys(o)"]),
            _expr(fn, 0).map(lambda e: f"[{e}]" if kind == "for-of" else f"({e}) ?? {{}}")))
        word = "in" if kind == "for-in" else "of"
        return f"for (const {name} {word} {source}) {draw(_block(fn, depth, (name,)))}"
    if kind == "while":
        name = fn.fresh(draw)
        if name is None:
            return ";"
        limit = draw(st.integers(0, 3))
        fn.declare(name, assignable=False)  # only the loop itself counts it up
        return f"let {name} = 0; while ({name} < {limit}) {{ {name}++; {draw(_block(fn, depth, (), 1))} }}"
    if kind == "try":
        name = fn.fresh(draw)
        if name is None:
            return ";"
        thrown = draw(_expr(fn, 0))
        param = f"{{message: {name}}}" if draw(st.booleans()) else name
        test = draw(_expr(fn, 0))
        handler = draw(_block(fn, depth, (name,)))
        return f"try {{ if ({test}) throw {thrown}; }} catch ({param}) {handler} finally {{ }}"
    if kind == "switch":
        return (f"switch ({draw(_expr(fn, 0))}) {{ case 1: {draw(_block(fn, depth))} break; "
                f"default: {draw(_block(fn, depth))} }}")
    if kind == "function":
        name = fn.fresh(draw)
        if name is None or fn.depth >= 2:
            return ";"
        inner = _Function(fn, fn.depth + 1)
        param = inner.fresh(draw)
        default = draw(_expr(fn, 0))  # evaluated in the parameter scope: sees the outer names
        inner.declare(param)
        body = " ".join(draw(_statements(inner, depth - 1, draw(st.integers(0, 2)))))
        result = draw(_expr(inner))
        fn.declare(name, assignable=False)
        call = f"{name}({draw(_expr(fn, 0))})"
        if draw(st.booleans()):
            return f"function {name}({param} = {default}) {{ {body} return {result}; }} void {call};"
        return f"const {name} = ({param} = {default}) => {{ {body} return {result}; }}; void {call};"
    # label
    name = fn.fresh(draw)
    if name is None:
        return ";"
    test = draw(_expr(fn, 0))
    body = draw(_block(fn, depth, (name,), 1))
    label = f"outer{depth}"  # depth falls strictly inside: labels never nest with one name
    return f"{label}: for (let {name} = 0; {name} < 2; {name}++) {{ if ({test}) break {label}; {body} }}"


@st.composite
def function_bodies(draw, depth: int = 2) -> Expr:
    """``(() => { <statements> return <expr>; })()`` and variants (family ``functions``)."""
    fn = _Function(None, 0)
    body = " ".join(draw(_statements(fn, depth, draw(st.integers(1, 4)))))
    result = draw(_expr(fn))
    wrapper = draw(st.sampled_from(["(() => {{ {} }})()", "(function () {{ {} }})()"]))
    return Expr(wrapper.format(f"{body} return {result};"), "functions", atom=True)


def nullish(depth: int = 2) -> st.SearchStrategy[Expr]:
    """``??`` and ``?.`` (member, computed member, call) over any sub-expression (family
    ``nullish``): the forms the python engine lowers."""
    a = GRAMMAR.any(depth - 1)
    key = st.sampled_from(("k", "v", "x", "length", "missing"))
    return choice(
        st.tuples(a, a).map(lambda t: Expr(f"{paren(t[0])} ?? {paren(t[1])}", "nullish")),
        st.tuples(a, key).map(lambda t: Expr(f"{receiver(t[0])}?.{t[1]}", "nullish", atom=True)),
        st.tuples(a, a).map(lambda t: Expr(f"{receiver(t[0])}?.[{t[1].text}]", "nullish", atom=True)),
        st.tuples(a, key, key).map(lambda t: Expr(f"{receiver(t[0])}?.{t[1]}?.{t[2]}", "nullish",
                                                  atom=True)),
        st.tuples(a, st.sampled_from(["toString", "at", "slice", "missing"]), a).map(
            lambda t: Expr(f"{receiver(t[0])}?.{t[1]}?.({t[2].text})", "nullish", atom=True)),
        st.tuples(a, a).map(lambda t: Expr(f"({t[0].text})?.length ?? {paren(t[1])}", "nullish")),
        st.tuples(GRAMMAR.num(depth - 1), st.sampled_from(["1_000", "0xf_f", "1_0.5"])).map(
            lambda t: Expr(f"(-{paren(t[0])}) ** 2 + {t[1]}", "nullish")),
    )


def cases() -> st.SearchStrategy[Expr]:
    """This module's families, one of them each time."""
    return choice(function_bodies(), nullish())
