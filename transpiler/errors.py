"""The two exception types of the transpiler: compile-time and evaluation-time."""

from __future__ import annotations


class ExpressionError(ValueError):
    """A mapping expression cannot be compiled: syntax, blocked construct, unknown name, ..."""


class JSError(Exception):
    """A JavaScript exception raised while evaluating an expression (either engine).

    ``name`` is the JavaScript error constructor name (``TypeError``, ``RangeError``, ...),
    ``message`` its message, so that callers can report it exactly as JavaScript would.
    """

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message

    def __reduce__(self):  # keep picklable despite the two-argument constructor
        return (type(self), (self.name, self.message))


def type_error(message: str) -> JSError:
    return JSError("TypeError", message)


def range_error(message: str) -> JSError:
    return JSError("RangeError", message)
