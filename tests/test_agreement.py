"""Tests for fieldkit.coding.agreement.

Published worked examples used here (figures as printed in the sources):

* Krippendorff, K. (2011). "Computing Krippendorff's Alpha-Reliability". Annenberg School
  for Communication, University of Pennsylvania (Departmental Papers, ASC).
  - Binary data, two observers, ten units, no missing values: alpha = 0.095.
  - Nominal data, four observers, twelve units, missing values: alpha = 0.743
    (the same table also gives ordinal 0.815, interval 0.849 and ratio 0.797).
* Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters each, 5 categories;
  P_bar = 0.378, P_e = 0.213, kappa = 0.210. (Wikipedia's own illustration, not the
  data of Fleiss 1971.)
* Wikipedia, "Cohen's kappa", worked examples: 50 grant proposals read by two readers
  (20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no) -> kappa = 0.4; and the two 100-item tables
  with the same 60 % agreement (45/15/25/15 -> 0.1304, 25/35/5/35 -> 0.2593).

Independent implementation: the ``krippendorff`` PyPI package (test dependency only).
All people in these tests are fictional.
"""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fieldkit.coding.agreement import (
    OVERALL,
    agreement_from_pattern_counts,
    agreement_report,
    character_units,
    cohen_kappa,
    disagreements,
    fleiss_kappa,
    krippendorff_alpha,
    pattern_counts,
    percent_agreement,
    segment_units,
    single_coder_records,
)

np = pytest.importorskip("numpy")
krippendorff = pytest.importorskip("krippendorff")


def units_from_rows(*rows):
    """Observers-by-units rows (as printed in the papers) -> units-by-coders table."""
    return [tuple(unit) for unit in zip(*rows)]


def nan_equal(a, b, tol=1e-9):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= tol


# ---------------------------------------------------------------------------
# Published worked examples
# ---------------------------------------------------------------------------

# Krippendorff (2011), binary data, two observers, no missing data.
K2011_BINARY = units_from_rows(
    [0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
    [1, 1, 1, 0, 0, 1, 0, 0, 0, 0],
)

# Krippendorff (2011), nominal data, four observers (A-D), twelve units, None = missing.
_ = None
K2011_MISSING = units_from_rows(
    [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3],
    [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _],
)

# Wikipedia "Fleiss' kappa": rows are subjects, columns how many of 14 raters chose
# categories 1..5.
FLEISS_WIKIPEDIA = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def test_krippendorff_2011_binary_two_observers():
    assert round(krippendorff_alpha(K2011_BINARY), 3) == 0.095
    # exact value from the paper's coincidences: 1 - 19 * 4 / (14 * 6)
    assert krippendorff_alpha(K2011_BINARY) == pytest.approx(1 - 19 * 4 / (14 * 6), abs=1e-15)


def test_krippendorff_2011_nominal_four_observers_missing_data():
    assert round(krippendorff_alpha(K2011_MISSING), 3) == 0.743


@pytest.mark.parametrize("level, printed", [("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)])
def test_krippendorff_2011_other_levels(level, printed):
    assert round(krippendorff_alpha(K2011_MISSING, level=level), 3) == printed


def test_fleiss_wikipedia_example():
    data = []
    for counts in FLEISS_WIKIPEDIA:
        unit = [category for category, n in enumerate(counts, start=1) for _ in range(n)]
        assert len(unit) == 14
        data.append(unit)
    kappa = fleiss_kappa(data)
    assert round(kappa, 3) == 0.210
    # P_bar and P_e as printed (0.378 and 0.213) reproduce the same kappa
    assert kappa == pytest.approx((0.378 - 0.213) / (1 - 0.213), abs=1e-3)


def test_cohen_wikipedia_proposals():
    counts = {("yes", "yes"): 20, ("yes", "no"): 5, ("no", "yes"): 10, ("no", "no"): 15}
    assert cohen_kappa(counts) == pytest.approx(0.4, abs=1e-12)
    assert percent_agreement(counts) == pytest.approx(0.7, abs=1e-12)


@pytest.mark.parametrize("cells, printed", [((45, 15, 25, 15), 0.1304), ((25, 35, 5, 35), 0.2593)])
def test_cohen_wikipedia_same_agreement_different_kappa(cells, printed):
    yy, yn, ny, nn = cells
    counts = {("y", "y"): yy, ("y", "n"): yn, ("n", "y"): ny, ("n", "n"): nn}
    assert percent_agreement(counts) == pytest.approx(0.6)
    assert round(cohen_kappa(counts), 4) == printed


# ---------------------------------------------------------------------------
# Against the krippendorff package
# ---------------------------------------------------------------------------

def reference_alpha(data, level="nominal"):
    table = [[np.nan if v is None else float(v) for v in column] for column in zip(*data)]
    try:
        return float(krippendorff.alpha(reliability_data=table, level_of_measurement=level))
    except ValueError:
        return math.nan  # the package raises when the data hold a single value


@st.composite
def reliability_tables(draw, max_value=3):
    coders = draw(st.integers(2, 5))
    value = st.one_of(st.none(), st.integers(0, max_value))
    return draw(st.lists(st.tuples(*[value] * coders), min_size=1, max_size=40))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=reliability_tables(), level=st.sampled_from(["nominal", "ordinal", "interval", "ratio"]))
def test_alpha_matches_krippendorff_package(data, level):
    assume(any(sum(v is not None for v in unit) >= 2 for unit in data))
    with np.errstate(all="ignore"):
        expected = reference_alpha(data, level)
    assert nan_equal(krippendorff_alpha(data, level=level), expected)


@settings(max_examples=100, deadline=None)
@given(data=reliability_tables(max_value=6), weights=st.data())
def test_weights_equal_repetition(data, weights):
    w = weights.draw(st.lists(st.integers(0, 4), min_size=len(data), max_size=len(data)))
    expanded = [unit for unit, k in zip(data, w) for _ in range(k)]
    for stat in (percent_agreement, fleiss_kappa, krippendorff_alpha):
        assert nan_equal(stat(data, weights=w), stat(expanded), tol=1e-12)
    pairs = [u[:2] for u in data]
    assert nan_equal(cohen_kappa(pairs, weights=w), cohen_kappa([u[:2] for u in expanded]), tol=1e-12)
    assert pattern_counts(data, w) == pattern_counts(Counter(map(tuple, expanded)))


# ---------------------------------------------------------------------------
# Statistics: definitions and edge cases
# ---------------------------------------------------------------------------

def test_percent_agreement_ignores_missing_and_unpairable():
    data = [(1, 1, None), (1, 2, 1), (None, None, 3), (2, 2, 2)]
    assert percent_agreement(data) == pytest.approx(2 / 3)


def test_cohen_drops_incomplete_and_requires_two_coders():
    assert cohen_kappa([(1, 1), (2, 2), (1, None)]) == 1.0
    with pytest.raises(ValueError):
        cohen_kappa([(1, 1, 1)])


def test_fleiss_equal_raters_matches_textbook_formula():
    data = [(1, 1, 2), (2, 2, 2), (1, 3, 3), (3, 3, 3)]
    m, n = 3, len(data)
    p_i = [(sum(c * c for c in Counter(u).values()) - m) / (m * (m - 1)) for u in data]
    totals = Counter(v for u in data for v in u)
    p_e = sum((c / (n * m)) ** 2 for c in totals.values())
    expected = (sum(p_i) / n - p_e) / (1 - p_e)
    assert fleiss_kappa(data) == pytest.approx(expected, abs=1e-12)


def test_fleiss_varying_raters_documented_generalisation():
    data = [(1, 1, None), (1, 2, 2), (None, None, 1), (2, 2, 2)]
    kept = [[v for v in u if v is not None] for u in data if sum(v is not None for v in u) >= 2]
    p_i = [(sum(c * c for c in Counter(u).values()) - len(u)) / (len(u) * (len(u) - 1)) for u in kept]
    totals = Counter(v for u in kept for v in u)
    total = sum(totals.values())
    p_e = sum((c / total) ** 2 for c in totals.values())
    assert fleiss_kappa(data) == pytest.approx((sum(p_i) / len(p_i) - p_e) / (1 - p_e), abs=1e-12)


def test_undefined_cases_are_nan():
    one_value = [(1, 1), (1, 1)]
    assert math.isnan(krippendorff_alpha(one_value))
    assert math.isnan(cohen_kappa(one_value))
    assert math.isnan(fleiss_kappa(one_value))
    assert percent_agreement(one_value) == 1.0
    nothing_pairable = [(1, None), (None, 2)]
    for stat in (percent_agreement, cohen_kappa, fleiss_kappa, krippendorff_alpha):
        assert math.isnan(stat(nothing_pairable))
    assert math.isnan(krippendorff_alpha([]))


def test_missing_may_be_nan_and_values_any_hashable():
    a = krippendorff_alpha([("x", "x"), ("y", float("nan")), ("y", "y"), ("x", "y")])
    b = krippendorff_alpha([("x", "x"), ("y", None), ("y", "y"), ("x", "y")])
    assert a == b


def test_bad_input():
    with pytest.raises(ValueError):
        krippendorff_alpha([(1, 2), (1, 2, 3)])
    with pytest.raises(ValueError):
        krippendorff_alpha([(1, 2)], level="fuzzy")
    with pytest.raises(ValueError):
        krippendorff_alpha([(1, 2)], weights=[-1])
    with pytest.raises(TypeError):
        krippendorff_alpha([(1, 2)], weights=[0.5])
    with pytest.raises(ValueError):
        krippendorff_alpha([(1, 2), (2, 2)], weights=[1])


def test_agreement_from_pattern_counts():
    stats = agreement_from_pattern_counts(Counter(K2011_BINARY))
    assert stats["units"] == 10
    assert stats["percent"] == pytest.approx(0.6)
    assert round(stats["krippendorff_alpha"], 3) == 0.095
    assert stats["cohen_kappa"] == pytest.approx(cohen_kappa(K2011_BINARY))
    assert agreement_from_pattern_counts(Counter(K2011_MISSING))["cohen_kappa"] is None


def test_module_works_without_numpy():
    path = Path(__file__).resolve().parents[1] / "fieldkit" / "coding" / "agreement.py"
    code = (
        "import sys, importlib.util\n"
        "sys.modules['numpy'] = None\n"
        f"spec = importlib.util.spec_from_file_location('agreement_alone', {str(path)!r})\n"
        "mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)\n"
        "print(round(mod.krippendorff_alpha([(0, 1), (1, 1), (0, 1), (0, 0), (0, 0)]), 6))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip()
    assert importlib.util.find_spec("fieldkit.coding.agreement") is not None


# ---------------------------------------------------------------------------
# Units from codings
# ---------------------------------------------------------------------------

def brute_character_units(codings, lengths, coders, code, missing_untouched=False):
    """One unit per character, listed -- the slow obvious version."""
    touched = {}
    for record_id, _s, _e, _code, coder in codings:
        if coder in coders:
            touched.setdefault(record_id, set()).add(coder)
    units = []
    for record_id, who in touched.items():
        for pos in range(lengths[record_id]):
            unit = []
            for coder in coders:
                if missing_untouched and coder not in who:
                    unit.append(None)
                    continue
                hit = any(r == record_id and c == code and k == coder and s <= pos < e
                          for r, s, e, c, k in codings)
                unit.append(1 if hit else 0)
            units.append(tuple(unit))
    return units


@st.composite
def coded_records(draw):
    n_records = draw(st.integers(1, 3))
    lengths = {f"r{i}": draw(st.integers(0, 30)) for i in range(n_records)}
    coders = ["ana", "ben", "cleo"][: draw(st.integers(2, 3))]
    codings = []
    for _ in range(draw(st.integers(0, 12))):
        record_id = draw(st.sampled_from(sorted(lengths)))
        length = lengths[record_id]
        start = draw(st.integers(0, length))
        end = draw(st.integers(start, length))
        codings.append((record_id, start, end, draw(st.sampled_from("ab")), draw(st.sampled_from(coders))))
    return codings, lengths, coders


@settings(max_examples=300, deadline=None)
@given(case=coded_records(), missing_untouched=st.booleans())
def test_compressed_character_units_equal_brute_force(case, missing_untouched):
    codings, lengths, coders = case
    for code in "ab":
        compressed = character_units(codings, lengths, coders, code, missing_untouched=missing_untouched)
        listed = brute_character_units(codings, lengths, coders, code, missing_untouched)
        assert compressed == Counter(listed)
        for stat in (percent_agreement, fleiss_kappa, krippendorff_alpha):
            assert nan_equal(stat(compressed), stat(listed), tol=0)
        if len(coders) == 2:
            assert nan_equal(cohen_kappa(compressed), cohen_kappa(listed), tol=0)


def test_character_units_small_example():
    codings = [
        ("r1", 0, 5, "joking", "ana"),
        ("r1", 3, 8, "joking", "ben"),
        ("r1", 9, 10, "kin", "ben"),
    ]
    units = character_units(codings, {"r1": 10, "r2": 50}, ["ana", "ben"], "joking")
    # r2 was coded by nobody, so it is left out; r1 has 10 characters
    assert units == Counter({(1, 0): 3, (1, 1): 2, (0, 1): 3, (0, 0): 2})


def test_character_units_long_text_is_cheap():
    length = 5_000_000
    codings = [("r1", i * 1000, i * 1000 + 600, "x", "ana") for i in range(5000)]
    codings += [("r1", i * 1000 + 100, i * 1000 + 700, "x", "ben") for i in range(5000)]
    units = character_units(codings, {"r1": length}, ["ana", "ben"], "x")
    assert sum(units.values()) == length
    assert units[(1, 1)] == 5000 * 500
    assert units[(1, 0)] == units[(0, 1)] == 5000 * 100


def test_character_units_validation():
    with pytest.raises(ValueError, match="no length"):
        character_units([("r9", 0, 1, "x", "ana")], {}, ["ana", "ben"], "x")
    with pytest.raises(ValueError, match="past the end"):
        character_units([("r1", 0, 11, "x", "ana")], {"r1": 10}, ["ana", "ben"], "x")
    with pytest.raises(ValueError):
        character_units([("r1", 5, 2, "x", "ana")], {"r1": 10}, ["ana", "ben"], "x")
    with pytest.raises(ValueError, match="distinct"):
        character_units([], {}, ["ana", "ana"], "x")


def test_segment_units_overlap_threshold():
    codings = [
        ("r1", 0, 10, "trust", "ana"), ("r1", 0, 8, "trust", "ben"),      # 8/10 -> match
        ("r1", 20, 30, "trust", "ana"), ("r1", 25, 40, "trust", "ben"),   # 5/20 -> no match
        ("r1", 50, 60, "trust", "ben"),                                   # ben only
    ]
    units = segment_units(codings, ["ana", "ben"], "trust", overlap=0.5)
    assert units == Counter({(1, 1): 1, (1, 0): 1, (0, 1): 2})
    loose = segment_units(codings, ["ana", "ben"], "trust", overlap=0.25)
    assert loose == Counter({(1, 1): 2, (0, 1): 1})
    # exactly at the threshold counts as a match (5/10 with overlap 0.5)
    assert segment_units([("r", 0, 10, "t", "ana"), ("r", 5, 10, "t", "ben")],
                         ["ana", "ben"], "t") == Counter({(1, 1): 1})


def test_segment_units_three_coders_one_segment_each_per_unit():
    codings = [
        ("r1", 0, 10, "t", "ana"), ("r1", 1, 10, "t", "ben"), ("r1", 0, 9, "t", "cleo"),
        ("r1", 2, 10, "t", "ben"),  # overlaps ben's own segment: merged with it
        ("r1", 100, 110, "t", "cleo"),
    ]
    units = segment_units(codings, ["ana", "ben", "cleo"], "t")
    assert units == Counter({(1, 1, 1): 1, (0, 0, 1): 1})


def test_segment_units_best_overlap_wins():
    # ben's segment overlaps both of ana's; it pairs with the closer one
    codings = [("r", 0, 10, "t", "ana"), ("r", 10, 30, "t", "ana"), ("r", 9, 28, "t", "ben")]
    assert segment_units(codings, ["ana", "ben"], "t") == Counter({(1, 1): 1, (1, 0): 1})
    rows = disagreements(codings, ["ana", "ben"], unit="segment")
    assert [(r["start"], r["end"], r["applied_by"]) for r in rows] == [(0, 10, ["ana"])]


def test_overlap_must_be_in_range():
    with pytest.raises(ValueError):
        segment_units([], ["ana", "ben"], "t", overlap=0)


# ---------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------

CODINGS = [
    ("n1", 0, 20, "gift", "ana"), ("n1", 2, 20, "gift", "ben"),
    ("n1", 30, 40, "debt", "ana"),
    ("n2", 5, 15, "gift", "ben"), ("n2", 5, 15, "gift", "ana"),
    ("n3", 0, 4, "debt", "ben"),                      # n3: only ben coded it
    ("n1", 50, 60, "debt", "zoe"),                   # zoe is not compared
]
LENGTHS = {"n1": 100, "n2": 40, "n3": 10, "n4": 70}


def test_agreement_report_rows():
    rows = agreement_report(CODINGS, LENGTHS, ["ana", "ben"])
    assert [r["code"] for r in rows] == ["debt", "gift", OVERALL]
    assert set(rows[0]) == {"code", "units", "percent", "cohen_kappa", "fleiss_kappa",
                            "krippendorff_alpha", "note"}
    gift = rows[1]
    expected = character_units(CODINGS, LENGTHS, ["ana", "ben"], "gift")
    assert gift["units"] == 150
    assert gift["percent"] == pytest.approx(percent_agreement(expected))
    assert gift["krippendorff_alpha"] == pytest.approx(krippendorff_alpha(expected))
    assert gift["cohen_kappa"] == pytest.approx(cohen_kappa(expected))
    overall = rows[-1]
    pooled = expected + character_units(CODINGS, LENGTHS, ["ana", "ben"], "debt")
    assert overall["units"] == 300
    assert overall["krippendorff_alpha"] == pytest.approx(krippendorff_alpha(pooled))
    assert "n3 (ben)" in overall["note"]
    assert "1 record(s) nobody coded" in overall["note"]


def test_agreement_report_three_coders_and_segments():
    coders = ["ana", "ben", "zoe"]
    rows = agreement_report(CODINGS, None, coders, unit="segment")
    assert all(r["cohen_kappa"] is None for r in rows)
    gift = next(r for r in rows if r["code"] == "gift")
    assert gift["units"] == 2 and gift["percent"] == 0.0   # zoe never applied gift


def test_agreement_report_undefined_values_are_none_with_note():
    codings = [("r", 0, 5, "x", "ana"), ("r", 0, 5, "x", "ben")]
    rows = agreement_report(codings, None, ["ana", "ben"], unit="segment")
    assert rows[0]["percent"] == 1.0
    assert rows[0]["krippendorff_alpha"] is None and rows[0]["cohen_kappa"] is None
    assert "undefined" in rows[0]["note"]


def test_agreement_report_missing_untouched():
    rows = agreement_report(CODINGS, LENGTHS, ["ana", "ben"], missing_untouched=True)
    overall = rows[-1]
    # n3 (ben only) no longer yields pairable units
    assert overall["units"] == 2 * (100 + 40)


def test_single_coder_records():
    assert single_coder_records(CODINGS, ["ana", "ben"]) == {"n3": "ben"}
    assert single_coder_records(CODINGS, ["ana", "ben", "zoe"]) == {"n3": "ben"}


def test_report_needs_lengths_for_characters():
    with pytest.raises(ValueError):
        agreement_report(CODINGS, None, ["ana", "ben"])
    with pytest.raises(ValueError):
        agreement_report(CODINGS, LENGTHS, ["ana", "ben"], unit="paragraph")


def test_disagreements_character():
    rows = disagreements(CODINGS, ["ana", "ben"])
    simple = [(r["record_id"], r["code"], r["start"], r["end"], r["applied_by"], r["not_applied_by"])
              for r in rows]
    assert simple == [
        ("n1", "gift", 0, 2, ["ana"], ["ben"]),
        ("n1", "debt", 30, 40, ["ana"], ["ben"]),
        ("n3", "debt", 0, 4, ["ben"], ["ana"]),
    ]
    # with missing_untouched, ana never touched n3, so nothing to disagree about there
    rows = disagreements(CODINGS, ["ana", "ben"], missing_untouched=True)
    assert [r["record_id"] for r in rows] == ["n1", "n1"]


def test_disagreements_segment():
    rows = disagreements(CODINGS, ["ana", "ben"], unit="segment")
    simple = [(r["record_id"], r["code"], r["start"], r["end"], r["applied_by"]) for r in rows]
    assert simple == [("n1", "debt", 30, 40, ["ana"]), ("n3", "debt", 0, 4, ["ben"])]
    assert rows[0]["spans"] == {"ana": (30, 40)}


@settings(max_examples=100, deadline=None)
@given(data=reliability_tables(max_value=8), level=st.sampled_from(["interval", "ratio", "ordinal"]))
def test_alpha_with_float_values_matches_package(data, level):
    assume(any(sum(v is not None for v in unit) >= 2 for unit in data))
    halves = [tuple(None if v is None else v / 2 + 0.25 for v in unit) for unit in data]
    with np.errstate(all="ignore"):
        expected = reference_alpha(halves, level)
    assert nan_equal(krippendorff_alpha(halves, level=level), expected)
