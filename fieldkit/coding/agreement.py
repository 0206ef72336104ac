"""Inter-coder agreement for qualitative coding.

Pure functions, no database and no numpy: the statistics work on *pattern counts*, so a
table of 100,000 units (or the characters of a long set of fieldnotes) costs one pass to
count the distinct rows and then a few operations per distinct row.

Reliability data
----------------
``data`` is a sequence of units; each unit is a sequence with one slot per coder holding a
hashable value, or ``None`` (a float NaN is also read as missing) when that coder gave no
value. Equal-length units are required.

Every statistic also accepts ``weights`` (one non-negative integer per unit: the unit counts
as if it were repeated that many times), or ``data`` may itself be a mapping
``{unit_tuple: count}`` -- the form :func:`character_units` and :func:`segment_units`
return. The two give identical results to the expanded table.

Results are computed from integer counts with exact rational arithmetic and rounded to a
float once, so they do not drift with the number of units.

Undefined values
----------------
When a coefficient's denominator is zero the result is ``float('nan')``. For Krippendorff's
alpha that happens when there is no pairable unit, or when the pairable values show no
variation at all (only one category is ever used, so expected disagreement is zero). The
``krippendorff`` package behaves the same way for the second case (it returns NaN, and
raises ``ValueError`` when the data hold a single value overall); it never reports 1.0 for
data without variation, and neither does this module: perfect agreement on a single value
says nothing about whether coders can tell categories apart.

Units from codings
------------------
A *coding* is a tuple ``(record_id, start, end, code, coder)``; ``[start, end)`` counts
Unicode code points. :func:`character_units` and :func:`segment_units` turn codings into
binary (1 = the coder applied the code, 0 = did not) reliability data; :func:`agreement_report`
tabulates the statistics per code and :func:`disagreements` lists the places where coders
differ so they can talk them through.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter, defaultdict
from fractions import Fraction
from typing import Hashable, Iterable, Iterator, Mapping, Optional, Sequence, Union

from fieldkit.core.errors import InvalidInput

__all__ = [
    "OVERALL",
    "pattern_counts",
    "percent_agreement",
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "agreement_from_pattern_counts",
    "character_units",
    "segment_units",
    "single_coder_records",
    "agreement_report",
    "disagreements",
]

NAN = float("nan")
OVERALL = "(overall)"
LEVELS = ("nominal", "ordinal", "interval", "ratio")
UNITS = ("character", "segment")

Coding = tuple  # (record_id, start, end, code, coder)
#: reliability data: units (one slot per coder) or ``{unit_tuple: count}``
Data = Union[Sequence[Sequence[Hashable]], Mapping[tuple, int]]


# ---------------------------------------------------------------------------
# Pattern counts
# ---------------------------------------------------------------------------

def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _check_weight(weight) -> None:
    if isinstance(weight, bool) or not isinstance(weight, numbers.Integral):
        raise TypeError(f"weights must be integers, got {weight!r}")
    if weight < 0:
        raise InvalidInput(f"weights must not be negative, got {weight!r}")


def pattern_counts(data: Data, weights: Optional[Iterable[int]] = None) -> Counter:
    """Count the distinct units of ``data``: ``Counter({unit_tuple: times})``.

    ``data`` is a sequence of units (optionally with one integer weight each) or already a
    mapping from unit tuple to count. Missing values (``None`` or NaN) come out as ``None``;
    units with weight 0 are dropped. Raises ``ValueError`` if units differ in length.
    """
    if isinstance(data, Mapping):
        if weights is not None:
            raise TypeError("give weights either as a mapping of counts or as a sequence, not both")
        raw: Counter = Counter()
        for unit, weight in data.items():
            _check_weight(weight)
            raw[tuple(unit)] += weight
    elif weights is None:
        raw = Counter(map(tuple, data))
    else:
        raw = Counter()
        for unit, weight in zip(data, weights, strict=True):
            _check_weight(weight)
            raw[tuple(unit)] += weight

    counts: Counter = Counter()
    width = None
    for unit, weight in raw.items():
        if width is None:
            width = len(unit)
        elif len(unit) != width:
            raise InvalidInput(f"all units need the same number of coder slots ({width}), got {len(unit)}")
        if not weight:
            continue
        if any(isinstance(v, float) and v != v for v in unit):
            unit = tuple(None if _missing(v) else v for v in unit)
        counts[unit] += weight
    return counts


def _width(counts: Mapping) -> Optional[int]:
    for unit in counts:
        return len(unit)
    return None


def _pairable(counts: Mapping) -> Iterator[tuple[Counter, int, int]]:
    """Yield ``(value_counts, m, weight)`` for each distinct unit with at least two values."""
    for unit, weight in counts.items():
        values = [v for v in unit if v is not None]
        if len(values) >= 2:
            yield Counter(values), len(values), weight


def _ratio(num, den) -> float:
    if den == 0:
        return NAN
    return float(Fraction(num) / Fraction(den))


# ---------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------

def percent_agreement(data: Data, weights: Optional[Iterable[int]] = None) -> float:
    """Share of pairable units on which every coder who coded the unit gave the same value.

    A unit is *pairable* when at least two coders gave it a value; missing slots are ignored.
    With two coders and no missing data this is the usual observed agreement. With more
    coders it is the strict "all agree" rate (not the mean pairwise agreement). NaN when no
    unit is pairable.
    """
    counts = pattern_counts(data, weights)
    total = agree = 0
    for values, _m, weight in _pairable(counts):
        total += weight
        if len(values) == 1:
            agree += weight
    return _ratio(agree, total)


def cohen_kappa(data: Data, weights: Optional[Iterable[int]] = None) -> float:
    """Cohen's kappa for exactly two coders (units where either value is missing are dropped).

    ``kappa = (p_o - p_e) / (1 - p_e)`` with ``p_e`` from each coder's own marginal
    distribution. NaN when there are no complete units or when ``p_e == 1`` (both coders
    used one and the same category throughout).
    """
    counts = pattern_counts(data, weights)
    width = _width(counts)
    if width is not None and width != 2:
        raise InvalidInput(f"Cohen's kappa needs exactly 2 coders, the data have {width}")
    n = agree = 0
    first: Counter = Counter()
    second: Counter = Counter()
    for (a, b), weight in counts.items():
        if a is None or b is None:
            continue
        n += weight
        first[a] += weight
        second[b] += weight
        if a == b:
            agree += weight
    # kappa = (n*agree - E) / (n*n - E) with E = sum over categories of the two marginals' product
    expected = sum(first[c] * second[c] for c in first)
    return _ratio(n * agree - expected, n * n - expected)


def fleiss_kappa(data: Data, weights: Optional[Iterable[int]] = None) -> float:
    """Fleiss' kappa for any number of coders; units with fewer than two values are dropped.

    Coder identity plays no part: only how many coders put each unit into each category.
    With ``m_i`` values on unit ``i`` (``n_ij`` of them in category ``j``):

    * per-unit agreement ``P_i = (sum_j n_ij**2 - m_i) / (m_i (m_i - 1))`` -- the share of
      agreeing ordered pairs among that unit's own coders;
    * ``P_bar`` is the plain mean of ``P_i`` over units (each unit counts once, however
      many coders it has);
    * ``p_j`` is category ``j``'s share of all values given to the kept units, and
      ``P_e = sum_j p_j**2``;
    * ``kappa = (P_bar - P_e) / (1 - P_e)``.

    When every unit has the same number of values this is exactly Fleiss (1971). When the
    number varies (missing data) it is the common generalisation above; note that it is
    not the same as Krippendorff's alpha, which weights units by their number of pairs and
    corrects for finite samples. NaN when no unit is kept or ``P_e == 1``.
    """
    counts = pattern_counts(data, weights)
    units = 0
    by_m: dict[int, int] = defaultdict(int)   # m -> sum of weight * (sum_j n_ij^2 - m)
    per_category: Counter = Counter()
    values_total = 0
    for values, m, weight in _pairable(counts):
        units += weight
        by_m[m] += weight * (sum(c * c for c in values.values()) - m)
        for value, c in values.items():
            per_category[value] += weight * c
        values_total += weight * m
    if units == 0:
        return NAN
    p_bar = sum((Fraction(s, m * (m - 1)) for m, s in by_m.items()), Fraction(0)) / units
    p_e = Fraction(sum(c * c for c in per_category.values()), values_total * values_total)
    return _ratio(p_bar - p_e, 1 - p_e)


def krippendorff_alpha(data: Data, level: str = "nominal", weights: Optional[Iterable[int]] = None) -> float:
    """Krippendorff's alpha, from the coincidence matrix; missing values allowed.

    ``alpha = 1 - D_o / D_e``: observed disagreement (each pairable unit with ``m_u`` values
    contributes its ``m_u (m_u - 1)`` ordered value pairs with weight ``1 / (m_u - 1)``)
    over the disagreement expected from the pooled values. ``level`` is ``"nominal"`` (the
    default; values need only be hashable), ``"interval"`` or ``"ratio"`` (numbers), or
    ``"ordinal"`` (values that sort). Nominal and interval are exact and take time
    proportional to the number of distinct units; ordinal and ratio also visit every pair
    of distinct values, so they suit tens or hundreds of values, not tens of thousands.

    NaN when no unit is pairable or the pairable values do not vary (see module notes).
    """
    if level not in LEVELS:
        raise InvalidInput(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    counts = pattern_counts(data, weights)
    if level == "nominal":
        return _alpha_nominal(counts)
    if level == "interval":
        return _alpha_interval(counts)
    return _alpha_by_matrix(counts, level)


def _alpha_nominal(counts: Mapping) -> float:
    # alpha = 1 - (n - 1) * sum_u [(m_u^2 - sum_c n_uc^2) / (m_u - 1)] / (n^2 - sum_c n_c^2)
    by_m: dict[int, int] = defaultdict(int)
    totals: Counter = Counter()
    for values, m, weight in _pairable(counts):
        by_m[m] += weight * (m * m - sum(c * c for c in values.values()))
        for value, c in values.items():
            totals[value] += weight * c
    n = sum(totals.values())
    expected = n * n - sum(c * c for c in totals.values())
    if n == 0 or expected == 0:
        return NAN
    observed = sum((Fraction(s, m - 1) for m, s in by_m.items()), Fraction(0))
    return float(1 - (n - 1) * observed / expected)


def _number(value):
    """An exact number: ints stay ints (fast), other reals become Fractions."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"interval and ratio alpha need numbers, got {value!r}")
    if isinstance(value, numbers.Integral):
        return int(value)
    return Fraction(value)


def _alpha_interval(counts: Mapping) -> float:
    # Sum over ordered pairs (i != j) of (v_i - v_j)^2 = 2 (m * sum v^2 - (sum v)^2).
    by_m: dict[int, Fraction] = defaultdict(int)
    totals: Counter = Counter()
    for values, m, weight in _pairable(counts):
        s1 = s2 = 0
        for value, c in values.items():
            x = _number(value)
            s1 += c * x
            s2 += c * x * x
        by_m[m] += weight * 2 * (m * s2 - s1 * s1)
        for value, c in values.items():
            totals[value] += weight * c
    n = sum(totals.values())
    t1 = t2 = 0
    for value, c in totals.items():
        x = _number(value)
        t1 += c * x
        t2 += c * x * x
    expected = 2 * (n * t2 - t1 * t1)
    if n == 0 or expected == 0:
        return NAN
    observed = sum((Fraction(s) / (m - 1) for m, s in by_m.items()), Fraction(0))
    return float(1 - (n - 1) * observed / Fraction(expected))


def _alpha_by_matrix(counts: Mapping, level: str) -> float:
    # Off-diagonal coincidences o_ck (c != k), exact; delta is zero on the diagonal.
    pairs_by_m: dict[int, Counter] = defaultdict(Counter)
    totals: Counter = Counter()
    for values, m, weight in _pairable(counts):
        items = list(values.items())
        for i, (c, nc) in enumerate(items):
            totals[c] += weight * nc
            for k, nk in items[i + 1:]:
                pairs_by_m[m][(c, k)] += weight * nc * nk
    n = sum(totals.values())
    if n == 0 or len(totals) < 2:
        return NAN
    ordered = sorted(totals)
    rank = {v: i for i, v in enumerate(ordered)}
    sizes = [totals[v] for v in ordered]

    if level == "ordinal":
        cumulative = [0]
        for size in sizes:
            cumulative.append(cumulative[-1] + size)

        def delta(i: int, j: int) -> float:
            if i > j:
                i, j = j, i
            d = cumulative[j + 1] - cumulative[i] - (sizes[i] + sizes[j]) / 2
            return d * d
    else:  # ratio
        numbers_ = [float(_number(v)) for v in ordered]

        def delta(i: int, j: int) -> float:
            a, b = numbers_[i], numbers_[j]
            return ((a - b) / (a + b)) ** 2 if a + b != 0 else 0.0

    observed = math.fsum(
        2 * float(Fraction(count, m - 1)) * delta(rank[c], rank[k])
        for m, pairs in pairs_by_m.items() for (c, k), count in pairs.items()
    )
    expected = math.fsum(
        2 * sizes[i] * sizes[j] * delta(i, j)
        for i in range(len(sizes)) for j in range(i + 1, len(sizes))
    )
    if expected == 0:
        return NAN
    return 1 - (n - 1) * observed / expected


def agreement_from_pattern_counts(counts: Mapping) -> dict:
    """All statistics for ``{unit_tuple: count}`` at once.

    Returns ``{"units", "percent", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha"}``;
    ``units`` is the number of pairable units (counted with their weights) and
    ``cohen_kappa`` is ``None`` unless there are exactly two coder slots.
    """
    counts = pattern_counts(counts)
    return {
        "units": sum(w for _v, _m, w in _pairable(counts)),
        "percent": percent_agreement(counts),
        "cohen_kappa": cohen_kappa(counts) if _width(counts) == 2 else None,
        "fleiss_kappa": fleiss_kappa(counts),
        "krippendorff_alpha": krippendorff_alpha(counts),
    }


# ---------------------------------------------------------------------------
# From codings to units
# ---------------------------------------------------------------------------

class _Index:
    """Codings by code and record, restricted to the chosen coders."""

    def __init__(self, codings: Iterable[Coding], coders: Sequence[Hashable],
                 lengths: Optional[Mapping[Hashable, int]] = None):
        self.coders = list(coders)
        self.slot = {coder: i for i, coder in enumerate(self.coders)}
        if len(self.slot) != len(self.coders):
            raise InvalidInput("coders must be distinct")
        if not self.coders:
            raise InvalidInput("give at least one coder")
        self.spans: dict[Hashable, dict[Hashable, list]] = defaultdict(lambda: defaultdict(list))
        self.touched: dict[Hashable, set] = defaultdict(set)
        seen = set()
        for coding in codings:
            try:
                record_id, start, end, code, coder = coding
            except (TypeError, ValueError):
                raise InvalidInput(f"a coding is (record_id, start, end, code, coder), got {coding!r}") from None
            i = self.slot.get(coder)
            if i is None:
                continue
            if (isinstance(start, bool) or isinstance(end, bool)
                    or not isinstance(start, numbers.Integral) or not isinstance(end, numbers.Integral)):
                raise InvalidInput(f"coding offsets must be integers: {coding!r}")
            if not 0 <= start <= end:
                raise InvalidInput(f"coding needs 0 <= start <= end: {coding!r}")
            if lengths is not None:
                if record_id not in lengths:
                    raise InvalidInput(f"no length given for record {record_id!r}")
                if end > lengths[record_id]:
                    raise InvalidInput(f"coding runs past the end of record {record_id!r} "
                                     f"(length {lengths[record_id]}): {coding!r}")
            self.touched[record_id].add(i)
            by_record = self.spans[code]          # a code with only empty codings still gets a row
            key = (record_id, int(start), int(end), code, i)
            if end > start and key not in seen:
                seen.add(key)
                by_record[record_id].append((int(start), int(end), i))

    def codes(self) -> list:
        return sorted(self.spans, key=lambda c: (str(type(c)), str(c)))

    def base(self, record_id: Hashable, missing_untouched: bool) -> list[Optional[int]]:
        """Per-coder value for "did not apply": 0, or None for a coder who never touched the record."""
        if not missing_untouched:
            return [0] * len(self.coders)
        who = self.touched[record_id]
        return [0 if i in who else None for i in range(len(self.coders))]


def _runs(spans: Sequence[tuple[int, int, int]], base: Sequence, end: Optional[int] = None
          ) -> Iterator[tuple[int, int, tuple]]:
    """Maximal runs ``(start, end, pattern)`` over ``[0, end)`` (default: the last span end)."""
    events: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for s, e, i in spans:
        events[s].append((i, 1))
        events[e].append((i, -1))
    depth = [0] * len(base)
    current = tuple(base)
    run_start = 0
    for pos in sorted(events):
        for i, step in events[pos]:
            depth[i] += step
        pattern = tuple(1 if d > 0 else b for d, b in zip(depth, base))
        if pattern != current:
            if pos > run_start:
                yield run_start, pos, current
            run_start, current = pos, pattern
    stop = run_start if end is None else end
    if stop > run_start:
        yield run_start, stop, current


def _character_counts(index: _Index, code, lengths: Mapping[Hashable, int],
                      missing_untouched: bool) -> Counter:
    counts: Counter = Counter()
    by_record = index.spans.get(code, {})
    for record_id in index.touched:
        length = lengths[record_id]
        base = index.base(record_id, missing_untouched)
        spans = by_record.get(record_id)
        if not spans:
            if length:
                counts[tuple(base)] += length
            continue
        for s, e, pattern in _runs(spans, base, length):
            counts[pattern] += e - s
    return counts


def character_units(codings: Iterable[Coding], lengths: Mapping[Hashable, int],
                    coders: Sequence[Hashable], code: Hashable, *, missing_untouched: bool = False) -> Counter:
    """Character-level units for one code, compressed: ``Counter({pattern: characters})``.

    Every character of every record that at least one of ``coders`` coded (with any code)
    is a unit; its value for each coder is 1 if that coder applied ``code`` to the
    character and 0 otherwise. Characters nobody coded therefore count as agreement on
    absence, as in the usual character-based coding comparison. Records nobody coded are
    left out. With ``missing_untouched=True`` a coder who made no coding at all in a
    record gets ``None`` (missing) for its characters instead of 0 -- use it when coders
    were assigned different records.

    Runs of characters with the same pattern are counted, never listed, so the cost depends
    on the number of codings, not on the length of the texts. Pass the result straight to
    any statistic in this module. ``lengths`` maps record id to length in code points.
    """
    index = _Index(codings, coders, lengths)
    return _character_counts(index, code, lengths, missing_untouched)


def _jaccard_at_least(a: tuple[int, int, int], b: tuple[int, int, int], threshold: Fraction) -> bool:
    inter = min(a[1], b[1]) - max(a[0], b[0])
    if inter <= 0:
        return False
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter * threshold.denominator >= threshold.numerator * union


def _threshold(overlap) -> Fraction:
    value = Fraction(repr(float(overlap))) if isinstance(overlap, float) else Fraction(overlap)
    if not 0 < value <= 1:
        raise InvalidInput(f"overlap must be in (0, 1], got {overlap!r}")
    return value


def _merge_own(spans: Iterable[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Merge each coder's overlapping segments (same record and code) into one."""
    by_coder: dict[int, list] = defaultdict(list)
    for s, e, i in spans:
        by_coder[i].append((s, e))
    merged = []
    for i, items in by_coder.items():
        items.sort()
        cur_s, cur_e = items[0]
        for s, e in items[1:]:
            if s < cur_e:
                cur_e = max(cur_e, e)
            else:
                merged.append((cur_s, cur_e, i))
                cur_s, cur_e = s, e
        merged.append((cur_s, cur_e, i))
    merged.sort()
    return merged


def _segment_groups(spans: Iterable[tuple[int, int, int]], threshold: Fraction) -> list[list[tuple]]:
    """Group one record's segments of one code into units (at most one segment per coder).

    Candidate pairs (segments of different coders whose overlap reaches the threshold) are
    taken best overlap first; two groups merge only if they share no coder and every pair
    across them reaches the threshold. With two coders this is greedy best-overlap matching.
    """
    segs = _merge_own(spans)
    candidates = []
    for a in range(len(segs)):
        sa = segs[a]
        for b in range(a + 1, len(segs)):
            sb = segs[b]
            if sb[0] >= sa[1]:
                break
            if sa[2] != sb[2] and _jaccard_at_least(sa, sb, threshold):
                inter = min(sa[1], sb[1]) - max(sa[0], sb[0])
                union = max(sa[1], sb[1]) - min(sa[0], sb[0])
                candidates.append((-Fraction(inter, union), a, b))
    candidates.sort()
    group_of = list(range(len(segs)))
    members = {a: [a] for a in range(len(segs))}
    for _score, a, b in candidates:
        ga, gb = group_of[a], group_of[b]
        if ga == gb:
            continue
        left, right = members[ga], members[gb]
        if {segs[x][2] for x in left} & {segs[y][2] for y in right}:
            continue
        if not all(_jaccard_at_least(segs[x], segs[y], threshold) for x in left for y in right):
            continue
        if len(left) < len(right):
            ga, gb, left, right = gb, ga, right, left
        left.extend(right)
        for y in right:
            group_of[y] = ga
        del members[gb]
    return [sorted(segs[x] for x in group) for _g, group in sorted(members.items())]


def _segment_units_for(index: _Index, code, threshold: Fraction, missing_untouched: bool
                       ) -> Iterator[tuple[Hashable, list[tuple], tuple]]:
    for record_id, spans in index.spans.get(code, {}).items():
        base = index.base(record_id, missing_untouched)
        for group in _segment_groups(spans, threshold):
            pattern = list(base)
            for _s, _e, i in group:
                pattern[i] = 1
            yield record_id, group, tuple(pattern)


def segment_units(codings: Iterable[Coding], coders: Sequence[Hashable], code: Hashable, overlap: float = 0.5,
                  *, missing_untouched: bool = False) -> Counter:
    """Segment-level units for one code: ``Counter({pattern: segments})``.

    Each coder's segments of ``code`` in a record (overlapping ones merged) are matched
    with other coders' segments of the same code in the same record when their overlap --
    intersection length divided by union length of the two spans (Jaccard) -- is at least
    ``overlap``. Each matched group, and each unmatched segment, is one unit: 1 for the
    coders with a segment in it, 0 for the others (``None`` for coders who never touched
    the record, with ``missing_untouched=True``).

    There are no units on which all coders agree the code is absent, so percent agreement
    is the informative figure here; chance-corrected coefficients on such data are usually
    near or below zero whatever the coders did.
    """
    index = _Index(codings, coders)
    return Counter(p for _r, _g, p in _segment_units_for(index, code, _threshold(overlap), missing_untouched))


def single_coder_records(codings: Iterable[Coding], coders: Sequence[Hashable]) -> dict:
    """Records coded (with anything) by exactly one of ``coders``: ``{record_id: coder}``."""
    index = _Index(codings, coders)
    return {r: index.coders[next(iter(who))] for r, who in index.touched.items() if len(who) == 1}


# ---------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------

def _defined(value):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _row(code, counts: Counter, n_coders: int) -> dict:
    stats = agreement_from_pattern_counts(counts)
    notes = []
    if stats["units"] == 0:
        notes.append("no unit was coded by two or more coders")
    elif stats["krippendorff_alpha"] != stats["krippendorff_alpha"]:
        notes.append("no variation in the values (one value throughout): chance-corrected coefficients undefined")
    return {
        "code": code,
        "units": stats["units"],
        "percent": _defined(stats["percent"]),
        "cohen_kappa": _defined(stats["cohen_kappa"]) if n_coders == 2 else None,
        "fleiss_kappa": _defined(stats["fleiss_kappa"]),
        "krippendorff_alpha": _defined(stats["krippendorff_alpha"]),
        "note": "; ".join(notes),
    }


def agreement_report(codings: Iterable[Coding], lengths: Optional[Mapping[Hashable, int]],
                     coders: Sequence[Hashable], *, unit: str = "character", overlap: float = 0.5,
                     missing_untouched: bool = False, codes: Optional[Iterable] = None) -> list[dict]:
    """Agreement per code plus an ``(overall)`` row, as plain dicts.

    Each row has ``code``, ``units`` (pairable units: characters or segments), ``percent``,
    ``cohen_kappa`` (``None`` unless there are exactly two coders), ``fleiss_kappa``,
    ``krippendorff_alpha`` (nominal) and ``note``. A coefficient that is undefined for the
    data is ``None`` and the note says why. The overall row pools the units of all codes
    (each code-by-character, or code-by-segment, is one binary unit). Its note names the
    records only one coder touched, which contribute nothing but agreement-on-absence
    (or, with ``missing_untouched``, nothing at all).

    ``unit`` is ``"character"`` (needs ``lengths``; see :func:`character_units`) or
    ``"segment"`` (see :func:`segment_units`). ``codes`` limits and orders the codes;
    by default every code any of the coders used, sorted.
    """
    if unit not in UNITS:
        raise InvalidInput(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    if unit == "character" and lengths is None:
        raise InvalidInput("character units need the record lengths")
    codings = list(codings)
    index = _Index(codings, coders, lengths if unit == "character" else None)
    threshold = _threshold(overlap)
    chosen = index.codes() if codes is None else list(codes)
    rows = []
    pooled: Counter = Counter()
    for code in chosen:
        if unit == "character":
            counts = _character_counts(index, code, lengths, missing_untouched)
        else:
            counts = Counter(p for _r, _g, p in _segment_units_for(index, code, threshold, missing_untouched))
        pooled.update(counts)
        rows.append(_row(code, counts, len(index.coders)))
    overall = _row(OVERALL, pooled, len(index.coders))
    notes = [overall["note"]] if overall["note"] else []
    if len(index.coders) < 2:
        notes.append("only one coder given: nothing to compare")
    lonely = {r: index.coders[next(iter(who))] for r, who in index.touched.items() if len(who) == 1}
    if lonely:
        listed = ", ".join(f"{r} ({c})" for r, c in sorted(lonely.items(), key=lambda rc: str(rc[0])))
        notes.append(f"{len(lonely)} record(s) coded by only one coder: {listed}")
    if unit == "character" and lengths is not None:
        unused = sum(1 for r in lengths if r not in index.touched)
        if unused:
            notes.append(f"{unused} record(s) nobody coded were left out")
    if unit == "segment":
        notes.append("segment units have no shared-absence units; percent agreement is the telling figure")
    overall["note"] = "; ".join(notes)
    rows.append(overall)
    return rows


def disagreements(codings: Iterable[Coding], coders: Sequence[Hashable], *, unit: str = "character",
                  overlap: float = 0.5, missing_untouched: bool = False,
                  codes: Optional[Iterable] = None) -> list[dict]:
    """Places where some coders applied a code and others (who gave a value) did not.

    Rows ``{record_id, code, start, end, applied_by, not_applied_by, spans}`` sorted by
    record, position and code. With ``unit="character"`` each row is a maximal stretch of
    text with one pattern of who applied the code (``spans`` maps each applying coder to
    the same stretch); with ``unit="segment"`` each row is an unmatched or partly matched
    group of segments, ``start``/``end`` cover the group and ``spans`` gives each applying
    coder's own ``(start, end)``. Coders who never touched the record are left out of
    ``not_applied_by`` when ``missing_untouched`` is true.
    """
    if unit not in UNITS:
        raise InvalidInput(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    index = _Index(codings, coders)
    threshold = _threshold(overlap)
    chosen = index.codes() if codes is None else list(codes)
    rows = []

    def row(record_id, code, start, end, pattern, spans):
        applied = [index.coders[i] for i, v in enumerate(pattern) if v == 1]
        not_applied = [index.coders[i] for i, v in enumerate(pattern) if v == 0]
        if applied and not_applied:
            rows.append({"record_id": record_id, "code": code, "start": start, "end": end,
                         "applied_by": applied, "not_applied_by": not_applied, "spans": spans})

    for code in chosen:
        if unit == "character":
            for record_id, spans in index.spans.get(code, {}).items():
                base = index.base(record_id, missing_untouched)
                for s, e, pattern in _runs(spans, base):
                    row(record_id, code, s, e, pattern,
                        {index.coders[i]: (s, e) for i, v in enumerate(pattern) if v == 1})
        else:
            for record_id, group, pattern in _segment_units_for(index, code, threshold, missing_untouched):
                row(record_id, code, group[0][0], max(e for _s, e, _i in group), pattern,
                    {index.coders[i]: (s, e) for s, e, i in group})
    rows.sort(key=lambda r: (str(r["record_id"]), r["start"], r["end"], str(r["code"])))
    return rows
