"""Retrieval and analysis over codings: segments, frequencies, co-occurrence, code-by-attribute.

Every function returns plain dict rows (for scripts, JSON and CSV alike). By default the
proposals of auto-coders (coders named ``auto:…``) are left out, since they are not yet
anyone's analysis; pass ``coder="auto:keywords"`` (or ``include_auto=True``) to see them.

Who and where a coding is about: in a note with speaker turns (a transcript, a focus
group written as speaker lines; see ``store.turns``) a coding is about the speakers of the
turns it covers, and only them. The researcher's own turns count apart, as
``(researcher)``, never for a participant; someone nobody registered counts under their
label (``Speaker 2``) for ``participant`` and as ``(unregistered)`` for other attributes.
Elsewhere a record's participants are its encounter's participants plus the participants
@mentioned in it (an encounter coded as a whole has its own participants). A record's site
is its encounter's site.
"""

from __future__ import annotations

import datetime as dt

from collections import Counter, defaultdict
from typing import Any, Iterable, Optional, Sequence, TYPE_CHECKING, Union

import attrs

from fieldkit.coding.codings import code_paths, descendant_ids, record_text, resolve_code
from fieldkit.core.errors import FieldkitError

if TYPE_CHECKING:
    from fieldkit.project import Project

    #: one coder's name, several, or None for every coder (auto-coders only when asked)
    Coders = Union[str, Sequence[str], None]

NONE = "(none)"
RESEARCHER = "(researcher)"
UNREGISTERED = "(unregistered)"
GROUPS = ("code", "record", "encounter", "participant", "role", "site")
ATTRIBUTES = ("role", "participant", "organisation", "site", "site_kind", "encounter", "encounter_kind",
              "record_type", "coder")
COUNTS = ("codings", "records")


def _filters(project, *, coder=None, include_auto=False, codes=None, descendants=False, records=None) -> dict:
    """Arguments of ``store.coding.analysed`` for the usual filters."""
    return {
        "coders": ([coder] if isinstance(coder, str) else list(coder)) if coder else None,
        "human": None if include_auto else True,
        "code_ids": _code_ids(project, codes, descendants) if codes else None,
        "record_ids": [project.resolve(r) for r in records] if records else None,
    }


def _code_ids(project, codes, descendants: bool) -> list:
    ids: list = []
    for ref in ([codes] if isinstance(codes, str) else codes):
        code = resolve_code(project, ref)
        for cid in (descendant_ids(project, code.id) if descendants else [code.id]):
            if cid not in ids:
                ids.append(cid)
    return ids


# context of records ------------------------------------------------------------------------
@attrs.frozen
class RecordContext:
    """Where and with whom a record is: type, encounter, site and participant ids."""

    record_type: str
    encounter_id: Optional[str]
    site_id: Optional[str]
    participant_ids: tuple


class _Context:
    """Participants, sites and encounters loaded once, and record contexts on demand."""

    def __init__(self, project):
        self.project = project
        queries = project.store.coding
        self.participants = {}
        self.by_code = {}
        for pid, code, role, org, attributes in queries.participants():
            self.participants[pid] = {"code": code, "role": role, "organisation": org, "attributes": attributes}
            self.by_code[code.casefold()] = pid
        self.sites = {sid: {"name": name, "kind": kind} for sid, name, kind in queries.sites()}
        self.encounters = {eid: {"code": code, "kind": kind, "site_id": site_id, "participants": ids}
                           for eid, code, kind, site_id, ids in queries.encounters()}
        self.records: dict = {}
        self._turns: Optional[dict] = None

    def speakers(self, rid: str, start: Optional[int] = None,
                 end: Optional[int] = None) -> Optional[list[tuple[str, Optional[str], str]]]:
        """``(kind, participant id, label)`` of the turns ``[start, end)`` of a record covers
        (all of its turns for a whole-record coding); None when the record has no turns."""
        if self._turns is None:
            self._turns = self.project.store.turns.speakers_of_records()
        turns = self._turns.get(rid)
        if not turns:
            return None
        found = []
        for t_start, t_end, kind, pid, label in turns:
            covered = start is None or (t_start < end and start < t_end) or (start == end and t_start <= start < t_end)
            if covered and (kind, pid, label) not in found:
                found.append((kind, pid, label))
        return found

    def load(self, record_ids: Iterable[str]) -> None:
        """Fetch the context of many records with a few queries."""
        wanted = [r for r in set(record_ids) if r not in self.records]
        for rid, kind, encounter_id, mentions, links in self.project.store.coding.mentions(wanted):
            self._set(rid, kind, encounter_id, mentions, links)
        for rid in wanted:
            if rid in self.records:
                continue
            if rid in self.encounters:
                self._set(rid, "encounter", rid, [])
            else:
                kind = self.project.find_type(rid) or "?"
                self.records[rid] = RecordContext(kind, None, None, ())

    def _set(self, rid, kind, encounter_id, mentions, links=()):
        enc = self.encounters.get(encounter_id) if encounter_id else None
        people = list(enc["participants"]) if enc else []
        for pid in [self.by_code.get(str(code).casefold()) for code in mentions] + list(links):
            if pid and pid not in people:
                people.append(pid)
        self.records[rid] = RecordContext(kind, encounter_id, enc["site_id"] if enc else None, tuple(people))

    def context(self, rid: str) -> RecordContext:
        if rid not in self.records:
            self.load([rid])
        return self.records[rid]

    def values(self, rid: str, attribute: str, coder: str = "", start: Optional[int] = None,
               end: Optional[int] = None) -> list[Any]:
        """The values of ``attribute`` for a coding of a record on ``[start, end)`` (several
        for participant attributes); speakers decide in a record with turns."""
        ctx = self.context(rid)
        if attribute == "record":
            return [rid]
        if attribute == "record_type":
            return [ctx.record_type]
        if attribute == "coder":
            return [coder]
        if attribute in ("encounter", "encounter_kind"):
            enc = self.encounters.get(ctx.encounter_id)
            if not enc:
                return [NONE]
            return [enc["code"] if attribute == "encounter" else enc["kind"]]
        if attribute in ("site", "site_kind"):
            site = self.sites.get(ctx.site_id)
            if not site:
                return [NONE]
            return [site["name"] if attribute == "site" else site["kind"]]
        speakers = self.speakers(rid, start, end)
        extra: list = []
        if speakers is None:
            ids = ctx.participant_ids
        else:
            ids = [pid for kind, pid, _label in speakers if kind == "participant"]
            for kind, _pid, label in speakers:
                if kind == "researcher":
                    extra.append(RESEARCHER)
                elif kind == "unregistered":
                    extra.append(label if attribute == "participant" else UNREGISTERED)
        people = [self.participants[p] for p in ids if p in self.participants]
        if attribute == "participant":
            found = [p["code"] for p in people]
        elif attribute == "role":
            found = [p["role"] for p in people]
        elif attribute == "organisation":
            found = [p["organisation"] for p in people if p["organisation"]]
        else:
            key = attribute[5:] if attribute.startswith("attr:") else attribute
            found = [p["attributes"][key] for p in people if key in p["attributes"]]
        out = []
        for value in [*found, *extra]:
            if value not in out:
                out.append(value)
        return out or [NONE]


def speakers(project: Project, record_id: str, start: Optional[int] = None, end: Optional[int] = None) -> list[str]:
    """Who spoke the words ``[start, end)`` of a record (all of it when no span is given):
    participant codes, ``(researcher)`` and unregistered labels, in body order; empty when
    the record has no speaker turns."""
    return list(dict.fromkeys(_speaker_names(_Context(project), project.resolve(record_id), start, end)))


def record_context(project: Project, record_id: str) -> RecordContext:
    """The encounter, site and participants a record is about (see module notes)."""
    return _Context(project).context(project.resolve(record_id))


def _check_attribute(project, attribute: str) -> str:
    attribute = (attribute or "").strip()
    if attribute in ATTRIBUTES or attribute == "record":
        return attribute
    key = attribute[5:] if attribute.startswith("attr:") else attribute
    known = set()
    for *_, attributes in project.store.coding.participants():
        known.update(attributes)
    if key in known:
        return "attr:" + key
    extra = f"; participant attributes: {', '.join(sorted(known))}" if known else ""
    raise FieldkitError(f"unknown attribute '{attribute}'; choose from {', '.join(ATTRIBUTES)}{extra}")


# segments ----------------------------------------------------------------------------------------
def segments(project: Project, code: str, *, descendants: bool = True, coder: Coders = None,
             include_auto: bool = False, records: Optional[Sequence[str]] = None,
             context: int = 60) -> list[dict[str, Any]]:
    """Every coded segment of ``code`` (and, by default, the codes below it) with its text and
    up to ``context`` characters either side, in the order things happened (see ``_happened``)."""
    columns = ("id", "record_id", "code_id", "coder", "start", "end", "status", "note")
    rows = [dict(zip(columns, row)) for row in project.store.coding.analysed(
        columns, ordered=True, **_filters(project, coder=coder, include_auto=include_auto, codes=[code],
                                          descendants=descendants, records=records))]
    paths = code_paths(project)
    ctx = _Context(project)
    ctx.load(r["record_id"] for r in rows)
    records_cache: dict = {}
    checked = _member_checks(project, rows)
    out = []
    for r in rows:
        rid = r["record_id"]
        if rid not in records_cache:
            records_cache[rid] = project.get(rid, include_deleted=True)
        record = records_cache[rid]
        text = record_text(record)
        start, end = r["start"], r["end"]
        if text is None:
            quote = f"{record.code} {record.title}".strip() if record.type_name == "encounter" else ""
            before = after = ""
        elif start is None:
            quote, before, after = text, "", ""
        else:
            quote = text[start:end]
            before = text[max(0, start - context):start] if context else ""
            after = text[end:end + context] if context else ""
        enc = ctx.encounters.get(ctx.context(rid).encounter_id)
        out.append({
            "coding": r["id"], "record": rid, "record_type": record.type_name, "code": paths.get(r["code_id"]),
            "coder": r["coder"], "start": start, "end": end, "text": quote, "before": before, "after": after,
            "encounter": enc["code"] if enc else None, "status": r["status"], "note": r["note"],
            "speakers": ", ".join(dict.fromkeys(_speaker_names(ctx, rid, start, end))),
            "member_check": checked.get(r["id"]) or checked.get((rid, start, end), ""),
        })
    # chronological: by when each record happened (observed, or began), then place in the text
    when = {rid: _happened(record) for rid, record in records_cache.items()}
    out.sort(key=lambda row: (when[row["record"]], row["record"], row["start"] or 0))
    return out


def _happened(record) -> str:
    """When a record happened, as sortable UTC text: observed, begun or written."""
    moment = getattr(record, "observed_at", None) or getattr(record, "start", None) or record.created_at
    return moment.astimezone(dt.timezone.utc).isoformat() if isinstance(moment, dt.datetime) else str(moment)


def _speaker_names(ctx: _Context, rid, start, end) -> list:
    found = ctx.speakers(rid, start, end) or []
    return [ctx.participants[pid]["code"] if kind == "participant" and pid in ctx.participants
            else RESEARCHER if kind == "researcher" else label for kind, pid, label in found]


def _member_checks(project, rows: list[dict]) -> dict:
    """The member-check status of the segments that are quotes a participant was shown, by
    coding id and by ``(record, start, end)`` (``fieldkit member-check``)."""
    found: dict = {}
    for quote in project.store.lifecycle.quotes(record_ids=sorted({r["record_id"] for r in rows})):
        found[quote["coding_id"]] = quote["status"]
        found[(quote["record_id"], quote["start"], quote["end"])] = quote["status"]
    return found


# frequencies ---------------------------------------------------------------------------------
def _codings(project, **filters) -> list[tuple]:
    """``(record_id, code_id, coder, start, end)`` of the codings analysis looks at."""
    return project.store.coding.analysed(("record_id", "code_id", "coder", "start", "end"),
                                         **_filters(project, **filters))


def _rollup_map(project, rollup: bool) -> dict:
    """``{code_id: [code_id and, with rollup, its ancestors]}`` for every code."""
    parents = project.store.coding.parents()
    out = {}
    for cid in parents:
        chain = [cid]
        if rollup:
            parent, seen = parents.get(cid), {cid}
            while parent and parent not in seen:
                chain.append(parent)
                seen.add(parent)
                parent = parents.get(parent)
        out[cid] = chain
    return out


def frequencies(project: Project, by: str = "code", *, codes: Optional[Sequence[str]] = None, coder: Coders = None,
                include_auto: bool = False, rollup: bool = False, descendants: bool = False) -> list[dict[str, Any]]:
    """How often each code was applied, overall or by record, encounter, participant, role or site.

    Rows ``{"code", <by>, "codings", "records"}`` (no ``<by>`` column for ``by="code"``). A coding
    counts once for each group its record belongs to: a note about an interview with P03 and P07
    counts for both participants (and for both roles, if they differ). ``rollup`` also counts
    each coding for every ancestor of its code.
    """
    if by not in GROUPS:
        raise FieldkitError(f"frequencies by '{by}'? choose from {', '.join(GROUPS)}")
    rows = _codings(project, coder=coder, include_auto=include_auto, codes=codes, descendants=descendants)
    paths = code_paths(project)
    chains = _rollup_map(project, rollup)
    ctx = _Context(project)
    if by != "code":
        ctx.load(r[0] for r in rows)
    counts: Counter = Counter()
    recs: dict = defaultdict(set)
    for record_id, code_id, _coder, start, end in rows:
        groups = [None] if by == "code" else ctx.values(record_id, by, start=start, end=end)
        for cid in chains.get(code_id, [code_id]):
            for group in groups:
                counts[(cid, group)] += 1
                recs[(cid, group)].add(record_id)
    out = []
    for (cid, group), n in counts.items():
        row = {"code": paths.get(cid, cid)}
        if by != "code":
            row[by] = group
        row.update(codings=n, records=len(recs[(cid, group)]))
        out.append(row)
    out.sort(key=lambda r: (r["code"], str(r.get(by, ""))))
    return out


# co-occurrence -------------------------------------------------------------------------------
def cooccurrence(project: Project, *, coder: Coders = None, include_auto: bool = False,
                 codes: Optional[Sequence[str]] = None, same_coder: bool = False,
                 min_count: int = 1) -> list[dict[str, Any]]:
    """Pairs of codes found together: ``{"code_a", "code_b", "overlaps", "records"}``.

    ``overlaps`` counts pairs of codings (one of each code) on the same record whose segments
    share at least one character (a whole-record coding overlaps every segment of its record);
    ``records`` counts records where both codes were applied anywhere. ``same_coder`` only pairs
    codings by the same coder. Rows are sorted by code path with ``code_a < code_b``; pairs
    below ``min_count`` on both counts are left out.

    One pass over the codings sorted by record and start: within a record each segment is
    compared only with the segments that start before it ends, and the records counts come
    from one bit set of records per code (``popcount(a & b)``).
    """
    filters = _filters(project, coder=coder, include_auto=include_auto, codes=codes)
    rows = project.store.coding.spans(same_coder=same_coder, coders=filters["coders"], human=filters["human"],
                                      code_ids=filters["code_ids"])
    index: dict = {}
    overlaps: Counter = Counter()
    in_records: dict = defaultdict(list)      # code index -> record numbers (ascending)
    pair_records: dict = defaultdict(set)     # only with same_coder: (a, b) -> record numbers
    record_no = -1
    current_record = current_group = None
    starts: list = []
    ends: list = []
    kinds: list = []
    used: set = set()

    def flush():
        n = len(kinds)
        for i in range(n):
            end, a = ends[i], kinds[i]
            for j in range(i + 1, n):
                if starts[j] >= end:
                    break  # sorted by start: no later segment can overlap segment i
                b = kinds[j]
                if a != b:
                    overlaps[(a, b) if a < b else (b, a)] += 1
        if same_coder:
            for pair in _pairs(sorted(used)):
                pair_records[pair].add(record_no)
        else:
            for c in used:
                in_records[c].append(record_no)

    for row in rows:
        record, code_id, start, end = row[0], row[-3], row[-2], row[-1]
        key = row[:-3]
        if key != current_group:
            if current_group is not None:
                flush()
            starts, ends, kinds, used = [], [], [], set()
            current_group = key
            if record != current_record:
                current_record = record
                record_no += 1
        c = index.get(code_id)
        if c is None:
            c = index[code_id] = len(index)
        used.add(c)
        if start < end:  # an empty (collapsed) segment overlaps nothing
            starts.append(start)
            ends.append(end)
            kinds.append(c)
    if current_group is not None:
        flush()

    together: dict = {}
    if same_coder:
        together = {pair: len(recs) for pair, recs in pair_records.items()}
    else:
        size = record_no // 8 + 1
        masks = {}
        for c, numbers in in_records.items():
            bits = bytearray(size)
            for r in numbers:
                bits[r >> 3] |= 1 << (r & 7)
            masks[c] = int.from_bytes(bits, "little")
        for a, b in _pairs(sorted(masks)):
            n = (masks[a] & masks[b]).bit_count()
            if n:
                together[(a, b)] = n
    paths = code_paths(project)
    names = {c: paths.get(code_id, code_id) for code_id, c in index.items()}
    table: dict = {}
    for pair in set(overlaps) | set(together):
        pa, pb = names[pair[0]], names[pair[1]]
        key = (pa, pb) if pa <= pb else (pb, pa)
        o, r = table.get(key, (0, 0))
        table[key] = (o + overlaps.get(pair, 0), r + together.get(pair, 0))
    out = [{"code_a": a, "code_b": b, "overlaps": o, "records": r}
           for (a, b), (o, r) in table.items() if max(o, r) >= min_count]
    out.sort(key=lambda r: (r["code_a"], r["code_b"]))
    return out


def _pairs(items):
    for i, a in enumerate(items):
        for b in items[i + 1:]:
            yield a, b


# code-by-attribute matrix ----------------------------------------------------------------------
def matrix(project: Project, attribute: str = "role", *, codes: Optional[Sequence[str]] = None,
           coder: Coders = None, include_auto: bool = False, count: str = "codings", rollup: bool = False,
           descendants: bool = False) -> list[dict[str, Any]]:
    """A code-by-attribute table: one row per code, one column per value of ``attribute``.

    ``attribute`` is ``role`` (participant role; answers "how do experiences differ between
    people on probation, inspectors and staff"), ``participant``, ``organisation``, ``site``,
    ``site_kind``, ``encounter``, ``encounter_kind``, ``record_type``, ``coder`` or a key of the
    participants' free attributes (``attr:region`` or just ``region``). Cells count codings (or,
    with ``count="records"``, distinct records); a coding counts in every column its record
    belongs to, so columns can add up to more than ``total`` (the codings of the code). Records
    without a value go in ``(none)``. Only codes with codings appear unless ``codes`` is given.
    """
    if count not in COUNTS:
        raise FieldkitError(f"count must be one of {', '.join(COUNTS)}, not {count!r}")
    attribute = _check_attribute(project, attribute)
    rows = _codings(project, coder=coder, include_auto=include_auto, codes=codes, descendants=descendants)
    paths = code_paths(project)
    chains = _rollup_map(project, rollup)
    ctx = _Context(project)
    ctx.load(r[0] for r in rows)
    cells: dict = defaultdict(lambda: defaultdict(set))
    totals: dict = defaultdict(set)
    columns: set = set()
    for i, (record_id, code_id, coder_name, start, end) in enumerate(rows):
        item = i if count == "codings" else record_id
        values = ctx.values(record_id, attribute, coder_name, start, end)
        for cid in chains.get(code_id, [code_id]):
            totals[cid].add(item)
            for value in values:
                cells[cid][value].add(item)
                columns.add(value)
    order = sorted(columns, key=lambda v: (v == NONE, str(v)))
    code_ids = _code_ids(project, codes, descendants) if codes else [c for c in totals]
    out = []
    for cid in code_ids:
        row = {"code": paths.get(cid, cid)}
        for value in order:
            row[value] = len(cells[cid][value]) if cid in cells else 0
        row["total"] = len(totals.get(cid, ()))
        out.append(row)
    out.sort(key=lambda r: r["code"])
    return out


def matrix_columns(rows: list[dict]) -> list[str]:
    """Column order of a ``matrix`` result (for printing)."""
    if not rows:
        return ["code", "total"]
    return list(rows[0].keys())
