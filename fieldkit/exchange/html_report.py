"""HTML export: one self-contained report file (inline CSS, no scripts, nothing fetched).

Sections: a summary of what is in the report and what was left out, the codebook, the coded
segments of each code highlighted in their context, and the notes and memos rendered from
their Markdown (raw HTML in a note is shown as text, never run).
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fieldkit.exchange.exporting import ExportOptions, ExportReport
    from fieldkit.project import Project

_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
DEFAULT_COLOUR = "#e0a800"  # amber: readable as a highlight and as a swatch

CSS = """
:root { color-scheme: light; --ink: #1d1d1f; --muted: #5f6368; --rule: #d9d9de; --paper: #ffffff; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f4f6; color: var(--ink);
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 52rem; margin: 0 auto; padding: 2rem 1.25rem 4rem; background: var(--paper); min-height: 100vh; }
h1 { font-size: 1.9rem; margin: 0 0 .25rem; }
h2 { font-size: 1.4rem; margin: 2.5rem 0 1rem; padding-bottom: .3rem; border-bottom: 2px solid var(--rule); }
h3 { font-size: 1.1rem; margin: 1.75rem 0 .5rem; }
.meta, .muted { color: var(--muted); font-size: .9rem; }
nav ul { list-style: none; padding: 0; display: flex; gap: 1.25rem; flex-wrap: wrap; }
a { color: #1a5fb4; }
.swatch { display: inline-block; width: .85em; height: .85em; border-radius: 2px; margin-right: .4em;
  vertical-align: -.05em; border: 1px solid rgba(0,0,0,.15); }
.code { margin: .4rem 0 .9rem; }
.code dl { margin: .2rem 0 0 1.3rem; display: grid; grid-template-columns: max-content 1fr; gap: .1rem .8rem;
  font-size: .92rem; }
.code dt { color: var(--muted); }
.code dd { margin: 0; }
.retired, .merged { opacity: .65; }
.segment { margin: .6rem 0 1rem; padding: .6rem .9rem; border-left: 4px solid var(--rule); background: #fafafb;
  white-space: pre-wrap; overflow-wrap: anywhere; }
.segment mark { padding: 0 .1em; border-radius: 2px; color: inherit; }
.segment .where { display: block; white-space: normal; margin-top: .35rem; color: var(--muted); font-size: .85rem; }
article.note { border-top: 1px solid var(--rule); padding-top: .5rem; margin-top: 1.5rem; }
h2 + article.note { border-top: none; margin-top: 0; }
article.note .body { overflow-wrap: anywhere; }
blockquote { margin: .8rem 0; padding: .2rem .9rem; border-left: 4px solid var(--rule); color: #333; }
blockquote.oc, span.oc { background: #fff8e1; border-color: #f0b429; }
.tag { font-size: .8rem; padding: 0 .35em; border-radius: 3px; background: #eef1f6; margin-right: .25em;
  white-space: nowrap; }
table.summary { border-collapse: collapse; font-size: .92rem; }
table.summary td { padding: .15rem .9rem .15rem 0; }
@media print { body { background: none; } main { max-width: none; padding: 0; } a { color: inherit; } }
"""


def colour(value: str) -> str:
    """A code's colour if it is a plain ``#rrggbb`` (it lands in a style attribute), else grey."""
    return value if value and _COLOUR.fullmatch(value) else DEFAULT_COLOUR


def _summary(report) -> str:
    rows = [f"<tr><td>{escape(what)}</td><td>{n}</td></tr>" for what, n in sorted(report.counts.items())]
    rows += [f"<tr><td>left out: {escape(r)}</td><td>{n}</td></tr>" for r, n in report.left_out_by_reason().items()]
    rows += [f"<tr><td>warning: {escape(w)}</td><td></td></tr>" for w in report.warnings]
    state = "anonymised" if report.anonymised else "NOT anonymised: contains the names in the notes"
    return (f'<p class="meta">{escape(state)}</p>'
            f'<table class="summary">{"".join(rows) or "<tr><td>nothing exported</td></tr>"}</table>')


def _codebook(lookups, counts) -> str:
    parts = []
    for path, code in lookups.codebook():
        depth = path.count("/")
        defs = "".join(f"<dt>{label}</dt><dd>{escape(getattr(code, field))}</dd>"
                       for label, field in (("Definition", "definition"), ("Include", "include"),
                                            ("Exclude", "exclude"), ("Example", "example"))
                       if getattr(code, field))
        status = "" if code.status == "active" else f' <span class="muted">({escape(code.status)})</span>'
        n = counts.get(code.id, 0)
        link = f'<a href="#code-{code.id}">{n} segment{"s" if n != 1 else ""}</a>' if n else '<span class="muted">no segments</span>'
        parts.append(
            f'<div class="code {escape(code.status)}" style="margin-left:{depth * 1.5}em">'
            f'<span class="swatch" style="background:{colour(code.colour)}"></span>'
            f'<strong>{escape(path)}</strong>{status} · {link}'
            + (f"<dl>{defs}</dl>" if defs else "") + "</div>"
        )
    return "\n".join(parts) or '<p class="muted">The codebook is empty.</p>'


def _where(seg: dict) -> str:
    bits = [f'<a href="#r-{escape(seg["record_id"])}">{escape(seg["label"])}</a>']
    for key, label in (("encounter", "encounter"), ("site", "site"), ("participant_roles", "roles")):
        if seg.get(key):
            bits.append(f"{label} {escape(seg[key])}")
    bits.append(f"coder {escape(seg['coder'])}")
    return f'<span class="where">{" · ".join(bits)}</span>'


def _segment(seg: dict, fill: str) -> str:
    mark = f'<mark style="background:{fill}55">{escape(seg["quote"])}</mark>'
    if seg["whole"]:
        return f'<div class="segment"><span class="muted">[whole record]</span> {mark}{_where(seg)}</div>'
    before = ("…" if seg["cut_before"] else "") + escape(seg["before"])
    after = escape(seg["after"]) + ("…" if seg["cut_after"] else "")
    return f'<div class="segment">{before}{mark}{after}{_where(seg)}</div>'


def _note(note: dict, lookups, anchored=frozenset()) -> str:
    from fieldkit.core.markdown import to_html

    def tag(c):
        # a link only to a code with a heading of segments in this report (a whole-record coding
        # of a record left out of the segments has none)
        inner = (f'<span class="swatch" style="background:'
                 f'{colour(lookups.codes[c].colour) if c in lookups.codes else DEFAULT_COLOUR}"></span>'
                 f'{escape(lookups.code_path(c))}')
        return f'<a class="tag" href="#code-{c}">{inner}</a>' if c in anchored else f'<span class="tag">{inner}</span>'

    codes = " ".join(tag(c) for c in note["codes"])
    meta = [f"id {escape(note['id'])}"]
    for key in ("encounter", "site", "participants"):
        if note.get(key):
            meta.append(f"{key} {escape(note[key])}")
    return (f'<article class="note" id="r-{escape(note["id"])}"><h3>{escape(note["label"])}</h3>'
            f'<div class="meta">{" · ".join(meta)}</div>'
            + (f'<div class="meta">{codes}</div>' if codes else "")
            + f'<div class="body">{to_html(note["text"])}</div></article>\n')


def export(project: Project, dest: Path, options: ExportOptions) -> ExportReport:
    """The ``html`` exporter: one self-contained ``.html`` report."""
    from fieldkit.exchange.report_store import write_report

    return write_report(project, dest, options, "html", _write)


def _write(path: Path, project, report, store, lookups) -> None:
    counts = store.segment_counts()
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
                  '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
                  '<meta name="generator" content="fieldkit">\n'
                  f"<title>Fieldwork report: {escape(project.path.name)}</title>\n<style>{CSS}</style>\n"
                  "</head>\n<body>\n<main>\n")
        out.write(f"<header><h1>Fieldwork report</h1><p class=\"meta\">{escape(project.path.name)}</p>"
                  f"{_summary(report)}</header>\n")
        out.write('<nav><ul><li><a href="#codebook">Codebook</a></li><li><a href="#segments">Coded segments</a>'
                  '</li><li><a href="#notes">Notes and memos</a></li></ul></nav>\n')
        out.write(f'<section id="codebook"><h2>Codebook</h2>\n{_codebook(lookups, counts)}\n</section>\n')
        out.write('<section id="segments"><h2>Coded segments</h2>\n')
        wrote = False
        for path_, code in sorted(((lookups.code_path(c), c) for c in counts), key=lambda pc: pc[0].lower()):
            fill = colour(lookups.codes[code].colour) if code in lookups.codes else DEFAULT_COLOUR
            out.write(f'<h3 id="code-{escape(code)}"><span class="swatch" style="background:{fill}"></span>'
                      f'{escape(path_)} <span class="muted">({counts[code]})</span></h3>\n')
            for seg in store.segments(code):
                out.write(_segment(seg, fill) + "\n")
            wrote = True
        if not wrote:
            out.write('<p class="muted">No coded segments in this selection.</p>\n')
        out.write('</section>\n<section id="notes"><h2>Notes and memos</h2>\n')
        for note in store.notes():
            out.write(_note(note, lookups, counts))
        out.write("</section>\n</main>\n</body>\n</html>\n")
