"""Which tool wrote a REFI-QDA file, what its text positions count, and whether they look shifted.

The standard counts positions in Unicode code points. NVivo counts UTF-16 code units (it is a
.NET program, and a .NET string's index is a UTF-16 unit), so every character outside the
Basic Multilingual Plane -- most emoji -- counts two, and every selection after one lands
later than it should. A file's producer is read from the ``origin`` attribute; when the two
ways of counting disagree on a file (it holds such characters), the producer's way is kept
unless the other puts clearly fewer selection boundaries inside words.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Iterable, Optional

CODEPOINTS = "codepoints"
UTF16 = "utf16"
AUTO = "auto"
UNITS = (CODEPOINTS, UTF16)

#: producers fieldkit recognises in ``origin`` (lower case), and the unit each counts in
PRODUCERS = (
    ("nvivo", "NVivo", UTF16),
    ("atlas", "ATLAS.ti", CODEPOINTS),
    ("maxqda", "MAXQDA", CODEPOINTS),
    ("qualcoder", "QualCoder", CODEPOINTS),
    ("openqda", "OpenQDA", CODEPOINTS),
    ("fieldkit", "fieldkit", CODEPOINTS),
)

#: producers whose unit is certain (they index Python strings): never second-guessed
CERTAIN = ("fieldkit", "QualCoder")

#: a file "looks shifted" when more than this share of its selection boundaries cut a word
SHIFT_SHARE = 0.25
SHIFT_MIN_SELECTIONS = 4


def producer(origin: Optional[str]) -> tuple[str, str]:
    """``(tool name, offset unit)`` from a Project's ``origin`` attribute; unknown tools count code points."""
    text = (origin or "").lower()
    for mark, name, unit in PRODUCERS:
        if mark in text:
            return name, unit
    return (origin or "").strip() or "unknown tool", CODEPOINTS


def has_astral(text: str) -> bool:
    """True when ``text`` holds a character that UTF-16 stores as two units."""
    return any(ord(ch) > 0xFFFF for ch in text) if not text.isascii() else False


class Utf16Index:
    """Turns UTF-16 positions in a text into code-point positions (and the text's UTF-16 length)."""

    def __init__(self, text: str):
        # UTF-16 position just after each astral character; a position inside a surrogate
        # pair rounds forward past it
        self.ends = []
        extra = 0
        for i, ch in enumerate(text):
            if ord(ch) > 0xFFFF:
                extra += 1
                self.ends.append(i + extra + 1)
        self.length = len(text) + extra

    def to_codepoints(self, position: int) -> int:
        if not self.ends:
            return position
        return position - bisect_right(self.ends, position)


def cuts_word(text: str, start: int, end: int) -> int:
    """How many of the two boundaries of ``[start, end)`` fall between two letters or digits."""
    n = 0
    if 0 < start < len(text) and text[start - 1].isalnum() and text[start].isalnum():
        n += 1
    if 0 < end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
        n += 1
    return n


def word_cuts(text: str, spans: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """``(boundaries inside a word, boundaries checked)`` over non-empty spans of ``text``."""
    cut = checked = 0
    for start, end in spans:
        if 0 <= start < end <= len(text):
            cut += cuts_word(text, start, end)
            checked += 2
    return cut, checked


def clearly_fewer(cuts: int, than: int) -> bool:
    """True when ``cuts`` word cuts are clearly fewer than ``than`` (at most half, and two less)."""
    return 2 * cuts <= than and than - cuts >= 2


def looks_shifted(cut: int, checked: int) -> bool:
    return checked >= 2 * SHIFT_MIN_SELECTIONS and cut > SHIFT_SHARE * checked
