"""The timing loop of ``python -m bench``.

Method: every operation ``fn(arg)`` is first calibrated (how many calls fill one sample), then all
the operations of one table are sampled *round-robin*, ``rounds`` times, and each keeps its
fastest sample. Interleaving means a burst of load on this shared machine hits every column of a
row alike, so the ratios between columns (measured in the same run, seconds apart) are much more
stable than the absolute figures. Samples are CPU time of this process (``time.process_time``):
time spent descheduled by other tenants is not counted. The order of the operations is shuffled
every round (fixed seed): on this machine a sample's position after a heavy neighbour measurably
changes it. The garbage collector stays enabled, as it would be in production.
"""

from __future__ import annotations

import gc
import itertools
import random
import time
from collections.abc import Hashable, Mapping

from bench.scenarios import Op

clock = time.process_time


def _sample(op: Op, number: int) -> float:
    fn, arg = op.fn, op.arg
    it = itertools.repeat(None, number)
    t0 = clock()
    for _ in it:
        fn(arg)
    return clock() - t0


def calibrate(op: Op, sample_s: float) -> int:
    """Calls per sample so that one sample takes about ``sample_s`` seconds."""
    number = 1
    while True:
        t = _sample(op, number)
        if t >= sample_s / 5 or number >= 10_000_000:
            break
        number *= 10 if t < sample_s / 50 else 2
    return max(1, int(number * sample_s / max(t, 1e-9)))


def measure(ops: Mapping[Hashable, Op], sample_s: float = 0.05, rounds: int = 5) -> dict[Hashable, float]:
    """ns per message (``op.messages`` per call) of every op: min over ``rounds`` interleaved samples."""
    numbers = {k: calibrate(op, sample_s) for k, op in ops.items()}
    best = dict.fromkeys(ops, float("inf"))
    order = list(ops)
    rng = random.Random(1)
    for _ in range(rounds):
        rng.shuffle(order)
        for k in order:
            t = _sample(ops[k], numbers[k])
            best[k] = min(best[k], t / numbers[k])
    gc.collect()
    return {k: best[k] * 1e9 / ops[k].messages for k in ops}


def single_calls(ops: list[Op]) -> list[float]:
    """ns of one call of each op (wall clock, ``perf_counter_ns``): for one-shot operations."""
    out = []
    for op in ops:
        fn, arg = op.fn, op.arg
        t0 = time.perf_counter_ns()
        fn(arg)
        out.append((time.perf_counter_ns() - t0) / op.messages)
    return out
