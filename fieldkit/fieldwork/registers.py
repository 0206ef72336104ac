"""Sites, participants and encounters: who and where the fieldwork is about."""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional, Sequence, TYPE_CHECKING, Union

import attrs

from fieldkit.core.errors import Refused
from fieldkit.core.patterns import lazy
from fieldkit.core.records import Encounter, EncounterParticipant, Participant, Site

if TYPE_CHECKING:
    from fieldkit.project import Project


def _free_site_name(project: Project, name: str, site_id: Optional[str] = None) -> str:
    """``name`` (trimmed) if no other live site has it, in any letter case."""
    name = name.strip()
    taken = [i for i in project.store.ids_named("site", "name", name) if i != site_id]
    if taken:
        other = project.get(taken[0], type_name="site").name
        raise Refused(f"a site named '{other}' already exists (site names ignore letter case); "
                      "use it, or choose another name")
    return name


def add_site(project: Project, name: str, *, kind: str = "other", note: str = "") -> Site:
    """Register a site under a pseudonymous name, unique whatever its letter case."""
    with project.transaction():
        return project.add(Site(name=_free_site_name(project, name), kind=kind, note=note))


def edit_site(project: Project, ref: str, *, name: Optional[str] = None, kind: Optional[str] = None,
              note: Optional[str] = None, reason: str = "") -> Site:
    """Rename a site or change its kind or note; the previous version stays in its history."""
    with project.transaction():
        site = project.get(ref, type_name="site")
        changes = {k: v for k, v in (("kind", kind), ("note", note)) if v is not None}
        if name is not None:
            changes["name"] = _free_site_name(project, name, site.id)
        return project.update(attrs.evolve(site, **changes), reason=reason or "edited")


def _free_code(project: Project, type_name: str, code: str) -> str:
    """``code`` if no record of the type holds it; a deleted one keeps its code (its history and
    exports name it), so that is said plainly with a free code to use instead."""
    code = code.strip()
    if project.store.count(type_name, code=code, include_deleted=True):
        if project.store.count(type_name, code=code):
            raise Refused(f"{type_name} {code} already exists")
        prefix = "".join(ch for ch in code if not ch.isdigit()) or ("E" if type_name == "encounter" else "P")
        raise Refused(f"{code} belongs to a deleted {type_name} (a deleted record keeps its code, so its "
                      f"history stays unambiguous); choose another code, such as "
                      f"{next_code(project, prefix, type_name)}")
    return code


def add_participant(project: Project, code: str, *, role: str = "other", organisation: str = "",
                    attributes: Optional[dict[str, Any]] = None, note: str = "") -> Participant:
    """Register a participant by pseudonym code; real names go in the key store, never here."""
    with project.transaction():
        return project.add(Participant(code=_free_code(project, "participant", code), role=role,
                                       organisation=organisation, attributes=attributes or {}, note=note))


def edit_participant(project: Project, ref: str, *, role: Optional[str] = None, organisation: Optional[str] = None,
                     attributes: Optional[dict] = None, remove_attributes: Sequence[str] = (),
                     note: Optional[str] = None, reason: str = "") -> Participant:
    """Change a participant's role, organisation, attributes (set or removed) or note, with
    history. The code stays: it is how notes, exports and the key store name them."""
    person = project.get(ref, type_name="participant")
    merged = dict(person.attributes)
    for key in remove_attributes:
        if key not in merged:
            raise Refused(f"{person.code} has no attribute '{key}'")
        del merged[key]
    merged.update(attributes or {})
    changes = {k: v for k, v in (("role", role), ("organisation", organisation), ("note", note)) if v is not None}
    return project.update(attrs.evolve(person, attributes=merged, **changes), reason=reason or "edited")


def next_code(project: Project, prefix: str, type_name: str) -> str:
    """The next free short code (``E1``, ``E2`` …) for encounters."""
    codes = project.store.values_starting(type_name, "code", prefix)
    digits = [c[len(prefix):] for c in codes if c[len(prefix):].isdigit()]
    # zero-padded codes (P01, P02) go on padded to the same width
    width = max((len(d) for d in digits if d.startswith("0")), default=0)
    return f"{prefix}{max((int(d) for d in digits), default=0) + 1:0{width}d}"


def add_encounter(project: Project, kind: str, *, code: Optional[str] = None, title: str = "",
                  site: Optional[str] = None, participants: Sequence[str] = (), mode: str = "in_person",
                  start: Optional[dt.datetime] = None, end: Optional[dt.datetime] = None,
                  summary: str = "") -> Encounter:
    """Record an encounter; ``participants`` are codes or ``CODE:role`` pairs (``P03:interviewee``)."""
    people = _people(project, participants)
    return project.add(Encounter(
        code=_free_code(project, "encounter", code) if code else next_code(project, "E", "encounter"),
        kind=kind, title=title,
        site_id=project.resolve(site, "site") if site else None, participants=tuple(people),
        mode=mode, start=start, end=end, summary=summary,
    ))


def _people(project: Project, items: Sequence[str]) -> list[EncounterParticipant]:
    """``P03`` or ``P03:interviewee`` items as encounter participants."""
    people = []
    for item in items:
        ref, _, role = item.partition(":")
        people.append(EncounterParticipant(project.resolve(ref.strip(), "participant"), role.strip()))
    return people


_UNSET = object()


def edit_encounter(project: Project, ref: str, *, add: Sequence[str] = (), remove: Sequence[str] = (),
                   title: Optional[str] = None, site: Union[str, None, object] = _UNSET, kind: Optional[str] = None,
                   mode: Optional[str] = None, start: Union[dt.datetime, None, object] = _UNSET,
                   end: Union[dt.datetime, None, object] = _UNSET, summary: Optional[str] = None,
                   reason: str = "") -> Encounter:
    """Change an encounter, with history: add people (``P03`` or ``P03:role``; an added person
    already there takes the new role), remove people, retitle it, move it to another site
    (``site=None``: to none), change its kind, mode, times (``None`` clears one) or summary."""
    enc = project.get(ref, type_name="encounter")
    people = {p.participant_id: p for p in enc.participants}
    for pid in (project.resolve(r, "participant") for r in remove):
        if pid not in people:
            raise Refused(f"{project.get(pid).code} is not in {enc.code}")
        del people[pid]
    for person in _people(project, add):
        people[person.participant_id] = person
    changes: dict = {"participants": tuple(people.values())}
    changes.update({k: v for k, v in (("title", title), ("kind", kind), ("mode", mode), ("summary", summary))
                    if v is not None})
    if site is not _UNSET:
        changes["site_id"] = project.resolve(site, "site") if site else None
    if start is not _UNSET:
        changes["start"] = start
    if end is not _UNSET:
        changes["end"] = end
    return project.update(attrs.evolve(enc, **changes), reason=reason or "edited")


#: the setting holding the capture session: ``{"encounter": id, "day": "YYYY-MM-DD"}`` (local day)
SESSION = "capture_session"


def _local_day(project: Project, at: Optional[dt.datetime] = None) -> dt.date:
    from zoneinfo import ZoneInfo

    return (at or dt.datetime.now(dt.timezone.utc)).astimezone(ZoneInfo(project.timezone)).date()


def start_encounter(project: Project, ref: str, at: Optional[dt.datetime] = None) -> Encounter:
    """Start an encounter and make it the capture session: jottings without an encounter
    attach to it until :func:`stop_encounter` or the end of that (local) day."""
    enc = project.get(ref, type_name="encounter")
    at = at or dt.datetime.now(dt.timezone.utc)
    with project.transaction():
        if enc.end is not None and enc.end < at:
            enc = attrs.evolve(enc, end=None)  # started again: it is no longer over
        started = project.update(attrs.evolve(enc, start=at), reason="started")
        project.store.set_setting(SESSION, {"encounter": started.id, "day": _local_day(project).isoformat()})
        project.store.audit("session", "encounter", started.id, "capture session started")
    return started


def current_encounter(project: Project, now: Optional[dt.datetime] = None) -> Optional[Encounter]:
    """The encounter of the capture session, or None when there is none (stopped, another
    day, or its encounter deleted)."""
    from fieldkit.core.errors import NotFound

    session = project.setting(SESSION)
    if not session or session.get("day") != _local_day(project, now).isoformat():
        return None
    try:
        return project.get(session["encounter"], type_name="encounter")
    except NotFound:
        return None


def _end_session(project: Project, encounter_id: Optional[str] = None) -> None:
    session = project.setting(SESSION)
    if session and (encounter_id is None or session.get("encounter") == encounter_id):
        project.store.set_setting(SESSION, None)
        project.store.audit("session", "encounter", session.get("encounter", ""), "capture session stopped")


def stop_encounter(project: Project, at: Optional[dt.datetime] = None, summary: Optional[str] = None) -> Encounter:
    """End the capture session's encounter (now, or ``at``); jottings stop attaching to it."""
    from fieldkit.core.errors import Refused

    enc = current_encounter(project)
    if enc is None:
        with project.transaction():
            _end_session(project)
        raise Refused("no encounter is current; start one with 'fieldkit encounter start E12'")
    return end_encounter(project, enc.id, at, summary)


def end_encounter(project: Project, ref: str, at: Optional[dt.datetime] = None,
                  summary: Optional[str] = None) -> Encounter:
    """Record an encounter's end (and contact summary); it stops being the capture session."""
    enc = project.get(ref, type_name="encounter")
    changes = {"end": at or dt.datetime.now(dt.timezone.utc)}
    if summary is not None:
        changes["summary"] = summary
    with project.transaction():
        ended = project.update(attrs.evolve(enc, **changes), reason="ended")
        _end_session(project, enc.id)
    return ended


# importing participants ------------------------------------------------------------------------

#: what a pseudonym code looks like (so that ``@P03`` can mention it)
_CODE = lazy(r"[^\W\d_][\w-]*")

#: the columns of a participants CSV besides ``attr:KEY`` ones (only ``code`` is required)
IMPORT_COLUMNS = ("code", "role", "organisation", "note", "consent", "scopes")


@attrs.frozen
class ParticipantImport:
    """What ``import_participants`` added (or, in a dry run, would add)."""

    participants: tuple
    consents: tuple
    dry_run: bool

    def summary(self) -> str:
        verb = "would add" if self.dry_run else "added"
        tail = " (dry run: nothing was saved)" if self.dry_run else ""
        return f"{verb} {len(self.participants)} participant(s) and {len(self.consents)} consent event(s){tail}"


def import_participants(project: Project, text: str, *, source: str = "the file",
                        dry_run: bool = False) -> ParticipantImport:
    """Register the participants of a CSV text, all or nothing.

    Columns: ``code`` (required), ``role``, ``organisation``, ``note``, ``consent`` (given,
    limited or withdrawn; empty for none yet), ``scopes`` (separated by ``;``, ``,`` or
    spaces) and ``attr:KEY`` for each free attribute. Any other column is refused: a
    ``name`` or ``email`` column would put a real identity in the project database, and
    identities belong in the key store. Every row is checked before anything is written;
    with ``dry_run`` nothing is.
    """
    import csv
    import io

    from fieldkit.core.errors import InvalidInput
    from fieldkit.core.records import CONSENT_SCOPES, CONSENT_STATUSES, ROLES
    from fieldkit.privacy.consent import record_consent

    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), strict=True)
    try:
        columns = [(c or "").strip() for c in reader.fieldnames or ()]
        rows = list(reader)
    except csv.Error as exc:
        raise InvalidInput(f"{source} is not a readable CSV file (line {reader.line_num}: {exc}); "
                           "nothing was imported") from None
    if "code" not in columns:
        raise InvalidInput(f"{source} has no 'code' column (the columns are code, role, organisation, note, "
                           "consent, scopes and attr:KEY)")
    unknown = [c for c in columns if c not in IMPORT_COLUMNS and not (c.startswith("attr:") and c[5:].strip())]
    if unknown:
        raise InvalidInput(f"{source} has a column fieldkit does not take: '{unknown[0]}' (real names and contact "
                           "details go in the key store, never in the project; free attributes are attr:KEY "
                           "columns)")
    problems, people, consents, seen = [], [], [], set()
    for line, raw in enumerate(rows, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(row.values()):
            continue
        where = f"{source} line {line}"
        code, role = row.get("code", ""), row.get("role") or "other"
        if not code:
            problems.append(f"{where}: no code")
            continue
        if not _CODE.fullmatch(code):
            problems.append(f"{where}: '{code}' is not a pseudonym code (a letter, then letters, digits, - or _)")
        if code.casefold() in seen:
            problems.append(f"{where}: {code} is in the file twice")
        seen.add(code.casefold())
        if project.store.count("participant", code=code, include_deleted=True):
            problems.append(f"{where}: participant {code} is already registered")
        if role not in ROLES:
            problems.append(f"{where}: role '{role}' is not one of {', '.join(ROLES)}")
        status = row.get("consent", "").lower()
        scopes = [s for s in row.get("scopes", "").replace(";", " ").replace(",", " ").split() if s]
        bad = [s for s in scopes if s not in CONSENT_SCOPES]
        if status and status not in CONSENT_STATUSES:
            problems.append(f"{where}: consent '{status}' is not one of {', '.join(CONSENT_STATUSES)}")
        elif bad:
            problems.append(f"{where}: scope '{bad[0]}' is not one of {', '.join(CONSENT_SCOPES)}")
        elif scopes and not status:
            problems.append(f"{where}: scopes without a consent status")
        elif status == "limited" and not scopes:
            problems.append(f"{where}: limited consent must name its scopes")
        elif status == "withdrawn" and scopes:
            problems.append(f"{where}: withdrawn consent has no scopes")
        attributes = {k[5:].strip(): v for k, v in row.items() if k.startswith("attr:") and v}
        try:
            people.append(Participant(code=code, role=role if role in ROLES else "other",
                                      organisation=row.get("organisation", ""), attributes=attributes,
                                      note=row.get("note", "")))
        except InvalidInput as exc:
            problems.append(f"{where}: {exc}")
        if status:
            consents.append((code, status, tuple(scopes) if scopes else None))
    if problems:
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise InvalidInput(f"{problems[0]}{more}; nothing was imported")
    if not people:
        raise InvalidInput(f"{source} has no participants; nothing was imported")
    if not dry_run:
        with project.transaction():
            for person in people:
                project.add(person, reason=f"imported from {source}")
            for code, status, scopes in consents:
                record_consent(project, code, status, scopes, note=f"imported from {source}")
    return ParticipantImport(tuple(p.code for p in people), tuple(consents), dry_run)
