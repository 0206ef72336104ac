"""Finding places inside a prison (wings, landings, cells, houseblocks) and prison numbers.

A wing-and-cell reference narrows a note down to the few people who lived there at the
time, so it is a quasi-identifier; a prison number (NOMIS style, ``A1234BC``) identifies
one person on its own. Adjacent parts are reported as one span, so ``B-wing cell 2-14`` or
``cell 2-14 on B-wing`` is replaced as a whole rather than leaving "on" between two stand-ins.

Deliberately conservative about single letters: ``A wing`` needs the capital letter, and
``wing A`` or ``wing I`` after the word (where "A" and "I" are usually the next sentence's
first word) are only found with a digit (``wing 3``) or another letter.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterator

from fieldkit.privacy.spans import Span

_PARTS = {
    # B-wing, B wing, HB-Wing (the letters must be capitals: "a wing" is ordinary English)
    "wing": r"\b[A-Z]{1,2}[- ][Ww]ing\b|\b[Ww]ing[ ](?:\d{1,2}|[B-HJ-Z])\b(?![-'’]\w)",
    # cell B2-14, cell 2-14, cell 2.14, cell 214, Cell no. 7
    "cell": r"\b[Cc]ell[ ]+(?:[Nn]o\.?[ ]*)?(?:[A-Z]-?)?\d{1,4}(?:[-./]\d{1,3})?\b",
    # houseblock 3, house block 3, HB3, HB 3
    "houseblock": r"\b(?:[Hh]ouse[ -]?[Bb]lock|HB)[ ]?(?:\d{1,2}|[A-Z])\b",
    "landing": r"\b[Ll]anding[ ]+(?:\d{1,2}|[A-Z])\b",
    "spur": r"\b[Ss]pur[ ]+(?:\d{1,2}|[A-Z])\b",
}

#: what may stand between two parts of one reference ("B-wing cell 2", "cell 2, landing 3 of HB1")
_JOIN = r"[ ]?(?:,[ ]?|[ ](?:on|in|of)[ ](?:the[ ])?)?"

PRISON_NUMBER = r"(?<![^\W_])[A-Z]\d{4}[A-Z]{2}(?![^\W_])"


@lru_cache(maxsize=None)
def _part_re() -> re.Pattern:
    return re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _PARTS.items()))


@lru_cache(maxsize=None)
def _join_re() -> re.Pattern:
    return re.compile(_JOIN)


@lru_cache(maxsize=None)
def _number_re() -> re.Pattern:
    return re.compile(PRISON_NUMBER, re.IGNORECASE | re.ASCII)


def find_locations(text: str) -> list[tuple[int, int, tuple[str, ...]]]:
    """``(start, end, kinds)`` for each location reference, adjacent parts joined.

    ``kinds`` names the parts in order, for example ``("wing", "cell")``.
    """
    found: list[list] = []
    for m in _part_re().finditer(text):
        kind = m.lastgroup
        if found:
            gap = _join_re().fullmatch(text, found[-1][1], m.start())
            if gap is not None:
                found[-1][1] = m.end()
                found[-1][2] += (kind,)
                continue
        found.append([m.start(), m.end(), (kind,)])
    return [(start, end, kinds) for start, end, kinds in found]


def detect_locations(text: str, context=None) -> Iterator[Span]:
    """Wing, landing, cell, spur and houseblock references (quasi-identifiers)."""
    for start, end, _kinds in find_locations(text):
        yield Span(start, end, "prison_location", "quasi", detector="prisons.location")


def detect_prison_numbers(text: str, context=None) -> Iterator[Span]:
    """Prison numbers: a letter, four digits and two letters (``A1234BC``)."""
    for m in _number_re().finditer(text):
        yield Span(m.start(), m.end(), "prison_number", "direct", detector="prisons.number")


def reference_key(reference: str) -> str:
    """The same reference however it is spaced or hyphenated: ``B-Wing  cell 2-14`` and
    ``B wing cell 2-14`` both give ``b wing cell 2-14``."""
    text = re.sub(r"(?<=[A-Za-z])-(?=[A-Za-z])", " ", reference)
    return " ".join(text.split()).casefold()
