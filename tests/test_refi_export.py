"""REFI-QDA export: .qdpx projects and .qdc codebooks, checked against the published schemas."""

import datetime as dt
import functools
import re
import uuid
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldkit.fieldwork import capture

from fieldkit.fieldwork import registers as fieldwork

from fieldkit.exchange import refi
from fieldkit.privacy.consent import record_consent
from fieldkit.core.errors import FieldkitError, Refused
from fieldkit.exchange.exporting import ExportOptions
from fieldkit.core.ids import new_id, to_guid
from fieldkit.core.records import Code, Coding

# the published REFI-QDA schemas, copied unchanged (see fixtures/refi/README.md)
SCHEMAS = Path(__file__).parent / "fixtures" / "refi"
P = "{urn:QDA-XML:project:1.0}"
C = "{urn:QDA-XML:codebook:1.0}"
RAW = ExportOptions(anonymise=False)
UTC = dt.timezone.utc


@functools.lru_cache(maxsize=None)
def schema(name):
    xmlschema = pytest.importorskip("xmlschema")
    return xmlschema.XMLSchema(str(SCHEMAS / name))


def validate_project(xml: bytes):
    schema("Project-mrt2019.xsd").validate(xml.decode("utf-8"))


def sample(project):
    """A small fictional study: a site, two participants, an interview, a jotting and its
    fieldnote, a two-level codebook, codings by two coders and memos linked to things."""
    fieldwork.add_site(project, "Northshire PDU", kind="probation_delivery_unit")
    fieldwork.add_participant(project, "P03", role="expert_by_experience", organisation="Lived Voices",
                              attributes={"age band": "30-39", "role": "peer lead"})
    fieldwork.add_participant(project, "P07", role="inspector")
    enc = fieldwork.add_encounter(project, "interview", code="E1", title="Interview at the PDU", site="Northshire PDU",
                                  participants=["P03:interviewee", "P07:interviewer"], mode="video",
                                  start=dt.datetime(2026, 3, 2, 10, tzinfo=UTC), summary="Went well.")
    jot = capture.jot(project, "LI hands the intro to the EbE", encounter="E1",
                      now=dt.datetime(2026, 3, 2, 10, 5, tzinfo=UTC))
    note = capture.note(project, "Café talk — “fair” 😀 with @P03.\nThe SPO checks her phone.", encounter="E1",
                        derived_from=[jot.id])
    power = project.add(Code(name="power", colour="#d62728", definition="Who decides.", include="decisions",
                             exclude="budgets", example="LI hands over"))
    handing = project.add(Code(name="handing over", parent_id=power.id, colour="#2ca02c"))
    retired = project.add(Code(name="old idea", status="retired", colour="not-a-colour"))
    spans = {
        "cafe": project.add(Coding(record_id=note.id, code_id=handing.id, start=0, end=4, coder="alice")),
        "emoji": project.add(Coding(record_id=note.id, code_id=power.id, start=5, end=20, coder="bob",
                                    note="tone")),
        "whole": project.add(Coding(record_id=note.id, code_id=power.id, coder="alice")),
        "jot_coding": project.add(Coding(record_id=jot.id, code_id=retired.id, start=0, end=2, coder="bob")),
    }
    memo = capture.memo(project, "Power shifts when the EbE speaks.", title="Power", kind="analytic",
                        links=[note.id, power.id, "P03", "E1"])
    code_memo = capture.memo(project, "Use for handovers only.", kind="code", links=[handing.id])
    return {"enc": enc, "jot": jot, "note": note, "power": power, "handing": handing, "retired": retired,
            "memo": memo, "code_memo": code_memo, **spans}


def read_qdpx(path):
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        files = {name: zf.read(name) for name in names}
    root = ET.fromstring(files["project.qde"])
    return names, files, root


@pytest.fixture
def exported(project, tmp_path):
    things = sample(project)
    dest = tmp_path / "out.qdpx"
    report = refi.export_qdpx(project, dest, RAW)
    names, files, root = read_qdpx(dest)
    return {"project": project, "things": things, "report": report, "names": names, "files": files,
            "root": root, "dest": dest}


def test_export_validates_against_the_project_schema(exported):
    validate_project(exported["files"]["project.qde"])


def test_archive_layout_follows_the_rules(exported):
    names, files, root = exported["names"], exported["files"], exported["root"]
    assert "project.qde" in names
    others = [n for n in names if n != "project.qde"]
    assert others and all(re.fullmatch(r"sources/[0-9a-f-]{36}\.txt", n) for n in others)
    for source in root.iter(f"{P}TextSource"):
        assert source.get("plainTextPath") == f"internal://{source.get('guid')}.txt"
    for note in root.iter(f"{P}Note"):
        assert note.get("plainTextPath") == f"internal://{note.get('guid')}.txt"
        assert note.get("name")
    for data in files.values():
        assert not data.startswith(b"\xef\xbb\xbf"), "no byte-order mark"
        assert b"\r" not in data, "only \\n line ends"
    children = [el.tag.replace(P, "") for el in root]
    order = ["Users", "CodeBook", "Variables", "Cases", "Sources", "Notes", "Links", "Sets", "Graphs", "Description"]
    assert children == [c for c in order if c in children]


def test_no_local_paths_or_author_home_leak(exported, tmp_path):
    xml = exported["files"]["project.qde"].decode()
    assert "basePath" not in xml and "currentPath" not in xml
    assert str(tmp_path) not in xml and str(Path.home()) not in xml


def test_guids_are_the_record_ids(exported):
    root, t = exported["root"], exported["things"]
    sources = {s.get("guid") for s in root.iter(f"{P}TextSource")}
    assert sources == {to_guid(t["jot"].id), to_guid(t["note"].id)}
    codes = {c.get("guid") for c in root.iter(f"{P}Code")}
    assert codes == {to_guid(t[k].id) for k in ("power", "handing", "retired")}
    selections = {s.get("guid") for s in root.iter(f"{P}PlainTextSelection")}
    assert to_guid(t["cafe"].id) in selections


def test_guids_are_stable_across_exports(exported, tmp_path):
    again = tmp_path / "again.qdpx"
    refi.export_qdpx(exported["project"], again, RAW)
    _, _, root = read_qdpx(again)

    def guids(r):
        return sorted(el.get(a) for el in r.iter() for a in ("guid", "targetGUID", "creatingUser") if el.get(a))

    assert guids(root) == guids(exported["root"])


def test_selections_are_code_point_positions_over_the_file(exported):
    root, files, t = exported["root"], exported["files"], exported["things"]
    note_guid = to_guid(t["note"].id)
    text = files[f"sources/{note_guid}.txt"].decode("utf-8")
    assert text == t["note"].body
    source = next(s for s in root.iter(f"{P}TextSource") if s.get("guid") == note_guid)
    by_guid = {s.get("guid"): s for s in source.iter(f"{P}PlainTextSelection")}
    cafe = by_guid[to_guid(t["cafe"].id)]
    assert text[int(cafe.get("startPosition")):int(cafe.get("endPosition"))] == "Café"
    emoji = by_guid[to_guid(t["emoji"].id)]
    assert text[int(emoji.get("startPosition")):int(emoji.get("endPosition"))] == t["note"].body[5:20]
    assert "😀" in t["note"].body[5:20]  # an emoji counts one position, not two UTF-16 units
    assert emoji.find(f"{P}Description").text == "tone"
    whole = by_guid[to_guid(t["whole"].id)]
    assert (whole.get("startPosition"), whole.get("endPosition")) == ("0", str(len(text)))


def test_every_coding_names_a_declared_user_and_a_declared_code(exported):
    root = exported["root"]
    users = {u.get("guid"): u.get("name") for u in root.iter(f"{P}User")}
    codes = {c.get("guid") for c in root.iter(f"{P}Code")}
    coders = set()
    for sel in root.iter(f"{P}PlainTextSelection"):
        coding = sel.find(f"{P}Coding")
        assert coding.get("creatingUser") == sel.get("creatingUser")
        coders.add(users[coding.get("creatingUser")])
        assert coding.find(f"{P}CodeRef").get("targetGUID") in codes
    assert coders == {"alice", "bob"}
    assert exported["report"].counts["codings"] == 4


def test_codebook_keeps_hierarchy_colours_and_descriptions(exported):
    root = exported["root"]
    book = root.find(f"{P}CodeBook/{P}Codes")
    power = next(c for c in book if c.get("name") == "power")
    assert power.get("color") == "#d62728" and power.get("isCodable") == "true"
    description = power.find(f"{P}Description").text
    assert description == "Who decides.\n\nInclude: decisions\n\nExclude: budgets\n\nExample: LI hands over"
    child = power.find(f"{P}Code")
    assert child.get("name") == "handing over" and child.get("color") == "#2ca02c"
    old = next(c for c in book if c.get("name") == "old idea")
    assert old.get("isCodable") == "false" and old.get("color") is None  # not #rrggbb: left out


def test_memos_are_notes_referenced_from_what_they_are_about(exported):
    root, t = exported["root"], exported["things"]
    memo_guid = to_guid(t["memo"].id)
    note = next(n for n in root.iter(f"{P}Note") if n.get("guid") == memo_guid)
    assert note.get("name") == "Power"
    assert exported["files"][f"sources/{memo_guid}.txt"].decode() == t["memo"].body
    holders = {el.get("guid") for el in root.iter() if any(r.get("targetGUID") == memo_guid
                                                           for r in el.findall(f"{P}NoteRef"))}
    assert holders == {to_guid(t["note"].id), to_guid(t["power"].id)}
    code_memo = to_guid(t["code_memo"].id)
    handing = next(c for c in root.iter(f"{P}Code") if c.get("name") == "handing over")
    assert [r.get("targetGUID") for r in handing.findall(f"{P}NoteRef")] == [code_memo]
    # participants and encounters cannot hold a NoteRef: a Link joins the note to their case
    links = {(link.get("originGUID"), link.get("targetGUID")) for link in root.iter(f"{P}Link")
             if link.get("name") == "about"}
    p03 = exported["project"].get("P03", type_name="participant")
    assert links == {(memo_guid, to_guid(p03.id)), (memo_guid, to_guid(t["enc"].id))}


def test_cases_carry_variables_and_source_refs(exported):
    root, t = exported["root"], exported["things"]
    variables = {v.get("guid"): v.get("name") for v in root.iter(f"{P}Variable")}
    cases = {c.get("name"): c for c in root.iter(f"{P}Case")}
    assert set(cases) == {"Northshire PDU", "P03", "P07", "E1"}

    def values(case):
        out = {}
        for vv in case.findall(f"{P}VariableValue"):
            name = variables[vv.find(f"{P}VariableRef").get("targetGUID")]
            out[name] = next(iter(el for el in vv if el.tag != f"{P}VariableRef")).text
        return out

    assert values(cases["P03"]) == {"fieldkit type": "participant", "role": "expert_by_experience",
                                    "organisation": "Lived Voices", "age band": "30-39",
                                    "attribute: role": "peer lead"}
    enc = values(cases["E1"])
    assert enc["encounter kind"] == "interview" and enc["mode"] == "video" and enc["site"] == "Northshire PDU"
    assert enc["participants"] == "P03:interviewee, P07:interviewer"
    assert enc["start"] == "2026-03-02T10:00:00Z"
    assert cases["E1"].find(f"{P}Description").text == "Went well."
    refs = {r.get("targetGUID") for r in cases["E1"].findall(f"{P}SourceRef")}
    assert refs == {to_guid(t["jot"].id), to_guid(t["note"].id)}
    assert {r.get("targetGUID") for r in cases["P07"].findall(f"{P}SourceRef")} == refs


def test_derived_from_is_kept_as_a_link(exported):
    t = exported["things"]
    pairs = {(l.get("originGUID"), l.get("targetGUID")) for l in exported["root"].iter(f"{P}Link")
             if l.get("name") == "derived from"}
    assert pairs == {(to_guid(t["note"].id), to_guid(t["jot"].id))}


def test_refuses_to_overwrite_unless_forced(exported):
    dest = exported["dest"]
    before = dest.read_bytes()
    with pytest.raises(Refused, match="exists"):
        refi.export_qdpx(exported["project"], dest, RAW)
    assert dest.read_bytes() == before
    refi.export_qdpx(exported["project"], dest, RAW, force=True)
    refi.export_qdpx(exported["project"], dest, ExportOptions(anonymise=False, force=True))


def test_a_failing_export_leaves_nothing_behind(project, tmp_path, monkeypatch):
    from fieldkit.exchange.refi import project_xml

    sample(project)

    def boom(self, item):
        raise RuntimeError("disk full")

    monkeypatch.setattr(project_xml._QdpxWriter, "write_source", boom)
    with pytest.raises(RuntimeError):
        refi.export_qdpx(project, tmp_path / "out.qdpx", RAW)
    assert list(tmp_path.iterdir()) == [project.path]


def test_selection_by_encounter_and_stage(project, tmp_path):
    t = sample(project)
    capture.note(project, "Unrelated note without an encounter.")
    dest = tmp_path / "e1.qdpx"
    report = refi.export_qdpx(project, dest, ExportOptions(anonymise=False, encounters=("E1",), stages=("fieldnote",)))
    _, files, root = read_qdpx(dest)
    validate_project(files["project.qde"])
    assert [s.get("guid") for s in root.iter(f"{P}TextSource")] == [to_guid(t["note"].id)]
    assert report.counts["sources"] == 1
    # the jotting's derived-from link is dropped with the jotting
    assert not [l for l in root.iter(f"{P}Link") if l.get("name") == "derived from"]


def test_only_memos(project, tmp_path):
    sample(project)
    dest = tmp_path / "memos.qdpx"
    refi.export_qdpx(project, dest, ExportOptions(anonymise=False, types=("memo",)))
    _, files, root = read_qdpx(dest)
    validate_project(files["project.qde"])
    assert root.find(f"{P}Sources") is None and len(root.findall(f"{P}Notes/{P}Note")) == 2


def test_withdrawn_participant_has_no_case(project, tmp_path):
    sample(project)
    record_consent(project, "P07", "withdrawn")
    dest = tmp_path / "out.qdpx"
    report = refi.export_qdpx(project, dest, RAW)
    _, files, root = read_qdpx(dest)
    validate_project(files["project.qde"])
    assert "P07" not in {c.get("name") for c in root.iter(f"{P}Case")}
    assert "P07" not in files["project.qde"].decode()
    assert any(item.reason == "participant withdrew consent" for item in report.left_out)


def test_empty_project_exports_a_valid_file(project, tmp_path):
    dest = tmp_path / "empty.qdpx"
    refi.export_qdpx(project, dest, RAW)
    _, files, _ = read_qdpx(dest)
    validate_project(files["project.qde"])


def test_awkward_names_and_control_characters_stay_valid_xml(project, tmp_path):
    capture.memo(project, "Body with a bell \x07 and a form feed \x0c inside.", title='A "quoted" <title> & more\ttab')
    project.add(Code(name='Trust & "fairness" <core>', colour="#ABC", definition="line one\r\nline two"))
    dest = tmp_path / "odd.qdpx"
    refi.export_qdpx(project, dest, RAW)
    _, files, root = read_qdpx(dest)
    validate_project(files["project.qde"])
    note = root.find(f"{P}Notes/{P}Note")
    assert note.get("name") == 'A "quoted" <title> & more\ttab'
    code = root.find(f"{P}CodeBook/{P}Codes/{P}Code")
    assert code.get("name") == 'Trust & "fairness" <core>' and code.get("color") == "#ABC"


def test_coding_past_the_end_of_its_text_is_left_out(project, tmp_path):
    note = capture.note(project, "Short.")
    code = project.add(Code(name="c"))
    bad = project.add(Coding(record_id=note.id, code_id=code.id, start=2, end=400, coder="alice"))
    report = refi.export_qdpx(project, tmp_path / "x.qdpx", RAW)
    assert [item.record_id for item in report.left_out] == [bad.id]


def test_progress_bar_goes_to_stderr(project, tmp_path, capsys):
    sample(project)
    refi.export_qdpx(project, tmp_path / "p.qdpx", ExportOptions(anonymise=False, progress=True))
    captured = capsys.readouterr()
    assert "qdpx" in captured.err and captured.out == ""


# --- codebook (.qdc) ---------------------------------------------------------------------------


def test_qdc_export_validates_against_the_codebook_schema(project, tmp_path):
    t = sample(project)
    dest = tmp_path / "book.qdc"
    report = refi.export_qdc(project, dest)
    data = dest.read_bytes()
    schema("Codebook.xsd").validate(data.decode())
    root = ET.fromstring(data)
    assert root.tag == f"{C}CodeBook" and root.get("origin").startswith("fieldkit")
    assert not list(root.iter(f"{C}NoteRef")) and not list(root.iter(f"{P}NoteRef"))
    power = next(c for c in root.iter(f"{C}Code") if c.get("name") == "power")
    assert power.get("guid") == to_guid(t["power"].id) and power.find(f"{C}Code").get("name") == "handing over"
    assert report.counts["codes"] == 3
    with pytest.raises(Refused):
        refi.export_qdc(project, dest)


def test_qdc_export_of_an_empty_codebook_is_refused(project, tmp_path):
    with pytest.raises(FieldkitError, match="empty"):
        refi.export_qdc(project, tmp_path / "book.qdc")
    assert not (tmp_path / "book.qdc").exists()


def test_codebook_with_a_cycle_still_exports_every_code(project, tmp_path):
    a = project.add(Code(name="a"))
    b = project.add(Code(name="b", parent_id=a.id))
    project.db.execute("update codes set parent_id = ? where id = ?", [b.id, a.id])  # damaged data
    dest = tmp_path / "cycle.qdc"
    refi.export_qdc(project, dest)
    schema("Codebook.xsd").validate(dest.read_text())
    assert sorted(c.get("name") for c in ET.fromstring(dest.read_bytes()).iter(f"{C}Code")) == ["a", "b"]


# --- helpers: GUIDs, escaping, descriptions ---------------------------------------------------


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_record_guid_matches_the_id_module(value):
    from ulid import ULID

    record_id = str(ULID.from_int(value))
    assert refi.record_guid(record_id) == to_guid(record_id)


def test_record_guid_of_a_foreign_id_is_stable():
    assert refi.record_guid("not-a-ulid") == refi.record_guid("not-a-ulid")
    assert uuid.UUID(refi.record_guid("not-a-ulid")).version == 5


@settings(max_examples=100)
@given(st.text(max_size=20), st.text(max_size=20))
def test_derived_guid_is_uuid5(kind, key):
    assert refi.derived_guid(kind, key) == str(uuid.uuid5(refi.GUID_NAMESPACE, f"{kind}:{key}"))


def test_clean_guid_accepts_braces_and_case():
    guid = to_guid(new_id())
    assert refi.clean_guid("{" + guid.upper() + "}") == guid
    assert refi.clean_guid("nonsense") is None


XML_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


@settings(max_examples=200)
@given(XML_TEXT)
def test_escaping_round_trips_through_a_parser(text):
    from fieldkit.exchange.refi.project_xml import _INVALID_XML, xml_attr, xml_text

    element = ET.fromstring(f'<a x="{xml_attr(text)}">{xml_text(text)}</a>')
    expected = _INVALID_XML.sub("\ufffd", text)
    assert element.get("x") == expected
    assert (element.text or "") == expected


FIELD = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=200)
@given(FIELD, FIELD, FIELD, FIELD)
def test_description_round_trip(definition, include, exclude, example):
    from fieldkit.exchange.refi.codebook_xml import compose_description, split_description

    labels = ("Include: ", "Exclude: ", "Example: ")
    for value in (definition, include, exclude, example):
        for label in labels:  # the one ambiguity: a field that itself holds a label paragraph
            if "\n\n" + label in "\n\n" + value:
                return
    fields = {"definition": definition, "include": include, "exclude": exclude, "example": example}
    assert split_description(compose_description(**fields)) == fields


def test_registered_as_plugins():
    from fieldkit.hooks import manager as plugin_manager

    exporters, importers = plugin_manager.exporters(), plugin_manager.importers()
    assert exporters["qdpx"].suffix == ".qdpx" and exporters["qdc"].suffix == ".qdc"
    assert importers["qdpx"].suffix == ".qdpx" and importers["qdc"].suffix == ".qdc"


def test_run_export_through_the_registry(project, tmp_path):
    from fieldkit.exchange.exporting import run_export

    sample(project)
    report = run_export(project, "qdpx", tmp_path / "via.qdpx", RAW)
    assert report.counts["sources"] == 2
    with pytest.raises(Refused):
        run_export(project, "qdpx", tmp_path / "via.qdpx", RAW)


def test_cli_export_and_import(run, tmp_path):
    from click.testing import CliRunner

    import fieldkit
    from fieldkit.cli import cli

    project = fieldkit.open(run.path)
    sample(project)
    project.close()
    out = tmp_path / "cli.qdpx"
    result = run("export", "qdpx", str(out), "--raw")
    assert result.exit_code == 0, result.output
    again = run("export", "qdpx", str(out), "--raw")
    assert again.exit_code == 1 and "Error:" in again.output and "Traceback" not in again.output
    fresh = tmp_path / "fresh"
    fieldkit.init(fresh).close()
    result = CliRunner().invoke(cli, ["--project", str(fresh), "import", "qdpx", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 observations" in result.output


def test_anonymised_export_leaves_no_registered_name_and_keeps_segments(tmp_path):
    """With the anonymisation engine and a key store: no registered name in any file of the
    .qdpx, and each coding still sits on the same words of the anonymised text."""
    import fieldkit
    from fieldkit.privacy.keystore import KeyStore
    from fieldkit.core.records import CONSENT_SCOPES

    p = fieldkit.init(tmp_path / "p")
    fieldwork.add_participant(p, "P03", role="person_on_probation")
    record_consent(p, "P03", "given", CONSENT_SCOPES)
    keys = tmp_path / "keys.db"
    store = KeyStore.create(keys)
    store.add("P03", "Dana Whitlock", ["Dee"])
    store.close()
    p.set_setting("keystore_path", str(keys))
    note = capture.note(p, "Dana Whitlock said the final say was theirs. Dee laughed.")
    code = p.add(Code(name="power"))
    start = note.body.index("the final say")
    p.add(Coding(record_id=note.id, code_id=code.id, start=start, end=start + len("the final say"), coder="alice"))
    capture.memo(p, "Whitlock again.", title="About Dana Whitlock", links=[note.id])
    dest = tmp_path / "anon.qdpx"
    report = refi.export_qdpx(p, dest, ExportOptions())
    assert report.anonymised
    _, files, root = read_qdpx(dest)
    validate_project(files["project.qde"])
    for name, data in files.items():
        assert b"Whitlock" not in data and b"Dee " not in data, name
    sel = next(root.iter(f"{P}PlainTextSelection"))
    text = files[f"sources/{to_guid(note.id)}.txt"].decode()
    assert text[int(sel.get("startPosition")):int(sel.get("endPosition"))] == "the final say"


def test_archive_entries_are_deflated_owner_only_and_stamped_alike(project, tmp_path):
    """The zip layout: texts first, project.qde last, every entry deflated and 0600, the texts
    stamped with the export's start; no staging file is left beside it."""
    import zipfile

    sample(project)
    dest = tmp_path / "out.qdpx"
    refi.export_qdpx(project, dest)
    with zipfile.ZipFile(dest) as zf:
        infos = zf.infolist()
    assert infos[-1].filename == "project.qde"
    assert all(i.filename.startswith("sources/") and i.filename.endswith(".txt") for i in infos[:-1])
    assert len(infos) > 3
    assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
    assert {i.external_attr >> 16 for i in infos} == {0o600}
    assert len({i.date_time for i in infos[:-1]}) == 1  # the texts carry the export's start
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["out.qdpx"]  # no staging left
