"""Errors a user can cause: one clear line on stderr, a non-zero exit, no change."""

import os
import sqlite3
import sys

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fieldkit
from fieldkit.cli import cli


def snapshot(path):
    """Everything in the project database, to check that a failed command changed nothing."""
    conn = sqlite3.connect(path / "fieldkit.db")
    try:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table' and name not like '%fts%'")]
        return {t: conn.execute(f"select * from [{t}] order by 1").fetchall() for t in tables}
    finally:
        conn.close()


def assert_handled(result, context=None):
    """Done (0), a user error (1: one ``Error:`` line) or a usage error (2); never an internal
    error (3), an uncaught exception or a traceback."""
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), \
        (context, repr(result.exception))
    assert "Traceback" not in result.output, (context, result.output[-1500:])
    assert result.exit_code in (0, 1, 2), (context, result.exit_code, result.output[-500:])
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    if result.exit_code == 1:
        assert len(errors) == 1, (context, result.stderr[-1500:])
    if result.exit_code == 2:
        assert "Usage:" in result.stderr and len(errors) == 1, (context, result.stderr[-1500:])


def check_error(result, needle):
    """A user error: exit status 1, exactly one ``Error:`` line (not an internal error), no traceback."""
    assert result.exit_code == 1, (result.exit_code, result.output[-1500:])
    assert "Traceback" not in result.output
    lines = [l for l in result.stderr.splitlines() if l.startswith("Error:")]
    assert len(lines) == 1, result.output
    assert "internal error" not in lines[0], lines[0]
    assert needle.lower() in lines[0].lower(), lines[0]


@pytest.mark.parametrize("args, needle", [
    (["show", "01ARZ3NDEKTSV4RRFFQ69G5FAV"], "no record"),
    (["jot", "x", "--at", "25:99"], "cannot read time"),
    (["jot", "x", "-e", "E99"], "no encounter"),
    (["jot", "   "], "empty"),
    (["participant", "consent", "P99", "given"], "no participant"),
    (["encounter", "add", "picnic"], "invalid value"),
    (["participant", "add", "P1", "--role", "prisoner"], "invalid value"),
    (["participant", "add", "P1", "--attr", "novalue"], "key=value"),
    (["history", "nothing"], "no record"),
    (["search", '"'], "a quote is not closed"),
    (["list", "--since", "the day after"], "cannot read time"),
    (["edit", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "--from-file", "-"], "no record"),
    (["expand", "E1"], "no encounter"),
])
def test_bad_inputs_change_nothing(run, args, needle):
    run("participant", "add", "P1")
    before = snapshot(run.path)
    result = CliRunner().invoke(cli, ["--project", str(run.path), *args], input="")
    if "invalid value" in needle:  # click's own usage errors: one line, exit 2
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert needle in result.output.lower()
    else:
        check_error(result, needle)
    assert snapshot(run.path) == before


def test_missing_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["jot", "x"])
    check_error(result, "no fieldkit project")


def test_database_that_is_not_sqlite(tmp_path):
    (tmp_path / "fieldkit.db").write_bytes(b"garbage" * 1000)
    result = CliRunner().invoke(cli, ["--project", str(tmp_path), "list"])
    check_error(result, "not")
    assert (tmp_path / "fieldkit.db").read_bytes() == b"garbage" * 1000


def test_invalid_utf8_on_stdin(run):
    before = snapshot(run.path)
    result = CliRunner().invoke(cli, ["--project", str(run.path), "jot", "-"], input=b"caf\xe9\xff")
    check_error(result, "UTF-8")
    assert snapshot(run.path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_directory(run):
    os.chmod(run.path / "fieldkit.db", 0o400)
    os.chmod(run.path, 0o500)
    try:
        result = CliRunner().invoke(cli, ["--project", str(run.path), "jot", "x"])
        check_error(result, "read-only")
    finally:
        os.chmod(run.path, 0o700)
        os.chmod(run.path / "fieldkit.db", 0o600)


def test_read_only_database_as_root_too(run, monkeypatch):
    """Simulate read-only media with SQLite's query_only switch (works even as root)."""
    from fieldkit.store import connection as store

    real = store.connect

    def readonly(path, **kw):
        db = real(path, **kw)
        db.execute("pragma query_only = 1")
        return db

    monkeypatch.setattr(store, "connect", readonly)
    before = snapshot(run.path)
    result = CliRunner().invoke(cli, ["--project", str(run.path), "jot", "x"])
    check_error(result, "read-only")
    assert snapshot(run.path) == before


def test_locked_database(run, monkeypatch):
    from fieldkit.store import connection as store

    monkeypatch.setattr(store, "BUSY_TIMEOUT_S", 0.2)
    locker = sqlite3.connect(run.path / "fieldkit.db")
    locker.execute("BEGIN EXCLUSIVE")
    try:
        result = CliRunner().invoke(cli, ["--project", str(run.path), "jot", "x"])
        check_error(result, "busy")
    finally:
        locker.rollback()
        locker.close()
    assert snapshot(run.path)["observations"] == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(max_size=20), max_size=5))
def test_random_arguments_never_crash(run, args):
    """No input makes the CLI raise an uncaught exception or print a traceback."""
    for command in (["jot"], ["show"], ["search"], ["list"], ["participant", "add"], ["encounter", "add"], ["note"]):
        result = CliRunner().invoke(cli, ["--project", str(run.path), *command, *args], input="")
        assert_handled(result, (command, args))
