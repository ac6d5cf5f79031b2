"""Every string the python engine produces is in its UTF-16 form (issue 11).

Inside the python engine a JavaScript string is a ``str`` whose astral characters are stored
as surrogate pairs, so ``.length``, indexing and comparison work in code units. A helper that
returns an ordinary ``str`` (JSON.stringify did) gives ``JSON.stringify('😀').length`` 3
instead of 4. The helpers are enumerated from the tables the engine dispatches through (so a
new helper cannot be missed), each is called on astral input in the python engine, and the
``.length`` and code units of every string result are compared with QuickJS.
"""

from __future__ import annotations

import pytest

from conformance.reference import Outcome, Reference, same
from transpiler import compile_expression
from transpiler.errors import ExpressionError, JSError
from transpiler.jslib import builtins
from transpiler.jslib.arrays import ARRAY_METHODS
from transpiler.jslib.members import BOOLEAN_METHODS, NUMBER_METHODS, OBJECT_METHODS
from transpiler.jslib.strings import STRING_METHODS

REFERENCE = Reference()
VALUES = {"s": "😀a😀\ud83d", "t": "😀", "arr": ["😀", "b😀"], "o": {"k😀": "😀"}, "x": 1.0}
ARGUMENTS = ("", "t", "1", "x, 3", "t, s", "'-😀'", "2, t", "arr", "o", "-1", "s, t, s")
# receiver expression for each method table
RECEIVERS = (
    ("s", STRING_METHODS), ("arr", ARRAY_METHODS), ("(x / 3)", NUMBER_METHODS),
    ("(s > t)", BOOLEAN_METHODS), ("o", OBJECT_METHODS),
)


def _helpers() -> list[tuple[str, str]]:
    """(helper name, expression template with {args}) for every helper the engine lowers."""
    out = []
    for receiver, table in RECEIVERS:
        out += [(f"{receiver}.{name}", f"{receiver}.{name}({{args}})") for name in table]
    out += [(name, f"{name}({{args}})") for name in builtins.GLOBAL_FUNCTIONS]
    for ns, table in builtins.NAMESPACE_FUNCTIONS.items():
        out += [(f"{ns}.{name}", f"{ns}.{name}({{args}})") for name in table]
    out += [("String.fromCodePoint", "String.fromCodePoint(128512, 97)"),
            ("String.fromCharCode", "String.fromCharCode(0xd83d, 0xde00)"),
            ("JSON.parse", "JSON.parse(JSON.stringify(arr))[1]"),
            ("JSON.stringify", "JSON.stringify(o, null, t)"),
            ("JSON.stringify", "JSON.stringify(arr, ['k😀'])")]
    return out


def _evaluate(source: str) -> tuple[Outcome, Outcome] | None:
    try:
        compiled = compile_expression(source, list(VALUES), engine="python")
    except ExpressionError:
        return None
    env = {d: VALUES[d] for d in compiled.dependencies}
    try:
        ours = Outcome(value=compiled(env))
    except JSError as err:
        ours = Outcome(error=err.name, message=err.message)
    return ours, REFERENCE.evaluate(source, env)


@pytest.mark.parametrize(("name", "template"), _helpers(), ids=lambda v: v if "{" not in v else "")
def test_string_results_are_in_utf16_form(name: str, template: str) -> None:
    ran = 0
    bad = []
    for args in ARGUMENTS:
        call = template.format(args=args)
        # the length and every code unit, computed inside each engine
        source = (f"typeof ({call}) === 'string' ? [({call}).length, "
                  f"({call}).split('').map(c => c.charCodeAt(0))] : 'not a string'")
        length_source = f"typeof ({call}) === 'string' ? ({call}).length : -1"
        result = _evaluate(length_source)
        if result is None:
            continue
        ran += 1
        ours, reference = result
        if ours.error or reference.error:
            if ours.error != reference.error:
                bad.append((call, ours, reference))
            continue
        if not same(ours.value, reference.value):
            bad.append((call, ours, reference))
        if ours.value != -1:  # a string: also its code units, and the string itself
            units = REFERENCE.evaluate(source, {d: VALUES[d] for d in VALUES if d in call})
            text = _evaluate(call)
            assert text is not None
            ours_text = text[0].value
            assert units.value[0] == reference.value
            if ours_text.encode("utf-16-le", "surrogatepass") != "".join(
                    chr(int(u)) for u in units.value[1]).encode("utf-16-le", "surrogatepass"):
                bad.append((call, ours_text, units.value[1]))
        if "{args}" not in template:
            break
    assert ran > 0, f"{name}: no call ran in the python engine"
    assert not bad, bad[:5]


def test_issue_example_json_stringify_length() -> None:
    for source in ("JSON.stringify('😀').length", "JSON.stringify(t).charCodeAt(1)",
                   "JSON.stringify(t).slice(0, 2)", "JSON.stringify(t) < '\"\\ud83d\\ude01'"):
        ours, reference = _evaluate(source)
        assert same(ours.value, reference.value), (source, ours, reference)
    assert _evaluate("JSON.stringify('😀').length")[0].value == 4.0
