"""A corpus of hostile and broken input for every command and importer.

Each case must end with one clear line and a non-zero exit, no traceback, and no change to
the project (compared with a snapshot of every table).
"""

import json
import os
import subprocess
import sys
import textwrap
import zipfile

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fieldkit
from fieldkit.cli import cli
from test_bad_input import assert_handled, check_error, snapshot

NOT_AN_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def commands(group=None, prefix=()):
    """Every leaf command of the CLI, as a tuple of words."""
    group = group or cli
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            yield from commands(command, prefix + (name,))
        else:
            yield prefix + (name,)


ALL = sorted(set(commands()))
SAFE = [c for c in ALL if c[0] not in ("init", "demo", "encrypt", "decrypt", "backup", "serve")]  # serve runs until stopped


@pytest.fixture
def seeded(run):
    run("participant", "add", "P01", "--role", "inspector")
    run("encounter", "add", "interview", "--code", "E1", "--with", "P01")
    run("jot", "a first jotting", "-e", "E1")
    return run


def invoke(path, *args, input=""):
    return CliRunner().invoke(cli, ["--project", str(path), *args], input=input)


def test_every_command_has_help():
    assert len(ALL) > 40
    for words in ALL:
        result = CliRunner().invoke(cli, [*words, "--help"])
        assert result.exit_code == 0, words
        assert "Usage:" in result.output


@pytest.mark.parametrize("words", SAFE, ids=lambda w: " ".join(w))
@pytest.mark.parametrize("bad", [NOT_AN_ID, "\x00\x01\x1b[31m", "../../../../etc/passwd", "x" * 100_000, "'; drop table observations; --"])
def test_hostile_arguments_fail_cleanly(seeded, words, bad):
    before = snapshot(seeded.path)
    result = invoke(seeded.path, *words, bad, bad)
    assert_handled(result, words)
    if result.exit_code != 0:
        assert snapshot(seeded.path) == before, words


def test_an_injected_bug_is_an_internal_error_not_a_user_error(seeded, monkeypatch):
    """The harness above can fail: a TypeError inside jot is reported as a bug (exit 3)."""
    from fieldkit.fieldwork import capture

    def broken(*args, **kwargs):
        raise TypeError("unsupported operand type(s)")

    monkeypatch.setattr(capture, "jot", broken)
    result = invoke(seeded.path, "jot", "a note")
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: internal error in fieldkit ")
    assert "TypeError: unsupported operand type(s). This is a bug" in result.stderr
    with pytest.raises(AssertionError):
        assert_handled(result)


@pytest.mark.parametrize("when", ["25:99", "yesterday 99", "-20x", "2026-13-45", "tomorrowish", "\x00"])
def test_malformed_times(seeded, when):
    before = snapshot(seeded.path)
    for args in (["jot", "x", "--at", when], ["list", "--since", when], ["encounter", "add", "meeting", "--start", when]):
        check_error(invoke(seeded.path, *args), "NUL character" if "\x00" in when else "time")
    assert snapshot(seeded.path) == before


def test_editor_with_shell_metacharacters_runs_no_shell(seeded, tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("EDITOR", f"true; touch {marker}")
    monkeypatch.setenv("VISUAL", f"true; touch {marker}")
    from fieldkit.cli import editor as cli_editor

    monkeypatch.setattr(cli_editor, "stdin_is_tty", lambda: True)
    before = snapshot(seeded.path)
    result = invoke(seeded.path, "note")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert not marker.exists()
    assert snapshot(seeded.path) == before


def test_export_file_names_with_metacharacters(seeded, tmp_path):
    dest = tmp_path / "out; rm -rf ~ $(whoami) `id`.jsonl"
    result = invoke(seeded.path, "export", "jsonl", str(dest), "--raw")
    assert result.exit_code == 0, result.output
    assert dest.exists() and dest.read_text().count("\n") > 3


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


@pytest.mark.parametrize("members", [
    {"project.qde": "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>"
                    "<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'>]><Project>&c;</Project>"},
    {"project.qde": "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><Project>&e;</Project>"},
    {"project.qde": "this is not xml"},
    {"notes.txt": "no project inside"},
])
def test_hostile_qdpx_archives(seeded, tmp_path, members):
    archive = tmp_path / "bad.qdpx"
    _zip(archive, members)
    before = snapshot(seeded.path)
    result = invoke(seeded.path, "import", "qdpx", str(archive))
    assert result.exit_code == 1
    assert_handled(result)
    assert snapshot(seeded.path) == before
    assert not (tmp_path.parent / "evil.qde").exists()


def test_path_traversal_in_archive_writes_nothing_outside(seeded, tmp_path):
    archive = tmp_path / "deep" / "bad.qdpx"
    archive.parent.mkdir()
    _zip(archive, {"../../evil.qde": "<Project/>", "sources/../../../evil.txt": "x"})
    result = invoke(seeded.path, "import", "qdpx", str(archive))
    assert "Traceback" not in result.output
    assert not (tmp_path / "evil.qde").exists() and not (tmp_path / "evil.txt").exists()
    assert not (seeded.path.parent / "evil.txt").exists()


def test_not_a_zip(seeded, tmp_path):
    archive = tmp_path / "bad.qdpx"
    archive.write_bytes(b"PK\x03\x04 truncated")
    before = snapshot(seeded.path)
    check_error(invoke(seeded.path, "import", "qdpx", str(archive)), "")
    assert snapshot(seeded.path) == before


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage", b'{"type": "observation"}\n{broken', b"[1,2,3]\n"])
def test_broken_jsonl_import(seeded, tmp_path, content):
    source = tmp_path / "bad.jsonl"
    source.write_bytes(content)
    before = snapshot(seeded.path)
    result = invoke(seeded.path, "import", "jsonl", str(source))
    assert result.exit_code == 1
    assert_handled(result)
    assert snapshot(seeded.path) == before


def test_newer_schema_via_cli(seeded):
    import sqlite3

    conn = sqlite3.connect(seeded.path / "fieldkit.db")
    conn.execute("insert into _sqlite_migrations (migration_set, name, applied_at) values ('fieldkit', '9999_future', 'x')")
    conn.commit()
    conn.close()
    check_error(invoke(seeded.path, "list"), "newer fieldkit")


FULL_DISK = textwrap.dedent("""
    import resource, sys
    from fieldkit.cli import cli
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
    sys.argv = ["fieldkit", "--project", sys.argv[2], "import", "jsonl", sys.argv[3]]
    cli()
""")


def test_full_disk_is_a_clear_error_and_changes_nothing(seeded, tmp_path):
    """A small file-size limit makes SQLite run out of room half-way through a big import."""
    from fieldkit.core.records import Observation

    donor = fieldkit.init(tmp_path / "donor")
    donor.add_many(Observation(body=f"long imported note {i} " + "words " * 200) for i in range(3000))
    donor.close()
    dump = tmp_path / "big.jsonl"
    assert invoke(tmp_path / "donor", "export", "jsonl", str(dump), "--raw").exit_code == 0
    before = snapshot(seeded.path)
    size = os.path.getsize(seeded.path / "fieldkit.db") + 200_000
    result = subprocess.run([sys.executable, "-c", FULL_DISK, str(size), str(seeded.path), str(dump)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr[-1500:]
    errors = [l for l in result.stderr.splitlines() if l.startswith("Error")]
    assert len(errors) == 1, result.stderr[-1500:]
    assert snapshot(seeded.path) == before
    project = fieldkit.open(seeded.path)
    assert project.db.execute("pragma integrity_check").fetchone()[0] == "ok"
    project.close()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(SAFE), st.lists(st.text(max_size=15), max_size=4))
def test_random_arguments_to_any_command(seeded, tmp_path, monkeypatch, words, args):
    # random words can be valid paths ("keys init ÁO" makes a key store): keep them out of the checkout
    monkeypatch.chdir(tmp_path)
    result = invoke(seeded.path, *words, *args)
    assert_handled(result, (words, args))


DEEP = 50_000


@pytest.mark.parametrize("kind", ["markdown", "codebook-json", "codebook-yaml", "jsonl"])
def test_deeply_nested_files_are_user_errors(seeded, tmp_path, kind):
    """Nesting deep enough to exhaust the parser's recursion is bad input, not a bug."""
    nested = "[" * DEEP + "]" * DEEP
    if kind == "markdown":
        folder = tmp_path / "notes"
        folder.mkdir()
        (folder / "deep.md").write_text(f"---\nkey: {'[' * DEEP}\n---\nbody\n", encoding="utf-8")
        args, needle = ["import", "markdown", str(folder)], "nested too deeply"
    elif kind.startswith("codebook"):
        suffix = kind.split("-")[1]
        source = tmp_path / f"deep.{suffix}"
        source.write_text(f'{{"name": "deep", "codes": {nested}}}', encoding="utf-8")
        args, needle = ["codebook", "load", str(source)], "nested too deeply"
    else:
        empty = tmp_path / "empty"
        fieldkit.init(empty).close()
        source = tmp_path / "deep.jsonl"
        source.write_text('{"fieldkit": "jsonl", "format": 1}\n' + nested + "\n", encoding="utf-8")
        before = snapshot(empty)
        check_error(invoke(empty, "import", "jsonl", str(source)), "not a backup line")
        assert snapshot(empty) == before
        return
    before = snapshot(seeded.path)
    check_error(invoke(seeded.path, *args), needle)
    assert snapshot(seeded.path) == before


# --- references to nothing, and search syntax: one line, exit 1, no change -----------------

REFERENCING = [
    ("show", "{}"), ("history", "{}"), ("list", "-e", "{}"), ("list", "-p", "{}"), ("list", "-c", "{}"),
    ("search", "jotting", "-e", "{}"), ("search", "jotting", "code:{}"), ("code", "segments", "{}"),
    ("delete", "{}", "--reason", "fuzz"), ("attachment", "extract", "{}"), ("jot", "a note", "-e", "{}"),
    ("participant", "show", "{}"), ("encounter", "show", "{}"),
]
NOT_THERE = st.text(min_size=1, max_size=12).filter(
    lambda s: not s.startswith("-") and s.strip().casefold() not in ("p01", "e1", "first", "jotting"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=st.sampled_from(REFERENCING), ref=NOT_THERE)
def test_a_reference_to_nothing_is_one_error_line_and_no_change(seeded, tmp_path, monkeypatch, form, ref):
    monkeypatch.chdir(tmp_path)
    before = snapshot(seeded.path)
    args = [ref if word == "{}" else word.replace("{}", ref) for word in form]
    result = invoke(seeded.path, *args)
    assert result.exit_code == 1, (args, result.exit_code, result.output[-500:])
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)
    assert snapshot(seeded.path) == before


SEARCH_SYNTAX = st.lists(st.sampled_from(['"', "(", ")", "*", "OR", "NOT", "AND", "NEAR", "NEAR(", ",", "-",
                                          "code:", "tag:", "site:", "jotting", "first", "x*", ":", "^", "NEAR/2"]),
                         min_size=1, max_size=6).map(" ".join)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.one_of(SEARCH_SYNTAX, st.text(min_size=1, max_size=20).filter(lambda s: not s.startswith("-"))))
def test_any_search_finds_or_is_one_error_line(seeded, query):
    result = invoke(seeded.path, "search", "--", query)
    assert result.exit_code in (0, 1), (query, result.exit_code, result.output[-500:])
    if result.exit_code == 1:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), (query, result.stderr)
