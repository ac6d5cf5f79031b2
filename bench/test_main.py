"""``python -m bench`` itself must not rot: run it end to end with tiny settings."""

from __future__ import annotations

from bench.__main__ import main


def test_python_m_bench_smoke(tmp_path, capsys):
    assert main(["--smoke", "--out", str(tmp_path), "--json", str(tmp_path / "r.json")]) == 0
    text = (tmp_path / "RESULTS.md").read_text()
    for heading in ("## Targets", "Message processing", "Fast paths", "JavaScript expressions",
                    "Expression evaluation paths", "time limit active vs not", "Variable resolution",
                    "Batch processing", "RealisticWorkload", "## Memory", "cProfile"):
        assert heading in text
    assert "HighThroughput" in capsys.readouterr().out
    assert (tmp_path / "r.json").exists()
