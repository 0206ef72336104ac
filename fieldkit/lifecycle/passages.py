"""Whose words are where: a participant's speaker turns and the coded quotes inside them.

Transcripts are stored as one paragraph per turn, ``[hh:mm:ss] P03: words``
(``fieldkit.exchange.transcripts``). Until speaker turns are records of their own, this
module reads them from that text; :func:`participant_passages` is the one place the rest of
the lifecycle asks, so a turn table can replace its inside without changing its callers.
"""

from __future__ import annotations

import re
from typing import Optional

import attrs

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


def participant_passages(project, participant: str) -> list[Passage]:
    """The turns of ``participant`` (code or id) and every quote of theirs (a coding by a
    person, not an auto-coder proposal), in record order then text order."""
    from fieldkit.privacy.consent import ONE_TO_ONE_KINDS

    pid = project.resolve(participant, "participant")
    code = project.get(pid, type_name="participant").code
    encounters = {e.id: e for e in project.list("encounter") if any(p.participant_id == pid for p in e.participants)}
    out: list[Passage] = []
    for record in project.list("observation"):
        if record.encounter_id not in encounters:
            continue
        found = turns(record.body)
        own = [(start, end) for label, start, end in found if label.lower() == code.lower()]
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
