"""What other tools' files hold that is no fieldkit record -- sets, users who coded nothing,
cases about no document -- survives import, export and import again, with its GUIDs; a
second import changes nothing; what cannot be carried is reported, on import and export.

The fixture ``tools/full-schema.qdpx`` is hand-written XML (``make_tool_fixtures.py``), and
``full-schema.qdpx.expected.json`` lists its sets, users and cases as written there; the
property test builds its files with its own small writer, never fieldkit's exporter.
"""

import json
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fieldkit
from fieldkit.exchange import refi
from fieldkit.exchange.exporting import ExportOptions
from test_cli_fresh import fieldkit_run
from test_refi_export import validate_project

TOOLS = Path(__file__).parent / "fixtures" / "refi" / "tools"
FULL = TOOLS / "full-schema.qdpx"
EXPECTED = json.loads((TOOLS / "full-schema.qdpx.expected.json").read_text(encoding="utf-8"))
Q = "{urn:QDA-XML:project:1.0}"
RAW = ExportOptions(anonymise=False)


def bare(guid):
    return guid.strip("{}").lower()


def qde(path):
    with zipfile.ZipFile(path) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".qde"))
        return zf.read(name)


def carried(xml: bytes) -> dict:
    """Sets, users and cases of a project file, by GUID, read with ElementTree."""
    root = ET.fromstring(xml)
    variables = {v.get("guid"): v.get("name") for v in root.iter(Q + "Variable")}

    def refs(element, name):
        return sorted(bare(r.get("targetGUID")) for r in element.findall(Q + name))

    def text(element):
        found = element.find(Q + "Description")
        return (found.text or "") if found is not None else ""

    sets = {bare(s.get("guid")): {"name": s.get("name"), "description": text(s), "codes": refs(s, "MemberCode"),
                                  "sources": refs(s, "MemberSource"), "notes": refs(s, "MemberNote")}
            for s in root.iter(Q + "Set")}
    users = {bare(u.get("guid")): u.get("name") for u in root.iter(Q + "User")}
    cases = {}
    for case in root.iter(Q + "Case"):
        values = {variables[v.find(Q + "VariableRef").get("targetGUID")]: v.find(Q + "TextValue").text
                  for v in case.findall(Q + "VariableValue")}
        cases[bare(case.get("guid"))] = {"name": case.get("name"), "description": text(case),
                                         "variables": values, "sources": refs(case, "SourceRef")}
    return {"sets": sets, "users": users, "cases": cases}


def exported(project, dest, options=RAW):
    report = refi.export_qdpx(project, dest, options)
    xml = qde(dest)
    validate_project(xml)
    return carried(xml), report


def kept(project) -> dict:
    """What the project keeps of other tools' items, members named by their records."""
    return {item["external_id"]: (item["kind"], item["name"], item["data"], sorted(item["members"]))
            for item in project.store.exchange.items()}


def test_the_fixture_is_what_its_expectations_say():
    # the expectations were written beside the XML, not read back from it
    got = carried(qde(FULL))
    assert got["sets"] == EXPECTED["sets"]
    assert got["users"] == EXPECTED["users"]
    pdf_free = {g: {**c, "sources": [s for s in c["sources"] if s in
                                     {x for v in EXPECTED["cases"].values() for x in v["sources"]}]}
                for g, c in got["cases"].items()}
    assert pdf_free == EXPECTED["cases"]


def test_sets_users_and_cases_survive_import_export_import(tmp_path):
    first = fieldkit.init(tmp_path / "first")
    refi.import_qdpx(first, FULL)
    out, _ = exported(first, tmp_path / "once.qdpx")
    # every set, user and case of the file, with its GUID, name, description, members and variables
    assert out["sets"] == EXPECTED["sets"]
    assert {g: n for g, n in out["users"].items() if g in EXPECTED["users"]} == EXPECTED["users"]
    assert out["cases"] == EXPECTED["cases"]
    # and a second project that imports fieldkit's file keeps and writes the same
    second = fieldkit.init(tmp_path / "second")
    refi.import_qdpx(second, tmp_path / "once.qdpx")
    again, _ = exported(second, tmp_path / "twice.qdpx")
    assert again["sets"] == out["sets"] and again["cases"] == out["cases"]
    assert {g: n for g, n in again["users"].items() if g in EXPECTED["users"]} == EXPECTED["users"]


def test_the_user_who_coded_nothing_is_kept_and_written_back(tmp_path):
    project = fieldkit.init(tmp_path / "p")
    report = refi.import_qdpx(project, FULL)
    assert {c.coder for c in project.list("coding")} == {"Ivy Moss"}
    assert any("Jo Park" in note and "kept" in note for note in report.notes)
    out, _ = exported(project, tmp_path / "out.qdpx")
    assert out["users"][bare(next(g for g, n in EXPECTED["users"].items() if n == "Jo Park"))] == "Jo Park"


def test_importing_the_same_file_again_changes_nothing(tmp_path):
    project = fieldkit.init(tmp_path / "p")
    refi.import_qdpx(project, FULL)
    before = kept(project)
    assert len([k for k in before.values() if k[0] == "set"]) == 3
    again = refi.import_qdpx(project, FULL)
    assert kept(project) == before
    assert again.counts["sets already kept (unchanged)"] == 3
    assert again.counts["users already kept (unchanged)"] == 2
    assert again.counts["cases already kept (unchanged)"] == 3
    assert not any("kept (written back" in what for what in again.counts)
    # fieldkit's own export of it, merged back, changes nothing either
    from fieldkit.exchange.merging import merge_file

    refi.export_qdpx(project, tmp_path / "out.qdpx", RAW)
    merged = merge_file(project, tmp_path / "out.qdpx")
    assert kept(project) == before
    assert not any("members added" in what or "kept (written back" in what for what in merged.counts)


def _lead_and_second_coder(tmp_path):
    """The lead's project from the fixture, and a second coder's made from the lead's export,
    with the second coder's copy of the set "Staff codes"."""
    project = fieldkit.init(tmp_path / "p")
    refi.import_qdpx(project, FULL)
    refi.export_qdpx(project, tmp_path / "lead.qdpx", RAW)
    ben = fieldkit.init(tmp_path / "ben")
    refi.import_qdpx(ben, tmp_path / "lead.qdpx")
    staff = next(item for item in ben.store.exchange.items() if item["name"] == "Staff codes")
    return project, ben, staff


def test_a_second_coders_new_set_member_is_merged_once(tmp_path):
    project, ben, both = _lead_and_second_coder(tmp_path)
    delay = next(c for c in ben.list("code") if c.name == "Delay")
    with ben.transaction():
        ben.store.exchange.add_members(both["external_id"], [(delay.id, "code")])
    refi.export_qdpx(ben, tmp_path / "ben.qdpx", RAW)
    from fieldkit.exchange.merging import merge_file

    report = merge_file(project, tmp_path / "ben.qdpx")
    assert report.counts["set members added"] == 1
    staff = next(item for item in project.store.exchange.items() if item["name"] == "Staff codes")
    lead_delay = next(c for c in project.list("code") if c.name == "Delay")
    assert sorted(staff["members"]) == sorted([(lead_delay.id, "code"),
                                               *[(c.id, "code") for c in project.list("code") if c.name == "Staff"]])
    again = merge_file(project, tmp_path / "ben.qdpx")
    assert "set members added" not in again.counts


def test_a_set_changed_in_the_second_coders_file_is_listed_for_review(tmp_path):
    from fieldkit.exchange.merging import merge_file, review

    project, ben, staff = _lead_and_second_coder(tmp_path)
    with ben.transaction():
        ben.conn.execute("update exchange_items set data = ? where external_id = ?",
                         [json.dumps({**staff["data"], "description": "codes about staff, merged"}),
                          staff["external_id"]])
    refi.export_qdpx(ben, tmp_path / "ben.qdpx", RAW)
    before = kept(project)
    merge_file(project, tmp_path / "ben.qdpx")
    assert kept(project) == before  # the kept one stays
    listed = [c for c in review(project) if c["record_id"] == staff["external_id"]]
    assert len(listed) == 1 and listed[0]["record_type"] == "set" and "description" in listed[0]["what"]
    assert "Staff" not in listed[0]["what"]  # fields, never the name


def test_what_cannot_be_carried_is_reported_one_line_per_kind(tmp_path):
    project = fieldkit.init(tmp_path / "p")
    report = refi.import_qdpx(project, FULL)
    for kind, n in EXPECTED["not_carried"].items():
        lines = [line for line in report.skipped if line.startswith(f"{n} {kind}")]
        assert len(lines) == 1, (kind, report.skipped)
    assert "1 PDFSource element(s): fieldkit imports text sources only" in report.skipped
    assert "1 case link(s) to sources that were not imported" in report.skipped


def test_an_export_reports_the_set_members_and_cases_it_leaves_out(tmp_path):
    project = fieldkit.init(tmp_path / "p")
    refi.import_qdpx(project, FULL)
    out, report = exported(project, tmp_path / "memos.qdpx", ExportOptions(anonymise=False, types=("memo",)))
    # the two notes' set memberships (three) and the case about them are left out, and said so
    assert report.counts["set memberships of records not in this export (dropped)"] == 3
    assert report.counts["other tools' cases about no exported note (dropped)"] == 1
    assert sorted(c["name"] for c in out["cases"].values()) == ["Leaflet reader", "Resident R2"]
    assert all(not s["sources"] for s in out["sets"].values())


def test_an_anonymised_export_scrubs_kept_set_and_case_text(tmp_path):
    from fieldkit.privacy.anonymiser import create_keystore

    project = fieldkit.init(tmp_path / "p")
    keys = create_keystore(project, tmp_path / "outside" / "p.keys")
    keys.add("P09", "Marisol Quenby", ["Sollie"])
    keys.close()
    doc = "11111111-1111-4111-8111-111111111111"
    planted = "about Marisol Quenby (Sollie)"
    write_file(tmp_path / "in.qdpx", ["A visit to the wing."], [doc], {"22222222-2222-4222-8222-222222222222": "c"},
               {"33333333-3333-4333-8333-333333333333": "Ivy Moss"},
               {"44444444-4444-4444-8444-444444444444": {"name": f"Set {planted}", "description": f"Notes {planted}",
                                                         "codes": [], "sources": [doc], "notes": []}},
               {"55555555-5555-4555-8555-555555555555": {"name": f"Case {planted}", "description": f"Met {planted}",
                                                         "variables": {"group": f"Friends {planted}"},
                                                         "sources": []}})
    refi.import_qdpx(project, tmp_path / "in.qdpx")
    exported(project, tmp_path / "raw.qdpx")
    # set name and description, case name, description and variable: the raw file holds the
    # name five times, so the check below can see a leak
    assert qde(tmp_path / "raw.qdpx").count(b"Quenby") == 5
    _, report = exported(project, tmp_path / "anon.qdpx", ExportOptions())
    assert report.anonymised
    xml = qde(tmp_path / "anon.qdpx").lower()
    assert b"quenby" not in xml and b"marisol" not in xml and b"sollie" not in xml


def test_erasing_a_note_erases_the_other_tools_case_about_it(tmp_path):
    project = fieldkit.init(tmp_path / "p")
    refi.import_qdpx(project, FULL)
    notes = [item for item in project.store.exchange.items() if item["name"] == "Resident R1"][0]["members"]
    with project.transaction():
        project.store.erasure.forget([notes[0][0]])
    items = {item["name"]: item for item in project.store.exchange.items()}
    assert "Resident R1" not in items  # a case about an erased note can name the same person
    assert notes[0][0] not in [rid for rid, _ in items["Both visits"]["members"]]
    assert "Resident R2" in items


def test_destroying_notes_erases_what_other_tools_said_of_them(tmp_path):
    project = fieldkit.init(tmp_path / "p")
    refi.import_qdpx(project, FULL)
    notes = [o.id for o in project.list("observation")]
    assert set(notes) <= set(project.store.exchange.identities())  # their names in the other tool
    with project.transaction():
        project.store.lifecycle.erase_records("observation", notes)
    assert not set(notes) & set(project.store.exchange.identities())
    items = {item["name"]: item for item in project.store.exchange.items()}
    assert "Resident R1" not in items and "Resident R2" in items
    assert not any(rid in notes for item in items.values() for rid, _ in item["members"])


# a round-trip property, against files written here ---------------------------------------

_names = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn")), min_size=1, max_size=12).map(str.strip).filter(bool)


@st.composite
def projects(draw):
    """A small project file with texts, codes, sets, users and cases of random shape."""
    texts = draw(st.lists(st.from_regex(r"[A-Za-z][A-Za-z ]{4,29}", fullmatch=True), min_size=1, max_size=3))
    docs = [str(draw(st.uuids())) for _ in texts]
    codes = {str(draw(st.uuids())): f"code {i}" for i in range(draw(st.integers(1, 3)))}
    users = {str(draw(st.uuids())): name for name in draw(st.lists(_names, min_size=1, max_size=3, unique=True))}
    sets = {}
    for _ in range(draw(st.integers(0, 3))):
        sets[str(draw(st.uuids()))] = {
            "name": draw(_names), "description": draw(st.one_of(st.just(""), _names)),
            "codes": sorted(draw(st.sets(st.sampled_from(sorted(codes))))),
            "sources": sorted(draw(st.sets(st.sampled_from(docs)))), "notes": []}
    cases = {}
    for _ in range(draw(st.integers(0, 3))):
        cases[str(draw(st.uuids()))] = {
            "name": draw(_names), "description": draw(st.one_of(st.just(""), _names)),
            "variables": draw(st.dictionaries(st.sampled_from(["age", "wing", "group"]), _names, max_size=2)),
            "sources": sorted(draw(st.sets(st.sampled_from(docs))))}
    return texts, docs, codes, users, sets, cases


def write_file(path, texts, docs, codes, users, sets, cases):
    from xml.sax.saxutils import quoteattr, escape

    variables = {name: f"00000000-0000-4000-8000-00000000000{i}" for i, name in enumerate(["age", "wing", "group"])}
    parts = ['<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="urn:QDA-XML:project:1.0" name="p" '
             'origin="ATLAS.ti 24">', "<Users>"]
    parts += [f"<User guid={quoteattr(g)} name={quoteattr(n)}/>" for g, n in users.items()]
    parts += ["</Users><CodeBook><Codes>"]
    parts += [f'<Code guid="{g}" name="{n}" isCodable="true"/>' for g, n in codes.items()]
    parts += ["</Codes></CodeBook><Variables>"]
    parts += [f'<Variable guid="{g}" name="{n}" typeOfVariable="Text"/>' for n, g in variables.items()]
    parts += ["</Variables>"]
    if cases:
        parts.append("<Cases>")
        for g, c in cases.items():
            parts.append(f"<Case guid={quoteattr(g)} name={quoteattr(c['name'])}>"
                         + (f"<Description>{escape(c['description'])}</Description>" if c["description"] else "")
                         + "".join(f'<VariableValue><VariableRef targetGUID="{variables[k]}"/>'
                                   f"<TextValue>{escape(v)}</TextValue></VariableValue>"
                                   for k, v in c["variables"].items())
                         + "".join(f'<SourceRef targetGUID="{s}"/>' for s in c["sources"]) + "</Case>")
        parts.append("</Cases>")
    parts.append("<Sources>")
    parts += [f'<TextSource guid="{g}" name="doc {i}"><PlainTextContent>{t}</PlainTextContent></TextSource>'
              for i, (g, t) in enumerate(zip(docs, texts))]
    parts.append("</Sources>")
    if sets:
        parts.append("<Sets>")
        for g, s in sets.items():
            parts.append(f"<Set guid={quoteattr(g)} name={quoteattr(s['name'])}>"
                         + (f"<Description>{escape(s['description'])}</Description>" if s["description"] else "")
                         + "".join(f'<MemberCode targetGUID="{c}"/>' for c in s["codes"])
                         + "".join(f'<MemberSource targetGUID="{c}"/>' for c in s["sources"]) + "</Set>")
        parts.append("</Sets>")
    parts.append("</Project>")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", "".join(parts))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(projects())
def test_round_trip_property_sets_users_cases(tmp_path_factory, shape):
    tmp = tmp_path_factory.mktemp("prop")
    texts, docs, codes, users, sets, cases = shape
    write_file(tmp / "in.qdpx", *shape)
    project = fieldkit.init(tmp / "p")
    refi.import_qdpx(project, tmp / "in.qdpx")
    before = kept(project)
    out, _ = exported(project, tmp / "out.qdpx")
    assert out["sets"] == sets
    assert out["cases"] == cases
    assert {g: n for g, n in out["users"].items() if g in users} == users
    refi.import_qdpx(project, tmp / "out.qdpx")  # fieldkit's own file, back into the same project
    assert kept(project) == before


# from the command line, in a fresh process ---------------------------------------------------


@pytest.fixture
def cli_env(tmp_path):
    import os

    base = {k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")}
    return {**base, "FIELDKIT_PROJECT": str(tmp_path / "study"), "FIELDKIT_AUTHOR": "tester",
            "FIELDKIT_LOAD_PLUGINS": "", "FIELDKIT_KEYS_PASSPHRASE": "", "EDITOR": "false", "COLUMNS": "200"}


def test_cli_imports_reports_exports_and_merges_sets_users_and_cases(tmp_path, cli_env):
    fieldkit_run("init", tmp_path / "study", env=cli_env, check=0)
    first = fieldkit_run("import", "qdpx", FULL, env=cli_env, check=0).stdout
    assert "3 sets kept (written back on export)" in first
    assert "skipped: 1 graph(s)" in first and "Jo Park" in first
    out = fieldkit_run("export", "qdpx", tmp_path / "out.qdpx", "--raw", env=cli_env, check=0)
    assert "3 sets" in out.stdout + out.stderr
    got = carried(qde(tmp_path / "out.qdpx"))
    assert got["sets"] == EXPECTED["sets"] and got["cases"] == EXPECTED["cases"]
    again = fieldkit_run("merge", FULL, env=cli_env, check=0).stdout
    assert "3 sets already kept (unchanged)" in again and "kept (written back" not in again


def test_a_maxqda_24_export_with_uncoded_documents_in_sets_round_trips(tmp_path):
    """The shape of a public MAXQDA 24 export (see make_tool_fixtures.py): indented XML, bare
    upper-case GUIDs, uncoded documents as empty TextSource elements, document sets."""
    want = json.loads((TOOLS / "maxqda24.qdpx.expected.json").read_text(encoding="utf-8"))
    project = fieldkit.init(tmp_path / "p")
    report = refi.import_qdpx(project, TOOLS / "maxqda24.qdpx")
    assert report.counts["observations"] == 3 and not report.skipped
    codes = {c.name: c for c in project.list("code")}
    assert codes["TECH - Sensors"].parent_id == codes["Technologies"].id
    out, _ = exported(project, tmp_path / "out.qdpx")
    assert {g: [s["name"], s["sources"]] for g, s in out["sets"].items()} == want["sets"]
    root = ET.fromstring(qde(tmp_path / "out.qdpx"))
    assert {s.get("guid"): s.get("name") for s in root.iter(Q + "TextSource")} == want["documents"]


def test_a_jsonl_backup_restores_and_merges_kept_items_and_identities(tmp_path):
    from fieldkit.exchange.exporting import run_export
    from fieldkit.exchange.importing import run_importer
    from fieldkit.exchange.merging import merge_file
    from fieldkit.fieldwork.capture import note

    project = fieldkit.init(tmp_path / "p")
    refi.import_qdpx(project, FULL)
    run_export(project, "jsonl", tmp_path / "backup.jsonl", RAW)
    restored = fieldkit.init(tmp_path / "restored")
    run_importer(restored, "jsonl", tmp_path / "backup.jsonl")
    assert kept(restored) == kept(project)
    # merged into a project with notes of its own: kept items come along, once
    other = fieldkit.init(tmp_path / "other")
    note(other, "A note of this project's own.")
    merge_file(other, tmp_path / "backup.jsonl")
    assert kept(other) == kept(project)
    again = merge_file(other, tmp_path / "backup.jsonl")
    assert kept(other) == kept(project) and again.counts["sets already kept (unchanged)"] == 3
    # identities arrive as data, not as text: the merged project exports as the first one does
    assert other.store.exchange.identities() == project.store.exchange.identities()
    out, _ = exported(other, tmp_path / "other.qdpx")
    assert out["sets"] == EXPECTED["sets"] and out["cases"] == EXPECTED["cases"]


def test_a_codebooks_code_sets_survive_qdc_import_export_import(tmp_path):
    from test_refi_export import schema

    source = Path(__file__).parent / "fixtures" / "refi" / "other-tool.qdc"
    project = fieldkit.init(tmp_path / "p")
    refi.import_qdc(project, source)
    report = refi.export_qdc(project, tmp_path / "book.qdc")
    xml = (tmp_path / "book.qdc").read_bytes()
    schema("Codebook.xsd").validate(xml.decode("utf-8"))
    assert report.counts["sets"] == 1

    def sets(data):
        c = "{urn:QDA-XML:codebook:1.0}"
        return {bare(s.get("guid")): (s.get("name"), sorted(bare(m.get("guid")) for m in s.iter(c + "MemberCode")))
                for s in ET.fromstring(data).iter(c + "Set")}

    assert sets(xml) == sets(source.read_bytes()) and len(sets(xml)) == 1
    before = kept(project)
    again = refi.import_qdc(project, tmp_path / "book.qdc")
    assert kept(project) == before and again.counts["sets already kept (unchanged)"] == 1


def test_the_qualcoder_profile_warns_that_qualcoder_drops_the_sets(tmp_path):
    project = fieldkit.init(tmp_path / "p")
    refi.import_qdpx(project, FULL)
    report = refi.export_qdpx(project, tmp_path / "qc.qdpx", ExportOptions(anonymise=False, program="qualcoder"))
    assert "QualCoder will drop 3 set(s)" in report.warnings
