"""Sites, participants and encounters: who and where the fieldwork is about."""

from __future__ import annotations

import datetime as dt
from typing import Optional, Sequence

import attrs

from fieldkit.core.records import Encounter, EncounterParticipant, Participant, Site


def add_site(project, name: str, *, kind: str = "other", note: str = "") -> Site:
    return project.add(Site(name=name, kind=kind, note=note))


def add_participant(project, code: str, *, role: str = "other", organisation: str = "",
                    attributes: Optional[dict] = None, note: str = "") -> Participant:
    """Register a participant by pseudonym code; real names go in the key store, never here."""
    return project.add(Participant(code=code, role=role, organisation=organisation,
                                   attributes=attributes or {}, note=note))


def next_code(project, prefix: str, type_name: str) -> str:
    """The next free short code (``E1``, ``E2`` …) for encounters."""
    codes = project.store.values_starting(type_name, "code", prefix)
    numbers = [int(c[len(prefix):]) for c in codes if c[len(prefix):].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1}"


def add_encounter(project, kind: str, *, code: Optional[str] = None, title: str = "", site: Optional[str] = None,
                  participants: Sequence[str] = (), mode: str = "in_person", start: Optional[dt.datetime] = None,
                  end: Optional[dt.datetime] = None, summary: str = "") -> Encounter:
    """Record an encounter; ``participants`` are codes or ``CODE:role`` pairs (``P03:interviewee``)."""
    people = []
    for item in participants:
        ref, _, role = item.partition(":")
        people.append(EncounterParticipant(project.resolve(ref.strip(), "participant"), role.strip()))
    return project.add(Encounter(
        code=code or next_code(project, "E", "encounter"), kind=kind, title=title,
        site_id=project.resolve(site, "site") if site else None, participants=tuple(people),
        mode=mode, start=start, end=end, summary=summary,
    ))


#: the setting holding the capture session: ``{"encounter": id, "day": "YYYY-MM-DD"}`` (local day)
SESSION = "capture_session"


def _local_day(project, at: Optional[dt.datetime] = None) -> dt.date:
    from zoneinfo import ZoneInfo

    return (at or dt.datetime.now(dt.timezone.utc)).astimezone(ZoneInfo(project.timezone)).date()


def start_encounter(project, ref: str, at: Optional[dt.datetime] = None) -> Encounter:
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


def current_encounter(project, now: Optional[dt.datetime] = None) -> Optional[Encounter]:
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


def _end_session(project, encounter_id: Optional[str] = None) -> None:
    session = project.setting(SESSION)
    if session and (encounter_id is None or session.get("encounter") == encounter_id):
        project.store.set_setting(SESSION, None)
        project.store.audit("session", "encounter", session.get("encounter", ""), "capture session stopped")


def stop_encounter(project, at: Optional[dt.datetime] = None, summary: Optional[str] = None) -> Encounter:
    """End the capture session's encounter (now, or ``at``); jottings stop attaching to it."""
    from fieldkit.core.errors import Refused

    enc = current_encounter(project)
    if enc is None:
        with project.transaction():
            _end_session(project)
        raise Refused("no encounter is current; start one with 'fieldkit encounter start E12'")
    return end_encounter(project, enc.id, at, summary)


def end_encounter(project, ref: str, at: Optional[dt.datetime] = None, summary: Optional[str] = None) -> Encounter:
    """Record an encounter's end (and contact summary); it stops being the capture session."""
    enc = project.get(ref, type_name="encounter")
    changes = {"end": at or dt.datetime.now(dt.timezone.utc)}
    if summary is not None:
        changes["summary"] = summary
    with project.transaction():
        ended = project.update(attrs.evolve(enc, **changes), reason="ended")
        _end_session(project, enc.id)
    return ended
