"""``python -m transpiler explain '<expr>' --vars press,tF``: what the compiler made of it."""

from __future__ import annotations

import argparse
import os
import sys

from transpiler.environment import ENGINES, compile_expression
from transpiler.errors import ExpressionError


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # the reader went away (`... | head -1`): end quietly
        try:  # and keep Python's final flush of stdout from raising again
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass
        return 0


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m transpiler")
    sub = parser.add_subparsers(dest="command", required=True)
    explain = sub.add_parser("explain", help="show the engine, dependencies and generated code")
    explain.add_argument("expression")
    explain.add_argument("--vars", default="", help="comma-separated variable names")
    explain.add_argument("--engine", default="auto", choices=ENGINES)
    args = parser.parse_args(argv)
    variables = [v.strip() for v in args.vars.split(",") if v.strip()]
    try:
        compiled = compile_expression(args.expression, variables, engine=args.engine)
    except ExpressionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"expression:   {compiled.source}")
    print(f"engine:       {compiled.engine} ({compiled.reason})")
    print(f"dependencies: {', '.join(compiled.dependencies) or '(none)'}")
    print(f"static:       {'yes' if compiled.is_static else 'no'}")
    print(f"pure:         {'yes' if compiled.is_pure else 'no (Date.now/Math.random: evaluated every time)'}")
    if compiled.python_source:
        print("python source:")
        print("    " + compiled.python_source.rstrip().replace("\n", "\n    "))
    return 0


if __name__ == "__main__":
    sys.exit(main())
