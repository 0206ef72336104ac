"""A record's Markdown body as HTML in which every visible character knows where it came from.

The workbench codes what a person selects, so the page must turn a selection back into
offsets of the stored body. The body is parsed by markdown-it with raw HTML off (so any
HTML in a note is shown as text, never run) and written out here token by token: each run
of visible text that is literally in the source becomes ``<span data-u="N">`` where ``N``
is its UTF-16 offset in the body. Markup that a reader does not see (``**``, link
addresses, ``>``) has no span; characters shown differently from the source (entities,
backslash escapes) are shown without a position, so a selection snaps past them.

Speaker turns come from the store (``store.turns``, written by the transcript and Markdown
speaker-line importers), never from the look of the text: each turn's words carry
``data-turn`` and are preceded by a marker with its speaker and time code, and the text
between the start of its line and its words (the label as the importer wrote it) is
marked as that label. A body without stored turns shows none.
"""

from __future__ import annotations

import bisect
import html
import re
from typing import Optional, Sequence, TYPE_CHECKING

import attrs

from fieldkit.serve.offsets import Utf16Index

if TYPE_CHECKING:
    from markdown_it.token import Token


@attrs.frozen
class ShownTurn:
    """A stored speaker turn as the page shows it: its words are ``body[start:end]``
    (code points); ``speaker`` is what is shown (a participant code, ``(researcher)`` or
    the unregistered label), ``code`` the participant code when there is one (the real-names
    toggle looks it up), ``time`` the time code or empty."""

    start: int
    end: int
    kind: str
    speaker: str
    code: str = ""
    time: str = ""
    time_end: str = ""


class _Writer:
    """Writes the HTML of one body; ``index`` maps code points to UTF-16."""

    def __init__(self, body: str, turns: Sequence[ShownTurn] = ()):
        self.body = body
        self.index = Utf16Index(body)
        self.out: list[str] = []
        starts = [0]
        for m in re.finditer("\n", body):
            starts.append(m.end())
        self.line_starts = starts
        self.turns = sorted(turns, key=lambda t: (t.start, t.end))
        # a turn's label: from the start of its line (or the end of the turn before) to its words
        self.labels, before = [], 0
        for turn in self.turns:
            self.labels.append(min(turn.start, max(body.rfind("\n", 0, turn.start) + 1, before)))
            before = turn.end
        self.cuts = sorted({p for t, label in zip(self.turns, self.labels) for p in (label, t.start, t.end)})
        self.next_turn = 0  # the first turn whose marker is not written yet

    def line(self, n: int) -> int:
        return self.line_starts[n] if n < len(self.line_starts) else len(self.body)

    # text ------------------------------------------------------------------------------
    def text(self, content: str, cursor: int, limit: int) -> int:
        """Write ``content``: with its position when found at or after ``cursor`` (before
        ``limit``), else without one. Returns the new cursor."""
        if not content:
            return cursor
        at = self.body.find(content, cursor, limit)
        if at < 0:
            self.out.append(html.escape(content, quote=False))
            return cursor
        end = at + len(content)
        cuts = [at, *self.cuts[bisect.bisect_right(self.cuts, at):bisect.bisect_left(self.cuts, end)], end]
        for a, b in zip(cuts, cuts[1:]):
            self.out.append(f'<span data-u="{self.index.to_utf16(a)}"{self._turn_attributes(a)}>'
                            f'{html.escape(self.body[a:b], quote=False)}</span>')
        return end

    def _turn_attributes(self, at: int) -> str:
        """Write the markers of turns starting by ``at``; the attributes of the text at ``at``:
        the turn its words belong to, or the label before a turn's words."""
        turns = self.turns
        while self.next_turn < len(turns) and turns[self.next_turn].start <= at:
            if at < turns[self.next_turn].end:  # a turn with no visible words gets no marker
                self._marker(self.next_turn)
            self.next_turn += 1
        current = self.next_turn - 1
        if current >= 0 and at < turns[current].end:
            return f' data-turn="{current}"'
        if self.next_turn < len(turns) and self.labels[self.next_turn] <= at:
            return ' class="turn-label"'
        return ""

    def _marker(self, n: int) -> None:
        """The speaker and time code of turn ``n``, shown before its words (no position: a
        selection snaps past it, and it is not part of the text)."""
        turn = self.turns[n]
        who = html.escape(turn.speaker, quote=False)
        if turn.code:  # a participant: shown by pseudonym, real name only through the toggle
            who = f'<span class="pseudonym" data-code="{html.escape(turn.code)}">{who}</span>'
        time = ""
        if turn.time:
            span = f"{turn.time}\u2013{turn.time_end}" if turn.time_end else turn.time
            time = f'<span class="tc" title="{span}">{turn.time}</span> '
        self.out.append(f'<span class="turn-mark" data-turn="{n}" data-kind="{html.escape(turn.kind)}">'
                        f'{time}<span class="spk">{who}</span></span>')

    def inline(self, token: Token, limit_line: Optional[int] = None) -> None:
        a, b = token.map or (0, len(self.line_starts))
        cursor, limit = self.line(a), self.line(b if limit_line is None else limit_line)
        links: list = []
        for child in token.children or ():
            kind = child.type
            if kind == "text":
                cursor = self.text(child.content, cursor, limit)
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
                        cursor = self.text(grandchild.content, cursor, limit)
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

    def code(self, token: Token) -> None:
        """A fenced or indented code block: each line placed on its own."""
        a, b = token.map or (0, len(self.line_starts))
        cursor, limit = self.line(a), self.line(b)
        self.out.append("<pre><code>")
        for line in token.content.splitlines(keepends=True):
            cursor = self.text(line, cursor, limit)
        self.out.append("</code></pre>")

    # blocks ----------------------------------------------------------------------------
    def render(self, tokens: Sequence[Token]) -> str:
        out = self.out
        for i, token in enumerate(tokens):
            kind = token.type
            if kind == "inline":
                self.inline(token)
            elif kind in ("fence", "code_block"):
                self.code(token)
            elif kind == "hr":
                out.append("<hr>")
            elif kind == "paragraph_open":
                if not token.hidden:
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


def render_body(body: str, turns: Sequence[ShownTurn] = ()) -> str:
    """The body as an HTML fragment with positioned text spans and its stored speaker
    ``turns`` marked (see the module docstring)."""
    from fieldkit.core.markdown import normalise, render_tokens

    body = normalise(body)  # stored bodies already are; offsets count in this text
    return _Writer(body, turns).render(render_tokens(body))
