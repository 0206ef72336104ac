"""Codings never drift (issue 13, item 1): after an edit a coding either covers exactly the
text it covered before (status ``ok``, moved with it) or is marked ``review``, with the text
it covered then and the text at its new place both shown.

The oracles here never call fieldkit's diff: they compare the stored texts directly. The
converse (a coding is ``ok`` exactly when the edit left its text alone) is checked in
``tests/test_remap_property.py`` on edits that have only one reading.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import fieldkit
from fieldkit.coding import codings as coding
from fieldkit.coding.codebook import add_code
from fieldkit.core.remap import diff_words, validate_edits
from fieldkit.exchange.transcripts import Turn, transcript_body
from fieldkit.fieldwork import capture

FOUND = 'He said that "for data protection reasons" they would not share the file.'
FOUND_CODED = 'for data protection reasons" they would not'
FOUND_EDITED = FOUND.replace("for data protection reasons", "because of information governance rules")

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
# repeats on purpose: words, spaces, quotes and line ends that a diff can pair up wrongly
REPEATS = "ab \n\".'"
FRESH = "XYZé"


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    project = fieldkit.init(tmp_path_factory.mktemp("follow") / "p", author="tester")
    add_code(project, "theme")
    yield project
    project.close()


def _apply(text, edits):
    """The oracle's edit: ``(a, b, replacement)`` triples, sorted and apart, applied to ``text``."""
    out, last = [], 0
    for a, b, rep in edits:
        out += [text[last:a], rep]
        last = b
    return "".join(out) + text[last:]


def _save(project, kind, text):
    if kind == "memo":
        return capture.memo(project, text)
    return capture.note(project, text)


# --- the example from the issue ------------------------------------------------------------------

def test_the_found_example_is_marked_for_review_with_both_texts(project):
    add_code(project, "refusal")
    note = capture.note(project, FOUND)
    made = coding.apply_code(project, note.id, "refusal", quote=FOUND_CODED)
    capture.edit(project, note.id, FOUND_EDITED)
    after = project.get(made.id, type_name="coding")
    assert after.status == "review"
    was, now = coding.review_texts(project, after)
    assert was == FOUND_CODED
    assert now == 'because of information governance rules" they would not'
    # settled, it leaves the review list; a later edit elsewhere keeps it ok and in place
    coding.resolve_review(project, made.id)
    capture.edit(project, note.id, "Before that: " + FOUND_EDITED)
    moved = project.get(made.id, type_name="coding")
    assert moved.status == "ok"
    assert project.get(note.id).body[moved.start:moved.end] == now


def test_review_texts_of_a_coding_flagged_twice_keep_the_text_it_had_when_last_ok(project):
    add_code(project, "theme")
    note = capture.note(project, "one two three four five")
    made = coding.apply_code(project, note.id, "theme", quote="two three")
    capture.edit(project, note.id, "one 2 three four five")
    capture.edit(project, note.id, "one 2 3 four five")
    after = project.get(made.id, type_name="coding")
    assert after.status == "review"
    assert coding.review_texts(project, after) == ("two three", "2 3")


def test_the_found_example_on_the_command_line(run, tmp_path):
    run("codebook", "add", "refusal")
    run("note", FOUND)
    note_id = json.loads(run("list", "observation", "--json").output)[0]["id"]
    run("code", "apply", note_id, "refusal", "--quote", FOUND_CODED)
    new = tmp_path / "new.txt"
    new.write_text(FOUND_EDITED, encoding="utf-8")
    result = run("edit", note_id, "--from-file", str(new))
    assert result.exit_code == 0
    assert "1 coding(s) covered text that changed and now need review" in result.output
    rows = json.loads(run("code", "review", "--json").output)
    assert [(r["was"], r["text"]) for r in rows] == [
        (FOUND_CODED, 'because of information governance rules" they would not')]
    table = run("code", "review").output
    assert "for data protection" in table and "because of information" in table


def test_the_found_example_in_a_fresh_process(tmp_path):
    from tests.test_cli_fresh import fieldkit_run
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")}
    env.update(FIELDKIT_PROJECT=str(tmp_path / "study"), FIELDKIT_AUTHOR="tester", FIELDKIT_LOAD_PLUGINS="",
               EDITOR="false")
    fieldkit_run("init", tmp_path / "study", env=env, check=0)
    fieldkit_run("codebook", "add", "refusal", env=env, check=0)
    fieldkit_run("note", FOUND, env=env, check=0)
    note_id = json.loads(fieldkit_run("list", "observation", "--json", env=env, check=0).stdout)[0]["id"]
    fieldkit_run("code", "apply", note_id, "refusal", "--quote", FOUND_CODED, env=env, check=0)
    edited = fieldkit_run("edit", note_id, "--from-file", "-", input=FOUND_EDITED, env=env, check=0)
    assert "need review" in edited.stdout
    listed = json.loads(fieldkit_run("code", "list", "--status", "review", "--json", env=env, check=0).stdout)
    assert len(listed) == 1 and listed[0]["text"].startswith("because of information governance rules")


# --- properties ----------------------------------------------------------------------------------

@st.composite
def any_edit(draw, alphabet=REPEATS):
    """A text, codings on it and one or more edits in any characters (repeats included)."""
    text = draw(st.text(alphabet=alphabet, min_size=1, max_size=60).filter(str.strip))
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), min_size=2, max_size=6)))
    edits = []
    for a, b in zip(cuts[0::2], cuts[1::2]):
        if edits and a <= edits[-1][1]:
            continue
        edits.append((a, b, draw(st.text(alphabet=alphabet + FRESH, max_size=6))))
    new = _apply(text, edits)
    assume(new.strip() and new != text)
    spans = draw(st.lists(st.tuples(st.integers(0, len(text)), st.integers(0, len(text))).map(sorted)
                          .filter(lambda se: se[0] < se[1]).map(tuple), min_size=1, max_size=6, unique=True))
    return text, new, spans


def _transcript(text):
    """The text as a transcript fieldnote: turns of two speakers, as an import writes it."""
    parts = [p for p in text.split("\n") if p.strip()] or [text]
    return transcript_body([Turn(speaker=f"S{i % 2}", text=p.strip(), start=float(i * 7))
                            for i, p in enumerate(parts)], {"s0": "P01", "s1": "P02"})


@SETTINGS
@given(case=any_edit(), kind=st.sampled_from(["fieldnote", "memo", "transcript"]))
def test_a_coding_left_ok_covers_exactly_the_text_it_covered(shared, case, kind):
    text, new, spans = case
    if kind == "transcript":
        text, new = _transcript(text), _transcript(new)
        assume(text != new)
        spans = [(min(s, len(text) - 1), min(e, len(text))) for s, e in spans if min(s, len(text) - 1) < min(e, len(text))]
        assume(spans)
    record = _save(shared, kind, text)
    old_body = shared.get(record.id).body
    made = [coding.apply_code(shared, record.id, "theme", start=s, end=e, coder=f"c{i}")
            for i, (s, e) in enumerate(spans) if e <= len(old_body)]
    capture.edit(shared, record.id, new)
    new_body = shared.get(record.id).body
    for before in made:
        after = shared.get(before.id, type_name="coding")
        assert 0 <= after.start <= after.end <= len(new_body)
        assert after.status in ("ok", "review")
        if after.status == "ok":
            assert new_body[after.start:after.end] == old_body[before.start:before.end]
        else:
            was, _now = coding.review_texts(shared, after)
            assert was == old_body[before.start:before.end]


@settings(max_examples=200, deadline=None)
@given(case=any_edit(alphabet="ab \n.-é"))
def test_the_word_diff_turns_the_old_text_into_the_new(case):
    text, new, _spans = case
    edits = diff_words(text, new)
    validate_edits(edits, len(text), len(new))
    rebuilt = _apply(text, [(a, b, new[c:d]) for a, b, c, d in edits])
    assert rebuilt == new
