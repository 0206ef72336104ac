"""Withdrawal reaches every byte: a name and the person's own sentences planted in every
text field of every record type are gone from every file of the project and from the key
store afterwards; and a withdrawal killed at any point ends withdrawn or not withdrawn
once ``fieldkit doctor`` has run, never in between."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import fieldkit
from fieldkit.core.records import Attachment, Code, Coding, Memo, Observation
from fieldkit.fieldwork.capture import edit, memo, note
from fieldkit.fieldwork.registers import add_encounter, add_participant, add_site
from fieldkit.privacy import anonymiser as an
from fieldkit.privacy.consent import record_consent
from fieldkit.store.attachments import attach

# what must vanish: her name, her nickname in a unique spelling, and words only she said.
# Her words are planted where fieldkit can know they are hers: her own interview (notes,
# an earlier version, a deleted draft, an attachment) and, below, her turns in a group
# transcript. A researcher's paraphrase of her in someone else's note, without her name or
# @P03, cannot be recognised by any program (docs/ethics.md says so).
PLANTED = (b"okafor", b"danaqx", b"kettlewhistle", b"marigoldtram")
NAME = "Danaqx Okafor"
HER_WORDS = "the kettlewhistle in the marigoldtram office"


def _fieldkit() -> str:
    return str(Path(sys.executable).with_name("fieldkit"))


def _plant(root: Path) -> Path:
    """A project with the participant P03 named in every text field of every record type."""
    project = fieldkit.init(root / "study")
    keys = an.create_keystore(project, root / "study.keys")
    keys.add("P03", NAME, ["Danaqx"])
    keys.add("P07", "Marek Lindqvist")
    keys.close()
    site = add_site(project, f"{NAME}'s hostel", note=f"{NAME} lives here")
    add_participant(project, "P03", organisation=f"{NAME} Trust", attributes={"nickname": "Danaqx"},
                    note=f"{NAME} prefers mornings")
    add_participant(project, "P07", note=f"friend of {NAME}", attributes={"referred by": NAME})
    record_consent(project, "P03", "given", note=f"signed by {NAME}")
    record_consent(project, "P07", "given", note=f"witnessed by {NAME}")
    add_encounter(project, "interview", code="E1", participants=["P03"], title=f"Interview with {NAME}")
    add_encounter(project, "focus_group", code="E2", participants=["P03", "P07"], site=site.id, title=f"Group where {NAME} spoke",
                  summary=f"{NAME} talked about the office")
    own = note(project, f"{NAME}: {HER_WORDS}.", encounter="E1")
    first = note(project, f"She said {HER_WORDS} twice.", encounter="E1")
    edit(project, first.id, "She said it twice.")  # her words stay in the earlier version
    project.delete(note(project, f"Draft: {HER_WORDS}", encounter="E1").id, reason="draft")
    group = note(project, "In the group @P03 said little; Danaqx nodded. @P07 led.", encounter="E2")
    project.add(Observation(body="@P07 spoke about ratings.", encounter_id=project.resolve("E2"),
                            observed_raw=f"when {NAME} arrived"))
    edited = note(project, f"{NAME} was late.")
    edit(project, edited.id, "Someone was late.")
    gone = note(project, f"Deleted note about {NAME}")
    project.delete(gone.id, reason=f"duplicate of {NAME}'s note")
    memo(project, f"Reflexive: {NAME}'s story stayed with me.", kind="reflexive", title=f"On {NAME}")
    code = project.add(Code(name="voice", definition=f"as when {NAME} says", include=f"{NAME}'s view",
                            exclude=f"not {NAME}", example=f"{NAME}: no", keywords=("okafor",)))
    project.add(Coding(record_id=group.id, code_id=code.id, start=0, end=8, coder="a", note=f"{NAME} here"))
    project.add(Coding(record_id=own.id, code_id=code.id, start=0, end=8, coder="a", note="own"))
    (root / "consent.txt").write_text(f"Consent form of {NAME}: {HER_WORDS}")
    attach(project, root / "consent.txt", record=own.id)
    (root / f"{NAME} photo notes.txt").write_text("a photo of the room")
    attach(project, root / f"{NAME} photo notes.txt", record=group.id)
    (root / "group notes.txt").write_text(f"flipchart: Danaqx Okafor's idea")
    attach(project, root / "group notes.txt", record=group.id)
    from fieldkit.exchange import transcripts
    from fieldkit.exchange.importing import ImportOptions

    (root / "group.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Facilitator>Welcome.\n\n"
                                    f"00:00:04.000 --> 00:00:08.000\n<v P03>I said {HER_WORDS}.\n\n"
                                    "00:00:08.000 --> 00:00:11.000\n<v P07>Caseloads are heavy.\n")
    report = transcripts.load(project, root / "group.vtt", ImportOptions(encounter="E2"))
    assert not report.problems
    # what another tool's file said and fieldkit keeps for re-export: a case about her that
    # refers to no document, and the other tool's name of a document whose text is not hers
    quiet = note(project, "The waiting room was quiet.")
    with project.transaction():
        project.store.exchange.keep_item("case-1", "case", NAME, "MAXQDA",
                                         {"description": f"{NAME}, referred in May", "variables": {"who": NAME}})
        project.store.exchange.remember([("doc-1", quiet.id, "observation", "NVivo",
                                          {"name": f"Waiting room, with {NAME}.docx"})])
    project.close()
    return root / "study"


def _bytes_of(folder: Path, *files: Path) -> bytes:
    data = b""
    for path in [*sorted(p for p in folder.rglob("*") if p.is_file()), *files]:
        data += path.read_bytes().lower()
    return data


def _checkpoint(path: Path) -> None:
    conn = sqlite3.connect(path / "fieldkit.db")
    conn.execute("pragma wal_checkpoint(TRUNCATE)")
    conn.close()


def test_nothing_of_her_remains_in_any_byte(tmp_path):
    folder = _plant(tmp_path)
    keys = tmp_path / "study.keys"
    from fieldkit.store.attachments import open_copy

    with fieldkit.open(folder) as project:  # a copy opened to read, still in the project folder
        consent_form = next(a for a in project.list("attachment") if a.filename == "consent.txt")
        opened = open_copy(project, consent_form.id)
    _checkpoint(folder)
    before = _bytes_of(folder, keys)
    assert all(word in before for word in PLANTED)  # the test sees them while they are there
    result = subprocess.run([_fieldkit(), "--project", str(folder), "participant", "withdraw", "P03", "--yes"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "P03 withdrawn" in result.stdout
    _checkpoint(folder)
    after = _bytes_of(folder, keys)
    left = {word.decode(): after.count(word) for word in PLANTED if word in after}
    assert left == {}
    assert not opened.exists()
    # what is not hers stays
    project = fieldkit.open(folder)
    try:
        bodies = " ".join(o.body for o in project.list("observation"))
        assert "@P07 led" in bodies and "P07: Caseloads are heavy." in bodies
        assert "P03: [turn withdrawn]" in bodies
        assert project.list("code")[0].name == "voice"
        with an.open_keystore(project) as store:
            assert store.get("P03").withdrawn and store.get("P07").name == "Marek Lindqvist"
    finally:
        project.close()


def test_a_crafted_attachment_hash_never_reaches_outside(tmp_path):
    project = fieldkit.init(tmp_path / "study")
    store = an.create_keystore(project, tmp_path / "k.keys")
    store.add("P03", "Danaqx Okafor")
    store.close()
    add_participant(project, "P03")
    victim = tmp_path / "x"
    victim.write_text("not fieldkit's")
    (tmp_path / "real.txt").write_text("a real attachment, so the attachments folder exists")
    attach(project, tmp_path / "real.txt")
    # records refuse such a hash, so the crafted row is written into the database directly
    evil = project.add(Attachment(sha256="0" * 64, filename="evil.txt", record_id=project.resolve("P03")))
    with project.conn:
        project.conn.execute("update attachments set sha256 = '../../x' where id = ?", (evil.id,))
    from fieldkit.privacy.withdrawal import withdraw

    withdraw(project, "P03")
    assert victim.read_text() == "not fieldkit's"
    assert [a.filename for a in project.list("attachment", include_deleted=True)] == ["real.txt"]
    project.close()


# --- kills -------------------------------------------------------------------------------------

_RUNNER = r"""
import os, signal, sys
import fieldkit
from fieldkit.privacy import withdrawal
from fieldkit.privacy.keystore import KeyStore
from fieldkit.store.privacy import Erasure

point, nth = sys.argv[2], int(sys.argv[3])
calls = {"n": 0}

def wrap(owner, name):
    real = getattr(owner, name)
    def killing(*args, **kwargs):
        if name == point:
            calls["n"] += 1
            if calls["n"] == nth:
                os.kill(os.getpid(), signal.SIGKILL)
        result = real(*args, **kwargs)
        if name + ":after" == point:
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    setattr(owner, name, killing)

for owner, name in ((Erasure, "overwrite"), (Erasure, "delete"), (Erasure, "journal_open"),
                    (Erasure, "rebuild_indexes"), (Erasure, "journal_done"), (Erasure, "checkpoint"),
                    (KeyStore, "tombstone")):
    wrap(owner, name)
project = fieldkit.open(sys.argv[1])
withdrawal.withdraw(project, "P03")
"""

_POINTS = [("overwrite", 1), ("overwrite", 3), ("delete", 2), ("journal_open", 1), ("rebuild_indexes", 1),
           ("tombstone", 1), ("tombstone:after", 1), ("journal_done", 1), ("journal_done:after", 1),
           ("checkpoint:after", 1)]


def _state(folder: Path, keys: Path) -> str:
    """``withdrawn``, ``not withdrawn`` or a description of what is in between."""
    project = fieldkit.open(folder)
    try:
        from fieldkit.privacy.consent import current_consent
        from fieldkit.privacy.withdrawal import pending_withdrawals

        status = current_consent(project, "P03").status
        bodies = " ".join(o.body for o in project.list("observation", include_deleted=True))
        pending = pending_withdrawals(project)
    finally:
        project.close()
    from fieldkit.privacy.keystore import KeyStore

    with KeyStore.open(keys) as store:
        tomb = store.get("P03").withdrawn
    named = "Okafor" in bodies
    if status == "withdrawn" and not named and tomb and not pending:
        return "withdrawn"
    if status != "withdrawn" and named and not tomb and not pending:
        return "not withdrawn"
    return f"between: consent {status}, name in notes {named}, tombstone {tomb}, pending {pending}"


def _copy(template: Path, keys: Path, dest: Path) -> tuple[Path, Path]:
    shutil.copytree(template, dest / "study")
    shutil.copy2(keys, dest / "study.keys")
    project = fieldkit.open(dest / "study")
    project.set_setting("keystore_path", str(dest / "study.keys"))
    project.close()
    return dest / "study", dest / "study.keys"


def test_twenty_kills_end_withdrawn_or_not_after_doctor(tmp_path):
    template = _plant(tmp_path / "template")
    keys = tmp_path / "template" / "study.keys"
    _checkpoint(template)
    runner = tmp_path / "runner.py"
    runner.write_text(_RUNNER)
    rng = random.Random(20)
    # how long a whole withdrawal takes from a fresh process, to place random kills inside it
    folder, store = _copy(template, keys, tmp_path / "timing")
    started = time.monotonic()
    subprocess.run([_fieldkit(), "--project", str(folder), "participant", "withdraw", "P03", "--yes"],
                   capture_output=True, timeout=120, check=True)
    whole = time.monotonic() - started
    outcomes = []
    for trial in range(20):
        folder, store = _copy(template, keys, tmp_path / f"t{trial}")
        if trial < len(_POINTS):
            point, nth = _POINTS[trial]
            proc = subprocess.run([sys.executable, str(runner), str(folder), point, str(nth)],
                                  capture_output=True, text=True, timeout=120)
            assert proc.returncode in (-signal.SIGKILL, 0), proc.stderr
        else:
            proc = subprocess.Popen([_fieldkit(), "--project", str(folder), "participant", "withdraw", "P03", "--yes"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.2, 1.0) * whole)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        doctor = subprocess.run([_fieldkit(), "--project", str(folder), "doctor"], capture_output=True, text=True,
                                timeout=120)
        assert "Traceback" not in doctor.stderr
        outcomes.append(_state(folder, store))
    assert [o for o in outcomes if o not in ("withdrawn", "not withdrawn")] == []
    # the injected points all fall inside the withdrawal: both outcomes must have happened
    assert set(outcomes) == {"withdrawn", "not withdrawn"}
