"""The conformance corpus: expressions over the variables of ``environments``, by construct family.

Each expression is evaluated in every environment of ``environments.ENVIRONMENTS`` (distinct
values of the variables it uses only) by our engine and by QuickJS; expected values are never
written here. The ``regressions`` family holds one case per engine bug the suite has found,
with a comment naming the bug.
"""

from __future__ import annotations

FAMILIES: dict[str, list[str]] = {
    "literals": [
        "0", "-0", "1.5", ".5", "5.", "1e21", "1E-7", "5e-324", "1.7976931348623157e308", "2e308",
        "0x1F", "0XfF", "0o17", "0b101", "9007199254740993", "0.1 + 0.2", "'abc'", '"d\\"q"',
        "'\\x41\\u0042\\u{1F600}\\n\\t\\'\\\\'", "'\\ud83d'", "'\\0'", "'é😀'", "true", "false",
        "null", "undefined", "NaN", "Infinity", "-Infinity", "'\\u2028'.length",
    ],
    "templates": [
        "`plain`", "`${x}`", "`${s}`", "`${a}`", "`x=${x}, s=${s}`", "`${x}${y}`", "`${f ? 'y' : 'n'}`",
        "`${arr}`", "`${o}`", "`${[x, s]}`", "`${x + 1}px`", "`a\\`b${'$'}{c}`", "`line1\nline2${t}`",
        "`${`${s}`}`", "`${null}-${undefined}`", "`😀${s}é`",
    ],
    "arrays-objects": [
        "[x, s, f]", "[a, b]", "[]", "[[x], [s, [t]]]", "({k: x})", "({k: x, v: s, 0: a})",
        "({'x y': 1, 10: 2, 1: 3, k: a})", "({1.5: x, 1e21: y})", "[arr, o]", "({a: a, b: b})",
        "[o]", "({k: [a, {v: b}]})", "[x, [y, [s]]].length", "({}).k",
    ],
    "members": [
        "s.length", "s[0]", "s[1]", "s['length']", "s[-1]", "s[x]", "arr.length", "arr[0]", "arr[1]",
        "arr[x]", "arr['1']", "o.k", "o['k']", "o.v", "o[0]", "o['x y']", "o[10]", "o.k.k", "a.length",
        "a[0]", "a.k", "a['k']", "b[a]", "o[s]", "arr[arr.length - 1]", "'abc'[x]", "[1, 2, 3][x]",
        "({k: 1})[s]", "o.length", "s.k", "x.k", "f.k", "arr.k",
    ],
    "unary": [
        "typeof x", "typeof s", "typeof a", "typeof b", "typeof arr", "typeof o", "typeof null",
        "typeof Math", "typeof Math.abs", "typeof typeof a", "void a", "void 0", "(a, b)",
        "(x, s, f)", "-a", "+a", "-s", "+s", "!a", "!!a", "!s", "~a", "~s", "~x", "-x", "+arr", "-o",
        "+f", "!o", "!arr",
    ],
    "arithmetic": [
        "a + b", "x + y", "s + t", "x + s", "s + x", "a + 1", "1 + a", "a + ''", "a + 'x'", "f + 1",
        "x - y", "a - b", "s - t", "x * y", "a * b", "s * 2", "x / y", "a / b", "x / 0", "-x / 0",
        "0 / x", "x % y", "a % b", "x % 0", "-7 % x", "x % -2", "5.5 % x", "x ** y", "a ** b",
        "x ** 0.5", "2 ** x", "x ** -1", "(x - y) ** 2", "x * x + y * y", "arr + 1", "o + 1",
        "arr - 1", "[] + []", "[] + {}", "x + y + s", "s + x + y", "null + x", "undefined + x",
        "true + f", "x * 1e308 * 10", "x - x", "x / x", "(x + 0.5) - 0.5", "1e21 + x",
    ],
    "comparison": [
        "x < y", "x > y", "x <= y", "x >= y", "a < b", "a > b", "a <= b", "a >= b", "s < t",
        "s > t", "s < x", "x < s", "s <= '10'", "a < 1", "a >= null", "null >= 0", "undefined < 1",
        "arr < 2", "o > 'a'", "f < x", "'\\u00e9' > s", "'\\uffff' < s", "s >= t === t <= s",
        "[2] > 1", "'10' < '9'", "'10' < 9",
    ],
    "equality": [
        "a == b", "a != b", "a === b", "a !== b", "x == y", "x === y", "s == t", "s == x",
        "x == s", "a == null", "a === null", "a == undefined", "a == 0", "a == ''", "a == '0'",
        "a == false", "a == true", "f == 1", "arr == s", "o == '[object Object]'", "null == undefined",
        "null === undefined", "NaN == NaN", "x != x", "-0 === 0", "[x] == x", "o == o", "arr === arr",
        "[] == []", "s == f",
    ],
    "logical": [
        "a && b", "a || b", "!a && b", "a || b || 'z'", "a && b && 'z'", "x && s", "s || x",
        "f && a", "f || a", "(a || b) && (x || y)", "arr && o", "o || arr", "a && b || x",
    ],
    "bitwise": [
        "a | 0", "a & b", "a | b", "a ^ b", "a << b", "a >> b", "a >>> b", "x | 0", "x >>> 0",
        "x >> 1", "x << 33", "x & 255", "x ^ -1", "s | 0", "s >>> 0", "x << y", "-1 >>> x",
        "2147483648 | 0", "4294967296 | 0", "~~x", "x >>> 32", "1 << 31", "(x | 0) === x",
    ],
    "ternary": [
        "a ? 'yes' : 'no'", "x ? x : y", "s ? s.length : -1", "f ? a : b",
        "x > 0 ? 'pos' : x < 0 ? 'neg' : 'zero'",
        "a ? b ? 1 : 2 : 3", "arr.length ? arr[0] : 'empty'", "o.k !== undefined ? o.k : 'none'",
        "(a, b) ? x : y", "NaN ? 1 : 0",
    ],
    "math": [
        "Math.abs(x)", "Math.abs(a)", "Math.sign(x)", "Math.floor(x)", "Math.ceil(x)", "Math.round(x)",
        "Math.trunc(x)", "Math.sqrt(x)", "Math.cbrt(x)", "Math.max(x, y)", "Math.min(x, y)",
        "Math.max()", "Math.min()", "Math.max(a, b)", "Math.min(s, x)", "Math.max(x, y, 3)",
        "Math.pow(x, y)", "Math.pow(x, 2)", "Math.exp(x)", "Math.expm1(x)", "Math.log(x)",
        "Math.log1p(x)", "Math.log2(x)", "Math.log10(x)", "Math.sin(x)", "Math.cos(x)", "Math.tan(x)",
        "Math.asin(x)", "Math.acos(x)", "Math.atan(x)", "Math.atan2(x, y)", "Math.sinh(x)",
        "Math.cosh(x)", "Math.tanh(x)", "Math.asinh(x)", "Math.acosh(x)", "Math.atanh(x)",
        "Math.hypot(x, y)", "Math.hypot()", "Math.hypot(x, NaN, Infinity)", "Math.fround(x)",
        "Math.clz32(x)", "Math.imul(x, y)", "Math.round(x * 100) / 100", "Math.sqrt(x * x + y * y)",
        "Math.floor(s)", "Math.abs(arr)", "Math.PI * x", "Math.E", "Math.LN2 + Math.LN10",
        "Math.LOG2E * Math.LOG10E", "Math.SQRT2 * Math.SQRT1_2", "Math.round(-2.5)",
        "Math.round(0.49999999999999994)", "Math.round(x + 0.5)", "Math.max(-0, 0)", "Math.min(0, -0)",
        "Math.sign(-0)", "Math.abs(x, y)", "Math.floor()",
    ],
    "globals": [
        "Number(a)", "Number(s)", "Number(t)", "Number()", "String(a)", "String(x)", "String()",
        "Boolean(a)", "Boolean(s)", "Boolean()", "parseInt(s)", "parseInt(a)", "parseInt(s, 16)",
        "parseInt(s, x)", "parseInt(x)", "parseFloat(s)", "parseFloat(a)", "parseFloat(x)",
        "isNaN(a)", "isNaN(s)", "isFinite(a)", "isFinite(s)", "Number.isInteger(x)",
        "Number.isSafeInteger(x)", "Number.isFinite(a)", "Number.isNaN(a)", "Number.parseFloat(s)",
        "Number.parseInt(s, 36)", "Number.MAX_SAFE_INTEGER + x", "Number.MIN_SAFE_INTEGER",
        "Number.EPSILON", "Number.MAX_VALUE", "Number.MIN_VALUE", "Number.POSITIVE_INFINITY",
        "Number.NEGATIVE_INFINITY", "Number.NaN", "String.fromCharCode(x)",
        "String.fromCharCode(72, 105, 0x1F600)", "String.fromCodePoint(128512, 233)",
        "String.fromCodePoint(x)", "String.fromCharCode()", "Number(arr)", "Number(o)", "String(o)",
        "String(arr)",
    ],
    "json": [
        "JSON.stringify(a)", "JSON.stringify(x)", "JSON.stringify(s)", "JSON.stringify(arr)",
        "JSON.stringify(o)", "JSON.stringify([a, b])", "JSON.stringify({a: a, b: b})",
        "JSON.stringify(o, null, 2)", "JSON.stringify(arr, null, '--')", "JSON.stringify(a, null, x)",
        "JSON.stringify(undefined)", "JSON.stringify({u: undefined, n: NaN, i: -Infinity, z: -0})",
        "JSON.stringify('\\u2028\\ud800\"\\\\\\b')", "JSON.parse(s)",
        "JSON.parse('[1, \"a\", {\"k\": null}]')",
        "JSON.parse(JSON.stringify(a))", "JSON.parse(JSON.stringify(o))", "JSON.parse('1e400')",
        "JSON.parse(' -0 ')", "JSON.parse('{\"b\": 1, \"a\": 2, \"1\": 3}')",
        "JSON.stringify(JSON.parse('\"\\\\ud83d\"'))",
    ],
    "string-methods": [
        "s.charAt(1)", "s.charAt(x)", "s.charCodeAt(0)", "s.charCodeAt(x)", "s.codePointAt(0)",
        "s.codePointAt(1)", "s.at(-1)", "s.at(x)", "s.indexOf('a')", "s.indexOf(t)", "s.indexOf('', x)",
        "s.lastIndexOf('a')", "s.lastIndexOf(t, x)", "s.includes(t)", "s.includes('😀')",
        "s.startsWith(t)", "s.startsWith('a', x)", "s.endsWith(t)", "s.endsWith('x', x)", "s.slice(1)",
        "s.slice(x)", "s.slice(-2, -1)", "s.slice(x, y)", "s.substring(3, 1)", "s.substring(x, y)",
        "s.substr(-3, 2)", "s.substr(x, y)", "s.toUpperCase()", "s.toLowerCase()", "t.toUpperCase()",
        "s.trim()", "s.trimStart()", "s.trimEnd()", "s.padStart(8, 'ab')", "s.padStart(x, t)",
        "s.padEnd(6)", "s.padEnd(7, '😀')", "s.repeat(2)", "s.repeat(0)", "s.concat(t, x, null)",
        "s.split('a')", "s.split('')", "s.split(t)", "s.split(',', 1)", "s.split()",
        "s.replace('a', '[$&]')", "s.replace(t, '$`|$\\'|$$')", "s.replaceAll('a', 'b')",
        "s.replaceAll('', '-')", "s.toString()", "s.valueOf()", "s.normalize()", "s.normalize('NFD')",
        "'é'.normalize('NFD').length", "s.trim().length", "(s + t).toUpperCase().split('A')",
        "'😀a😀'.slice(1, 3)", "'ß'.toUpperCase()", "'İ'.toLowerCase().length", "'ΑΣ'.toLowerCase()",
        "s.at()", "s.repeat(x > 0 && x < 5 ? x : 1)",
    ],
    "number-methods": [
        "x.toFixed(2)", "x.toFixed(0)", "x.toFixed()", "x.toFixed(20)", "x.toPrecision(3)",
        "x.toPrecision(1)", "x.toPrecision(21)", "x.toPrecision()", "x.toExponential(2)",
        "x.toExponential()", "x.toExponential(0)", "x.toString(16)", "x.toString(2)", "x.toString(36)",
        "x.toString()", "x.valueOf()", "(1.005).toFixed(2)", "(2.5).toFixed(0)", "(-1.5).toFixed(0)",
        "(1e21).toFixed(2)", "(255).toString(16)", "(0.5).toString(2)", "(-255.5).toString(16)",
        "(123.456).toPrecision(4)", "(0.000001).toExponential(3)", "y.toFixed(x > 0 && x < 100 ? x : 3)",
        "(x * 100).toFixed(1)", "(x / 3).toString(3)", "x.toString(10)",
    ],
    "array-methods": [
        "arr.join('-')", "arr.join()", "arr.join('')", "arr.indexOf(1)", "arr.indexOf(a)",
        "arr.lastIndexOf(1)", "arr.includes(NaN)", "arr.includes(a)", "arr.slice(1)", "arr.slice(-1)",
        "arr.slice(x, y)", "arr.concat([9], 8)", "arr.concat(arr)", "arr.at(-1)", "arr.at(x)",
        "arr.toString()", "[x, y].join(s)", "[s, t].indexOf(t)", "[a, b].includes(b)",
        "[1, [2, [3]]].join(';')", "[null, undefined, 1].join()", "[[]].concat([[]]).length",
        "[x, s].slice(-1)[0]",
    ],
    "function-values": [
        "typeof Number.isNaN", "typeof parseInt", "Math.abs.name", "JSON.stringify.name", "'x'.at.name",
        "(f ? Math.max : Math.min)(x, y)", "(f ? Number : String)(a)", "[JSON.stringify][0](o)",
        "(a ? isNaN : isFinite)(s)", "(f ? 'x'.at : [].join)(1)", "[Math.abs][0]()", "[Number][0]()",
        "[Math.abs, 1]", "({f: Math.sqrt}).f(x)", "o.k(1)",
    ],
    "impure": [  # Date.now and Math.random only where the result is deterministic
        "typeof Date.now()", "Date.now() > 1.6e12", "Math.random() < 1", "Math.floor(Math.random())",
        "Math.random() >= 0 ? x : y",
    ],
    "errors": [
        "null.x", "undefined.x", "a.k.k", "x.toUpperCase()", "s.toFixed(2)", "'x'.repeat(-1)",
        "s.repeat(Infinity)", "x.toFixed(101)", "x.toString(1)", "x.toPrecision(0)", "'a'.join()",
        "Math.PI()", "null[0]", "String.fromCodePoint(-1)",
        "String.fromCodePoint(1.5)", "JSON.parse('{')", "arr.foo()", "o.k()", "a()", "x.toExponential(-1)",
    ],
    "quickjs-fallback": [  # outside the python subset: engine="auto" runs these in QuickJS
        "arr.map(v => v + 1)", "[...arr, x]", "({...o, z: x})",
        "Object.keys(o)", "arr.filter(v => v)", "s.match(/a/) !== null",
        "Array.isArray(a)", "s.split(/,/)", "[a, b].some(Boolean)", "[,].length",
        "(() => { let q = 0; for (const v of arr) q += v; return q + x; })()",
        "(function () { var t = 0; t += x; return t; })()", "(() => { { let x = 1; } return x; })()",
        "(() => { try { throw 1; } catch (x) {} return x; })()", "((q = s) => { var s = 1; return q; })()",
        "(({k, v = a}) => [k, v])(o)", "Number(2n ** 64n)",
    ],
    "nullish-optional": [  # ES2020+ syntax the python engine lowers
        "a ?? b", "o?.k", "o?.k?.k", "1_000 + x", "(-x) ** 2", "a ?? b ?? 'z'", "(a ?? b) || s",
        "a?.k", "a?.[0]", "a?.length", "arr?.[1] ?? -1", "a?.k.k", "o?.['x y']", "s?.toUpperCase()",
        "s?.slice?.(1)", "a?.toString?.()", "o.missing?.()", "o?.k ?? a?.[1]", "0b1_0 + 0xf_f",
        "(-a) ** 2", "`${a ?? 'none'}`", "[a?.k, o?.k]", "a?.[s]", "Math.max?.(x, 1)", "(a ?? x) * 2",
        "arr?.at?.(-1)", "a?.k?.()", "null ?? undefined ?? x", "(+s) ** 2", "1_0.5e-1_0 * x",
    ],
    # Own properties of plain objects that the algorithms must consult (issue 11):
    # OrdinaryToPrimitive skips a non-callable toString/valueOf and throws when neither gives
    # a primitive; SerializeJSONProperty calls an own callable toJSON with the key; a method
    # value called with an object receiver (generic Array.prototype methods read it as an
    # array-like); every string result is in UTF-16 form.
    "own-properties": [
        "o + ''", "`${o}${s}`", "o * 2", "o == 'v'", "o < 'w'", "String([o, s])", "[o].join()",
        "({toString: 1}) + ''", "({valueOf: 1, toString: 'x'}) - 1", "({valueOf: 'x'}) + 1",
        "({toString: Math.random}) < 2", "({valueOf: ''.at}) + 1", "({toString: ''.at}) + 1",
        "JSON.stringify({toJSON: Math.abs})", "JSON.stringify({k: {toJSON: String}})",
        "JSON.stringify([{toJSON: String}, {toJSON: 1}])", "JSON.stringify({k: {toJSON: String}}, null, 2)",
        "JSON.stringify({toJSON: [].join, length: 2, 0: s})", "({toString: [].join, length: 3, 1: s}) + 1",
        "({f: [].indexOf, length: 2, 1: 5}).f(5)", "({f: ''.at}).f(1)", "JSON.stringify(s).length",
        "JSON.stringify([s, t]).charCodeAt(2)", "JSON.stringify(o, null, t).length",
        "JSON.stringify(s).slice(0, 2) < JSON.stringify(t)",
    ],
    # One case per engine bug found by this suite (each comment names the bug).
    "regressions": [
        # get_member: a non-string, non-number key on a string or array ([0], true) was not
        # converted to the index its string names, so "null"[[-0]] gave undefined, not "n"
        "s[arr]", "'abc'[[1]]", "[5, 6][[1]]", "'null'[[-0]]", "arr[[0]]",
        # call_method: a function stored in an array, called by index ([Math.max][0](1, 2)),
        # threw "not a function"
        "[Math.max][0](x, y)", "[String, parseInt][f ? 0 : 1](s)",
        # get_member: .length of a function value (Math.max.length, 'a'.slice.length) was undefined
        "Math.max.length", "parseInt.length + JSON.stringify.length", "s.slice.length", "x.toString.length",
        "a.toString.length", "(f ? Math.abs : Math.hypot).length",
        # Math functions called as values received raw JavaScript values without ToNumber:
        # [Math.abs][0]('5') raised Python's TypeError
        "[Math.abs, parseInt][f ? 0 : 1](s)", "(f ? Math.max : Math.min)(a, b, s)",
        "(f ? Math.atan2 : Math.pow)(s)", "(f ? Math.round : Math.sign)()",
        # builtins called with more arguments than they declare raised Python's TypeError
        # (isNaN(x, y), Number.isInteger(x, 1), x.toFixed(1, 2)); JavaScript ignores the extras
        "isNaN(x, y)", "isFinite(x, y, s)", "Number(a, b)", "String(a, b)", "Boolean(a, b)",
        "parseInt(s, 10, 3)", "parseFloat(s, 1)", "Number.isInteger(x, 1)", "Number.isSafeInteger(x, 1)",
        "Number.isNaN(x, 1)", "Number.isFinite(x, 1)", "Number.parseInt(s, 10, 1)",
        "JSON.stringify(a, null, 2, 5)", "Date.now(1) > 0", "x.toFixed(1, 2)", "x.toPrecision(3, 2)",
        "x.toExponential(1, 2)", "x.toString(16, 2)", "o.hasOwnProperty('k', 1)",
        "(f ? isFinite : Number.isInteger)(a, x, s)",
        # a method read as a value and called from an array ([[].join][0]()) threw "not a
        # function"; JavaScript calls it with the array as `this`
        "[[].join][0]()", "[''.at][0](x)", "[''.slice, 1][0](1)", "[(1).toFixed][0](2)",
        "[({}).toString][0]()", "[({}).hasOwnProperty][0](1)",
        # evaluation order (issue 11, seed 20261126): the arguments were evaluated before the
        # callee was read, so this threw RangeError instead of TypeError
        "JSON.stringify(void x).concat(JSON.stringify(null).repeat(-1))",
        "a.concat(s.repeat(-1))", "a - s.repeat(-1)", "Math.max(a, b.k.k)",
    ],
}


def corpus() -> list[tuple[str, str]]:
    """Every (family, expression) pair, in order."""
    return [(family, source) for family, sources in FAMILIES.items() for source in sources]
