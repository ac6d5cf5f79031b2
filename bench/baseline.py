"""An earlier version of the code ("today's", before a change) to measure against in the same run.

``python -m bench --baseline REV`` exports the commit REV of this repository (``git archive``) into
a temporary directory; ``--baseline DIR`` uses a checkout as it is. The baseline's processor runs
in subprocesses (the CLI, the connectors: ``root``) and, for the processor-level comparisons, in
this process: ``load`` imports its ``runtime`` and ``transpiler`` packages under their own names
and then puts ours back, so that both processors live side by side and their timings can be
interleaved sample by sample.
"""

from __future__ import annotations

import importlib
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
_PACKAGES = ("runtime", "transpiler")


def checkout(spec: str) -> tuple[Path, str]:
    """``(directory, description)`` of the baseline ``spec``: an existing directory, or a commit
    of this repository exported to a temporary directory (kept until the process exits)."""
    path = Path(spec)
    if path.is_dir():
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=path, capture_output=True,
                             text=True, check=False).stdout.strip()
        return path.resolve(), f"{path} (commit {rev or 'unknown'})"
    rev = subprocess.run(["git", "rev-parse", "--short", spec], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    data = subprocess.run(["git", "archive", "--format=tar", rev], cwd=ROOT, capture_output=True,
                          check=True).stdout
    target = Path(tempfile.mkdtemp(prefix=f"streamproc-baseline-{rev}-"))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(target, filter="data")
    return target, f"commit {rev}"


def _ours(name: str) -> bool:
    return name.split(".", 1)[0] in _PACKAGES


def load(root: Path) -> ModuleType:
    """The baseline's ``runtime`` package (with ``runtime.processor`` imported), loaded from
    ``root`` without replacing ours in ``sys.modules``."""
    saved = {k: v for k, v in sys.modules.items() if _ours(k)}
    for k in saved:
        del sys.modules[k]
    sys.path.insert(0, str(root))
    try:
        runtime = importlib.import_module("runtime")
        importlib.import_module("runtime.processor")
        importlib.import_module("transpiler.quickjs_engine")  # imported lazily by the engine
    finally:
        sys.path.remove(str(root))
        for k in [k for k in sys.modules if _ours(k)]:
            del sys.modules[k]
        sys.modules.update(saved)
    return runtime
