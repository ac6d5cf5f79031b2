"""Property access and method calls on JavaScript values (strings, arrays, objects, numbers).

Generated code calls ``get_member``/``call_method`` when the receiver's type is not known at
compile time; with a known receiver type it binds the method implementation directly.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from transpiler.errors import JSError, range_error, type_error
from transpiler.jslib import numbers
from transpiler.jslib.arrays import ARRAY_METHODS
from transpiler.jslib.coerce import to_integer_or_infinity, to_property_key, to_string
from transpiler.jslib.limits import check_new_array_length
from transpiler.jslib.prototypes import method_signature, unlowered_names
from transpiler.jslib.strings import STRING_METHODS
from transpiler.jslib.values import UNDEFINED, JSFunction, is_array_index
from transpiler.policy import BLOCKED_PROPERTIES


def number_to_fixed(this: float, digits: Any = UNDEFINED, *_: Any) -> str:
    return numbers.to_fixed(this, to_integer_or_infinity(digits))


def number_to_precision(this: float, precision: Any = UNDEFINED, *_: Any) -> str:
    if precision is UNDEFINED:
        return numbers.number_to_string(this)
    return numbers.to_precision(this, to_integer_or_infinity(precision))


def number_to_exponential(this: float, digits: Any = UNDEFINED, *_: Any) -> str:
    d = None if digits is UNDEFINED else to_integer_or_infinity(digits)
    return numbers.to_exponential(this, d)


def number_to_string(this: float, radix: Any = UNDEFINED, *_: Any) -> str:
    if radix is UNDEFINED:
        return numbers.number_to_string(this)
    r = to_integer_or_infinity(radix)
    if not 2.0 <= r <= 36.0:
        raise range_error("toString() radix argument must be between 2 and 36")
    if r == 10.0:
        return numbers.number_to_string(this)
    return numbers.number_to_string_radix(this, int(r))


def _value_of(this: Any, *_: Any) -> Any:
    return this


NUMBER_METHODS: dict[str, Any] = {
    "toFixed": number_to_fixed, "toPrecision": number_to_precision,
    "toExponential": number_to_exponential, "toString": number_to_string,
    "valueOf": _value_of,
}

BOOLEAN_METHODS: dict[str, Any] = {
    "toString": lambda this, *_: "true" if this else "false",
    "valueOf": _value_of,
}


def _has_own_property(this: dict, key: Any = UNDEFINED, *_: Any) -> bool:
    return to_property_key(key) in this


OBJECT_METHODS: dict[str, Any] = {
    "toString": lambda this, *_: "[object Object]",
    "valueOf": _value_of,
    "hasOwnProperty": _has_own_property,
}

_METHODS_BY_TYPE: dict[type, dict[str, Any]] = {
    str: STRING_METHODS, list: ARRAY_METHODS, float: NUMBER_METHODS, bool: BOOLEAN_METHODS,
    dict: OBJECT_METHODS,
}

# every method name the python engine can call on some receiver type
METHOD_NAMES: frozenset[str] = frozenset().union(*(m.keys() for m in _METHODS_BY_TYPE.values()))


_NO_PARAMETERS = frozenset({"toUpperCase", "toLowerCase", "trim", "trimStart", "trimEnd", "toString",
                            "valueOf", "normalize"})
_TWO_PARAMETERS = frozenset({"slice", "substring", "substr", "split", "replace", "replaceAll"})


def _method(cls: type, name: str) -> JSFunction:
    """The function value of a method read without calling it (``'a'.at``), with its length."""
    if name in _TWO_PARAMETERS:
        length = 2
    elif name in _NO_PARAMETERS and not (cls is float and name == "toString"):
        length = 0
    else:
        length = 1
    return JSFunction(name, None, length, cls)


def _not_lowered(name: str) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        raise JSError("InternalError", f"the python engine does not implement '{name}': "
                                       f"use engine='auto' or engine='quickjs'")
    return call


def _placeholders(cls: type, implemented: dict[str, Any], protos: tuple[str, ...]) -> dict[str, JSFunction]:
    """Function values for the built-in methods of ``cls`` that the python engine does not
    implement (from QuickJS's prototypes): a computed read (``arr['fl' + 'at']``) gives a
    function of the right name and length, not undefined; calling it is an InternalError."""
    out = {}
    for name in unlowered_names(implemented, protos) - BLOCKED_PROPERTIES:
        signature = method_signature(name, protos)
        if signature is not None:
            out[name] = JSFunction(signature[1], _not_lowered(name), signature[0], cls)
    return out


_PLACEHOLDERS: dict[type, dict[str, JSFunction]] = {
    str: _placeholders(str, STRING_METHODS, ("String",)),
    list: _placeholders(list, ARRAY_METHODS, ("Array",)),
    float: _placeholders(float, NUMBER_METHODS, ("Number",)),
    bool: _placeholders(bool, BOOLEAN_METHODS, ("Boolean",)),
    dict: _placeholders(dict, OBJECT_METHODS, ()),
    JSFunction: _placeholders(JSFunction, {"name": 0, "length": 0}, ("Function",)),
}


def call_with_this(fn: JSFunction, this: Any, args: tuple) -> Any:
    """Call(fn, this, args) for a function value: a builtin ignores ``this``; a method read as
    a value (``[[].join][0]()``, ``{toString: ''.at}``) runs with ``this`` as its receiver
    (String methods convert it with ToString, other receivers must be of the method's type)."""
    owner, name = fn.owner, fn.name
    if fn.impl is not None:
        return fn.impl(*args)
    if owner is list:
        return ARRAY_METHODS[name](this if this.__class__ is list else _array_like(this), *args)
    if owner is str:
        return STRING_METHODS[name](to_string(this), *args)
    if owner is dict and name == "toString":
        return "[object Array]" if this.__class__ is list else "[object Object]"
    if owner is dict and name == "valueOf":
        return this
    if owner is dict and this.__class__ is list:
        key = to_property_key(args[0] if args else UNDEFINED)
        return key == "length" or (is_array_index(key) and int(key) < len(this))
    if owner is dict and this.__class__ is dict:
        return to_property_key(args[0] if args else UNDEFINED) in this
    raise type_error(f"{name} called on an incompatible receiver")


def _array_like(this: Any) -> list:
    """``this`` as a generic Array.prototype method sees it (ToObject, LengthOfArrayLike, then
    Get of each index; a missing index reads as undefined): ``{toJSON: [].join}``."""
    if this.__class__ is str:
        return list(this)
    if this.__class__ is not dict:
        return []  # a number or boolean: its wrapper object has no length
    n = to_integer_or_infinity(this.get("length", UNDEFINED))
    if n <= 0:
        return []
    check_new_array_length(n)  # bounded like every array the engine builds
    return [this.get(str(i), UNDEFINED) for i in range(int(n))]


def _nullish_read(obj: Any, key: Any) -> Exception:
    return type_error(f"cannot read property '{to_string(key)}' of {to_string(obj)}")


def _index(key: Any) -> int | None:
    """The array index a property key denotes, or None."""
    if key.__class__ is float:
        if key >= 0.0 and key.is_integer() and key < 4294967295.0:
            return int(key)
        return None
    if key.__class__ is str and is_array_index(key):
        return int(key)
    return None


def get_member(obj: Any, key: Any) -> Any:
    """``obj[key]`` (and ``obj.key``) for the value kinds of the python engine."""
    cls = obj.__class__
    if cls is dict:
        k = key if key.__class__ is str else to_property_key(key)
        v = obj.get(k, UNDEFINED)
        if v is UNDEFINED and k not in obj:
            if k in OBJECT_METHODS:
                return _method(cls, k)
            return _PLACEHOLDERS[dict].get(k, UNDEFINED)
        return v
    if cls is list or cls is str:
        if key.__class__ is not float and key.__class__ is not str:
            key = to_property_key(key)  # [0], true, null ...: the index their string names
        i = _index(key)
        if i is not None:
            return obj[i] if i < len(obj) else UNDEFINED
        k = key if key.__class__ is str else to_property_key(key)
        if k == "length":
            return float(len(obj))
        if k in _METHODS_BY_TYPE[cls] and k not in BLOCKED_PROPERTIES:
            return _method(cls, k)
        return _PLACEHOLDERS[cls].get(k, UNDEFINED)
    if obj is None or obj is UNDEFINED:
        raise _nullish_read(obj, key)
    k = key if key.__class__ is str else to_property_key(key)
    if cls is JSFunction:
        if k == "length" and obj.length is not None:
            return float(obj.length)
        if k == "name":
            return obj.name
        return _PLACEHOLDERS[JSFunction].get(k, UNDEFINED)
    methods = _METHODS_BY_TYPE.get(cls)
    if methods is not None and k in methods:
        return _method(cls, k)
    return _PLACEHOLDERS.get(cls, {}).get(k, UNDEFINED)


def call_method(obj: Any, key: Any, *args: Any) -> Any:
    """``obj.key(...args)`` with arguments that cannot throw: the method of the receiver's
    type, or a TypeError. (With arguments that may throw, generated code uses
    ``method_reference`` so that the property is read before they are evaluated.)"""
    methods = _METHODS_BY_TYPE.get(obj.__class__)
    if methods is not None and obj.__class__ is not dict and key.__class__ is str:
        impl = methods.get(key)
        if impl is not None:  # the common case, without building a bound callee
            return impl(obj, *args)
    return method_reference(obj, key)(*args)


def method_reference(obj: Any, key: Any) -> Callable[..., Any]:
    """The callee of ``obj.key(...)``, read before the arguments are evaluated.

    ECMA-262 13.3.6.1: the member is evaluated first (GetValue: a TypeError for a null or
    undefined base), then the arguments left to right, then EvaluateCall checks IsCallable
    ("not a function" is thrown after the arguments). The result is a callable taking the
    arguments; ``this`` is ``obj``.
    """
    cls = obj.__class__
    if obj is None or obj is UNDEFINED:
        raise _nullish_read(obj, key)
    k = key if key.__class__ is str else to_property_key(key)
    if cls is dict and k in obj:
        return partial(_call_with_receiver, obj[k], obj)
    methods = _METHODS_BY_TYPE.get(cls)
    if methods is not None:
        impl = methods.get(k)
        if impl is not None:
            return partial(impl, obj)
    if cls is list:  # [Math.max][0](1, 2): a function stored in the array
        return partial(_call_with_receiver, get_member(obj, k), obj)
    return _not_a_function


def _call_with_receiver(fn: Any, this: Any, *args: Any) -> Any:
    if fn.__class__ is JSFunction:
        return call_with_this(fn, this, args)
    raise type_error("not a function")


def _not_a_function(*_: Any) -> Any:
    raise type_error("not a function")


def call_value(fn: Any, *args: Any) -> Any:
    """Call a function value (``(a ? Math.min : Math.max)(x, y)``)."""
    if fn.__class__ is JSFunction and fn.impl is not None:
        return fn.impl(*args)
    raise type_error("not a function")


def length(obj: Any) -> Any:
    """``obj.length``: the common case of ``get_member`` without the key conversion."""
    cls = obj.__class__
    if cls is str or cls is list:
        return float(len(obj))
    return get_member(obj, "length")



