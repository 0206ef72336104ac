"""Imports: transcripts (plain, WebVTT, SRT), Markdown folders and codebook files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fieldkit
from fieldkit.privacy.consent import record_consent
from fieldkit.core.errors import FieldkitError, NotFound
from fieldkit.fieldwork.registers import add_encounter, add_participant
from fieldkit.exchange import transcripts
from fieldkit.exchange.markdown_import import split_front_matter
from fieldkit.exchange.transcripts import Turn, clock, parse_transcript
from fieldkit.exchange.importing import ImportFailed, ImportOptions, ImportReport, run_importer

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
UTC = dt.timezone.utc


@pytest.fixture
def study(tmp_path):
    p = fieldkit.init(tmp_path / "study")
    for code, role in (("P01", "expert_by_experience"), ("P03", "person_on_probation"), ("P07", "inspector"),
                       ("R1", "researcher")):
        add_participant(p, code, role=role)
        record_consent(p, code, "given", ("observation", "audio", "quotes"))
    add_encounter(p, "inspection_meeting", code="E1")
    add_encounter(p, "interview", code="E2", participants=["R1:interviewer"],
                  start=dt.datetime(2026, 3, 11, 14, tzinfo=UTC))
    add_encounter(p, "focus_group", code="E3")
    yield p
    p.close()


def observations(p, encounter=None):
    return p.list("observation", encounter=encounter) if encounter else p.list("observation")


# --- parsing transcripts -----------------------------------------------------------------------


def test_parse_webvtt_voices_entities_and_merged_cues():
    turns = parse_transcript((FIXTURES / "interview.vtt").read_text(encoding="utf-8"), name="interview.vtt")
    assert [t.speaker for t in turns] == ["Interviewer", "Robin Calder", "Interviewer"]
    assert turns[1].text == "It felt like they & I were on the same side, which surprised me."
    assert (turns[1].start, turns[1].end) == (5.0, 12.25)
    assert turns[2].start == 3723.0 and turns[2].text == "And the café afterwards?"


def test_parse_webvtt_name_prefixes_and_unlabelled_continuation():
    turns = parse_transcript((FIXTURES / "zoom.vtt").read_text(encoding="utf-8"))
    assert [(t.speaker, t.text) for t in turns] == [
        ("Interviewer", "Shall we start?"), ("P03", "Yes. I wasn't sure what to expect from it.")]


def test_parse_srt_with_bom_crlf_tags_and_dashes():
    text = (FIXTURES / "captions.srt").read_bytes().decode("utf-8")
    turns = parse_transcript(text, name="captions.srt")
    assert [(t.speaker, t.text, t.start) for t in turns] == [
        ("Interviewer", "Hello, thanks for coming.", 1.0),
        ("P03", "Hi. I nearly didn't. Honestly.", 3.5),
    ]


def test_parse_plain_turns_with_times_and_continuations():
    turns = parse_transcript((FIXTURES / "focus-group.txt").read_text(encoding="utf-8"))
    assert [(t.speaker, t.start) for t in turns] == [("R1", 5), ("P01", 14), ("P07", 62), ("P01", 90)]
    assert turns[1].text.endswith("co-design.\nBut the final say on the report was always theirs.")


def test_detect_format():
    assert transcripts.detect_format("WEBVTT\n\n", "") == "vtt"
    assert transcripts.detect_format("1\n00:00:01,000 --> 00:00:02,000\nHi\n", "") == "srt"
    assert transcripts.detect_format("P03: hello", "x.txt") == "plain"
    assert transcripts.detect_format("anything", "x.srt") == "srt"


def test_malformed_captions_are_clear_errors():
    with pytest.raises(ValueError, match="WEBVTT"):
        parse_transcript("not a vtt", "vtt")
    with pytest.raises(ValueError, match="cue timing"):
        parse_transcript("1\nno timing here\nHello\n", "srt")


labels = st.sampled_from(["P01", "P03", "R1", "Interviewer", "Robin Calder", "Zoë Ng"])
words = st.text(st.characters(whitelist_categories=("L", "N"), whitelist_characters=" ,.?!'’é😀"),
                min_size=1, max_size=30).map(lambda s: " ".join(s.split())).filter(lambda s: s and s[0].isalnum())


def _vtt(turns):
    out = ["WEBVTT", ""]
    for i, t in enumerate(turns):
        out += [str(i + 1), f"{_stamp(t.start)} --> {_stamp(t.end)}", f"<v {t.speaker}>{t.text}</v>", ""]
    return "\n".join(out)


def _srt(turns):
    out = []
    for i, t in enumerate(turns):
        out += [str(i + 1), f"{_stamp(t.start).replace('.', ',')} --> {_stamp(t.end).replace('.', ',')}",
                f"{t.speaker}: {t.text}", ""]
    return "\n".join(out)


def _plain(turns):
    return "\n".join(f"[{clock(t.start)}] {t.speaker}: {t.text}" for t in turns) + "\n"


def _stamp(value):
    return f"{clock(value)}.{int(round(value % 1 * 1000)):03d}"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(labels, words, st.integers(1, 40)), min_size=1, max_size=8))
def test_transcripts_parse_back_what_was_written(items):
    # distinct consecutive speakers, so each cue is one turn; times increase
    turns, t = [], 0
    for speaker, text, step in items:
        if turns and turns[-1].speaker == speaker:
            continue
        turns.append(Turn(speaker, text, float(t), float(t + step)))
        t += step
    for render, fmt in ((_vtt, "vtt"), (_srt, "srt"), (_plain, "plain")):
        parsed = parse_transcript(render(turns), fmt)
        assert [(p.speaker, p.text, p.start) for p in parsed] == [(x.speaker, x.text, x.start) for x in turns], fmt


# --- importing transcripts ---------------------------------------------------------------------


def test_import_vtt_maps_speakers_and_keeps_timings(study):
    options = ImportOptions(encounter="E2", speakers={"interviewer": "R1", "Robin Calder": "P03"})
    report = run_importer(study, "transcript", FIXTURES / "interview.vtt", options)
    assert report.counts == {"fieldnotes": 1, "turns": 3, "speakers": 2}
    (note,) = observations(study, "E2")
    assert note.body == ("[00:00:01] R1: Thanks for joining. How did the inspection feel?\n\n"
                         "[00:00:05] P03: It felt like they & I were on the same side, which surprised me.\n\n"
                         "[01:02:03] R1: And the café afterwards?\n")
    assert "Robin" not in note.body  # the caption label (a name) never reaches the project
    assert note.observed_at == dt.datetime(2026, 3, 11, 14, tzinfo=UTC)  # from the encounter's start
    e2 = study.get("E2", type_name="encounter")
    assert [p.participant_id for p in e2.participants] == [study.resolve("R1"), study.resolve("P03")]
    assert study.history(e2.id)[-1].reason == "participants added by import"


def test_participant_codes_map_themselves(study):
    report = run_importer(study, "transcript", FIXTURES / "focus-group.txt", ImportOptions(encounter="E3"))
    assert report.counts["speakers"] == 3
    (note,) = observations(study, "E3")
    assert note.body.startswith("[00:00:05] R1: Thank you")
    assert "[00:01:30] P01: And we saw" in note.body


def test_unknown_speakers_are_refused_and_nothing_written(study):
    # Interviewer is the researcher (their turns are kept apart); the other label is nobody's
    with pytest.raises(ImportFailed, match="speakers not mapped to a participant: 'Robin Calder'"):
        run_importer(study, "transcript", FIXTURES / "interview.vtt", ImportOptions(encounter="E2"))
    assert observations(study) == []
    assert len(study.get("E2", type_name="encounter").participants) == 1


def test_allow_unknown_writes_neutral_labels(study):
    report = run_importer(study, "transcript", FIXTURES / "interview.vtt",
                          ImportOptions(encounter="E2", speakers={"Interviewer": "R1"}, allow_unknown=True))
    (note,) = observations(study, "E2")
    assert "Speaker 1: It felt like" in note.body and "Robin" not in note.body
    assert any("Robin Calder" in n for n in report.notes)


def test_mapping_to_a_missing_participant_is_a_problem(study):
    with pytest.raises(ImportFailed, match="'P99', which is not a participant"):
        run_importer(study, "transcript", FIXTURES / "zoom.vtt",
                     ImportOptions(encounter="E2", speakers={"Interviewer": "P99"}))


def test_transcript_needs_an_encounter_and_is_not_imported_twice(study):
    with pytest.raises(FieldkitError, match="--encounter"):
        run_importer(study, "transcript", FIXTURES / "zoom.vtt", ImportOptions(speakers={"Interviewer": "R1"}))
    options = ImportOptions(encounter="E2", speakers={"Interviewer": "R1"}, tags=("interview",))
    run_importer(study, "transcript", FIXTURES / "zoom.vtt", options)
    again = run_importer(study, "transcript", FIXTURES / "zoom.vtt", options)
    assert again.counts == {} and again.skipped
    (note,) = observations(study, "E2")
    assert note.tags == ("interview",)


def test_srt_transcript_and_stage_and_time(study):
    run_importer(study, "transcript", FIXTURES / "captions.srt",
                 ImportOptions(encounter="E1", speakers={"Interviewer": "R1"}, stage="jotting", at="2026-03-09 10:00"))
    (note,) = observations(study, "E1")
    assert note.stage == "jotting" and note.observed_raw == "2026-03-09 10:00"
    assert note.body.startswith("[00:00:01] R1: Hello, thanks for coming.")


def test_not_utf8_or_empty_transcripts(study, tmp_path):
    latin = tmp_path / "latin.txt"
    latin.write_bytes("P03: caf\xe9".encode("latin-1"))
    with pytest.raises(FieldkitError, match="not UTF-8"):
        run_importer(study, "transcript", latin, ImportOptions(encounter="E1"))
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(FieldkitError, match="no speaker turns"):
        run_importer(study, "transcript", empty, ImportOptions(encounter="E1"))


def test_dry_run_reports_without_writing(study):
    report = run_importer(study, "transcript", FIXTURES / "focus-group.txt", ImportOptions(encounter="E3", dry_run=True))
    assert report.dry_run and report.counts["fieldnotes"] == 1
    assert "would import" in report.summary_lines()[0]
    assert observations(study) == []


# --- Markdown folders --------------------------------------------------------------------------


def test_markdown_folder_import(study):
    report = run_importer(study, "markdown", FIXTURES / "notes", ImportOptions())
    assert report.counts == {"fieldnotes": 2, "jottings": 1, "memos": 1}
    briefing = observations(study, "E1")[0]
    assert briefing.body.startswith("The lead inspector handed")
    assert briefing.tags == ("power", "voice")
    assert briefing.observed_raw == "2026-03-10 09:30" and briefing.observed_precision == "minute"
    assert study.resolve("P07") in [p.participant_id for p in study.get("E1", type_name="encounter").participants]
    visit = next(o for o in observations(study) if o.stage == "jotting")
    assert visit.observed_precision == "day" and set(visit.tags) == {"premises", "visit"}
    (memo,) = study.list("memo")
    assert memo.kind == "reflexive" and memo.title == "Whose words I write down"
    assert memo.links == (study.resolve("E1"), study.resolve("P03"))
    assert not any("Settings of the note-taking tool" in o.body for o in observations(study))
    assert not any("ignored" in n for n in report.notes)  # 'aliases' (Obsidian) is a known key


def test_markdown_import_twice_adds_nothing(study):
    run_importer(study, "markdown", FIXTURES / "notes", ImportOptions())
    again = run_importer(study, "markdown", FIXTURES / "notes", ImportOptions())
    assert again.counts == {} and len(again.skipped) == 4
    assert len(observations(study)) == 3


def test_markdown_problems_stop_the_whole_import(study):
    with pytest.raises(ImportFailed) as caught:
        run_importer(study, "markdown", FIXTURES / "bad-notes", ImportOptions())
    problems = caught.value.report.problems
    assert any(p.startswith("broken-yaml.md: front matter is not valid YAML") for p in problems)
    assert any(p.startswith("unknown-encounter.md: no encounter 'E99'") for p in problems)
    assert observations(study) == []  # good.md was not imported either


def test_front_matter_split():
    assert split_front_matter("no front matter\n") == ({}, "no front matter\n")
    assert split_front_matter("---\na: 1\n---\nbody\n") == ({"a": 1}, "body\n")
    assert split_front_matter("---\n---\nbody") == ({}, "body")
    with pytest.raises(ValueError, match="mapping"):
        split_front_matter("---\n- a\n---\nbody")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), min_size=1,
                    max_size=80).filter(lambda s: s.strip() and not s.startswith("---")),
       tags=st.lists(st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True), max_size=3, unique=True))
def test_markdown_file_text_survives_import(tmp_path_factory, body, tags):
    import yaml

    from fieldkit.core.markdown import normalise

    tmp = tmp_path_factory.mktemp("md")
    folder = tmp / "notes"
    folder.mkdir()
    (folder / "n.md").write_text("---\n" + yaml.safe_dump({"tags": tags}) + "---\n" + body, encoding="utf-8")
    p = fieldkit.init(tmp / "p")
    try:
        try:
            run_importer(p, "markdown", folder, ImportOptions())
        except ImportFailed as failed:  # only text that leaves code or HTML open to its end
            assert tags and any("cannot add #" in problem for problem in failed.report.problems)
            assert p.list("observation") == []
            return
        (note,) = p.list("observation")
        expected = normalise(body).strip("\n")
        assert note.body.startswith(expected)
        assert set(tags) <= set(note.tags)
    finally:
        p.close()


@pytest.mark.parametrize("body, expected", [
    ("plain words", "plain words #a #b"),
    ("\\", "\\ #a #b"),
    ("x #ab", "x #ab #a #b"),
    ("    indented code", "    indented code\n\n#a #b"),
])
def test_tags_from_options_always_become_tags(body, expected):
    from fieldkit.exchange.importing import with_tags
    from fieldkit.core.markdown import tags_and_mentions

    assert with_tags(body, ["a", "#b"]) == expected
    assert {"a", "b"} <= set(tags_and_mentions(expected)[0])


@pytest.mark.parametrize("body", ["```\nopen fence", "<!-- open comment"])
def test_tags_cannot_hide_in_open_code(body):
    from fieldkit.exchange.importing import with_tags

    with pytest.raises(ValueError, match="cannot add #a"):
        with_tags(body, ["a"])
    with pytest.raises(ValueError, match="not a tag"):
        with_tags("words", ["1"])


# --- codebooks ---------------------------------------------------------------------------------


def test_codebook_yaml_and_json_import(study):
    report = run_importer(study, "codebook", FIXTURES / "codebook.yaml", ImportOptions())
    assert report.counts == {"codes added": 3}
    assert study.get("power/agenda-setting").definition == "Deciding what is discussed."
    run_importer(study, "codebook", FIXTURES / "codebook.json", ImportOptions())
    assert study.get("care/debrief").name == "debrief"
    again = run_importer(study, "codebook", FIXTURES / "codebook.yaml", ImportOptions())
    assert again.counts == {"codes unchanged": 3}


def test_codebook_round_trip_through_export(study, tmp_path):
    from fieldkit.exchange.exporting import ExportOptions, run_export

    run_importer(study, "codebook", FIXTURES / "codebook.yaml", ImportOptions())
    run_export(study, "codebook", tmp_path / "book.yaml", ExportOptions())
    fresh = fieldkit.init(tmp_path / "fresh")
    run_importer(fresh, "codebook", tmp_path / "book.yaml", ImportOptions())
    assert {(c.name, c.definition, c.colour) for c in fresh.list("code")} == \
        {(c.name, c.definition, c.colour) for c in study.list("code")}
    fresh.close()


# --- the registry -------------------------------------------------------------------------------


def test_unknown_importer_and_missing_source(study, tmp_path):
    with pytest.raises(NotFound, match="no import format 'pdf'"):
        run_importer(study, "pdf", FIXTURES / "zoom.vtt")
    with pytest.raises(NotFound, match="no such file"):
        run_importer(study, "transcript", tmp_path / "missing.vtt", ImportOptions(encounter="E1"))


def test_import_report_summary():
    report = ImportReport("x", "src", counts={"fieldnotes": 2}, skipped=["a"], problems=["b"], notes=["c"])
    assert report.summary_lines() == ["x: imported from src", "  2 fieldnotes", "  skipped: a", "  note: c",
                                      "  problem: b"]
