"""A record's Markdown body as HTML in which every visible character knows where it came from.

The workbench codes what a person selects, so the page must turn a selection back into
offsets of the stored body. The body is parsed by markdown-it with raw HTML off (so any
HTML in a note is shown as text, never run) and written out here token by token: each run
of visible text that is literally in the source becomes ``<span data-u="N">`` where ``N``
is its UTF-16 offset in the body. Markup that a reader does not see (``**``, link
addresses, ``>``) has no span; characters shown differently from the source (entities,
backslash escapes) are shown without a position, so a selection snaps past them.

Transcript turns (``[00:01:02] P03: …`` paragraphs, as ``fieldkit import transcript``
writes them) are marked so the page can show speaker and time code.
"""

from __future__ import annotations

import html
import re
from typing import Optional

import attrs

from fieldkit.serve.offsets import Utf16Index

#: a transcript turn: optional time code, then a speaker label and a colon
TURN = re.compile(r"(?:\[(?P<time>\d{1,2}:\d{2}(?::\d{2})?)\]\s+)?(?P<speaker>[^\W\d_][\w'\u2019 .()-]{0,39}?)\s*:\s")


@attrs.frozen
class Turn:
    """A speaker turn in a body: ``[start, end)`` in code points, speaker label, time code."""

    start: int
    end: int
    speaker: str
    time: str


def turns(body: str) -> list[Turn]:
    """The speaker turns of a transcript body: paragraphs that start ``[hh:mm:ss] LABEL:``.

    Only bodies where the turn form has a time code, or where most paragraphs (two or more)
    are turns, are read as transcripts: a fieldnote paragraph that starts ``Note:``, or a
    one-line jotting that starts with a name and a colon, is not a turn."""
    found, paragraphs = [], 0
    for m in re.finditer(r"(?:^|\n\n)(?P<para>[^\n](?:.|\n(?!\n))*)", body):
        paragraphs += 1
        start, para = m.start("para"), m.group("para").rstrip()
        turn = TURN.match(para)
        if turn:
            found.append(Turn(start, start + len(para), turn.group("speaker").strip(), turn.group("time") or ""))
    if not found:
        return []
    if any(t.time for t in found) or (len(found) >= 2 and len(found) * 2 > paragraphs):
        return found
    return []


class _Writer:
    """Writes the HTML of one body; ``index`` maps code points to UTF-16."""

    def __init__(self, body: str):
        self.body = body
        self.index = Utf16Index(body)
        self.out: list[str] = []
        starts = [0]
        for m in re.finditer("\n", body):
            starts.append(m.end())
        self.line_starts = starts
        self.turn_at = {t.start: t for t in turns(body)}

    def line(self, n: int) -> int:
        return self.line_starts[n] if n < len(self.line_starts) else len(self.body)

    # text ------------------------------------------------------------------------------
    def text(self, content: str, cursor: int, limit: int, marks=()) -> int:
        """Write ``content``: with its position when found at or after ``cursor`` (before
        ``limit``), else without one. Returns the new cursor."""
        if not content:
            return cursor
        at = self.body.find(content, cursor, limit)
        if at < 0:
            self.out.append(html.escape(content, quote=False))
            return cursor
        end = at + len(content)
        cuts = sorted({at, end, *(p for s, e, _ in marks for p in (s, e) if at < p < end)})
        for a, b in zip(cuts, cuts[1:]):
            cls = next((c for s, e, c in marks if s <= a and b <= e), "")
            attr = f' class="{cls}"' if cls else ""
            self.out.append(f'<span data-u="{self.index.to_utf16(a)}"{attr}>'
                            f'{html.escape(self.body[a:b], quote=False)}</span>')
        return end

    def inline(self, token, limit_line: Optional[int] = None, marks=()) -> None:
        a, b = token.map or (0, len(self.line_starts))
        cursor, limit = self.line(a), self.line(b if limit_line is None else limit_line)
        links: list = []
        for child in token.children or ():
            kind = child.type
            if kind == "text":
                cursor = self.text(child.content, cursor, limit, marks)
            elif kind == "text_special":  # an escape or entity: shown, not positioned
                self.out.append(html.escape(child.content, quote=False))
                at = self.body.find(child.markup, cursor, limit)
                if at >= 0:
                    cursor = at + len(child.markup)
            elif kind == "softbreak":
                cursor = self.text("\n", cursor, limit)
            elif kind == "hardbreak":
                self.out.append("<br>")
                at = self.body.find("\n", cursor, limit)
                if at >= 0:
                    cursor = self.text("\n", at, limit)
            elif kind == "code_inline":
                self.out.append("<code>")
                cursor = self.text(child.content, cursor, limit)
                self.out.append("</code>")
            elif kind in ("em_open", "strong_open", "s_open"):
                self.out.append(f"<{child.tag}>")
            elif kind in ("em_close", "strong_close", "s_close"):
                self.out.append(f"</{child.tag}>")
            elif kind == "link_open":
                # links are shown, not followed: the workbench never leaves for another site
                href = child.attrGet("href") or ""
                self.out.append(f'<span class="link" title="{html.escape(str(href))}">')
                links.append(child.markup)
            elif kind == "link_close":
                self.out.append("</span>")
                if links.pop() != "autolink":
                    cursor = self._past_destination(cursor, limit)
            elif kind == "image":
                self.out.append('<span class="image" title="image (not shown)">')
                for grandchild in child.children or ():
                    if grandchild.type == "text":
                        cursor = self.text(grandchild.content, cursor, limit, marks)
                self.out.append("</span>")
                cursor = self._past_destination(cursor, limit)
            else:  # anything else inline (html is off, so no raw HTML) is shown as its text
                if child.content:
                    self.out.append(html.escape(child.content, quote=False))

    def _past_destination(self, cursor: int, limit: int) -> int:
        """After a link's label: step over ``](address)`` so its text is not matched later."""
        body = self.body
        if body.startswith("](", cursor):
            depth, i = 0, cursor + 2
            while i < limit:
                ch = body[i]
                if ch == "\\":
                    i += 2
                    continue
                if ch == "(":
                    depth += 1
                elif ch == ")":
                    if depth == 0:
                        return i + 1
                    depth -= 1
                i += 1
        elif body.startswith("]", cursor):
            end = body.find("]", cursor + 1, limit) if body.startswith("][", cursor) else cursor
            return (end if end >= 0 else cursor) + 1
        return cursor

    def code(self, token) -> None:
        """A fenced or indented code block: each line placed on its own."""
        a, b = token.map or (0, len(self.line_starts))
        cursor, limit = self.line(a), self.line(b)
        self.out.append("<pre><code>")
        for line in token.content.splitlines(keepends=True):
            cursor = self.text(line, cursor, limit)
        self.out.append("</code></pre>")

    # blocks ----------------------------------------------------------------------------
    def render(self, tokens) -> str:
        out = self.out
        marks: tuple = ()
        for i, token in enumerate(tokens):
            kind = token.type
            if kind == "inline":
                self.inline(token, marks=marks)
                marks = ()
            elif kind in ("fence", "code_block"):
                self.code(token)
            elif kind == "hr":
                out.append("<hr>")
            elif kind == "paragraph_open":
                turn = self.turn_at.get(self.line(token.map[0])) if token.map and token.level == 0 else None
                if turn is not None:
                    marks = self._turn_marks(turn)
                    out.append(f'<p class="turn" data-speaker="{html.escape(turn.speaker)}">')
                elif not token.hidden:
                    out.append("<p>")
            elif kind == "paragraph_close":
                if not token.hidden:
                    out.append("</p>")
            elif kind == "blockquote_open":
                oc = i + 2 < len(tokens) and tokens[i + 2].type == "inline" and \
                    re.match(r"\s*oc\s*:", tokens[i + 2].content, re.I)
                out.append('<blockquote class="oc">' if oc else "<blockquote>")
            elif kind == "ordered_list_open":
                start = token.attrGet("start")
                out.append(f'<ol start="{int(start)}">' if start else "<ol>")
            elif kind.endswith("_open") and token.tag:
                out.append(f"<{token.tag}>")
            elif kind.endswith("_close") and token.tag:
                out.append(f"</{token.tag}>")
        return "".join(out)

    def _turn_marks(self, turn: Turn) -> tuple:
        m = TURN.match(self.body, turn.start)
        marks = []
        if m.group("time"):
            marks.append((m.start(), m.start("speaker"), "tc"))
        marks.append((m.start("speaker"), m.end(), "spk"))
        return tuple(marks)


def render_body(body: str) -> str:
    """The body as an HTML fragment with positioned text spans (see the module docstring)."""
    from fieldkit.core.markdown import normalise, render_tokens

    body = normalise(body)  # stored bodies already are; offsets count in this text
    return _Writer(body).render(render_tokens(body))
