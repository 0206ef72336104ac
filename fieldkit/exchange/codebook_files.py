"""Codebook files (YAML or JSON) as an exporter and an importer, over ``fieldkit.coding.codebook``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fieldkit.exchange.exporting import ExportOptions, ExportReport
    from fieldkit.exchange.importing import ImportOptions, ImportReport
    from fieldkit.project import Project


def export(project: Project, dest: Path, options: ExportOptions) -> ExportReport:
    """The ``codebook`` exporter: the codebook as YAML, or JSON when ``dest`` ends in ``.json``.

    Definitions, titles, include and exclude notes and examples often quote fieldwork, so an
    anonymised export passes them through the anonymiser like any other free text."""
    import attrs

    from fieldkit.coding.codebook import export_codebook
    from fieldkit.coding.codebook_file import dump_codebook
    from fieldkit.exchange.exporting import ExportReport, atomic_output, text_fields

    report = ExportReport(exporter="codebook", dest=str(dest), anonymised=options.anonymise)
    texts = text_fields(project, options, report)
    data = export_codebook(project)
    fields = ("title", "definition", "include", "exclude", "example")
    data = attrs.evolve(data, codes=[attrs.evolve(spec, **{f: texts(getattr(spec, f)) for f in fields})
                                     for spec in data.codes])
    with atomic_output(dest, force=options.force) as tmp:
        tmp.write_text(dump_codebook(data, "json" if Path(dest).suffix.lower() == ".json" else "yaml"),
                       encoding="utf-8")
    report.count("codes", len(data.codes))
    report.files.append(str(dest))
    return report


def load(project: Project, source: Path, options: ImportOptions) -> ImportReport:
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
