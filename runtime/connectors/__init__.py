"""Connectors: run a stream processor on the Unified Namespace itself, over Kafka or MQTT.

``streamproc run CONFIG --kafka BOOTSTRAP [--topic umh.messages] [--group ID]`` and
``streamproc run CONFIG --mqtt HOST:PORT [--qos 1]`` call ``run_connector``; the clients
(``confluent-kafka``, ``paho-mqtt``: the ``connectors`` extra) are imported only then.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
from typing import Any

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

DEFAULT_TOPIC = "umh.messages"


def add_arguments(run: argparse.ArgumentParser) -> None:
    """The connector options of ``streamproc run``."""
    g = run.add_argument_group("connectors (instead of --input/--output)")
    g.add_argument("--kafka", metavar="BOOTSTRAP",
                   help="consume and produce the UNS on Kafka (bootstrap servers host:port[,...])")
    g.add_argument("--topic", default=DEFAULT_TOPIC, metavar="TOPIC",
                   help="Kafka topic to consume (default: umh.messages)")
    g.add_argument("--produce-topic", metavar="TOPIC",
                   help="Kafka topic for the outputs (default: the --topic)")
    g.add_argument("--group", metavar="ID",
                   help="Kafka consumer group / MQTT client id (default: "
                        "streamproc.<output_topic>._<model>_<version>)")
    g.add_argument("--kafka-option", action="append", metavar="KEY=VALUE",
                   help="librdkafka property for both clients (consumer.KEY / producer.KEY for one); "
                        "repeatable")
    g.add_argument("--kafka-option-file", action="append", metavar="PATH",
                   help="librdkafka properties file (KEY=VALUE lines, # comments; for secrets such as "
                        "sasl.password); repeatable")
    g.add_argument("--kafka-option-env", action="append", metavar="KEY=VAR",
                   help="librdkafka property KEY from the environment variable VAR; repeatable")
    g.add_argument("--dead-letter-topic", metavar="TOPIC",
                   help="Kafka topic for outputs the broker refuses for good (too large, invalid), "
                        "with the reason in a streamproc_error header (default: log and skip them)")
    g.add_argument("--mqtt", metavar="HOST:PORT", help="subscribe and publish on an MQTT 5 broker")
    g.add_argument("--qos", type=int, choices=(0, 1, 2), default=1,
                   help="MQTT QoS of subscriptions and publications (default: 1)")
    g.add_argument("--mqtt-username", metavar="USER",
                   help=f"MQTT user name (default: ${ENV_PREFIX}MQTT_USERNAME); the password comes from "
                        f"--mqtt-password-file or ${ENV_PREFIX}MQTT_PASSWORD")
    g.add_argument("--mqtt-password-file", metavar="PATH", help="file holding the MQTT password")
    g.add_argument("--mqtt-tls", action="store_true", help="connect to the MQTT broker over TLS")
    g.add_argument("--mqtt-ca", metavar="PATH", help="CA certificates (PEM) to verify the MQTT broker "
                   "(default: the system's)")
    g.add_argument("--mqtt-cert", metavar="PATH", help="client certificate (PEM) for MQTT over TLS")
    g.add_argument("--mqtt-key", metavar="PATH", help="client private key (PEM) for MQTT over TLS")
    g.add_argument("--mqtt-key-password-file", metavar="PATH",
                   help=f"file holding the client key's password (or ${ENV_PREFIX}MQTT_KEY_PASSWORD)")


ENV_PREFIX = "STREAMPROC_"


def secret(file_path: str | None, env_name: str, what: str) -> str | None:
    """A secret from ``file_path`` (its text, one trailing newline removed) or else the environment
    variable ``STREAMPROC_<env_name>``; None when neither is given. Secrets never have to be on
    the command line, where every user of the machine can read them (``ps``)."""
    if file_path:
        try:
            with open(file_path, encoding="utf-8") as f:
                text = f.read()
        except OSError as exc:
            raise ConnectorError(f"{what}: cannot read {file_path}: {exc.strerror or exc}") from None
        return text[:-1] if text.endswith("\n") else text
    return os.environ.get(ENV_PREFIX + env_name)


def kafka_options(args: argparse.Namespace) -> list[str]:
    """Every ``KEY=VALUE`` librdkafka property: from --kafka-option-file files, --kafka-option-env
    variables, then --kafka-option (later ones win)."""
    items: list[str] = []
    for path in getattr(args, "kafka_option_file", None) or ():
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except OSError as exc:
            raise ConnectorError(f"--kafka-option-file: cannot read {path}: {exc.strerror or exc}") from None
        for n, line in enumerate(lines, 1):
            line = line.strip()
            if not line or line.startswith(("#", "!")):
                continue
            if "=" not in line:
                raise ConnectorError(f"--kafka-option-file {path}:{n}: expected KEY=VALUE")
            key, _, value = line.partition("=")
            items.append(f"{key.strip()}={value.strip()}")
    for item in getattr(args, "kafka_option_env", None) or ():
        key, sep, var = item.partition("=")
        if not sep or not key or not var:
            raise ConnectorError(f"--kafka-option-env {item!r}: expected KEY=VARIABLE")
        if var not in os.environ:
            raise ConnectorError(f"--kafka-option-env {item}: environment variable {var} is not set")
        items.append(f"{key}={os.environ[var]}")
    return items + list(args.kafka_option or ())


def wants_connector(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "kafka", None) or getattr(args, "mqtt", None))


_KAFKA_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}")  # Kafka's legal topic names


def check_arguments(args: argparse.Namespace) -> str | None:
    """A usage problem of the connector options, or None (whether or not a connector is used)."""
    if not args.mqtt and (args.mqtt_username or args.mqtt_password_file or args.mqtt_tls or args.mqtt_ca
                          or args.mqtt_cert or args.mqtt_key or args.mqtt_key_password_file):
        return "the --mqtt-* options need --mqtt"
    if args.mqtt_key and not args.mqtt_cert:
        return "--mqtt-key needs --mqtt-cert"
    if args.kafka:
        for option in ("topic", "produce_topic", "dead_letter_topic"):
            name = getattr(args, option, None)
            if name is not None and (not _KAFKA_TOPIC.fullmatch(name) or name in (".", "..")):
                return (f"--{option.replace('_', '-')} {name!r}: not a Kafka topic name (1 to 249 of "
                        f"[A-Za-z0-9._-], not '.' or '..')")
    if not wants_connector(args):
        return None
    if args.kafka and args.mqtt:
        return "--kafka and --mqtt are exclusive: run one processor per broker"
    if args.input not in (None, "-") or args.output not in (None, "-"):
        return "--input/--output are for JSON Lines; a connector reads and writes the broker"
    if args.mqtt and getattr(args, "dead_letter_topic", None):
        return "--dead-letter-topic is for --kafka (MQTT outputs the broker refuses are logged and skipped)"
    if args.mqtt:
        host, sep, port = args.mqtt.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            return f"--mqtt {args.mqtt}: expected HOST:PORT"
    return None


def run_connector(processor: StreamProcessor, args: argparse.Namespace, prog: str = "streamproc",
                  telemetry: Any = None) -> int:
    """Run until SIGINT/SIGTERM; returns the exit status (0 after a clean stop). Raises
    ``ConnectorError`` for what the user must hear about (unreachable broker, refused group).
    ``telemetry`` (``runtime.metrics.Telemetry``) gets the connector's counters and readiness;
    ``args.accept_topic`` / ``args.extra_headers`` (set for a benthos ``uns`` input/output) filter
    the consumed topics and add output headers."""
    interval = getattr(args, "stats_interval", None)
    stats = RunStats(processor, enabled=bool(getattr(args, "stats", False) or interval), prog=prog)
    if interval:
        stats.INTERVAL = interval
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
                                           produce_topic=args.produce_topic, options=kafka_options(args),
                                           stats=stats, stopper=stopper,
                                           dead_letter_topic=getattr(args, "dead_letter_topic", None),
                                           accept_topic=getattr(args, "accept_topic", None),
                                           headers=getattr(args, "extra_headers", None))
            else:
                try:
                    from runtime.connectors.mqtt import MqttConnector
                except ImportError as exc:
                    raise ConnectorError(f"--mqtt needs paho-mqtt (pip install "
                                         f"'streamproc[connectors]'): {exc}") from None
                host, _, port = args.mqtt.rpartition(":")
                username = args.mqtt_username or os.environ.get(ENV_PREFIX + "MQTT_USERNAME")
                password = secret(args.mqtt_password_file, "MQTT_PASSWORD", "--mqtt-password-file")
                tls = None
                if args.mqtt_tls or args.mqtt_ca or args.mqtt_cert:
                    tls = {"ca_certs": args.mqtt_ca, "certfile": args.mqtt_cert, "keyfile": args.mqtt_key,
                           "keyfile_password": secret(args.mqtt_key_password_file, "MQTT_KEY_PASSWORD",
                                                      "--mqtt-key-password-file")}
                connector = MqttConnector(processor, host.strip("[]"), int(port), group, qos=args.qos,
                                          stats=stats, stopper=stopper, username=username,
                                          password=password, tls=tls)
            if telemetry is not None:
                telemetry.attach_connector(connector, stats, "kafka" if args.kafka else "mqtt")
            return connector.run()
    finally:
        processor.flush_log()
        stats.final()
