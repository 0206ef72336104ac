"""Mentions at capture (issue 13, item 6, the parts that belong to capture): an Obsidian link
``[[P01]]`` is a mention (and so is redacted on withdrawal like ``@P01``); a mention of no
one registered (``@P99``) is warned about as it is captured."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from fieldkit.core.markdown import parse_body, tags_and_mentions
from fieldkit.fieldwork.capture import jot, memo, note
from fieldkit.fieldwork.registers import add_participant, add_site
from fieldkit.privacy.withdrawal import MARKER, withdraw

codes = st.from_regex(r"[A-Z][A-Za-z]{0,2}[0-9]{1,3}", fullmatch=True)
plain = st.text(alphabet="abc xyz.,\n", max_size=20)


@settings(max_examples=200, deadline=None)
@given(code=codes, before=plain, after=plain, label=st.one_of(st.none(), st.text(alphabet="ab xy", max_size=8)))
def test_an_obsidian_link_is_a_mention(code, before, after, label):
    link = f"[[{code}]]" if label is None else f"[[{code}|{label}]]"
    text = f"{before} {link} {after}"
    assert code in tags_and_mentions(text)[1]
    assert code in parse_body(text).mentions


def test_a_link_in_code_is_not_a_mention():
    assert tags_and_mentions("`[[P01]]` and\n\n    [[P02]]\n") == ((), ())


def test_unknown_mentions_are_warned_at_capture(project):
    add_participant(project, "P01")
    add_participant(project, "P09")
    add_site(project, "North PDU")
    jot(project, "with @P01 and [[P09]]")
    assert not [w for _id, w in project.warnings if "registered" in w]
    project.warnings.clear()
    record = note(project, "@P99 spoke to [[Q01]] at @Nowhere")
    assert [w for _id, w in project.warnings if "registered" in w] == [
        "@P99 is not a registered participant or site (did you mean @P09?)",
        "@Q01 is not a registered participant or site (did you mean @P01?)",
        "@Nowhere is not a registered participant or site"]
    assert {rid for rid, _w in project.warnings} == {record.id}
    project.warnings.clear()
    memo(project, "about @p01")  # letter case is forgiven, as codes are found either way
    assert not [w for _id, w in project.warnings if "registered" in w]


def test_withdrawal_redacts_an_obsidian_link_too(project):
    add_participant(project, "P03")
    add_participant(project, "P07")
    record = note(project, "[[P03]] spoke, then [[P03|the EbE]] and [[P07]] argued")
    withdraw(project, "P03", allow_no_keystore=True)
    assert project.get(record.id).body == f"{MARKER} spoke, then {MARKER} and [[P07]] argued"


def test_an_unknown_mention_warning_on_the_command_line(run, tmp_path):
    run("participant", "add", "P01")
    said = run("jot", "met @P99 and [[P01]]")
    assert said.exit_code == 0
    assert "Warning: @P99 is not a registered participant or site" in said.output
    assert "@P01 is not" not in said.output

    from tests.test_cli_fresh import fieldkit_run

    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")}
    env.update(FIELDKIT_PROJECT=str(run.path), FIELDKIT_AUTHOR="tester", FIELDKIT_LOAD_PLUGINS="")
    fresh = fieldkit_run("memo", "about @P98", env=env, check=0)
    assert "Warning: @P98 is not a registered participant or site" in fresh.stderr
