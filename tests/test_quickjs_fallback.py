"""The QuickJS half of ``compile_expression``: what the python subset leaves to QuickJS,
checked against an independent QuickJS context, and the guarantees around it."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from conformance.reference import Reference, agree, evaluate_ours
from runtime import Message, StreamProcessor
from transpiler import ExpressionError, JSError, compile_expression
from transpiler.quickjs_engine import QuickJSLimits

REF = Reference()

FALLBACK = [
    "[a, b].map(x => x * 2)", "[a, b, 3].filter(x => x > 2)", "[a, b].reduce((s, x) => s + x, 0)",
    "[b, a, 10].sort((x, y) => x - y)", "/^\\d+$/.test(s)", "s.match(/[a-z]/g)",
    "s.replace(/[a-z]/g, 'X')", "o?.x.map(v => v)", "o?.missing?.deep.find(v => v)", "[...arr, a]",
    "({...o, extra: a})", "Math.max(...arr)", "(({x, y = 2}) => x + y)(o)", "(([p, q]) => p * q)(arr)",
    "new Date(0).toISOString()", "(() => { let t = 0; for (let i = 0; i < a; i++) t += i; return t; })()",
    "Object.keys(o)", "Object.values(o)", "Object.entries(o)", "Array.from(s)",
    "new Set([a, b, a]).size", "Number(1_000n + BigInt(a))", "String.raw`x\\n${a}`",
]
ENVS = [
    {"a": 3.0, "b": 1.5, "s": "ab12", "o": {"x": 1.0, "y": 5.0}, "arr": [2.0, 4.0]},
    {"a": -0.0, "b": 7.0, "s": "", "o": {"x": -2.5}, "arr": [1.0, 1.0]},
    {"a": 10.0, "b": 2.0, "s": "😀z9", "o": {"x": 0.0, "y": None}, "arr": [3.0, 0.5]},
]


@pytest.mark.parametrize("source", FALLBACK)
def test_constructs_outside_the_subset_run_in_quickjs_as_javascript(source: str) -> None:
    compiled = compile_expression(source, ["a", "b", "s", "o", "arr"])
    assert compiled.engine == "quickjs" and compiled.python_source is None
    for env in ENVS:
        values = {k: env[k] for k in compiled.dependencies}
        ours = evaluate_ours(compiled, values)
        reference = REF.evaluate(source, values)
        assert agree(ours, reference), f"{source} with {values}: {ours} != {reference}"


def test_dependencies_are_scope_aware_and_scanned_for_new_syntax() -> None:
    assert compile_expression("[1, 2].map(press => press * tF)", ["press", "tF"]).dependencies == ("tF",)
    assert compile_expression("press ?? tF", ["press", "tF", "r"]).dependencies == ("press", "tF")
    assert compile_expression("o?.press + r", ["press", "o", "r"]).dependencies == ("o", "r")


@pytest.mark.parametrize("source", ["import('fs')", "o?.constructor", "globalThis?.x",
                                    "a ?? eval('1')", "o?.['__proto__']"])
def test_blocked_constructs_in_syntax_esprima_rejects(source: str) -> None:
    with pytest.raises(ExpressionError):
        compile_expression(source, ["a", "o"])


def test_real_syntax_errors_report_quickjs_message_and_position() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression("a ?? ", ["a"])
    assert "line" in str(caught.value) or "end of expression" in str(caught.value)


SMALL = QuickJSLimits(time_limit=0.3, memory_limit=32 * 1024 * 1024, stack_limit=256 * 1024)
RUNAWAYS = [
    "(() => { while (true) {} })()",
    "(() => { let s = 'x'; for (;;) s += s; })()",
    "'x'.repeat(2 ** 30)",
    "new Array(2 ** 30).fill(1)",
    "(function f(n) { return f(n + 1) + 1; })(0)",
    "[]['constr' + 'uctor']['constr' + 'uctor']('return 1')()",
]


@pytest.mark.parametrize("source", RUNAWAYS)
@pytest.mark.parametrize("engine", ["auto", "quickjs"])
def test_runaways_fail_in_bounded_time_and_the_engine_recovers(source: str, engine: str) -> None:
    compiled = compile_expression(source, [], engine=engine, limits=SMALL)
    started, cpu = time.monotonic(), time.process_time()
    with pytest.raises(JSError):
        compiled.fn()
    # the limit is wall-clock time, enforced by killing the worker (tests/test_sandbox.py
    # holds it to 1.5x); this process only waits meanwhile
    assert time.process_time() - cpu < SMALL.time_limit + 0.5
    assert time.monotonic() - started < 2 * SMALL.time_limit + 1.0
    after = compile_expression("[1, 2, 3].map(x => x * 2).join('-')", [], engine="quickjs", limits=SMALL)
    assert after.fn() == "2-4-6"


def test_a_runaway_mapping_costs_only_its_own_output() -> None:
    config = {
        "output_topic": "umh.v1.t", "model": {"name": "m", "version": "v1"},
        "sources": {"a": "umh.v1.t._raw.a"},
        "mapping": {"loop": "(() => { while (true) {} })() + a", "ok": "a * 2"},
    }
    processor = StreamProcessor(config, limits=SMALL)
    message = Message(b'{"value": 2, "timestamp_ms": 5}', {"umh_topic": "umh.v1.t._raw.a"})
    for _ in range(2):
        out = processor.process(message)
        assert [m.meta["umh_topic"] for m in out] == ["umh.v1.t._m_v1.ok"]
        assert out[0].payload == b'{"value":4,"timestamp_ms":5}'
    assert processor.metrics.mapping_errors == 2


def test_quickjs_expressions_from_many_threads() -> None:
    compiled = compile_expression("[a, a].map(x => x + 1).reduce((s, x) => s + x)", ["a"])
    errors: list[BaseException] = []

    def work(base: float) -> None:
        try:
            for i in range(200):
                assert compiled.fn(base + i) == 2 * (base + i + 1)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k * 1000.0,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_explain_shows_engine_reason_dependencies_and_source() -> None:
    run = [sys.executable, "-m", "transpiler", "explain"]
    out = subprocess.run([*run, "press * 2 + tF", "--vars", "press,tF"], capture_output=True,
                         text=True, check=True).stdout
    assert "engine:       python" in out and "dependencies: press, tF" in out
    assert "def _expression(press, tF):" in out
    out = subprocess.run([*run, "[press].map(x => x * 2)", "--vars", "press"], capture_output=True,
                         text=True, check=True).stdout
    assert "engine:       quickjs" in out and "method '.map()'" in out
    out = subprocess.run([*run, "press ?? 1", "--vars", "press"], capture_output=True, text=True,
                         check=True).stdout
    assert "engine:       python" in out and "press is None or press is _UNDEF" in out
    failed = subprocess.run([*run, "eval('1')"], capture_output=True, text=True)
    assert failed.returncode == 2 and "eval" in failed.stderr
