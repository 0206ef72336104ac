"""Importing a large ``.qdpx`` from another tool, and merging a second coder's codings into it.

The file is written here directly (not by fieldkit's exporter): N codings on N/10 texts of a
few hundred characters, each selection with its user and time, from a tool fieldkit does
not know. Measured in the same run:

* import: ``refi.import_qdpx`` into a fresh project, against the floor the issue names:
  parsing the same ``project.qde`` with the standard library's ``iterparse``, reading it
  from the zip included (elements cleared as they end, so the floor does not pay for a tree);
* merge: a second coder's file (the same texts and codes, N/10 new codings by another
  coder) merged into the project holding the first N, against ``iterparse`` of that file.

Run ``python bench/bench_import_qdpx.py [--quick]``; ``run(quick)`` returns the rows.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

WORDS = ("the officer listened and the hostel felt calm today while staff were kind but the induction "
         "was rushed nobody explained licence conditions P03 said \U0001F642 trust").split()
NS = "urn:QDA-XML:project:1.0"


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def write_qdpx(path: Path, n_codings: int, *, seed: int = 7, coder: str = "ana", extra_only: bool = False,
               base_seed: int = 7) -> None:
    """A .qdpx with ``n_codings`` selections, ten to a text. With ``extra_only``, the texts and codes
    of the file built with ``base_seed`` and new selections by ``coder`` (a second coder's file)."""
    base = random.Random(base_seed)
    rng = random.Random(seed)
    n_sources = max(1, (n_codings if not extra_only else n_codings * 10) // 10)
    codes = [_guid(base) for _ in range(40)]
    users = {"ana": _guid(base), "ben": _guid(base)}
    texts = []
    for _ in range(n_sources):
        texts.append((_guid(base), " ".join(base.choice(WORDS) for _ in range(60))))
    per_source = max(1, n_codings // n_sources)
    parts = [f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{NS}" name="bench" origin="BenchTool 1.0">\n'
             "<Users>" + "".join(f'<User guid="{g}" name="{n}"/>' for n, g in users.items()) + "</Users>\n"
             "<CodeBook><Codes>" + "".join(f'<Code guid="{g}" name="code {i}" isCodable="true"/>'
                                           for i, g in enumerate(codes)) + "</Codes></CodeBook>\n<Sources>\n"]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for guid, text in texts:
            zf.writestr(f"sources/{guid}.txt", text.encode("utf-8"))
            sels = []
            for _ in range(per_source):
                start = rng.randrange(0, len(text) - 20)
                start = text.rfind(" ", 0, start) + 1
                end = text.find(" ", start + 5)
                end = len(text) if end < 0 else end
                sels.append(f'<PlainTextSelection guid="{_guid(rng)}" startPosition="{start}" endPosition="{end}" '
                            f'creatingUser="{users[coder]}" creationDateTime="2024-03-01T10:00:00Z">'
                            f'<Coding guid="{_guid(rng)}" creatingUser="{users[coder]}">'
                            f'<CodeRef targetGUID="{rng.choice(codes)}"/></Coding></PlainTextSelection>')
            parts.append(f'<TextSource guid="{guid}" name="doc" plainTextPath="internal://{guid}.txt">'
                         + "".join(sels) + "</TextSource>\n")
        parts.append("</Sources>\n</Project>\n")
        zf.writestr("project.qde", "".join(parts).encode("utf-8"))


def floor(path: Path) -> float:
    """Parse the file's ``project.qde`` with the standard library's iterparse."""
    from xml.etree.ElementTree import iterparse

    started = time.perf_counter()
    with zipfile.ZipFile(path) as zf, zf.open("project.qde") as fh:
        for _, element in iterparse(fh):
            if element.tag.endswith(("}TextSource", "}Codes", "}Users")):
                element.clear()
    return time.perf_counter() - started


def run(quick: bool = False) -> list[dict]:
    import fieldkit
    from fieldkit.exchange import refi

    sizes = [1_000] if quick else [10_000, 100_000]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for n in sizes:
            first, second = tmp / f"first-{n}.qdpx", tmp / f"second-{n}.qdpx"
            write_qdpx(first, n)
            write_qdpx(second, n // 10, seed=11, coder="ben", extra_only=True)
            project = fieldkit.init(tmp / f"p{n}")
            started = time.perf_counter()
            report = refi.import_qdpx(project, first)
            ours = time.perf_counter() - started
            assert report.counts.get("codings") == n, report.counts
            base = floor(first)
            rows.append({"benchmark": "import qdpx (other tool)", "n": n, "ours_s": ours, "floor_s": base,
                         "ratio": ours / base, "note": "floor: stdlib iterparse of project.qde"})
            started = time.perf_counter()
            report = refi.import_qdpx(project, second)
            ours = time.perf_counter() - started
            assert report.counts.get("codings") == n // 10, report.counts
            base = floor(second)
            rows.append({"benchmark": f"merge second coder into {n:,} codings", "n": n // 10, "ours_s": ours,
                         "floor_s": base, "ratio": ours / base, "note": "floor: stdlib iterparse of the file"})
            project.close()
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
