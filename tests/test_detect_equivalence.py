"""Faster detection code against the code it replaced (kept here as the oracle).

Each test runs the old algorithm and the new one on generated text and asserts identical
results, so a speed-up can never change what is anonymised. Names are invented.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldkit.privacy import unregistered as unreg
from fieldkit.privacy.spans import Span

# words that exercise the lexicon: strong first names, surnames, dictionary words, invented ones
_WORDS = ["darren", "siobhan", "smith", "okafor", "quennell", "tobiah", "grace", "will", "the", "road",
          "caspian", "quenby", "probation", "zyx", "dana", "dee", "smithé", "darrens", "ab"]
_GLUE = [" ", "  ", "\t", "\u00a0", ", ", ". ", "\n", "_", "2", "é", "-", "'s ", ""]

_text = st.lists(st.tuples(st.sampled_from(_WORDS), st.sampled_from(_GLUE),
                           st.sampled_from(["lower", "upper", "title"])), max_size=14).map(
    lambda parts: "".join(getattr(w, case)() + glue for w, glue, case in parts))


def _old_lower_case_names(text, lex, parts, spans):
    """The version that compiled one alternation of the hits per text (with the namesake
    rules added since: a hyphenated name is taken whole, and a word of several full names
    gets the neutral hint)."""
    present = set(unreg._LOWER.findall(text))
    hits = present & lex.strong_first
    hits |= {p for p in parts.among(present) if p not in lex.words}
    if not hits:
        return []
    found = []
    covered = unreg._coverage(spans, len(text))
    pattern = re.compile(r"(?<![^\W_])(" + "|".join(sorted(map(re.escape, hits), key=len, reverse=True))
                         + r")(?:[ \t\u00a0]+([a-z]+))?(?![^\W_])")
    for m in pattern.finditer(text):
        start, end = m.start(1), m.end(1)
        second = m.group(2)
        if second and (second in lex.strong_surnames or (second in parts and second not in lex.words)):
            end = m.end(2)
        if text[start - 1:start] == "-" and start > 1:
            left = re.search(r"(?<![^\W_])[a-z]+(?:-[a-z]+)*-\Z", text[:start])
            start = left.start() if left else start
        right = re.match(r"-[a-z]+(?:-[a-z]+)*(?![^\W_])", text[end:])
        end = end + right.end() if right else end
        if covered[start] or covered[end - 1]:
            continue
        key = unreg.name_key(text[start:end])
        keys = ((parts.get(key) or set()) | parts.bearers.get(key, set())) - {key}
        if " " in key or not keys:
            found.append(Span(start, end, unreg.KIND, "direct", "", unreg.DETECTOR, key))
        elif len(keys) == 1:
            found.append(Span(start, end, unreg.KIND, "direct", "", unreg.DETECTOR, next(iter(keys))))
        else:
            found.append(Span(start, end, "name", "direct", unreg.AMBIGUOUS_HINT, unreg.NAMESAKE, key))
    return found


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_text, local=st.sets(st.sampled_from(_WORDS), max_size=5),
       known=st.sets(st.sampled_from(_WORDS), max_size=5), cover=st.lists(st.integers(0, 60), max_size=4),
       bearers=st.sets(st.sampled_from(_WORDS), max_size=3))
def test_lower_case_names_match_the_per_text_alternation(text, local, known, cover, bearers):
    lex = unreg.lexicon()
    parts = unreg._Parts({w: {w + " quenby"} for w in local}, {w: {"tobiah " + w, w} for w in known},
                         {w: {"caspian " + w} for w in bearers})
    spans = [Span(min(c, len(text)), min(c + 3, len(text)), "person") for c in cover]
    assert unreg._lower_case_names(text, lex, parts, spans) == _old_lower_case_names(text, lex, parts, spans)


# --------------------------------------------------------------------------- identifier regexes

_L, _R = r"(?<![^\W_])", r"(?![^\W_])"
#: the patterns as they were, each matching from the identifier's first character
_OLD_PATTERNS = {
    "prison_number": rf"{_L}[A-Z]\d{{4}}[A-Z]{{2}}{_R}",
    "crn": rf"{_L}[A-Z]\d{{6}}{_R}",
    "court_case": rf"{_L}[TSAU](?:199\d|20\d\d)[ \u00a0/]?\d{{4}}{_R}",
    "age_years": r"(?<![\w.])(?P<n>\d{1,3})(?:[ \u00a0\-]*(?:years?|yrs?)[ \u00a0\-]*old|[ \u00a0]?y/?o)(?![^\W_])",
    "vehicle": rf"{_L}[A-HK-PR-SVWY][A-HJ-PR-Y](?:0[2-9]|[12]\d|5[1-9]|[67]\d)[ \u00a0]?[A-HJ-PR-Z]{{3}}{_R}",
}
_ID_TEXT = st.text(alphabet="TSAUtxBCd0129 \u00a0/-_.\né", max_size=40) | st.lists(
    st.sampled_from(["T2023", "T1999", "S2001", "x", "A123456", "B1234CD", " ", "/", "7001", "34", "-year-old",
                     "yo", " years old", ".", "_", "é", "\n", "12", "KX25 WAY", "kx", "ab", "Bd51 SMR", "BD51SMR", "07",
                     "66", "50"]), max_size=10).map("".join)


@settings(max_examples=600, deadline=None)
@given(text=_ID_TEXT)
def test_identifier_regexes_that_skip_to_digits_find_what_the_old_ones_found(text):
    from fieldkit.privacy import uk_identifiers as uk

    for name, old in _OLD_PATTERNS.items():
        expected = [(m.start(), m.end(), m.groupdict()) for m in re.compile(old, uk._FLAGS).finditer(text)]
        lead = uk._LEAD.get(name, 0)
        got = [(m.start() - lead, m.end(), m.groupdict()) for m in uk._re(name).finditer(text)]
        assert got == expected, name
    spans = [(s.start, s.end) for s in uk.detect_crn(text)] + [(s.start, s.end) for s in uk.detect_court_case(text)]
    spans += [(s.start, s.end) for s in uk.detect_prison_number(text)]
    old = [(m.start(), m.end()) for name in ("crn", "court_case", "prison_number")
           for m in re.compile(_OLD_PATTERNS[name], uk._FLAGS).finditer(text)]
    assert spans == old
    plates = [(m.start(), m.end()) for m in re.compile(_OLD_PATTERNS["vehicle"], uk._FLAGS).finditer(text)
              if m.group().upper() == m.group() or m.group().lower() == m.group()]
    plates += [m.span() for m in re.finditer(_OLD_VEHICLE_OLD, text)]
    assert [(s.start, s.end) for s in uk.detect_vehicle(text)] == plates


# --------------------------------------------------------------------------- word regexes

_OLD_CAP = r"(?<![^\W_])(?:[A-Z\u00C0-\u00D6\u00D8-\u00DE\u0100-\u024F])[^\W\d_]*(?:['\u2019\-][^\W\d_]+)*"
_OLD_LOWER = r"(?<![^\W_])[a-z]{3,}(?![^\W_])"
_WORD_TEXT = st.text(alphabet="aAbBzZéÉĀāŁłß\u0301 \n\t'\u2019-_.9", max_size=40)


@settings(max_examples=800, deadline=None)
@given(text=_WORD_TEXT, pos=st.integers(0, 41))
def test_word_regexes_that_start_with_a_letter_match_as_before(text, pos):
    for old, new in ((_OLD_CAP, unreg._CAP), (_OLD_LOWER, unreg._LOWER)):
        assert [m.span() for m in new.finditer(text)] == [m.span() for m in re.finditer(old, text)]
        got, expected = new.match(text, pos), re.compile(old).match(text, pos)
        assert (got and got.span()) == (expected and expected.span())


# --------------------------------------------------------------------------- look-back after the first letter

_OLD_VEHICLE_OLD = (r"(?<![^\W_])(?:[A-HJ-NP-Y]\d{1,3}[ \u00a0]?[A-HJ-PR-Y]{3}"
                    r"|[A-HJ-PR-Y]{3}[ \u00a0]?\d{1,3}[ \u00a0]?[A-HJ-NP-Y])(?![^\W_])")
_OLD_STREET_WORD = r"(?<![^\W_])(?:Road|Street|Lane|Avenue|Crescent|Terrace|Gardens|Grove|Mews|Drive|Close)(?![^\W_])"
_OLD_HMP = (r"(?<![^\W_])(?:HMP(?:[ \u00a0]*/[ \u00a0]*YOI)?|HMYOI|HM[ \u00a0]+(?:Prison|YOI|Young[ \u00a0]+Offender"
            r"[ \u00a0]+Institution))[ \u00a0]+([A-Z][\w'\u2019]*(?:-[A-Z][\w'\u2019]*)*(?:[ \u00a0]+[A-Z][\w'\u2019]*"
            r"(?:-[A-Z][\w'\u2019]*)*){0,2})(?![^\W_])")
_CAPS_TEXT = st.lists(st.sampled_from(
    ["A", "B1", "IQ", "N", "P", "R", "Z", "ABC", "123", "4", "D", "HM", "HMP", "YOI", "/", "Prison", " ", "\u00a0", "x",
     "Road", "Close", "Mews", "Grove", "Young Offender Institution", "Kestlewick", "é", "_", "\n", "-", "9Road"]),
    max_size=12).map("".join)


@settings(max_examples=800, deadline=None)
@given(text=_CAPS_TEXT)
def test_patterns_that_look_back_after_their_first_letter_match_as_before(text):
    from fieldkit.privacy import places
    from fieldkit.privacy import uk_identifiers as uk

    pairs = ((_OLD_VEHICLE_OLD, uk._re("vehicle_old")), (_OLD_STREET_WORD, uk._re("street_word")),
             (_OLD_HMP, places._institution_res()[2]))
    for old, new in pairs:
        assert [(m.span(), m.groups()) for m in new.finditer(text)] == \
            [(m.span(), m.groups()) for m in re.finditer(old, text)], old


_OLD_PHONE = (r"(?<![^\W_])(?<!\+)"
              r"(?:\+[ \u00a0]?44[ \u00a0]?(?:\(0\)[ \u00a0]?)?|0044[ \u00a0]?(?:\(0\)[ \u00a0]?)?|\(0(?=\d)|0)"
              r"[1-35789](?:(?:[ \u00a0\-.]|\)[ \u00a0]?)?\d){8,9}"
              r"(?![^\W_])")
_OLD_CRO_SF = r"(?<![^\W_])SF[ \u00a0]?(?P<year>\d{2})/(?P<serial>\d{1,6})(?P<check>[A-Z])(?![^\W_])"
_DIALLED = st.lists(st.sampled_from(
    ["+", "44", "0044", "0", "(0)", "(", ")", "07700", "900", "123", "1", "7", " ", "-", ".", "x", "é", "_", "\n",
     "SF", "sf", "s", "F", "89", "/", "123456", "X", "9", "07700900123", "+44 7700 900123", "(01632) 960001",
     "SF89/123456X", "sf 01/12Y"]), max_size=14).map("".join)


@settings(max_examples=1500, deadline=None)
@given(text=_DIALLED)
def test_phone_and_cro_sf_patterns_match_as_before(text):
    from fieldkit.privacy import uk_identifiers as uk

    for old, new in ((_OLD_PHONE, uk._re("phone")), (_OLD_CRO_SF, uk._re("cro_sf"))):
        assert [(m.span(), m.groupdict()) for m in new.finditer(text)] == \
            [(m.span(), m.groupdict()) for m in re.finditer(old, text, uk._FLAGS)], old


_OLD_DOB_BEFORE = (r"(?<![^\W_])(?:d\.?[ \u00a0]?o\.?[ \u00a0]?b\.?|date[ \u00a0]+of[ \u00a0]+birth|birth[ \u00a0]?date"
                   r"|birthday|born|aged)(?![^\W_])")
_STREETS = ("Road|Rd|Street|St|Lane|Ln|Avenue|Ave|Close|Drive|Dr|Way|Court|Ct|Crescent|Cres|Place|Pl|Grove|Gardens|"
            "Gdns|Terrace|Walk|Row|Square|Sq|Hill|Park|Mews|Rise|View|Green|Side|Parade|Vale|Wharf|Quay|Gate|Yard|"
            "Fold|Croft|Chase|Meadow|Meadows|Bank|End|Boulevard|Approach|Circus|Embankment|Passage|Hollow|Heights|"
            "Broadway|Villas")
_OLD_ADDRESS = (r"\d{1,4}[A-Za-z]?(?:[\-\u2013]\d{1,4}[A-Za-z]?)?,?[ \u00a0]+"
                r"(?:[A-Z][a-z'\u2019]+(?:-[A-Z]?[a-z'\u2019]+)*[ \u00a0]+){1,3}(?:" + _STREETS + r")(?![^\W_])"
                r"|\d{1,4}[a-z]?[ \u00a0]+(?:[a-z]+[ \u00a0]+){1,2}(?:road|street|lane|avenue|crescent|terrace|gardens)"
                r"(?![^\W_])")
_DOB_TEXT = st.lists(st.sampled_from(
    ["DOB", "d.o.b.", "D.O.B", "d o b", "date of birth", "Date  of Birth", "birth date", "Birthday", "born", "BORN",
     "aged", "Aged", "age", "x", "1", " ", ".", "\u00a0", "é", "_", "\n", "12", "24a", "3-5", ",", "Tennyson", "Road",
     "canal", "side", "road", "Flat", "St", "Ave", "Mill Lane", "b", "a", "d", "1234", "1234 Tennyson Road",
     "12345 canal road", "9999b Mill Lane", "7-1234C, Old Tennyson Side"]), max_size=12).map("".join)


@settings(max_examples=1000, deadline=None)
@given(text=_DOB_TEXT)
def test_dob_context_and_address_patterns_match_as_before(text):
    from fieldkit.privacy import uk_identifiers as uk

    old_dob = re.compile(_OLD_DOB_BEFORE, uk._FLAGS)
    assert [m.span() for m in uk._re("dob_before").finditer(text)] == [m.span() for m in old_dob.finditer(text)]
    assert [m.span() for m in uk._re("address").finditer(text)] == [m.span() for m in re.finditer(_OLD_ADDRESS, text)]
    for end in range(len(text) + 1):  # as _context_before uses it: the last match before a point
        assert [m.span() for m in uk._re("dob_before").finditer(text, max(0, end - 70), end)] == \
            [m.span() for m in old_dob.finditer(text, max(0, end - 70), end)]


_OLD_AGE_WORD = r"\b(?:aged|age|turned|turns)[ \u00a0:]+(?P<n>\d{1,3})(?![\d.,:/]\d|[^\W_])"
_OLD_AGE_IS = (r"\b(?:I['\u2019]m|I[ \u00a0]+am|(?:s?he|they|who)(?:['\u2019][sr]e?|[ \u00a0]+(?:is|are|was))|is|was)"
               r"[ \u00a0]+(?P<n>[1-9]\d)(?=[ \u00a0]*(?:now|years|yrs|and|but|[,.;)]|$))")
_AGE_WORDS = ["aged", "Age", "AGE", "turned", "turns", "I'm", "i\u2019m", "I am", "she", "He's", "they're", "THEY",
              "who", "is", "Was", "are", "she is", "he was", "who are", "s", "h", "w", "t", "i"]
_AGE_GLUE = ["", "x", "_", "9", " ", "\u00a0", ":", "\n", "é", ".", "("]
# a context word with something before it, a gap, a number and what follows, repeated
_AGE_TEXT = st.lists(st.tuples(st.sampled_from(_AGE_GLUE), st.sampled_from(_AGE_WORDS), st.sampled_from(_AGE_GLUE),
                               st.sampled_from(["34", "7", "120", "05", "", " 41"]),
                               st.sampled_from(["", " now", " and", ",", ".", "1", "x", " years"])),
                     max_size=4).map(lambda parts: "".join("".join(p) for p in parts))


@settings(max_examples=1500, deadline=None)
@given(text=_AGE_TEXT)
def test_age_word_patterns_match_as_before(text):
    from fieldkit.privacy import uk_identifiers as uk

    for name, old in (("age_word", _OLD_AGE_WORD), ("age_is", _OLD_AGE_IS)):
        assert [(m.span(), m.span("n")) for m in uk._re(name).finditer(text)] == \
            [(m.span(), m.span("n")) for m in re.finditer(old, text, uk._FLAGS)], name


# --------------------------------------------------------------------------- institution words

_OLD_AFTER = (
    r"(?i:magistrates['\u2019]?(?:[ \u00a0]+courts?)?|(?:crown|county|youth|family|combined|coroner['\u2019]s)"
    r"[ \u00a0]+courts?)",
    r"PDU|(?i:probation[ \u00a0]+delivery[ \u00a0]+unit)",
    r"(?i:probation[ \u00a0]+(?:office|centre|center|hub))",
    r"(?i:approved[ \u00a0]+premises|bail[ \u00a0]+hostel)|AP",
    r"(?i:prison|young[ \u00a0]+offender[ \u00a0]+institution)|YOI",
    r"(?i:police[ \u00a0]+station)",
)
_OLD_AFTER_RE = re.compile(r"(?<![^\W_])(?:" + "|".join(f"(?P<k{i}>{p})" for i, p in enumerate(_OLD_AFTER))
                           + r")(?![^\W_])")
_INSTITUTION_TEXT = st.lists(st.sampled_from(
    ["Magistrates", "magistrates'", "MAGISTRATES\u2019", " Court", " courts", "Crown", "county", "Youth", "FAMILY",
     "Combined", "Coroner's", " ", "\u00a0", "PDU", "pdu", "Probation", " Delivery Unit", " office", " Centre", " hub",
     "Approved", " Premises", "bail", " hostel", "AP", "ap", "Prison", "Young", " Offender", " Institution", "YOI",
     "yoi", "Police", " station", "x", "9", "_", "é", "\n", ".", "Kestlewick", "\u212a", "Ma", "P", "A", "Y"]),
    max_size=10).map("".join)


@settings(max_examples=1500, deadline=None)
@given(text=_INSTITUTION_TEXT)
def test_institution_words_match_as_before(text):
    from fieldkit.privacy import places

    after = places._institution_res()[0]
    assert [(m.span(), m.lastgroup) for m in after.finditer(text)] == \
        [(m.span(), m.lastgroup) for m in _OLD_AFTER_RE.finditer(text)]


def test_the_first_letter_class_holds_every_case_insensitive_match_of_the_first_letters():
    from fieldkit.privacy import places

    pattern = places._institution_res()[0].pattern
    first = re.compile(pattern[:pattern.index("]") + 1])
    letters = {c for p, _ in places._AFTER for c in re.findall(r"\(\?<=(\w)\)", p)}
    for code in range(0x30000):
        ch = chr(code)
        if any(re.fullmatch(f"(?i:{c})", ch) for c in letters):
            assert first.fullmatch(ch), (hex(code), letters)
