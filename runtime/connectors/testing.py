"""Brokers and processes for the connector tests and benchmarks (loopback only).

* ``MockKafkaCluster``: librdkafka's built-in mock cluster (a client configured with
  ``test.mock.num.brokers`` serves the Kafka protocol on loopback while it lives).
* ``Mosquitto``: a ``mosquitto`` broker on a free loopback port, stoppable and restartable.
* ``ProcessorProcess``: ``python -m runtime run ...`` as a subprocess whose stderr is collected.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["MockKafkaCluster", "Mosquitto", "ProcessorProcess", "free_port", "kafka_records_from_jsonl"]

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MockKafkaCluster:
    """``with MockKafkaCluster() as bootstrap:`` -- a Kafka-protocol cluster on loopback."""

    def __init__(self, brokers: int = 1) -> None:
        self.brokers = brokers
        self.bootstrap = ""
        self._client: Any = None

    def __enter__(self) -> str:
        from confluent_kafka.admin import AdminClient

        self._client = AdminClient({"test.mock.num.brokers": self.brokers, "log_level": 0})
        md = self._client.list_topics(timeout=10)
        self.bootstrap = ",".join(f"{b.host}:{b.port}" for b in md.brokers.values())
        assert all(b.host == "127.0.0.1" for b in md.brokers.values()), self.bootstrap
        return self.bootstrap

    def __exit__(self, *exc: object) -> None:
        self._client = None  # the cluster ends with the client that owns it


def kafka_records_from_jsonl(path: str | Path) -> list[tuple[bytes | None, bytes, list | None]]:
    """(key, value, headers) per line of a ``streamproc run`` JSON Lines input."""
    import orjson

    out = []
    for line in Path(path).read_bytes().splitlines():
        if not line.strip():
            continue
        o = orjson.loads(line)
        meta = dict(o["meta"])
        payload = o["payload"]
        value = payload.encode() if isinstance(payload, str) else orjson.dumps(payload)
        key = meta.pop("umh_topic", None)
        out.append((key.encode() if key is not None else None, value, list(meta.items()) or None))
    return out


class Mosquitto:
    """A mosquitto broker on ``127.0.0.1:<free port>``; ``stop()`` / ``start()`` keep the port."""

    CONF = """listener {port} 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
max_inflight_messages {inflight}
log_dest stderr
log_type error
log_type warning
"""

    def __init__(self, port: int | None = None, inflight: int = 100) -> None:
        sbin = "/usr/sbin/mosquitto"  # Debian's package; /usr/sbin is not on every PATH
        self.exe = shutil.which("mosquitto") or (sbin if os.path.exists(sbin) else None)
        self.port = port or free_port()
        self.inflight = inflight
        self.proc: subprocess.Popen | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="streamproc-mosquitto-")
        self.conf = Path(self._dir.name) / "mosquitto.conf"
        self.conf.write_text(self.CONF.format(port=self.port, inflight=inflight))

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        assert self.exe, "mosquitto is not installed (apt-get install mosquitto)"
        self.proc = subprocess.Popen([self.exe, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited with status {self.proc.returncode}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return
            time.sleep(0.05)
        raise RuntimeError("mosquitto did not start listening")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._dir.cleanup()


class _Lines:
    """Lines a running connector writes (stderr or log records), and waiting for one of them."""

    what = "line"

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._cond = threading.Condition()

    def _running(self) -> bool:
        raise NotImplementedError

    def _status(self) -> str:
        raise NotImplementedError

    def mark(self) -> int:
        """The number of lines so far (``wait_for(..., since=mark)`` looks after them)."""
        with self._cond:
            return len(self.lines)

    def wait_for(self, pattern: str, timeout: float = 20.0, since: int = 0) -> str:
        """The first line matching ``pattern`` (regex); AssertionError on timeout or exit."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = since
        with self._cond:
            while True:
                for line in self.lines[seen:]:
                    if rx.search(line):
                        return line
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0 or not self._running():
                    raise AssertionError(f"no {self.what} matching {pattern!r} ({self._status()}); "
                                         f"{self.what}s:\n" + "\n".join(self.lines))
                self._cond.wait(min(left, 0.2))


class ProcessorProcess(_Lines):
    """``python -m runtime run CONFIG ARGS...``; stderr lines are collected in ``lines``."""

    what = "stderr line"

    def __init__(self, config: str | Path, *args: str, env: dict[str, str] | None = None,
                 root: Path | None = None, profile: Path | None = None) -> None:
        """``root``: the checkout whose ``runtime`` runs (default: this one); ``profile``: run it
        under cProfile, writing the stats to that file when it exits."""
        super().__init__()
        root = ROOT if root is None else Path(root)
        profiler = ["-m", "cProfile", "-o", str(profile)] if profile is not None else []
        self.cmd = [sys.executable, *profiler, "-m", "runtime", "run", str(config), *args]
        full_env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                    **(env or {})}
        self.proc = subprocess.Popen(self.cmd, cwd=root, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=full_env)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            with self._cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def stderr(self) -> str:
        with self._cond:
            return "\n".join(self.lines)

    def _running(self) -> bool:
        return self.proc.poll() is None or self._reader.is_alive()

    def _status(self) -> str:
        return f"exit status {self.proc.poll()}"

    def send(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout: float = 15.0) -> int:
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError(f"processor did not exit within {timeout} s; "
                                 f"stderr:\n{self.stderr}") from None
        self._reader.join(5)
        return rc

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        self.send(sig)
        return self.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(5)
        self._reader.join(5)

    def __enter__(self) -> ProcessorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
        for f in (self.proc.stdout, self.proc.stderr):
            if f is not None:
                f.close()


def wait_until(predicate: Any, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def jsonl_outputs(config: str | Path, jsonl: str | Path | Iterable[str]) -> list[tuple[str, bytes, dict]]:
    """(umh_topic, payload, meta) of ``streamproc run CONFIG`` over JSON Lines, run in-process
    through the CLI entry point: the reference the connector tests compare with."""
    import orjson

    from runtime import cli

    src = Path(jsonl).read_bytes() if isinstance(jsonl, str | Path) else "\n".join(jsonl).encode()
    with tempfile.TemporaryDirectory() as d:
        inp = Path(d) / "in.jsonl"
        outp = Path(d) / "out.jsonl"
        inp.write_bytes(src)
        rc = cli.main(["run", str(config), "--input", str(inp), "--output", str(outp),
                       "--log-level", "error"])
        assert rc == 0
        text = outp.read_bytes()
    result = []
    for line in text.splitlines():
        o = orjson.loads(line)
        result.append((o["meta"]["umh_topic"], o["payload"].encode("utf-8"), o["meta"]))
    return result


class InProcessConnector(_Lines):
    """A connector running in a thread of this process (no interpreter start-up per run).

    ``InProcessConnector(lambda stopper: KafkaConnector(..., stopper=stopper))``; its log lines
    (``runtime.connectors`` at INFO and above, logged by it or in its thread) are in ``lines``;
    ``error`` is the ``ConnectorError`` text it ended with, if any."""

    what = "log line"

    def __init__(self, factory: Any) -> None:
        import logging

        from runtime.connectors.common import ConnectorError, Stopper

        super().__init__()
        self.stopper = Stopper()
        self.rc: int | None = None
        self.error: str | None = None
        owner = self

        class _Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                thread = getattr(owner, "thread", None)
                mine = getattr(record, "connector", None)
                if (mine is not None and mine is getattr(owner, "connector", None)) or (
                        mine is None and thread is not None and record.thread == thread.ident):
                    with owner._cond:
                        owner.lines.append(record.getMessage())
                        owner._cond.notify_all()

        self._logger = logging.getLogger("runtime.connectors")
        self._handler = _Handler(logging.INFO)
        self._saved_level = self._logger.level
        self._logger.setLevel(logging.INFO)
        self._logger.addHandler(self._handler)
        self.connector = factory(self.stopper)

        def run() -> None:
            try:
                self.rc = self.connector.run()
            except ConnectorError as exc:
                self.error = str(exc)
                self.rc = 1
            finally:
                with self._cond:
                    self._cond.notify_all()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def _running(self) -> bool:
        return self.thread.is_alive()

    def _status(self) -> str:
        return f"error: {self.error}"

    def wait(self, timeout: float = 15.0) -> int | None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "connector did not stop:\n" + "\n".join(self.lines)
        return self.rc

    def stop(self, timeout: float = 15.0) -> int | None:
        self.stopper.stop()
        return self.wait(timeout)

    def __enter__(self) -> InProcessConnector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopper.stop()
        self.thread.join(15)
        self._logger.removeHandler(self._handler)
        self._logger.setLevel(self._saved_level)
