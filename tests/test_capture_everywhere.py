"""``pseudonymise_on_capture`` covers every free-text field of every record type and every
importer (issue 12, point 4): with the setting on, a registered name typed or imported
anywhere never reaches the project database."""

from __future__ import annotations

import datetime as dt
import zipfile

import attrs
import pytest

import fieldkit
from fieldkit.coding.codebook import add_code
from fieldkit.coding.codings import apply_code
from fieldkit.core.errors import Refused
from fieldkit.exchange.exporting import ExportOptions, run_export
from fieldkit.exchange.importing import ImportOptions, run_importer
from fieldkit.fieldwork.capture import edit, jot, memo, note
from fieldkit.fieldwork.registers import add_encounter, add_participant, add_site
from fieldkit.privacy.anonymiser import create_keystore
from fieldkit.privacy.consent import record_consent
from fieldkit.store.attachments import attach

FULL, ALIAS = "Marisol Quenby", "Sollie"
NEEDLES = (b"quenby", b"marisol", b"sollie")
UTC = dt.timezone.utc


def planted(what: str) -> str:
    return f"{what} about {FULL} (known as {ALIAS})"


def database_bytes(project) -> bytes:
    """Every byte of the database after a checkpoint: tables, FTS shadow tables, revisions,
    audit lines (lower-cased for the search)."""
    project.conn.execute("pragma wal_checkpoint(TRUNCATE)")
    return (project.path / "fieldkit.db").read_bytes().lower()


def other_project(path):
    """A project WITHOUT the setting, whose raw exports carry the name into the imports."""
    p = fieldkit.init(path)
    add_participant(p, "P03")
    add_encounter(p, "interview", code="E1", title=planted("title"), summary=planted("summary"),
                  participants=["P03"])
    n = note(p, planted("imported fieldnote"), encounter="E1")
    m = memo(p, planted("imported memo"), title=planted("imported memo title"))
    add_code(p, "voice", definition=planted("imported definition"), example=planted("imported example"))
    apply_code(p, n.id, "voice", whole=True, note=planted("imported coding note"))
    assert m.id
    return p


@pytest.fixture
def capturing(tmp_path):
    p = fieldkit.init(tmp_path / "study")
    store = create_keystore(p, tmp_path / "keys" / "study.keys")
    store.add("P03", FULL, [ALIAS])
    store.close()
    p.set_setting("pseudonymise_on_capture", True)
    yield p
    p.close()


def test_every_field_of_every_record_type_is_pseudonymised_on_capture(capturing, tmp_path):
    p = capturing
    add_site(p, f"Office where {FULL} reports", kind="probation_delivery_unit", note=planted("site note"))
    person = add_participant(p, "P03", role="person_on_probation", organisation=f"{FULL}'s team",
                             attributes={"history": planted("attribute")}, note=planted("participant note"))
    assert person.organisation == "[P03]'s team"  # not yet a participant while being added
    record_consent(p, "P03", "given", note=planted("consent note"))
    enc = add_encounter(p, "interview", code="E1", title=planted("encounter title"),
                        summary=planted("encounter summary"), participants=["P03"])
    assert enc.title == "encounter title about @P03 (known as @P03)"
    j = jot(p, planted("jotting"), encounter="E1")
    assert j.mentions == ("P03",)  # a pseudonymised name counts as a mention
    n = note(p, planted("fieldnote"), encounter="E1")
    edit(p, n.id, planted("edited fieldnote"))
    m = memo(p, planted("memo body"), title=planted("memo title"))
    assert m.title == "memo title about @P03 (known as @P03)"
    add_code(p, "power", definition=planted("definition"), include=planted("include"),
             exclude=planted("exclude"), example=planted("example"))
    apply_code(p, m.id, "power", whole=True, note=planted("coding note"))
    source = tmp_path / "photo.txt"
    source.write_text("x")
    attached = attach(p, source)
    p.update(attrs.evolve(attached, filename=f"{FULL} photo.txt"), reason="renamed")
    hits = [needle for needle in NEEDLES if needle in database_bytes(p)]
    assert hits == []


def test_every_importer_is_pseudonymised_on_capture(capturing, tmp_path):
    p = capturing
    add_participant(p, "P03")
    add_participant(p, "R1", role="researcher")
    add_encounter(p, "interview", code="E9", participants=["P03"])
    # Markdown with front matter (title) and body
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "visit.md").write_text(f"---\ntype: memo\ntitle: {planted('md title')}\n---\n{planted('md body')}\n",
                                    encoding="utf-8")
    run_importer(p, "markdown", vault, ImportOptions())
    # a transcript: the speaker label maps to a code, the words name the person
    (tmp_path / "t.txt").write_text(f"[00:00:05] R1: {planted('question')}\n[00:00:09] P03: I am {FULL}.\n",
                                    encoding="utf-8")
    run_importer(p, "transcript", tmp_path / "t.txt", ImportOptions(encounter="E9"))
    # REFI-QDA project and codebook, and a YAML codebook, from a project that kept the name
    other = other_project(tmp_path / "other")
    run_export(other, "qdpx", tmp_path / "o.qdpx", ExportOptions(anonymise=False))
    run_export(other, "codebook", tmp_path / "o.yaml", ExportOptions(anonymise=False))
    other.close()
    with zipfile.ZipFile(tmp_path / "o.qdpx") as archive:
        assert b"Quenby" in archive.read("project.qde")  # the source really carries the name
    run_importer(p, "qdpx", tmp_path / "o.qdpx", ImportOptions())
    (tmp_path / "o.yaml").write_text((tmp_path / "o.yaml").read_text().replace("voice", "voice2"))
    run_importer(p, "codebook", tmp_path / "o.yaml", ImportOptions())
    assert p.count("observation") >= 2 and p.count("memo") >= 2
    hits = [needle for needle in NEEDLES if needle in database_bytes(p)]
    assert hits == []


def test_capture_refuses_when_no_plugin_can_pseudonymise(capturing):
    from fieldkit.hooks.manager import get_plugin_manager

    pm = get_plugin_manager()
    pm.unregister(name="fieldkit.plugins.pseudonymise")
    with pytest.raises(Refused, match="nothing was saved"):
        memo(capturing, "A memo", title=planted("title"))
    assert capturing.count("memo") == 0


def test_a_bulk_import_reads_the_key_store_once(capturing, tmp_path, monkeypatch):
    from fieldkit.core.records import Observation
    from fieldkit.privacy import keystore

    opened = []
    real = keystore.KeyStore.open.__func__

    def counting(cls, *args, **kwargs):
        opened.append(args)
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(keystore.KeyStore, "open", classmethod(counting))
    capturing.add_many([Observation(body=f"{FULL} line {i}") for i in range(200)])
    assert len(opened) <= 1
    assert all(o.body.startswith("[P03]") for o in capturing.list("observation"))


def test_without_the_setting_nothing_is_changed(tmp_path):
    p = fieldkit.init(tmp_path / "plain")
    create_keystore(p, tmp_path / "k.keys").add("P03", FULL, [])
    saved = memo(p, planted("body"), title=planted("title"))
    assert (saved.title, saved.body) == (planted("title"), planted("body"))
    p.close()
