"""DOCX export: the same report as the HTML one, as a Word document (needs python-docx).

Word documents are built in memory by python-docx, so unlike the other exports this one
grows with the selection; for very large projects export a selection (``--encounter``,
``--code``, ``--since``) or use CSV.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fieldkit.exchange.exporting import ExportOptions, ExportReport
    from fieldkit.project import Project


def _docx():
    try:
        import docx
    except ImportError:
        from fieldkit.core.errors import MissingExtra

        raise MissingExtra("the docx export needs python-docx: pip install 'fieldkit[docx]'") from None
    return docx


def _rgb(value: str):
    from docx.shared import RGBColor

    from fieldkit.exchange.html_report import colour

    return RGBColor.from_string(colour(value)[1:].upper())


def export(project: Project, dest: Path, options: ExportOptions) -> ExportReport:
    """The ``docx`` exporter: a Word report with the codebook, coded segments and notes."""
    docx = _docx()
    from fieldkit.exchange.report_store import write_report

    def write(tmp, project, report, store, lookups):
        _build(docx, project, report, store, lookups).save(str(tmp))

    return write_report(project, dest, options, "docx", write)


def _build(docx, project, report, store, lookups):
    from docx.enum.text import WD_COLOR_INDEX
    from docx.shared import Pt

    from fieldkit.core.markdown import to_plain_text

    document = docx.Document()
    document.core_properties.title = f"Fieldwork report: {project.path.name}"
    document.core_properties.author = "fieldkit"

    def para(text="", style=None, indent=0):
        paragraph = document.add_paragraph(_x(text), style=style)
        if indent:
            paragraph.paragraph_format.left_indent = Pt(indent)
        return paragraph

    def run(paragraph, text, *, bold=False, italic=False, size=None):
        r = paragraph.add_run(_x(text))
        r.bold, r.italic = bold or None, italic or None
        if size:
            r.font.size = Pt(size)
        return r

    document.add_heading(_x("Fieldwork report"), level=0)
    state = "Anonymised." if report.anonymised else "NOT anonymised: contains the names in the notes."
    para(f"{project.path.name}. {state}")
    for what, n in sorted(report.counts.items()):
        para(f"{n} {what}", style="List Bullet")
    for reason, n in report.left_out_by_reason().items():
        para(f"left out {n}: {reason}", style="List Bullet")
    for warning in report.warnings:
        para(f"warning: {warning}", style="List Bullet")

    counts = store.segment_counts()
    document.add_heading("Codebook", level=1)
    codebook = lookups.codebook()
    if not codebook:
        para("The codebook is empty.")
    for path, code in codebook:
        depth = path.count("/")
        line = para(indent=18 * depth)
        run(line, "\u25a0 ").font.color.rgb = _rgb(code.colour)
        run(line, path, bold=True)
        extra = [] if code.status == "active" else [code.status]
        extra.append(f"{counts.get(code.id, 0)} segments")
        run(line, f" ({', '.join(extra)})")
        for label, field in (("Definition", "definition"), ("Include", "include"), ("Exclude", "exclude"),
                             ("Example", "example")):
            if getattr(code, field):
                detail = para(indent=18 * depth + 18)
                run(detail, f"{label}: ", italic=True)
                run(detail, getattr(code, field))

    document.add_heading("Coded segments", level=1)
    if not counts:
        para("No coded segments in this selection.")
    for path, code_id in sorted(((lookups.code_path(c), c) for c in counts), key=lambda pc: pc[0].lower()):
        document.add_heading(_x(f"{path} ({counts[code_id]})"), level=2)
        for seg in store.segments(code_id):
            quote = para(style="Quote")
            if seg["whole"]:
                run(quote, "[whole record] ", italic=True)
            else:
                run(quote, ("\u2026" if seg["cut_before"] else "") + seg["before"])
            run(quote, seg["quote"], bold=True).font.highlight_color = WD_COLOR_INDEX.YELLOW
            if not seg["whole"]:
                run(quote, seg["after"] + ("\u2026" if seg["cut_after"] else ""))
            where = [seg["label"]] + [f"{k} {seg[k]}" for k in ("encounter", "site") if seg.get(k)]
            if seg.get("participant_roles"):
                where.append(f"roles {seg['participant_roles']}")
            where.append(f"coder {seg['coder']}")
            run(para(), " \u00b7 ".join(where), size=8)

    document.add_heading("Notes and memos", level=1)
    for note in store.notes():
        document.add_heading(_x(note["label"]), level=2)
        meta = [f"id {note['id']}"] + [f"{k} {note[k]}" for k in ("encounter", "site", "participants") if note.get(k)]
        if note["codes"]:
            meta.append("codes " + ", ".join(lookups.code_path(c) for c in note["codes"]))
        run(para(), " \u00b7 ".join(meta), size=8)
        for block in to_plain_text(note["text"]).split("\n\n"):
            if block.strip():
                para(block)
    return document


def _x(text: str) -> str:
    """Word's XML cannot hold most control characters; drop them rather than fail."""
    return "".join(ch for ch in text if (ch in "\t\n" or ord(ch) >= 32) and ch not in "\ufffe\uffff")
