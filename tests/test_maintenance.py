"""doctor, backup and attachments."""

import json
import os
import sqlite3
import stat
import subprocess
import sys

import pytest

import fieldkit
from fieldkit.fieldwork import capture
from fieldkit.store import maintenance
from fieldkit.store.attachments import attach
from fieldkit.core.errors import FieldkitError, Refused
from fieldkit.core.records import Coding, Code


def checks(project):
    return {(f.level, f.check) for f in maintenance.doctor(project)}


def test_healthy_project_has_no_findings(project):
    capture.jot(project, "all fine")
    assert maintenance.doctor(project) == []


def test_doctor_finds_broken_search_index_and_fixes_it(project):
    n = capture.note(project, "some searchable words")
    project.db.execute("delete from observations_fts where rowid = (select rowid from observations where id = ?)", [n.id])
    project.db.conn.commit()
    assert ("error", "search index") in checks(project)
    maintenance.fix(project)
    assert ("error", "search index") not in checks(project)
    assert project.search("searchable")


def test_doctor_finds_rows_that_are_not_valid_records(project):
    # exports skip the validators when reading, so doctor must catch a hand-edited row
    a, b = capture.note(project, "first"), capture.note(project, "second")
    capture.memo(project, "a memo")
    assert ("error", "records") not in checks(project)
    project.conn.execute("update observations set stage = 'draft' where id = ?", [a.id])
    project.conn.execute("update observations set created_at = '2026-01-01T10:00:00' where id = ?", [b.id])
    project.conn.commit()
    [finding] = [f for f in maintenance.doctor(project) if f.check == "records"]
    assert finding.level == "error" and finding.message.startswith("2 observation row(s) are not valid records")
    assert a.id in finding.message and "draft" in finding.message


def test_doctor_finds_permissions(project):
    os.chmod(project.path / "fieldkit.db", 0o644)
    findings = maintenance.doctor(project)
    assert any(f.check == "permissions" and "chmod 600" in f.fix for f in findings)
    maintenance.fix(project)
    assert stat.S_IMODE(os.stat(project.path / "fieldkit.db").st_mode) == 0o600


def test_doctor_finds_codings_needing_review_and_orphans(project):
    note = capture.note(project, "text that will be coded")
    code = project.add(Code(name="power"))
    project.add(Coding(record_id=note.id, code_id=code.id, start=0, end=4, coder="a", status="review"))
    project.db.execute("insert into codings (id, created_at, author, record_id, code_id, start, [end], coder, status) "
                       "values ('01ARZ3NDEKTSV4RRFFQ69G5FAV', '2026-01-01T00:00:00.000000Z', 'x', 'missing', ?, 0, 1, 'a', 'ok')",
                       [code.id])
    project.db.conn.commit()
    found = maintenance.doctor(project)
    assert any("need review" in f.message and f.fix == "fieldkit code review" for f in found)
    assert any("do not exist" in f.message for f in found)


def test_doctor_checks_attachments(project, tmp_path):
    src = tmp_path / "photo.txt"
    src.write_text("whiteboard notes")
    item = attach(project, src)
    assert maintenance.doctor(project) == []
    stored = project.path / "attachments" / item.sha256
    assert stat.S_IMODE(os.stat(stored).st_mode) == 0o600
    stored.write_text("tampered")
    assert ("error", "attachments") in checks(project)


def test_attachment_names_cannot_escape(project, tmp_path):
    src = tmp_path / "evil name.txt"
    src.write_text("x")
    (tmp_path / "sub").mkdir()
    item = attach(project, tmp_path / "sub" / ".." / "evil name.txt")
    assert item.filename == "evil name.txt"
    assert sorted(p.name for p in (project.path / "attachments").iterdir()) == [item.sha256]
    with pytest.raises(FieldkitError, match="no such file"):
        attach(project, tmp_path / "nope")


def test_doctor_warns_about_key_store_placement(project, tmp_path):
    inside = project.path / "keys.db"
    inside.write_bytes(b"")
    os.chmod(inside, 0o600)
    project.set_setting("keystore_path", str(inside))
    assert any("inside the project folder" in f.message for f in maintenance.doctor(project))
    synced = tmp_path / "Dropbox" / "keys.db"
    synced.parent.mkdir()
    synced.write_bytes(b"")
    os.chmod(synced, 0o600)
    project.set_setting("keystore_path", str(synced))
    assert any("synced" in f.message for f in maintenance.doctor(project))


def test_backup_while_another_process_writes(project, tmp_path):
    for i in range(50):
        capture.jot(project, f"before {i}")
    writer = subprocess.Popen([sys.executable, "-c", (
        "import sys, fieldkit\nfrom fieldkit.fieldwork import capture\np = fieldkit.open(sys.argv[1])\n"
        "for i in range(300): capture.jot(p, f'during {i}')\n"), str(project.path)])
    result = maintenance.backup(project, tmp_path / "bk")
    writer.wait(timeout=120)
    copy = fieldkit.open(tmp_path / "bk")
    assert copy.db.execute("pragma integrity_check").fetchone()[0] == "ok"
    bodies = {o.body for o in copy.list("observation")}
    assert {f"before {i}" for i in range(50)} <= bodies
    assert stat.S_IMODE(os.stat(tmp_path / "bk" / "fieldkit.db").st_mode) == 0o600
    assert result["keystore"] is None
    copy.close()


def test_backup_refuses_non_empty_dest_and_copies_keys_separately(project, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("mine")
    with pytest.raises(Refused):
        maintenance.backup(project, tmp_path / "full")
    assert (tmp_path / "full" / "x").read_text() == "mine"
    keys = tmp_path / "keys.db"
    conn = sqlite3.connect(keys)
    conn.execute("create table people (pseudonym text)")
    conn.execute("insert into people values ('P03')")
    conn.commit()
    conn.close()
    project.set_setting("keystore_path", str(keys))
    with pytest.raises(Refused, match="must not go inside"):
        maintenance.backup(project, tmp_path / "bk1", keys_dest=str(tmp_path / "bk1" / "keys.db"))
    result = maintenance.backup(project, tmp_path / "bk2", keys_dest=str(tmp_path / "keys-copy.db"))
    assert result["keystore"] and sqlite3.connect(tmp_path / "keys-copy.db").execute("select * from people").fetchall() == [("P03",)]
    assert not any("keys" in p.name for p in (tmp_path / "bk2").iterdir())


def test_doctor_and_backup_commands(run, tmp_path):
    assert "no problems found" in run("doctor").output
    result = run("backup", str(tmp_path / "copy"))
    assert result.exit_code == 0 and "backed up" in result.output
    src = tmp_path / "f.txt"
    src.write_text("x")
    assert run("attach", str(src)).exit_code == 0
    assert json.loads(run("doctor", "--json").output) == []
