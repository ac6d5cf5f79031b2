"""The own properties of the built-in prototypes, as QuickJS (quickjs-ng) has them.

A member name read without calling it (``typeof arr.map``) must not read as ``undefined`` in the
python engine when JavaScript has a method of that name: codegen hands such an expression to
QuickJS (``unlowered_names``), and ``members.get_member`` answers a computed key of that name
with a placeholder function of the right name and length. The table is generated from QuickJS
(``python -m transpiler.jslib.prototypes`` prints it) and checked against QuickJS by
tests/test_transpiler.py, so it is never a hand list.
"""

from __future__ import annotations

from typing import Any

PROTOTYPES = ("String", "Array", "Number", "Boolean", "Object", "Function")

# prototype -> {own string-keyed property: its function's (length, name), or None if not a function}
PROTOTYPE_PROPERTIES: dict[str, dict[str, tuple[int, str] | None]] = {
    # generated: begin
    'String': {
        'anchor': (1, 'anchor'), 'at': (1, 'at'), 'big': (0, 'big'), 'blink': (0, 'blink'),
        'bold': (0, 'bold'), 'charAt': (1, 'charAt'), 'charCodeAt': (1, 'charCodeAt'),
        'codePointAt': (1, 'codePointAt'), 'concat': (1, 'concat'), 'constructor': (1, 'String'),
        'endsWith': (1, 'endsWith'), 'fixed': (0, 'fixed'), 'fontcolor': (1, 'fontcolor'),
        'fontsize': (1, 'fontsize'), 'includes': (1, 'includes'), 'indexOf': (1, 'indexOf'),
        'isWellFormed': (0, 'isWellFormed'), 'italics': (0, 'italics'),
        'lastIndexOf': (1, 'lastIndexOf'), 'length': None, 'link': (1, 'link'),
        'localeCompare': (1, 'localeCompare'), 'match': (1, 'match'), 'matchAll': (1, 'matchAll'),
        'normalize': (0, 'normalize'), 'padEnd': (1, 'padEnd'), 'padStart': (1, 'padStart'),
        'repeat': (1, 'repeat'), 'replace': (2, 'replace'), 'replaceAll': (2, 'replaceAll'),
        'search': (1, 'search'), 'slice': (2, 'slice'), 'small': (0, 'small'),
        'split': (2, 'split'), 'startsWith': (1, 'startsWith'), 'strike': (0, 'strike'),
        'sub': (0, 'sub'), 'substr': (2, 'substr'), 'substring': (2, 'substring'),
        'sup': (0, 'sup'), 'toLocaleLowerCase': (0, 'toLocaleLowerCase'),
        'toLocaleUpperCase': (0, 'toLocaleUpperCase'), 'toLowerCase': (0, 'toLowerCase'),
        'toString': (0, 'toString'), 'toUpperCase': (0, 'toUpperCase'),
        'toWellFormed': (0, 'toWellFormed'), 'trim': (0, 'trim'), 'trimEnd': (0, 'trimEnd'),
        'trimLeft': (0, 'trimStart'), 'trimRight': (0, 'trimEnd'), 'trimStart': (0, 'trimStart'),
        'valueOf': (0, 'valueOf'),
    },
    'Array': {
        'at': (1, 'at'), 'concat': (1, 'concat'), 'constructor': (1, 'Array'),
        'copyWithin': (2, 'copyWithin'), 'entries': (0, 'entries'), 'every': (1, 'every'),
        'fill': (1, 'fill'), 'filter': (1, 'filter'), 'find': (1, 'find'),
        'findIndex': (1, 'findIndex'), 'findLast': (1, 'findLast'),
        'findLastIndex': (1, 'findLastIndex'), 'flat': (0, 'flat'), 'flatMap': (1, 'flatMap'),
        'forEach': (1, 'forEach'), 'includes': (1, 'includes'), 'indexOf': (1, 'indexOf'),
        'join': (1, 'join'), 'keys': (0, 'keys'), 'lastIndexOf': (1, 'lastIndexOf'), 'length': None,
        'map': (1, 'map'), 'pop': (0, 'pop'), 'push': (1, 'push'), 'reduce': (1, 'reduce'),
        'reduceRight': (1, 'reduceRight'), 'reverse': (0, 'reverse'), 'shift': (0, 'shift'),
        'slice': (2, 'slice'), 'some': (1, 'some'), 'sort': (1, 'sort'), 'splice': (2, 'splice'),
        'toLocaleString': (0, 'toLocaleString'), 'toReversed': (0, 'toReversed'),
        'toSorted': (1, 'toSorted'), 'toSpliced': (2, 'toSpliced'), 'toString': (0, 'toString'),
        'unshift': (1, 'unshift'), 'values': (0, 'values'), 'with': (2, 'with'),
    },
    'Number': {
        'constructor': (1, 'Number'), 'toExponential': (1, 'toExponential'),
        'toFixed': (1, 'toFixed'), 'toLocaleString': (0, 'toLocaleString'),
        'toPrecision': (1, 'toPrecision'), 'toString': (1, 'toString'), 'valueOf': (0, 'valueOf'),
    },
    'Boolean': {
        'constructor': (1, 'Boolean'), 'toString': (0, 'toString'), 'valueOf': (0, 'valueOf'),
    },
    'Object': {
        '__defineGetter__': (2, '__defineGetter__'), '__defineSetter__': (2, '__defineSetter__'),
        '__lookupGetter__': (1, '__lookupGetter__'), '__lookupSetter__': (1, '__lookupSetter__'),
        '__proto__': None, 'constructor': (1, 'Object'), 'hasOwnProperty': (1, 'hasOwnProperty'),
        'isPrototypeOf': (1, 'isPrototypeOf'), 'propertyIsEnumerable': (1, 'propertyIsEnumerable'),
        'toLocaleString': (0, 'toLocaleString'), 'toString': (0, 'toString'),
        'valueOf': (0, 'valueOf'),
    },
    'Function': {
        'apply': (2, 'apply'), 'arguments': None, 'bind': (1, 'bind'), 'call': (1, 'call'),
        'caller': None, 'columnNumber': None, 'constructor': (1, 'Function'), 'fileName': None,
        'length': None, 'lineNumber': None, 'name': None, 'toString': (0, 'toString'),
    },
    # generated: end
}


def query_quickjs() -> dict[str, dict[str, tuple[int, str] | None]]:
    """PROTOTYPE_PROPERTIES read from a fresh QuickJS context (imports ``quickjs`` lazily)."""
    import json

    import quickjs

    script = """JSON.stringify(Object.fromEntries(NAMES.map(n => {
      const p = globalThis[n].prototype;
      return [n, Object.fromEntries(Object.getOwnPropertyNames(p).sort().map(k => {
        const d = Object.getOwnPropertyDescriptor(p, k);
        return [k, typeof d.value === 'function' ? [d.value.length, d.value.name] : null];
      }))];
    })))""".replace("NAMES", json.dumps(list(PROTOTYPES)))
    table = json.loads(quickjs.Context().eval(script))
    return {p: {k: v and tuple(v) for k, v in props.items()} for p, props in table.items()}


def unlowered_names(implemented: dict[str, Any], prototypes: tuple[str, ...]) -> frozenset[str]:
    """Names of properties of ``prototypes`` (and Object.prototype, which every one inherits)
    that are not in ``implemented``: reading one must not give ``undefined``."""
    names: set[str] = set(PROTOTYPE_PROPERTIES["Object"])
    for p in prototypes:
        names |= PROTOTYPE_PROPERTIES[p].keys()
    return frozenset(names - implemented.keys())


def method_signature(name: str, prototypes: tuple[str, ...]) -> tuple[int, str] | None:
    """The ``(length, name)`` of the method ``name`` of the first of ``prototypes`` (then
    Object.prototype) that has it as a function (``trimLeft`` is ``trimStart``), or None."""
    for p in (*prototypes, "Object"):
        signature = PROTOTYPE_PROPERTIES[p].get(name)
        if signature is not None:
            return signature
    return None


def _render(table: dict[str, dict[str, tuple[int, str] | None]]) -> str:
    lines = []
    for proto, props in table.items():
        lines.append(f"    {proto!r}: {{")
        items = [f"{k!r}: {v!r}," for k, v in props.items()]
        line = "       "
        for item in items:
            if len(line) + 1 + len(item) > 100:
                lines.append(line)
                line = "       "
            line += " " + item
        lines.append(line)
        lines.append("    },")
    return "\n".join(lines)


if __name__ == "__main__":
    print(_render(query_quickjs()))
