"""What the Kafka and MQTT connectors share: topic names, stop signals, state snapshots, stats."""

from __future__ import annotations

import contextlib
import logging
import math
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import orjson

from runtime.encode import value_bytes
from runtime.message import Message
from runtime.processor import StreamProcessor

log = logging.getLogger("runtime.connectors")

__all__ = [
    "ConnectorError", "RunStats", "Stopper", "decode_snapshot", "default_group", "encode_snapshot",
    "mqtt_to_umh", "restore_state", "umh_to_mqtt",
]


class ConnectorError(Exception):
    """A problem that ends the run with a message for the user (unreachable broker, refused group)."""


def umh_to_mqtt(topic: str) -> str:
    """``umh.v1.acme._raw.press`` -> ``umh/v1/acme/_raw/press``."""
    return topic.replace(".", "/")


def mqtt_to_umh(topic: str) -> str:
    """``umh/v1/acme/_raw/press`` -> ``umh.v1.acme._raw.press``."""
    return topic.replace("/", ".")


def default_group(processor: StreamProcessor) -> str:
    """The Kafka consumer group / MQTT client id of a configuration when ``--group`` is not given:
    ``streamproc.<output_topic>._<model>_<version>``, the data contract the configuration writes."""
    spec = processor.spec
    return f"streamproc.{spec.output_topic}._{spec.model_name}_{spec.model_version}"


class Stopper:
    """SIGINT/SIGTERM set ``stopped`` (and wake ``wait``) instead of raising; the previous handlers
    are restored on exit. Only installable in the main thread; elsewhere it is a plain flag."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    @property
    def stopped(self) -> bool:
        return self.event.is_set()

    def stop(self, signum: int | None = None) -> None:
        if self.signum is None:
            self.signum = signum
        self.event.set()

    def _handler(self, signum: int, frame: object) -> None:
        if self.event.is_set():  # a second signal: the user insists
            log.warning("second stop signal: exiting now")
            raise SystemExit(130 if signum == signal.SIGINT else 143)
        log.info("stop signal %s: finishing what is in flight", signal.Signals(signum).name)
        self.stop(signum)

    def wait(self, timeout: float) -> bool:
        return self.event.wait(timeout)

    @contextlib.contextmanager
    def installed(self) -> Iterator[Stopper]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        for s in (signal.SIGINT, signal.SIGTERM):
            self._previous[s] = signal.signal(s, self._handler)
        try:
            yield self
        finally:
            for s, h in self._previous.items():
                signal.signal(s, h)
            self._previous.clear()


# --------------------------------------------------------------------------- state snapshots
# A snapshot is the processor's state (latest value per source topic) as compact JSON:
#   {"v":1,"seq":<n>,"s":{"<topic>":<value JSON>,...}}
# It travels in the metadata of committed Kafka offsets, so a restarted processor continues with
# exactly the state that belongs to the offsets it resumes from.

SNAPSHOT_PREFIX = "streamproc1:"


def _value_json(v: object) -> bytes | None:
    if v.__class__ is float:
        if v != v:  # noqa: PLR0124 - NaN cannot come from JSON; never stored
            return None
        if math.isinf(v):  # type: ignore[arg-type]
            return b"1e400" if v > 0 else b"-1e400"  # type: ignore[operator]
        if v == 0.0 and math.copysign(1.0, v) < 0:  # type: ignore[arg-type]
            return b"-0.0"
    try:
        return value_bytes(v)
    except Exception:  # noqa: BLE001 - not representable: that alias starts empty after a restart
        return None


def encode_snapshot(processor: StreamProcessor, state: dict[str, Any], seq: int) -> str:
    """``state`` is ``processor.state()`` (alias -> value); one value per topic is kept, as the
    JSON text of the value (so numbers such as ``-0.0`` and ``1e400`` come back exactly)."""
    sources = processor.spec.sources
    values: dict[str, str] = {}
    for alias, value in state.items():
        topic = sources[alias]
        if topic not in values:
            vj = _value_json(value)
            if vj is not None:
                values[topic] = vj.decode("utf-8")
    return SNAPSHOT_PREFIX + orjson.dumps({"v": 1, "seq": seq, "s": values}).decode("utf-8")


def decode_snapshot(text: str | None) -> tuple[int, dict[str, bytes]] | None:
    """``(seq, {topic: value JSON bytes})`` of a snapshot written by ``encode_snapshot``, or None."""
    if not text or not text.startswith(SNAPSHOT_PREFIX):
        return None
    try:
        obj = orjson.loads(text[len(SNAPSHOT_PREFIX):])
    except orjson.JSONDecodeError:
        return None
    if obj.__class__ is not dict or obj.get("v") != 1 or obj.get("seq").__class__ is not int:
        return None
    s = obj.get("s")
    if s.__class__ is not dict or not all(v.__class__ is str for v in s.values()):
        return None
    return obj["seq"], {topic: v.encode("utf-8") for topic, v in s.items()}


def restore_state(processor: StreamProcessor, values: dict[str, bytes]) -> int:
    """Feed each snapshot value to the processor as a message on its topic (outputs discarded);
    returns how many topics were restored."""
    sources = set(processor.spec.sources.values())
    n = 0
    logger = logging.getLogger("runtime")
    previous = logger.level
    logger.setLevel(logging.ERROR)  # the replay may evaluate mappings still waiting: not news
    try:
        for topic, vj in values.items():
            if topic not in sources:
                continue
            processor.process(Message(b'{"value":' + vj + b',"timestamp_ms":1}', {"umh_topic": topic}))
            n += 1
    finally:
        logger.setLevel(previous)
    return n


# --------------------------------------------------------------------------- stats
class RunStats:
    """Connector counters next to the processor's metrics; ``--stats`` prints them periodically
    and at the end, with the rate of records taken from the broker."""

    INTERVAL = 10.0

    def __init__(self, processor: StreamProcessor, enabled: bool, prog: str = "streamproc") -> None:
        self.processor = processor
        self.enabled = enabled
        self.prog = prog
        self.started = time.perf_counter()
        self.first_record: float | None = None
        self.last_record = self.started
        self.records_in = 0
        self.foreign = 0  # dropped on the fast path: a topic that is not a source
        self.no_topic = 0  # no key and no umh_topic header
        self.outputs_sent = 0  # acknowledged by the broker
        self.outputs_refused = 0  # refused by the broker for good (poison records): skipped
        self.baseline: dict[str, int] = {}
        self._last_report = self.started
        self._last_records = 0

    def reset_baseline(self) -> None:
        """Metrics accumulated so far (a state restore) are not counted."""
        self.baseline = self.processor.metrics.as_dict()

    def records(self, n: int) -> None:
        now = time.perf_counter()
        if self.first_record is None:
            self.first_record = now
        self.last_record = now
        self.records_in += n

    def metrics(self) -> dict[str, int]:
        m = self.processor.metrics.as_dict()
        return {k: v - self.baseline.get(k, 0) for k, v in m.items()}

    def rate(self) -> float:
        if self.first_record is None:
            return 0.0
        busy = self.last_record - self.first_record
        return self.records_in / busy if busy > 0 else 0.0

    def tick(self) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._last_report < self.INTERVAL:
            return
        rate = (self.records_in - self._last_records) / (now - self._last_report)
        self._last_report = now
        self._last_records = self.records_in
        m = self.metrics()
        self._write([f"records_in={self.records_in} outputs={m['outputs']} "
                     f"outputs_acked={self.outputs_sent} invalid={m['invalid']} "
                     f"msg_per_s={rate:,.0f}"])

    def final(self) -> None:
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.started
        lines = [f"{k}: {v}" for k, v in self.metrics().items()]
        lines += [f"records_in: {self.records_in}", f"dropped_foreign_fast_path: {self.foreign}",
                  f"dropped_no_topic_fast_path: {self.no_topic}", f"outputs_acked: {self.outputs_sent}",
                  f"outputs_refused: {self.outputs_refused}",
                  f"elapsed_s: {elapsed:.3f}", f"msg_per_s: {self.rate():,.0f}"]
        self._write(lines)

    def _write(self, lines: list[str]) -> None:
        sys.stderr.write("".join(f"{self.prog}: stats: {x}\n" for x in lines))
        sys.stderr.flush()
