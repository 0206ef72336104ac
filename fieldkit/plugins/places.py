"""The ``places`` detector: names of prisons, approved premises, courts, probation offices,
PDUs, local authorities and other organisations, from a user-editable list.

Which list is used:

* the :class:`~fieldkit.privacy.detection.Place` records in ``context.places``, followed by
* the entries of the YAML file named by ``context.settings["places_file"]``, if set;
* if both are empty, the built-in example list ``fieldkit/plugins/data/places.yaml``
  (invented places; it shows the file format). Set ``context.settings["places_builtin"]``
  to ``False`` to switch that fall-back off.

Matching ignores case, treats any run of spaces (including a line break) in a name as
matching any other, treats ``'`` and ``’`` alike, takes whole words only and prefers the
longest name starting at a position (``Blackmoor prison`` over ``Blackmoor``). When two places
share a name or alias, the first one listed wins. Spans are quasi-identifiers whose kind is
the place kind (``prison`` …) and whose hint is a placeholder (``[PRISON]``).

The YAML file holds ``places:`` followed by a list (or just the list); each entry has
``name``, ``kind`` (one of ``fieldkit.privacy.detection.PLACE_KINDS``, default ``other``) and optional
``aliases`` (a list, or one string).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Optional, Union

from fieldkit.core.errors import InvalidInput
from fieldkit.privacy.detection import PLACE_KINDS, Place, placeholder_for
from fieldkit.hooks.specs import hookimpl
from fieldkit.hooks.registry import Detector
from fieldkit.privacy.spans import Span

__all__ = ["BUILTIN_PLACES_FILE", "Place", "PlacesFileError", "detect_places", "load_places",
           "register_detectors"]

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


def parse_places(data, source: str = "place list") -> tuple:
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


def places_for(context) -> tuple:
    """The places the detector uses for ``context`` (see the module docstring)."""
    places = tuple(getattr(context, "places", ()) or ())
    settings = getattr(context, "settings", None) or {}
    if settings.get("places_file"):
        places += load_places(settings["places_file"])
    if not places and settings.get("places_builtin", True):
        places = load_places()
    return places


def detect_places(text: str, context=None) -> Iterator[Span]:
    """Find listed places and organisations in ``text``."""
    regex, table = _matcher(places_for(context))
    if regex is None:
        return
    for m in regex.finditer(text):
        place = table.get(_key(m.group()))
        if place is None:  # pragma: no cover - every match comes from the table
            continue
        yield Span(m.start(), m.end(), place.kind, "quasi", hint=placeholder_for(place.kind), detector="places")


DETECTOR = Detector("places", detect_places, "prisons, approved premises, courts, offices and areas from a place list")


@hookimpl
def register_detectors(register):
    """Register the place-list detector."""
    register(DETECTOR)
