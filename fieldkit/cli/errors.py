"""How the command line ends when something goes wrong: one line on stderr and an exit code.

====  ==========================================================================
code  meaning
====  ==========================================================================
0     done
1     a problem you can fix: a ``FieldkitError`` from the library (bad input, a record
      that does not exist, a refused operation, a failing plugin), a file or disk problem
      (``OSError``), a busy or read-only database
2     the command line itself is wrong (click's usage errors: unknown option, missing argument)
3     an internal error: a bug in fieldkit (or in a plugin's own code outside a hook);
      ``FIELDKIT_DEBUG=1`` prints the traceback
130   interrupted (Ctrl-C); nothing half-written is kept
====  ==========================================================================

A closed pipe (``fieldkit list | head``) ends the output silently.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import click

from fieldkit.core.errors import FieldkitError

EXIT_OK = 0
EXIT_USER = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130

#: SQLite messages that describe the machine or another program, not a bug in fieldkit
_DATABASE_CONDITIONS = (
    "database is locked", "database table is locked", "disk i/o error", "database or disk is full",
    "readonly database", "unable to open database file", "file is not a database",
    "database disk image is malformed",
)


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def fail(message: str, code: int = EXIT_USER) -> NoReturn:
    """Print ``Error: message`` on stderr and exit with ``code``."""
    click.echo(f"Error: {_one_line(message)}", err=True)
    sys.exit(code)


def _database_condition(exc: BaseException) -> bool:
    module = type(exc).__module__ or ""
    if not (module.startswith("sqlite3") or module.startswith("sqlcipher3")):
        return False
    text = str(exc).lower()
    return any(condition in text for condition in _DATABASE_CONDITIONS)


def _os_message(exc: OSError) -> str:
    text = exc.strerror or str(exc) or type(exc).__name__
    if getattr(exc, "filename", None):
        text += f": {exc.filename}"
    return text


def _debugging() -> bool:
    value = os.environ.get("FIELDKIT_DEBUG", "").strip().lower()
    return value not in ("", "0", "false", "no", "off")


def report(exc: BaseException) -> NoReturn:
    """End the command for ``exc`` with the message and exit code the table above gives."""
    if isinstance(exc, FieldkitError):
        fail(str(exc) or type(exc).__name__)
    if isinstance(exc, KeyboardInterrupt):
        fail("interrupted; nothing half-written was kept", EXIT_INTERRUPTED)
    if isinstance(exc, BrokenPipeError):
        silence_stdout()
        sys.exit(EXIT_USER)
    if isinstance(exc, OSError):
        fail(_os_message(exc))
    if _database_condition(exc):
        fail(f"database error: {exc}")
    if _debugging():
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    from fieldkit import __version__

    fail(f"internal error in fieldkit {__version__}: {type(exc).__name__}: {_one_line(exc) or '(no message)'}. "
         "This is a bug: please report it with the command you ran"
         + (" and the traceback above" if _debugging() else "; FIELDKIT_DEBUG=1 shows the traceback"),
         EXIT_INTERNAL)


def silence_stdout() -> None:
    """After the reader of our output went away: send what is left to /dev/null, quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests)
        pass


def check_arguments(args: list[str]) -> None:
    """Refuse arguments that are not valid UTF-8 (Python keeps the bad bytes as surrogates),
    or that hold a NUL character (no file name or text a shell passes can)."""
    for position, arg in enumerate(args, start=1):
        if not isinstance(arg, str):
            continue
        if "\x00" in arg:
            fail(f"argument {position} contains a NUL character")
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
            fail(f"argument {position} is not valid UTF-8 text: {shown[:60]}")
