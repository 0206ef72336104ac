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
from typing import Iterable, Optional, TYPE_CHECKING

from fieldkit.privacy.spans import Span

if TYPE_CHECKING:
    from fieldkit.privacy.keystore import Person

__all__ = ["DETECTOR", "KIND", "Knowledge", "Lexicon", "classify", "combine", "find_unregistered", "learn",
           "lexicon", "name_key", "namesake_neighbour", "suggestions", "with_title"]

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
described describe known know knew
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
# Both begin with their first letter and then look back past it for a letter or digit (rather
# than looking back first), so the regex engine can skip ahead to a possible first letter.
_CAP = re.compile(
    r"[A-Z\u00C0-\u00D6\u00D8-\u00DE\u0100-\u024F](?<![^\W_].)[^\W\d_]*(?:['\u2019\-][^\W\d_]+)*"
)
_LOWER = re.compile(r"[a-z](?<![^\W_].)[a-z]{2,}(?![^\W_])")
_NEXT_LOWER = re.compile(r"[ \t\u00a0]+([a-z]+)(?![^\W_])")
_HYPHEN_LEFT = re.compile(r"(?<![^\W_])[a-z]+(?:-[a-z]+)*-\Z")
_HYPHEN_RIGHT = re.compile(r"-[a-z]+(?:-[a-z]+)*(?![^\W_])")
_POSSESSIVE = re.compile(r"['\u2019](?:s)?\Z", re.IGNORECASE)
_SENTENCE_END = ".!?:;\"\u201c\u2018(*\u2022>#|"
_SPACE = " \t\u00a0"

# word classes
TITLE, STOP, FIRST, WEAK_FIRST, SURNAME, WEAK_SURNAME, UNKNOWN, WORD, INITIAL, PROPER = (
    "title", "stop", "first", "weak_first", "surname", "weak_surname", "unknown", "word", "initial", "proper")


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
        self.strong_surnames = frozenset(n for n in self.surnames if n not in self.words and n not in self.fieldwork
                                         and n not in PLACE_FIRST_NAMES)
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
            for cls in (FIRST, SURNAME, UNKNOWN, PROPER, WEAK_FIRST, WEAK_SURNAME):
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
        if low in self.words:
            return WORD
        if low in self.proper:
            return PROPER
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
    if text.isascii() and text.replace(" ", "").isalpha():  # the common case, without regexes
        words = text.split()
    else:
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


def _strip_possessive(word: str) -> str:
    if word[-1] in "sS" and len(word) > 2 and word[-2] in "'\u2019":
        return word[:-2]
    if word[-1] in "'\u2019" and len(word) > 1:
        return word[:-1]
    return word


def _tokens(text: str, lex: Lexicon) -> list:
    out = []
    for m in _CAP.finditer(text):
        word = m.group()
        if not word[0].isupper():
            continue
        bare = _strip_possessive(word)
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


class _Piece:
    """Consecutive name-like words of a run: ``title`` is the title token before them (or
    None); ``alone`` is false when a stop word (``PDU``, ``Court``) is glued to them."""

    __slots__ = ("tokens", "title", "alone")

    def __init__(self, tokens: list, title, alone: bool):
        self.tokens, self.title, self.alone = tokens, title, alone


def _pieces(text: str, run: list) -> list:
    """Split a run at stop words, titles and everyday words at the start of a sentence."""
    pieces, current, title, glued = [], [], None, False
    for i, tok in enumerate(run):
        if tok.cls in (STOP, TITLE):
            if current:
                pieces.append(_Piece(current, title, not glued and tok.cls != STOP))
            current, glued = [], tok.cls == STOP
            title = tok if tok.cls == TITLE else None
            continue
        if not current and title is None and tok.cls == WORD and i == 0 and _at_sentence_start(text, tok.start):
            continue  # "The", "Later", "Met": capitalised because a sentence starts there
        current.append(tok)
    if current:
        pieces.append(_Piece(current, title, not glued))
    return pieces


def _name_spans(text: str, piece: _Piece, known: dict, pairs_only: bool = False) -> list:
    """Names inside one piece: ``[(first token index, last token index)]``.

    A word in capitals (``SMITH``) can continue a name but only a strong first name (or a
    name known from elsewhere in the project) starts one, since acronyms (``SPO``,
    ``OASYS``) look like unknown surnames.
    """
    tokens = piece.tokens
    n = len(tokens)
    if piece.title is not None:
        return [(0, min(n, 4) - 1)]
    found = []
    follows = (FIRST, WEAK_FIRST, SURNAME, WEAK_SURNAME, UNKNOWN, INITIAL, PROPER)
    i = 0
    while i < n:
        tok = tokens[i]
        cls = tok.cls
        nxt = tokens[i + 1] if i + 1 < n else None
        ncls = nxt.cls if nxt is not None else None
        mid = not _at_sentence_start(text, tok.start)
        j = None
        if cls == FIRST or (tok.text.casefold() in known and cls != WORD):
            j = i
            while j + 1 < n and tokens[j + 1].cls in follows and j - i < 3:
                j += 1
        elif tok.caps or (nxt is not None and nxt.caps):
            pass
        elif cls == WEAK_FIRST and (ncls in (SURNAME, UNKNOWN, FIRST, INITIAL) or (ncls == WEAK_SURNAME and mid)):
            j = i + 1
        elif cls == INITIAL and ncls in (SURNAME, UNKNOWN, WEAK_SURNAME, FIRST):
            j = i + 1
        elif cls in (SURNAME, UNKNOWN) and ncls in (SURNAME, UNKNOWN, FIRST, WEAK_FIRST, PROPER):
            j = i + 1
        elif cls == PROPER and ncls in (SURNAME, UNKNOWN):
            j = i + 1
        elif cls in (SURNAME, UNKNOWN, WEAK_SURNAME) and ncls == WEAK_SURNAME and mid \
                and nxt.text.casefold() not in PLACE_WORDS and cls != WEAK_SURNAME:
            j = i + 1
        if j is not None:
            while j + 1 < n and tokens[j + 1].cls in (SURNAME, UNKNOWN, PROPER) and j - i < 3:
                j += 1
            while j > i and tokens[j].cls == INITIAL:
                j -= 1
            found.append((i, j))
            i = j + 1
            continue
        if cls in (SURNAME, UNKNOWN, PROPER) and n == 1 and piece.alone and not tok.caps and not pairs_only:
            after = _word_after(text, tok.end)
            before = _word_before(text, tok.start)
            if after in AFTER_VERBS or (before in BEFORE_VERBS and mid):
                found.append((i, i))
        i += 1
    return found


class Knowledge:
    """What the rest of a project says about names: ``known`` maps a name word (lower case)
    to the keys of the unregistered full names it belongs to (``caspian`` -> ``{"caspian
    quenby"}``), for finding it alone; ``bearers`` does the same for every word, everyday
    words too (``hall`` -> ``{"declan hall", "hayley hall"}``), only to tell whether a word
    found alone belongs to several people; ``shared`` holds registered first names and
    surnames (lower case) that also belong to someone unregistered. Built by :func:`learn`."""

    def __init__(self, known: Optional[dict] = None, shared: Optional[set] = None,
                 bearers: Optional[dict] = None):
        self.known = known or {}
        self.shared = shared or set()
        self.bearers = bearers or {}


def learn(texts: Iterable[str], people: tuple[Person, ...] = ()) -> Knowledge:
    """Read a project's texts once: full names nobody registered teach their words (so
    ``Caspian`` alone is found in a note where ``Caspian Quenby`` never appears), and
    registered names next to another person's name (``Jane Okafor`` beside a registered
    Dana Okafor) are marked as shared, so they never get one person's pseudonym."""

    from fieldkit.privacy.names import fold, matcher_for

    lex = lexicon()
    knowledge = Knowledge()
    people = tuple(people or ())
    matcher = matcher_for(people) if people else None
    for text in texts:
        if not text:
            continue
        found = find_unregistered(text, pairs_only=True)
        if matcher is not None:
            for start, end, hint, is_part in matcher.find(text):
                if is_part:
                    joined = namesake_neighbour(text, start, end, matcher.tokens, hint)
                    if joined is not None:
                        knowledge.shared.update(fold(w) for w in joined.key.split())
                        found.append(joined)
        for span in found:
            words = span.key.split()
            if len(words) < 2 and "-" not in span.key:
                continue
            for word in words:
                if len(words) > 1 and len(word) > 1 and not word.endswith("."):
                    knowledge.bearers.setdefault(word, set()).add(span.key)
                if word not in lex.words and len(word) > 2 and not word.endswith("."):
                    knowledge.known.setdefault(word, set()).add(span.key)
            named = [w for w in words if len(w.strip(".")) > 1]  # initials say too little
            if matcher is not None and len(named) > 1:
                # a full name whose words are not all one registered person's: any registered
                # word in it (``Sarah`` of ``Sarah Walker`` beside a registered Sarah Thompson)
                # belongs to someone else too
                owners = [matcher.tokens.get(fold(w)) for w in named]
                common = set.intersection(*[set(o) for o in owners]) if all(owners) else set()
                if not common:
                    knowledge.shared.update(fold(w) for w, o in zip(named, owners) if o)
    return knowledge


def find_unregistered(text: str, knowledge: Optional[Knowledge] = None, *, pairs_only: bool = False) -> list[Span]:
    """Person names in ``text`` found by the rules in the module docstring (registered names
    are not known here: see :func:`combine`). Sorted, not overlapping. A title is part of the
    span (``Mr Quennell``) since it tells a reader more than the placeholder should.
    ``pairs_only`` skips what only single words need (:func:`learn` reads full names only)."""
    if not text:
        return []
    lex = lexicon()
    known = knowledge.known if knowledge is not None else {}
    tokens = _tokens(text, lex)
    spans: list = []
    local: dict = {}
    for run in _runs(text, tokens):
        for piece in _pieces(text, run):
            for i, j in _name_spans(text, piece, known, pairs_only):
                start = piece.title.start if piece.title is not None and i == 0 else piece.tokens[i].start
                end = piece.tokens[j].end
                key = name_key(text[start:end])
                spans.append(Span(start, end, KIND, "direct", "", DETECTOR, key))
                if j > i:
                    for tok in piece.tokens[i:j + 1]:
                        if tok.cls not in (WEAK_FIRST, INITIAL):
                            local.setdefault(tok.text.casefold(), set()).add(key)
    if pairs_only:
        return spans
    parts = _Parts(local, known, knowledge.bearers if knowledge is not None else {})
    if parts:  # a single word may be part of a full name found elsewhere: that name's placeholder
        spans = [_single(span.start, span.end, span.key, parts) if " " not in span.key else span for span in spans]
    # a part of a full name found in this text (or the project) is a name wherever it stands alone
    if parts:
        covered = _coverage(spans, len(text))
        for tok in tokens:
            low = tok.text.casefold()
            if low in parts and tok.cls != WORD and not covered[tok.start]:
                spans.append(_single(tok.start, tok.end, low, parts))
    spans += _lower_case_names(text, lex, parts, spans)
    spans.sort(key=lambda s: (s.start, -s.end))
    out, last = [], -1
    for span in spans:
        if span.start >= last:
            out.append(span)
            last = span.end
    return out


def _single(start: int, end: int, key: str, parts: "_Parts") -> Span:
    """The span of a name found as one word (``Wrenna``, ``Mrs Athelney``) keyed ``key``: the
    placeholder of the one full name it belongs to (in this text or the project), its own
    when it belongs to none, and the neutral ``[NAME]`` (listed for review) when it belongs
    to several: two people never share a numbered placeholder because they share a word."""
    keys = parts.owners(key) - {key}  # a hyphenated word (``Ebony-Rae``) was learnt as a name of its own
    if not keys:
        return Span(start, end, KIND, "direct", "", DETECTOR, key)
    if len(keys) == 1:
        return Span(start, end, KIND, "direct", "", DETECTOR, next(iter(keys)))
    return Span(start, end, "name", "direct", AMBIGUOUS_HINT, NAMESAKE, key)


class _Parts:
    """A name word (lower case) -> the keys of the full names it is part of: those found in
    this text and those :func:`learn` found in the project, merged when one is looked up
    (the project's can be many; copying them for every text would cost more than reading it).
    ``bearers`` (``Knowledge.bearers``) adds the project's full names for everyday words,
    which are never found alone but may still tell two people apart."""

    __slots__ = ("local", "known", "bearers")

    def __init__(self, local: dict, known: dict, bearers: Optional[dict] = None):
        self.local, self.known, self.bearers = local, known, bearers or {}

    def get(self, word: str) -> Optional[set]:
        here, there = self.local.get(word), self.known.get(word)
        if here is None or there is None:
            return here if there is None else there
        return here | there

    def owners(self, word: str) -> set:
        """Every full name ``word`` is part of, everyday words included."""
        found = self.get(word) or set()
        more = self.bearers.get(word)
        return found | more if more else found

    def __contains__(self, word: str) -> bool:
        return word in self.local or word in self.known

    def __bool__(self) -> bool:
        return bool(self.local) or bool(self.known) or bool(self.bearers)

    def among(self, words: set) -> set:
        """The ones of ``words`` that are part of a full name."""
        return {w for w in words if w in self.local or w in self.known}


def _coverage(spans: list, size: int) -> bytearray:
    covered = bytearray(size)
    for span in spans:
        covered[span.start:span.end] = b"\x01" * (span.end - span.start)
    return covered


def _lower_case_names(text: str, lex: Lexicon, parts: _Parts, spans: list) -> list:
    """``darren``, ``darren smith`` and lower-case parts of names found capitalised."""
    present = set(_LOWER.findall(text))
    hits = present & lex.strong_first
    hits |= {p for p in parts.among(present) if p not in lex.words}
    if not hits:
        return []
    found = []
    covered = _coverage(spans, len(text))
    # Each hit is a whole lower-case word as _LOWER reads it, so a hit can only match where
    # _LOWER matches that same word: a shorter hit would be followed by a letter, and a word
    # that _LOWER does not match ends in a letter or digit outside [a-z]. So the places where
    # one alternation of the hits would match are the occurrences of a hit where _LOWER
    # matches exactly that hit; they are found without compiling a regex per text, and a
    # match that took the following word resumes the scan after it.
    starts = []
    for hit in hits:
        size = len(hit)
        at = text.find(hit)
        while at >= 0:
            m = _LOWER.match(text, at)
            if m is not None and m.end() == at + size:
                starts.append((at, at + size))
            at = text.find(hit, at + size)  # an occurrence inside this one has a letter before it
    starts.sort()
    last = 0
    for start, end in starts:
        if start < last:
            continue
        nxt = _NEXT_LOWER.match(text, end)
        last = nxt.end() if nxt is not None else end
        second = nxt.group(1) if nxt is not None else None
        if second and (second in lex.strong_surnames or (second in parts and second not in lex.words)):
            end = nxt.end(1)
        while text[start - 1:start] == "-" and start > 1:  # half of a hyphenated name: all of it
            left = _HYPHEN_LEFT.search(text, max(0, start - 40), start)
            if left is None:
                break
            start = left.start()
        if text[end:end + 1] == "-":
            right = _HYPHEN_RIGHT.match(text, end)
            end = right.end() if right is not None else end
        if covered[start] or covered[end - 1]:
            continue
        key = name_key(text[start:end])
        found.append(_single(start, end, key, parts) if " " not in key else Span(start, end, KIND, "direct", "",
                                                                               DETECTOR, key))
    return found


# --------------------------------------------------------------------------- with registered names

_TITLE_BEFORE = re.compile(r"(?<![^\W_])(?:" + "|".join(sorted((t.capitalize() for t in TITLES), key=len, reverse=True))
                           + r"|PC|DC|DS|DI|DCI|DSI|HHJ)\.?[ \u00a0]\Z")


def with_title(text: str, span: Span) -> Span:
    """``span`` widened to a title written just before it (``Mr Okafor``)."""
    if span.start < 3 or text[span.start - 1] not in " \u00a0" or not text[span.start - 2].isalpha() \
            and text[span.start - 2] != ".":
        return span
    m = _TITLE_BEFORE.search(text, max(0, span.start - 12), span.start)
    if m is None:
        return span
    import attrs

    return attrs.evolve(span, start=m.start())


def fold_word(word: str) -> str:
    """A word as the registered-name matcher keys its tokens."""
    from fieldkit.privacy.names import fold

    return fold(word)


def namesake_neighbour(text: str, start: int, end: int, tokens: dict, pseudonym: str) -> Optional[Span]:
    """For a registered first name or surname at ``[start, end)``: if a capitalised name-like
    word that is not part of that person's name stands right before or after it, the two are
    another person's name; returns that span (kind ``person``, detector ``names.namesake``).
    ``pseudonym`` is the owner's, or ``AMBIGUOUS_HINT`` for a word several registered people
    share (``Tranter`` of Joanne and Ruby Tranter): then the neighbour must be part of none
    of their names (``Kyle Tranter`` is a third person), and the word must be capitalised."""
    if pseudonym == AMBIGUOUS_HINT and not text[start:start + 1].isupper():
        return None  # a shared word in lower case is neutral anyway; ordinary prose is not searched
    before_char = text[start - 1] if start else ""
    after_char = text[end] if end < len(text) else ""
    maybe_left = before_char in (" ", "\u00a0", "-") and start >= 2 and text[start - 2].isalpha()
    maybe_right = (after_char in (" ", "\u00a0") and text[end + 1:end + 2].isupper()) or \
        (after_char == "-" and text[end + 1:end + 2].isalpha())
    if not (maybe_left or maybe_right):
        return None
    if pseudonym == AMBIGUOUS_HINT:
        owners = tokens.get(fold_word(text[start:end]).strip("."))
        if not owners:
            return None
        owned = lambda word: bool(owners & tokens.get(word, set()))  # noqa: E731
    else:
        owned = lambda word: pseudonym in tokens.get(word, ())  # noqa: E731
    lex = lexicon()
    # glued by a hyphen to another word: a double-barrelled name that is not registered
    left = re.search(r"[^\W\d_]+(?:-[^\W\d_]+)*-\Z", text[max(0, start - 40):start])
    right = re.match(r"-[^\W\d_]+(?:-[^\W\d_]+)*", text[end:end + 40])
    if left or right:
        s = start - len(left.group()) if left else start
        e = end + len(right.group()) if right else end
        if not owned(fold_word(text[s:e])):
            return Span(s, e, KIND, "direct", "", NAMESAKE, name_key(text[s:e]))
    before = re.search(r"([^\W\d_]+(?:['\u2019\-][^\W\d_]+)*)[ \u00a0]\Z", text[max(0, start - 40):start])
    after = re.match(r"[ \u00a0]([^\W\d_]+(?:['\u2019\-][^\W\d_]+)*)", text[end:end + 40])
    for match, left in ((before, True), (after, False)):
        if match is None:
            continue
        word = _POSSESSIVE.sub("", match.group(1)) or match.group(1)
        if not word[0].isupper() or owned(word.casefold()):
            continue
        cls = lex.classify(word)
        if left:
            w_start = start - len(match.group(0))
            sentence = _at_sentence_start(text, w_start)
            ok = cls == FIRST or (cls in (WEAK_FIRST, SURNAME, UNKNOWN, PROPER) and not sentence)
            span = (w_start, end)
        else:
            if text[end:end + 1] in ("'", "\u2019"):
                continue
            ok = cls in (FIRST, SURNAME, UNKNOWN, PROPER) or (cls == WEAK_SURNAME and word.casefold() not in PLACE_WORDS)
            span = (start, end + len(match.group(0)))
        if ok and not (word.isupper() and len(word) > 1):
            return Span(span[0], span[1], KIND, "direct", "", NAMESAKE, name_key(text[span[0]:span[1]]))
    return None


def combine(text: str, registered: list, tokens: dict, parts: Iterable[int] = (),
            knowledge: Optional[Knowledge] = None) -> list[Span]:
    """Registered spans plus unregistered names that do not overlap them, with a registered
    part (index in ``parts``) that also belongs to an unregistered full name in this text,
    or anywhere in the project (``knowledge.shared``), made neutral (``AMBIGUOUS_HINT``,
    detector ``names.namesake``)."""
    import bisect

    import attrs

    from fieldkit.privacy.detection import merge_spans
    from fieldkit.privacy.names import fold

    found = find_unregistered(text, knowledge)
    if not registered:
        return found
    # an unregistered name overlapping a namesake span joins it (merged below); one
    # overlapping a registered name gives way to it
    taken = merge_spans([s for s in registered if s.kind != KIND])
    starts = [s.start for s in taken]

    def overlaps(span) -> bool:
        i = bisect.bisect_right(starts, span.end - 1) - 1
        return i >= 0 and taken[i].end > span.start

    extra = [s for s in found if not overlaps(s)]
    shared = {w for s in extra + [s for s in registered if s.kind == KIND]
              for w in s.key.split() if " " in s.key}
    if knowledge is not None:
        shared |= knowledge.shared
    out = []
    part_set = set(parts)
    for index, span in enumerate(registered):
        if index in part_set and span.kind == "name" and span.hint != AMBIGUOUS_HINT:
            written = text[span.start:span.end]
            if name_key(written) in shared or fold(name_key(written)) in shared:
                span = attrs.evolve(span, hint=AMBIGUOUS_HINT, detector=NAMESAKE)
        out.append(span)
    return merge_spans(out + extra, ["names.namesake", "names", DETECTOR])


# --------------------------------------------------------------------------- keys check


def suggestions(texts: Iterable[str], people: tuple[Person, ...] = (), knowledge: Optional[Knowledge] = None) -> list[tuple[str, int]]:
    """Names in ``texts`` that no registered name covers, with how often each occurs: what
    :func:`fieldkit.privacy.names.find_people` would replace with a neutral or numbered
    placeholder. Sorted by count (most frequent first), then alphabetically."""
    from fieldkit.privacy.names import find_people

    people = tuple(people.people() if hasattr(people, "people") and callable(people.people) else people)
    counts: Counter = Counter()
    for text in texts:
        text = text or ""
        for span in find_people(text, people, knowledge=knowledge):
            if span.detector in (DETECTOR, NAMESAKE):
                counts[" ".join(text[span.start:span.end].split())] += 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
