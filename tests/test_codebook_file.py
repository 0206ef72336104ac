"""Codebook files (YAML/JSON) and the built-in ``coproduction`` codebook."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pluggy
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldkit.hooks import specs as hookspecs
from fieldkit.coding.codebook_file import (
    PALETTE,
    CodebookData,
    CodebookError,
    CodeSpec,
    dump_codebook,
    load_codebook,
    parse_codebook,
)
from fieldkit.coding.keywords import KeywordRule, match_rules
from fieldkit.plugins import coproduction
from fieldkit.hooks.registry import Codebook

ROOT = Path(__file__).resolve().parent.parent
BUILTIN_FILE = ROOT / "fieldkit" / "plugins" / "data" / "coproduction.yaml"
EXAMPLE_FILE = ROOT / "examples" / "codebook-coproduction.yaml"

SMALL = """\
name: demo
title: Demo codebook
description: For tests.
codes:
  - name: discourses
    title: Discourses
    definition: How people talk about it.
    colour: "#1F77B4"
    keywords:
      - word: tokenism
      - phrase: "lived experience"
      - regex: '\\bpeer[- ]research(er)?s?\\b'
      - near: [expert, experience]
        within: 5
    children:
      - name: ladder-rungs
        children:
          - name: tokenism
            keywords:
              - word: token*
                case_sensitive: true
  - name: impacts
"""


# --- the built-in codebook -----------------------------------------------------------


@pytest.fixture(scope="module")
def builtin() -> CodebookData:
    return coproduction.load()


def test_builtin_is_registered_through_the_hook():
    pm = pluggy.PluginManager("fieldkit")
    pm.add_hookspecs(hookspecs)
    pm.register(coproduction)
    registered: list[Codebook] = []
    pm.hook.register_codebooks(register=registered.append)
    assert [c.name for c in registered] == ["coproduction"]
    assert registered[0].description
    data = registered[0].load()
    assert isinstance(data, CodebookData)
    assert data.name == "coproduction"


def test_builtin_has_the_four_study_questions(builtin):
    assert [c.name for c in builtin.children()] == [
        "discourses",
        "challenges",
        "experiences",
        "impacts",
    ]


def test_builtin_size_and_depth(builtin):
    assert 25 <= len(builtin.codes) <= 40
    assert max(c.depth for c in builtin.codes) <= 3
    for top in builtin.children():
        assert builtin.children(top.path), f"{top.path} has no child codes"


def test_builtin_codes_are_complete(builtin):
    for code in builtin.codes:
        for field in ("title", "definition", "include", "exclude", "example"):
            assert getattr(code, field).strip(), f"{code.path} has no {field}"
        assert len(code.definition) >= 150, f"{code.path}: definition is thin"
        assert re.fullmatch(r"#[0-9a-f]{6}", code.colour)
        assert code.keywords, f"{code.path} has no keyword rules"
        if code.parent_path:
            assert builtin.code(code.parent_path)


def test_builtin_colours_are_distinct(builtin):
    colours = [c.colour for c in builtin.codes]
    assert len(set(colours)) == len(colours)


def test_builtin_uses_every_kind_of_rule_and_regexes_compile(builtin):
    kinds = {rule.kind for code in builtin.codes for rule in code.keywords}
    assert kinds == {"word", "phrase", "regex", "near"}
    for code in builtin.codes:
        for rule in code.keywords:
            if rule.kind == "regex":
                re.compile(rule.value)


def test_each_builtin_example_is_found_by_its_own_rules(builtin):
    for code in builtin.codes:
        assert match_rules(code.example, code.keywords), f"{code.path}: example not matched"


def test_builtin_round_trips(builtin):
    for fmt in ("yaml", "json"):
        assert load_codebook(dump_codebook(builtin, fmt), fmt=fmt) == builtin


def test_example_file_is_a_copy_of_the_builtin():
    assert EXAMPLE_FILE.read_text(encoding="utf-8") == BUILTIN_FILE.read_text(encoding="utf-8")
    assert load_codebook(EXAMPLE_FILE) == coproduction.load()


# --- reading -------------------------------------------------------------------------


def test_parse_small_codebook():
    data = load_codebook(SMALL)
    assert (data.name, data.title, data.description) == ("demo", "Demo codebook", "For tests.")
    assert [c.path for c in data.codes] == [
        "discourses",
        "discourses/ladder-rungs",
        "discourses/ladder-rungs/tokenism",
        "impacts",
    ]
    first = data.codes[0]
    assert first.parent_path is None and first.depth == 1
    assert first.colour == "#1f77b4"  # normalised to lower case
    assert first.keywords == (
        KeywordRule("word", "tokenism"),
        KeywordRule("phrase", "lived experience"),
        KeywordRule("regex", r"\bpeer[- ]research(er)?s?\b"),
        KeywordRule("near", ("expert", "experience"), within=5),
    )
    rungs = data.code("discourses/ladder-rungs")
    assert rungs.title == "Ladder rungs"  # made from the name when missing
    assert rungs.definition == "" and rungs.keywords == ()
    assert rungs.colour == PALETTE[1]  # default colour by position
    assert data.code("impacts").colour == PALETTE[3]
    leaf = data.code("discourses/ladder-rungs/tokenism")
    assert leaf.parent_path == "discourses/ladder-rungs" and leaf.depth == 3
    assert leaf.keywords == (KeywordRule("word", "token*", case_sensitive=True),)
    assert [c.name for c in data.children("discourses")] == ["ladder-rungs"]
    with pytest.raises(KeyError):
        data.code("nope")


def test_load_from_yaml_and_json_files(tmp_path):
    data = load_codebook(SMALL)
    yaml_file = tmp_path / "book.yaml"
    yaml_file.write_text(SMALL, encoding="utf-8")
    json_file = tmp_path / "book.json"
    json_file.write_text(json.dumps(yaml.safe_load(SMALL)), encoding="utf-8")
    assert load_codebook(yaml_file) == data
    assert load_codebook(str(yaml_file)) == data
    assert load_codebook(json_file) == data
    assert load_codebook(json_file.read_text(encoding="utf-8")) == data  # JSON text


def test_parse_codebook_from_dict():
    data = parse_codebook({"name": "x", "codes": [{"name": "a", "keywords": [{"word": "b"}]}]})
    assert data.codes[0].keywords == (KeywordRule("word", "b"),)


def test_block_text_is_stripped_and_kept():
    text = "name: x\ncodes:\n  - name: a\n    definition: |\n      one\n      two\n"
    assert load_codebook(text).codes[0].definition == "one\ntwo"


def test_codespec_validates_colour_and_name():
    with pytest.raises(ValueError):
        CodeSpec(path="a", name="a", parent_path=None, title="A", colour="red")
    with pytest.raises(ValueError):
        CodeSpec(path="a/b", name="a/b", parent_path=None, title="A")


# --- errors --------------------------------------------------------------------------

ERRORS = [
    # (text, fragments the one-line message must contain)
    ("- a\n- b\n", ["must be a mapping"]),
    ("codes: []\n", ["has no name"]),
    ("name: x\ncodez: []\n", ["unknown key 'codez'", "did you mean 'codes'"]),
    ("name: x\ncodes: {a: 1}\n", ["codes must be a list"]),
    ("name: x\ncodes:\n - title: T\n", ["code 1 at the top level has no name"]),
    ("name: x\ncodes:\n - name: a\n   children:\n    - title: T\n", ["under 'a' has no name"]),
    ("name: x\ncodes:\n - name: a\n - name: a\n", ["code 'a'", "used twice"]),
    (
        "name: x\ncodes:\n - name: a\n   children: [{name: b}, {name: B}]\n",
        ["code 'a/B'", "clashes"],
    ),
    ("name: x\ncodes:\n - name: a/b\n", ["contains '/'"]),
    ("name: x\ncodes:\n - name: yes\n", ["name must be text", "yes/no"]),
    ("name: x\ncodes:\n - name: ' a'\n", ["spaces at its start or end"]),
    ("name: x\ncodes:\n - name: a\n   colour: '#12345'\n", ["code 'a'", "#rrggbb"]),
    ("name: x\ncodes:\n - name: a\n   colour: red\n", ["#rrggbb"]),
    ("name: x\ncodes:\n - name: a\n   colour: #1f77b4\n", ["code 'a'", "quote"]),
    ("name: x\ncodes:\n - name: a\n   color: '#1f77b4'\n", ["unknown key 'color'", "'colour'"]),
    ("name: x\ncodes:\n - name: a\n   definition: 12\n", ["definition must be text"]),
    ("name: x\ncodes:\n - name: a\n   children: b\n", ["children must be a list"]),
    ("name: x\ncodes:\n - name: a\n   keywords: tokenism\n", ["keywords must be a list"]),
    ("name: x\ncodes:\n - name: a\n   keywords: [tokenism]\n", ["rule 1 must be a mapping"]),
    (
        "name: x\ncodes:\n - name: a\n   children:\n    - name: b\n      keywords:\n"
        "       - word: ok\n       - regex: '(unclosed'\n",
        ["code 'a/b'", "keyword rule 2", "invalid regex"],
    ),
    ("name: x\ncodes:\n - name: a\n   keywords: [{wrod: x}]\n", ["'wrod'", "did you mean 'word'"]),
    ("name: x\ncodes:\n - name: a\n   keywords: [{word: x, phrase: y}]\n", ["exactly one"]),
    ("name: x\ncodes:\n - name: a\n   keywords: [{within: 3}]\n", ["exactly one", "none"]),
    ("name: x\ncodes:\n - name: a\n   keywords: [{word: two words}]\n", ["use a phrase"]),
    ("name: x\ncodes:\n - name: a\n   keywords: [{word: x, within: 3}]\n", ["within only"]),
    ("name: x\ncodes:\n - name: a\n   keywords: [{near: [a]}]\n", ["at least two"]),
    ("name: x\ncodes:\n - name: a\n   keywords: [{near: a b}]\n", ["list of words"]),
    ("name: x\ncodes:\n - name: a\n   keywords: [{near: [a, b], within: x}]\n", ["whole number"]),
    ("name: x\ncodes:\n - name: a\n   keywords: [{word: 2019}]\n", ["must be text"]),
    ("name: x\ncodes:\n - name: a\n   keywords: [{word: a, case_sensitive: 1}]\n", ["true or"]),
    ("name: x\ncodes:\n - name: a\n   name: b\n", ["demo.yaml:4:", "appears twice"]),
    ("name: x\ncodes: [\n", ["demo.yaml:", "invalid YAML"]),
    ("name: x\ncodes: &a\n - name: a\n   children: *a\n", ["nest more than"]),
    ("# only a comment\n", ["empty"]),
]


@pytest.mark.parametrize("text, fragments", ERRORS)
def test_errors_are_one_clear_line(text, fragments):
    with pytest.raises(CodebookError) as info:
        load_codebook(text, source="demo.yaml")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("demo.yaml")
    for fragment in fragments:
        assert fragment in message


def test_error_names_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncodes:\n - name: a\n   colour: nope\n", encoding="utf-8")
    with pytest.raises(CodebookError) as info:
        load_codebook(bad)
    assert str(info.value).startswith(str(bad))
    assert info.value.code_path == "a"


def test_json_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", "codes": [}', encoding="utf-8")
    with pytest.raises(CodebookError, match=r"bad\.json:1:\d+: invalid JSON"):
        load_codebook(bad)
    twice = tmp_path / "twice.json"
    twice.write_text('{"name": "x", "name": "y"}', encoding="utf-8")
    with pytest.raises(CodebookError, match="appears twice"):
        load_codebook(twice)


def test_missing_file():
    with pytest.raises(CodebookError, match="no such codebook file"):
        load_codebook("does-not-exist.yaml")


def test_dump_refuses_unknown_format():
    with pytest.raises(ValueError):
        dump_codebook(load_codebook(SMALL), fmt="toml")


# --- writing and round trip ----------------------------------------------------------


def test_dump_writes_the_nested_shape():
    data = load_codebook(SMALL)
    nested = yaml.safe_load(dump_codebook(data))
    assert nested["codes"][0]["children"][0]["children"][0]["name"] == "tokenism"
    assert nested["codes"][0]["keywords"][3] == {"near": ["expert", "experience"], "within": 5}
    assert nested["codes"][1] == {"name": "impacts", "title": "Impacts", "colour": PALETTE[3]}
    assert "near: [expert, experience]" in dump_codebook(data)
    assert json.loads(dump_codebook(data, "json")) == nested


def test_characters_yaml_treats_as_line_breaks_survive_a_round_trip():
    raw = {
        "name": "x",
        "title": "a\x85b",
        "codes": [{"name": "c", "definition": "one\u2028two\r\nthree", "example": "p\u2029q"}],
    }
    data = parse_codebook(raw)
    assert load_codebook(dump_codebook(data), fmt="yaml") == data


NAME_CHARS = st.characters(exclude_characters="/", exclude_categories=("Cs", "Cc", "Zl", "Zp"))
names = st.text(NAME_CHARS, min_size=1, max_size=10).map(str.strip).filter(bool)
texts = st.one_of(st.none(), st.text(max_size=40))
colours = st.from_regex(r"#[0-9a-fA-F]{6}", fullmatch=True)
word_tokens = st.builds(
    lambda w, star: w + ("*" if star else ""),
    st.text(st.characters(categories=("L", "N")), min_size=1, max_size=8),
    st.booleans(),
)
regexes = st.sampled_from([r"\bpeer[- ]research(er)?s?\b", r"tick[- ]?box", r"\d+", "a|b"])


def _with_case(rule: dict, case: bool | None) -> dict:
    if case is not None:
        rule["case_sensitive"] = case
    return rule


optional_bool = st.one_of(st.none(), st.booleans())
rule_dicts = st.one_of(
    st.builds(lambda w, c: _with_case({"word": w}, c), word_tokens, optional_bool),
    st.builds(
        lambda ws, c: _with_case({"phrase": " ".join(ws)}, c),
        st.lists(word_tokens, min_size=1, max_size=3),
        optional_bool,
    ),
    st.builds(lambda r, c: _with_case({"regex": r}, c), regexes, optional_bool),
    st.builds(
        lambda ws, n: {"near": ws} if n is None else {"near": ws, "within": n},
        st.lists(word_tokens, min_size=2, max_size=3, unique_by=str.casefold),
        st.one_of(st.none(), st.integers(1, 20)),
    ),
)


def code_lists(depth: int):
    optional = {
        "title": texts,
        "definition": texts,
        "include": texts,
        "exclude": texts,
        "example": texts,
        "colour": colours,
        "keywords": st.lists(rule_dicts, max_size=3),
    }
    if depth > 1:
        optional["children"] = code_lists(depth - 1)
    code = st.fixed_dictionaries({"name": names}, optional=optional)
    return st.lists(code, max_size=3, unique_by=lambda c: c["name"].casefold())


codebook_dicts = st.fixed_dictionaries(
    {"name": names, "codes": code_lists(3)}, optional={"title": texts, "description": texts}
)


@settings(max_examples=150, deadline=None)
@given(raw=codebook_dicts, fmt=st.sampled_from(["yaml", "json"]))
def test_round_trip(raw, fmt):
    data = parse_codebook(raw, "generated")
    text = dump_codebook(data, fmt)
    assert load_codebook(text, fmt=fmt) == data
    assert parse_codebook((yaml.safe_load if fmt == "yaml" else json.loads)(text)) == data
