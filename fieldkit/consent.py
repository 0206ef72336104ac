"""Deriving a participant's current consent from their consent events."""

from __future__ import annotations

from typing import Optional

import attrs


@attrs.frozen
class CurrentConsent:
    """What a participant has agreed to now: ``status`` is given, limited, withdrawn or none."""

    participant_id: str
    code: str
    status: str
    scopes: tuple
    since: Optional[object] = None


def current_consent(project, participant) -> Optional[CurrentConsent]:
    """The latest consent of a participant (code or id); None when there is no such participant."""
    row = project.db.execute(
        "select id, code from participants where (id = ? or code = ? collate nocase) and deleted_at is null",
        [participant, participant],
    ).fetchone()
    if row is None:
        return None
    pid, code = row
    from .records import ConsentEvent

    events = project.list("consent", where="participant_id = ?", params=[pid], order_by="at, id")
    if not events:
        return CurrentConsent(pid, code, "none", ())
    last: ConsentEvent = events[-1]
    return CurrentConsent(pid, code, last.status, tuple(last.scopes) if last.status != "withdrawn" else (), last.at)


def record_consent(project, participant, status: str, scopes=(), *, at=None, note: str = ""):
    """Add a consent event for a participant (code or id) and return it."""
    from .records import ConsentEvent

    pid = project.resolve(participant, "participant")
    kwargs = {"at": at} if at is not None else {}
    return project.add(ConsentEvent(participant_id=pid, status=status, scopes=tuple(scopes), note=note, **kwargs))
