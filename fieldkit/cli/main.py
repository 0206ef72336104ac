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
``cli.exchange``     export, import, merge, demo
``cli.maintenance``  doctor, backup, attach, attachment, encrypt, decrypt, plugins
``cli.serve``        serve (the browser workbench; its libraries come with the ``serve`` extra)
``cli.lifecycle``    member-check, disclosure-report, retention, destroy, copies
===================  ===========================================================

A new command group gets its own module and its commands a line in ``COMMANDS`` below. Plugins add commands through the ``register_commands``
hook (``fieldkit.cli.groups``).
"""

from __future__ import annotations

from typing import Optional

import click

from fieldkit import __version__
from fieldkit.cli.groups import FieldkitGroup

#: fieldkit's own commands: name -> "module:attribute" in ``fieldkit.cli``. A command's
#: module is imported when the command is used, so a jot does not import the whole CLI.
COMMANDS = {
    "init": "project:init", "config": "project:config",
    "jot": "capture:jot", "note": "capture:note", "expand": "capture:expand", "memo": "capture:memo",
    "list": "records:list_", "show": "records:show", "search": "records:search", "edit": "records:edit",
    "delete": "records:delete", "history": "records:history",
    "encounter": "fieldwork:encounter", "participant": "fieldwork:participant", "site": "fieldwork:site",
    "code": "coding:code", "codebook": "coding:codebook", "autocode": "coding:autocode",
    "agreement": "coding:agreement_command",
    "keys": "privacy:keys", "anonymise": "privacy:anonymise",
    "export": "exchange:export_command", "import": "exchange:import_command", "merge": "exchange:merge_command",
    "demo": "exchange:demo_command",
    "doctor": "maintenance:doctor", "backup": "maintenance:backup", "attach": "maintenance:attach",
    "attachment": "maintenance:attachment", "encrypt": "maintenance:encrypt", "decrypt": "maintenance:decrypt",
    "plugins": "maintenance:plugins",
    "serve": "serve:serve",
    "member-check": "lifecycle:member_check", "disclosure-report": "lifecycle:disclosure_report",
    "retention": "lifecycle:retention", "destroy": "lifecycle:destroy", "copies": "lifecycle:copies",
}
#: commands fieldkit adds to a group defined in another module: group -> [(module:attribute)]
SUBCOMMANDS = {
    "participant": ["privacy:participant_withdraw"],
}


@click.group(cls=FieldkitGroup, lazy_commands=COMMANDS, lazy_subcommands=SUBCOMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fieldkit")
@click.option("--project", "project_path", type=click.Path(file_okay=False), envvar="FIELDKIT_PROJECT",
              help="Project directory (default: FIELDKIT_PROJECT, else the nearest one above).")
@click.pass_context
def cli(ctx: click.Context, project_path: Optional[str]) -> None:
    """Capture, keep, code, anonymise and export ethnographic fieldwork data."""
    from fieldkit.core.environment import check_environment

    check_environment()
    ctx.obj = {"project_path": project_path}
