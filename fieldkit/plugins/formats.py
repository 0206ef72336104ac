"""Built-in export and import formats, registered like any third-party format."""

from __future__ import annotations

from typing import Callable, TYPE_CHECKING

from fieldkit.hooks.specs import hookimpl

if TYPE_CHECKING:
    from fieldkit.hooks.registry import Exporter, Importer


def _lazy(module: str, name: str):
    """A callable that imports its format module only when it is used (keeps start-up fast)."""

    def call(*args, **kwargs):
        import importlib

        return getattr(importlib.import_module(f"fieldkit.exchange.{module}"), name)(*args, **kwargs)

    call.__name__ = f"{module}.{name}"
    return call


@hookimpl
def register_exporters(register: Callable[[Exporter], None]) -> None:
    """JSONL (lossless backup), Markdown, CSV, HTML and DOCX."""
    from fieldkit.hooks.registry import Exporter

    register(Exporter("jsonl", _lazy("jsonl", "export"),
                      "Lossless backup of the whole project, one JSON object per line (never anonymised)",
                      ".jsonl"))
    register(Exporter("markdown", _lazy("markdown_files", "export"),
                      "Folder of Markdown files, one per encounter, with YAML front matter"))
    register(Exporter("csv", _lazy("csv_tables", "export"),
                      "Folder of CSV tables, one per record type, plus quotes.csv"))
    register(Exporter("html", _lazy("html_report", "export"),
                      "Self-contained HTML report: codebook, coded segments, notes", ".html"))
    register(Exporter("docx", _lazy("docx_report", "export"),
                      "Word report: codebook, coded segments, notes (needs python-docx)", ".docx"))
    register(Exporter("codebook", _lazy("codebook_files", "export"),
                      "The codebook as a YAML (or .json) codebook file", ".yaml"))


@hookimpl
def register_importers(register: Callable[[Importer], None]) -> None:
    """JSONL restore, Markdown folders, transcripts and codebook files."""
    from fieldkit.hooks.registry import Importer

    register(Importer("jsonl", _lazy("jsonl", "load"),
                      "Restore a JSONL backup into an empty project (same ids and history)", ".jsonl"))
    register(Importer("markdown", _lazy("markdown_import", "load"),
                      "A folder (or file) of Markdown notes with YAML front matter", ".md"))
    register(Importer("transcript", _lazy("transcripts", "load"),
                      "An interview or focus-group transcript: speaker turns, WebVTT or SRT", ".txt"))
    register(Importer("codebook", _lazy("codebook_files", "load"),
                      "A codebook file in YAML or JSON", ".yaml"))
