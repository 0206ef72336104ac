"""Keep coded segments attached to their text when the text changes.

Offsets are ``[start, end)`` in Unicode code points (Python ``str`` indices).

Edit lists
----------
An *edit list* describes how an old text became a new one: a list of tuples
``(old_start, old_end, new_start, new_end)``, sorted, non-overlapping, each saying that
``old[old_start:old_end]`` became ``new[new_start:new_end]``. An insertion has
``old_start == old_end``, a deletion ``new_start == new_end``. Everything outside the edits
is unchanged, only shifted; so between edits the shift is constant and
``new_start - old_start`` of an edit equals ``new_end - old_end`` of the one before it (0 for
the first). :func:`diff_edits` makes such a list from two texts and never returns two
edits that touch; :func:`validate_edits` checks a list made by hand.

Mapping
-------
:func:`map_position` moves one position; :func:`map_span` moves a coded segment and says
how well it survived (see its docstring for the rule); :func:`compose` chains two edit
lists (old -> middle -> new) into one.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from difflib import SequenceMatcher
from typing import Iterable, Iterator, Optional, Sequence

import attrs

__all__ = [
    "Edit",
    "MappedSpan",
    "STATUSES",
    "diff_edits",
    "diff_words",
    "validate_edits",
    "map_position",
    "map_span",
    "compose",
]

Edit = tuple[int, int, int, int]
STATUSES = ("exact", "changed", "lost")
SIDES = ("left", "right")

# Blocks whose sides multiply to at most this many characters go straight to a
# character-level diff; above it they are first split into lines, then words.
_DIRECT_CHARS = 20_000
# Token (line or word) sequences up to this product are aligned by difflib directly;
# longer ones are first cut at anchors (tokens, or short runs of tokens, that occur
# exactly once on each side).
_DIRECT_TOKENS = 250_000

_LINES = re.compile(r"[^\n]*\n|[^\n]+")
_WORDS = re.compile(r"\w+\s*|[^\w\s]\s*|\s+")
# Whole words, runs of white space and single other characters: the units of a person's edit.
_WORD_UNITS = re.compile(r"\w+|\s+|[^\w\s]")


@attrs.frozen
class MappedSpan:
    """Where a span ended up: ``[start, end)`` in the new text and how it fared.

    ``status`` is ``"exact"`` (same characters, at most shifted), ``"changed"`` (edited but
    mostly surviving; the span was stretched over the edits) or ``"lost"`` (its text is gone;
    ``start``/``end`` are a best guess). See :func:`map_span`.
    """

    start: int
    end: int
    status: str = attrs.field()

    @status.validator
    def _check_status(self, attribute, value):
        if value not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {value!r}")


# ---------------------------------------------------------------------------
# Diff
# ---------------------------------------------------------------------------

def _common_prefix(a: str, b: str, a0: int, a1: int, b0: int, b1: int) -> int:
    """Length of the common prefix of ``a[a0:a1]`` and ``b[b0:b1]`` (by halving, in C)."""
    lo, hi = 0, min(a1 - a0, b1 - b0)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[a0 + lo:a0 + mid] == b[b0 + lo:b0 + mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: str, b: str, a0: int, a1: int, b0: int, b1: int) -> int:
    lo, hi = 0, min(a1 - a0, b1 - b0)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[a1 - mid:a1 - lo] == b[b1 - mid:b1 - lo]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _tokens(text: str, start: int, end: int, pattern: re.Pattern) -> tuple[list[str], list[int]]:
    pieces = pattern.findall(text, start, end)
    bounds = [start]
    for piece in pieces:
        bounds.append(bounds[-1] + len(piece))
    return pieces, bounds


def _unique_anchors(a: Sequence, b: Sequence, a0: int, a1: int, b0: int, b1: int,
                    k: int = 1) -> list[tuple[int, int]]:
    """Runs of ``k`` tokens occurring exactly once on each side, in an order-preserving chain.

    This is the anchoring step of "patience" diff: pair the unique runs, then keep the
    longest chain of pairs increasing on both sides (and not overlapping).
    """
    def runs(seq, lo, hi):
        where: dict = {}
        for i in range(lo, hi - k + 1):
            key = seq[i] if k == 1 else seq[i:i + k] if isinstance(seq, str) else tuple(seq[i:i + k])
            where[key] = -1 if key in where else i
        return where

    where_a, where_b = runs(a, a0, a1), runs(b, b0, b1)
    pairs = sorted((i, where_b[key]) for key, i in where_a.items() if i >= 0 and where_b.get(key, -1) >= 0)
    if not pairs:
        return []
    # Longest increasing subsequence of the j's (pairs are in i order).
    tails: list[int] = []          # per chain length, the index in pairs of its smallest tail
    tail_js: list[int] = []
    back = [-1] * len(pairs)
    for n, (_i, j) in enumerate(pairs):
        pos = bisect_left(tail_js, j)
        back[n] = tails[pos - 1] if pos else -1
        if pos == len(tails):
            tails.append(n)
            tail_js.append(j)
        else:
            tails[pos] = n
            tail_js[pos] = j
    chain = []
    n = tails[-1]
    while n >= 0:
        chain.append(pairs[n])
        n = back[n]
    chain.reverse()
    kept = []
    for i, j in chain:
        if not kept or (i >= kept[-1][0] + k and j >= kept[-1][1] + k):
            kept.append((i, j))
    return kept


def _token_matches(a: Sequence, b: Sequence, a0: int, a1: int, b0: int, b1: int,
                   out: list[tuple[int, int, int]]) -> None:
    """Append matching blocks ``(i, j, size)`` of ``a[a0:a1]`` and ``b[b0:b1]``, in order.

    ``a`` and ``b`` are token lists or strings (then the tokens are characters). Short
    stretches go to difflib; long ones are first cut at anchors (see ``_unique_anchors``).
    """
    head = 0
    while a0 + head < a1 and b0 + head < b1 and a[a0 + head] == b[b0 + head]:
        head += 1
    if head:
        out.append((a0, b0, head))
        a0, b0 = a0 + head, b0 + head
    tail = 0
    while a0 < a1 - tail and b0 < b1 - tail and a[a1 - tail - 1] == b[b1 - tail - 1]:
        tail += 1
    a1, b1 = a1 - tail, b1 - tail
    if a0 < a1 and b0 < b1:
        if (a1 - a0) * (b1 - b0) <= _DIRECT_TOKENS:
            matcher = SequenceMatcher(None, a[a0:a1], b[b0:b1], autojunk=False)
            out.extend((a0 + i, b0 + j, n) for i, j, n in matcher.get_matching_blocks() if n)
        else:
            # Anchor on tokens unique to both sides; in repetitive text, on unique runs
            # of 2, 4, ... tokens.
            for k in (1, 2, 4, 8, 16, 32):
                anchors = _unique_anchors(a, b, a0, a1, b0, b1, k)
                if anchors:
                    break
            if anchors:
                pi, pj = a0, b0
                for i, j in anchors:
                    _token_matches(a, b, pi, i, pj, j, out)
                    out.append((i, j, k))
                    pi, pj = i + k, j + k
                _token_matches(a, b, pi, a1, pj, b1, out)
            else:
                # Nothing to anchor on: let difflib skip the very common tokens when
                # *starting* matches (they still extend matches). Any alignment it picks
                # is valid; it may just be coarser.
                matcher = SequenceMatcher(None, a[a0:a1], b[b0:b1], autojunk=True)
                out.extend((a0 + i, b0 + j, n) for i, j, n in matcher.get_matching_blocks() if n)
    if tail:
        out.append((a1, b1, tail))


def _diff_block(old: str, new: str, a0: int, a1: int, b0: int, b1: int, level: int,
                out: list[Edit]) -> None:
    p = _common_prefix(old, new, a0, a1, b0, b1)
    a0, b0 = a0 + p, b0 + p
    q = _common_suffix(old, new, a0, a1, b0, b1)
    a1, b1 = a1 - q, b1 - q
    if a0 == a1 and b0 == b1:
        return
    if a0 == a1 or b0 == b1:
        out.append((a0, a1, b0, b1))
        return
    if (a1 - a0) * (b1 - b0) <= _DIRECT_CHARS or level >= 2:
        # Characters are the tokens: ``old``/``new`` index straight into the texts.
        blocks: list[tuple[int, int, int]] = []
        _token_matches(old, new, a0, a1, b0, b1, blocks)
        blocks.append((a1, b1, 0))
        i_prev, j_prev = a0, b0
        for i, j, n in blocks:
            if i > i_prev or j > j_prev:
                out.append((i_prev, i, j_prev, j))
            i_prev, j_prev = i + n, j + n
        return
    pattern = _LINES if level == 0 else _WORDS
    old_tokens, old_bounds = _tokens(old, a0, a1, pattern)
    new_tokens, new_bounds = _tokens(new, b0, b1, pattern)
    if len(old_tokens) <= 1 and len(new_tokens) <= 1:
        _diff_block(old, new, a0, a1, b0, b1, level + 1, out)
        return
    blocks = []
    _token_matches(old_tokens, new_tokens, 0, len(old_tokens), 0, len(new_tokens), blocks)
    blocks.append((len(old_tokens), len(new_tokens), 0))
    i_prev = j_prev = 0
    for i, j, n in blocks:
        if i > i_prev or j > j_prev:
            x0, x1, y0, y1 = old_bounds[i_prev], old_bounds[i], new_bounds[j_prev], new_bounds[j]
            if x0 < x1 and y0 < y1:
                _diff_block(old, new, x0, x1, y0, y1, level + 1, out)
            else:
                out.append((x0, x1, y0, y1))
        i_prev, j_prev = i + n, j + n


def _merge_touching(edits: Iterable[Edit]) -> list[Edit]:
    merged: list[Edit] = []
    for edit in edits:
        if merged and merged[-1][1] == edit[0] and merged[-1][3] == edit[2]:
            last = merged[-1]
            merged[-1] = (last[0], edit[1], last[2], edit[3])
        else:
            merged.append(edit)
    return merged


def diff_edits(old: str, new: str) -> list[Edit]:
    """The edit list turning ``old`` into ``new``, at character level.

    The common prefix and suffix are trimmed first; what is left is compared line by
    line, changed line blocks word by word, and changed word blocks character by character
    (small blocks skip straight to characters). Each comparison uses
    :class:`difflib.SequenceMatcher` (``autojunk=False``) when the stretch is short; a
    long stretch is first cut at *anchors* -- tokens (or runs of 2, 4, ... tokens) that
    occur exactly once on each side, chained in order as in "patience" diff -- so a 50 KB
    note with scattered edits, or a long unbroken paragraph (CJK text without spaces),
    costs milliseconds rather than minutes. Only when a long stretch has no anchor at all
    does difflib run with its ``autojunk`` heuristic, which can give a coarser (still
    correct) result.

    The alignment is *an* alignment, not necessarily the one the writer had in mind:
    where text repeats ("aaa" -> "aaaa") an edit can sit at any of several equivalent
    places. Touching edits are merged, so no two returned edits are adjacent.
    """
    if old == new:
        return []
    out: list[Edit] = []
    _diff_block(old, new, 0, len(old), 0, len(new), 0, out)
    out.sort()
    return _merge_touching(out)


def diff_words(old: str, new: str) -> list[Edit]:
    """The edit list turning ``old`` into ``new``, in whole words.

    Words, runs of white space and single punctuation marks are the units: a changed word
    is replaced whole, never matched letter by letter against another word (``reasons`` ->
    ``information`` shares letters but no word); only the characters a changed stretch
    keeps at its two ends count as unchanged. It says where a coding whose text a person
    changed belongs now (over the changed words, not on scraps of them that a
    character-level alignment pairs up); whether its text changed is for the exact
    :func:`diff_edits` to say. Long texts are cut at anchors as in :func:`diff_edits`;
    touching edits are merged.
    """
    if old == new:
        return []
    old_tokens, old_bounds = _tokens(old, 0, len(old), _WORD_UNITS)
    new_tokens, new_bounds = _tokens(new, 0, len(new), _WORD_UNITS)
    blocks: list[tuple[int, int, int]] = []
    _token_matches(old_tokens, new_tokens, 0, len(old_tokens), 0, len(new_tokens), blocks)
    blocks.append((len(old_tokens), len(new_tokens), 0))
    out: list[Edit] = []
    i_prev = j_prev = 0
    for i, j, n in blocks:
        if i > i_prev or j > j_prev:
            x0, x1, y0, y1 = old_bounds[i_prev], old_bounds[i], new_bounds[j_prev], new_bounds[j]
            # the characters a changed stretch keeps at either end were not changed
            p = _common_prefix(old, new, x0, x1, y0, y1)
            x0, y0 = x0 + p, y0 + p
            q = _common_suffix(old, new, x0, x1, y0, y1)
            out.append((x0, x1 - q, y0, y1 - q))
        i_prev, j_prev = i + n, j + n
    return _merge_touching(out)


def validate_edits(edits: Sequence[Edit], old_length: Optional[int] = None,
                   new_length: Optional[int] = None) -> None:
    """Raise ``ValueError`` unless ``edits`` is a well-formed edit list (see module notes)."""
    shift = 0
    prev_old = prev_new = 0
    for edit in edits:
        if len(edit) != 4:
            raise ValueError(f"an edit is (old_start, old_end, new_start, new_end), got {edit!r}")
        os_, oe, ns, ne = edit
        if not (0 <= os_ <= oe and 0 <= ns <= ne):
            raise ValueError(f"edit has a negative or reversed range: {edit!r}")
        if os_ < prev_old or ns < prev_new:
            raise ValueError(f"edits overlap or are out of order at {edit!r}")
        if ns - os_ != shift:
            raise ValueError(f"edit {edit!r} does not line up with the edits before it "
                             f"(expected new_start = old_start + {shift})")
        shift = ne - oe
        prev_old, prev_new = oe, ne
    if old_length is not None and new_length is not None and new_length - old_length != shift:
        raise ValueError(f"edits change the length by {shift}, not {new_length - old_length}")
    if old_length is not None and prev_old > old_length:
        raise ValueError("edits run past the end of the old text")
    if new_length is not None and prev_new > new_length:
        raise ValueError("edits run past the end of the new text")


# ---------------------------------------------------------------------------
# Mapping
# ---------------------------------------------------------------------------

def _old_start(edit: Edit) -> int:
    return edit[0]


def _old_end(edit: Edit) -> int:
    return edit[1]


def map_position(edits: Sequence[Edit], pos: int, *, side: str) -> int:
    """Where old-text position ``pos`` (a gap between characters) lies in the new text.

    Positions outside every edit move by the shift accumulated before them; the position
    just before an edit maps to its ``new_start`` and the one just after to its ``new_end``.
    ``side`` settles the ambiguous cases -- a pure insertion exactly at ``pos``, or ``pos``
    strictly inside a replaced or deleted stretch: ``"left"`` gives the edit's
    ``new_start`` (before the inserted text), ``"right"`` its ``new_end`` (after it).
    ``edits`` must be a valid edit list.
    """
    if side not in SIDES:
        raise ValueError(f"side must be 'left' or 'right', not {side!r}")
    if pos < 0:
        raise ValueError(f"position must not be negative, got {pos}")
    k = bisect_right(edits, pos, key=_old_start) - 1
    if k < 0:
        return pos
    os_, oe, ns, ne = edits[k]
    if pos > oe or (pos == oe and os_ < oe):
        return pos + ne - oe
    if pos == os_ and os_ < oe:
        return ns
    return ns if side == "left" else ne


def map_span(edits: Sequence[Edit], start: int, end: int, *, replacements_ok: bool = True) -> MappedSpan:
    """Map the old span ``[start, end)`` through ``edits``.

    An edit *touches* the span when its old range overlaps the span's interior
    (``old_start < end`` and ``old_end > start``); an insertion exactly at ``start`` or
    ``end`` does not touch it (the span's own characters are unchanged, and the inserted
    text stays outside the span).

    * ``"exact"`` -- no edit touches the span: ``new[m.start:m.end] == old[start:end]``.
    * Otherwise the span is stretched over the touching edits: the new start is the first
      touching edit's ``new_start`` if that edit reaches back to or before ``start`` (else
      ``start`` shifted), and likewise the new end. Then the span's characters are counted:
      those outside every edit *survive*; with ``replacements_ok`` (the default) so do
      characters of a replacement (non-empty new text) lying wholly inside the span -- so
      a span exactly covering a name that anonymisation replaced maps onto the pseudonym.
      If at least half the span's characters survive the status is ``"changed"``, else
      ``"lost"``. A span deleted outright collapses to the deletion point.
      Pass ``replacements_ok=False`` to count replaced text as lost (e.g. when free
      rewriting rather than substitution is expected).
    * An empty span (``start == end``) strictly inside an edit is ``"changed"`` and is
      stretched over the edit's new text; at an insertion point it moves after the
      inserted text, as the start of any span would.
    """
    if not 0 <= start <= end:
        raise ValueError(f"span needs 0 <= start <= end, got [{start}, {end})")
    i = bisect_right(edits, start, key=_old_end)   # first edit with old_end > start
    shift = edits[i - 1][3] - edits[i - 1][1] if i > 0 else 0
    j = i
    while j < len(edits) and edits[j][0] < end:
        j += 1
    if j == i:
        return MappedSpan(start + shift, end + shift, "exact")
    touching = edits[i:j]
    first, last = touching[0], touching[-1]
    new_start = first[2] if first[0] <= start else start + shift
    new_end = last[3] if last[1] >= end else end + last[3] - last[1]
    length = end - start
    if length == 0:
        return MappedSpan(new_start, max(new_start, new_end), "changed")
    surviving = length
    for os_, oe, ns, ne in touching:
        surviving -= min(oe, end) - max(os_, start)
        if replacements_ok and ne > ns and os_ < oe and start <= os_ and oe <= end:
            surviving += oe - os_
    status = "changed" if 2 * surviving >= length else "lost"
    return MappedSpan(new_start, max(new_start, new_end), status)


# ---------------------------------------------------------------------------
# Composition
# ---------------------------------------------------------------------------

def _equal_blocks(edits: Sequence[Edit]) -> Iterator[tuple[int, int, float]]:
    """Unchanged stretches ``(old_start, new_start, length)``; the last one never ends."""
    old_pos = new_pos = 0
    for os_, oe, ns, ne in edits:
        if os_ > old_pos:
            yield old_pos, new_pos, os_ - old_pos
        old_pos, new_pos = oe, ne
    yield old_pos, new_pos, math.inf


def compose(edits_a: Sequence[Edit], edits_b: Sequence[Edit]) -> list[Edit]:
    """One edit list equivalent to applying ``edits_a`` (old -> middle) then ``edits_b``
    (middle -> new). A character survives the composition when it survives both steps."""
    first = list(_equal_blocks(edits_a))
    second = list(_equal_blocks(edits_b))
    blocks = []
    i = j = 0
    while i < len(first) and j < len(second):
        a_old, a_mid, a_len = first[i]
        b_mid, b_new, b_len = second[j]
        lo, hi = max(a_mid, b_mid), min(a_mid + a_len, b_mid + b_len)
        if lo < hi:
            blocks.append((a_old + lo - a_mid, b_new + lo - b_mid, hi - lo))
        if hi == math.inf:
            break
        if a_mid + a_len <= b_mid + b_len:
            i += 1
        else:
            j += 1
    edits: list[Edit] = []
    old_pos = new_pos = 0
    for o, n, length in blocks:
        if o > old_pos or n > new_pos:
            edits.append((old_pos, o, new_pos, n))
        if length == math.inf:
            break
        old_pos, new_pos = o + length, n + length
    return _merge_touching(edits)
