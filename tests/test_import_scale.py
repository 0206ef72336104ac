"""Imports that scale: a text already stored is found through an index, and a large
Markdown import writes in batches so other writers get in while it runs (fictional data)."""

from __future__ import annotations

import sqlite3
import threading

import pytest

import fieldkit
from fieldkit.core.errors import FieldkitError
from fieldkit.exchange import importing
from fieldkit.exchange.importing import ImportFailed, ImportOptions, run_importer
from fieldkit.fieldwork import capture


def _plan(project, sql: str, args: list) -> str:
    return " ".join(row[-1] for row in project.store.conn.execute(f"explain query plan {sql}", args))


def test_finding_a_stored_text_uses_an_index(project, monkeypatch):
    seen = []
    original = project.store.conn

    class Watch:
        def __getattr__(self, name):
            return getattr(original, name)

        def execute(self, sql, args=()):
            seen.append((sql, list(args)))
            return original.execute(sql, args)

    capture.note(project, "The panel met at ten.")
    monkeypatch.setattr(project.store, "conn", Watch())
    from fieldkit.exchange.importing import already_imported

    assert already_imported(project, "The panel met at ten.", None)
    assert not already_imported(project, "The panel met at eleven.", None)
    monkeypatch.undo()
    lookups = [(sql, args) for sql, args in seen if "from [observations]" in sql and "body" in sql]
    assert lookups
    for sql, args in lookups:
        plan = _plan(project, sql, args)
        assert "SEARCH observations USING INDEX idx_observations_body_start (<expr>=?)" in plan, plan


def _folder(tmp_path, n: int, prefix: str = "note"):
    folder = tmp_path / f"vault-{prefix}"
    folder.mkdir()
    for i in range(n):
        (folder / f"{prefix}-{i:05d}.md").write_text(f"---\ntags: [walk]\n---\nWalked past unit {i} of {prefix}.\n")
    return folder


def test_a_large_import_lets_other_writers_in_between_batches(tmp_path, monkeypatch):
    """A concurrent writer keeps working, and a reader sees the import arrive batch by batch."""
    monkeypatch.setattr(importing, "BATCH_SECONDS", 0.05)
    path = tmp_path / "study"
    fieldkit.init(path).close()
    n = 600
    folder = _folder(tmp_path, n)
    outcome: dict = {}

    def run():
        project = fieldkit.open(path)
        try:
            outcome["report"] = run_importer(project, "markdown", folder)
        except BaseException as exc:  # pragma: no cover - reported by the assertion below
            outcome["error"] = exc
        finally:
            project.close()

    worker = threading.Thread(target=run)
    writer = fieldkit.open(path)
    reader = sqlite3.connect(path / "fieldkit.db")
    counts, jots = set(), 0
    worker.start()
    try:
        while worker.is_alive():
            counts.add(reader.execute("select count(*) from observations where body like 'Walked%'").fetchone()[0])
            capture.jot(writer, f"Still writing while the import runs ({jots}).")
            jots += 1
    finally:
        worker.join()
        writer.close()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["report"].counts == {"fieldnotes": n}
    assert any(0 < c < n for c in counts), sorted(counts)
    final = reader.execute("select count(*) from observations where body like 'Still writing%'").fetchone()[0]
    reader.close()
    assert jots > 0 and final == jots


def test_a_problem_in_any_file_still_writes_nothing(project, tmp_path):
    folder = _folder(tmp_path, 300)
    (folder / "zz-last.md").write_text("---\nencounter: E99\n---\nAn unknown encounter.\n")
    with pytest.raises(ImportFailed) as caught:
        run_importer(project, "markdown", folder)
    assert "E99" in str(caught.value)
    assert project.count("observation") == 0


def test_the_same_text_twice_in_one_import_is_kept_once(project, tmp_path):
    folder = tmp_path / "twice"
    folder.mkdir()
    for name in ("a.md", "b.md"):
        (folder / name).write_text("The same words.\n")
    report = run_importer(project, "markdown", folder)
    assert report.counts == {"fieldnotes": 1} and report.skipped == ["b.md: already imported"]
    again = run_importer(project, "markdown", folder)
    assert again.counts == {} and project.count("observation") == 1


def test_a_dry_run_writes_nothing(project, tmp_path):
    folder = _folder(tmp_path, 3)
    report = run_importer(project, "markdown", folder, ImportOptions(dry_run=True))
    assert report.counts == {"fieldnotes": 3} and report.dry_run
    assert project.count("observation") == 0
    with pytest.raises(FieldkitError):
        run_importer(project, "markdown", tmp_path / "nowhere")
