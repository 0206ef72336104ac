"""What fieldkit writes stays owner-only and inside its bounds (issue 12, points 5 and 6):
export files and folders, backups (refused inside the project, encrypted for an encrypted
project), leftovers of interrupted commands, and Markdown imports that meet symbolic links."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import fieldkit
from fieldkit.core.errors import Refused
from fieldkit.exchange.exporting import ExportOptions, run_export
from fieldkit.fieldwork.capture import memo, note
from fieldkit.store import maintenance

RAW = ExportOptions(anonymise=False)


def modes(path: Path) -> dict:
    """``{relative path: mode}`` of a file, or of a folder and everything in it."""
    items = [path] if path.is_file() else [path, *path.rglob("*")]
    return {str(p.relative_to(path.parent)): stat.S_IMODE(os.lstat(p).st_mode) for p in items}


@pytest.fixture
def sample(project):
    note(project, "A fieldnote about the waiting room #power")
    memo(project, "Who set the agenda?", title="Agenda")
    return project


@pytest.mark.parametrize("fmt,name", [("csv", "tables"), ("markdown", "notes"), ("html", "r.html"),
                                      ("jsonl", "b.jsonl"), ("qdpx", "p.qdpx"), ("codebook", "c.yaml")])
def test_every_export_is_owner_only_whatever_the_umask(sample, tmp_path, fmt, name):
    from fieldkit.coding.codebook import add_code

    add_code(sample, "power")
    old = os.umask(0o022)  # the usual umask: files 0644 unless fieldkit sees to it
    try:
        run_export(sample, fmt, tmp_path / "out" / name, RAW)
    finally:
        os.umask(old)
    found = modes(tmp_path / "out" / name)
    assert found and all(mode in (0o600, 0o700) for mode in found.values()), found
    assert all(mode == 0o700 for p, mode in found.items() if (tmp_path / "out" / p).is_dir())


def test_a_backup_inside_the_project_folder_is_refused(sample, tmp_path):
    with pytest.raises(Refused, match="inside the project folder"):
        maintenance.backup(sample, sample.path / "backups" / "today")
    assert not (sample.path / "backups").exists()
    keys = tmp_path / "k.keys"
    keys.write_bytes(b"")
    sample.set_setting("keystore_path", str(keys))
    with pytest.raises(Refused, match="inside the project folder"):
        maintenance.backup(sample, tmp_path / "bk", keys_dest=str(sample.path / "keys-copy"))
    assert not (tmp_path / "bk").exists()  # refused before anything was written


def test_a_backup_is_owner_only(sample, tmp_path):
    from fieldkit.store.attachments import attach

    src = tmp_path / "photo.txt"
    src.write_text("x")
    attach(sample, src)
    old = os.umask(0o022)
    try:
        maintenance.backup(sample, tmp_path / "bk")
    finally:
        os.umask(old)
    found = modes(tmp_path / "bk")
    assert all(mode in (0o600, 0o700) for mode in found.values()), found


def test_an_encrypted_project_gets_an_encrypted_backup(tmp_path, monkeypatch):
    pytest.importorskip("sqlcipher3")
    from fieldkit.store.connection import is_encrypted
    from fieldkit.store.encryption import encrypt

    path = tmp_path / "study"
    p = fieldkit.init(path)
    note(p, "Plaintext marker Quillfeather in a note")
    p.close()
    encrypt(path, "correct horse")
    p = fieldkit.open(path, passphrase="correct horse")
    result = maintenance.backup(p, tmp_path / "bk")
    note(p, "written after the backup")
    p.close()
    copy = tmp_path / "bk" / "fieldkit.db"
    assert result["encrypted"] and is_encrypted(copy)
    assert b"Quillfeather" not in copy.read_bytes()
    restored = fieldkit.open(tmp_path / "bk", passphrase="correct horse")
    assert [o.body for o in restored.list("observation")] == ["Plaintext marker Quillfeather in a note"]
    assert restored.conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    restored.close()


def test_the_backup_command_works_on_an_encrypted_project_in_a_fresh_process(tmp_path):
    pytest.importorskip("sqlcipher3")
    import subprocess
    import sys

    from fieldkit.store.connection import is_encrypted
    from fieldkit.store.encryption import encrypt

    path = tmp_path / "study"
    fieldkit.init(path).close()
    encrypt(path, "correct horse")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")},
           "FIELDKIT_PROJECT": str(path), "FIELDKIT_PASSPHRASE": "correct horse", "FIELDKIT_LOAD_PLUGINS": ""}
    script = Path(sys.executable).with_name("fieldkit")
    done = subprocess.run([str(script), "backup", str(tmp_path / "bk")], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert is_encrypted(tmp_path / "bk" / "fieldkit.db")
    inside = subprocess.run([str(script), "backup", str(path / "bk")], capture_output=True, text=True, env=env,
                            timeout=120)
    assert inside.returncode == 1 and inside.stderr.startswith("Error: ") and "inside the project" in inside.stderr


def test_doctor_reports_and_removes_a_plaintext_conversion_copy_and_temp_files(sample):
    from fieldkit.store.encryption import converting_path

    leftover = converting_path(sample.path)
    leftover.write_bytes(b"SQLite format 3\x00 every note in plaintext")
    scratch = sample.path / ".fieldkit-report-abc123"
    scratch.mkdir()
    (scratch / "report.db").write_bytes(b"x")
    part = sample.path / "attachments"
    part.mkdir(exist_ok=True)
    (part / ".0123abcd.part").write_bytes(b"half a file")
    mine = sample.path / "my notes.txt"  # the researcher's own file is never touched
    mine.write_text("keep")
    found = [f for f in maintenance.doctor(sample) if f.check == "leftovers"]
    assert sorted(f.level for f in found) == ["error", "warning", "warning"]
    assert any("plaintext" in f.message for f in found)
    done = maintenance.fix(sample)
    assert sum(1 for line in done if line.startswith("removed")) == 3
    assert not leftover.exists() and not scratch.exists() and not (part / ".0123abcd.part").exists()
    assert mine.read_text() == "keep"
    assert not [f for f in maintenance.doctor(sample) if f.check == "leftovers"]


def test_doctor_leaves_leftovers_while_another_process_is_at_work(sample):
    from fieldkit.store.encryption import converting_path
    from fieldkit.store.lock import exclusive

    leftover = converting_path(sample.path)
    leftover.write_bytes(b"in use")
    import multiprocessing

    ready, release = multiprocessing.Event(), multiprocessing.Event()

    def hold():
        with exclusive(sample.path):
            ready.set()
            release.wait(30)

    holder = multiprocessing.get_context("fork").Process(target=hold)
    holder.start()
    try:
        assert ready.wait(30)
        done = maintenance.remove_leftovers(sample)
        assert leftover.exists() and any("another fieldkit command" in line for line in done)
    finally:
        release.set()
        holder.join(30)
    assert maintenance.remove_leftovers(sample) == [f"removed {leftover.name}"]


def test_the_markdown_importer_does_not_follow_links_out_of_the_folder(project, tmp_path):
    from fieldkit.exchange.importing import ImportOptions, run_importer

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("Private diary entry, not for the project\n", encoding="utf-8")
    (outside / "dir").mkdir()
    (outside / "dir" / "other.md").write_text("Another private entry\n", encoding="utf-8")
    folder = tmp_path / "vault"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.md").write_text("A fieldnote from the vault\n", encoding="utf-8")
    (folder / "sub" / "b.md").write_text("A second fieldnote\n", encoding="utf-8")
    (folder / "linked.md").symlink_to(outside / "secret.md")
    (folder / "linked-dir").symlink_to(outside / "dir", target_is_directory=True)
    (folder / "inside-link.md").symlink_to(folder / "a.md")  # stays inside: allowed, a duplicate
    run_importer(project, "markdown", folder, ImportOptions())
    bodies = sorted(o.body.strip() for o in project.list("observation"))
    assert bodies == ["A fieldnote from the vault", "A second fieldnote"]


def test_a_crafted_backup_cannot_point_an_attachment_outside_the_project(project, tmp_path):
    """An attachment's stored name is its hash: a restored row with a path instead is refused,
    so nothing that deletes or reads attachments can reach outside ``attachments/``."""
    import json

    from fieldkit.exchange.importing import ImportFailed
    from fieldkit.core.records import Attachment
    from fieldkit.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="64 lower-case hex digits"):
        project.add(Attachment(sha256="../../x", filename="x.txt"))
    victim = tmp_path / "x"
    victim.write_text("not the project's")
    source = tmp_path / "b.jsonl"
    run_export(project, "jsonl", source, RAW)
    row = {"id": "01HZZZZZZZZZZZZZZZZZZZZZZZ", "sha256": "../../x", "filename": "x.txt", "size": 1,
           "media_type": "text/plain", "record_id": None, "created_at": "2026-03-01T10:00:00+00:00",
           "author": "a", "deleted_at": None, "version": 1, "updated_at": None}
    lines = source.read_text(encoding="utf-8").splitlines()
    lines.insert(2, json.dumps({"table": "attachments", "row": row}))
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fresh = fieldkit.init(tmp_path / "fresh")
    from fieldkit.exchange.importing import run_importer, ImportOptions

    with pytest.raises(ImportFailed, match="sha256 must be 64"):
        run_importer(fresh, "jsonl", source, ImportOptions())
    assert fresh.count("attachment") == 0 and victim.read_text() == "not the project's"
    fresh.close()


def test_the_codebook_file_command_writes_owner_only(project, tmp_path):
    from fieldkit.coding.codebook import add_code, write_codebook

    add_code(project, "power", definition="Who decides")
    old = os.umask(0o022)
    try:
        write_codebook(project, tmp_path / "book.yaml")
    finally:
        os.umask(old)
    assert modes(tmp_path / "book.yaml") == {"book.yaml": 0o600}
