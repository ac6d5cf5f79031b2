"""Connectors: run a stream processor on the Unified Namespace itself, over Kafka or MQTT.

``streamproc run CONFIG --kafka BOOTSTRAP [--topic umh.messages] [--group ID]`` and
``streamproc run CONFIG --mqtt HOST:PORT [--qos 1]`` call ``run_connector``; the clients
(``confluent-kafka``, ``paho-mqtt``: the ``connectors`` extra) are imported only then.
"""

from __future__ import annotations

import argparse
import logging
import re

from runtime.connectors.common import (
    ConnectorError,
    RunStats,
    Stopper,
    default_group,
    mqtt_to_umh,
    umh_to_mqtt,
)
from runtime.processor import StreamProcessor

__all__ = ["ConnectorError", "add_arguments", "default_group", "mqtt_to_umh", "run_connector",
           "umh_to_mqtt"]

log = logging.getLogger("runtime.connectors")


def add_arguments(run: argparse.ArgumentParser) -> None:
    """The connector options of ``streamproc run``."""
    g = run.add_argument_group("connectors (instead of --input/--output)")
    g.add_argument("--kafka", metavar="BOOTSTRAP",
                   help="consume and produce the UNS on Kafka (bootstrap servers host:port[,...])")
    g.add_argument("--topic", default="umh.messages", metavar="TOPIC",
                   help="Kafka topic to consume (default: umh.messages)")
    g.add_argument("--produce-topic", metavar="TOPIC",
                   help="Kafka topic for the outputs (default: the --topic)")
    g.add_argument("--group", metavar="ID",
                   help="Kafka consumer group / MQTT client id (default: "
                        "streamproc.<output_topic>._<model>_<version>)")
    g.add_argument("--kafka-option", action="append", metavar="KEY=VALUE",
                   help="librdkafka property for both clients (consumer.KEY / producer.KEY for one); "
                        "repeatable")
    g.add_argument("--dead-letter-topic", metavar="TOPIC",
                   help="Kafka topic for outputs the broker refuses for good (too large, invalid), "
                        "with the reason in a streamproc_error header (default: log and skip them)")
    g.add_argument("--mqtt", metavar="HOST:PORT", help="subscribe and publish on an MQTT 5 broker")
    g.add_argument("--qos", type=int, choices=(0, 1, 2), default=1,
                   help="MQTT QoS of subscriptions and publications (default: 1)")


def wants_connector(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "kafka", None) or getattr(args, "mqtt", None))


_KAFKA_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}")  # Kafka's legal topic names


def check_arguments(args: argparse.Namespace) -> str | None:
    """A usage problem of the connector options, or None."""
    if args.kafka:
        for option in ("topic", "produce_topic", "dead_letter_topic"):
            name = getattr(args, option, None)
            if name is not None and (not _KAFKA_TOPIC.fullmatch(name) or name in (".", "..")):
                return (f"--{option.replace('_', '-')} {name!r}: not a Kafka topic name (1 to 249 of "
                        f"[A-Za-z0-9._-], not '.' or '..')")
    if args.kafka and args.mqtt:
        return "--kafka and --mqtt are exclusive: run one processor per broker"
    if args.input != "-" or args.output != "-":
        return "--input/--output are for JSON Lines; a connector reads and writes the broker"
    if args.mqtt and getattr(args, "dead_letter_topic", None):
        return "--dead-letter-topic is for --kafka (MQTT outputs the broker refuses are logged and skipped)"
    if args.mqtt:
        host, sep, port = args.mqtt.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            return f"--mqtt {args.mqtt}: expected HOST:PORT"
    return None


def run_connector(processor: StreamProcessor, args: argparse.Namespace, prog: str = "streamproc") -> int:
    """Run until SIGINT/SIGTERM; returns the exit status (0 after a clean stop). Raises
    ``ConnectorError`` for what the user must hear about (unreachable broker, refused group)."""
    stats = RunStats(processor, enabled=bool(getattr(args, "stats", False)), prog=prog)
    stopper = Stopper()
    group = args.group or default_group(processor)
    try:
        with stopper.installed():
            if args.kafka:
                try:
                    from runtime.connectors.kafka import KafkaConnector
                except ImportError as exc:
                    raise ConnectorError(f"--kafka needs confluent-kafka (pip install "
                                         f"'streamproc[connectors]'): {exc}") from None
                connector = KafkaConnector(processor, args.kafka, args.topic, group,
                                           produce_topic=args.produce_topic, options=args.kafka_option,
                                           stats=stats, stopper=stopper,
                                           dead_letter_topic=getattr(args, "dead_letter_topic", None))
            else:
                try:
                    from runtime.connectors.mqtt import MqttConnector
                except ImportError as exc:
                    raise ConnectorError(f"--mqtt needs paho-mqtt (pip install "
                                         f"'streamproc[connectors]'): {exc}") from None
                host, _, port = args.mqtt.rpartition(":")
                connector = MqttConnector(processor, host.strip("[]"), int(port), group, qos=args.qos,
                                          stats=stats, stopper=stopper)
            return connector.run()
    finally:
        processor.flush_log()
        stats.final()
