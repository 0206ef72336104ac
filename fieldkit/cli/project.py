"""``fieldkit init`` and ``fieldkit config``: creating a project and changing its settings."""

from __future__ import annotations

import json
from typing import Optional

import click

from fieldkit.cli.context import get_project
from fieldkit.cli.output import json_option, output


@click.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--timezone", default="Europe/London", show_default=True, help="Project timezone for typed times.")
@click.option("--author", default="", help="Default author name for new records.")
def init(directory: str, timezone: str, author: str) -> None:
    """Create a new project in DIRECTORY (default: here)."""
    from fieldkit.project import init as init_project

    project = init_project(directory, timezone=timezone, author=author)
    click.echo(f"Created fieldkit project in {project.path}")
    project.close()


@click.command()
@click.argument("key", required=False)
@click.argument("value", required=False)
@json_option
def config(key: Optional[str], value: Optional[str], fmt: str) -> None:
    """Show or change project settings (timezone, author, keystore_path …).

    Flags take true or false; 'anonymise' takes a JSON object. Unknown settings and
    values of the wrong kind are refused (see docs/configuration.md).
    """
    from fieldkit.core import settings

    if key is not None:
        settings.setting(key)  # an unknown key fails before the project is opened
    project = get_project()
    if key is None:
        values = settings.current(project)
        if fmt == "json":
            output(values, fmt="json")
        else:
            for name, current in values.items():
                click.echo(f"{name} = {json.dumps(current, ensure_ascii=False)}")
        return
    if value is None:
        click.echo(json.dumps(project.setting(key), ensure_ascii=False))
        return
    settings.check_user_setting(key)
    project.set_setting(key, settings.parse(key, value))
    click.echo(f"{key} = {json.dumps(project.setting(key), ensure_ascii=False)}")
