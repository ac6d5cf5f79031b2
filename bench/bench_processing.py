"""Report tables 1 and 2: message processing (HighThroughput) and the fast paths."""

from __future__ import annotations

import pytest

from bench import scenarios
from bench.scenarios import FAST_PATHS, PROCESSING, VARIANTS

NAMES = [name for name, _ in PROCESSING] + ["HighThroughput.process"]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", NAMES)
def test_processing(benchmark, name, variant):
    op = scenarios.processing(name, variant)
    out = benchmark(op.fn, op.arg)
    assert len(out) == 4


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", [name for name, _, _ in FAST_PATHS])
def test_fast_path(benchmark, name, variant):
    op = scenarios.fast_path(name, variant)
    assert benchmark(op.fn, op.arg) == []


@pytest.mark.parametrize("engine", scenarios.ENGINES)
def test_same_outputs_as_the_floor(engine):
    """The floor is a fair yardstick: the same bytes and metadata out, in the same order."""
    ours = scenarios.processor(scenarios.PUMP_CONFIG, engine)
    floor = scenarios.processor(scenarios.PUMP_CONFIG, "floor")
    msgs = scenarios.batch_messages(30) + [m for b in scenarios.realistic_batches() for m in b]
    assert [(m.payload, m.meta) for m in ours.process_batch(msgs)] == \
        [(m.payload, m.meta) for m in floor.process_batch(msgs)]
