"""Operations feedback: a source topic that stays silent while the others speak.

A typo in a source topic loses data without an error (messages on the misspelt topic are
foreign traffic, dropped unparsed), so the processor watches its sources: once N messages have
come in (default 10,000) or T seconds have passed since the first one (default 60), every
source topic that has still not delivered a valid message is named in one warning, once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

__all__ = ["DONE", "SourceWatch"]

DONE = 1 << 62  # the next check "never": every source has spoken or been reported
STEP = 100  # messages between checks on the per-message path (``process``)


class SourceWatch:
    """``check(n_in)`` is called by the processor with its ``messages_in`` count; it returns the
    count at which to call it next (``DONE`` when there is nothing left to watch).

    ``state`` returns the current value of every alias (``missing`` when none yet), in the
    order of ``sources`` (alias -> topic)."""

    def __init__(self, sources: dict[str, str], state: Callable[[], tuple], missing: object,
                 log: logging.Logger, *, after_messages: int = 10_000, after_seconds: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.after_messages = after_messages
        self.after_seconds = after_seconds
        self.clock = clock
        self.log = log
        self._state = state
        self._missing = missing
        # topic -> (index of its first alias, its aliases)
        self._topics: dict[str, tuple[int, list[str]]] = {}
        for i, (alias, topic) in enumerate(sources.items()):
            self._topics.setdefault(topic, (i, []))[1].append(alias)
        self._started: float | None = None  # the first check: messages have started coming

    def check(self, n_in: int) -> int:
        now = self.clock()
        if self._started is None:
            self._started = now
        values = self._state()
        missing = self._missing
        silent = [t for t, (i, _) in self._topics.items() if values[i] is missing]
        if not silent:
            return DONE
        seen = n_in
        waited = now - self._started
        if seen < self.after_messages and waited < self.after_seconds:
            return n_in + STEP
        for topic in silent:
            aliases = self._topics.pop(topic)[1]
            self.log.warning(
                f"source topic {topic!r} (sources.{', sources.'.join(aliases)}) has received no valid "
                f"message after {seen:,} messages in {waited:.0f} s: check its spelling; the mappings "
                f"that depend on it produce nothing until it does")
        return DONE
