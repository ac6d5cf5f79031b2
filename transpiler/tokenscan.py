"""A token scan for expressions esprima (ES2017) cannot parse: ``??``, ``?.``, object spread,
numeric separators, ``(-a) ** 2``, ...

QuickJS decides whether such an expression is valid; this module finds what the compile-time
checks need without a parser: ``scan_identifiers`` (a conservative dependency scan: every
identifier token not preceded by ``.``) and ``check_tokens`` (blocked names and properties,
statements and assignments at the top level). A small tokenizer, not a parser: the limits are
documented on each function.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from transpiler.errors import ExpressionError
from transpiler.policy import BLOCKED_NAMES, BLOCKED_PROPERTIES

__all__ = ["check_tokens", "scan_identifiers"]


_PUNCTUATOR_TEXT = (
    ">>>= ... === !== **= <<= >>= >>> &&= ||= ??= => == != <= >= && || ?? ?. ++ -- += -= *= "
    "/= %= &= |= ^= ** << >> { } ( ) [ ] ; , < > + - * / % & | ^ ! ~ ? : = . @ #"
)
_PUNCTUATORS = sorted(_PUNCTUATOR_TEXT.split(" "), key=len, reverse=True)
_KEYWORDS = frozenset({
    "break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do",
    "else", "export", "extends", "false", "finally", "for", "function", "if", "import", "in",
    "instanceof", "new", "null", "return", "super", "switch", "this", "throw", "true", "try",
    "typeof", "var", "void", "while", "with", "yield", "let", "static", "enum", "await",
    "implements", "package", "protected", "interface", "private", "public",
})
_REGEX_AFTER_KEYWORDS = frozenset({
    "return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do",
    "else", "yield", "await",
})
_ASSIGNMENT_OPS = frozenset({
    "=", "+=", "-=", "*=", "/=", "%=", "**=", "<<=", ">>=", ">>>=", "&=", "|=", "^=", "&&=", "||=",
    "??=",
})
_STATEMENT_KEYWORDS = frozenset({
    "var", "let", "const", "while", "for", "do", "if", "switch", "try", "return", "throw", "break",
    "continue", "with", "debugger", "class", "import", "export",
})
_EVERYWHERE_KEYWORDS = frozenset({"this", "import", "delete", "with", "debugger", "export"})
_NUMBER = re.compile(
    r"(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)"
    r"(?:[eE][+-]?\d[\d_]*)?)n?"
)
_NAME = re.compile(r"(?:[^\W\d]|[$\\])(?:[\w$\u200c\u200d]|\\u\{?[0-9a-fA-F]+\}?)*")


@dataclass
class _Tok:
    kind: str  # name, num, str, template, regex, punct
    value: str
    pos: int
    match: int = -1  # for brackets: index of the matching bracket
    in_body: bool = False  # inside the braces of a function body
    in_params: bool = False  # inside the parameter list of a function / arrow


def _tokenize(src: str) -> list[_Tok]:
    """A small JavaScript tokenizer: good enough to find names, properties and brackets.

    Regex-vs-division is decided by the previous token (division after a name, number, string,
    ``)``, ``]`` or ``}``), which misreads a few odd constructs such as a regex literal directly
    after a block's ``}``. Unterminated strings/comments raise ExpressionError.
    """
    toks: list[_Tok] = []
    braces: list[str] = []  # "{" or "${" for each open brace
    i, n = 0, len(src)

    def regex_allowed() -> bool:
        if not toks:
            return True
        t = toks[-1]
        if t.kind in ("num", "str", "template", "regex"):
            return t.kind == "template" and t.value.endswith("${")
        if t.kind == "name":
            return t.value in _REGEX_AFTER_KEYWORDS
        return t.value not in (")", "]", "}")

    def read_template(start: int) -> int:
        # start is just after ` or the } closing a substitution; returns index after the chunk
        j = start
        while j < n:
            c = src[j]
            if c == "\\":
                j += 2
                continue
            if c == "`":
                toks.append(_Tok("template", src[start - 1:j + 1], start - 1))
                return j + 1
            if c == "$" and j + 1 < n and src[j + 1] == "{":
                toks.append(_Tok("template", src[start - 1:j + 2], start - 1))
                braces.append("${")
                return j + 2
            j += 1
        raise ExpressionError("SyntaxError: unterminated template literal")

    while i < n:
        c = src[i]
        if c in " \t\r\n\v\f\u00a0\ufeff\u2028\u2029" or c.isspace():
            i += 1
            continue
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            if j < 0:
                raise ExpressionError("SyntaxError: unterminated comment")
            i = j + 2
            continue
        if c in "'\"":
            j = i + 1
            while j < n and src[j] != c:
                if src[j] == "\\":
                    j += 1
                elif src[j] == "\n":
                    break
                j += 1
            if j >= n or src[j] != c:
                raise ExpressionError("SyntaxError: unterminated string literal")
            toks.append(_Tok("str", src[i:j + 1], i))
            i = j + 1
            continue
        if c == "`":
            i = read_template(i + 1)
            continue
        if c == "}" and braces and braces[-1] == "${":
            braces.pop()
            toks.append(_Tok("punct", "}", i))
            i = read_template(i + 1)
            continue
        if c.isdigit() or (c == "." and i + 1 < n and src[i + 1].isdigit()):
            m = _NUMBER.match(src, i)
            assert m is not None
            toks.append(_Tok("num", m.group(), i))
            i = m.end()
            continue
        if c == "/" and regex_allowed():
            j, in_class = i + 1, False
            while j < n:
                d = src[j]
                if d == "\\":
                    j += 2
                    continue
                if d == "\n":
                    break
                if d == "[":
                    in_class = True
                elif d == "]":
                    in_class = False
                elif d == "/" and not in_class:
                    break
                j += 1
            if j >= n or src[j] != "/":
                raise ExpressionError("SyntaxError: unterminated regular expression literal")
            j += 1
            while j < n and (src[j].isalnum() or src[j] in "_$"):
                j += 1
            toks.append(_Tok("regex", src[i:j], i))
            i = j
            continue
        m = _NAME.match(src, i)
        if m is not None and m.end() > i:
            toks.append(_Tok("name", m.group(), i))
            i = m.end()
            continue
        for p in _PUNCTUATORS:
            if src.startswith(p, i):
                if p == "?." and i + 2 < n and src[i + 2].isdigit():
                    continue  # `a?.5:1` is a conditional
                if p == "{":
                    braces.append("{")
                elif p == "}" and braces:
                    braces.pop()
                toks.append(_Tok("punct", p, i))
                i += len(p)
                break
        else:
            raise ExpressionError(f"SyntaxError: unexpected character {c!r} at offset {i}")
    _match_brackets(toks)
    _mark_functions(toks)
    return toks


_OPEN = {"(": ")", "[": "]", "{": "}"}


def _match_brackets(toks: list[_Tok]) -> None:
    stack: list[int] = []
    for k, t in enumerate(toks):
        opener = t.value if t.kind == "punct" else (
            "{" if t.kind == "template" and t.value.endswith("${") else None
        )
        if opener in _OPEN:
            stack.append(k)
        elif t.kind == "punct" and t.value in (")", "]", "}"):
            if not stack:
                raise ExpressionError(f"SyntaxError: unbalanced {t.value!r} at offset {t.pos}")
            k0 = stack.pop()
            o = toks[k0]
            expected = "}" if o.kind == "template" else _OPEN[o.value]
            if t.value != expected:
                raise ExpressionError(f"SyntaxError: unbalanced {t.value!r} at offset {t.pos}")
            o.match, t.match = k, k0
    if stack:
        t = toks[stack[-1]]
        raise ExpressionError(f"SyntaxError: unclosed {t.value!r} at offset {t.pos}")


def _is_punct(t: _Tok | None, *values: str) -> bool:
    return t is not None and t.kind == "punct" and t.value in values


def _function_bodies(toks: list[_Tok]) -> list[tuple[int, int, int, int]]:
    """(params_start, params_end, body_start, body_end) token ranges (inclusive) of every
    arrow function, function expression and object-literal/class method."""
    out: list[tuple[int, int, int, int]] = []
    n = len(toks)
    for k, t in enumerate(toks):
        if _is_punct(t, "=>"):
            prev = toks[k - 1] if k else None
            if prev is None:
                continue
            if _is_punct(prev, ")"):
                ps, pe = prev.match, k - 1
            else:
                ps = pe = k - 1
            if k + 1 < n and _is_punct(toks[k + 1], "{"):
                out.append((ps, pe, k + 1, toks[k + 1].match))
            else:  # expression body: up to the next , ) ] } ; at this depth
                depth_end = k + 1
                j = k + 1
                while j < n:
                    u = toks[j]
                    if u.kind == "punct" and u.value in ("(", "[", "{") or (
                        u.kind == "template" and u.value.endswith("${")
                    ):
                        j = u.match + 1
                        depth_end = j - 1
                        continue
                    if u.kind == "punct" and u.value in (",", ")", "]", "}", ";"):
                        break
                    depth_end = j
                    j += 1
                out.append((ps, pe, k + 1, depth_end))
        elif _is_punct(t, "(") and t.match + 1 < n and _is_punct(toks[t.match + 1], "{"):
            prev = toks[k - 1] if k else None
            prev2 = toks[k - 2] if k >= 2 else None
            is_fn = (
                (prev is not None and prev.kind == "name" and prev.value == "function")
                or (prev2 is not None and prev2.kind == "name" and prev2.value == "function")
                or _is_punct(prev2, "*")
                or (prev is not None and prev.kind in ("name", "str", "num")
                    and not (prev.kind == "name" and prev.value in _KEYWORDS)
                    and (prev2 is None or _is_punct(prev2, "{", ",", "}", ";")
                         or (prev2.kind == "name" and prev2.value in ("get", "set", "async",
                                                                      "static"))))
                or (_is_punct(prev, "]") and prev is not None)
            )
            if is_fn:
                body = toks[t.match + 1]
                out.append((k, t.match, t.match + 1, body.match))
    return out


def _mark_functions(toks: list[_Tok]) -> None:
    for ps, pe, bs, be in _function_bodies(toks):
        for j in range(ps, pe + 1):
            toks[j].in_params = True
        if _is_punct(toks[bs], "{"):
            for j in range(bs + 1, be):
                toks[j].in_body = True


def _preceded_by_dot(toks: list[_Tok], k: int) -> bool:
    return k > 0 and _is_punct(toks[k - 1], ".", "?.")


def _is_object_key(toks: list[_Tok], k: int) -> bool:
    """``name :`` right after ``{`` or ``,`` (an object-literal key, a pattern key or a label)."""
    return (
        k + 1 < len(toks) and _is_punct(toks[k + 1], ":")
        and k > 0 and _is_punct(toks[k - 1], "{", ",")
    )


def _bound_occurrences(toks: list[_Tok]) -> set[int]:
    """Indices of name tokens that are bindings, or references to an enclosing local binding
    (function/arrow parameters, let/const/var/function/class/catch names in a function body)."""
    bound: set[int] = set()
    n = len(toks)

    def names_in(a: int, b: int) -> list[int]:
        # binding names in a parameter list / pattern, skipping default values and keys
        res: list[int] = []
        j = a
        while j <= b:
            u = toks[j]
            if _is_punct(u, "="):  # skip the default value
                j += 1
                while j <= b and not _is_punct(toks[j], ",", ")", "]", "}"):
                    if toks[j].match > j:
                        j = toks[j].match
                    j += 1
                continue
            if u.kind == "name" and u.value not in _KEYWORDS and not _is_object_key(toks, j) \
                    and not _preceded_by_dot(toks, j):
                res.append(j)
            j += 1
        return res

    def bind(name_idx: list[int], start: int, end: int) -> None:
        names = {toks[j].value for j in name_idx}
        bound.update(name_idx)
        for j in range(start, end + 1):
            u = toks[j]
            if u.kind == "name" and u.value in names and not _preceded_by_dot(toks, j) \
                    and not _is_object_key(toks, j):
                bound.add(j)

    for ps, pe, _bs, be in _function_bodies(toks):
        if _is_punct(toks[ps], "("):
            params = names_in(ps + 1, pe - 1)
            if ps > 0 and toks[ps - 1].kind == "name" and ps >= 2 and (
                toks[ps - 2].value in ("function", "*")
            ):
                params.append(ps - 1)  # a named function expression's own name
        else:
            params = [ps] if toks[ps].kind == "name" else []
        bind(params, ps, be)

    def enclosing_block(k: int) -> tuple[int, int]:
        depth = 0
        for j in range(k - 1, -1, -1):
            u = toks[j]
            if u.kind == "punct" and u.value in ("}", ")", "]"):
                depth += 1
            elif u.kind == "punct" and u.value in ("{", "(", "[") or (
                u.kind == "template" and u.value.endswith("${")
            ):
                if depth == 0 and u.value == "{":
                    return j, u.match
                depth = max(0, depth - 1)
        return 0, n - 1

    for k, t in enumerate(toks):
        if t.kind != "name" or _preceded_by_dot(toks, k):
            continue
        if t.value in ("let", "const", "var") and k + 1 < n:
            j = k + 1
            start, end = enclosing_block(k)
            if toks[j].kind == "name":
                bind([j], start, end)
                # further declarators: , name
                d = j + 1
                while d < n and not _is_punct(toks[d], ";", ")") and not (
                    toks[d].kind == "name" and toks[d].value in _STATEMENT_KEYWORDS
                ):
                    if _is_punct(toks[d], ",") and d + 1 < n and toks[d + 1].kind == "name":
                        bind([d + 1], start, end)
                    if toks[d].match > d:
                        d = toks[d].match
                    d += 1
            elif _is_punct(toks[j], "{", "["):
                bind(names_in(j + 1, toks[j].match - 1), start, end)
        elif t.value in ("function", "class") and k + 1 < n and toks[k + 1].kind == "name":
            start, end = enclosing_block(k)
            bind([k + 1], start, end)
        elif t.value == "catch" and k + 1 < n and _is_punct(toks[k + 1], "("):
            close = toks[k + 1].match
            if close + 1 < n and _is_punct(toks[close + 1], "{"):
                bind(names_in(k + 2, close - 1), k + 1, toks[close + 1].match)
    return bound


def _contextual_keyword(toks: list[_Tok], k: int) -> bool:
    """``of``/``get``/``set``/``static``/``async``/``as``/``from`` used as a keyword."""
    t = toks[k]
    prev = toks[k - 1] if k else None
    nxt = toks[k + 1] if k + 1 < len(toks) else None
    if t.value == "of":
        return prev is not None and (prev.kind == "name" or _is_punct(prev, "]", "}"))
    if t.value in ("get", "set", "static"):
        return nxt is not None and (nxt.kind in ("name", "str", "num") or _is_punct(nxt, "#"))
    if t.value == "async":
        if nxt is None:
            return False
        if nxt.kind == "name":
            return True
        if _is_punct(nxt, "("):
            after = toks[nxt.match + 1] if nxt.match + 1 < len(toks) else None
            return _is_punct(after, "=>")
    return False


def scan_identifiers(source: str) -> list[str]:
    """Every identifier token of ``source`` that may reference a variable, unique, in order of
    first appearance: a conservative dependency scan for syntax esprima cannot parse.

    Skipped: keywords and ``true``/``false``/``null``; names after ``.`` or ``?.`` (properties);
    object-literal keys written ``{key: ...}`` / ``, key: ...``; names bound by an enclosing
    arrow function or function (its parameters) or by ``let``/``const``/``var``/``function``/
    ``class``/``catch`` in an enclosing block; text of strings, template literals (names inside
    ``${...}`` are scanned), comments and regex literals.
    Limits: it is a tokenizer, not a parser. Shorthand keys (``{press}``) and method names
    (``{f() {}}``) are reported; scoping is by bracket structure (``var`` is treated as
    block-scoped); a regex literal directly after a statement's ``}`` is read as division.
    """
    toks = _tokenize(source)
    bound = _bound_occurrences(toks)
    seen: dict[str, None] = {}
    for k, t in enumerate(toks):
        if t.kind != "name" or t.value in _KEYWORDS or k in bound:
            continue
        if _preceded_by_dot(toks, k) or _is_object_key(toks, k) or _contextual_keyword(toks, k):
            continue
        if _is_punct(toks[k - 1] if k else None, "#"):
            continue  # private name
        seen.setdefault(t.value, None)
    return list(seen)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|[\s\S])")


def _unescape(m: re.Match[str]) -> str:
    e = m.group(1)
    if e[0] in "ux" and len(e) > 1:
        try:
            return chr(int(e[1:].strip("{}"), 16))
        except (ValueError, OverflowError):
            return e
    if e in ("\n", "\r", "\r\n", "\u2028", "\u2029"):
        return ""  # line continuation
    return _ESCAPES.get(e, e)


def _string_value(tok: _Tok) -> str | None:
    """The value of a string literal or of a template literal without substitutions."""
    if tok.kind == "str" or (tok.kind == "template" and tok.value.startswith("`")
                             and tok.value.endswith("`") and len(tok.value) >= 2):
        return _ESCAPE.sub(_unescape, tok.value[1:-1])
    return None


def check_tokens(source: str) -> None:
    """Raise ExpressionError naming the construct if ``source`` uses something blocked.

    Refused anywhere: a name in BLOCKED_NAMES (not as a property or object key); a property in
    BLOCKED_PROPERTIES after ``.``/``?.``, or as a string literal alone in ``[...]``, or
    ``__proto__`` as an object-literal key; ``this``, ``import``, ``delete``, ``with``,
    ``debugger``. Refused at the top level, i.e. outside the braces of a function body (an
    IIFE's arrow body ``x => { let s = 0; for (...) ...; return s }`` may hold statements):
    statement keywords (``var``, ``let``, ``const``, ``while``, ``for``, ``if``, ``return``, ...),
    a function or class *declaration* (the source starting with ``function``/``class``), ``;``,
    assignment operators (except parameter defaults) and ``++``/``--``.
    Limits: a token-level check. It is deliberately conservative (``this`` or ``delete`` inside
    a function body is refused too) and does not see through computed property names built at
    run time (``o['constr' + 'uctor']``): the QuickJS sandbox is the second line of defence.
    """
    toks = _tokenize(source)
    first = toks[0].value if toks and toks[0].kind == "name" else None
    if first in ("function", "class") or (
        first == "async" and len(toks) > 1 and toks[1].value == "function"
    ):
        raise ExpressionError(f"'{toks[0].value}' declaration is not an expression")
    for k, t in enumerate(toks):
        prev = toks[k - 1] if k else None
        nxt = toks[k + 1] if k + 1 < len(toks) else None
        if t.kind == "name":
            if _preceded_by_dot(toks, k):
                if t.value in BLOCKED_PROPERTIES:
                    raise ExpressionError(f"property '{t.value}' is blocked in mapping expressions")
                continue
            if _is_object_key(toks, k):
                if t.value == "__proto__":
                    raise ExpressionError("property '__proto__' is blocked in mapping expressions")
                continue
            if t.value in BLOCKED_NAMES:
                raise ExpressionError(f"'{t.value}' is blocked in mapping expressions")
            if t.value in _EVERYWHERE_KEYWORDS:
                raise ExpressionError(f"'{t.value}' is not allowed in mapping expressions")
            if not t.in_body and t.value in _STATEMENT_KEYWORDS:
                raise ExpressionError(
                    f"'{t.value}' makes a statement: a mapping must be a single expression"
                )
        elif t.kind in ("str", "template"):
            value = _string_value(t)
            if value is None:
                continue
            if _is_punct(prev, "[") and _is_punct(nxt, "]") and value in BLOCKED_PROPERTIES:
                raise ExpressionError(f"property '{value}' is blocked in mapping expressions")
            if value == "__proto__" and _is_punct(nxt, ":") and _is_punct(prev, "{", ","):
                raise ExpressionError("property '__proto__' is blocked in mapping expressions")
        elif t.kind == "punct" and not t.in_body:
            if t.value in _ASSIGNMENT_OPS and not (t.value == "=" and t.in_params):
                raise ExpressionError(
                    f"assignment '{t.value}' is not allowed: a mapping must be an expression"
                )
            if t.value in ("++", "--"):
                raise ExpressionError(f"'{t.value}' is not allowed: a mapping must be an expression")
            if t.value == ";":
                raise ExpressionError("';' makes a statement: a mapping must be a single expression")
