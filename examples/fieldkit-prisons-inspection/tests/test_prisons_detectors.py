"""The prisons detectors: wing/cell/houseblock references and prison numbers."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldkit.hooks import manager as plugin_manager
from fieldkit.privacy.spans import Span
from fieldkit_prisons_inspection import locations

import fieldkit_prisons_inspection as plugin


def found(text):
    return [text[s.start:s.end] for s in locations.detect_locations(text)]


@pytest.mark.parametrize("text, expected", [
    ("Met him on B-wing cell 2-14 after lunch.", ["B-wing cell 2-14"]),
    ("He was moved to cell B2-14 yesterday.", ["cell B2-14"]),
    ("Association on houseblock 3 was cancelled.", ["houseblock 3"]),
    ("cell 2-14 on B-wing", ["cell 2-14 on B-wing"]),
    ("landing 2 of HB1, then C wing", ["landing 2 of HB1", "C wing"]),
    ("The Spur 4 office; wing 3 was quiet", ["Spur 4", "wing 3"]),
    ("Cell no. 7 had no curtain.", ["Cell no. 7"]),
    ("cell 214 and cell 2.15", ["cell 214", "cell 2.15"]),
])
def test_locations_found(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize("text", [
    "a wing of the old building",          # ordinary English, no capital letter
    "on the wing A man shouted",           # "A" starts the next words
    "the wing I visited",                  # a pronoun, not wing I
    "his cell phone was taken",            # no number after cell
    "the landing was noisy",
    "blockhouse 3",
])
def test_ordinary_text_is_left_alone(text):
    assert found(text) == []


def test_location_spans_are_quasi_and_named():
    [span] = locations.detect_locations("seen on D-wing")
    assert span == Span(8, 14, "prison_location", "quasi", detector="prisons.location")


@pytest.mark.parametrize("text, expected", [
    ("Prison number A1234BC was on the list", ["A1234BC"]),
    ("numbers a1234bc and Z9876XY", ["a1234bc", "Z9876XY"]),
    ("XA1234BC and A1234BCD and A12345BC", []),
])
def test_prison_numbers(text, expected):
    spans = list(locations.detect_prison_numbers(text))
    assert [text[s.start:s.end] for s in spans] == expected
    assert all(s.directness == "direct" and s.kind == "prison_number" for s in spans)


WORDS = st.lists(st.sampled_from(["the", "officer", "said", "wing", "a", "cell", "on", "house", "block", "in",
                                  "landing", "of", ",", "Spur", "2", "B", "-", "phone"]), max_size=12)
REFERENCES = st.builds(lambda w, c: f"{w}-wing cell {c}", st.sampled_from("ABCDEFGH"),
                       st.from_regex(r"[1-5]-[0-9]{2}", fullmatch=True))


@settings(max_examples=200)
@given(before=WORDS, reference=REFERENCES, after=WORDS)
def test_a_reference_is_always_found_whole(before, reference, after):
    """Whatever ordinary words surround it, a full reference is covered by one span."""
    text = " ".join(before) + " . " + reference + " . " + " ".join(after)
    start = text.index(reference)
    spans = locations.find_locations(text)
    assert any(s <= start and start + len(reference) <= e for s, e, _ in spans)


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from("ABCHbcehilnoswg0123456789 -.,\n"), max_size=80))
def test_spans_are_sorted_disjoint_and_inside(text):
    spans = locations.find_locations(text)
    last_end = 0
    for start, end, kinds in spans:
        assert last_end <= start < end <= len(text)
        assert kinds and set(kinds) <= set(locations._PARTS)
        last_end = end
    for span in locations.detect_prison_numbers(text):
        assert 0 <= span.start < span.end <= len(text)


@settings(max_examples=200)
@given(letter=st.sampled_from("ABCDEFGH"), cell=st.from_regex(r"[1-5]-[0-9]{2}", fullmatch=True),
       joins=st.lists(st.sampled_from([" ", "-", "  ", "\t"]), min_size=2, max_size=2),
       cases=st.lists(st.booleans(), min_size=3, max_size=3))
def test_reference_key_ignores_spacing_hyphens_and_case(letter, cell, joins, cases):
    """However a reference is spaced, hyphenated or capitalised, it has one key."""
    words = [w.upper() if up else w for w, up in zip([letter, "wing", "cell"], cases)]
    written = f"{words[0]}{joins[0]}{words[1]}{joins[1].replace('-', ' ')}{words[2]} {cell}"
    assert locations.reference_key(written) == f"{letter.lower()} wing cell {cell}"


def test_detectors_are_registered_through_the_hook(fieldkit_plugin):
    fieldkit_plugin(plugin, "prisons")
    found = plugin_manager.detectors()
    assert {"prisons.location", "prisons.number"} <= set(found)
    spans = list(found["prisons.location"].detect("cell B2-14", None))
    assert [(s.start, s.end) for s in spans] == [(0, 10)]


def test_anonymising_with_the_detectors_replaces_whole_references(fieldkit_plugin):
    """The detectors plug into fieldkit's own anonymisation pipeline."""
    from fieldkit.privacy.detection import anonymise_text

    fieldkit_plugin(plugin, "prisons")
    found = plugin_manager.detectors()
    text = "Z9876XY said cell 2-14 on B-wing is damp."
    result = anonymise_text(text, found, order=["prisons.number", "prisons.location"], styles={})
    assert "Z9876XY" not in result.text and "B-wing" not in result.text and " on " not in result.text
    assert result.text.endswith(" is damp.")
