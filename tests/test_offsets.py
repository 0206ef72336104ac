"""Tests for fieldkit.core.remap: diffing texts and carrying coded spans across edits.

All people named in these tests are fictional.
"""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldkit.core.remap import (
    MappedSpan,
    compose,
    diff_edits,
    map_position,
    map_span,
    validate_edits,
)


def apply_check(edits, old, new):
    """Assert that ``edits`` turn ``old`` into ``new``: outside the edits nothing differs."""
    validate_edits(edits, len(old), len(new))
    pieces, pos = [], 0
    for os_, oe, ns, ne in edits:
        pieces.append(old[pos:os_])
        pieces.append(new[ns:ne])
        pos = oe
    pieces.append(old[pos:])
    assert "".join(pieces) == new


def common_prefix(a, b):
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def common_suffix(a, b):
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


# Text with plenty of repetition, line breaks, non-ASCII letters, an emoji, and a
# combining accent (two code points for one visible letter).
ALPHABET = "ab \n\u00e9e\u0301\U0001F600"
texts = st.text(alphabet=ALPHABET, max_size=60)


@st.composite
def edited_texts(draw, alphabet=ALPHABET, max_size=60):
    """An old text and a new one made by a few non-overlapping replacements.

    Returns ``(old, new, true_edits)``; each true edit is ``(old_start, old_end, inserted)``.
    """
    old = draw(st.text(alphabet=alphabet, max_size=max_size))
    cuts = sorted(draw(st.lists(st.integers(0, len(old)), max_size=6)))
    edits = []
    for k in range(0, len(cuts) - 1, 2):
        start, end = cuts[k], cuts[k + 1]
        if edits and start <= edits[-1][1]:
            continue
        inserted = draw(st.text(alphabet=alphabet, max_size=5))
        if start == end and not inserted:
            continue
        edits.append((start, end, inserted))
    if len(cuts) % 2 == 1 and (not edits or cuts[-1] > edits[-1][1]):
        inserted = draw(st.text(alphabet=alphabet, min_size=1, max_size=5))
        edits.append((cuts[-1], cuts[-1], inserted))
    new, pos = [], 0
    for start, end, inserted in edits:
        new.append(old[pos:start])
        new.append(inserted)
        pos = end
    new.append(old[pos:])
    return old, "".join(new), edits


spans_in = st.data()


def draw_spans(data, length):
    pairs = data.draw(st.lists(st.tuples(st.integers(0, length), st.integers(0, length)), max_size=8))
    return [(min(a, b), max(a, b)) for a, b in pairs]


# ---------------------------------------------------------------------------
# diff_edits
# ---------------------------------------------------------------------------

@settings(max_examples=500, deadline=None)
@given(old=texts, new=texts)
def test_diff_edits_is_a_valid_edit_list(old, new):
    edits = diff_edits(old, new)
    apply_check(edits, old, new)
    for (_a, oe, _b, ne), (os2, _c, ns2, _d) in zip(edits, edits[1:]):
        assert (oe, ne) != (os2, ns2)          # no two edits touch
    for os_, oe, ns, ne in edits:
        assert oe > os_ or ne > ns
    if old == new:
        assert edits == []


@settings(max_examples=500, deadline=None)
@given(case=edited_texts())
def test_diff_of_generated_edit_is_valid(case):
    old, new, _true = case
    apply_check(diff_edits(old, new), old, new)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=edited_texts(), data=spans_in)
def test_spans_away_from_the_edit_keep_their_text(case, data):
    """Spans clear of the changed region map "exact" onto the same characters.

    The diff may place a change anywhere it could equally have happened (in "aaa" ->
    "aa" any "a" may be the one deleted), so "clear of the change" is measured against
    the widest place a single contiguous change could sit: from
    ``min(a, len(old) - S - shrink)`` to ``max(b, P + shrink)``, where ``[a, b)`` is the
    region the generated edits span, P and S the common prefix and suffix lengths of the
    two texts, and ``shrink`` how much shorter the new text is (0 if it grew).
    """
    old, new, true_edits = case
    edits = diff_edits(old, new)
    spans = draw_spans(data, len(old))
    if not true_edits:
        for start, end in spans:
            assert map_span(edits, start, end) == MappedSpan(start, end, "exact")
        return
    a, b = true_edits[0][0], true_edits[-1][1]
    shrink = max(0, len(old) - len(new))
    zone_start = min(a, len(old) - common_suffix(old, new) - shrink)
    zone_end = max(b, common_prefix(old, new) + shrink)
    for start, end in spans:
        if start == end:
            continue   # an empty span sitting on an insertion point is ambiguous by nature
        mapped = map_span(edits, start, end)
        if end <= zone_start:
            assert mapped == MappedSpan(start, end, "exact")
        elif start >= zone_end:
            shift = len(new) - len(old)
            assert mapped == MappedSpan(start + shift, end + shift, "exact")
            assert new[mapped.start:mapped.end] == old[start:end]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_untouched_spans_follow_their_characters_when_alignment_is_unambiguous(data):
    """With every old character distinct and inserted text from other characters the
    alignment is unique, so every span no edit touches -- including spans between edits --
    must land on its own characters, at the true position."""
    size = data.draw(st.integers(0, 900))
    rng = data.draw(st.randoms(use_true_random=False))
    old = "".join(map(chr, rng.sample(range(0x4E00, 0xA000), size)))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(old)), max_size=10)))
    true_edits = []
    for k in range(0, len(cuts) - 1, 2):
        start, end = cuts[k], cuts[k + 1]
        if true_edits and start <= true_edits[-1][1]:
            continue
        inserted = data.draw(st.text(alphabet="xyz\U0001F600", max_size=4))
        if start < end or inserted:
            true_edits.append((start, end, inserted))
    pieces, pos = [], 0
    for start, end, inserted in true_edits:
        pieces += [old[pos:start], inserted]
        pos = end
    new = "".join(pieces) + old[pos:]

    edits = diff_edits(old, new)
    apply_check(edits, old, new)
    for start, end in draw_spans(data, len(old)):
        touched = any(s < end and e > start for s, e, _ins in true_edits)
        if touched or start == end:
            continue
        shift = sum(len(ins) - (e - s) for s, e, ins in true_edits if e <= start)
        assert map_span(edits, start, end) == MappedSpan(start + shift, end + shift, "exact")


@settings(max_examples=500, deadline=None)
@given(case=edited_texts(), data=spans_in)
def test_mapped_spans_are_sound(case, data):
    old, new, _true = case
    edits = diff_edits(old, new)
    for start, end in draw_spans(data, len(old)):
        mapped = map_span(edits, start, end)
        assert 0 <= mapped.start <= mapped.end <= len(new)
        if mapped.status == "exact":
            assert new[mapped.start:mapped.end] == old[start:end]
        for side in ("left", "right"):
            assert 0 <= map_position(edits, start, side=side) <= len(new)


def _note(seed: int, paragraphs: int = 110) -> str:
    rng = random.Random(seed)
    words = ("we walked to the market where Duarte sold onions and his cousin said that the "
             "rain had come late this year so prices rose again").split()
    return "\n\n".join(
        " ".join(rng.choice(words) for _ in range(rng.randint(30, 140))) for _ in range(paragraphs))


def test_diff_is_fast_on_a_50kb_note():
    old = _note(1)
    assert len(old) > 45_000
    rng = random.Random(2)
    new = list(old)
    for _ in range(40):
        i = rng.randrange(len(new))
        new[i:i + rng.randint(0, 15)] = "[edited]"
    new = "".join(new)
    anonymised = old.replace("Duarte", "P07")
    one_paragraph = old.replace("\n", " ")
    one_paragraph_edited = one_paragraph[:20_000] + "Mirela" + one_paragraph[20_010:]
    started = time.perf_counter()
    for a, b in ((old, new), (old, anonymised), (one_paragraph, one_paragraph_edited)):
        apply_check(diff_edits(a, b), a, b)
    assert time.perf_counter() - started < 10   # typically well under one second
    edits = diff_edits(old, anonymised)
    assert len(edits) == old.count("Duarte")


# ---------------------------------------------------------------------------
# map_span / map_position: worked cases
# ---------------------------------------------------------------------------

def test_deleting_a_whole_coded_span_loses_it():
    old = "We met Lior at the bus stop. He was late."
    new = "We met Lior. He was late."
    start, end = old.index(" at the bus stop"), old.index(". He")
    mapped = map_span(diff_edits(old, new), start, end)
    assert mapped.status == "lost"
    assert mapped.start == mapped.end == new.index(". He")


def test_insertion_inside_a_span_is_changed_and_covered():
    old = "Lior sold onions at dawn."
    new = "Lior sold red and white onions at dawn."
    start, end = 0, old.index(" at")
    mapped = map_span(diff_edits(old, new), start, end)
    assert mapped.status == "changed"
    assert new[mapped.start:mapped.end] == "Lior sold red and white onions"


def test_insertions_at_the_edges_stay_outside():
    old = "xx Lior sold onions yy"
    new = "xx Then Lior sold onions quickly yy"
    start, end = old.index("Lior"), old.index(" yy")
    mapped = map_span(diff_edits(old, new), start, end)
    assert mapped.status == "exact"
    assert new[mapped.start:mapped.end] == "Lior sold onions"


def test_replacing_a_name_inside_a_span_keeps_it():
    old = "Yesterday Marguerite Okafor told me the stall was closing."
    new = "Yesterday P03 told me the stall was closing."
    start, end = old.index("Marguerite"), old.index(" the stall")
    mapped = map_span(diff_edits(old, new), start, end)
    assert mapped.status == "changed"
    assert new[mapped.start:mapped.end] == "P03 told me"


def test_span_exactly_on_a_replaced_name_maps_onto_the_pseudonym():
    old = "Yesterday Marguerite Okafor told me."
    new = "Yesterday [P03] told me."
    start, end = old.index("Marguerite"), old.index(" told")
    edits = diff_edits(old, new)
    mapped = map_span(edits, start, end)
    assert mapped.status == "changed"
    assert new[mapped.start:mapped.end] == "[P03]"
    assert map_span(edits, start, end, replacements_ok=False).status == "lost"


def test_hand_made_edit_list():
    # "Ana met Bo" -> "Ana met Joseph": one replacement [8, 10) -> [8, 14)
    edits = [(8, 10, 8, 14)]
    assert map_span(edits, 8, 10) == MappedSpan(8, 14, "changed")
    assert map_span(edits, 0, 3) == MappedSpan(0, 3, "exact")
    assert map_span(edits, 9, 10) == MappedSpan(8, 14, "lost")     # straddles: not wholly inside
    assert map_span(edits, 4, 10) == MappedSpan(4, 14, "changed")
    assert map_span(edits, 4, 10, replacements_ok=False) == MappedSpan(4, 14, "changed")  # 4/6 kept
    assert map_span(edits, 6, 10, replacements_ok=False) == MappedSpan(6, 14, "changed")  # 2/4 kept
    assert map_span(edits, 7, 10, replacements_ok=False).status == "lost"                 # 1/3 kept


def test_map_position_sides():
    edits = [(2, 2, 2, 5), (6, 9, 9, 10)]      # insert 3 at 2; replace [6, 9) by one char
    assert map_position(edits, 1, side="left") == 1
    assert map_position(edits, 2, side="left") == 2
    assert map_position(edits, 2, side="right") == 5
    assert map_position(edits, 4, side="left") == 7
    assert map_position(edits, 6, side="right") == 9     # just before the replacement
    assert map_position(edits, 7, side="left") == 9      # inside it
    assert map_position(edits, 7, side="right") == 10
    assert map_position(edits, 9, side="left") == 10     # just after it
    assert map_position(edits, 20, side="left") == 21
    with pytest.raises(ValueError):
        map_position(edits, 1, side="middle")


def test_offsets_are_code_points():
    old = "Caf\u00e9 \U0001F600 with Jose\u0301 and Ana"      # precomposed é, emoji, e + combining acute
    new = "Caf\u00e9 \U0001F600\U0001F600 with P01 and Ana"
    jose = old.index("Jose\u0301")
    span = (jose, jose + 5)                                   # five code points, four letters
    assert old[span[0]:span[1]] == "Jose\u0301"
    edits = diff_edits(old, new)
    assert edits[0][0] == old.index("\U0001F600") + 1         # the inserted emoji is one code point
    assert edits[0][3] - edits[0][2] == 1
    mapped = map_span(edits, *span)
    assert mapped.status == "changed" and new[mapped.start:mapped.end] == "P01"
    ana = old.index("Ana")
    assert map_span(edits, ana, ana + 3) == MappedSpan(new.index("Ana"), new.index("Ana") + 3, "exact")
    # removing only the combining mark changes one code point of the span
    accent_gone = old.replace("e\u0301", "e")
    mapped = map_span(diff_edits(old, accent_gone), *span)
    assert mapped.status == "changed" and accent_gone[mapped.start:mapped.end] == "Jose"


def test_bad_arguments():
    with pytest.raises(ValueError):
        map_span([], 5, 2)
    with pytest.raises(ValueError):
        validate_edits([(5, 6, 5, 5), (2, 3, 1, 2)])
    with pytest.raises(ValueError):
        validate_edits([(2, 3, 4, 5)])
    with pytest.raises(ValueError):
        MappedSpan(0, 1, "moved")


# ---------------------------------------------------------------------------
# compose
# ---------------------------------------------------------------------------

@settings(max_examples=400, deadline=None)
@given(a=texts, b=texts, c=texts, data=spans_in)
def test_compose_chains_two_edit_lists(a, b, c, data):
    first, second = diff_edits(a, b), diff_edits(b, c)
    combined = compose(first, second)
    apply_check(combined, a, c)
    for start, end in draw_spans(data, len(a)):
        if start == end:
            continue   # empty spans on insertion points: see test_spans_away_from_the_edit...
        step = map_span(first, start, end)
        if step.status != "exact":
            continue
        step2 = map_span(second, step.start, step.end)
        if step2.status == "exact":
            direct = map_span(combined, start, end)
            assert direct == step2


def test_compose_simple():
    # "abcdef" -> "abXdef" -> "abXdeYf"
    first = [(2, 3, 2, 3)]
    second = [(5, 5, 5, 6)]
    assert compose(first, second) == [(2, 3, 2, 3), (5, 5, 5, 6)]
    assert compose([], second) == second
    assert compose(first, []) == first
