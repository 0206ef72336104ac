"""Participant links of a note (issue 13, item 2): the participants a jotting or fieldnote is
about besides its @mentions can be corrected later, with history, while a jotting's text
never changes; everything that honours mentions (consent, withdrawal, queries by
participant, exports, the JSONL backup) honours the links the same way."""

from __future__ import annotations

import csv
import json
import os

import attrs
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import fieldkit
from fieldkit.coding.queries import record_context
from fieldkit.core.errors import NotFound, Refused
from fieldkit.core.records import Observation
from fieldkit.exchange.exporting import ExportOptions, ExportReport, export_items, run_export
from fieldkit.exchange.importing import ImportOptions, run_importer
from fieldkit.fieldwork import capture
from fieldkit.fieldwork.registers import add_participant, add_site
from fieldkit.privacy import anonymiser
from fieldkit.privacy.consent import record_consent
from fieldkit.privacy.withdrawal import withdraw


@pytest.fixture
def people(project, tmp_path):
    anonymiser.create_keystore(project, tmp_path / "k.keys").close()
    for code in ("P03", "P04", "P05"):
        add_participant(project, code)
    return {code: project.resolve(code, "participant") for code in ("P03", "P04", "P05")}


def test_links_are_corrected_with_history_and_the_text_never_changes(project, people):
    jotting = capture.jot(project, "SPO talks over @P05 again")
    linked = capture.relink(project, jotting.id, add=["P03", "p04"])
    assert linked.links == (people["P03"], people["P04"])
    assert linked.body == jotting.body and linked.mentions == ("P05",) and linked.stage == "jotting"
    unlinked = capture.relink(project, jotting.id, remove=["P04"], reason="P04 was not there")
    assert unlinked.links == (people["P03"],)
    earlier = [r.data["links"] for r in project.history(jotting.id)]
    assert earlier == [[], [people["P03"], people["P04"]]]
    assert [r.reason for r in project.history(jotting.id)] == ["participants corrected", "P04 was not there"]
    with pytest.raises(Refused, match="mentions @P05"):
        capture.relink(project, jotting.id, remove=["P05"])
    with pytest.raises(NotFound):
        capture.relink(project, jotting.id, add=["P99"])
    site_id = add_site(project, "North PDU").id
    with pytest.raises(NotFound, match="participant"):
        project.update(attrs.evolve(project.get(jotting.id), links=(site_id,)))
    with pytest.raises(Refused, match="jottings cannot be changed"):
        project.update(attrs.evolve(project.get(jotting.id), body="other words", links=()))
    assert project.get(jotting.id).links == (people["P03"],)


def test_a_fieldnote_expanding_linked_jottings_is_about_the_same_people(project, people):
    first, second = capture.jot(project, "a sigh"), capture.jot(project, "a nod")
    capture.relink(project, first.id, add=["P04", "P03"])
    capture.relink(project, second.id, add=["P03", "P05"])
    note = capture.expand(project, "Someone at the back sighed; the chair nodded.",
                          [project.get(first.id), project.get(second.id)])
    assert note.links == (people["P04"], people["P03"], people["P05"])


def test_relinking_never_rewrites_a_jotting_captured_before_pseudonymising(project, people, tmp_path):
    jotting = capture.jot(project, "Dana Okafor arrives late")
    keys = anonymiser.open_keystore(project)
    keys.add("P03", "Dana Okafor", [])
    keys.close()
    project.set_setting("pseudonymise_on_capture", True)
    assert capture.memo(project, "Dana Okafor again").body == "@P03 again"  # capture is on and works
    for changed in (capture.relink(project, jotting.id, add=["P04"]), capture.relink(project, jotting.id, None)):
        assert changed.body == "Dana Okafor arrives late" and changed.mentions == ()


def test_queries_by_participant_find_linked_notes(project, people):
    quiet = capture.jot(project, "the panel breaks for lunch")
    capture.relink(project, quiet.id, add=["P04"])
    assert [o.id for o in project.list("observation", participant="P04")] == [quiet.id]
    assert project.list("observation", participant="P03") == []
    assert people["P04"] in record_context(project, quiet.id).participant_ids
    project.update(attrs.evolve(project.get("P04"), role="inspector"))
    found = project.search("panel role:inspector", types=("observation",), limit=5)
    assert [hit.record.id for hit in found] == [quiet.id]


def test_on_the_command_line(run):
    for code in ("P03", "P04", "P05"):
        run("participant", "add", code)
    run("jot", "LI hands the intro to @P05")
    jotting = json.loads(run("list", "observation", "--json").output)[0]
    said = run("edit", jotting["id"], "--with", "P03,P04")
    assert said.exit_code == 0 and "also about P03, P04" in said.output
    assert "@P03 has no recorded consent" in said.output  # linked like mentioned: the consent check warns
    assert run("edit", jotting["id"], "--with", "P03").output.strip() == "no change"
    assert "also about P03" in run("edit", jotting["id"], "--without", "P04").output
    refused = run("edit", jotting["id"], "--without", "P05")
    assert refused.exit_code == 1 and "mentions @P05" in refused.output
    history = json.loads(run("history", jotting["id"], "--json").output)
    assert [len(v["data"]["links"]) for v in history] == [0, 2]
    assert "P03" in run("show", jotting["id"]).output.split("links:")[1].splitlines()[0]
    listed = json.loads(run("list", "observation", "-p", "P03", "--json").output)
    assert [r["id"] for r in listed] == [jotting["id"]]
    found = json.loads(run("search", "intro", "-p", "P03", "--json").output)
    assert [r["id"] for r in found] == [jotting["id"]]
    assert json.loads(run("show", jotting["id"], "--json").output)["body"] == "LI hands the intro to @P05"


def test_in_a_fresh_process(tmp_path):
    from tests.test_cli_fresh import fieldkit_run

    env = {**{k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")},
           "FIELDKIT_PROJECT": str(tmp_path / "study"), "FIELDKIT_AUTHOR": "tester", "FIELDKIT_LOAD_PLUGINS": ""}
    fieldkit_run("init", tmp_path / "study", env=env, check=0)
    fieldkit_run("participant", "add", "P03", env=env, check=0)
    fieldkit_run("jot", "a quiet word in the corridor", env=env, check=0)
    jid = json.loads(fieldkit_run("list", "observation", "--json", env=env, check=0).stdout)[0]["id"]
    assert "also about P03" in fieldkit_run("edit", jid, "--with", "P03", env=env, check=0).stdout
    assert "a quiet word" in fieldkit_run("list", "observation", "-p", "P03", env=env, check=0).stdout
    bad = fieldkit_run("edit", jid, "--with", "P99", env=env, check=1)
    assert bad.stderr.startswith("Error: ") and len(bad.stderr.strip().splitlines()) == 1
    assert len(json.loads(fieldkit_run("history", jid, "--json", env=env, check=0).stdout)) == 1


def _left_out(project, **options):
    report = ExportReport(exporter="test", dest="-")
    items = {i.record.id for i in export_items(project, ExportOptions(**options), report)}
    return items, {x.record_id: x.reason for x in report.left_out}


@pytest.mark.parametrize("how", ["mention", "link"])
def test_consent_leaves_out_a_linked_note_as_a_mentioning_one(project, people, how):
    record_consent(project, "P03", "given", ["observation", "quotes"])
    record_consent(project, "P04", "given", ["observation", "quotes"])
    note = capture.note(project, "The panel on ratings. @P04" + (" @P05" if how == "mention" else ""))
    if how == "link":
        capture.relink(project, note.id, add=["P05"])
    plain = capture.note(project, "The panel on ratings. @P04")
    # P05 has no consent recorded: the publication profile needs everyone's quotes scope
    items, left_out = _left_out(project, profile="publication")
    assert note.id not in items and plain.id in items
    assert left_out[note.id] == "no consent to quotes (publication profile)"
    record_consent(project, "P05", "given", ["observation", "quotes"])
    assert note.id in _left_out(project, profile="publication")[0]
    record_consent(project, "P05", "withdrawn")
    items, left_out = _left_out(project)
    assert note.id not in items and left_out[note.id] == "P05 withdrew consent" and plain.id in items


def test_export_participant_columns_name_linked_people(project, people, tmp_path):
    from fieldkit.coding.codebook import add_code
    from fieldkit.core.records import Coding

    for code in ("P03", "P04"):
        record_consent(project, code, "given", ["observation", "quotes"])
    note = capture.note(project, "Corridor talk before the meeting.")
    capture.relink(project, note.id, add=["P04", "P03"])
    project.add(Coding(record_id=note.id, code_id=add_code(project, "talk").id, start=0, end=13, coder="a"))
    run_export(project, "csv", tmp_path / "out", ExportOptions())
    with open(tmp_path / "out" / "quotes.csv", newline="", encoding="utf-8") as f:
        rows = [row for row in csv.DictReader(f)]
    assert [(row["record_id"], row["participants"]) for row in rows] == [(note.id, "P03, P04")]


def test_refi_cases_hold_linked_notes(project, people, tmp_path):
    import zipfile
    from xml.etree import ElementTree

    from fieldkit.core.ids import to_guid
    from fieldkit.exchange import refi

    note = capture.note(project, "The chair sums up.")
    capture.relink(project, note.id, add=["P04"])
    refi.export_qdpx(project, tmp_path / "out.qdpx", ExportOptions(anonymise=False))
    with zipfile.ZipFile(tmp_path / "out.qdpx") as qdpx:
        root = ElementTree.fromstring(qdpx.read("project.qde"))
    q = "{urn:QDA-XML:project:1.0}"
    cases = {c.get("name"): {r.get("targetGUID") for r in c.findall(f"{q}SourceRef")} for c in root.iter(f"{q}Case")}
    assert cases.get("P04") == {to_guid(note.id)} and not cases.get("P03")


@pytest.mark.parametrize("mode", ["redact", "erase"])
def test_withdrawal_covers_linked_jottings(project, people, tmp_path, mode):
    linked = capture.jot(project, "someone at the back sighs")
    capture.relink(project, linked.id, add=["P03", "P04"])
    other = capture.jot(project, "the chair sums up")
    capture.relink(project, other.id, add=["P04"])
    once = capture.jot(project, "a nod from the back")  # linked once, then not: its history still was
    capture.relink(project, once.id, add=["P03"])
    capture.relink(project, once.id, remove=["P03"])
    withdraw(project, "P03", mode=mode)
    assert all(people["P03"] not in json.dumps(r.data) for r in project.history(once.id))
    if mode == "erase":
        assert project.find_type(linked.id) is None
    else:
        after = project.get(linked.id)
        assert after.links == (people["P04"],) and after.body == linked.body
        assert all(people["P03"] not in json.dumps(r.data) for r in project.history(linked.id))
    assert project.get(other.id).links == (people["P04"],)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.integers(0, 2), st.sets(st.sampled_from("ABCD")), st.sets(st.sampled_from("ABCD"))),
                      max_size=6),
       stages=st.lists(st.sampled_from(["jotting", "fieldnote"]), min_size=1, max_size=3))
def test_links_and_their_history_survive_a_jsonl_round_trip(tmp_path_factory, steps, stages):
    tmp = tmp_path_factory.mktemp("links")
    project = fieldkit.init(tmp / "p")
    codes = {letter: f"P{ord(letter) - 60:02d}" for letter in "ABCD"}
    ids = {letter: add_participant(project, code).id for letter, code in codes.items()}
    notes = [project.add(Observation(stage=stage, body=f"note {n}")) for n, stage in enumerate(stages)]
    expected = {note.id: [] for note in notes}  # the oracle: links as a list kept by hand
    for which, added, removed in steps:
        note = notes[which % len(notes)]
        capture.relink(project, note.id, add=[codes[x] for x in sorted(added)],
                       remove=[codes[x] for x in sorted(removed)])
        kept = [pid for pid in expected[note.id] if pid not in {ids[x] for x in removed}]
        expected[note.id] = kept + [ids[x] for x in sorted(added) if ids[x] not in kept]
    for note in notes:
        assert list(project.get(note.id).links) == expected[note.id]
    dest = tmp / "backup.jsonl"
    run_export(project, "jsonl", dest, ExportOptions(anonymise=False))
    restored = fieldkit.init(tmp / "r")
    run_importer(restored, "jsonl", dest, ImportOptions())
    try:
        for note in notes:
            assert restored.get(note.id) == project.get(note.id)
            assert [r.data for r in restored.history(note.id)] == [r.data for r in project.history(note.id)]
    finally:
        restored.close()
        project.close()


def test_links_can_be_given_at_capture(project, people):
    jotting = capture.jot(project, "shrugs at the question", people=["P04", "p03", "P04"])
    assert jotting.links == (people["P04"], people["P03"]) and jotting.mentions == ()
    note = capture.note(project, "A long talk after the panel.", people=["P05"])
    assert note.links == (people["P05"],)
    with pytest.raises(NotFound):
        capture.jot(project, "nobody", people=["P99"])
    assert len(project.list("observation")) == 2  # the refused jotting was not saved
    assert [o.id for o in project.list("observation", participant="P05")] == [note.id]


def test_links_at_capture_in_a_fresh_process(tmp_path):
    from tests.test_cli_fresh import fieldkit_run

    env = {**{k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")},
           "FIELDKIT_PROJECT": str(tmp_path / "study"), "FIELDKIT_AUTHOR": "tester", "FIELDKIT_LOAD_PLUGINS": ""}
    fieldkit_run("init", tmp_path / "study", env=env, check=0)
    fieldkit_run("participant", "add", "P03", env=env, check=0)
    said = fieldkit_run("jot", "--with", "P03", "a quiet word in the corridor", env=env, check=0).stdout
    assert said.startswith("jotting ") and said.splitlines()[0].endswith(", also about P03")
    assert "a quiet word" in fieldkit_run("list", "observation", "-p", "P03", env=env, check=0).stdout
    bad = fieldkit_run("note", "--with", "P99", "not saved", env=env, check=1)
    assert bad.stderr.startswith("Error: ") and len(bad.stderr.strip().splitlines()) == 1
    assert "not saved" not in fieldkit_run("list", "observation", env=env, check=0).stdout
