"""Edge inputs: each gives one clear ``Error:`` line, a non-zero exit and no change (all data
fictional). Files fieldkit did not make are never modified; a read-only project still reads;
a full disk, a damaged header and a wrong passphrase each say what they are."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import fieldkit
from fieldkit.cli import cli
from fieldkit.core.errors import FieldkitError
from fieldkit.exchange.importing import ImportFailed, run_importer
from fieldkit.fieldwork import capture
from fieldkit.store import connection

SCRIPT = Path(sys.executable).with_name("fieldkit")


def fresh(*args, cwd=None):
    return subprocess.run([str(SCRIPT), *[str(a) for a in args]], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def one_error(result) -> str:
    assert result.returncode == 1, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def folder_state(folder: Path) -> dict:
    """Every file's hash, but the empty project lock files opening a project may leave."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
            if not (p.name in (".fieldkit.lock", ".fieldkit.gate") and p.stat().st_size == 0)}


# --- YAML front matter ----------------------------------------------------------------------

BOMB = """---
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
tags: *h
---
A note with a hostile header.
"""


def test_a_yaml_alias_bomb_is_refused_before_it_grows(project, tmp_path):
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "fine.md").write_text("A fine note.\n")
    (vault / "bomb.md").write_text(BOMB)
    with pytest.raises(ImportFailed) as caught:
        run_importer(project, "markdown", vault)
    message = str(caught.value)
    assert "bomb.md: front matter uses a YAML alias" in message and len(message) < 200, message[:300]
    assert project.count("observation") == 0


def test_front_matter_is_refused_at_the_first_alias():
    from fieldkit.core.errors import InvalidInput
    from fieldkit.exchange.markdown_import import split_front_matter

    with pytest.raises(InvalidInput, match="alias"):
        split_front_matter(BOMB)
    assert split_front_matter("---\ntags: [a, b]\n---\nText.\n") == ({"tags": ["a", "b"]}, "Text.\n")


def test_a_yaml_alias_bomb_from_the_command_line(tmp_path):
    fieldkit.init(tmp_path / "study").close()
    (tmp_path / "bomb.md").write_text(BOMB)
    before = folder_state(tmp_path / "study")
    line = one_error(fresh("--project", tmp_path / "study", "import", "markdown", tmp_path / "bomb.md"))
    assert "alias" in line
    assert folder_state(tmp_path / "study") == before


def test_oversized_front_matter_is_refused(project, tmp_path):
    from fieldkit.exchange.markdown_import import FRONT_MATTER_LIMIT

    note = tmp_path / "big.md"
    note.write_text("---\ntitle: " + "x" * (FRONT_MATTER_LIMIT + 1) + "\n---\nText.\n")
    with pytest.raises(ImportFailed, match="front matter is longer"):
        run_importer(project, "markdown", note)


# --- files fieldkit did not make ------------------------------------------------------------

def _foreign(folder: Path) -> None:
    conn = sqlite3.connect(folder / "fieldkit.db")
    conn.execute("create table visits (who text)")
    conn.execute("insert into visits values ('a fictional visitor')")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("kind", ["empty", "foreign", "garbage"])
@pytest.mark.parametrize("command", [("list",), ("search", "phone"), ("jot", "a note"),
                                     ("export", "csv", "OUT")])
def test_a_file_fieldkit_did_not_make_is_never_changed(tmp_path, kind, command):
    folder = tmp_path / "study"
    folder.mkdir()
    if kind == "empty":
        (folder / "fieldkit.db").write_bytes(b"")
    elif kind == "foreign":
        _foreign(folder)
    else:
        (folder / "fieldkit.db").write_bytes(b"not a database at all, just some text\n" * 3)
    before = folder_state(folder)
    args = [str(tmp_path / "out") if a == "OUT" else a for a in command]
    line = one_error(fresh("--project", folder, *args))
    assert folder_state(folder) == before
    expected = {"empty": "is empty, not a fieldkit database",
                "foreign": "an SQLite database of another program (tables visits)",
                "garbage": "neither a fieldkit database nor an encrypted one"}[kind]
    assert expected in line
    assert "encrypted;" not in line and "passphrase" not in line


def test_a_full_disk_has_its_own_message(project, monkeypatch):
    path = project.path / "fieldkit.db"
    project.close()
    real = sqlite3.connect

    class Full:
        def __init__(self, conn):
            self.conn = conn

        def execute(self, sql, *args):
            if sql.startswith("PRAGMA busy_timeout"):
                error = sqlite3.OperationalError("database or disk is full")
                error.sqlite_errorcode = 13
                raise error
            return self.conn.execute(sql, *args)

        def close(self):
            self.conn.close()

    monkeypatch.setattr(connection.sqlite3, "connect", lambda *a, **k: Full(real(*a, **k)))
    with pytest.raises(FieldkitError) as caught:
        connection.connect(path)
    assert "is full" in str(caught.value) and "not a fieldkit database" not in str(caught.value)


def test_wrong_passphrase_is_not_called_damaged(tmp_path):
    pytest.importorskip("sqlcipher3")  # the optional 'encrypt' extra, not part of fieldkit
    from fieldkit.store.encryption import encrypt

    project = fieldkit.init(tmp_path / "study")
    capture.note(project, "Encrypted at rest.")
    project.close()
    encrypt(tmp_path / "study", "a long fictional passphrase")
    with pytest.raises(FieldkitError) as caught:
        fieldkit.open(tmp_path / "study", passphrase="not the passphrase")
    assert "wrong passphrase" in str(caught.value)


# --- a read-only project --------------------------------------------------------------------

def test_a_read_only_project_reads_and_refuses_writes_in_one_line(tmp_path, monkeypatch):
    """Root may write anywhere, so the folder's permissions are simulated by ``writable``;
    the connection is then truly read-only, so any write would fail in SQLite itself."""
    project = fieldkit.init(tmp_path / "study")
    capture.note(project, "The phone rang during the case review.")
    project.close()
    before = folder_state(tmp_path / "study")
    monkeypatch.setattr(connection, "writable", lambda path: False)
    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli, ["--project", str(tmp_path / "study"), *args])

    listed = run("list")
    assert listed.exit_code == 0 and "The phone rang" in listed.output
    searched = run("search", "phone", "--json")
    assert searched.exit_code == 0 and "case review" in searched.output
    exported = run("export", "csv", str(tmp_path / "out"))
    assert exported.exit_code == 0, exported.output
    assert "not listed in the export register" in exported.output  # it could not be recorded: said so
    for args in (("jot", "Another note."), ("site", "add", "Riverside AP"), ("config", "author", "someone")):
        result = run(*args)
        assert result.exit_code == 1, (args, result.output)
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1 and "read-only" in errors[0], (args, result.stderr)
    # SQLite may add an empty write-ahead log beside the file; the database itself is unchanged
    assert folder_state(tmp_path / "study")["fieldkit.db"] == before["fieldkit.db"]
    assert project_count(tmp_path / "study") == 1


def project_count(path: Path) -> int:
    conn = sqlite3.connect(path / "fieldkit.db")
    try:
        return conn.execute("select count(*) from observations").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.parametrize("args", [("jot", "-t"), ("list", "-e"), ("code", "segments", "--context")])
def test_an_option_missing_its_value_shows_the_commands_usage(tmp_path, args):
    fieldkit.init(tmp_path / "study").close()
    result = fresh("--project", tmp_path / "study", *args)
    assert result.returncode == 2
    assert f"Usage: fieldkit {' '.join(a for a in args if not a.startswith('-'))} " in result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("Error:")] == [
        f"Error: Option '{args[-1]}' requires an argument."]


@pytest.mark.parametrize("key,value", [("author", "Ann\nBee"), ("name", "Study\x1b[31m"), ("keystore_path", "a\rb"),
                                       ("name", "x" * 1001)])
def test_text_settings_are_one_line_without_control_characters(tmp_path, key, value):
    fieldkit.init(tmp_path / "study").close()
    before = folder_state(tmp_path / "study")
    line = one_error(fresh("--project", tmp_path / "study", "config", key, value))
    assert f"setting {key} must be" in line
    assert folder_state(tmp_path / "study") == before
