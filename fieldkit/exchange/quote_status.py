"""Member-checked quotes on the way out: what a participant said about their words holds in
every export.

A quote (``fieldkit member-check``) is a stretch of a record's text a participant has been
shown. Its status decides what an export writes there: ``withdrawn`` quotes are replaced by
:data:`WITHDRAWN` and the codings inside them dropped, ``amended`` quotes are written in the
participant's new wording (anonymised like the body), ``approved`` and ``pending`` ones as
they are. With ``member_checked_only`` only codings on approved or amended quotes are kept.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from fieldkit.core.records import Coding, Record

WITHDRAWN = "[quote withdrawn by participant]"
#: statuses a participant has agreed to
CHECKED = ("approved", "amended")
_QUOTE_CODE = "quote"


class MemberChecks:
    """The member-check statuses of one export, read a page of records at a time.

    ``export_items`` adds the quotes of a record to its codings (:meth:`with_quotes`) so that
    anonymisation moves them too, then applies their statuses (:meth:`apply`)."""

    def __init__(self, project, options, *, prepare: Optional[Callable[[str], str]] = None):
        self.project = project
        self.only_checked = options.member_checked_only
        self.prepare = prepare
        self._quotes: dict = {}

    def load(self, records: Sequence) -> None:
        self._quotes = {}
        for quote in self.project.store.lifecycle.quotes(record_ids=[r.id for r in records]):
            self._quotes.setdefault(quote["record_id"], []).append(quote)

    def _active(self, record) -> bool:
        return bool(self._quotes.get(record.id)) or self.only_checked

    def with_quotes(self, record: Record, codings: Sequence[Coding]) -> tuple[Coding, ...]:
        if not self._active(record):
            return tuple(codings)
        return (*codings, *quote_spans(record, self._quotes.get(record.id, ())))

    def apply(self, record: Record, text: str,
              codings: Sequence[Coding]) -> tuple[str, tuple[Coding, ...], dict[str, str]]:
        """``(text, codings, {coding id: status})`` (see :func:`apply_quote_status`)."""
        if not self._active(record):
            return text, tuple(codings), {}
        return apply_quote_status(text, codings, self._quotes.get(record.id, ()),
                                  member_checked_only=self.only_checked, prepare=self.prepare)


def quote_spans(record: Record, quotes: Sequence[dict[str, Any]]) -> tuple[Coding, ...]:
    """The quotes of ``record`` as codings, so the anonymiser moves them with the real ones."""
    from fieldkit.core.records import Coding

    return tuple(Coding(id=f"quote:{q['id']}", record_id=record.id, code_id=_QUOTE_CODE, start=q["start"],
                        end=q["end"], coder="member-check") for q in quotes
                 if q["start"] is not None and q["end"] is not None and 0 <= q["start"] < q["end"] <= len(record.body))


def apply_quote_status(text: str, codings: Sequence, quotes: Sequence[dict], *, member_checked_only: bool = False,
                       prepare: Optional[Callable[[str], str]] = None) -> tuple:
    """``(text, codings, {coding id: quote status})`` after the quotes' statuses are applied.

    ``codings`` holds the record's codings followed by the quote codings of :func:`quote_spans`
    (moved onto ``text`` already); ``prepare`` anonymises an amended wording."""
    from fieldkit.core.remap import map_span
    from fieldkit.privacy.detection import apply_spans
    from fieldkit.privacy.spans import Span

    by_id = {q["id"]: q for q in quotes}
    placed = {c.id[len("quote:"):]: c for c in codings if c.id.startswith("quote:")}
    real = [c for c in codings if not c.id.startswith("quote:")]
    spans, replacement, gone = [], {}, []
    for qid, coding in placed.items():
        quote = by_id[qid]
        if coding.start is None:
            continue
        if quote["status"] == "withdrawn":
            spans.append(Span(coding.start, coding.end, "quote", "quasi", detector=qid))
            replacement[qid] = WITHDRAWN
            gone.append((coding.start, coding.end))
        elif quote["status"] == "amended" and quote.get("wording") is not None:
            spans.append(Span(coding.start, coding.end, "quote", "quasi", detector=qid))
            wording = quote["wording"]
            replacement[qid] = prepare(wording) if prepare else wording
    spans = _disjoint(spans)
    redaction = apply_spans(text, spans, lambda span, original: replacement[span.detector])
    status = {}
    for qid, coding in placed.items():
        status[(coding.start, coding.end)] = by_id[qid]["status"]
    kept = []
    for coding in real:
        if coding.start is not None:
            if any(start <= coding.start and coding.end <= end for start, end in gone):
                continue  # coded words the participant withdrew
            span_status = status.get((coding.start, coding.end))
            if member_checked_only and span_status not in CHECKED:
                continue
            if redaction.edits:
                mapped = map_span(redaction.edits, coding.start, coding.end)
                coding = attrs.evolve(coding, start=mapped.start, end=mapped.end,
                                      status="review" if mapped.status == "lost" else coding.status)
        elif member_checked_only:
            continue
        kept.append(coding)
    found = {}
    for coding in real:
        if coding.start is not None and (coding.start, coding.end) in status:
            found[coding.id] = status[(coding.start, coding.end)]
    return redaction.text, tuple(kept), found


def _disjoint(spans: list) -> list:
    """Spans in order with any overlapping a kept one dropped (quotes of one text rarely overlap)."""
    out: list = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if out and span.start < out[-1].end:
            continue
        out.append(span)
    return out
