"""The project a command works on, opened once per command line and closed at its end."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import click

from fieldkit.cli import editor

if TYPE_CHECKING:
    from pathlib import Path

    from fieldkit.project import Project


def get_project(ctx: Optional[click.Context] = None) -> "Project":
    """The project for this command: --project, FIELDKIT_PROJECT, or the nearest one above.

    An encrypted project asks for its passphrase in a terminal (after FIELDKIT_PASSPHRASE
    and the system keyring)."""
    from fieldkit.project import open as open_project

    ctx = ctx or click.get_current_context()
    root = ctx.find_root()
    obj = root.obj if isinstance(root.obj, dict) else {}
    if obj.get("project") is None:
        from fieldkit.store.connection import PassphraseNeeded

        try:
            obj["project"] = open_project(obj.get("project_path"))
        except PassphraseNeeded:
            if not editor.stdin_is_tty():
                raise
            secret = click.prompt("Passphrase", hide_input=True, err=True)
            obj["project"] = open_project(obj.get("project_path"), passphrase=secret)
        root.obj = obj
        ctx.call_on_close(obj["project"].close)
    return obj["project"]


def forget_project(ctx: Optional[click.Context] = None) -> None:
    """Close the command's project (before a command replaces its file, as ``encrypt`` does)."""
    ctx = ctx or click.get_current_context()
    obj = ctx.find_root().obj
    if isinstance(obj, dict) and obj.get("project") is not None:
        obj["project"].close()
        obj["project"] = None


def project_path(ctx: Optional[click.Context] = None) -> Path:
    """The folder --project or FIELDKIT_PROJECT names, or the nearest project above."""
    from pathlib import Path

    from fieldkit.project import find_project

    ctx = ctx or click.get_current_context()
    obj = ctx.find_root().obj or {}
    return Path(obj["project_path"]) if obj.get("project_path") else find_project()
