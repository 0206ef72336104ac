"""Looking after a project: ``doctor``, ``backup``, ``attach``, ``attachment``, ``encrypt``, ``decrypt`` and
``plugins``."""

from __future__ import annotations

import os
from typing import Optional

import click

from fieldkit.cli.context import forget_project, get_project, project_path
from fieldkit.cli.errors import EXIT_USER
from fieldkit.cli.groups import SubGroup
from fieldkit.cli.output import format_option, output


@click.command()
@click.option("--fix", is_flag=True, help="Rebuild search indexes and tighten file permissions.")
@format_option
def doctor(fix: bool, fmt: Optional[str]) -> None:
    """Check the project and explain each problem with the command that fixes it."""
    from fieldkit.store.maintenance import doctor as check
    from fieldkit.store.maintenance import fix as repair

    project = get_project()
    _finish_withdrawals(project)
    if fix:
        for line in repair(project):
            click.echo(f"fixed: {line}", err=True)
    findings = check(project)
    rows = [{"level": f.level, "check": f.check, "message": f.message, "fix": f.fix} for f in findings]
    if project.setting("keystore_path"):
        from fieldkit.privacy.review import doctor_findings

        rows += doctor_findings(project)
    if fmt:
        output(rows, fmt=fmt)
    elif not rows:
        click.echo("no problems found")
    else:
        for r in rows:
            click.echo(f"{r['level']}: {r['message']}\n    fix: {r['fix']}")
    if any(f.level == "error" for f in findings):
        raise SystemExit(EXIT_USER)


def _finish_withdrawals(project) -> None:
    """A withdrawal interrupted after its project part was committed is finished first:
    the person asked for it and confirmed it (see ``fieldkit.privacy.withdrawal``)."""
    from fieldkit.privacy.withdrawal import finish_pending, pending_withdrawals

    if not pending_withdrawals(project):
        return
    from fieldkit.cli.privacy import keys_passphrase
    from fieldkit.core.errors import FieldkitError

    try:
        finished = finish_pending(project, keys_passphrase(project))
    except FieldkitError as exc:  # reported below as a finding; the other checks still run
        click.echo(f"warning: {exc}", err=True)
        return
    for code in finished:
        click.echo(f"finished: the interrupted withdrawal of {code}", err=True)


@click.command()
@click.argument("dest", type=click.Path())
@click.option("--keys", "keys_dest", type=click.Path(), help="Also copy the key store to this separate file.")
def backup(dest: str, keys_dest: Optional[str]) -> None:
    """Make a consistent copy of the project in DEST, even while others write."""
    from fieldkit.store.maintenance import backup as backup_

    project = get_project()
    result = backup_(project, dest, keys_dest=keys_dest)
    click.echo(f"backed up to {result['dest']} ({result['attachments']} attachment file(s))")
    if result["keystore"]:
        click.echo(f"key store copied to {result['keystore']}")
    elif project.setting("keystore_path"):
        click.echo("the key store was NOT copied: keep a separate copy with --keys FILE", err=True)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--to", "record", help="The record it belongs to.")
def attach(file: str, record: Optional[str]) -> None:
    """Keep a file (photo, document, recording) in the project, linked to a record."""
    from fieldkit.store.attachments import attach as attach_

    item = attach_(get_project(), file, record=record)
    click.echo(f"attachment {item.id} saved ({item.filename}, {item.size} bytes)")


@click.group(cls=SubGroup)
def attachment() -> None:
    """Files kept in the project: open or extract a copy (add one with 'fieldkit attach')."""


@attachment.command("extract")
@click.argument("ref")
@click.argument("dest", type=click.Path(file_okay=True, dir_okay=True), default=".")
@click.option("--force", is_flag=True, help="Replace a file that already exists at DEST.")
def attachment_extract(ref: str, dest: str, force: bool) -> None:
    """Write a copy of attachment REF to DEST (a file, or a folder; default here), owner-only."""
    from fieldkit.store.attachments import extract

    written = extract(get_project(), ref, dest, force=force)
    click.echo(f"wrote {written}")


@attachment.command("open")
@click.argument("ref")
def attachment_open(ref: str) -> None:
    """Open attachment REF in the program your system uses for its type.

    A copy is written to a new private folder inside the project's .opened folder (the
    program needs the file's own name); 'fieldkit doctor --fix' removes such copies."""
    from fieldkit.store.attachments import open_copy

    written = open_copy(get_project(), ref)
    click.echo(f"opening a copy at {written} (fieldkit doctor --fix removes it when you are done)")
    click.launch(str(written))


@click.command()
@click.option("--remember", is_flag=True, help="Also keep the passphrase in the system keyring.")
def encrypt(remember: bool) -> None:
    """Encrypt the project database with a passphrase (SQLCipher; needs fieldkit[encrypt])."""
    from fieldkit.store.encryption import encrypt as encrypt_
    from fieldkit.store.encryption import remember_passphrase

    path = get_project().path
    forget_project()
    secret = os.environ.get("FIELDKIT_PASSPHRASE") or click.prompt(
        "New passphrase", hide_input=True, confirmation_prompt=True, err=True)
    encrypt_(path, secret)
    if remember:
        remember_passphrase(path, secret)
    click.echo(f"encrypted {path}")


@click.command()
def decrypt() -> None:
    """Turn an encrypted project back into a plain database."""
    from fieldkit.store.encryption import decrypt as decrypt_
    from fieldkit.store.encryption import stored_passphrase

    path = project_path()
    secret = stored_passphrase(path) or click.prompt("Passphrase", hide_input=True, err=True)
    decrypt_(path, secret)
    click.echo(f"decrypted {path}")


@click.command()
@format_option
def plugins(fmt: Optional[str]) -> None:
    """List plugins, the hooks they implement and what they provide; a broken one with its error."""
    from fieldkit.hooks.manager import plugin_rows

    rows = plugin_rows()
    if fmt:
        output(rows, fmt=fmt)
        return
    output([{**row, "provides": row["error"] and f"ERROR: {row['error']}" or row["provides"]} for row in rows],
           ["name", "builtin", "hooks", "provides"])
