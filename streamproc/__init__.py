"""``streamproc``: the distribution's name as a package, for its version.

The stream processor itself is the ``runtime`` package (``from runtime import StreamProcessor``),
the expression compiler the ``transpiler`` package.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__: str = version("streamproc")  # the installed distribution's metadata (pyproject.toml)
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
