"""Segments, frequencies, co-occurrence and code-by-attribute tables (all fictional data)."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fieldkit
from fieldkit.fieldwork import capture
from fieldkit.coding import codings as coding
from fieldkit.coding import queries
from fieldkit.coding.codebook import add_code
from fieldkit.core.errors import FieldkitError, NotFound
from fieldkit.fieldwork.registers import add_encounter, add_participant, add_site
from fieldkit.core.records import Coding


@pytest.fixture
def study(project):
    """Two sites, three participants in three roles, notes, a memo and codings by two people."""
    add_site(project, "North PDU", kind="probation_delivery_unit")
    add_site(project, "HMP Example", kind="prison")
    add_participant(project, "P01", role="expert_by_experience", attributes={"region": "north"})
    add_participant(project, "P02", role="inspector", attributes={"region": "south"})
    add_participant(project, "P03", role="probation_practitioner", organisation="Fictional CRC")
    add_encounter(project, "inspection_meeting", code="E1", site="North PDU", participants=["P01", "P02"])
    add_encounter(project, "interview", code="E2", site="HMP Example", participants=["P03"])
    add_code(project, "power")
    add_code(project, "asymmetry", parent="power")
    add_code(project, "voice")
    n1 = capture.note(project, "The inspector hands the intro to the EbE. The EbE speaks about being heard.", encounter="E1")
    n2 = capture.note(project, "The practitioner says @P01 was never asked. Power sits with managers.", encounter="E2")
    memo = capture.memo(project, "Across sites, voice is conditional on power.")
    c = {}
    c["a1"] = coding.apply_code(project, n1.id, "asymmetry", quote="hands the intro", coder="alice")
    c["a2"] = coding.apply_code(project, n1.id, "voice", quote="The EbE speaks about being heard", coder="alice")
    c["a3"] = coding.apply_code(project, n1.id, "power", quote="inspector hands", coder="alice")
    c["a4"] = coding.apply_code(project, n2.id, "power", quote="Power sits with managers", coder="alice")
    c["a5"] = coding.apply_code(project, n2.id, "voice", quote="was never asked", coder="alice")
    c["b1"] = coding.apply_code(project, memo.id, "voice", whole=True, coder="bob")
    c["b2"] = coding.apply_code(project, memo.id, "power", quote="power", coder="bob")
    c["e1"] = coding.apply_code(project, "E2", "power", whole=True, coder="bob")
    return project, {"n1": n1, "n2": n2, "memo": memo}, c


def test_segments_with_descendants_and_context(study):
    project, notes, c = study
    rows = queries.segments(project, "power", context=10)
    assert {r["coding"] for r in rows} == {c[k].id for k in ("a1", "a3", "a4", "b2", "e1")}
    a1 = next(r for r in rows if r["coding"] == c["a1"].id)
    assert a1["text"] == "hands the intro" and a1["code"] == "power/asymmetry"
    assert a1["before"] == "inspector " and a1["after"] == " to the Eb"
    assert a1["encounter"] == "E1"
    only = queries.segments(project, "power", descendants=False)
    assert c["a1"].id not in {r["coding"] for r in only}
    enc = next(r for r in rows if r["coding"] == c["e1"].id)
    assert enc["start"] is None and enc["text"].startswith("E2")
    with pytest.raises(NotFound):
        queries.segments(project, "nosuch")


def test_frequencies_by_code_and_record(study):
    project, notes, c = study
    by_code = {r["code"]: r for r in queries.frequencies(project)}
    assert by_code["power"]["codings"] == 4 and by_code["power"]["records"] == 4
    assert by_code["voice"]["codings"] == 3
    rolled = {r["code"]: r for r in queries.frequencies(project, rollup=True)}
    assert rolled["power"]["codings"] == 5  # asymmetry counts for its parent
    by_record = queries.frequencies(project, "record")
    assert {"code": "voice", "record": notes["memo"].id, "codings": 1, "records": 1} in by_record
    bob = queries.frequencies(project, coder="bob")
    assert sum(r["codings"] for r in bob) == 3


def test_frequencies_by_participant_role_site_and_encounter(study):
    project, notes, c = study
    by_part = queries.frequencies(project, "participant")
    # n2 is in E2 (P03) and @mentions P01: its codings count for both
    assert {"code": "power", "participant": "P01", "codings": 2, "records": 2} in by_part
    assert {"code": "power", "participant": "P03", "codings": 2, "records": 2} in by_part
    assert {"code": "power", "participant": "(none)", "codings": 1, "records": 1} in by_part  # the memo
    by_role = {(r["code"], r["role"]): r["codings"] for r in queries.frequencies(project, "role")}
    assert by_role[("voice", "expert_by_experience")] == 2
    assert by_role[("voice", "inspector")] == 1
    by_site = {(r["code"], r["site"]): r["codings"] for r in queries.frequencies(project, "site")}
    assert by_site[("power", "HMP Example")] == 2 and by_site[("power", "North PDU")] == 1
    by_enc = {(r["code"], r["encounter"]): r["codings"] for r in queries.frequencies(project, "encounter")}
    assert by_enc[("voice", "E1")] == 1 and by_enc[("voice", "(none)")] == 1
    with pytest.raises(FieldkitError, match="choose from"):
        queries.frequencies(project, "weather")


def test_record_context(study):
    project, notes, _ = study
    ctx = queries.record_context(project, notes["n2"].id)
    codes = {project.get(p).code for p in ctx.participant_ids}
    assert codes == {"P01", "P03"}
    assert project.get(ctx.site_id).name == "HMP Example"


def test_cooccurrence_overlap_and_record(study):
    project, notes, c = study
    rows = {(r["code_a"], r["code_b"]): r for r in queries.cooccurrence(project)}
    # "inspector hands" overlaps "hands the intro" in n1; the memo's whole-record voice overlaps its power
    assert rows[("power", "power/asymmetry")] == {"code_a": "power", "code_b": "power/asymmetry",
                                                  "overlaps": 1, "records": 1}
    assert rows[("power", "voice")]["overlaps"] == 1
    assert rows[("power", "voice")]["records"] == 3  # n1, n2, memo
    assert rows[("power/asymmetry", "voice")] == {"code_a": "power/asymmetry", "code_b": "voice",
                                                  "overlaps": 0, "records": 1}
    same = {(r["code_a"], r["code_b"]): r for r in queries.cooccurrence(project, coder="alice")}
    assert same[("power", "voice")]["overlaps"] == 0 and same[("power", "voice")]["records"] == 2
    assert queries.cooccurrence(project, min_count=2) == [
        {"code_a": "power", "code_b": "voice", "overlaps": 1, "records": 3}]


def test_matrix_by_role_and_attributes(study):
    project, notes, c = study
    rows = {r["code"]: r for r in queries.matrix(project, "role")}
    assert rows["voice"] == {"code": "voice", "expert_by_experience": 2, "inspector": 1,
                             "probation_practitioner": 1, "(none)": 1, "total": 3}
    assert list(rows["voice"])[-2:] == ["(none)", "total"]
    records = {r["code"]: r for r in queries.matrix(project, "role", count="records")}
    assert records["power"]["probation_practitioner"] == 2
    region = {r["code"]: r for r in queries.matrix(project, "region")}
    assert region["power/asymmetry"]["north"] == 1 and region["power/asymmetry"]["south"] == 1
    assert {r["code"]: r for r in queries.matrix(project, "attr:region")} == region
    kinds = {r["code"]: r for r in queries.matrix(project, "site_kind")}
    assert kinds["power"]["prison"] == 2
    by_coder = {r["code"]: r for r in queries.matrix(project, "coder")}
    assert by_coder["voice"] == {"code": "voice", "alice": 2, "bob": 1, "total": 3}
    with pytest.raises(FieldkitError, match="unknown attribute 'shoe'.*region"):
        queries.matrix(project, "shoe")
    chosen = queries.matrix(project, "role", codes=["power/asymmetry", "voice"])
    assert [r["code"] for r in chosen] == ["power/asymmetry", "voice"]


def test_codings_of_deleted_records_leave_the_analysis(study):
    project, notes, c = study
    project.delete(notes["n2"].id, reason="duplicate note")
    by_code = {r["code"]: r["codings"] for r in queries.frequencies(project)}
    assert by_code["power"] == 3 and by_code["voice"] == 2
    assert c["a4"].id not in {r["coding"] for r in queries.segments(project, "power")}
    assert all(r["records"] <= 2 for r in queries.cooccurrence(project))


def test_touching_segments_do_not_overlap(project):
    add_code(project, "a")
    add_code(project, "b")
    note = capture.note(project, "first second")
    coding.apply_code(project, note.id, "a", quote="first")
    coding.apply_code(project, note.id, "b", quote=" second")
    assert queries.cooccurrence(project) == [{"code_a": "a", "code_b": "b", "overlaps": 0, "records": 1}]


def test_auto_proposals_left_out_unless_asked(study):
    project, notes, c = study
    project.add(Coding(record_id=notes["n1"].id, code_id=coding.resolve_code(project, "voice").id,
                       start=0, end=3, coder="auto:keywords"))
    assert sum(r["codings"] for r in queries.frequencies(project)) == 8
    assert sum(r["codings"] for r in queries.frequencies(project, include_auto=True)) == 9
    assert sum(r["codings"] for r in queries.frequencies(project, coder="auto:keywords")) == 1


# co-occurrence against a plain pairwise reference (property) ---------------------------------
def reference_cooccurrence(codings, same_coder=False):
    """Every pair of codings compared directly: the obvious, slow way."""
    overlaps, records = Counter(), Counter()
    by_record: dict = {}
    for rec, code, s, e, coder in codings:
        by_record.setdefault(rec, []).append((code, s, e, coder))
    for rec, items in by_record.items():
        for (c1, s1, e1, k1), (c2, s2, e2, k2) in combinations(items, 2):
            if c1 == c2 or (same_coder and k1 != k2):
                continue
            key = tuple(sorted((c1, c2)))
            s1, e1 = (0, 10**9) if s1 is None else (s1, e1)
            s2, e2 = (0, 10**9) if s2 is None else (s2, e2)
            if max(s1, s2) < min(e1, e2):
                overlaps[key] += 1
        pairs = set()
        for coder in ({k for *_, k in items} if same_coder else [None]):
            mine = {code for code, _, _, k in items if coder is None or k == coder}
            pairs.update(combinations(sorted(mine), 2))
        for pair in pairs:
            records[pair] += 1
    return {k: (overlaps[k], records[k]) for k in set(overlaps) | set(records)}


# few distinct boundaries, so touching and nested segments are common
SEGMENT = st.one_of(st.just((None, None)),
                    st.tuples(st.sampled_from([0, 3, 5, 8]), st.sampled_from([3, 5, 8, 20])).filter(lambda t: t[0] < t[1]))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(st.tuples(st.integers(0, 2), st.sampled_from("abcd"), SEGMENT, st.sampled_from("xy")),
                     max_size=20))
def test_cooccurrence_equals_pairwise_reference(tmp_path_factory, items):
    project = fieldkit.init(tmp_path_factory.mktemp("co") / "p")
    try:
        for name in "abcd":
            add_code(project, name)
        ids = {n: coding.resolve_code(project, n).id for n in "abcd"}
        notes = [capture.note(project, "x" * 20) for _ in range(3)]
        records = [Coding(record_id=notes[r].id, code_id=ids[code], start=s, end=e, coder=coder)
                   for r, code, (s, e), coder in items]
        project.add_many(records)
        plain = [(r, code, s, e, coder) for r, code, (s, e), coder in items]
        for same in (False, True):
            got = {(r["code_a"], r["code_b"]): (r["overlaps"], r["records"])
                   for r in queries.cooccurrence(project, same_coder=same)}
            expected = reference_cooccurrence(plain, same_coder=same)
            assert got == {k: v for k, v in expected.items() if max(v) >= 1}
    finally:
        project.close()
