"""Speed of qualitative-coding queries, each against a plain reference in the same run.

    python bench/bench_coding.py            # 500,000 codings; 3 coders x 100,000 characters
    python bench/bench_coding.py --quick    # 5,000 codings; 3 coders x 5,000 characters

Rows: ``benchmark``, ``n``, ``ours_s`` and ``floor_s`` (best of a few runs), ``ratio``
(floor_s / ours_s: 1 or more means ours is at least as fast) and ``note``. Each row checks
that ours and the reference give the same result (exactly for counts, to 1e-9 for alpha)
and raises if they do not.

* ``cooccurrence``: ``fieldkit.coding.queries.cooccurrence`` (two SQL self-joins) on a project
  holding the codings, against reading the same codings from the same database and
  comparing every pair of codings in each record in plain Python.
* ``agreement``: ``fieldkit.coding.codings.agreement`` on a project where three coders coded
  fieldnotes totalling 100,000 characters -- reading the codings, building the units,
  computing percent agreement, both kappas and alpha per code and overall, and listing the
  disagreements -- against reading the same codings, filling a coders x characters numpy
  array and calling ``krippendorff.alpha`` (the ``krippendorff`` package) once per code and
  once overall. (``bench/bench_agreement.py`` times the statistics on their own.)

Needs numpy and krippendorff (test dependencies, not library ones).
"""

from __future__ import annotations

import math
import random
import sys
import tempfile
import time
from collections import Counter
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TOLERANCE = 1e-9


def _best(fn, repeat: int):
    best, result = math.inf, None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def _row(benchmark: str, n: int, ours_s: float, floor_s: float, note: str) -> dict:
    return {"benchmark": benchmark, "n": n, "ours_s": ours_s, "floor_s": floor_s,
            "ratio": floor_s / ours_s if ours_s else math.inf, "note": note}


def _project(tmp: str):
    import fieldkit

    return fieldkit.init(Path(tmp) / "p", author="bench")


def _codes(project, n: int) -> list[str]:
    from fieldkit.coding.codebook import add_code

    parents = [add_code(project, f"theme{i}") for i in range(max(1, n // 5))]
    ids = [p.id for p in parents]
    for i in range(n - len(parents)):
        ids.append(add_code(project, f"sub{i}", parent=parents[i % len(parents)].id).id)
    return ids


def _insert_codings(project, rows) -> None:
    """Codings straight into the table (set-up only; not what is being timed)."""
    from fieldkit.core.convert import iso
    from fieldkit.core.ids import new_id
    import datetime as dt

    now = iso(dt.datetime.now(dt.timezone.utc))
    with project.transaction():
        project.db.conn.executemany(
            "insert into codings (id, created_at, author, record_id, code_id, start, [end], coder, note, status, "
            "version) values (?, ?, 'bench', ?, ?, ?, ?, ?, '', 'ok', 1)",
            ((new_id(), now, rec, code, s, e, coder) for rec, code, s, e, coder in rows))


# co-occurrence ---------------------------------------------------------------------------------
def _reference_cooccurrence(project) -> list[dict]:
    """The obvious way: fetch every coding, then compare each pair within each record."""
    from fieldkit.coding.codings import code_paths

    paths = code_paths(project)
    by_record: dict = {}
    for rec, code, s, e in project.db.execute(
            "select record_id, code_id, start, [end] from codings where deleted_at is null "
            "and (coder < 'auto:' or coder >= 'auto;')"):  # the same rows ours reads
        by_record.setdefault(rec, []).append((code, s, e))
    overlaps, records = Counter(), Counter()
    for items in by_record.values():
        codes = set()
        for (c1, s1, e1), (c2, s2, e2) in combinations(items, 2):
            if c1 == c2:
                continue
            if s1 is None:
                s1, e1 = 0, 1 << 62
            if s2 is None:
                s2, e2 = 0, 1 << 62
            if s1 < e2 and s2 < e1 and s1 < e1 and s2 < e2:
                a, b = paths[c1], paths[c2]
                overlaps[(a, b) if a < b else (b, a)] += 1
        for code, _s, _e in items:
            codes.add(paths[code])
        for pair in combinations(sorted(codes), 2):
            records[pair] += 1
    keys = sorted(set(overlaps) | set(records))
    return [{"code_a": a, "code_b": b, "overlaps": overlaps[(a, b)], "records": records[(a, b)]} for a, b in keys]


def bench_cooccurrence(quick: bool) -> dict:
    from fieldkit.coding.queries import cooccurrence

    n = 5_000 if quick else 500_000
    per_record = 10
    rng = random.Random(3)
    with tempfile.TemporaryDirectory() as tmp:
        project = _project(tmp)
        codes = _codes(project, 40)
        rows = []
        for i in range(n):
            rec = f"R{i // per_record:07d}"
            if rng.random() < 0.05:
                s = e = None
            else:
                s = rng.randrange(0, 3_000)
                e = s + rng.randrange(20, 400)
            rows.append((rec, rng.choice(codes), s, e, rng.choice(("ana", "ben"))))
        _insert_codings(project, rows)
        repeat = 5 if quick else 3
        ours_s, ours = _best(lambda: cooccurrence(project), repeat)
        floor_s, ref = _best(lambda: _reference_cooccurrence(project), repeat)
        project.close()
    if ours != ref:
        raise AssertionError("co-occurrence: ours and the reference differ")
    return _row("co-occurrence table (overlap + same record)", n, ours_s, floor_s,
                f"{len(ours)} code pairs, {n // per_record} records of ~{per_record} codings, 40 codes; "
                "reference: pairwise loop in Python over the same rows")


# agreement -----------------------------------------------------------------------------------
def _reference_alpha(project, coders, lengths):
    """Per-character 0/1 arrays from the stored codings, then ``krippendorff.alpha`` per code and pooled."""
    import krippendorff
    import numpy as np

    from fieldkit.coding.codings import code_paths

    paths = code_paths(project)
    offsets, total = {}, 0
    for rid in sorted(lengths):
        offsets[rid] = total
        total += lengths[rid]
    marks = ",".join("?" * len(coders))
    rows = project.db.execute(
        f"select record_id, start, [end], code_id, coder from codings where deleted_at is null "
        f"and coder in ({marks})", coders).fetchall()
    codes = sorted({paths[r[3]] for r in rows})
    arrays = {code: np.zeros((len(coders), total)) for code in codes}
    slot = {c: i for i, c in enumerate(coders)}
    for rid, s, e, code_id, coder in rows:
        base = offsets[rid]
        arrays[paths[code_id]][slot[coder], base + s:base + e] = 1
    result = {code: float(krippendorff.alpha(reliability_data=a, level_of_measurement="nominal"))
              for code, a in arrays.items()}
    result["(overall)"] = float(krippendorff.alpha(
        reliability_data=np.concatenate([arrays[c] for c in codes], axis=1), level_of_measurement="nominal"))
    return result


def bench_agreement(quick: bool) -> dict:
    from fieldkit.fieldwork import capture
    from fieldkit.coding.codings import agreement

    chars = 5_000 if quick else 100_000
    length = 1_000
    coders = ["ana", "ben", "cleo"]
    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as tmp:
        project = _project(tmp)
        codes = _codes(project, 10)
        notes = []
        for r in range(chars // length):
            body = " ".join("word" for _ in range(length // 5)).ljust(length, ".")[:length]
            notes.append(capture.note(project, body))
        lengths = {n.id: length for n in notes}
        rows = []
        for note in notes:
            for _ in range(length // 50):
                start = rng.randrange(length - 60)
                end = start + rng.randrange(10, 60)
                code = rng.choice(codes)
                for coder in coders:
                    if rng.random() < 0.8:
                        j = rng.randrange(-4, 5)
                        rows.append((note.id, code, max(0, start + j), min(length, end + j), coder))
        _insert_codings(project, rows)
        repeat = 3
        ours_s, ours = _best(lambda: agreement(project, coders, untouched="absent"), repeat)
        floor_s, ref = _best(lambda: _reference_alpha(project, coders, lengths), repeat)
        project.close()
    for row in ours.rows:
        if not abs(row["krippendorff_alpha"] - ref[row["code"]]) <= TOLERANCE:
            raise AssertionError(f"agreement {row['code']}: ours {row['krippendorff_alpha']!r} "
                                 f"!= krippendorff {ref[row['code']]!r}")
    overall = ours.rows[-1]["krippendorff_alpha"]
    return _row("agreement, 3 coders, character units (project)", chars, ours_s, floor_s,
                f"{len(rows)} codings, 10 codes; alpha overall={overall:.6f} equal to krippendorff.alpha; "
                "ours also computes percent, Fleiss and the disagreements")


def run(quick: bool = False) -> list[dict]:
    return [bench_cooccurrence(quick), bench_agreement(quick)]


def main(argv: list[str]) -> None:
    rows = run(quick="--quick" in argv)
    print(f"{'benchmark':50s} {'n':>9s} {'ours_s':>9s} {'floor_s':>9s} {'ratio':>7s}  note")
    for row in rows:
        print(f"{row['benchmark']:50s} {row['n']:9d} {row['ours_s']:9.4f} {row['floor_s']:9.4f} "
              f"{row['ratio']:7.2f}  {row['note']}")


if __name__ == "__main__":
    main(sys.argv[1:])
