"""Keyword rules: the patterns the built-in keyword coder looks for in text.

A codebook attaches a handful of rules to each code (see ``docs/codebook-format.md``).
:func:`match_rules` runs a set of rules over a text and returns the stretches they
cover as ``[start, end)`` offsets in Unicode code points, the same unit a ``Coding`` uses.

Four kinds of rule:

``word``
    One whole word, case-insensitive. ``inspector`` finds "Inspector" and the
    "inspector" in "inspector's" (an apostrophe ends a word), but not "inspectors" or
    "inspectorate". A trailing ``*`` makes it a prefix: ``inspector*`` finds all three.
    There is no other stemming or plural handling: what you write is what is found.
``phrase``
    Several words in order, separated in the text by any run of whitespace (spaces,
    tabs, line breaks), whole words at both ends. Any word may end in ``*``.
``regex``
    A Python regular expression, case-insensitive unless ``case_sensitive`` is set.
    Empty matches are ignored.
``near``
    Two or more words (each as in ``word``, ``*`` allowed) that all occur, in any order,
    no more than ``within`` words apart: adjacent words are 1 apart, so in "expert by
    experience" the two outer words are 2 apart. The span runs from the start of the
    first word to the end of the last.

"Case-insensitive" means the matched text and the rule's words are equal after
``str.casefold()`` (so a dotless Turkish "ı" is not an "i"). A word character is
whatever Python's ``\\w`` matches: letters, digits and the underscore.

Compiled patterns are built the first time a rule is used and cached.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable
from typing import Union

import attrs

from fieldkit.core.errors import InvalidInput

KINDS = ("word", "phrase", "regex", "near")
DEFAULT_WITHIN = 5

Match = tuple[int, int, "KeywordRule"]

_WORD_RE = re.compile(r"\w+")
_SPACE_RE = re.compile(r"\s+")


def _to_value(value):
    # A YAML or JSON list of words becomes a tuple so the rule stays hashable.
    if isinstance(value, list):
        return tuple(value)
    return value


@attrs.frozen
class KeywordRule:
    """One pattern for the keyword coder.

    ``kind`` is ``word``, ``phrase``, ``regex`` or ``near``; ``value`` is the text of the
    rule, or for ``near`` a tuple of two or more words; ``within`` is the largest distance
    in words allowed by a ``near`` rule (ignored by the others); ``case_sensitive`` turns
    off case folding. Invalid rules (including a regex that does not compile) raise
    ``ValueError`` with a one-line message.
    """

    kind: str
    value: Union[str, tuple[str, ...]] = attrs.field(converter=_to_value)
    within: int = DEFAULT_WITHIN
    case_sensitive: bool = False

    def __attrs_post_init__(self):
        problem = _problem(self)
        if problem:
            raise InvalidInput(problem)
        if self.kind == "regex":
            # Validate now (and fill the cache) so a bad pattern fails where it is written.
            _compiled(self)

    def describe(self) -> str:
        """A short human label such as ``near(expert, experience; within 5)``."""
        if self.kind == "near":
            return f"near({', '.join(self.value)}; within {self.within})"
        return f"{self.kind} {self.value!r}"


def _bad_token(token: str) -> str | None:
    """Why a single word of a word/phrase/near rule is unusable, or None."""
    if not token:
        return "is empty"
    if any(ch.isspace() for ch in token):
        return "contains whitespace (use a phrase rule for several words)"
    stem = token[:-1] if token.endswith("*") else token
    if not stem:
        return "is only a '*' wildcard"
    if "*" in stem:
        return "may only have '*' at its end"
    return None


def _problem(rule: KeywordRule) -> str | None:
    kind, value = rule.kind, rule.value
    if kind not in KINDS:
        return f"unknown keyword rule kind {kind!r} (expected one of: {', '.join(KINDS)})"
    if not isinstance(rule.case_sensitive, bool):
        return f"case_sensitive must be true or false, not {rule.case_sensitive!r}"
    if kind == "near":
        if isinstance(value, str) or not isinstance(value, tuple):
            return "a near rule needs a list of two or more words"
        if len(value) < 2:
            return "a near rule needs at least two words"
        for word in value:
            if not isinstance(word, str):
                return f"near word {word!r} must be text"
            bad = _bad_token(word)
            if bad:
                return f"near word {word!r} {bad}"
        folded = [w.casefold() for w in value]
        if len(set(folded)) != len(folded):
            return f"near rule repeats a word: {list(value)!r}"
        if isinstance(rule.within, bool) or not isinstance(rule.within, int) or rule.within < 1:
            return f"within must be a whole number of words, at least 1, not {rule.within!r}"
        return None
    if not isinstance(value, str):
        return f"a {kind} rule needs text, not {type(value).__name__} {value!r}"
    if rule.within != DEFAULT_WITHIN:
        return f"within only applies to near rules, not to a {kind} rule"
    if kind == "word":
        bad = _bad_token(value)
        return f"word {value!r} {bad}" if bad else None
    if kind == "phrase":
        tokens = value.split()
        if not tokens:
            return "phrase is empty"
        for token in tokens:
            bad = _bad_token(token)
            if bad:
                return f"phrase word {token!r} {bad}"
        return None
    # regex: compiled (and so checked) in __attrs_post_init__
    if not value:
        return "regex is empty"
    return None


# --- compiling -----------------------------------------------------------------------


def _token_regex(token: str) -> str:
    if token.endswith("*"):
        return re.escape(token[:-1]) + r"\w*"
    return re.escape(token)


def _token_ok(found: str, token: str) -> bool:
    """Does ``found`` equal ``token`` after case folding (a prefix for ``word*``)?"""
    if token.endswith("*"):
        return found.casefold().startswith(token[:-1].casefold())
    return found.casefold() == token.casefold()


@attrs.frozen
class _Compiled:
    patterns: tuple[re.Pattern, ...]
    tokens: tuple[tuple[str, ...], ...]  # the words each pattern must equal when folded


@functools.lru_cache(maxsize=4096)
def _compiled(rule: KeywordRule) -> _Compiled:
    flags = 0 if rule.case_sensitive else re.IGNORECASE
    if rule.kind == "regex":
        try:
            pattern = re.compile(rule.value, flags)
        except re.error as exc:
            raise InvalidInput(f"invalid regex {rule.value!r}: {exc}") from None
        return _Compiled((pattern,), ((),))
    if rule.kind == "near":
        groups = tuple((word,) for word in rule.value)
    else:
        groups = (tuple(rule.value.split()),)
    patterns = tuple(
        re.compile(r"(?<!\w)" + r"\s+".join(_token_regex(t) for t in tokens) + r"(?!\w)", flags)
        for tokens in groups
    )
    return _Compiled(patterns, groups)


def _matches(pattern: re.Pattern, text: str, overlapping: bool):
    if not overlapping:
        yield from pattern.finditer(text)
        return
    # Restart just after each match's start, so "very very" is found twice in
    # "very very very" and the merged span covers all three words.
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        yield m
        pos = m.start() + 1


def _find(pattern: re.Pattern, tokens: tuple[str, ...], text: str, fold_check: bool):
    for m in _matches(pattern, text, overlapping=bool(tokens)):
        start, end = m.span()
        if start == end:
            continue
        if fold_check and tokens:
            found = _SPACE_RE.split(m.group())
            if len(found) != len(tokens) or not all(map(_token_ok, found, tokens)):
                continue
        yield start, end


# --- matching ------------------------------------------------------------------------


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _near_spans(rule: KeywordRule, compiled: _Compiled, text: str) -> list[tuple[int, int]]:
    fold = not rule.case_sensitive
    hits: list[tuple[int, int, int]] = []  # (start, end, which word)
    for label, (pattern, tokens) in enumerate(zip(compiled.patterns, compiled.tokens)):
        found = list(_find(pattern, tokens, text, fold))
        if not found:
            return []  # one word never occurs: nothing can be near it
        hits.extend((s, e, label) for s, e in found)
    hits.sort()
    word_starts = [m.start() for m in _WORD_RE.finditer(text)]
    positions = [max(bisect.bisect_right(word_starts, s) - 1, 0) for s, _, _ in hits]

    # Smallest window of hits ending at each hit that holds every word at least once.
    need = len(compiled.patterns)
    counts = [0] * need
    present = 0
    left = 0
    spans = []
    for right, (_, _, label) in enumerate(hits):
        if counts[label] == 0:
            present += 1
        counts[label] += 1
        while counts[hits[left][2]] > 1:
            counts[hits[left][2]] -= 1
            left += 1
        if present == need and positions[right] - positions[left] <= rule.within:
            window = hits[left : right + 1]
            spans.append((window[0][0], max(e for _, e, _ in window)))
    return spans


def rule_spans(text: str, rule: KeywordRule) -> list[tuple[int, int]]:
    """The merged ``[start, end)`` spans one rule finds in ``text``, in order."""
    compiled = _compiled(rule)
    if rule.kind == "near":
        return _merge(_near_spans(rule, compiled, text))
    fold = rule.kind != "regex" and not rule.case_sensitive
    return _merge(list(_find(compiled.patterns[0], compiled.tokens[0], text, fold)))


def match_rules(
    text: str, rules: Iterable[KeywordRule] | KeywordRule, *, merge: bool = True
) -> list[Match]:
    """Find where ``rules`` match ``text``: a sorted list of ``(start, end, rule)``.

    Offsets are code points, ``start < end``. Overlapping spans found by one rule are
    always joined. With ``merge`` (the default) the rules are treated as one set, as for
    a single code: overlapping spans from different rules are joined too, and the joined
    span names the rule whose span starts first (on a tie, the longer span, then the
    earlier rule). With ``merge=False`` each rule's spans are listed separately.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    if isinstance(rules, KeywordRule):
        rules = (rules,)
    found: list[tuple[int, int, int, KeywordRule]] = []
    for order, rule in enumerate(rules):
        if not isinstance(rule, KeywordRule):
            raise TypeError(f"expected KeywordRule, not {type(rule).__name__}")
        found.extend((start, end, order, rule) for start, end in rule_spans(text, rule))
    if not merge:
        found.sort(key=lambda f: (f[0], f[1], f[2]))
        return [(start, end, rule) for start, end, _, rule in found]
    found.sort(key=lambda f: (f[0], -f[1], f[2]))
    result: list[Match] = []
    for start, end, _, rule in found:
        if result and start < result[-1][1]:
            last_start, last_end, last_rule = result[-1]
            if end > last_end:
                result[-1] = (last_start, end, last_rule)
        else:
            result.append((start, end, rule))
    return result
