"""Spans of text found by anonymisation detectors."""

from __future__ import annotations

import attrs

from fieldkit.core.errors import InvalidInput

DIRECTNESS = ("direct", "quasi")


@attrs.frozen
class Span:
    """A stretch ``[start, end)`` of a text, in Unicode code points, that identifies someone.

    ``kind`` names what was found (``name``, ``nino``, ``postcode``, ``prison`` …);
    ``directness`` says whether it identifies a person on its own (``direct``) or only in
    combination (``quasi``); ``hint`` is the replacement the detector suggests (a pseudonym
    such as ``P03``, or empty to let the configured style decide); ``key`` is the form that
    decides which consistent replacement the span gets (empty: the text itself), so that
    ``Mr Quennell's`` and ``quennell`` can share one placeholder.
    """

    start: int
    end: int
    kind: str
    directness: str = attrs.field(default="direct")
    hint: str = ""
    detector: str = ""
    key: str = ""

    @directness.validator
    def _check_directness(self, attribute, value):
        if value not in DIRECTNESS:
            raise InvalidInput(f"directness must be one of {', '.join(DIRECTNESS)}, not {value!r}")

    def __attrs_post_init__(self):
        if not (0 <= self.start <= self.end):
            raise InvalidInput(f"span must have 0 <= start <= end, got [{self.start}, {self.end})")
