"""Applying codes to segments and whole records; finding quotes; agreement from a project.

Agreement figures are checked against a published worked example -- Krippendorff, K. (2011),
"Computing Krippendorff's Alpha-Reliability", University of Pennsylvania ScholarlyCommons,
section A (binary data, two observers, no missing data: alpha = 0.095) -- and against an
independent implementation, the ``krippendorff`` package (Castro, pypi.org/project/krippendorff),
fed with the character-by-character table built here by hand.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldkit.fieldwork import capture

from fieldkit.coding import codings as coding
from fieldkit.coding.codebook import add_code, merge_codes, retire_code
from fieldkit.core.errors import FieldkitError, NotFound, Refused
from fieldkit.fieldwork.registers import add_encounter, add_participant


@pytest.fixture
def coded(project):
    add_code(project, "power")
    add_code(project, "asymmetry", parent="power")
    note = capture.note(project, "The LI hands the intro to the EbE; the SPO checks phone. Later the SPO checks phone again.")
    return project, note


def test_apply_by_quote_stores_code_point_offsets(coded):
    project, note = coded
    c = coding.apply_code(project, note.id, "power/asymmetry", quote="hands the intro")
    assert note.body[c.start:c.end] == "hands the intro"
    assert c.coder == "tester" and c.status == "ok"
    assert project.get(c.id).code_id == coding.resolve_code(project, "asymmetry").id


def test_offsets_count_code_points_not_bytes(project):
    add_code(project, "naming")
    note = capture.note(project, "Zoë 🙂 met Siân at the café")
    c = coding.apply_code(project, note.id, "naming", quote="Siân")
    assert (c.start, c.end) == (10, 14)  # Z o ë _ 🙂 _ m e t _
    assert note.body[c.start:c.end] == "Siân"


def test_ambiguous_quote_is_refused_with_the_occurrences(coded):
    project, note = coded
    with pytest.raises(Refused) as err:
        coding.apply_code(project, note.id, "asymmetry", quote="checks phone")
    message = str(err.value)
    assert "occurs 2 times" in message and "--occurrence" in message and "\n" not in message
    assert "1 at 43" in message and "2 at 71" in message
    assert project.count("coding") == 0


def test_occurrence_picks_the_nth_match(coded):
    project, note = coded
    second = coding.apply_code(project, note.id, "asymmetry", quote="checks phone", occurrence=2)
    assert (second.start, second.end) == (71, 83)
    with pytest.raises(NotFound, match="--occurrence must be 1 to 2, not 3"):
        coding.apply_code(project, note.id, "asymmetry", quote="checks phone", occurrence=3)


def test_quote_not_found_is_refused(coded):
    project, note = coded
    with pytest.raises(NotFound, match="quote 'reads a book' not found"):
        coding.apply_code(project, note.id, "power", quote="reads a book")
    with pytest.raises(NotFound, match="different capitals"):
        coding.apply_code(project, note.id, "power", quote="THE EBE")


def test_quote_matches_across_line_breaks(project):
    add_code(project, "power")
    note = capture.note(project, "The SPO checks\nphone while the EbE talks.")
    c = coding.apply_code(project, note.id, "power", quote="checks phone")
    assert note.body[c.start:c.end] == "checks\nphone"


def test_offsets_and_whole_record(coded):
    project, note = coded
    c = coding.apply_code(project, note.id, "power", start=4, end=6)
    assert note.body[4:6] == "LI" and (c.start, c.end) == (4, 6)
    whole = coding.apply_code(project, note.id, "power", whole=True)
    assert whole.whole_record and whole.start is None
    for bad in [(5, 5), (-1, 3), (0, 10_000), (8, 3)]:
        with pytest.raises(FieldkitError, match="do not fit"):
            coding.apply_code(project, note.id, "power", start=bad[0], end=bad[1])


def test_must_say_exactly_one_place(coded):
    project, note = coded
    with pytest.raises(FieldkitError, match="say what to code"):
        coding.apply_code(project, note.id, "power")
    with pytest.raises(FieldkitError, match="say what to code"):
        coding.apply_code(project, note.id, "power", quote="LI", whole=True)
    with pytest.raises(FieldkitError, match="give both"):
        coding.apply_code(project, note.id, "power", start=3)


def test_memos_and_encounters_can_be_coded(project):
    add_code(project, "power")
    memo = capture.memo(project, "Power shifts when the EbE leads the interview.", kind="analytic")
    c = coding.apply_code(project, memo.id, "power", quote="EbE leads")
    assert memo.body[c.start:c.end] == "EbE leads"
    add_participant(project, "P03", role="expert_by_experience")
    enc = add_encounter(project, "interview", participants=["P03"])
    whole = coding.apply_code(project, "E1", "power", whole=True)
    assert whole.record_id == enc.id
    with pytest.raises(Refused, match="code it as a whole"):
        coding.apply_code(project, "E1", "power", quote="anything")


def test_unknown_code_record_and_uncodable_types(coded):
    project, note = coded
    with pytest.raises(NotFound, match="no code 'nonsense'"):
        coding.apply_code(project, note.id, "nonsense", whole=True)
    with pytest.raises(NotFound):
        coding.apply_code(project, "NOSUCHRECORD", "power", whole=True)
    add_participant(project, "P09")
    with pytest.raises(Refused, match="cannot code a participant"):
        coding.apply_code(project, "P09", "power", whole=True)
    assert project.count("coding") == 0


def test_merged_and_retired_codes_cannot_be_applied(coded):
    project, note = coded
    add_code(project, "control")
    merge_codes(project, "control", "power")
    with pytest.raises(Refused, match="merged into 'power'"):
        coding.apply_code(project, note.id, "control", whole=True)
    retire_code(project, "asymmetry")
    with pytest.raises(Refused, match="retired"):
        coding.apply_code(project, note.id, "asymmetry", whole=True)


def test_duplicate_coding_refused_but_another_coder_may(coded):
    project, note = coded
    coding.apply_code(project, note.id, "power", quote="LI")
    with pytest.raises(Refused, match="already coded"):
        coding.apply_code(project, note.id, "power", quote="LI")
    other = coding.apply_code(project, note.id, "power", quote="LI", coder="bob")
    assert other.coder == "bob"


def test_auto_coder_names_are_reserved(coded):
    project, note = coded
    with pytest.raises(Refused, match="auto-coders"):
        coding.apply_code(project, note.id, "power", quote="LI", coder="auto:keywords")
    with pytest.raises(FieldkitError, match="comma"):
        coding.apply_code(project, note.id, "power", quote="LI", coder="a,b")


def test_remove_is_a_tombstone(coded):
    project, note = coded
    c = coding.apply_code(project, note.id, "power", quote="LI")
    coding.remove_coding(project, c.id[-8:], reason="mistake")
    assert coding.list_codings(project) == []
    row = project.db.execute("select deleted_at from codings where id = ?", [c.id]).fetchone()
    assert row[0] is not None


def test_list_filters_and_descendants(coded):
    project, note = coded
    a = coding.apply_code(project, note.id, "power", quote="LI")
    b = coding.apply_code(project, note.id, "asymmetry", quote="EbE", coder="bob")
    assert [c.id for c in coding.list_codings(project, code="power")] == [a.id]
    assert {c.id for c in coding.list_codings(project, code="power", descendants=True)} == {a.id, b.id}
    assert [c.id for c in coding.list_codings(project, coder="bob")] == [b.id]
    rows = coding.coding_rows(project, coding.list_codings(project), context=5)
    assert {r["text"] for r in rows} == {"LI", "EbE"}
    assert {r["code"] for r in rows} == {"power", "power/asymmetry"}


def test_resolve_review_refuses_empty_span_without_new_place(project):
    add_code(project, "theme")
    note = capture.note(project, "Keep this. Remove THIS PART entirely.")
    c = coding.apply_code(project, note.id, "theme", quote="THIS PART")
    capture.edit(project, note.id, "Keep this. Remove entirely.")
    flagged = project.get(c.id)
    assert flagged.status == "review"
    if flagged.start == flagged.end:
        with pytest.raises(Refused, match="text is gone"):
            coding.resolve_review(project, c.id)
    fixed = coding.resolve_review(project, c.id, whole=True)
    assert fixed.status == "ok" and fixed.whole_record


# finding quotes (property) ------------------------------------------------------------------
@settings(max_examples=200)
@given(text=st.text(alphabet="ab \n", min_size=1, max_size=40), quote=st.text(alphabet="ab ", min_size=1, max_size=5))
def test_find_quote_finds_exactly_the_matching_places(text, quote):
    import re

    if not quote.split():
        with pytest.raises(FieldkitError):
            coding.find_quote(text, quote)
        return
    found = coding.find_quote(text, quote)
    words = quote.split()
    for s, e in found:
        assert text[s:e].split() == words
        assert not text[s].isspace() and not text[e - 1].isspace()
    starts = [s for s, _ in found]
    assert starts == sorted(set(starts))
    # every position where the words start, separated by whitespace, is found
    expected = [m.start(1) for m in re.finditer("(?=(" + r"\s+".join(map(re.escape, words)) + "))", text)]
    assert starts == expected
    if " ".join(words) in text:
        assert text.index(" ".join(words)) in starts


# keyword rules stored on codes (property) ------------------------------------------------------
WORD = st.text(alphabet="abcdefgh", min_size=1, max_size=6)
RULES = st.one_of(
    st.builds(lambda w, star: {"word": w + ("*" if star else "")}, WORD, st.booleans()),
    st.builds(lambda ws: {"phrase": " ".join(ws)}, st.lists(WORD, min_size=1, max_size=3)),
    st.builds(lambda ws, n: {"near": list(ws), "within": n},
              st.lists(WORD, min_size=2, max_size=3, unique_by=str.casefold), st.integers(1, 9)),
    st.builds(lambda w: {"regex": r"\b" + w + r"\w*"}, WORD),
)


@settings(max_examples=150)
@given(data=RULES, case=st.booleans())
def test_rule_dicts_round_trip(data, case):
    if case:
        data = {**data, "case_sensitive": True}
    rule = coding.rule_from_dict(data)
    assert coding.rule_to_dict(rule) == data
    assert coding.rule_from_dict(coding.rule_to_dict(rule)) == rule


def test_bad_rule_dict_is_one_line_error():
    with pytest.raises(FieldkitError, match="exactly one of"):
        coding.rule_from_dict({"word": "a", "phrase": "b c"})
    with pytest.raises(FieldkitError, match="bad keyword rule"):
        coding.rule_from_dict({"regex": "(unclosed"})


# agreement from a project --------------------------------------------------------------------
def _two_coder_note(project, a_chars, b_chars, length=10, code="theme"):
    """A note of ``length`` characters; coder a codes ``a_chars``, coder b ``b_chars`` (one char each)."""
    try:
        add_code(project, code)
    except Refused:
        pass
    note = capture.note(project, "x" * length)
    for coder, chars in (("a", a_chars), ("b", b_chars)):
        for i in chars:
            coding.apply_code(project, note.id, code, start=i, end=i + 1, coder=coder)
    return note


def test_agreement_reproduces_krippendorff_2011_binary_example(project):
    # Section A: observer A = 0 1 0 0 0 0 0 0 1 0, observer B = 1 1 1 0 0 1 0 0 0 0; alpha = 0.095
    _two_coder_note(project, [1, 8], [0, 1, 2, 5])
    result = coding.agreement(project, ["a", "b"])
    theme, overall = result.rows
    assert theme["code"] == "theme" and theme["units"] == 10
    assert round(theme["krippendorff_alpha"], 3) == 0.095
    assert theme["percent"] == pytest.approx(0.6)
    # Cohen's kappa by hand: p_o = 0.6; p_e = 0.2*0.4 + 0.8*0.6 = 0.56
    assert theme["cohen_kappa"] == pytest.approx((0.6 - 0.56) / (1 - 0.56))
    assert overall["code"] == "(overall)"


def test_agreement_matches_the_krippendorff_package(project):
    krippendorff = pytest.importorskip("krippendorff")
    import numpy as np

    add_code(project, "one")
    add_code(project, "two")
    text = "The lead inspector asked the EbE to open the meeting, and the staff listened."
    note = capture.note(project, text)
    spans = {"a": [("one", 4, 18), ("two", 29, 52), ("one", 60, 77)],
             "b": [("one", 0, 18), ("two", 33, 52)],
             "c": [("one", 4, 12), ("two", 29, 40), ("two", 45, 60)]}
    for coder, items in spans.items():
        for code, s, e in items:
            coding.apply_code(project, note.id, code, start=s, end=e, coder=coder)
    result = coding.agreement(project, ["a", "b", "c"])
    # independent: one row per coder, one column per (code, character)
    table = np.zeros((3, 2 * len(text)))
    for r, coder in enumerate("abc"):
        for code, s, e in spans[coder]:
            offset = 0 if code == "one" else len(text)
            table[r, offset + s:offset + e] = 1
    expected = krippendorff.alpha(reliability_data=table, level_of_measurement="nominal")
    overall = result.rows[-1]
    assert overall["units"] == 2 * len(text)
    assert overall["krippendorff_alpha"] == pytest.approx(expected, abs=1e-9)
    per_code = {r["code"]: r for r in result.rows}
    expected_one = krippendorff.alpha(reliability_data=table[:, :len(text)], level_of_measurement="nominal")
    assert per_code["one"]["krippendorff_alpha"] == pytest.approx(expected_one, abs=1e-9)
    assert per_code["one"]["cohen_kappa"] is None  # three coders


def test_agreement_lists_disagreements_with_text(project):
    note = _two_coder_note(project, [1, 8], [0, 1, 2, 5])
    result = coding.agreement(project, ["a", "b"])
    spans = [(d["start"], d["end"]) for d in result.disagreements]
    assert spans == [(0, 1), (2, 3), (5, 6), (8, 9)]
    assert all(d["text"] == "x" and d["record_id"] == note.id for d in result.disagreements)
    seg = coding.agreement(project, ["a", "b"], unit="segment", overlap=0.5)
    assert seg.rows[0]["units"] == 5  # char 1 matched; 8, 0, 2, 5 unmatched


def test_records_only_one_coder_touched_are_a_note(project):
    _two_coder_note(project, [1, 2], [1, 2])
    lonely = _two_coder_note(project, [3], [])
    result = coding.agreement(project, ["a", "b"])
    assert any("coded by only one coder" in n and lonely.id in n for n in result.notes)
    # as missing data (the default) the lonely record does not count against agreement
    assert result.rows[0]["percent"] == pytest.approx(1.0)
    absent = coding.agreement(project, ["a", "b"], untouched="absent")
    assert absent.rows[0]["percent"] < 1.0


def test_agreement_restricted_to_records_and_codes(project):
    first = _two_coder_note(project, [1, 2], [1, 2])
    _two_coder_note(project, [3], [4])
    _two_coder_note(project, [3], [3], code="other")
    only_first = coding.agreement(project, ["a", "b"], records=[first.id])
    assert only_first.rows[0]["percent"] == pytest.approx(1.0)
    only_theme = coding.agreement(project, ["a", "b"], codes=["theme"])
    assert [r["code"] for r in only_theme.rows] == ["theme", "(overall)"]


def test_agreement_bad_input(project):
    _two_coder_note(project, [1], [1])
    with pytest.raises(FieldkitError, match="at least two coders"):
        coding.agreement(project, ["a"])
    with pytest.raises(NotFound, match="carol have no codings"):
        coding.agreement(project, ["a", "carol"])
    with pytest.raises(FieldkitError, match="overlap"):
        coding.agreement(project, ["a", "b"], unit="segment", overlap=1.5)
    with pytest.raises(FieldkitError, match="unit must be"):
        coding.agreement(project, ["a", "b"], unit="word")
    with pytest.raises(FieldkitError, match="only once"):
        coding.agreement(project, ["a", "a"])


def test_codings_needing_review_are_left_out_of_agreement(project):
    add_code(project, "theme")
    note = capture.note(project, "alpha beta gamma delta")
    coding.apply_code(project, note.id, "theme", quote="beta", coder="a")
    coding.apply_code(project, note.id, "theme", quote="beta", coder="b")
    coding.apply_code(project, note.id, "theme", quote="delta", coder="b")
    capture.edit(project, note.id, "alpha beta gamma")
    result = coding.agreement(project, ["a", "b"])
    assert any("needing review" in n for n in result.notes)
    assert result.rows[0]["percent"] == pytest.approx(1.0)


def test_whole_record_codings_cover_the_body_and_encounters_are_one_unit(project):
    add_code(project, "theme")
    note = capture.note(project, "twelve chars")
    coding.apply_code(project, note.id, "theme", whole=True, coder="a")
    coding.apply_code(project, note.id, "theme", start=0, end=12, coder="b")
    add_encounter(project, "interview")
    coding.apply_code(project, "E1", "theme", whole=True, coder="a")
    coding.apply_code(project, "E1", "theme", whole=True, coder="b")
    result = coding.agreement(project, ["a", "b"])
    assert result.rows[0]["units"] == 13 and result.rows[0]["percent"] == 1.0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=st.sets(st.integers(0, 11)), b=st.sets(st.integers(0, 11)))
def test_character_agreement_equals_a_hand_built_table(tmp_path_factory, a, b):
    """Percent agreement and kappa from the project equal the statistics of the plain table."""
    import fieldkit

    if not a or not b:
        return
    project = fieldkit.init(tmp_path_factory.mktemp("agree") / "p")
    try:
        _two_coder_note(project, sorted(a), sorted(b), length=12)
        row = coding.agreement(project, ["a", "b"]).rows[0]
        pairs = [(int(i in a), int(i in b)) for i in range(12)]
        p_o = sum(x == y for x, y in pairs) / 12
        assert row["percent"] == pytest.approx(p_o)
        pa, pb = len(a) / 12, len(b) / 12
        p_e = pa * pb + (1 - pa) * (1 - pb)
        if p_e < 1:
            assert row["cohen_kappa"] == pytest.approx((p_o - p_e) / (1 - p_e))
    finally:
        project.close()
