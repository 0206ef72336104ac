"""The root ``fieldkit`` group: every command group added explicitly, one module each.

===================  ===========================================================
module               commands
===================  ===========================================================
``cli.project``      init, config
``cli.capture``      jot, note, expand, memo
``cli.records``      list, show, search, edit, delete, history
``cli.fieldwork``    encounter, participant, site
``cli.coding``       code, codebook, autocode, agreement
``cli.privacy``      keys, anonymise (show, review), participant withdraw
``cli.exchange``     export, import, demo
``cli.maintenance``  doctor, backup, attach, attachment, encrypt, decrypt, plugins
``cli.serve``        serve (the browser workbench; its libraries come with the ``serve`` extra)
===================  ===========================================================

A new command group gets its own module and one ``add_command`` line below. Plugins add commands through the ``register_commands``
hook (``fieldkit.cli.groups``).
"""

from __future__ import annotations

from typing import Optional

import click

from fieldkit import __version__
from fieldkit.cli import capture, coding, exchange, fieldwork, maintenance, privacy, project, records, serve
from fieldkit.cli.groups import FieldkitGroup, remember_own_commands


@click.group(cls=FieldkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fieldkit")
@click.option("--project", "project_path", type=click.Path(file_okay=False), envvar="FIELDKIT_PROJECT",
              help="Project directory (default: FIELDKIT_PROJECT, else the nearest one above).")
@click.pass_context
def cli(ctx: click.Context, project_path: Optional[str]) -> None:
    """Capture, keep, code, anonymise and export ethnographic fieldwork data."""
    from fieldkit.core.environment import check_environment

    check_environment()
    ctx.obj = {"project_path": project_path}


for command in (
    project.init, project.config,
    capture.jot, capture.note, capture.expand, capture.memo,
    records.list_, records.show, records.search, records.edit, records.delete, records.history,
    fieldwork.encounter, fieldwork.participant, fieldwork.site,
    coding.code, coding.codebook, coding.autocode, coding.agreement_command,
    privacy.keys, privacy.anonymise,
    exchange.export_command, exchange.import_command, exchange.demo_command,
    maintenance.doctor, maintenance.backup, maintenance.attach, maintenance.attachment, maintenance.encrypt,
    maintenance.decrypt, maintenance.plugins, serve.serve,
):
    cli.add_command(command)
fieldwork.participant.add_command(privacy.participant_withdraw)
remember_own_commands(cli)
