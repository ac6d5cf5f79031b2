"""Kafka connector (confluent-kafka / librdkafka): the UNS topic in, the outputs back to it.

Records: key = ``umh_topic`` (a ``umh_topic`` header wins), the other headers are metadata, the
value is the payload. Outputs: key = output ``umh_topic``, the other metadata as headers.

Delivery is at-least-once. Records are consumed in batches and each batch's outputs produced
(idempotent producer, ``acks=all``, delivery reports only for failures). About once a second
the producer is flushed: when every output produced so far is acknowledged by the broker (and
none failed), the offsets after the last processed batch are committed, with the processor
state after that batch as the commit metadata (``common.encode_snapshot``), so a restarted
processor resumes from the committed offsets *and* the state that belongs to them. A crash
re-processes what followed the last commit: duplicates, never gaps. A failed delivery stops
the processor without committing past it, unless the broker refused that one record for good
(too large, invalid, against a topic policy): such an output is a poison record, counted
(``outputs_refused``), logged with its key and the input offsets of its batch, and skipped, or
sent to ``--dead-letter-topic`` with the reason in a ``streamproc_error`` header.

librdkafka's own log goes through ``LibrdkafkaLog``: at warning level and above only, each
distinct line once per minute, and nothing while connecting (an unreachable broker is one
``ConnectorError`` naming the address and the reason).

A configuration needs all of its source topics, which the UNS spreads over partitions by key, so
one configuration is one consumer of its group: it only processes while it owns every partition
of the topic. A second instance whose first assignment is partial refuses and leaves; the running
one pauses while the group is split, and continues when the newcomer has left. After a crash the
next instance owns everything once the dead member's session has expired (failover).
"""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from typing import Any

from runtime.connectors.common import (
    ConnectorError,
    RunStats,
    Stopper,
    decode_snapshot,
    encode_snapshot,
    restore_state,
)
from runtime.logs import RateLimitedLog, shorten
from runtime.processor import StreamProcessor

log = logging.getLogger("runtime.connectors.kafka")

__all__ = ["KafkaConnector", "parse_options"]

BATCH = 5000  # records per consume call
COMMIT_INTERVAL = 1.0  # seconds between commits while running
SNAPSHOT_MAX = 3900  # bytes of commit metadata (Kafka's offset.metadata.max.bytes default is 4096)
CONNECT_TIMEOUT = 10.0
STOP_FLUSH_TIMEOUT = 5.0
COMMIT_FLUSH_TIMEOUT = 2.0  # while running: a broker that does not acknowledge in time delays the commit


# Errors that refuse one record for good: retrying it cannot help, and stopping would stop the
# stream at it forever (librdkafka codes; negative ones are client-side).
POISON_CODES = frozenset({
    2,  # INVALID_MSG / CORRUPT_MESSAGE
    4,  # INVALID_MSG_SIZE
    10,  # MSG_SIZE_TOO_LARGE (broker's or topic's max.message.bytes; locally message.max.bytes)
    17,  # INVALID_TOPIC_EXCEPTION
    18,  # RECORD_LIST_TOO_LARGE
    32,  # INVALID_TIMESTAMP
    44,  # POLICY_VIOLATION
    87,  # INVALID_RECORD
    -186,  # _INVALID_ARG
})
_VARIABLE = re.compile(r"\(after \d+ms in state \w+[^)]*\)|\d+(?:\.\d+)?ms|#\w+-\d+|thrd:[^\]]*")


class LibrdkafkaLog:
    """The ``logger`` given to librdkafka: its lines reach ``log`` at WARNING, deduplicated.

    librdkafka repeats a connection failure every reconnect (80 lines for one unreachable
    broker); here a line whose text, without timings and thread names, was logged in the last
    ``interval`` seconds is counted instead (``RateLimitedLog``). While ``quiet`` (connecting)
    nothing is logged: the connector reports the outcome itself."""

    def __init__(self, log: logging.Logger, interval: float = 60.0) -> None:
        self.quiet = True
        self._limited = RateLimitedLog(log, interval)

    def log(self, level: int, msg: str, *args: object) -> None:
        if self.quiet or level < logging.WARNING:
            return
        text = msg % args if args else msg
        self._limited.warning(_VARIABLE.sub("", text), f"librdkafka: {text}")

    def flush(self) -> None:
        self._limited.flush()


def parse_options(items: list[str] | None) -> tuple[dict[str, str], dict[str, str]]:
    """``KEY=VALUE`` librdkafka properties: ``consumer.KEY``/``producer.KEY`` for one client only.
    Returns (consumer, producer) property dicts."""
    consumer: dict[str, str] = {}
    producer: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConnectorError(f"--kafka-option {item!r}: expected KEY=VALUE")
        if key.startswith("consumer."):
            consumer[key[len("consumer."):]] = value
        elif key.startswith("producer."):
            producer[key[len("producer."):]] = value
        else:
            consumer[key] = value
            producer[key] = value
    return consumer, producer


class _Batch:
    """The records of one consume call: their next offsets per partition, the number of their
    outputs, and the processor state after them."""

    __slots__ = ("offsets", "outputs", "state")

    def __init__(self, offsets: dict[int, int], outputs: int, state: dict[str, Any]) -> None:
        self.offsets = offsets
        self.outputs = outputs
        self.state = state


class KafkaConnector:
    def __init__(self, processor: StreamProcessor, bootstrap: str, topic: str, group: str, *,
                 produce_topic: str | None = None, options: list[str] | None = None,
                 stats: RunStats | None = None, stopper: Stopper | None = None,
                 dead_letter_topic: str | None = None) -> None:
        from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

        self._KafkaError = KafkaError
        self._KafkaException = KafkaException
        self.dead_letter_topic = dead_letter_topic
        self._span = ""  # the input offsets of the batch being produced, for poison-record logs
        self._refusals = RateLimitedLog(log, 10.0)
        self._TopicPartition = TopicPartition
        self.processor = processor
        self.log = logging.LoggerAdapter(log, {"connector": self})
        self.bootstrap = bootstrap
        self.topic = topic
        self.produce_topic = produce_topic or topic
        self.group = group
        self.stats = stats or RunStats(processor, enabled=False)
        self.stopper = stopper or Stopper()
        self.source_keys = {t.encode("utf-8") for t in processor.source_topics}
        consumer_opts, producer_opts = parse_options(options)
        self._fatal: str | None = None
        self._startup_error: str | None = None
        self._all_down = False  # every bootstrap broker failed (until a later connection succeeds)
        rdlog = self.rdlog = LibrdkafkaLog(logging.getLogger("runtime.connectors.kafka.librdkafka"))
        common = {"bootstrap.servers": bootstrap, "error_cb": self._on_error, "logger": rdlog,
                  "client.id": f"streamproc-{group}"}
        pconf = {**common, "enable.idempotence": True, "acks": "all", "linger.ms": 5,
                 "delivery.report.only.error": True, "on_delivery": self._on_delivery_error,
                 "queue.buffering.max.messages": 1_000_000, "queue.buffering.max.kbytes": 1_048_576,
                 "batch.num.messages": 10000, **producer_opts}
        cconf = {**common, "group.id": group, "enable.auto.commit": False,
                 "enable.auto.offset.store": False, "auto.offset.reset": "earliest",
                 "session.timeout.ms": 10000, "heartbeat.interval.ms": 2000,
                 "partition.assignment.strategy": "range", "on_commit": self._on_commit,
                 **consumer_opts}
        try:
            self.producer = Producer(pconf)
            self.consumer = Consumer(cconf)
        except Exception as exc:  # KafkaException, ValueError, TypeError for bad options
            raise ConnectorError(f"invalid Kafka configuration: {exc}") from None
        self.pending: deque[_Batch] = deque()
        self.positions: dict[int, int] = {}  # partition -> next offset, for the next commit
        self.snapshot_seq = 0
        self.total_partitions = 0
        self.ever_owned_all = False
        self.owning_all = False
        self.refused: str | None = None
        self.restored = False
        self.last_commit = time.monotonic()
        self._warned_snapshot = False
        self._warned_topic = False

    # ------------------------------------------------------------------ callbacks
    def _on_error(self, err: Any) -> None:
        code = err.code()
        if err.fatal():
            self._fatal = f"fatal Kafka error: {err.str()}"
        elif code in (self._KafkaError._ALL_BROKERS_DOWN, self._KafkaError._TRANSPORT,
                      self._KafkaError._RESOLVE):
            if code == self._KafkaError._ALL_BROKERS_DOWN:
                self._all_down = True
            else:
                self._startup_error = err.str()
            if not self.rdlog.quiet:  # while connecting, _check_reachable reports the outcome
                self._refusals.warning(("error", code), f"Kafka {self.bootstrap}: {err.str()}")
        else:
            self._refusals.warning(("error", code), f"Kafka: {err.str()}")

    def _on_delivery_error(self, err: Any, msg: Any) -> None:
        if err is not None and err.code() in POISON_CODES:
            value = msg.value()
            self._refused(msg.key(), value, msg.headers(), err, "")
        elif err is not None and self._fatal is None:
            self._fatal = (f"an output could not be delivered to {self.produce_topic}: {err.str()}; "
                           f"stopping without committing past it (a restart processes those records "
                           f"again)")

    def _refused(self, key: bytes | None, value: bytes | None, headers: list | None, err: Any,
                 span: str) -> None:
        """One output refused for good: count it, log it, dead-letter it; the stream goes on."""
        self.stats.outputs_refused += 1
        reason = f"{err.name()}: {err.str()}"
        where = f" (from the input records at {span})" if span else ""
        self._refusals.warning(("refused", err.code()), lambda: (
            f"output {shorten(key.decode('utf-8', 'replace') if key else key)} ({len(value or b''):,} "
            f"bytes){where} refused by Kafka for good: {reason}; skipped"
            + (f", sent to the dead-letter topic {self.dead_letter_topic}" if self.dead_letter_topic
               else "")))
        if self.dead_letter_topic:
            extra = [("streamproc_error", reason.encode()), ("streamproc_source", span.encode())]
            try:
                self.producer.produce(self.dead_letter_topic, value, key, headers=(headers or []) + extra)
            except self._KafkaException:  # the record itself is the problem: its metadata alone
                extra.append(("streamproc_value_bytes", str(len(value or b"")).encode()))
                try:
                    self.producer.produce(self.dead_letter_topic, b"", key, headers=(headers or []) + extra)
                except (self._KafkaException, BufferError) as exc:
                    self.log.warning("could not dead-letter output %r: %s", key, exc)
            except BufferError:
                self.producer.poll(0.05)
                self.log.warning("could not dead-letter output %r: local queue full", key)

    def _on_commit(self, err: Any, partitions: list) -> None:
        if err is not None:
            self.log.warning("offset commit failed: %s (the next commit covers it)", err.str())

    def _on_assign(self, consumer: Any, partitions: list) -> None:
        total = self._partition_count()
        mine = sorted(p.partition for p in partitions if p.topic == self.topic)
        if total and len(mine) < total:
            consumer.assign(partitions)
            consumer.pause(partitions)  # nothing is fetched while the group is split
            self.owning_all = False
            if not self.ever_owned_all:
                self.refused = (
                    f"consumer group '{self.group}' already has another active consumer of topic "
                    f"'{self.topic}' (this instance was given partitions {mine} of {total}). One "
                    f"configuration runs as one consumer, since its state needs every source topic; "
                    f"stop the other instance, or use another --group to run an independent copy")
            else:
                self.log.warning("another consumer joined group '%s': this instance holds partitions %s "
                            "of %d and pauses until it owns all of them again", self.group, mine, total)
            return
        consumer.assign(partitions)
        consumer.resume(partitions)  # librdkafka keeps a partition's pause across assignments
        self.owning_all = True
        self.ever_owned_all = True
        committed = consumer.committed(partitions, timeout=CONNECT_TIMEOUT)
        best: tuple[int, dict[str, bytes]] | None = None
        for tp in committed:
            if tp.offset >= 0:
                self.positions[tp.partition] = tp.offset
            snap = decode_snapshot(tp.metadata)
            if snap is not None and (best is None or snap[0] > best[0]):
                best = snap
        if best is not None:
            self.snapshot_seq = max(self.snapshot_seq, best[0])
        if best is not None and not self.restored and self.stats.records_in == 0:
            n = restore_state(self.processor, best[1])
            self.stats.reset_baseline()
            self.log.info("restored the state of %d source topics from the committed offsets", n)
        self.restored = True
        self.log.info("assigned all %d partitions of %s (committed offsets: %s)", len(mine), self.topic,
                 {tp.partition: tp.offset for tp in committed})

    def _on_revoke(self, consumer: Any, partitions: list) -> None:
        if self.owning_all:
            self._commit(sync=True, timeout=STOP_FLUSH_TIMEOUT)
            if self.pending:
                self.log.warning("partitions revoked with %d batches not yet acknowledged: their records "
                            "will be processed again by the next owner", len(self.pending))
        self.pending.clear()
        self.positions.clear()
        self.owning_all = False
        self.log.info("partitions of %s revoked", self.topic)

    # ------------------------------------------------------------------ helpers
    def _partition_count(self) -> int:
        try:
            md = self.consumer.list_topics(self.topic, timeout=CONNECT_TIMEOUT)
        except Exception as exc:  # noqa: BLE001
            self.log.warning("cannot read the metadata of %s: %s", self.topic, exc)
            return 0
        t = md.topics.get(self.topic)
        if t is None or t.error is not None:
            return 0
        self.total_partitions = len(t.partitions)
        return self.total_partitions

    def _check_reachable(self) -> None:
        """Fail with the address when no broker answers within CONNECT_TIMEOUT (librdkafka's
        log is quiet meanwhile: the outcome is this one error)."""
        deadline = time.monotonic() + CONNECT_TIMEOUT
        last = None
        while True:
            try:
                md = self.producer.list_topics(timeout=1.0)
                if md.brokers:
                    break
            except Exception as exc:  # noqa: BLE001 - KafkaException: _TRANSPORT, _TIMED_OUT
                last = exc.args[0].str() if exc.args and hasattr(exc.args[0], "str") else str(exc)
            self.producer.poll(0)  # error callbacks
            if self._all_down:
                raise ConnectorError(f"cannot reach the Kafka broker at {self.bootstrap}: "
                                     f"{self._startup_error}")
            if self.stopper.stopped:
                raise ConnectorError("stopped before the Kafka broker answered")
            if time.monotonic() > deadline:
                reason = self._startup_error or last or "no answer"
                raise ConnectorError(f"cannot reach the Kafka broker at {self.bootstrap}: {reason} "
                                     f"(waited {CONNECT_TIMEOUT:.0f} s)")
        self.rdlog.quiet = False
        topic = md.topics.get(self.topic)
        if topic is None or topic.error is not None:
            self.log.warning("topic %s does not exist (yet) on %s: waiting for it", self.topic,
                             self.bootstrap)

    def _commit(self, sync: bool, timeout: float = COMMIT_FLUSH_TIMEOUT) -> None:
        """Commit the offsets after the last processed batch if every output is acknowledged."""
        pending = self.pending
        if not pending:
            return
        remaining = self.producer.flush(timeout)  # serves the (error-only) delivery reports
        self.last_commit = time.monotonic()
        if self._fatal is not None:
            return
        if remaining:
            if sync:
                self.log.warning("%d outputs still unacknowledged after %.0f s: their records are not "
                                 "committed", remaining, timeout)
            return
        for b in pending:
            self.positions.update(b.offsets)
            self.stats.outputs_sent += b.outputs
        done = pending[-1]
        pending.clear()
        if not self.positions:
            return
        self.snapshot_seq += 1
        snapshot = encode_snapshot(self.processor, done.state, self.snapshot_seq)
        if len(snapshot.encode("utf-8")) > SNAPSHOT_MAX:
            if not self._warned_snapshot:
                self.log.warning("the state (%d bytes) is too large for the commit metadata: a restart "
                                 "starts with an empty state", len(snapshot))
                self._warned_snapshot = True
            snapshot = f"streamproc1:nosnapshot:{self.snapshot_seq}"
        TP = self._TopicPartition
        offsets = [TP(self.topic, p, off, snapshot) for p, off in self.positions.items()]
        try:
            self.consumer.commit(offsets=offsets, asynchronous=not sync)
        except Exception as exc:  # noqa: BLE001 - KafkaException; the next commit retries
            self.log.warning("offset commit failed: %s", exc)

    # ------------------------------------------------------------------ the loop
    def run(self) -> int:
        try:
            self._check_reachable()
            self.consumer.subscribe([self.topic], on_assign=self._on_assign, on_revoke=self._on_revoke)
            self.log.info("consuming %s on %s as group '%s', producing to %s", self.topic, self.bootstrap,
                     self.group, self.produce_topic)
            self._loop()
        finally:
            self._close()
            self.rdlog.flush()
            self._refusals.flush()
        if self.refused:
            raise ConnectorError(self.refused)
        if self._fatal:
            raise ConnectorError(self._fatal)
        return 0

    def _loop(self) -> None:
        consumer, producer = self.consumer, self.producer
        consume = consumer.consume
        stopper, stats = self.stopper, self.stats
        while not stopper.stopped and self.refused is None and self._fatal is None:
            records = consume(1, 0.2)
            if records:
                records += consume(BATCH - 1, 0)
            producer.poll(0)
            if records and self.owning_all and self.refused is None:
                self._handle(records)
            if self.pending and time.monotonic() - self.last_commit >= COMMIT_INTERVAL:
                self._commit(sync=False)
            stats.tick()

    def _handle(self, records: list) -> None:
        stats = self.stats
        source_keys = self.source_keys
        offsets: dict[int, int] = {}
        inputs = []
        append = inputs.append
        foreign = no_topic = 0
        for rec in records:
            if rec.error() is not None:
                self._record_error(rec.error())
                continue
            offsets[rec.partition()] = rec.offset() + 1
            headers = rec.headers()
            topic = rec.key()
            if headers:
                for k, v in headers:
                    if k == "umh_topic":
                        topic = v
            if topic not in source_keys:
                if topic is None:
                    no_topic += 1
                else:
                    foreign += 1
                continue
            if headers:
                # the outputs' headers: the input's metadata but umh_topic, once per input
                meta = {k: (v.decode("utf-8", "replace") if v is not None else "") for k, v in headers}
                meta["umh_topic"] = ""
                extra = [kv for kv in meta.items() if kv[0] != "umh_topic"] or None
            else:
                extra = None
            value = rec.value()
            append((topic, value if value is not None else b"", extra))
        stats.records(len(records))
        stats.foreign += foreign
        stats.no_topic += no_topic
        if not offsets:
            return
        outputs = self.processor.process_records(inputs) if inputs else []
        self.pending.append(_Batch(offsets, len(outputs), self.processor.state()))
        produce = self.producer.produce
        ptopic = self.produce_topic
        for key, value, headers in outputs:
            while True:
                try:
                    produce(ptopic, value, key, headers=headers)
                    break
                except BufferError:  # local queue full: let deliveries complete
                    self.producer.poll(0.05)
                    if self.stopper.stopped:  # never commit past outputs left unproduced
                        self.pending.pop()
                        return
                except self._KafkaException as exc:  # refused before it left: too large, ...
                    err = exc.args[0]
                    if err.code() not in POISON_CODES:
                        self._fatal = f"producing an output failed: {err.str()}"
                        return  # this batch stays uncommitted
                    self.pending[-1].outputs -= 1  # not among the outputs acknowledged
                    self._refused(key.encode("utf-8"), value,
                                  [(k, v.encode("utf-8")) for k, v in headers or ()],
                                  err, _span(records))
                    break

    def _record_error(self, err: Any) -> None:
        code = err.code()
        if code == self._KafkaError._PARTITION_EOF:
            return
        if code == self._KafkaError.UNKNOWN_TOPIC_OR_PART:
            if not self._warned_topic:
                self.log.warning("topic %s does not exist (yet): waiting for it", self.topic)
                self._warned_topic = True
            return
        if err.fatal():
            self._fatal = f"fatal Kafka error: {err.str()}"
        else:
            self.log.warning("Kafka consumer: %s", err.str())

    def _close(self) -> None:
        try:
            if self.owning_all and self.refused is None:
                self._commit(sync=True, timeout=STOP_FLUSH_TIMEOUT)
        finally:
            try:
                self.consumer.close()  # leaves the group (revoke callback commits what is left)
            except Exception as exc:  # noqa: BLE001
                self.log.warning("closing the Kafka consumer: %s", exc)
            remaining = self.producer.flush(1.0)
            if remaining:
                self.log.warning("%d outputs were not acknowledged at exit: their records were not "
                                 "committed and are processed again at the next start", remaining)


def _span(records: list) -> str:
    """``partition:first-last`` offsets of a batch of records (for a poison-record log line)."""
    spans: dict[int, list[int]] = {}
    for r in records:
        if r.error() is None:
            span = spans.setdefault(r.partition(), [r.offset(), r.offset()])
            span[1] = r.offset()
    return ", ".join(f"partition {p} offsets {a}-{b}" if a != b else f"partition {p} offset {a}"
                     for p, (a, b) in sorted(spans.items()))
