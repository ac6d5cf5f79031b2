"""What an expression may name: the blocked names and properties, and the known globals.

One list, used by every engine: the AST checks of the transpiler, the token scan for syntax
esprima cannot parse, and the alias validation of the runtime.
"""

from __future__ import annotations

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

# ECMAScript reserved words (and strict-mode ones): never valid as a variable name.
RESERVED_WORDS: frozenset[str] = frozenset({
    "await", "break", "case", "catch", "class", "const", "continue", "debugger", "default",
    "delete", "do", "else", "enum", "export", "extends", "false", "finally", "for", "function",
    "if", "import", "in", "instanceof", "new", "null", "return", "super", "switch", "this",
    "throw", "true", "try", "typeof", "var", "void", "while", "with", "yield", "let", "static",
    "implements", "interface", "package", "private", "protected", "public", "arguments", "eval",
})


def blocked_name_reason(name: str) -> str | None:
    if name in BLOCKED_NAMES:
        return f"'{name}' is blocked in mapping expressions"
    return None


def blocked_property_reason(name: str) -> str | None:
    if name in BLOCKED_PROPERTIES:
        return f"property '{name}' is blocked in mapping expressions"
    return None
