"""Periodic counters and a progress line on stderr while ``streamproc run`` reads JSON Lines.

A daemon thread reads the processor's counters (plain integers: reading them from another thread
costs the processing loop nothing) every ``interval`` seconds and writes either one stats line
(``--stats-interval``) or, when stderr is a terminal, a progress line that replaces itself.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import IO, Any

__all__ = ["Progress"]

PROGRESS_INTERVAL = 0.5  # seconds between redraws of the terminal progress line


def _first(processor: Any) -> Any:
    """The processor whose ``messages_in`` counts the input (every member of a set sees it all)."""
    members = getattr(processor, "processors", None)
    return members[0] if members else processor


class Progress:
    """``Progress(processor, interval=S)`` prints ``stats:`` lines every S seconds;
    ``Progress(processor, line=True)`` redraws one progress line (messages, msg/s) on a terminal.
    ``start()`` / ``stop()`` (``stop`` erases the progress line)."""

    def __init__(self, processor: Any, *, interval: float | None = None, line: bool = False,
                 prog: str = "streamproc", stream: IO[str] | None = None) -> None:
        self.processor = processor
        self.interval = interval
        self.line = line
        self.prog = prog
        self.stream = stream if stream is not None else sys.stderr
        self._stop = threading.Event()
        self._lock = threading.Lock()  # the progress thread and log records share the stream
        self._thread = threading.Thread(target=self._run, name="streamproc-progress", daemon=True)
        self._drawn = False

    def start(self) -> Progress:
        if self.interval or self.line:
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join(2)
        self.erase()

    def erase(self) -> None:
        """Erase the progress line (before another line is written to the stream)."""
        with self._lock:
            if self._drawn:
                self.stream.write("\r\033[K")
                self.stream.flush()
                self._drawn = False

    def filter(self, record: object) -> bool:
        """As a ``logging`` filter of the handler writing to the same stream: a log line erases
        the progress line first (it is redrawn at the next tick)."""
        self.erase()
        return True

    def _run(self) -> None:
        started = last_stats = last_draw = time.monotonic()
        counted = _first(self.processor).metrics.messages_in
        first = counted
        tick = min(x for x in (self.interval, PROGRESS_INTERVAL if self.line else None) if x)
        while not self._stop.wait(tick):
            now = time.monotonic()
            m = _first(self.processor).metrics
            if self.interval and now - last_stats >= self.interval - 1e-3:
                rate = (m.messages_in - counted) / (now - last_stats)
                counted, last_stats = m.messages_in, now
                self._write(f"{self.prog}: stats: messages_in={m.messages_in} processed={m.processed} "
                            f"outputs={self.processor.metrics.outputs} invalid={m.invalid} "
                            f"mapping_errors={self.processor.metrics.mapping_errors} msg_per_s={rate:,.0f}\n")
            elif self.line and now - last_draw >= PROGRESS_INTERVAL - 1e-3:
                last_draw = now
                rate = (m.messages_in - first) / (now - started) if now > started else 0.0
                self._write(f"\r{self.prog}: {m.messages_in:,} messages, {rate:,.0f} msg/s\033[K", drawn=True)

    def _write(self, text: str, drawn: bool = False) -> None:
        with self._lock:
            if self._drawn and not drawn:
                text = "\r\033[K" + text
            self.stream.write(text)
            self.stream.flush()
            self._drawn = drawn
