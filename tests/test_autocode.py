"""Auto-coding: the built-in keywords coder, proposals, accept/reject, failing plugins."""

from __future__ import annotations

import pytest

from fieldkit import hookimpl

from fieldkit.coding import autocode

from fieldkit.fieldwork import capture

from fieldkit.coding import codings as coding

from fieldkit.hooks import manager as plugin_manager
from fieldkit.coding.codebook import add_code, load_into_project
from fieldkit.core.errors import FieldkitError, NotFound, PluginError, Refused
from fieldkit.hooks.registry import Coder


@pytest.fixture
def keyed(project):
    add_code(project, "tokenism", keywords=["word:tokenism", "phrase:tick box"])
    add_code(project, "voice", keywords=["near:expert,experience:3", "regex:\\blisten(?:ed|ing)?\\b"])
    add_code(project, "plain")
    n1 = capture.note(project, "It felt like a Tick  Box exercise; tokenism, said the expert by experience.")
    n2 = capture.note(project, "Nobody listened. Experience of an expert is rare here.")
    memo = capture.memo(project, "Tokenism or partnership?")
    return project, n1, n2, memo


def texts(project, codings):
    return sorted((coding.code_path(project, project.get(c.code_id)), project.get(c.record_id).body[c.start:c.end])
                  for c in codings)


def test_keywords_coder_is_registered():
    assert "keywords" in autocode.available_coders()


def test_run_stores_proposals_as_auto_coder(keyed):
    project, n1, n2, memo = keyed
    report = autocode.run_autocoder(project, all_records=True)
    assert report.coder == "auto:keywords" and report.records == 3
    found = coding.list_codings(project, coder="auto:keywords")
    assert report.proposed == len(found) == 6
    assert texts(project, found) == [
        ("tokenism", "Tick  Box"), ("tokenism", "Tokenism"), ("tokenism", "tokenism"),
        ("voice", "Experience of an expert"), ("voice", "expert by experience"), ("voice", "listened"),
    ]
    assert all(c.note.startswith("keywords: ") for c in found)
    assert report.by_code == {"tokenism": 3, "voice": 3}


def test_rerun_is_idempotent_and_rejections_stick(keyed):
    project, n1, *_ = keyed
    autocode.run_autocoder(project, records=[n1.id])
    pending = autocode.proposals(project)
    rejected = autocode.reject(project, [pending[0].id], reason="not tokenism here")
    again = autocode.run_autocoder(project, records=[n1.id])
    assert again.proposed == 0 and again.already == len(pending)
    assert rejected[0].id not in {p.id for p in autocode.proposals(project)}


def test_accept_copies_to_a_person_and_keeps_the_proposal(keyed):
    project, n1, *_ = keyed
    autocode.run_autocoder(project, records=[n1.id])
    first = autocode.proposals(project)[0]
    made = autocode.accept(project, [first.id[-8:]], as_coder="alice")
    assert len(made) == 1 and made[0].coder == "alice"
    assert (made[0].record_id, made[0].code_id, made[0].start, made[0].end) == (
        first.record_id, first.code_id, first.start, first.end)
    assert first.id not in {p.id for p in autocode.proposals(project)}  # no longer pending
    assert project.get(first.id).coder == "auto:keywords"  # still there for agreement
    assert autocode.accept(project, [first.id], as_coder="alice") == []  # already has it
    rest = autocode.accept(project, all_pending=True, as_coder="alice", code="voice")
    assert {coding.code_path(project, project.get(c.code_id)) for c in rest} == {"voice"}


def test_agreement_between_auto_coder_and_person(keyed):
    project, n1, *_ = keyed
    autocode.run_autocoder(project, records=[n1.id])
    coding.apply_code(project, n1.id, "tokenism", quote="tokenism", coder="alice")
    result = coding.agreement(project, ["auto:keywords", "alice"])
    rows = {r["code"]: r for r in result.rows}
    assert 0 < rows["tokenism"]["percent"] < 1
    assert any(d["applied_by"] == ["auto:keywords"] for d in result.disagreements)


def test_accept_and_reject_bad_input(keyed):
    project, n1, *_ = keyed
    human = coding.apply_code(project, n1.id, "plain", quote="felt", coder="alice")
    with pytest.raises(Refused, match="not an auto-coder proposal"):
        autocode.reject(project, [human.id])
    with pytest.raises(FieldkitError, match="--all"):
        autocode.accept(project, [], as_coder="alice")
    autocode.run_autocoder(project, records=[n1.id])
    with pytest.raises(Refused, match="as a person"):
        autocode.accept(project, all_pending=True, as_coder="auto:me")
    with pytest.raises(FieldkitError, match="not both"):
        autocode.reject(project, [human.id], all_pending=True)


def test_run_bad_input(keyed):
    project, *_ = keyed
    with pytest.raises(NotFound, match="no auto-coder named 'magic'.*keywords"):
        autocode.run_autocoder(project, "magic", all_records=True)
    with pytest.raises(FieldkitError, match="or --all"):
        autocode.run_autocoder(project)
    from fieldkit.fieldwork.registers import add_encounter

    add_encounter(project, "interview")
    with pytest.raises(Refused, match="has none"):
        autocode.run_autocoder(project, records=["E1"])
    with pytest.raises(NotFound):
        autocode.run_autocoder(project, records=["NOSUCH"])


def test_codes_option_limits_the_codes_offered(keyed):
    project, *_ = keyed
    report = autocode.run_autocoder(project, all_records=True, codes=["voice"])
    assert set(report.by_code) == {"voice"}


class _Plugin:
    def __init__(self, propose):
        self.propose = propose

    @hookimpl
    def register_coders(self, register):
        register(Coder(name="test", propose=self.propose))


def _install(propose):
    plugin_manager.get_plugin_manager().register(_Plugin(propose), name="test-coder")


def test_failing_plugin_writes_nothing(keyed):
    project, n1, n2, memo = keyed
    seen = []

    def propose(project, record, codes):
        seen.append(record.id)
        if len(seen) == 2:
            raise RuntimeError("model not found")
        yield autocode.Proposal(codes[0].id, 0, 2)

    _install(propose)
    with pytest.raises(PluginError, match="auto-coder test failed on .*RuntimeError: model not found"):
        autocode.run_autocoder(project, "test", all_records=True)
    assert coding.list_codings(project) == []


@pytest.mark.parametrize("bad, message", [
    (lambda codes: [autocode.Proposal("NOTACODE", 0, 1)], "not an active code"),
    (lambda codes: [autocode.Proposal(codes[0].id, 0, 10_000)], "outside"),
    (lambda codes: [autocode.Proposal(codes[0].id, 3, None)], "only one end"),
    (lambda codes: ["tokenism"], "expected a Proposal"),
])
def test_bad_proposals_are_the_plugins_fault(keyed, bad, message):
    project, n1, *_ = keyed
    _install(lambda project, record, codes: bad(codes))
    with pytest.raises(PluginError, match=message):
        autocode.run_autocoder(project, "test", records=[n1.id])
    assert coding.list_codings(project) == []


def test_plugin_may_propose_whole_records_and_dicts(keyed):
    project, n1, *_ = keyed
    _install(lambda project, record, codes: [
        autocode.Proposal(codes[0].id), {"code_id": codes[1].id, "start": 0, "end": 2, "note": "d"}])
    report = autocode.run_autocoder(project, "test", records=[n1.id])
    assert report.proposed == 2 and report.coder == "auto:test"
    assert {(c.start, c.end) for c in coding.list_codings(project)} == {(None, None), (0, 2)}


def test_coproduction_keywords_propose_codings(project):
    assert "coproduction" in plugin_manager.codebooks()
    load_into_project(project, "coproduction")
    capture.note(project, "The EbE said the co-production panel felt tokenistic, a tick-box exercise, "
                          "and that people on probation were consulted but never decided anything.")
    report = autocode.run_autocoder(project, all_records=True)
    assert report.proposed > 0
