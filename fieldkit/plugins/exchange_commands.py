"""The ``export``, ``import`` and ``demo`` commands: thin wrappers over
``fieldkit.exchange.exporting.run_export``, ``fieldkit.exchange.importing.run_importer`` and ``fieldkit.demo.build_demo``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from fieldkit.hooks.specs import hookimpl


class _FormatsCommand(click.Command):
    """A command whose help ends with the formats registered right now (plugins included)."""

    kind = "exporters"

    def format_epilog(self, ctx, formatter):
        from fieldkit.hooks import manager as plugin_manager

        try:
            found = getattr(plugin_manager, self.kind)()
        except Exception as exc:  # a broken plugin must not break --help
            found, problem = {}, str(exc)
        else:
            problem = ""
        rows = [(name, item.description) for name, item in sorted(found.items())]
        with formatter.section("Formats"):
            formatter.write_dl(rows or [("(none)", problem or "no formats registered")])


class _ImportCommand(_FormatsCommand):
    kind = "importers"


def _when(project, text, *, end=False):
    """A typed time as a UTC datetime; with ``end``, the end of the day/hour it names."""
    if not text:
        return None
    import datetime as dt

    from fieldkit.core.timeinput import describe, parse_time

    t = parse_time(text, tz=project.timezone)
    click.echo(f"  {'until' if end else 'since'}: {describe(t, project.timezone)}  (from '{text}')", err=True)
    if not end:
        return t.at
    span = {"day": dt.timedelta(days=1), "part_of_day": dt.timedelta(hours=5), "hour": dt.timedelta(hours=1),
            "minute": dt.timedelta(minutes=1)}[t.precision]
    return t.at + span - dt.timedelta(microseconds=1)


def _split(values):
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def _show_progress(flag):
    if flag is not None:
        return flag
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


@click.command("export", cls=_FormatsCommand)
@click.argument("format_name", metavar="FORMAT")
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("-e", "--encounter", "encounters", multiple=True, help="Only this encounter (repeat or comma-separate).")
@click.option("--since", help="Only notes observed (memos written) from this time: 2026-03-01, yesterday, ISO.")
@click.option("--until", help="Only up to this time (a date includes the whole day).")
@click.option("-t", "--tag", "tags", multiple=True, help="Only records with this tag (repeatable: all must match).")
@click.option("-c", "--code", "codes", multiple=True, help="Only records coded with this code or a code below it.")
@click.option("--stage", "stages", type=click.Choice(["jotting", "fieldnote"]), multiple=True,
              help="Only jottings or only fieldnotes.")
@click.option("--type", "types", type=click.Choice(["observation", "memo"]), multiple=True,
              help="Only these record types (default both).")
@click.option("--raw", is_flag=True, help="Do NOT anonymise: the export keeps every name in the notes.")
@click.option("--force", is_flag=True, help="Replace an existing file, or a folder an earlier export wrote.")
@click.option("--passphrase-env", metavar="VAR", help="Read the key store passphrase from environment variable VAR.")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: when it is a terminal).")
def export_command(format_name, dest, encounters, since, until, tags, codes, stages, types, raw, force,
                   passphrase_env, progress):
    """Export the project (or a selection) as FORMAT to DEST; anonymised unless --raw.

    Prints what was exported and what was left out, and why.
    """
    from fieldkit.cli import get_project
    from fieldkit.core.errors import FieldkitError
    from fieldkit.exchange.exporting import ExportOptions, run_export

    project = get_project()
    passphrase = None
    if passphrase_env:
        passphrase = os.environ.get(passphrase_env)
        if passphrase is None:
            raise FieldkitError(f"environment variable {passphrase_env} is not set")
    options = ExportOptions(
        anonymise=not raw, encounters=_split(encounters), since=_when(project, since),
        until=_when(project, until, end=True), tags=_split(tags), codes=_split(codes), stages=tuple(stages),
        types=tuple(types) or ("observation", "memo"), passphrase=passphrase, progress=_show_progress(progress),
        force=force,
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
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: when it is a terminal).")
def import_command(format_name, source, encounter, speakers, allow_unknown, stage, tags, at, dry_run, extra, progress):
    """Import SOURCE (a file or folder) in FORMAT into the project, all or nothing."""
    from fieldkit.cli import get_project
    from fieldkit.core.errors import FieldkitError
    from fieldkit.exchange.importing import ImportFailed, ImportOptions, run_importer

    def pairs(values, option):
        out = {}
        for value in values:
            key, sep, val = value.partition("=")
            if not sep or not key.strip() or not val.strip():
                raise FieldkitError(f"{option} needs LABEL=VALUE, got {value!r}")
            out[key.strip()] = val.strip()
        return out

    project = get_project()
    options = ImportOptions(encounter=encounter, speakers=pairs(speakers, "--speaker"), allow_unknown=allow_unknown,
                            stage=stage, tags=_split(tags), at=at, dry_run=dry_run,
                            progress=_show_progress(progress), extra=pairs(extra, "--option"))
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
def demo_command(directory):
    """Build a fictional probation-inspection project in DIRECTORY (default ./fieldkit-demo),
    code it, anonymise it and export it in every format."""
    from fieldkit.demo import build_demo

    result = build_demo(directory or Path("fieldkit-demo"), echo=lambda line: click.echo(line, err=True))
    for line in result.summary_lines():
        click.echo(line)


@hookimpl
def register_commands(cli):
    """Add ``export``, ``import`` and ``demo``."""
    for command in (export_command, import_command, demo_command):
        cli.add_command(command)
