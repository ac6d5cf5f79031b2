"""pytest configuration for ``bench/``.

Plain ``python -m pytest`` (the CI command) runs every benchmark function exactly once, as with
``--benchmark-disable``, so that none of them rots and CI stays fast. To really benchmark, set
``BENCH_ENABLE=1`` or pass ``--benchmark-enable``, e.g.::

    BENCH_ENABLE=1 python -m pytest bench --benchmark-only --benchmark-group-by=func

(``python -m bench`` is the way to get RESULTS.md; it times the same scenario code.)
"""

from __future__ import annotations

import os

import pytest

try:
    import pytest_benchmark  # noqa: F401
except ImportError:  # keep the smoke run working without the plugin: call the function once
    @pytest.fixture
    def benchmark():
        def run(fn, *args, **kwargs):
            return fn(*args, **kwargs)

        run.pedantic = lambda fn, args=(), kwargs=None, **_: fn(*args, **(kwargs or {}))
        return run


def pytest_configure(config):
    enabled = os.environ.get("BENCH_ENABLE", "") not in ("", "0")
    if hasattr(config.option, "benchmark_disable") and not enabled:
        # the plugin's own pytest_configure is trylast and reads this option after us
        config.option.benchmark_disable = True


def rss_count() -> int:
    """Messages for the resident-memory benchmark: small unless asked (the 1,000,000-message run
    is ``python -m bench``)."""
    return int(os.environ.get("BENCH_RSS_COUNT", "5000"))
