"""Speaker turns: who said which part of a note's body.

Reached as ``store.turns``. A transcript becomes one note; each of its turns is a row
naming the ``[start, end)`` of the speaker's words in the body (code points, like
codings), the speaker and the turn's time codes. The speaker is a participant
(``speaker_id``), the researcher, or a label nobody registered (``Speaker 2``).
Turns follow edits of the body (``Project.update``) and withdrawals.
"""

from __future__ import annotations

from typing import Optional, Sequence, TYPE_CHECKING

import attrs

from fieldkit.store.store import _marks

if TYPE_CHECKING:
    from fieldkit.core.remap import Edit

#: who a turn's speaker is
SPEAKER_KINDS = ("participant", "researcher", "unregistered")
_CHUNK = 500


@attrs.frozen
class SpeakerTurn:
    """One turn: the speaker's words are ``body[start:end]`` of note ``record_id``."""

    record_id: str
    start: int
    end: int
    speaker_kind: str = attrs.field(validator=attrs.validators.in_(SPEAKER_KINDS))
    speaker_id: Optional[str] = None
    speaker_label: str = ""
    time_start: Optional[float] = None
    time_end: Optional[float] = None
    id: Optional[int] = None


_COLUMNS = ("id", "record_id", "start", "end", "speaker_kind", "speaker_id", "speaker_label", "time_start",
            "time_end")


class TurnQueries:
    def __init__(self, store):
        self.store = store
        self.conn = store.conn

    def replace(self, record_id: str, turns: Sequence[SpeakerTurn]) -> None:
        """Set the turns of one note (inside the caller's transaction)."""
        self.conn.execute("delete from turns where record_id = ?", [record_id])
        self.conn.executemany(
            "insert into turns (record_id, start, [end], speaker_kind, speaker_id, speaker_label, time_start, "
            "time_end) values (?, ?, ?, ?, ?, ?, ?, ?)",
            [(record_id, t.start, t.end, t.speaker_kind, t.speaker_id, t.speaker_label, t.time_start, t.time_end)
             for t in turns])

    def of_records(self, record_ids: Sequence[str]) -> dict:
        """``{record id: [SpeakerTurn, ...]}`` in body order, for the notes that have turns."""
        found: dict = {}
        ids = list(record_ids)
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i:i + _CHUNK]
            rows = self.conn.execute(
                f"select {', '.join(f'[{c}]' for c in _COLUMNS)} from turns "
                f"where record_id in ({_marks(chunk)}) order by record_id, start, id", chunk)
            for row in rows:
                turn = SpeakerTurn(**dict(zip(_COLUMNS, row)))
                found.setdefault(turn.record_id, []).append(turn)
        return found

    def of_record(self, record_id: str) -> list:
        return self.of_records([record_id]).get(record_id, [])

    def follow(self, record_id: str, edits: Sequence[Edit]) -> None:
        """Move a note's turns through an edit list (``fieldkit.core.remap``); a turn whose
        words are gone entirely is dropped."""
        from fieldkit.core.remap import map_position

        if not edits:
            return
        for turn in self.of_record(record_id):
            start = map_position(edits, turn.start, side="right")
            end = map_position(edits, turn.end, side="left")
            if end <= start:
                self.conn.execute("delete from turns where id = ?", [turn.id])
            elif (start, end) != (turn.start, turn.end):
                self.conn.execute("update turns set start = ?, [end] = ? where id = ?", [start, end, turn.id])

    def speakers_of_records(self) -> dict:
        """``{record id: [(start, end, speaker_kind, speaker_id, speaker_label), ...]}`` of every
        note with turns."""
        found: dict = {}
        for record_id, start, end, kind, speaker, label in self.conn.execute(
                "select record_id, start, [end], speaker_kind, speaker_id, speaker_label from turns "
                "order by record_id, start"):
            found.setdefault(record_id, []).append((start, end, kind, speaker, label))
        return found
