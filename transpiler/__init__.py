"""JavaScript mapping expressions compiled to Python closures with ECMAScript semantics.

``compile_expression(source, variables, engine=...)`` is the entry point; see README.md for
the supported subset and what goes to QuickJS.
"""

from transpiler.environment import CompiledExpression, compile_expression
from transpiler.errors import ExpressionError, JSError
from transpiler.jslib.values import UNDEFINED, JSFunction

__all__ = ["CompiledExpression", "ExpressionError", "JSError", "JSFunction", "UNDEFINED",
           "compile_expression"]
