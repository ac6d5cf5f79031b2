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

Parsing and the static checks (dependencies, blocked names) are the transpiler's one front-end
(``transpiler.analysis``); this module only compiles and runs what it accepted.
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
from transpiler.jslib.values import UNDEFINED, JSFunction, from_utf16, int_to_double
from transpiler.policy import is_identifier_name

__all__ = [
    "QuickJSLimits", "QuickJSEngine", "default_engine",
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
        return int_to_double(v)
    if v is UNDEFINED:
        return state.undefined
    if isinstance(v, (bool, float)) or v is None:
        return bool(v) if isinstance(v, bool) else float(v)
    if isinstance(v, int):
        return int_to_double(v)
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
            if not is_identifier_name(p) or p.startswith("__sp_"):
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
