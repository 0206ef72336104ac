"""Names registered in the key store: where they occur in a text, and who they belong to.

This is core privacy code, called directly by the anonymiser, capture and withdrawal (never
looked up as a plugin, so it cannot be missing). :func:`find_names` takes ``people``
(``fieldkit.privacy.keystore.Person`` records, or any objects with ``.pseudonym`` and
``.names``; ``names[0]`` is the full name, the rest aliases) and reports each mention as a
``Span(kind="name", directness="direct", hint=<pseudonym>, detector="names")``.
:func:`find_people` adds people nobody registered (``fieldkit.privacy.unregistered``) and
the namesake rules below.

What is matched, case-insensitively and as whole words only:

* every full name and alias as written, with any run of whitespace between its words
  (``Dana  Okafor``, ``Dana\\nOkafor``);
* parts of a name on their own: first name, middle names, surname, both halves of a
  hyphenated surname, and a surname with its particle (``Ní Bhriain``). Lone particles
  (``de``, ``van``, ``Ní`` …) and single letters are not used on their own. For aliases of
  several words (``Big Dave``) a part that is a common English word (``Big``) is not used
  on its own, but the whole alias and its other parts are;
* first name + surname without the middle names, and initials + surname: ``D. Okafor``,
  ``D Okafor``, ``D.Okafor``, ``D. J. Okafor``, ``DJ Okafor``. Bare initials are not matched;
* spellings without accents or special letters (``Jose`` for ``José``, ``Zoe`` for
  ``Zoë``, ``Yilmaz`` for ``Yılmaz``, ``Soren`` for ``Søren``), text in decomposed form
  (NFD), and ``ss`` for ``ß``.

A word boundary is any character that is not a letter or a combining mark, so possessives
(``Dana's``, ``Dana’s``, ``James'``), e-mail addresses (``dana.okafor85@…``) and names glued
to digits, underscores or emoji are found, while ``Dana`` inside ``Danal`` is not. A
combining mark belongs to the character before it: ``Dana`` followed by U+0301 is another
word (as ``Daná`` would be), and a name after ``e`` + U+0301 is glued to that letter, but a
mark after an emoji or a digit, and emoji variation selectors, do not join words. The span covers
the name only; a possessive ``'s`` stays in the text after the replacement.

Where one matched piece of text belongs to more than one registered person (two people
called Sam), it is still reported (it identifies someone) but its hint is the neutral
``AMBIGUOUS_HINT`` (``NAME``, shown as ``[NAME]`` by the pseudonym style) rather than a
pseudonym that may be the wrong one, and its detector is ``names.namesake`` so that review
lists it. A longer match wins over a shorter one, so ``Sam Patel`` still gets its own
pseudonym.

An alias of one letter (``J``) is matched as a whole word in capitals only, and not when a
full stop follows it (``J. Okafor`` is an initial, matched as such); ``I`` and ``A`` are
refused when registered (:func:`alias_problem`), because they are everyday words.

How it stays fast: one Aho-Corasick automaton (``pyahocorasick``) over all name forms finds
every occurrence in one pass over the text, whatever the number of names; whole-word and
leftmost-longest filtering follow. The automaton is built on first use for a given set of
people and cached (never at import time).

Positions are Unicode code points of the *original* text. The text is folded for matching
with a length-preserving fold: ``str.lower`` where that maps a character to exactly one
character (``İ`` becomes ``i``; other expansions such as ``ß`` -> ``ss`` never happen in
the text, the expanded spelling is added to the patterns instead), plus the one-character
case-fold extras (final sigma, long s …), curly apostrophes to ``'`` and all whitespace to
a space. Runs of spaces are collapsed with a small offset table to map positions back.
"""

from __future__ import annotations

import bisect
import re
import threading
import unicodedata

import functools
from pathlib import Path
from typing import Any, Iterable, Optional, TYPE_CHECKING

from fieldkit.privacy.spans import Span

if TYPE_CHECKING:
    from fieldkit.privacy.keystore import Person
    from fieldkit.privacy.unregistered import Knowledge

#: the hint for a piece of text that belongs to more than one registered person
AMBIGUOUS_HINT = "NAME"

#: how much a matched form says about who is meant: a whole name (``Dana Okafor``, ``D. Okafor``,
#: an alias of several words), a part of the full name alone (``Dana``, ``Okafor``), or a
#: one-word alias (``Becks``), which anyone may be called
WHOLE, PART, ALIAS_WORD = 0, 1, 2

#: the detector name registered-name spans carry
DETECTOR = "names"
#: the detector name of a span whose owner is uncertain (a shared part, a namesake): review it
NAMESAKE = "names.namesake"

#: name particles never matched on their own (they still count inside longer forms)
PARTICLES = frozenset(
    "a al ap bat bin bint da dal das de degli dei del della den der di do dos du el ibn la las le "
    "les lo mac mc mhic ní nic o ó op san santa st ste te ten ter ua uí van ven von y zu".split()
)

# characters whose one-character case fold differs from lower(); mapped after lower()
_FOLD_EXTRA = {c: c.casefold() for c in "\u00b5\u017f\u0345\u03c2\u03d0\u03d1\u03d5\u03d6\u03f0\u03f1\u03f5"
               "\u1c80\u1c81\u1c82\u1c83\u1c84\u1c85\u1c86\u1c87\u1c88\u1e9b\u1fbe"}
_FOLD_EXTRA.update({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2010": "-", "\u2011": "-"})
_FOLD_EXTRA_RE = re.compile("[" + re.escape("".join(_FOLD_EXTRA)) + "]")
_OTHER_SPACE_RE = re.compile(r"[^\S ]")
_SPACE_RUN_RE = re.compile(r" {2,}")


# --------------------------------------------------------------------------- folding


def _fold_char(c: str) -> str:
    low = c.lower()
    if len(low) == 1:
        return low
    return "i" if c == "\u0130" else c


def fold(text: str) -> str:
    """Lower-case ``text`` without changing its length (one output character per input one)."""
    low = text.lower()
    if len(low) != len(text):
        low = "".join(map(_fold_char, text))
    found = set(_FOLD_EXTRA_RE.findall(low))
    for ch in found:
        low = low.replace(ch, _FOLD_EXTRA[ch])
    if _OTHER_SPACE_RE.search(low):
        low = _OTHER_SPACE_RE.sub(" ", low)
    return low


def _fold_collapsed(text: str):
    """Fold ``text`` and collapse runs of spaces; returns (folded, breakpoints, deltas).

    A position ``c`` in the folded text is ``c + deltas[i]`` in ``text``, where ``i`` is the
    last breakpoint ``<= c`` (no breakpoint before it means no shift).
    """
    low = fold(text)
    if "  " not in low:
        return low, [], []
    pieces = []
    breakpoints = []
    deltas = []
    removed = 0
    last = 0
    for m in _SPACE_RUN_RE.finditer(low):
        a, b = m.span()
        pieces.append(low[last:a + 1])
        breakpoints.append(a - removed + 1)
        removed += b - a - 1
        deltas.append(removed)
        last = b
    pieces.append(low[last:])
    return "".join(pieces), breakpoints, deltas


def _is_variation_selector(c: str) -> bool:
    o = ord(c)
    return 0xFE00 <= o <= 0xFE0F or 0xE0100 <= o <= 0xE01EF


def _is_mark(c: str) -> bool:
    return c > "\x7f" and unicodedata.category(c)[0] == "M" and not _is_variation_selector(c)


def _continues_word_after(c: str) -> bool:
    """Whether ``c``, right after a match, makes the match part of a longer word."""
    return c.isalpha() or _is_mark(c)


def _word_before(folded: str, start: int) -> bool:
    """Whether the match at ``start`` is glued to a word on its left.

    A combining mark belongs to the character it follows, so marks are skipped and their
    base decides: ``e\u0301Dana`` is one word, an emoji or a digit followed by marks is not.
    """
    i = start - 1
    c = folded[i]
    if c.isalpha():
        return True
    if not _is_mark(c):
        return False
    while i >= 0 and _is_mark(folded[i]):
        i -= 1
    return i >= 0 and folded[i].isalpha()


# --------------------------------------------------------------------------- name forms


_PLAIN_LETTERS = str.maketrans({
    "ı": "i", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D",
    "þ": "th", "Þ": "Th", "æ": "ae", "Æ": "Ae", "œ": "oe", "Œ": "Oe", "ß": "ss", "ħ": "h", "Ħ": "H",
})


def _strip_accents(text: str) -> str:
    """``José`` -> ``Jose``, ``Yılmaz`` -> ``Yilmaz``, ``Søren`` -> ``Soren`` (for extra patterns)."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare).translate(_PLAIN_LETTERS)


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def name_forms(names: Iterable[str], common: frozenset = frozenset()) -> set:
    """The written forms (not yet folded) under which a person with these ``names`` is matched.

    ``common`` is a set of case-folded common words: for aliases of several words, a part
    that is one of them is not used on its own.
    """
    forms = set()
    for index, raw in enumerate(names):
        name = " ".join(unicodedata.normalize("NFC", str(raw)).split())
        if not name:
            continue
        forms.add(name)
        parts = name.split(" ")
        if len(parts) < 2:
            continue
        # parts on their own (and halves of hyphenated parts)
        for part in parts:
            pieces = [part] + ([p for p in part.split("-") if p] if "-" in part else [])
            for piece in pieces:
                key = piece.strip(".").casefold()
                if _letters(piece) < 2 or key in PARTICLES:
                    continue
                if index > 0 and key in common:
                    continue
                forms.add(piece.strip("."))
        given = parts[0]
        initial = next((ch for ch in given if ch.isalpha()), "")
        for i in range(1, len(parts)):
            tail = " ".join(parts[i:])
            if len(parts) - i > 1:
                forms.add(tail)  # a surname with its particle or several surnames
            forms.add(f"{given} {tail}")  # without the middle names
            if initial:
                forms.update({f"{initial}. {tail}", f"{initial} {tail}", f"{initial}.{tail}"})
            initials = [next((ch for ch in p if ch.isalpha()), "") for p in parts[:i]]
            initials = [x for x in initials if x]
            if len(initials) > 1:
                forms.update({
                    " ".join(x + "." for x in initials) + " " + tail,
                    "".join(x + "." for x in initials) + " " + tail,
                    "".join(initials) + " " + tail,
                })
    # drop forms that are only initials and dots (never match bare initials)
    return {f for f in forms if _letters(f.replace(".", "")) >= 2 and not _only_initials(f)}


def _only_initials(form: str) -> bool:
    words = form.replace(".", ". ").split()
    return all(_letters(w) <= 1 for w in words)


def _pattern_variants(form: str) -> set:
    """Folded patterns for one written form: as written, case-folded (ß -> ss), NFD, unaccented."""
    out = set()
    variants = {form, form.casefold(), unicodedata.normalize("NFD", form), _strip_accents(form),
                _strip_accents(form.casefold())}
    for variant in variants:
        folded = " ".join(fold(variant).split())
        if folded:
            out.add(folded)
    return out


# --------------------------------------------------------------------------- the matcher


class NameMatcher:
    """An Aho-Corasick automaton over every form of every registered name.

    Each pattern remembers its owner (or ``AMBIGUOUS_HINT`` when several people share it) and
    its level (``WHOLE``, ``PART``: a first name or surname on its own, ``ALIAS_WORD``: a
    one-word alias), which :func:`find_people` needs for the namesake and evidence rules. One-letter aliases are kept apart and
    matched by a case-sensitive regular expression (see the module docstring).
    """

    def __init__(self, people):
        import ahocorasick

        common = common_words()
        owners: dict = {}
        parts: dict = {}
        letters: dict = {}
        self.tokens: dict = {}
        for person in people:
            pseudonym = str(person.pseudonym)
            names = tuple(person.names)
            # a one-word alias (a nickname) is as weak as a part: anyone may be called it
            lone = {index for index, n in enumerate(names) if index and len(str(n).split()) == 1}
            whole = set().union(*(_pattern_variants(n) for i, n in enumerate(names) if i not in lone))
            nickname = set().union(*(_pattern_variants(n) for i, n in enumerate(names) if i in lone))
            for index, raw in enumerate(names):
                alias = " ".join(str(raw).split())
                if index and len(alias) == 1 and alias.isalpha() and alias_problem(alias) is None:
                    letters.setdefault(alias.upper(), set()).add(pseudonym)
            for token in {t for n in names for w in fold(n).split() for t in (w, *w.split("-"))}:
                self.tokens.setdefault(token.strip("."), set()).add(pseudonym)
            for form in name_forms(names, common):
                for pattern in _pattern_variants(form):
                    owners.setdefault(pattern, set()).add(pseudonym)
                    if pattern in whole or " " in pattern:
                        level = WHOLE
                    else:
                        level = ALIAS_WORD if pattern in nickname else PART
                    parts[pattern] = min(parts.get(pattern, ALIAS_WORD), level)
        self.patterns = len(owners)
        self._automaton = None
        if owners:
            automaton = ahocorasick.Automaton()
            for pattern, who in owners.items():
                hint = next(iter(who)) if len(who) == 1 else AMBIGUOUS_HINT
                automaton.add_word(pattern, (len(pattern), hint, parts[pattern]))
            automaton.make_automaton()
            self._automaton = automaton
        self._letters = None
        if letters:
            self._letters = (re.compile(r"(?<![^\W_])(" + "|".join(sorted(letters)) + r")(?![^\W_]|\.)"),
                             {k: (next(iter(v)) if len(v) == 1 else AMBIGUOUS_HINT) for k, v in letters.items()})

    def find(self, text: str) -> list:
        """``[(start, end, hint, level), …]`` in code points of ``text``, sorted, not overlapping;
        ``level`` is ``WHOLE``, ``PART`` or ``ALIAS_WORD`` (``PART`` and ``ALIAS_WORD`` are true)."""
        if (self._automaton is None and self._letters is None) or not text:
            return []
        found = self._find_forms(text) if self._automaton is not None else []
        if self._letters is not None:
            regex, hints = self._letters
            found += [(m.start(), m.end(), hints[m.group()], ALIAS_WORD) for m in regex.finditer(text)]
        if not found:
            return []
        found.sort(key=lambda m: (m[0], -m[1]))
        chosen = []
        last_end = -1
        for match in found:
            if match[0] >= last_end:
                chosen.append(match)
                last_end = match[1]
        return chosen

    def _find_forms(self, text: str) -> list:
        folded, breakpoints, deltas = _fold_collapsed(text)
        n = len(folded)
        word_before = _word_before
        is_mark = _is_mark
        found = []
        for end, (length, hint, is_part) in self._automaton.iter(folded):
            start = end - length + 1
            if start > 0:
                c = folded[start - 1]
                if c.isalpha() or (c > "\x7f" and word_before(folded, start)):
                    continue
            if end + 1 < n:
                c = folded[end + 1]
                if c.isalpha() or (c > "\x7f" and is_mark(c)):
                    continue
            found.append((start, end + 1, hint, is_part))
        if breakpoints and found:
            def to_text(c):
                i = bisect.bisect_right(breakpoints, c) - 1
                return c + (deltas[i] if i >= 0 else 0)

            found = [(to_text(s), to_text(e - 1) + 1, h, p) for s, e, h, p in found]
        return found


_cache: dict = {}
_cache_lock = threading.Lock()
_last: tuple = (None, None)
_CACHE_SIZE = 8


def matcher_for(people: tuple[Person, ...]) -> NameMatcher:
    """The cached matcher for this set of people (built on first use)."""
    global _last
    last_people, last_matcher = _last
    if people is last_people and last_matcher is not None:
        return last_matcher
    key = tuple((str(p.pseudonym), tuple(p.names)) for p in people)
    matcher = _cache.get(key)
    if matcher is None:
        matcher = NameMatcher(people)
        with _cache_lock:
            while len(_cache) >= _CACHE_SIZE:
                _cache.pop(next(iter(_cache)))
            _cache[key] = matcher
    if isinstance(people, tuple):
        _last = (people, matcher)
    return matcher


def clear_cache() -> None:
    """Forget cached matchers (tests; or after the key store changed in place)."""
    global _last
    with _cache_lock:
        _cache.clear()
        _last = (None, None)


def find_names(text: str, people: tuple[Person, ...]) -> list[Span]:
    """Spans for every registered name or alias of ``people`` in ``text``.

    A piece of text shared by several people gets ``AMBIGUOUS_HINT`` and detector
    ``names.namesake``; every other span has the owner's pseudonym and detector ``names``.
    """
    people = tuple(people or ())
    if not people or not text:
        return []
    return [
        Span(start, end, "name", "direct", hint, NAMESAKE if hint == AMBIGUOUS_HINT else DETECTOR)
        for start, end, hint, _part in matcher_for(people).find(text)
    ]


def find_people(text: str, people: tuple[Person, ...], *, unregistered: bool = True,
                knowledge: Optional[Knowledge] = None, evidence: Optional[Iterable[str]] = None) -> list[Span]:
    """Every person's name in ``text``: registered ones (:func:`find_names`) and, with
    ``unregistered``, names nobody registered (``fieldkit.privacy.unregistered``), with the
    namesake rules applied:

    * a registered first name, surname or one-word alias on its own, right next to a
      capitalised name-like word that is not part of that person's name (``Jane Okafor`` when
      only Dana Okafor is registered; ``Kyle Tranter`` when Joanne and Ruby Tranter are), is
      another person: the two words become one unregistered name (kind ``person``, detector
      ``names.namesake``), never a registered pseudonym;
    * a registered first name or surname on its own that is also part of an unregistered
      full name in the same text (``Jane Okafor … Okafor said``), or anywhere in the project
      (``knowledge``, from ``fieldkit.privacy.unregistered.learn``: ``Sarah`` once ``Sarah
      Walker`` is written anywhere beside a registered Sarah Thompson), gets the neutral
      ``AMBIGUOUS_HINT`` and detector ``names.namesake``;
    * with ``evidence`` (the pseudonyms the record itself names: its mentions, links and
      encounter; an empty set for none), a one-word alias (``Becks``) is attributed only to a
      person the text otherwise names (their full name, an ``@P03`` mention) or ``evidence``
      lists; otherwise it too is neutral (anyone may be called ``Becks``). Without
      ``evidence`` (``None``, as capture does) every alias gets its pseudonym.

    A title just before a name (``Mr``, ``Dr``, ``PC`` …) is part of its span. The result is
    sorted and not overlapping.
    """
    from fieldkit.privacy import unregistered as unreg

    people = tuple(people or ())
    matcher = matcher_for(people) if people else None
    registered, parts = [], []
    if matcher is not None and text:
        found = matcher.find(text)
        attributed = None if evidence is None else _attributed(text, found, evidence)
        for start, end, hint, is_part in found:
            if attributed is not None and is_part == ALIAS_WORD and hint not in attributed:
                hint = AMBIGUOUS_HINT  # a nickname nothing else ties to its registered owner
            span = Span(start, end, "name", "direct", hint, NAMESAKE if hint == AMBIGUOUS_HINT else DETECTOR)
            if is_part:
                joined = unreg.namesake_neighbour(text, start, end, matcher.tokens, hint)
                if joined is not None:
                    span = joined
                elif hint != AMBIGUOUS_HINT:
                    parts.append(len(registered))
            registered.append(unreg.with_title(text, span))
    if not text:
        return registered
    if not unregistered:
        from fieldkit.privacy.detection import merge_spans

        return merge_spans(registered, [NAMESAKE, DETECTOR])
    return unreg.combine(text, registered, matcher.tokens if matcher is not None else {}, parts, knowledge)


_MENTION = re.compile(r"(?<![\w@])@([A-Za-z][\w-]*)")


def _attributed(text: str, found: list, evidence: Iterable[str]) -> set:
    """The pseudonyms a text ties to a person beyond a nickname: ``evidence``, any person
    named by a whole name in ``text`` (``found``, from :meth:`NameMatcher.find`), and any
    ``@P03`` mention in it."""
    out = {str(e) for e in evidence}
    out.update(hint for _s, _e, hint, level in found if level == WHOLE and hint != AMBIGUOUS_HINT)
    if "@" in text:
        out.update(m.group(1) for m in _MENTION.finditer(text))
        out.update(m.group(1).upper() for m in _MENTION.finditer(text))
    return out


# --------------------------------------------------------------------------- registering


@functools.lru_cache(maxsize=1)
def common_words() -> frozenset:
    """Lower-case everyday English words that are also used as names (shipped word list)."""
    path = Path(__file__).parent / "data" / "common_words.txt"
    words = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.add(line.casefold())
    return frozenset(words)


#: one-letter aliases that are everyday words and so cannot be matched as a name
REFUSED_LETTERS = frozenset("IA")


def alias_problem(alias: str) -> Optional[str]:
    """Why ``alias`` cannot be registered, or ``None``: a one-letter alias that is an everyday
    word (``I``, ``A``) or not a letter at all would be replaced all over the notes."""
    bare = alias.strip()
    if len(bare) == 1:
        if not bare.isalpha():
            return f"alias {alias!r} is not a letter"
        if bare.upper() in REFUSED_LETTERS:
            return (f"alias {alias!r} is the everyday word {bare.upper()!r}; it cannot be told from "
                    "the word, so it is not registered (register a longer form instead)")
    return None


def name_warnings(person: Person, only: Optional[Iterable[str]] = None) -> list[str]:
    """Warnings about names that will also match ordinary words.

    Warned: an alias of one or two letters; an alias that is a common English word
    (``Rose``, ``Will``, ``Mark``); a part of the full name that is a common word (first
    names and surnames are matched on their own). These are warnings, not errors: the name
    is still registered and still replaced wherever it appears as a whole word, in any case
    (a one-letter alias: in capitals only). ``only`` limits the check to some of the names.
    """
    words = common_words()
    wanted = None if only is None else {n.casefold() for n in only}
    warnings = []
    for index, name in enumerate(tuple(person.names)):
        if wanted is not None and name.casefold() not in wanted:
            continue
        if index == 0:
            for part in name.split():
                bare = part.strip(".").casefold()
                if bare in words:
                    warnings.append(
                        f"{person.pseudonym}: {part!r} in the name {name!r} is a common English word; "
                        f"'{bare}' will be replaced wherever it appears as a whole word"
                    )
            continue
        letters = sum(ch.isalpha() for ch in name)
        if letters == 1:
            warnings.append(
                f"{person.pseudonym}: alias {name!r} is one letter; it will be replaced wherever it "
                "stands alone in capitals (not before a full stop, which reads as an initial)"
            )
        elif letters == 2:
            warnings.append(
                f"{person.pseudonym}: alias {name!r} is only 2 letters long; "
                "it will be replaced wherever it appears as a whole word"
            )
        elif name.casefold() in words:
            warnings.append(
                f"{person.pseudonym}: alias {name!r} is a common English word; "
                f"'{name.casefold()}' will be replaced wherever it appears as a whole word, in any case"
            )
    return warnings


def warn_common_aliases(store: Any) -> list[str]:
    """Warnings for every entry of a key store (or any iterable of people); see :func:`name_warnings`."""
    people = store.people() if hasattr(store, "people") and callable(store.people) else tuple(store)
    out = []
    for person in people:
        out.extend(name_warnings(person))
    return out


def warn_unusable_aliases(people: Iterable[Person]) -> list[str]:
    """Warnings for aliases registered before :func:`alias_problem` refused them: they are
    not matched, so the anonymiser says so on every run instead of staying silent."""
    out = []
    for person in people:
        for alias in tuple(person.names)[1:]:
            problem = alias_problem(alias)
            if problem:
                out.append(f"{person.pseudonym}: {problem}; it is NOT replaced anywhere: remove it from the "
                           "key store and register a longer form")
    return out
