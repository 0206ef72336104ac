"""Markdown bodies of fieldnotes and memos.

A body is parsed once, when it is saved, into a :class:`ParsedBody`: the tags
(``#power``), the mentions of participants and sites (``@P03``, ``@S2``), the
observer comments (``> OC: ...`` blockquotes and inline ``[OC: ...]`` asides) and a
plain-text description without those comments.

Rules, in short (``docs/markdown.md`` has the long version):

* Only text a reader would see counts. Code spans, fenced and indented code
  blocks, raw HTML, link and image addresses, autolinks (``<https://...>``) and
  backslash-escaped or entity-encoded characters are never scanned. The visible
  label of a link (``[#power](https://...)``) and the alt text of an image are
  scanned like any other text.
* ``#`` and ``@`` must begin a word: they must come first in a run of text or
  follow whitespace or opening punctuation. So ``C#``, ``issue#3``,
  ``ann@example.org`` and ``https://example.org/#part`` give nothing.
* A tag is ``#`` followed by letters, digits, marks, ``_`` and ``-``, starting
  with a letter or digit and holding at least one letter (``#123`` is not a
  tag). Trailing ``-`` and ``_`` are dropped. Tags are lower-cased.
* A mention is ``@`` followed by a letter and then letters, digits, marks,
  ``_`` and ``-``; it is kept as written. An Obsidian-style link ``[[P01]]`` (or
  ``[[P01|label]]``) is a mention of ``P01`` too. ``@`` followed by something that looks
  like a domain (``@example.org``) or by another ``@`` is not a mention.

Heavy imports (``markdown_it``) happen inside functions so that importing this
module, and running ``fieldkit --help``, stays cheap.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:  # pragma: no cover - typing only
    from markdown_it import MarkdownIt
    from markdown_it.token import Token
    from markdown_it.tree import SyntaxTreeNode

__all__ = [
    "ParsedBody",
    "normalise",
    "parse_body",
    "strip_comments",
    "to_html",
    "to_plain_text",
]

# Stands in, in the "scan" copy of a run of text, for every character that must not
# be scanned for tags or mentions (code, escapes, autolinks). It is neither a word
# character nor an opening character, so it also stops a tag and blocks one that
# would follow it directly.
_MASK = "\ufffc"

# Characters after which "#" or "@" may begin a tag or mention (besides whitespace and
# the start of a run of text).
_OPENERS = frozenset("([{<\"'\u201c\u2018\u00ab\u2039\u201e\u201a,;\u2014\u2013")

# Joiners used inside words in some scripts; allowed inside tags but not at the end.
_JOINERS = "\u200c\u200d"

# "OC:" marker at the start of an observer-comment block (case-insensitive, optional
# spaces before the colon).
_OC_MARK = re.compile(r"[ \t]*oc[ \t]*:[ \t]*", re.IGNORECASE)
# The same marker at the start of any line, used to split one OC block into comments.
_OC_LINE = re.compile(r"^[ \t]*oc[ \t]*:[ \t]*", re.IGNORECASE | re.MULTILINE)
# Opening of an inline observer comment: "[OC:" with optional spaces.
_INLINE_OC_OPEN = re.compile(r"\[[ \t]*oc[ \t]*:[ \t]*", re.IGNORECASE)

# An Obsidian-style link to a note named by a code, "[[P01]]" or "[[P01|the EbE]]": a mention of P01.
_WIKI_LINK = re.compile(r"\[\[([^\W\d_][\w-]*)(?:\|[^\[\]\n]*)?\]\]")

_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_HTML_TAG = re.compile(r"<[^>]*>")


# --------------------------------------------------------------------------- public


def normalise(text: str) -> str:
    """Return ``text`` in Unicode NFC with every line ending turned into ``\\n``.

    Stored bodies are always normalised, and every position fieldkit reports is a
    code-point offset into the normalised text. The function is idempotent.
    """
    if text.isascii() and "\r" not in text:
        return text  # ASCII text is its own NFC form
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


@attrs.frozen
class ParsedBody:
    """What fieldkit keeps from a Markdown body besides the body itself.

    ``tags`` are lower-cased, without ``#``, de-duplicated, in order of first
    appearance; ``mentions`` are pseudonym codes as written (``P03``), without ``@``,
    de-duplicated exactly (``P03`` and ``p03`` are different) in order of first
    appearance; ``comments`` holds the text of every observer comment, without its
    ``OC:`` marker, in document order; ``description`` is the plain text of the body
    with the observer comments left out.
    """

    tags: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    comments: tuple[str, ...] = ()
    description: str = ""


def parse_body(text: str) -> ParsedBody:
    """Parse a fieldnote or memo body (normalising it first) into a :class:`ParsedBody`."""
    from markdown_it.tree import SyntaxTreeNode

    text = normalise(text)
    tokens = _markdown(True).parse(text)
    tags, mentions = _words(text, _visible_runs(tokens))
    comments: list[str] = []
    blocks = _blocks(SyntaxTreeNode(tokens).children, keep_oc=False, comments=comments)
    return ParsedBody(
        tags=tags,
        mentions=mentions,
        comments=tuple(comments),
        description=_join_blocks(blocks),
    )


# Characters that can hide, split or create tags and mentions in Markdown. A body without
# any of them reads the same to the parser as plain text, so it can be scanned directly.
_SPECIAL_CHARS = re.compile(r"[`\\<>\[\]&*_~|\t]")
# ... and lines that are (or underline) a heading or a rule. Tried only on lines starting
# with "#", "-" or "=": one alternation over every position costs bulk imports ~5 us a body.
_SPECIAL_LINE = re.compile(r"#{1,6}(?:[ \t]|$)|(?:-{3,}|={3,})[ \t]*$")


def _has_special(text: str) -> bool:
    if "    " in text or _SPECIAL_CHARS.search(text):
        return True
    for line in text.split("\n"):
        line = line.lstrip(" \t")
        if line[:1] in ("#", "-", "=") and _SPECIAL_LINE.match(line):
            return True
    return False


def tags_and_mentions(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The tags and mentions of a body, as ``parse_body`` gives them.

    A body with no Markdown syntax reads the same to the parser as plain text, so it is
    scanned as it is, without the parser (bulk imports call this for every record).
    """
    text = normalise(text)
    if "#" not in text and "@" not in text and "[[" not in text:
        return (), ()
    runs = _visible_runs(_markdown(True).parse(text)) if _has_special(text) else [text]
    return _words(text, runs)


def _visible_runs(tokens: list[Token]) -> list[str]:
    """The scan strings (see ``_flatten``) of every run of inline text in parsed tokens."""
    return [_flatten(token.children or [])[1] for token in tokens if token.type == "inline"]


def _words(text: str, runs: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The one scanner: tags and mentions in runs of visible text, de-duplicated in order.

    A word glued together across markup (``#<b>x``, ``#*x*``) was never written as one, so a
    word counts only when the body holds it as it reads."""
    tags: dict[str, None] = {}
    mentions: dict[str, None] = {}
    folded = None
    for scan in runs:
        verbatim = scan is text
        for tag in _find_words(scan, "#"):
            if not verbatim:
                folded = folded if folded is not None else text.casefold()
                if ("#" + tag).casefold() not in folded:
                    continue
            tags.setdefault(tag.lower(), None)
        found = [(scan.find("@" + m), m) for m in _find_words(scan, "@") if verbatim or "@" + m in text]
        if "[[" in scan:
            found += [(m.start(), m[1]) for m in _WIKI_LINK.finditer(scan) if verbatim or "[[" + m[1] in text]
            found.sort(key=lambda item: item[0])  # in order of first appearance, either form
        for _at, mention in found:
            mentions.setdefault(mention, None)
    return tuple(tags), tuple(mentions)


def to_plain_text(text: str) -> str:
    """Return the body as readable plain text, with no Markdown syntax left.

    Blocks are separated by blank lines; list items (bulleted or numbered) become
    lines starting with ``"- "`` (nested items indented by two spaces); table rows
    become lines of cells joined by ``" | "``; link labels are kept and their
    addresses dropped; code keeps its content. Observer-comment blocks are kept as
    paragraphs starting ``"OC: "``; inline ``[OC: ...]`` asides stay where they are.
    """
    from markdown_it.tree import SyntaxTreeNode

    tokens = _markdown(True).parse(normalise(text))
    return _join_blocks(_blocks(SyntaxTreeNode(tokens).children, keep_oc=True, comments=None))


def to_html(text: str) -> str:
    """Render the body as an HTML fragment.

    Raw HTML in the body is escaped, never passed through, and unsafe link schemes
    (``javascript:`` and the like) are refused by markdown-it. Observer-comment
    blockquotes get ``class="oc"``; an inline ``[OC: ...]`` aside is wrapped in
    ``<span class="oc">`` when it opens and closes at the same level of emphasis or
    link nesting (otherwise it is rendered as ordinary text).
    """
    md = _markdown(False)
    tokens = md.parse(normalise(text))
    for i, token in enumerate(tokens):
        if token.type == "blockquote_open" and _opens_oc(tokens, i):
            token.attrJoin("class", "oc")
        elif token.type == "inline" and token.children:
            _wrap_inline_ocs(token.children)
            _unspecial(token.children)
    return md.renderer.render(tokens, md.options, {})


def render_tokens(text: str) -> list:
    """The markdown-it tokens ``to_html`` renders from (raw HTML off), for renderers of their own."""
    return _markdown(False).parse(normalise(text))


def strip_comments(text: str) -> str:
    """Return the (normalised) Markdown with its observer comments removed.

    Whole ``> OC:`` blockquotes are removed line by line; inline ``[OC: ...]`` asides
    are cut out of the source when they can be found there unambiguously. Everything
    else is returned exactly as written.
    """
    text = normalise(text)
    tokens = _markdown(True).parse(text)
    lines = text.split("\n")
    dropped: set[int] = set()
    keep_prefix: dict[int, str] = {}
    for i, token in enumerate(tokens):
        if token.type == "blockquote_open" and token.map and _opens_oc(tokens, i):
            start, end = token.map
            dropped.update(range(start, end))
            first = lines[start]
            if not first.lstrip().startswith(">"):
                # The quote begins on a list-item line ("- > OC: ..."): keep the marker.
                keep_prefix[start] = first[: first.index(">")].rstrip()
    # Inline asides, counted per source range (table cells of one row share a range).
    expected: dict[tuple[int, int], int] = {}
    for token in tokens:
        if token.type == "inline" and token.map and token.children:
            start, end = token.map
            if not any(n in dropped for n in range(start, end)):
                count = len(_inline_ocs(_flatten(token.children)[1]))
                expected[(start, end)] = expected.get((start, end), 0) + count
    for (start, end), count in expected.items():
        if not count or any(line is None for line in lines[start:end]):
            continue
        chunk = "\n".join(lines[start:end])
        spans = _inline_ocs(chunk)
        if len(spans) != count:
            continue  # escapes or code make the source ambiguous; leave it alone
        for s, _, e in reversed(spans):
            chunk = _cut(chunk, s, e)
        new = chunk.split("\n")
        lines[start:end] = new + [None] * (end - start - len(new))  # type: ignore[list-item]
    out: list[str] = []
    after_drop = False
    for n, line in enumerate(lines):
        if n in keep_prefix:
            out.append(keep_prefix[n])
            after_drop = True
            continue
        if n in dropped or line is None:
            after_drop = after_drop or n in dropped
            continue
        if after_drop and not line.strip() and (not out or not out[-1].strip()):
            after_drop = False
            continue  # don't leave two blank lines where the comment was
        after_drop = False
        out.append(line)
    return "\n".join(out)


# --------------------------------------------------------------------------- parser


@functools.lru_cache(maxsize=None)
def _markdown(allow_html: bool) -> MarkdownIt:
    """The shared MarkdownIt instance; ``allow_html`` only for analysis, never rendering.

    Analysis parses with HTML recognised so that inline HTML and HTML blocks can be
    skipped; rendering parses with HTML off so that it comes out escaped. ``text_join``
    is disabled so that backslash escapes and entities stay visible as
    ``text_special`` tokens (they are masked when scanning for tags).
    """
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": allow_html})
    md.enable(["table", "strikethrough"])
    md.disable("text_join")
    return md


# --------------------------------------------------------------------------- inline text


def _flatten(children: list[Token]) -> tuple[str, str, list[tuple[int, int, int, int]]]:
    """Turn an inline token's children into (plain, scan, pieces).

    ``plain`` is what a reader sees; ``scan`` has the same length with every
    character that must not be scanned replaced by ``_MASK``; ``pieces`` lists
    ``(start, end, child_index, container)`` for each plain ``text`` child, where
    ``container`` is the index of the innermost open emphasis/link (``-1`` at top
    level) - used to wrap inline comments in HTML.
    """
    plain: list[str] = []
    scan: list[str] = []
    pieces: list[tuple[int, int, int, int]] = []
    pos = 0
    stack = [-1]
    autolink = 0

    def add(content: str, masked: bool) -> None:
        nonlocal pos
        plain.append(content)
        scan.append(_MASK * len(content) if masked else content)
        pos += len(content)

    for k, token in enumerate(children):
        kind = token.type
        if kind == "text":
            if not autolink:
                pieces.append((pos, pos + len(token.content), k, stack[-1]))
            add(token.content, masked=bool(autolink))
        elif kind in ("softbreak", "hardbreak"):
            add("\n", masked=False)
        elif kind == "code_inline":
            add(token.content, masked=True)
        elif kind == "text_special":
            # "\\ " is not an escape: markdown-it keeps the backslash and the space together,
            # and the space still separates words
            add(token.content, masked=True)
            if token.content[-1:].isspace():
                scan[-1] = scan[-1][:-1] + token.content[-1]
        elif kind == "html_inline":
            pass  # invisible: raw HTML never counts
        elif kind == "image":
            alt_plain, alt_scan, _ = _flatten(token.children or [])
            plain.append(alt_plain)
            scan.append(alt_scan)
            pos += len(alt_plain)
        elif token.nesting == 1:
            stack.append(k)
            if kind == "link_open" and token.markup == "autolink":
                autolink += 1
        elif token.nesting == -1:
            if len(stack) > 1:
                stack.pop()
            if kind == "link_close" and token.markup == "autolink" and autolink:
                autolink -= 1
        elif token.content:
            add(token.content, masked=True)  # unknown leaf: show it, never scan it
    return "".join(plain), "".join(scan), pieces


def _is_word_char(ch: str) -> bool:
    return ch == "_" or ch in _JOINERS or unicodedata.category(ch)[0] in "LNM"


# ASCII letters, digits, "_" and "-": what _find_words reads on without asking unicodedata
_ASCII_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def _starts_word(scan: str, i: int) -> bool:
    if i == 0:
        return True
    before = scan[i - 1]
    return before.isspace() or before in _OPENERS


def _find_words(scan: str, sigil: str) -> list[str]:
    """Tags (sigil ``#``) or mentions (sigil ``@``) in a scan string, in order."""
    found: list[str] = []
    n = len(scan)
    i = scan.find(sigil)
    while i != -1:
        j = i + 1
        while j < n and (scan[j] in _ASCII_WORD or (not scan[j].isascii() and _is_word_char(scan[j]))):
            j += 1
        if _starts_word(scan, i):
            word = scan[i + 1 : j].rstrip("-_" + _JOINERS)
            if word and (_valid_tag(word) if sigil == "#" else _valid_mention(word, scan, j)):
                found.append(word)
        i = scan.find(sigil, j)
    return found


def _valid_tag(word: str) -> bool:
    return unicodedata.category(word[0])[0] in "LN" and any(
        unicodedata.category(ch)[0] == "L" for ch in word
    )


def _valid_mention(word: str, scan: str, end: int) -> bool:
    if unicodedata.category(word[0])[0] != "L":
        return False
    after = scan[end : end + 2]
    if after.startswith("@"):
        return False  # "@ann@example.org"
    if after.startswith(".") and len(after) == 2 and _is_word_char(after[1]):
        return False  # "@example.org" looks like a domain, not a pseudonym code
    return True


def _inline_ocs(scan: str) -> list[tuple[int, int, int]]:
    """Inline ``[OC: ...]`` asides in a scan string as ``(start, text_start, end)``.

    ``start`` is the ``[``, ``end`` is just after the matching ``]`` (brackets nest);
    an opening with no matching ``]`` is not a comment. Asides inside asides are part
    of the outer one.
    """
    if "[" not in scan:
        return []
    match: dict[int, int] = {}
    open_at: list[int] = []
    for i, ch in enumerate(scan):
        if ch == "[":
            open_at.append(i)
        elif ch == "]" and open_at:
            match[open_at.pop()] = i
    spans: list[tuple[int, int, int]] = []
    for m in _INLINE_OC_OPEN.finditer(scan):
        s = m.start()
        if s not in match or (spans and s < spans[-1][2]):
            continue
        spans.append((s, m.end(), match[s] + 1))
    return spans


def _cut(text: str, start: int, end: int) -> str:
    """Remove ``text[start:end]`` and the space before it when that would double up."""
    left, right = text[:start], text[end:]
    if not right or right[0].isspace() or right[0] in ".,;:!?)]}":
        left = left.rstrip(" \t")
    return left + right


# --------------------------------------------------------------------------- plain text


def _opens_oc(tokens: list[Token], i: int) -> bool:
    """Whether the ``blockquote_open`` at ``tokens[i]`` opens an observer comment."""
    if i + 2 >= len(tokens):
        return False
    if tokens[i + 1].type != "paragraph_open" or tokens[i + 2].type != "inline":
        return False
    return _OC_MARK.match(_flatten(tokens[i + 2].children or [])[1]) is not None


def _is_oc_node(node: SyntaxTreeNode) -> bool:
    if not node.children or node.children[0].type != "paragraph":
        return False
    para = node.children[0]
    if not para.children or para.children[0].token is None:
        return False
    return _OC_MARK.match(_flatten(para.children[0].token.children or [])[1]) is not None


def _inline_plain(node: SyntaxTreeNode, keep_oc: bool, comments: list[str] | None) -> str:
    token = node.token
    plain, scan, _ = _flatten((token.children if token else None) or [])
    spans = _inline_ocs(scan)
    if comments is not None:
        for _, text_start, end in spans:
            comment = plain[text_start : end - 1].strip()
            if comment:
                comments.append(comment)
    if not keep_oc:
        for start, _, end in reversed(spans):
            plain = _cut(plain, start, end)
    return plain


def _blocks(
    nodes: list[SyntaxTreeNode], keep_oc: bool, comments: list[str] | None
) -> list[str]:
    out: list[str] = []
    for node in nodes:
        out.extend(_block(node, keep_oc, comments))
    return out


def _block(node: SyntaxTreeNode, keep_oc: bool, comments: list[str] | None) -> list[str]:
    kind = node.type
    if kind in ("paragraph", "heading"):
        text = "".join(_inline_plain(child, keep_oc, comments) for child in node.children)
        return [text.strip()] if text.strip() else []
    if kind == "blockquote":
        if not _is_oc_node(node):
            return _blocks(node.children, keep_oc, comments)
        # Everything inside an observer comment is comment text, nested quotes included.
        inner = "\n\n".join(_blocks(node.children, keep_oc=True, comments=None))
        found = [part.strip() for part in _OC_LINE.split(inner) if part.strip()]
        if comments is not None:
            comments.extend(found)
        return ["OC: " + part for part in found] if keep_oc else []
    if kind in ("bullet_list", "ordered_list"):
        lines: list[str] = []
        for item in node.children:
            body = "\n".join(_blocks(item.children, keep_oc, comments))
            if not body.strip():
                continue
            first, *rest = body.split("\n")
            lines.append("- " + first)
            lines.extend("  " + line if line.strip() else "" for line in rest)
        return ["\n".join(lines)] if lines else []
    if kind in ("fence", "code_block"):
        code = node.content.rstrip("\n")
        return [code] if code.strip() else []
    if kind == "html_block":
        import html

        visible = html.unescape(_HTML_TAG.sub("", _HTML_COMMENT.sub("", node.content))).strip()
        return [visible] if visible else []
    if kind == "hr":
        return []
    if kind == "table":
        rows: list[str] = []
        for section in node.children:
            for row in section.children:
                cells = [
                    "".join(_inline_plain(c, keep_oc, comments) for c in cell.children).strip()
                    for cell in row.children
                ]
                rows.append(" | ".join(cells).strip())
        return ["\n".join(rows)] if any(rows) else []
    if kind == "inline":
        text = _inline_plain(node, keep_oc, comments).strip()
        return [text] if text else []
    return _blocks(node.children, keep_oc, comments)


def _join_blocks(blocks: list[str]) -> str:
    return "\n\n".join(block for block in blocks if block.strip())


# --------------------------------------------------------------------------- HTML


def _wrap_inline_ocs(children: list[Token]) -> None:
    """Wrap each inline ``[OC: ...]`` in ``<span class="oc">`` where nesting allows."""
    from markdown_it.token import Token

    _, scan, pieces = _flatten(children)
    for start, _, end in reversed(_inline_ocs(scan)):
        first = next((p for p in pieces if p[0] <= start < p[1]), None)
        last = next((p for p in pieces if p[0] < end <= p[1]), None)
        if first is None or last is None or first[3] != last[3]:
            continue
        at = _split_text(children, last[2], end - last[0])
        children.insert(at, Token("html_inline", "", 0, content="</span>"))
        at = _split_text(children, first[2], start - first[0])
        children.insert(at, Token("html_inline", "", 0, content='<span class="oc">'))


def _split_text(children: list[Token], k: int, offset: int) -> int:
    """Split text child ``k`` at ``offset``; return the index where the right part starts."""
    token = children[k]
    if offset <= 0:
        return k
    if offset >= len(token.content):
        return k + 1
    children[k : k + 1] = [
        token.copy(content=token.content[:offset]),
        token.copy(content=token.content[offset:]),
    ]
    return k + 1


def _unspecial(children: list[Token]) -> None:
    """Turn escape/entity tokens back into plain text for the HTML renderer."""
    for token in children:
        if token.type == "text_special":
            token.type = "text"
        if token.children:
            _unspecial(token.children)
