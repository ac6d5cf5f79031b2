"""Report table 4: variable resolution."""

from __future__ import annotations

import pytest

from bench import scenarios
from bench.scenarios import VARIABLES, VARIANTS


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", [name for name, _ in VARIABLES])
def test_variables(benchmark, name, variant):
    op = scenarios.variables(name, variant)
    out = benchmark(op.fn, op.arg)
    assert len(out) == (3 if name == "SubsequentVariables" else 4)


@pytest.mark.parametrize("variant", VARIANTS)
def test_first_message_of_fresh_processor(benchmark, variant):
    """FirstVariable taken literally: every round a fresh processor (made in setup, not timed)."""

    def setup():
        return (scenarios.processor(scenarios.PUMP_CONFIG, variant), [scenarios.PRESS_MESSAGE]), {}

    out = benchmark.pedantic(lambda p, batch: p.process_batch(batch), setup=setup, rounds=50)
    assert len(out) == 4
