"""Killing fieldkit mid-write (SIGKILL) never corrupts a project or loses earlier work."""

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

import fieldkit
from fieldkit.fieldwork import capture

BULK_IMPORT = textwrap.dedent("""
    import sys
    import fieldkit
    from fieldkit.core.records import Observation

    project = fieldkit.open(sys.argv[1])
    print("ready", flush=True)
    project.add_many(Observation(body=f"imported note {i} about supervision") for i in range(20000))
    print("done", flush=True)
""")

BULK_EDIT = textwrap.dedent("""
    import sys
    import fieldkit
    from fieldkit.fieldwork import capture

    project = fieldkit.open(sys.argv[1])
    print("ready", flush=True)
    for round_ in range(1, 1000):
        for note in project.list("observation", stage="fieldnote"):
            capture.edit(project, note.id, f"round {round_} of {note.id}", reason=f"round {round_}")
""")

TRIALS = int(os.environ.get("FIELDKIT_CRASH_TRIALS", "20"))


def _kill_at_random(script, path, seed):
    proc = subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(random.Random(seed).uniform(0.0, 1.5))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def _check_consistent(path):
    conn = sqlite3.connect(path / "fieldkit.db")
    try:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        conn.execute("insert into observations_fts(observations_fts) values ('integrity-check')")
        rows = conn.execute("select count(*) from observations").fetchone()[0]
        indexed = conn.execute("select count(*) from observations_fts").fetchone()[0]
        assert rows == indexed
        # a bulk insert sets the flag row that defers indexing inside its transaction: it must be
        # gone, and the full-text trigger untouched
        assert conn.execute("select count(*) from sqlite_master where name = 'observations_ai'").fetchone()[0] == 1
        assert conn.execute("select count(*) from search_deferred").fetchone()[0] == 0
        return conn.execute("select count(*) from observations where body like 'imported note%'").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.parametrize("trial", range(TRIALS))
def test_bulk_import_is_all_or_nothing(tmp_path, trial):
    path = tmp_path / "p"
    project = fieldkit.init(path)
    before = capture.note(project, "written before the crash")
    project.close()
    _kill_at_random(BULK_IMPORT, path, trial)
    imported = _check_consistent(path)
    assert imported in (0, 20000)
    project = fieldkit.open(path)
    assert project.get(before.id).body == "written before the crash"
    project.close()


@pytest.mark.parametrize("trial", range(TRIALS))
def test_bulk_edit_keeps_history_intact(tmp_path, trial):
    path = tmp_path / "p"
    project = fieldkit.init(path)
    notes = [capture.note(project, f"original {i}") for i in range(20)]
    project.close()
    _kill_at_random(BULK_EDIT, path, 1000 + trial)
    _check_consistent(path)
    project = fieldkit.open(path)
    for note in notes:
        current = project.get(note.id)
        history = project.history(note.id)
        # every saved version is either the original or a complete round, and no version is missing
        assert [h.version for h in history] == list(range(1, len(history) + 1))
        if history:
            assert history[0].data["body"] == f"original {notes.index(note)}"
            assert current.body.startswith("round ")
        else:
            assert current.body == f"original {notes.index(note)}"
        version = project.db.execute("select version from observations where id = ?", [note.id]).fetchone()[0]
        assert version == len(history) + 1
    project.close()
