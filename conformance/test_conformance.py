"""The conformance suite under pytest: the corpus, generated expressions, the processor level.

CI budget: about a minute (the corpus, ``CI_EXAMPLES`` generated expressions, the example
streams and ``CI_STREAMS`` generated streams), with the fixed seed ``CI_SEED``. The
nightly-style run is one command:
``python -m conformance --examples 100000 --seed $(date +%Y%m%d) --report conformance.json``.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, seed, settings

from conformance.corpus import FAMILIES
from conformance.runner import Conformance
from conformance.strategies import Expr, cases
from conformance.streams import example_streams, streams

CI_EXAMPLES = int(os.environ.get("CONFORMANCE_EXAMPLES", "1500"))
CI_STREAMS = int(os.environ.get("CONFORMANCE_STREAMS", "40"))
# CI is deterministic: fixed seeds (``python -m conformance --seed S --seeds K`` sweeps others)
CI_SEED = int(os.environ.get("CONFORMANCE_SEED", "20261126"))
_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

CONFORMANCE = Conformance()


def _failures(conf: Conformance, before: int) -> str:
    return "\n".join(d.describe() for d in conf.disagreements[before:])


@pytest.mark.parametrize("family", list(FAMILIES))
def test_corpus_family_agrees_with_quickjs(family: str) -> None:
    before = len(CONFORMANCE.disagreements)
    for source in FAMILIES[family]:
        CONFORMANCE.check_expression(source, family)
    assert len(CONFORMANCE.disagreements) == before, _failures(CONFORMANCE, before)


def test_corpus_is_large_and_mostly_python() -> None:
    sources = [s for family, items in FAMILIES.items() for s in items
               if family not in ("quickjs-fallback", "regressions")]  # a regression may repeat one
    assert len(sources) >= 300
    assert len(set(sources)) == len(sources), "duplicate corpus expressions"
    from conformance.environments import ENVIRONMENTS

    assert len(ENVIRONMENTS) >= 5


@seed(CI_SEED)
@settings(max_examples=CI_EXAMPLES, deadline=None, suppress_health_check=_SLOW_OK)
@given(cases())
def test_generated_expressions_agree_with_quickjs(case: tuple[Expr, dict]) -> None:
    expr, env = case
    before = len(CONFORMANCE.disagreements)
    ok = CONFORMANCE.check(expr.text, env, expr.family, "generated")
    assert ok, _failures(CONFORMANCE, before)


@pytest.mark.parametrize("name", [name for name, _, _ in example_streams()])
def test_example_streams_byte_identical_across_engines(name: str) -> None:
    (config, messages), = [(c, m) for n, c, m in example_streams() if n == name]
    before = len(CONFORMANCE.disagreements)
    assert CONFORMANCE.check_stream(config, messages, "examples"), _failures(CONFORMANCE, before)


@seed(CI_SEED)
@settings(max_examples=CI_STREAMS, deadline=None, suppress_health_check=_SLOW_OK)
@given(streams())
def test_generated_streams_byte_identical_across_engines(stream) -> None:
    config, messages = stream
    before = len(CONFORMANCE.disagreements)
    assert CONFORMANCE.check_stream(config, messages, "generated-streams"), _failures(CONFORMANCE, before)


def test_generated_cases_run_mostly_in_python() -> None:
    conf = Conformance()
    conf.run_generated(150, seed=3)
    total = conf.totals()
    assert total.cases >= 100
    # function bodies (family "functions") are outside the python subset by design
    subset = [c for (_, family), c in conf.counts.items() if family != "functions"]
    python, cases_ = sum(c.python for c in subset), sum(c.cases for c in subset)
    assert cases_ >= 80 and python / cases_ > 0.97, conf.table()
