"""Core commands: init, capture (jot, note, expand, memo), fieldwork records, reading and history."""

from __future__ import annotations

import click

from fieldkit.cli import (SubGroup, cli, echo_warnings, format_option, get_project, json_option,
                  output, read_text)
from fieldkit.core.errors import FieldkitError
from fieldkit.core.records import CONSENT_SCOPES, CONSENT_STATUSES, ENCOUNTER_KINDS, MEMO_KINDS, MODES, ROLES, SITE_KINDS


def _record_row(record) -> dict:
    from fieldkit.core.convert import to_json

    return to_json(record)


def _summary_row(record) -> dict:
    """The few fields a table shows for any record."""
    from fieldkit.core.output import preview, short

    row = {"id": short(record.id), "type": record.type_name}
    if record.type_name == "observation":
        row.update(stage=record.stage, when=_when(record), text=preview(record.body))
    elif record.type_name == "memo":
        row.update(stage=record.kind, when=record.created_at.strftime("%Y-%m-%d %H:%M"),
                   text=preview((record.title + ": " if record.title else "") + record.body))
    elif record.type_name == "participant":
        row.update(stage=record.role, when="", text=f"{record.code} {record.organisation}".strip())
    elif record.type_name == "encounter":
        row.update(stage=record.kind, when=record.start.strftime("%Y-%m-%d %H:%M") if record.start else "",
                   text=f"{record.code} {record.title}".strip())
    else:
        row.update(stage=getattr(record, "kind", getattr(record, "status", "")), when="",
                   text=preview(getattr(record, "name", "") or getattr(record, "code", "") or record.id))
    return row


def _when(observation) -> str:
    if not observation.observed_at:
        return ""
    from zoneinfo import ZoneInfo

    project = get_project()
    local = observation.observed_at.astimezone(ZoneInfo(project.timezone))
    return local.strftime("%Y-%m-%d" if observation.observed_precision == "day" else "%Y-%m-%d %H:%M")


def _echo_observed(project, record):
    if record.observed_at and record.observed_raw and record.observed_raw != "now":
        from fieldkit.core.timeinput import ObservedTime, describe

        t = ObservedTime(at=record.observed_at, precision=record.observed_precision, raw=record.observed_raw)
        click.echo(f"  observed: {describe(t, project.timezone)}  (from '{record.observed_raw}')", err=True)


def _parse_when(project, text):
    if not text:
        return None
    from fieldkit.core.timeinput import describe, parse_time

    t = parse_time(text, tz=project.timezone)
    click.echo(f"  time: {describe(t, project.timezone)}  (from '{text}')", err=True)
    return t.at


def _split(values):
    out = []
    for v in values or ():
        out += [x.strip() for x in v.split(",") if x.strip()]
    return out


@cli.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--timezone", default="Europe/London", show_default=True, help="Project timezone for typed times.")
@click.option("--author", default="", help="Default author name for new records.")
def init(directory, timezone, author):
    """Create a new project in DIRECTORY (default: here)."""
    from fieldkit.project import init as init_project

    project = init_project(directory, timezone=timezone, author=author)
    click.echo(f"Created fieldkit project in {project.path}")
    project.close()


@cli.command()
@click.argument("text", nargs=-1)
@click.option("-e", "--encounter", help="Encounter code or id (e.g. E12).")
@click.option("-t", "--tag", "tags", multiple=True, help="Tag (repeatable).")
@click.option("--at", "when", help="When it happened: 14:05, yesterday 15:30, -20m, ISO 8601.")
@json_option
def jot(text, encounter, tags, when, fmt):
    """Capture a quick jotting (immutable). TEXT, '-' or piped stdin."""
    from fieldkit.fieldwork.capture import jot as jot_

    project = get_project()
    body = read_text(text, allow_editor=False)
    record = jot_(project, body, encounter=encounter, when=when, tags=_split(tags))
    echo_warnings(project)
    if fmt == "json":
        output(_record_row(record), fmt="json")
    else:
        click.echo(f"jotting {record.id} saved")
        _echo_observed(project, record)


@cli.command()
@click.argument("text", nargs=-1)
@click.option("-e", "--encounter", help="Encounter code or id.")
@click.option("-t", "--tag", "tags", multiple=True, help="Tag (repeatable).")
@click.option("--at", "when", help="When it happened.")
@json_option
def note(text, encounter, tags, when, fmt):
    """Write a fieldnote: TEXT, '-' or stdin, or $EDITOR when no text is given."""
    from fieldkit.fieldwork.capture import note as note_

    project = get_project()
    body = read_text(text, template="")
    record = note_(project, body, encounter=encounter, when=when, tags=_split(tags))
    echo_warnings(project)
    if fmt == "json":
        output(_record_row(record), fmt="json")
    else:
        click.echo(f"fieldnote {record.id} saved")
        _echo_observed(project, record)


@cli.command()
@click.argument("encounter", required=False)
@click.option("--day", help="Without an encounter: expand the jottings of this day (default today).")
@click.option("--from-file", "from_file", type=click.File("r", encoding="utf-8"),
              help="Take the fieldnote text from a file instead of $EDITOR ('-' for stdin).")
def expand(encounter, day, from_file):
    """Expand an encounter's jottings into a full fieldnote in $EDITOR."""
    from fieldkit.fieldwork.capture import expand as expand_, expand_template, jottings_for

    project = get_project()
    the_day = None
    if day:
        from zoneinfo import ZoneInfo

        from fieldkit.core.timeinput import parse_time

        the_day = parse_time(day, tz=project.timezone).at.astimezone(ZoneInfo(project.timezone)).date()
    enc = project.get(encounter, type_name="encounter") if encounter else None
    jottings = jottings_for(project, encounter, day=the_day)
    if not jottings:
        raise FieldkitError("no jottings to expand" + (f" for {encounter}" if encounter else " today"))
    template = expand_template(project, jottings, enc)
    if from_file is not None:
        body = from_file.read()
    else:
        from fieldkit.cli.editor import edit_text

        body = edit_text(template)
    from fieldkit.fieldwork.capture import strip_template_comments

    if not strip_template_comments(body).strip() or body == template:
        raise FieldkitError("the fieldnote was left empty or unchanged; nothing was saved")
    record = expand_(project, body, jottings, encounter=encounter)
    echo_warnings(project)
    click.echo(f"fieldnote {record.id} saved, expanding {len(jottings)} jotting(s)")


@cli.command()
@click.argument("text", nargs=-1)
@click.option("-k", "--kind", type=click.Choice(MEMO_KINDS), default="analytic", show_default=True)
@click.option("--title", default="", help="Memo title.")
@click.option("-l", "--link", "links", multiple=True, help="Record, participant, encounter or code it is about.")
@json_option
def memo(text, kind, title, links, fmt):
    """Write a memo: TEXT, '-' or stdin, or $EDITOR."""
    from fieldkit.fieldwork.capture import memo as memo_

    project = get_project()
    body = read_text(text)
    record = memo_(project, body, kind=kind, title=title, links=_split(links))
    echo_warnings(project)
    if fmt == "json":
        output(_record_row(record), fmt="json")
    else:
        click.echo(f"{kind} memo {record.id} saved")


# encounters ---------------------------------------------------------------------------
@cli.group(cls=SubGroup)
def encounter():
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
def encounter_add(kind, code, title, site, people, mode, start, end, summary, fmt):
    """Record an encounter of KIND."""
    from fieldkit.fieldwork.registers import add_encounter

    project = get_project()
    record = add_encounter(project, kind, code=code, title=title, site=site, participants=_split(people),
                           mode=mode, start=_parse_when(project, start), end=_parse_when(project, end),
                           summary=summary)
    if fmt == "json":
        output(_record_row(record), fmt="json")
    else:
        click.echo(f"encounter {record.code} ({record.id}) saved")


@encounter.command("start")
@click.argument("ref")
@click.option("--at", "when", help="Start time (default now).")
def encounter_start(ref, when):
    """Mark an encounter as started."""
    from fieldkit.fieldwork.registers import start_encounter

    project = get_project()
    record = start_encounter(project, ref, _parse_when(project, when))
    click.echo(f"encounter {record.code} started")


@encounter.command("end")
@click.argument("ref")
@click.option("--at", "when", help="End time (default now).")
@click.option("--summary", default=None, help="Contact summary.")
def encounter_end(ref, when, summary):
    """Mark an encounter as ended, optionally with its contact summary."""
    from fieldkit.fieldwork.registers import end_encounter

    project = get_project()
    record = end_encounter(project, ref, _parse_when(project, when), summary)
    click.echo(f"encounter {record.code} ended")


@encounter.command("list")
@format_option
def encounter_list(fmt):
    """List encounters."""
    project = get_project()
    rows = [_record_row(e) for e in project.list("encounter")]
    output(rows, ["code", "kind", "title", "start", "end", "mode"], fmt or "table")


@encounter.command("show")
@click.argument("ref")
@json_option
def encounter_show(ref, fmt):
    """Show an encounter with its participants and notes."""
    project = get_project()
    record = project.get(ref, type_name="encounter")
    notes = project.list("observation", encounter=record.id)
    data = _record_row(record)
    data["observations"] = [_summary_row(n) for n in notes]
    if fmt == "json":
        output(data, fmt="json")
        return
    for key in ("code", "kind", "title", "mode", "start", "end", "summary"):
        click.echo(f"{key:>9}: {data[key] or ''}")
    for p in record.participants:
        person = project.get(p.participant_id)
        click.echo(f"  participant {person.code} ({person.role}){' as ' + p.role if p.role else ''}")
    output(data["observations"], ["id", "stage", "when", "text"])


# participants --------------------------------------------------------------------------
@cli.group(cls=SubGroup)
def participant():
    """People taking part, by pseudonym code; consent."""


@participant.command("add")
@click.argument("code")
@click.option("--role", type=click.Choice(ROLES), default="other", show_default=True)
@click.option("--org", "organisation", default="", help="Organisation (pseudonymous).")
@click.option("--attr", "attrs_", multiple=True, help="Attribute key=value (repeatable).")
@click.option("--note", default="")
@json_option
def participant_add(code, role, organisation, attrs_, note, fmt):
    """Register participant CODE (e.g. P03). Real names go in the key store."""
    from fieldkit.fieldwork.registers import add_participant

    attributes = {}
    for item in attrs_:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise FieldkitError(f"--attr needs key=value, got {item!r}")
        attributes[key.strip()] = value.strip()
    project = get_project()
    record = add_participant(project, code, role=role, organisation=organisation, attributes=attributes, note=note)
    if fmt == "json":
        output(_record_row(record), fmt="json")
    else:
        click.echo(f"participant {record.code} ({record.role}) saved")


@participant.command("list")
@format_option
def participant_list(fmt):
    """List participants with their current consent."""
    from fieldkit.privacy.consent import current_consent

    project = get_project()
    rows = []
    for p in project.list("participant"):
        c = current_consent(project, p.id)
        rows.append({**_record_row(p), "consent": c.status, "scopes": list(c.scopes)})
    output(rows, ["code", "role", "organisation", "consent", "scopes"], fmt or "table")


@participant.command("show")
@click.argument("ref")
@json_option
def participant_show(ref, fmt):
    """Show a participant, their consent history and encounters."""
    project = get_project()
    record = project.get(ref, type_name="participant")
    data = _record_row(record)
    data["consent_events"] = [_record_row(e) for e in project.list("consent", participant=record.id, order_by="at, id")]
    data["encounters"] = [e.code for e in project.list("encounter", participant=record.id)]
    if fmt == "json":
        output(data, fmt="json")
        return
    for key in ("code", "role", "organisation", "attributes", "note", "encounters"):
        click.echo(f"{key:>12}: {data[key]}")
    for e in data["consent_events"]:
        click.echo(f"     consent: {e['at'][:16]} {e['status']} {', '.join(e['scopes'])} {e['note']}".rstrip())


@participant.command("consent")
@click.argument("ref")
@click.argument("status", type=click.Choice(CONSENT_STATUSES))
@click.option("--scope", "scopes", multiple=True, help=f"Scopes: {', '.join(CONSENT_SCOPES)} (comma or repeat).")
@click.option("--at", "when", help="When consent was given or changed.")
@click.option("--note", default="")
def participant_consent(ref, status, scopes, when, note):
    """Record a consent event: given, limited or withdrawn."""
    from fieldkit.privacy.consent import record_consent

    project = get_project()
    scopes = _split(scopes)
    if status == "given" and not scopes:
        scopes = list(CONSENT_SCOPES)
    event = record_consent(project, ref, status, scopes, at=_parse_when(project, when), note=note)
    click.echo(f"consent for {ref}: {event.status} ({', '.join(event.scopes) or 'no scopes'})")


# sites ---------------------------------------------------------------------------------
@cli.group(cls=SubGroup)
def site():
    """Fieldwork sites under pseudonymous names."""


@site.command("add")
@click.argument("name")
@click.option("--kind", type=click.Choice(SITE_KINDS), default="other", show_default=True)
@click.option("--note", default="")
def site_add(name, kind, note):
    """Register site NAME (a pseudonym such as S2 or 'North PDU')."""
    from fieldkit.fieldwork.registers import add_site

    record = add_site(get_project(), name, kind=kind, note=note)
    click.echo(f"site {record.name} ({record.id}) saved")


@site.command("list")
@format_option
def site_list(fmt):
    """List sites."""
    output([_record_row(s) for s in get_project().list("site")], ["name", "kind", "note"], fmt or "table")


# reading -------------------------------------------------------------------------------
def _filter_options(f):
    for decl, kw in reversed([
        (("--stage",), dict(type=click.Choice(["jotting", "fieldnote"]), help="Jottings or fieldnotes.")),
        (("-e", "--encounter"), dict(help="Encounter code or id.")),
        (("-p", "--participant"), dict(help="Participant code (mentioned, or in the encounter).")),
        (("-t", "--tag"), dict(help="Tag.")),
        (("-c", "--code"), dict(help="Code name or path.")),
        (("--since",), dict(help="From this time (14:05, yesterday, ISO).")),
        (("--until",), dict(help="Up to this time.")),
    ]):
        f = click.option(*decl, **kw)(f)
    return f


def _filters(project, stage, encounter, participant, tag, code, since, until):
    from fieldkit.core.timeinput import parse_time

    def when(text):
        return parse_time(text, tz=project.timezone).at if text else None

    return dict(stage=stage, encounter=encounter, participant=participant, tag=tag, code=code,
                since=when(since), until=when(until))


@cli.command("list")
@click.argument("type_name", default="observation",
                type=click.Choice(["observation", "memo", "participant", "encounter", "site", "code", "coding",
                                   "consent", "attachment"]))
@_filter_options
@click.option("--limit", type=int, default=None)
@format_option
def list_(type_name, stage, encounter, participant, tag, code, since, until, limit, fmt):
    """List records of a type (default: observations), newest last."""
    project = get_project()
    filters = _filters(project, stage, encounter, participant, tag, code, since, until)
    filters = {k: v for k, v in filters.items() if v is not None}
    if type_name not in ("observation", "memo"):
        for key in ("stage", "tag", "since", "until"):
            if key in filters and type_name != "observation":
                raise FieldkitError(f"--{key} applies to observations and memos only")
    records = project.list(type_name, limit=limit, **filters)
    if fmt in ("json", "csv"):
        output([_record_row(r) for r in records], fmt=fmt)
    else:
        output([_summary_row(r) for r in records], ["id", "stage", "when", "text"])


@cli.command()
@click.argument("ref")
@json_option
def show(ref, fmt):
    """Show one record in full (any id, unique id ending, P03, E12, site or code name)."""
    project = get_project()
    record = project.get(ref)
    data = _record_row(record)
    if fmt == "json":
        output(data, fmt="json")
        return
    body = data.pop("body", None)
    for key, value in data.items():
        if value not in (None, "", [], {}):
            click.echo(f"{key:>18}: {value}")
    if body is not None:
        click.echo("")
        click.echo(body)


@cli.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--type", "types", type=click.Choice(["observation", "memo"]), multiple=True)
@_filter_options
@click.option("--limit", type=int, default=50, show_default=True)
@format_option
def search(query, types, stage, encounter, participant, tag, code, since, until, limit, fmt):
    """Full-text search over fieldnotes, jottings and memos, best first."""
    project = get_project()
    filters = _filters(project, stage, encounter, participant, tag, code, since, until)
    filters = {k: v for k, v in filters.items() if v is not None}
    if stage and not types:
        types = ("observation",)
    hits = project.search(" ".join(query), types=types or ("observation", "memo"), limit=limit, **filters)
    from fieldkit.core.output import short

    rows = [{"id": short(h.record.id) if fmt not in ("json", "csv") else h.record.id,
             "type": h.record.type_name, "rank": round(h.rank, 3), "snippet": h.snippet.replace("\n", " ")}
            for h in hits]
    output(rows, ["id", "type", "rank", "snippet"], fmt or "table")


@cli.command()
@click.argument("ref")
@click.option("--reason", default="", help="Why the change was made (kept in history).")
@click.option("--from-file", "from_file", type=click.File("r", encoding="utf-8"),
              help="Take the new text from a file ('-' for stdin) instead of $EDITOR.")
def edit(ref, reason, from_file):
    """Edit a fieldnote or memo in $EDITOR; the old version stays in its history."""
    from fieldkit.fieldwork.capture import edit as edit_
    from fieldkit.core.errors import Refused

    project = get_project()
    record = project.get(ref)
    if getattr(record, "stage", None) == "jotting":
        raise Refused("jottings cannot be changed; use 'fieldkit expand' to write a fieldnote from them")
    if not hasattr(record, "body"):
        raise Refused(f"{record.type_name} records have no text to edit")
    if from_file is not None:
        text = from_file.read()
    else:
        from fieldkit.cli.editor import edit_text

        text = edit_text(record.body)
    if not text.strip():
        raise FieldkitError("the new text is empty; nothing was saved")
    updated = edit_(project, record.id, text, reason=reason)
    echo_warnings(project)
    if updated == record:
        click.echo("no change")
    else:
        click.echo(f"{updated.type_name} {updated.id} updated")


@cli.command()
@click.argument("ref")
@click.option("--reason", required=True, help="Why it is deleted (kept in the audit log).")
def delete(ref, reason):
    """Tombstone a record: hidden from lists, kept in the database."""
    record = get_project().delete(ref, reason=reason)
    click.echo(f"{record.type_name} {record.id} deleted (tombstoned)")


@cli.command()
@click.argument("ref")
@json_option
def history(ref, fmt):
    """Show every earlier version of a record."""
    project = get_project()
    revisions = project.history(ref)
    rows = [{"version": r.version, "at": r.at, "author": r.author, "reason": r.reason,
             "text": r.data.get("body", ""), "data": r.data} for r in revisions]
    if fmt == "json":
        output(rows, fmt="json")
        return
    if not rows:
        click.echo("no earlier versions")
        return
    from fieldkit.core.output import preview

    output([{**r, "text": preview(r["text"])} for r in rows], ["version", "at", "author", "reason", "text"])


@cli.command()
@format_option
def plugins(fmt):
    """List loaded plugins, the hooks they implement and what they provide."""
    from fieldkit.hooks.manager import plugin_rows

    rows = plugin_rows()
    if fmt:
        output(rows, fmt=fmt)
    else:
        output(rows, ["name", "builtin", "hooks", "provides"])


@cli.command()
@click.argument("key", required=False)
@click.argument("value", required=False)
@json_option
def config(key, value, fmt):
    """Show or change project settings (timezone, author, keystore_path …)."""
    import json as json_

    project = get_project()
    if key is None:
        rows = dict(sorted(project.settings().items()))
        if fmt == "json":
            output(rows, fmt="json")
        else:
            for k, v in rows.items():
                click.echo(f"{k} = {json_.dumps(v)}")
        return
    if value is None:
        click.echo(json_.dumps(project.setting(key)))
        return
    if key == "timezone":
        from fieldkit.core.timeinput import check_timezone

        check_timezone(value)
    try:
        parsed = json_.loads(value)
    except ValueError:
        parsed = value
    project.set_setting(key, parsed)
    click.echo(f"{key} = {json_.dumps(parsed)}")
