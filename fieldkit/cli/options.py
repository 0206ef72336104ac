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
