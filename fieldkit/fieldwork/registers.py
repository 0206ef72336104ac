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


def start_encounter(project, ref: str, at: Optional[dt.datetime] = None) -> Encounter:
    enc = project.get(ref, type_name="encounter")
    return project.update(attrs.evolve(enc, start=at or dt.datetime.now(dt.timezone.utc)), reason="started")


def end_encounter(project, ref: str, at: Optional[dt.datetime] = None, summary: Optional[str] = None) -> Encounter:
    enc = project.get(ref, type_name="encounter")
    changes = {"end": at or dt.datetime.now(dt.timezone.utc)}
    if summary is not None:
        changes["summary"] = summary
    return project.update(attrs.evolve(enc, **changes), reason="ended")
