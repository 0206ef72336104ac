"""Text a command takes: from its arguments, from standard input, or from the user's $EDITOR."""

from __future__ import annotations

import os
import sys
from typing import Sequence

from fieldkit.core.errors import FieldkitError, InvalidInput


#: tried in turn when neither $VISUAL nor $EDITOR is set and there is a terminal
FALLBACK_EDITORS = ("nano", "vi")


def _editor_command(give: str) -> str:
    """$VISUAL or $EDITOR; without them, a fallback editor named in one line on a terminal,
    or one line saying how else to give the text."""
    import shutil

    command = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if command:
        return command
    if not (stdin_is_tty() and _stdout_is_tty()):
        raise InvalidInput(f"no $EDITOR is set and there is no terminal to open one in: {give}, or set $EDITOR")
    for name in FALLBACK_EDITORS:
        if shutil.which(name):
            import click

            click.echo(f"no $EDITOR set: opening {name} (set $EDITOR to choose another)", err=True)
            return name
    raise InvalidInput(f"no $EDITOR is set and neither {' nor '.join(FALLBACK_EDITORS)} is installed: {give}, "
                       "or set $EDITOR")


def edit_text(initial: str = "", *, suffix: str = ".md", give: str = "pipe the text in") -> str:
    """Let the user edit ``initial`` in $VISUAL/$EDITOR; returns the saved text.

    The editor command is split like a shell would (``code --wait`` works) but run
    without one, so metacharacters in $EDITOR cannot run other commands. ``give`` says how
    else the text can be given, for the one-line error when no editor can open.
    """
    # imported here: the quick commands (jot) never open an editor
    import shlex
    import subprocess
    import tempfile

    command = _editor_command(give)
    try:
        argv = shlex.split(command)
    except ValueError:
        raise InvalidInput(f"cannot understand $EDITOR={command!r}") from None
    if not argv:
        raise InvalidInput("$EDITOR is empty")
    fd, path = tempfile.mkstemp(prefix="fieldkit-", suffix=suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(initial)
        try:
            result = subprocess.run([*argv, path])
        except FileNotFoundError:
            raise FieldkitError(f"editor not found: {argv[0]} (set $EDITOR)") from None
        if result.returncode != 0:
            raise FieldkitError(f"editor {argv[0]} exited with status {result.returncode}; nothing was saved")
        with open(path, encoding="utf-8") as f:
            return f.read()
    except UnicodeDecodeError:
        raise InvalidInput("the edited file is not valid UTF-8; nothing was saved") from None
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


def read_text(args: Sequence[str], *, allow_editor: bool = True, template: str = "") -> str:
    """Text from arguments, from stdin (``-`` or piped), or from $EDITOR."""
    text = " ".join(args) if args else ""
    if text == "-" or (not text and not stdin_is_tty()):
        data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("input is not valid UTF-8; nothing was saved") from None
        if not text.strip() and args != ("-",) and allow_editor:
            if not (os.environ.get("VISUAL") or os.environ.get("EDITOR")):
                raise InvalidInput("no text given and nothing came in on stdin: give the text as arguments or "
                                   "pipe it in, or set $EDITOR; nothing was saved")
            text = edit_text(template)  # nothing came down the pipe: the editor it is
    elif not text and allow_editor:
        text = edit_text(template, give="give the text as arguments or pipe it in")
    if not text or not text.strip():
        raise InvalidInput("empty text; nothing was saved")
    return text


def _stdout_is_tty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def stdin_is_tty() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return True
