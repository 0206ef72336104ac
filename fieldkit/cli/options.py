"""Options several commands share, and reading their values through the library."""

from __future__ import annotations

import sys
from typing import Any, Callable, Iterable, Optional

import click

from fieldkit.core.errors import InvalidInput


#: a count a user types: never negative, and small enough for SQLite's 64-bit integers
COUNT = click.IntRange(min=0, max=2**62)


def split(values: Optional[Iterable[str]]) -> list[str]:
    """Repeated and comma-separated values as one list: ``-t a,b -t c`` -> ``[a, b, c]``."""
    out: list[str] = []
    for value in values or ():
        out += [part.strip() for part in value.split(",") if part.strip()]
    return out


def pairs(values: Iterable[str], option: str, form: str = "KEY=VALUE") -> dict[str, str]:
    """``KEY=VALUE`` options as a dict; a value without ``=`` is one clear error naming ``option``."""
    out = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key.strip() or not val.strip():
            raise InvalidInput(f"{option} needs {form}, got {value!r}")
        out[key.strip()] = val.strip()
    return out


def parse_when(project: Any, text: Optional[str], label: str = "time") -> Any:
    """A typed time as a UTC datetime (None without text), echoed as it was understood."""
    if not text:
        return None
    from fieldkit.core.timeinput import describe, parse_time

    t = parse_time(text, tz=project.timezone)
    click.echo(f"  {label}: {describe(t, project.timezone)}  (from '{text}')", err=True)
    warn_if_future(t, label)
    return t.at


def warn_if_future(t: Any, label: str = "time") -> None:
    """One warning line when a typed time lies in the future (kept, since it may be planned)."""
    from fieldkit.core.timeinput import in_future

    if in_future(t):
        click.echo(f"Warning: the {label} is in the future; if that is a slip, correct it", err=True)


def time_range(project: Any, since: Optional[str], until: Optional[str]) -> Any:
    """``--since``/``--until`` through ``fieldkit.core.timeinput.parse_range``, echoed."""
    from fieldkit.core.timeinput import describe, parse_range

    found = parse_range(since, until, project.timezone)
    for label, t in (("since", found.since_time), ("until", found.until_time)):
        if t is not None:
            click.echo(f"  {label}: {describe(t, project.timezone)}  (from '{t.raw}')", err=True)
    return found


def since_until_options(f: Callable) -> Callable:
    """``--since`` and ``--until`` with the one meaning every command gives them."""
    f = click.option("--until", help="Up to the end of this time: a date includes the whole day.")(f)
    f = click.option("--since", help="From the start of this time: 2026-03-01, yesterday, 14:05, -2h, ISO.")(f)
    return f


def progress_option(f: Callable) -> Callable:
    return click.option("--progress/--no-progress", default=None,
                        help="Progress bar on stderr (default: when it is a terminal).")(f)


def show_progress(flag: Optional[bool]) -> bool:
    """``--progress``/``--no-progress``, else whether stderr is a terminal."""
    if flag is not None:
        return flag
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def selection_options(f: Callable) -> Callable:
    """The options that choose what an export covers (``export``, ``disclosure-report``);
    :func:`export_options` reads them."""
    for option in reversed((
        click.option("-e", "--encounter", "encounters", multiple=True,
                     help="Only this encounter (repeat or comma-separate)."),
        since_until_options,
        click.option("-t", "--tag", "tags", multiple=True, help="Only records with this tag (repeatable: all must match)."),
        click.option("-c", "--code", "codes", multiple=True, help="Only records coded with this code or a code below it."),
        click.option("--stage", "stages", type=click.Choice(["jotting", "fieldnote"]), multiple=True,
                     help="Only jottings or only fieldnotes."),
        click.option("--type", "types", type=click.Choice(["observation", "memo"]), multiple=True,
                     help="Only these record types (default both)."),
        click.option("--coder", "coders", multiple=True, metavar="NAME",
                     help="Only the codings of this coder (repeat or comma-separate). Auto-coder proposals never leave."),
        click.option("--status", "statuses", type=click.Choice(["ok", "review"]), multiple=True,
                     help="Only codings with this status (default both)."),
        click.option("--raw", is_flag=True, help="Do NOT anonymise: the export keeps every name in the notes."),
        click.option("--profile", type=click.Choice(("internal", "publication")), default="internal",
                     show_default=True,
                     help="internal: for supervision; publication: quotes only with quote consent, dates to the day."),
        click.option("--member-checked-only", is_flag=True,
                     help="Keep only coded quotes their participant approved or amended (fieldkit member-check)."),
        click.option("--passphrase-env", metavar="VAR",
                     help="Read the key store passphrase from environment variable VAR."),
    )):
        f = option(f)
    return f


def export_options(project: Any, *, encounters: tuple, since: Optional[str], until: Optional[str], tags: tuple,
                   codes: tuple, stages: tuple, types: tuple, coders: tuple, statuses: tuple, raw: bool, profile: str,
                   member_checked_only: bool, passphrase_env: Optional[str], **extra: Any) -> Any:
    """The ``ExportOptions`` the options of :func:`selection_options` (and ``extra`` fields) ask for."""
    import os

    from fieldkit.exchange.exporting import ExportOptions

    passphrase = None
    if passphrase_env:
        passphrase = os.environ.get(passphrase_env)
        if passphrase is None:
            raise InvalidInput(f"environment variable {passphrase_env} is not set")
    period = time_range(project, since, until)
    return ExportOptions(
        anonymise=not raw, encounters=tuple(split(encounters)), since=period.since, until=period.until,
        tags=tuple(split(tags)), codes=tuple(split(codes)), stages=tuple(stages),
        types=tuple(types) or None, passphrase=passphrase, coders=tuple(split(coders)),
        statuses=tuple(statuses), profile=profile, member_checked_only=member_checked_only, **extra)
