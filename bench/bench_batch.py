"""Report tables 5 and 6: batch sizes and the realistic workload."""

from __future__ import annotations

import pytest

from bench import scenarios
from bench.scenarios import BATCHES, VARIANTS


@pytest.mark.parametrize("mix", ["mixed", "press"])
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("size", [n for n, _ in BATCHES])
def test_batch(benchmark, size, variant, mix):
    op = scenarios.batch(size, variant, mixed=mix == "mixed")
    out = benchmark(op.fn, op.arg)
    assert len(out) >= 3 * size


@pytest.mark.parametrize("variant", VARIANTS)
def test_realistic_workload(benchmark, variant):
    op = scenarios.realistic(variant)
    benchmark(op.fn, op.arg)
