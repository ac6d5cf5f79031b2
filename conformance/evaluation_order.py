"""A generated family of expressions whose result depends on evaluation order.

ECMAScript fixes the order in which sub-expressions are evaluated and converted, and so which
of several errors is thrown: a call reads its callee (GetValue, a TypeError on a null base)
before its arguments, arguments and operands go left to right, a binary operator evaluates
both operands before either ToPrimitive, a template converts each substitution before the
next, literals evaluate their elements in order, ``?:``/``&&``/``||``/``??`` evaluate only the
branch taken, an optional link that meets null or undefined evaluates nothing after it.
Each expression here puts operands that throw *different* errors (or convert to an error)
into such a position, so an engine that evaluates in another order gives another error name.

Operands with getters or methods (``({get k() { throw ... }})``, ``{valueOf() {...}}``) are
outside the python subset: those expressions run through the QuickJS engine (``engine="auto"``)
and check its bridge against the reference, and against V8 with ``--oracle node``.
"""

from __future__ import annotations

import random

# operands: (source, what it does); every error kind is distinct where it matters
THROWERS = (
    "null.x",                      # TypeError when evaluated (GetValue on null)
    "'x'.repeat(-1)",              # RangeError when evaluated
    "JSON.parse('{')",             # SyntaxError when evaluated
    "a.k.k",                       # TypeError or a value, depending on a
)
CONVERT_THROWERS = (
    "({toString: 1})",             # TypeError on ToPrimitive (own non-callable toString)
    "({toString: 1, valueOf: 2})",
    "o",                           # an object: fine, or a message value {"toString": 1}
)
PLAIN = ("x", "s", "a", "1", "'s'", "null", "undefined", "arr", "[]")
# QuickJS-only operands: a conversion or a read that throws an error of its own kind
QUICKJS_ONLY = (
    "({valueOf() { throw new URIError('valueOf') }})",
    "({toString() { throw new EvalError('toString') }})",
    "({get k() { throw new URIError('getter') }}).k",
    "({get k() { return 's' }, j: 'x'.repeat(-1)}).k",
)

# contexts: A, B, C are holes, filled left to right
CONTEXTS = (
    "A + B", "A - B", "A * B", "A / B", "A % B", "A ** B", "A < B", "A >= B", "A == B",
    "A != B", "A & B", "A << B", "A >>> B", "A + B + C", "A + (B + C)", "A - (B + C)",
    "A.concat(B)", "A.foo(B)", "A.k(B, C)", "A[B](C)", "A.slice(B, C)", "String(A).concat(B)",
    "Math.max(A, B, C)", "Math.min(A, B)", "Math.atan2(A, B)", "parseInt(A, B)",
    "JSON.stringify(A).concat(B)", "JSON.stringify(A).repeat(B)",
    "`${A}${B}`", "`${A}-${B}-${C}`", "[A, B]", "[A, B, C].join()", "({k: A, j: B})",
    "({k: A, j: B}).k", "A ? B : C", "A && B", "A || B", "(A, B)", "A[B]", "A.k", "-A",
    "typeof A", "void A", "!A", "A === B", "[A][B]", "s.at(A).concat(B)", "x.toFixed(A) + B",
    "A.length + B", "A?.concat(B)", "A?.[B](C)", "(A ?? B).concat(C)", "A?.k.concat(B)",
)


def expressions(seed: int, count: int, quickjs_share: float = 0.15) -> list[str]:
    """``count`` expressions (deterministic for a seed), about ``quickjs_share`` of them with
    a QuickJS-only operand."""
    rng = random.Random(seed)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < count:
        expr = _fill(rng, rng.choice(CONTEXTS), depth=0, quickjs_share=quickjs_share)
        if expr not in seen:
            seen.add(expr)
            out.append(expr)
    return out


def _operand(rng: random.Random, depth: int, quickjs_share: float) -> str:
    r = rng.random()
    if r < quickjs_share:
        return rng.choice(QUICKJS_ONLY)
    if r < 0.45:
        return rng.choice(THROWERS)
    if r < 0.65:
        return rng.choice(CONVERT_THROWERS)
    if r < 0.8 and depth < 1:
        return "(" + _fill(rng, rng.choice(CONTEXTS), depth + 1, quickjs_share) + ")"
    return rng.choice(PLAIN)


def _fill(rng: random.Random, context: str, depth: int, quickjs_share: float) -> str:
    out = []
    for ch in context:
        out.append(_operand(rng, depth, quickjs_share) if ch in "ABC" else ch)
    return "".join(out)
