"""Report table 7: allocations per processed message, state accumulation, resident memory.

These are measurements, not timings: each test runs its measurement (small counts here; the
numbers in RESULTS.md come from ``python -m bench``) and checks only that nothing accumulates.
The resident-memory run uses ``BENCH_RSS_COUNT`` messages (default 5,000; CI never runs the
1,000,000-message run)."""

from __future__ import annotations

import pytest

from bench import memory, rss, scenarios
from bench.conftest import rss_count
from bench.scenarios import PRESS_MESSAGE, PUMP_CONFIG, VARIANTS


@pytest.mark.parametrize("variant", VARIANTS)
def test_message_creation_allocations(benchmark, variant):
    p = scenarios.processor(PUMP_CONFIG, variant)
    out = benchmark(p.process, PRESS_MESSAGE)
    assert len(out) == 4
    blocks = memory.blocks_per_message(p.process, PRESS_MESSAGE, 500)
    assert blocks["blocks_dropped"] < 0.1  # nothing is left behind by a processed message
    traced = memory.tracemalloc_per_message(p.process, PRESS_MESSAGE, 500)
    assert 0 < traced["retained_bytes"] < 4096
    if memory.memray is not None:
        alloc = memory.memray_per_message(p.process, PRESS_MESSAGE, 200)
        assert alloc["allocs"] > 0


@pytest.mark.parametrize("variant", VARIANTS)
def test_state_accumulation(benchmark, variant):
    p = scenarios.processor(PUMP_CONFIG, variant)
    msgs = list(scenarios.distinct_press_messages(0, 1000))

    def run(messages):
        for m in messages:
            p.process(m)

    benchmark(run, msgs)
    grown = memory.state_accumulation(p.process, scenarios.distinct_press_messages(1000, 1000))
    assert grown["bytes"] < 10_000  # the state is one cell per alias, whatever the values


@pytest.mark.parametrize("variant", VARIANTS)
def test_resident_memory_flat(variant):
    result = rss.run(variant, rss_count(), max(1, rss_count() // 5))
    assert result["messages"] == rss_count()
    assert result["growth_after_warmup"] < 8 * 1024 * 1024
