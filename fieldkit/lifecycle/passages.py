"""Whose words are where: a participant's speaker turns and the coded quotes inside them.

Imported transcripts keep their speaker turns as data (``store.turns``); a note typed with
speaker lines (``P03: words``, as transcripts read) has them only in its text. :func:`speakers`
answers for both, stored turns first, and :func:`participant_passages` builds on it: these two
are the only places the lifecycle asks who said what.
"""

from __future__ import annotations

import re
from typing import Optional, TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from fieldkit.core.records import Record
    from fieldkit.project import Project
    from fieldkit.store.turns import SpeakerTurn

#: a turn paragraph: optional time code, a speaker label, a colon, the words
TURN = re.compile(r"^(?:\[[0-9:.]+\][ \t]*)?([A-Za-z][\w\-]{0,31}):[ \t]*(\S.*)$", re.MULTILINE)


@attrs.frozen
class Passage:
    """``[start, end)`` of a record's body that holds a participant's words.

    ``kind`` is ``turn`` (a whole speaker turn) or ``quote`` (a coded segment inside one of
    their turns, or inside a note of their one-to-one encounter); ``coding_id`` names the
    coding of a quote."""

    record_id: str
    start: int
    end: int
    kind: str
    coding_id: Optional[str] = None


def turns(text: str) -> list[tuple[str, int, int]]:
    """``(speaker label, start, end)`` of every turn paragraph of ``text`` (the words only)."""
    return [(m.group(1), m.start(2), m.end(2)) for m in TURN.finditer(text)]


def speakers(project: Project, record: Record, *,
             stored: Optional[list[SpeakerTurn]] = None) -> list[tuple[Optional[str], str, int, int]]:
    """``(participant id or None, speaker label, start, end)`` of each turn of a note: its
    stored turns when it has any (``stored`` may pass them in), else its speaker lines, whose
    labels are matched to participant codes."""
    if stored is None:
        stored = project.store.turns.of_record(record.id)
    if stored:
        return [(t.speaker_id if t.speaker_kind == "participant" else None, t.speaker_label, t.start, t.end)
                for t in stored]
    ids = project.store.consent.codes()
    by_code = {code.lower(): pid for pid, code in ids.items()}
    return [(by_code.get(label.lower()), label, start, end) for label, start, end in turns(getattr(record, "body", ""))]


def participant_passages(project: Project, participant: str) -> list[Passage]:
    """The turns of ``participant`` (code or id) and every quote of theirs (a coding by a
    person, not an auto-coder proposal), in record order then text order."""
    from fieldkit.privacy.consent import ONE_TO_ONE_KINDS

    pid = project.resolve(participant, "participant")
    encounters = {e.id: e for e in project.list("encounter") if any(p.participant_id == pid for p in e.participants)}
    out: list[Passage] = []
    notes = [r for r in project.list("observation") if r.encounter_id in encounters]
    stored = project.store.turns.of_records([r.id for r in notes])
    for record in notes:
        found = speakers(project, record, stored=stored.get(record.id, []))
        own = [(start, end) for speaker, _label, start, end in found if speaker == pid]
        if not found and encounters[record.encounter_id].kind in ONE_TO_ONE_KINDS:
            own_text = [(0, len(record.body))]  # an interview note without speaker lines is theirs
        else:
            own_text = own
        out += [Passage(record.id, start, end, "turn") for start, end in own]
        if not own_text:
            continue
        seen = set()
        for coding in project.list("coding", record_id=record.id):
            if coding.start is None or coding.coder.startswith("auto:") or (coding.start, coding.end) in seen:
                continue
            if any(start <= coding.start and coding.end <= end for start, end in own_text):
                seen.add((coding.start, coding.end))
                out.append(Passage(record.id, coding.start, coding.end, "quote", coding.id))
    return sorted(out, key=lambda p: (p.record_id, p.start, p.kind != "turn"))
