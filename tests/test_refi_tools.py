"""Files that behave like NVivo, MAXQDA, ATLAS.ti, OpenQDA and QualCoder exports import right.

The fixtures are built by ``tests/fixtures/refi/make_tool_fixtures.py`` (hand-written XML,
positions counted with Python's codecs); ``NAME.expected.json`` says which words each
selection covers and who coded it.
"""

import io
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fieldkit
from fieldkit.core.errors import FieldkitError
from fieldkit.exchange import refi
from fieldkit.exchange.refi.offsets import Utf16Index, cuts_word, producer

TOOLS = Path(__file__).parent / "fixtures" / "refi" / "tools"


def expected(name):
    return json.loads((TOOLS / f"{name}.expected.json").read_text(encoding="utf-8"))


def imported(project, name, **extra):
    return refi.import_qdpx(project, TOOLS / name, {"extra": extra})


def landed(project):
    """``{coding id: (covered text, coder, created)}`` of every coding in the project."""
    out = {}
    for coding in project.list("coding"):
        body = project.get(coding.record_id).body
        out[coding.id] = (body[coding.start:coding.end], coding.coder, coding.created_at.isoformat())
    return out


@pytest.mark.parametrize("name", ["nvivo.qdpx", "maxqda.qdpx", "atlas.qdpx", "qualcoder.qdpx"])
def test_every_selection_lands_on_its_words_with_its_coder(tmp_path, name):
    project = fieldkit.init(tmp_path / "p")
    imported(project, name)
    want = expected(name)["selections"]
    got = sorted((text, coder) for text, coder, _ in landed(project).values())
    assert got == sorted((w["text"], w["coder"]) for w in want.values())


def test_nvivo_coder_and_time_come_from_the_selection_not_the_coding_element(tmp_path):
    project = fieldkit.init(tmp_path / "p")
    imported(project, "nvivo.qdpx")
    want = {(w["text"], w["coder"], w["created"]) for w in expected("nvivo.qdpx")["selections"].values()}
    assert set(landed(project).values()) == want
    assert "Cat Lowe" not in {c.coder for c in project.list("coding")}


def test_nvivo_read_as_code_points_is_reported_as_shifted(tmp_path):
    project = fieldkit.init(tmp_path / "p")
    report = imported(project, "nvivo.qdpx", offsets="codepoints")
    assert any("inside a word" in note for note in report.notes)
    texts = {text for text, _, _ in landed(project).values()}
    assert "it was rushed" not in texts  # read the wrong way, the codings are off


def test_correctly_read_files_give_no_shift_warning(tmp_path):
    for name in ("nvivo.qdpx", "maxqda.qdpx", "atlas.qdpx", "qualcoder.qdpx"):
        project = fieldkit.init(tmp_path / name)
        report = imported(project, name)
        assert not any("inside a word" in note for note in report.notes), name


def _with_origin(tmp_path, origin):
    """nvivo.qdpx with its origin attribute replaced (an unknown producer)."""
    source = zipfile.ZipFile(TOOLS / "nvivo.qdpx")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "project.qde":
                data = data.replace(b'origin="NVivo 12 (Windows)"', f'origin="{origin}"'.encode())
            out.writestr(info.filename, data)
    path = tmp_path / "unknown.qdpx"
    path.write_bytes(buffer.getvalue())
    return path


def test_auto_detects_utf16_positions_from_an_unknown_producer(tmp_path):
    path = _with_origin(tmp_path, "SomeTool 1.0")
    project = fieldkit.init(tmp_path / "p")
    report = refi.import_qdpx(project, path)
    assert any("positions read as utf16" in note for note in report.notes)
    want = sorted((w["text"], w["coder"]) for w in expected("nvivo.qdpx")["selections"].values())
    assert sorted((t, c) for t, c, _ in landed(project).values()) == want


def test_a_bad_offsets_value_is_refused_before_anything_is_written(tmp_path):
    project = fieldkit.init(tmp_path / "p")
    with pytest.raises(FieldkitError, match="--offsets"):
        imported(project, "nvivo.qdpx", offsets="bytes")
    assert project.list("observation") == []


def test_producers_are_recognised_from_origin():
    assert producer("NVivo 14 (Mac)") == ("NVivo", "utf16")
    assert producer("MAXQDA 2022")[1] == "codepoints"
    assert producer("Qualcoder-1.4")[0] == "QualCoder"
    assert producer("")[1] == "codepoints"


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40), st.data())
@settings(max_examples=200, deadline=None)
def test_utf16_positions_become_code_points_as_the_codec_counts(text, data):
    # oracle: the UTF-16 length of each prefix, by Python's codec
    index = Utf16Index(text)
    assert index.length == len(text.encode("utf-16-le")) // 2
    cp = data.draw(st.integers(0, len(text)))
    units = len(text[:cp].encode("utf-16-le")) // 2
    assert index.to_codepoints(units) == cp


def test_word_cut_counts_boundaries_inside_words():
    assert cuts_word("hello world", 0, 5) == 0
    assert cuts_word("hello world", 1, 5) == 1
    assert cuts_word("hello world", 1, 8) == 2


# nothing silently dropped; identity kept through a round trip --------------------------------


def export_xml(project, tmp_path, name="out.qdpx"):
    from fieldkit.exchange.exporting import ExportOptions

    dest = tmp_path / name
    report = refi.export_qdpx(project, dest, ExportOptions(anonymise=False))
    with zipfile.ZipFile(dest) as zf:
        return dest, zf.read("project.qde").decode("utf-8"), report


def test_maxqda_report_lists_what_is_kept_aside_and_what_is_dropped(tmp_path):
    project = fieldkit.init(tmp_path / "p")
    report = imported(project, "maxqda.qdpx")
    lines = "\n".join(report.summary_lines())
    assert "2 document name(s), 4 document variable value(s)" in lines
    assert "1 user(s) with nothing they made in this file (Eli Stone): kept" in lines
    assert report.counts["sets kept (written back on export)"] == 2
    assert report.counts["users kept (written back on export)"] == 2
    # Age is an Integer variable: its values are kept as text, and the report says so
    assert report.skipped == ["1 variable(s) typed other than Text (Integer, Float, Boolean, Date, DateTime): "
                              "their values are kept as text and written back as Text variables"]


def test_maxqda_names_variables_sets_and_guids_survive_a_round_trip(tmp_path):
    from xml.etree import ElementTree as ET

    project = fieldkit.init(tmp_path / "p")
    imported(project, "maxqda.qdpx")
    _, xml, _ = export_xml(project, tmp_path)
    root = ET.fromstring(xml)
    ns = {"q": "urn:QDA-XML:project:1.0"}
    with zipfile.ZipFile(TOOLS / "maxqda.qdpx") as zf:
        original = ET.fromstring(zf.read("Supervision.qde"))
    def sources(tree):
        return {s.get("guid").strip("{}").lower(): s.get("name") for s in tree.iter("{urn:QDA-XML:project:1.0}TextSource")}
    assert sources(root) == sources(original)
    codes = {c.get("guid") for c in root.iter("{urn:QDA-XML:project:1.0}Code")}
    assert codes == {c.get("guid").strip("{}").lower() for c in original.iter("{urn:QDA-XML:project:1.0}Code")}
    variables = {v.get("name") for v in root.find("q:Variables", ns)}
    assert {"Age", "Site"} <= variables
    def sets(tree):  # GUID -> name and members, code and document sets alike
        return {s.get("guid").strip("{}").lower(): (s.get("name"), sorted(
            (m.tag.rsplit("}", 1)[-1], m.get("targetGUID").strip("{}").lower()) for m in s))
            for s in tree.iter("{urn:QDA-XML:project:1.0}Set")}
    assert sets(root) == sets(original) and len(sets(root)) == 2


def test_atlas_categories_stay_not_codable_after_a_round_trip(tmp_path):
    project = fieldkit.init(tmp_path / "p")
    imported(project, "atlas.qdpx")
    _, xml, _ = export_xml(project, tmp_path)
    assert 'name="Atmosphere" isCodable="false"' in xml
    assert 'name="Calm" isCodable="true"' in xml


def test_other_tool_round_trip_back_into_the_same_project_changes_nothing(tmp_path):
    project = fieldkit.init(tmp_path / "p")
    imported(project, "nvivo.qdpx")
    before = {t: sorted(map(repr, project.list(t))) for t in ("code", "observation", "coding")}
    dest, _, _ = export_xml(project, tmp_path)
    report = refi.import_qdpx(project, dest)
    assert {t: sorted(map(repr, project.list(t))) for t in before} == before
    assert report.counts["codings already in the project (unchanged)"] == 7


def test_openqda_codebook_with_non_guid_ids_is_accepted_with_a_warning(tmp_path):
    project = fieldkit.init(tmp_path / "p")
    report = refi.import_qdc(project, TOOLS / "openqda.qdc")
    assert any("not GUIDs" in note and "'17'" in note for note in report.notes)
    codes = {c.name: c for c in project.list("code")}
    assert set(codes) == {"Trust", "Distrust", "Housing"}
    assert codes["Distrust"].parent_id == codes["Trust"].id
    again = refi.import_qdc(project, TOOLS / "openqda.qdc")
    assert again.counts == {"codes already in the project": 3}


def test_a_coding_on_an_encounter_is_reported_as_left_out(tmp_path):
    from fieldkit.core.records import Code, Coding, Encounter, Observation

    project = fieldkit.init(tmp_path / "p")
    encounter = project.add(Encounter(code="E1", kind="interview"))
    code = project.add(Code(name="tone"))
    project.add(Observation(stage="fieldnote", body="We met at the office.", encounter_id=encounter.id))
    coding = project.add(Coding(record_id=encounter.id, code_id=code.id, coder="ana"))
    _, xml, report = export_xml(project, tmp_path)
    assert [(item.record_id, item.record_type) for item in report.left_out] == [(coding.id, "coding")]
    assert any("coding on an encounter" in line for line in report.summary_lines())


# --for profiles ---------------------------------------------------------------------------------


def _exported_selections(project, tmp_path, profile):
    from xml.etree import ElementTree as ET

    from fieldkit.exchange.exporting import ExportOptions

    dest = tmp_path / f"{profile}.qdpx"
    report = refi.export_qdpx(project, dest, ExportOptions(anonymise=False, program=profile))
    with zipfile.ZipFile(dest) as zf:
        root = ET.fromstring(zf.read("project.qde"))
        out = []
        for source in root.iter("{urn:QDA-XML:project:1.0}TextSource"):
            text = zf.read(f"sources/{source.get('guid')}.txt").decode("utf-8")
            for sel in source.iter("{urn:QDA-XML:project:1.0}PlainTextSelection"):
                out.append((text, int(sel.get("startPosition")), int(sel.get("endPosition"))))
    return out, report


TRICKY = ["Sam \U0001F642 said the hostel felt safe", "cafe\u0301 then \u05e9\u05dc\u05d5\u05dd and \U0001F46E\U0001F3FD ok",
          "\u0645\u0631\u062d\u0628\u0627 \U0001F4DD note"]


@pytest.mark.parametrize("body", TRICKY)
def test_exports_write_code_points_and_the_nvivo_profile_utf16(tmp_path, body):
    from fieldkit.core.records import Code, Coding, Observation

    project = fieldkit.init(tmp_path / "p")
    code = project.add(Code(name="c"))
    record = project.add(Observation(stage="fieldnote", body=body))
    wanted = body.split()[-2]  # a word after the emoji or the marks
    start = record.body.index(wanted)
    project.add(Coding(record_id=record.id, code_id=code.id, start=start, end=start + len(wanted), coder="ana"))
    [(text, s, e)], _ = _exported_selections(project, tmp_path, None)
    assert text[s:e] == wanted  # the standard: code points
    [(text, s, e)], report = _exported_selections(project, tmp_path, "nvivo")
    units = text.encode("utf-16-le")  # oracle: Python's codec
    assert units[2 * s:2 * e].decode("utf-16-le") == wanted
    assert any("UTF-16" in w for w in report.warnings)


def test_nvivo_profile_file_reads_back_through_the_nvivo_path(tmp_path):
    from fieldkit.core.records import Code, Coding, Observation

    project = fieldkit.init(tmp_path / "p")
    code = project.add(Code(name="c"))
    record = project.add(Observation(stage="fieldnote", body=TRICKY[0]))
    start = record.body.index("hostel")
    project.add(Coding(record_id=record.id, code_id=code.id, start=start, end=start + 6, coder="ana"))
    _exported_selections(project, tmp_path, "nvivo")
    other = fieldkit.init(tmp_path / "other")
    refi.import_qdpx(other, tmp_path / "nvivo.qdpx", {"extra": {"offsets": "utf16"}})
    [coding] = other.list("coding")
    assert other.get(coding.record_id).body[coding.start:coding.end] == "hostel"


def test_qualcoder_profile_warns_what_qualcoder_drops(tmp_path):
    from fieldkit.core.records import Code, Coding, Memo, Observation

    project = fieldkit.init(tmp_path / "p")
    parent_a, parent_b = project.add(Code(name="a")), project.add(Code(name="b"))
    project.add(Code(name="same", parent_id=parent_a.id))
    project.add(Code(name="same", parent_id=parent_b.id))
    note = project.add(Observation(stage="fieldnote", body="A note."))
    first = project.add(Memo(title="m1", body="Memo one.", links=(note.id,)))
    second = project.add(Memo(title="m2", body="Memo two.", links=(first.id,)))
    project.add(Coding(record_id=second.id, code_id=parent_a.id, start=0, end=4, coder="ana"))
    _, report = _exported_selections(project, tmp_path, "qualcoder")
    text = "\n".join(report.warnings)
    assert "QualCoder will drop 1 coding(s) on memos" in text
    assert "QualCoder will drop 1 memo link(s) to other memos" in text
    assert "QualCoder will drop 2 code(s) sharing a name" in text


def test_agreement_on_an_imported_two_coder_project_counts_each_coder(tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    script = Path(sys.executable).with_name("fieldkit")
    script = script if script.exists() else Path(shutil.which("fieldkit"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")}
    env.update(FIELDKIT_PROJECT=str(tmp_path / "p"), FIELDKIT_AUTHOR="t", FIELDKIT_LOAD_PLUGINS="",
               FIELDKIT_KEYS_PASSPHRASE="")

    def run(*args):
        done = subprocess.run([str(script), *map(str, args)], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("init", tmp_path / "p")
    run("import", "qdpx", TOOLS / "qualcoder.qdpx")
    rows = {r["code"]: r for r in json.loads(run("agreement", "--coders", "gail,hal", "--json"))["rows"]}
    # oracle from the fixture's own text: both coders coded the same words with Employment;
    # only hal coded "The flat was tidy" with Home, so they agree on every other character
    with zipfile.ZipFile(TOOLS / "qualcoder.qdpx") as zf:
        [text] = [zf.read(n).decode("utf-8") for n in zf.namelist() if n.endswith(".txt")
                  and b"The flat was tidy" in zf.read(n)]
    assert rows["Employment"]["percent"] == 1.0
    assert rows["Home"]["percent"] == pytest.approx((len(text) - len("The flat was tidy")) / len(text))


def _crlf_file(tmp_path, origin):
    """A tool that counts each CRLF as one character (positions computed on the text with LF)."""
    text = "Visit notes\r\nThe officer listened\r\nThe hostel felt calm\r\nStaff were kind\r\nTea was offered\r\n"
    flat = text.replace("\r\n", "\n")
    quotes = ["officer listened", "hostel felt calm", "Staff were kind", "Tea was offered"]
    sels = "".join(
        f'<PlainTextSelection guid="e0000000-0000-4000-8000-00000000000{i}" startPosition="{flat.index(q)}" '
        f'endPosition="{flat.index(q) + len(q)}"><Coding guid="f0000000-0000-4000-8000-00000000000{i}">'
        '<CodeRef targetGUID="a0000000-0000-4000-8000-000000000001"/></Coding></PlainTextSelection>'
        for i, q in enumerate(quotes))
    qde = (f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="x" origin="{origin}">'
           '<CodeBook><Codes><Code guid="a0000000-0000-4000-8000-000000000001" name="c" isCodable="true"/></Codes>'
           '</CodeBook><Sources><TextSource guid="b0000000-0000-4000-8000-000000000001" '
           'plainTextPath="internal://b0000000-0000-4000-8000-000000000001.txt">'
           f"{sels}</TextSource></Sources></Project>")
    path = tmp_path / "crlf.qdpx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", qde)
        zf.writestr("sources/b0000000-0000-4000-8000-000000000001.txt", text.encode("utf-8"))
    return path, quotes


def test_auto_detects_a_tool_that_counts_crlf_as_one(tmp_path):
    path, quotes = _crlf_file(tmp_path, "LineTool 2")
    project = fieldkit.init(tmp_path / "p")
    report = refi.import_qdpx(project, path)
    assert sorted(t for t, _, _ in landed(project).values()) == sorted(quotes)
    assert any("counting a CRLF line end as one character" in note for note in report.notes)
    # told otherwise, it does as told (and the check warns)
    other = fieldkit.init(tmp_path / "o")
    report = refi.import_qdpx(other, path, {"extra": {"crlf": "two"}})
    assert sorted(t for t, _, _ in landed(other).values()) != sorted(quotes)
    assert any("inside a word" in note for note in report.notes)


def test_other_tools_cases_survive_a_round_trip_with_their_variables(tmp_path):
    from xml.etree import ElementTree as ET

    project = fieldkit.init(tmp_path / "p")
    imported(project, "qualcoder.qdpx")
    _, xml, _ = export_xml(project, tmp_path)
    q = "{urn:QDA-XML:project:1.0}"
    root = ET.fromstring(xml)
    with zipfile.ZipFile(TOOLS / "qualcoder.qdpx") as zf:
        original = ET.fromstring(zf.read("project.qde"))
    variables = {v.get("guid"): v.get("name") for v in root.iter(q + "Variable")}

    def cases(tree, names):
        return {(c.get("guid").strip("{}").lower(), c.get("name"),
                 tuple(sorted((names[v.find(q + "VariableRef").get("targetGUID")], v.find(q + "TextValue").text)
                              for v in c.iter(q + "VariableValue") if v.find(q + "VariableRef").get("targetGUID") in names)),
                 tuple(r.get("targetGUID").strip("{}").lower() for r in c.iter(q + "SourceRef")))
                for c in tree.iter(q + "Case")}

    original_names = {v.get("guid"): v.get("name") for v in original.iter(q + "Variable")}
    assert cases(root, variables) == cases(original, original_names)


def test_a_codebook_export_keeps_another_tools_code_guids_and_categories(tmp_path):
    project = fieldkit.init(tmp_path / "p")
    imported(project, "atlas.qdpx")
    refi.export_qdc(project, tmp_path / "book.qdc")
    xml = (tmp_path / "book.qdc").read_text(encoding="utf-8")
    with zipfile.ZipFile(TOOLS / "atlas.qdpx") as zf:
        original = zf.read("project.qde").decode("utf-8")
    import re

    wanted = {g.strip("{}").lower() for g in re.findall(r'<qda:Code guid="([^"]+)"', original)}
    assert set(re.findall(r'<Code guid="([^"]+)"', xml)) == wanted
    assert 'name="Atmosphere" isCodable="false"' in xml


def test_selection_guids_of_another_tool_survive_a_round_trip(tmp_path):
    import re

    project = fieldkit.init(tmp_path / "p")
    imported(project, "nvivo.qdpx")
    _, xml, _ = export_xml(project, tmp_path)
    want = set(expected("nvivo.qdpx")["selections"])
    assert set(re.findall(r'<PlainTextSelection guid="([^"]+)"', xml)) == want
