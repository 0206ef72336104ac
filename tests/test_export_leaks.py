"""Nothing identifying leaves un-anonymised: a registered name planted in every text field of
every record type must not appear in the bytes of any anonymised export (issue 12, point 4).

The name, its alias and the surname are fictional. Zip-based formats (.qdpx, .docx) are
searched member by member after decompression, so a leak inside a compressed XML part counts.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import attrs
import pytest

import fieldkit
from fieldkit.coding.codebook import add_code
from fieldkit.coding.codings import apply_code
from fieldkit.core.records import CONSENT_SCOPES
from fieldkit.exchange.exporting import ExportOptions, run_export
from fieldkit.fieldwork.capture import jot, memo, note
from fieldkit.fieldwork.registers import add_encounter, add_participant, add_site
from fieldkit.privacy.anonymiser import create_keystore
from fieldkit.privacy.consent import record_consent
from fieldkit.store.attachments import attach

FULL, ALIAS = "Marisol Quenby", "Sollie"
#: what must not appear anywhere (case-insensitive): the surname alone would identify
NEEDLES = ("quenby", "marisol", "sollie")
UTC = dt.timezone.utc


def planted(what: str) -> str:
    return f"{what} about {FULL} (known as {ALIAS})"


def build(path: Path, keys: Path) -> fieldkit.Project:
    p = fieldkit.init(path)
    store = create_keystore(p, keys)
    store.add("P03", FULL, [ALIAS])
    store.close()
    add_site(p, f"Site where {FULL} reports", kind="probation_delivery_unit", note=planted("site note"))
    add_participant(p, "P03", role="person_on_probation", organisation=f"{FULL}'s team",
                    attributes={"history": planted("attribute"), "area": "north"}, note=planted("participant note"))
    record_consent(p, "P03", "given", CONSENT_SCOPES, note=planted("consent note"))
    add_encounter(p, "interview", code="E1", title=planted("encounter title"), site=f"Site where {FULL} reports",
                  participants=["P03:interviewee"], summary=planted("encounter summary"),
                  start=dt.datetime(2026, 3, 10, 10, tzinfo=UTC))
    jot(p, planted("jotting") + " #power", encounter="E1", when="2026-03-10 10:05")
    n = note(p, planted("fieldnote") + "\n\nThe meeting ran long.", encounter="E1", when="2026-03-10 11:00")
    m = memo(p, planted("memo body"), title=planted("memo title"), links=["E1"])
    code = add_code(p, "power", definition=planted("definition"), include=planted("include"),
                    exclude=planted("exclude"), example=planted("example"), colour="#1f77b4")
    apply_code(p, n.id, "power", whole=True, note=planted("coding note"))
    apply_code(p, m.id, "power", whole=True, note=planted("memo coding note"))
    assert code.id
    source = path.parent / f"{FULL} interview.txt"
    source.write_text("transcript", encoding="utf-8")
    attach(p, source, record=n.id)
    return p


def _bytes(path: Path) -> list[tuple[str, bytes]]:
    """Every file an export wrote, with zip archives opened member by member."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    out = []
    for file in files:
        data = file.read_bytes()
        out.append((str(file), data))
        if zipfile.is_zipfile(file):
            with zipfile.ZipFile(file) as archive:
                for info in archive.infolist():
                    out.append((f"{file}!{info.filename}", archive.read(info)))
    return out


def leaks(path: Path) -> list[str]:
    found = []
    for where, data in _bytes(path):
        lowered = data.lower()
        found += [f"{needle} in {where}" for needle in NEEDLES if needle.encode() in lowered]
    return found


FORMATS = {"qdpx": "out.qdpx", "qdc": "out.qdc", "html": "out.html", "docx": "out.docx", "csv": "csv-out",
           "markdown": "md-out", "codebook": "codebook.yaml", "prisons-evidence": "evidence.csv"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    base = tmp_path_factory.mktemp("leaks")
    p = build(base / "study", base / "outside" / "study.keys")
    yield p, base
    p.close()


def test_the_sample_really_holds_the_name_everywhere(sample):
    """The raw (never anonymised) exports carry the planted name, so the test can see a leak."""
    p, base = sample
    for fmt in ("csv", "html"):
        dest = base / f"raw-{FORMATS[fmt]}"
        run_export(p, fmt, dest, ExportOptions(anonymise=False))
        assert leaks(dest), fmt


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_no_export_format_leaks_a_registered_name(sample, fmt):
    p, base = sample
    dest = base / f"anon-{FORMATS[fmt]}"
    run_export(p, fmt, dest, ExportOptions())
    assert leaks(dest) == []


# --- proposals, --coder and --status ---------------------------------------------------------

def _coded(tmp_path):
    """A note with a human coding (alice), a second human coding (bob, then marked for review),
    and a pending keyword proposal on words nobody coded."""
    from fieldkit.coding.autocode import run_autocoder

    p = fieldkit.init(tmp_path / "coded")
    add_code(p, "tokenism", keywords=["word:tokenism"])
    add_code(p, "voice")
    n = note(p, "They called it tokenism. Later they said the panel listened to them.")
    apply_code(p, n.id, "voice", quote="the panel listened", coder="alice")
    bob = apply_code(p, n.id, "voice", quote="Later they said", coder="bob")
    p.update(attrs.evolve(bob, status="review"), reason="test")
    assert run_autocoder(p, all_records=True).proposed == 1
    return p


def _quotes(dest: Path) -> list[dict]:
    import csv

    with open(dest / "codings.csv", encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_proposals_never_leave_and_the_coder_and_status_filters_select(tmp_path):
    p = _coded(tmp_path)
    try:
        run_export(p, "csv", tmp_path / "all", ExportOptions(anonymise=False))
        assert sorted(r["coder"] for r in _quotes(tmp_path / "all")) == ["alice", "bob"]
        run_export(p, "csv", tmp_path / "alice", ExportOptions(anonymise=False, coders=("alice",)))
        assert [r["coder"] for r in _quotes(tmp_path / "alice")] == ["alice"]
        run_export(p, "csv", tmp_path / "ok", ExportOptions(anonymise=False, statuses=("ok",)))
        assert [r["coder"] for r in _quotes(tmp_path / "ok")] == ["alice"]
        run_export(p, "qdpx", tmp_path / "out.qdpx", ExportOptions(anonymise=False))
        with zipfile.ZipFile(tmp_path / "out.qdpx") as archive:
            assert b"auto:keywords" not in archive.read("project.qde")
        from fieldkit.core.errors import Refused

        with pytest.raises(Refused, match="proposals never leave"):
            run_export(p, "csv", tmp_path / "auto", ExportOptions(anonymise=False, coders=("auto:keywords",)))
        # once a person accepts the proposal, their copy leaves
        from fieldkit.coding.autocode import accept

        accept(p, all_pending=True, as_coder="carol")
        run_export(p, "csv", tmp_path / "accepted", ExportOptions(anonymise=False))
        assert sorted(r["coder"] for r in _quotes(tmp_path / "accepted")) == ["alice", "bob", "carol"]
    finally:
        p.close()


def test_coder_and_status_filters_in_a_fresh_process(tmp_path):
    import os
    import subprocess
    import sys

    _coded(tmp_path).close()
    script = Path(sys.executable).with_name("fieldkit")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")},
           "FIELDKIT_PROJECT": str(tmp_path / "coded"), "FIELDKIT_AUTHOR": "tester", "FIELDKIT_LOAD_PLUGINS": ""}

    def run(*args):
        return subprocess.run([str(script), *args], capture_output=True, text=True, env=env, timeout=120)

    done = run("export", "csv", str(tmp_path / "bob"), "--raw", "--coder", "bob", "--status", "review")
    assert done.returncode == 0, done.stderr
    assert [r["coder"] for r in _quotes(tmp_path / "bob")] == ["bob"]
    refused = run("export", "csv", str(tmp_path / "auto"), "--raw", "--coder", "auto:keywords")
    assert refused.returncode == 1 and refused.stderr.startswith("Error: ") and "Traceback" not in refused.stderr
    assert not (tmp_path / "auto").exists()
