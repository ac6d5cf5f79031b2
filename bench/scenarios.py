"""The scenarios of ``shared/reference/benchmarks.md``: configurations, inputs and the operations timed.

Everything here is shared by the pytest-benchmark files (``bench/bench_*.py``) and by
``python -m bench`` so that both time exactly the same code. An *operation* is a pair
``(fn, arg)``: the timed statement is ``fn(arg)``, and ``messages`` says how many input
messages (or expression evaluations) one call stands for.

Variants ("engines") of a processor scenario:

* ``python``  -- ``StreamProcessor(config, engine="python")`` (the transpiled closures),
* ``quickjs`` -- ``StreamProcessor(config, engine="quickjs")`` (every mapping evaluated by QuickJS
  through ``transpiler.quickjs_engine``, default limits: 1 s time limit active),
* ``floor``   -- ``runtime.handwritten``: the pump configuration's handler written by hand (same
  bytes and metadata out); only for scenarios that use the pump configuration.
"""

from __future__ import annotations

import gc
import itertools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from runtime.handwritten import make_handwritten
from runtime.logs import RateLimitedLog
from runtime.message import Message
from runtime.processor import StreamProcessor

PREFIX = "umh.v1.corpA.plant-A.aawd"
PRESS = PREFIX + "._raw.press"
TEMPF = PREFIX + "._raw.tempF"
RUN = PREFIX + "._raw.run"
UNKNOWN = PREFIX + "._raw.unknown"
SOURCES = {"press": PRESS, "tF": TEMPF, "r": RUN}

# The test processor of benchmarks.md: examples/pump.yaml (tests/test_runtime.py checks that the
# example is exactly the benchmark's configuration).
PUMP_CONFIG: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "examples" / "pump.yaml").read_text(encoding="utf-8"))
assert PUMP_CONFIG["sources"] == SOURCES and PUMP_CONFIG["output_topic"] == PREFIX

ENGINES = ("python", "quickjs")
VARIANTS = ("python", "quickjs", "floor")
METRICS_VARIANTS = ("python", "quickjs")  # HighThroughput with --metrics-port's instrumentation

# The report's five expressions: (name, source, original ns/op, needs tF)
EXPRESSIONS: list[tuple[str, str, float, bool]] = [
    ("Simple", "press + 1", 12_603, False),
    ("ComplexMath", "Math.sqrt(press * press + tF * tF) / 2.0", 789.3, True),
    ("StringConcat", '"Temperature: " + tF + "F, Pressure: " + press + " PSI"', 788.8, True),
    ("Conditional", "press > 20 ? 'high' : 'normal'", 12_147, False),
    ("MathOps", "Math.pow(press, 2) + Math.abs(tF - 32) * 1.8", 800.9, True),
]

# Hand-written Python for the five expressions, floats in, same results for the inputs used here
# (non-integral, non-exponent floats: ``repr`` then prints what JavaScript prints).
LAMBDAS: dict[str, Callable[..., Any]] = {
    "Simple": lambda press: press + 1.0,
    "ComplexMath": lambda press, tF: math.sqrt(press * press + tF * tF) / 2.0,
    "StringConcat": lambda tF, press: f"Temperature: {tF!r}F, Pressure: {press!r} PSI",
    "Conditional": lambda press: "high" if press > 20.0 else "normal",
    "MathOps": lambda press, tF: press ** 2 + abs(tF - 32.0) * 1.8,
}


def expression_config(source: str) -> dict[str, Any]:
    """The expression benchmarks' processor: model test/v1, one mapping ``result``."""
    return {"output_topic": PREFIX, "model": {"name": "test", "version": "v1"},
            "sources": dict(SOURCES), "mapping": {"result": source}}


def now_ms() -> int:
    return int(time.time() * 1000)


TS = now_ms()


def payload(value: float, ts: int = TS) -> bytes:
    return b'{"value":%s,"timestamp_ms":%d}' % (repr(value).encode(), ts)


def message(topic: str | None = PRESS, value: float = 25.5, ts: int = TS) -> Message:
    return Message(payload(value, ts), {} if topic is None else {"umh_topic": topic})


PRESS_MESSAGE = message()


def _quiet_log() -> RateLimitedLog:
    """The processor's rate-limited log, on a logger with a NullHandler that does not propagate:
    the code path is the production one (warnings enabled, first one logged, then counted),
    without writing to stderr during a benchmark."""
    log = logging.getLogger("bench.runtime")
    if not log.handlers:
        log.addHandler(logging.NullHandler())
        log.propagate = False
        log.setLevel(logging.WARNING)
    return RateLimitedLog(log)


class Handwritten:
    """``runtime.handwritten`` with the processor's interface (the floor)."""

    def __init__(self) -> None:
        self.process = make_handwritten()

    def process_batch(self, messages):
        out: list[Message] = []
        process = self.process
        for m in messages:
            out += process(m)
        return out


def processor(config: dict[str, Any], variant: str):
    """A fresh processor for ``variant`` (``python``, ``quickjs`` or ``floor``)."""
    if variant == "floor":
        if config is not PUMP_CONFIG:
            raise ValueError("the hand-written floor exists for the pump configuration only")
        return Handwritten()
    return StreamProcessor(config, engine=variant, log=_quiet_log())


@dataclass
class Op:
    """One timed operation: ``fn(arg)`` stands for ``messages`` messages (or evaluations)."""

    fn: Callable[[Any], Any]
    arg: Any
    messages: int = 1
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __call__(self) -> Any:
        return self.fn(self.arg)


# --------------------------------------------------------------------------------------------
# processing / fast path
# --------------------------------------------------------------------------------------------

PROCESSING = [  # (name, original ns)
    ("StaticMapping", 27_637.0),
    ("DynamicMapping", 27_468.0),
    ("MixedMappings", 27_963.0),
    ("HighThroughput", 27_822.0),
]


def processing(name: str, variant: str, metrics: bool = False) -> Op:
    """The four processing rows: the press message on the test processor, ``process_batch`` of a
    batch of 1 (as the report ran them). ``HighThroughput.process`` is the same through
    ``process(message)``, the per-message API. ``metrics``: instrumented as ``streamproc run``
    does (``runtime.metrics.Telemetry``: sampled batch timing and evaluation timing)."""
    p = processor(PUMP_CONFIG, variant)
    if metrics:
        from runtime.metrics import Telemetry

        Telemetry(p, process_metrics=False)
    if name.endswith(".process"):
        return Op(p.process, PRESS_MESSAGE)
    return Op(p.process_batch, [PRESS_MESSAGE])


FAST_PATHS = [  # (name, original ns, input)
    ("MissingMetadata", 36.85, Message(PRESS_MESSAGE.payload, {})),
    ("InvalidJSON", 304.2, Message(b"invalid json", {"umh_topic": PRESS})),
    ("UnknownTopic", 561.9, Message(PRESS_MESSAGE.payload, {"umh_topic": UNKNOWN})),
]


def fast_path(name: str, variant: str) -> Op:
    m = {n: msg for n, _, msg in FAST_PATHS}[name]
    p = processor(PUMP_CONFIG, variant)
    p.process_batch([m])  # the first invalid payload is logged; the rest are counted
    assert p.process_batch([m]) == []
    return Op(p.process_batch, [m])


# --------------------------------------------------------------------------------------------
# expressions
# --------------------------------------------------------------------------------------------

def expression(name: str, variant: str, honest: bool) -> Op:
    """One mapping ``result`` on the press message. ``honest``: a tempF message first, so that the
    expressions depending on ``tF`` really run (the report's run skipped them: tF was missing)."""
    source = {n: s for n, s, _, _ in EXPRESSIONS}[name]
    p = processor(expression_config(source), variant)
    if honest:
        p.process(message(TEMPF, 25.5))
    out = p.process_batch([PRESS_MESSAGE])
    return Op(p.process_batch, [PRESS_MESSAGE], extra={"outputs": len(out)})


def js_function_source(source: str, params: tuple[str, ...]) -> str:
    return f'(function ({", ".join(params)}) {{ "use strict"; return ({source}); }})'


def raw_quickjs(source: str, params: tuple[str, ...], time_limit: float | None):
    """The expression as a plain QuickJS function in its own context, called directly from Python
    (no adapter, no sandbox set-up); ``time_limit`` in seconds or None for none."""
    import _quickjs

    ctx = _quickjs.Context()
    if time_limit is not None:
        ctx.set_time_limit(time_limit)
    fn = ctx.eval(js_function_source(source, params))
    _CONTEXTS.append(ctx)  # keep the context alive as long as the process
    return fn


_CONTEXTS: list[Any] = []


def raw_quickjs_call(name: str, time_limit: float | None) -> Op:
    """Baseline of the expression rows: the raw QuickJS function on press=25.5, tF=25.5."""
    source = {n: s for n, s, _, _ in EXPRESSIONS}[name]
    fn = raw_quickjs(source, ("press", "tF"), time_limit)
    return Op(lambda a, _f=fn: _f(*a), (25.5, 25.5))


# --------------------------------------------------------------------------------------------
# variables
# --------------------------------------------------------------------------------------------

VARIABLES = [
    ("FirstVariable", 30_775.0),
    ("SubsequentVariables", 16_477.0),
    ("VariableOverwrite", 28_913.0),
]


def variables(name: str, variant: str) -> Op:
    p = processor(PUMP_CONFIG, variant)
    if name == "FirstVariable":
        # as the report ran it: a processor without state, then the press message, repeated
        return Op(p.process_batch, [PRESS_MESSAGE])
    if name == "SubsequentVariables":
        p.process(message(PRESS))
        p.process(message(TEMPF))
        return Op(p.process_batch, [message(RUN, 30.0)])
    if name == "VariableOverwrite":
        counter = itertools.count()
        meta = {"umh_topic": PRESS}
        process_batch = p.process_batch

        def overwrite(ts: int) -> Any:
            # the payload is built inside the loop, with a new value every iteration
            value = 25.5 + next(counter)
            return process_batch([Message(b'{"value":%r,"timestamp_ms":%d}' % (value, ts), dict(meta))])

        return Op(overwrite, TS)
    raise KeyError(name)


def first_message_ops(variant: str, n: int) -> list[Op]:
    """FirstVariable taken literally: the very first message of ``n`` fresh processors."""
    return [Op(processor(PUMP_CONFIG, variant).process_batch, [PRESS_MESSAGE]) for _ in range(n)]


# --------------------------------------------------------------------------------------------
# batches and throughput
# --------------------------------------------------------------------------------------------

BATCHES = [(1, 27_362.0), (10, 207_100.0), (100, 2_187_756.0), (1000, 23_706_790.0)]


def batch_messages(n: int, mixed: bool = True) -> list[Message]:
    """Message i has value 25.5+i and cycles press, tempF, run (``mixed``), or is all press."""
    topics = (PRESS, TEMPF, RUN) if mixed else (PRESS,)
    return [message(topics[i % len(topics)], 25.5 + i) for i in range(n)]


def batch(n: int, variant: str, mixed: bool = True, gc_off: bool = False) -> Op:
    """``gc_off``: the garbage collector disabled during each call (to see what it costs)."""
    p = processor(PUMP_CONFIG, variant)
    msgs = batch_messages(n, mixed)
    p.process_batch(msgs)
    if not gc_off:
        return Op(p.process_batch, msgs, messages=n)
    process_batch = p.process_batch

    def without_gc(messages):
        gc.disable()
        try:
            return process_batch(messages)
        finally:
            gc.enable()

    return Op(without_gc, msgs, messages=n)


def realistic_batches() -> list[list[Message]]:
    """100 messages (60 press, 30 tempF, 10 run; value 25.5 + i%10) as 10 batches of 10."""
    pattern = [PRESS, PRESS, TEMPF, PRESS, TEMPF, PRESS, PRESS, TEMPF, PRESS, RUN]  # 6/3/1
    msgs = [message(pattern[i % 10], 25.5 + i % 10) for i in range(100)]
    return [msgs[i:i + 10] for i in range(0, 100, 10)]


def realistic(variant: str) -> Op:
    p = processor(PUMP_CONFIG, variant)
    batches = realistic_batches()
    process_batch = p.process_batch

    def workload(bs: list[list[Message]]) -> None:
        for b in bs:
            process_batch(b)

    return Op(workload, batches, messages=100)


# --------------------------------------------------------------------------------------------
# expression micro-benchmarks (the transpiler's own targets)
# --------------------------------------------------------------------------------------------

def varying_values(n: int = 1000) -> tuple[list[float], list[float]]:
    """n distinct non-integral floats for press (15..35, both sides of 20) and for tF."""
    press = [round(15.0 + i * 0.02003, 5) for i in range(n)]
    tf = [round(60.0 + i * 0.0717, 5) for i in range(n)]
    press = [p if p != int(p) else p + 0.25 for p in press]
    tf = [t if t != int(t) else t + 0.25 for t in tf]
    return press, tf


def args_for(deps: tuple[str, ...], n: int = 1000) -> list[tuple[float, ...]]:
    press, tf = varying_values(n)
    cols = {"press": press, "tF": tf}
    return list(zip(*(cols[d] for d in deps)))


def _loop(fn: Callable[..., Any], arity: int) -> Callable[[list], None]:
    if arity == 1:
        def run1(args):
            for (a,) in args:
                fn(a)
        return run1

    def run2(args):
        for a, b in args:
            fn(a, b)
    return run2


def _empty(arity: int) -> Callable[[list], None]:
    if arity == 1:
        def empty1(args):
            for (_a,) in args:
                pass
        return empty1

    def empty2(args):
        for _a, _b in args:
            pass
    return empty2


MICRO_VARIANTS = ("fn", "quickjs-raw", "lambda", "ours-quickjs-limit", "ours-quickjs-nolimit", "empty")


def micro(name: str, variant: str, n: int = 1000) -> Op:
    """``n`` calls of one evaluation path of an expression, on ``n`` distinct (press, tF) pairs.

    ``fn``: the python engine's ``CompiledExpression.fn``; ``quickjs-raw``: the expression as a
    plain QuickJS function (no time limit) called from Python; ``lambda``: hand-written Python;
    ``ours-quickjs-limit`` / ``-nolimit``: ``compile_expression(engine="quickjs")`` with the
    default 1 s time limit / with none; ``empty``: the loop alone (subtracted)."""
    from transpiler import compile_expression
    from transpiler.quickjs_engine import QuickJSLimits

    source = {n_: s for n_, s, _, _ in EXPRESSIONS}[name]
    compiled = compile_expression(source, ["press", "tF"], engine="python")
    deps = compiled.dependencies
    args = args_for(deps, n)
    if variant == "fn":
        fn = compiled.fn
    elif variant == "quickjs-raw":
        fn = raw_quickjs(source, deps, None)
    elif variant == "lambda":
        fn = LAMBDAS[name]
    elif variant == "ours-quickjs-limit":
        fn = compile_expression(source, ["press", "tF"], engine="quickjs").fn
    elif variant == "ours-quickjs-nolimit":
        fn = compile_expression(source, ["press", "tF"], engine="quickjs",
                                limits=QuickJSLimits(time_limit=-1.0)).fn
    elif variant == "empty":
        return Op(_empty(len(deps)), args, messages=n)
    else:
        raise KeyError(variant)
    if variant != "fn":
        probe = fn(*args[0])
        expected = compiled.fn(*args[0])
        assert probe == expected, (name, variant, probe, expected)
    return Op(_loop(fn, len(deps)), args, messages=n)


# --------------------------------------------------------------------------------------------
# state accumulation (memory)
# --------------------------------------------------------------------------------------------

def distinct_press_messages(start: int, count: int, ts: int = TS):
    """Press messages with distinct values start+0.5, start+1.5, ... built on the fly."""
    meta = {"umh_topic": PRESS}
    for i in range(start, start + count):
        yield Message(b'{"value":%d.5,"timestamp_ms":%d}' % (i, ts), meta)
