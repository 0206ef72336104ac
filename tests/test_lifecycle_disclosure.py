"""Disclosure review, sign-off, strict exports and the archive deposit."""

from __future__ import annotations

import csv
import hashlib
import json

import pytest
from lifecycle_helpers import build

from fieldkit.core.errors import InvalidInput, Refused
from fieldkit.core.records import Observation
from fieldkit.exchange.exporting import ExportOptions, run_export
from fieldkit.exchange.register import selection_key
from fieldkit.lifecycle.deposit import MANIFEST_FILE, verify
from fieldkit.lifecycle.disclosure import disclosure_report, sign_off
from fieldkit.privacy.consent import record_consent
from fieldkit.privacy.review import candidates, decide


@pytest.fixture
def study(project, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    build(project)
    return project


def review_everything(project):
    for candidate in candidates(project):
        if candidate.needs_review or (not candidate.claimed and candidate.status == "pending"):
            decide(project, candidate, "reject")


def cells(report) -> set:
    return {i.message.split(":")[0] for i in report.items if i.kind == "small cell"}


def test_small_cells_follow_k(study):
    # the fixture by hand: P01 practitioner (grade PO), P02 manager (SPO), P03 person on
    # probation, all three in the Brackwater focus group; P03 alone at Fernhollow. Codes count
    # who said the coded words: P03 (trust twice, resources once) and P01 (resources), not P02
    study.set_setting("disclosure", {"k": 2, "attributes": []})
    report = disclosure_report(study, ExportOptions())
    assert cells(report) == {
        "role 'manager' at Brackwater office", "role 'person_on_probation' at Brackwater office",
        "role 'person_on_probation' at Fernhollow PDU", "role 'probation_practitioner' at Brackwater office",
        "code 'resources' x role 'person_on_probation'",
        "code 'resources' x role 'probation_practitioner'", "code 'trust' x role 'person_on_probation'"}
    # only the interview: one site, one person, one code
    only = disclosure_report(study, ExportOptions(encounters=("E1",)))
    assert cells(only) == {"role 'person_on_probation' at Fernhollow PDU", "code 'trust' x role 'person_on_probation'"}
    assert only.key != report.key == selection_key(ExportOptions())


def test_attributes_are_crossed_with_sites(study):
    study.set_setting("disclosure", {"k": 2})
    found = cells(disclosure_report(study, ExportOptions()))
    assert {"attribute grade 'PO' at Brackwater office", "attribute grade 'PO' in the whole export",
            "attribute grade 'SPO' in the whole export"} <= found


def test_unregistered_names_and_unreviewed_text_are_open_items(study):
    group = study.get("E2", type_name="encounter")
    study.add(Observation(stage="fieldnote", body="Afterwards Tamsin Rowlatt from the council joined us.",
                          encounter_id=group.id))
    kinds = {i.kind for i in disclosure_report(study, ExportOptions()).open_items}
    assert {"unresolved names", "unreviewed text"} & kinds
    review_everything(study)
    kinds = {i.kind for i in disclosure_report(study, ExportOptions()).open_items}
    assert kinds == {"small cell"}


def test_sign_off_needs_everything_resolved_or_accepted_with_a_reason(study):
    review = disclosure_report(study, ExportOptions())
    with pytest.raises(Refused, match="open item"):
        sign_off(study, review)
    with pytest.raises(InvalidInput, match="needs a note"):
        sign_off(study, review, accept=["small cell"])
    review_everything(study)
    review = disclosure_report(study, ExportOptions())
    detail = sign_off(study, review, accept=["small cell"], note="roles are broad categories")
    line = [a for a in study.audit_log() if a["action"] == "disclosure-sign-off"][0]
    assert line["record_id"] == review.key
    assert json.loads(line["detail"]) == detail and detail["accepted"] == ["small cell"]


def test_strict_exports_need_a_current_sign_off(study, tmp_path):
    study.set_setting("disclosure", {"strict": True})
    with pytest.raises(Refused, match="no current disclosure sign-off"):
        run_export(study, "html", tmp_path / "a.html", ExportOptions())
    assert not (tmp_path / "a.html").exists()
    review_everything(study)
    sign_off(study, disclosure_report(study, ExportOptions()), accept=["small cell"], note="broad roles")
    run_export(study, "html", tmp_path / "a.html", ExportOptions())
    with pytest.raises(Refused, match="no current"):  # another selection
        run_export(study, "html", tmp_path / "b.html", ExportOptions(types=("observation",)))
    study.add(Observation(stage="jotting", body="the lift is broken again"))
    with pytest.raises(Refused, match="no current"):  # the data changed since
        run_export(study, "html", tmp_path / "c.html", ExportOptions())


def _manifest_ok(folder) -> bool:
    """Checked here with hashlib, independently of fieldkit's verify()."""
    for line in (folder / MANIFEST_FILE).read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        if hashlib.sha256((folder / name).read_bytes()).hexdigest() != digest:
            return False
    listed = {line.split("  ", 1)[1] for line in (folder / MANIFEST_FILE).read_text().splitlines()}
    return listed == {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {MANIFEST_FILE}


def rows(path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_deposit_refuses_open_items_and_raw(study, tmp_path):
    with pytest.raises(Refused, match="open item"):
        run_export(study, "deposit", tmp_path / "dep", ExportOptions())
    with pytest.raises(Refused, match="always anonymised"):
        run_export(study, "deposit", tmp_path / "dep", ExportOptions(anonymise=False))
    assert not (tmp_path / "dep").exists()


def test_deposit_package(study, tmp_path):
    record_consent(study, "P02", "limited", ("observation", "quotes"))  # no archive
    review_everything(study)
    sign_off(study, disclosure_report(study, ExportOptions()), accept=["small cell"], note="broad roles")
    dest = tmp_path / "dep"
    report = run_export(study, "deposit", dest, ExportOptions())
    assert _manifest_ok(dest) and verify(dest) == []
    everything = b"".join(p.read_bytes() for p in dest.rglob("*") if p.is_file())
    assert b"Thackaberry" not in everything and b"Oriel" not in everything
    notes = rows(dest / "data" / "notes.csv")
    assert len(notes) == 1 and "[OFFICER1]" in notes[0]["text"]  # the interview; the focus group had P02
    assert b"Nobody read the sentence plans" not in everything
    assert report.left_out_by_reason() == {"no archive consent": 2}
    assert [r["code"] for r in rows(dest / "data" / "participants.csv")] == ["P03"]
    assert {r["kind"]: r["replaced"] for r in rows(dest / "anonymisation_summary.csv")} == {"name": "1"}
    readme = (dest / "README.txt").read_text(encoding="utf-8")
    for name in ("data/notes.csv", "codebook.csv", "methods_and_consent.txt", MANIFEST_FILE):
        assert name in readme
    assert "archive: 3" in (dest / "methods_and_consent.txt").read_text(encoding="utf-8")
    (dest / "codebook.csv").write_text("tampered", encoding="utf-8")
    assert verify(dest) == ["codebook.csv"] and not _manifest_ok(dest)
    register = study.store.lifecycle.copies(study.resolve("P03", "participant"))
    assert register[-1]["format"] == "deposit" and register[-1]["left_out"] == {"no archive consent": 2}
    assert study.resolve("P02", "participant") not in register[-1]["participants"]
