"""Every benchmark runs once on small data, so the suite cannot rot (timings are not asserted)."""

import importlib.util
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parent.parent / "bench" / "run.py"


def load_runner():
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("suite", ["core", "coding", "agreement", "anonymise", "export", "import_qdpx", "serve"])
def test_benchmark_runs_quickly_and_reports_ratios(suite):
    runner = load_runner()
    rows = runner.load(suite).run(quick=True)
    assert rows
    for row in rows:
        assert {"benchmark", "n", "ours_s", "floor_s", "ratio"} <= set(row)
        assert row["ours_s"] > 0 and row["floor_s"] > 0 and row["ratio"] > 0


def test_table_is_written_between_markers(tmp_path):
    runner = load_runner()
    doc = tmp_path / "b.md"
    doc.write_text(f"# Benchmarks\n\nintro\n\n{runner.START}\nold\n{runner.END}\n\nafter\n")
    rows = [{"suite": "x", "benchmark": "b", "n": 10, "ours_s": 1.0, "floor_s": 2.0, "ratio": 2.0, "note": "n"}]
    runner.write_doc(rows, True, doc)
    text = doc.read_text()
    assert "old" not in text and "| x | b | 10 |" in text and text.endswith("after\n") and "intro" in text


def test_the_jot_row_finds_editable_installs(tmp_path, monkeypatch):
    """An editable install's start-up hook slows the floor too: the jot row must say so."""
    import site

    core = load_runner().load("core")
    (tmp_path / "__editable__.fk_plugin-1.0.pth").write_text("import fk_plugin_finder\n")
    (tmp_path / "distutils-precedence.pth").write_text("")
    monkeypatch.setattr(site, "getsitepackages", lambda: [str(tmp_path)])
    assert core._editable_installs() == ["__editable__.fk_plugin-1.0.pth"]
    monkeypatch.setattr(site, "getsitepackages", lambda: [str(tmp_path / "elsewhere")])
    assert core._editable_installs() == []
