"""Prometheus metrics, health and readiness: ``streamproc run ... --metrics-port PORT``.

``Telemetry`` is a ``prometheus_client`` collector over its own registry. Almost everything it
exports is read at scrape time from counters the processor and the connectors keep anyway
(``processor.metrics``, ``processor.mapping_errors()``, ``RunStats``), so counting costs the hot
path nothing. What needs a clock is measured without touching the per-message path:

* **batches are sampled**: ``process_batch`` is replaced by a wrapper that counts down and times
  one batch in ``batch_sample`` (default 64; the first batch is always timed): the batch
  duration histogram gets those batches, the per-message histogram each timed batch's mean time
  per message, weighted by its number of messages (exact per message when batches hold one
  message, as on a quiet live stream). The other batches pay a closure call and a decrement:
  measured 2% on the benchmarks' HighThroughput row (a batch of one message, the worst case),
  4% when one batch in 16 is timed;
* **evaluations are sampled**: at most one timed batch per ``sample_interval`` (default 1 s) runs
  with every mapping function wrapped in a timer (the generated handlers call the compiled
  functions through their module globals, so the wrappers are swapped in and out for that batch
  only); the evaluation histogram and the slow-evaluation warning see those evaluations. A timed
  batch whose mean time per message is above the slow threshold makes the next timed batch time
  its evaluations too, so a mapping that is slow keeps being caught.

Histograms are kept as plain bucket counters (one ``bisect`` and two additions per observation)
and turned into Prometheus families at scrape time; the scrape runs in the HTTP server's thread
and only reads them.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from runtime.processor import StreamProcessor
from runtime.processor_set import processor_name

__all__ = ["DEFAULT_SAMPLE_INTERVAL", "DEFAULT_SLOW_THRESHOLD", "MetricsServer", "Telemetry"]

DEFAULT_SAMPLE_INTERVAL = 1.0  # seconds between batches whose evaluations are timed
DEFAULT_SLOW_THRESHOLD = 0.010  # seconds: upstream's constants.SlowExecutionThreshold
BATCH_ENTRY_POINTS = ("process_batch", "process_records", "write_json_lines")  # wrapped when present
DEFAULT_BATCH_SAMPLE = 64  # one batch in this many is timed (2% on a batch of 1; 4% at 16)

BATCH_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                 2.5, 5.0, 10.0)
MESSAGE_BUCKETS = (1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 0.01, 0.1, 1.0)
EVALUATION_BUCKETS = (1e-7, 2.5e-7, 5e-7, 1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 1e-3, 0.01, 0.1,
                      1.0)

# outcome label of streamproc_messages_total -> field of processor.metrics
OUTCOMES = (("processed", "processed"), ("invalid", "invalid"),
            ("dropped_no_topic", "dropped_missing_topic"), ("dropped_unknown_topic", "dropped_unknown_topic"))


class _Histogram:
    """Bucket counters of one histogram series (``le`` semantics: a value equal to a bound is in
    that bucket). Written by the processing thread, read by the scrape."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float, n: int = 1) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += n
        self.sum += value * n

    def buckets(self) -> tuple[list[tuple[str, int]], float]:
        counts = list(self.counts)  # one consistent copy (atomic under the GIL)
        total = self.sum
        out, running = [], 0
        for bound, c in zip(self.bounds, counts):
            running += c
            out.append((repr(float(bound)), running))
        out.append(("+Inf", running + counts[-1]))
        return out, total


def _slow_message(m: Any, seconds: float, threshold: float) -> str:
    return (f"mapping '{m.path}' ({m.source}) took {seconds * 1000:.1f} ms to evaluate (engine "
            f"{m.compiled.engine}; slow-evaluation threshold {threshold * 1000:g} ms)")


class _Instrumented:
    """One processor's timing: its ``process_batch`` replaced by a timed one (see the module)."""

    def __init__(self, processor: StreamProcessor, owner: Telemetry) -> None:
        self.processor = processor
        self.name = processor_name(processor)
        self.owner = owner
        self.batch = _Histogram(BATCH_BUCKETS)
        self.message = _Histogram(MESSAGE_BUCKETS)
        self.evaluation = {engine: _Histogram(EVALUATION_BUCKETS) for engine in ("python", "quickjs")}
        self.mappings = processor.spec.mappings
        self.timers = [self._timer(i, m.compiled.fn) for i, m in enumerate(self.mappings)]
        self.next_sample = 0.0
        for entry in BATCH_ENTRY_POINTS:  # every batch entry point the processor has
            inner = getattr(processor, entry, None)
            if inner is not None:
                setattr(processor, entry, self._wrap(inner))

    def _function_cells(self) -> list[tuple[Any, Any, Any]]:
        """(cell, function, timed function) of every mapping function in the handlers compiled so
        far: each handler holds its mappings' functions in closure cells ``f<j>``, with the
        mapping's index in ``i<j>`` (``StreamProcessor._handler_source``)."""
        found = []
        seen: set[int] = set()
        for routes in getattr(self.processor, "_routes", ()):
            for fn in routes.values():
                code, closure = getattr(fn, "__code__", None), getattr(fn, "__closure__", None)
                if code is None or not closure or id(fn) in seen:
                    continue
                seen.add(id(fn))
                cells = dict(zip(code.co_freevars, closure))
                for name, cell in cells.items():
                    index = cells.get("i" + name[1:]) if name[:1] == "f" and name[1:].isdigit() else None
                    if index is not None:
                        found.append((cell, cell.cell_contents, self.timers[index.cell_contents]))
        return found

    def _timer(self, i: int, fn: Callable[..., Any]) -> Callable[..., Any]:
        m = self.mappings[i]
        hist = self.evaluation["quickjs" if m.compiled.engine == "quickjs" else "python"]
        clock = time.perf_counter
        owner = self.owner
        log = self.processor.log

        def timed(*args: Any) -> Any:
            t = clock()
            try:
                return fn(*args)
            finally:
                d = clock() - t
                hist.observe(d)
                if d > owner.slow_threshold:
                    log.warning(("slow", i), _slow_message, m, d, owner.slow_threshold)

        return timed

    def _wrap(self, inner: Callable[[Any], list[Any]]) -> Callable[[Any], list[Any]]:
        """The batch entry point that replaces the processor's ``inner``: a countdown, and every
        ``batch_sample``-th batch timed (``_timed``). Kept to a closure call, a decrement and a
        test, because a batch can be one message (a quiet live stream, the benchmark's
        HighThroughput row)."""
        timed = self._timed
        every = max(1, self.owner.batch_sample)
        countdown = 1  # the first batch is timed

        def entry_point(messages: Any) -> list[Any]:
            nonlocal countdown
            countdown -= 1
            if countdown:
                return inner(messages)
            countdown = every
            out, again = timed(inner, messages)
            if again:  # its handlers were compiled by this batch: time the next one's evaluations
                countdown = 1
            return out

        entry_point.__doc__ = inner.__doc__
        return entry_point

    def _timed(self, inner: Callable[[Any], list[Any]], messages: Any) -> tuple[list[Any], bool]:
        """``inner(messages)`` timed; and whether the next batch should be timed too (evaluations
        were due but no handler was compiled yet)."""
        if not hasattr(messages, "__len__"):
            messages = list(messages)
        clock = time.perf_counter
        t0 = clock()
        again = False
        if t0 < self.next_sample:
            out = inner(messages)
        else:
            cells = self._function_cells()
            # handlers are compiled at their topic's first message: until one exists, try again
            # at the next timed batch
            self.next_sample = t0 + self.owner.sample_interval if cells else 0.0
            again = not cells
            for cell, _fn, timed_fn in cells:
                cell.cell_contents = timed_fn
            try:
                out = inner(messages)
            finally:
                for cell, fn, _timed_fn in cells:
                    cell.cell_contents = fn
        d = clock() - t0
        self.batch.observe(d)
        n = len(messages)  # type: ignore[arg-type]
        if n:
            mean = d / n
            self.message.observe(mean, n)
            if mean > self.owner.slow_threshold:
                self.next_sample = 0.0  # find out which mapping: time the next timed batch's evaluations
        return out, again


class Telemetry:
    """The metrics of a run: ``Telemetry(processor)`` instruments the processor (a
    ``StreamProcessor`` or a ``ProcessorSet``); ``attach_connector`` adds a connector's counters
    and readiness; ``registry`` is what ``MetricsServer`` serves. Names follow the Prometheus
    conventions (``streamproc_`` prefix, ``_total`` counters, seconds)."""

    def __init__(self, processor: Any, *, sample_interval: float = DEFAULT_SAMPLE_INTERVAL,
                 slow_threshold: float = DEFAULT_SLOW_THRESHOLD, batch_sample: int = DEFAULT_BATCH_SAMPLE,
                 process_metrics: bool = True) -> None:
        self.sample_interval = sample_interval
        self.batch_sample = batch_sample
        self.slow_threshold = slow_threshold
        members = getattr(processor, "processors", None) or (processor,)
        self.instruments = [_Instrumented(p, self) for p in members]
        self.connector: Any = None
        self.stats: Any = None
        self.kind = "jsonl"
        self._ready = False
        self.registry = CollectorRegistry(auto_describe=False)
        if process_metrics:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)
        self.registry.register(self)

    # ------------------------------------------------------------------ readiness
    def attach_connector(self, connector: Any, stats: Any, kind: str) -> None:
        """Export ``connector``'s counters (``stats``: its ``RunStats``) and take readiness from
        its ``ready`` property (``kind``: ``"kafka"`` or ``"mqtt"``)."""
        self.connector, self.stats, self.kind = connector, stats, kind

    def set_ready(self, ready: bool = True) -> None:
        """Readiness of a run without a connector (JSON Lines: ready once processing starts)."""
        self._ready = ready

    @property
    def ready(self) -> bool:
        if self.connector is not None:
            try:
                return bool(self.connector.ready)
            except Exception:  # noqa: BLE001 - a connector being torn down is not ready
                return False
        return self._ready

    # ------------------------------------------------------------------ the collector
    def describe(self) -> list:
        return []

    def collect(self) -> Iterator[Any]:
        label = ["processor"]
        messages = CounterMetricFamily(
            "streamproc_messages", "Input messages by outcome (sum over outcomes = messages in); replaces "
            "messages_processed, messages_dropped, invalid_data_type", labels=["processor", "outcome"])
        outputs = CounterMetricFamily("streamproc_outputs", "Output messages produced by the mappings; "
                                      "replaces outputs_generated", labels=label)
        errors = CounterMetricFamily("streamproc_mapping_errors", "Failed mapping evaluations (an error, or "
                                     "a result that cannot be output); replaces javascript_errors",
                                     labels=["processor", "mapping"])
        waiting = CounterMetricFamily("streamproc_mapping_waiting", "Mapping evaluations skipped because a "
                                      "dependency has no value yet", labels=label)
        mappings = GaugeMetricFamily("streamproc_active_mappings", "Mappings of the configuration; "
                                     "replaces active_mappings", labels=label)
        variables = GaugeMetricFamily("streamproc_active_variables", "Source aliases that have a value; "
                                      "replaces active_variables", labels=label)
        batch = HistogramMetricFamily("streamproc_batch_duration_seconds", "Time to process one batch "
                                      "(every batch); replaces batch_processing_time", labels=label)
        message = HistogramMetricFamily(
            "streamproc_message_duration_seconds", "Processing time per message: each batch's mean, "
            "weighted by its messages; replaces message_processing_time", labels=label)
        evaluation = HistogramMetricFamily(
            "streamproc_evaluation_duration_seconds", "Time of one mapping evaluation, per engine, from "
            "sampled batches; replaces javascript_execution_time", labels=["processor", "engine"])
        for ins in self.instruments:
            p, name = ins.processor, ins.name
            m = p.metrics
            for outcome, attr in OUTCOMES:
                messages.add_metric([name, outcome], getattr(m, attr))
            outputs.add_metric([name], m.outputs)
            for path, n in p.mapping_errors().items():
                errors.add_metric([name, path], n)
            waiting.add_metric([name], m.waiting)
            mappings.add_metric([name], len(p.spec.mappings))
            variables.add_metric([name], len(p.state()))
            for fam, hist in ((batch, ins.batch), (message, ins.message)):
                buckets, total = hist.buckets()
                fam.add_metric([name], buckets, total)
            for engine, hist in ins.evaluation.items():
                buckets, total = hist.buckets()
                evaluation.add_metric([name, engine], buckets, total)
        yield from (messages, outputs, errors, waiting, mappings, variables, batch, message, evaluation)
        yield GaugeMetricFamily("streamproc_ready", "1 when connected and processing (what /ready says)",
                                value=1 if self.ready else 0)
        if self.stats is not None:
            yield from self._connector_metrics()

    def _connector_metrics(self) -> Iterator[Any]:
        s, kind = self.stats, self.kind
        records = CounterMetricFamily("streamproc_connector_records", "Records/messages taken from the "
                                      "broker", labels=["connector"])
        records.add_metric([kind], s.records_in)
        dropped = CounterMetricFamily("streamproc_connector_records_dropped", "Records dropped before "
                                      "processing", labels=["connector", "reason"])
        dropped.add_metric([kind, "foreign_topic"], s.foreign)
        dropped.add_metric([kind, "no_topic"], s.no_topic)
        acked = CounterMetricFamily("streamproc_connector_outputs_acknowledged", "Outputs the broker "
                                    "acknowledged", labels=["connector"])
        acked.add_metric([kind], s.outputs_sent)
        yield from (records, dropped, acked)
        lag_fn = getattr(self.connector, "lag", None)
        if lag_fn is not None:
            try:
                lag = lag_fn()
            except Exception:  # noqa: BLE001 - a connector being torn down has no lag to report
                lag = {}
            fam = GaugeMetricFamily("streamproc_connector_lag_records", "Records waiting: Kafka high "
                                    "watermark minus position per partition; MQTT messages received and "
                                    "not yet processed", labels=["connector", "partition"])
            for part, n in lag.items():
                fam.add_metric([kind, str(part)], n)
            yield fam


class MetricsServer:
    """``/metrics`` (Prometheus text format), ``/health`` (200 while the process serves) and
    ``/ready`` (200 when ``telemetry.ready``, else 503) on ``host:port``, in a daemon thread.
    ``port`` 0 picks a free port (``self.port``)."""

    def __init__(self, telemetry: Telemetry, port: int, host: str = "0.0.0.0") -> None:
        registry = telemetry.registry

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
                elif path == "/health":
                    self._send(200, b"ok\n")
                elif path == "/ready":
                    ok = telemetry.ready
                    self._send(200 if ok else 503, b"ready\n" if ok else b"not ready\n")
                else:
                    self._send(404, b"not found: /metrics, /health, /ready\n")

            def _send(self, status: int, body: bytes, ctype: str = "text/plain; charset=utf-8") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - scrapes are not news
                pass

        try:
            self.server = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            raise OSError(exc.errno, f"cannot serve metrics on {host}:{port}: {exc.strerror}") from None
        self.server.daemon_threads = True
        self.host, self.port = host, self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="streamproc-metrics",
                                       daemon=True)
        self.thread.start()
        logging.getLogger("runtime").info("serving metrics on http://%s:%d/metrics (/health, /ready)",
                                          host, self.port)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

