"""The python engine's memory bound: the longest string and array an operation may build.

Every builder of a string or array (``repeat``, ``padStart``/``padEnd``, ``concat``, ``+`` and
template literals, ``join``, ``split``, ``replace``/``replaceAll``, ``JSON.stringify``,
``normalize``, case mapping, array ``toString``/``concat``; ``JSON.parse`` bounds its number of
values) computes the length its result
*would* have and calls ``check_new_length`` / ``check_new_array_length`` **before** building
it, so an expression can never hold much more than the cap (the inputs it already has, plus
at most one chunk). Over the cap is a ``RangeError``, as in QuickJS (whose own string limit is
2**30 - 1 and whose memory limit stops arrays at a few million elements).

**Time.** The python engine has no loops, so an evaluation's time is a sum of operations, and
only operations on large strings or arrays take long. Each of them reports its work to
``heavy_work()`` (the builders above through ``check_new_length``/``check_new_array_length``
from HEAVY_LENGTH on; long case mappings, normalizations and JSON serializations once per
chunk): the first report of an evaluation notes the time, a later one past TIME_LIMIT raises
``JSError("InternalError", "interrupted: time limit of 1 s exceeded")``. Evaluations that
never touch a large value never look at a clock (the hot path is unchanged).

This module imports nothing from ``jslib``, so every other module can use it.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time

from transpiler.errors import JSError

MAX_STRING_LENGTH = 2**24
"""Longest string (in UTF-16 code units) an operation may build; longer is a RangeError.
Settable (tests lower it)."""

MAX_ARRAY_LENGTH = 2**20
"""Most elements an array built by the python engine (``split``, ``concat``) may have; more is
a RangeError. A list element costs 8 bytes plus, for ``split``, a string object of ~50-80
bytes, so this keeps an array's memory near that of the longest string. Settable."""


TIME_LIMIT = 1.0
"""Seconds of wall-clock time a python-engine evaluation may spend once it works on large
values (see the module docstring). Settable."""

HEAVY_LENGTH = 1 << 16
"""From this many code units (or elements / 16), an operation reports to ``heavy_work``."""


def check_new_length(n: float) -> None:
    """Raise RangeError("invalid string length") when a string of ``n`` UTF-16 code units would
    be longer than MAX_STRING_LENGTH: the one check every string builder makes before building.
    A large ``n`` is reported to ``heavy_work``."""
    if n > MAX_STRING_LENGTH:
        raise JSError("RangeError", "invalid string length")
    if n > HEAVY_LENGTH:
        heavy_work()


def check_new_array_length(n: float) -> None:
    """Raise RangeError("invalid array length") when an array of ``n`` elements would be longer
    than MAX_ARRAY_LENGTH (checked before building). A large ``n`` is reported to ``heavy_work``."""
    if n > MAX_ARRAY_LENGTH:
        raise JSError("RangeError", "invalid array length")
    if n > HEAVY_LENGTH >> 4:
        heavy_work()


class _Evaluation(threading.local):
    frame = None  # the generated function's frame that last reported heavy work
    start = 0.0


_evaluation = _Evaluation()


def heavy_work() -> None:
    """Called before (and during) work on a large value. Inside a python-engine evaluation
    (a frame of the generated code, file ``<expression>``), raise InternalError when the
    evaluation's first report was more than TIME_LIMIT seconds ago.

    The evaluation is told apart by its frame object, which is held until the next report
    from another evaluation (then cleared, releasing its locals): identity, not ``id()``,
    so a later call can never be taken for this one."""
    frame = sys._getframe(1)
    for _ in range(16):
        if frame is None:
            return  # not called from generated code (a direct jslib call, constant folding)
        if frame.f_code.co_filename == "<expression>":
            break
        frame = frame.f_back
    else:
        return
    state = _evaluation
    now = time.monotonic()
    if state.frame is frame:
        if now - state.start > TIME_LIMIT:
            raise JSError("InternalError", f"interrupted: time limit of {TIME_LIMIT:g} s exceeded")
        return
    old = state.frame
    state.frame, state.start = frame, now
    if old is not None:
        with contextlib.suppress(RuntimeError):  # still running (not for generated code)
            old.clear()  # a finished evaluation: release what it held


def check_work(n: int) -> None:
    """Report an operation about to do work proportional to ``n`` (code units or elements)."""
    if n > HEAVY_LENGTH:
        heavy_work()


def big_string(n: int, most: int) -> bool:
    """For generated concatenations past HEAVY_LENGTH: report the work, say if ``n`` fits
    under ``most`` (the cap less the literal text)."""
    heavy_work()
    return n <= most


def too_long() -> str:
    """Raise the RangeError of a string over the cap (generated code: ``s if ok else _too_long()``)."""
    raise JSError("RangeError", "invalid string length")
