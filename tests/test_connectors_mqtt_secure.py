"""MQTT with a user name, a password that never is on the command line, and TLS: mosquitto with a
password file and a TLS listener whose certificate a test CA signed (openssl)."""

from __future__ import annotations

import os
import ssl
import subprocess
import tempfile
import threading
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest

from runtime.connectors.testing import Mosquitto, ProcessorProcess, free_port, wait_until

ROOT = Path(__file__).resolve().parents[1]
PUMP = ROOT / "examples" / "pump.yaml"
PRESS = "umh/v1/corpA/plant-A/aawd/_raw/press"
OUT = "umh/v1/corpA/plant-A/aawd/_pump_v1/pressure"


def _run(*cmd: str, cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def secure_broker():
    """(address, CA file, directory): TLS on loopback, user 'proc' / password 's3cret'."""
    d = Path(tempfile.mkdtemp(prefix="streamproc-mqtt-tls-"))
    os.chmod(d, 0o755)  # mosquitto started as root drops to its own user: it must read these
    _run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
         "-days", "1", "-subj", "/CN=streamproc test CA", cwd=d)
    _run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
         "-subj", "/CN=127.0.0.1", cwd=d)
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    _run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
         "-CAcreateserial", "-out", "server.crt", "-days", "1", "-extfile", "san.ext", cwd=d)
    _run("mosquitto_passwd", "-b", "-c", str(d / "passwd"), "proc", "s3cret", cwd=d)
    for f in d.iterdir():
        os.chmod(f, 0o644)
    port = free_port()
    broker = Mosquitto(port)
    broker.conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {d}/passwd\n"
                           f"cafile {d}/ca.crt\ncertfile {d}/server.crt\nkeyfile {d}/server.key\n"
                           "persistence false\nlog_dest stderr\n")
    with broker:
        yield broker.address, d / "ca.crt", d


def _client(ca: Path, port: int) -> tuple[mqtt.Client, list, threading.Event]:
    got: list = []
    ready = threading.Event()
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    c.username_pw_set("proc", "s3cret")
    c.tls_set(ca_certs=str(ca), cert_reqs=ssl.CERT_REQUIRED)
    c.on_connect = lambda cl, *a: (cl.subscribe(OUT, qos=1), ready.set())
    c.on_message = lambda cl, u, m: got.append(m.payload)
    c.connect("127.0.0.1", port)
    c.loop_start()
    assert ready.wait(10)
    return c, got, ready


def test_username_password_file_and_tls(secure_broker, tmp_path):
    address, ca, _ = secure_broker
    pw = tmp_path / "password"
    pw.write_text("s3cret\n")  # one trailing newline, as editors write it, is not part of it
    client, got, _ = _client(ca, int(address.rsplit(":", 1)[1]))
    try:
        with ProcessorProcess(PUMP, "--mqtt", address, "--mqtt-username", "proc", "--mqtt-password-file",
                              str(pw), "--mqtt-tls", "--mqtt-ca", str(ca)) as proc:
            line = proc.wait_for("connected to the MQTT broker")
            assert "over TLS" in line  # at the default log level
            proc.wait_for("subscribed to 3 source topics")
            client.publish(PRESS, orjson.dumps({"value": 1.5, "timestamp_ms": 7}), qos=1).wait_for_publish(10)
            assert wait_until(lambda: got, 10), proc.stderr
            assert got[0] == b'{"value":5.50001,"timestamp_ms":7}'
            assert proc.stop() == 0
            assert "s3cret" not in " ".join(proc.cmd)
    finally:
        client.loop_stop()
        client.disconnect()


def test_password_from_the_environment(secure_broker):
    address, ca, _ = secure_broker
    with ProcessorProcess(PUMP, "--mqtt", address, "--mqtt-tls", "--mqtt-ca", str(ca),
                          env={"STREAMPROC_MQTT_USERNAME": "proc",
                               "STREAMPROC_MQTT_PASSWORD": "s3cret"}) as proc:
        proc.wait_for("subscribed to 3 source topics")
        assert proc.stop() == 0


def test_wrong_password_is_a_clear_error(secure_broker):
    address, ca, _ = secure_broker
    with ProcessorProcess(PUMP, "--mqtt", address, "--mqtt-tls", "--mqtt-ca", str(ca), "--mqtt-username",
                          "proc", env={"STREAMPROC_MQTT_PASSWORD": "wrong"}) as proc:
        assert proc.wait(20) == 1
        assert f"the MQTT broker at {address} refused the connection" in proc.stderr


def test_tls_against_an_untrusted_certificate_fails(secure_broker, tmp_path):
    """Without the test CA the broker's certificate is not trusted (the system's CAs are used)."""
    address, _, _ = secure_broker
    with ProcessorProcess(PUMP, "--mqtt", address, "--mqtt-tls", "--mqtt-username", "proc",
                          env={"STREAMPROC_MQTT_PASSWORD": "s3cret"}) as proc:
        assert proc.wait(20) == 1
        assert "certificate verify failed" in proc.stderr


def test_unreadable_password_file_names_the_option(tmp_path):
    with ProcessorProcess(PUMP, "--mqtt", "127.0.0.1:1", "--mqtt-username", "u", "--mqtt-password-file",
                          str(tmp_path / "missing")) as proc:
        assert proc.wait(20) == 1
        assert "--mqtt-password-file: cannot read" in proc.stderr


def test_kafka_options_from_a_file_and_the_environment(tmp_path, monkeypatch):
    import argparse

    from runtime.connectors import ConnectorError, kafka_options

    props = tmp_path / "client.properties"
    props.write_text("# secrets\nsasl.username = proc\nsasl.password=p=w\n\n! comment\n")
    monkeypatch.setenv("KAFKA_SECRET", "from-env")
    args = argparse.Namespace(kafka_option_file=[str(props)],
                              kafka_option_env=["ssl.key.password=KAFKA_SECRET"],
                              kafka_option=["sasl.username=override"])
    assert kafka_options(args) == ["sasl.username=proc", "sasl.password=p=w", "ssl.key.password=from-env",
                                   "sasl.username=override"]
    args.kafka_option_env = ["x=NOT_SET_ANYWHERE"]
    with pytest.raises(ConnectorError, match="environment variable NOT_SET_ANYWHERE is not set"):
        kafka_options(args)
    props.write_text("no equals sign\n")
    args.kafka_option_env = None
    with pytest.raises(ConnectorError, match=r"client.properties:1: expected KEY=VALUE"):
        kafka_options(args)
