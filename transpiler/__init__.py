"""JavaScript mapping expressions compiled to Python closures with ECMAScript semantics."""

from transpiler.errors import ExpressionError, JSError
from transpiler.jslib.values import UNDEFINED

__all__ = ["ExpressionError", "JSError", "UNDEFINED"]
