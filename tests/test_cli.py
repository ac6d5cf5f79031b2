"""The ``streamproc`` command line: ``run`` and ``check``, in-process (main(argv)) and as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import orjson
import pytest

from runtime import Message, StreamProcessor
from runtime.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PUMP_YAML = EXAMPLES / "pump.yaml"
PRESS = "umh.v1.corpA.plant-A.aawd._raw.press"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


def streamproc(*args: str, stdin: bytes = b"", cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runtime", *args], input=stdin, capture_output=True,
                          env=_env(), cwd=cwd, timeout=120)


def expected_lines(config: Path, jsonl: Path, engine: str = "auto") -> list[dict]:
    p = StreamProcessor.from_yaml(config, engine=engine)
    messages = []
    for line in jsonl.read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        payload = obj["payload"]
        data = payload.encode() if isinstance(payload, str) else orjson.dumps(payload)
        messages.append(Message(data, obj["meta"]))
    return [{"payload": m.payload.decode(), "meta": m.meta} for m in p.process_batch(messages)]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


# ---- check
def test_check_valid(capsys):
    assert main(["check", str(PUMP_YAML)]) == 0
    out = capsys.readouterr().out
    assert "valid (6 mappings, 3 sources)" in out
    assert "motor.rpm" in out and "dynamic" in out and "static" in out and "press/4" in out


def test_check_invalid(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("mode: batch\nmodel: {name: x}\nsources: {1abc: t}\nmapping: {x: foo + 1}\n")
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err
    for part in ("mode: unknown mode 'batch'", "output_topic: missing", "model.version: missing",
                 "sources.1abc: alias must be a valid JavaScript identifier", "mapping 'x' (foo + 1): "):
        assert part in err


def test_check_missing_file_and_yaml_error(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.yaml")]) == 2
    assert "configuration file not found" in capsys.readouterr().err
    broken = tmp_path / "broken.yaml"
    broken.write_text("sources: {a: [\n")
    assert main(["check", str(broken)]) == 2
    assert "YAML syntax error" in capsys.readouterr().err


def test_check_subprocess():
    r = streamproc("check", str(EXAMPLES / "boiler.yaml"))
    assert r.returncode == 0, r.stderr
    assert b"efficiency.percent" in r.stdout
    r = streamproc("check", "/nonexistent/x.yaml")
    assert r.returncode == 2 and b"not found" in r.stderr


# ---- run
@pytest.mark.parametrize("name", ["pump", "boiler"])
def test_run_files(name, tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    code = main(["run", str(EXAMPLES / f"{name}.yaml"), "--input", str(EXAMPLES / f"{name}.jsonl"),
                 "--output", str(out)])
    assert code == 0
    assert read_jsonl(out) == expected_lines(EXAMPLES / f"{name}.yaml", EXAMPLES / f"{name}.jsonl")
    assert "invalid timeseries payload" in capsys.readouterr().err or name == "boiler"


def test_run_engines_identical(tmp_path):
    outs = []
    for engine in ("python", "quickjs"):
        out = tmp_path / f"{engine}.jsonl"
        assert main(["run", str(PUMP_YAML), "-i", str(EXAMPLES / "pump.jsonl"), "-o", str(out),
                     "--engine", engine, "--time-limit", "0.5", "--memory-limit", str(32 << 20)]) == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] and outs[0]


def test_run_bad_lines_reported_and_skipped(tmp_path, capsys):
    good = {"payload": {"value": 2.0, "timestamp_ms": 5}, "meta": {"umh_topic": PRESS, "k": "v"}}
    lines = [
        json.dumps(good),
        "this is not json",
        json.dumps({"payload": {"value": 1, "timestamp_ms": 5}}),
        json.dumps({"payload": "x", "meta": {"umh_topic": 5}}),
        json.dumps([1, 2]),
        "",
        json.dumps({"payload": '{"value":3,"timestamp_ms":6}', "meta": {"umh_topic": PRESS}}),
        json.dumps({"meta": {"umh_topic": PRESS}}),
    ]
    inp = tmp_path / "in.jsonl"
    inp.write_text("\n".join(lines))  # no final newline: the last line still counts
    out = tmp_path / "out.jsonl"
    assert main(["run", str(PUMP_YAML), "-i", str(inp), "-o", str(out), "--stats"]) == 0
    err = capsys.readouterr().err
    assert "input line 2: not valid JSON" in err
    assert 'input line 3: lacks "meta"' in err
    assert "input line 4: " in err and "input line 5: " in err
    assert 'input line 8: lacks "payload"' in err
    assert "input line 6" not in err and "input line 7" not in err
    assert "stats: bad_input_lines: 5" in err
    assert "stats: messages_in: 2" in err and "stats: outputs: 8" in err and "msg_per_s:" in err
    rows = read_jsonl(out)
    assert len(rows) == 8
    assert rows[2] == {"payload": '{"value":6.00001,"timestamp_ms":5}',
                       "meta": {"umh_topic": "umh.v1.corpA.plant-A.aawd._pump_v1.pressure", "k": "v"}}
    assert rows[6]["payload"] == '{"value":7.00001,"timestamp_ms":6}'


def test_run_stdin_stdout_subprocess():
    data = (EXAMPLES / "pump.jsonl").read_bytes()
    r = streamproc("run", str(PUMP_YAML), "--stats", stdin=data)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert rows == expected_lines(PUMP_YAML, EXAMPLES / "pump.jsonl")
    assert b"stats: messages_in: 300" in r.stderr


def test_run_config_errors_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("output_topic: x\n")
    r = streamproc("run", str(bad), stdin=b"")
    assert r.returncode == 2 and b"sources: missing" in r.stderr
    r = streamproc("run", str(PUMP_YAML), "--input", str(tmp_path / "missing.jsonl"))
    assert r.returncode == 2 and b"cannot open input" in r.stderr


def test_run_broken_pipe_is_clean():
    data = (EXAMPLES / "pump.jsonl").read_bytes() * 200
    cmd = (f"{sys.executable} -m runtime run {PUMP_YAML} | head -n 3")
    r = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], input=data, capture_output=True, env=_env(),
                       timeout=120)
    assert len(r.stdout.splitlines()) == 3
    assert b"Traceback" not in r.stderr and b"BrokenPipe" not in r.stderr
    assert r.returncode == 0


class _InterruptingInput:
    """stdin whose second read raises KeyboardInterrupt (Ctrl-C while waiting for input)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reads = 0

    def read1(self, n: int) -> bytes:
        self.reads += 1
        if self.reads == 1:
            return self.data
        raise KeyboardInterrupt


def test_run_keyboard_interrupt_flushes(monkeypatch, tmp_path, capsys):
    line = json.dumps({"payload": {"value": 2.0, "timestamp_ms": 5}, "meta": {"umh_topic": PRESS}}) + "\n"
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(buffer=_InterruptingInput(line.encode() * 3)))
    out = tmp_path / "out.jsonl"
    assert main(["run", str(PUMP_YAML), "-o", str(out)]) == 130
    assert len(read_jsonl(out)) == 12
    assert "interrupted" in capsys.readouterr().err


def test_python_dash_m_and_main_agree(tmp_path):
    out = tmp_path / "out.jsonl"
    argv = ["run", str(EXAMPLES / "boiler.yaml"), "-i", str(EXAMPLES / "boiler.jsonl"), "-o", str(out)]
    assert main(argv) == 0
    r = streamproc("run", str(EXAMPLES / "boiler.yaml"), "--input", str(EXAMPLES / "boiler.jsonl"))
    assert r.returncode == 0
    assert r.stdout == out.read_bytes()


def test_log_level_debug_shows_waiting(tmp_path):
    r = streamproc("run", str(EXAMPLES / "boiler.yaml"), "--input", str(EXAMPLES / "boiler.jsonl"),
                   "--log-level", "debug")
    assert r.returncode == 0
    assert b"DEBUG: cannot evaluate 'efficiency.percent' yet: waiting for" in r.stderr


@pytest.mark.parametrize(("option", "value", "field"), [
    ("--time-limit", "inf", "time_limit"), ("--time-limit", "nan", "time_limit"),
    ("--time-limit", "1e300", "time_limit"), ("--memory-limit", "1", "memory_limit"),
    ("--memory-limit", "0", "memory_limit"), ("--memory-limit", "-5", "memory_limit"),
])
@pytest.mark.parametrize("command", ["check", "run"])
def test_out_of_range_limits_are_usage_errors(command, option, value, field, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, str(PUMP_YAML), option, value])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: {field}: invalid value" in err and "expected" in err


def test_limits_in_range_are_accepted(capsys):
    assert main(["check", str(PUMP_YAML), "--time-limit", "0", "--memory-limit", str(1 << 20)]) == 0
    assert main(["check", str(PUMP_YAML), "--time-limit", "-1", "--memory-limit", str(1 << 30)]) == 0


@pytest.mark.parametrize(("option", "value", "expected"), [
    ("--metrics-port", "70000", "expected an integer 0-65535"),
    ("--metrics-port", "-1", "expected an integer 0-65535"),
    ("--metrics-port", "x", "expected an integer 0-65535"),
    ("--stats-interval", "-1", "expected a number of seconds"),
    ("--stats-interval", "0", "expected a number of seconds"),
    ("--stats-interval", "inf", "expected a number of seconds"),
    ("--stats-interval", "nan", "expected a number of seconds"),
    ("--slow-evaluation-ms", "nan", "expected milliseconds"),
    ("--slow-evaluation-ms", "-3", "expected milliseconds"),
])
def test_out_of_range_service_options_are_usage_errors(option, value, expected, capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", str(PUMP_YAML), "--input", str(EXAMPLES / "pump.jsonl"), option, value])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}:" in err and value in err and expected in err
