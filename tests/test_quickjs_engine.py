"""Tests of the QuickJS fallback engine: values, errors, sandbox, limits, threads, token scans."""

from __future__ import annotations

import math
import threading
import time

import pytest

from transpiler.errors import ExpressionError, JSError
from transpiler.jslib.values import UNDEFINED, JSFunction
from transpiler.quickjs_engine import QuickJSEngine, QuickJSLimits, default_engine

SMALL = QuickJSLimits(time_limit=0.2, memory_limit=16 * 1024 * 1024, stack_limit=256 * 1024)


@pytest.fixture(scope="module")
def engine() -> QuickJSEngine:
    return QuickJSEngine()


@pytest.fixture(scope="module")
def in_process() -> QuickJSEngine:
    return QuickJSEngine(QuickJSLimits(in_process=True))


@pytest.fixture(scope="module")
def small() -> QuickJSEngine:
    return QuickJSEngine(SMALL)


def same(a, b) -> bool:
    """Equality that tells -0.0 from 0.0, NaN equals NaN, and float from int."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


# --- values ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    1.5, -0.0, math.nan, math.inf, -math.inf, 0.0, 1e300, "", "abc", "a\0b", "😀 x", "\udc00",
    "a\ud800", True, False, None, UNDEFINED,
    [1.0, -0.0, math.nan, UNDEFINED, None, "😀", [math.inf, [UNDEFINED]]],
    {"b": 1.0, "a": {"x": -0.0, "y": UNDEFINED, "z": [math.nan]}},
    [], {},
])
def test_round_trip(engine, in_process, value):
    for e in (engine, in_process):
        identity = e.compile("x", ("x",))
        assert same(identity(value), value)
        assert same(e.compile("[x][0]", ("x",))(value), value)


def test_input_conversions(engine):
    identity = engine.compile("x", ("x",))
    assert same(identity(3), 3.0)
    assert same(identity(2**80), float(2**80))
    assert same(identity(2**2000), math.inf)
    assert same(identity((1, 2)), [1.0, 2.0])
    # a str in the transpiler's UTF-16 form (surrogate pair) is the astral character
    assert identity("\ud83d\ude00") == "😀"
    assert engine.compile("s.length", ("s",))("😀") == 2.0
    assert engine.compile("s.codePointAt(0)", ("s",))("😀") == 0x1F600
    # JavaScript key order: integer keys first
    assert list(identity({"b": 1, "2": 2, "1": 3})) == ["1", "2", "b"]
    with pytest.raises(TypeError):
        identity(object())


@pytest.mark.parametrize("where", ["worker", "in-process"])
def test_results(engine, in_process, where):
    def run(src):
        return (engine if where == "worker" else in_process).compile(src, ())()

    assert same(run("1 + 1"), 2.0)
    assert same(run("-0"), -0.0)
    assert same(run("0 / 0"), math.nan)
    assert same(run("[-0, NaN, -Infinity, undefined, null]"), [-0.0, math.nan, -math.inf, UNDEFINED, None])
    assert run("undefined") is UNDEFINED
    assert run("null") is None
    assert run("'\\ud83d\\ude00'") == "😀"
    assert run("'x\\ud800'") == "x\ud800"
    assert run("'a\\0b'") == "a\0b"
    expected = {"1": "x", "b": 1.0, "a": [2.0, {"c": UNDEFINED}]}
    assert same(run("({b: 1, a: [2, {c: undefined}], 1: 'x'})"), expected)
    f = run("Math.max")
    assert isinstance(f, JSFunction) and f.name == "max"
    assert run("new Date(0)") == "1970-01-01T00:00:00.000Z"
    assert run("10n") == 10
    assert same(run("2 ** 53"), 9007199254740992.0)
    assert run("press ?? 0".replace("press", "null")) == 0.0
    assert engine.compile("o?.x ?? 'none'", ("o",))(None) == "none"
    assert engine.compile("({...o, a: press})", ("o", "press"))({"b": 1}, 2) == {"b": 1.0, "a": 2.0}
    assert engine.compile("1_000 + press", ("press",))(1) == 1001.0
    assert engine.compile("(-press) ** 2", ("press",))(3) == 9.0


# --- errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("src, name, fragment", [
    ("null.x", "TypeError", "null"),
    ("'x'.repeat(-1)", "RangeError", "repeat"),
    ("nope + 1", "ReferenceError", "nope is not defined"),
    ("(() => { throw 5 })()", "Error", "Uncaught 5"),
    ("(() => { throw 'boom' })()", "Error", "Uncaught boom"),
    ("(() => { throw new RangeError('custom') })()", "RangeError", "custom"),
    ("Symbol()", "TypeError", "Symbol"),
    ("(() => { const a = []; a.push(a); return a })()", "TypeError", "circular"),
])
@pytest.mark.parametrize("where", ["worker", "in-process"])
def test_js_errors(engine, in_process, where, src, name, fragment):
    with pytest.raises(JSError) as info:
        (engine if where == "worker" else in_process).compile(src, ())()
    assert info.value.name == name
    assert fragment in info.value.message


def test_check_syntax(engine):
    engine.check_syntax("a ?? b?.c")
    engine.check_syntax("(() => { let s = 0; for (const v of [1, 2]) s += v; return s })()")
    for bad in ["1 +", "var x = 1; x", "1) + (2", "1); (function () {})(); (1", "a b", "", "`x${"]:
        with pytest.raises(ExpressionError, match="SyntaxError"):
            engine.check_syntax(bad)
    with pytest.raises(ExpressionError, match=r"line 2, column 3"):
        engine.check_syntax("1 +\na b")
    with pytest.raises(ExpressionError):
        engine.compile("a + 1", ("a", "a"))
    with pytest.raises(ExpressionError):
        engine.compile("1", ("not an identifier",))


# --- sandbox -----------------------------------------------------------------------------------

@pytest.mark.parametrize("src", [
    "eval('1')",
    "Function('return 1')()",
    "(() => {}).constructor('return 1')()",
    "Object.getPrototypeOf(async function () {}).constructor('return 1')",
    "Object.getPrototypeOf(function* () {}).constructor('return 1')",
    "Object.getPrototypeOf(async function* () {}).constructor('return 1')",
    "[]['constr' + 'uctor']['constr' + 'uctor']('return 1')()",
    "globalThis.process",
    "Reflect.construct(Object, [])",
    "new Proxy({}, {})",
    "(() => { Math.PI = 3; return 1 })()",
    "(() => { Array.prototype.map = null; return 1 })()",
])
def test_sandbox_refuses_at_run_time(engine, src):
    with pytest.raises(JSError):
        engine.compile(src, ())()
    assert engine.compile("[1, 2].map((x) => x * Math.PI)", ())() == [math.pi, 2 * math.pi]


@pytest.mark.parametrize("name", [
    "eval", "Function", "globalThis", "console", "setTimeout", "setInterval", "require", "process",
    "std", "os", "Reflect", "Proxy", "queueMicrotask", "Atomics", "SharedArrayBuffer", "WeakRef",
    "FinalizationRegistry", "performance", "escape", "unescape", "print",
])
def test_risky_globals_absent(engine, name):
    assert engine.compile(f"typeof {name}", ())() == "undefined"


def test_this_is_undefined(engine):
    assert engine.compile("(function () { return this })()", ())() is UNDEFINED


# --- limits ------------------------------------------------------------------------------------

@pytest.mark.parametrize("src", [
    "(() => { while (true) {} })()",
    "(() => { let s = 'x'; for (;;) s += s; })()",
    "'x'.repeat(2 ** 30)",
    "new Array(2 ** 30).fill(1)",
    "(function f(n) { return f(n + 1) + 1; })(0)",
    "(() => { const a = []; for (;;) a.push({ x: 1 }); })()",
    "/(a+)+$/.test('a'.repeat(40) + 'b')",
    "(() => { throw { toString() { for (;;); } } })()",
    "({ toJSON() { for (;;); } })",
])
def test_runaway_is_stopped(small, src):
    ok = small.compile("p + 1", ("p",))
    assert ok(1) == 2.0
    # the limit is wall-clock time (the worker is killed at the deadline); this process waits
    t0, c0 = time.perf_counter(), time.process_time()
    with pytest.raises(JSError) as info:
        small.compile(src, ())()
    assert time.process_time() - c0 < SMALL.time_limit + 0.5
    assert time.perf_counter() - t0 < 2 * SMALL.time_limit + 1.0
    assert info.value.name in ("InternalError", "RangeError")
    assert ok(2) == 3.0
    assert small.compile("[1, 2].join()", ())() == "1,2"


def test_timeout_message(small):
    with pytest.raises(JSError, match="interrupted: time limit of 0.2 s exceeded"):
        small.compile("(() => { for (;;) {} })()", ())()


def test_out_of_memory_message_and_replacement(small):
    f = small.compile("p * 2", ("p",))
    assert f(2) == 4.0
    pid = small.worker_pid
    with pytest.raises(JSError, match="out of memory"):
        small.compile("new Array(2 ** 30).fill(1)", ())()
    # the worker whose runtime ran out of memory is replaced; functions are defined again
    assert small.worker_pid is None
    assert f(3) == 6.0
    assert small.worker_pid not in (None, pid)


# --- threads -----------------------------------------------------------------------------------

def test_four_threads(engine):
    f = engine.compile("[a, b].map((x) => x * 2).reduce((s, x) => s + x, 0) + s.length", ("a", "b", "s"))
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(300):
                assert f(i, k, "ab😀") == 2 * i + 2 * k + 4
            with pytest.raises(JSError):
                engine.compile("null.x", ())()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_default_engine_is_shared():
    assert default_engine() is default_engine()
    assert default_engine().compile("1 + 2", ())() == 3.0
