"""Codings follow their text through edits (issue 3, item 3), checked at project level.

Texts, codings and edits are generated; the edit is saved with ``fieldkit.fieldwork.capture.edit`` (so
``Project.update`` -> ``Project._follow_edit`` -> ``fieldkit.core.remap`` does the work) and
the stored codings are read back.

Edits use characters that do not occur in the original text (or, for deletions, are checked
not to slide), so the edit a person made is the only reading of the change: where text
repeats ("aab" -> "ab"), the removed "a" could equally be the first or the second, and no
diff can tell which one the writer meant. Such a coding is then reported for review, never
silently moved onto other text (the third test). A single edit is tried on short texts full
of repeats; several edits at once on texts of distinct characters (see ``several_edits``).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import fieldkit
from fieldkit.fieldwork import capture
from fieldkit.coding import codings as coding

BASE = "abc \n"          # the original text
FRESH = "XYZé"           # inserted text: never in the original
GONE = "QRS"             # text of a coded passage that gets deleted
DISTINCT = "abcdefghijklmnopqrstuvwABCDEFGHIJKLMNOP0123456789 \n.,;ñüøß"  # none in FRESH

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One project for all examples (each example writes its own note and codings)."""
    project = fieldkit.init(tmp_path_factory.mktemp("remap") / "p", author="tester")
    from fieldkit.coding.codebook import add_code

    add_code(project, "theme")
    yield project
    project.close()


def _spans(length):
    return st.lists(
        st.tuples(st.integers(0, length), st.integers(0, length))
        .map(sorted).filter(lambda se: se[0] < se[1]).map(tuple),
        min_size=1, max_size=6, unique=True)


def _save(project, text, spans):
    note = capture.note(project, text)
    made = []
    for i, (s, e) in enumerate(spans):
        made.append(coding.apply_code(project, note.id, "theme", start=s, end=e, coder=f"c{i}"))
    return note, made


def _untouched(span, edits):
    s, e = span
    for a, b, _rep in edits:
        if a == b:
            if s < a < e:
                return False
        elif a < e and b > s:
            return False
    return True


def _apply(text, edits):
    out, last = [], 0
    for a, b, rep in edits:
        out.append(text[last:a])
        out.append(rep)
        last = b
    out.append(text[last:])
    return "".join(out)


@st.composite
def single_edit(draw):
    text = draw(st.text(alphabet=BASE, min_size=1, max_size=50).filter(lambda t: t.strip()))
    a = draw(st.integers(0, len(text)))
    b = draw(st.integers(a, len(text)))
    rep = draw(st.text(alphabet=FRESH, max_size=5))
    assume(a < b or rep)
    if not rep:
        # a deletion must not be able to slide to an equivalent place
        assume(b == len(text) or text[a] != text[b])
        assume(a == 0 or text[a - 1] != text[b - 1])
    new = _apply(text, [(a, b, rep)])
    assume(new.strip())
    spans = draw(_spans(len(text)))
    return text, [(a, b, rep)], spans


@st.composite
def several_edits(draw):
    # With several edits, repeated text lets the unchanged stretches between them line up in
    # more than one way ("aaa" -> "XaaX": was the first "a" replaced and an X appended, or
    # an X put in front and the last "a" replaced?). Texts of distinct characters have one
    # reading only.
    chars = draw(st.lists(st.sampled_from(DISTINCT), min_size=3, max_size=40, unique=True))
    text = "".join(chars)
    assume(text.strip())
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), min_size=2, max_size=6)))
    edits = []
    for a, b in zip(cuts[0::2], cuts[1::2]):
        if edits and a <= edits[-1][1]:
            continue  # keep at least one unchanged character between edits
        edits.append((a, b, draw(st.text(alphabet=FRESH, min_size=1, max_size=4))))
    assume(edits)
    spans = draw(_spans(len(text)))
    return text, edits, spans


@SETTINGS
@given(case=single_edit())
def test_coding_over_untouched_text_covers_the_same_characters(shared, case):
    text, edits, spans = case
    note, made = _save(shared, text, spans)
    new_text = _apply(text, edits)
    capture.edit(shared, note.id, new_text)
    stored = shared.get(note.id).body
    assert stored == new_text
    for before in made:
        after = shared.get(before.id, type_name="coding")
        if _untouched((before.start, before.end), edits):
            assert after.status == "ok"
            assert stored[after.start:after.end] == text[before.start:before.end]
        assert 0 <= after.start <= after.end <= len(stored)


@SETTINGS
@given(case=several_edits())
def test_untouched_codings_survive_several_edits_at_once(shared, case):
    text, edits, spans = case
    note, made = _save(shared, text, spans)
    new_text = _apply(text, edits)
    capture.edit(shared, note.id, new_text)
    for before in made:
        after = shared.get(before.id, type_name="coding")
        if _untouched((before.start, before.end), edits):
            assert after.status == "ok"
            assert new_text[after.start:after.end] == text[before.start:before.end]


@st.composite
def deleted_passage(draw):
    before = draw(st.text(alphabet=BASE, max_size=30))
    passage = draw(st.text(alphabet=GONE, min_size=1, max_size=10))
    after = draw(st.text(alphabet=BASE, max_size=30))
    assume((before + after).strip())
    text = before + passage + after
    s, e = len(before), len(before) + len(passage)
    # delete the passage and perhaps some text around it; or replace more than the passage
    a = draw(st.integers(0, s))
    b = draw(st.integers(e, len(text)))
    replace = draw(st.booleans()) and (a < s or b > e)
    rep = draw(st.text(alphabet=FRESH, min_size=1, max_size=3)) if replace else ""
    new = _apply(text, [(a, b, rep)])
    assume(new.strip())
    return text, (s, e), (a, b, rep)


@SETTINGS
@given(case=deleted_passage())
def test_coding_whose_text_is_deleted_is_kept_for_review(shared, case):
    text, (s, e), edit = case
    note, (made,) = _save(shared, text, [(s, e)])
    capture.edit(shared, note.id, _apply(text, [edit]))
    after = shared.get(made.id, type_name="coding")        # kept, not deleted
    assert after.status == "review"
    assert made.id in {c.id for c in coding.review_list(shared, record=note.id)}
    # the previous position stays in the coding's history
    history = shared.history(made.id)
    assert history and history[-1].data["start"] == s and history[-1].data["end"] == e


def test_review_then_resolve_by_quote(project):
    from fieldkit.coding.codebook import add_code

    add_code(project, "theme")
    note = capture.note(project, "The inspector spoke first. Then the EbE asked a question.")
    c = coding.apply_code(project, note.id, "theme", quote="spoke first")
    capture.edit(project, note.id, "The inspector listened. Then the EbE asked a question.")
    assert [x.id for x in coding.review_list(project)] == [c.id]
    fixed = coding.resolve_review(project, c.id, quote="listened")
    assert fixed.status == "ok" and (fixed.start, fixed.end) == (14, 22)
    assert coding.review_list(project) == []


@SETTINGS
@given(case=several_edits(), kind=st.sampled_from(["fieldnote", "memo"]))
def test_a_coding_is_ok_exactly_when_the_edit_left_its_text_alone(shared, case, kind):
    """Issue 13, item 1: an edit that reached inside a coding sends it to review; one that
    did not moves it exactly as far as the edits before it shifted the text."""
    text, edits, spans = case
    record = capture.memo(shared, text) if kind == "memo" else capture.note(shared, text)
    made = [coding.apply_code(shared, record.id, "theme", start=s, end=e, coder=f"c{i}")
            for i, (s, e) in enumerate(spans)]
    capture.edit(shared, record.id, _apply(text, edits))
    for before in made:
        after = shared.get(before.id, type_name="coding")
        if _untouched((before.start, before.end), edits):
            # edits wholly before it, and an insertion right at its start, push it along
            shift = sum(len(rep) - (b - a) for a, b, rep in edits if b <= before.start)
            assert after.status == "ok"
            assert (after.start, after.end) == (before.start + shift, before.end + shift)
        else:
            assert after.status == "review"
