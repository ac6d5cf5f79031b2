"""String.prototype methods (ECMA-262 section 22.1.3) on strings in UTF-16 form.

Every implementation is ``f(this, *args)``: ``this`` is the receiver (a ``str`` in UTF-16 form,
see ``values``) and ``args`` are the JavaScript argument values exactly as given (a missing
argument behaves as ``undefined``). Indices and lengths are UTF-16 code units, as in
JavaScript; case mapping and normalization work on real code points.

The case-mapping and normalization tables of Python 3.11 are Unicode 14; QuickJS (the reference
engine) uses Unicode 16. The ``_*_FIX`` tables below hold every difference, extracted by
comparing all code points against QuickJS, so the results match it exactly.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from transpiler.errors import range_error
from transpiler.jslib import limits
from transpiler.jslib.coerce import relative_index, to_integer_or_infinity, to_number, to_string, to_uint32
from transpiler.jslib.limits import check_new_array_length, check_new_length, check_work, heavy_work
from transpiler.jslib.values import UNDEFINED, JSFunction, from_utf16, to_utf16

# Most UTF-16 code units one code unit can become (checked over every code point by
# tests/test_limits.py): case mapping ('\u0390' -> 3), NFC/NFD (U+1F82 -> 4), NFKC/NFKD
# (U+FDFA -> 18). A string short enough that even this expansion fits is mapped in one go;
# a longer one in chunks, so that the cap is checked before more than a chunk is built.
CASE_EXPANSION = 3
NORMALIZE_EXPANSION = {"NFC": 4, "NFD": 4, "NFKC": 18, "NFKD": 18}

_INF = float("inf")


class Unsupported(Exception):
    """An argument this Python implementation does not handle (a function replacer or
    replacement); the transpiler routes such calls to QuickJS instead."""


def check_length(s: str) -> str:
    """Return ``s``, or raise QuickJS's RangeError when it is longer than MAX_STRING_LENGTH.
    (Only for strings whose length cannot be known first; builders call ``check_new_length``.)"""
    check_new_length(len(s))
    return s


def map_in_chunks(s: str, fn: Callable[[str], str], expansion: int,
                  next_cut: Callable[[str, int], int], chunk: int = 1 << 16) -> str:
    """``fn(s)`` for a code-point-wise mapping (case, normalization) that makes a code unit at
    most ``expansion`` code units, without building more than a chunk past the cap.

    ``s`` is an ordinary ``str`` (code points), ``fn`` returns one; the result is in UTF-16
    form. ``next_cut(s, i)`` is the first index ``j >= i`` where ``fn`` may be applied
    separately to ``s[:j]`` and ``s[j:]`` (no context crosses ``j``), or ``len(s)``.
    """
    if len(s) <= chunk and len(s) * expansion <= limits.MAX_STRING_LENGTH:
        return to_utf16(fn(s))
    out: list[str] = []
    total = 0
    start, n = 0, len(s)
    while start < n:
        heavy_work()  # once a chunk: a long mapping cannot outlast the time limit
        end = next_cut(s, min(start + chunk, n)) if start + chunk < n else n
        piece = to_utf16(fn(s[start:end]))
        total += len(piece)
        check_new_length(total)
        out.append(piece)
        start = end
    return "".join(out)


def _clamp(v: Any, length: int) -> int:
    """ToIntegerOrInfinity(v) clamped to [0, length]."""
    x = to_integer_or_infinity(v)
    if x <= 0:
        return 0
    return length if x >= length else int(x)


# --- character access ---------------------------------------------------------------------------

def char_at(this: str, pos: Any = UNDEFINED, *_: Any) -> str:
    p = to_integer_or_infinity(pos)
    if 0 <= p < len(this):
        return this[int(p)]
    return ""


def char_code_at(this: str, pos: Any = UNDEFINED, *_: Any) -> float:
    p = to_integer_or_infinity(pos)
    if 0 <= p < len(this):
        return float(ord(this[int(p)]))
    return float("nan")


def code_point_at(this: str, pos: Any = UNDEFINED, *_: Any) -> Any:
    p = to_integer_or_infinity(pos)
    n = len(this)
    if not 0 <= p < n:
        return UNDEFINED
    i = int(p)
    c = ord(this[i])
    if 0xD800 <= c <= 0xDBFF and i + 1 < n:
        d = ord(this[i + 1])
        if 0xDC00 <= d <= 0xDFFF:
            return float(0x10000 + ((c - 0xD800) << 10) + (d - 0xDC00))
    return float(c)


def at(this: str | list, index: Any = UNDEFINED, *_: Any) -> Any:
    """String.prototype.at, and Array.prototype.at (the same steps on elements)."""
    k = to_integer_or_infinity(index)
    n = len(this)
    if k < 0:
        k += n
    if 0 <= k < n:
        return this[int(k)]
    return UNDEFINED


# --- searching ----------------------------------------------------------------------------------

def index_of(this: str, search: Any = UNDEFINED, position: Any = UNDEFINED, *_: Any) -> float:
    check_work(len(this))
    s = to_string(search)
    return float(this.find(s, _clamp(position, len(this))))


def last_index_of(this: str, search: Any = UNDEFINED, position: Any = UNDEFINED, *_: Any) -> float:
    check_work(len(this))
    s = to_string(search)
    n = to_number(position)
    start = len(this) if n != n else _clamp(n, len(this))
    return float(this.rfind(s, 0, start + len(s)))


def includes(this: str, search: Any = UNDEFINED, position: Any = UNDEFINED, *_: Any) -> bool:
    check_work(len(this))
    s = to_string(search)
    return this.find(s, _clamp(position, len(this))) >= 0


def starts_with(this: str, search: Any = UNDEFINED, position: Any = UNDEFINED, *_: Any) -> bool:
    s = to_string(search)
    return this.startswith(s, _clamp(position, len(this)))


def ends_with(this: str, search: Any = UNDEFINED, end_position: Any = UNDEFINED, *_: Any) -> bool:
    s = to_string(search)
    end = len(this) if end_position is UNDEFINED else _clamp(end_position, len(this))
    return this.endswith(s, 0, end)


# --- substrings ---------------------------------------------------------------------------------

def slice_(this: str, start: Any = UNDEFINED, end: Any = UNDEFINED, *_: Any) -> str:
    check_work(len(this))
    n = len(this)
    a = relative_index(start, n)
    b = n if end is UNDEFINED else relative_index(end, n)
    return this[a:b] if a < b else ""


def substring(this: str, start: Any = UNDEFINED, end: Any = UNDEFINED, *_: Any) -> str:
    check_work(len(this))
    n = len(this)
    a = _clamp(start, n)
    b = n if end is UNDEFINED else _clamp(end, n)
    if a > b:
        a, b = b, a
    return this[a:b]


def substr(this: str, start: Any = UNDEFINED, length: Any = UNDEFINED, *_: Any) -> str:
    check_work(len(this))
    n = len(this)
    a = relative_index(start, n)
    if length is UNDEFINED:
        return this[a:]
    k = _clamp(length, n - a)
    return this[a:a + k]


# --- case mapping -------------------------------------------------------------------------------

_UPPER_FIX = {
    0x19B: 0xA7DC, 0x264: 0xA7CB, 0x1C8A: 0x1C89, 0xA7CD: 0xA7CC, 0xA7CF: 0xA7CE, 0xA7D3: 0xA7D2,
    0xA7D5: 0xA7D4, 0xA7DB: 0xA7DA, 0x10D70: 0x10D50, 0x10D71: 0x10D51, 0x10D72: 0x10D52,
    0x10D73: 0x10D53, 0x10D74: 0x10D54, 0x10D75: 0x10D55, 0x10D76: 0x10D56, 0x10D77: 0x10D57,
    0x10D78: 0x10D58, 0x10D79: 0x10D59, 0x10D7A: 0x10D5A, 0x10D7B: 0x10D5B, 0x10D7C: 0x10D5C,
    0x10D7D: 0x10D5D, 0x10D7E: 0x10D5E, 0x10D7F: 0x10D5F, 0x10D80: 0x10D60, 0x10D81: 0x10D61,
    0x10D82: 0x10D62, 0x10D83: 0x10D63, 0x10D84: 0x10D64, 0x10D85: 0x10D65, 0x16EBB: 0x16EA0,
    0x16EBC: 0x16EA1, 0x16EBD: 0x16EA2, 0x16EBE: 0x16EA3, 0x16EBF: 0x16EA4, 0x16EC0: 0x16EA5,
    0x16EC1: 0x16EA6, 0x16EC2: 0x16EA7, 0x16EC3: 0x16EA8, 0x16EC4: 0x16EA9, 0x16EC5: 0x16EAA,
    0x16EC6: 0x16EAB, 0x16EC7: 0x16EAC, 0x16EC8: 0x16EAD, 0x16EC9: 0x16EAE, 0x16ECA: 0x16EAF,
    0x16ECB: 0x16EB0, 0x16ECC: 0x16EB1, 0x16ECD: 0x16EB2, 0x16ECE: 0x16EB3, 0x16ECF: 0x16EB4,
    0x16ED0: 0x16EB5, 0x16ED1: 0x16EB6, 0x16ED2: 0x16EB7, 0x16ED3: 0x16EB8,
}
_LOWER_FIX = {
    0x1C89: 0x1C8A, 0xA7CB: 0x264, 0xA7CC: 0xA7CD, 0xA7CE: 0xA7CF, 0xA7D2: 0xA7D3, 0xA7D4: 0xA7D5,
    0xA7DA: 0xA7DB, 0xA7DC: 0x19B, 0x10D50: 0x10D70, 0x10D51: 0x10D71, 0x10D52: 0x10D72,
    0x10D53: 0x10D73, 0x10D54: 0x10D74, 0x10D55: 0x10D75, 0x10D56: 0x10D76, 0x10D57: 0x10D77,
    0x10D58: 0x10D78, 0x10D59: 0x10D79, 0x10D5A: 0x10D7A, 0x10D5B: 0x10D7B, 0x10D5C: 0x10D7C,
    0x10D5D: 0x10D7D, 0x10D5E: 0x10D7E, 0x10D5F: 0x10D7F, 0x10D60: 0x10D80, 0x10D61: 0x10D81,
    0x10D62: 0x10D82, 0x10D63: 0x10D83, 0x10D64: 0x10D84, 0x10D65: 0x10D85, 0x16EA0: 0x16EBB,
    0x16EA1: 0x16EBC, 0x16EA2: 0x16EBD, 0x16EA3: 0x16EBE, 0x16EA4: 0x16EBF, 0x16EA5: 0x16EC0,
    0x16EA6: 0x16EC1, 0x16EA7: 0x16EC2, 0x16EA8: 0x16EC3, 0x16EA9: 0x16EC4, 0x16EAA: 0x16EC5,
    0x16EAB: 0x16EC6, 0x16EAC: 0x16EC7, 0x16EAD: 0x16EC8, 0x16EAE: 0x16EC9, 0x16EAF: 0x16ECA,
    0x16EB0: 0x16ECB, 0x16EB1: 0x16ECC, 0x16EB2: 0x16ECD, 0x16EB3: 0x16ECE, 0x16EB4: 0x16ECF,
    0x16EB5: 0x16ED0, 0x16EB6: 0x16ED1, 0x16EB7: 0x16ED2, 0x16EB8: 0x16ED3,
}
_NFD_FIX = {
    0x105C9: '\U000105d2\u0307', 0x105E4: '\U000105da\u0307', 0x11383: '\U00011382\U000113c9',
    0x11385: '\U00011384\U000113bb', 0x1138E: '\U0001138b\U000113c2', 0x11391: '\U00011390\U000113c9',
    0x113C5: '\U000113c2\U000113c2', 0x113C7: '\U000113c2\U000113b8', 0x113C8: '\U000113c2\U000113c9',
    0x16121: '\U0001611e\U0001611e', 0x16122: '\U0001611e\U00016129', 0x16123: '\U0001611e\U0001611f',
    0x16124: '\U00016129\U0001611f', 0x16125: '\U0001611e\U00016120',
    0x16126: '\U0001611e\U0001611e\U0001611f', 0x16127: '\U0001611e\U00016129\U0001611f',
    0x16128: '\U0001611e\U0001611e\U00016120', 0x16D68: '\U00016d67\U00016d67',
    0x16D69: '\U00016d63\U00016d67', 0x16D6A: '\U00016d63\U00016d67\U00016d67',
}
_NFKD_EXTRA = {
    0xA7F1: 'S', 0x1CCD6: 'A', 0x1CCD7: 'B', 0x1CCD8: 'C', 0x1CCD9: 'D', 0x1CCDA: 'E', 0x1CCDB: 'F',
    0x1CCDC: 'G', 0x1CCDD: 'H', 0x1CCDE: 'I', 0x1CCDF: 'J', 0x1CCE0: 'K', 0x1CCE1: 'L', 0x1CCE2: 'M',
    0x1CCE3: 'N', 0x1CCE4: 'O', 0x1CCE5: 'P', 0x1CCE6: 'Q', 0x1CCE7: 'R', 0x1CCE8: 'S', 0x1CCE9: 'T',
    0x1CCEA: 'U', 0x1CCEB: 'V', 0x1CCEC: 'W', 0x1CCED: 'X', 0x1CCEE: 'Y', 0x1CCEF: 'Z', 0x1CCF0: '0',
    0x1CCF1: '1', 0x1CCF2: '2', 0x1CCF3: '3', 0x1CCF4: '4', 0x1CCF5: '5', 0x1CCF6: '6', 0x1CCF7: '7',
    0x1CCF8: '8', 0x1CCF9: '9', 0x1E030: '\u0430', 0x1E031: '\u0431', 0x1E032: '\u0432',
    0x1E033: '\u0433', 0x1E034: '\u0434', 0x1E035: '\u0435', 0x1E036: '\u0436', 0x1E037: '\u0437',
    0x1E038: '\u0438', 0x1E039: '\u043a', 0x1E03A: '\u043b', 0x1E03B: '\u043c', 0x1E03C: '\u043e',
    0x1E03D: '\u043f', 0x1E03E: '\u0440', 0x1E03F: '\u0441', 0x1E040: '\u0442', 0x1E041: '\u0443',
    0x1E042: '\u0444', 0x1E043: '\u0445', 0x1E044: '\u0446', 0x1E045: '\u0447', 0x1E046: '\u0448',
    0x1E047: '\u044b', 0x1E048: '\u044d', 0x1E049: '\u044e', 0x1E04A: '\ua689', 0x1E04B: '\u04d9',
    0x1E04C: '\u0456', 0x1E04D: '\u0458', 0x1E04E: '\u04e9', 0x1E04F: '\u04af', 0x1E050: '\u04cf',
    0x1E051: '\u0430', 0x1E052: '\u0431', 0x1E053: '\u0432', 0x1E054: '\u0433', 0x1E055: '\u0434',
    0x1E056: '\u0435', 0x1E057: '\u0436', 0x1E058: '\u0437', 0x1E059: '\u0438', 0x1E05A: '\u043a',
    0x1E05B: '\u043b', 0x1E05C: '\u043e', 0x1E05D: '\u043f', 0x1E05E: '\u0441', 0x1E05F: '\u0443',
    0x1E060: '\u0444', 0x1E061: '\u0445', 0x1E062: '\u0446', 0x1E063: '\u0447', 0x1E064: '\u0448',
    0x1E065: '\u044a', 0x1E066: '\u044b', 0x1E067: '\u0491', 0x1E068: '\u0456', 0x1E069: '\u0455',
    0x1E06A: '\u045f', 0x1E06B: '\u04ab', 0x1E06C: '\ua651', 0x1E06D: '\u04b1',
}

_COMPOSE: dict[tuple[str, str], str] = {}


def _build_compose() -> None:
    by_decomposition = {v: chr(k) for k, v in _NFD_FIX.items()}
    for k, v in _NFD_FIX.items():
        head = v[0] if len(v) == 2 else by_decomposition[v[:-1]]
        _COMPOSE[(head, v[-1])] = chr(k)


_build_compose()
_NFKD_FIX = {**_NFD_FIX, **_NFKD_EXTRA}
_NFD_FIXED = tuple(map(chr, _NFD_FIX))
_NFKD_FIXED = tuple(map(chr, _NFKD_FIX))
_NEW_COMPOSABLE = re.compile("[" + "".join(sorted({a + b for a, b in _COMPOSE})) + "]")


# str.translate with a dict (and a regex character class) costs ~100 ns a character on
# non-ASCII text: only strings holding a character of the table pay for it (find() runs at
# memory speed).
_UPPER_FIXED = tuple(sorted(map(chr, _UPPER_FIX)))
_LOWER_FIXED = tuple(sorted(map(chr, _LOWER_FIX)))


def _holds_any(s: str, chars: tuple[str, ...]) -> bool:
    # `in` with a character wider than any in s returns at once (CPython compares the kinds)
    return any(c in s for c in chars)


def _upper(s: str) -> str:
    return (s.translate(_UPPER_FIX) if _holds_any(s, _UPPER_FIXED) else s).upper()


def _lower(s: str) -> str:
    return (s.translate(_LOWER_FIX) if _holds_any(s, _LOWER_FIXED) else s).lower()


def _anywhere(s: str, i: int) -> int:
    return i


# Python's lower() has one context-sensitive rule, Final_Sigma (U+03A3): it looks past
# case-ignorable characters on both sides. Between two characters of these categories (none
# of them case-ignorable) and not next to a sigma, no context crosses.
_NOT_CASE_IGNORABLE = frozenset({"Lu", "Ll", "Lt", "Lo", "Nd", "Nl", "No", "Zs", "Zl", "Zp", "Cc"})


_LOWER_CANDIDATE = re.compile("(?<=[^\\W_\u03a3])(?=[^\\W_\u03a3])")


def _lower_cut(s: str, i: int) -> int:
    for m in _LOWER_CANDIDATE.finditer(s, i):
        j = m.start()
        if unicodedata.category(s[j - 1]) in _NOT_CASE_IGNORABLE \
                and unicodedata.category(s[j]) in _NOT_CASE_IGNORABLE:
            return j
    return len(s)


def to_upper_case(this: str, *_: Any) -> str:
    if this.isascii():
        return this.upper()
    return map_in_chunks(from_utf16(this), _upper, CASE_EXPANSION, _anywhere)


def to_lower_case(this: str, *_: Any) -> str:
    if this.isascii():
        return this.lower()
    s = from_utf16(this)
    return map_in_chunks(s, _lower, CASE_EXPANSION, _lower_cut if "\u03a3" in s else _anywhere)


# --- whitespace and padding ---------------------------------------------------------------------

WHITESPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009" \
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
"""ECMAScript WhiteSpace and LineTerminator code points (what trim removes)."""


def trim(this: str, *_: Any) -> str:
    check_work(len(this))
    return this.strip(WHITESPACE)


def trim_start(this: str, *_: Any) -> str:
    check_work(len(this))
    return this.lstrip(WHITESPACE)


def trim_end(this: str, *_: Any) -> str:
    check_work(len(this))
    return this.rstrip(WHITESPACE)


def _pad(this: str, max_length: Any, fill: Any, at_start: bool) -> str:
    target = to_integer_or_infinity(max_length)  # ToLength: the clamp below covers it
    n = len(this)
    if target <= n:
        return this
    filler = " " if fill is UNDEFINED else to_string(fill)
    if filler == "":
        return this
    check_new_length(target)
    count = int(target) - n
    reps, rest = divmod(count, len(filler))
    pad = filler * reps + filler[:rest]
    return pad + this if at_start else this + pad


def pad_start(this: str, max_length: Any = UNDEFINED, fill: Any = UNDEFINED, *_: Any) -> str:
    return _pad(this, max_length, fill, True)


def pad_end(this: str, max_length: Any = UNDEFINED, fill: Any = UNDEFINED, *_: Any) -> str:
    return _pad(this, max_length, fill, False)


def repeat(this: str, count: Any = UNDEFINED, *_: Any) -> str:
    n = to_integer_or_infinity(count)
    if n < 0 or n > 2147483647:  # QuickJS rejects counts beyond int32, even for ""
        raise range_error("invalid repeat count")
    if n == 0 or this == "":
        return ""
    check_new_length(len(this) * n)
    return this * int(n)


def concat(this: str, *args: Any) -> str:
    if not args:
        return this
    total = len(this)
    parts = [this]
    for a in args:
        part = to_string(a)
        total += len(part)
        check_new_length(total)
        parts.append(part)
    return "".join(parts)


# --- split and replace --------------------------------------------------------------------------

def split(this: str, separator: Any = UNDEFINED, limit: Any = UNDEFINED, *_: Any) -> list:
    check_work(len(this))
    lim = 0xFFFFFFFF if limit is UNDEFINED else to_uint32(limit)
    sep = to_string(separator)
    if lim == 0:
        return []
    if separator is UNDEFINED:
        return [this]
    if sep == "":
        check_new_array_length(min(len(this), lim))
        return list(this[:lim])
    if this == "":
        return [this]
    check_new_array_length(min(this.count(sep) + 1, lim))
    parts = this.split(sep, lim)  # at most lim + 1 parts, the last one the rest
    return parts if len(parts) <= lim else parts[:lim]


_SUBSTITUTION = re.compile(r"\$([$&`'])")


def _substitute(replacement: str, subject: str, pos: int, matched: str) -> str:
    """GetSubstitution for a string pattern: no captures, so ``$1`` and ``$<`` stay literal."""
    if "$" not in replacement:
        return replacement

    def one(m: re.Match[str]) -> str:
        c = m.group(1)
        if c == "$":
            return "$"
        if c == "&":
            return matched
        if c == "`":
            return subject[:pos]
        return subject[pos + len(matched):]

    return _SUBSTITUTION.sub(one, replacement)


def _substitution_length(replacement: str, subject_length: int, pos: int, matched: int) -> int:
    """The length GetSubstitution will give, computed without building it."""
    if "$" not in replacement:
        return len(replacement)
    tokens = _SUBSTITUTION.findall(replacement)
    n = len(replacement) - 2 * len(tokens)
    for c in tokens:
        if c == "$":
            n += 1
        elif c == "&":
            n += matched
        elif c == "`":
            n += pos
        else:
            n += subject_length - pos - matched
    return n


def _replace_value(replace_value: Any) -> str:
    if replace_value.__class__ is JSFunction or callable(replace_value):
        raise Unsupported("a function replacement is evaluated by QuickJS")
    return to_string(replace_value)


def replace(this: str, search_value: Any = UNDEFINED, replace_value: Any = UNDEFINED, *_: Any) -> str:
    search = to_string(search_value)
    replacement = _replace_value(replace_value)
    pos = this.find(search)
    if pos < 0:
        return this
    check_new_length(len(this) - len(search)
                     + _substitution_length(replacement, len(this), pos, len(search)))
    return this[:pos] + _substitute(replacement, this, pos, search) + this[pos + len(search):]


def replace_all(this: str, search_value: Any = UNDEFINED, replace_value: Any = UNDEFINED, *_: Any) -> str:
    search = to_string(search_value)
    replacement = _replace_value(replace_value)
    n = len(search)
    if "$" not in replacement:
        check_new_length(len(this) + this.count(search) * (len(replacement) - n))
        return this.replace(search, replacement)
    advance = n or 1
    total = len(this)
    pos = this.find(search)
    while pos >= 0:  # the length first, without building anything
        total += _substitution_length(replacement, len(this), pos, n) - n
        check_new_length(total)
        pos = this.find(search, pos + advance) if pos + advance <= len(this) else -1
    parts = []
    end = 0
    pos = this.find(search)
    while pos >= 0:
        parts.append(this[end:pos])
        parts.append(_substitute(replacement, this, pos, search))
        end = pos + n
        pos = this.find(search, pos + advance) if pos + advance <= len(this) else -1
    parts.append(this[end:])
    return "".join(parts)


# --- the rest -----------------------------------------------------------------------------------

def to_string_(this: str, *_: Any) -> str:
    return this


def locale_compare(this: str, that: Any = UNDEFINED, *_: Any) -> float:
    """QuickJS has no locale data: it compares the NFC forms code point by code point."""
    check_work(len(this))
    other = to_string(that)
    a = _normalize(from_utf16(this), "NFC")
    b = _normalize(from_utf16(other), "NFC")
    if a == b:
        return 0.0
    return -1.0 if a < b else 1.0


def _compose_new(s: str) -> str:
    out: list[str] = []
    for ch in s:
        if out:
            composed = _COMPOSE.get((out[-1], ch))
            if composed is not None:
                out[-1] = composed
                continue
        out.append(ch)
    return "".join(out)


def _normalize(s: str, form: str) -> str:
    """unicodedata.normalize (Unicode 14) patched to QuickJS's Unicode 16 results."""
    if s.isascii():
        return s
    if form == "NFC" or form == "NFD":
        if _holds_any(s, _NFD_FIXED):
            s = s.translate(_NFD_FIX)
    elif _holds_any(s, _NFKD_FIXED):
        s = s.translate(_NFKD_FIX)
    s = unicodedata.normalize(form, s)
    if form[-1] == "C" and _NEW_COMPOSABLE.search(s):
        s = _compose_new(s)
    return s


_FORMS = ("NFC", "NFD", "NFKC", "NFKD")


# Normalization does not cross a character that is a starter, never composes with what
# precedes it and decomposes to itself: ASCII, CJK ideographs, Hangul syllables. Elsewhere
# (rare: a long run without any of these) a cut is made before a character that is a stable
# start: canonical combining class 0, decomposing to a first character that has class 0 too
# and is never the second character of a canonical composition.
_NORMALIZE_CUT = re.compile("[\x00-\x7f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3]")
_SECOND_OF_PAIR: set[str] = set()


def _seconds_of_pairs() -> set[str]:
    """Every character that can compose with a preceding one (computed once, ~0.5 s)."""
    if not _SECOND_OF_PAIR:
        seconds = {chr(c) for c in range(0x1161, 0x1176)} | {chr(c) for c in range(0x11A8, 0x11C3)}
        for c in range(0x110000):
            d = unicodedata.decomposition(chr(c))
            if d and not d.startswith("<"):
                parts = d.split()
                if len(parts) == 2:
                    seconds.add(chr(int(parts[1], 16)))
        seconds.update(b for _, b in _COMPOSE)
        _SECOND_OF_PAIR.update(seconds)
    return _SECOND_OF_PAIR


@functools.lru_cache(maxsize=4096)
def _stable_start(ch: str) -> bool:
    if unicodedata.combining(ch):
        return False
    first = _normalize(ch, "NFKD")[:1] or ch
    return unicodedata.combining(first) == 0 and first not in _seconds_of_pairs() \
        and _normalize(ch, "NFD")[:1] not in _SECOND_OF_PAIR


def _normalize_cut(s: str, i: int) -> int:
    m = _NORMALIZE_CUT.search(s, i, i + 4096)
    if m is not None:
        return m.start()
    for j in range(i, len(s)):
        if _stable_start(s[j]):
            return j
    return len(s)


def normalize(this: str, form: Any = UNDEFINED, *_: Any) -> str:
    f = "NFC" if form is UNDEFINED else to_string(form)
    if f not in _FORMS:
        raise range_error("bad normalization form")
    if this.isascii():
        return this
    return map_in_chunks(from_utf16(this), lambda s: _normalize(s, f), NORMALIZE_EXPANSION[f],
                         _normalize_cut)


STRING_METHODS: dict[str, Callable[..., Any]] = {
    "charAt": char_at,
    "charCodeAt": char_code_at,
    "codePointAt": code_point_at,
    "at": at,
    "indexOf": index_of,
    "lastIndexOf": last_index_of,
    "includes": includes,
    "startsWith": starts_with,
    "endsWith": ends_with,
    "slice": slice_,
    "substring": substring,
    "substr": substr,
    "toUpperCase": to_upper_case,
    "toLowerCase": to_lower_case,
    "trim": trim,
    "trimStart": trim_start,
    "trimEnd": trim_end,
    "padStart": pad_start,
    "padEnd": pad_end,
    "repeat": repeat,
    "concat": concat,
    "split": split,
    "replace": replace,
    "replaceAll": replace_all,
    "toString": to_string_,
    "valueOf": to_string_,
    "localeCompare": locale_compare,
    "normalize": normalize,
}
