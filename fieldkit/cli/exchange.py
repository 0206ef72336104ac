"""Exchange commands: ``export``, ``import`` and ``demo`` (over ``fieldkit.exchange.exporting.run_export``,
``fieldkit.exchange.importing.run_importer`` and ``fieldkit.demo.build_demo``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import click

from fieldkit.cli.context import get_project
from fieldkit.cli.options import pairs, progress_option, show_progress, since_until_options, split, time_range
from fieldkit.core.errors import InvalidInput


class _FormatsCommand(click.Command):
    """A command whose help ends with the formats registered right now (plugins included)."""

    kind = "exporters"

    def format_epilog(self, ctx, formatter):
        from fieldkit.core.errors import FieldkitError
        from fieldkit.hooks import manager as plugin_manager

        try:
            found = getattr(plugin_manager, self.kind)()
        except FieldkitError as exc:  # a broken plugin must not break --help
            found, problem = {}, str(exc)
        else:
            problem = ""
        rows = [(name, item.description) for name, item in sorted(found.items())]
        with formatter.section("Formats"):
            formatter.write_dl(rows or [("(none)", problem or "no formats registered")])


class _ImportCommand(_FormatsCommand):
    kind = "importers"


@click.command("export", cls=_FormatsCommand)
@click.argument("format_name", metavar="FORMAT")
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("-e", "--encounter", "encounters", multiple=True, help="Only this encounter (repeat or comma-separate).")
@since_until_options
@click.option("-t", "--tag", "tags", multiple=True, help="Only records with this tag (repeatable: all must match).")
@click.option("-c", "--code", "codes", multiple=True, help="Only records coded with this code or a code below it.")
@click.option("--stage", "stages", type=click.Choice(["jotting", "fieldnote"]), multiple=True,
              help="Only jottings or only fieldnotes.")
@click.option("--type", "types", type=click.Choice(["observation", "memo"]), multiple=True,
              help="Only these record types (default both).")
@click.option("--coder", "coders", multiple=True, metavar="NAME",
              help="Only the codings of this coder (repeat or comma-separate). Auto-coder proposals never leave.")
@click.option("--status", "statuses", type=click.Choice(["ok", "review"]), multiple=True,
              help="Only codings with this status (default both).")
@click.option("--raw", is_flag=True, help="Do NOT anonymise: the export keeps every name in the notes.")
@click.option("--force", is_flag=True, help="Replace an existing file, or a folder an earlier export wrote.")
@click.option("--profile", type=click.Choice(("internal", "publication")), default="internal", show_default=True,
              help="internal: for supervision; publication: quotes only with quote consent, dates to the day.")
@click.option("--passphrase-env", metavar="VAR", help="Read the key store passphrase from environment variable VAR.")
@progress_option
def export_command(format_name: str, dest: Path, encounters: tuple, since: Optional[str], until: Optional[str],
                   tags: tuple, codes: tuple, stages: tuple, types: tuple, coders: tuple, statuses: tuple,
                   raw: bool, force: bool, profile: str, passphrase_env: Optional[str],
                   progress: Optional[bool]) -> None:
    """Export the project (or a selection) as FORMAT to DEST; anonymised unless --raw.

    Prints what was exported and what was left out, and why.
    """
    from fieldkit.exchange.exporting import ExportOptions, run_export

    project = get_project()
    passphrase = None
    if passphrase_env:
        passphrase = os.environ.get(passphrase_env)
        if passphrase is None:
            raise InvalidInput(f"environment variable {passphrase_env} is not set")
    period = time_range(project, since, until)
    options = ExportOptions(
        anonymise=not raw, encounters=tuple(split(encounters)), since=period.since, until=period.until,
        tags=tuple(split(tags)), codes=tuple(split(codes)), stages=tuple(stages),
        types=tuple(types) or None, passphrase=passphrase, progress=show_progress(progress),
        force=force, profile=profile, coders=tuple(split(coders)), statuses=tuple(statuses),
    )
    report = run_export(project, format_name, dest, options)
    for line in report.summary_lines():
        click.echo(line)
    if raw:
        click.echo("Warning: NOT anonymised; this export contains the names and details in your notes.", err=True)


@click.command("import", cls=_ImportCommand)
@click.argument("format_name", metavar="FORMAT")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("-e", "--encounter", help="Encounter the imported notes belong to (transcripts need one).")
@click.option("--speaker", "speakers", multiple=True, metavar="LABEL=CODE",
              help="Map a transcript speaker label to a participant code (repeatable).")
@click.option("--allow-unknown", is_flag=True, help="Import transcript turns of speakers not mapped to a participant.")
@click.option("--stage", type=click.Choice(["jotting", "fieldnote"]), help="Stage of imported notes (default fieldnote).")
@click.option("-t", "--tag", "tags", multiple=True, help="Add this tag to every imported note.")
@click.option("--at", "at", help="When the imported notes were observed (default: from the file or the encounter).")
@click.option("--dry-run", is_flag=True, help="Read and check everything, report, write nothing.")
@click.option("--option", "extra", multiple=True, metavar="KEY=VALUE", help="An option for a plugin's importer.")
@progress_option
def import_command(format_name: str, source: Path, encounter: Optional[str], speakers: tuple, allow_unknown: bool,
                   stage: Optional[str], tags: tuple, at: Optional[str], dry_run: bool, extra: tuple,
                   progress: Optional[bool]) -> None:
    """Import SOURCE (a file or folder) in FORMAT into the project, all or nothing."""
    from fieldkit.exchange.importing import ImportFailed, ImportOptions, run_importer

    project = get_project()
    options = ImportOptions(encounter=encounter, speakers=pairs(speakers, "--speaker", "LABEL=VALUE"), allow_unknown=allow_unknown,
                            stage=stage, tags=tuple(split(tags)), at=at, dry_run=dry_run,
                            progress=show_progress(progress), extra=pairs(extra, "--option", "LABEL=VALUE"))
    try:
        report = run_importer(project, format_name, source, options)
    except ImportFailed as exc:
        # the error line names the first problem; list them all when there are more
        if len(exc.report.problems) > 1:
            for problem in exc.report.problems:
                click.echo(f"problem: {problem}", err=True)
        raise
    for line in report.summary_lines():
        click.echo(line)


@click.command("demo")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def demo_command(directory: Optional[Path]) -> None:
    """Build a fictional probation-inspection project in DIRECTORY (default ./fieldkit-demo),
    code it, anonymise it and export it in every format."""
    from fieldkit.demo import build_demo

    result = build_demo(directory or Path("fieldkit-demo"), echo=lambda line: click.echo(line, err=True))
    for line in result.summary_lines():
        click.echo(line)
