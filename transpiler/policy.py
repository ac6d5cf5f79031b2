"""What an expression may name: the blocked names and properties, the known globals, and the
one identifier rule shared by ``compile_expression`` and the runtime's alias validation."""

from __future__ import annotations

from esprima.character import Character

BLOCKED_NAMES: frozenset[str] = frozenset({
    "eval", "Function", "require", "module", "exports", "process", "global", "globalThis",
    "console", "setTimeout", "setInterval", "setImmediate", "clearTimeout", "clearInterval",
    "clearImmediate", "Reflect", "Proxy", "import", "importScripts", "escape", "unescape",
    "AsyncFunction", "GeneratorFunction", "WebAssembly", "queueMicrotask", "std", "os",
})

BLOCKED_PROPERTIES: frozenset[str] = frozenset({
    "constructor", "__proto__", "prototype", "__defineGetter__", "__defineSetter__",
    "__lookupGetter__", "__lookupSetter__", "defineProperty", "defineProperties",
    "getOwnPropertyDescriptor", "getOwnPropertyDescriptors", "getPrototypeOf", "setPrototypeOf",
    "caller", "callee", "arguments",
})

# Globals an expression may reference besides its variables. Those the python engine lowers
# are a subset (see codegen); the rest are evaluated by QuickJS.
KNOWN_GLOBALS: frozenset[str] = frozenset({
    "Math", "JSON", "Number", "String", "Boolean", "Date", "Array", "Object", "Set", "Map",
    "WeakMap", "WeakSet", "RegExp", "Symbol", "BigInt", "Error", "TypeError", "RangeError",
    "SyntaxError", "ReferenceError", "EvalError", "URIError", "Promise", "Intl",
    "ArrayBuffer", "DataView", "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array",
    "Uint16Array", "Int32Array", "Uint32Array", "Float32Array", "Float64Array",
    "BigInt64Array", "BigUint64Array",
    "parseInt", "parseFloat", "isNaN", "isFinite", "encodeURIComponent", "decodeURIComponent",
    "encodeURI", "decodeURI", "NaN", "Infinity", "undefined",
})

# Globals through which an expression can reach the clock or the random source, and the only
# members that cannot (``new Date(x)`` with arguments is allowed by the analysis too). Any other
# use of these globals makes an expression impure: evaluated on every message, never folded.
CLOCK_OR_RANDOM_GLOBALS: frozenset[str] = frozenset({"Date", "Math", "Intl"})
PURE_MEMBERS: dict[str, frozenset[str]] = {
    "Math": frozenset({
        "E", "LN10", "LN2", "LOG10E", "LOG2E", "PI", "SQRT1_2", "SQRT2", "abs", "acos", "acosh",
        "asin", "asinh", "atan", "atan2", "atanh", "cbrt", "ceil", "clz32", "cos", "cosh", "exp",
        "expm1", "f16round", "floor", "fround", "hypot", "imul", "log", "log10", "log1p", "log2",
        "max", "min", "pow", "round", "sign", "sin", "sinh", "sqrt", "sumPrecise", "tan", "tanh",
        "trunc"}),
    "Date": frozenset({"UTC", "parse"}),
    "Intl": frozenset(),
}

# ECMAScript reserved words (and strict-mode ones): never valid as a variable name.
RESERVED_WORDS: frozenset[str] = frozenset({
    "await", "break", "case", "catch", "class", "const", "continue", "debugger", "default",
    "delete", "do", "else", "enum", "export", "extends", "false", "finally", "for", "function",
    "if", "import", "in", "instanceof", "new", "null", "return", "super", "switch", "this",
    "throw", "true", "try", "typeof", "var", "void", "while", "with", "yield", "let", "static",
    "implements", "interface", "package", "private", "protected", "public", "arguments", "eval",
})


def is_identifier_name(name: object) -> bool:
    """True when ``name`` is an ECMAScript IdentifierName written without escapes (ES2026
    §12.7: ID_Start, ``$`` or ``_``, then ID_Continue, ``$``, ZWNJ or ZWJ), by the parser's own
    Unicode tables."""
    if not isinstance(name, str) or not name or "\\" in name:
        return False
    return Character.isIdentifierStart(name[0]) and all(Character.isIdentifierPart(c) for c in name[1:])


def identifier_problem(name: object) -> str | None:
    """Why ``name`` cannot name a variable of an expression (an alias), or None if it can.

    A variable is an IdentifierName that is not reserved, not blocked and does not hide a
    known global; such a name works in every engine."""
    if not is_identifier_name(name):
        return "must be a valid JavaScript identifier"
    if name in RESERVED_WORDS or name in ("undefined", "NaN", "Infinity"):
        return f"'{name}' is a JavaScript reserved word"
    if name in BLOCKED_NAMES:
        return f"'{name}' is a blocked name"
    if name in KNOWN_GLOBALS:
        return f"'{name}' would hide the JavaScript global of that name"
    return None

