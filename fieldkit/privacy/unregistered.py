"""People nobody registered: finding person names that are not in the key store.

A fallback for the key store, never a substitute: it works offline from word lists shipped
in ``fieldkit/privacy/data`` (first names, surnames, an English dictionary and fieldwork
vocabulary; provenance and licences in that folder's ``README.md``) and simple rules about
capitals, titles and neighbouring words. Spans it reports have kind ``person``, directness
``direct``, detector ``names.unregistered`` and a ``key`` (the name's normalised form) so
that the same name gets the same numbered placeholder (``[PERSON-3]``) in every record.

What counts as a name, word by word (``classify``):

* a **title** (``Mr``, ``Mrs``, ``Ms``, ``Dr``, ``PC`` …) makes the capitalised words after
  it a name, whatever they are (``Mr Green``);
* a **strong first name** is on the first-name list and is not an English word or other
  proper noun (``Darren``, ``Siobhan``): a name on its own, in any case (``darren``,
  ``DARREN``) and at the start of a sentence;
* a **weak first name** is also a word (``Will``, ``Grace``, ``Florence``): a name only
  when a surname-like capitalised word follows (``Grace Mensah``);
* a **surname-like** word is capitalised and either on the surname list and not an English
  word, or on no list at all (an invented or rare name): two of them together are a name
  (``Tobiah Quennell``); one alone is a name only before a verb of speech or action (``Quennell
  said``) or after a verb that takes a person (``asked Quennell``), or when it is part of a
  name found elsewhere in the same text;
* fieldwork vocabulary (``Probation``, ``Officer``, ``Premises``, ``PDU``), days, months and
  dictionary words are never names on their own, and break a run of capitalised words.

The same rules suggest names for ``fieldkit keys check`` (:func:`suggestions`).
"""

from __future__ import annotations

import functools
import gzip
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Iterable, Optional

from fieldkit.privacy.spans import Span

__all__ = ["DETECTOR", "KIND", "Lexicon", "classify", "combine", "find_unregistered", "lexicon",
           "name_key", "namesake_neighbour", "suggestions"]

#: the detector name and kind of an unregistered name
DETECTOR = "names.unregistered"
KIND = "person"
NAMESAKE = "names.namesake"
AMBIGUOUS_HINT = "NAME"

_DATA = Path(__file__).parent / "data"

TITLES = frozenset("""
mr mrs ms miss mx dr prof professor sir dame lady lord rev revd reverend fr cllr
pc dc ds di dci dsi sgt insp supt judge hhj
""".split())

#: verbs after which a lone capitalised word is taken as a person (``Quennell said``)
AFTER_VERBS = frozenset("""
said says told tells asked asks explained explains replied replies added adds mentioned
described describes admitted admits agreed agrees disagreed stated states noted notes reported
suggested suggests laughed laughs smiled smiles nodded nods shrugged shrugs sighed cried
arrived arrives left leaves joined joins rang phoned texted emailed wrote writes spoke speaks
talked talks felt feels thinks thought wants wanted needs needed seemed seems looked looks
interrupted interrupts answered answers insisted insists complained complains recalled recalls
disclosed discloses confirmed confirms denied denies refused refuses attended attends missed
misses walked walks sat sits stood stands came comes went goes
""".split())

#: verbs before which a lone capitalised word is taken as a person (``asked Quennell``)
BEFORE_VERBS = frozenset("""
met meet meets asked ask asks told tell tells thanked thank thanks rang phoned emailed texted
interviewed interview supervised supervise introduced greeted reassured warned reminded
""".split())

#: words that make a capitalised neighbour a place, not a surname (``Eastmere Park``)
PLACE_WORDS = frozenset("""
park hill green lane street road way field fields wood woods bridge gate house hall court close
place square grove common heath marsh moor vale bank brook ford cross row mill mills farm
gardens terrace drive avenue crescent walk rise view mount town city estate centre center
station market church chapel abbey castle tower towers wharf quay dock side end gardens
""".split())

#: first names that are better known as places in England and Wales: names only beside a surname
PLACE_FIRST_NAMES = frozenset("""
chelsea devon kent lincoln preston chester jordan india georgia victoria florence paris sydney
austin houston dallas phoenix brooklyn israel carolina virginia york derby stafford bradford
clifford ashford milton camden barry percy trent dover bristol warwick douglas shannon
""".split())

_TOKEN = re.compile(r"[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*")
_CAP = re.compile(
    r"(?<![^\W\d_])(?:[A-Z\u00C0-\u00D6\u00D8-\u00DE\u0100-\u024F])[^\W\d_]*(?:['\u2019\-][^\W\d_]+)*"
)
_LOWER = re.compile(r"(?<![^\W_])[a-z]{3,}(?![^\W_])")
_POSSESSIVE = re.compile(r"['\u2019](?:s)?\Z", re.IGNORECASE)
_SENTENCE_END = ".!?:;\"\u201c\u2018(*\u2022>#|"
_SPACE = " \t\u00a0"

# word classes
TITLE, STOP, FIRST, WEAK_FIRST, SURNAME, WEAK_SURNAME, UNKNOWN, WORD, INITIAL = (
    "title", "stop", "first", "weak_first", "surname", "weak_surname", "unknown", "word", "initial")


def _read_words(name: str) -> frozenset:
    path = _DATA / name
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return frozenset(w for w in (line.strip() for line in fh) if w and not w.startswith("#"))


class Lexicon:
    """The shipped word lists, loaded once (see ``fieldkit/privacy/data/README.md``)."""

    def __init__(self):
        self.first = _read_words("first_names.txt")
        self.surnames = _read_words("surnames.txt")
        self.words = _read_words("english_words.txt.gz")
        self.proper = _read_words("proper_nouns.txt.gz")
        self.fieldwork = _read_words("fieldwork_words.txt")
        #: first names that are never an everyday word or a well-known place: found in any case
        self.strong_first = frozenset(n for n in self.first if n not in self.words and n not in self.fieldwork
                                      and n not in PLACE_FIRST_NAMES and len(n) > 2)
        self.strong_surnames = frozenset(n for n in self.surnames if n not in self.words and n not in self.proper
                                         and n not in self.fieldwork)
        self._classes: dict = {}

    def classify(self, word: str) -> str:
        """The class of a capitalised word (possessive already removed), cached."""
        found = self._classes.get(word)
        if found is None:
            found = self._classify(word)
            if len(self._classes) < 200_000:
                self._classes[word] = found
        return found

    def _classify(self, word: str) -> str:
        low = unicodedata.normalize("NFC", word).casefold().replace("\u2019", "'")
        if low.rstrip(".") in TITLES and (len(low) > 2 or word[:1].isupper()):
            return TITLE
        if low in self.fieldwork or len(low) < 2:
            return STOP
        if "-" in low:  # a double-barrelled name is as strong as its strongest half
            classes = {self._classify(part) for part in word.split("-") if part}
            for cls in (FIRST, SURNAME, UNKNOWN, WEAK_FIRST, WEAK_SURNAME):
                if cls in classes:
                    return cls
            return WORD
        if low in self.strong_first:
            return FIRST
        if low in self.first:
            return WEAK_FIRST
        if low in self.strong_surnames:
            return SURNAME
        if low in self.surnames:
            return WEAK_SURNAME
        if low in self.words or low in self.proper:
            return WORD
        bare = _strip_accents(low)
        if bare != low:
            return self._classify(bare.capitalize())
        if "'" in low:  # O'Neill, D'Souza: the part after the apostrophe decides
            tail = low.rsplit("'", 1)[1]
            return UNKNOWN if tail not in self.words else WORD
        return UNKNOWN


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


@functools.lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The shared :class:`Lexicon` (loaded on first use, never at import)."""
    return Lexicon()


def classify(word: str) -> str:
    """The class of ``word`` (see the module docstring): title, stop, first, weak_first,
    surname, weak_surname, unknown or word."""
    return lexicon().classify(_POSSESSIVE.sub("", word) or word)


def name_key(text: str) -> str:
    """The normalised form that decides which placeholder a name gets: NFC, case-folded,
    straight apostrophes, possessive and title dropped, single spaces."""
    words = [_POSSESSIVE.sub("", w) for w in _TOKEN.findall(unicodedata.normalize("NFC", text))]
    while len(words) > 1 and words[0].casefold().rstrip(".") in TITLES:
        words = words[1:]
    return " ".join(w.casefold().replace("\u2019", "'") for w in words if w)


def _at_sentence_start(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and text[i] in _SPACE:
        i -= 1
    if i < 0 or text[i] == "\n" or text[i] in _SENTENCE_END:
        return True
    return text[i] == "-" and (i == 0 or text[i - 1] in " \n")  # a list item or a dash


def _word_before(text: str, start: int) -> str:
    m = re.search(r"([^\W\d_]+)[ \t\u00a0]+\Z", text[max(0, start - 30):start])
    return m.group(1).casefold() if m else ""


def _word_after(text: str, end: int) -> str:
    m = re.match(r"(?:['\u2019]s?)?[ \t\u00a0]+([^\W\d_]+)", text[end:end + 40])
    return m.group(1).casefold() if m else ""


class _Token:
    __slots__ = ("start", "end", "text", "cls", "caps")

    def __init__(self, start: int, end: int, text: str, cls: str):
        self.start, self.end, self.text, self.cls = start, end, text, cls
        self.caps = len(text) > 1 and text.isupper()


def _tokens(text: str, lex: Lexicon) -> list:
    out = []
    for m in _CAP.finditer(text):
        word = m.group()
        if not word[0].isupper():
            continue
        bare = _POSSESSIVE.sub("", word) or word
        end = m.start() + len(bare)
        if len(bare) == 1 and text[end:end + 1] == ".":
            cls = INITIAL
        else:
            cls = lex.classify(bare)
        out.append(_Token(m.start(), end, bare, cls))
    return out


def _runs(text: str, tokens: list) -> list:
    """Consecutive capitalised words: one space between them, or ``. `` after an initial or a title."""
    runs, current = [], []
    for tok in tokens:
        if current:
            prev = current[-1]
            gap = text[prev.end:tok.start]
            if prev.text.endswith(("'", "\u2019")) or text[prev.end:prev.end + 1] in ("'", "\u2019"):
                joined = False  # a possessive ends a name
            elif gap in (" ", "\u00a0"):
                joined = True
            else:
                joined = gap in (". ", ".") and (len(prev.text) == 1 or prev.cls == TITLE)
            if not joined:
                runs.append(current)
                current = []
        current.append(tok)
    if current:
        runs.append(current)
    return runs


def _pieces(text: str, run: list) -> list:
    """Split a run into (tokens, titled) pieces: at stop words and everyday words at the
    start of a sentence; a title marks the words after it."""
    pieces, current, titled = [], [], False
    for i, tok in enumerate(run):
        if tok.cls == TITLE and not current:
            titled = True
            continue
        if tok.cls == STOP or tok.cls == TITLE:
            if current:
                pieces.append((current, titled))
            current, titled = [], tok.cls == TITLE
            continue
        if not current and not titled and tok.cls == WORD and i == 0 and _at_sentence_start(text, tok.start):
            continue  # "The", "Later", "Met": capitalised because a sentence starts there
        current.append(tok)
    if current:
        pieces.append((current, titled))
    return pieces


def _name_spans(text: str, piece: list, titled: bool, alone: bool = True) -> list:
    """Names inside one piece: ``[(first token index, last token index, evidence)]``.

    A word in capitals (``SMITH``) can continue a name but only a strong first name starts
    one, since acronyms (``SPO``, ``OASYS``) look like unknown surnames.
    """
    found = []
    n = len(piece)
    if titled:
        return [(0, min(n, 4) - 1, "title")]
    follows = (FIRST, WEAK_FIRST, SURNAME, WEAK_SURNAME, UNKNOWN, INITIAL)
    surnamey = (SURNAME, UNKNOWN, WEAK_SURNAME)
    i = 0
    while i < n:
        tok = piece[i]
        cls = tok.cls
        nxt = piece[i + 1] if i + 1 < n else None
        ncls = nxt.cls if nxt is not None else None
        j = None
        if cls == FIRST:
            j = i
            while j + 1 < n and piece[j + 1].cls in follows and j - i < 3:
                j += 1
        elif tok.caps:
            pass
        elif cls == WEAK_FIRST and ncls in (SURNAME, UNKNOWN, FIRST, INITIAL) and not nxt.caps:
            j = i + 1
        elif cls == INITIAL and ncls in (*surnamey, FIRST) and not nxt.caps:
            j = i + 1
        elif cls in (SURNAME, UNKNOWN) and ncls in (SURNAME, UNKNOWN, FIRST, WEAK_FIRST) and not nxt.caps:
            j = i + 1
        elif (cls in (SURNAME, UNKNOWN) and ncls == WEAK_SURNAME and not nxt.caps
              and nxt.text.casefold() not in PLACE_WORDS):
            j = i + 1
        if j is not None:
            while j + 1 < n and piece[j + 1].cls in (SURNAME, UNKNOWN) and j - i < 3:
                j += 1
            while j > i and piece[j].cls == INITIAL:
                j -= 1
            found.append((i, j, "pair" if j > i else "first"))
            i = j + 1
            continue
        if cls in (SURNAME, UNKNOWN) and n == 1 and alone and not tok.caps:
            after = _word_after(text, tok.end)
            before = _word_before(text, tok.start)
            if after in AFTER_VERBS or (before in BEFORE_VERBS and not _at_sentence_start(text, tok.start)):
                found.append((i, i, "verb"))
        i += 1
    return found


def find_unregistered(text: str) -> list[Span]:
    """Person names in ``text`` found by the rules in the module docstring (registered names
    are not known here: see :func:`combine`). Sorted, not overlapping."""
    if not text:
        return []
    lex = lexicon()
    tokens = _tokens(text, lex)
    spans: list = []
    parts: dict = {}
    for run in _runs(text, tokens):
        for piece, titled in _pieces(text, run):
            for i, j, evidence in _name_spans(text, piece, titled, len(run) == 1):
                start, end = piece[i].start, piece[j].end
                key = name_key(text[start:end])
                spans.append(Span(start, end, KIND, "direct", "", DETECTOR, key))
                if j > i:
                    for tok in piece[i:j + 1]:
                        if tok.cls not in (WEAK_FIRST, INITIAL):
                            parts.setdefault(tok.text.casefold(), set()).add(key)
    if parts:  # a single word found by a verb may be part of a full name found elsewhere
        for index, span in enumerate(spans):
            keys = parts.get(span.key)
            if keys and span.key not in keys and len(keys) == 1:
                spans[index] = Span(span.start, span.end, KIND, "direct", "", DETECTOR, next(iter(keys)))
    taken = {(s.start, s.end) for s in spans}
    # a part of a full name found in this text is a name wherever else it stands alone
    if parts:
        for tok in tokens:
            low = tok.text.casefold()
            keys = parts.get(low)
            if keys and (tok.start, tok.end) not in taken and not _inside(spans, tok.start):
                spans.append(Span(tok.start, tok.end, KIND, "direct", "", DETECTOR,
                                  next(iter(keys)) if len(keys) == 1 else low))
    spans += _lower_case_names(text, lex, parts, spans)
    spans.sort(key=lambda s: (s.start, -s.end))
    out, last = [], -1
    for span in spans:
        if span.start >= last:
            out.append(span)
            last = span.end
    return out


def _inside(spans: list, pos: int) -> bool:
    return any(s.start <= pos < s.end for s in spans)


def _lower_case_names(text: str, lex: Lexicon, parts: dict, spans: list) -> list:
    """``darren``, ``darren smith`` and lower-case parts of names found capitalised."""
    present = set(_LOWER.findall(text))
    hits = present & lex.strong_first
    hits |= {p for p in present & set(parts) if p not in lex.words}
    if not hits:
        return []
    found = []
    pattern = re.compile(r"(?<![^\W_])(" + "|".join(sorted(map(re.escape, hits), key=len, reverse=True))
                         + r")(?:[ \t\u00a0]+([a-z]+))?(?![^\W_])")
    for m in pattern.finditer(text):
        start, end = m.start(1), m.end(1)
        second = m.group(2)
        if second and second in lex.strong_surnames | set(parts):
            end = m.end(2)
        if _inside(spans, start):
            continue
        key = name_key(text[start:end])
        keys = parts.get(key)
        if keys and len(keys) == 1:
            key = next(iter(keys))
        found.append(Span(start, end, KIND, "direct", "", DETECTOR, key))
    return found


# --------------------------------------------------------------------------- with registered names


def namesake_neighbour(text: str, start: int, end: int, tokens: dict, pseudonym: str) -> Optional[Span]:
    """For a registered first name or surname at ``[start, end)``: if a capitalised name-like
    word that is not part of that person's name stands right before or after it, the two are
    another person's name; returns that span (kind ``person``, detector ``names.namesake``)."""
    lex = lexicon()
    before = re.search(r"([^\W\d_]+(?:['\u2019\-][^\W\d_]+)*)[ \u00a0]\Z", text[max(0, start - 40):start])
    after = re.match(r"[ \u00a0]([^\W\d_]+(?:['\u2019\-][^\W\d_]+)*)", text[end:end + 40])
    for match, left in ((before, True), (after, False)):
        if match is None:
            continue
        word = _POSSESSIVE.sub("", match.group(1)) or match.group(1)
        if not word[0].isupper() or pseudonym in tokens.get(word.casefold(), ()):
            continue
        cls = lex.classify(word)
        if left:
            w_start = start - len(match.group(0))
            sentence = _at_sentence_start(text, w_start)
            ok = cls == FIRST or (cls in (WEAK_FIRST, SURNAME, UNKNOWN) and not sentence)
            span = (w_start, end)
        else:
            if text[end:end + 1] in ("'", "\u2019"):
                continue
            ok = cls in (FIRST, SURNAME, UNKNOWN) or (cls == WEAK_SURNAME and word.casefold() not in PLACE_WORDS)
            span = (start, end + len(match.group(0)))
        if ok and not (word.isupper() and len(word) > 1):
            return Span(span[0], span[1], KIND, "direct", "", NAMESAKE, name_key(text[span[0]:span[1]]))
    return None


def combine(text: str, registered: list, tokens: dict, parts: Iterable[int] = ()) -> list[Span]:
    """Registered spans plus unregistered names that do not overlap them, with a registered
    part (index in ``parts``) that also belongs to an unregistered full name in this text
    made neutral (``AMBIGUOUS_HINT``, detector ``names.namesake``)."""
    import attrs

    from fieldkit.privacy.detection import merge_spans

    found = find_unregistered(text)
    if not registered:
        return found
    taken = merge_spans(registered)
    starts = [s.start for s in taken]
    import bisect

    def overlaps(span) -> bool:
        i = bisect.bisect_right(starts, span.end - 1) - 1
        return i >= 0 and taken[i].end > span.start

    extra = [s for s in found if not overlaps(s)]
    shared = {w for s in extra + [s for s in registered if s.kind == KIND]
              for w in s.key.split() if " " in s.key}
    out = []
    part_set = set(parts)
    for index, span in enumerate(registered):
        if (index in part_set and span.kind == "name" and span.hint != AMBIGUOUS_HINT
                and name_key(text[span.start:span.end]) in shared):
            span = attrs.evolve(span, hint=AMBIGUOUS_HINT, detector=NAMESAKE)
        out.append(span)
    return merge_spans(out + extra, ["names.namesake", "names", DETECTOR])


# --------------------------------------------------------------------------- keys check


def suggestions(texts: Iterable[str], people=()) -> list[tuple[str, int]]:
    """Names in ``texts`` that no registered name covers, with how often each occurs: what
    :func:`fieldkit.privacy.names.find_people` would replace with a neutral or numbered
    placeholder. Sorted by count (most frequent first), then alphabetically."""
    from fieldkit.privacy.names import find_people

    people = tuple(people.people() if hasattr(people, "people") and callable(people.people) else people)
    counts: Counter = Counter()
    for text in texts:
        text = text or ""
        for span in find_people(text, people):
            if span.detector in (DETECTOR, NAMESAKE):
                counts[" ".join(text[span.start:span.end].split())] += 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
