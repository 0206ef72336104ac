"""Record ids: ULIDs, sortable by creation time and unique across machines.

A ULID (https://github.com/ulid/spec) is 128 bits: 48 bits of Unix time in milliseconds,
then 80 random bits, written as 26 Crockford base-32 digits. Ids made in one process within
the same millisecond take the previous random part plus one, so they sort in the order they
were made. It is 128 bits, so it converts losslessly to the 8-4-4-4-12 GUID form that
REFI-QDA exports need; exports therefore keep the same GUID for a record every time.

The arithmetic is a few lines, kept here rather than imported: every jot makes an id, and
python-ulid reads its own package metadata when imported. The tests check every function
here against python-ulid.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import time
from typing import Callable

from fieldkit.core.errors import InvalidInput
from fieldkit.core.patterns import lazy

DIGITS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80
_MAX_RANDOM = (1 << _RANDOM_BITS) - 1
_MAX_TIME = (1 << 48) - 1
_SHIFTS = tuple(range(120, -1, -10))  # the 26 digits of 130 bits, two at a time, most significant first
# a ULID digit (either case) -> the digit int(..., 32) reads for the same value
_TO_INT_DIGITS = str.maketrans({c: "0123456789abcdefghijklmnopqrstuv"[i]
                                for i, d in enumerate(DIGITS) for c in (d, d.lower())})
_ULID = lazy(r"^[0-9A-HJKMNP-TV-Z]{26}$")
# 26 digits hold 130 bits: a ULID starts with 0-7
_ULID_TEXT = lazy(r"[0-7][0-9A-HJKMNP-TV-Z]{25}", re.ASCII | re.IGNORECASE)
_GUID = lazy(r"^\{?([0-9a-fA-F]{8})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{12})\}?$")

_lock = threading.Lock()
#: ``next_value``'s ``last`` before the first id (as python-ulid starts)
START = (0, 0)
#: (milliseconds, random part) of the last id this process made
_last = START


@functools.lru_cache(maxsize=None)
def _pairs() -> tuple:
    """The two digits of every 10-bit number."""
    return tuple(a + b for a in DIGITS for b in DIGITS)


def encode(value: int) -> str:
    """The 26-digit ULID text of a 128-bit integer, ten bits at a time (an import makes an
    id for every coding)."""
    if not 0 <= value <= (1 << 128) - 1:
        raise InvalidInput(f"a ULID is a 128-bit number, not {value}")
    pairs = _pairs()
    return "".join([pairs[(value >> shift) & 1023] for shift in _SHIFTS])


def crockford(value: bytes) -> str:
    """The 26-digit text of a 16-byte ULID, as ``str(ULID)`` writes it."""
    return encode(int.from_bytes(value, "big"))


def decode(text: str) -> int:
    """The 128-bit integer of a ULID's text (either case); refuses anything else."""
    if not _ULID_TEXT.fullmatch(text):
        raise InvalidInput(f"not a ULID: {text!r}")
    return int(text.translate(_TO_INT_DIGITS), 32)


def next_value(millis: int, last: tuple[int, int], randomness: Callable[[], bytes]) -> tuple[int, int]:
    """``(milliseconds, random part)`` of the id after ``last``: in the same millisecond the
    last random part plus one; in another (or if that would overflow) fresh random bits."""
    if not 0 <= millis <= _MAX_TIME:
        raise InvalidInput(f"a ULID's time is 48 bits of milliseconds, not {millis}")
    last_millis, last_random = last
    if millis == last_millis and last_random < _MAX_RANDOM:
        return millis, last_random + 1
    return millis, int.from_bytes(randomness(), "big")


def _random_part() -> bytes:
    return os.urandom(_RANDOM_BITS // 8)


def new_id() -> str:
    """A fresh ULID string (26 Crockford base-32 characters)."""
    global _last
    millis = time.time_ns() // 1_000_000
    with _lock:
        _last = next_value(millis, _last, _random_part)
        made = _last
    return encode(made[0] << _RANDOM_BITS | made[1])


def is_id(text: str) -> bool:
    return bool(_ULID.match(text or ""))


def to_guid(record_id: str) -> str:
    """The REFI-QDA GUID (lower-case 8-4-4-4-12 hex) of a record id."""
    import uuid

    return str(uuid.UUID(int=decode(record_id)))


def from_guid(guid: str) -> str:
    """The record id a GUID came from; accepts braces, upper case and missing hyphens."""
    match = _GUID.match(guid.strip())
    if not match:
        raise InvalidInput(f"not a GUID: {guid!r}")
    return encode(int("".join(match.groups()), 16))
