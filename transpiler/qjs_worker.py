"""The QuickJS worker process: one ``Sandbox`` served over its stdin/stdout pipes.

Started by ``transpiler.quickjs_engine`` as ``python -E -s -S <this file> <directory of
_quickjs>``; it imports only the standard library, ``_quickjs`` and its sibling ``qjs_sandbox``
(not the ``transpiler`` package, not ``site``), so it starts in a few tens of milliseconds.
The supervisor kills it when an evaluation passes its wall-clock deadline, so nothing here
polls a clock.

Frames (little-endian): a request is ``<IBI`` (payload length, op, key) + payload; a reply is
``<IB`` (payload length, status) + payload, UTF-8.

======  ==========================================  ============================================
op      payload                                     reply
======  ==========================================  ============================================
SETUP   JSON ``[memory_limit, stack_limit]``        status 0
DEFINE  the function's JavaScript source            status 0, or 1 + QuickJS's error text
FORGET  (empty)                                     none
CALL    JSON array of tagged arguments              0 + tagged result JSON, or 1 + exception text
======  ==========================================  ============================================
"""

from __future__ import annotations

import json
import os
import signal
import struct
import sys

SETUP, DEFINE, FORGET, CALL = 0, 1, 2, 3
REQUEST = struct.Struct("<IBI")
REPLY = struct.Struct("<IB")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _tie_to_parent() -> None:
    """Die with the supervisor: SIGKILL when the parent exits (Linux), even in the middle of a
    runaway evaluation that would never read the closed pipe; terminal signals (Ctrl-C) are the
    parent's to handle (it runs in its own session too)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the closed pipe still ends an idle worker
        return
    if os.getppid() != int(os.environ.get("QJS_WORKER_PARENT", os.getppid())):
        sys.exit(0)  # the parent died before prctl took effect


def main() -> None:
    _tie_to_parent()
    if len(sys.argv) > 1:  # started without site (-S): where _quickjs is
        sys.path.append(sys.argv[1])
    from qjs_sandbox import Sandbox  # the sibling module: this file's directory is sys.path[0]

    out = os.dup(1)
    os.dup2(2, 1)  # anything printed by accident goes to stderr, never into the reply pipe
    inp = os.fdopen(0, "rb", buffering=1 << 16)
    read = inp.read
    sandbox: Sandbox | None = None
    while True:
        header = read(REQUEST.size)
        if len(header) < REQUEST.size:
            return  # the supervisor closed the pipe
        size, op, key = REQUEST.unpack(header)
        payload = read(size) if size else b""
        if op == CALL:
            ok, text = sandbox.call(key, payload.decode())
            data = text.encode("utf-8", "surrogatepass")
            _write_all(out, REPLY.pack(len(data), 0 if ok else 1) + data)
        elif op == DEFINE:
            error = sandbox.define(key, payload.decode())
            data = b"" if error is None else error.encode("utf-8", "surrogatepass")
            _write_all(out, REPLY.pack(len(data), 0 if error is None else 1) + data)
        elif op == FORGET:
            sandbox.forget(key)
        elif op == SETUP:
            memory_limit, stack_limit = json.loads(payload)
            sandbox = Sandbox(memory_limit, stack_limit)
            _write_all(out, REPLY.pack(0, 0))
        else:
            sys.exit(f"qjs_worker: unknown op {op}")


if __name__ == "__main__":
    main()
