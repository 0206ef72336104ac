"""Search in the workbench: ``Project.search`` plus the places of the hits inside each record.

``Project.search`` finds the records (full text, ranked); the hits shown and coded are the
places in each body where the searched words occur together, in order
(``codings.find_phrase``), or each word on its own when they never occur together. Filters
the search itself cannot apply (site, coder, speaker and their role) are applied here to
the records and hits it returns; speaker and role by the stored speaker turns of each record
(``store.turns``): a hit is a speaker's when it lies inside one of their turns.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional, TYPE_CHECKING

from fieldkit.core.errors import FieldkitError
from fieldkit.serve.data import RESEARCHER, label

if TYPE_CHECKING:
    from fieldkit.project import Project

CONTEXT = 60
LIMIT = 200
#: what the full-text search is asked for when filters it does not know are applied after it
EVERY = 10**9


def filter_choices(project: Project) -> dict[str, Any]:
    """The values each filter can take, for the search form."""
    from fieldkit.coding.codings import coders_in_project, code_paths, is_auto_coder
    from fieldkit.core.records import ROLES

    participants = project.list("participant", order_by="code")
    return {"encounters": [(e.code, f"{e.code} {e.title}".strip()) for e in project.list("encounter")],
            "sites": [(s.id, s.name) for s in project.list("site")],
            "roles": [(r, r.replace("_", " ")) for r in ROLES],
            "speakers": [(p.code, p.code) for p in participants] + [(RESEARCHER, RESEARCHER)],
            "codes": sorted((path, path) for path in code_paths(project, include_deleted=False).values()),
            "coders": [(c, c) for c in coders_in_project(project) if not is_auto_coder(c)]}


def _day(value: Optional[str], end: bool = False) -> Optional[dt.datetime]:
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise FieldkitError(f"a date looks like 2024-03-05, not {value!r}") from None
    at = dt.datetime.combine(day, dt.time.max if end else dt.time.min, dt.timezone.utc)
    return at


def hits_in(text: str, query: str) -> list[tuple[int, int]]:
    """Where ``query`` occurs in ``text``: as a phrase, else word by word."""
    from fieldkit.coding.codings import find_phrase

    found = find_phrase(text, query)
    if found:
        return found
    spans = sorted({span for word in query.split() for span in find_phrase(text, word)})
    return spans


def run_search(project: Project, params: dict[str, Any]) -> dict[str, Any]:
    """Records and hits for the search form's parameters (``q`` and the filters)."""
    from fieldkit.coding.codings import list_codings

    query = (params.get("q") or "").strip()
    filters = {"encounter": params.get("encounter") or None, "code": params.get("code") or None,
               "since": _day(params.get("since")), "until": _day(params.get("until"), end=True)}
    site = params.get("site") or ""
    coder = params.get("coder") or ""
    speaker = (params.get("speaker") or "").casefold()
    role = params.get("role") or ""
    # memos belong to no encounter: a search within one is a search of its notes
    types = ("observation",) if filters["encounter"] else ("observation", "memo")
    # these filters are applied here, after the full-text search: it must then return every
    # match, or records past its limit would be silently left out
    found = project.search(query, types=types, limit=EVERY if (site or coder or speaker or role) else LIMIT + 1,
                           **filters)
    encounters = {e.id: e for e in project.list("encounter")}
    participants = project.list("participant")
    roles = {p.id: p.role for p in participants}
    speaker_id = next((p.id for p in participants if p.code.casefold() == speaker), None)
    spoken = project.store.turns.of_records([hit.record.id for hit in found]) if speaker or role else {}

    def said_by(turn) -> bool:
        if speaker == RESEARCHER and turn.speaker_kind != "researcher":
            return False
        if speaker and speaker != RESEARCHER and (turn.speaker_kind != "participant" or turn.speaker_id != speaker_id):
            return False
        return not role or (turn.speaker_kind == "participant" and roles.get(turn.speaker_id) == role)
    coded = {c.record_id for c in list_codings(project, coder=coder)} if coder else None
    results, total = [], 0
    for hit in found:
        record = hit.record
        if site:
            encounter = encounters.get(getattr(record, "encounter_id", None))
            if encounter is None or encounter.site_id != site:
                continue
        if coded is not None and record.id not in coded:
            continue
        places = hits_in(record.body, query)
        if speaker or role:
            theirs = [t for t in spoken.get(record.id, ()) if said_by(t)]
            places = [(s, e) for s, e in places if any(t.start <= s and e <= t.end for t in theirs)]
        if not places:
            continue
        body = record.body
        items = [{"start": s, "end": e, "before": body[max(0, s - CONTEXT):s], "text": body[s:e],
                  "after": body[e:e + CONTEXT]} for s, e in places]
        total += len(items)
        results.append({"id": record.id, "type": record.type_name, "label": label(record, encounters),
                        "hits": items})
    truncated = len(results) > LIMIT
    if truncated:
        results = results[:LIMIT]
        total = sum(len(r["hits"]) for r in results)
    return {"query": query, "records": results, "total": total, "truncated": truncated}


def preview(project: Project, body: dict[str, Any], coder: str) -> dict[str, Any]:
    """The spans "code all hits" would code, widened to sentences or paragraphs if asked,
    with the text each would cover: nothing is saved here."""
    from fieldkit.coding.codings import extend_span, find_duplicate, resolve_code, usable_code

    extent = body.get("extent") or "hit"
    if extent not in ("hit", "sentence", "paragraph"):
        raise FieldkitError(f"code hits as they are, or widened to a sentence or paragraph, not {extent!r}")
    code = usable_code(project, resolve_code(project, str(body.get("code", ""))))
    found = run_search(project, body.get("params") or {})
    rows = []
    for record in found["records"]:
        text = project.get(record["id"]).body
        seen = set()
        for hit in record["hits"]:
            start, end = hit["start"], hit["end"]
            if extent != "hit":
                start, end = extend_span(text, start, end, extent)
            if (start, end) in seen:
                continue
            seen.add((start, end))
            rows.append({"record": record["id"], "label": record["label"], "start": start, "end": end,
                         "text": text[start:end],
                         "already": find_duplicate(project, record["id"], code.id, coder, start, end) is not None})
    warnings = [f"only the first {LIMIT} records that match are listed; narrow the search to code the rest"] \
        if found["truncated"] else []
    return {"code": code.id, "spans": rows, "warnings": warnings}
