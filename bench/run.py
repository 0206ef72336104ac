"""Run every benchmark and write one table of ratios to docs/benchmarks.md.

    python bench/run.py            # full sizes (10,000 and 100,000 records; takes a while)
    python bench/run.py --quick    # each once on small data (CI runs this so nothing rots)
    python bench/run.py --only core,export

Each figure is a ratio to a floor measured in the same run on the same machine, so the
table means the same on a fast laptop and a slow CI box.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUITES = ("core", "import", "coding", "agreement", "anonymise", "export", "import_qdpx", "serve")
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", HERE / f"bench_{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def table(rows: list[dict]) -> str:
    lines = ["| suite | benchmark | n | ours (s) | floor (s) | ratio | note |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['suite']} | {r['benchmark']} | {r['n']:,} | {r['ours_s']:.3f} | {r['floor_s']:.3f} | "
                     f"{r['ratio']:.2f} | {r.get('note', '')} |")
    return "\n".join(lines)


def write_doc(rows: list[dict], quick: bool, path: Path) -> None:
    stamp = f"Measured {dt.date.today().isoformat()} on {platform.machine()} / Python {platform.python_version()}" \
            f"{' (quick mode: small data)' if quick else ''}."
    block = f"{START}\n{stamp}\n\n{table(rows)}\n{END}"
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    path.write_text(head + block + tail)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default=",".join(SUITES))
    parser.add_argument("--no-write", action="store_true", help="print the table without updating the docs")
    parser.add_argument("--save", metavar="FILE", help="also write the rows as JSON to FILE")
    parser.add_argument("--add", metavar="FILE", action="append", default=[],
                        help="put the rows an earlier run saved (--save) in the table too; each ratio is "
                             "still from its own run")
    args = parser.parse_args(argv)
    import json

    rows = []
    for saved in args.add:
        rows += json.loads(Path(saved).read_text())
    for suite in args.only.split(","):
        started = time.perf_counter()
        for row in load(suite).run(quick=args.quick):
            rows.append({"suite": suite, **row})
        print(f"{suite}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if args.save:
        Path(args.save).write_text(json.dumps(rows, indent=1))
    print(table(rows))
    if not args.no_write:
        write_doc(rows, args.quick, HERE.parent / "docs" / "benchmarks.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
