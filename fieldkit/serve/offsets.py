"""Code points (how fieldkit stores offsets) to UTF-16 units (how a browser counts) and back.

A coding is ``[start, end)`` in code points of the stored body. JavaScript strings and DOM
selections count UTF-16 code units, in which every character outside the Basic Multilingual
Plane (most emoji, some CJK) takes two. The workbench sends and receives UTF-16 positions
and converts here, so the page never counts characters itself.
"""

from __future__ import annotations

import bisect

from fieldkit.core.errors import FieldkitError


class Utf16Index:
    """Converts offsets in one text between code points and UTF-16 units.

    Built once per text (one pass to find its astral characters); each conversion is then a
    binary search, so placing a thousand codings costs a thousand searches.
    """

    __slots__ = ("text", "_astral", "_astral_u16")

    def __init__(self, text: str):
        self.text = text
        if text.isascii() or max(text, default="\0") < "\U00010000":
            self._astral: list[int] = []
        else:
            self._astral = [i for i, ch in enumerate(text) if ch >= "\U00010000"]
        # the UTF-16 position of each astral character (its high surrogate)
        self._astral_u16 = [cp + n for n, cp in enumerate(self._astral)]

    @property
    def length16(self) -> int:
        return len(self.text) + len(self._astral)

    def to_utf16(self, cp: int) -> int:
        """The UTF-16 offset of code-point offset ``cp`` (0 <= cp <= len(text))."""
        if not 0 <= cp <= len(self.text):
            raise FieldkitError(f"offset {cp} is outside the text (length {len(self.text)})")
        return cp + bisect.bisect_left(self._astral, cp)

    def to_code_points(self, u16: int) -> int:
        """The code-point offset of UTF-16 offset ``u16``; refuses one inside a surrogate pair."""
        if not 0 <= u16 <= self.length16:
            raise FieldkitError(f"position {u16} is outside the text (length {self.length16} UTF-16 units)")
        before = bisect.bisect_left(self._astral_u16, u16)  # astral characters starting before u16
        if before and self._astral_u16[before - 1] + 1 == u16:
            raise FieldkitError(f"position {u16} falls inside a character (between the halves of a surrogate pair)")
        return u16 - before


def to_utf16(text: str, cp: int) -> int:
    """The UTF-16 offset of code-point offset ``cp`` in ``text``."""
    return Utf16Index(text).to_utf16(cp)


def to_code_points(text: str, u16: int) -> int:
    """The code-point offset of UTF-16 offset ``u16`` in ``text``."""
    return Utf16Index(text).to_code_points(u16)
