"""What the HTML and Word reports show, gathered in one streaming pass.

A report lists the coded segments per code before the notes themselves, so the segments
are parked in a temporary SQLite file (owner-only, beside the destination) instead of in
memory. ``gather`` runs ``export_items`` once and fills the store.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, TYPE_CHECKING

if TYPE_CHECKING:
    from fieldkit.core.records import Record
    from fieldkit.exchange.exporting import ExportOptions, ExportReport, Lookups
    from fieldkit.privacy.anonymiser import Anonymiser
    from fieldkit.project import Project

CONTEXT = 80  # characters shown either side of a coded segment


class ReportStore:
    """Segments (by code) and notes (in export order) waiting to be written out."""

    def __init__(self, folder: Path):
        self.conn = sqlite3.connect(str(Path(folder) / "report.db"))
        self.conn.execute("create table segments (seq integer primary key, code_id text, data text)")
        self.conn.execute("create index segments_code on segments (code_id, seq)")
        self.conn.execute("create table notes (seq integer primary key, data text)")

    def add_segment(self, code_id: str, data: dict) -> None:
        self.conn.execute("insert into segments (code_id, data) values (?, ?)", [code_id, json.dumps(data)])

    def add_note(self, data: dict) -> None:
        self.conn.execute("insert into notes (data) values (?)", [json.dumps(data)])

    def segment_counts(self) -> dict:
        return dict(self.conn.execute("select code_id, count(*) from segments group by code_id"))

    def segments(self, code_id: str) -> Iterator[dict[str, Any]]:
        for (data,) in self.conn.execute("select data from segments where code_id = ? order by seq", [code_id]):
            yield json.loads(data)

    def notes(self) -> Iterator[dict[str, Any]]:
        for (data,) in self.conn.execute("select data from notes order by seq"):
            yield json.loads(data)

    def close(self) -> None:
        self.conn.close()


def note_label(project: Project, record: Record, texts: Callable[[str], str] = str) -> str:
    """A short heading for a note: ``Fieldnote · 2026-03-12 14:05`` or ``Memo (analytic): title``.

    ``texts`` prepares the free-text title for export (anonymises it)."""
    from fieldkit.exchange.markdown_files import local_time

    if record.type_name == "observation":
        when = local_time(project, record.observed_at, record.observed_precision)
        return record.stage.capitalize() + (f" · {when}" if when else "")
    return f"Memo ({record.kind})" + (f": {texts(record.title)}" if record.title else "")


def gather(project: Project, options: ExportOptions, report: ExportReport, store: ReportStore, lookups: Lookups,
           texts: Callable[[str], str], *, anonymiser: Optional[Anonymiser] = None) -> None:
    """Stream the export's items into ``store``; quotes without consent are left out.
    ``anonymiser`` is the export's (``fieldkit.exchange.exporting.export_anonymiser``)."""
    from fieldkit.exchange.exporting import LeftOut, count_selected, export_items, progress, selected_code_ids

    wanted = set(selected_code_ids(project, options)) if options.codes else None
    items = export_items(project, options, report, anonymiser=anonymiser)
    length = count_selected(project, options) if options.progress else None
    with progress(options, items, length=length, label=report.exporter) as items:
        for item in items:
            record, text = item.record, item.text
            context = lookups.context(record)
            label = note_label(project, record, texts)
            codes = sorted({c.code_id for c in (*item.codings, *item.withheld)}, key=lookups.code_path)
            store.add_note({"id": record.id, "type": record.type_name, "label": label, "text": text,
                            "codes": codes, **context})
            report.count(f"{record.type_name}s")
            for coding in item.withheld:
                if wanted is None or coding.code_id in wanted:
                    report.left_out.append(LeftOut(coding.id, "quote", "no consent to quotes"))
            for coding in item.codings:  # export_items passes only codings that may be quoted
                if wanted is not None and coding.code_id not in wanted:
                    continue
                whole = coding.start is None
                start, end = (0, len(text)) if whole else (coding.start, coding.end)
                store.add_segment(coding.code_id, {
                    "record_id": record.id, "label": label, "whole": whole,
                    "before": "" if whole else text[max(0, start - CONTEXT):start],
                    "cut_before": not whole and start > CONTEXT,
                    "quote": text[start:end],
                    "after": "" if whole else text[end:end + CONTEXT],
                    "cut_after": not whole and end + CONTEXT < len(text),
                    "coder": coding.coder, **context,
                })
                report.count("coded segments")


def write_report(project: Project, dest: Path, options: ExportOptions, exporter: str,
                 write: Callable[[Path, Project, ExportReport, ReportStore, Lookups], None]) -> ExportReport:
    """Gather the report's material into a scratch store beside ``dest``, then let
    ``write(tmp_path, project, report, store, lookups)`` produce the file, atomically.

    The HTML and Word reports share this, so selection, consent and anonymisation reach both
    the same way and the scratch store never outlives the export."""
    import shutil
    import tempfile

    from fieldkit.exchange.exporting import ExportReport, Lookups, atomic_output, export_anonymiser, text_fields

    report = ExportReport(exporter=exporter, dest=str(dest), anonymised=options.anonymise)
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(atomic_output(dest, force=options.force))
        # one anonymiser for the texts and every free-text field of this export
        anonymiser = export_anonymiser(project, options, report)
        if anonymiser is not None:
            stack.callback(anonymiser.close)
        texts = text_fields(project, options, report, anonymiser=anonymiser)
        lookups = Lookups(project, texts)
        work = Path(tempfile.mkdtemp(prefix=".fieldkit-report-", dir=tmp.parent))
        try:
            store = ReportStore(work)
            try:
                gather(project, options, report, store, lookups, texts, anonymiser=anonymiser)
                write(tmp, project, report, store, lookups)
            finally:
                store.close()
        finally:
            shutil.rmtree(work, ignore_errors=True)
    report.files.append(str(dest))
    return report

