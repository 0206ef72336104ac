"""Auto-coding: coders registered by plugins propose codings, people accept or reject them.

A coder (``fieldkit.hooks.registry.Coder``) is called as ``propose(project, record, codes)`` with a
record and the active codes, and yields ``Proposal`` objects. Proposals are stored as ordinary
codings by the coder ``auto:<name>``, so they can be listed, measured against a human coder
with ``fieldkit agreement --coders auto:keywords,alice``, accepted or rejected:

* a proposal is *pending* while no human coder has the same code on the same span;
* ``accept`` copies it to a human coder (the proposal itself stays, so agreement between the
  auto-coder and people can still be measured);
* ``reject`` tombstones it; a rejected proposal is not proposed again by later runs.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Optional, Sequence, TYPE_CHECKING

import attrs

from fieldkit.coding.codings import AUTO_PREFIX, TEXT_TYPES, check_coder_name, code_paths, is_auto_coder, record_text
from fieldkit.core.errors import FieldkitError, NotFound, PluginError, Refused

if TYPE_CHECKING:
    from fieldkit.core.records import Coding
    from fieldkit.hooks.registry import Coder
    from fieldkit.project import Project


@attrs.frozen
class Proposal:
    """A coding an auto-coder suggests: ``code_id`` on ``[start, end)`` (both None: the whole record)."""

    code_id: str
    start: Optional[int] = None
    end: Optional[int] = None
    note: str = ""


@attrs.define
class AutocodeReport:
    """What one auto-coding run did."""

    coder: str
    records: int = 0
    proposed: int = 0
    already: int = 0
    by_code: dict = attrs.Factory(dict)

    def summary(self) -> str:
        text = f"{self.coder}: {self.proposed} new proposal(s) in {self.records} record(s)"
        if self.already:
            text += f"; {self.already} were already proposed, accepted or rejected"
        return text


def available_coders() -> dict[str, Coder]:
    from fieldkit.hooks.manager import coders

    return coders()


def get_coder(name: str) -> Coder:
    coders = available_coders()
    if name not in coders:
        listed = ", ".join(sorted(coders)) or "none"
        raise NotFound(f"no auto-coder named '{name}' (available: {listed})")
    return coders[name]


def _records(project, records, all_records: bool) -> Iterable:
    if records and all_records:
        raise FieldkitError("give records or --all, not both")
    if records:
        for ref in records:
            record = project.get(ref)
            if record.type_name not in TEXT_TYPES:
                raise Refused(f"auto-coders read text; {record.type_name} {ref} has none")
            yield record
        return
    if not all_records:
        raise FieldkitError("say which records to auto-code, or --all")
    for type_name in TEXT_TYPES:
        last = ""
        while True:  # paged, so a large project is never all in memory
            page = project.list(type_name, after=last, limit=500)
            if not page:
                break
            yield from page
            last = page[-1].id


def _check(item, record, codes_by_id, coder_name):
    """A proposal as ``(code_id, start, end, note)``; a bad one is the plugin's fault."""
    if isinstance(item, Proposal) or getattr(item, "type_name", None) == "coding":
        code_id, start, end, note = item.code_id, item.start, item.end, item.note
    elif isinstance(item, dict):
        code_id, start, end, note = item.get("code_id"), item.get("start"), item.get("end"), item.get("note", "")
    else:
        raise PluginError(f"auto-coder {coder_name} proposed {type(item).__name__}; expected a Proposal")
    if hasattr(code_id, "type_name"):
        code_id = code_id.id
    if code_id not in codes_by_id:
        raise PluginError(f"auto-coder {coder_name} proposed code {code_id!r}, which is not an active code")
    text = record_text(record)
    if (start is None) != (end is None):
        raise PluginError(f"auto-coder {coder_name} proposed a span with only one end")
    if start is not None:
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text or "")):
            raise PluginError(f"auto-coder {coder_name} proposed [{start}, {end}) outside "
                              f"{record.type_name} {record.id} (length {len(text or '')})")
    return code_id, start, end, str(note or "")


def run_autocoder(project: Project, coder: str = "keywords", *, records: Optional[Sequence[str]] = None,
                  all_records: bool = False, codes: Optional[Sequence[str]] = None,
                  progress: Optional[Callable[[int], None]] = None) -> AutocodeReport:
    """Run a registered auto-coder over ``records`` (refs) or every observation and memo.

    New proposals are stored as codings by ``auto:<coder>`` in one transaction: if the coder
    fails half-way, nothing is written. Proposals that already exist (pending, accepted or
    rejected) are not made again. ``codes`` limits the codes offered to the coder.
    """
    from fieldkit.coding.codings import resolve_code
    from fieldkit.core.records import Coding

    item = get_coder(coder)
    name = AUTO_PREFIX + item.name
    if codes:
        offered = [resolve_code(project, c) for c in codes]
        inactive = [c.name for c in offered if c.status != "active"]
        if inactive:
            raise Refused(f"code(s) {', '.join(inactive)} are not active")
    else:
        offered = project.list("code", status="active")
    codes_by_id = {c.id: c for c in offered}
    paths = code_paths(project)
    report = AutocodeReport(name)
    new = []
    for record in _records(project, records, all_records):
        report.records += 1
        seen = project.store.coding.spans_by(record.id, name)
        try:
            proposed = list(item.propose(project, record, list(offered)) or ())
        except (PluginError, FieldkitError):
            raise
        except Exception as exc:
            raise PluginError(f"auto-coder {item.name} failed on {record.type_name} {record.id}: "
                              f"{type(exc).__name__}: {exc}") from exc
        for p in proposed:
            code_id, start, end, note = _check(p, record, codes_by_id, item.name)
            if (code_id, start, end) in seen:
                report.already += 1
                continue
            seen.add((code_id, start, end))
            new.append(Coding(record_id=record.id, code_id=code_id, start=start, end=end, coder=name, note=note))
            path = paths.get(code_id, code_id)
            report.by_code[path] = report.by_code.get(path, 0) + 1
        if progress:
            progress(1)
    if new:
        project.add_many(new, reason=f"proposed by {name}")
    report.proposed = len(new)
    return report


def proposals(project: Project, *, coder: Optional[str] = None, record: Optional[str] = None,
              code: Optional[str] = None, pending: bool = True) -> list[Coding]:
    """Live proposals of auto-coders; with ``pending`` (the default) only those no human coder
    has yet made (same record, code and span)."""
    from fieldkit.coding.codings import resolve_code

    return project.store.coding.proposals(
        coder=(coder if is_auto_coder(coder) else AUTO_PREFIX + coder) if coder else None,
        record_id=project.resolve(record) if record else None,
        code_id=resolve_code(project, code).id if code else None, pending=pending)


def _chosen(project, refs, all_pending, filters) -> list:
    if refs and all_pending:
        raise FieldkitError("give proposal ids or --all, not both")
    if not refs and not all_pending:
        raise FieldkitError("say which proposals (their ids) or --all")
    if all_pending:
        return proposals(project, **filters)
    chosen = []
    for ref in refs:
        coding = project.get(ref, type_name="coding")
        if not is_auto_coder(coding.coder):
            raise Refused(f"coding {coding.id} is by {coding.coder}, not an auto-coder proposal")
        chosen.append(coding)
    return chosen


def accept(project: Project, refs: Sequence[str] = (), *, as_coder: Optional[str] = None, all_pending: bool = False,
           reason: str = "", **filters: Any) -> list[Coding]:
    """Copy proposals to a human coder (default: the project author); returns the new codings.

    With ``all_pending`` every pending proposal (narrowed by ``coder``, ``record``, ``code``)
    is accepted. A proposal the coder already has is skipped.
    """
    from fieldkit.coding.codings import find_duplicate
    from fieldkit.core.records import Coding

    as_coder = check_coder_name(as_coder or project.author)
    if is_auto_coder(as_coder):
        raise Refused("accept proposals as a person, not as an auto-coder")
    made = []
    with project.transaction():
        for p in _chosen(project, refs, all_pending, filters):
            if find_duplicate(project, p.record_id, p.code_id, as_coder, p.start, p.end):
                continue
            made.append(project.add(Coding(record_id=p.record_id, code_id=p.code_id, start=p.start, end=p.end,
                                           coder=as_coder, note=p.note, status=p.status),
                                    reason=reason or f"accepted proposal {p.id} of {p.coder}"))
    return made


def accept_extended(project: Project, ref: str, unit: str, *, as_coder: Optional[str] = None,
                    reason: str = "") -> Coding:
    """Accept a proposal widened to its sentence or paragraph (``codings.extend_span``).

    The person's coding gets the wider span; the proposal itself is then tombstoned (it has
    been dealt with, and a later run will not propose it again). Returns the new coding."""
    from fieldkit.coding.codings import apply_code, extend_span

    (proposal,) = _chosen(project, [ref], False, {})
    record = project.get(proposal.record_id)
    text = record_text(record)
    if proposal.start is None or text is None:
        raise Refused("this proposal is on the whole record; accept it as it is")
    start, end = extend_span(text, proposal.start, proposal.end, unit)
    with project.transaction():
        made = apply_code(project, record.id, proposal.code_id, start=start, end=end,
                          coder=as_coder, note=proposal.note)
        project.delete(proposal.id, reason=reason or f"accepted, extended to the {unit}, as coding {made.id}")
    return made


def reject(project: Project, refs: Sequence[str] = (), *, all_pending: bool = False, reason: str = "",
           **filters: Any) -> list[Coding]:
    """Tombstone proposals; later runs of the auto-coder will not propose them again."""
    chosen = _chosen(project, refs, all_pending, filters)
    with project.transaction():
        for p in chosen:
            project.delete(p.id, reason=reason or "proposal rejected")
    return chosen
