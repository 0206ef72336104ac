"""What the workbench shows, gathered from the library (no SQL here: the store owns it)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Collection, Optional, TYPE_CHECKING, Union

from fieldkit.core.errors import FieldkitError
from fieldkit.serve.offsets import Utf16Index

if TYPE_CHECKING:
    from fieldkit.core.records import Coding, Record
    from fieldkit.project import Project
    from fieldkit.serve.render import ShownTurn

#: how many recently used codes get a number key
RECENT = 9
#: how the researcher's own speaker turns are named
RESEARCHER = "(researcher)"


class Workbench:
    """The server's state: the project (one connection per thread that uses it), the coder
    identity new codings are made under, and the codes used most recently."""

    def __init__(self, path: Path, *, passphrase: Optional[str] = None, coder: str = ""):
        self.path = Path(path)
        self.passphrase = passphrase
        self._local = threading.local()
        self._opened: list = []
        self._lock = threading.Lock()
        self._coder = coder
        self.recent: list[str] = []

    def project(self) -> Project:
        """The project, opened on first use in this thread (SQLite connections stay in theirs)."""
        project = getattr(self._local, "project", None)
        if project is None:
            import fieldkit

            project = fieldkit.open(self.path, passphrase=self.passphrase)
            self._local.project = project
            with self._lock:
                self._opened.append(project)
        return project

    def close(self) -> None:
        with self._lock:
            for project in self._opened:
                try:
                    project.close()
                except Exception:  # a connection of a finished thread
                    pass
            self._opened.clear()

    @property
    def coder(self) -> str:
        return self._coder or self.project().author

    def set_coder(self, name: str) -> str:
        from fieldkit.coding.codings import AUTO_PREFIX, check_coder_name

        name = check_coder_name(name)
        if name.startswith(AUTO_PREFIX):
            raise FieldkitError(f"'{AUTO_PREFIX}…' names belong to auto-coders; choose a person's name")
        self._coder = name
        return name

    def used(self, code_id: str) -> None:
        self.recent = [code_id, *(c for c in self.recent if c != code_id)][:RECENT]


# codes ---------------------------------------------------------------------------------
def codes(project: Project) -> list[dict[str, Any]]:
    """The codebook rows (``codebook.codebook_rows``) with a colour for every code."""
    from fieldkit.coding.codebook import codebook_rows
    from fieldkit.coding.codebook_file import default_colour

    rows = codebook_rows(project)
    for position, row in enumerate(rows):
        row["colour"] = row["colour"] or default_colour(position)
    return rows


# records -------------------------------------------------------------------------------
def label(record: Record, encounters: Optional[dict[str, Any]] = None) -> str:
    """A short human label for a record."""
    kind = record.type_name
    if kind == "observation":
        enc = (encounters or {}).get(record.encounter_id)
        where = f"{enc.code} " if enc is not None else ""
        first = " ".join(record.body.lstrip("#> \n").split())[:60]
        return f"{where}{record.stage}: {first}"
    if kind == "memo":
        return f"{record.kind} memo: {record.title or ' '.join(record.body.split())[:60]}"
    if kind == "encounter":
        return f"{record.code} {record.title or record.kind.replace('_', ' ')}"
    return getattr(record, "code", None) or getattr(record, "name", None) or record.id


def shown_turns(project: Project, record: Record) -> list[ShownTurn]:
    """The stored speaker turns of a note (``store.turns``) as the page shows them
    (``render.ShownTurn``): a participant by their code, the researcher as ``(researcher)``,
    anyone else by the label the importer gave them (``Speaker 2``)."""
    from fieldkit.exchange.transcripts import clock
    from fieldkit.serve.render import ShownTurn

    stored = project.store.turns.of_record(record.id)
    if not stored:
        return []
    codes = {p.id: p.code for p in project.list("participant")}
    shown = []
    for turn in stored:
        code = codes.get(turn.speaker_id, turn.speaker_label) if turn.speaker_kind == "participant" else ""
        speaker = code or (RESEARCHER if turn.speaker_kind == "researcher" else turn.speaker_label)
        shown.append(ShownTurn(turn.start, turn.end, turn.speaker_kind, speaker, code,
                               clock(turn.time_start) if turn.time_start is not None else "",
                               clock(turn.time_end) if turn.time_end is not None else ""))
    return shown


def coding_json(coding: Coding, index: Optional[Utf16Index], code_rows: dict[str, dict[str, Any]],
                paths: dict[str, str]) -> dict[str, Any]:
    """A coding as the page uses it: code-point and UTF-16 offsets, code path and colour."""
    row = code_rows.get(coding.code_id) or {}
    out = {"id": coding.id, "code_id": coding.code_id, "code": paths.get(coding.code_id, coding.code_id),
           "colour": row.get("colour", "#888888"), "coder": coding.coder, "note": coding.note,
           "status": coding.status, "start": coding.start, "end": coding.end, "whole": coding.start is None,
           "s16": None, "e16": None}
    if index is not None and coding.start is not None:
        end = min(coding.end, len(index.text))
        out["s16"], out["e16"] = index.to_utf16(min(coding.start, end)), index.to_utf16(end)
    return out


def record_codings(project: Project, record: Record, *, coders: Optional[Collection[str]] = None,
                   include_auto: bool = False) -> list[dict[str, Any]]:
    """The live codings of one record as page data (people's only unless ``include_auto``)."""
    from fieldkit.coding.codings import code_paths, list_codings, record_text

    text = record_text(record)
    index = Utf16Index(text) if text is not None else None
    rows = {r["id"]: r for r in codes(project)}
    paths = code_paths(project)
    out = []
    for coding in list_codings(project, record=record.id, include_auto=include_auto):
        if coders and coding.coder not in coders:
            continue
        out.append(coding_json(coding, index, rows, paths))
    return out


def span_from_utf16(text: str, start16: Union[int, str], end16: Union[int, str]) -> tuple[int, int]:
    """Code-point ``(start, end)`` of a selection the page gives in UTF-16 units."""
    try:
        start16, end16 = int(start16), int(end16)
    except (TypeError, ValueError):
        raise FieldkitError("a selection needs whole-number start and end positions") from None
    index = Utf16Index(text)
    start, end = index.to_code_points(start16), index.to_code_points(end16)
    if start >= end:
        raise FieldkitError("the selection is empty")
    return start, end


def _sort_time(value) -> str:
    """A datetime as UTC ISO text, so naive and aware times sort together as the store's do."""
    from fieldkit.core.convert import iso

    return iso(value) if value else ""


def home(project: Project) -> dict[str, Any]:
    """Counts, the encounter timeline, participants with their consent, sites and documents."""
    from fieldkit.privacy.consent import current_consent

    encounters = sorted(project.list("encounter"), key=lambda e: (_sort_time(e.start or e.created_at), e.id))
    sites = {s.id: s for s in project.list("site")}
    by_id = {e.id: e for e in encounters}
    participants = []
    for p in project.list("participant", order_by="code"):
        consent = current_consent(project, p.id)
        participants.append({"id": p.id, "code": p.code, "role": p.role.replace("_", " "),
                             "organisation": p.organisation, "consent": consent.status if consent else "none"})
    docs: dict = {}
    observations = sorted(project.list("observation"),
                          key=lambda o: (_sort_time(o.observed_at or o.recorded_at), o.id))
    for obs in observations:
        docs.setdefault(obs.encounter_id, []).append({"id": obs.id, "label": label(obs, by_id), "stage": obs.stage})
    memos = [{"id": m.id, "label": label(m), "kind": m.kind, "private": "private" in m.tags}
             for m in project.list("memo")]
    counts = {t: project.count(t) for t in ("encounter", "participant", "site", "observation", "memo", "code",
                                            "coding")}
    timeline = [{"id": e.id, "code": e.code, "title": e.title, "kind": e.kind.replace("_", " "),
                 "start": e.start, "site": sites[e.site_id].name if e.site_id in sites else "",
                 "people": [project_code(participants, ep.participant_id) for ep in e.participants],
                 "documents": docs.get(e.id, [])} for e in encounters]
    return {"counts": counts, "timeline": timeline, "participants": participants,
            "sites": list(sites.values()), "loose": docs.get(None, []), "memos": memos}


def project_code(participants: list, participant_id: str) -> str:
    return next((p["code"] for p in participants if p["id"] == participant_id), "?")


def real_names(project: Project, passphrase: Optional[str] = None) -> dict[str, str]:
    """``{participant code: real name}`` from the key store; refuses when it cannot be opened
    (the page then keeps showing pseudonyms only)."""
    from fieldkit.privacy.anonymiser import open_keystore

    store = open_keystore(project, passphrase or None)
    if store is None:
        raise FieldkitError("this project has no key store, so there are no real names to show")
    try:
        known = set(store.pseudonyms())
        return {p.code: store.get(p.code).name for p in project.list("participant") if p.code in known}
    finally:
        store.close()


# anonymisation review ------------------------------------------------------------------
def anonymise_review(project: Project, *, record: Optional[str] = None, pending: bool = False) -> list[dict[str, Any]]:
    """The candidates of ``fieldkit.privacy.review`` (the list ``fieldkit anonymise review``
    shows), one dict each, with ``context``: the original text around it, for the
    researcher's own screen only (it is never logged)."""
    from fieldkit.privacy import review
    from fieldkit.privacy.anonymiser import _snippet

    _keys_unlocked(project)
    items = review.candidates(project, [record] if record else None, only_pending=pending)
    bodies: dict = {}
    rows = []
    for item in items:
        if item.record_id not in bodies:
            bodies[item.record_id] = project.get(item.record_id).body
        rows.append({"record": item.record_id, "number": item.number, "start": item.start, "end": item.end,
                     "digest": item.digest, "kind": item.kind, "detector": item.detector, "status": item.status,
                     "claimed": item.claimed, "replacement": item.replacement,
                     "needs_review": item.needs_review, "reason": item.reason,
                     "context": _snippet(bodies[item.record_id], item.start, item.end, item.replacement or "?")})
    return rows


def anonymise_decide(project: Project, body: dict[str, Any]) -> dict[str, Any]:
    """Record a decision (``accept``, ``reject`` or ``register``) on the candidate of
    ``body['record']`` at ``start``/``end`` with ``digest``, through ``review.decide``: the
    same decision, stored and logged the same way, as ``fieldkit anonymise review``."""
    from fieldkit.privacy import review

    action = str(body.get("action", ""))
    if action not in review.REVIEW_ACTIONS:
        raise FieldkitError(f"a review decision is one of {', '.join(review.REVIEW_ACTIONS)}, not {action!r}")
    _keys_unlocked(project)
    if not has_keystore(project):
        raise FieldkitError("this project has no key store, so no decision can be kept (decisions are named by a "
                            "keyed digest whose key the key store holds); create one with: fieldkit keys init")
    record = project.get(str(body.get("record", ""))).id
    try:
        where = (int(body.get("start")), int(body.get("end")), str(body.get("digest", "")))
    except (TypeError, ValueError):
        raise FieldkitError("give the candidate's start, end and digest") from None
    found = next((c for c in review.candidates(project, [record]) if (c.start, c.end, c.digest) == where), None)
    if found is None:
        raise FieldkitError("that candidate is no longer listed (the note or the key store changed); reload the page")
    done = review.decide(project, found, action, pseudonym=(str(body.get("pseudonym") or "").strip() or None),
                         kind=(str(body.get("kind") or "").strip() or None))
    return {"record": record, "start": done.start, "end": done.end, "action": action, "status": done.status,
            "kind": done.kind}


def has_keystore(project: Project) -> bool:
    """Whether the project has a key store configured (review decisions need its digest key)."""
    from fieldkit.privacy.anonymiser import keystore_path

    return keystore_path(project) is not None


def _keys_unlocked(project) -> None:
    """Refuse, in words that fit the workbench, when the key store is encrypted and no
    passphrase reached the server (review without the key store's names would miss them)."""
    import os

    from fieldkit.privacy.anonymiser import PASSPHRASE_ENV, keystore_encrypted, keystore_path

    path = keystore_path(project)
    if path is not None and path.exists() and keystore_encrypted(path) and not os.environ.get(PASSPHRASE_ENV):
        raise FieldkitError(f"the key store is locked: stop the workbench and start it again with "
                            f"{PASSPHRASE_ENV} set (review needs the key store's names)")
