"""Rate-limited warnings: a mapping failing on every message must not flood the log."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable

logger = logging.getLogger("runtime")

__all__ = ["RateLimitedLog", "logger", "shorten", "topic_key"]

SHOWN = 80  # characters of an offending value shown in a warning


def shorten(value: object, limit: int = SHOWN) -> str:
    """``repr(value)`` for a warning, cut to about ``limit`` characters (with the full length
    said) so a 50 MB payload costs a line, not 50 MB of log. ``bytes`` are shown as text
    (UTF-8, undecodable bytes escaped) since payloads are JSON text."""
    if isinstance(value, bytes | bytearray):
        n = len(value)
        text = repr(bytes(value[: limit + 1]).decode("utf-8", "backslashreplace"))
        unit = "bytes"
    else:
        text = repr(value)
        n = len(value) if isinstance(value, str) else len(text)
        unit = "characters"
    if len(text) > limit:
        return f"{text[:limit]}... ({n:,} {unit})"
    return text


def topic_key(topic: str, kind: str) -> str:
    """The rate-limit key of one kind of problem on one topic: a ``str`` (its hash is cached, so
    the generated code's inlined suppression check costs no tuple hash per message)."""
    return f"{topic} {kind}"


class RateLimitedLog:
    """Per key: the first message is logged; later ones within ``interval`` seconds are counted,
    and the next one logged after the interval carries the count of those suppressed.
    ``flush()`` reports counts still pending. Keys are bounded: a mapping index, or
    ``topic_key(source topic, kind of problem)`` so one kind flooding a topic never hides another."""

    __slots__ = ("logger", "interval", "clock", "_windows")

    def __init__(self, log: logging.Logger = logger, interval: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger = log
        self.interval = interval
        self.clock = clock
        self._windows: dict[Hashable, list] = {}  # key -> [window start, suppressed, last logged message]

    def warning(self, key: Hashable, message: str | Callable[..., str], *args: object) -> None:
        """Log ``message``: a string, or a callable making it from ``args``, called only when the
        message is actually logged."""
        now = self.clock()
        window = self._windows.get(key)
        if window is not None and now - window[0] < self.interval:
            window[1] += 1  # the common case under a flood: count, nothing else
            return
        if not self.logger.isEnabledFor(logging.WARNING):
            return
        if window is None:
            if not isinstance(message, str):
                message = message(*args)
            self._windows[key] = [now, 0, message]
            self.logger.warning(message)
            return
        elapsed = now - window[0]
        if not isinstance(message, str):
            message = message(*args)
        suppressed = window[1]
        window[0], window[1], window[2] = now, 0, message
        if suppressed:
            message += f" ({suppressed} similar message{'s' if suppressed != 1 else ''} suppressed " \
                       f"in the last {elapsed:.0f}s)"
        self.logger.warning(message)

    def flush(self) -> None:
        """Log a summary line for every key with suppressed messages."""
        for window in self._windows.values():
            if window[1]:
                n = window[1]
                self.logger.warning(f"{window[2]} ({n} similar message{'s' if n != 1 else ''} suppressed)")
                window[1] = 0
