"""The QuickJS fallback engine: expressions outside the transpiler's subset run here.

Built on the ``quickjs-ng`` package (imported as ``quickjs``; its C extension is ``_quickjs``).

Compilation
    ``QuickJSEngine.compile(source, params)`` checks that ``source`` is one JavaScript
    *expression* (see ``check_syntax``), then wraps it as
    ``function (<params>) { "use strict"; return (<source>); }`` and returns a Python callable
    taking the params positionally. The JavaScript function itself is created lazily, once per
    thread (see *Threads*), and called through a small adapter that converts values and catches
    every JavaScript exception inside the time limit.

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
    deeper than 500 levels raises ``JSError("TypeError"/"RangeError", ...)``.
    Primitive arguments cross the boundary directly; structured ones (and ``UNDEFINED``) go
    through a tagged JSON encoding. Primitive results come back directly; everything else is
    tagged inside JavaScript and decoded here (JSON alone would lose -0, NaN, undefined).

Errors
    A JavaScript exception raises ``JSError(name, message)``; a thrown non-Error value becomes
    ``JSError("Error", "Uncaught <value>")``. Timeouts raise
    ``JSError("InternalError", "interrupted: time limit of 1 s exceeded")``; exhausted memory
    ``JSError("InternalError", "out of memory (limit 64 MiB)")``; endless recursion QuickJS's
    ``RangeError: Maximum call stack size exceeded``. (quickjs-ng reports an out-of-memory that
    happens while it builds the error object as a thrown ``null``: a caught ``null`` is reported
    as out of memory unless the expression's source contains ``throw``.) After an out-of-memory
    error the engine probes its context and, if the context is no longer usable, builds a new
    one; functions are recompiled on their next call, transparently.

Limits
    ``QuickJSLimits``: CPU time per call (default 1 s), memory (64 MiB per thread's runtime) and
    stack (1 MiB). The time limit is quickjs-ng's: it measures *process* CPU time with
    ``clock()``, so when several threads are busy a limit is reached sooner in wall time, and time
    spent blocked does not count. Arming it costs one ``clock()`` (a system call) per call: about
    1 us, i.e. a trivial call into QuickJS goes from ~1 us to ~2 us. It is armed on every call
    regardless: a batch scheme (one JavaScript call evaluating several expressions, one deadline)
    was measured and was slower, because the batch's arguments and results must then cross the
    boundary as a JavaScript array (``arguments`` handling plus a JSON round trip of the results
    cost more than the ``clock()`` saved).

Sandbox (defence in depth; the compile-time checks refuse these names first)
    Removed from the global object: ``eval``, ``Function``, ``globalThis``, ``Reflect``,
    ``Proxy``, ``queueMicrotask``, ``escape``, ``unescape``, ``SharedArrayBuffer``, ``Atomics``,
    ``WeakRef``, ``FinalizationRegistry``, ``performance`` (the package exposes no console,
    timers, std/os, I/O or module loader). The ``constructor`` of the four function prototypes
    (Function, AsyncFunction, GeneratorFunction, AsyncGeneratorFunction) is replaced by a
    non-writable, non-configurable function that throws, so no code can be built from a string.
    Then every intrinsic reachable from the global object (and the hidden iterator/generator
    prototypes) is deep-frozen, and so is the global object: one expression cannot alter
    builtins that another expression (or this module's adapter) relies on. The price is the
    "override mistake": inside an expression, assigning a property whose name exists on a frozen
    prototype (``o.toString = f``, ``Object.assign({}, {valueOf: 1})``) throws a TypeError.
    Promise jobs are executed (within the time limit) after a call only if the source mentions
    ``Promise``, ``async``, ``await`` or ``then``; otherwise they would only accumulate.

Threads
    A QuickJS runtime must only ever be used from one thread, so every thread gets its own
    runtime and context (``threading.local``); each thread compiles a function lazily on its
    first call from that thread. No locks are taken on the call path; engines and compiled
    callables can be shared freely between threads.

Token scanning (for syntax esprima cannot parse: ``??``, ``?.``, object spread, ``1_000``, ...)
    ``scan_identifiers`` and ``check_tokens`` work on a small tokenizer, not a parser; their
    limits are documented on each function.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import threading
import weakref
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import _quickjs
import orjson

from transpiler.errors import ExpressionError, JSError
from transpiler.jslib.values import UNDEFINED, JSFunction, from_utf16
from transpiler.policy import BLOCKED_NAMES, BLOCKED_PROPERTIES

__all__ = [
    "QuickJSLimits", "QuickJSEngine", "default_engine", "scan_identifiers", "check_tokens",
]


@dataclass(frozen=True)
class QuickJSLimits:
    time_limit: float = 1.0  # seconds of (process) CPU time per evaluation
    memory_limit: int = 64 * 1024 * 1024  # bytes, per thread's runtime
    stack_limit: int = 1024 * 1024  # bytes


# --------------------------------------------------------------------------------------------
# JavaScript side: sandbox set-up and the value adapter
# --------------------------------------------------------------------------------------------

_REMOVED_GLOBALS = (
    "eval", "Function", "Reflect", "Proxy", "queueMicrotask", "escape", "unescape",
    "SharedArrayBuffer", "Atomics", "WeakRef", "FinalizationRegistry", "performance",
    "globalThis",
)

_SETUP_JS = r"""
const __sp_rt = (() => {
  "use strict";
  const G = globalThis;
  const isArray = Array.isArray, keys = Object.keys, freeze = Object.freeze;
  const getProto = Object.getPrototypeOf, ownKeys = Reflect.ownKeys;
  const getDesc = Object.getOwnPropertyDescriptor, defProp = Object.defineProperty;
  const objToString = Object.prototype.toString;
  const call = Function.prototype.call.bind(Function.prototype.call);
  const Str = String, ErrorCtor = Error, JSONstr = JSON.stringify;
  const isFiniteNum = Number.isFinite, hasOwn = Object.hasOwn;
  const U = freeze(["u"]);

  // --- the Function constructors: calling any of them throws -------------------------------
  const disabled = function Function() {
    throw new TypeError("code generation from strings is disabled");
  };
  const fnProtos = [
    Function.prototype,
    getProto(async function () {}),
    getProto(function* () {}),
    getProto(async function* () {}),
  ];
  for (const p of fnProtos) {
    defProp(p, "constructor", { value: disabled, writable: false, enumerable: false,
                                configurable: false });
  }
  // --- hidden intrinsics, reachable without a global name ----------------------------------
  const hidden = [
    function* () {}, (function* () {})(), async function* () {}, (async function* () {})(),
    async function () {}, async () => {},
    [][Symbol.iterator](), new Map()[Symbol.iterator](), new Set()[Symbol.iterator](),
    ""[Symbol.iterator](), /a/[Symbol.matchAll](""), getProto(Int8Array),
    (function () { return arguments; })(),
  ];
  try { hidden.push([].values().map((x) => x)); } catch (e) { /* no iterator helpers */ }
  try { hidden.push(Iterator.from({ next() { return { done: true }; } })); } catch (e) { /* */ }

  for (const name of %REMOVED%) delete G[name];

  // --- values: Python -> JavaScript ---------------------------------------------------------
  function dec(t) {
    if (!isArray(t)) return t;
    const tag = t[0];
    if (tag === "a") {
      const out = [];
      for (let i = 1; i < t.length; i++) out[i - 1] = dec(t[i]);
      return out;
    }
    if (tag === "o") {
      const out = {};
      for (let i = 1; i < t.length; i += 2) defProp(out, t[i], { value: dec(t[i + 1]),
        writable: true, enumerable: true, configurable: true });
      return out;
    }
    if (tag === "u") return undefined;
    if (tag === "n") return +t[1];
    if (tag === "s") return t[1];
    throw new TypeError("bad argument encoding");
  }
  function inp(a) { return a === null ? null : dec(a); }

  // --- values: JavaScript -> Python ---------------------------------------------------------
  function num(v) {
    if (isFiniteNum(v) && (v !== 0 || 1 / v > 0)) return v;
    return ["n", v === 0 ? "-0" : Str(v)];
  }
  function enc(v, key, stack) {
    switch (typeof v) {
      case "number": return num(v);
      case "string": return v;
      case "boolean": return v;
      case "undefined": return U;
      case "bigint": return ["b", Str(v)];
      case "function": return ["f", Str(v.name)];
      case "symbol": throw new TypeError("cannot convert a Symbol to a result value");
    }
    if (v === null) return null;
    if (typeof v.toJSON === "function") {
      return enc(v.toJSON(key), key, stack);
    }
    const cls = call(objToString, v);
    if (cls === "[object Number]" || cls === "[object String]" || cls === "[object Boolean]"
        || cls === "[object BigInt]") {
      return enc(v.valueOf(), key, stack);
    }
    for (let i = 0; i < stack.length; i++) {
      if (stack[i] === v) throw new TypeError("cannot convert a circular structure to a result value");
    }
    if (stack.length >= 500) throw new RangeError("result value nested too deeply");
    stack[stack.length] = v;
    let out;
    if (isArray(v)) {
      const n = v.length;
      out = ["a"];
      for (let i = 0; i < n; i++) out[i + 1] = enc(v[i], Str(i), stack);
    } else {
      const ks = keys(v);
      out = ["o"];
      let j = 1;
      for (let i = 0; i < ks.length; i++) {
        const k = ks[i];
        out[j++] = k;
        out[j++] = enc(v[k], k, stack);
      }
    }
    stack.length = stack.length - 1;
    return out;
  }
  // The adapter's return value: primitives that cross the C boundary intact are returned as
  // they are; everything else as an array ["v", tagged value] (or ["e", name, message]).
  function out(r) {
    const t = typeof r;
    if (t === "number" || t === "boolean" || r === null) return r;
    if (t === "string" && r.isWellFormed() && r.indexOf("\0") < 0) return r;
    try {
      return ["v", enc(r, "", [])];
    } catch (e) {
      return err(e);
    }
  }
  function describe(v) {
    try {
      if (typeof v === "string") return v;
      if (typeof v === "symbol") return v.toString();
      return Str(v);
    } catch (e) {
      try { return call(objToString, v); } catch (e2) { return "(unprintable value)"; }
    }
  }
  function err(e) {
    try {
      if (e instanceof ErrorCtor) {
        return ["e", describe(e.name), describe(e.message)];
      }
      return ["x", e === null ? null : describe(e)];
    } catch (e2) {
      return ["e", "Error", "(an exception was thrown while reporting an exception)"];
    }
  }
  const rt = freeze({ inp, out, err, enc, U });
  freeze(inp); freeze(out); freeze(err); freeze(enc); freeze(dec);

  // --- deep-freeze the intrinsics and the global object ------------------------------------
  const seen = new Set();
  const todo = [G, ...hidden];
  while (todo.length) {
    const o = todo.pop();
    if ((typeof o !== "object" && typeof o !== "function") || o === null || seen.has(o)) continue;
    seen.add(o);
    const p = getProto(o);
    if (p) todo.push(p);
    for (const k of ownKeys(o)) {
      const d = getDesc(o, k);
      if (!d) continue;
      if ("value" in d) todo.push(d.value);
      if (d.get) todo.push(d.get);
      if (d.set) todo.push(d.set);
    }
    freeze(o);
  }
  return rt;
})();
""".replace("%REMOVED%", json.dumps(list(_REMOVED_GLOBALS)))

_IDENT = re.compile(r"[A-Za-z_$][\w$]*\Z", re.ASCII)
_SURROGATE = re.compile("[\ud800-\udfff]")
_ASYNC_HINT = re.compile(r"\b(?:Promise|async|await|then|import)\b")
_THROW_HINT = re.compile(r"\bthrow\b")


def _function_source(source: str, params: tuple[str, ...]) -> str:
    """The JavaScript function of a compiled expression: it converts structured arguments,
    evaluates the expression and converts its result, catching every catchable exception, all
    inside the time limit. Only ``__sp_``-prefixed locals are added to the expression's scope."""
    lines = [f'(function ({", ".join(params)}) {{', '  "use strict";']
    for p in params:
        lines.append(f'  if (typeof {p} === "object" && {p} !== null) {p} = __sp_rt.inp({p});')
    lines += [
        "  let __sp_r;",
        f"  try {{ __sp_r = (\n{source}\n); }} catch (__sp_e) {{ return __sp_rt.err(__sp_e); }}",
        "  const __sp_t = typeof __sp_r;",
        '  if (__sp_t === "number" || __sp_t === "boolean" || __sp_r === null) return __sp_r;',
        "  return __sp_rt.out(__sp_r);",
        "})",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Python side of the value mapping
# --------------------------------------------------------------------------------------------

def _int_arg(v: int) -> float:
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


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
        return _tag(_int_arg(v))
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
# Per-thread engine state
# --------------------------------------------------------------------------------------------

class _State:
    """One thread's QuickJS runtime+context, its adapters and its compiled functions."""

    def __init__(self, limits: QuickJSLimits) -> None:
        ctx = _quickjs.Context()
        ctx.set_memory_limit(limits.memory_limit)
        ctx.set_max_stack_size(limits.stack_limit)
        ctx.set_time_limit(max(limits.time_limit, 1.0))
        ctx.eval(_SETUP_JS)
        ctx.set_time_limit(limits.time_limit)
        self.ctx = ctx
        self.functions: dict[int, Any] = {}  # CompiledExpression._key -> adapter Object
        self.dead: list[int] = []  # keys of collected CompiledExpressions
        self.undefined = ctx.parse_json('["u"]')
        self.probe = ctx.eval("(function () { return [1, 2].map((x) => x * 2).join(); })")

    def healthy(self) -> bool:
        try:
            return self.probe() == "2,4"
        except Exception:
            return False


class _Local(threading.local):
    state: _State | None = None


_keys = itertools.count()


class CompiledExpression:
    """A compiled expression: call it with the parameter values, positionally."""

    __slots__ = (
        "engine", "source", "params", "_n", "_key", "_user_source", "_throws", "_drain",
        "__weakref__",
    )

    def __init__(self, engine: QuickJSEngine, source: str, params: tuple[str, ...]) -> None:
        self.engine = engine
        self.source = source
        self.params = params
        self._n = len(params)
        self._key = next(_keys)
        self._user_source = _function_source(source, params)
        self._throws = _THROW_HINT.search(source) is not None
        self._drain = _ASYNC_HINT.search(source) is not None

    def __repr__(self) -> str:
        return f"<CompiledExpression ({', '.join(self.params)}) => {self.source}>"

    def _function(self, state: _State) -> Any:
        fn = state.functions.get(self._key)
        if fn is None:
            fn = self.engine._instantiate(state, self)
        return fn

    def __call__(self, *args: Any) -> Any:
        engine = self.engine
        state = engine._local.state
        fn = state.functions.get(self._key) if state is not None else None
        if fn is None or len(args) != self._n:  # first call in this thread, or a wrong call
            if len(args) != self._n:
                raise TypeError(f"expected {self._n} argument(s), got {len(args)}")
            state = state or engine._state()
            fn = state.functions.get(self._key) or engine._instantiate(state, self)
        for a in args:  # numbers, booleans and null cross as they are; the rest is converted
            if a.__class__ not in _DIRECT:
                args = tuple(a if a.__class__ in _DIRECT else _arg(state, a) for a in args)
                break
        try:
            r = fn(*args)
        except _quickjs.JSException as exc:
            raise engine._uncaught(state, exc) from None
        if self._drain:
            engine._drain_jobs(state)
        cls = r.__class__
        if cls is float or cls is str or cls is bool or r is None:
            return r
        if cls is int:
            return float(r)
        return engine._result(state, r, self)


_DIRECT = frozenset({float, bool, type(None)})


def _arg(state: _State, v: Any) -> Any:
    cls = v.__class__
    if cls is float or cls is bool or v is None:
        return v
    if cls is str:
        if v.isascii() or _SURROGATE.search(v) is None:
            return v
        v = from_utf16(v)
        if _SURROGATE.search(v) is None:
            return v
        return state.ctx.parse_json(json.dumps(["s", v]))
    if cls is int:
        return _int_arg(v)
    if v is UNDEFINED:
        return state.undefined
    if isinstance(v, (bool, float)) or v is None:
        return bool(v) if isinstance(v, bool) else float(v)
    if isinstance(v, int):
        return _int_arg(v)
    if isinstance(v, str):
        return _arg(state, str(v))
    return state.ctx.parse_json(json.dumps(_tag(v), allow_nan=False))


# --------------------------------------------------------------------------------------------
# The engine
# --------------------------------------------------------------------------------------------

class QuickJSEngine:
    """Compiles expressions into callables evaluated by QuickJS (one runtime per thread)."""

    def __init__(self, limits: QuickJSLimits = QuickJSLimits()) -> None:  # noqa: B008
        self.limits = limits
        self._local = _Local()

    # -- compile-time ---------------------------------------------------------------------

    def check_syntax(self, source: str) -> None:
        """Raise ExpressionError with QuickJS's SyntaxError message and the position
        (line:column) if ``source`` is not a valid JavaScript *expression*.

        The source is parsed (never run: the checking script throws before reaching it) inside
        a strict function both as ``return ( <source> )`` and as ``return [ <source> ]``. Text
        that would close the wrapper early (``1); evil(); (1``) cannot be valid in both, so a
        source passing both is exactly one expression (a comma expression is allowed).
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
                raise ExpressionError(_syntax_message(text, source)) from None
            except UnicodeError as exc:  # lone surrogates cannot be passed as UTF-8
                raise ExpressionError(f"SyntaxError: invalid character in expression ({exc})") from None
            raise AssertionError("syntax check script did not throw")

    def compile(self, source: str, params: tuple[str, ...]) -> Callable[..., Any]:
        """Compile ``source`` once into ``function(<params>) { "use strict"; return (<source>); }``
        and return a Python callable taking the params positionally.

        Raises ExpressionError for a syntax error or a bad parameter name. The JavaScript
        function is created on the first call from each thread.
        """
        params = tuple(params)
        for p in params:
            if not isinstance(p, str) or not _IDENT.match(p) or p.startswith("__sp_"):
                raise ExpressionError(f"invalid parameter name {p!r}")
        if len(set(params)) != len(params):
            raise ExpressionError(f"duplicate parameter names in {params!r}")
        self.check_syntax(source)
        compiled = CompiledExpression(self, source, params)
        compiled._function(self._local.state or self._state())  # compile now in this thread
        return compiled

    # -- internals ------------------------------------------------------------------------

    def _state(self) -> _State:
        state = self._local.state
        if state is None:
            state = self._local.state = _State(self.limits)
        return state

    def _instantiate(self, state: _State, compiled: CompiledExpression) -> Any:
        ctx = state.ctx
        while state.dead:
            state.functions.pop(state.dead.pop(), None)
        try:
            fn = ctx.eval(compiled._user_source)
        except _quickjs.JSException as exc:
            raise ExpressionError(_syntax_message(str(exc), compiled.source)) from None
        if not isinstance(fn, _quickjs.Object):
            raise ExpressionError(f"could not compile expression: {compiled.source}")
        state.functions[compiled._key] = fn
        # When the CompiledExpression is garbage-collected, its JS function is released by THIS
        # thread (the runtime's owner) on its next compile, never by the collecting thread.
        weakref.finalize(compiled, state.dead.append, compiled._key)
        return fn

    def _result(self, state: _State, r: Any, compiled: CompiledExpression) -> Any:
        cls = r.__class__
        if cls is float or cls is str or cls is bool or r is None:
            return r
        if cls is int:
            return float(r)
        data = _loads(r.json())
        if data[0] == "v":
            return _untag(data[1])
        raise self._error(state, data, compiled)

    def _error(self, state: _State, data: list[Any], compiled: CompiledExpression) -> JSError:
        if data[0] == "e":
            name, message = from_utf16(data[1]), from_utf16(data[2])
            if name == "InternalError" and "out of memory" in message:
                return self._out_of_memory(state)
            return JSError(name, message)
        value = data[1]
        if value is None and not compiled._throws:
            return self._out_of_memory(state)
        return JSError("Error", f"Uncaught {from_utf16(value) if value is not None else 'null'}")

    def _out_of_memory(self, state: _State) -> JSError:
        self._check_health(state)
        return JSError("InternalError", f"out of memory (limit {_size(self.limits.memory_limit)})")

    def _uncaught(self, state: _State, exc: BaseException) -> JSError:
        """An exception that escaped the adapter: an interrupt, or a failure of the adapter."""
        text = str(exc)
        first = text.split("\n", 1)[0]
        name, sep, message = first.partition(": ")
        if not sep:
            name, message = "InternalError", first
        if name == "InternalError" and message.startswith("interrupted"):
            return JSError(
                "InternalError", f"interrupted: time limit of {self.limits.time_limit:g} s exceeded"
            )
        if "out of memory" in message or first == "null":
            return self._out_of_memory(state)
        self._check_health(state)
        return JSError(name or "InternalError", message)

    def _check_health(self, state: _State) -> None:
        with suppress(Exception):
            state.ctx.gc()
        if not state.healthy() and self._local.state is state:
            self._local.state = None  # rebuilt (and functions recompiled) on next use

    def _drain_jobs(self, state: _State) -> None:
        try:
            for _ in range(10000):
                if not state.ctx.execute_pending_job():
                    return
        except _quickjs.JSException:
            pass
        # jobs keep coming or one misbehaved: start afresh rather than accumulate
        if self._local.state is state:
            self._local.state = None


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


# --------------------------------------------------------------------------------------------
# Tokenizer, scan_identifiers, check_tokens
# --------------------------------------------------------------------------------------------

_PUNCTUATOR_TEXT = (
    ">>>= ... === !== **= <<= >>= >>> &&= ||= ??= => == != <= >= && || ?? ?. ++ -- += -= *= "
    "/= %= &= |= ^= ** << >> { } ( ) [ ] ; , < > + - * / % & | ^ ! ~ ? : = . @ #"
)
_PUNCTUATORS = sorted(_PUNCTUATOR_TEXT.split(" "), key=len, reverse=True)
_KEYWORDS = frozenset({
    "break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do",
    "else", "export", "extends", "false", "finally", "for", "function", "if", "import", "in",
    "instanceof", "new", "null", "return", "super", "switch", "this", "throw", "true", "try",
    "typeof", "var", "void", "while", "with", "yield", "let", "static", "enum", "await",
    "implements", "package", "protected", "interface", "private", "public",
})
_REGEX_AFTER_KEYWORDS = frozenset({
    "return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do",
    "else", "yield", "await",
})
_ASSIGNMENT_OPS = frozenset({
    "=", "+=", "-=", "*=", "/=", "%=", "**=", "<<=", ">>=", ">>>=", "&=", "|=", "^=", "&&=", "||=",
    "??=",
})
_STATEMENT_KEYWORDS = frozenset({
    "var", "let", "const", "while", "for", "do", "if", "switch", "try", "return", "throw", "break",
    "continue", "with", "debugger", "class", "import", "export",
})
_EVERYWHERE_KEYWORDS = frozenset({"this", "import", "delete", "with", "debugger", "export"})
_NUMBER = re.compile(
    r"(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)"
    r"(?:[eE][+-]?\d[\d_]*)?)n?"
)
_NAME = re.compile(r"(?:[^\W\d]|[$\\])(?:[\w$\u200c\u200d]|\\u\{?[0-9a-fA-F]+\}?)*")


@dataclass
class _Tok:
    kind: str  # name, num, str, template, regex, punct
    value: str
    pos: int
    match: int = -1  # for brackets: index of the matching bracket
    in_body: bool = False  # inside the braces of a function body
    in_params: bool = False  # inside the parameter list of a function / arrow


def _tokenize(src: str) -> list[_Tok]:
    """A small JavaScript tokenizer: good enough to find names, properties and brackets.

    Regex-vs-division is decided by the previous token (division after a name, number, string,
    ``)``, ``]`` or ``}``), which misreads a few odd constructs such as a regex literal directly
    after a block's ``}``. Unterminated strings/comments raise ExpressionError.
    """
    toks: list[_Tok] = []
    braces: list[str] = []  # "{" or "${" for each open brace
    i, n = 0, len(src)

    def regex_allowed() -> bool:
        if not toks:
            return True
        t = toks[-1]
        if t.kind in ("num", "str", "template", "regex"):
            return t.kind == "template" and t.value.endswith("${")
        if t.kind == "name":
            return t.value in _REGEX_AFTER_KEYWORDS
        return t.value not in (")", "]", "}")

    def read_template(start: int) -> int:
        # start is just after ` or the } closing a substitution; returns index after the chunk
        j = start
        while j < n:
            c = src[j]
            if c == "\\":
                j += 2
                continue
            if c == "`":
                toks.append(_Tok("template", src[start - 1:j + 1], start - 1))
                return j + 1
            if c == "$" and j + 1 < n and src[j + 1] == "{":
                toks.append(_Tok("template", src[start - 1:j + 2], start - 1))
                braces.append("${")
                return j + 2
            j += 1
        raise ExpressionError("SyntaxError: unterminated template literal")

    while i < n:
        c = src[i]
        if c in " \t\r\n\v\f\u00a0\ufeff\u2028\u2029" or c.isspace():
            i += 1
            continue
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            if j < 0:
                raise ExpressionError("SyntaxError: unterminated comment")
            i = j + 2
            continue
        if c in "'\"":
            j = i + 1
            while j < n and src[j] != c:
                if src[j] == "\\":
                    j += 1
                elif src[j] == "\n":
                    break
                j += 1
            if j >= n or src[j] != c:
                raise ExpressionError("SyntaxError: unterminated string literal")
            toks.append(_Tok("str", src[i:j + 1], i))
            i = j + 1
            continue
        if c == "`":
            i = read_template(i + 1)
            continue
        if c == "}" and braces and braces[-1] == "${":
            braces.pop()
            toks.append(_Tok("punct", "}", i))
            i = read_template(i + 1)
            continue
        if c.isdigit() or (c == "." and i + 1 < n and src[i + 1].isdigit()):
            m = _NUMBER.match(src, i)
            assert m is not None
            toks.append(_Tok("num", m.group(), i))
            i = m.end()
            continue
        if c == "/" and regex_allowed():
            j, in_class = i + 1, False
            while j < n:
                d = src[j]
                if d == "\\":
                    j += 2
                    continue
                if d == "\n":
                    break
                if d == "[":
                    in_class = True
                elif d == "]":
                    in_class = False
                elif d == "/" and not in_class:
                    break
                j += 1
            if j >= n or src[j] != "/":
                raise ExpressionError("SyntaxError: unterminated regular expression literal")
            j += 1
            while j < n and (src[j].isalnum() or src[j] in "_$"):
                j += 1
            toks.append(_Tok("regex", src[i:j], i))
            i = j
            continue
        m = _NAME.match(src, i)
        if m is not None and m.end() > i:
            toks.append(_Tok("name", m.group(), i))
            i = m.end()
            continue
        for p in _PUNCTUATORS:
            if src.startswith(p, i):
                if p == "?." and i + 2 < n and src[i + 2].isdigit():
                    continue  # `a?.5:1` is a conditional
                if p == "{":
                    braces.append("{")
                elif p == "}" and braces:
                    braces.pop()
                toks.append(_Tok("punct", p, i))
                i += len(p)
                break
        else:
            raise ExpressionError(f"SyntaxError: unexpected character {c!r} at offset {i}")
    _match_brackets(toks)
    _mark_functions(toks)
    return toks


_OPEN = {"(": ")", "[": "]", "{": "}"}


def _match_brackets(toks: list[_Tok]) -> None:
    stack: list[int] = []
    for k, t in enumerate(toks):
        opener = t.value if t.kind == "punct" else (
            "{" if t.kind == "template" and t.value.endswith("${") else None
        )
        if opener in _OPEN:
            stack.append(k)
        elif t.kind == "punct" and t.value in (")", "]", "}"):
            if not stack:
                raise ExpressionError(f"SyntaxError: unbalanced {t.value!r} at offset {t.pos}")
            k0 = stack.pop()
            o = toks[k0]
            expected = "}" if o.kind == "template" else _OPEN[o.value]
            if t.value != expected:
                raise ExpressionError(f"SyntaxError: unbalanced {t.value!r} at offset {t.pos}")
            o.match, t.match = k, k0
    if stack:
        t = toks[stack[-1]]
        raise ExpressionError(f"SyntaxError: unclosed {t.value!r} at offset {t.pos}")


def _is_punct(t: _Tok | None, *values: str) -> bool:
    return t is not None and t.kind == "punct" and t.value in values


def _function_bodies(toks: list[_Tok]) -> list[tuple[int, int, int, int]]:
    """(params_start, params_end, body_start, body_end) token ranges (inclusive) of every
    arrow function, function expression and object-literal/class method."""
    out: list[tuple[int, int, int, int]] = []
    n = len(toks)
    for k, t in enumerate(toks):
        if _is_punct(t, "=>"):
            prev = toks[k - 1] if k else None
            if prev is None:
                continue
            if _is_punct(prev, ")"):
                ps, pe = prev.match, k - 1
            else:
                ps = pe = k - 1
            if k + 1 < n and _is_punct(toks[k + 1], "{"):
                out.append((ps, pe, k + 1, toks[k + 1].match))
            else:  # expression body: up to the next , ) ] } ; at this depth
                depth_end = k + 1
                j = k + 1
                while j < n:
                    u = toks[j]
                    if u.kind == "punct" and u.value in ("(", "[", "{") or (
                        u.kind == "template" and u.value.endswith("${")
                    ):
                        j = u.match + 1
                        depth_end = j - 1
                        continue
                    if u.kind == "punct" and u.value in (",", ")", "]", "}", ";"):
                        break
                    depth_end = j
                    j += 1
                out.append((ps, pe, k + 1, depth_end))
        elif _is_punct(t, "(") and t.match + 1 < n and _is_punct(toks[t.match + 1], "{"):
            prev = toks[k - 1] if k else None
            prev2 = toks[k - 2] if k >= 2 else None
            is_fn = (
                (prev is not None and prev.kind == "name" and prev.value == "function")
                or (prev2 is not None and prev2.kind == "name" and prev2.value == "function")
                or _is_punct(prev2, "*")
                or (prev is not None and prev.kind in ("name", "str", "num")
                    and not (prev.kind == "name" and prev.value in _KEYWORDS)
                    and (prev2 is None or _is_punct(prev2, "{", ",", "}", ";")
                         or (prev2.kind == "name" and prev2.value in ("get", "set", "async",
                                                                      "static"))))
                or (_is_punct(prev, "]") and prev is not None)
            )
            if is_fn:
                body = toks[t.match + 1]
                out.append((k, t.match, t.match + 1, body.match))
    return out


def _mark_functions(toks: list[_Tok]) -> None:
    for ps, pe, bs, be in _function_bodies(toks):
        for j in range(ps, pe + 1):
            toks[j].in_params = True
        if _is_punct(toks[bs], "{"):
            for j in range(bs + 1, be):
                toks[j].in_body = True


def _preceded_by_dot(toks: list[_Tok], k: int) -> bool:
    return k > 0 and _is_punct(toks[k - 1], ".", "?.")


def _is_object_key(toks: list[_Tok], k: int) -> bool:
    """``name :`` right after ``{`` or ``,`` (an object-literal key, a pattern key or a label)."""
    return (
        k + 1 < len(toks) and _is_punct(toks[k + 1], ":")
        and k > 0 and _is_punct(toks[k - 1], "{", ",")
    )


def _bound_occurrences(toks: list[_Tok]) -> set[int]:
    """Indices of name tokens that are bindings, or references to an enclosing local binding
    (function/arrow parameters, let/const/var/function/class/catch names in a function body)."""
    bound: set[int] = set()
    n = len(toks)

    def names_in(a: int, b: int) -> list[int]:
        # binding names in a parameter list / pattern, skipping default values and keys
        res: list[int] = []
        j = a
        while j <= b:
            u = toks[j]
            if _is_punct(u, "="):  # skip the default value
                j += 1
                while j <= b and not _is_punct(toks[j], ",", ")", "]", "}"):
                    if toks[j].match > j:
                        j = toks[j].match
                    j += 1
                continue
            if u.kind == "name" and u.value not in _KEYWORDS and not _is_object_key(toks, j) \
                    and not _preceded_by_dot(toks, j):
                res.append(j)
            j += 1
        return res

    def bind(name_idx: list[int], start: int, end: int) -> None:
        names = {toks[j].value for j in name_idx}
        bound.update(name_idx)
        for j in range(start, end + 1):
            u = toks[j]
            if u.kind == "name" and u.value in names and not _preceded_by_dot(toks, j) \
                    and not _is_object_key(toks, j):
                bound.add(j)

    for ps, pe, _bs, be in _function_bodies(toks):
        if _is_punct(toks[ps], "("):
            params = names_in(ps + 1, pe - 1)
            if ps > 0 and toks[ps - 1].kind == "name" and ps >= 2 and (
                toks[ps - 2].value in ("function", "*")
            ):
                params.append(ps - 1)  # a named function expression's own name
        else:
            params = [ps] if toks[ps].kind == "name" else []
        bind(params, ps, be)

    def enclosing_block(k: int) -> tuple[int, int]:
        depth = 0
        for j in range(k - 1, -1, -1):
            u = toks[j]
            if u.kind == "punct" and u.value in ("}", ")", "]"):
                depth += 1
            elif u.kind == "punct" and u.value in ("{", "(", "[") or (
                u.kind == "template" and u.value.endswith("${")
            ):
                if depth == 0 and u.value == "{":
                    return j, u.match
                depth = max(0, depth - 1)
        return 0, n - 1

    for k, t in enumerate(toks):
        if t.kind != "name" or _preceded_by_dot(toks, k):
            continue
        if t.value in ("let", "const", "var") and k + 1 < n:
            j = k + 1
            start, end = enclosing_block(k)
            if toks[j].kind == "name":
                bind([j], start, end)
                # further declarators: , name
                d = j + 1
                while d < n and not _is_punct(toks[d], ";", ")") and not (
                    toks[d].kind == "name" and toks[d].value in _STATEMENT_KEYWORDS
                ):
                    if _is_punct(toks[d], ",") and d + 1 < n and toks[d + 1].kind == "name":
                        bind([d + 1], start, end)
                    if toks[d].match > d:
                        d = toks[d].match
                    d += 1
            elif _is_punct(toks[j], "{", "["):
                bind(names_in(j + 1, toks[j].match - 1), start, end)
        elif t.value in ("function", "class") and k + 1 < n and toks[k + 1].kind == "name":
            start, end = enclosing_block(k)
            bind([k + 1], start, end)
        elif t.value == "catch" and k + 1 < n and _is_punct(toks[k + 1], "("):
            close = toks[k + 1].match
            if close + 1 < n and _is_punct(toks[close + 1], "{"):
                bind(names_in(k + 2, close - 1), k + 1, toks[close + 1].match)
    return bound


def _contextual_keyword(toks: list[_Tok], k: int) -> bool:
    """``of``/``get``/``set``/``static``/``async``/``as``/``from`` used as a keyword."""
    t = toks[k]
    prev = toks[k - 1] if k else None
    nxt = toks[k + 1] if k + 1 < len(toks) else None
    if t.value == "of":
        return prev is not None and (prev.kind == "name" or _is_punct(prev, "]", "}"))
    if t.value in ("get", "set", "static"):
        return nxt is not None and (nxt.kind in ("name", "str", "num") or _is_punct(nxt, "#"))
    if t.value == "async":
        if nxt is None:
            return False
        if nxt.kind == "name":
            return True
        if _is_punct(nxt, "("):
            after = toks[nxt.match + 1] if nxt.match + 1 < len(toks) else None
            return _is_punct(after, "=>")
    return False


def scan_identifiers(source: str) -> list[str]:
    """Every identifier token of ``source`` that may reference a variable, unique, in order of
    first appearance: a conservative dependency scan for syntax esprima cannot parse.

    Skipped: keywords and ``true``/``false``/``null``; names after ``.`` or ``?.`` (properties);
    object-literal keys written ``{key: ...}`` / ``, key: ...``; names bound by an enclosing
    arrow function or function (its parameters) or by ``let``/``const``/``var``/``function``/
    ``class``/``catch`` in an enclosing block; text of strings, template literals (names inside
    ``${...}`` are scanned), comments and regex literals.
    Limits: it is a tokenizer, not a parser. Shorthand keys (``{press}``) and method names
    (``{f() {}}``) are reported; scoping is by bracket structure (``var`` is treated as
    block-scoped); a regex literal directly after a statement's ``}`` is read as division.
    """
    toks = _tokenize(source)
    bound = _bound_occurrences(toks)
    seen: dict[str, None] = {}
    for k, t in enumerate(toks):
        if t.kind != "name" or t.value in _KEYWORDS or k in bound:
            continue
        if _preceded_by_dot(toks, k) or _is_object_key(toks, k) or _contextual_keyword(toks, k):
            continue
        if _is_punct(toks[k - 1] if k else None, "#"):
            continue  # private name
        seen.setdefault(t.value, None)
    return list(seen)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|[\s\S])")


def _unescape(m: re.Match[str]) -> str:
    e = m.group(1)
    if e[0] in "ux" and len(e) > 1:
        try:
            return chr(int(e[1:].strip("{}"), 16))
        except (ValueError, OverflowError):
            return e
    if e in ("\n", "\r", "\r\n", "\u2028", "\u2029"):
        return ""  # line continuation
    return _ESCAPES.get(e, e)


def _string_value(tok: _Tok) -> str | None:
    """The value of a string literal or of a template literal without substitutions."""
    if tok.kind == "str" or (tok.kind == "template" and tok.value.startswith("`")
                             and tok.value.endswith("`") and len(tok.value) >= 2):
        return _ESCAPE.sub(_unescape, tok.value[1:-1])
    return None


def check_tokens(source: str) -> None:
    """Raise ExpressionError naming the construct if ``source`` uses something blocked.

    Refused anywhere: a name in BLOCKED_NAMES (not as a property or object key); a property in
    BLOCKED_PROPERTIES after ``.``/``?.``, or as a string literal alone in ``[...]``, or
    ``__proto__`` as an object-literal key; ``this``, ``import``, ``delete``, ``with``,
    ``debugger``. Refused at the top level, i.e. outside the braces of a function body (an
    IIFE's arrow body ``x => { let s = 0; for (...) ...; return s }`` may hold statements):
    statement keywords (``var``, ``let``, ``const``, ``while``, ``for``, ``if``, ``return``, ...),
    a function or class *declaration* (the source starting with ``function``/``class``), ``;``,
    assignment operators (except parameter defaults) and ``++``/``--``.
    Limits: a token-level check. It is deliberately conservative (``this`` or ``delete`` inside
    a function body is refused too) and does not see through computed property names built at
    run time (``o['constr' + 'uctor']``): the QuickJS sandbox is the second line of defence.
    """
    toks = _tokenize(source)
    first = toks[0].value if toks and toks[0].kind == "name" else None
    if first in ("function", "class") or (
        first == "async" and len(toks) > 1 and toks[1].value == "function"
    ):
        raise ExpressionError(f"'{toks[0].value}' declaration is not an expression")
    for k, t in enumerate(toks):
        prev = toks[k - 1] if k else None
        nxt = toks[k + 1] if k + 1 < len(toks) else None
        if t.kind == "name":
            if _preceded_by_dot(toks, k):
                if t.value in BLOCKED_PROPERTIES:
                    raise ExpressionError(f"property '{t.value}' is blocked in mapping expressions")
                continue
            if _is_object_key(toks, k):
                if t.value == "__proto__":
                    raise ExpressionError("property '__proto__' is blocked in mapping expressions")
                continue
            if t.value in BLOCKED_NAMES:
                raise ExpressionError(f"'{t.value}' is blocked in mapping expressions")
            if t.value in _EVERYWHERE_KEYWORDS:
                raise ExpressionError(f"'{t.value}' is not allowed in mapping expressions")
            if not t.in_body and t.value in _STATEMENT_KEYWORDS:
                raise ExpressionError(
                    f"'{t.value}' makes a statement: a mapping must be a single expression"
                )
        elif t.kind in ("str", "template"):
            value = _string_value(t)
            if value is None:
                continue
            if _is_punct(prev, "[") and _is_punct(nxt, "]") and value in BLOCKED_PROPERTIES:
                raise ExpressionError(f"property '{value}' is blocked in mapping expressions")
            if value == "__proto__" and _is_punct(nxt, ":") and _is_punct(prev, "{", ","):
                raise ExpressionError("property '__proto__' is blocked in mapping expressions")
        elif t.kind == "punct" and not t.in_body:
            if t.value in _ASSIGNMENT_OPS and not (t.value == "=" and t.in_params):
                raise ExpressionError(
                    f"assignment '{t.value}' is not allowed: a mapping must be an expression"
                )
            if t.value in ("++", "--"):
                raise ExpressionError(f"'{t.value}' is not allowed: a mapping must be an expression")
            if t.value == ";":
                raise ExpressionError("';' makes a statement: a mapping must be a single expression")
