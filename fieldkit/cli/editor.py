"""Opening the user's $EDITOR on a temporary file, without a shell."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile

from fieldkit.core.errors import FieldkitError


def edit_text(initial: str = "", *, suffix: str = ".md") -> str:
    """Let the user edit ``initial`` in $VISUAL/$EDITOR; returns the saved text.

    The editor command is split like a shell would (``code --wait`` works) but run
    without one, so metacharacters in $EDITOR cannot run other commands.
    """
    command = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    try:
        argv = shlex.split(command)
    except ValueError:
        raise FieldkitError(f"cannot understand $EDITOR={command!r}") from None
    if not argv:
        raise FieldkitError("$EDITOR is empty")
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
        raise FieldkitError("the edited file is not valid UTF-8; nothing was saved") from None
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
