"""JSON.stringify and JSON.parse (ECMA-262 section 25.5) with QuickJS's exact output and errors.

``json_stringify`` accepts strings in UTF-16 form (astral characters as surrogate pairs) or as
ordinary Python ``str`` and returns an ordinary ``str``: valid pairs joined, lone surrogates
escaped as ``\\udXXX`` (well-formed JSON.stringify). ``json_parse`` returns engine values:
numbers as ``float``, strings in UTF-16 form, objects in JavaScript property order.
"""

from __future__ import annotations

import json.encoder
import re
from typing import Any

import orjson

from transpiler.errors import JSError
from transpiler.jslib import limits
from transpiler.jslib.coerce import to_integer_or_infinity
from transpiler.jslib.limits import check_new_length, check_work, heavy_work
from transpiler.jslib.numbers import number_to_string
from transpiler.jslib.strings import Unsupported
from transpiler.jslib.values import UNDEFINED, JSFunction, from_utf16, is_array_index, to_utf16

# CPython's C string encoder escapes exactly like QuoteJSONString for every non-surrogate
# character: `"` and `\` escaped, \b \f \n \r \t short forms, other controls as lowercase
# \u00XX, everything else (U+007F, U+2028, non-ASCII) literal. Verified against QuickJS for
# all of the BMP by tests/test_jsjson.py.
_encode_basestring = json.encoder.c_encode_basestring or json.encoder.py_encode_basestring
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_surrogate(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group()):04x}"


_ESCAPED_2 = '"\\\b\f\n\r\t'  # each becomes two code units
_ESCAPED_6 = [chr(c) for c in range(0x20) if chr(c) not in _ESCAPED_2]  # \u00XX


def _check_quoted_length(s: str) -> None:
    """The cap, checked before quoting: a code unit becomes at most 6 (``\\u001f``)."""
    n = len(s)
    check_new_length(n + 2)
    extra = sum(s.count(c) for c in _ESCAPED_2) + 5 * sum(s.count(c) for c in _ESCAPED_6)
    if _LONE_SURROGATE.search(s) is not None:
        joined = from_utf16(s)  # what is left of the surrogates is lone: each becomes 6 units
        if _LONE_SURROGATE.search(joined) is not None:
            extra += 5 * len(_LONE_SURROGATE.findall(joined))
    check_new_length(n + 2 + extra)


def quote_json_string(s: str) -> str:
    """QuoteJSONString for a string in UTF-16 form or an ordinary ``str``."""
    if len(s) * 6 + 2 > limits.MAX_STRING_LENGTH:
        _check_quoted_length(s)
    if s.isascii():
        return _encode_basestring(s)
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:  # surrogates: join the valid pairs, escape the lone ones
        s = from_utf16(s)
        try:
            s.encode("utf-8")
        except UnicodeEncodeError:
            return _LONE_SURROGATE.sub(_escape_surrogate, _encode_basestring(s))
    return _encode_basestring(s)


def _number(v: float) -> str:
    if v - v == 0.0:  # finite
        return number_to_string(v)
    return "null"


# SerializeJSONProperty (ECMA-262 25.5.2.2) step 11: a BigInt throws. A Python int is a BigInt
# (numbers are floats everywhere; QuickJS returns a BigInt as an int). The message is V8's and
# goja's (the Go stream_processor's engine); QuickJS says "BigInt are forbidden in JSON.stringify".
BIGINT_MESSAGE = "Do not know how to serialize a BigInt"


def _bigint(v: int) -> str:
    raise JSError("TypeError", BIGINT_MESSAGE)


def _is_index(k: Any) -> bool:
    # isascii first: str.isdigit() is also true for digits such as '²' that int() rejects
    return k.__class__ is str and k[:1].isdigit() and k.isascii() and is_array_index(k)


def _ordered(d: dict) -> dict:
    """``d`` in JavaScript property order: array-index keys first, ascending."""
    if not any(_is_index(k) for k in d):
        return d
    ordered = {k: d[k] for k in sorted((k for k in d if _is_index(k)), key=int)}
    for k, v in d.items():
        if k not in ordered:
            ordered[k] = v
    return ordered


# Containers are built as one flat list of pieces joined once (no ``a + b`` copies of a child),
# with their exact running length checked against the cap as each element is added: at most
# the pieces and the result are alive, and nothing is built past the cap.

def _to_json(v: dict, key: Any) -> Any:
    """SerializeJSONProperty step 2: the result of an own callable ``toJSON`` (a plain object
    from an expression can have one: ``{toJSON: String}``), called with the property key."""
    from transpiler.jslib.members import call_with_this  # members imports this module's users

    if key.__class__ is not str:
        key = str(key)  # an array index
    return call_with_this(v["toJSON"], v, (key,))


def _compact(v: Any, key: Any = "", to_json: bool = True) -> str | None:
    """SerializeJSONProperty without replacer or gap (the fast path); None means undefined.
    ``key``: the property name or array index ``v`` is serialised under (for ``toJSON``);
    ``to_json`` False for the value a ``toJSON`` returned (not converted a second time)."""
    cls = v.__class__
    if cls is str:
        return quote_json_string(v)
    if cls is float:
        return _number(v)
    if cls is bool:
        return "true" if v else "false"
    if v is None:
        return "null"
    if cls is dict:
        if to_json and "toJSON" in v and v["toJSON"].__class__ is JSFunction:
            return _compact(_to_json(v, key), key, False)
        out = ["{"]
        append = out.append
        total = 1  # the length so far, with the closing brace in place of the last comma
        cap = limits.MAX_STRING_LENGTH
        for k, x in _ordered(v).items():
            s = _compact(x, k)
            if s is not None:
                q = quote_json_string(k)
                total += len(q) + len(s) + 2
                if total > cap:
                    check_new_length(total)
                append(q)
                append(":")
                append(s)
                append(",")
        if len(out) == 1:
            return "{}"
        out[-1] = "}"
        return "".join(out)
    if cls is list:
        if not v:
            return "[]"
        out = ["["]
        append = out.append
        total = 1
        cap = limits.MAX_STRING_LENGTH
        for i, x in enumerate(v):
            if not i & 4095 and i:
                heavy_work()
            s = quote_json_string(x) if x.__class__ is str else _compact(x, i) or "null"
            total += len(s) + 1
            if total > cap:
                check_new_length(total)
            append(s)
            append(",")
        out[-1] = "]"
        return "".join(out)
    if cls is int:
        return _bigint(v)
    return None  # undefined, functions


def _pretty(v: Any, props: list[str] | None, gap: str, indent: str, key: Any = "",
            to_json: bool = True) -> str | None:
    """SerializeJSONProperty with a property list and/or a gap."""
    cls = v.__class__
    if cls is dict:
        if to_json and "toJSON" in v and v["toJSON"].__class__ is JSFunction:
            return _pretty(_to_json(v, key), props, gap, indent, key, False)
        inner = indent + gap
        items = _ordered(v)
        keys = items if props is None else [k for k in props if k in items]
        colon = ": " if gap else ":"
        opening, sep, closing = ("{\n" + inner, ",\n" + inner, "\n" + indent + "}") if gap \
            else ("{", ",", "}")
        out = [opening]
        total = len(opening) + len(closing) - len(sep)
        cap = limits.MAX_STRING_LENGTH
        for k in keys:
            s = _pretty(items[k], props, gap, inner, k)
            if s is not None:
                q = quote_json_string(k)
                total += len(q) + len(colon) + len(s) + len(sep)
                if total > cap:
                    check_new_length(total)
                out += (q, colon, s, sep)
        if len(out) == 1:
            return "{}"
        out[-1] = closing
        return "".join(out)
    if cls is list:
        if not v:
            return "[]"
        inner = indent + gap
        opening, sep, closing = ("[\n" + inner, ",\n" + inner, "\n" + indent + "]") if gap \
            else ("[", ",", "]")
        out = [opening]
        append = out.append
        total = len(opening) + len(closing) - len(sep)
        cap = limits.MAX_STRING_LENGTH
        for i, x in enumerate(v):
            if not i & 4095 and i:
                heavy_work()
            s = _pretty(x, props, gap, inner, i) or "null"
            total += len(s) + len(sep)
            if total > cap:
                check_new_length(total)
            append(s)
            append(sep)
        out[-1] = closing
        return "".join(out)
    return _compact(v, key, False)


def json_stringify(value: Any, replacer: Any = UNDEFINED, space: Any = UNDEFINED) -> Any:
    """JSON.stringify(value, replacer, space): a ``str``, or UNDEFINED (top-level undefined or
    function). A function replacer raises ``Unsupported``."""
    props: list[str] | None = None
    if replacer.__class__ is JSFunction or callable(replacer):
        raise Unsupported("a JSON.stringify replacer function is evaluated by QuickJS")
    if replacer.__class__ is list:
        props = []
        for item in replacer:
            if item.__class__ is str:
                key = to_utf16(item)
            elif item.__class__ is float:
                key = number_to_string(item)
            else:
                continue
            if key not in props:
                props.append(key)
    gap = ""
    if space.__class__ is float:
        n = min(10.0, to_integer_or_infinity(space))
        gap = " " * int(n) if n >= 1 else ""
    elif space.__class__ is str:
        gap = from_utf16(to_utf16(space)[:10])
    if props is None and not gap:
        return _compact(value) or UNDEFINED
    if props is not None:
        # property names are compared with the object's keys in UTF-16 form
        value = _keys_utf16(value)
    result = _pretty(value, props, gap, "")
    return UNDEFINED if result is None else result


def _keys_utf16(v: Any) -> Any:
    cls = v.__class__
    if cls is dict:
        return {to_utf16(k): _keys_utf16(x) for k, x in v.items()}
    if cls is list:
        return [_keys_utf16(x) for x in v]
    return v


# --- JSON.parse ---------------------------------------------------------------------------------

def _syntax_error(message: str) -> JSError:
    return JSError("SyntaxError", message)


class _Parser:
    """A JSON parser over a string in UTF-16 form that fails exactly like QuickJS."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.i = 0  # position of the current token
        self.tok: Any = None  # kind: one of '{' '[' ... 'str' 'num' 'lit' 'eof', or a char
        self.val: Any = None
        self.tok_pos = 0

    # positions in QuickJS's messages are UTF-8 byte offsets; line and column are counted its
    # way: after a line break (CR, LF or CRLF) the next byte is not examined, and the column is
    # measured from where that scan stopped, which can be one byte past the error position
    def at(self, message: str, pos: int) -> JSError:
        buf = from_utf16(self.text).encode("utf-8", "surrogatepass")
        cur = len(from_utf16(self.text[:pos]).encode("utf-8", "surrogatepass"))
        line, line_start, p = 1, 0, 0
        while p < cur:
            c = buf[p]
            if c == 13 or c == 10:
                p += 2 if (c == 13 and buf[p + 1:p + 2] == b"\n") else 1
                line += 1
                line_start = p
            p += 1
        col = p - line_start + 1
        return _syntax_error(f"{message} in JSON at position {cur} (line {line} column {col})")

    def next(self) -> None:
        text, n = self.text, self.n
        i = self.i
        while i < n and text[i] in " \t\n\r":
            i += 1
        self.tok_pos = i
        if i >= n:
            self.tok = "eof"
            self.i = i
            return
        c = text[i]
        if c == '"':
            self.string(i)
        elif c == "-" or "0" <= c <= "9":
            self.number(i)
        elif c.isascii() and (c.isalpha() or c in "_$"):
            j = i + 1
            while j < n and text[j].isascii() and (text[j].isalnum() or text[j] in "_$"):
                j += 1
            word = text[i:j]
            self.i = j
            if word == "true":
                self.tok, self.val = "lit", True
            elif word == "false":
                self.tok, self.val = "lit", False
            elif word == "null":
                self.tok, self.val = "lit", None
            else:  # an error only where a value is expected: see value()
                self.tok, self.val = "ident", word
        elif c >= "\x80":
            raise _syntax_error(f"Unexpected token '\\u{ord(c):04x}' in JSON")
        else:
            self.tok = c
            self.i = i + 1

    def string(self, i: int) -> None:
        text, n = self.text, self.n
        out = []
        i += 1
        while True:
            j = i
            while j < n and text[j] not in '"\\' and text[j] >= " ":
                j += 1
            out.append(text[i:j])
            if j >= n:
                raise _syntax_error("Unexpected end of JSON input")
            c = text[j]
            if c == '"':
                self.i = j + 1
                self.tok, self.val = "str", "".join(out)
                return
            if c < " ":
                raise self.at("Bad control character in string literal", j)
            # backslash
            if j + 1 >= n:
                raise _syntax_error("Unexpected end of JSON input")
            e = text[j + 1]
            if e == "u":
                k = j + 2
                while k < j + 6 and k < n and text[k] in "0123456789abcdefABCDEF":
                    k += 1
                if k < j + 6:
                    raise self.at("Bad Unicode escape", k)
                out.append(chr(int(text[j + 2:j + 6], 16)))
                i = j + 6
                continue
            r = _ESCAPES.get(e)
            if r is None:
                raise self.at("Bad escaped character", j + 1)
            out.append(r)
            i = j + 2

    def number(self, i: int) -> None:
        text, n = self.text, self.n
        start = i
        if text[i] == "-":
            i += 1
            if i >= n or not "0" <= text[i] <= "9":
                raise self.at("No number after minus sign", start)
        if text[i] == "0":
            if i + 1 < n and "0" <= text[i + 1] <= "9":
                raise self.at("Unexpected number", i)
            i += 1
        else:
            while i < n and "0" <= text[i] <= "9":
                i += 1
        if i < n and text[i] == ".":
            i += 1
            if i >= n or not "0" <= text[i] <= "9":
                raise self.at("Unterminated fractional number", i)
            while i < n and "0" <= text[i] <= "9":
                i += 1
        if i < n and text[i] in "eE":
            i += 1
            if i < n and text[i] in "+-":
                i += 1
            if i >= n or not "0" <= text[i] <= "9":
                raise self.at("Exponent part is missing a number", i)
            while i < n and "0" <= text[i] <= "9":
                i += 1
        self.i = i
        self.tok, self.val = "num", float(text[start:i])

    def value(self) -> Any:
        tok = self.tok
        if tok == "str" or tok == "num" or tok == "lit":
            v = self.val
            self.next()
            return v
        if tok == "{":
            obj: dict[str, Any] = {}
            self.next()
            if self.tok == "}":
                self.next()
                return obj
            while True:
                if self.tok != "str":
                    raise self.at("Expected property name or '}'", self.tok_pos)
                key = self.val
                self.next()
                if self.tok != ":":
                    raise self.at("Expected ':' after property name", self.tok_pos)
                self.next()
                obj[key] = self.value()
                if self.tok == ",":
                    self.next()
                    continue
                if self.tok == "}":
                    self.next()
                    return _ordered(obj)
                raise self.at("Expected ',' or '}' after property value", self.tok_pos)
        if tok == "[":
            arr: list[Any] = []
            self.next()
            if self.tok == "]":
                self.next()
                return arr
            while True:
                arr.append(self.value())
                if self.tok == ",":
                    self.next()
                    continue
                if self.tok == "]":
                    self.next()
                    return arr
                raise self.at("Expected ',' or ']' after array element", self.tok_pos)
        if tok == "eof":
            raise _syntax_error("Unexpected end of JSON input")
        if tok == "ident":
            raise _syntax_error(f"unexpected token: '{self.val}'")
        raise _syntax_error(f"unexpected token: '{tok.rstrip(chr(0))}'")  # QuickJS prints NUL as ''

    def parse(self) -> Any:
        self.next()
        v = self.value()
        if self.tok != "eof":
            raise _syntax_error("unexpected data at the end")
        return v


_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_MINUS_ZERO = re.compile(r"-0(?![0-9.eE])")


def _from_orjson(v: Any) -> Any:
    cls = v.__class__
    if cls is str:
        return v if v.isascii() else to_utf16(v)
    if cls is int:
        return float(v)
    if cls is float or cls is bool or v is None:
        return v
    if cls is list:
        return [_from_orjson(x) for x in v]
    return _ordered({(k if k.isascii() else to_utf16(k)): _from_orjson(x) for k, x in v.items()})


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')


def json_value_bound(text: str) -> int:
    """An upper bound on the number of values ``JSON.parse(text)`` builds, at C speed: every
    value but the first follows a ``[``, ``,`` or ``:`` outside string literals (which are
    blanked out first). Exact for arrays of scalars; an empty array or an object member
    counts one more."""
    bare = _JSON_STRING.sub('""', text) if '"' in text else text
    return 1 + bare.count("[") + bare.count(",") + bare.count(":")


def check_json_values(text: str) -> None:
    """Raise RangeError("JSON.parse: more than N values") when ``JSON.parse(text)`` could build
    more than N = limits.MAX_ARRAY_LENGTH values, before parsing (``json_value_bound``).
    QuickJS runs out of its 64 MiB at a few million values; the python engine's values are
    larger. A text no longer than N cannot hold more values, so short texts cost nothing."""
    most = limits.MAX_ARRAY_LENGTH
    if len(text) <= most:
        return
    if 1 + text.count("[") + text.count(",") + text.count(":") <= most:
        return  # even counting separators inside strings
    heavy_work()
    if json_value_bound(text) > most:
        raise JSError("RangeError", f"JSON.parse: more than {most} values")


def json_parse(text: str) -> Any:
    """JSON.parse(text) without a reviver; ``text`` in UTF-16 form (or an ordinary ``str``).

    Raises RangeError before parsing when the text could hold more than
    ``limits.MAX_ARRAY_LENGTH`` values (``check_json_values``)."""
    if text.__class__ is str:
        check_work(len(text))
        check_json_values(text)
    if "-0" not in text or _MINUS_ZERO.search(text) is None:
        try:
            return _from_orjson(orjson.loads(text))
        except (orjson.JSONDecodeError, UnicodeEncodeError, RecursionError):
            pass
    try:
        return _Parser(to_utf16(text)).parse()
    except RecursionError:
        raise JSError("RangeError", "Maximum call stack size exceeded") from None

