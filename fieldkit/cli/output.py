"""What commands print: tables, JSON or CSV of rows, records, and warnings."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

import click


def output(rows: Any, columns: Sequence[str] = (), fmt: str = "table") -> None:
    """Print ``rows`` (a list of dicts, or one dict for JSON) as a table, JSON or CSV."""
    from fieldkit.core.output import emit

    emit(rows, columns=columns, fmt=fmt)


def format_option(f: Callable) -> Callable:
    """``--json`` and ``--csv`` (into the ``fmt`` parameter; None for a table)."""
    f = click.option("--csv", "fmt", flag_value="csv", help="Output CSV.")(f)
    f = click.option("--json", "fmt", flag_value="json", help="Output JSON.")(f)
    return f


def json_option(f: Callable) -> Callable:
    """``--json`` (into the ``fmt`` parameter; ``table`` without it)."""
    return click.option("--json", "fmt", flag_value="json", default="table", help="Output JSON.")(f)


def echo_warnings(project: Any) -> None:
    """Print (and clear) the warnings plugins gave about records this command saved."""
    for _record_id, problem in project.warnings:
        click.echo(f"Warning: {problem}", err=True)
    project.warnings.clear()


def record_row(record: Any) -> dict:
    """A record as the JSON fieldkit writes for it."""
    from fieldkit.core.convert import to_json

    return to_json(record)


def short(record_id: str) -> str:
    from fieldkit.core.output import short as short_id

    return short_id(record_id) if record_id else record_id


def echo_lines(lines: Iterable[str], *, err: bool = False) -> None:
    for line in lines:
        click.echo(line, err=err)


def local_time(project: Any, at: Any, precision: str = "minute") -> str:
    """A stored time as tables show it: in the project's zone, to its precision, no seconds."""
    from fieldkit.core.timeinput import show

    return show(at, project.timezone, precision)


def summary_row(project: Any, record: Any) -> dict:
    """The few fields a table shows for any record: id, type, stage or kind, when, text."""
    from fieldkit.core.output import preview

    row = {"id": short(record.id), "type": record.type_name}
    if record.type_name == "observation":
        row.update(stage=record.stage, when=observed_when(project, record), text=preview(record.body))
    elif record.type_name == "memo":
        row.update(stage=record.kind, when=local_time(project, record.created_at),
                   text=preview((record.title + ": " if record.title else "") + record.body))
    elif record.type_name == "participant":
        row.update(stage=record.role, when="", text=f"{record.code} {record.organisation}".strip())
    elif record.type_name == "encounter":
        row.update(stage=record.kind, when=local_time(project, record.start),
                   text=f"{record.code} {record.title}".strip())
    else:
        row.update(stage=getattr(record, "kind", getattr(record, "status", "")), when="",
                   text=preview(getattr(record, "name", "") or getattr(record, "code", "") or record.id))
    return row


def observed_when(project: Any, observation: Any) -> str:
    """When a note was observed, in the project's time zone, to its precision
    (``2026-12-05 afternoon`` for "yesterday afternoon", never a made-up ``14:00``)."""
    return local_time(project, observation.observed_at, observation.observed_precision)
