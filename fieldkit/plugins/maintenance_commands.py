"""Commands that look after a project: doctor, backup, attach."""

import click

from fieldkit.hooks.specs import hookimpl


@hookimpl
def register_commands(cli):
    from fieldkit.cli import format_option, get_project, output

    @cli.command()
    @click.option("--fix", is_flag=True, help="Rebuild search indexes and tighten file permissions.")
    @format_option
    def doctor(fix, fmt):
        """Check the project and explain each problem with the command that fixes it."""
        from fieldkit.store.maintenance import doctor as check, fix as repair

        project = get_project()
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
            raise SystemExit(1)

    @cli.command()
    @click.argument("dest", type=click.Path())
    @click.option("--keys", "keys_dest", type=click.Path(), help="Also copy the key store to this separate file.")
    def backup(dest, keys_dest):
        """Make a consistent copy of the project in DEST, even while others write."""
        from fieldkit.store.maintenance import backup as backup_

        result = backup_(get_project(), dest, keys_dest=keys_dest)
        click.echo(f"backed up to {result['dest']} ({result['attachments']} attachment file(s))")
        if result["keystore"]:
            click.echo(f"key store copied to {result['keystore']}")
        elif get_project().setting("keystore_path"):
            click.echo("the key store was NOT copied: keep a separate copy with --keys FILE", err=True)

    @cli.command()
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.option("--to", "record", help="The record it belongs to.")
    def attach(file, record):
        """Keep a file (photo, document, recording) in the project, linked to a record."""
        from fieldkit.store.attachments import attach as attach_

        item = attach_(get_project(), file, record=record)
        click.echo(f"attachment {item.id} saved ({item.filename}, {item.size} bytes)")

    @cli.command()
    @click.option("--remember", is_flag=True, help="Also keep the passphrase in the system keyring.")
    def encrypt(remember):
        """Encrypt the project database with a passphrase (SQLCipher; needs fieldkit[encrypt])."""
        import os

        from fieldkit.store.encryption import encrypt as encrypt_, remember_passphrase

        project = get_project()
        path = project.path
        project.close()
        click.get_current_context().find_root().obj["project"] = None
        secret = os.environ.get("FIELDKIT_PASSPHRASE") or click.prompt(
            "New passphrase", hide_input=True, confirmation_prompt=True, err=True)
        encrypt_(path, secret)
        if remember:
            remember_passphrase(path, secret)
        click.echo(f"encrypted {path}")

    @cli.command()
    def decrypt():
        """Turn an encrypted project back into a plain database."""
        from fieldkit.store.encryption import decrypt as decrypt_
        from fieldkit.store.encryption import stored_passphrase
        from fieldkit.project import find_project

        from pathlib import Path

        root = click.get_current_context().find_root().obj or {}
        path = Path(root["project_path"]) if root.get("project_path") else find_project()
        secret = stored_passphrase(path) or click.prompt("Passphrase", hide_input=True, err=True)
        decrypt_(path, secret)
        click.echo(f"decrypted {path}")
