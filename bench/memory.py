"""Memory measurements: allocations per processed message, state accumulation, resident memory.

Three methods, because Python has no single equivalent of Go's ``B/op`` and ``allocs/op``:

* **memray** (optional, ``pip install memray``): every allocation made while N messages are
  processed (``trace_python_allocators=True``: pymalloc allocations too, plus QuickJS's native
  ``malloc``), freed or not: *total bytes allocated and number of allocations per message*, the
  exact analogue of Go's figures. Also gives the allocation sites (innermost Python frame).
* **tracemalloc**: bytes *retained* per message when the outputs are kept (what one message's
  outputs cost while they live), and the peak of one call above the level before it.
* **sys.getallocatedblocks()**: the interpreter's count of live memory blocks, read around a loop
  of N messages with the garbage collector disabled: blocks retained per message with the
  outputs kept, and the net change with the outputs dropped (0 = nothing accumulates).

Resident memory is read from ``/proc/self/statm`` (Linux; ``ru_maxrss`` elsewhere).
"""

from __future__ import annotations

import gc
import os
import resource
import sys
import tempfile
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from runtime.message import Message

try:
    import memray
except ImportError:  # optional
    memray = None


def memray_per_message(process: Callable[[Message], Any], message: Message, n: int,
                       sites: int = 0) -> dict[str, Any] | None:
    """Total bytes allocated and allocations per message (memray), and the top ``sites``."""
    if memray is None:
        return None
    for _ in range(100):
        process(message)
    fd, path = tempfile.mkstemp(suffix=".memray")
    os.close(fd)
    os.remove(path)
    gc.disable()
    try:
        with memray.Tracker(path, trace_python_allocators=True, native_traces=False):
            for _ in range(n):
                process(message)
    finally:
        gc.enable()
    try:
        reader = memray.FileReader(path)
        frees = {memray.AllocatorType.FREE, memray.AllocatorType.PYMALLOC_FREE,
                 memray.AllocatorType.MUNMAP}
        total = count = 0
        by_site: Counter[str] = Counter()
        by_site_n: Counter[str] = Counter()
        for rec in reader.get_allocation_records():
            if rec.allocator in frees:
                continue
            total += rec.size
            count += rec.n_allocations
            if sites:
                try:
                    stack = rec.stack_trace(3)
                except Exception:  # noqa: BLE001 - stack unavailable
                    stack = []
                site = " <- ".join(f"{fn} ({os.path.basename(f)}:{ln})" for fn, f, ln in stack) or "?"
                by_site[site] += rec.size
                by_site_n[site] += rec.n_allocations
        reader.close()
    finally:
        os.remove(path)
    out: dict[str, Any] = {"bytes": total / n, "allocs": count / n, "messages": n}
    if sites:
        out["sites"] = [(s, b / n, by_site_n[s] / n) for s, b in by_site.most_common(sites)]
    return out


def tracemalloc_per_message(process: Callable[[Message], Any], message: Message, n: int) -> dict[str, float]:
    """Retained bytes per message with the outputs kept; peak bytes of one call."""
    for _ in range(100):
        process(message)
    keep: list[Any] = [None] * n
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(n):
            keep[i] = process(message)
        retained = tracemalloc.get_traced_memory()[0] - before
        del keep
        peaks = []
        for _ in range(20):
            current = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            process(message)
            peaks.append(tracemalloc.get_traced_memory()[1] - current)
    finally:
        tracemalloc.stop()
        gc.enable()
    return {"retained_bytes": retained / n, "peak_bytes": min(peaks)}


def blocks_per_message(process: Callable[[Message], Any], message: Message, n: int) -> dict[str, float]:
    """``sys.getallocatedblocks()`` deltas per message, outputs kept / outputs dropped (gc off)."""
    for _ in range(100):
        process(message)
    keep: list[Any] = [None] * n
    gc.collect()
    gc.disable()
    try:
        b0 = sys.getallocatedblocks()
        for i in range(n):
            keep[i] = process(message)
        kept = sys.getallocatedblocks() - b0
        del keep
        b0 = sys.getallocatedblocks()
        for _ in range(n):
            process(message)
        dropped = sys.getallocatedblocks() - b0
    finally:
        gc.enable()
    return {"blocks_kept": kept / n, "blocks_dropped": dropped / n}


def state_accumulation(process: Callable[[Message], Any], messages: Iterable[Message]) -> dict[str, float]:
    """Net traced bytes and live blocks after processing ``messages`` (distinct values, outputs
    dropped); the messages are built beforehand so that only the processor is measured."""
    msgs = list(messages)
    process(msgs[0])
    gc.collect()
    tracemalloc.start()
    try:
        b0 = sys.getallocatedblocks()
        m0 = tracemalloc.get_traced_memory()[0]
        for m in msgs:
            process(m)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - m0
        blocks = sys.getallocatedblocks() - b0
    finally:
        tracemalloc.stop()
    return {"messages": len(msgs), "bytes": grown, "blocks": blocks}


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def rss_run(process: Callable[[Message], Any], messages: Iterable[Message], total: int,
            every: int) -> dict[str, Any]:
    """Process ``total`` messages, sampling resident memory every ``every`` messages."""
    samples: list[tuple[int, int]] = [(0, rss_bytes())]
    i = 0
    for m in messages:
        process(m)
        i += 1
        if i % every == 0:
            samples.append((i, rss_bytes()))
    warm = samples[1] if len(samples) > 2 else samples[0]
    after = [r for n, r in samples if n >= warm[0]]
    return {
        "messages": i, "samples": samples,
        "start": samples[0][1], "warm": warm[1], "end": samples[-1][1],
        "growth_after_warmup": samples[-1][1] - warm[1],
        "max_minus_min_after_warmup": max(after) - min(after),
    }
