"""``python -m bench`` itself must not rot: run it end to end with tiny settings."""

from __future__ import annotations

from bench.__main__ import main


def test_python_m_bench_smoke(tmp_path, capsys):
    assert main(["--smoke", "--out", str(tmp_path), "--json", str(tmp_path / "r.json")]) == 0
    text = (tmp_path / "RESULTS.md").read_text()
    for heading in ("## Targets", "Message processing", "Fast paths", "JavaScript expressions",
                    "Expression evaluation paths", "time limit active vs not", "Variable resolution",
                    "Batch processing", "RealisticWorkload", "End to end over a broker", "## Memory",
                    "cProfile"):
        assert heading in text
    assert "HighThroughput" in capsys.readouterr().out
    assert (tmp_path / "r.json").exists()


def test_render_with_and_without_connector_figures(tmp_path):
    """--render works from JSON with connector figures, with a broker that was unavailable, and from
    JSON written before the connector benchmark existed."""
    import json

    CMD = "python -m runtime.connectors.bench "
    assert main(["--smoke", "--out", str(tmp_path), "--json", str(tmp_path / "r.json")]) == 0
    assert "End to end over a broker" in (tmp_path / "RESULTS.md").read_text()
    data = json.loads((tmp_path / "r.json").read_text())
    data["connectors"] = {"note": None, "runs": {
        "kafka": {"broker": "kafka", "inputs": 1000, "command": CMD + "kafka -n 1000", "outputs": 3334,
                  "expected": 3334, "seconds": 0.5, "inputs_per_s": 2000.0, "outputs_per_s": 6668.0},
        "mqtt": {"broker": "mqtt", "inputs": 500, "command": CMD + "mqtt -n 500",
                 "error": "broker unavailable: the `mosquitto` binary is not installed"},
    }}
    (tmp_path / "c.json").write_text(json.dumps(data))
    out = tmp_path / "c"
    assert main(["--render", str(tmp_path / "c.json"), "--out", str(out)]) == 0
    text = (out / "RESULTS.md").read_text()
    assert f"| 1,000 | 3,334 / 3,334 | 0.50 | 2,000 | 6,668 | `{CMD}kafka -n 1000` |" in text
    assert "not measured: broker unavailable: the `mosquitto` binary is not installed" in text
    del data["connectors"]
    (tmp_path / "old.json").write_text(json.dumps(data))
    out = tmp_path / "old"
    assert main(["--render", str(tmp_path / "old.json"), "--out", str(out)]) == 0
    assert "predate the connector benchmark" in (out / "RESULTS.md").read_text()


def test_unavailable_broker_is_reported_not_raised(monkeypatch):
    from bench import connectors

    monkeypatch.setattr(connectors, "unavailable", lambda broker: "not installed here")
    res = connectors.measure("mqtt", 10, timeout=5)
    assert res["error"] == "broker unavailable: not installed here" and "seconds" not in res
