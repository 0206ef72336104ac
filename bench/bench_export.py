"""Benchmark: REFI-QDA (.qdpx) export against a standard-library floor.

For each size (observations, with three codings each) a fictional project is built with
direct inserts, then, each in a fresh subprocess so that peak memory is its own:

* anonymised -- ``fieldkit.exchange.refi.export_qdpx`` with default options, as ``fieldkit
  export qdpx`` runs: selection, consent, anonymisation with the project's key store (one
  sentence in five names a registered person), codings, XML, zip;
* raw   -- the same with ``anonymise=False`` (``fieldkit export qdpx --raw``);
* floor -- the same bodies read with ``sqlite3`` and written into a zip with ``zipfile``
  (same compression), nothing else: the least any exporter of these texts must do.

Each child process pins itself to one CPU core, so a ratio compares single-core work.

Run ``python bench/bench_export.py [--quick]``; ``run(quick)`` returns the rows.
Peak memory is the subprocess's own maximum resident set size (``VmHWM`` from
``/proc/self/status``; ``resource.getrusage`` elsewhere).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CODINGS_PER_OBSERVATION = 3
#: fictional people the notes name, registered in the bench project's key store
PEOPLE = (("Orla Vantreece", "Orla"), ("Tobiah Merrow", "Toby"), ("Ines Quarrendon", ""),
          ("Caspian Ludd", ""), ("Maelle Okonkwo-Frey", "Mae"), ("Rufus Penhallow", ""),
          ("Sadia Korrinson", ""), ("Jory Blessington", "Jory"), ("Wenna Astley-Crane", ""),
          ("Bartholomew Nisk", "Barty"), ("Delphine Horrocks", ""), ("Evander Quill", ""))
WORDS = (
    "inspector", "practitioner", "case", "review", "expert", "experience", "meeting", "lead",
    "asks", "explains", "notes", "pauses", "agrees", "the", "a", "and", "of", "to", "about",
    "risk", "plan", "probation", "café", "naïve", "“fair”", "rôle", "résumé", "team", "voice",
)


def build_project(path: Path, n: int, seed: int = 5):
    """A project with ``n`` fieldnotes in ``n // 20 + 1`` encounters and three codings on each."""
    import fieldkit
    from fieldkit.core.convert import iso
    from fieldkit.core.ids import new_id
    from fieldkit.core.records import Code, Encounter, Participant, Site

    from fieldkit.privacy.anonymiser import create_keystore

    rng = random.Random(seed)
    project = fieldkit.init(path)
    keys = create_keystore(project, path.parent / "bench.keys")
    try:
        for i, (name, alias) in enumerate(PEOPLE, start=1):
            keys.add(f"P{i:02d}", name, aliases=[alias] if alias else [])
    finally:
        keys.close()
    site = Site(name="Northshire PDU", kind="probation_delivery_unit")
    people = [Participant(code=f"P{i:02d}", role="expert_by_experience" if i % 3 else "inspector") for i in range(1, 13)]
    encounters = [Encounter(code=f"E{i}", kind="inspection_meeting", site_id=site.id,
                            participants=[people[i % 12].id, people[(i + 5) % 12].id])
                  for i in range(1, n // 20 + 2)]
    parents = [Code(name=f"theme {i}", colour="#1f77b4") for i in range(5)]
    codes = parents + [Code(name=f"code {i}", parent_id=parents[i % 5].id) for i in range(20)]
    project.add_many([site, *people, *encounters, *codes])
    now = iso(site.created_at)
    obs_rows, coding_rows = [], []
    for i in range(n):
        sentences = []
        for _ in range(5):
            words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
            if rng.random() < 0.2:
                name, alias = rng.choice(PEOPLE)
                words.insert(rng.randrange(len(words)), alias or name.split()[0] if rng.random() < 0.5 else name)
            sentences.append(" ".join(words).capitalize() + ".")
        body = " ".join(sentences)
        oid = new_id()
        obs_rows.append((oid, now, "bench", "fieldnote", body, encounters[i // 20].id, now, "minute", "", now,
                         "[]", "[]", "[]"))
        for k in range(CODINGS_PER_OBSERVATION):
            start = rng.randrange(0, len(body) - 10)
            end = rng.randrange(start + 1, min(len(body), start + 200))
            coding_rows.append((new_id(), now, "bench", oid, codes[5 + (i + k) % 20].id, start, end,
                                ("coder-a", "coder-b")[k % 2], "", "ok"))
    db = project.db.conn
    with project.transaction():
        db.executemany(
            "insert into observations (id, created_at, author, stage, body, encounter_id, observed_at, "
            "observed_precision, observed_raw, recorded_at, tags, mentions, derived_from) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", obs_rows)
        db.executemany(
            "insert into codings (id, created_at, author, record_id, code_id, start, [end], coder, note, status) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", coding_rows)
    project.close()


_CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
kind, project_path, dest = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
if hasattr(os, "sched_setaffinity"):  # one core, for ours and the floor alike
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
t0 = time.perf_counter()
if kind in ("anonymised", "raw"):
    import fieldkit
    from fieldkit.exchange.exporting import ExportOptions
    from fieldkit.exchange.refi import export_qdpx
    project = fieldkit.open(project_path)
    report = export_qdpx(project, dest, ExportOptions(anonymise=kind == "anonymised"))
    assert report.counts.get("sources"), report.counts
    assert report.anonymised == (kind == "anonymised"), report.warnings
else:
    import sqlite3, zipfile
    conn = sqlite3.connect(project_path / "fieldkit.db")
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for oid, body in conn.execute("select id, body from observations where deleted_at is null order by id"):
            zf.writestr(f"sources/{oid}.txt", body.encode("utf-8"))
seconds = time.perf_counter() - t0
# VmHWM is this process's own high-water mark; ru_maxrss would include the parent's
# memory at fork time on Linux
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
try:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            peak_mb = int(line.split()[1]) / 1024
except OSError:
    pass
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}))
"""


def _measure(kind: str, project: Path, dest: Path) -> dict:
    if dest.exists():
        dest.unlink()
    env = dict(os.environ, FIELDKIT_LOAD_PLUGINS="")
    done = subprocess.run([sys.executable, "-c", _CHILD, kind, str(project), str(dest)],
                          capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        raise RuntimeError(f"{kind} export failed: {done.stderr.strip()}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["size_mb"] = dest.stat().st_size / 1e6
    return result


TARGET_RATIO = 3
TARGET_PEAK_MB = 300


def run(quick: bool = False) -> list[dict]:
    """Rows ``{"benchmark", "n", "ours_s", "floor_s", "ratio", "note"}``, one per size."""
    sizes = [1_000] if quick else [10_000, 100_000]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            folder = Path(tmp) / f"n{n}"
            folder.mkdir()
            t0 = time.perf_counter()
            build_project(folder / "project", n)
            built = time.perf_counter() - t0
            floor = _measure("floor", folder / "project", folder / "floor.zip")
            for kind in ("anonymised", "raw"):
                ours = _measure(kind, folder / "project", folder / f"{kind}.qdpx")
                ratio = ours["seconds"] / floor["seconds"]
                met = ratio <= TARGET_RATIO and ours["peak_mb"] < TARGET_PEAK_MB
                rows.append({
                    "benchmark": f"qdpx export, {'default (anonymised)' if kind == 'anonymised' else '--raw'} "
                                 f"({CODINGS_PER_OBSERVATION * n:,} codings)",
                    "n": n,
                    "ours_s": round(ours["seconds"], 2),
                    "floor_s": round(floor["seconds"], 2),
                    "ratio": round(ratio, 2),
                    "note": (f"peak {ours['peak_mb']:.0f} MB (floor {floor['peak_mb']:.0f} MB); "
                             f"{ours['size_mb']:.1f} MB .qdpx vs {floor['size_mb']:.1f} MB zip; one core; "
                             f"target ratio <= {TARGET_RATIO:g} and peak < {TARGET_PEAK_MB} MB: "
                             f"{'met' if met else 'MISSED'}; project built in {built:.1f} s"),
                })
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(json.dumps(row, ensure_ascii=False))
