"""The record types fieldkit keeps: frozen attrs classes, validated when built.

Records hold plain values only (strings, ints, tz-aware datetimes, tuples and dicts of
strings) so that one converter (``fieldkit.core.convert``) owns their row and JSON shape.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Optional, Sequence

import attrs

from fieldkit.core.errors import InvalidInput

SITE_KINDS = (
    "inspection_team", "probation_delivery_unit", "approved_premises", "prison", "court",
    "probation_office", "community_venue", "online", "other",
)
ROLES = (
    "person_on_probation", "expert_by_experience", "inspector", "probation_practitioner",
    "manager", "peer_researcher", "stakeholder", "researcher", "other",
)
CONSENT_STATUSES = ("given", "limited", "withdrawn")
CONSENT_SCOPES = ("observation", "audio", "quotes", "archive")
ENCOUNTER_KINDS = (
    "observation_session", "inspection_meeting", "case_review", "interview", "focus_group",
    "informal_conversation", "document_review", "meeting",
)
MODES = ("in_person", "phone", "video")
STAGES = ("jotting", "fieldnote")
PRECISIONS = ("minute", "hour", "part_of_day", "day")
MEMO_KINDS = ("analytic", "theoretical", "methodological", "reflexive", "code")
CODE_STATUSES = ("active", "merged", "retired")
CODING_STATUSES = ("ok", "review")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _new_id() -> str:
    from fieldkit.core.ids import new_id

    return new_id()


def one_of(choices: Sequence[str]) -> Callable[[Any, attrs.Attribute, Any], None]:
    """A validator that names the allowed values in its error."""

    def check(instance, attribute, value):
        if value not in choices:
            raise InvalidInput(
                f"{attribute.name} must be one of {', '.join(choices)}; got {value!r}"
            )

    return check


def _aware(instance, attribute, value):
    if value is None:
        return
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{attribute.name} must be a timezone-aware datetime; got {value!r}")


def _non_empty(instance, attribute, value):
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{attribute.name} must not be empty")


_UTC = dt.timezone.utc


def _to_utc(value):
    if value.__class__ is dt.datetime and value.tzinfo is _UTC:
        return value  # already what the rest would make of it
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(_UTC)
    return value


def _tuple(value):
    if value.__class__ is tuple:
        return value
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _subset_of(choices):
    def check(instance, attribute, value):
        unknown = [v for v in value if v not in choices]
        if unknown:
            raise InvalidInput(
                f"{attribute.name} must be drawn from {', '.join(choices)}; got {', '.join(unknown)}"
            )

    return check


def _text(value):
    """Stored text is NFC with ``\\n`` line ends, so code-point offsets are stable."""
    if not isinstance(value, str):
        return value
    if value.isascii() and "\r" not in value:
        return value  # ASCII text is its own NFC form
    from fieldkit.core.markdown import normalise

    return normalise(value)


def _str_dict(value):
    return {str(k): str(v) for k, v in dict(value or {}).items()}


@attrs.frozen(kw_only=True)
class Record:
    """Fields every record has: a sortable unique ``id``, ``created_at`` (UTC) and ``author``."""

    id: str = attrs.field(factory=_new_id)
    created_at: dt.datetime = attrs.field(factory=_now, converter=_to_utc, validator=_aware)
    author: str = ""

    #: the short name used in tables, CLI output and JSON (``observation``, ``memo`` …)
    type_name = "record"


@attrs.frozen(kw_only=True)
class Site(Record):
    """A fieldwork place under a pseudonymous name."""

    type_name = "site"
    name: str = attrs.field(validator=_non_empty)
    kind: str = attrs.field(default="other", validator=one_of(SITE_KINDS))
    note: str = ""


@attrs.frozen(kw_only=True)
class Participant(Record):
    """Someone taking part, known by a pseudonym code such as ``P03``; identity lives in the key store."""

    type_name = "participant"
    code: str = attrs.field(validator=_non_empty)
    role: str = attrs.field(default="other", validator=one_of(ROLES))
    organisation: str = ""
    attributes: dict = attrs.field(factory=dict, converter=_str_dict)
    note: str = ""


@attrs.frozen(kw_only=True)
class ConsentEvent(Record):
    """One change in a participant's consent; current consent is derived from these events."""

    type_name = "consent"
    participant_id: str = attrs.field(validator=_non_empty)
    status: str = attrs.field(validator=one_of(CONSENT_STATUSES))
    scopes: tuple = attrs.field(default=(), converter=_tuple, validator=_subset_of(CONSENT_SCOPES))
    at: dt.datetime = attrs.field(factory=_now, converter=_to_utc, validator=_aware)
    note: str = ""


@attrs.frozen
class EncounterParticipant:
    """A participant in an encounter, with the part they played in it (interviewee, chair …)."""

    participant_id: str = attrs.field(validator=_non_empty)
    role: str = ""


def _participants(value):
    out = []
    for item in value or ():
        if isinstance(item, EncounterParticipant):
            out.append(item)
        elif isinstance(item, dict):
            out.append(EncounterParticipant(**item))
        else:
            out.append(EncounterParticipant(str(item)))
    return tuple(out)


@attrs.frozen(kw_only=True)
class Encounter(Record):
    """An interview, focus group, meeting or observed session, known by a short code such as ``E12``."""

    type_name = "encounter"
    code: str = attrs.field(validator=_non_empty)
    kind: str = attrs.field(default="observation_session", validator=one_of(ENCOUNTER_KINDS))
    title: str = ""
    site_id: Optional[str] = None
    start: Optional[dt.datetime] = attrs.field(default=None, converter=_to_utc, validator=_aware)
    end: Optional[dt.datetime] = attrs.field(default=None, converter=_to_utc, validator=_aware)
    mode: str = attrs.field(default="in_person", validator=one_of(MODES))
    participants: tuple = attrs.field(default=(), converter=_participants)
    summary: str = ""

    def __attrs_post_init__(self):
        if self.start and self.end and self.end < self.start:
            raise InvalidInput("end must not be before start")


@attrs.frozen(kw_only=True)
class Observation(Record):
    """A jotting (immutable, quick) or a fieldnote (full, editable) with two clocks."""

    type_name = "observation"
    stage: str = attrs.field(default="jotting", validator=one_of(STAGES))
    body: str = attrs.field(converter=_text, validator=_non_empty)
    encounter_id: Optional[str] = None
    observed_at: Optional[dt.datetime] = attrs.field(default=None, converter=_to_utc, validator=_aware)
    observed_precision: str = attrs.field(default="minute", validator=one_of(PRECISIONS))
    observed_raw: str = ""
    recorded_at: dt.datetime = attrs.field(factory=_now, converter=_to_utc, validator=_aware)
    tags: tuple = attrs.field(default=(), converter=_tuple)
    mentions: tuple = attrs.field(default=(), converter=_tuple)
    derived_from: tuple = attrs.field(default=(), converter=_tuple)
    #: ids of participants it is about besides its @mentions (correctable on a jotting too)
    links: tuple = attrs.field(default=(), converter=_tuple)


@attrs.frozen(kw_only=True)
class Memo(Record):
    """An analytic, theoretical, methodological, reflexive or code memo, linked to what it is about."""

    type_name = "memo"
    kind: str = attrs.field(default="analytic", validator=one_of(MEMO_KINDS))
    title: str = ""
    body: str = attrs.field(converter=_text, validator=_non_empty)
    links: tuple = attrs.field(default=(), converter=_tuple)
    tags: tuple = attrs.field(default=(), converter=_tuple)
    mentions: tuple = attrs.field(default=(), converter=_tuple)


@attrs.frozen(kw_only=True)
class Code(Record):
    """A code in the codebook; ``parent_id`` makes the hierarchy, ``merged_into`` points after a merge."""

    type_name = "code"
    name: str = attrs.field(validator=_non_empty)
    parent_id: Optional[str] = None
    definition: str = ""
    include: str = ""
    exclude: str = ""
    example: str = ""
    colour: str = ""
    status: str = attrs.field(default="active", validator=one_of(CODE_STATUSES))
    merged_into: Optional[str] = None
    keywords: tuple = attrs.field(default=(), converter=_tuple)

    @name.validator
    def _no_slash(self, attribute, value):
        if "/" in value:
            raise InvalidInput("code name must not contain '/' (it separates a code's path)")


@attrs.frozen(kw_only=True)
class Coding(Record):
    """A code applied to ``[start, end)`` of a record's body (code points), or to a whole record."""

    type_name = "coding"
    record_id: str = attrs.field(validator=_non_empty)
    code_id: str = attrs.field(validator=_non_empty)
    start: Optional[int] = None
    end: Optional[int] = None
    coder: str = attrs.field(default="", validator=_non_empty)
    note: str = ""
    status: str = attrs.field(default="ok", validator=one_of(CODING_STATUSES))

    def __attrs_post_init__(self):
        if (self.start is None) != (self.end is None):
            raise InvalidInput("a coding has both start and end, or neither (whole record)")
        if self.start is not None and not (0 <= self.start <= self.end):
            raise InvalidInput(f"a coding needs 0 <= start <= end; got [{self.start}, {self.end})")

    @property
    def whole_record(self) -> bool:
        return self.start is None


@attrs.frozen(kw_only=True)
class Attachment(Record):
    """A file kept beside the database, found by its content hash."""

    type_name = "attachment"
    sha256: str = attrs.field(validator=_non_empty)
    filename: str = attrs.field(validator=_non_empty)
    media_type: str = "application/octet-stream"
    size: int = 0
    record_id: Optional[str] = None


def check_writable(record: Record) -> None:
    """Refuse what must never be written, though an older or crafted database may hold it
    (so reading it stays possible): an attachment hash that is not 64 lower-case hex digits,
    the stored file's only name, which could otherwise point outside ``attachments/``."""
    if isinstance(record, Attachment):
        value = record.sha256
        if not (isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)):
            raise InvalidInput(f"sha256 must be 64 lower-case hex digits, not {str(value)[:80]!r}")


RECORD_TYPES = {
    cls.type_name: cls
    for cls in (Site, Participant, ConsentEvent, Encounter, Observation, Memo, Code, Coding, Attachment)
}
