"""Speaker turns are data: imports store who said which words, codings know their speakers,
and queries count by speaker with the researcher's own turns kept apart."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import fieldkit
from fieldkit.coding import queries
from fieldkit.core.records import Code, Coding
from fieldkit.exchange import markdown_import, transcripts
from fieldkit.exchange.importing import ImportOptions
from fieldkit.fieldwork.capture import edit
from fieldkit.fieldwork.registers import add_encounter, add_participant

VTT = """WEBVTT

00:00:01.000 --> 00:00:04.000
<v Interviewer>Welcome, everyone.

00:00:04.000 --> 00:00:09.500
<v Jo>The hostel curfew made work impossible.

00:00:09.500 --> 00:00:12.000
<v Sam>My officer changed three times,
in one year.

00:00:12.000 --> 00:00:15.000
<v Alex>I never met mine.
"""


@pytest.fixture
def group(project):
    add_participant(project, "P03", role="person_on_probation")
    add_participant(project, "P07", role="probation_practitioner")
    add_participant(project, "P09", role="person_on_probation")  # present, never speaks
    add_encounter(project, "focus_group", code="E2", participants=["P03", "P07", "P09"])
    return project


def _import_vtt(project, tmp_path, **options):
    path = tmp_path / "group.vtt"
    path.write_text(VTT)
    options = {"encounter": "E2", "speakers": {"Jo": "P03", "Sam": "P07"}, "allow_unknown": True, **options}
    report = transcripts.load(project, path, ImportOptions(**options))
    assert not report.problems, report.problems
    return project.list("observation")[-1]


def test_a_caption_file_becomes_turns_with_speakers_and_times(group, tmp_path):
    record = _import_vtt(group, tmp_path)
    turns = group.store.turns.of_record(record.id)
    assert [(t.speaker_kind, t.speaker_label, record.body[t.start:t.end], t.time_start, t.time_end)
            for t in turns] == [
        ("researcher", "Researcher", "Welcome, everyone.", 1.0, 4.0),
        ("participant", "P03", "The hostel curfew made work impossible.", 4.0, 9.5),
        ("participant", "P07", "My officer changed three times, in one year.", 9.5, 12.0),
        ("unregistered", "Speaker 1", "I never met mine.", 12.0, 15.0),
    ]
    assert turns[1].speaker_id == group.resolve("P03")
    assert "Jo" not in record.body and "Alex" not in record.body


@pytest.mark.parametrize("text, fmt", [
    ("1\n00:00:01,000 --> 00:00:03,000\nP03: Curfew again.\n\n2\n00:00:03,000 --> 00:00:05,000\n"
     "Researcher: Say more?\n", "srt"),
    ("[00:00:01] P03: Curfew again.\nstill curfew\n[00:00:03] Researcher: Say more?\n", "plain"),
])
def test_srt_and_plain_transcripts_have_turns(group, tmp_path, text, fmt):
    path = tmp_path / f"t.{fmt if fmt == 'srt' else 'txt'}"
    path.write_text(text)
    transcripts.load(group, path, ImportOptions(encounter="E2"))
    record = group.list("observation")[-1]
    turns = group.store.turns.of_record(record.id)
    assert [(t.speaker_kind, t.time_start) for t in turns] == [("participant", 1.0), ("researcher", 3.0)]
    assert record.body[turns[0].start:turns[0].end].startswith("Curfew again.")


def test_markdown_with_speaker_lines_has_turns(group, tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "group.md").write_text(
        "---\nencounter: E2\n---\nThe room was cold.\n\n**P03:** Nobody listens.\n\n- **Facilitator:** Why?\n\n"
        "P07: Caseloads.\nThat is all.\n")
    report = markdown_import.load(group, tmp_path / "notes", ImportOptions())
    assert not report.problems
    record = group.list("observation")[-1]
    said = [(t.speaker_label, record.body[t.start:t.end]) for t in group.store.turns.of_record(record.id)]
    assert said == [("P03", "Nobody listens."), ("Facilitator", "Why?"), ("P07", "Caseloads.\nThat is all.")]
    assert report.counts["speaker turns"] == 1


_SPEAKERS = ("P03", "P07", "Researcher", "Speaker 1")
_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzé ,.?'", min_size=1, max_size=12).filter(
    lambda w: w.strip(" ,.?'") != "")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(said=st.lists(st.tuples(st.sampled_from(_SPEAKERS), st.lists(_WORD, min_size=1, max_size=6)),
                     min_size=1, max_size=8))
def test_every_turn_stores_exactly_its_speakers_words(tmp_path_factory, said):
    """Oracle: the generated (speaker, words) list itself, not the parser."""
    folder = tmp_path_factory.mktemp("t")
    project = fieldkit.init(folder / "p")
    try:
        add_participant(project, "P03")
        add_participant(project, "P07")
        add_encounter(project, "focus_group", code="E2", participants=["P03", "P07"])
        expected = [(who, " ".join(" ".join(words).split())) for who, words in said]
        expected = [(who, text) for who, text in expected if text]
        if not expected:
            return
        (folder / "t.txt").write_text("".join(f"[00:00:{i:02d}] {who}: {text}\n"
                                              for i, (who, text) in enumerate(expected)))
        transcripts.load(project, folder / "t.txt", ImportOptions(encounter="E2", allow_unknown=True))
        record = project.list("observation")[-1]
        turns = project.store.turns.of_record(record.id)
        assert [(t.speaker_label, record.body[t.start:t.end]) for t in turns] == expected
        assert [t.time_start for t in turns] == [float(i) for i in range(len(expected))]
    finally:
        project.close()


def test_turns_follow_an_edit_of_the_body(group, tmp_path):
    record = _import_vtt(group, tmp_path)
    edit(group, record.id, "Context: a Tuesday.\n\n" + record.body.replace("impossible", "hard"))
    body = group.get(record.id).body
    said = [body[t.start:t.end] for t in group.store.turns.of_record(record.id)]
    assert said[:2] == ["Welcome, everyone.", "The hostel curfew made work hard."]


def test_codings_count_for_their_speakers_and_the_researcher_apart(group, tmp_path):
    record = _import_vtt(group, tmp_path)
    code = group.add(Code(name="instability"))
    for words in ("curfew", "changed three times", "Welcome"):
        at = record.body.index(words)
        group.add(Coding(record_id=record.id, code_id=code.id, start=at, end=at + len(words), coder="a"))
    by_role = queries.matrix(group, "role")[0]
    # without turns every participant present would be credited with each coding
    assert by_role == {"code": "instability", "person_on_probation": 1, "probation_practitioner": 1,
                       queries.RESEARCHER: 1, "total": 3}
    by_person = {r["participant"]: r["codings"] for r in queries.frequencies(group, by="participant")}
    assert by_person == {"P03": 1, "P07": 1, queries.RESEARCHER: 1}
    assert [s["speakers"] for s in queries.segments(group, "instability")] == [queries.RESEARCHER, "P03", "P07"]
    span = record.body.index("curfew"), record.body.index("three") + 5  # across two turns
    assert queries.speakers(group, record.id, *span) == ["P03", "P07"]


def test_a_note_without_turns_still_counts_everyone_present(group):
    from fieldkit.fieldwork.capture import note

    record = note(group, "Everyone agreed about curfews.", encounter="E2")
    code = group.add(Code(name="curfew"))
    group.add(Coding(record_id=record.id, code_id=code.id, start=15, end=22, coder="a"))
    row = queries.matrix(group, "participant")[0]
    assert row == {"code": "curfew", "P03": 1, "P07": 1, "P09": 1, "total": 1}
