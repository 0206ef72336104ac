"""Search as people type it: the syntax read by one function into quoted FTS5, the field
filters, prefixes past a stem, and every example of docs/search.md (all data fictional)."""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fieldkit
from fieldkit.coding import codings as coding
from fieldkit.coding.codebook import add_code
from fieldkit.core.errors import InvalidInput
from fieldkit.core.searchquery import parse_query
from fieldkit.fieldwork import capture
from fieldkit.fieldwork.registers import add_encounter, add_participant, add_site

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "search.md").read_text(encoding="utf-8")
SCRIPT = Path(sys.executable).with_name("fieldkit")


def _examples_section() -> str:
    return PAGE.split("## Examples", 1)[1]


def documented_records() -> dict:
    """``{label: body}`` of the records the examples run against."""
    found = {}
    for label, text in re.findall(r"^\| (N\d|M\d) \| (.*) \|$", _examples_section(), flags=re.M):
        found[label] = re.findall(r"`([^`]*)`", text)[-1]
    return found


def documented_searches() -> list[tuple[str, set]]:
    return [(query, set(finds.split()))
            for query, finds in re.findall(r"^\| `([^`]+)` \| ((?:[NM]\d ?)+) \|$", _examples_section(), flags=re.M)]


@pytest.fixture
def examples(tmp_path):
    """The project of docs/search.md's examples; returns it and ``{record id: label}``."""
    project = fieldkit.init(tmp_path / "study")
    bodies = documented_records()
    assert set(bodies) == {"N1", "N2", "N3", "N4", "M1"}
    add_site(project, "Northgate PDU", kind="probation_delivery_unit")
    add_site(project, "Online", kind="online")
    add_participant(project, "P01", role="inspector")
    add_participant(project, "P02", role="expert_by_experience")
    add_encounter(project, "inspection_meeting", code="E1", site="Northgate PDU", participants=["P01"])
    add_encounter(project, "interview", code="E2", site="Online", participants=["P02"])
    made = {
        "N1": capture.jot(project, bodies["N1"], encounter="E1"),
        "N2": capture.jot(project, bodies["N2"], encounter="E1"),
        "N3": capture.note(project, bodies["N3"], encounter="E2"),
        "N4": capture.note(project, bodies["N4"]),
        "M1": capture.memo(project, bodies["M1"]),
    }
    add_code(project, "payment")
    add_code(project, "overtime", parent="payment")
    coding.apply_code(project, made["N3"].id, "payment", whole=True, coder="alice")
    coding.apply_code(project, made["N1"].id, "payment/overtime", whole=True, coder="alice")
    yield project, {record.id: label for label, record in made.items()}
    project.close()


def test_the_examples_are_there():
    searches = documented_searches()
    assert len(searches) >= 20
    queries = " ".join(q for q, _ in searches)
    for feature in (" OR ", " NOT ", '"', "*", "NEAR(", "NEAR/", "code:", "speaker:", "site:", "role:",
                    "encounter:", "tag:"):
        assert feature in queries, feature


@pytest.mark.parametrize("query,expected", documented_searches(), ids=[q for q, _ in documented_searches()])
def test_every_documented_example(examples, query, expected):
    project, labels = examples
    found = {labels[hit.record.id] for hit in project.search(query)}
    assert found == expected


def test_the_examples_through_the_command_line(examples):
    from click.testing import CliRunner

    from fieldkit.cli import cli

    project, labels = examples
    for query, expected in documented_searches():
        result = CliRunner().invoke(cli, ["--project", str(project.path), "search", query, "--json"])
        assert result.exit_code == 0, (query, result.output)
        assert {labels[row["id"]] for row in json.loads(result.output)} == expected, query


def fresh(*args, cwd=None):
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_search_with_an_encounter_leaves_memos_out_in_a_fresh_process(examples):
    project, labels = examples
    result = fresh("--project", str(project.path), "search", "phone", "-e", "E1", "--json")
    assert result.returncode == 0, result.stderr
    assert [labels[row["id"]] for row in json.loads(result.stdout)] == ["N2"]


def test_the_documented_mistakes_in_a_fresh_process(examples):
    project, _ = examples
    shown = re.findall(r"^\$ fieldkit search '(.*)'\n(Error: .*)$", PAGE, flags=re.M)
    assert len(shown) == 2
    for query, message in shown:
        result = fresh("--project", str(project.path), "search", query)
        assert result.returncode == 1
        assert result.stderr.strip() == message
        assert result.stdout == ""


@pytest.mark.parametrize("query", [
    '"open', "NOT phone", "-phone", "phone OR", "OR phone", "phone AND", "(phone", "phone)", "to*ken", "*",
    "NEAR(phone)", "NEAR(phone table, x)", "phone NEAR", "(code:x phone)", "phone NOT code:x", "code:",
    "code:a code:b phone", "code:payment", ",",
])
def test_bad_syntax_is_one_clear_line(query):
    with pytest.raises(InvalidInput) as caught:
        parse_query(query)
    assert "\n" not in str(caught.value) and str(caught.value).startswith("search: ")


def _fts5() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("create virtual table t using fts5(body, tokenize='porter unicode61 remove_diacritics 2')")
    conn.execute("insert into t (body) values ('a phone on the table')")
    return conn


SYNTAX = st.text(alphabet=st.sampled_from(list('ab "()*-:,/^{}+.OR NOT AND NEAR code: tag: 5')), max_size=40)


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(SYNTAX, st.text(max_size=40)))
def test_anything_typed_is_refused_in_one_line_or_reaches_fts5_as_valid_syntax(text):
    conn = _fts5()
    try:
        parsed = parse_query(text)
    except InvalidInput as exc:
        assert "\n" not in str(exc)
        return
    match = parsed.fts(lambda prefix: ["alpha", 'x"y'])
    conn.execute("select count(*) from t where t match ?", [match]).fetchone()


# --- the boolean operators against an oracle: every combination of five words is a note ---

WORDS = ("cat", "dog", "fish", "bird", "tree")


@pytest.fixture(scope="module")
def every_combination(tmp_path_factory):
    project = fieldkit.init(tmp_path_factory.mktemp("combos") / "study")
    notes = {}
    for size in range(1, len(WORDS) + 1):
        for combo in itertools.combinations(WORDS, size):
            note = capture.note(project, "The " + " and the ".join(combo) + ".")
            notes[note.id] = set(combo)
    yield project, notes
    project.close()


def queries(depth: int = 3):
    word = st.sampled_from(WORDS).map(lambda w: (w, lambda words, w=w: w in words))
    if depth == 0:
        return word

    inner = queries(depth - 1)

    def either(pair):
        (a, fa), (b, fb) = pair
        return (f"({a} OR {b})", lambda words: fa(words) or fb(words))

    def both(pair):
        (a, fa), (b, fb) = pair
        return (f"({a} {b})", lambda words: fa(words) and fb(words))

    def but_not(pair):
        (a, fa), (b, fb) = pair
        return (f"({a} NOT {b})", lambda words: fa(words) and not fb(words))

    pairs = st.tuples(inner, inner)
    return st.one_of(word, pairs.map(either), pairs.map(both), pairs.map(but_not))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=queries())
def test_and_or_not_agree_with_set_logic(every_combination, query):
    project, notes = every_combination
    text, holds = query
    found = {hit.record.id for hit in project.search(text, limit=100)}
    assert found == {note_id for note_id, words in notes.items() if holds(words)}, text


def test_a_prefix_finds_words_its_stem_does_not_start(project):
    note = capture.note(project, "The inspectors were inspecting the tokenisation of names.")
    for prefix in ("tokenisa*", "tokenisati*", "inspecti*", "inspecto*", "TOKENIS*"):
        assert [h.record.id for h in project.search(prefix)] == [note.id], prefix
    assert project.search("tokenisz*") == []


def test_a_prefix_of_many_words_falls_back_to_stems(project):
    from fieldkit.store.search import PREFIX_WORDS

    words = [f"ward{'abcdefghij'[i // 10]}{'abcdefghij'[i % 10]}" for i in range(PREFIX_WORDS + 5)]
    note = capture.note(project, " ".join(words))
    assert [h.record.id for h in project.search("ward*")] == [note.id]
    assert [h.record.id for h in project.search("wardaa*")] == [note.id]


def test_erased_words_leave_the_words_index(project):
    note = capture.note(project, "Zephyrine said nothing.")
    assert project.search("zephyr*")
    project.store.conn.execute("delete from observations where id = ?", [note.id])
    from fieldkit.store.search import optimise_index

    optimise_index(project.store, "observation")
    vocab = project.store.conn.execute("select term from observations_words_vocab where term like 'zeph%'").fetchall()
    assert vocab == []


def test_the_code_option_is_the_code_itself_and_the_code_filter_takes_the_codes_below(examples):
    project, labels = examples
    assert {labels[h.record.id] for h in project.search("paid", code="payment")} == {"N3"}
    assert {labels[h.record.id] for h in project.search("paid code:payment")} == {"N1", "N3"}
