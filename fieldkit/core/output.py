"""Printing rows as a readable table, JSON or CSV."""

from __future__ import annotations

import json
import sys
from typing import Any, Iterable, Mapping, Optional, Sequence, TextIO, Union


def short(record_id: str) -> str:
    """The last 8 characters of an id: enough to type it (any unique ending works)."""
    return record_id[-8:] if record_id else ""


def preview(text: str, width: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def emit(rows: Union[Iterable[Mapping[str, Any]], Mapping[str, Any]], *, columns: Sequence[str] = (),
         fmt: str = "table", out: Optional[TextIO] = None) -> None:
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
            writer.writerow({c: guard_cell(_cell(v)) if isinstance(v := row.get(c), str) else _cell(v) for c in columns})
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


# Spreadsheets run a cell starting with =, +, -, @, a tab or a carriage return as a formula
# (a note can hold "=HYPERLINK(...)"; a Markdown list starts "- "). A leading apostrophe
# makes Excel show it as text. Cells already starting with an apostrophe get one too, so
# the rule reverses exactly: drop the first character of a cell that starts with "'".
_GUARDED_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def guard_cell(text: str) -> str:
    """``text`` for a CSV cell that a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text.startswith(_GUARDED_STARTS) else text


def unguard_cell(cell: str) -> str:
    """The text ``guard_cell`` was given."""
    return cell[1:] if cell.startswith("'") else cell
