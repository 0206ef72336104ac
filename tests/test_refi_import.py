"""REFI-QDA import: files from other tools, their known variations, and bad input.

The fixtures in ``tests/fixtures/refi/`` are hand-made (``make_fixtures.py`` rebuilds them);
every name in them is invented.
"""

import shutil
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldkit.exchange import refi
from fieldkit.core.errors import FieldkitError
from fieldkit.exchange.importing import ImportOptions

FIXTURES = Path(__file__).parent / "fixtures" / "refi"


def counts(project) -> dict:
    tables = ("observations", "memos", "codes", "codings", "participants", "encounters", "sites", "revisions", "audit")
    return {t: project.db.execute(f"select count(*) from [{t}]").fetchone()[0] for t in tables}


def coded(project) -> dict:
    """Coded text by code name: {code name: sorted [(segment text, coder)]}."""
    out = {}
    for coding in project.list("coding"):
        record = project.get(coding.record_id)
        code = project.get(coding.code_id, type_name="code")
        text = record.body if coding.whole_record else record.body[coding.start:coding.end]
        out.setdefault(code.name, []).append((text, coding.coder))
    return {k: sorted(v) for k, v in out.items()}


# --- another tool's project with the usual variations ------------------------------------------


@pytest.fixture
def other_tool(project):
    report = refi.import_qdpx(project, FIXTURES / "other-tool.qdpx")
    return project, report


def test_other_tool_texts_are_stored_normalised(other_tool):
    project, report = other_tool
    (note,) = project.list("observation")
    # the byte-order mark is gone and CRLF became LF
    assert note.body == "Interview with P03\nThe inspector asked about the café.\nP03: “It felt fair.”\n"
    assert note.stage == "fieldnote" and note.author == "Ana Coder"
    assert report.counts["observations"] == 1


def test_other_tool_codings_keep_their_characters_and_coders(other_tool):
    project, _ = other_tool
    assert coded(project) == {
        "Trust": [("café", "Ana Coder"), ("“It felt fair.”", "Ana Coder")],
        "Fairness": [("“It felt fair.”", "Ben Coder")],
    }
    fair = next(c for c in project.list("coding") if c.coder == "Ben Coder")
    assert fair.note == "Said with a smile."


def test_other_tool_codebook_hierarchy_colours_and_names(other_tool):
    project, report = other_tool
    codes = {c.name: c for c in project.list("code")}
    assert set(codes) == {"Trust", "Fairness", "Places\u2215venues"}
    assert codes["Fairness"].parent_id == codes["Trust"].id
    assert codes["Trust"].colour == "#1F77B4"
    assert codes["Trust"].definition == "Talk about trust between people on probation and staff."
    # another tool's non-codable folder is still an active code in fieldkit
    assert codes["Places\u2215venues"].status == "active"
    assert any("'/'" in note for note in report.notes)


def test_other_tool_memo_and_its_links(other_tool):
    project, _ = other_tool
    (memo,) = project.list("memo")
    assert memo.title == "Fairness memo" and memo.body == "Fairness comes up unprompted.\nFollow up with P07."
    (note,) = project.list("observation")
    trust = project.get("Trust", type_name="code")
    assert set(memo.links) == {note.id, trust.id}


def test_other_tool_ids_are_new_and_cases_reported(other_tool):
    project, report = other_tool
    from fieldkit.core.ids import from_guid

    (note,) = project.list("observation")
    assert note.id != from_guid("B0000000-0000-4000-8000-000000000001")  # only fieldkit GUIDs are ids
    assert any("case(s) that are not fieldkit's" in line for line in report.notes + report.skipped)
    assert project.list("participant") == []


def test_importing_twice_changes_nothing(other_tool):
    project, _ = other_tool
    before = {t: sorted(map(repr, project.list(t))) for t in ("code", "observation", "memo", "coding")}
    report = refi.import_qdpx(project, FIXTURES / "other-tool.qdpx")
    assert report.counts["codes already in the project (unchanged)"] == 3
    assert {t: sorted(map(repr, project.list(t))) for t in before} == before
    assert "codings" not in report.counts and "observations" not in report.counts


def test_crlf_counted_as_one_option(project, tmp_path):
    # the same project, but positions computed as if each CRLF were one character
    text = "Line one\r\nLine two is coded\r\n"
    start = text.replace("\r\n", "\n").index("coded")
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="x" origin="CrlfTool">
<CodeBook><Codes><Code guid="a0000000-0000-4000-8000-000000000001" name="c" isCodable="true"/></Codes></CodeBook>
<Sources><TextSource guid="b0000000-0000-4000-8000-000000000001" plainTextPath="internal://b0000000-0000-4000-8000-000000000001.txt">
<PlainTextSelection guid="e0000000-0000-4000-8000-000000000001" startPosition="{start}" endPosition="{start + 5}">
<Coding guid="f0000000-0000-4000-8000-000000000001"><CodeRef targetGUID="a0000000-0000-4000-8000-000000000001"/></Coding>
</PlainTextSelection></TextSource></Sources></Project>"""
    path = tmp_path / "crlf.qdpx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", qde)
        zf.writestr("sources/b0000000-0000-4000-8000-000000000001.txt", text)
    refi.import_qdpx(project, path, ImportOptions(extra={"crlf": "one"}))
    assert coded(project) == {"c": [("coded", "imported")]}


# --- what is skipped and reported ----------------------------------------------------------------


@pytest.fixture
def problems(project):
    return project, refi.import_qdpx(project, FIXTURES / "problems.qdpx")


def test_inline_and_decomposed_texts_import(problems):
    project, report = problems
    bodies = sorted(o.body for o in project.list("observation"))
    assert bodies == ["Renée met the résumé panel.",  # NFD in the file, NFC in the project
                      "The team lead hands the introduction to the expert by experience."]
    assert sorted(t for t, _ in coded(project)["Handing over"]) == ["Renée", "résumé", "team lead"]
    (memo,) = project.list("memo")
    assert memo.body == "A memo kept inside the XML." and memo.title == "Inline memo"


def test_problems_are_reported_one_line_per_kind(problems):
    project, report = problems
    text = "\n".join(report.skipped)
    assert "1 selection(s) ending beyond the end of their text" in text
    assert "unknown code a0000000-0000-4000-8000-0000000000ff" in text
    assert "reversed or negative" in text
    assert "missing from the archive" in text
    assert "external file (absolute://…)" in text and "C:/Users" not in text
    assert "PDFSource" in text
    assert all("\n" not in line for line in report.skipped)
    assert report.counts["codings"] == 3 and report.counts["observations"] == 2
    assert not report.problems  # nothing fatal: the rest was imported


# --- bad files: one clear error and nothing written -----------------------------------------------


@pytest.mark.parametrize("name, message", [
    ("bomb.qdpx", "DTD or entities"),
    ("xxe.qdpx", "DTD or entities"),
    ("corrupt.qdpx", "corrupt"),
    ("not-refi.qdpx", "not a REFI-QDA project"),
    ("no-qde.qdpx", "no .qde file"),
    ("invalid.qdpx", "not valid REFI-QDA"),
])
def test_bad_files_fail_cleanly_and_write_nothing(project, name, message):
    before = counts(project)
    with pytest.raises(FieldkitError, match=message) as info:
        refi.import_qdpx(project, FIXTURES / name)
    assert "\n" not in str(info.value)
    assert counts(project) == before


def test_a_file_that_is_neither_zip_nor_xml(project, tmp_path):
    path = tmp_path / "notes.qdpx"
    path.write_bytes(b"\x00\x01 definitely not a project")
    with pytest.raises(FieldkitError, match="neither a zip archive nor XML"):
        refi.import_qdpx(project, path)


def test_missing_file(project, tmp_path):
    with pytest.raises(FieldkitError, match="no file"):
        refi.import_qdpx(project, tmp_path / "nothing.qdpx")


def test_a_failure_half_way_rolls_everything_back(project, monkeypatch):
    before = counts(project)
    calls = {"n": 0}
    real_add = type(project).add

    def flaky(self, record, **kw):
        calls["n"] += 1
        if calls["n"] == 4:
            raise FieldkitError("simulated failure while writing")
        return real_add(self, record, **kw)

    monkeypatch.setattr(type(project), "add", flaky)
    with pytest.raises(FieldkitError, match="simulated"):
        refi.import_qdpx(project, FIXTURES / "other-tool.qdpx")
    assert counts(project) == before


def test_dry_run_writes_nothing_but_reports(project):
    before = counts(project)
    report = refi.import_qdpx(project, FIXTURES / "other-tool.qdpx", ImportOptions(dry_run=True))
    assert report.dry_run and report.counts["observations"] == 1
    assert counts(project) == before


def test_bare_qde_with_inline_texts(project, tmp_path):
    with zipfile.ZipFile(FIXTURES / "problems.qdpx") as zf:
        (tmp_path / "project.qde").write_bytes(zf.read("project.qde"))
    report = refi.import_qdpx(project, tmp_path / "project.qde")
    assert report.counts["observations"] == 1  # the inline one; the file-backed ones are reported
    assert any("outside this bare .qde" in line for line in report.skipped)


def test_windows_backslashes_and_a_qde_in_a_folder(project, tmp_path):
    src = zipfile.ZipFile(FIXTURES / "other-tool.qdpx")
    path = tmp_path / "nested.qdpx"
    with zipfile.ZipFile(path, "w") as out:
        for info in src.infolist():
            name = "Study\\" + info.filename.replace("/", "\\")
            out.writestr(name, src.read(info.filename))
    report = refi.import_qdpx(project, path)
    assert report.counts["observations"] == 1 and report.counts["codings"] == 3


def test_options_stage_tags_and_encounter(project):
    from fieldkit.fieldwork import registers as fieldwork

    fieldwork.add_encounter(project, "interview", code="E9")
    refi.import_qdpx(project, FIXTURES / "other-tool.qdpx",
                     ImportOptions(stage="jotting", tags=("imported",), encounter="E9"))
    (note,) = project.list("observation")
    assert note.stage == "jotting" and "imported" in note.tags
    assert note.encounter_id == project.resolve("E9", "encounter")
    # the tag was appended, so every coded segment still has its text
    assert sorted(t for t, _ in coded(project)["Trust"]) == ["café", "“It felt fair.”"]


def test_unknown_encounter_option_fails_before_writing(project):
    before = counts(project)
    with pytest.raises(FieldkitError):
        refi.import_qdpx(project, FIXTURES / "other-tool.qdpx", ImportOptions(encounter="E404"))
    assert counts(project) == before


# --- codebooks (.qdc) ---------------------------------------------------------------------------


def test_qdc_from_another_tool(project):
    report = refi.import_qdc(project, FIXTURES / "other-tool.qdc")
    codes = {c.name: c for c in project.list("code")}
    assert set(codes) == {"Voice", "Lived experience", "Staff voice", "Tokenism"}
    assert codes["Lived experience"].parent_id == codes["Voice"].id
    assert codes["Voice"].colour == "#9467BD" and codes["Voice"].definition.startswith("Whose voice")
    assert codes["Staff voice"].colour == ""  # "red" is not #rrggbb: reported, left out
    assert any("red" in n for n in report.notes)
    assert report.counts["sets kept (written back on export)"] == 1  # its code set, with its GUID
    again = refi.import_qdc(project, FIXTURES / "other-tool.qdc")
    assert len(project.list("code")) == 4 and again.counts.get("codes") is None
    assert again.counts["sets already kept (unchanged)"] == 1


def test_qdc_bomb_and_wrong_root(project, tmp_path):
    before = counts(project)
    with pytest.raises(FieldkitError, match="DTD or entities"):
        refi.import_qdc(project, FIXTURES / "bomb.qdc")
    wrong = tmp_path / "wrong.qdc"
    shutil.copy(FIXTURES / "other-tool.qdpx", wrong)
    with pytest.raises(FieldkitError, match="well-formed|not a REFI-QDA codebook"):
        refi.import_qdc(project, wrong)
    with zipfile.ZipFile(FIXTURES / "invalid.qdpx") as zf:
        (tmp_path / "project.qdc").write_bytes(zf.read("project.qde"))
    with pytest.raises(FieldkitError, match="not a REFI-QDA codebook"):
        refi.import_qdc(project, tmp_path / "project.qdc")
    assert counts(project) == before


def test_run_importer_through_the_registry(project):
    from fieldkit.exchange.importing import run_importer

    report = run_importer(project, "qdpx", FIXTURES / "other-tool.qdpx")
    assert report.counts["codings"] == 3
    report = run_importer(project, "qdc", FIXTURES / "other-tool.qdc")
    assert report.counts["codes"] == 4


def test_cli_reports_one_line_errors(run):
    result = run("import", "qdpx", str(FIXTURES / "bomb.qdpx"))
    assert result.exit_code == 1
    assert "Error:" in result.output and "Traceback" not in result.output


# --- positions: the file's text onto the stored text ----------------------------------------------

RAW_PIECES = ["a", "e", "Z", " ", "\r\n", "\n", "\r", "\u0301", "\u0308", "\u0327", "é", "😀", "\u1100", "\u1161",
              "\u11a8", "\u0b47", "\u0b3e", "Å", "\u212b", "“", "ن", "\u0651", "\u064e"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(RAW_PIECES), min_size=1, max_size=25), st.booleans(), st.data())
def test_position_map_keeps_the_characters_it_can(pieces, crlf_as_one, data):
    from fieldkit.core.markdown import normalise
    from fieldkit.exchange.refi.reader import PositionMap

    raw = "".join(pieces)
    positions = PositionMap(raw, crlf_as_one)
    # counting a CRLF as one character: the file's text with line ends made single
    base = raw.replace("\r\n", "\n").replace("\r", "\n") if crlf_as_one else raw
    assert positions.text == normalise(raw) and positions.length == len(base)
    start = data.draw(st.integers(0, len(base)))
    end = data.draw(st.integers(start, len(base)))
    new_start, new_end, exact = positions.span(start, end)
    assert 0 <= new_start <= new_end <= len(positions.text)
    cuts_a_crlf = any(base[p - 1:p + 1] == "\r\n" for p in (start, end) if p > 0)
    if exact and not cuts_a_crlf:
        assert positions.text[new_start:new_end] == normalise(base[start:end])
    # the whole text always maps onto the whole stored text
    assert positions.span(0, len(base))[:2] == (0, len(positions.text))
