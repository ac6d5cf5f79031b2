"""One sandboxed QuickJS context: the set-up script, compiled functions, one evaluation call.

This module is what runs inside the QuickJS worker process (``transpiler/qjs_worker.py``), so
it imports nothing from the ``transpiler`` package: only the standard library and ``_quickjs``
(the C extension of the ``quickjs-ng`` package).

A ``Sandbox`` is a QuickJS runtime+context prepared by ``SETUP_JS``:

- removed from the global object: ``eval``, ``Function``, ``globalThis``, ``Reflect``, ``Proxy``,
  ``queueMicrotask``, ``escape``, ``unescape``, ``SharedArrayBuffer``, ``Atomics``, ``WeakRef``,
  ``FinalizationRegistry``, ``performance`` (the package has no console, timers, std/os, I/O or
  module loader); the ``constructor`` of the four function prototypes throws, so no code can be
  built from a string;
- every accessor reachable from the global object (and the hidden iterator/generator
  intrinsics) whose setter does not throw when called on a frozen receiver writes state outside
  its receiver (quickjs-ng: ``Error.stackTraceLimit``, ``Error.prepareStackTrace``): it is
  replaced by a read-only data property holding its current value. The rule is found by
  probing, not by a list of names, so an accessor a later quickjs-ng adds is covered too;
- then every reachable object, and the global object, is deep-frozen.

So an evaluation can change only objects it created itself. After every evaluation the pending
jobs (promise reactions, ``Array.fromAsync`` steps, ...) are run until the runtime reports none
left (``execute_pending_job`` returns False), so nothing queued by one evaluation runs inside
the next one or piles up.

Values cross as JSON text: the arguments as a JSON array of *tagged* values (decoded by
``dec``), the result as the tagged value (``enc``) or an error ``["e", name, message]`` /
``["x", thrown value or null]``; see ``transpiler.quickjs_engine`` for the tags.
"""

from __future__ import annotations

import json
from typing import Any

import _quickjs

REMOVED_GLOBALS = (
    "eval", "Function", "Reflect", "Proxy", "queueMicrotask", "escape", "unescape",
    "SharedArrayBuffer", "Atomics", "WeakRef", "FinalizationRegistry", "performance",
    "globalThis",
)

SETUP_JS = r"""
(() => {
  "use strict";
  const G = globalThis;
  const isArray = Array.isArray, keys = Object.keys, freeze = Object.freeze;
  const create = Object.create;
  const getProto = Object.getPrototypeOf, ownKeys = Reflect.ownKeys, apply = Reflect.apply;
  const getDesc = Object.getOwnPropertyDescriptor, defProp = Object.defineProperty;
  const objToString = Object.prototype.toString;
  const call = Function.prototype.call.bind(Function.prototype.call);
  const Str = String, ErrorCtor = Error, stringify = JSON.stringify, parse = JSON.parse;
  const isFiniteNum = Number.isFinite;
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
        return stringify(["e", describe(e.name), describe(e.message)]);
      }
      return stringify(["x", e === null ? null : describe(e)]);
    } catch (e2) {
      return stringify(["e", "Error", "(an exception was thrown while reporting an exception)"]);
    }
  }
  // One evaluation: fn (a compiled expression) applied to the decoded JSON arguments; the
  // result (or the exception) as tagged JSON text.
  function run(fn, text) {
    const args = parse(text);
    for (let i = 0; i < args.length; i++) args[i] = dec(args[i]);
    let r;
    try {
      r = apply(fn, undefined, args);
      return stringify(enc(r, "", []));
    } catch (e) {
      return err(e);
    }
  }
  // The in-process variant: arguments arrive as they crossed the C boundary (primitives, or
  // tagged values parsed from JSON), and primitives that cross it intact go back as they are;
  // anything else as [tagged result JSON] (an array, so it cannot be taken for a string).
  function direct(fn, ...args) {
    for (let i = 0; i < args.length; i++) args[i] = dec(args[i]);
    let r;
    try {
      r = apply(fn, undefined, args);
    } catch (e) {
      return [err(e)];
    }
    const t = typeof r;
    if (t === "number" || t === "boolean" || r === null) return r;
    if (t === "string" && r.isWellFormed() && r.indexOf("\0") < 0) return r;
    try {
      return [stringify(enc(r, "", []))];
    } catch (e) {
      return [err(e)];
    }
  }
  freeze(run); freeze(direct); freeze(err); freeze(enc); freeze(dec);

  // --- accessors that write state outside their receiver become read-only data -------------
  // A setter that stays silent on a frozen object inheriting from its holder cannot be writing
  // that receiver: it writes runtime state that would outlive the evaluation.
  function inert(o, k, d) {
    let current;
    try { current = d.get ? call(d.get, o) : undefined; } catch (e) { current = undefined; }
    const probe = freeze(create(o));
    const values = [{}, "", 0, undefined, null, function () {}];
    let silent = false;
    for (const v of values) {
      try { call(d.set, probe, v); silent = true; } catch (e) { /* writes its receiver */ }
    }
    if (!silent) return;
    try { call(d.set, o, current); } catch (e) { /* the probes changed nothing it keeps */ }
    defProp(o, k, { value: current, writable: false, enumerable: d.enumerable,
                    configurable: false });
  }

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
      let d = getDesc(o, k);
      if (!d) continue;
      if (d.set && d.configurable) {
        inert(o, k, d);
        d = getDesc(o, k);
      }
      if ("value" in d) todo.push(d.value);
      if (d.get) todo.push(d.get);
      if (d.set) todo.push(d.set);
    }
    freeze(o);
  }
  return freeze((i) => (i === 0 ? run : direct));
})()
""".replace("%REMOVED%", json.dumps(list(REMOVED_GLOBALS)))


class Sandbox:
    """A prepared QuickJS context and the functions compiled into it, by integer key.

    ``memory_limit`` and ``stack_limit`` are bytes; ``time_limit`` (seconds of process CPU time,
    quickjs-ng's interrupt handler) is only armed by the in-process engine: the worker process
    is bounded by its supervisor's wall clock instead.
    """

    def __init__(self, memory_limit: int, stack_limit: int, time_limit: float | None = None) -> None:
        ctx = _quickjs.Context()
        ctx.set_memory_limit(memory_limit)
        ctx.set_max_stack_size(stack_limit)
        if time_limit is not None:
            ctx.set_time_limit(max(time_limit, 1.0))
        entry = ctx.eval(SETUP_JS)
        self.run = entry(0)
        self.direct = entry(1)
        if time_limit is not None:
            ctx.set_time_limit(time_limit)
        self.ctx = ctx
        self.functions: dict[int, _quickjs.Object] = {}
        # in-process only (no supervisor to stop an endless chain of jobs): a bound on the jobs
        # drained after one evaluation; beyond it the context is ``spoiled`` and must be dropped
        self.max_jobs: int | None = None if time_limit is None else 10_000
        self.spoiled = False

    def define(self, key: int, function_source: str) -> str | None:
        """Compile ``function_source`` (a function expression) under ``key``; the error text
        (QuickJS's exception, first line and position) when it does not compile, else None."""
        try:
            fn = self.ctx.eval(function_source)
        except _quickjs.JSException as exc:
            return str(exc)
        if not isinstance(fn, _quickjs.Object):
            return "not a function"
        self.functions[key] = fn
        return None

    def forget(self, key: int) -> None:
        self.functions.pop(key, None)

    def call(self, key: int, args_json: str) -> tuple[bool, str]:
        """Evaluate function ``key`` on the JSON array of tagged arguments, then run every
        pending job. ``(True, tagged result JSON)``, or ``(False, exception text)`` when an
        exception escaped the adapter (an interrupt, out of memory while reporting)."""
        fn = self.functions.get(key)
        if fn is None:
            return False, f"InternalError: expression {key} is not defined in this context"
        try:
            result = True, self.run(fn, args_json)
        except _quickjs.JSException as exc:
            result = False, str(exc)
        if not self.drain(self.max_jobs):
            self.spoiled = True
        return result

    def call_direct(self, key: int, args: tuple) -> Any:
        """The in-process evaluation: ``args`` already converted for the C boundary; returns
        the primitive result, or a ``_quickjs.Object`` holding ``[tagged result JSON]``.
        Raises ``_quickjs.JSException`` for an exception that escaped the adapter."""
        try:
            return self.direct(self.functions[key], *args)
        finally:
            if not self.drain(self.max_jobs):
                self.spoiled = True

    def drain(self, max_jobs: int | None = None) -> bool:
        """Run pending jobs until the runtime reports none (their exceptions are dropped:
        nothing awaits them). False if ``max_jobs`` ran and jobs were still pending."""
        ctx = self.ctx
        ran = 0
        while max_jobs is None or ran < max_jobs:
            ran += 1
            try:
                if not ctx.execute_pending_job():
                    return True
            except _quickjs.JSException:
                continue
        return False
