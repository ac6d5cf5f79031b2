"""The namespace generated code runs in: every runtime helper under a short ``_name``.

Codegen refers to helpers only by these names, so this table is the whole interface between
generated code and ``jslib``; a reader of ``python_source`` finds each name here.
"""

from __future__ import annotations

import math
from typing import Any

from transpiler.jslib import arrays, builtins, coerce, jmath, limits, members, operators, strings, values
from transpiler.jslib.numbers import number_to_string


def _first(value: Any, *ignored: Any) -> Any:
    """Evaluate extra call arguments for their effects, keep the call's result."""
    return value


HELPERS: dict[str, Any] = {
    "_UNDEF": values.UNDEFINED, "_NAN": math.nan, "_INF": math.inf,
    "_imp": values.import_value, "_exp": values.export_value, "_from16": values.from_utf16,
    "_obj": values.js_object, "_first": _first,
    "_num": coerce.to_number, "_str": coerce.to_string, "_bool": coerce.to_boolean,
    "_typeof": coerce.typeof, "_n2s": number_to_string,
    "_leq": coerce.loose_equals, "_seq": coerce.strict_equals,
    "_lt": coerce.less_than, "_gt": coerce.greater_than,
    "_le": coerce.less_equal, "_ge": coerce.greater_equal,
    "_add": operators.add, "_sub": operators.sub, "_mul": operators.mul,
    "_div": operators.div, "_mod": operators.mod, "_pow": operators.power,
    "_neg": operators.neg, "_bnot": operators.bit_not, "_band": operators.bit_and,
    "_bor": operators.bit_or, "_bxor": operators.bit_xor, "_shl": operators.shift_left,
    "_shr": operators.shift_right, "_ushr": operators.shift_right_unsigned,
    "_get": members.get_member, "_len": members.length, "_call": members.call_method,
    "_mref": members.method_reference,
    "_callv": members.call_value, "_msqrt": math.sqrt, "_mpow": math.pow, "_check_len": strings.check_length,
    "_too_long": limits.too_long, "_big_string": limits.big_string,
}

# bound implementations, by the name codegen derives from what they implement
for _name, _fn in builtins.GLOBAL_FUNCTIONS.items():
    HELPERS[f"_g_{_name}"] = _fn
for _name, _fn in builtins.GLOBAL_FUNCTIONS.items():
    HELPERS[f"_fv_{_name}"] = values.JSFunction(_name, _fn, builtins.FUNCTION_LENGTHS.get(_name, 1))
for _ns, _table in builtins.NAMESPACE_FUNCTIONS.items():
    for _name, _fn in _table.items():
        HELPERS[f"_{_ns}_{_name}"] = _fn
        if _fn is builtins.GLOBAL_FUNCTIONS.get(_name):
            # one function object under two names (Number.parseFloat === parseFloat,
            # ECMA-262 21.1.2.12/13): the same value, so === and identity agree
            HELPERS[f"_fv_{_ns}_{_name}"] = HELPERS[f"_fv_{_name}"]
            continue
        HELPERS[f"_fv_{_ns}_{_name}"] = values.JSFunction(
            _name, jmath.as_value(_name) if _ns == "Math" else _fn,
            builtins.FUNCTION_LENGTHS.get(f"{_ns}.{_name}", 1))
for _prefix, _table in (("_s_", strings.STRING_METHODS), ("_a_", arrays.ARRAY_METHODS),
                        ("_n_", members.NUMBER_METHODS)):
    for _name, _fn in _table.items():
        HELPERS[_prefix + _name] = _fn
