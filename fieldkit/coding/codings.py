"""Codes and codings: the codebook tree and coded segments of text.

A coding puts a code on ``[start, end)`` of an observation's or memo's body, counted in
Unicode code points of the stored (NFC, ``\\n``) text, or on a whole record
(``start = end = None``), which is the only form for encounters. Coders are free-form names;
names starting with ``auto:`` belong to auto-coders (see ``fieldkit.coding.autocode``).
"""

from __future__ import annotations

import re
from typing import Any, Optional, Sequence, TYPE_CHECKING, Union

import attrs

from fieldkit.core.errors import FieldkitError, NotFound, Refused

if TYPE_CHECKING:
    from fieldkit.coding.keywords import KeywordRule
    from fieldkit.core.records import Code, Coding, Record
    from fieldkit.project import Project

#: record types a code can be applied to
CODABLE_TYPES = ("observation", "memo", "encounter")
#: record types with a body, whose segments can be coded
TEXT_TYPES = ("observation", "memo")
AUTO_PREFIX = "auto:"
UNTOUCHED = ("missing", "absent")


def code_path(project: Project, code: Code) -> str:
    """The ``parent/child`` path of a code."""
    parts = [code.name]
    seen = {code.id}
    while code.parent_id:
        code = project.get(code.parent_id, type_name="code", include_deleted=True)
        if code.id in seen:
            raise FieldkitError(f"code hierarchy has a cycle at {code.name}")
        seen.add(code.id)
        parts.append(code.name)
    return "/".join(reversed(parts))


def resolve_code(project: Project, ref: str) -> Code:
    """A code by id, path (``parent/child``) or unique name; raises NotFound."""
    return project.resolve_code(ref)


# codes in bulk ------------------------------------------------------------------------
def code_paths(project: Project, *, include_deleted: bool = True) -> dict[str, str]:
    """``{code_id: "parent/child"}`` for every code, from one query."""
    return project.store.coding.paths(include_deleted=include_deleted)


def children_map(project: Project) -> dict[Optional[str], list[str]]:
    """``{parent_id: [child ids]}`` over live codes (top-level codes under ``None``)."""
    out: dict = {}
    for code_id, parent_id in project.store.coding.children():
        out.setdefault(parent_id, []).append(code_id)
    return out


def descendant_ids(project: Project, code_id: str, *,
                   children: Optional[dict[Optional[str], list[str]]] = None) -> list[str]:
    """The code and every code below it, parents before children."""
    children = children if children is not None else children_map(project)
    out, stack, seen = [], [code_id], set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        out.append(current)
        stack.extend(reversed(children.get(current, [])))
    return out


def is_auto_coder(coder: str) -> bool:
    return (coder or "").startswith(AUTO_PREFIX)


def check_coder_name(coder: str) -> str:
    coder = (coder or "").strip()
    if not coder:
        raise FieldkitError("a coder name is needed")
    if "," in coder:
        raise FieldkitError(f"coder name {coder!r} must not contain a comma")
    return coder


def coders_in_project(project: Project) -> list[str]:
    return project.store.coding.coders()


# keyword rules on codes -----------------------------------------------------------------
def rule_to_dict(rule: Union[KeywordRule, dict[str, Any]]) -> dict[str, Any]:
    """A keyword rule as the plain dict stored in ``Code.keywords`` (the codebook-file shape)."""
    if isinstance(rule, dict):
        return rule_to_dict(rule_from_dict(rule))
    if rule.kind == "near":
        out = {"near": list(rule.value), "within": rule.within}
    else:
        out = {rule.kind: rule.value}
    if rule.case_sensitive:
        out["case_sensitive"] = True
    return out


def rule_from_dict(data: Union[KeywordRule, dict[str, Any]]) -> KeywordRule:
    """A ``KeywordRule`` from a stored dict: ``{"word": "x"}``, ``{"near": [a, b], "within": 4}`` …"""
    from fieldkit.coding.keywords import DEFAULT_WITHIN, KINDS, KeywordRule

    if isinstance(data, KeywordRule):
        return data
    if not isinstance(data, dict):
        raise FieldkitError(f"a keyword rule must be a mapping such as {{'word': 'tokenism'}}, not {data!r}")
    if "kind" in data and "value" in data:  # the attrs field names are accepted too
        kind, value = data["kind"], data["value"]
    else:
        kinds = [k for k in KINDS if k in data]
        if len(kinds) != 1:
            raise FieldkitError(f"a keyword rule needs exactly one of {', '.join(KINDS)}: {data!r}")
        kind, value = kinds[0], data[kinds[0]]
    if kind == "near" and isinstance(value, list):
        value = tuple(value)
    try:
        return KeywordRule(kind, value, within=data.get("within", DEFAULT_WITHIN),
                           case_sensitive=data.get("case_sensitive", False))
    except ValueError as exc:
        raise FieldkitError(f"bad keyword rule {data!r}: {exc}") from None


def code_rules(code: Code) -> list[KeywordRule]:
    """The keyword rules stored on a code, as ``KeywordRule`` objects."""
    return [rule_from_dict(d) for d in code.keywords]


# finding what to code ----------------------------------------------------------------------
def record_text(record: Record) -> Optional[str]:
    """The text a coding's offsets count in, or None for records coded only as a whole."""
    return getattr(record, "body", None) if record.type_name in TEXT_TYPES else None


def record_length(record: Record) -> int:
    """Length of a record for agreement: its body, or 1 for a record coded only as a whole."""
    text = record_text(record)
    return len(text) if text is not None else 1


def find_quote(text: str, quote: str) -> list[tuple[int, int]]:
    """Every place ``quote`` occurs in ``text`` as ``(start, end)``, overlapping ones included.

    The quote is normalised like stored text; any run of whitespace in it matches any run
    of whitespace in the text (a quote typed on one line finds text broken over two).
    Matching is case-sensitive.
    """
    from fieldkit.core.markdown import normalise

    words = normalise(quote).split()
    if not words:
        raise FieldkitError("the quote is empty")
    pattern = re.compile("(?=(" + r"\s+".join(re.escape(w) for w in words) + "))")
    return [(m.start(1), m.end(1)) for m in pattern.finditer(text)]


def find_phrase(text: str, phrase: str) -> list[tuple[int, int]]:
    """Every place the words of ``phrase`` occur in ``text`` in order, ignoring case, as
    ``(start, end)`` (non-overlapping). Any run of whitespace matches any other; the words
    must stand alone (not inside longer words). Offsets count code points of ``text``."""
    words = phrase.split()
    if not words:
        raise FieldkitError("the search phrase is empty")
    pattern = re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)", re.IGNORECASE)
    return [(m.start(), m.end()) for m in pattern.finditer(text)]


#: how far ``extend_span`` can widen a span
EXTENT_UNITS = ("sentence", "paragraph")
_SENTENCE_END = re.compile(r"[.!?\u2026\u3002\u061f]+[\"'\u201d\u2019)\]]*(?=\s)|\n")


def extend_span(text: str, start: int, end: int, unit: str) -> tuple[int, int]:
    """``[start, end)`` widened to the whole sentence(s) or paragraph(s) it touches.

    Paragraphs are separated by a blank line; a sentence ends at ``.``, ``!``, ``?`` or an
    ellipsis followed by white space, or at a line end. Surrounding white space is left out."""
    if unit not in EXTENT_UNITS:
        raise FieldkitError(f"extend to one of {', '.join(EXTENT_UNITS)}, not {unit!r}")
    if not 0 <= start <= end <= len(text):
        raise FieldkitError(f"[{start}, {end}) does not fit a text of length {len(text)}")
    para_start = text.rfind("\n\n", 0, start)
    para_start = 0 if para_start < 0 else para_start + 2
    para_end = text.find("\n\n", max(end, start + 1) - 1)
    para_end = len(text) if para_end < 0 else para_end
    new_start, new_end = para_start, para_end
    if unit == "sentence":
        for m in _SENTENCE_END.finditer(text, para_start, para_end):
            if m.end() <= start:
                new_start = m.end()
            elif m.end() >= max(end, start + 1):
                new_end = m.end()
                break
    while new_start < new_end and text[new_start].isspace():
        new_start += 1
    while new_end > new_start and text[new_end - 1].isspace():
        new_end -= 1
    if new_start >= new_end:
        return start, end
    return min(new_start, start), max(new_end, end)


def _excerpt(text: str, start: int, end: int, width: int = 18) -> str:
    before = text[max(0, start - width):start]
    after = text[end:end + width]
    return " ".join(f"…{before}[{text[start:end]}]{after}…".split())


def locate(text: Optional[str], *, quote: Optional[str] = None, occurrence: Optional[int] = None,
           start: Optional[int] = None, end: Optional[int] = None, whole: bool = False,
           what: str = "the record") -> tuple[Optional[int], Optional[int]]:
    """Turn a quote (with its occurrence), offsets or ``whole`` into ``(start, end)``.

    ``(None, None)`` means the whole record. Refuses a quote not found, an ambiguous quote
    without ``occurrence``, offsets outside the text and empty segments.
    """
    given = [quote is not None, start is not None or end is not None, bool(whole)]
    if sum(given) != 1:
        raise FieldkitError("say what to code: a quote, start and end offsets, or the whole record")
    if occurrence is not None and quote is None:
        raise FieldkitError("--occurrence goes with --quote")
    if whole:
        return None, None
    if text is None:
        raise Refused(f"{what} has no text to quote or point into; code it as a whole (--whole)")
    if quote is not None:
        found = find_quote(text, quote)
        shown = " ".join(quote.split())
        if not found:
            hint = ""
            if find_quote(text.casefold(), quote.casefold()):
                hint = " (it does occur with different capitals)"
            raise NotFound(f"quote '{shown}' not found in {what}{hint}")
        if occurrence is None:
            if len(found) > 1:
                places = "; ".join(f"{i} at {s}: {_excerpt(text, s, e)}" for i, (s, e) in enumerate(found[:9], 1))
                more = f"; and {len(found) - 9} more" if len(found) > 9 else ""
                raise Refused(f"quote '{shown}' occurs {len(found)} times in {what} ({places}{more}); "
                              f"choose one with --occurrence N")
            return found[0]
        if not 1 <= occurrence <= len(found):
            raise NotFound(f"quote '{shown}' occurs {len(found)} time(s) in {what}; "
                           f"--occurrence must be 1 to {len(found)}, not {occurrence}")
        return found[occurrence - 1]
    if start is None or end is None:
        raise FieldkitError("give both start and end offsets")
    if not 0 <= start < end <= len(text):
        raise FieldkitError(f"offsets [{start}, {end}) do not fit {what} (length {len(text)}; "
                            f"need 0 <= start < end <= {len(text)})")
    return start, end


# applying and removing ---------------------------------------------------------------------
def codable_record(project: Project, ref: str) -> Record:
    """The record a coding can go on; refuses participants, sites and the like."""
    record = project.get(ref)
    if record.type_name not in CODABLE_TYPES:
        raise Refused(f"cannot code a {record.type_name}; code observations, memos or encounters")
    return record


def usable_code(project: Project, ref: Union[str, Code]) -> Code:
    """An active code; refuses merged and retired ones with a pointer to what to use."""
    code = resolve_code(project, ref) if not hasattr(ref, "type_name") else ref
    if code.status == "merged":
        target = code.merged_into
        while target:
            merged = project.get(target, type_name="code", include_deleted=True)
            if merged.status != "merged" or not merged.merged_into:
                break
            target = merged.merged_into
        into = code_path(project, project.get(target, type_name="code", include_deleted=True)) if target else "?"
        raise Refused(f"code '{code_path(project, code)}' was merged into '{into}'; apply that instead")
    if code.status == "retired":
        raise Refused(f"code '{code_path(project, code)}' is retired; restore it to use it again")
    return code


def _describe(record) -> str:
    label = getattr(record, "code", None)
    return f"{record.type_name} {label or record.id}"


def find_duplicate(project: Project, record_id: str, code_id: str, coder: str, start: Optional[int],
                   end: Optional[int]) -> Optional[Coding]:
    """A live coding with exactly this record, code, coder and span, or None."""
    found = project.store.select("coding", record_id=record_id, code_id=code_id, coder=coder, start=start, end=end,
                                 limit=1)
    return found[0] if found else None


def apply_code(project: Project, record: str, code: str, *, quote: Optional[str] = None,
               occurrence: Optional[int] = None, start: Optional[int] = None, end: Optional[int] = None,
               whole: bool = False, coder: Optional[str] = None, note: str = "") -> Coding:
    """Code a segment (by quote or offsets) or the whole of a record; returns the new ``Coding``.

    ``coder`` defaults to the project author. Refuses unknown, merged or retired codes, a
    quote that is missing or ambiguous, and a coding the same coder has already made.
    """
    from fieldkit.core.records import Coding

    target = codable_record(project, record)
    the_code = usable_code(project, code)
    coder = check_coder_name(coder or project.author)
    if is_auto_coder(coder):
        raise Refused(f"'{AUTO_PREFIX}…' coders are kept for auto-coders; accept their proposals instead")
    span = locate(record_text(target), quote=quote, occurrence=occurrence, start=start, end=end,
                  whole=whole, what=_describe(target))
    with project.transaction():  # the duplicate check and the write, with no other writer between
        if find_duplicate(project, target.id, the_code.id, coder, *span):
            raise Refused(f"{coder} has already coded this with '{code_path(project, the_code)}'")
        return project.add(Coding(record_id=target.id, code_id=the_code.id, start=span[0], end=span[1],
                                  coder=coder, note=note), reason="coded")


def code_spans(project: Project, code: str, spans: Sequence[tuple[str, Optional[int], Optional[int]]], *,
               coder: Optional[str] = None, note: str = "", reason: str = "coded") -> tuple[list[Coding], int]:
    """Apply one code to many ``(record, start, end)`` spans in one transaction (all or none).

    ``start``/``end`` may both be None for the whole record. Spans the coder already coded
    with this code are skipped. Returns ``(new codings, how many were skipped)``."""
    from fieldkit.core.records import Coding

    the_code = usable_code(project, code)
    coder = check_coder_name(coder or project.author)
    if is_auto_coder(coder):
        raise Refused(f"'{AUTO_PREFIX}…' coders are kept for auto-coders")
    made, skipped = [], 0
    with project.transaction():
        for ref, start, end in spans:
            target = codable_record(project, ref)
            whole = start is None and end is None
            span = locate(record_text(target), start=None if whole else start, end=None if whole else end,
                          whole=whole, what=_describe(target))
            if find_duplicate(project, target.id, the_code.id, coder, *span):
                skipped += 1
                continue
            made.append(project.add(Coding(record_id=target.id, code_id=the_code.id, start=span[0], end=span[1],
                                           coder=coder, note=note), reason=reason))
    return made, skipped


def annotate_coding(project: Project, ref: str, note: str, *, reason: str = "") -> Coding:
    """Set a coding's note (the previous version is kept in its history)."""
    coding = get_coding(project, ref)
    return project.update(attrs.evolve(coding, note=note.strip()), reason=reason or "note changed")


def rebound_coding(project: Project, ref: str, start: int, end: int, *, reason: str = "") -> Coding:
    """Move a segment coding to ``[start, end)`` of the same record (history kept)."""
    coding = get_coding(project, ref)
    if coding.start is None:
        raise Refused("this coding is on the whole record; remove it and code a segment instead")
    return resolve_review(project, coding.id, start=start, end=end, reason=reason or "re-bounded")


def get_coding(project: Project, ref: str) -> Coding:
    return project.get(ref, type_name="coding")


def remove_coding(project: Project, ref: str, *, reason: str = "removed") -> Coding:
    """Tombstone a coding (it stays in the database and its history)."""
    coding = get_coding(project, ref)
    return project.delete(coding.id, reason=reason or "removed")


def list_codings(project: Project, *, record: Optional[str] = None, code: Optional[str] = None,
                 coder: Optional[str] = None, status: Optional[str] = None, descendants: bool = False,
                 include_auto: bool = True) -> list[Coding]:
    """Live codings, filtered; ``descendants`` widens ``code`` to the codes below it."""
    filters: dict = {}
    if record:
        filters["record_id"] = project.resolve(record)
    if code:
        the_code = resolve_code(project, code)
        filters["code_id"] = descendant_ids(project, the_code.id) if descendants else the_code.id
    if coder:
        filters["coder"] = coder
    elif not include_auto:
        filters["human"] = True
    if status:
        filters["status"] = status
    return project.store.select("coding", order_by="record_id, start, id", **filters)


def review_list(project: Project, **filters: Any) -> list[Coding]:
    """Codings whose text was deleted or rewritten by an edit and need a person to look."""
    return list_codings(project, status="review", **filters)


def resolve_review(project: Project, ref: str, *, quote: Optional[str] = None,
                   occurrence: Optional[int] = None, start: Optional[int] = None, end: Optional[int] = None,
                   whole: bool = False,
                   reason: str = "") -> Coding:
    """Mark a coding as checked: as it stands, or re-anchored to a quote, offsets or the whole record."""
    coding = get_coding(project, ref)
    record = project.get(coding.record_id)
    changes = {"status": "ok"}
    if quote is not None or start is not None or end is not None or whole:
        s, e = locate(record_text(record), quote=quote, occurrence=occurrence, start=start, end=end,
                      whole=whole, what=_describe(record))
        changes.update(start=s, end=e)
    elif coding.start is not None and coding.start >= coding.end:
        raise Refused("this coding's text is gone (it is empty); re-anchor it with a quote or offsets, or remove it")
    updated = attrs.evolve(coding, **changes)
    if updated == coding:
        return coding
    return project.update(updated, reason=reason or "coding reviewed")


def review_texts(project: Project, coding: Coding) -> tuple[Optional[str], Optional[str]]:
    """``(was, now)`` for a coding marked for review after an edit.

    ``was`` is the text it covered when it was last ``ok`` (read from its own history and
    its record's, so no copy of the text is kept anywhere else; None when that history is
    gone, e.g. after a withdrawal); ``now`` is the text at the place it was mapped to."""
    from fieldkit.project import REVIEW_REASON

    record = project.get(coding.record_id, include_deleted=True)
    text = record_text(record)
    if text is None or coding.start is None:
        return None, text
    now = text[coding.start:coding.end]
    flagged = [r for r in project.store.history(coding.id)
               if r["reason"] == REVIEW_REASON and r["data"].get("status") == "ok"]
    if not flagged:
        return None, now
    before = flagged[-1]
    bodies = [r for r in project.store.history(record.id) if r["at"] <= before["at"] and "body" in r["data"]]
    if not bodies:
        return None, now
    start, end = before["data"]["start"], before["data"]["end"]
    return bodies[-1]["data"]["body"][start:end], now


def coding_rows(project: Project, codings: Sequence[Coding], *, context: int = 0,
                paths: Optional[dict[str, str]] = None) -> list[dict[str, Any]]:
    """Readable rows for codings: code path, the coded text and (optionally) text around it."""
    paths = paths if paths is not None else code_paths(project)
    texts: dict = {}
    rows = []
    for c in codings:
        if c.record_id not in texts:
            try:
                rec = project.get(c.record_id, include_deleted=True)
            except NotFound:
                rec = None
            texts[c.record_id] = (rec.type_name if rec else "?", record_text(rec) if rec else None,
                                  _record_label(rec) if rec else "")
        kind, text, label = texts[c.record_id]
        row = {"id": c.id, "record": c.record_id, "record_type": kind, "code": paths.get(c.code_id, c.code_id),
               "coder": c.coder, "start": c.start, "end": c.end, "status": c.status, "note": c.note}
        if text is None:
            row["text"] = label
        elif c.start is None:
            row["text"] = text
        else:
            row["text"] = text[c.start:c.end]
            if context:
                row["before"] = text[max(0, c.start - context):c.start]
                row["after"] = text[c.end:c.end + context]
        rows.append(row)
    return rows


def _record_label(record) -> str:
    if record.type_name == "encounter":
        return f"{record.code} {record.title}".strip()
    return getattr(record, "title", "") or getattr(record, "name", "") or getattr(record, "code", "") or ""


# inter-coder agreement -------------------------------------------------------------------
@attrs.frozen
class AgreementResult:
    """Statistics per code (and overall), the disagreements to discuss, and notes on the data."""

    coders: tuple
    unit: str
    overlap: float
    rows: list
    disagreements: list
    notes: list

    def to_json(self) -> dict:
        return {"coders": list(self.coders), "unit": self.unit, "overlap": self.overlap,
                "rows": self.rows, "disagreements": self.disagreements, "notes": self.notes}


def agreement(project: Project, coders: Sequence[str], *, unit: str = "character", overlap: float = 0.5,
              codes: Optional[Sequence[str]] = None, records: Optional[Sequence[str]] = None,
              untouched: str = "missing", excerpt: int = 80) -> AgreementResult:
    """Inter-coder agreement between ``coders`` over the project's codings.

    ``unit`` is ``character`` (every character of every record a coder coded is a unit) or
    ``segment`` (segments matched when their overlap, intersection over union, reaches
    ``overlap``). ``codes`` limits the codes (paths or names, each with the codes below it;
    default every code used) and
    ``records`` the records (default every record any of the coders coded). A coder who made
    no coding in a record is ``missing`` there by default (their silence is not counted as
    "does not apply"); ``untouched="absent"`` counts it as a decision not to code. Whole-record
    codings cover the whole body; an encounter counts as one unit. Codings still needing
    review after an edit are left out (and counted in a note).
    """
    from fieldkit.coding import agreement as stats

    coders = [check_coder_name(c) for c in coders]
    if len(coders) < 2:
        raise FieldkitError("agreement needs at least two coders, e.g. --coders alice,bob")
    if len(set(coders)) != len(coders):
        raise FieldkitError("each coder may be named only once")
    if unit not in stats.UNITS:
        raise FieldkitError(f"unit must be one of {', '.join(stats.UNITS)}, not {unit!r}")
    if untouched not in UNTOUCHED:
        raise FieldkitError(f"untouched must be one of {', '.join(UNTOUCHED)}, not {untouched!r}")
    try:
        overlap = float(overlap)
    except (TypeError, ValueError):
        raise FieldkitError(f"overlap must be a number between 0 and 1, not {overlap!r}") from None
    if not 0 < overlap <= 1:
        raise FieldkitError(f"overlap must be above 0 and at most 1, not {overlap}")
    known = set(coders_in_project(project))
    missing = [c for c in coders if c not in known]
    if missing:
        listed = ", ".join(sorted(known)) or "none yet"
        raise NotFound(f"coder(s) {', '.join(missing)} have no codings (coders in this project: {listed})")

    paths = code_paths(project)
    record_ids = None
    if records:
        record_ids = [codable_record(project, r).id for r in records]
    code_list = None
    notes = []
    if codes:
        # as everywhere else, a code includes the codes below it
        children = children_map(project)
        code_list = []
        for ref in codes:
            top = resolve_code(project, ref).id
            below = [paths[cid] for cid in descendant_ids(project, top, children=children)[1:]]
            code_list += [paths[top], *below]
            if below:
                notes.append(f"{paths[top]} includes the codes below it: {', '.join(below)}")
        code_list = list(dict.fromkeys(code_list))
    rows = project.store.coding.analysed(("record_id", "start", "end", "code_id", "coder", "status"),
                                         coders=coders, record_ids=record_ids)
    review = sum(1 for r in rows if r[5] == "review")
    if review:
        notes.append(f"{review} coding(s) needing review after an edit were left out")
    lengths: dict = {}
    for rid in (record_ids or ()):
        lengths[rid] = record_length(project.get(rid))
    for rid in {r[0] for r in rows}:
        if rid not in lengths:
            lengths[rid] = record_length(project.get(rid, include_deleted=True))
    codings = []
    for record_id, start, end, code_id, coder, status in rows:
        if status == "review":
            continue
        if start is None:
            start, end = 0, lengths[record_id]
        codings.append((record_id, start, min(end, lengths[record_id]), paths.get(code_id, code_id), coder))
    if not codings:
        raise FieldkitError("none of these coders' codings can be compared (nothing coded in the chosen records)")
    missing_untouched = untouched == "missing"
    table = stats.agreement_report(codings, lengths if unit == "character" else None, coders, unit=unit,
                                   overlap=overlap, missing_untouched=missing_untouched, codes=code_list)
    disagreements = stats.disagreements(codings, coders, unit=unit, overlap=overlap,
                                        missing_untouched=missing_untouched, codes=code_list)
    overall = table[-1]
    if overall.get("note"):
        notes.append(overall["note"])
    texts: dict = {}
    for d in disagreements:
        rid = d["record_id"]
        if rid not in texts:
            texts[rid] = record_text(project.get(rid, include_deleted=True))
        text = texts[rid]
        d["text"] = "" if text is None else text[d["start"]:d["end"]][:excerpt]
        d["spans"] = {k: list(v) for k, v in d["spans"].items()}
    return AgreementResult(tuple(coders), unit, overlap, table, disagreements, notes)
