"""Record ids: ULIDs, sortable by creation time and unique across machines.

A ULID is 128 bits, so it converts losslessly to the 8-4-4-4-12 GUID form that
REFI-QDA exports need; exports therefore keep the same GUID for a record every time.
"""

from __future__ import annotations

import re

from fieldkit.core.errors import InvalidInput

_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_GUID = re.compile(r"^\{?([0-9a-fA-F]{8})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{12})\}?$")


def new_id() -> str:
    """A fresh ULID string (26 Crockford base-32 characters)."""
    from ulid import ULID

    return str(ULID())


def is_id(text: str) -> bool:
    return bool(_ULID.match(text or ""))


def to_guid(record_id: str) -> str:
    """The REFI-QDA GUID (lower-case 8-4-4-4-12 hex) of a record id."""
    from ulid import ULID

    return str(ULID.from_str(record_id).to_uuid())


def from_guid(guid: str) -> str:
    """The record id a GUID came from; accepts braces, upper case and missing hyphens."""
    import uuid

    from ulid import ULID

    match = _GUID.match(guid.strip())
    if not match:
        raise InvalidInput(f"not a GUID: {guid!r}")
    return str(ULID.from_uuid(uuid.UUID("".join(match.groups()))))
