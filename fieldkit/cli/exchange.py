"""Exchange commands: ``export``, ``import`` and ``demo`` (over ``fieldkit.exchange.exporting.run_export``,
``fieldkit.exchange.importing.run_importer`` and ``fieldkit.demo.build_demo``)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from fieldkit.cli.context import get_project
from fieldkit.cli.options import export_options, pairs, progress_option, selection_options, show_progress, split


class _FormatsCommand(click.Command):
    """A command whose help ends with the formats registered right now (plugins included)."""

    kind = "exporters"

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
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
@selection_options
@click.option("--for", "program", type=click.Choice(["nvivo", "atlas", "maxqda", "qualcoder"]),
              help="qdpx: write what this program reads, and warn what it will drop.")
@click.option("--force", is_flag=True, help="Replace an existing file, or a folder an earlier export wrote.")
@progress_option
def export_command(format_name: str, dest: Path, program: Optional[str], force: bool, progress: Optional[bool],
                   **selection) -> None:
    """Export the project (or a selection) as FORMAT to DEST; anonymised unless --raw.

    Prints what was exported and what was left out, and why. Every export is listed in the
    export register (fieldkit copies).
    """
    from fieldkit.exchange.exporting import run_export

    project = get_project()
    if program and format_name != "qdpx":
        raise InvalidInput("--for applies to qdpx exports only")
    options = export_options(project, **selection, program=program, progress=show_progress(progress), force=force)
    report = run_export(project, format_name, dest, options)
    for line in report.summary_lines():
        click.echo(line)
    if selection["raw"]:
        click.echo("Warning: NOT anonymised; this export contains the names and details in your notes.", err=True)


offsets_option = click.option(
    "--offsets", type=click.Choice(["auto", "codepoints", "utf16"]), default="auto", show_default=True,
    help="qdpx: what the file's text positions count (auto: from the producing tool, checked against words).")


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
@offsets_option
@progress_option
def import_command(format_name: str, source: Path, encounter: Optional[str], speakers: tuple, allow_unknown: bool,
                   stage: Optional[str], tags: tuple, at: Optional[str], dry_run: bool, extra: tuple,
                   offsets: str, progress: Optional[bool]) -> None:
    """Import SOURCE (a file or folder) in FORMAT into the project, all or nothing."""
    from fieldkit.exchange.importing import ImportOptions, run_importer

    project = get_project()
    extras = pairs(extra, "--option", "LABEL=VALUE")
    if offsets != "auto":
        extras["offsets"] = offsets
    options = ImportOptions(encounter=encounter, speakers=pairs(speakers, "--speaker", "LABEL=VALUE"), allow_unknown=allow_unknown,
                            stage=stage, tags=tuple(split(tags)), at=at, dry_run=dry_run,
                            progress=show_progress(progress), extra=extras)
    _run_import(lambda: run_importer(project, format_name, source, options))


def _run_import(run) -> None:
    """Run an import and print its report; every problem is listed when there are several."""
    from fieldkit.exchange.importing import ImportFailed

    try:
        report = run()
    except ImportFailed as exc:
        # the error line names the first problem; list them all when there are more
        if len(exc.report.problems) > 1:
            for problem in exc.report.problems:
                click.echo(f"problem: {problem}", err=True)
        raise
    for line in report.summary_lines():
        click.echo(line)


@click.command("merge")
@click.argument("source", required=False, type=click.Path(path_type=Path))
@click.option("--review", is_flag=True, help="List the conflicts earlier merges found and left open.")
@click.option("--all", "show_all", is_flag=True, help="With --review: resolved conflicts too.")
@click.option("--resolve", "resolve_id", type=int, metavar="N", help="Mark conflict N resolved.")
@click.option("--dry-run", is_flag=True, help="Read and check everything, report, write nothing.")
@offsets_option
def merge_command(source: Optional[Path], review: bool, show_all: bool, resolve_id: Optional[int], dry_run: bool,
                  offsets: str) -> None:
    """Merge SOURCE (a .qdpx or .jsonl from another copy of this project, e.g. a second coder's)
    into the project: shared records are matched, new codings and records added, and records
    changed on both sides kept in both versions and listed by --review."""
    from fieldkit.exchange import merging

    project = get_project()
    if resolve_id is not None:
        merging.resolve(project, resolve_id)
        click.echo(f"conflict {resolve_id} marked resolved")
        return
    if review or source is None:
        if source is not None:
            raise click.UsageError("give SOURCE to merge, or --review, not both")
        found = merging.review(project, include_resolved=show_all)
        if not found:
            click.echo("no open merge conflicts" if not show_all else "no merge conflicts")
        for row in found:
            state = f" (resolved {row['resolved_at'][:16]})" if row["resolved_at"] else ""
            click.echo(f"{row['id']}. {row['record_type']} {row['record_id']}: {row['what']} "
                       f"[from {row['source']}, {row['at'][:16]}]{state}")
        if found and not show_all:
            click.echo("see both versions with 'fieldkit history ID'; keep one with 'fieldkit edit ID', "
                       "then 'fieldkit merge --resolve N'")
        return
    _run_import(lambda: merging.merge_file(project, source, dry_run=dry_run, offsets=offsets))


@click.command("demo")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def demo_command(directory: Optional[Path]) -> None:
    """Build a fictional probation-inspection project in DIRECTORY (default ./fieldkit-demo),
    code it, anonymise it and export it in every format."""
    from fieldkit.demo import build_demo

    result = build_demo(directory or Path("fieldkit-demo"), echo=lambda line: click.echo(line, err=True))
    for line in result.summary_lines():
        click.echo(line)
