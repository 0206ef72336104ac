"""Member checking: showing participants their own words and recording what they say.

``build_pack(project, "P03", folder)`` writes ``P03-member-check.docx`` and ``.html``: a
plain-language cover (a template the researcher can edit), then every quote of theirs,
pseudonymised the way an export shows it, inside the turn it comes from, and finally their
turns in full. Each quote gets a stable id (``P03-Q1``) in the ``quotes`` table.

``respond(project, "P03-Q1", "amended", wording=...)`` records a response; every response is
a new row of ``quote_versions`` (history), an amendment a new version of the quote.
``import_responses`` reads a returned DOCX: comments anchored in a quote's section, the
participant's tracked changes to the quote's wording, and a first word typed under
"Your response" (approve, withdraw).
"""

from __future__ import annotations

import html
import re
import string
from pathlib import Path
from typing import Any, Optional, TYPE_CHECKING, Union

import attrs

from fieldkit.core.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    import os

    from fieldkit.project import Project

#: what a response can say about a quote
RESPONSES = ("approved", "amended", "withdrawn", "comment")
DEFAULT_COVER = """\
Dear $code,

Thank you for taking part in this research. This pack holds the words of yours that we
would like to use, exactly as they would appear in a report: names and other details that
could identify you or anyone else have been replaced.

For each quote you can tell us that you are happy with it, change the wording, ask us not
to use it, or add a comment. You can write in this document (comments or tracked changes
are fine) or tell us in person. There are $count quote(s).

If you do not want us to use a quote, we will not quote it anywhere, and we will tell you
when this has been done.
"""
COVER_FILE = "member-check-cover.txt"
_QUOTE_ID = re.compile(r"\b([A-Za-z][\w\-]{0,31}-Q\d+)\b")


@attrs.frozen
class PackQuote:
    """One quote as the pack shows it: ``before``/``words``/``after`` are anonymised text."""

    quote_id: str
    status: str
    before: str
    words: str
    after: str


@attrs.frozen
class Pack:
    code: str
    cover: str
    quotes: tuple
    turns: tuple  # anonymised turns, in order
    files: tuple = ()


def sync_quotes(project: Project, participant: str) -> list[dict[str, Any]]:
    """Make sure every current quote of a participant has a row (ids ``CODE-Qn``); move rows
    whose coding moved with an edit. Returns the participant's quote rows."""
    from fieldkit.lifecycle.passages import participant_passages

    pid = project.resolve(participant, "participant")
    code = project.get(pid, type_name="participant").code
    tables = project.store.lifecycle
    with project.transaction():
        existing = tables.quotes(pid)
        by_coding = {q["coding_id"]: q for q in existing if q["coding_id"]}
        by_span = {(q["record_id"], q["start"], q["end"]): q for q in existing}
        number = len(existing)
        for passage in participant_passages(project, pid):
            if passage.kind != "quote":
                continue
            known = by_coding.get(passage.coding_id) or by_span.get((passage.record_id, passage.start, passage.end))
            if known is None:
                number += 1
                tables.add_quote(f"{code}-Q{number}", pid, passage.record_id, passage.coding_id, passage.start,
                                 passage.end)
            elif (known["start"], known["end"]) != (passage.start, passage.end):
                tables.move_quote(known["id"], passage.start, passage.end)
    return tables.quotes(pid)


def _cover(project, code: str, count: int, template: Optional[Path]) -> str:
    path = template or project.path / COVER_FILE
    text = path.read_text(encoding="utf-8") if path.is_file() else DEFAULT_COVER
    if template is not None and not template.is_file():
        raise NotFound(f"no cover template {template}")
    return string.Template(text).safe_substitute(code=code, count=count)


def pack_contents(project: Project, participant: str, *, cover: Optional[Path] = None,
                  passphrase: Optional[str] = None) -> Pack:
    """What a member-check pack shows (anonymised as an export would be)."""
    from fieldkit.core.records import Coding
    from fieldkit.lifecycle.passages import participant_passages
    from fieldkit.privacy.anonymiser import anonymiser

    from fieldkit.core.errors import Refused
    from fieldkit.privacy.consent import current_consent

    pid = project.resolve(participant, "participant")
    code = project.get(pid, type_name="participant").code
    if current_consent(project, pid).status == "withdrawn":
        raise Refused(f"{code} withdrew consent; there is nothing of theirs to check")
    passages = participant_passages(project, pid)
    current = {p.coding_id for p in passages if p.kind == "quote"}
    # a quote whose coding is gone is shown only if the participant already answered it
    quotes = [q for q in sync_quotes(project, pid) if q["coding_id"] in current or q["status"] != "pending"]
    turns = [p for p in passages if p.kind == "turn"]
    records = sorted({q["record_id"] for q in quotes} | {t.record_id for t in turns})
    an = anonymiser(project, passphrase=passphrase, log=False)
    an.refuse_if_strict()
    shown_quotes, shown_turns = [], []
    try:
        for record_id in records:
            record = project.get(record_id)
            spans = [Coding(id=f"t{i}", record_id=record_id, code_id="turn", start=t.start, end=t.end, coder="mc")
                     for i, t in enumerate(turns) if t.record_id == record_id]
            spans += [Coding(id=f"q:{q['id']}", record_id=record_id, code_id="quote", start=q["start"], end=q["end"],
                             coder="mc") for q in quotes if q["record_id"] == record_id]
            text, moved = an.apply(record, spans)
            placed_turns = [(c.start, c.end) for c in moved if not c.id.startswith("q:")]
            shown_turns += [text[s:e] for s, e in placed_turns]
            for c in moved:
                if not c.id.startswith("q:"):
                    continue
                quote = next(q for q in quotes if q["id"] == c.id[2:])
                around = next(((s, e) for s, e in placed_turns if s <= c.start and c.end <= e),
                              _paragraph(text, c.start, c.end))
                shown_quotes.append(PackQuote(quote["id"], quote["status"], text[around[0]:c.start],
                                              text[c.start:c.end], text[c.end:around[1]]))
    finally:
        an.close()
    shown_quotes.sort(key=lambda q: int(q.quote_id.rsplit("Q", 1)[1]))
    return Pack(code, _cover(project, code, len(shown_quotes), cover), tuple(shown_quotes), tuple(shown_turns))


def _paragraph(text: str, start: int, end: int) -> tuple[int, int]:
    left = text.rfind("\n\n", 0, start)
    right = text.find("\n\n", end)
    return (0 if left < 0 else left + 2, len(text) if right < 0 else right)


def build_pack(project: Project, participant: str, folder: Union[str, os.PathLike[str]], *,
               cover: Optional[Path] = None, force: bool = False, passphrase: Optional[str] = None) -> Pack:
    """Write the DOCX and HTML packs of a participant into ``folder`` and register both."""
    from fieldkit.exchange.exporting import atomic_output
    from fieldkit.exchange.register import register_copy

    pack = pack_contents(project, participant, cover=cover, passphrase=passphrase)
    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    written = []
    for suffix, write in ((".docx", write_docx), (".html", write_html)):
        dest = folder / f"{pack.code}-member-check{suffix}"
        with atomic_output(dest, force=force) as tmp:
            write(pack, tmp)
        register_copy(project, "member-check", suffix.lstrip("."), dest, None,
                      participants=[project.resolve(pack.code, "participant")], profile="anonymised")
        written.append(str(dest))
    return attrs.evolve(pack, files=tuple(written))


def write_docx(pack: Pack, dest: Union[str, os.PathLike[str]]) -> None:
    """The pack as a Word document (python-docx, the ``docx`` extra)."""
    try:
        import docx
    except ImportError:
        raise InvalidInput("member-check packs in Word need python-docx: pip install 'fieldkit[docx]'") from None
    document = docx.Document()
    document.add_heading(f"Your words: {pack.code}", level=1)
    for paragraph in pack.cover.strip().split("\n\n"):
        document.add_paragraph(" ".join(paragraph.split()))
    document.add_heading("Your quotes", level=1)
    for quote in pack.quotes:
        document.add_heading(f"Quote {quote.quote_id}", level=2)
        context = document.add_paragraph()
        context.add_run(quote.before)
        context.add_run(quote.words).bold = True
        context.add_run(quote.after)
        document.add_paragraph("The quote as we would use it:")
        document.add_paragraph(quote.words, style="Quote")
        document.add_paragraph(f"Status now: {quote.status}")
        document.add_paragraph("Your response (approve, change the quote above, withdraw, or a comment):")
        document.add_paragraph("")
    if pack.turns:
        document.add_heading("Everything you said, for context", level=1)
        for turn in pack.turns:
            document.add_paragraph(turn)
    document.save(str(dest))


def write_html(pack: Pack, dest: Union[str, os.PathLike[str]]) -> None:
    esc = html.escape
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
             f"<title>Your words: {esc(pack.code)}</title>",
             "<style>body{font-family:sans-serif;max-width:42em;margin:2em auto;line-height:1.5}"
             "blockquote{border-left:4px solid #888;margin-left:0;padding-left:1em}</style></head><body>",
             f"<h1>Your words: {esc(pack.code)}</h1>"]
    parts += [f"<p>{esc(' '.join(p.split()))}</p>" for p in pack.cover.strip().split("\n\n")]
    parts.append("<h2>Your quotes</h2>")
    for quote in pack.quotes:
        parts.append(f"<section id='{esc(quote.quote_id)}'><h3>Quote {esc(quote.quote_id)}</h3>"
                     f"<p>{esc(quote.before)}<strong>{esc(quote.words)}</strong>{esc(quote.after)}</p>"
                     f"<blockquote>{esc(quote.words)}</blockquote><p>Status now: {esc(quote.status)}</p></section>")
    if pack.turns:
        parts.append("<h2>Everything you said, for context</h2>")
        parts += [f"<p>{esc(turn)}</p>" for turn in pack.turns]
    parts.append("</body></html>\n")
    Path(dest).write_text("\n".join(parts), encoding="utf-8")


# --- responses ---------------------------------------------------------------------------------

def respond(project: Project, quote_id: str, response: str, *, wording: Optional[str] = None,
            comment: str = "") -> dict[str, Any]:
    """Record a participant's response to a quote; returns the quote row afterwards.

    ``amended`` needs the new ``wording``; ``comment`` keeps the status and adds the comment.
    A withdrawn quote stays withdrawn: a later response cannot bring it back into exports."""
    if response not in RESPONSES:
        raise InvalidInput(f"a response is one of {', '.join(RESPONSES)}, not {response!r}")
    tables = project.store.lifecycle
    quote = tables.quote(quote_id)
    if quote is None:
        raise NotFound(f"no quote {quote_id}; fieldkit member-check list shows them")
    if response == "amended" and not (wording and wording.strip()):
        raise InvalidInput("an amendment needs the new wording (--wording)")
    if response != "amended" and wording is not None:
        raise InvalidInput("only an amendment takes new wording")
    if response == "comment" and not comment.strip():
        raise InvalidInput("a comment response needs the comment text (--comment)")
    if quote["status"] == "withdrawn" and response != "comment":
        raise InvalidInput(f"{quote['id']} was withdrawn by the participant; it cannot be used again")
    status = quote["status"] if response == "comment" else response
    with project.transaction():
        tables.respond(quote["id"], status, wording=wording.strip() if wording else None, comment=comment.strip())
        project.store.audit("member-check", "quote", quote["id"], f"response {response}")
    return tables.quote(quote["id"])


def quote_list(project: Project, participant: Optional[str] = None) -> list[dict[str, Any]]:
    """Quote rows with their status (of one participant, synchronised first)."""
    if participant is not None:
        return sync_quotes(project, participant)
    return project.store.lifecycle.quotes()


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _accepted_text(paragraph) -> str:
    """A paragraph's text with tracked insertions accepted and deletions dropped."""
    return "".join(node.text or "" for node in paragraph.iter(f"{_W}t"))


def _has_revisions(paragraph) -> bool:
    return any(True for _ in paragraph.iter(f"{_W}ins", f"{_W}del"))


def read_responses(path: Union[str, os.PathLike[str]]) -> list[dict[str, Any]]:
    """What a returned pack says, quote by quote: ``{"quote", "wording", "comments", "response"}``.

    Reads comments anchored in a quote's section, tracked changes (or plain edits) to the
    quote paragraph (style Quote), and the first word of the paragraph under "Your response"."""
    try:
        import docx
    except ImportError:
        raise InvalidInput("reading returned packs needs python-docx: pip install 'fieldkit[docx]'") from None
    document = docx.Document(str(path))
    comments = {}
    try:
        for comment in document.comments:
            comments[str(comment.comment_id)] = comment.text.strip()
    except (AttributeError, KeyError):  # a document without a comments part
        comments = {}
    found: dict = {}
    current = None
    expect_response = False
    for paragraph in document.paragraphs:
        element = paragraph._p
        heading = _QUOTE_ID.search(paragraph.text) if paragraph.style.name.startswith("Heading") else None
        if paragraph.style.name.startswith("Heading"):
            current = heading.group(1) if heading and paragraph.text.startswith("Quote ") else None
            expect_response = False
            if current:
                found[current] = {"quote": current, "wording": None, "revised": False, "comments": [], "response": ""}
            continue
        if current is None:
            continue
        entry = found[current]
        for ref in element.iter(f"{_W}commentRangeStart", f"{_W}commentReference"):
            text = comments.get(ref.get(f"{_W}id"))
            if text and text not in entry["comments"]:
                entry["comments"].append(text)
        if paragraph.style.name == "Quote":
            entry["wording"] = _accepted_text(element)
            entry["revised"] = _has_revisions(element)
        elif paragraph.text.startswith("Your response"):
            expect_response = True
        elif expect_response and paragraph.text.strip():
            entry["response"] = paragraph.text.strip()
            expect_response = False
    return list(found.values())


def import_responses(project: Project, participant: str, path: Union[str, os.PathLike[str]]) -> list[tuple[str, str]]:
    """Record what a returned DOCX pack says; ``(quote id, response)`` for each one recorded.

    A changed quote paragraph is an amendment; a response starting with "withdraw" a
    withdrawal, with "approve" (or "yes", "ok") an approval; comments and any other typed
    response are recorded as comments."""
    pid = project.resolve(participant, "participant")
    known = {q["id"]: q for q in project.store.lifecycle.quotes(pid)}
    shown = {q.quote_id: q.words for q in pack_contents(project, pid).quotes}
    done = []
    for entry in read_responses(path):
        qid = entry["quote"]
        if qid not in known:
            raise InvalidInput(f"{path} holds quote {qid}, which is not one of this participant's quotes")
        comments = list(entry["comments"])
        word = entry["response"].split()[0].lower().strip(".,!:") if entry["response"] else ""
        if word.startswith("withdraw") or word in ("remove", "delete"):
            action = ("withdrawn", None)
        elif entry["wording"] is not None and " ".join(entry["wording"].split()) != " ".join(shown.get(qid, "").split()):
            action = ("amended", entry["wording"])
        elif word in ("approve", "approved", "yes", "ok", "fine", "happy"):
            action = ("approved", None)
        else:
            action = None
            if entry["response"]:
                comments.append(entry["response"])
        if known[qid]["status"] == "withdrawn":
            action = None
        if action:
            respond(project, qid, action[0], wording=action[1], comment="; ".join(comments))
            done.append((qid, action[0]))
        elif comments:
            respond(project, qid, "comment", comment="; ".join(comments))
            done.append((qid, "comment"))
    return done
