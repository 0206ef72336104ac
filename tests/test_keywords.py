"""Keyword rules and match_rules."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from fieldkit.coding.keywords import KeywordRule, _compiled, match_rules, rule_spans

# --- strategies ----------------------------------------------------------------------

LETTERS = st.characters(categories=("Lu", "Ll"))
DIGITS = st.characters(categories=("Nd",))
WORD_CHARS = st.characters(categories=("Lu", "Ll", "Nd"))

words = st.text(WORD_CHARS, min_size=1, max_size=8)
letter_words = st.text(LETTERS, min_size=1, max_size=8)
digit_words = st.text(DIGITS, min_size=1, max_size=5)
separators = st.sampled_from([" ", "  ", "\n", ", ", ". ", "\t", " - ", " (", ") ", "; "])
tokens = st.builds(lambda w, star: w + ("*" if star else ""), words, st.booleans())

SAFE_REGEXES = [r"\bpeer[- ]research(?:er)?s?\b", r"a+", r"x*", r"\d{2,}", r"(?=b)", r".", r"\s+"]

rules = st.one_of(
    st.builds(KeywordRule, st.just("word"), tokens, case_sensitive=st.booleans()),
    st.builds(
        KeywordRule,
        st.just("phrase"),
        st.lists(tokens, min_size=1, max_size=3).map(" ".join),
        case_sensitive=st.booleans(),
    ),
    st.builds(
        KeywordRule, st.just("regex"), st.sampled_from(SAFE_REGEXES), case_sensitive=st.booleans()
    ),
    st.builds(
        KeywordRule,
        st.just("near"),
        st.lists(tokens, min_size=2, max_size=3, unique_by=str.casefold).map(tuple),
        within=st.integers(1, 8),
        case_sensitive=st.booleans(),
    ),
)


def case_variant(word: str, flips: list[bool]) -> str:
    """Change the case of some letters, keeping length and case-folded form."""
    out = []
    for ch, flip in zip(word, flips + [False] * len(word)):
        other = ch.lower() if ch.isupper() else ch.upper()
        if flip and len(other) == 1 and other.casefold() == ch.casefold():
            out.append(other)
        else:
            out.append(ch)
    return "".join(out)


@st.composite
def text_with_words(draw, pool):
    parts = draw(st.lists(st.one_of(pool, words, st.text(max_size=5)), max_size=12))
    seps = draw(st.lists(separators, min_size=len(parts), max_size=len(parts)))
    return "".join(p + s for p, s in zip(parts, seps))


# --- properties ----------------------------------------------------------------------


@given(text=st.text(), rule_list=st.lists(rules, max_size=4), merge=st.booleans())
def test_spans_are_in_bounds_and_sorted(text, rule_list, merge):
    found = match_rules(text, rule_list, merge=merge)
    for start, end, rule in found:
        assert 0 <= start < end <= len(text)
        assert rule in rule_list
    assert found == sorted(found, key=lambda f: (f[0], f[1])) or not merge
    if merge:
        for (_, end1, _), (start2, _, _) in zip(found, found[1:]):
            assert end1 <= start2  # no overlaps once merged


@given(word=words, text=st.data())
def test_word_rule_span_casefolds_to_the_word(word, text):
    body = text.draw(text_with_words(st.just(word)))
    rule = KeywordRule("word", word)
    for start, end, _ in match_rules(body, [rule]):
        assert body[start:end].casefold() == word.casefold()


@given(
    word=words,
    filler=st.lists(words, max_size=10),
    seps=st.lists(separators, min_size=11, max_size=11),
    flips=st.lists(st.booleans(), max_size=8),
    data=st.data(),
)
def test_inserted_word_is_found(word, filler, seps, flips, data):
    index = data.draw(st.integers(0, len(filler)))
    variant = case_variant(word, flips)
    parts = filler[:index] + [variant] + filler[index:]
    text = ""
    for i, part in enumerate(parts):
        if i == index:
            start = len(text)
        text += part + seps[i]
    found = match_rules(text, [KeywordRule("word", word)])
    assert (start, start + len(variant)) in [(s, e) for s, e, _ in found]


@given(
    phrase=st.lists(words, min_size=2, max_size=3),
    gaps=st.lists(st.sampled_from([" ", "  ", "\n", "\t", " \n  "]), min_size=2, max_size=2),
    before=st.lists(words, max_size=4),
    after=st.lists(words, max_size=4),
)
def test_inserted_phrase_is_found_across_any_whitespace(phrase, gaps, before, after):
    written = phrase[0] + "".join(g + w for g, w in zip(gaps, phrase[1:]))
    prefix = " ".join(before) + (" " if before else "")
    text = prefix + written + (" " if after else "") + " ".join(after)
    found = match_rules(text, KeywordRule("phrase", " ".join(phrase)))
    start = len(prefix)
    assert any(s <= start and start + len(written) <= e for s, e, _ in found)


@given(
    first=letter_words,
    second=letter_words,
    filler=st.lists(digit_words, min_size=12, max_size=12),
    gap=st.integers(0, 10),
    within=st.integers(1, 8),
)
def test_near_finds_words_exactly_when_close_enough(first, second, filler, gap, within):
    assume(first.casefold() != second.casefold())
    # Letter-only keywords in digit-only filler: the only hits are the two we place.
    assume(first.casefold() not in second.casefold() and second.casefold() not in first.casefold())
    parts = filler[:2] + [first] + filler[2 : 2 + gap] + [second] + filler[2 + gap :]
    text = " ".join(parts)
    found = match_rules(text, KeywordRule("near", (first, second), within=within))
    distance = gap + 1
    if distance <= within:
        start = text.index(first)
        end = text.index(second, start + len(first)) + len(second)
        assert [(s, e) for s, e, _ in found] == [(start, end)]
    else:
        assert found == []


# --- word rules ----------------------------------------------------------------------


def spans(text, *rules, **kw):
    return [text[s:e] for s, e, _ in match_rules(text, list(rules), **kw)]


def test_word_is_whole_word_and_case_insensitive():
    rule = KeywordRule("word", "inspector")
    text = "The Inspector met inspectors; the inspectorate's INSPECTOR's notes."
    assert spans(text, rule) == ["Inspector", "INSPECTOR"]


def test_word_wildcard_matches_any_ending():
    rule = KeywordRule("word", "inspector*")
    assert spans("Inspector, inspectors and the inspectorate", rule) == [
        "Inspector",
        "inspectors",
        "inspectorate",
    ]


def test_word_with_hyphen_is_one_word():
    rule = KeywordRule("word", "co-production")
    assert spans("Co-production, not coproduction or co-productions", rule) == ["Co-production"]


def test_word_case_sensitive():
    rule = KeywordRule("word", "EbE", case_sensitive=True)
    assert spans("ebe EbE EBE", rule) == ["EbE"]


def test_word_does_not_match_a_different_letter_that_re_ignorecase_allows():
    # re.IGNORECASE lets "i" match the dotless "ı"; case folding does not.
    assert spans("ı i I", KeywordRule("word", "i")) == ["i", "I"]


# --- phrase rules --------------------------------------------------------------------


def test_phrase_spans_line_breaks_and_extra_spaces():
    rule = KeywordRule("phrase", "lived experience")
    text = "her lived\n  experience, Lived Experience, lived experiences"
    assert spans(text, rule) == ["lived\n  experience", "Lived Experience"]


def test_phrase_wildcard_on_last_word():
    rule = KeywordRule("phrase", "lived experience*")
    assert spans("lived experiences", rule) == ["lived experiences"]


def test_phrase_needs_whole_words_at_both_ends():
    rule = KeywordRule("phrase", "user voice")
    assert spans("superuser voices", rule) == []


# --- regex rules ---------------------------------------------------------------------


def test_regex_is_case_insensitive_by_default():
    rule = KeywordRule("regex", r"\bpeer[- ]research(?:er)?s?\b")
    assert spans("Peer-researchers and peer research", rule) == [
        "Peer-researchers",
        "peer research",
    ]


def test_regex_case_sensitive():
    rule = KeywordRule("regex", r"\bDBS\b", case_sensitive=True)
    assert spans("dbs DBS", rule) == ["DBS"]


def test_regex_empty_matches_are_ignored():
    assert match_rules("abc", KeywordRule("regex", "x*")) == []


def test_touching_spans_are_not_merged():
    assert spans("aaa", KeywordRule("regex", "a")) == ["a", "a", "a"]


# --- near rules ----------------------------------------------------------------------


def test_near_counts_word_distance_either_order():
    rule = KeywordRule("near", ("expert", "experience"), within=2)
    assert spans("an expert by experience", rule) == ["expert by experience"]
    assert spans("experience made him an expert", rule) == []
    assert spans("experience, expert", rule) == ["experience, expert"]


def test_near_three_words():
    rule = KeywordRule("near", ["peer", "research", "prison"], within=4)
    assert rule.value == ("peer", "research", "prison")
    assert spans("peer research in a prison", rule) == ["peer research in a prison"]
    assert spans("peer research in a big old prison", rule) == []


def test_near_overlapping_windows_are_joined():
    rule = KeywordRule("near", ("a", "b"), within=1)
    assert spans("a b a b", rule) == ["a b a b"]


def test_near_missing_word_finds_nothing():
    assert match_rules("expert expert", KeywordRule("near", ("expert", "experience"))) == []


# --- sets of rules -------------------------------------------------------------------


def test_rules_of_one_set_are_merged_keeping_the_first_rule():
    word = KeywordRule("word", "lived")
    phrase = KeywordRule("phrase", "lived experience")
    found = match_rules("their lived experience", [word, phrase])
    assert found == [(6, 22, phrase)]  # the longer span starting at 6 wins the tie
    separate = match_rules("their lived experience", [word, phrase], merge=False)
    assert separate == [(6, 11, word), (6, 22, phrase)]


def test_single_rule_and_bad_input():
    rule = KeywordRule("word", "power")
    assert match_rules("Power!", rule) == [(0, 5, rule)]
    with pytest.raises(TypeError):
        match_rules(b"power", [rule])
    with pytest.raises(TypeError):
        match_rules("power", ["power"])
    assert rule_spans("power power", rule) == [(0, 5), (6, 11)]


def test_patterns_are_cached():
    a = KeywordRule("phrase", "lived experience")
    b = KeywordRule("phrase", "lived experience")
    assert _compiled(a) is _compiled(b)


def test_describe():
    assert KeywordRule("near", ("a", "b"), within=3).describe() == "near(a, b; within 3)"
    assert KeywordRule("word", "power").describe() == "word 'power'"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(kind="stem", value="x"), "unknown keyword rule kind"),
        (dict(kind="word", value=""), "is empty"),
        (dict(kind="word", value="two words"), "use a phrase"),
        (dict(kind="word", value="*"), "only a '*'"),
        (dict(kind="word", value="a*b"), "only have '*' at its end"),
        (dict(kind="word", value=3), "needs text"),
        (dict(kind="word", value="x", within=3), "within only applies"),
        (dict(kind="phrase", value="   "), "phrase is empty"),
        (dict(kind="regex", value=""), "regex is empty"),
        (dict(kind="regex", value="(unclosed"), "invalid regex"),
        (dict(kind="near", value="expert"), "list of two or more"),
        (dict(kind="near", value=("expert",)), "at least two"),
        (dict(kind="near", value=("a", "A")), "repeats a word"),
        (dict(kind="near", value=("a", "b c")), "whitespace"),
        (dict(kind="near", value=("a", "b"), within=0), "at least 1"),
        (dict(kind="near", value=("a", "b"), within=True), "whole number"),
        (dict(kind="word", value="x", case_sensitive="yes"), "true or false"),
    ],
)
def test_invalid_rules_raise_one_line_value_error(kwargs, message):
    with pytest.raises(ValueError) as info:
        KeywordRule(**kwargs)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_regex_compiles_with_ignorecase_flag():
    compiled = _compiled(KeywordRule("regex", "abc"))
    assert compiled.patterns[0].flags & re.IGNORECASE
