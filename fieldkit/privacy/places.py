"""The ``places`` detector: names of prisons, approved premises, courts, probation offices,
PDUs, local authorities and other organisations, from a user-editable list. The built-in
plugin ``fieldkit.plugins.places`` registers it (``DETECTOR``).

Which list is used:

* the :class:`~fieldkit.privacy.detection.Place` records in ``context.places``, followed by
* the entries of the YAML file named by ``context.settings["places_file"]``, if set;
* if both are empty, the built-in example list ``fieldkit/privacy/data/places.yaml``
  (invented places; it shows the file format). Set ``context.settings["places_builtin"]``
  to ``False`` to switch that fall-back off.

Matching ignores case, treats any run of spaces (including a line break) in a name as
matching any other, treats ``'`` and ``’`` alike, takes whole words only and prefers the
longest name starting at a position (``Blackmoor prison`` over ``Blackmoor``). When two places
share a name or alias, the first one listed wins. Spans are quasi-identifiers whose kind is
the place kind (``prison`` …) and whose hint is a placeholder (``[PRISON]``).

Places on no list are found by their form too, whatever list is used: ``HMP X``,
``HMP/YOI X``, ``HMYOI X``, ``HM Prison X``, ``X Prison``, ``X Magistrates' Court`` (and
Crown, County, Youth, Family and Combined Courts), ``X magistrates``, ``X PDU``, ``X
Probation Office`` / ``Centre``, ``X Approved Premises``, ``X AP``, ``X Bail Hostel``,
``X Police Station``, the institution word in any case (``X approved premises``); ``X`` is
one to three capitalised words (``North Fenshire``), without a leading ``The``, ``At``,
``Since`` or other everyday word. A listed name that covers the same words wins (longer spans win when
spans are merged).

The YAML file holds ``places:`` followed by a list (or just the list); each entry has
``name``, ``kind`` (one of ``fieldkit.privacy.detection.PLACE_KINDS``, default ``other``) and optional
``aliases`` (a list, or one string).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Optional, TYPE_CHECKING, Union

from fieldkit.core.errors import InvalidInput
from fieldkit.privacy.detection import PLACE_KINDS, Place, placeholder_for
from fieldkit.hooks.registry import Detector
from fieldkit.privacy.spans import Span

if TYPE_CHECKING:
    from fieldkit.privacy.detection import DetectContext

__all__ = ["BUILTIN_PLACES_FILE", "DETECTOR", "Place", "PlacesFileError", "detect_places", "load_places"]

#: the example list shipped with fieldkit
BUILTIN_PLACES_FILE = Path(__file__).with_name("data") / "places.yaml"
_BUILTIN = str(BUILTIN_PLACES_FILE)

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'"})


class PlacesFileError(InvalidInput):
    """A place list that cannot be read; the message names the file and the entry."""


def load_places(path: Optional[Union[str, os.PathLike]] = None) -> tuple:
    """Read a place list (YAML) into a tuple of :class:`Place`; the built-in example without
    ``path``. Results are cached until the file changes."""
    file = os.fspath(path) if path is not None else _BUILTIN
    try:
        stat = os.stat(file)
    except OSError as exc:
        raise PlacesFileError(f"cannot read place list {file}: {exc.strerror or exc}") from exc
    return _load_places_cached(file, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _load_places_cached(path: str, mtime_ns: int, size: int) -> tuple:
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise PlacesFileError(f"place list {path} is not valid YAML: {exc}") from exc
    except RecursionError:
        raise PlacesFileError(f"place list {path} is nested too deeply to read") from None
    except OSError as exc:
        raise PlacesFileError(f"cannot read place list {path}: {exc.strerror or exc}") from exc
    return parse_places(data, source=path)


def parse_places(data: Any, source: str = "place list") -> tuple:
    """Turn loaded YAML data (``{"places": [...]}`` or a list) into :class:`Place` records."""
    if data is None:
        return ()
    if isinstance(data, dict):
        if set(data) - {"places"}:
            extra = ", ".join(sorted(map(str, set(data) - {"places"})))
            raise PlacesFileError(f"{source}: unexpected top-level keys ({extra}); expected 'places'")
        data = data.get("places") or []
    if not isinstance(data, list):
        raise PlacesFileError(f"{source}: expected a list of places")
    places = []
    for i, entry in enumerate(data, start=1):
        where = f"{source}: entry {i}"
        if not isinstance(entry, dict):
            raise PlacesFileError(f"{where}: expected a mapping with name, kind and aliases")
        unknown = set(entry) - {"name", "kind", "aliases"}
        if unknown:
            raise PlacesFileError(f"{where}: unknown keys {', '.join(sorted(map(str, unknown)))}")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise PlacesFileError(f"{where}: a place needs a non-empty name")
        kind = entry.get("kind") or "other"
        if kind not in PLACE_KINDS:
            raise PlacesFileError(f"{where} ({name}): kind must be one of {', '.join(PLACE_KINDS)}, not {kind!r}")
        aliases = entry.get("aliases") or ()
        if isinstance(aliases, str):
            aliases = (aliases,)
        if not isinstance(aliases, (list, tuple)) or not all(isinstance(a, str) and a.strip() for a in aliases):
            raise PlacesFileError(f"{where} ({name}): aliases must be a list of non-empty strings")
        places.append(Place(" ".join(name.split()), kind, tuple(" ".join(a.split()) for a in aliases)))
    return tuple(places)


def _key(phrase: str) -> str:
    return " ".join(phrase.translate(_APOSTROPHES).casefold().split())


_SPACE_ATOM = r"\s+"
_APOSTROPHE_ATOM = "['\u2019\u2018]"


def _atoms(phrase: str) -> tuple:
    """A phrase as regex pieces: one per character, a run of spaces as ``\\s+``, any apostrophe
    as a class of apostrophes. Letters are lower-cased so that the trie shares prefixes."""
    atoms = []
    for i, word in enumerate(phrase.split()):
        if i:
            atoms.append(_SPACE_ATOM)
        for c in word:
            atoms.append(_APOSTROPHE_ATOM if c in "'\u2019\u2018" else re.escape(c.lower()))
    return tuple(atoms)


def _trie_pattern(phrases) -> str:
    """One regex for many phrases, shaped as a trie so the engine does not try every phrase at
    every position. At each branch longer continuations are tried first, so the longest phrase
    starting at a position wins (the word-boundary check after it makes the engine back off to
    a shorter phrase when the longer one would end inside a word)."""
    END = ""
    trie: dict = {}
    for phrase in phrases:
        node = trie
        for atom in _atoms(phrase):
            node = node.setdefault(atom, {})
        node[END] = {}

    def emit(node) -> str:
        branches = [atom + emit(child) for atom, child in node.items() if atom != END]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if END in node:
            return "(?:" + body + ")?"
        return body

    return emit(trie)


@lru_cache(maxsize=32)
def _matcher(places: tuple):
    """A compiled regex over every name and alias (longest first) and a table from the
    normalised matched text to its place."""
    table: dict = {}
    for place in places:
        for phrase in place.names:
            if phrase.strip():
                table.setdefault(_key(phrase), place)
    if not table:
        return None, table
    pattern = r"(?<![^\W_])(?:" + _trie_pattern(table) + r")(?![^\W_])"
    return re.compile(pattern, re.IGNORECASE), table


def places_for(context: Optional[DetectContext]) -> tuple:
    """The places the detector uses for ``context`` (see the module docstring)."""
    places = tuple(getattr(context, "places", ()) or ())
    settings = getattr(context, "settings", None) or {}
    if settings.get("places_file"):
        places += load_places(settings["places_file"])
    if not places and settings.get("places_builtin", True):
        places = load_places()
    return places


def detect_places(text: str, context: Optional[DetectContext] = None) -> Iterator[Span]:
    """Find listed places and organisations in ``text``, and institutions on no list by their
    form (``HMP X``, ``X Magistrates' Court``, ``X PDU`` …)."""
    regex, table = _matcher(places_for(context))
    listed = []
    if regex is not None:
        for m in regex.finditer(text):
            place = table.get(_key(m.group()))
            if place is None:  # pragma: no cover - every match comes from the table
                continue
            listed.append(Span(m.start(), m.end(), place.kind, "quasi", hint=placeholder_for(place.kind),
                               detector="places"))
    yield from listed
    for span in detect_institutions(text):
        if not any(s.start < span.end and span.start < s.end for s in listed):
            yield span


_CAPWORD = r"[A-Z][\w'\u2019]*(?:-[A-Z][\w'\u2019]*)*"
#: words that begin a sentence or a phrase, not a place name
_NOT_PLACE_START = frozenset("""
The A An At In On To From Of And Or Our My His Her Their This That Its Near By Via For With
Local Visited Visit Inside Outside Leaving Left Back Into Then When After Before While Both
Since Until During Yesterday Today Tomorrow Later Earlier Afterwards Meanwhile However Also
Although Because If Once Still Yet Now Sent Moved Went Go Going Transferred Released Recalled
Both Every Each Some Any No Not Only Just Even Like Unlike Than Whether Where Which Who
""".split())
#: institution words after a place name, and the place kind each gives. Each word's first
#: letter is written as a look-back, ``(?<=m)agistrates``: the regex reads that letter first
#: (see ``_institution_res``) so that the engine can skip ahead to one; only ASCII letters
#: other than k and s, whose case-insensitive matches are all in ``[Xx]``, may stand there.
_AFTER = (
    (r"(?i:(?<=m)agistrates['\u2019]?(?:[ \u00a0]+courts?)?"
     r"|(?:(?<=c)rown|(?<=c)ounty|(?<=y)outh|(?<=f)amily|(?<=c)ombined|(?<=c)oroner['\u2019]s)[ \u00a0]+courts?)",
     "court"),
    (r"(?<=P)DU|(?i:(?<=p)robation[ \u00a0]+delivery[ \u00a0]+unit)", "pdu"),
    (r"(?i:(?<=p)robation[ \u00a0]+(?:office|centre|center|hub))", "probation_office"),
    (r"(?i:(?<=a)pproved[ \u00a0]+premises|(?<=b)ail[ \u00a0]+hostel)|(?<=A)P", "approved_premises"),
    (r"(?i:(?<=p)rison|(?<=y)oung[ \u00a0]+offender[ \u00a0]+institution)|(?<=Y)OI", "prison"),
    (r"(?i:(?<=p)olice[ \u00a0]+station)", "other"),
)
#: lower-case words one of which every institution form contains (a quick test before the regexes)
_KEYWORDS = ("hmp", "hmyoi", "hm ", "court", "magistrates", "probation", "premises", "hostel", "prison",
             "yoi", "police")
# HMP, HMP/YOI, HMYOI or HM Prison …, not just after a letter or digit: the look-back comes after
# the "H" so that the regex engine can skip ahead to an "H"
_BEFORE = (r"H(?<![^\W_].)M(?:P(?:[ \u00a0]*/[ \u00a0]*YOI)?|YOI"
           r"|[ \u00a0]+(?:Prison|YOI|Young[ \u00a0]+Offender[ \u00a0]+Institution))")


@lru_cache(maxsize=1)
def _institution_res():
    # the first letter of any institution word, in either case, not just after a letter or digit;
    # the look-backs in _AFTER then say which words may follow it
    letters = sorted({c for p, _ in _AFTER for c in re.findall(r"\(\?<=([A-Za-z])\)", p)})
    first = "[" + "".join(sorted({c.lower() for c in letters} | {c.upper() for c in letters})) + "]"
    after = re.compile(first + r"(?<![^\W_].)(?:" + "|".join(f"(?P<k{i}>{p})" for i, (p, _) in enumerate(_AFTER))
                       + r")(?![^\W_])")
    name_before = re.compile(rf"((?:{_CAPWORD}[ \u00a0]+){{1,3}})\Z")
    before = re.compile(rf"{_BEFORE}[ \u00a0]+({_CAPWORD}(?:[ \u00a0]+{_CAPWORD}){{0,2}})(?![^\W_])")
    return after, name_before, before


def detect_institutions(text: str) -> Iterator[Span]:
    """Prisons, courts, PDUs, probation offices and approved premises by their written form."""
    lowered = text.lower()
    if not any(word in lowered for word in _KEYWORDS) and "AP" not in text and "PDU" not in text:
        return
    after, name_before, before = _institution_res()
    for m in before.finditer(text):
        yield Span(m.start(), m.end(), "prison", "quasi", hint=placeholder_for("prison"), detector="places")
    for m in after.finditer(text):
        found = name_before.search(text, max(0, m.start() - 80), m.start())
        if found is None:
            continue
        start = found.start()
        words = found.group(1).split()
        while words and words[0] in _NOT_PLACE_START:
            start = text.index(words[1], start + len(words[0])) if len(words) > 1 else m.start()
            words = words[1:]
        if not words or any(w in ("HMP", "HMYOI", "HM") for w in words):
            continue
        kind = _AFTER[int(m.lastgroup[1:])][1]
        yield Span(start, m.end(), kind, "quasi", hint=placeholder_for(kind), detector="places")


DETECTOR = Detector("places", detect_places, "prisons, approved premises, courts, offices and areas from a place list")
