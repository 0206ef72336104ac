"""The ``prisons-evidence`` exporter: one CSV row per coded segment, through export_items."""

import csv

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldkit.fieldwork import capture

from fieldkit.coding import codings as coding

from fieldkit.fieldwork import registers as fieldwork
from fieldkit.coding.codebook import load_into_project
from fieldkit.core.errors import Refused
from fieldkit.exchange.exporting import ExportOptions, run_export

import fieldkit_prisons_inspection as plugin
from fieldkit_prisons_inspection.evidence import COLUMNS

RAW = ExportOptions(anonymise=False)


def read(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def coded(fieldkit_plugin, fieldkit_project):
    fieldkit_plugin(plugin, "prisons")
    project = fieldkit_project
    load_into_project(project, "prisons")
    fieldwork.add_site(project, "HMP Fenmoor")
    enc = fieldwork.add_encounter(project, "observation_session", code="E1", title="Wing walk", site="HMP Fenmoor")
    note = capture.note(project, "The shower on the threes was broken. Six of twelve workshop places filled.",
                        encounter=enc.code, when="2026-03-02 10:00")
    coding.apply_code(project, note.id, "dignity-and-respect/living-conditions", quote="The shower on the threes was broken.")
    coding.apply_code(project, note.id, "time-out-of-cell/education-and-work", quote="Six of twelve workshop places filled.")
    memo = capture.memo(project, "Safety felt like the main worry for new arrivals.")
    coding.apply_code(project, memo.id, "safety", whole=True)
    return project


def test_evidence_table_rows(coded, tmp_path):
    dest = tmp_path / "evidence.csv"
    report = run_export(coded, "prisons-evidence", dest, RAW)
    rows = read(dest)
    assert list(rows[0]) == list(COLUMNS)
    assert [(r["area"], r["code"]) for r in rows] == [
        ("dignity-and-respect", "dignity-and-respect/living-conditions"),
        ("safety", "safety"),
        ("time-out-of-cell", "time-out-of-cell/education-and-work"),
    ]
    living = rows[0]
    assert living["evidence"] == "The shower on the threes was broken."
    assert (living["encounter"], living["site"], living["date"]) == ("E1", "HMP Fenmoor", "2026-03-02")
    assert rows[1]["evidence"] == "Safety felt like the main worry for new arrivals."
    assert report.counts["evidence rows"] == 3


def test_code_filter_keeps_only_that_branch(coded, tmp_path):
    dest = tmp_path / "safety.csv"
    run_export(coded, "prisons-evidence", dest, ExportOptions(anonymise=False, codes=("safety",)))
    assert [r["code"] for r in read(dest)] == ["safety"]


def test_refuses_to_overwrite_without_force(coded, tmp_path):
    dest = tmp_path / "mine.csv"
    dest.write_text("the user's own file\n")
    with pytest.raises(Refused):
        run_export(coded, "prisons-evidence", dest, RAW)
    assert dest.read_text() == "the user's own file\n"
    run_export(coded, "prisons-evidence", dest, ExportOptions(anonymise=False, force=True))
    assert len(read(dest)) == 3


def test_withdrawn_participant_and_no_quote_consent_are_left_out(coded, tmp_path):
    from fieldkit.privacy import consent
    from fieldkit.privacy.consent import record_consent

    assert hasattr(consent, "release_policy")

    fieldwork.add_participant(coded, "P01", role="person_on_probation")
    fieldwork.add_participant(coded, "P02", role="inspector")
    record_consent(coded, "P01", "withdrawn")
    record_consent(coded, "P02", "given", ["observation"])
    n1 = capture.note(coded, "@P01 said the induction was rushed.")
    n2 = capture.note(coded, "@P02 said the regime board was out of date.")
    coding.apply_code(coded, n1.id, "safety/early-days", quote="induction was rushed")
    coding.apply_code(coded, n2.id, "time-out-of-cell", quote="regime board was out of date")
    dest = tmp_path / "evidence.csv"
    report = run_export(coded, "prisons-evidence", dest, RAW)
    evidence = [r["evidence"] for r in read(dest)]
    assert "induction was rushed" not in evidence
    assert "regime board was out of date" not in evidence
    assert {item.record_id for item in report.left_out} & {n1.id}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=3, max_size=60)
       .filter(lambda t: t.strip()), data=st.data())
def test_evidence_is_exactly_the_coded_text(coded, tmp_path_factory, body, data):
    """Round trip: what the table says was coded is the text the coding covers."""
    note = capture.note(coded, body)
    text = coded.get(note.id).body
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    made = coding.apply_code(coded, note.id, "release-and-resettlement", start=start, end=end)
    dest = tmp_path_factory.mktemp("ev") / "e.csv"
    run_export(coded, "prisons-evidence", dest, RAW)
    [row] = [r for r in read(dest) if r["record"] == note.id]
    assert row["evidence"] == text[made.start:made.end]
    coded.delete(note.id, reason="test clean-up")
