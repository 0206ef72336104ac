"""Codebook files (YAML or JSON) as an exporter and an importer, over ``fieldkit.coding.codebook``."""

from __future__ import annotations

from pathlib import Path


def export(project, dest: Path, options):
    """The ``codebook`` exporter: the codebook as YAML, or JSON when ``dest`` ends in ``.json``.

    A codebook holds no fieldwork text, so there is nothing to anonymise or select."""
    from fieldkit.coding.codebook import export_codebook, write_codebook
    from fieldkit.exchange.exporting import ExportReport

    report = ExportReport(exporter="codebook", dest=str(dest), anonymised=options.anonymise)
    write_codebook(project, dest, force=options.force)
    report.count("codes", len(export_codebook(project).codes))
    report.files.append(str(dest))
    return report


def load(project, source: Path, options):
    """The ``codebook`` importer: add the file's codes (matched by path) to the project.

    ``--option update=yes`` changes codes that exist with other definitions (old versions kept)."""
    from fieldkit.coding.codebook import load_into_project
    from fieldkit.exchange.importing import ImportReport, run_import

    update = str(options.extra.get("update", "")).lower() in ("1", "yes", "true", "on")
    report = ImportReport(importer="codebook", source=str(source))

    def work():
        loaded = load_into_project(project, Path(source), update=update)
        for what in ("added", "updated", "unchanged", "skipped"):
            items = getattr(loaded, what, ())
            if items:
                report.count(f"codes {what}", len(items))

    return run_import(project, report, work, dry_run=options.dry_run)
