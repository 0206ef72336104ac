"""Capture commands: ``jot``, ``note``, ``expand`` and ``memo`` (over ``fieldkit.fieldwork.capture``)."""

from __future__ import annotations

from typing import Any, Optional

import click

from fieldkit.cli.context import get_project
from fieldkit.cli.editor import edit_text, read_text
from fieldkit.cli.options import split, warn_if_future
from fieldkit.cli.output import echo_warnings, json_option, output, record_row
from fieldkit.core.errors import InvalidInput
from fieldkit.core.records import MEMO_KINDS


def echo_observed(project: Any, record: Any) -> None:
    """Echo the observed time of a new note as it was understood."""
    if record.observed_at and record.observed_raw and record.observed_raw != "now":
        from fieldkit.core.timeinput import ObservedTime, describe

        t = ObservedTime(at=record.observed_at, precision=record.observed_precision, raw=record.observed_raw)
        click.echo(f"  observed: {describe(t, project.timezone)}  (from '{record.observed_raw}')", err=True)
        warn_if_future(t, "observed time")


def unlock_capture(project: Any) -> None:
    """When names are pseudonymised on capture and the key store is encrypted, get its
    passphrase (FIELDKIT_KEYS_PASSPHRASE, else asked for on the terminal, else one clear
    error) before anything is saved."""
    if not project.setting("pseudonymise_on_capture"):
        return
    from fieldkit.cli.privacy import keys_passphrase

    secret = keys_passphrase(project)
    if secret is not None:
        from fieldkit.privacy.anonymiser import unlock_capture as unlock

        unlock(project, secret)


def _saved(project: Any, record: Any, fmt: str, message: str) -> None:
    echo_warnings(project)
    if fmt == "json":
        output(record_row(record), fmt="json")
    else:
        click.echo(message)
        echo_observed(project, record)


@click.command()
@click.argument("text", nargs=-1)
@click.option("-e", "--encounter", help="Encounter code or id (e.g. E12); default: the current one.")
@click.option("--no-encounter", is_flag=True, help="Do not attach it to the current encounter.")
@click.option("-t", "--tag", "tags", multiple=True, help="Tag (repeatable).")
@click.option("--at", "when", help="When it happened: 14:05, yesterday 15:30, -20m, ISO 8601.")
@click.option("--with", "people", multiple=True, help="Participants it is about besides its @mentions: P03,P04.")
@json_option
def jot(text: tuple, encounter: Optional[str], no_encounter: bool, tags: tuple, when: Optional[str],
        people: tuple, fmt: str) -> None:
    """Capture a quick jotting (immutable). TEXT, '-' or piped stdin.

    Without -e it attaches to the current encounter ('fieldkit encounter start E12'),
    and says so."""
    from fieldkit.fieldwork.capture import jot as jot_

    if encounter and no_encounter:
        raise click.UsageError("give -e or --no-encounter, not both")
    project = get_project()
    body = read_text(text, allow_editor=False)
    unlock_capture(project)
    record = jot_(project, body, encounter=encounter, when=when, tags=split(tags), session=not no_encounter,
                  people=split(people))
    _saved(project, record, fmt, f"jotting {record.id} saved {_where(project, record, encounter)}{_about(people)}")


def _about(people: tuple) -> str:
    """The participants a note was linked to at capture, as the saved line names them."""
    codes = split(people)
    return f", also about {', '.join(codes)}" if codes else ""


def _where(project: Any, record: Any, given: Optional[str]) -> str:
    """Which encounter a jotting went to, and why."""
    if record.encounter_id is None:
        return "(no encounter)"
    code = project.get(record.encounter_id, type_name="encounter").code
    return f"in {code}" if given else f"in {code} (the current encounter)"


@click.command()
@click.argument("text", nargs=-1)
@click.option("-e", "--encounter", help="Encounter code or id.")
@click.option("-t", "--tag", "tags", multiple=True, help="Tag (repeatable).")
@click.option("--at", "when", help="When it happened.")
@click.option("--with", "people", multiple=True, help="Participants it is about besides its @mentions: P03,P04.")
@json_option
def note(text: tuple, encounter: Optional[str], tags: tuple, when: Optional[str], people: tuple, fmt: str) -> None:
    """Write a fieldnote: TEXT, '-' or stdin, or $EDITOR when no text is given."""
    from fieldkit.fieldwork.capture import note as note_

    project = get_project()
    body = read_text(text, template="")
    unlock_capture(project)
    record = note_(project, body, encounter=encounter, when=when, tags=split(tags), people=split(people))
    _saved(project, record, fmt, f"fieldnote {record.id} saved{_about(people)}")


@click.command()
@click.argument("encounter", required=False)
@click.option("--day", help="Without an encounter: expand the jottings of this day (default today).")
@click.option("--from-file", "from_file", type=click.File("r", encoding="utf-8"),
              help="Take the fieldnote text from a file instead of $EDITOR ('-' for stdin).")
@click.option("--all", "include_expanded", is_flag=True, help="Offer jottings already expanded too.")
def expand(encounter: Optional[str], day: Optional[str], from_file: Any, include_expanded: bool) -> None:
    """Expand an encounter's jottings into a full fieldnote in $EDITOR.

    Jottings a fieldnote already expands are not offered again unless --all."""
    from fieldkit.fieldwork.capture import expand as expand_
    from fieldkit.fieldwork.capture import expand_template, jottings_for, strip_template_comments

    project = get_project()
    the_day = None
    if day:
        from zoneinfo import ZoneInfo

        from fieldkit.core.timeinput import parse_time

        the_day = parse_time(day, tz=project.timezone).at.astimezone(ZoneInfo(project.timezone)).date()
    enc = project.get(encounter, type_name="encounter") if encounter else None
    jottings = jottings_for(project, encounter, day=the_day, include_expanded=include_expanded)
    if not jottings:
        where = f" for {encounter}" if encounter else (f" on {the_day}" if the_day else " today")
        done = len(jottings_for(project, encounter, day=the_day, include_expanded=True))
        raise InvalidInput(f"no jottings to expand{where}" + (
            f" ({done} already expanded; --all offers them again)" if done else ""))
    template = expand_template(project, jottings, enc)
    body = from_file.read() if from_file is not None else edit_text(
        template, give="give the fieldnote with --from-file FILE ('-' reads it piped in)")
    if not strip_template_comments(body).strip() or body == template:
        raise InvalidInput("the fieldnote was left empty or unchanged; nothing was saved")
    unlock_capture(project)
    record = expand_(project, body, jottings, encounter=encounter)
    echo_warnings(project)
    click.echo(f"fieldnote {record.id} saved, expanding {len(jottings)} jotting(s)")


@click.command()
@click.argument("text", nargs=-1)
@click.option("-k", "--kind", type=click.Choice(MEMO_KINDS), default="analytic", show_default=True)
@click.option("--title", default="", help="Memo title.")
@click.option("-l", "--link", "links", multiple=True, help="Record, participant, encounter or code it is about.")
@json_option
def memo(text: tuple, kind: str, title: str, links: tuple, fmt: str) -> None:
    """Write a memo: TEXT, '-' or stdin, or $EDITOR."""
    from fieldkit.fieldwork.capture import memo as memo_

    project = get_project()
    body = read_text(text)
    unlock_capture(project)
    record = memo_(project, body, kind=kind, title=title, links=split(links))
    echo_warnings(project)
    if fmt == "json":
        output(record_row(record), fmt="json")
    else:
        click.echo(f"{kind} memo {record.id} saved")
