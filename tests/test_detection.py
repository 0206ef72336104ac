"""The anonymisation pipeline: merging, replacing, applying, running, review mode.

All people, places and identifiers here are invented.
"""

from __future__ import annotations

import datetime

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldkit.privacy.detection import (
    DetectContext,
    DetectorError,
    LogEntry,
    Place,
    Redaction,
    anonymise_text,
    apply_spans,
    make_replacer,
    merge_spans,
    original_digest,
    parse_birth_date,
    placeholder_for,
    review_candidates,
    run_detectors,
)
from fieldkit.hooks.registry import Detector
from fieldkit.privacy.spans import Span


def S(start, end, kind="x", directness="direct", hint="", detector=""):
    return Span(start, end, kind, directness, hint, detector)


# --------------------------------------------------------------------------- records


def test_detect_context_defaults_and_copy():
    ctx = DetectContext()
    assert ctx.people == () and ctx.places == () and ctx.settings == {}
    assert DetectContext().settings is not ctx.settings
    given_settings = {"places_file": "x.yaml"}
    ctx = DetectContext(places=[Place("HMP Blackmoor", "prison")], settings=given_settings)
    given_settings["places_file"] = "changed.yaml"
    assert ctx.settings["places_file"] == "x.yaml"
    assert isinstance(ctx.places, tuple)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        ctx.people = ()


def test_place_record():
    place = Place("HMP Blackmoor", "prison", ["Blackmoor"])
    assert place.aliases == ("Blackmoor",)
    assert place.names == ("HMP Blackmoor", "Blackmoor")
    assert Place("Callowgate AP", "approved_premises", "Callowgate").aliases == ("Callowgate",)
    with pytest.raises(ValueError, match="place kind"):
        Place("Somewhere", "castle")


# --------------------------------------------------------------------------- merge_spans


def test_merge_keeps_separate_and_sorts():
    spans = [S(10, 12), S(0, 3), S(3, 5)]  # touching spans stay apart
    assert [(s.start, s.end) for s in merge_spans(spans)] == [(0, 3), (3, 5), (10, 12)]


def test_merge_drops_empty_spans():
    assert merge_spans([S(4, 4), S(0, 2)]) == [S(0, 2)]


def test_merge_union_and_direct_beats_quasi():
    quasi = S(0, 20, "prison", "quasi", "[PRISON]", "places")
    direct = S(5, 8, "nino", "direct", "", "uk.nino")
    (merged,) = merge_spans([quasi, direct])
    assert (merged.start, merged.end) == (0, 20)
    assert merged.kind == "nino" and merged.directness == "direct" and merged.detector == "uk.nino"


def test_merge_longer_wins_then_order():
    a = S(0, 5, "phone", detector="uk.phone")
    b = S(2, 9, "nhs", detector="uk.nhs")
    (merged,) = merge_spans([a, b], ["uk.phone", "uk.nhs"])
    assert (merged.start, merged.end, merged.kind) == (0, 9, "nhs")
    c = S(0, 9, "phone", detector="uk.phone")
    d = S(0, 9, "nhs", detector="uk.nhs")
    assert merge_spans([c, d], ["uk.phone", "uk.nhs"])[0].kind == "phone"
    assert merge_spans([c, d], ["uk.nhs", "uk.phone"])[0].kind == "nhs"
    # detectors missing from the order come after those in it
    assert merge_spans([c, d], ["uk.nhs"])[0].kind == "nhs"


def test_merge_chains_overlaps():
    spans = [S(0, 4, "a"), S(3, 8, "b", "quasi"), S(7, 12, "c", "quasi")]
    (merged,) = merge_spans(spans)
    assert (merged.start, merged.end, merged.kind) == (0, 12, "a")


def test_merge_keeps_hint_of_winner():
    name = S(0, 11, "name", hint="P03", detector="names")
    first = S(0, 3, "name", hint="P09", detector="names")
    assert merge_spans([first, name])[0].hint == "P03"


span_lists = st.lists(
    st.tuples(st.integers(0, 60), st.integers(0, 15), st.sampled_from(["direct", "quasi"]),
              st.sampled_from(["a", "b", "c"])),
    max_size=25,
).map(lambda items: [S(s, s + n, k, d, detector=k) for s, n, d, k in items])


@given(span_lists, st.permutations(["a", "b", "c"]))
def test_merge_properties(spans, order):
    merged = merge_spans(spans, order)
    # sorted and non-overlapping
    for left, right in zip(merged, merged[1:]):
        assert left.end <= right.start
    # covers exactly the characters the inputs covered
    covered = {i for s in spans for i in range(s.start, s.end)}
    assert {i for s in merged for i in range(s.start, s.end)} == covered
    # each merged span's label comes from one of the spans it absorbed, and a direct one if any
    for m in merged:
        inside = [s for s in spans if s.end > s.start and m.start <= s.start and s.end <= m.end]
        assert any((s.kind, s.directness) == (m.kind, m.directness) for s in inside)
        if any(s.directness == "direct" for s in inside):
            assert m.directness == "direct"
    # the order of the input does not matter
    assert merge_spans(list(reversed(spans)), order) == merged


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize("written, expected", [
    ("12/03/1987", (1987, 3, 12)),
    ("12.3.87", (1987, 3, 12)),
    ("12-03-1987", (1987, 3, 12)),
    ("1987-03-12", (1987, 3, 12)),
    ("12th March 1987", (1987, 3, 12)),
    ("1st of Sept 2001", (2001, 9, 1)),
    ("12 Mar 1987", (1987, 3, 12)),
    ("March 12, 1987", (1987, 3, 12)),
    ("March 1987", (1987, 3, None)),
    ("mar '87", (1987, 3, None)),
    ("3/4/05", (2005, 4, 3)),
])
def test_parse_birth_date(written, expected):
    assert parse_birth_date(written, today=datetime.date(2026, 1, 1)) == expected


@pytest.mark.parametrize("written", ["31/02/1987", "12/13/1987", "12/03/1850", "12/03/2031",
                                     "March 2031", "12/03-1987", "tomorrow", "1987"])
def test_parse_birth_date_rejects(written):
    assert parse_birth_date(written, today=datetime.date(2026, 1, 1)) is None


# --------------------------------------------------------------------------- replacing


def test_placeholder_for():
    assert placeholder_for("prison") == "[PRISON]"
    assert placeholder_for("prison_number") == "[PRISON_NUMBER]"
    assert placeholder_for("approved premises") == "[APPROVED_PREMISES]"


def test_replacer_styles():
    replace = make_replacer({"styles": {"name": "pseudonym", "dob": "generalise",
                                        "email": "redact", "default": "placeholder"}})
    assert replace(S(0, 3, "name", hint="P03"), "Sam") == "[P03]"
    assert replace(S(0, 3, "name"), "Sam") == "[NAME]"  # no hint: placeholder
    assert replace(S(0, 10, "dob", "quasi"), "12/03/1987") == "[March 1987]"
    assert replace(S(0, 15, "dob", "quasi"), "12th March 1987") == "[March 1987]"
    assert replace(S(0, 5, "dob", "quasi"), "hmm?!") == "[DOB]"  # unreadable date
    assert replace(S(0, 5, "email"), "a@example.org") == "[REDACTED]"
    assert replace(S(0, 5, "nino"), "QQ123456C") == "[NINO]"


def test_replacer_pseudonym_keeps_bracketed_hint_and_generalise_falls_back():
    replace = make_replacer({"default": "pseudonym", "postcode": "generalise"})
    assert replace(S(0, 13, "prison", "quasi", "[PRISON]"), "HMP Blackmoor") == "[PRISON]"
    assert replace(S(0, 7, "postcode", "quasi"), "JW1 2AB") == "[POSTCODE]"


def test_replacer_default_is_placeholder():
    assert make_replacer()(S(0, 3, "crn"), "X123456") == "[CRN]"
    assert make_replacer(None)(S(0, 3, "name", hint="P01"), "Sam") == "[NAME]"


def test_replacer_rejects_unknown_style():
    with pytest.raises(ValueError, match="shuffle"):
        make_replacer({"name": "shuffle"})
    assert make_replacer({"dob": "generalize"})(S(0, 1, "dob", "quasi"), "March 1987") == "[March 1987]"


def test_replacer_lookup_gives_consistency():
    seen: dict = {}

    def lookup(kind, original):
        if kind == "name":
            return None
        key = (kind, original.casefold())
        if key not in seen:
            seen[key] = f"[{kind.upper()}-{sum(k[0] == kind for k in seen) + 1}]"
        return seen[key]

    replace = make_replacer({"name": "pseudonym", "email": "redact", "dob": "generalise",
                             "default": "placeholder"}, lookup)
    prison = S(0, 13, "prison", "quasi", "[PRISON]")
    assert replace(prison, "HMP Blackmoor") == "[PRISON-1]"
    assert replace(prison, "HMP Kestlewick") == "[PRISON-2]"
    assert replace(prison, "hmp blackmoor") == "[PRISON-1]"
    assert replace(S(0, 3, "name", hint="P03"), "Sam") == "[P03]"  # lookup said None
    assert replace(S(0, 3, "email"), "sam@example.org") == "[REDACTED]"  # redact keeps no label
    assert replace(S(0, 3, "dob", "quasi"), "12/03/1987") == "[March 1987]"


# --------------------------------------------------------------------------- apply_spans


def test_apply_spans_text_edits_and_log():
    text = "Sam (NI QQ123456C) met Sam."
    spans = [S(23, 26, "name", hint="P03", detector="names"),
             S(0, 3, "name", hint="P03", detector="names"),
             S(8, 17, "nino", detector="uk.nino")]
    result = apply_spans(text, spans, make_replacer({"name": "pseudonym"}))
    assert isinstance(result, Redaction)
    assert result.text == "[P03] (NI [NINO]) met [P03]."
    assert result.edits == [(0, 3, 0, 5), (8, 17, 10, 16), (23, 26, 22, 27)]
    assert [e.kind for e in result.log] == ["name", "nino", "name"]
    first, nino, last = result.log
    assert isinstance(first, LogEntry)
    assert (first.start, first.end, first.directness, first.detector, first.replacement) == \
        (0, 3, "direct", "names", "[P03]")
    assert first.digest == last.digest != nino.digest
    # the log never holds the original text
    flat = repr(result.log)
    assert "Sam" not in flat and "QQ123456C" not in flat


def test_apply_spans_empty_and_errors():
    replace = make_replacer()
    assert apply_spans("nothing here", [], replace) == Redaction("nothing here", [], ())
    with pytest.raises(ValueError, match="overlap"):
        apply_spans("abcdef", [S(0, 3), S(2, 5)], replace)
    with pytest.raises(ValueError, match="outside"):
        apply_spans("abc", [S(1, 9)], replace)


def test_original_digest_normalises_and_can_be_keyed():
    assert original_digest("QQ 12 34 56 C") == original_digest("qq123456c")
    assert original_digest("07700 900123") == original_digest("07700-900-123")
    assert original_digest("QQ123456C") != original_digest("QQ123456D")
    assert original_digest("QQ123456C", b"secret") != original_digest("QQ123456C")
    assert len(original_digest("x")) == 12


def _map_old_to_new(edits, old):
    """Where an unchanged old offset ends up, using only the edits."""
    shift = 0
    for o_start, o_end, n_start, n_end in edits:
        if old < o_start:
            break
        assert old >= o_end, "offset inside an edit"
        shift = n_end - o_end
    return old + shift


@given(st.text(alphabet="ab .\n", min_size=0, max_size=60), span_lists,
       st.sampled_from(["", "[X]", "[LONGER-REPLACEMENT]"]))
def test_apply_spans_offset_map(text, spans, fixed):
    spans = [s for s in merge_spans(spans) if s.end <= len(text)]
    result = apply_spans(text, spans, lambda span, original: fixed)
    # edits are sorted, consistent and describe exactly the change
    pieces, prev_old, prev_new = [], 0, 0
    for (o_start, o_end, n_start, n_end) in result.edits:
        assert o_start - prev_old == n_start - prev_new  # unchanged stretch keeps its length
        assert result.text[n_start:n_end] == fixed
        pieces.append(text[prev_old:o_start] + fixed)
        prev_old, prev_new = o_end, n_end
    pieces.append(text[prev_old:])
    assert "".join(pieces) == result.text
    # every character outside the spans maps to the same character in the new text
    inside = {i for s in spans for i in range(s.start, s.end)}
    for i, char in enumerate(text):
        if i not in inside:
            assert result.text[_map_old_to_new(result.edits, i)] == char


# --------------------------------------------------------------------------- run_detectors


def _finder(word, kind, directness="direct", detector_label="whatever"):
    def detect(text, context):
        start = text.find(word)
        while start != -1:
            yield Span(start, start + len(word), kind, directness, detector=detector_label)
            start = text.find(word, start + 1)
    return detect


def test_run_detectors_order_tagging_and_merge():
    text = "Sam Garside at HMP Blackmoor"
    detectors = [
        Detector("people", _finder("Sam Garside", "name")),
        Detector("first", _finder("Sam", "name")),
        Detector("places", _finder("HMP Blackmoor", "prison", "quasi")),
        Detector("unused", _finder("at", "other")),
    ]
    spans = run_detectors(text, detectors, DetectContext(), ["places", "first", "people"])
    assert [(s.start, s.end, s.kind, s.detector) for s in spans] == [
        (0, 11, "name", "people"), (15, 28, "prison", "places")]
    # a mapping works too, and an empty order runs nothing
    by_name = {d.name: d for d in detectors}
    assert run_detectors(text, by_name, DetectContext(), ["unused"])[0].kind == "other"
    assert run_detectors(text, by_name, DetectContext(), []) == []


def test_run_detectors_runs_in_configured_order():
    calls = []

    def recorder(name):
        def detect(text, context):
            calls.append(name)
            return []
        return Detector(name, detect)

    dets = [recorder("a"), recorder("b"), recorder("c")]
    run_detectors("x", dets, None, ["c", "a", "c"])
    assert calls == ["c", "a"]


def test_run_detectors_unknown_names():
    dets = [Detector("uk.nino", _finder("x", "nino"))]
    with pytest.raises(ValueError, match=r"uk\.nhs, names"):
        run_detectors("x", dets, DetectContext(), ["uk.nhs", "uk.nino", "names"])
    with pytest.raises(ValueError, match="order"):
        run_detectors("x", dets, DetectContext(), None)


def test_run_detectors_duplicate_registration():
    with pytest.raises(ValueError, match="dup"):
        run_detectors("x", [Detector("dup", _finder("x", "a")), Detector("dup", _finder("y", "b"))],
                      None, ["dup"])


def test_detector_failure_names_the_detector():
    def broken(text, context):
        yield Span(0, 1, "x")
        raise KeyError("boom")

    with pytest.raises(DetectorError, match="'fragile'") as info:
        run_detectors("text", [Detector("fragile", broken)], DetectContext(), ["fragile"])
    assert info.value.detector == "fragile"
    assert isinstance(info.value.__cause__, KeyError)


def test_detector_bad_output_is_reported():
    with pytest.raises(DetectorError, match="'tuples'.*not a Span"):
        run_detectors("text", [Detector("tuples", lambda t, c: [(0, 1, "x")])], None, ["tuples"])
    with pytest.raises(DetectorError, match="'long'.*outside"):
        run_detectors("text", [Detector("long", lambda t, c: [Span(0, 99, "x")])], None, ["long"])


def test_detector_error_is_a_fieldkit_error():
    from fieldkit.core.errors import FieldkitError, PluginError

    assert issubclass(DetectorError, PluginError) and issubclass(DetectorError, FieldkitError)


def test_context_reaches_detectors():
    seen = []

    def detect(text, context):
        seen.append(context)
        return []

    ctx = DetectContext(settings={"k": 1})
    run_detectors("t", [Detector("d", detect)], ctx, ["d"])
    assert seen == [ctx]
    run_detectors("t", [Detector("d", detect)], None, ["d"])
    assert seen[-1] == DetectContext()


def test_anonymise_text_end_to_end():
    text = "P03 said Sam was at HMP Blackmoor, DOB 12/03/1987."
    dets = [
        Detector("names", lambda t, c: [Span(9, 12, "name", hint="P03")]),
        Detector("places", _finder("HMP Blackmoor", "prison", "quasi")),
        Detector("dob", _finder("12/03/1987", "dob", "quasi")),
    ]
    result = anonymise_text(text, dets, DetectContext(), order=["names", "places", "dob"],
                            styles={"name": "pseudonym", "dob": "generalise"})
    assert result.text == "P03 said [P03] was at [PRISON], DOB [March 1987]."
    assert [e.detector for e in result.log] == ["names", "places", "dob"]
    with pytest.raises(ValueError, match="style"):
        anonymise_text(text, dets, order=["names"], styles={"name": "scramble"})


# --------------------------------------------------------------------------- review mode


def _texts(text, spans):
    return [text[s.start:s.end] for s in spans]


def test_review_flags_uncovered_names_and_numbers():
    text = "Met the SPO with Sam Garside in Room 2145. Later Garside left.\nThe EbE spoke."
    found = review_candidates(text, [])
    # "Met" starts a sentence and appears nowhere else; "Later" and "The" are everyday words;
    # "SPO" is all capitals; "EbE" has lower-case letters so it is flagged
    assert _texts(text, found) == ["Sam Garside", "Room", "2145", "Garside", "EbE"]
    assert all(s.kind == "review" and s.directness == "quasi" and s.detector == "review" for s in found)


def test_review_sentence_start_rules():
    text = "Yesterday was long. Garside arrived late. The team met Garside again. Dana Holt said hi."
    got = _texts(text, review_candidates(text, []))
    assert "Yesterday" not in got and "The" not in got
    assert got.count("Garside") == 2  # also mid-sentence, so the sentence-start one counts
    assert "Dana Holt" in got  # two capitalised words at a sentence start


def test_review_skips_covered_and_ignores_months():
    text = "On Monday I saw Sam Garside at HMP Blackmoor, ref 123 and 45."
    covered = [Span(16, 27, "name"), Span(31, 44, "prison", "quasi")]
    got = _texts(text, review_candidates(text, covered))
    assert got == ["123"]
    assert _texts(text, review_candidates(text, [])) == ["Sam Garside", "Blackmoor", "123"]


def test_review_splits_runs_around_covered_words():
    text = "We met Blackmoor Governor Ashdown there."
    got = _texts(text, review_candidates(text, [Span(7, 16, "prison", "quasi")]))
    assert got == ["Governor Ashdown"]


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=40), key=st.binary(min_size=1, max_size=40))
def test_digests_keep_their_stored_values(text, key):
    # decisions, rules and logs already stored are named by these digests: a faster way of
    # computing them must give exactly the HMAC-SHA256 they were written with
    import hashlib
    import hmac
    import unicodedata

    from fieldkit.privacy.anonymiser import normalise_phrase, span_digest

    assert span_digest(key, text) == hmac.new(key, normalise_phrase(text).encode(), hashlib.sha256).hexdigest()[:24]
    norm = "".join(c for c in unicodedata.normalize("NFKC", text).casefold() if not (c.isspace() or c in "-./()"))
    assert original_digest(text, key) == hmac.new(key, norm.encode(), hashlib.sha256).hexdigest()[:12]
