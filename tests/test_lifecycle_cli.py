"""The lifecycle commands, through click's runner and as the installed script in a fresh process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import docx
import pytest
from lifecycle_helpers import build

import fieldkit

SCRIPT = Path(sys.executable).with_name("fieldkit")
if not SCRIPT.exists():
    SCRIPT = Path(shutil.which("fieldkit") or SCRIPT)


@pytest.fixture
def study(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = tmp_path / "study"
    project = fieldkit.init(path)
    try:
        build(project)
    finally:
        project.close()
    return path


def runner(path):
    from click.testing import CliRunner

    from fieldkit.cli import cli

    def invoke(*args, input=None):
        return CliRunner().invoke(cli, ["--project", str(path), *args], input=input, catch_exceptions=False)

    return invoke


def test_member_check_from_the_command_line(study, tmp_path):
    run = runner(study)
    made = run("member-check", "P03", "--out", str(tmp_path / "packs"))
    assert made.exit_code == 0, made.output
    assert "3 quote(s) of P03" in made.output
    paragraphs = [p.text for p in docx.Document(str(tmp_path / "packs" / "P03-member-check.docx")).paragraphs]
    assert "Quote P03-Q2" in paragraphs
    assert run("member-check", "respond", "P03-Q2", "amended", "--wording", "they were mine").exit_code == 0
    assert run("member-check", "respond", "P03-Q1", "withdrawn").exit_code == 0
    again = run("member-check", "respond", "P03-Q1", "approved")
    assert again.exit_code == 1 and again.output.startswith("Error: ") and "withdrawn" in again.output
    listed = json.loads(run("member-check", "list", "P03", "--json").output)
    assert {row["quote"]: row["status"] for row in listed} == {"P03-Q1": "withdrawn", "P03-Q2": "amended",
                                                                "P03-Q3": "pending"}
    history = json.loads(run("member-check", "history", "P03-Q2", "--json").output)
    assert [(h["version"], h["wording"]) for h in history] == [(2, "they were mine")]
    copies = json.loads(run("copies", "P03", "--json").output)
    assert [(c["kind"], c["state"]) for c in copies] == [("member-check", "present")] * 2
    assert run("copies", "P02", "--json").output.strip() == "[]"


def test_disclosure_retention_and_copies_from_the_command_line(study, tmp_path):
    run = runner(study)
    report = run("disclosure-report", "-e", "E1")
    assert report.exit_code == 0 and "open  small cell" in report.output
    refused = run("disclosure-report", "-e", "E1", "--sign-off")
    assert refused.exit_code == 1 and refused.output.splitlines()[-1].startswith("Error: the disclosure report has")
    assert run("config", "retention", '{"project": "until 2031-09-30", "raw_notes": "until 2020-01-01"}').exit_code == 0
    table = json.loads(run("retention", "--json").output)
    assert {r["class"]: r["due_now"] for r in table}["raw_notes"] == 1
    early = run("destroy", "notes", "--yes")
    assert early.exit_code == 1 and "Error: nothing of notes is due for destruction yet" in early.output
    done = run("destroy", "raw_notes", "--yes")
    assert done.exit_code == 0 and "observations: 1" in done.output
    assert run("export", "html", str(tmp_path / "r.html")).exit_code == 0
    assert run("backup", str(tmp_path / "backup"), "--keys", str(tmp_path / "keys-copy")).exit_code == 0
    listed = json.loads(run("copies", "P03", "--json").output)
    assert [c["kind"] for c in listed] == ["export", "backup", "key store copy"]
    assert all(c["state"] == "present" for c in listed)
    (tmp_path / "r.html").write_text("changed since", encoding="utf-8")
    assert json.loads(run("copies", "P03", "--json").output)[0]["state"] == "changed"


def fresh(*args, env, check):
    result = subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == check, (args, result.stdout[-800:], result.stderr[-800:])
    assert "Traceback" not in result.stderr
    return result


def test_lifecycle_commands_in_a_fresh_process(study, tmp_path):
    base = {k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")}
    env = {**base, "FIELDKIT_PROJECT": str(study), "FIELDKIT_AUTHOR": "tester", "FIELDKIT_LOAD_PLUGINS": "",
           "HOME": str(tmp_path / "home"), "COLUMNS": "120"}
    fresh("member-check", "P03", "-o", tmp_path / "packs", env=env, check=0)
    assert (tmp_path / "packs" / "P03-member-check.html").is_file()
    fresh("member-check", "respond", "P03-Q3", "approved", env=env, check=0)
    wrong = fresh("member-check", "respond", "P03-Q9", "approved", env=env, check=1)
    assert wrong.stderr.startswith("Error: no quote P03-Q9")
    assert "open item" in fresh("disclosure-report", env=env, check=0).stdout
    fresh("export", "deposit", tmp_path / "dep", env=env, check=1)
    assert not (tmp_path / "dep").exists()
    fresh("config", "retention", '{"raw_notes": "until 2020-01-01"}', env=env, check=0)
    assert "raw_notes" in fresh("retention", env=env, check=0).stdout
    fresh("destroy", "raw_notes", "--yes", env=env, check=0)
    fresh("export", "csv", tmp_path / "out", "--member-checked-only", env=env, check=0)
    quotes = (tmp_path / "out" / "quotes.csv").read_text(encoding="utf-8-sig")
    assert "understaffed" in quotes and "Brackwater are too high" not in quotes
    listed = json.loads(fresh("copies", "P03", "--json", env=env, check=0).stdout)
    assert [c["kind"] for c in listed] == ["member-check", "member-check", "export"]
