"""Importing into a large project: a 3,000-file Markdown folder into a project of 50,000
notes, against the floor of the same import into an empty project (target: time ratio
<= 1.5). While the large import runs, a second connection tries to write every 50 ms; the
note gives the longest it had to wait for the write lock (target: a few seconds at most).
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

WORDS = ("inspector", "expert", "experience", "probation", "meeting", "phone", "case", "audit", "power",
         "voice", "panel", "feedback", "practitioner", "risk", "plan", "hands", "intro", "question")


def _body(i: int, salt: str) -> str:
    words = [WORDS[(i * 5 + k * 7) % len(WORDS)] for k in range(40 + i % 30)]
    return f"{salt} {i}: " + " ".join(words)


def _vault(folder: Path, n: int) -> Path:
    folder.mkdir()
    for i in range(n):
        (folder / f"note-{i:05d}.md").write_text(f"---\ntags: [walk]\nobserved: 2026-03-{1 + i % 28:02d}\n---\n"
                                                 f"{_body(i, 'Imported')}\n", encoding="utf-8")
    return folder


def _import(path: Path, vault: Path, watch: bool = False) -> tuple[float, float]:
    """Seconds the import took, and the longest wait of a concurrent writer (when watched)."""
    import fieldkit
    from fieldkit.exchange.importing import run_importer

    project = fieldkit.open(path)
    waits: list = []
    done = threading.Event()

    def writer():
        conn = sqlite3.connect(path / "fieldkit.db", timeout=120)
        while not done.is_set():
            start = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            waits.append(time.perf_counter() - start)
            conn.execute("ROLLBACK")
            time.sleep(0.05)
        conn.close()

    thread = threading.Thread(target=writer)
    if watch:
        thread.start()
    start = time.perf_counter()
    report = run_importer(project, "markdown", vault)
    elapsed = time.perf_counter() - start
    done.set()
    if watch:
        thread.join()
    assert report.counts.get("fieldnotes") == len(list(vault.iterdir())), report.counts
    project.close()
    return elapsed, max(waits, default=0.0)


def bench_markdown_import(quick: bool) -> dict:
    import fieldkit
    from fieldkit.core.records import Observation

    files, notes = (300, 5_000) if quick else (3_000, 50_000)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        vault = _vault(tmp / "vault", files)
        fieldkit.init(tmp / "empty").close()
        big = fieldkit.init(tmp / "big")
        big.add_many(Observation(stage="fieldnote", body=_body(i, "Stored")) for i in range(notes))
        big.close()
        floor, _ = _import(tmp / "empty", vault)
        ours, longest = _import(tmp / "big", vault, watch=True)
    return {"benchmark": f"Markdown import of {files:,} files into {notes:,} notes vs into an empty project",
            "n": files, "ours_s": ours, "floor_s": floor, "ratio": ours / floor,
            "note": f"time ratio, lower is better; target <= 1.5; a concurrent writer waited at most "
                    f"{longest:.2f} s for the write lock"}


def run(quick: bool = False) -> list[dict]:
    return [bench_markdown_import(quick)]


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(row)
