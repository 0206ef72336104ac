"""Capture sessions (issue 13, item 2): ``encounter start`` makes an encounter current until
``encounter stop`` or the end of the day, jots attach to it and say so; a jotting's links can
be corrected later with history while its text stays as it was; ``expand`` does not offer
jottings already expanded again unless asked. Also the editor fallback of item 0."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat

import pytest

from fieldkit.core.errors import Refused
from fieldkit.fieldwork import capture, registers


@pytest.fixture
def two_encounters(project):
    registers.add_encounter(project, "inspection_meeting", title="case audit")
    registers.add_encounter(project, "interview", title="with an EbE")
    return project


def test_jots_attach_to_the_current_encounter_until_it_stops(two_encounters):
    project = two_encounters
    assert capture.jot(project, "before any session").encounter_id is None
    e1 = registers.start_encounter(project, "E1")
    assert registers.current_encounter(project).id == e1.id
    assert capture.jot(project, "during").encounter_id == e1.id
    assert capture.jot(project, "elsewhere", encounter="E2").encounter_id == project.get("E2").id
    assert capture.jot(project, "loose", session=False).encounter_id is None
    stopped = registers.stop_encounter(project)
    assert stopped.id == e1.id and stopped.end is not None
    assert registers.current_encounter(project) is None
    assert capture.jot(project, "after").encounter_id is None
    with pytest.raises(Refused, match="no encounter is current"):
        registers.stop_encounter(project)


def test_a_session_ends_with_its_day_and_with_its_encounter(two_encounters):
    project = two_encounters
    registers.start_encounter(project, "E1")
    yesterday = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    project.store.set_setting(registers.SESSION, {"encounter": project.get("E1").id, "day": yesterday})
    assert registers.current_encounter(project) is None
    assert capture.jot(project, "next morning").encounter_id is None
    registers.start_encounter(project, "E2")
    registers.end_encounter(project, "E2")
    assert registers.current_encounter(project) is None


def test_starting_an_ended_encounter_again_reopens_it(two_encounters):
    project = two_encounters
    registers.start_encounter(project, "E1")
    registers.stop_encounter(project)
    again = registers.start_encounter(project, "E1")
    assert again.end is None and registers.current_encounter(project).id == again.id


def test_a_jotting_can_be_linked_later_with_history_and_its_text_never_changes(two_encounters):
    import attrs

    project = two_encounters
    jotting = capture.jot(project, "SPO checks phone")
    moved = capture.relink(project, jotting.id, "E2")
    assert moved.encounter_id == project.get("E2").id and moved.body == jotting.body
    history = project.history(jotting.id)
    assert [h.data["encounter_id"] for h in history] == [None]
    assert capture.relink(project, jotting.id, None).encounter_id is None
    with pytest.raises(Refused, match="jottings cannot be changed"):
        project.update(attrs.evolve(project.get(jotting.id), body="rewritten"))
    with pytest.raises(Refused, match="only jottings and fieldnotes"):
        capture.relink(project, capture.memo(project, "a memo").id, "E1")


def test_expand_does_not_offer_expanded_jottings_again(two_encounters):
    project = two_encounters
    first = [capture.jot(project, f"jot {i}", encounter="E1") for i in range(2)]
    capture.expand(project, "the full note", first, encounter="E1")
    later = capture.jot(project, "one more", encounter="E1")
    assert [j.id for j in capture.jottings_for(project, "E1")] == [later.id]
    assert len(capture.jottings_for(project, "E1", include_expanded=True)) == 3
    assert [j.id for j in capture.jottings_for(project)] == [later.id]


# --- command line --------------------------------------------------------------------------------

def test_the_session_on_the_command_line(run, tmp_path):
    run("encounter", "add", "inspection_meeting")
    run("encounter", "add", "interview")
    assert "(no encounter)" in run("jot", "first").output
    assert "jottings attach to it" in run("encounter", "start", "E1").output
    assert run("encounter", "current").output.strip() == "E1"
    assert json.loads(run("encounter", "current", "--json").output)["code"] == "E1"
    said = run("jot", "LI hands the intro to the EbE").output
    assert "in E1 (the current encounter)" in said
    assert "in E2" in run("jot", "-e", "E2", "aside").output and "current" not in run("jot", "-e", "E2", "x").output
    assert "(no encounter)" in run("jot", "--no-encounter", "loose").output
    assert run("encounter", "stop").exit_code == 0
    assert run("encounter", "current").output.strip() == "no current encounter"
    assert json.loads(run("encounter", "current", "--json").output) is None
    stop_again = run("encounter", "stop")
    assert stop_again.exit_code == 1 and "no encounter is current" in stop_again.output
    # link the first jotting afterwards; its history keeps the old link
    first = [r for r in json.loads(run("list", "observation", "--json").output) if r["body"] == "first"][0]
    assert f"observation {first['id']} now in E2" in run("edit", first["id"], "--encounter", "E2").output
    assert run("edit", first["id"], "--encounter", "E2").output.strip() == "no change"
    assert "no encounter" in run("edit", first["id"], "-e", "none").output
    assert len(json.loads(run("history", first["id"], "--json").output)) == 2


def test_expand_twice_on_the_command_line(run, tmp_path):
    run("jot", "one")
    run("jot", "two")
    text = tmp_path / "note.md"
    text.write_text("The whole story of the day.\n", encoding="utf-8")
    assert "expanding 2 jotting(s)" in run("expand", "--from-file", str(text)).output
    again = run("expand", "--from-file", str(text))
    assert again.exit_code == 1
    assert "no jottings to expand today (2 already expanded; --all offers them again)" in again.output
    assert "expanding 2 jotting(s)" in run("expand", "--all", "--from-file", str(text)).output


def test_the_session_in_a_fresh_process(tmp_path):
    from tests.test_cli_fresh import fieldkit_run

    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")}
    env.update(FIELDKIT_PROJECT=str(tmp_path / "study"), FIELDKIT_AUTHOR="tester", FIELDKIT_LOAD_PLUGINS="")
    fieldkit_run("init", tmp_path / "study", env=env, check=0)
    fieldkit_run("encounter", "add", "interview", env=env, check=0)
    fieldkit_run("encounter", "start", "E1", env=env, check=0)
    assert "in E1 (the current encounter)" in fieldkit_run("jot", "in the field", env=env, check=0).stdout
    fieldkit_run("encounter", "stop", env=env, check=0)
    assert "(no encounter)" in fieldkit_run("jot", "back home", env=env, check=0).stdout


# --- the editor fallback (item 0) ----------------------------------------------------------------

def test_without_editor_or_terminal_one_line_says_how_to_give_the_text(run, monkeypatch):
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    run("jot", "something")
    result = run("expand")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: no $EDITOR is set and there is no terminal to open one in: give the fieldnote with "
        "--from-file FILE ('-' reads it piped in), or set $EDITOR"]
    memo = run("memo", input="")
    assert memo.exit_code == 1 and len(memo.output.strip().splitlines()) == 1
    assert "pipe it in, or set $EDITOR" in memo.output
    assert "memo" in run("memo", input="piped memo\n").output
    assert [m["body"] for m in json.loads(run("list", "memo", "--json").output)] == ["piped memo\n"]


def test_with_a_terminal_and_no_editor_one_line_names_the_editor(run, monkeypatch, tmp_path):
    from fieldkit.cli import editor

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "nano"
    fake.write_text('#!/bin/sh\nprintf "written in the fallback editor\\n" > "$1"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setattr(editor, "stdin_is_tty", lambda: True)
    monkeypatch.setattr(editor, "_stdout_is_tty", lambda: True)
    result = run("memo")
    assert result.exit_code == 0, result.output
    assert "no $EDITOR set: opening nano (set $EDITOR to choose another)" in result.output
    memos = json.loads(run("list", "memo", "--json").output)
    assert [m["body"] for m in memos] == ["written in the fallback editor\n"]


# --- an encrypted key store and pseudonymise-on-capture (item 6) --------------------------------

def _encrypted_keys(path):
    """A project at ``path`` pseudonymising on capture with an encrypted key store (real ones)."""
    import fieldkit
    from fieldkit.fieldwork.registers import add_participant
    from fieldkit.privacy import anonymiser as an

    project = fieldkit.open(path)
    store = an.create_keystore(project, path.parent / "keys" / "study.keys", passphrase="correct horse")
    store.add("P03", "Dana Okafor", ["Dee"])
    store.close()
    add_participant(project, "P03")
    project.set_setting("pseudonymise_on_capture", True)
    project.close()


def test_a_jot_in_a_terminal_asks_for_the_key_store_passphrase(run, monkeypatch):
    from fieldkit.cli import editor

    monkeypatch.delenv("FIELDKIT_KEYS_PASSPHRASE", raising=False)
    _encrypted_keys(run.path)
    monkeypatch.setattr(editor, "stdin_is_tty", lambda: True)
    result = run("jot", "Dana Okafor nodded", input="correct horse\n")
    assert result.exit_code == 0, result.output
    assert "Key store passphrase" in result.output
    bodies = [r["body"] for r in json.loads(run("list", "--json").output)]
    assert bodies == ["@P03 nodded"]
    wrong = run("memo", "Dana Okafor again", input="wrong\n")
    assert wrong.exit_code == 1 and "nothing was saved" in wrong.output
    assert json.loads(run("list", "memo", "--json").output) == []


def test_without_a_terminal_the_passphrase_is_asked_for_in_one_line(run, monkeypatch):
    monkeypatch.delenv("FIELDKIT_KEYS_PASSPHRASE", raising=False)
    _encrypted_keys(run.path)
    result = run("jot", "Dee nodded")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: the key store passphrase is needed; set FIELDKIT_KEYS_PASSPHRASE or run in a terminal"]
    assert json.loads(run("list", "--json").output) == []
