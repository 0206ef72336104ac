"""Printing rows as a readable table, JSON or CSV."""

from __future__ import annotations

import json
import sys
from typing import Sequence


def short(record_id: str) -> str:
    """The last 8 characters of an id: enough to type it (any unique ending works)."""
    return record_id[-8:] if record_id else ""


def preview(text: str, width: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def emit(rows, *, columns: Sequence[str] = (), fmt: str = "table", out=None) -> None:
    """Print rows as ``table`` (aligned columns), ``json`` (a list) or ``csv``."""
    import click

    out = out or sys.stdout
    if fmt == "json":
        data = rows if isinstance(rows, dict) else list(rows)
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str), file=out)
        return
    rows = list(rows)
    columns = list(columns or (rows[0].keys() if rows else ()))
    if fmt == "csv":
        import csv

        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: _cell(row.get(c)) for c in columns})
        return
    if not rows:
        click.echo("(none)", file=out)
        return
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip(), file=out)
    click.echo("  ".join("-" * w for w in widths), file=out)
    for r in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip(), file=out)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value).replace("\n", " ")
