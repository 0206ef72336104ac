"""Record ids: ULIDs, sortable by creation time and unique across machines.

A ULID is 128 bits, so it converts losslessly to the 8-4-4-4-12 GUID form that
REFI-QDA exports need; exports therefore keep the same GUID for a record every time.
"""

from __future__ import annotations

import functools
import re

from fieldkit.core.errors import InvalidInput

_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_GUID = re.compile(r"^\{?([0-9a-fA-F]{8})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{12})\}?$")


def new_id() -> str:
    """A fresh ULID string (26 Crockford base-32 characters)."""
    return crockford(_ulid()().bytes)


@functools.lru_cache(maxsize=None)
def _ulid() -> type:
    """python-ulid's ``ULID``, imported when the first id is made (once, not per id)."""
    from ulid import ULID

    return ULID


_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_SHIFTS = tuple(range(120, -1, -10))


@functools.lru_cache(maxsize=None)
def _pairs() -> tuple:
    """The two characters of every 10-bit number."""
    return tuple(a + b for a in _ALPHABET for b in _ALPHABET)


def crockford(value: bytes) -> str:
    """The 26-character text of a 16-byte ULID, as ``str(ULID)`` writes it, ten bits at a
    time (an import makes an id for every coding; python-ulid writes five bits at a time)."""
    number = int.from_bytes(value, "big")
    pairs = _pairs()
    return "".join([pairs[(number >> shift) & 1023] for shift in _SHIFTS])


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
