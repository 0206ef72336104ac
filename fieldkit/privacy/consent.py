"""Deriving a participant's current consent from their consent events."""

from __future__ import annotations

from typing import Iterable, Optional, Sequence, TYPE_CHECKING

import attrs

from fieldkit.core.records import CONSENT_SCOPES

if TYPE_CHECKING:
    import datetime as dt

    from fieldkit.core.records import Coding, ConsentEvent, Record
    from fieldkit.project import Project
    from fieldkit.store.turns import SpeakerTurn


@attrs.frozen
class CurrentConsent:
    """What a participant has agreed to now: ``status`` is given, limited, withdrawn or none."""

    participant_id: str
    code: str
    status: str
    scopes: tuple
    since: Optional[object] = None


def current_consent(project: Project, participant: str) -> Optional[CurrentConsent]:
    """The latest consent of a participant (code or id); None when there is no such participant."""
    row = project.store.consent.participant(participant)
    if row is None:
        return None
    pid, code = row
    from fieldkit.core.records import ConsentEvent

    events = project.list("consent", participant_id=pid, order_by="at, id")
    if not events:
        return CurrentConsent(pid, code, "none", ())
    last: ConsentEvent = events[-1]
    return CurrentConsent(pid, code, last.status, tuple(last.scopes) if last.status != "withdrawn" else (), last.at)


#: the scopes ``given`` consent covers when no scopes are named: everything a participant can agree to
DEFAULT_GIVEN_SCOPES = CONSENT_SCOPES


def record_consent(project: Project, participant: str, status: str, scopes: Optional[Iterable[str]] = None, *,
                   default_scopes: Iterable[str] = DEFAULT_GIVEN_SCOPES, at: Optional[dt.datetime] = None,
                   note: str = "") -> ConsentEvent:
    """Add a consent event for a participant (code or id) and return it.

    ``scopes`` None (not given) means: ``default_scopes`` for ``given`` consent (every scope,
    unless a caller passes others), none for ``withdrawn``; ``limited`` consent must name its
    scopes. Withdrawn consent cannot carry scopes. ``fieldkit participant consent`` without
    ``--scope`` passes None, so it means the same as a script leaving ``scopes`` out.
    """
    from fieldkit.core.errors import InvalidInput
    from fieldkit.core.records import CONSENT_STATUSES, ConsentEvent

    if status not in CONSENT_STATUSES:
        raise InvalidInput(f"consent status must be one of {', '.join(CONSENT_STATUSES)}, not {status!r}")
    if scopes is None:
        if status == "limited":
            raise InvalidInput("limited consent must name its scopes "
                               f"(any of {', '.join(CONSENT_SCOPES)}; --scope on the command line)")
        scopes = tuple(default_scopes) if status == "given" else ()
    scopes = tuple(dict.fromkeys(scopes))
    if status == "withdrawn" and scopes:
        raise InvalidInput("withdrawn consent has no scopes; record 'limited' consent to keep some")
    pid = project.resolve(participant, "participant")
    kwargs = {"at": at} if at is not None else {}
    return project.add(ConsentEvent(participant_id=pid, status=status, scopes=scopes, note=note, **kwargs))


#: encounter kinds with one participant besides the researcher: every note of such an
#: encounter is that person's data, so it leaves with their consent or not at all
ONE_TO_ONE_KINDS = ("interview", "informal_conversation")


#: the release profiles an export can be made under (docs/anonymisation.md#release-profiles)
PROFILES = ("internal", "publication")
#: what stands in an export for the words of a speaker whose consent does not cover them
TURN_OMITTED = "[turn omitted: consent]"


@attrs.frozen
class Release:
    """What consent lets leave of one note: ``text`` with every turn it does not cover
    replaced by ``TURN_OMITTED``; ``codings`` (moved onto that text) whose words may be
    quoted; ``withheld``, codings on words that may not be quoted (or whose words are gone)."""

    text: str
    codings: tuple
    withheld: tuple
    omitted_turns: int = 0


class ReleasePolicy:
    """What consent allows to leave the project; built once per export by :func:`release_policy`.

    The rules (documented in docs/anonymisation.md):

    * a record is *excluded* when it mentions (``@P03``) or links to a participant whose
      current consent is withdrawn, or belongs to a one-to-one encounter (interview, informal
      conversation) that such a participant took part in;
    * records of group encounters (meetings, focus groups, observation sessions …) that a
      withdrawn participant attended are kept when they do not mention them; their names
      are still replaced by the anonymiser, and ``fieldkit participant withdraw`` redacts
      or erases what mentions them;
    * in a note with speaker turns, consent is the speaker's: the words of a speaker whose
      consent is withdrawn or not recorded, or who is unregistered, are replaced by
      ``[turn omitted: consent]``; the researcher's own turns always stay;
    * quotes: a coded passage may be quoted when every speaker of its words has the
      ``quotes`` scope (the researcher needs none); in a note without turns, when everyone
      linked to the record (mentioned, linked, or taking part in its encounter) has it,
      including a participant with no consent recorded;
    * the ``publication`` profile is stricter: a speaker without the ``quotes`` scope is
      omitted like a non-consenting one, and a note without turns whose text may not be
      quoted is left out whole.
    """

    def __init__(self, project, profile: str = "internal"):
        from fieldkit.core.errors import InvalidInput

        if profile not in PROFILES:
            raise InvalidInput(f"release profile must be one of {', '.join(PROFILES)}, not {profile!r}")
        self.project = project
        self.profile = profile
        queries = project.store.consent
        self._codes: dict = queries.codes()  # participant id -> code
        self._by_code: dict = {code.lower(): pid for pid, code in self._codes.items()}  # lower-case code -> id
        latest = queries.latest()
        self.withdrawn = {pid for pid, (status, _) in latest.items() if status == "withdrawn"}
        self._consenting = {pid for pid, (status, _) in latest.items() if status in ("given", "limited")}
        self._quotes = {pid for pid, (status, scopes) in latest.items() if status != "withdrawn" and "quotes" in scopes}
        self._encounters: dict = queries.encounters()  # encounter id -> (kind, participant ids)
        self._observation_encounter: dict = {}

    def _encounter_of(self, record_id: str):
        if record_id not in self._observation_encounter:
            self._observation_encounter[record_id] = self.project.store.encounter_of(record_id)
        return self._observation_encounter[record_id]

    def _encounter_ids(self, record) -> list:
        if getattr(record, "encounter_id", None):
            return [record.encounter_id]
        found = []
        for link in getattr(record, "links", ()) or ():
            if link in self._encounters:
                found.append(link)
            else:
                eid = self._encounter_of(link)
                if eid:
                    found.append(eid)
        return found

    def linked(self, record: Record) -> tuple:
        """``(mentioned or linked participant ids, (encounter kind, participant ids) pairs)``."""
        direct = []
        for code in getattr(record, "mentions", ()) or ():
            pid = self._by_code.get(code.lower())
            if pid:
                direct.append(pid)
        for link in getattr(record, "links", ()) or ():
            if link in self._codes:
                direct.append(link)
        encounters = [self._encounters[e] for e in self._encounter_ids(record) if e in self._encounters]
        return direct, encounters

    def excluded(self, record: Record) -> Optional[str]:
        """Why ``record`` must not leave the project, or None."""
        if not self.withdrawn:
            return None
        direct, encounters = self.linked(record)
        for pid in direct:
            if pid in self.withdrawn:
                return f"{self._codes[pid]} withdrew consent"
        for kind, people in encounters:
            if kind in ONE_TO_ONE_KINDS:
                for pid in people:
                    if pid in self.withdrawn:
                        return f"{self._codes.get(pid, pid)} withdrew consent ({kind.replace('_', ' ')})"
        return None

    def quotes_allowed(self, record: Record) -> bool:
        """Whether text of ``record`` may be quoted: everyone linked to it has the quotes scope."""
        direct, encounters = self.linked(record)
        people = set(direct)
        for _kind, ids in encounters:
            people.update(ids)
        return all(pid in self._quotes for pid in people if pid in self._codes)

    def speaks_freely(self, turn: SpeakerTurn) -> bool:
        """Whether a speaker turn's words may leave at all (under this profile)."""
        if turn.speaker_kind == "researcher":
            return True
        if turn.speaker_kind != "participant" or turn.speaker_id not in self._consenting:
            return False
        return self.profile != "publication" or turn.speaker_id in self._quotes

    def quotable(self, turn: SpeakerTurn) -> bool:
        """Whether a speaker turn's words may be quoted."""
        return turn.speaker_kind == "researcher" or (
            turn.speaker_kind == "participant" and turn.speaker_id in self._quotes)

    def excluded_by_profile(self, record: Record, turns: Sequence[SpeakerTurn]) -> Optional[str]:
        """Why the profile keeps a record without turns out (publication: no quote consent)."""
        if self.profile == "publication" and not turns and not self.quotes_allowed(record):
            return "no consent to quotes (publication profile)"
        return None

    def release(self, record: Record, codings: Sequence[Coding], turns: Sequence[SpeakerTurn]) -> Release:
        """The consented text of a note and which of its codings may be quoted (see the class
        notes); ``turns`` are its speaker turns (``store.turns``), ``codings`` on its body."""
        from fieldkit.core.remap import map_span

        body = record.body
        if not turns:
            if self.quotes_allowed(record):
                return Release(body, tuple(codings), ())
            return Release(body, (), tuple(codings))
        omitted = [t for t in turns if not self.speaks_freely(t)]
        edits: tuple = ()
        text = body
        if omitted:
            from fieldkit.privacy.detection import apply_spans
            from fieldkit.privacy.spans import Span

            spans = [Span(t.start, t.end, "turn", "direct", detector="consent") for t in omitted if t.end > t.start]
            redaction = apply_spans(body, spans, lambda span, original: TURN_OMITTED)
            text, edits = redaction.text, redaction.edits
        quotable, withheld = [], []
        for coding in codings:
            whole = coding.start is None
            covered = [t for t in turns if whole or (t.start < coding.end and coding.start < t.end)]
            allowed = bool(covered) and all(self.quotable(t) and t not in omitted for t in covered)
            if edits and not whole:
                mapped = map_span(edits, coding.start, coding.end, replacements_ok=False)
                if mapped.status == "lost":
                    continue  # its words are not in the export at all
                coding = attrs.evolve(coding, start=mapped.start, end=mapped.end)
            (quotable if allowed else withheld).append(coding)
        return Release(text, tuple(quotable), tuple(withheld), len(omitted))


def release_policy(project: Project, profile: str = "internal") -> ReleasePolicy:
    """The consent rules for what may leave ``project`` (see :class:`ReleasePolicy`)."""
    return ReleasePolicy(project, profile)
