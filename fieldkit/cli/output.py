"""What commands print: tables, JSON or CSV of rows, records, and warnings."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Optional, Sequence

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


def readable(value: Any) -> str:
    """A field's JSON value as a person reads it: lists joined, mappings as ``key=value``."""
    if isinstance(value, dict):
        return ", ".join(f"{k}={readable(v)}" for k, v in value.items() if v not in (None, "", [], {}))
    if isinstance(value, (list, tuple)):
        return "; ".join(readable(v) for v in value) if any(isinstance(v, dict) for v in value) \
            else ", ".join(readable(v) for v in value)
    return str(value)


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


#: the columns ``list TYPE`` shows for each record type
LIST_COLUMNS = {
    "observation": ("id", "stage", "when", "text"),
    "memo": ("id", "kind", "when", "text"),
    "participant": ("id", "code", "role", "organisation", "attributes"),
    "encounter": ("id", "code", "kind", "title", "site", "start", "people"),
    "site": ("id", "name", "kind", "note"),
    "code": ("id", "path", "status", "definition"),
    "coding": ("id", "record", "code", "span", "coder", "status"),
    "consent": ("id", "participant", "status", "scopes", "at"),
    "attachment": ("id", "filename", "media_type", "size", "record"),
}


def list_rows(project: Any, type_name: str, records: list) -> list[dict]:
    """The rows ``list TYPE`` prints as a table: the columns that say what each type holds."""
    from fieldkit.core.output import preview

    def local(when: Any) -> str:
        return local_time(project, when) if when else ""

    def label(record_id: Optional[str], column: str) -> str:
        if not record_id:
            return ""
        return names.setdefault(record_id, _name_of(project, record_id, column))

    names: dict = {}
    paths = project.store.coding.paths() if type_name in ("code", "coding") else {}
    rows = []
    for r in records:
        row: dict = {"id": short(r.id)}
        if type_name == "observation":
            row.update(stage=r.stage, when=observed_when(project, r), text=preview(r.body))
        elif type_name == "memo":
            row.update(kind=r.kind, when=local(r.created_at),
                       text=preview((r.title + ": " if r.title else "") + r.body))
        elif type_name == "participant":
            row.update(code=r.code, role=r.role, organisation=r.organisation, attributes=dict(r.attributes))
        elif type_name == "encounter":
            row.update(code=r.code, kind=r.kind, title=r.title, site=label(r.site_id, "name"), start=local(r.start),
                       people=[label(p.participant_id, "code") for p in r.participants])
        elif type_name == "site":
            row.update(name=r.name, kind=r.kind, note=preview(r.note))
        elif type_name == "code":
            row.update(path=paths.get(r.id, r.name), status=r.status, definition=preview(r.definition))
        elif type_name == "coding":
            span = "whole" if r.start is None else f"{r.start}-{r.end}"
            row.update(record=short(r.record_id), code=paths.get(r.code_id, r.code_id), span=span, coder=r.coder,
                       status=r.status)
        elif type_name == "consent":
            row.update(participant=label(r.participant_id, "code"), status=r.status, scopes=list(r.scopes),
                       at=local(r.at))
        elif type_name == "attachment":
            row.update(filename=r.filename, media_type=r.media_type, size=r.size, record=short(r.record_id or ""))
        rows.append(row)
    return rows


def _name_of(project: Any, record_id: str, column: str) -> str:
    from fieldkit.core.errors import NotFound

    try:
        return getattr(project.get(record_id, include_deleted=True), column, "") or short(record_id)
    except NotFound:
        return short(record_id)
