"""Exports honour consent: withdrawn participants left out, quotes only with the quotes scope."""

from __future__ import annotations

import csv

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import fieldkit
from fieldkit.privacy import anonymiser as an
from fieldkit.fieldwork.capture import memo, note
from fieldkit.privacy.consent import release_policy, record_consent
from fieldkit.exchange.exporting import ExportOptions, ExportReport, export_items, run_export
from fieldkit.fieldwork.registers import add_encounter, add_participant
from fieldkit.core.records import Code, Coding


@pytest.fixture
def study(project, tmp_path):
    store = an.create_keystore(project, tmp_path / "k.keys")
    store.add("P03", "Dana Okafor", ["Dee"])
    store.add("P07", "Marek Lindqvist", [])
    store.close()
    for code in ("P03", "P07", "P09"):
        add_participant(project, code)
    record_consent(project, "P03", "given", ["observation", "quotes"])
    record_consent(project, "P07", "given", ["observation"])
    record_consent(project, "P09", "given", ["observation", "quotes"])
    add_encounter(project, "interview", code="E1", participants=["P03"])
    add_encounter(project, "focus_group", code="E2", participants=["P03", "P09"])
    add_encounter(project, "interview", code="E3", participants=["P07"])
    add_encounter(project, "interview", code="E4", participants=["P09"])
    records = {
        "interview": note(project, "Dana Okafor talked about her PSR.", encounter="E1"),
        "group_quiet": note(project, "The group discussed ratings.", encounter="E2"),
        "group_mention": note(project, "@P03 disagreed; Dee left early.", encounter="E2"),
        "no_quotes": note(project, "Marek Lindqvist on supervision.", encounter="E3"),
        "quotes_ok": note(project, "P09 on the panel.", encounter="E4"),
        "memo_link": memo(project, "About the first interview.", links=["E1"]),
    }
    code = project.add(Code(name="voice"))
    for record in records.values():
        project.add(Coding(record_id=record.id, code_id=code.id, start=0, end=5, coder="a"))
    return records


def _items(project, **kw):
    report = ExportReport(exporter="test", dest="-")
    items = {i.record.id: i for i in export_items(project, ExportOptions(**kw), report)}
    return items, report


def test_policy_before_and_after_withdrawal(project, study):
    policy = release_policy(project)
    assert all(policy.excluded(r) is None for r in study.values())
    assert policy.quotes_allowed(study["interview"]) and policy.quotes_allowed(study["quotes_ok"])
    assert not policy.quotes_allowed(study["no_quotes"])
    record_consent(project, "P03", "withdrawn")
    policy = release_policy(project)
    assert policy.excluded(study["interview"]) == "P03 withdrew consent (interview)"
    assert policy.excluded(study["group_mention"]) == "P03 withdrew consent"
    assert policy.excluded(study["memo_link"]) == "P03 withdrew consent (interview)"
    assert policy.excluded(study["group_quiet"]) is None  # group record kept: see docs
    assert policy.excluded(study["quotes_ok"]) is None


def test_export_items_are_anonymised_and_leave_out_withdrawn(project, study):
    record_consent(project, "P03", "withdrawn")
    items, report = _items(project)
    assert study["interview"].id not in items and study["group_mention"].id not in items
    assert items[study["no_quotes"].id].text == "[P07] on supervision."
    assert items[study["no_quotes"].id].quotes_allowed is False
    assert items[study["quotes_ok"].id].quotes_allowed is True
    reasons = {x.reason for x in report.left_out}
    assert reasons == {"P03 withdrew consent", "P03 withdrew consent (interview)"}
    raw, _ = _items(project, anonymise=False)
    assert raw[study["no_quotes"].id].text.startswith("Marek")


def test_csv_export_reports_what_it_left_out(project, study, tmp_path):
    record_consent(project, "P03", "withdrawn")
    report = run_export(project, "csv", tmp_path / "out", ExportOptions())
    lines = "\n".join(report.summary_lines())
    assert "left out" in lines and "P03 withdrew consent" in lines and "no consent to quotes" in lines
    everything = "".join(p.read_text() for p in (tmp_path / "out").glob("*.csv"))
    for secret in ("Dana", "Okafor", "Dee", "Marek", "Lindqvist", "PSR"):
        assert secret not in everything
    with open(tmp_path / "out" / "quotes.csv", newline="") as f:
        quoted = {row["record_id"] for row in csv.DictReader(f)}
    assert study["quotes_ok"].id in quoted and study["no_quotes"].id not in quoted


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mentions=st.lists(st.sampled_from(["P03", "P07", "p03", "P09"]), max_size=4),
       withdrawn=st.sets(st.sampled_from(["P03", "P07", "P09"])))
def test_a_record_mentioning_a_withdrawn_participant_never_leaves(tmp_path_factory, mentions, withdrawn):
    project = fieldkit.init(tmp_path_factory.mktemp("c") / "p")
    try:
        for code in ("P03", "P07", "P09"):
            add_participant(project, code)
            record_consent(project, code, "given", ["observation", "quotes"])
        for code in withdrawn:
            record_consent(project, code, "withdrawn")
        record = note(project, "Notes " + " ".join("@" + m for m in mentions))
        items, report = _items(project, anonymise=False)
        should_leave = not any(m.upper() in withdrawn for m in mentions)
        assert (record.id in items) == should_leave
        assert len(report.left_out) == (0 if should_leave else 1)
    finally:
        project.close()
