"""Retention rules and destruction: what is due, and destruction that leaves nothing behind."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lifecycle_helpers import build

import fieldkit
from fieldkit.core.errors import InvalidInput, Refused
from fieldkit.core.records import Observation
from fieldkit.lifecycle import member_check, retention
from fieldkit.store.attachments import attach
from fieldkit.store.maintenance import doctor, fix

PLANTED = (b"QUILLWORTJOT", b"XYLOPHONETURN", b"XYLOPHONEOLDER", b"ZEBRAFINCHAUDIO", b"MARROWAMENDED",
           b"Wendeline", b"Oakhurst", b"BRIMSTONETURN")
RULES = {"project": "until 2031-09-30", "transcripts": "6 months after submission",
         "raw_notes": "1 year after collection", "audio": "30 days after collection",
         "keystore": "6 months after submission"}
LATER = dt.date(2028, 6, 1)


def plant(project, tmp_path) -> dict:
    """Distinctive content in every place destruction must reach."""
    ids = build(project)
    project.set_setting("retention", RULES)
    project.set_setting("milestones", {"submission": "2027-01-31"})
    project.add(Observation(stage="jotting", body="QUILLWORTJOT seen by the door", encounter_id=ids["group"]))
    project.add(Observation(stage="fieldnote", body="The waiting room was busy all morning.", encounter_id=ids["group"]))
    turn = project.add(Observation(stage="fieldnote", encounter_id=ids["interview"],
                                   body="R1: and then?\n\nP03: XYLOPHONEOLDER said Wendeline Oakhurst once.\n"))
    from fieldkit.coding.codings import apply_code

    apply_code(project, turn.id, "trust", quote="said Wendeline Oakhurst once")
    project.update(Observation(**{**{f: getattr(turn, f) for f in ("id", "created_at", "author", "stage",
                                                                   "encounter_id", "observed_at", "recorded_at")},
                                  "body": "R1: and then?\n\nP03: XYLOPHONETURN said Wendeline Oakhurst once.\n"}),
                   reason="typo")
    member_check.sync_quotes(project, "P03")
    quote = [q for q in project.store.lifecycle.quotes() if q["record_id"] == turn.id][0]
    member_check.respond(project, quote["id"], "amended", wording="MARROWAMENDED said someone once")
    from fieldkit.exchange.importing import ImportOptions, run_importer

    spoken = tmp_path / "follow-up.txt"
    spoken.write_text("Interviewer: And later?\n\nSpeaker 2: BRIMSTONETURN was the worst week.\n", encoding="utf-8")
    run_importer(project, "transcript", spoken,
                 ImportOptions(encounter="E1", speakers={"Interviewer": "R1"}, allow_unknown=True))
    audio = tmp_path / "interview-Oakhurst.mp3"
    audio.write_bytes(b"ID3 ZEBRAFINCHAUDIO " * 50)
    attach(project, audio, record=ids["interview"])
    from fieldkit.privacy.anonymiser import open_keystore

    store = open_keystore(project)
    try:
        store.add("P03", "Wendeline Oakhurst")
    finally:
        store.close()
    return ids


def hits(folder: Path) -> dict:
    """Planted words found in any file of ``folder``: case-insensitively and without their last
    two letters, so the search index's lower-case, stemmed tokens are found too."""
    found = {}
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes().lower()
            for word in PLANTED:
                if word.lower()[:-2] in data:
                    found.setdefault(word.decode(), []).append(path.name)
    return found


@pytest.fixture
def planted(project, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    plant(project, tmp_path)
    return project


def test_rules_are_read_and_refused_in_words():
    assert retention.parse_rule("until 2031-09-30").until == dt.date(2031, 9, 30)
    assert retention.parse_rule("2031-09-30").until == dt.date(2031, 9, 30)
    rule = retention.parse_rule("6 months after submission")
    assert (rule.amount, rule.unit, rule.anchor) == (6, "months", "submission")
    with pytest.raises(InvalidInput, match="cannot read the retention rule"):
        retention.parse_rule("keep it for a while")


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2090, 12, 31)), st.integers(0, 400),
       st.sampled_from(["days", "weeks", "months", "years"]))
def test_adding_a_period_agrees_with_dateutil(start, amount, unit):
    relativedelta = pytest.importorskip("dateutil.relativedelta").relativedelta
    assert retention._add(start, amount, unit) == start + relativedelta(**{unit: amount})


def test_retention_shows_what_is_due(planted):
    before = {d.record_class: d for d in retention.retention(planted, today=dt.date(2027, 7, 31))}
    assert before["transcripts"].items == () and before["transcripts"].due_on == dt.date(2027, 8, 1)
    assert before["audio"].items and before["notes"].rule.text == "until 2031-09-30"
    after = {d.record_class: d for d in retention.retention(planted, today=dt.date(2027, 8, 1))}
    assert len(after["transcripts"].items) == 4  # the interview, the focus group, the planted turns, the import
    assert after["notes"].items == ()


def test_destruction_leaves_no_byte_of_the_destroyed_content(planted):
    from fieldkit.store.attachments import open_copy

    opened = open_copy(planted, planted.list("attachment")[0].id)  # a copy opened to listen to
    assert hits(planted.path)  # the planted words are there before (the test can fail)
    keystore = Path(planted.setting("keystore_path"))
    with pytest.raises(Refused, match="nothing of notes is due"):
        retention.destroy(planted, ["notes"], today=LATER)
    due = {d.record_class: d for d in retention.retention(planted, today=LATER)}
    transcripts = [item_id for _kind, item_id in due["transcripts"].items]
    assert planted.store.turns.of_records(transcripts)  # the import's speaker turns are there
    certificate = retention.destroy(planted, ["audio", "transcripts", "raw_notes", "keystore"], today=LATER)
    assert planted.store.turns.of_records(transcripts) == {}
    planted.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert hits(planted.path) == {}
    assert not opened.exists()
    assert not keystore.exists()
    assert planted.search("XYLOPHONETURN") == [] and planted.search("QUILLWORTJOT") == []
    assert certificate.counts == {"observations": 6, "attachments": 1, "key store": 1}
    line = [a for a in planted.audit_log() if a["action"] == "destroy"][0]
    assert '"observations": 6' in line["detail"] and "XYLOPHONE" not in line["detail"]
    assert planted.store.lifecycle.unfinished() == []
    assert [d for d in doctor(planted) if d.check == "destruction"] == []
    # notes that stay are still there
    assert [o.body for o in planted.list("observation")] == ["The waiting room was busy all morning."]


def test_the_key_store_is_not_destroyed_while_notes_still_name_people(planted):
    with pytest.raises(Refused, match="still hold names registered in the key store"):
        retention.destroy(planted, ["keystore"], today=LATER)
    assert Path(planted.setting("keystore_path")).exists()
    assert planted.store.lifecycle.unfinished() == []


KILL = """
import os, sys, datetime as dt
import fieldkit
from fieldkit.lifecycle import retention
from fieldkit.store import lifecycle
point = sys.argv[2]
owner = lifecycle if point == "_shred" else lifecycle.LifecycleTables
real = getattr(owner, point)
def die(*args, **kwargs):
    if point in ("compact", "_shred"):
        real(*args, **kwargs)  # die just after this step
    os._exit(9)
setattr(owner, point, die)
project = fieldkit.open(sys.argv[1])
retention.destroy(project, ["audio", "transcripts", "raw_notes"], today=dt.date(2028, 6, 1))
"""


#: before any row goes, inside the rows' transaction, after the first file, after the index
@pytest.mark.parametrize("point", ["erase_records", "erase_attachments", "_shred", "compact"])
def test_a_killed_destruction_is_finished_by_doctor(project, tmp_path, monkeypatch, point):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    plant(project, tmp_path)
    path = project.path
    project.close()
    env = {**os.environ, "HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-c", KILL, str(path), point], env=env, capture_output=True, text=True)
    assert done.returncode == 9, done.stderr
    reopened = fieldkit.open(path)
    try:
        findings = [d for d in doctor(reopened) if d.check == "destruction"]
        assert len(findings) == 1 and findings[0].level == "error"
        assert any("finished destruction" in line for line in fix(reopened))
        reopened.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        found = hits(path)
        assert set(found) <= {"Wendeline", "Oakhurst"}  # the key store was not destroyed here
        assert [d for d in doctor(reopened) if d.check == "destruction"] == []
        assert len([a for a in reopened.audit_log() if a["action"] == "destroy"]) == 1
    finally:
        reopened.close()
