"""The fieldwork registers: ``encounter``, ``participant`` and ``site`` (over ``fieldkit.fieldwork.registers``
and ``fieldkit.privacy.consent``). ``participant withdraw`` lives with the privacy commands."""

from __future__ import annotations

from typing import Optional

import click

from fieldkit.cli.context import get_project
from fieldkit.cli.groups import SubGroup
from fieldkit.cli.options import pairs, parse_when, split
from fieldkit.cli.output import format_option, json_option, local_time, output, record_row, summary_row
from fieldkit.core.records import CONSENT_SCOPES, CONSENT_STATUSES, ENCOUNTER_KINDS, MODES, ROLES, SITE_KINDS


def _report(record, fmt: str, message: str) -> None:
    """The saved record as JSON with --json, else one line about it."""
    if fmt == "json":
        output(record_row(record), fmt="json")
    else:
        click.echo(message)


# encounters ---------------------------------------------------------------------------
@click.group(cls=SubGroup)
def encounter() -> None:
    """Interviews, focus groups, meetings and observed sessions."""


@encounter.command("add")
@click.argument("kind", type=click.Choice(ENCOUNTER_KINDS))
@click.option("--code", help="Short code (default: next E<n>).")
@click.option("--title", default="")
@click.option("--site", help="Site name or id.")
@click.option("--with", "people", multiple=True, help="Participants: P03,P07 or P03:interviewee.")
@click.option("--mode", type=click.Choice(MODES), default="in_person", show_default=True)
@click.option("--start", "start", help="Start time (14:05, yesterday 10:00, ISO).")
@click.option("--end", "end", help="End time.")
@click.option("--summary", default="", help="Contact summary.")
@json_option
def encounter_add(kind: str, code: Optional[str], title: str, site: Optional[str], people: tuple, mode: str,
                  start: Optional[str], end: Optional[str], summary: str, fmt: str) -> None:
    """Record an encounter of KIND."""
    from fieldkit.fieldwork.registers import add_encounter

    project = get_project()
    record = add_encounter(project, kind, code=code, title=title, site=site, participants=split(people),
                           mode=mode, start=parse_when(project, start), end=parse_when(project, end),
                           summary=summary)
    _report(record, fmt, f"encounter {record.code} ({record.id}) saved")


@encounter.command("edit")
@click.argument("ref")
@click.option("--add", "add", multiple=True, help="Add participants: P03,P07 or P03:interviewee.")
@click.option("--remove", "remove", multiple=True, help="Remove participants: P03,P07.")
@click.option("--title", default=None, help="A new title.")
@click.option("--site", default=None, help="Move it to this site ('none': to no site).")
@click.option("--kind", type=click.Choice(ENCOUNTER_KINDS), default=None)
@click.option("--mode", type=click.Choice(MODES), default=None)
@click.option("--start", "start", default=None, help="A new start time ('none' clears it).")
@click.option("--end", "end", default=None, help="A new end time ('none' clears it).")
@click.option("--summary", default=None, help="A new contact summary.")
@click.option("--reason", default="", help="Why (kept in history).")
@json_option
def encounter_edit(ref: str, add: tuple, remove: tuple, title: Optional[str], site: Optional[str],
                   kind: Optional[str], mode: Optional[str], start: Optional[str], end: Optional[str],
                   summary: Optional[str], reason: str, fmt: str) -> None:
    """Change an encounter: its people, title, site, kind, mode, times or summary (with history)."""
    from fieldkit.fieldwork.registers import edit_encounter

    project = get_project()
    times = {}
    for name, text in (("start", start), ("end", end)):
        if text is not None:
            times[name] = None if _none(text) else parse_when(project, text, name)
    if site is not None:
        times["site"] = None if _none(site) else site
    record = edit_encounter(project, ref, add=split(add), remove=split(remove), title=title, kind=kind, mode=mode,
                            summary=summary, reason=reason, **times)
    if fmt == "json":
        output(record_row(record), fmt="json")
    else:
        people = ", ".join(project.get(p.participant_id).code + (f":{p.role}" if p.role else "")
                           for p in record.participants)
        click.echo(f"encounter {record.code} updated (people: {people or 'none'})")


def _none(text: str) -> bool:
    """Whether an option's value asks to clear a field."""
    return text.strip().lower() in ("", "none", "-")


@encounter.command("start")
@click.argument("ref")
@click.option("--at", "when", help="Start time (default now).")
def encounter_start(ref: str, when: Optional[str]) -> None:
    """Start an encounter: it becomes current, and jottings attach to it."""
    from fieldkit.fieldwork.registers import start_encounter

    project = get_project()
    record = start_encounter(project, ref, parse_when(project, when))
    click.echo(f"encounter {record.code} started; jottings attach to it until 'fieldkit encounter stop' "
               "(or the end of the day)")


@encounter.command("stop")
@click.option("--at", "when", help="End time (default now).")
@click.option("--summary", default=None, help="Contact summary.")
def encounter_stop(when: Optional[str], summary: Optional[str]) -> None:
    """End the current encounter: jottings no longer attach to it."""
    from fieldkit.fieldwork.registers import stop_encounter

    project = get_project()
    record = stop_encounter(project, parse_when(project, when), summary)
    click.echo(f"encounter {record.code} ended; jottings no longer attach to it")


@encounter.command("current")
@json_option
def encounter_current(fmt: str) -> None:
    """Say which encounter jottings attach to now, if any."""
    from fieldkit.fieldwork.registers import current_encounter

    record = current_encounter(get_project())
    if fmt == "json":
        if record is None:
            click.echo("null")
        else:
            output(record_row(record), fmt="json")
    else:
        click.echo(f"{record.code} {record.title}".rstrip() if record else "no current encounter")


@encounter.command("end")
@click.argument("ref")
@click.option("--at", "when", help="End time (default now).")
@click.option("--summary", default=None, help="Contact summary.")
def encounter_end(ref: str, when: Optional[str], summary: Optional[str]) -> None:
    """Mark an encounter as ended, optionally with its contact summary."""
    from fieldkit.fieldwork.registers import end_encounter

    project = get_project()
    record = end_encounter(project, ref, parse_when(project, when), summary)
    click.echo(f"encounter {record.code} ended")


@encounter.command("list")
@format_option
def encounter_list(fmt: Optional[str]) -> None:
    """List encounters."""
    project = get_project()
    found = project.list("encounter", order_by="when, id")
    if fmt in ("json", "csv"):
        output([record_row(e) for e in found], fmt=fmt)
        return
    rows = [{**record_row(e), "start": local_time(project, e.start), "end": local_time(project, e.end)}
            for e in found]
    output(rows, ["code", "kind", "title", "start", "end", "mode"])


@encounter.command("show")
@click.argument("ref")
@json_option
def encounter_show(ref: str, fmt: str) -> None:
    """Show an encounter with its participants and notes."""
    project = get_project()
    record = project.get(ref, type_name="encounter")
    notes = project.list("observation", encounter=record.id, order_by="when, id")
    data = record_row(record)
    data["observations"] = [summary_row(project, n) for n in notes]
    if fmt == "json":
        output(data, fmt="json")
        return
    shown = {**data, "start": local_time(project, record.start), "end": local_time(project, record.end)}
    for key in ("code", "kind", "title", "mode", "start", "end", "summary"):
        click.echo(f"{key:>9}: {shown[key] or ''}")
    for p in record.participants:
        person = project.get(p.participant_id)
        click.echo(f"  participant {person.code} ({person.role}){' as ' + p.role if p.role else ''}")
    output(data["observations"], ["id", "stage", "when", "text"])


# participants --------------------------------------------------------------------------
@click.group(cls=SubGroup)
def participant() -> None:
    """People taking part, by pseudonym code; consent."""


@participant.command("add")
@click.argument("code")
@click.option("--role", type=click.Choice(ROLES), default="other", show_default=True)
@click.option("--org", "organisation", default="", help="Organisation (pseudonymous).")
@click.option("--attr", "attrs_", multiple=True, help="Attribute key=value (repeatable).")
@click.option("--note", default="")
@json_option
def participant_add(code: str, role: str, organisation: str, attrs_: tuple, note: str, fmt: str) -> None:
    """Register participant CODE (such as P03). Real names go in the key store."""
    from fieldkit.fieldwork.registers import add_participant

    attributes = pairs(attrs_, "--attr")
    project = get_project()
    record = add_participant(project, code, role=role, organisation=organisation, attributes=attributes, note=note)
    _report(record, fmt, f"participant {record.code} ({record.role}) saved")


@participant.command("edit")
@click.argument("ref")
@click.option("--role", type=click.Choice(ROLES), default=None)
@click.option("--org", "organisation", default=None, help="Organisation (pseudonymous).")
@click.option("--attr", "attrs_", multiple=True, help="Set attribute key=value (repeatable).")
@click.option("--unset", "unset", multiple=True, help="Remove attribute KEY (repeatable).")
@click.option("--note", default=None)
@click.option("--reason", default="", help="Why (kept in history).")
@json_option
def participant_edit(ref: str, role: Optional[str], organisation: Optional[str], attrs_: tuple, unset: tuple,
                     note: Optional[str], reason: str, fmt: str) -> None:
    """Change a participant's role, organisation, attributes or note (with history)."""
    from fieldkit.fieldwork.registers import edit_participant

    record = edit_participant(get_project(), ref, role=role, organisation=organisation,
                              attributes=pairs(attrs_, "--attr"), remove_attributes=split(unset), note=note,
                              reason=reason)
    _report(record, fmt, f"participant {record.code} updated ({record.role})")


@participant.command("import")
@click.argument("csv_file", type=click.File("rb"), metavar="FILE.csv")
@click.option("--dry-run", is_flag=True, help="Check the file and say what would be added; save nothing.")
def participant_import(csv_file, dry_run: bool) -> None:
    """Register participants from a CSV file, all or nothing.

    Columns: code (required), role, organisation, note, consent (given, limited,
    withdrawn), scopes (observation;quotes…) and attr:KEY for free attributes. Real
    names and contact details are refused: they go in the key store."""
    from fieldkit.fieldwork.registers import import_participants

    from fieldkit.core.errors import InvalidInput

    name = str(getattr(csv_file, "name", "the file"))
    try:
        text = csv_file.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{name} is not UTF-8 text (save it as CSV UTF-8); nothing was imported") from None
    result = import_participants(get_project(), text, source=name, dry_run=dry_run)
    click.echo(result.summary())


@participant.command("list")
@format_option
def participant_list(fmt: Optional[str]) -> None:
    """List participants with their current consent."""
    from fieldkit.privacy.consent import current_consent

    project = get_project()
    rows = []
    for p in project.list("participant"):
        c = current_consent(project, p.id)
        rows.append({**record_row(p), "consent": c.status if c else "none", "scopes": list(c.scopes) if c else []})
    output(rows, ["code", "role", "organisation", "consent", "scopes"], fmt or "table")


@participant.command("show")
@click.argument("ref")
@json_option
def participant_show(ref: str, fmt: str) -> None:
    """Show a participant, their consent history and encounters."""
    project = get_project()
    record = project.get(ref, type_name="participant")
    data = record_row(record)
    events = project.list("consent", participant=record.id, order_by="at, id")
    data["consent_events"] = [record_row(e) for e in events]
    data["encounters"] = [e.code for e in project.list("encounter", participant=record.id)]
    if fmt == "json":
        output(data, fmt="json")
        return
    for key in ("code", "role", "organisation", "attributes", "note", "encounters"):
        click.echo(f"{key:>12}: {data[key]}")
    for event, e in zip(events, data["consent_events"]):
        click.echo(f"     consent: {local_time(project, event.at)} {e['status']} {', '.join(e['scopes'])} {e['note']}".rstrip())


@participant.command("consent")
@click.argument("ref")
@click.argument("status", type=click.Choice(CONSENT_STATUSES))
@click.option("--scope", "scopes", multiple=True,
              help=f"Scopes: {', '.join(CONSENT_SCOPES)} (comma or repeat). Without it, 'given' "
                   "means every scope and 'limited' is refused.")
@click.option("--at", "when", help="When consent was given or changed.")
@click.option("--note", default="")
def participant_consent(ref: str, status: str, scopes: tuple, when: Optional[str], note: str) -> None:
    """Record a consent event: given, limited or withdrawn."""
    from fieldkit.privacy.consent import record_consent

    project = get_project()
    event = record_consent(project, ref, status, split(scopes) if scopes else None,
                           at=parse_when(project, when), note=note)
    click.echo(f"consent for {ref}: {event.status} ({', '.join(event.scopes) or 'no scopes'})")


# sites ---------------------------------------------------------------------------------
@click.group(cls=SubGroup)
def site() -> None:
    """Fieldwork sites under pseudonymous names."""


@site.command("add")
@click.argument("name")
@click.option("--kind", type=click.Choice(SITE_KINDS), default="other", show_default=True)
@click.option("--note", default="")
def site_add(name: str, kind: str, note: str) -> None:
    """Register site NAME (a pseudonym such as S2 or 'North PDU')."""
    from fieldkit.fieldwork.registers import add_site

    record = add_site(get_project(), name, kind=kind, note=note)
    click.echo(f"site {record.name} ({record.id}) saved")


@site.command("edit")
@click.argument("ref")
@click.option("--kind", type=click.Choice(SITE_KINDS), default=None)
@click.option("--note", default=None)
@click.option("--reason", default="", help="Why (kept in history).")
def site_edit(ref: str, kind: Optional[str], note: Optional[str], reason: str) -> None:
    """Change a site's kind or note (with history)."""
    from fieldkit.fieldwork.registers import edit_site

    record = edit_site(get_project(), ref, kind=kind, note=note, reason=reason)
    click.echo(f"site {record.name} updated ({record.kind})")


@site.command("rename")
@click.argument("ref")
@click.argument("new_name")
@click.option("--reason", default="", help="Why (kept in history).")
def site_rename(ref: str, new_name: str, reason: str) -> None:
    """Give a site a new name (unique whatever its letter case; history kept)."""
    from fieldkit.fieldwork.registers import edit_site

    project = get_project()
    old = project.get(ref, type_name="site").name
    record = edit_site(project, ref, name=new_name, reason=reason or f"renamed from {old}")
    click.echo(f"site {old} renamed to {record.name}")


@site.command("list")
@format_option
def site_list(fmt: Optional[str]) -> None:
    """List sites."""
    output([record_row(s) for s in get_project().list("site")], ["name", "kind", "note"], fmt or "table")
