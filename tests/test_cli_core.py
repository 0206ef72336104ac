"""The core commands, run through click's CliRunner on real projects."""

import json
import os
import stat
import sys


from click.testing import CliRunner

from fieldkit.cli import cli


def test_init_and_jot(tmp_path):
    runner = CliRunner()
    path = tmp_path / "s"
    result = runner.invoke(cli, ["init", str(path)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(path / "fieldkit.db").st_mode) == 0o600
    result = runner.invoke(cli, ["--project", str(path), "jot", "LI", "hands", "the", "intro", "-t", "power", "--at", "14:05"])
    assert result.exit_code == 0, result.output
    assert "jotting" in result.output
    assert "14:05" in result.output  # the parsed time is echoed
    result = runner.invoke(cli, ["--project", str(path), "list", "--json"])
    rows = json.loads(result.output)
    assert rows[0]["body"] == "LI hands the intro #power" and rows[0]["tags"] == ["power"]
    assert rows[0]["observed_raw"] == "14:05"


def test_text_from_stdin(run):
    assert run("jot", "-", input="from a pipe\n").exit_code == 0
    assert run("note", input="a whole fieldnote\nwith lines\n").exit_code == 0
    rows = json.loads(run("list", "--json").output)
    assert [r["body"] for r in rows] == ["from a pipe\n", "a whole fieldnote\nwith lines\n"]


def test_editor_is_used_for_notes(run, tmp_path, monkeypatch):
    script = tmp_path / "ed.py"
    script.write_text("import sys\nopen(sys.argv[1], 'a').write('written in the editor')\n")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    from fieldkit.cli import editor as cli_editor

    monkeypatch.setattr(cli_editor, "stdin_is_tty", lambda: True)
    result = run("note")
    assert result.exit_code == 0, result.output
    assert json.loads(run("list", "--json").output)[0]["body"] == "written in the editor"


def test_expand_and_edit_with_editor(run, tmp_path, monkeypatch):
    run("encounter", "add", "inspection_meeting", "--code", "E12", "--title", "Case audit")
    run("jot", "LI hands the intro to the EbE", "-e", "E12")
    run("jot", "SPO checks phone", "-e", "E12")
    script = tmp_path / "ed.py"
    script.write_text(
        "import sys\np=sys.argv[1]\nt=open(p).read()\nopen(p,'w').write(t + '\\nFull account of the meeting.\\n> OC: who holds power here?\\n')\n"
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    result = run("expand", "E12")
    assert result.exit_code == 0, result.output
    assert "expanding 2 jotting(s)" in result.output
    notes = json.loads(run("list", "--stage", "fieldnote", "--json").output)
    assert len(notes) == 1 and len(notes[0]["derived_from"]) == 2
    assert "Full account" in notes[0]["body"] and "LI hands the intro" in notes[0]["body"]
    result = run("edit", notes[0]["id"], "--reason", "tidy")
    assert result.exit_code == 0, result.output
    history = json.loads(run("history", notes[0]["id"], "--json").output)
    assert len(history) == 1 and history[0]["reason"] == "tidy"


def test_edit_refuses_jottings(run):
    run("jot", "fixed forever")
    jid = json.loads(run("list", "--json").output)[0]["id"]
    result = run("edit", jid, "--from-file", "-", input="changed")
    assert result.exit_code == 1
    assert "jottings cannot be changed" in result.output
    assert json.loads(run("list", "--json").output)[0]["body"] == "fixed forever"


def test_fieldwork_commands(run):
    assert run("site", "add", "North PDU", "--kind", "probation_delivery_unit").exit_code == 0
    assert run("participant", "add", "P03", "--role", "expert_by_experience", "--attr", "age_band=25-34").exit_code == 0
    assert run("participant", "add", "P07", "--role", "inspector").exit_code == 0
    r = run("encounter", "add", "interview", "--with", "P03,P07:interviewer", "--site", "North PDU", "--start", "2026-03-02T10:00")
    assert r.exit_code == 0, r.output
    assert run("encounter", "start", "E1", "--at", "2026-03-02T10:05").exit_code == 0
    assert run("encounter", "end", "E1", "--at", "2026-03-02T11:00", "--summary", "went well").exit_code == 0
    enc = json.loads(run("encounter", "show", "E1", "--json").output)
    assert enc["summary"] == "went well" and len(enc["participants"]) == 2
    assert run("participant", "consent", "P03", "given", "--scope", "observation,quotes").exit_code == 0
    rows = json.loads(run("participant", "list", "--json").output)
    p03 = next(r for r in rows if r["code"] == "P03")
    assert p03["consent"] == "given" and p03["scopes"] == ["observation", "quotes"]
    shown = json.loads(run("participant", "show", "P03", "--json").output)
    assert shown["encounters"] == ["E1"] and shown["attributes"] == {"age_band": "25-34"}
    assert "North PDU" in run("site", "list").output
    history = json.loads(run("history", "E1", "--json").output)
    assert [h["reason"] for h in history] == ["started", "ended"]


def test_consent_warning_plugin(run):
    run("participant", "add", "P03")
    r = run("jot", "talked with @P03 about supervision")
    assert r.exit_code == 0
    assert "Warning: @P03 has no recorded consent" in r.output
    run("participant", "consent", "P03", "withdrawn")
    r = run("jot", "saw @P03 again")
    assert "withdrawn consent" in r.output
    run("participant", "add", "P04")
    run("participant", "consent", "P04", "given", "--scope", "observation")
    assert "Warning" not in run("jot", "@P04 chaired").output


def test_search_and_show(run):
    run("jot", "the inspector checks her phone")
    run("memo", "phone use as a sign of disengagement", "-k", "analytic", "--title", "Phones")
    out = run("search", "phone").output
    assert "[phone]" in out
    hits = json.loads(run("search", "phone", "--json").output)
    assert len(hits) == 2
    shown = json.loads(run("show", hits[0]["id"], "--json").output)
    assert "phone" in shown["body"]
    assert "phone" in run("show", hits[0]["id"][-8:]).output


def test_list_csv_and_filters(run):
    run("encounter", "add", "meeting", "--code", "E2")
    run("jot", "one", "-e", "E2", "-t", "x")
    run("jot", "two")
    out = run("list", "--encounter", "E2", "--csv").output
    assert out.splitlines()[0].startswith("id,") and len(out.strip().splitlines()) == 2
    assert len(json.loads(run("list", "--tag", "x", "--json").output)) == 1
    assert len(json.loads(run("list", "--since", "-1h", "--json").stdout)) == 2
    assert json.loads(run("list", "--until", "2000-01-01", "--json").stdout) == []


def test_plugins_command(run):
    rows = json.loads(run("plugins", "--json").output)
    names = {r["name"] for r in rows}
    assert "fieldkit.plugins.consent_check" in names
    consent = next(r for r in rows if r["name"] == "fieldkit.plugins.consent_check")
    assert consent["builtin"] is True and consent["hooks"] == ["validate_record"]


def test_delete_and_config(run):
    run("jot", "mistake")
    jid = json.loads(run("list", "--json").output)[0]["id"]
    assert run("delete", jid, "--reason", "typo").exit_code == 0
    assert json.loads(run("list", "--json").output) == []
    assert run("config", "timezone", "Europe/Paris").exit_code == 0
    assert json.loads(run("config", "--json").output)["timezone"] == "Europe/Paris"
    r = run("config", "timezone", "Mars/Olympus")
    assert r.exit_code == 1 and "Error:" in r.output


def test_csv_output_guards_formula_cells(run):
    # text a spreadsheet would run as a formula gets an apostrophe; numbers stay numbers
    import csv
    import io

    from fieldkit.core.output import emit, guard_cell, unguard_cell

    run("jot", "=HYPERLINK(\"http://example.org\",\"x\")")
    run("jot", "--", "- a list item")
    rows = list(csv.DictReader(io.StringIO(run("list", "--csv").output)))
    assert sorted(r["body"] for r in rows) == ["'- a list item", "'=HYPERLINK(\"http://example.org\",\"x\")"]
    out = io.StringIO()
    emit([{"name": "@P03", "alpha": -0.25, "n": -3}], fmt="csv", out=out)
    assert out.getvalue().splitlines()[1] == "'@P03,-0.250,-3"
    for text in ("plain", "'quoted", "''", "+1", "-", "\tx", ""):
        assert unguard_cell(guard_cell(text)) == text
