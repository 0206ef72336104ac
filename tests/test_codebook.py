"""The codebook: hierarchy, rename/move/merge/retire with history, loading and exporting."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fieldkit
from fieldkit.fieldwork import capture
from fieldkit.coding import codings as coding
from fieldkit.coding import codebook as cb
from fieldkit.coding.codebook_file import CodebookData, CodeSpec, dump_codebook, load_codebook
from fieldkit.core.errors import FieldkitError, NotFound, Refused

BOOK = """\
name: study
title: Study codebook
description: Invented codes for tests.
codes:
  - name: governance
    title: Governance and power
    definition: Who decides what.
    include: Talk of decisions.
    exclude: Feelings about it.
    example: The chair overruled the panel.
    colour: "#112233"
    keywords:
      - word: decide*
      - near: [power, share]
        within: 3
    children:
      - name: tokenism
        definition: Involvement in name only.
        keywords:
          - phrase: tick box
  - name: experiences
    children:
      - name: feeling-heard
        keywords:
          - regex: 'listen(?:ed|ing)?'
"""


@pytest.fixture
def book_file(tmp_path):
    path = tmp_path / "book.yaml"
    path.write_text(BOOK, encoding="utf-8")
    return path


def paths(project):
    return [r["path"] for r in cb.codebook_rows(project)]


def test_hierarchy_any_depth(project):
    cb.add_code(project, "a")
    cb.add_code(project, "b", parent="a")
    cb.add_code(project, "c", parent="a/b")
    cb.add_code(project, "d", parent="c")
    assert paths(project) == ["a", "a/b", "a/b/c", "a/b/c/d"]
    assert coding.resolve_code(project, "a/b/c/d").name == "d"


def test_sibling_names_must_differ_ignoring_case(project):
    cb.add_code(project, "power")
    with pytest.raises(Refused, match="already exists at the top level"):
        cb.add_code(project, "Power")
    cb.add_code(project, "x", parent="power")
    cb.add_code(project, "x")  # a different parent is fine
    with pytest.raises(FieldkitError, match="must not contain '/'"):
        cb.add_code(project, "a/b")
    with pytest.raises(FieldkitError, match="colour"):
        cb.add_code(project, "y", colour="blue")


def test_rename_keeps_codings_and_history(project):
    code = cb.add_code(project, "powr")
    note = capture.note(project, "The chair decided.")
    c = coding.apply_code(project, note.id, "powr", quote="decided")
    cb.rename_code(project, "powr", "power", reason="typo")
    assert coding.resolve_code(project, "power").id == code.id
    assert project.get(c.id).code_id == code.id
    history = project.history(code.id)
    assert history[-1].data["name"] == "powr" and history[-1].reason == "typo"
    with pytest.raises(NotFound):
        coding.resolve_code(project, "powr")


def test_move_and_refuse_cycles(project):
    cb.add_code(project, "a")
    cb.add_code(project, "b", parent="a")
    cb.add_code(project, "c", parent="a/b")
    before = project.db.execute("select count(*) from revisions").fetchone()[0]
    with pytest.raises(Refused, match="under its own descendant 'a/b/c'"):
        cb.move_code(project, "a", "a/b/c")
    with pytest.raises(Refused, match="under itself"):
        cb.move_code(project, "a", "a")
    assert project.db.execute("select count(*) from revisions").fetchone()[0] == before
    assert paths(project) == ["a", "a/b", "a/b/c"]
    cb.move_code(project, "a/b/c", None)
    assert paths(project) == ["a", "a/b", "c"]
    cb.move_code(project, "a", "c")
    assert paths(project) == ["c", "c/a", "c/a/b"]
    assert "moved" in project.history(coding.resolve_code(project, "a").id)[-1].reason


def test_move_refuses_name_clash_at_destination(project):
    cb.add_code(project, "x")
    cb.add_code(project, "p")
    cb.add_code(project, "x", parent="p")
    with pytest.raises(Refused, match="already exists"):
        cb.move_code(project, "p/x", None)


def test_merge_moves_codings_children_and_rules(project):
    src = cb.add_code(project, "control", keywords=["word:control"])
    dst = cb.add_code(project, "power", keywords=["word:power"])
    cb.add_code(project, "detail", parent="control")
    note = capture.note(project, "The chair kept control of the agenda.")
    moved = coding.apply_code(project, note.id, "control", quote="control")
    dup = coding.apply_code(project, note.id, "control", quote="chair")
    same = coding.apply_code(project, note.id, "power", quote="chair")
    result = cb.merge_codes(project, "control", "power")
    assert (result.moved, result.duplicates, result.children) == (1, 1, 1)
    assert project.get(moved.id).code_id == dst.id
    assert {c.id for c in coding.list_codings(project, code="power")} == {same.id, moved.id}
    with pytest.raises(NotFound):
        project.get(dup.id)  # tombstoned duplicate
    merged = project.get(src.id)
    assert merged.status == "merged" and merged.merged_into == dst.id
    assert paths(project) == ["control", "power", "power/detail"]
    assert {"word": "control"} in [dict(k) for k in project.get(dst.id).keywords]
    assert project.history(moved.id)[-1].data["code_id"] == src.id  # the old placement is kept


def test_merge_refusals_leave_nothing_written(project):
    cb.add_code(project, "a")
    cb.add_code(project, "b", parent="a")
    cb.add_code(project, "c")
    cb.add_code(project, "k", parent="a")
    cb.add_code(project, "k", parent="c")
    count = project.db.execute("select count(*) from revisions").fetchone()[0]
    with pytest.raises(Refused, match="its own descendant"):
        cb.merge_codes(project, "a", "a/b")
    with pytest.raises(Refused, match="into itself"):
        cb.merge_codes(project, "c", "c")
    with pytest.raises(Refused, match="child named 'k'"):
        cb.merge_codes(project, "a", "c")
    cb.retire_code(project, "c")
    with pytest.raises(Refused, match="it is retired"):
        cb.merge_codes(project, "a/b", "c")
    assert project.db.execute("select count(*) from revisions").fetchone()[0] == count + 1  # the retire


def test_merge_undoes_nothing_on_failure_midway(project, monkeypatch):
    cb.add_code(project, "a")
    cb.add_code(project, "b")
    note = capture.note(project, "one two three")
    for q in ("one", "two", "three"):
        coding.apply_code(project, note.id, "a", quote=q)
    calls = {"n": 0}
    real = project.update

    def flaky(record, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(record, **kw)

    monkeypatch.setattr(project, "update", flaky)
    with pytest.raises(RuntimeError):
        cb.merge_codes(project, "a", "b")
    monkeypatch.undo()
    assert len(coding.list_codings(project, code="a")) == 3
    assert coding.resolve_code(project, "a").status == "active"


def test_retire_restore_and_never_hard_delete_used_codes(project):
    cb.add_code(project, "old")
    cb.add_code(project, "unused")
    note = capture.note(project, "Something old.")
    c = coding.apply_code(project, note.id, "old", quote="old")
    cb.retire_code(project, "old", reason="no longer needed")
    assert coding.resolve_code(project, "old").status == "retired"
    assert project.get(c.id).code_id  # codings stay
    with pytest.raises(Refused, match="used by 1 coding"):
        cb.delete_code(project, "old")
    coding.remove_coding(project, c.id)
    with pytest.raises(Refused, match="used by 1 coding"):  # even removed codings keep it
        cb.delete_code(project, "old")
    cb.restore_code(project, "old")
    assert coding.resolve_code(project, "old").status == "active"
    cb.delete_code(project, "unused", reason="typo")
    assert "unused" not in paths(project)
    assert project.db.execute("select count(*) from codes where name = 'unused'").fetchone()[0] == 1


def test_edit_code_fields_with_history(project):
    cb.add_code(project, "voice", definition="first")
    cb.edit_code(project, "voice", definition="second", add_keywords=["phrase:user voice"], title="User voice")
    code = coding.resolve_code(project, "voice")
    assert code.definition == "second" and code.keywords == ({"phrase": "user voice"},)
    assert project.history(code.id)[-1].data["definition"] == "first"
    assert cb.export_codebook(project).codes[0].title == "User voice"
    with pytest.raises(FieldkitError, match="cannot set"):
        cb.edit_code(project, "voice", name="x")


# loading ------------------------------------------------------------------------------------
def test_load_file_stores_hierarchy_texts_and_rules(project, book_file):
    report = cb.load_into_project(project, book_file)
    assert report.added == ["governance", "governance/tokenism", "experiences", "experiences/feeling-heard"]
    gov = coding.resolve_code(project, "governance")
    assert (gov.definition, gov.include, gov.exclude, gov.colour) == (
        "Who decides what.", "Talk of decisions.", "Feelings about it.", "#112233")
    assert gov.keywords == ({"word": "decide*"}, {"near": ["power", "share"], "within": 3})
    assert all(isinstance(k, dict) for k in gov.keywords)
    again = cb.load_into_project(project, str(book_file))
    assert again.added == [] and len(again.unchanged) == 4


def test_load_json_file(project, tmp_path):
    data = load_codebook(BOOK)
    path = tmp_path / "book.json"
    path.write_text(dump_codebook(data, "json"), encoding="utf-8")
    cb.load_into_project(project, path)
    assert cb.export_codebook(project).codes == data.codes


def test_conflicting_load_is_refused_whole_then_updated(project, book_file, tmp_path):
    cb.load_into_project(project, book_file)
    changed = tmp_path / "changed.yaml"
    changed.write_text(BOOK.replace("Who decides what.", "Who decides, and how.")
                       .replace("  - name: experiences\n", "  - name: impacts\n  - name: experiences\n"),
                       encoding="utf-8")
    with pytest.raises(Refused, match="1 code.*governance.*--update"):
        cb.load_into_project(project, changed)
    assert "impacts" not in paths(project)  # nothing half-loaded
    report = cb.load_into_project(project, changed, update=True)
    assert report.updated[0] == "governance" and report.added == ["impacts"]  # (and shifted default colours)
    gov = coding.resolve_code(project, "governance")
    assert gov.definition == "Who decides, and how."
    assert project.history(gov.id)[-1].data["definition"] == "Who decides what."


def test_bad_codebook_file_is_one_line_error(project, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncodes:\n  - name: a\n    colour: red\n", encoding="utf-8")
    with pytest.raises(FieldkitError) as err:
        cb.load_into_project(project, bad)
    assert "colour" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(NotFound, match="no codebook named 'nosuch'"):
        cb.load_into_project(project, "nosuch")
    with pytest.raises(FieldkitError, match="no such codebook file"):
        cb.load_into_project(project, tmp_path / "missing.yaml")
    assert project.count("code") == 0


def test_load_registered_codebook_from_a_plugin(project):
    from fieldkit import hookimpl
    from fieldkit.hooks import manager as plugin_manager
    from fieldkit.hooks.registry import Codebook

    class Plugin:
        @hookimpl
        def register_codebooks(self, register):
            register(Codebook(name="tiny", load=lambda: BOOK))
            register(Codebook(name="mapping", load=lambda: {"name": "m", "codes": [{"name": "solo"}]}))
            register(Codebook(name="broken", load=lambda: 1 / 0))

    plugin_manager.get_plugin_manager().register(Plugin(), name="test-codebooks")
    assert cb.load_into_project(project, "tiny").added[0] == "governance"
    assert cb.load_into_project(project, "mapping").added == ["solo"]
    with pytest.raises(fieldkit.core.errors.PluginError, match="codebook broken failed"):
        cb.load_into_project(project, "broken")


def test_builtin_coproduction_codebook_loads_with_keyword_rules(project):
    books = cb.available_codebooks()
    assert "coproduction" in books
    report = cb.load_into_project(project, "coproduction")
    data = books["coproduction"].load()
    assert len(report.added) == len(data.codes)
    tops = [r["path"] for r in cb.codebook_rows(project) if r["depth"] == 0]
    assert len(tops) == 4
    with_rules = [c for c in project.list("code") if c.keywords]
    assert with_rules and all(isinstance(k, dict) for c in with_rules for k in c.keywords)
    for c in with_rules:
        coding.code_rules(c)  # every stored rule turns back into a KeywordRule
    assert cb.export_codebook(project).codes == data.codes


# exporting ----------------------------------------------------------------------------------
def test_export_leaves_out_merged_and_retired(project, tmp_path):
    cb.add_code(project, "a")
    cb.add_code(project, "b")
    cb.add_code(project, "c")
    cb.add_code(project, "child", parent="c")
    cb.merge_codes(project, "a", "b")
    cb.retire_code(project, "c")
    assert [s.path for s in cb.export_codebook(project).codes] == ["b", "c", "c/child"]  # c kept as a parent
    cb.retire_code(project, "c/child")
    assert [s.path for s in cb.export_codebook(project).codes] == ["b"]
    assert [s.path for s in cb.export_codebook(project, include_retired=True).codes] == ["b", "c", "c/child"]


def test_write_codebook_refuses_to_overwrite(project, tmp_path):
    cb.add_code(project, "a", definition="Alpha.")
    dest = tmp_path / "out.yaml"
    dest.write_text("mine", encoding="utf-8")
    with pytest.raises(Refused, match="--force"):
        cb.write_codebook(project, dest)
    assert dest.read_text(encoding="utf-8") == "mine"
    cb.write_codebook(project, dest, force=True)
    assert load_codebook(dest).codes[0].definition == "Alpha."
    out = cb.write_codebook(project, tmp_path / "out.json")
    assert json.loads(out.read_text(encoding="utf-8"))["codes"][0]["name"] == "a"


NAMES = st.text(alphabet="abcdefgh-", min_size=1, max_size=8).filter(lambda s: s.strip("-"))
TEXTS = st.text(alphabet="abc XYZé.,\n", max_size=30).map(str.strip)
RULE = st.one_of(
    st.builds(lambda w: {"word": w}, st.text(alphabet="abcdef", min_size=1, max_size=6)),
    st.builds(lambda w: {"phrase": w + " " + w}, st.text(alphabet="abcdef", min_size=1, max_size=6)),
    st.builds(lambda n: {"near": ["ab", "cd"], "within": n}, st.integers(1, 9)),
)


@st.composite
def codebooks(draw):
    specs: list = []
    colours = st.from_regex(r"#[0-9a-f]{6}", fullmatch=True)

    def level(parent, depth):
        names = draw(st.lists(NAMES, max_size=3 if depth else 4, unique_by=str.casefold))
        for name in names:
            path = f"{parent}/{name}" if parent else name
            rules = tuple(coding.rule_from_dict(r) for r in draw(st.lists(RULE, max_size=2, unique_by=repr)))
            title = draw(TEXTS).replace("\n", " ") or name
            specs.append(CodeSpec(path=path, name=name, parent_path=parent, title=title,
                                  definition=draw(TEXTS), include=draw(TEXTS), exclude=draw(TEXTS),
                                  example=draw(TEXTS), colour=draw(colours), keywords=rules))
            if depth < 2:
                level(path, depth + 1)

    level(None, 0)
    return CodebookData(name="gen", title="Generated", description="", codes=tuple(specs))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=codebooks())
def test_load_then_export_round_trips(tmp_path_factory, data):
    project = fieldkit.init(tmp_path_factory.mktemp("book") / "p")
    try:
        cb.load_into_project(project, data)
        exported = cb.export_codebook(project)
        assert exported.codes == data.codes
        assert (exported.name, exported.title) == ("gen", "Generated")
        # and through the file format too
        assert load_codebook(dump_codebook(exported)).codes == data.codes
    finally:
        project.close()
