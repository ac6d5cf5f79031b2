"""MQTT connector (paho-mqtt, v2 callback API, MQTT 5).

Subscribes to exactly the source topics (``umh.v1.acme._raw.press`` -> ``umh/v1/acme/_raw/press``),
publishes each output to its converted ``umh_topic``, and carries the other metadata as MQTT 5
user properties (the topic is the ``umh_topic``, on input and on output).

With QoS 1 or 2 the client acknowledges an input only after the broker acknowledged every output
of it and of the inputs before it (``manual_ack``), in a persistent session (``clean_start``
false, session expiry one hour) under a fixed client id, so inputs whose outputs were not
delivered are sent again by the broker after a crash or a reconnect: at-least-once, as on Kafka,
as far as the broker keeps the session. A lost connection is retried with backoff (0.5 s doubling
to 10 s); every (re)connect subscribes again. A second instance with the same client id takes
the session over and the first one stops with a message (at once if the broker says "Session
taken over", else after its connection was closed by the broker three times in a row within
seconds of connecting).

An output that cannot be published (larger than the Maximum Packet Size the broker announced in
its CONNACK, refused by paho, or answered with an MQTT 5 failure reason code) is a poison
record: counted (``outputs_refused``), logged with its topic and the input message ids of its
batch, and skipped; its input is still acknowledged, so the broker does not redeliver it
forever. (Sent anyway, a too-large PUBLISH makes the broker close the connection, and the
persistent session would resend it at every reconnect.)
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from typing import Any

from runtime.connectors.common import ConnectorError, RunStats, Stopper, umh_to_mqtt
from runtime.logs import RateLimitedLog, shorten
from runtime.processor import StreamProcessor

log = logging.getLogger("runtime.connectors.mqtt")

__all__ = ["MqttConnector"]

BATCH = 2000
CONNECT_TIMEOUT = 10.0
STOP_FLUSH_TIMEOUT = 3.0
SESSION_EXPIRY = 3600  # seconds the broker keeps our session (and queues our inputs) while away
SESSION_TAKEN_OVER = 142
RECONNECT_MIN_S = 0.5  # backoff between reconnection attempts: doubling up to RECONNECT_MAX_S
RECONNECT_MAX_S = 10.0
QUICK_DROPS = 3  # connections closed by the broker within QUICK_DROP_S of being made, in a row
QUICK_DROP_S = 5.0


class _QuietPaho(logging.Filter):
    """paho logs an error when its loop runs while the socket is closed (around a disconnect);
    our own connection messages say what matters."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Client is not connected")


class _Batch:
    __slots__ = ("generation", "inputs", "outputs", "remaining")

    def __init__(self, generation: int, inputs: list[tuple[int, int]], outputs: int) -> None:
        self.generation = generation
        self.inputs = inputs  # (mid, qos) of the inputs to acknowledge
        self.outputs = outputs
        self.remaining = outputs


class MqttConnector:
    def __init__(self, processor: StreamProcessor, host: str, port: int, client_id: str, *, qos: int = 1,
                 stats: RunStats | None = None, stopper: Stopper | None = None) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties
        from paho.mqtt.subscribeoptions import SubscribeOptions

        self._Properties = Properties
        self._PUBLISH = PacketTypes.PUBLISH
        self.processor = processor
        self.log = logging.LoggerAdapter(log, {"connector": self})
        self.host, self.port = host, port
        self.address = f"{host}:{port}"
        self.client_id = client_id
        self.qos = qos
        self.stats = stats or RunStats(processor, enabled=False)
        self.stopper = stopper or Stopper()
        self.subscriptions = [(umh_to_mqtt(t), SubscribeOptions(qos=qos)) for t in processor.source_topics]
        self.inbox: deque = deque()  # (generation, MQTTMessage), appended by the network thread
        self.acked: deque[int] = deque()  # mids of our publications the broker acknowledged
        self.wake = threading.Event()
        self.connected = threading.Event()
        self.generation = 0  # one per successful connection: acks only go to the connection that
        self.connect_error: str | None = None  # delivered the input
        self.fatal: str | None = None
        self.pending: deque[_Batch] = deque()
        self.outstanding: dict[int, _Batch] = {}  # mid -> batch
        self.early: set[int] = set()  # acknowledged before we registered the mid
        self._props: dict[tuple, Any] = {}
        self._refusals = RateLimitedLog(log, 10.0)
        self._payload_size_rc = mqtt.MQTT_ERR_PAYLOAD_SIZE
        # the broker's Maximum Packet Size (CONNACK): a larger PUBLISH makes it close the
        # connection, and the session would resend it at every reconnect, forever
        self.max_packet: int | None = None
        self._connected_at = 0.0
        self._quick_drops = 0
        self._backoff = RECONNECT_MIN_S
        self._next_attempt = 0.0

        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5,
                             manual_ack=qos > 0)
        paho_log = logging.getLogger("runtime.connectors.mqtt.paho")
        if not any(isinstance(f, _QuietPaho) for f in paho_log.filters):
            paho_log.addFilter(_QuietPaho())
        client.enable_logger(paho_log)
        client.max_inflight_messages_set(0)  # no limit in paho: ``window`` below
        client.max_queued_messages_set(0)
        self.window = 20
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        client.on_subscribe = self._on_subscribe
        self.client = client
        self._connect_props = Properties(PacketTypes.CONNECT)
        self._connect_props.SessionExpiryInterval = SESSION_EXPIRY if qos > 0 else 0
        self._connect_props.ReceiveMaximum = 1000

    # ------------------------------------------------------------------ callbacks (network thread)
    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            if not self.connected.is_set() and self.generation == 0:
                self.connect_error = f"the MQTT broker at {self.address} refused the connection: {reason}"
                self.wake.set()
            else:
                self.log.warning("MQTT broker at %s refused the reconnection: %s", self.address, reason)
            return
        # the broker's Receive Maximum bounds our unacknowledged publications (paho does not apply
        # it, so the main thread does: ``window``)
        receive_max = getattr(properties, "ReceiveMaximum", None) if properties is not None else None
        self.window = receive_max or 65535
        self.max_packet = getattr(properties, "MaximumPacketSize", None) if properties is not None else None
        self.generation += 1
        self._connected_at = time.monotonic()
        self._backoff = RECONNECT_MIN_S
        if self.generation > 1:
            self.log.warning("reconnected to the MQTT broker at %s (session %s); subscribing again",
                        self.address, "resumed" if flags.session_present else "new")
        client.subscribe(self.subscriptions)
        self.connected.set()
        self.wake.set()

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, reasons: list, properties: Any) -> None:
        failed = [(t, str(r)) for (t, _), r in zip(self.subscriptions, reasons) if r.is_failure]
        if failed:
            self.log.error("the MQTT broker refused subscriptions: %s", failed)
        self.log.info("subscribed to %d source topics on %s (QoS %d)", len(self.subscriptions) - len(failed),
                 self.address, self.qos)

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if self.stopper.stopped:
            return
        # A broker closes the older connection of a client id when a newer one connects; MQTT 5
        # brokers may say so (Session taken over), others (mosquitto 2.0) just close the socket,
        # and the two instances would take the session from each other forever. So: a takeover,
        # or connections closed by the broker shortly after they were made, QUICK_DROPS times.
        lasted = time.monotonic() - self._connected_at
        if lasted < QUICK_DROP_S and not getattr(flags, "is_disconnect_packet_from_server", True):
            self._quick_drops += 1
        else:
            self._quick_drops = 0
        if getattr(reason, "value", None) == SESSION_TAKEN_OVER or self._quick_drops >= QUICK_DROPS:
            self.fatal = (f"another client with id '{self.client_id}' connected to {self.address} and took "
                          f"over this session: one configuration runs as one client; use another --group "
                          f"to run an independent copy")
            self.wake.set()
            return
        self.log.warning("lost the connection to the MQTT broker at %s (%s): reconnecting with backoff",
                    self.address, reason)

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        self.inbox.append((self.generation, message))
        self.wake.set()

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        if getattr(reason, "is_failure", False):  # MQTT 5 PUBACK/PUBREC with a failure reason
            self.stats.outputs_refused += 1
            self._refusals.warning(("puback", str(reason)), lambda: (
                f"the MQTT broker at {self.address} refused an output (message id {mid}): {reason}; "
                f"skipped"))
        self.acked.append(mid)
        self.wake.set()

    # ------------------------------------------------------------------ main thread
    # The network is driven from this thread (``client.loop``), not from paho's own thread:
    # publishing from a second thread makes both fight over paho's locks and costs half the
    # throughput. Reconnecting is therefore ours too: ``_reconnect`` with backoff.
    def run(self) -> int:
        client = self.client
        clean = self.qos == 0
        try:
            client.connect(self.host, self.port, keepalive=30, clean_start=clean,
                           properties=self._connect_props)
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise ConnectorError(f"cannot reach the MQTT broker at {self.address}: {reason}") from None
        try:
            deadline = time.monotonic() + CONNECT_TIMEOUT
            while not self.connected.is_set():
                if self.connect_error:
                    raise ConnectorError(self.connect_error)
                if self.stopper.stopped:
                    return 0
                if time.monotonic() > deadline:
                    raise ConnectorError(f"the MQTT broker at {self.address} did not accept the "
                                         f"connection within {CONNECT_TIMEOUT:.0f} s")
                self._network(0.1)
            self.log.info("connected to the MQTT broker at %s as '%s'", self.address, self.client_id)
            self._loop()
            self._finish()
        finally:
            self._refusals.flush()
            with contextlib.suppress(Exception):
                client.disconnect()
                client.loop(0.1)  # send the DISCONNECT
        if self.fatal:
            raise ConnectorError(self.fatal)
        return 0

    def _network(self, timeout: float) -> None:
        """Read and write what the socket allows (callbacks run here), keepalive, reconnect."""
        client = self.client
        if client.socket() is None:
            self._reconnect(timeout)
            return
        rc = client.loop(timeout)
        if rc == 0 and client.socket() is not None:
            client.loop_read(BATCH)  # loop() reads one packet when nothing is outstanding
        elif rc != 0 and client.socket() is None:
            self._next_attempt = max(self._next_attempt, time.monotonic() + self._backoff)

    def _reconnect(self, timeout: float) -> None:
        now = time.monotonic()
        if now < self._next_attempt:
            self.stopper.wait(min(timeout, self._next_attempt - now))
            return
        try:
            self.client.reconnect()
        except (OSError, ValueError) as exc:
            self.log.info("reconnecting to %s failed (%s): next attempt in %.0f s", self.address,
                          getattr(exc, "strerror", None) or exc, self._backoff)
            self._next_attempt = time.monotonic() + self._backoff
            self._backoff = min(self._backoff * 2, RECONNECT_MAX_S)

    def _loop(self) -> None:
        inbox, stopper, stats = self.inbox, self.stopper, self.stats
        while not stopper.stopped and self.fatal is None:
            self._network(0 if inbox else 0.1)
            if inbox:
                n = min(len(inbox), BATCH)
                self._handle([inbox.popleft() for _ in range(n)])
            if self.acked:
                self._settle()
            stats.tick()

    def _handle(self, received: list) -> None:
        inputs = []
        append = inputs.append
        acks = []
        generation = self.generation
        props_cache = self._props
        for gen, msg in received:
            if msg.qos > 0:
                acks.append((gen, msg.mid, msg.qos))
            try:
                topic = msg.topic.replace("/", ".")
            except UnicodeDecodeError:
                self.stats.no_topic += 1
                continue
            props = msg.properties
            ups = getattr(props, "UserProperty", None) if props is not None else None
            out_props = None  # the outputs' user properties: the input's metadata but umh_topic
            if ups:
                meta = dict(ups)
                meta["umh_topic"] = topic
                key = tuple(kv for kv in meta.items() if kv[0] != "umh_topic")
                if key:
                    out_props = props_cache.get(key)
                    if out_props is None:
                        if len(props_cache) > 4096:
                            props_cache.clear()
                        props = self._Properties(self._PUBLISH)
                        props.UserProperty = list(key)
                        # encoded user properties: identifier, two length-prefixed UTF-8 strings each
                        out_props = props_cache[key] = (props, sum(
                            5 + len(k.encode("utf-8", "surrogatepass"))
                            + len(v.encode("utf-8", "surrogatepass"))
                            for k, v in key))
            append((topic, msg.payload, out_props))
        self.stats.records(len(received))
        outputs = self.processor.process_records(inputs)
        qos = self.qos
        # an input received on an earlier connection cannot be acknowledged on this one: the
        # broker sends it again if it kept the session
        batch = _Batch(generation, [(mid, q) for gen, mid, q in acks if gen == generation],
                       len(outputs) if qos > 0 else 0)
        publish = self.client.publish
        outstanding, early = self.outstanding, self.early
        limit = self.max_packet
        for topic, payload, cached in outputs:
            props, extra = cached if cached is not None else (None, 0)
            if limit is not None:
                # PUBLISH: fixed header <= 5, topic 2 + n, packet id 2, properties length <= 4
                size = len(payload) + len(topic.encode("utf-8")) + 13 + extra
                if size > limit:
                    self._refuse(topic, payload, f"{size:,} bytes exceed the broker's Maximum Packet "
                                 f"Size {limit:,}", batch, acks)
                    continue
            if qos > 0 and len(outstanding) >= self.window and not self._wait_window():
                return  # stopping: the inputs stay unacknowledged
            try:
                info = publish(topic.replace(".", "/"), payload, qos, properties=props)
                refused = "payload too large for MQTT" if info.rc == self._payload_size_rc else None
            except (ValueError, TypeError) as exc:  # paho refuses the topic or the payload
                refused = f"{type(exc).__name__}: {exc}"
            if refused:
                self._refuse(topic, payload, refused, batch, acks)
                continue
            if qos > 0:
                mid = info.mid
                if mid in early:
                    early.discard(mid)
                    batch.remaining -= 1
                else:
                    outstanding[mid] = batch
        if qos == 0:
            self.stats.outputs_sent += len(outputs)
        self.pending.append(batch)
        self._settle()

    def _refuse(self, topic: str, payload: bytes, reason: str, batch: _Batch, acks: list) -> None:
        """An output that cannot be published: counted and skipped; its batch completes without it."""
        self.stats.outputs_refused += 1
        if self.qos > 0:
            batch.remaining -= 1
            batch.outputs -= 1  # not among the outputs the broker acknowledged
        self._refusals.warning(("refused", reason[:20]), lambda: (
            f"output {shorten(topic)} ({len(payload):,} bytes, from the inputs with message ids "
            f"{[mid for _, mid, _ in acks][:10]}) cannot be published: {reason}; skipped"))

    def _wait_window(self) -> bool:
        """Wait until fewer than ``window`` publications are unacknowledged; False when stopping."""
        while len(self.outstanding) >= self.window:
            if self.stopper.stopped or self.fatal is not None:
                return False
            self._network(0.05)
            self._count_acks()
        return True

    def _count_acks(self) -> None:
        acked, outstanding, early = self.acked, self.outstanding, self.early
        while acked:
            mid = acked.popleft()
            batch = outstanding.pop(mid, None)
            if batch is None:
                early.add(mid)
            else:
                batch.remaining -= 1

    def _settle(self) -> None:
        """Count acknowledged outputs; acknowledge the inputs of completed batches, in order."""
        self._count_acks()
        pending = self.pending
        ack = self.client.ack
        while pending and pending[0].remaining <= 0:
            batch = pending.popleft()
            self.stats.outputs_sent += batch.outputs if self.qos > 0 else 0
            if batch.generation == self.generation:
                for mid, q in batch.inputs:
                    ack(mid, q)

    def _finish(self) -> None:
        """On stop: wait (bounded) for the outstanding outputs, acknowledge what is complete."""
        deadline = time.monotonic() + STOP_FLUSH_TIMEOUT
        while self.pending and time.monotonic() < deadline and self.fatal is None:
            self._network(0.05)
            self._settle()
        if self.pending:
            self.log.warning("%d batches of outputs unacknowledged at exit: their inputs stay "
                        "unacknowledged and the broker sends them again to this session", len(self.pending))
