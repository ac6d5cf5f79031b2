"""The QuickJS sandbox holds by construction: wall-clock deadlines enforced by killing the worker
process, no state that survives an evaluation, nothing shared between configurations."""

from __future__ import annotations

import os
import signal
import time

import _quickjs
import pytest

from runtime import Message, StreamProcessor
from transpiler import compile_expression, quickjs_engine
from transpiler.errors import ExpressionError, JSError
from transpiler.jslib.values import UNDEFINED
from transpiler.qjs_sandbox import Sandbox
from transpiler.quickjs_engine import QuickJSEngine, QuickJSLimits

LIMIT = 0.5
FAST = QuickJSLimits(time_limit=LIMIT)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- wall-clock deadlines ------------------------------------------------------------------------

@pytest.mark.parametrize("src", [
    'new Array(1_000_000_000) + ""',            # QuickJS does not poll its interrupt handler here
    # a join that builds nothing: ~15 s of a C loop that never polls the interrupt handler (30x
    # the limit; 3e7 elements took 0.47-0.49 s, too close to it) and no memory to run out of
    "new Array(1e9).join('').length",
    "(10n ** 300000n).toString().length",        # BigInt arithmetic and conversion
    "/(a+)+$/.test('a'.repeat(40) + 'b')",       # catastrophic backtracking
    "(() => { for (;;) {} })()",
    "(Promise.resolve().then(() => { for (;;) {} }), 1)",  # a job of this evaluation runs away
])
def test_runaway_is_stopped_within_the_wall_clock_limit(src):
    engine = QuickJSEngine(FAST)
    ok = engine.compile("p + 1", ("p",))
    runaway = engine.compile(src, ())
    assert ok(1) == 2.0
    pid = engine.worker_pid
    t0 = time.monotonic()
    with pytest.raises(JSError) as info:
        runaway()
    elapsed = time.monotonic() - t0
    assert elapsed < 1.5 * LIMIT, elapsed
    assert info.value.name == "InternalError"
    assert info.value.message.startswith(f"interrupted: time limit of {LIMIT:g} s exceeded")
    assert not _alive(pid)  # killed and reaped: it uses no CPU or memory any more
    assert ok(2) == 3.0  # the engine works right after, in a new worker
    assert engine.worker_pid not in (None, pid)
    engine.close()


def test_new_worker_is_idle_after_a_timeout():
    engine = QuickJSEngine(FAST)
    with pytest.raises(JSError, match="interrupted"):
        engine.compile("(() => { for (;;) {} })()", ())()
    assert engine.compile("1", ())() == 1.0
    pid = engine.worker_pid
    before = _cpu_seconds(pid)
    time.sleep(0.3)
    assert _cpu_seconds(pid) - before < 0.05
    engine.close()
    assert not _alive(pid)


def test_time_limit_is_wall_clock_not_cpu():
    """A stopped worker uses no CPU time at all: a CPU-time limit would wait forever, the
    wall-clock deadline does not."""
    engine = QuickJSEngine(QuickJSLimits(time_limit=0.3))
    f = engine.compile("[p][0] + 1", ("p",))
    assert f(1) == 2.0
    os.kill(engine.worker_pid, signal.SIGSTOP)
    t0 = time.monotonic()
    with pytest.raises(JSError, match="interrupted: time limit of 0.3 s exceeded"):
        f(2)
    assert 0.29 <= time.monotonic() - t0 < 2.0
    assert f(3) == 4.0


def test_a_dead_worker_is_a_mapping_error_and_replaced():
    engine = QuickJSEngine()
    f = engine.compile("[p].map((x) => x * 2)[0]", ("p",))
    assert f(2) == 4.0
    os.kill(engine.worker_pid, 9)
    with pytest.raises(JSError, match="worker process stopped"):
        f(3)
    assert f(4) == 8.0


def test_in_process_opt_in_still_works_and_is_bounded_by_cpu_interrupts():
    engine = QuickJSEngine(QuickJSLimits(time_limit=0.2, in_process=True))
    assert engine.compile("[1, 2].map((x) => x + p)", ("p",))(1) == [2.0, 3.0]
    with pytest.raises(JSError, match="interrupted"):
        engine.compile("(() => { for (;;) {} })()", ())()
    assert engine.worker_pid is None


# --- nothing survives an evaluation --------------------------------------------------------------

# An independent walk (not the set-up script's): every object reachable from the global object
# and from the intrinsics only syntax reaches, described by path; for each property its
# attributes and value, or for an accessor what its getter returns on its holder.
_SNAPSHOT_JS = r"""
(function (G) {
  const ownKeys = (o) => [...Object.getOwnPropertyNames(o), ...Object.getOwnPropertySymbols(o)];
  const ids = new Map(), out = [], done = new Set();
  const hidden = {
    generator: function* () {}, generatorObject: (function* () {})(),
    asyncGenerator: async function* () {}, asyncGeneratorObject: (async function* () {})(),
    asyncFunction: async function () {}, arrow: async () => {},
    arrayIterator: [][Symbol.iterator](), mapIterator: new Map()[Symbol.iterator](),
    setIterator: new Set()[Symbol.iterator](), stringIterator: ""[Symbol.iterator](),
    regExpStringIterator: /a/[Symbol.matchAll](""), typedArray: Object.getPrototypeOf(Int8Array),
    arguments: (function () { return arguments; })(),
    iteratorHelper: [].values().map((x) => x),
    wrapForValidIterator: Iterator.from({ next() { return { done: true }; } }),
    promise: Promise.resolve(1), error: new Error("e"),
  };
  const todo = [[G, "global"]];
  for (const k of Object.keys(hidden)) todo.push([hidden[k], k]);
  function describe(v) {
    if ((typeof v === "object" && v !== null) || typeof v === "function") {
      if (!ids.has(v)) { ids.set(v, "#" + ids.size); todo.push([v, "#" + (ids.size - 1)]); }
      return ids.get(v);
    }
    if (typeof v === "symbol") return v.toString();
    if (typeof v === "bigint") return v + "n";
    if (Object.is(v, -0)) return "-0";
    return typeof v + ":" + String(v);
  }
  while (todo.length) {
    const [o, path] = todo.shift();
    if (!ids.has(o)) ids.set(o, path);
    const me = ids.get(o);
    if (done.has(me)) continue;
    done.add(me);
    out.push(me + " proto=" + describe(Object.getPrototypeOf(o)) + " extensible=" + Object.isExtensible(o));
    for (const k of ownKeys(o)) {
      const d = Object.getOwnPropertyDescriptor(o, k);
      const flags = (d.enumerable ? "e" : "-") + (d.configurable ? "c" : "-");
      let line;
      if ("value" in d) {
        line = "value " + (d.writable ? "w" : "-") + flags + " " + describe(d.value);
      } else {
        let got;
        try { got = d.get ? describe(d.get.call(o)) : "no getter"; } catch (e) { got = "throws " + e.name; }
        line = "accessor " + flags + " " + describe(d.get) + " " + describe(d.set) + " -> " + got;
      }
      out.push(me + " " + String(k) + " " + line);
    }
  }
  return out.join("\n");
})
"""

# A privileged attack (it is given the global object): call every setter reachable with several
# values on its holder, assign and redefine every property, add properties, set prototypes.
_ATTACK_JS = r"""
(function (G) {
  const ownKeys = (o) => [...Object.getOwnPropertyNames(o), ...Object.getOwnPropertySymbols(o)];
  const seen = new Set(), todo = [G, Error, new Error("x"), Promise.resolve(1),
    (function* () {})(), [][Symbol.iterator](), Iterator.from({ next() { return { done: true }; } })];
  const values = [undefined, null, 0, 99, "x", {}, function hook() { return "forged"; },
                  (e, frames) => "forged stack"];
  while (todo.length) {
    const o = todo.pop();
    if ((typeof o !== "object" && typeof o !== "function") || o === null || seen.has(o)) continue;
    seen.add(o);
    todo.push(Object.getPrototypeOf(o));
    for (const k of ownKeys(o)) {
      const d = Object.getOwnPropertyDescriptor(o, k);
      if ("value" in d) todo.push(d.value); else { todo.push(d.get); todo.push(d.set); }
      for (const v of values) {
        if (d.set) { try { d.set.call(o, v); } catch (e) {} }
        try { o[k] = v; } catch (e) {}
        try { Object.defineProperty(o, k, { value: v }); } catch (e) {}
      }
    }
    try { o.__sp_added = 1; } catch (e) {}
    try { Object.setPrototypeOf(o, null); } catch (e) {}
  }
  try { Error.prepareStackTrace = (e, s) => "forged"; } catch (e) {}
  try { Error.stackTraceLimit = 0; } catch (e) {}
  try { Object.assign(Error, { stackTraceLimit: Error.stackTraceLimit + 1 }); } catch (e) {}
  Promise.resolve().then(() => { try { Error.stackTraceLimit = 50; } catch (e) {} });
  Array.fromAsync([1, 2, 3]).then(() => 0);
  return seen.size;
})
"""


def _snapshot(sandbox: Sandbox) -> list[str]:
    walk = sandbox.ctx.eval(_SNAPSHOT_JS)
    return walk(sandbox.ctx.globalThis).split("\n")


def test_no_evaluation_changes_anything_reachable_for_the_next():
    sandbox = Sandbox(64 * 1024 * 1024, 1024 * 1024)
    before = _snapshot(sandbox)
    assert len(before) > 2000  # the walk really covers the intrinsics (~650 objects)
    attack = sandbox.ctx.eval(_ATTACK_JS)
    assert attack(sandbox.ctx.globalThis) > 500
    sandbox.drain()
    for source in (
        "Object.assign(Error, {stackTraceLimit: Error.stackTraceLimit + 1}).stackTraceLimit",
        "(() => { try { Error.prepareStackTrace = () => 'forged' } catch (e) {} return 1 })()",
        "(Array.fromAsync([1]), Promise.reject(1), 2)",
    ):
        assert sandbox.define(1, f'(function () {{ "use strict"; return ({source}); }})') is None
        sandbox.call(1, "[]")
    after = _snapshot(sandbox)
    changed = sorted(set(before) ^ set(after))
    assert changed == []


def test_every_setter_left_writes_only_its_receiver():
    """The set-up's rule, checked independently: every accessor with a setter still reachable
    throws when called on a frozen object inheriting from its holder."""
    sandbox = Sandbox(64 * 1024 * 1024, 1024 * 1024)
    check = sandbox.ctx.eval(r"""
    (function (G) {
      const ownKeys = (o) => [...Object.getOwnPropertyNames(o), ...Object.getOwnPropertySymbols(o)];
      const seen = new Set(), todo = [G, (function* () {})(), [][Symbol.iterator]()], silent = [];
      while (todo.length) {
        const o = todo.pop();
        if ((typeof o !== "object" && typeof o !== "function") || o === null || seen.has(o)) continue;
        seen.add(o);
        todo.push(Object.getPrototypeOf(o));
        for (const k of ownKeys(o)) {
          const d = Object.getOwnPropertyDescriptor(o, k);
          if ("value" in d) { todo.push(d.value); continue; }
          todo.push(d.get, d.set);
          if (!d.set) continue;
          for (const v of [{}, "", 0, undefined, () => 1]) {
            try { d.set.call(Object.freeze(Object.create(o)), v); silent.push(String(k)); } catch (e) {}
          }
        }
      }
      return JSON.stringify(silent);
    })""")
    assert check(sandbox.ctx.globalThis) == "[]"


@pytest.mark.parametrize("limits", [QuickJSLimits(), QuickJSLimits(in_process=True)],
                         ids=["worker", "in-process"])
def test_error_accessors_give_the_same_answer_every_call(limits):
    engine = QuickJSEngine(limits)
    bump = engine.compile(
        "Object.assign(Error, {stackTraceLimit: Error.stackTraceLimit + 1}).stackTraceLimit", ())
    answers = set()
    for _ in range(3):
        try:
            answers.add(repr(bump()))
        except JSError as exc:
            answers.add(str(exc))
    assert len(answers) == 1
    hook = engine.compile("(() => { try { Error.prepareStackTrace = (e, s) => 'forged ' + s } catch (e) {} "
                          "return [typeof Error.prepareStackTrace, Error.stackTraceLimit] })()", ())
    assert hook() == ["undefined", 10.0]
    victim = engine.compile("null.x", ())
    with pytest.raises(JSError) as info:
        victim()
    assert "forged" not in str(info.value)
    assert engine.compile("String(new Error('e').stack).includes('forged')", ())() is False
    engine.close()


def test_jobs_are_drained_by_asking_the_runtime():
    sandbox = Sandbox(64 * 1024 * 1024, 1024 * 1024)
    # none of the words the old text test looked for (Promise, async, await, then, import)
    source = "(Array.fromAsync([1, 2, 3]), 1)"
    assert sandbox.define(1, f'(function () {{ "use strict"; return ({source}); }})') is None
    assert sandbox.call(1, "[]") == (True, "1")
    assert sandbox.ctx.execute_pending_job() is False  # nothing left for the next evaluation
    used = []
    for i in range(3000):
        sandbox.call(1, "[]")
        if i % 1000 == 999:
            sandbox.ctx.gc()
            used.append(sandbox.ctx.memory()["memory_used_size"])
    assert used[-1] - used[0] < 64 * 1024, used


def test_array_from_async_does_not_pile_up_in_the_worker():
    engine = QuickJSEngine()
    f = engine.compile("(Array.fromAsync([x]), x)", ("x",))

    def rss() -> int:
        with open(f"/proc/{engine.worker_pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))

    for i in range(500):
        f(float(i))
    start = rss()
    for i in range(3000):
        assert f(float(i)) == float(i)
    assert rss() - start < 2048  # KiB
    engine.close()


# --- nothing shared between configurations -------------------------------------------------------

def _config(mapping: dict) -> dict:
    return {"output_topic": "umh.v1.corp.site", "model": {"name": "m", "version": "v1"},
            "sources": {"p": "umh.v1.corp.site._raw.p"}, "mapping": mapping}


def _run(processor: StreamProcessor, value: float) -> list[str]:
    out = processor.process(Message(b'{"value":%r,"timestamp_ms":1}' % value,
                                    {"umh_topic": "umh.v1.corp.site._raw.p"}))
    return [m.payload.decode() for m in out]


def test_two_processors_cannot_see_each_other():
    spy = StreamProcessor(_config({
        # tries to leave a hook and the value it saw where another configuration would meet them
        "spy": "(() => { try { Object.assign(Error, { prepareStackTrace: (e) => 'seen ' + p }) } "
               "catch (e) {} try { Object.assign(Math, { seen: p }) } catch (e) {} "
               "return Math.seen === undefined ? 'clean' : 'dirty' })()"}), engine="quickjs")
    victim = StreamProcessor(_config({
        "fails": "[p].map((x) => x.y.z)[0]",
        "looks": "[Math.seen, typeof Error.prepareStackTrace].join()"}), engine="quickjs")
    assert _run(spy, 41.0) == ['{"value":"clean","timestamp_ms":1}']
    with_errors = victim.metrics.mapping_errors
    assert _run(victim, 1.0) == ['{"value":",undefined","timestamp_ms":1}']
    assert victim.metrics.mapping_errors == with_errors + 1
    engines = {m.compiled.fn.engine for p in (spy, victim) for m in p.spec.mappings}
    assert len(engines) == 2  # one engine (one worker, one context) per processor
    pids = {e.worker_pid for e in engines}
    assert len(pids) == 2 and None not in pids


def test_processor_counts_a_runaway_as_a_mapping_error_and_goes_on():
    processor = StreamProcessor(_config({"slow": "p > 0 ? new Array(1e9).join().length : p",
                                         "ok": "[p].map((x) => x + 1)[0]"}),
                                limits=QuickJSLimits(time_limit=LIMIT))
    t0 = time.monotonic()
    assert _run(processor, 1.0) == ['{"value":2,"timestamp_ms":1}']
    assert time.monotonic() - t0 < 1.5 * LIMIT + 0.5
    assert processor.metrics.mapping_errors == 1
    assert _run(processor, -1.0) == ['{"value":-1,"timestamp_ms":1}', '{"value":0,"timestamp_ms":1}']


def test_compile_expression_takes_an_engine_and_does_not_cache_it():
    engine = QuickJSEngine()
    a = compile_expression("[p].map((x) => x)[0]", ["p"], limits=engine)
    b = compile_expression("[p].map((x) => x)[0]", ["p"], limits=engine)
    assert a is not b and a.fn.engine is engine
    assert compile_expression("p + 1", ["p"], limits=engine) is compile_expression("p + 1", ["p"])
    assert compile_expression("[p].map((x) => x)[0]", ["p"]).fn.engine is not engine


def test_engine_stops_its_worker_when_collected():
    import gc

    engine = QuickJSEngine()
    engine.compile("1", ())
    pid = engine.worker_pid
    del engine
    gc.collect()
    deadline = time.monotonic() + 2.0
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _alive(pid)


def test_quickjs_api_used_for_jobs_exists():
    """The drain asks the runtime; if quickjs-ng renames the call, fail here, loudly."""
    assert hasattr(_quickjs.Context(), "execute_pending_job")


def test_worker_dies_with_its_parent_even_mid_runaway():
    import subprocess
    import sys

    code = ("from transpiler.quickjs_engine import QuickJSEngine, QuickJSLimits\n"
            "e = QuickJSEngine(QuickJSLimits(time_limit=-1))\n"
            "f = e.compile('(() => { for (;;) {} })()', ())\n"
            "print(e.worker_pid, flush=True)\n"
            "f()\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    pid = int(parent.stdout.readline())
    time.sleep(0.2)
    assert _alive(pid)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            break
        if state == "Z":  # killed, waiting for init to reap it
            break
        time.sleep(0.02)
    else:
        raise AssertionError(f"worker {pid} still running after its parent was killed")


# --- several evaluations in one round trip -------------------------------------------------------

def test_evaluate_many_equals_one_by_one_and_keeps_each_deadline():
    engine = QuickJSEngine(FAST)
    exprs = [engine.compile(src, ("p",)) for src in (
        "[p].map((x) => x * 2)[0]", "null.x", "p > 1 ? (() => { for (;;) {} })() : p",
        "`${p}!`", "new Array(1e9).join().length + p", "({ p, q: [p, undefined] })")]
    for p in (1.0, 2.0):
        calls = [(e, (p,)) for e in exprs]
        t0 = time.monotonic()
        many = engine.evaluate_many(calls)
        elapsed = time.monotonic() - t0
        single = []
        for e, args in calls:
            try:
                single.append(e(*args))
            except JSError as exc:
                single.append(exc)
        assert [repr(x) if isinstance(x, JSError) else x for x in many] == \
            [repr(x) if isinstance(x, JSError) else x for x in single]
        runaways = 2 if p == 2.0 else 1
        assert elapsed < runaways * 1.5 * LIMIT + 0.5
    assert many[0] == 4.0 and many[3] == "2!" and isinstance(many[2], JSError)
    assert many[5] == {"p": 2.0, "q": [2.0, UNDEFINED]}
    engine.close()


# --- limits are validated; any failure of a round trip replaces the worker -----------------------

@pytest.mark.parametrize(("field", "value"), [
    ("time_limit", float("nan")), ("time_limit", float("inf")), ("time_limit", float("-inf")),
    ("time_limit", 1e10), ("time_limit", 1e300), ("time_limit", "1"), ("time_limit", True),
    ("memory_limit", 1), ("memory_limit", 0), ("memory_limit", -5), ("memory_limit", 2**64),
    ("memory_limit", 1.5e7), ("stack_limit", 0), ("stack_limit", -1), ("stack_limit", 1024),
])
def test_limits_out_of_range_are_refused_naming_field_and_value(field, value):
    with pytest.raises(ValueError, match=f"^{field}: invalid value ") as info:
        QuickJSLimits(**{field: value})
    assert repr(value) in str(info.value) and "expected" in str(info.value)
    assert info.value.field == field


def test_extreme_valid_limits_work():
    """<= 0 still means no time limit; the largest accepted one does not overflow the wait;
    the smallest memory and stack limits still run the sandbox and report errors by name."""
    for limits in (QuickJSLimits(time_limit=0), QuickJSLimits(time_limit=-1.0),
                   QuickJSLimits(time_limit=quickjs_engine.MAX_TIME_LIMIT),
                   QuickJSLimits(memory_limit=quickjs_engine.MIN_MEMORY_LIMIT,
                                 stack_limit=quickjs_engine.MIN_STACK_LIMIT)):
        engine = QuickJSEngine(limits)
        assert engine.compile("x + 1", ("x",))(1) == 2.0
        with pytest.raises(JSError, match="^ReferenceError: nope is not defined$"):
            engine.compile("nope", ())()
        assert engine.compile("x + 1", ("x",))(2) == 3.0
        engine.close()


def test_a_too_large_time_limit_no_longer_desynchronises_the_pipe():
    """The reviewer's case: time_limit=1e10 made poll() raise OverflowError mid round trip and
    every later call read the previous reply. Now refused; at the bound it works."""
    with pytest.raises(ValueError, match="time_limit"):
        QuickJSLimits(time_limit=1e10)
    engine = QuickJSEngine(QuickJSLimits(time_limit=quickjs_engine.MAX_TIME_LIMIT))
    f = engine.compile("x + 1", ("x",))
    assert [f(i) for i in range(5)] == [1.0, 2.0, 3.0, 4.0, 5.0]
    engine.close()


@pytest.mark.parametrize("many", [False, True])
@pytest.mark.parametrize("exc", [OverflowError("timeout is too large"), ValueError("boom"),
                                 KeyboardInterrupt()])
def test_any_exception_in_the_round_trip_replaces_the_worker(monkeypatch, exc, many):
    engine = QuickJSEngine(FAST)
    f = engine.compile("x + 1", ("x",))
    g = engine.compile("x * 10", ("x",))
    assert f(1) == 2.0
    pid = engine.worker_pid
    real_reply = quickjs_engine._Worker.reply
    calls = []

    def failing_reply(self, deadline):
        calls.append(1)
        if len(calls) == 2:  # the first reply was read, the second is left in the pipe
            raise exc
        return real_reply(self, deadline)

    monkeypatch.setattr(quickjs_engine._Worker, "reply", failing_reply)
    if isinstance(exc, KeyboardInterrupt):  # not an error of the call: re-raised as it is
        with pytest.raises(KeyboardInterrupt):
            engine.evaluate_many([(f, (2,)), (g, (2,))]) if many else (f(2), f(3))
    else:
        if many:  # the first result was read; the second call is the one that failed
            first, error = engine.evaluate_many([(f, (2,)), (g, (2,))])
            assert first == 3.0
        else:
            assert f(2) == 3.0
            with pytest.raises(JSError) as info:
                f(3)
            error = info.value
        assert error.name == "InternalError"
        assert f"{type(exc).__name__}: {exc}" in error.message
        assert "worker was replaced" in error.message
    assert engine.worker_pid is None and not _alive(pid)
    monkeypatch.setattr(quickjs_engine._Worker, "reply", real_reply)
    assert [f(4), g(5), f(6)] == [5.0, 50.0, 7.0]  # in step again, in a new worker
    assert engine.evaluate_many([(f, (1,)), (g, (1,))]) == [2.0, 10.0]
    engine.close()


def test_a_worker_that_cannot_start_is_a_js_error_and_compile_forgets_the_function(monkeypatch):
    engine = QuickJSEngine(FAST)

    def broken(self, limits):
        raise OSError("no processes left")

    monkeypatch.setattr(quickjs_engine._Worker, "__init__", broken)
    with pytest.raises(JSError, match=r"^InternalError: .*OSError: no processes left"):
        engine.compile("1 + 1", ())
    assert engine._sources == {}
    monkeypatch.undo()
    assert engine.compile("1 + 1", ())() == 2.0
    engine.close()


@pytest.mark.parametrize("src", [
    pytest.param("[" + ",".join(f"'s{i}'" for i in range(30000)) + "].length",
                 id="parsing-runs-out"),
    "(() => { const a = []; for (;;) a.push({a}); })()",
    "'x'.repeat(1 << 19).split('').length",
    "Array.from({length: 1e6}, (_, i) => 'k' + i).length",
    "JSON.stringify(Array.from({length: 1e5}, (_, i) => ({i})))",
])
def test_out_of_memory_is_always_reported_as_such_with_the_limit(src):
    """Whether QuickJS runs out while parsing, running, or building the error object (then it
    throws null), the message is out of memory with the limit, never ``null``."""
    engine = QuickJSEngine(QuickJSLimits(memory_limit=quickjs_engine.MIN_MEMORY_LIMIT))
    with pytest.raises((ExpressionError, JSError)) as info:
        engine.compile(src, ())()
    assert "out of memory" in str(info.value) and "(limit 1 MiB)" in str(info.value)
    assert "null" not in str(info.value)
    assert engine.compile("x + 1", ("x",))(1) == 2.0  # and the engine goes on
    engine.close()
