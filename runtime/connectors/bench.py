"""End-to-end throughput of the connectors on loopback brokers.

    python -m runtime.connectors.bench kafka [--messages N]   # librdkafka mock cluster
    python -m runtime.connectors.bench mqtt  [--messages N]   # mosquitto on a free port

The pump configuration processes N pump messages (press/tempF/run in turn) that are already
waiting for it (Kafka: in the topic; MQTT: queued in the processor's persistent session), as a
``python -m runtime run ... --kafka/--mqtt`` subprocess. The clock starts when the processor
reports it owns the partitions / is connected and stops when the last output is in the topic
(Kafka: the partitions' end offsets, read from the broker, reach N + the outputs expected) or an
independent client has received it (MQTT); msg/s = N / that time (inputs; every input makes 3-4
outputs).

Kafka outputs are counted by end offsets, not by a reader: the mock cluster keeps only a few MiB
per partition, and a reader that falls behind gets "Offset out of range", jumps to the end and
would wait for outputs it skipped (that was the benchmark's hang at 30,000-100,000 messages;
the processor had produced and committed everything). A run whose count stops moving for
STALL_S seconds ends and reports what it counted.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from runtime.connectors.testing import MockKafkaCluster, Mosquitto, ProcessorProcess

ROOT = Path(__file__).resolve().parents[2]
PUMP = ROOT / "examples" / "pump.yaml"
SRC = "umh.v1.corpA.plant-A.aawd._raw."
OUT = "umh.v1.corpA.plant-A.aawd._pump_v1."
STALL_S = 60.0  # no progress for this long: stop waiting and report what was counted


def pump_messages(n: int):
    topics = ("press", "tempF", "run")
    for i in range(n):
        t = topics[i % 3]
        value = (b"true" if i % 2 else b"false") if t == "run" else b"%d.25" % (i % 1000)
        yield SRC + t, b'{"value":%s,"timestamp_ms":%d}' % (value, 1_764_000_000_000 + i)


def outputs_per_run(n: int) -> int:
    # statics (2) on every message, plus pressure+rpm / temperature / status
    return sum(2 + (2 if i % 3 == 0 else 1) for i in range(n))


def bench_kafka(n: int, *, timeout: float | None = None, root: Path | None = None,
                profile: Path | None = None) -> dict:
    """Outputs are counted from the partitions' end offsets (records in the topic minus the
    inputs), not by a reader: a reader can fall behind the mock cluster's retention (at most
    5 MiB per partition), skip records and wait for outputs it will never see. The run stops
    when every expected output is in the topic or after ``timeout`` seconds (default: 60 s plus
    a millisecond per input), and reports what it counted either way. ``root``: run the
    processor of another checkout (a baseline); ``profile``: write its cProfile stats there."""
    from confluent_kafka import Consumer, Producer, TopicPartition

    expected = outputs_per_run(n)
    timeout = 60.0 + n / 1000 if timeout is None else timeout
    with MockKafkaCluster() as bs:
        p = Producer({"bootstrap.servers": bs, "linger.ms": 20})
        for topic, payload in pump_messages(n):
            while True:
                try:
                    p.produce("umh.messages", payload, topic)
                    break
                except BufferError:
                    p.poll(0.05)
        p.flush(60)
        c = Consumer({"bootstrap.servers": bs, "group.id": "bench-reader"})
        parts = [TopicPartition("umh.messages", i) for i in
                 range(len(c.list_topics("umh.messages", timeout=10).topics["umh.messages"].partitions))]

        def records() -> int:
            return sum(c.get_watermark_offsets(tp, timeout=5, cached=False)[1] for tp in parts)

        inputs = records()
        with ProcessorProcess(PUMP, "--kafka", bs, "--log-level", "info", "--stats", root=root,
                              profile=profile) as proc:
            proc.wait_for(r"assigned all \d+ partitions", timeout=60)
            t0 = time.perf_counter()
            deadline = time.monotonic() + timeout
            seen, last = 0, t0
            while seen < expected and time.monotonic() < deadline:
                time.sleep(0.02)
                try:
                    count = records() - inputs
                except Exception:  # noqa: BLE001 - KafkaException: a slow answer, try again
                    continue
                if count != seen:
                    seen, last = count, time.perf_counter()
                elif time.perf_counter() - last > STALL_S:
                    print(f"  stalled: {seen}/{expected} outputs counted, none for {STALL_S:.0f} s")
                    break
            proc.stop()
            stats = proc.stderr
        c.close()
    return _result("kafka (librdkafka mock cluster, 1 broker, 4 partitions)", n, seen, expected,
                   last - t0, stats)


def bench_mqtt(n: int, *, timeout: float | None = None, root: Path | None = None) -> dict:
    """Outputs are counted by a subscriber; the run stops after ``timeout`` seconds (default 60 s
    plus 20 ms per input) at the latest and reports what arrived."""
    import paho.mqtt.client as mqtt

    expected = outputs_per_run(n)
    timeout = 60.0 + n / 50 if timeout is None else timeout
    with Mosquitto(inflight=1000) as broker:
        # create the processor's persistent session, then queue the inputs in it
        with ProcessorProcess(PUMP, "--mqtt", broker.address, "--log-level", "info", root=root) as proc:
            proc.wait_for("subscribed to", timeout=30)
            proc.stop()
        seen = [0]
        last = [0.0]

        def on_message(client, userdata, msg) -> None:
            seen[0] += 1
            last[0] = time.perf_counter()

        sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        sub.on_message = on_message
        sub.connect("127.0.0.1", broker.port)
        sub.subscribe(OUT.replace(".", "/") + "#", qos=0)
        sub.loop_start()
        pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        pub.max_inflight_messages_set(0)
        pub.connect("127.0.0.1", broker.port)
        pub.loop_start()
        infos = [pub.publish(t.replace(".", "/"), payload, 1) for t, payload in pump_messages(n)]
        for info in infos:
            info.wait_for_publish(60)
        pub.disconnect()
        pub.loop_stop()
        time.sleep(0.5)
        with ProcessorProcess(PUMP, "--mqtt", broker.address, "--log-level", "info", "--stats",
                              root=root) as proc:
            proc.wait_for("connected to the MQTT broker", timeout=30)
            t0 = time.perf_counter()
            stats = _drain(proc, seen, expected, timeout)
        sub.disconnect()
        sub.loop_stop()
    return _result("mqtt (mosquitto 2, QoS 1, persistent session)", n, seen[0], expected, last[0] - t0, stats)


def _drain(proc: ProcessorProcess, seen: list[int], expected: int, timeout: float) -> str:
    """Wait until every expected output was counted, the count stopped moving for STALL_S
    seconds (then say so), or ``timeout`` s passed; stop the processor."""
    deadline = time.monotonic() + timeout
    progress, moved = -1, time.monotonic()
    while seen[0] < expected and time.monotonic() < deadline:
        if seen[0] != progress:
            progress, moved = seen[0], time.monotonic()
        elif time.monotonic() - moved > STALL_S:
            print(f"  stalled: {seen[0]}/{expected} outputs counted, none for {STALL_S:.0f} s "
                  f"(processor {'running' if proc.proc.poll() is None else 'exited'})")
            break
        time.sleep(0.05)
    proc.stop()
    return proc.stderr


def _result(name: str, n: int, seen: int, expected: int, seconds: float, stats: str) -> dict:
    # the inputs whose outputs arrived (all of them in a complete run) per second
    rate = n * seen / expected / seconds if seconds > 0 and expected else 0.0
    print(f"{name}: {n} inputs -> {seen}/{expected} outputs received in {seconds:.2f} s: "
          f"{rate:,.0f} input msg/s end to end ({seen / seconds:,.0f} outputs/s)")
    for line in stats.splitlines():
        if "msg_per_s" in line or "records_in" in line:
            print("  processor " + line.split("stats: ", 1)[-1])
    return {"name": name, "inputs": n, "outputs": seen, "expected": expected, "seconds": seconds,
            "msg_per_s": rate}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m runtime.connectors.bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("broker", choices=("kafka", "mqtt", "both"))
    ap.add_argument("--messages", "-n", type=int, default=100_000)
    ap.add_argument("--root", type=Path, help="run the processor of this checkout (e.g. a baseline)")
    ap.add_argument("--profile", type=Path, help="Kafka: write the processor's cProfile stats to this file")
    args = ap.parse_args(argv)
    if args.broker in ("kafka", "both"):
        bench_kafka(args.messages, root=args.root, profile=args.profile)
    if args.broker in ("mqtt", "both"):
        bench_mqtt(args.messages, root=args.root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
