"""Reading and changing records: ``list``, ``show``, ``search``, ``edit``, ``delete`` and ``history``."""

from __future__ import annotations

from typing import Any, Callable, Optional

import click

from fieldkit.cli.context import get_project
from fieldkit.cli.editor import edit_text
from fieldkit.cli.options import COUNT, since_until_options, time_range
from fieldkit.cli.output import (LIST_COLUMNS, echo_warnings, format_option, json_option, list_rows, local_time, output,
                                 readable, record_row, short)
from fieldkit.core.errors import InvalidInput, Refused

LISTABLE = ("observation", "memo", "participant", "encounter", "site", "code", "coding", "consent", "attachment")
#: the filters that apply to notes and memos only
TEXT_FILTERS = ("stage", "tag", "since", "until")


def filter_options(f: Callable) -> Callable:
    """The filters ``list`` and ``search`` share."""
    f = since_until_options(f)
    for decl, kw in reversed([
        (("--stage",), dict(type=click.Choice(["jotting", "fieldnote"]), help="Jottings or fieldnotes.")),
        (("-e", "--encounter"), dict(help="Encounter code or id.")),
        (("-p", "--participant"), dict(help="Participant code (mentioned, or in the encounter).")),
        (("-t", "--tag"), dict(help="Tag.")),
        (("-c", "--code"), dict(help="Code name or path.")),
    ]):
        f = click.option(*decl, **kw)(f)
    return f


def _filters(project: Any, since: Optional[str], until: Optional[str], **given: Any) -> dict:
    found = time_range(project, since, until)
    given.update(since=found.since, until=found.until)
    return {key: value for key, value in given.items() if value is not None}


@click.command("list")
@click.argument("type_name", default="observation", type=click.Choice(LISTABLE))
@filter_options
@click.option("--limit", type=COUNT, default=None, help="At most this many records.")
@format_option
def list_(type_name: str, stage: Optional[str], encounter: Optional[str], participant: Optional[str],
          tag: Optional[str], code: Optional[str], since: Optional[str], until: Optional[str],
          limit: Optional[int], fmt: Optional[str]) -> None:
    """List records of a type (default: observations), in time order, newest last.

    Notes go by when they happened (their observed time, else when they were written),
    encounters by their start."""
    project = get_project()
    filters = _filters(project, since, until, stage=stage, encounter=encounter, participant=participant,
                       tag=tag, code=code)
    if type_name not in ("observation", "memo"):
        wrong = [key for key in TEXT_FILTERS if key in filters]
        if wrong:
            raise InvalidInput(f"--{wrong[0]} applies to observations and memos only")
    records = project.list(type_name, limit=limit, order_by="when, id", **filters)
    if fmt in ("json", "csv"):
        output([record_row(r) for r in records], fmt=fmt)
    else:
        output(list_rows(project, type_name, records), LIST_COLUMNS[type_name])


@click.command()
@click.argument("ref")
@json_option
def show(ref: str, fmt: str) -> None:
    """Show one record in full (any id, unique id ending, P03, E12, site or code name)."""
    import datetime as dt

    project = get_project()
    record = project.get(ref)
    data = record_row(record)
    if fmt == "json":
        output(data, fmt="json")
        return
    body = data.pop("body", None)
    shown_times = False
    for key, value in data.items():
        if value in (None, "", [], {}):
            continue
        field = getattr(record, key, None)
        if isinstance(field, dt.datetime):  # JSON keeps UTC; a person reads the project's zone
            value = local_time(project, field, record.observed_precision if key == "observed_at" else "minute")
            shown_times = True
        elif key == "links" and record.type_name == "observation":
            value = [project.get(pid, type_name="participant", include_deleted=True).code for pid in field]
        click.echo(f"{key:>18}: {readable(value)}")
    if shown_times:  # the times above are local; say which zone they are in
        click.echo(f"{'zone':>18}: {project.timezone}")
    if body is not None:
        click.echo("")
        click.echo(body)


@click.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--type", "types", type=click.Choice(["observation", "memo"]), multiple=True)
@filter_options
@click.option("--limit", type=COUNT, default=50, show_default=True, help="At most this many results.")
@format_option
def search(query: tuple, types: tuple, stage: Optional[str], encounter: Optional[str], participant: Optional[str],
           tag: Optional[str], code: Optional[str], since: Optional[str], until: Optional[str], limit: int,
           fmt: Optional[str]) -> None:
    """Full-text search over fieldnotes, jottings and memos, best first.

    QUERY: words (all must match), OR, NOT (or -word), "quoted phrases", prefix*,
    NEAR(a b, 5), brackets, and the filters code:, speaker:, site:, role:, encounter:,
    tag:. Operators are in capitals. See docs/search.md.

    \b
    fieldkit search paid OR remuneration
    fieldkit search '"data protection"' code:consent -e E12
    """
    project = get_project()
    filters = _filters(project, since, until, stage=stage, encounter=encounter, participant=participant,
                       tag=tag, code=code)
    if stage and not types:
        types = ("observation",)
    hits = project.search(" ".join(query), types=types or ("observation", "memo"), limit=limit, **filters)
    rows = [{"id": short(h.record.id) if fmt not in ("json", "csv") else h.record.id,
             "type": h.record.type_name, "rank": round(h.rank, 3), "snippet": h.snippet.replace("\n", " ")}
            for h in hits]
    output(rows, ["id", "type", "rank", "snippet"], fmt or "table")


@click.command()
@click.argument("ref")
@click.option("--reason", default="", help="Why the change was made (kept in history).")
@click.option("--from-file", "from_file", type=click.File("r", encoding="utf-8"),
              help="Take the new text from a file ('-' for stdin) instead of $EDITOR.")
@click.option("--encounter", "-e", help="Link a jotting or fieldnote to this encounter instead ('none': to none); "
                                        "its text is left as it is.")
@click.option("--with", "with_", multiple=True, help="Participants it is also about: P03,P04 (its text is left as it is).")
@click.option("--without", multiple=True, help="Participants it is not about after all (not ones its text @mentions).")
def edit(ref: str, reason: str, from_file: Any, encounter: Optional[str], with_: tuple, without: tuple) -> None:
    """Edit a fieldnote or memo in $EDITOR; the old version stays in its history.

    With --encounter, --with or --without, correct the links of a jotting or fieldnote: the
    encounter it belongs to and the participants it is about (the only changes a jotting
    takes)."""
    from fieldkit.fieldwork.capture import edit as edit_

    project = get_project()
    if encounter is not None or with_ or without:
        if from_file is not None:
            raise click.UsageError("--encounter, --with and --without change links only; "
                                   "give the new text in a separate edit")
        from fieldkit.cli.options import split
        from fieldkit.fieldwork.capture import KEEP, relink

        before = project.get(ref)
        target = KEEP if encounter is None else None if encounter.strip().lower() in ("none", "") else encounter
        updated = relink(project, ref, target, add=split(with_), remove=split(without), reason=reason)
        echo_warnings(project)
        if updated == before:
            click.echo("no change")
            return
        code = project.get(updated.encounter_id, type_name="encounter").code if updated.encounter_id else "no encounter"
        people = [project.get(pid, type_name="participant").code for pid in updated.links]
        click.echo(f"{updated.type_name} {updated.id} now in {code}"
                   + (f", also about {', '.join(people)}" if people else ""))
        return
    record = project.get(ref)
    if getattr(record, "stage", None) == "jotting":
        raise Refused("jottings cannot be changed; use 'fieldkit expand' to write a fieldnote from them "
                      "(or 'fieldkit edit JOTTING --encounter E12 --with P03' to correct its links)")
    if not hasattr(record, "body"):
        raise Refused(f"{record.type_name} records have no text to edit")
    text = from_file.read() if from_file is not None else edit_text(record.body)
    if not text.strip():
        raise InvalidInput("the new text is empty; nothing was saved")
    waiting = {c.id for c in project.list("coding", record_id=record.id, status="review")}
    from fieldkit.cli.capture import unlock_capture

    unlock_capture(project)
    updated = edit_(project, record.id, text, reason=reason)
    echo_warnings(project)
    click.echo("no change" if updated == record else f"{updated.type_name} {updated.id} updated")
    flagged = [c for c in project.list("coding", record_id=record.id, status="review") if c.id not in waiting]
    if flagged:
        click.echo(f"{len(flagged)} coding(s) covered text that changed and now need review: fieldkit code review")


@click.command()
@click.argument("ref")
@click.option("--reason", required=True, help="Why it is deleted (kept in the audit log).")
def delete(ref: str, reason: str) -> None:
    """Tombstone a record: hidden from lists, kept in the database."""
    record = get_project().delete(ref, reason=reason)
    click.echo(f"{record.type_name} {record.id} deleted (tombstoned)")


@click.command()
@click.argument("ref")
@json_option
def history(ref: str, fmt: str) -> None:
    """Show every earlier version of a record."""
    project = get_project()
    rows = [{"version": r.version, "at": r.at, "author": r.author, "reason": r.reason,
             "text": r.data.get("body", ""), "data": r.data} for r in project.history(ref)]
    if fmt == "json":
        output(rows, fmt="json")
        return
    if not rows:
        click.echo("no earlier versions")
        return
    from fieldkit.core.output import preview
    from fieldkit.core.timeinput import from_iso

    output([{**r, "at": local_time(project, from_iso(r["at"])), "text": preview(r["text"])} for r in rows],
           ["version", "at", "author", "reason", "text"])
