"""Consent per turn and per segment: the speaker of the words decides, in every export that
carries text, under the internal and publication release profiles."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from fieldkit.core.errors import FieldkitError, Refused
from fieldkit.core.records import Code, Coding
from fieldkit.exchange import transcripts
from fieldkit.exchange.exporting import ExportOptions, ExportReport, export_items, run_export
from fieldkit.exchange.importing import ImportOptions
from fieldkit.fieldwork.registers import add_encounter, add_participant
from fieldkit.privacy import anonymiser as an
from fieldkit.privacy.consent import TURN_OMITTED, record_consent

# each speaker's words are unique, so any file can be searched for them
SAID = {
    "P03": "Quotable quince marmalade.",      # consent with the quotes scope
    "P07": "Unquotable walnut ledger.",       # consent without the quotes scope
    "P09": "Withdrawn cobalt lantern.",       # withdrew
    "P11": "Unrecorded saffron ferry.",       # no consent recorded
    "Moderator": "Welcome to the panel.",    # the researcher
    "Sam": "Unregistered juniper kite.",      # nobody registered
}


@pytest.fixture
def panel(project, tmp_path):
    keys = an.create_keystore(project, tmp_path / "k.keys")
    keys.close()
    for code in ("P03", "P07", "P09", "P11"):
        add_participant(project, code, role="person_on_probation" if code != "P07" else "inspector")
    record_consent(project, "P03", "given", ["observation", "quotes"])
    record_consent(project, "P07", "given", ["observation"])
    record_consent(project, "P09", "given")
    record_consent(project, "P09", "withdrawn")
    add_encounter(project, "focus_group", code="E2", participants=["P03", "P07", "P09", "P11"],
                  start=dt.datetime(2026, 3, 12, 14, 35, tzinfo=dt.timezone.utc))
    cues = "".join(f"\n00:00:{i * 5:02d}.000 --> 00:00:{i * 5 + 4:02d}.000\n<v {who}>{words}\n"
                   for i, (who, words) in enumerate(SAID.items()))
    (tmp_path / "panel.vtt").write_text("WEBVTT\n" + cues)
    report = transcripts.load(project, tmp_path / "panel.vtt", ImportOptions(encounter="E2", allow_unknown=True))
    assert not report.problems
    record = project.list("observation")[-1]
    code = project.add(Code(name="voice"))
    for words in SAID.values():
        at = record.body.index(words)
        project.add(Coding(record_id=record.id, code_id=code.id, start=at, end=at + len(words), coder="a"))
    return record


def _item(project, **options):
    report = ExportReport(exporter="test", dest="-")
    (item,) = list(export_items(project, ExportOptions(**options), report))
    return item, report


def _quoted(item) -> list:
    return [item.text[c.start:c.end] for c in item.codings]


def test_internal_profile_omits_non_consenting_speakers_and_quotes_by_speaker(project, panel):
    item, report = _item(project)
    for who in ("P03", "P07", "Moderator"):
        assert SAID[who] in item.text
    for who in ("P09", "P11", "Sam"):
        assert SAID[who] not in item.text
    assert item.text.count(TURN_OMITTED) == 3 and item.omitted_turns == 3
    assert item.record.body == item.text  # an exporter reading the record sees the same
    assert sorted(_quoted(item)) == sorted([SAID["Moderator"], SAID["P03"]])
    assert [item.text[c.start:c.end] for c in item.withheld] == [SAID["P07"]]
    assert report.counts["turns omitted (consent)"] == 3


def test_publication_profile_is_stricter(project, panel):
    item, _ = _item(project, profile="publication")
    assert SAID["P07"] not in item.text and item.text.count(TURN_OMITTED) == 4
    assert sorted(_quoted(item)) == sorted([SAID["Moderator"], SAID["P03"]]) and item.withheld == ()
    assert item.record.observed_at == dt.datetime(2026, 3, 12, tzinfo=dt.timezone.utc)
    assert item.record.observed_precision == "day"
    with pytest.raises(Refused, match="publication"):
        _item(project, profile="publication", anonymise=False)


def test_a_note_without_turns_under_publication_needs_everyones_quote_consent(project, panel):
    from fieldkit.fieldwork.capture import note

    quiet = note(project, "The room was cold.", encounter="E2")
    report = ExportReport(exporter="test", dest="-")
    ids = [i.record.id for i in export_items(project, ExportOptions(profile="publication"), report)]
    assert quiet.id not in ids
    assert [x.reason for x in report.left_out] == ["no consent to quotes (publication profile)"]
    internal = [i for i in export_items(project, ExportOptions(), ExportReport(exporter="t", dest="-"))
                if i.record.id == quiet.id]
    assert internal and internal[0].codings == () and internal[0].text.strip() == "The room was cold."


def _text_of(path: Path) -> str:
    if path.is_dir():
        return "".join(_text_of(p) for p in sorted(path.rglob("*")) if p.is_file())
    if path.suffix in (".docx", ".qdpx"):
        with zipfile.ZipFile(path) as z:
            return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    return path.read_text(encoding="utf-8-sig", errors="replace")


@pytest.mark.parametrize("fmt, name", [("csv", "csv"), ("html", "r.html"), ("docx", "r.docx"),
                                       ("markdown", "md"), ("qdpx", "p.qdpx"), ("prisons-evidence", "e.csv")])
@pytest.mark.parametrize("profile", ["internal", "publication"])
def test_every_export_with_text_leaves_out_their_words(project, panel, tmp_path, fmt, name, profile):
    run_export(project, fmt, tmp_path / name, ExportOptions(profile=profile))
    text = _text_of(tmp_path / name)
    for who in ("P09", "P11", "Sam") + (("P07",) if profile == "publication" else ()):
        assert SAID[who] not in text, (fmt, who)
    assert SAID["P03"] in text
    if fmt != "prisons-evidence":  # that table holds coded segments only
        assert TURN_OMITTED in text


def test_quotes_tables_hold_only_quotable_words(project, panel, tmp_path):
    import csv

    report = run_export(project, "csv", tmp_path / "csv", ExportOptions())
    with open(tmp_path / "csv" / "quotes.csv", encoding="utf-8-sig", newline="") as handle:
        quotes = [row["quote"] for row in csv.DictReader(handle)]
    assert sorted(quotes) == sorted([SAID["Moderator"], SAID["P03"]])
    assert sum(1 for x in report.left_out if x.reason == "no consent to quotes") == 1
    with open(tmp_path / "csv" / "codings.csv", encoding="utf-8-sig", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 3  # positions of P07's coding too, not its words


def test_export_stops_when_the_release_policy_cannot_run(project, panel, tmp_path, monkeypatch):
    from fieldkit.privacy import consent

    def broken(self, project, profile="internal"):
        raise RuntimeError("consent table unreadable")

    monkeypatch.setattr(consent.ReleasePolicy, "__init__", broken)
    with pytest.raises(FieldkitError, match="consent release policy could not run"):
        run_export(project, "html", tmp_path / "r.html", ExportOptions())
    assert not (tmp_path / "r.html").exists()


def test_cli_profile_in_a_fresh_process(project, panel, tmp_path):
    fieldkit_script = str(Path(sys.executable).with_name("fieldkit"))
    result = subprocess.run([fieldkit_script, "--project", str(project.path), "export", "markdown",
                             str(tmp_path / "md"), "--profile", "publication"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "turns omitted (consent)" in result.stdout
    assert SAID["P07"] not in _text_of(tmp_path / "md")
    bad = subprocess.run([fieldkit_script, "--project", str(project.path), "export", "markdown",
                          str(tmp_path / "md2"), "--profile", "publication", "--raw"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and bad.stderr.startswith("Error: ") and "Traceback" not in bad.stderr


def test_quotes_name_the_speakers_of_their_words_not_everyone_present(project, panel, tmp_path):
    import csv

    run_export(project, "csv", tmp_path / "csv", ExportOptions())
    with open(tmp_path / "csv" / "quotes.csv", encoding="utf-8-sig", newline="") as handle:
        rows = {row["quote"]: row for row in csv.DictReader(handle)}
    assert rows[SAID["P03"]]["participants"] == "P03"
    assert rows[SAID["P03"]]["participant_roles"] == "person_on_probation"
    assert rows[SAID["Moderator"]]["participants"] == "(researcher)"


def test_a_withdrawn_participant_is_not_listed_as_present(project, panel, tmp_path):
    run_export(project, "html", tmp_path / "r.html", ExportOptions())
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "P03, P07, P11" in html and "P03, P07, P09" not in html


from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

_STATUS = {"P03": ("given", ["observation", "quotes"]), "P07": ("given", ["observation"]),
           "P09": ("withdrawn", None), "P11": (None, None)}
_WORDS = st.lists(st.sampled_from(["walnut", "ledger", "kite", "panel", "ok", "é", "curfew"]), min_size=1, max_size=5)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(said=st.lists(st.tuples(st.sampled_from(["P03", "P07", "P09", "P11", "Researcher", "Speaker 1"]), _WORDS),
                     min_size=1, max_size=7),
       profile=st.sampled_from(["internal", "publication"]))
def test_released_text_is_the_consenting_speakers_words_in_order(tmp_path_factory, said, profile):
    """Oracle: the body rebuilt from the generated turns, each kept or replaced by its
    speaker's consent as the table in docs/anonymisation.md states it."""
    import fieldkit

    folder = tmp_path_factory.mktemp("r")
    project = fieldkit.init(folder / "p")
    try:
        for code, (status, scopes) in _STATUS.items():
            add_participant(project, code)
            if status == "withdrawn":
                record_consent(project, code, "given")
            if status:
                record_consent(project, code, status, scopes)
        add_encounter(project, "focus_group", code="E1", participants=list(_STATUS))
        turns = [(who, " ".join(words)) for who, words in said]
        (folder / "t.txt").write_text("".join(f"{who}: {text}\n" for who, text in turns))
        transcripts.load(project, folder / "t.txt", ImportOptions(encounter="E1", allow_unknown=True))
        kept = {"Researcher", "P03", "P07"} if profile == "internal" else {"Researcher", "P03"}
        expected = "\n\n".join(f"{who}: {text if who in kept else TURN_OMITTED}" for who, text in turns) + "\n"
        report = ExportReport(exporter="test", dest="-")
        (item,) = list(export_items(project, ExportOptions(anonymise=False, profile="internal")
                                    if profile == "internal" else ExportOptions(profile=profile), report))
        assert item.text == expected
    finally:
        project.close()
