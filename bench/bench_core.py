"""Core speed: a jot from the shell, and bulk insertion through the library.

- ``jot``: ``fieldkit jot "…"`` into a project that already holds 10,000 observations,
  against the floor ``python -c "import sqlite3"`` (interpreter start-up plus sqlite3). The
  note also times importing the libraries a jot cannot do without (attrs, click, pluggy,
  cattrs, ``importlib.metadata`` with its entry-point scan) and nothing of fieldkit.
- ``bulk insert``: 100,000 observations through ``Project.add_many`` against the best raw
  approach, measured in the same run: the same rows by ``sqlite3.executemany``, 1,000 at a
  time, into the same table with no per-row trigger at all, each batch indexed with one
  ``INSERT ... SELECT`` into its FTS5 index. fieldkit's schema keeps its insert trigger
  (it stands aside while a flag row exists, so the schema never changes while writing);
  the note gives the same raw insert into fieldkit's own schema, flag row and all, to show
  what the trigger's mere presence costs one statement per row, and the same rows written
  by the store's own statements alone (no work per record), to show what is left to Python.

Ratios are floor time / our time for throughput (higher is better) and our time / floor
time for the jot (lower is better); the ``note`` column says which.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = ("inspector", "expert", "experience", "probation", "meeting", "phone", "case", "audit", "power",
         "voice", "panel", "feedback", "practitioner", "risk", "plan", "hands", "intro", "question")


def _body(i: int) -> str:
    words = [WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(12 + i % 10)]
    return " ".join(words) + f" #tag{i % 20} note {i}"


def _seed(project, n: int) -> None:
    from fieldkit.core.records import Observation

    project.add_many(Observation(stage="jotting", body=_body(i)) for i in range(n))


#: the libraries a jot cannot do without, imported as ``python -m fieldkit`` would (runpy),
#: with the entry-point scan that finds plugins
LIBRARIES = ("import runpy, sqlite3, typing, re, pathlib, json, datetime, attrs, click, pluggy, cattrs, "
             "importlib.metadata as m; m.entry_points(group='fieldkit')")


def _time_command(argv, runs: int, env=None) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_jot(quick: bool) -> dict:
    import fieldkit

    n = 1_000 if quick else 10_000
    runs = 3 if quick else 15
    with tempfile.TemporaryDirectory() as tmp:
        project = fieldkit.init(Path(tmp) / "p")
        _seed(project, n)
        project.close()
        # Timed as an installed fieldkit runs: from cached bytecode (pip compiles it at install).
        # Without this, PYTHONDONTWRITEBYTECODE (set on some machines, this one included) makes
        # every run compile fieldkit from source while the floor's stdlib is precompiled.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["FIELDKIT_PROJECT"] = str(Path(tmp) / "p")
        jot = [sys.executable, "-m", "fieldkit", "jot", "LI hands the intro to the EbE"]
        _time_command(jot, 1, env)  # warm-up: writes the bytecode cache
        floor = _time_command([sys.executable, "-c", "import sqlite3"], runs, env)
        ours = _time_command(jot, runs, env)
        # not a floor: what the libraries a jot must use cost before any of fieldkit runs
        libraries = _time_command([sys.executable, "-c", LIBRARIES], runs, env)
    editable = _editable_installs()
    return {"benchmark": "jot (CLI) vs python -c 'import sqlite3'", "n": n, "ours_s": ours, "floor_s": floor,
            "ratio": ours / floor,
            "note": f"time ratio, lower is better; target <= 4; importing the libraries alone (sqlite3, attrs, "
                    f"click, pluggy, cattrs, importlib.metadata and its entry-point scan): {libraries:.3f} s "
                    f"({libraries / floor:.2f}x the floor, {libraries / ours:.2f} of the jot)"
                    + (f"; NOT COMPARABLE: editable installs ({', '.join(editable)}) slow every interpreter "
                       "start-up, the floor's included; measure in a virtual environment without them"
                       if editable else "")}


def _editable_installs() -> list[str]:
    """The editable installs of this interpreter's environment: each adds a path hook that
    runs at every start-up (``python -c "import sqlite3"`` too), so the floor is not the floor."""
    import site

    found = []
    for folder in site.getsitepackages():
        found += sorted(p.name for p in Path(folder).glob("__editable__*.pth"))
    return found


def _raw_batches(path: Path, rows: list[dict], *, keep_trigger: bool, batch: int = 1000) -> float:
    """Raw ``executemany`` of the rows, ``batch`` at a time, each batch indexed with one
    ``INSERT ... SELECT``. Without ``keep_trigger`` the insert trigger is dropped before timing
    (the floor); with it, fieldkit's own schema is written as fieldkit writes it (flag row)."""
    import fieldkit

    project = fieldkit.init(path)
    conn = project.store.conn
    if not keep_trigger:
        conn.execute("drop trigger observations_ai")
        conn.execute("drop trigger observations_words_ai")
    columns = list(rows[0])
    sql = f"insert into observations ({', '.join(f'[{c}]' for c in columns)}) values ({', '.join('?' * len(columns))})"
    tuples = [tuple(r[c] for c in columns) for r in rows]
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    if keep_trigger:
        conn.execute("insert into search_deferred (id) values (1)")
    for i in range(0, len(tuples), batch):
        (last,) = conn.execute("select coalesce(max(rowid), 0) from observations").fetchone()
        conn.executemany(sql, tuples[i:i + batch])
        # the floor: one INSERT ... SELECT into the full-text index per batch (fieldkit
        # also fills its index of words as written; that cost is its own row, bench_words_index)
        conn.execute("insert into observations_fts (rowid, body) select rowid, body from observations where rowid > ?",
                     [last])
    if keep_trigger:
        conn.execute("delete from search_deferred")
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    project.close()
    return elapsed


def _store_batches(path: Path, rows: list[dict], batch: int = 1000) -> float:
    """The same rows through fieldkit's own statements (``Store.insert_rows``: many rows per
    statement, both text indexes filled a batch at a time), without ``add_many``'s work per
    record: what the store's SQL costs on its own."""
    import fieldkit

    project = fieldkit.init(path)
    columns = tuple(rows[0])
    tuples = [tuple(r[c] for c in columns) for r in rows]
    start = time.perf_counter()
    with project.transaction():
        for i in range(0, len(tuples), batch):
            project.store.insert_rows("observations", columns, tuples[i:i + batch])
    elapsed = time.perf_counter() - start
    project.close()
    return elapsed


def bench_bulk(quick: bool, n: int = 0) -> dict:
    import fieldkit
    from fieldkit.core.convert import to_row
    from fieldkit.core.records import Observation

    n = n or (5_000 if quick else 100_000)
    made = [Observation(stage="jotting", body=_body(i), author="bench") for i in range(n)]
    rows = []
    for record in made:
        row = to_row(record)
        row["tags"] = '["tag%d"]' % (int(row["body"].split("#tag")[1].split()[0]))
        rows.append(row)
    with tempfile.TemporaryDirectory() as tmp:
        floor = _raw_batches(Path(tmp) / "raw", rows, keep_trigger=False)
        schema_bound = _raw_batches(Path(tmp) / "flagged", rows, keep_trigger=True)
        store_sql = _store_batches(Path(tmp) / "store", rows)
        project = fieldkit.init(Path(tmp) / "p")
        start = time.perf_counter()
        project.add_many(made)
        ours = time.perf_counter() - start
        assert project.count("observation") == n
        project.close()
    return {"benchmark": "bulk insert (library) vs raw executemany + one INSERT ... SELECT per batch", "n": n,
            "ours_s": ours, "floor_s": floor, "ratio": floor / ours,
            "note": f"rate ratio, higher is better; target >= 0.5; {n / ours:,.0f} rows/s; the same raw insert "
                    f"into fieldkit's schema (insert trigger present, flag row set): {schema_bound:.2f} s "
                    f"({schema_bound / ours:.2f} of ours); the store's own statements alone (many rows each, "
                    f"both text indexes): {store_sql:.2f} s ({store_sql / ours:.2f} of ours)"}


def bench_words_index(quick: bool, n: int = 0) -> dict:
    """What the index of words as written (for prefixes) costs: bulk insert time and file
    size with it, against the same project with that index dropped."""
    import fieldkit
    from fieldkit.core.records import Observation
    from fieldkit.store import store as store_module

    n = n or (5_000 if quick else 100_000)
    made = [Observation(stage="jotting", body=_body(i), author="bench") for i in range(n)]
    found = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("without", "with"):
            project = fieldkit.init(Path(tmp) / name)
            if name == "without":
                for trigger in ("ai", "ad", "au"):
                    project.store.conn.execute(f"drop trigger observations_words_{trigger}")
                project.store.conn.execute("drop table observations_words_vocab")
                project.store.conn.execute("drop table observations_words")
            suffixes = store_module.INDEX_SUFFIXES
            store_module.INDEX_SUFFIXES = suffixes if name == "with" else ("_fts",)
            try:
                start = time.perf_counter()
                project.add_many(made)
                elapsed = time.perf_counter() - start
            finally:
                store_module.INDEX_SUFFIXES = suffixes
            project.store.conn.execute("vacuum")
            project.close()
            found[name] = (elapsed, (Path(tmp) / name / "fieldkit.db").stat().st_size)
    (ours, size), (floor, floor_size) = found["with"], found["without"]
    return {"benchmark": "bulk insert with the words-as-written index vs without it", "n": n,
            "ours_s": ours, "floor_s": floor, "ratio": ours / floor,
            "note": f"time ratio, lower is better; file size {size / floor_size:.2f}x "
                    f"({size / 1e6:.1f} MB vs {floor_size / 1e6:.1f} MB)"}


def bench_search(quick: bool, n: int = 0) -> dict:
    import fieldkit

    n = n or (2_000 if quick else 100_000)
    with tempfile.TemporaryDirectory() as tmp:
        project = fieldkit.init(Path(tmp) / "p")
        _seed(project, n)
        queries = ["phone", "expert experience", "audit", "voice panel"]
        start = time.perf_counter()
        for q in queries * 5:
            project.search(q, types=("observation",), limit=50)
        ours = time.perf_counter() - start
        conn = project.store.conn
        start = time.perf_counter()
        for q in queries * 5:
            match = " ".join(f'"{w}"' for w in q.split())
            conn.execute("select o.*, snippet(observations_fts, 0, '[', ']', '…', 12), bm25(observations_fts) r "
                         "from observations_fts join observations o on o.rowid = observations_fts.rowid "
                         "where observations_fts match ? order by r limit 50", [match]).fetchall()
        floor = time.perf_counter() - start
        project.close()
    return {"benchmark": "search (library) vs raw FTS5 query", "n": n, "ours_s": ours, "floor_s": floor,
            "ratio": floor / ours, "note": "rate ratio, higher is better"}


def run(quick: bool = False) -> list[dict]:
    if quick:
        return [bench_jot(True), bench_bulk(True), bench_words_index(True), bench_search(True)]
    return [bench_jot(False), bench_bulk(False, 10_000), bench_bulk(False, 100_000), bench_words_index(False),
            bench_search(False, 10_000), bench_search(False, 100_000)]


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(row)
