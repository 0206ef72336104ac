"""Benchmark fieldkit.coding.agreement against reference implementations.

    python bench/bench_agreement.py            # 3 coders x 100,000 units
    python bench/bench_agreement.py --quick    # 3 coders x 2,000 units

Each row: ``benchmark``, ``n`` (units), ``ours_s`` and ``floor_s`` (best wall-clock time of
a few runs for ours and for the reference), ``ratio`` (floor_s / ours_s: above 1 means
ours is faster) and ``note``. The reference for alpha is the ``krippendorff`` package; for
percent agreement and Fleiss' kappa (which it does not offer) a plain vectorised numpy
version written below. Every row checks that both give the same value to 1e-9 and raises
if they do not. Needs numpy and krippendorff (test dependencies, not library ones).
"""

from __future__ import annotations

import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import krippendorff  # noqa: E402
import numpy as np  # noqa: E402

from fieldkit.coding.agreement import (  # noqa: E402
    character_units,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
)

TOLERANCE = 1e-9


def _best(fn, repeat: int) -> tuple[float, object]:
    best, result = math.inf, None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def _table(n: int, coders: int = 3, categories: int = 4, seed: int = 7) -> list[tuple]:
    """Units x coders: coders mostly agree on a true category; 10 % of values missing."""
    rng = random.Random(seed)
    data = []
    for _ in range(n):
        truth = rng.randrange(categories)
        data.append(tuple(
            None if rng.random() < 0.1 else (truth if rng.random() < 0.8 else rng.randrange(categories))
            for _ in range(coders)))
    return data


def _as_array(data) -> np.ndarray:
    """Coders x units float array with NaN for missing, as the krippendorff package wants."""
    return np.array([[np.nan if v is None else v for v in column] for column in zip(*data)], dtype=float)


def _numpy_percent_and_fleiss(array: np.ndarray) -> tuple[float, float]:
    """Reference: per-unit category counts with numpy, then the textbook formulas."""
    values = np.unique(array[~np.isnan(array)])
    counts = (array.T[:, :, None] == values[None, None, :]).sum(axis=1)    # units x categories
    m = counts.sum(axis=1)
    keep = m >= 2
    counts, m = counts[keep], m[keep]
    percent = float((counts.max(axis=1) == m).mean())
    p_i = ((counts ** 2).sum(axis=1) - m) / (m * (m - 1))
    p_j = counts.sum(axis=0) / m.sum()
    p_e = (p_j ** 2).sum()
    return percent, float((p_i.mean() - p_e) / (1 - p_e))


def _check(name: str, ours, reference) -> None:
    ours = ours if isinstance(ours, tuple) else (ours,)
    reference = reference if isinstance(reference, tuple) else (reference,)
    for a, b in zip(ours, reference):
        if not abs(a - b) <= TOLERANCE:
            raise AssertionError(f"{name}: ours {a!r} != reference {b!r}")


def _row(benchmark: str, n: int, ours_s: float, floor_s: float, note: str) -> dict:
    return {"benchmark": benchmark, "n": n, "ours_s": ours_s, "floor_s": floor_s,
            "ratio": floor_s / ours_s if ours_s else math.inf, "note": note}


def run(quick: bool = False) -> list[dict]:
    n = 2_000 if quick else 100_000
    repeat = 5 if quick else 3
    rows = []
    data = _table(n)
    array = _as_array(data)

    for level in ("nominal", "interval"):
        ours_s, ours = _best(lambda: krippendorff_alpha(data, level=level), repeat)
        floor_s, ref = _best(lambda: float(krippendorff.alpha(reliability_data=array, level_of_measurement=level)),
                             repeat)
        _check(f"alpha {level}", ours, ref)
        rows.append(_row(f"krippendorff_alpha {level}, 3 coders", n, ours_s, floor_s,
                         f"alpha={ours:.6f}; reference krippendorff.alpha on a ready numpy array"))

    lists = [list(unit) for unit in data]
    columns = [list(column) for column in zip(*data)]
    ours_s, ours = _best(lambda: krippendorff_alpha(lists), repeat)
    floor_s, ref = _best(lambda: float(krippendorff.alpha(
        reliability_data=[[np.nan if v is None else v for v in column] for column in columns],
        level_of_measurement="nominal")), repeat)
    _check("alpha from lists", ours, ref)
    rows.append(_row("krippendorff_alpha nominal from Python lists", n, ours_s, floor_s,
                     "both start from plain lists (reference time includes building its array)"))

    ours_s, ours = _best(lambda: (percent_agreement(data), fleiss_kappa(data)), repeat)
    floor_s, ref = _best(lambda: _numpy_percent_and_fleiss(array), repeat)
    _check("percent/fleiss", ours, ref)
    rows.append(_row("percent_agreement + fleiss_kappa, 3 coders", n, ours_s, floor_s,
                     f"percent={ours[0]:.6f} fleiss={ours[1]:.6f}; reference: numpy version in this file"))

    # Character units: records of fieldnotes coded by three coders, compressed vs one unit
    # per character handed to the reference.
    rng = random.Random(11)
    records, length = (10, 1_000) if quick else (200, 5_000)
    lengths = {f"note{r}": length for r in range(records)}
    codings = []
    for record_id in lengths:
        for _ in range(length // 250):
            start = rng.randrange(length - 100)
            end = start + rng.randrange(20, 100)
            for coder in ("ana", "ben", "cleo"):
                if rng.random() < 0.8:
                    jitter = rng.randrange(-5, 6)
                    codings.append((record_id, max(0, start + jitter), min(length, end + jitter), "gift", coder))
    coders = ["ana", "ben", "cleo"]
    ours_s, ours = _best(lambda: krippendorff_alpha(character_units(codings, lengths, coders, "gift")), repeat)
    per_char = np.zeros((3, records * length))
    for record_id, start, end, _code, coder in codings:
        offset = int(record_id[4:]) * length
        per_char[coders.index(coder), offset + start:offset + end] = 1
    floor_s, ref = _best(lambda: float(krippendorff.alpha(reliability_data=per_char,
                                                          level_of_measurement="nominal")), repeat)
    _check("character units", ours, ref)
    rows.append(_row("character units + alpha, 3 coders", records * length, ours_s, floor_s,
                     f"{len(codings)} codings; ours builds compressed units from codings, "
                     "reference gets a ready per-character array"))
    return rows


def main(argv: list[str]) -> None:
    rows = run(quick="--quick" in argv)
    print(f"{'benchmark':48s} {'n':>9s} {'ours_s':>9s} {'floor_s':>9s} {'ratio':>7s}  note")
    for row in rows:
        print(f"{row['benchmark']:48s} {row['n']:9d} {row['ours_s']:9.4f} {row['floor_s']:9.4f} "
              f"{row['ratio']:7.2f}  {row['note']}")


if __name__ == "__main__":
    main(sys.argv[1:])
