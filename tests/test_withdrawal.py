"""Withdrawal: everything linked to a participant is erased or redacted, in one transaction."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import fieldkit
from fieldkit.privacy import anonymiser as an
from fieldkit.store.attachments import attach
from fieldkit.fieldwork.capture import memo, note
from fieldkit.privacy.consent import current_consent
from fieldkit.core.errors import FieldkitError
from fieldkit.fieldwork.registers import add_encounter, add_participant
from fieldkit.privacy.keystore import KeyStore
from fieldkit.privacy.withdrawal import MARKER, withdraw, withdrawal_plan


@pytest.fixture
def study(project, tmp_path):
    store = an.create_keystore(project, tmp_path / "k.keys")
    store.add("P03", "Dana Okafor", ["Dee"])
    store.add("P07", "Marek Lindqvist", [])
    store.close()
    add_participant(project, "P03", attributes={"age band": "25-34"})
    add_participant(project, "P07")
    add_encounter(project, "interview", code="E1", participants=["P03"])
    add_encounter(project, "focus_group", code="E2", participants=["P03", "P07"])
    own = note(project, "Interview: Dana Okafor on her supervision.", encounter="E1")
    group = note(project, "In the group @P03 said little; Dee nodded. @P07 led.", encounter="E2")
    other = note(project, "@P07 spoke about the rating.", encounter="E2")
    about = memo(project, "Reflexive: Dana's story stayed with me.", kind="reflexive")
    fieldkit.fieldwork.capture.edit(project, group.id, group.body + " Later edit.")
    (tmp_path / "a.txt").write_text("consent form")
    attachment = attach(project, tmp_path / "a.txt", record=own.id)
    return dict(own=own, group=project.get(group.id), other=other, about=about, attachment=attachment)


def _coding(project, record, start, end):
    from fieldkit.core.records import Code, Coding

    code = project.list("code", name="voice")
    code = code[0] if code else project.add(Code(name="voice"))
    return project.add(Coding(record_id=record.id, code_id=code.id, start=start, end=end, coder="a"))


def test_plan_lists_everything_and_changes_nothing(project, study):
    coding = _coding(project, study["own"], 0, 9)
    before = project.db.execute("select count(*) from observations").fetchone()[0]
    plan = withdrawal_plan(project, "P03")
    actions = {i.record_id: i.action for i in plan.items}
    assert actions[study["own"].id] == "erase"
    assert actions[study["group"].id] == "redact" and actions[study["about"].id] == "redact"
    assert study["other"].id not in actions
    assert coding.id in plan.codings and study["attachment"].id in plan.attachments
    assert plan.in_keystore
    assert project.db.execute("select count(*) from observations").fetchone()[0] == before
    assert not any("Dana" in line or "Okafor" in line for line in plan.lines())


def test_redact_mode(project, study, tmp_path):
    group = study["group"]
    body = group.body
    led = body.index("@P07 led")
    kept = _coding(project, group, led, led + 8)
    withdraw(project, "P03")
    ids = {o.id for o in project.list("observation", include_deleted=True)}
    assert study["own"].id not in ids
    assert project.db.execute("select count(*) from attachments").fetchone()[0] == 0
    assert not (project.path / "attachments" / study["attachment"].sha256).exists()
    redacted = project.get(group.id)
    assert "P03" not in redacted.body and "Dee" not in redacted.body and MARKER in redacted.body
    assert "P03" not in redacted.mentions
    moved = project.get(kept.id)
    assert redacted.body[moved.start:moved.end] == "@P07 led"
    assert project.history(group.id) == []  # old versions with the mentions are gone
    assert "Dana" not in project.get(study["about"].id).body
    assert [p.participant_id for p in project.get("E2").participants] == [project.resolve("P07")]
    assert current_consent(project, "P03").status == "withdrawn"
    assert project.get("P03").attributes == {}
    with KeyStore.open(tmp_path / "k.keys") as keys:
        assert keys.get("P03").withdrawn and keys.get("P03").names == () and not keys.get("P07").withdrawn
    assert b"Okafor" not in (tmp_path / "k.keys").read_bytes()
    audit = project.audit_log(5)
    line = next(a for a in audit if a["action"] == "withdraw")
    assert "P03" in line["detail"] and "Dana" not in line["detail"]
    hits = project.search("Okafor") + project.search("supervision")
    assert hits == []


def test_erase_mode_removes_mentioning_records(project, study):
    withdraw(project, "P03", mode="erase")
    ids = {o.id for t in ("observation", "memo") for o in project.list(t, include_deleted=True)}
    assert ids == {study["other"].id}
    assert project.db.execute("select count(*) from encounters where code = 'E1'").fetchone()[0] == 0


def test_a_failure_inside_the_project_part_leaves_everything_as_it_was(project, study, monkeypatch):
    from fieldkit.store.privacy import Erasure

    def broken(self, *args):
        raise RuntimeError("disk gone")

    monkeypatch.setattr(Erasure, "journal_open", broken)
    before = project.db.execute("select count(*) from observations").fetchone()[0]
    with pytest.raises(RuntimeError):
        withdraw(project, "P03")
    assert project.db.execute("select count(*) from observations").fetchone()[0] == before
    assert current_consent(project, "P03").status != "withdrawn"
    assert project.get(study["group"].id).body == study["group"].body
    with an.open_keystore(project) as keys:
        assert keys.get("P03").name == "Dana Okafor"


def test_a_key_store_failure_after_the_commit_is_finished_later(project, study, monkeypatch, tmp_path):
    from fieldkit.privacy.keystore import KeyStore as KS
    from fieldkit.privacy.withdrawal import finish_pending, pending_withdrawals
    from fieldkit.store.maintenance import doctor

    real = KS.tombstone

    def broken(self, pseudonym):
        raise RuntimeError("disk gone")

    monkeypatch.setattr(KS, "tombstone", broken)
    with pytest.raises(RuntimeError):
        withdraw(project, "P03")
    # the project part is committed, the key store not yet: the journal says so
    assert pending_withdrawals(project) == ["P03"]
    assert any(f.check == "withdrawal" for f in doctor(project))
    assert current_consent(project, "P03").status == "withdrawn"
    assert (project.path / "attachments" / study["attachment"].sha256).exists()
    monkeypatch.setattr(KS, "tombstone", real)
    assert finish_pending(project) == ["P03"]
    assert pending_withdrawals(project) == [] and not any(f.check == "withdrawal" for f in doctor(project))
    assert not (project.path / "attachments" / study["attachment"].sha256).exists()
    with an.open_keystore(project) as keys:
        assert keys.get("P03").withdrawn


def test_refused_when_the_key_store_is_unavailable(project, study, tmp_path):
    (tmp_path / "k.keys").rename(tmp_path / "elsewhere.keys")
    with pytest.raises(FieldkitError, match="cannot carry out a withdrawal"):
        withdraw(project, "P03")
    assert current_consent(project, "P03").status != "withdrawn"


def test_stale_plan_is_refused(project, study):
    plan = withdrawal_plan(project, "P03")
    note(project, "@P03 again")
    with pytest.raises(FieldkitError, match="changed"):
        withdraw(project, "P03", plan=plan)


def test_without_key_store_refused_unless_allowed_then_mentions_are_redacted(project):
    add_participant(project, "P03")
    record = note(project, "@P03 spoke; @p03's point")
    with pytest.raises(FieldkitError, match="no key store"):
        withdraw(project, "P03")
    result = withdraw(project, "P03", allow_no_keystore=True)
    assert project.get(record.id).body == f"{MARKER} spoke; {MARKER}'s point"
    assert not result.keystore_removed


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.sampled_from(["@P03", "@P07", "said", "Dee", "the", "😀", "\n", "@P03's", "ok."]),
                      min_size=1, max_size=15))
def test_redaction_never_leaves_a_mention(tmp_path_factory, words):
    project = fieldkit.init(tmp_path_factory.mktemp("w") / "p")
    try:
        add_participant(project, "P03")
        add_participant(project, "P07")
        body = " ".join(words)
        if not body.strip():
            return
        record = note(project, body)
        withdraw(project, "P03", allow_no_keystore=True)
        after = project.get(record.id).body if "@P03" in body else body
        assert "@P03" not in after
        assert after.count("@P07") == body.count("@P07")
    finally:
        project.close()


def test_the_plan_is_built_under_the_write_lock(project, study, monkeypatch):
    from fieldkit.privacy import withdrawal

    seen = []
    real = withdrawal._build_plan

    def watching(project, *args):
        seen.append(project.store.conn.in_transaction)
        return real(project, *args)

    monkeypatch.setattr(withdrawal, "_build_plan", watching)
    withdraw(project, "P03")
    assert seen == [True]


def test_doctor_in_a_fresh_process_reports_then_finishes_an_interrupted_withdrawal(project, study, tmp_path,
                                                                                    monkeypatch):
    import subprocess
    import sys
    from pathlib import Path

    from fieldkit.privacy.keystore import KeyStore as KS
    from fieldkit.privacy.withdrawal import pending_withdrawals

    monkeypatch.setattr(KS, "tombstone", lambda self, pseudonym: (_ for _ in ()).throw(RuntimeError("gone")))
    with pytest.raises(RuntimeError):
        withdraw(project, "P03")
    monkeypatch.undo()
    script = str(Path(sys.executable).with_name("fieldkit"))
    (tmp_path / "k.keys").rename(tmp_path / "away.keys")  # the key store is not connected
    away = subprocess.run([script, "--project", str(project.path), "doctor"], capture_output=True, text=True)
    assert away.returncode == 1 and "interrupted" in away.stdout and "Traceback" not in away.stderr
    (tmp_path / "away.keys").rename(tmp_path / "k.keys")
    back = subprocess.run([script, "--project", str(project.path), "doctor"], capture_output=True, text=True)
    assert "finished: the interrupted withdrawal of P03" in back.stderr, back.stderr
    assert pending_withdrawals(project) == []
    with KS.open(tmp_path / "k.keys") as keys:
        assert keys.get("P03").withdrawn


def test_identities_kept_from_other_tools_go_with_the_records(project, study):
    # a document name from another tool (kept for re-export) can name the person
    rows = [(f"guid-{k}", study[k].id, study[k].type_name, "NVivo", {"name": "Interview Dana Okafor"})
            for k in ("own", "group", "other")]
    project.store.exchange.remember(rows)
    withdraw(project, "P03", mode="redact")
    left = project.store.exchange.identities()
    assert set(left) == {study["other"].id}
