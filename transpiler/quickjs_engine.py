"""The QuickJS fallback engine: expressions outside the transpiler's subset run here.

Built on the ``quickjs-ng`` package (its C extension is ``_quickjs``).

Where evaluation happens
    Each ``QuickJSEngine`` owns one **worker process** (``transpiler/qjs_worker.py``, started
    with ``python -E -s -S``, talking over two pipes with length-prefixed binary frames) holding
    one sandboxed QuickJS runtime+context (``transpiler/qjs_sandbox.py``). Engines share
    nothing: the processor gives every ``StreamProcessor`` its own engine, so two
    configurations never see each other's values, errors or hooks.

Compilation
    ``QuickJSEngine.compile(source, params)`` checks in this process that ``source`` is one
    JavaScript *expression* (``check_syntax``: parsing only, no user code runs), then defines
    ``function (<params>) { "use strict"; return (<source>); }`` in the worker and returns a
    Python callable taking the params positionally. The engine keeps each live function's
    source, so a replacement worker gets every function defined again before its first call.

Limits (``QuickJSLimits``)
    ``time_limit`` (default 1 s) is **wall-clock** time per evaluation, enforced by this
    process: it waits for the reply with ``poll()`` until the deadline, then kills the worker
    (SIGKILL, reaped at once, so the runaway stops using CPU and memory) and raises
    ``JSError("InternalError", "interrupted: time limit of 1 s exceeded (wall clock); ...")``;
    the next call starts a new worker (~50-100 ms) and redefines the functions. Nothing depends on
    QuickJS polling its interrupt handler, so built-ins that do not poll it (``Array.prototype.join``
    on huge sparse arrays, BigInt arithmetic, regular-expression backtracking) are stopped too.
    ``time_limit <= 0`` disables the deadline. ``memory_limit`` (64 MiB) is the worker's QuickJS
    runtime limit; ``stack_limit`` (1 MiB) its stack. After an out-of-memory error or a crash the
    worker is replaced as well, and so after *any* failure of a round trip with the worker (its
    pipes could hold half a frame): the call raises ``JSError("InternalError", ...)``.
    ``QuickJSLimits`` refuses (``LimitError``, a ValueError) a NaN or infinite time limit, one
    above ``MAX_TIME_LIMIT`` (one day; ``poll()`` takes an int32 of milliseconds), a memory limit
    below ``MIN_MEMORY_LIMIT`` (1 MiB: the sandbox's set-up needs it) and a stack limit below
    ``MIN_STACK_LIMIT`` (64 KiB).

    ``in_process=True`` evaluates in this process instead (one context per thread, as before
    this design): about 10x cheaper per call, but the time limit is then quickjs-ng's interrupt
    handler, which measures *process CPU* time and is not polled inside some built-ins (a join
    of ``new Array(1e9)`` runs for tens of seconds). For trusted mappings only.

Cost
    One evaluation is one round trip over the pipes: the arguments are JSON-encoded here, the
    result JSON-encoded by the sandbox; about 25-40 us of this process's CPU per call on the
    development machine, against ~3 us in process with ``in_process=True`` (see README,
    "Sandbox"). ``evaluate_many`` sends several evaluations in one round trip.

Values (Python <-> JavaScript)
    number <-> ``float`` (``int`` accepted as input; results are always ``float``; -0.0, NaN and
    +-inf preserved), string <-> ``str`` (astral characters and lone surrogates survive; a
    ``str`` in the transpiler's UTF-16 form, with surrogate pairs, is accepted too), boolean <->
    ``bool``, null <-> ``None``, undefined <-> ``UNDEFINED``, array <-> ``list`` (tuples accepted),
    plain object <-> ``dict`` in JavaScript key order, nested arbitrarily with the special values
    preserved. A function result becomes ``JSFunction(name, None)``; a BigInt result a Python
    ``int``. Other objects leave the engine the way ``JSON.stringify`` sees them (``toJSON`` is
    honoured, so a Date becomes its ISO string; boxed primitives are unboxed; a Map, Set or RegExp
    becomes ``{}``), except that undefined/-0/NaN/Infinity are kept. A cycle, a Symbol or nesting
    deeper than 500 levels raises ``JSError("TypeError"/"RangeError", ...)``. Both directions
    are tagged JSON (JSON alone would lose -0, NaN, undefined).

Errors
    A JavaScript exception raises ``JSError(name, message)``; a thrown non-Error value becomes
    ``JSError("Error", "Uncaught <value>")``. Exhausted memory raises
    ``JSError("InternalError", "out of memory (limit 64 MiB)")``; endless recursion QuickJS's
    ``RangeError: Maximum call stack size exceeded``. (quickjs-ng reports an out-of-memory that
    happens while it builds the error object as a thrown ``null``: a caught ``null`` is reported
    as out of memory unless the expression's source contains ``throw``; while compiling it is
    always out of memory, as ``ExpressionError("InternalError: out of memory while compiling
    the expression (limit 1 MiB)")``.)

Sandbox (defence in depth; the compile-time checks refuse these names first)
    See ``transpiler.qjs_sandbox``: dangerous globals removed, the Function constructors
    disabled, accessors that write runtime state (``Error.stackTraceLimit``,
    ``Error.prepareStackTrace``) turned into read-only data, every reachable intrinsic and the
    global object deep-frozen, pending jobs run to the end after every evaluation (the runtime
    is asked, the source is never read). The price of freezing is the "override mistake":
    assigning a property whose name exists on a frozen prototype (``o.toString = f``,
    ``Object.assign({}, {valueOf: 1})``) throws a TypeError.

Threads
    Any thread may call; one lock per engine serialises the round trips to its worker. (In
    process, each thread has its own context instead.)

Parsing and the static checks (dependencies, blocked names) are the transpiler's one front-end
(``transpiler.analysis``); this module only compiles and runs what it accepted.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import select
import struct
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _quickjs
import orjson

from transpiler.errors import ExpressionError, JSError
from transpiler.jslib.values import UNDEFINED, JSFunction, from_utf16, int_to_double
from transpiler.policy import is_identifier_name
from transpiler.qjs_sandbox import Sandbox

__all__ = [
    "QuickJSLimits", "LimitError", "QuickJSEngine", "default_engine",
]


@dataclass(frozen=True)
class QuickJSLimits:
    """Bounds of one QuickJS evaluation (see the module docstring)."""

    time_limit: float = 1.0  # seconds of wall-clock time per evaluation; <= 0: none
    memory_limit: int = 64 * 1024 * 1024  # bytes, per engine's QuickJS runtime
    stack_limit: int = 1024 * 1024  # bytes
    in_process: bool = False  # trusted mappings only: no worker, CPU-time interrupt handler

    def __post_init__(self) -> None:
        """Refuse limits the engine cannot honour (raises ``LimitError``, a ValueError naming
        the field, the value and what is expected): a NaN or infinite time limit, one above
        ``MAX_TIME_LIMIT`` (``poll()`` takes an int32 of milliseconds), a memory limit below
        ``MIN_MEMORY_LIMIT`` (the sandbox's own set-up needs about 1 MiB: below it every error
        would be an out-of-memory), a stack limit below ``MIN_STACK_LIMIT``."""
        t = self.time_limit
        if t.__class__ is bool or not isinstance(t, (int, float)) or not math.isfinite(t):
            raise LimitError("time_limit", t, "a finite number of seconds (<= 0: no limit)")
        if t > MAX_TIME_LIMIT:
            raise LimitError("time_limit", t, f"at most {MAX_TIME_LIMIT:g} seconds (<= 0: no limit)")
        for name, minimum in (("memory_limit", MIN_MEMORY_LIMIT), ("stack_limit", MIN_STACK_LIMIT)):
            v = getattr(self, name)
            if v.__class__ is bool or not isinstance(v, int) or not minimum <= v <= sys.maxsize:
                raise LimitError(name, v, f"an integer number of bytes from {minimum} "
                                          f"({_size(minimum)}) to {sys.maxsize}")


MAX_TIME_LIMIT = 86400.0  # seconds: one day per evaluation; a longer one is no limit at all
MIN_MEMORY_LIMIT = 1024 * 1024  # bytes
MIN_STACK_LIMIT = 64 * 1024  # bytes


class LimitError(ValueError):
    """A ``QuickJSLimits`` field out of range; ``field`` is its name."""

    def __init__(self, field: str, value: Any, expected: str) -> None:
        super().__init__(f"{field}: invalid value {value!r}; expected {expected}")
        self.field = field


_THROW_HINT = re.compile(r"\bthrow\b")


# --------------------------------------------------------------------------------------------
# Python side of the value mapping
# --------------------------------------------------------------------------------------------

def _tag(v: Any) -> Any:
    """Python value -> the JSON-able tagged form decoded by ``dec`` in JavaScript."""
    cls = v.__class__
    if cls is str:
        return v
    if cls is bool or v is None:
        return v
    if cls is float:
        if math.isfinite(v) and (v != 0.0 or math.copysign(1.0, v) > 0):
            return v
        return ["n", _FLOAT_TAGS[v] if not math.isnan(v) else "NaN"] if v != 0.0 else ["n", "-0"]
    if v is UNDEFINED:
        return ["u"]
    if isinstance(v, bool):
        return bool(v)
    if isinstance(v, int):
        return _tag(int_to_double(v))
    if isinstance(v, float):
        return _tag(float(v))
    if isinstance(v, str):
        return str(v)
    if isinstance(v, (list, tuple)):
        return ["a", *[_tag(x) for x in v]]
    if isinstance(v, dict):
        out: list[Any] = ["o"]
        for k, x in v.items():
            out.append(str(k))
            out.append(_tag(x))
        return out
    raise TypeError(f"cannot pass a Python {cls.__name__} to a JavaScript expression: {v!r}")


_FLOAT_NAMES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "-0": -0.0}
_FLOAT_TAGS = {math.inf: "Infinity", -math.inf: "-Infinity"}


def _loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # lone surrogates, which orjson refuses
        return json.loads(text)


def _untag(v: Any) -> Any:
    """Tagged JSON (from ``enc`` in JavaScript) -> Python value."""
    cls = v.__class__
    if cls is list:
        tag = v[0]
        if tag == "a":
            return [_untag(x) for x in v[1:]]
        if tag == "o":
            return {from_utf16(v[i]): _untag(v[i + 1]) for i in range(1, len(v), 2)}
        if tag == "u":
            return UNDEFINED
        if tag == "n":
            return _FLOAT_NAMES[v[1]]
        if tag == "f":
            return JSFunction(v[1], None)
        if tag == "b":
            return int(v[1])
        raise AssertionError(f"bad result tag {tag!r}")
    if cls is int:
        return float(v)
    if cls is str:
        return from_utf16(v)
    return v


# --------------------------------------------------------------------------------------------
# The worker process and its supervision
# --------------------------------------------------------------------------------------------

_WORKER_PATH = str(Path(__file__).with_name("qjs_worker.py"))
_SETUP, _DEFINE, _FORGET, _CALL = 0, 1, 2, 3
_REQUEST = struct.Struct("<IBI")
_REPLY = struct.Struct("<IB")
_START_TIMEOUT = 30.0  # seconds for a worker to start, set up and define (no user code runs)


class _Stopped(Exception):
    """The worker is gone: killed at its deadline, or it died; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Worker:
    """One QuickJS worker process (``qjs_worker.py``) and the pipes to it."""

    def __init__(self, limits: QuickJSLimits) -> None:
        self.proc = subprocess.Popen(
            # no site: its .pth files cost more than the rest of the start-up; the directory
            # of _quickjs is passed instead
            [sys.executable, "-E", "-s", "-S", _WORKER_PATH, os.path.dirname(_quickjs.__file__)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, close_fds=True,
            start_new_session=True, env={**os.environ, "QJS_WORKER_PARENT": str(os.getpid())})
        self.pid = self.proc.pid
        self.wfd = self.proc.stdin.fileno()
        self.rfd = self.proc.stdout.fileno()
        self.poller = select.poll()
        self.poller.register(self.rfd, select.POLLIN | select.POLLHUP | select.POLLERR)
        self.buf = b""
        payload = orjson.dumps([limits.memory_limit, limits.stack_limit])
        self.request(_SETUP, 0, payload, time.monotonic() + _START_TIMEOUT)

    def send(self, op: int, key: int, payload: bytes) -> None:
        self._write(_REQUEST.pack(len(payload), op, key) + payload)

    def send_many(self, requests: list[tuple[int, int, bytes]]) -> None:
        """Several requests in one write (the worker handles them in order)."""
        self._write(b"".join(_REQUEST.pack(len(p), op, key) + p for op, key, p in requests))

    def _write(self, data: bytes) -> None:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self.wfd, view):]
        except OSError as exc:  # BrokenPipeError: it died
            raise _Stopped(self._exit_reason(f"cannot write to it: {exc}")) from None

    def request(self, op: int, key: int, payload: bytes, deadline: float | None) -> tuple[int, bytes]:
        """Send one request and wait for its reply until ``deadline`` (``time.monotonic()``
        seconds; None: no limit). Raises ``_Stopped`` when the deadline passes (the worker is
        then killed) or the worker dies."""
        self.send(op, key, payload)
        return self.reply(deadline)

    def reply(self, deadline: float | None) -> tuple[int, bytes]:
        """The next reply ``(status, payload)``, waited for until ``deadline``."""
        buf = self.buf
        header = _REPLY.size
        while True:
            if len(buf) >= header:
                size, status = _REPLY.unpack_from(buf)
                if len(buf) >= header + size:
                    self.buf = buf[header + size:]
                    return status, buf[header:header + size]
            if deadline is None:
                timeout = None
            else:
                timeout = deadline - time.monotonic()
                if timeout <= 0.0:
                    self.kill()
                    raise _Stopped("deadline")
                timeout = int(timeout * 1000.0) + 1
            if not self.poller.poll(timeout):
                continue  # the loop re-checks the deadline
            try:
                chunk = os.read(self.rfd, 1 << 20)
            except OSError as exc:
                chunk = b""
                reason = str(exc)
            else:
                reason = "end of its output"
            if not chunk:
                self.kill()
                raise _Stopped(self._exit_reason(reason))
            buf += chunk

    def _exit_reason(self, detail: str) -> str:
        code = self.proc.poll()
        if code is None:
            return detail
        if code < 0:
            return f"killed by signal {-code}"
        return f"exited with status {code}"

    def kill(self) -> None:
        """Stop it now (SIGKILL) and reap it: its CPU and memory are released at once."""
        with suppress(OSError):
            self.proc.kill()
        with suppress(Exception):
            self.proc.wait(5.0)
        for stream in (self.proc.stdin, self.proc.stdout):
            with suppress(OSError):
                stream.close()

    def close(self) -> None:
        """Let it exit by closing its input; kill it if it does not within a second."""
        with suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(1.0)
        except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired or interpreter shutdown
            self.kill()
        with suppress(OSError):
            self.proc.stdout.close()


def _close_worker(box: list) -> None:
    worker = box[0]
    box[0] = None
    if worker is not None:
        worker.close()


# --------------------------------------------------------------------------------------------
# Compiled expressions
# --------------------------------------------------------------------------------------------

_keys = itertools.count(1)


class CompiledExpression:
    """A compiled expression: call it with the parameter values, positionally."""

    __slots__ = ("engine", "source", "params", "_n", "_key", "_throws", "__weakref__")

    def __init__(self, engine: QuickJSEngine, source: str, params: tuple[str, ...]) -> None:
        self.engine = engine
        self.source = source
        self.params = params
        self._n = len(params)
        self._key = next(_keys)
        self._throws = _THROW_HINT.search(source) is not None

    def __repr__(self) -> str:
        return f"<CompiledExpression ({', '.join(self.params)}) => {self.source}>"

    def __call__(self, *args: Any) -> Any:
        if len(args) != self._n:
            raise TypeError(f"expected {self._n} argument(s), got {len(args)}")
        return self.engine._evaluate(self, args)


def _outcome(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, or the JSError it raised (for evaluate_many's list of results)."""
    try:
        return fn(*args)
    except JSError as exc:
        return exc


def _function_source(source: str, params: tuple[str, ...]) -> str:
    """The JavaScript function of a compiled expression (called by the sandbox's ``run``)."""
    return f'(function ({", ".join(params)}) {{ "use strict"; return (\n{source}\n); }})'


def _encode_args(args: tuple) -> bytes:
    """The arguments as the JSON array of tagged values the sandbox's ``dec`` reads."""
    tagged = [a if a.__class__ is float and a - a == 0.0 else _tag(a) for a in args]
    try:
        return orjson.dumps(tagged)
    except orjson.JSONEncodeError:  # surrogates (UTF-16 form or lone): JSON escapes carry them
        return json.dumps(tagged, ensure_ascii=True, allow_nan=False).encode()


_DIRECT = frozenset({float, bool, type(None)})
_SURROGATE = re.compile("[\ud800-\udfff]")


def _direct_arg(sandbox: Sandbox, v: Any) -> Any:
    """An argument for ``Sandbox.call_direct``: a primitive that crosses the C boundary intact,
    or the tagged value parsed into the context."""
    cls = v.__class__
    if cls is str:
        if v.isascii() or _SURROGATE.search(v) is None:
            return v
        v = from_utf16(v)
        if _SURROGATE.search(v) is None:
            return v
        return sandbox.ctx.parse_json(json.dumps(["s", v]))
    if cls is int:
        return int_to_double(v)
    if cls is float or cls is bool or v is None:
        return v
    return sandbox.ctx.parse_json(json.dumps(_tag(v), allow_nan=False))


class _InProcess(threading.local):
    """The opt-in in-process mode: one Sandbox per thread."""

    sandbox: Sandbox | None = None


# --------------------------------------------------------------------------------------------
# The engine
# --------------------------------------------------------------------------------------------

class QuickJSEngine:
    """Compiles expressions into callables evaluated by QuickJS in a supervised worker process
    (or, with ``QuickJSLimits(in_process=True)``, in this process; trusted mappings only).

    Each engine has its own worker, hence its own QuickJS runtime and context: engines share
    nothing. The worker is started on the first ``compile`` and stopped when the engine is
    garbage-collected (or at exit). Thread-safe: one lock serialises the calls into the worker.
    """

    def __init__(self, limits: QuickJSLimits = QuickJSLimits()) -> None:  # noqa: B008
        self.limits = limits
        self._lock = threading.Lock()
        self._sources: dict[int, bytes] = {}  # key -> function source, re-sent to a new worker
        self._forgotten: list[int] = []  # keys of collected CompiledExpressions
        self._box: list[_Worker | None] = [None]
        self._local = _InProcess()
        self._in_process = limits.in_process
        self._finalizer = weakref.finalize(self, _close_worker, self._box)

    @classmethod
    def for_configuration(cls, limits: QuickJSLimits | QuickJSEngine | None) -> QuickJSEngine:
        """A new engine (own worker, own context) for one configuration; ``limits`` may be
        None (defaults), a ``QuickJSLimits``, or an engine to use as it is."""
        if isinstance(limits, QuickJSEngine):
            return limits
        return cls(limits if limits is not None else QuickJSLimits())

    # -- compile-time ---------------------------------------------------------------------

    def check_syntax(self, source: str) -> None:
        """Raise ExpressionError with QuickJS's SyntaxError message and the position
        (line:column) if ``source`` is not a valid JavaScript *expression*.

        The source is parsed (never run: the checking script throws before reaching it) inside
        a strict function both as ``return ( <source> )`` and as ``return [ <source> ]``. Text
        that would close the wrapper early (``1); evil(); (1``) cannot be valid in both, so a
        source passing both is exactly one expression (a comma expression is allowed).
        Parsing runs no user code, so it is done in this process, in a fresh context.
        """
        if not isinstance(source, str):
            raise ExpressionError("expression must be a string")
        if "\0" in source:
            raise ExpressionError("SyntaxError: NUL character in expression")
        if source.strip() == "":
            raise ExpressionError("SyntaxError: empty expression")
        ctx = _quickjs.Context()
        ctx.set_time_limit(max(self.limits.time_limit, 1.0))
        ctx.set_memory_limit(self.limits.memory_limit)
        ctx.set_max_stack_size(self.limits.stack_limit)
        for open_, close in (("(", ")"), ("[", "]")):
            script = f'"use strict"; throw 0; (function () {{ return {open_}\n{source}\n{close}; }})'
            try:
                ctx.eval(script)
            except _quickjs.JSException as exc:
                text = str(exc)
                if text.startswith("0\n"):
                    continue
                raise ExpressionError(self._compile_error(text, source)) from None
            except UnicodeError as exc:  # lone surrogates cannot be passed as UTF-8
                raise ExpressionError(f"SyntaxError: invalid character in expression ({exc})") from None
            raise AssertionError("syntax check script did not throw")

    def compile(self, source: str, params: tuple[str, ...]) -> Callable[..., Any]:
        """Compile ``source`` once into ``function(<params>) { "use strict"; return (<source>); }``
        and return a Python callable taking the params positionally.

        Raises ExpressionError for a syntax error or a bad parameter name, JSError
        ("InternalError") when the worker cannot be started or fails. The function is
        defined in the worker now (starting it if needed) and again in every worker that
        replaces it.
        """
        params = tuple(params)
        for p in params:
            if not is_identifier_name(p):
                raise ExpressionError(f"invalid parameter name {p!r}")
        if len(set(params)) != len(params):
            raise ExpressionError(f"duplicate parameter names in {params!r}")
        self.check_syntax(source)
        compiled = CompiledExpression(self, source, params)
        function_source = _function_source(source, params).encode()
        key = compiled._key
        with self._lock:
            self._sources[key] = function_source  # first: a worker started meanwhile gets it
            try:
                if self._in_process:
                    error = self._sandbox().define(key, function_source.decode())
                else:
                    error = self._define(key, function_source)
            except BaseException:
                del self._sources[key]
                raise
            if error is not None:
                del self._sources[key]
                raise ExpressionError(self._compile_error(error, source))
        weakref.finalize(compiled, self._forgotten.append, key)
        return compiled

    @property
    def worker_pid(self) -> int | None:
        """The process id of the current worker (None when none is running)."""
        worker = self._box[0]
        return worker.pid if worker is not None else None

    def close(self) -> None:
        """Stop the worker now (a later call starts a new one)."""
        with self._lock:
            _close_worker(self._box)

    # -- evaluation -------------------------------------------------------------------------

    def _ready_worker(self) -> Any:
        """The running worker (started if needed) after it forgot the functions whose
        expressions were collected. Called with the lock held."""
        worker = self._box[0] or self._start()
        while self._forgotten:
            key = self._forgotten.pop()
            self._sources.pop(key, None)
            worker.send(_FORGET, key, b"")
        return worker

    def _evaluate(self, compiled: CompiledExpression, args: tuple) -> Any:
        if self._in_process:
            return self._call_in_process(compiled, args)
        payload = _encode_args(args)
        limit = self.limits.time_limit
        with self._lock:
            try:
                worker = self._ready_worker()
                deadline = time.monotonic() + limit if limit > 0 else None
                status, data = worker.request(_CALL, compiled._key, payload, deadline)
            except _Stopped as stopped:
                self._box[0] = None  # the next call starts a new worker
                raise self._stopped_error(stopped) from None
            except BaseException as exc:  # noqa: BLE001 - the pipe may be mid-frame: replace it
                raise self._abandon(exc) from exc
        return self._decode(status == 0, data, compiled)

    def evaluate_many(self, calls: Sequence[tuple[CompiledExpression, tuple]]) -> list[Any]:
        """Evaluate several compiled expressions of this engine in one round trip to the worker
        (e.g. the QuickJS mappings of one message): a list of results in order, each a value or
        the ``JSError`` that evaluation raised. Each evaluation keeps its own wall-clock limit:
        the worker answers each as it finishes, and the deadline of the next one starts when the
        previous answer arrives; after a timeout the rest run in a new worker."""
        for compiled, args in calls:
            if compiled.engine is not self:
                raise ValueError("evaluate_many: an expression compiled by another engine")
            if len(args) != compiled._n:
                raise TypeError(f"expected {compiled._n} argument(s), got {len(args)}")
        if self._in_process or len(calls) < 2:
            return [_outcome(self._evaluate, compiled, args) for compiled, args in calls]
        payloads = [_encode_args(args) for _, args in calls]
        if sum(map(len, payloads)) > 32 * 1024:  # both pipes could fill up: one at a time
            return [_outcome(self._evaluate, compiled, args) for compiled, args in calls]
        replies: list[tuple[int, bytes]] = []
        stopped: _Stopped | JSError | None = None
        limit = self.limits.time_limit
        with self._lock:
            try:
                worker = self._ready_worker()
                worker.send_many([(_CALL, c._key, p) for (c, _), p in zip(calls, payloads)])
                for _ in calls:
                    deadline = time.monotonic() + limit if limit > 0 else None
                    replies.append(worker.reply(deadline))
            except _Stopped as exc:
                self._box[0] = None
                stopped = exc
            except BaseException as exc:  # noqa: BLE001 - the pipe may be mid-frame: replace it
                failure = self._abandon(exc)
                if not isinstance(failure, JSError):
                    raise failure from exc
                stopped = failure  # the result of the call it hit
        results: list[Any] = []
        for (compiled, _), (status, data) in zip(calls, replies):
            current = self._box[0]
            results.append(_outcome(self._decode, status == 0, data, compiled))
            if self._box[0] is not current:  # that result replaced the worker (out of memory):
                break  # the later ones ran in a context that may be unusable
        if stopped is not None and len(results) == len(replies):
            results.append(stopped if isinstance(stopped, JSError) else self._stopped_error(stopped))
        if len(results) < len(calls):  # after a timeout or a replacement: the rest anew
            results += self.evaluate_many(calls[len(results):])
        return results

    def _decode(self, ok: bool, text: bytes | str, compiled: CompiledExpression) -> Any:
        """The Python value of a tagged result (``ok``), or raise its JSError."""
        if ok:
            result = _loads(text)
            cls = result.__class__
            if cls is float or cls is str or cls is bool or result is None:
                return from_utf16(result) if cls is str else result
            if cls is int:
                return float(result)
            if result[0] != "e" and result[0] != "x":
                return _untag(result)
            raise self._error(result, compiled)
        raise self._uncaught(text.decode("utf-8", "surrogatepass") if isinstance(text, bytes) else text)

    def _stopped_error(self, stopped: _Stopped) -> JSError:
        if stopped.reason == "deadline":
            return JSError("InternalError",
                           f"interrupted: time limit of {self.limits.time_limit:g} s exceeded "
                           "(wall clock); the evaluation was stopped")
        return JSError("InternalError", f"the QuickJS worker process stopped ({stopped.reason}); "
                                        "a new one is started for the next evaluation")

    def _abandon(self, exc: BaseException) -> BaseException:
        """After an unexpected failure in a round trip with the worker (caller holds the lock):
        kill the worker, whose pipes may hold half a frame, so that the next call starts a new
        one; the exception to raise (an interrupt such as KeyboardInterrupt is re-raised)."""
        worker = self._box[0]
        self._box[0] = None
        if worker is not None:
            worker.kill()
        if not isinstance(exc, Exception):
            return exc
        return JSError("InternalError", f"the round trip to the QuickJS worker failed "
                                        f"({type(exc).__name__}: {exc}); the worker was replaced")

    def _start(self) -> _Worker:
        """A new worker with every live compiled function defined (caller holds the lock)."""
        worker = _Worker(self.limits)
        self._box[0] = worker
        while self._forgotten:
            self._sources.pop(self._forgotten.pop(), None)
        deadline = time.monotonic() + _START_TIMEOUT
        for key, function_source in list(self._sources.items()):
            worker.request(_DEFINE, key, function_source, deadline)
        return worker

    def _define(self, key: int, function_source: bytes) -> str | None:
        for attempt in (1, 2):
            try:
                worker = self._box[0] or self._start()
                status, data = worker.request(_DEFINE, key, function_source,
                                              time.monotonic() + _START_TIMEOUT)
            except _Stopped as stopped:
                self._box[0] = None
                if attempt == 2:
                    raise self._stopped_error(stopped) from None
                continue
            except BaseException as exc:  # noqa: BLE001 - the pipe may be mid-frame: replace it
                raise self._abandon(exc) from exc
            return None if status == 0 else data.decode("utf-8", "surrogatepass")
        raise AssertionError("unreachable")

    def _sandbox(self) -> Sandbox:
        """This thread's sandbox (in-process mode); functions are defined in it lazily."""
        sandbox = self._local.sandbox
        if sandbox is None or sandbox.spoiled:
            limits = self.limits
            sandbox = Sandbox(limits.memory_limit, limits.stack_limit, limits.time_limit)
            self._local.sandbox = sandbox
        return sandbox

    def _call_in_process(self, compiled: CompiledExpression, args: tuple) -> Any:
        sandbox = self._sandbox()
        key = compiled._key
        if key not in sandbox.functions:  # compiled in another thread, or a new sandbox
            with self._lock:
                while self._forgotten:
                    self._sources.pop(self._forgotten.pop(), None)
                function_source = self._sources[key]
                if len(sandbox.functions) > 2 * len(self._sources) + 64:  # drop collected ones
                    for old in [k for k in sandbox.functions if k not in self._sources]:
                        sandbox.forget(old)
            sandbox.define(key, function_source.decode())
        for a in args:  # numbers, booleans and null cross as they are; the rest is converted
            if a.__class__ not in _DIRECT:
                args = tuple(a if a.__class__ in _DIRECT else _direct_arg(sandbox, a) for a in args)
                break
        try:
            r = sandbox.call_direct(key, args)
        except _quickjs.JSException as exc:
            raise self._uncaught(str(exc)) from None
        cls = r.__class__
        if cls is float or cls is str or cls is bool or r is None:
            return r
        if cls is int:
            return float(r)
        return self._decode(True, _loads(r.json())[0], compiled)

    # -- errors -----------------------------------------------------------------------------

    def _error(self, data: list[Any], compiled: CompiledExpression) -> JSError:
        if data[0] == "e":
            name, message = from_utf16(data[1]), from_utf16(data[2])
            if name == "InternalError" and "out of memory" in message:
                return self._out_of_memory()
            return JSError(name, message)
        value = data[1]
        if value is None and not compiled._throws:
            return self._out_of_memory()
        return JSError("Error", f"Uncaught {from_utf16(value) if value is not None else 'null'}")

    def _compile_error(self, text: str, source: str) -> str:
        """The message of a failed parse or definition: QuickJS's SyntaxError with the position,
        or out of memory with the limit (quickjs-ng throws ``null`` when it runs out of memory
        while building the error object, and no source can make the parser throw ``null``)."""
        first = text.split("\n", 1)[0]
        if first == "null" or "out of memory" in first:
            return (f"InternalError: out of memory while compiling the expression "
                    f"(limit {_size(self.limits.memory_limit)})")
        return _syntax_message(text, source)

    def _out_of_memory(self) -> JSError:
        """After running out of memory the context may be unusable: it is replaced."""
        self._discard()
        return JSError("InternalError", f"out of memory (limit {_size(self.limits.memory_limit)})")

    def _discard(self) -> None:
        if self._in_process:
            self._local.sandbox = None
        else:
            with self._lock:
                worker = self._box[0]
                self._box[0] = None
                if worker is not None:
                    worker.kill()

    def _uncaught(self, text: str) -> JSError:
        """An exception that escaped the adapter: an interrupt, or a failure of the adapter."""
        first = text.split("\n", 1)[0]
        name, sep, message = first.partition(": ")
        if not sep:
            name, message = "InternalError", first
        if name == "InternalError" and message.startswith("interrupted"):
            self._discard()
            return JSError(
                "InternalError", f"interrupted: time limit of {self.limits.time_limit:g} s exceeded"
            )
        if "out of memory" in message or first == "null":
            return self._out_of_memory()
        self._discard()
        return JSError(name or "InternalError", message)


def _size(n: int) -> str:
    if n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} bytes"


_POSITION = re.compile(r"at <input>:(\d+):(\d+)")


def _syntax_message(text: str, source: str) -> str:
    """QuickJS's exception text for the wrapped source -> message with a position in source."""
    first = text.split("\n", 1)[0]
    m = _POSITION.search(text)
    if m is None:
        return first
    line, col = int(m.group(1)) - 1, int(m.group(2))  # the source starts on the wrapper's line 2
    n_lines = source.count("\n") + 1
    if line < 1:
        line, col = 1, 1
    if line > n_lines:
        return f"{first} (at end of expression)"
    return f"{first} (line {line}, column {col})"


_default_engine: QuickJSEngine | None = None
_default_lock = threading.Lock()


def default_engine() -> QuickJSEngine:
    """The process-wide shared engine with default limits."""
    global _default_engine
    if _default_engine is None:
        with _default_lock:
            if _default_engine is None:
                _default_engine = QuickJSEngine()
    return _default_engine
