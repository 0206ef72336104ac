"""The anonymisation pipeline as pure text functions.

Nothing here touches a project, a database or the plugin manager: callers hand in the text,
the detectors to run (``fieldkit.hooks.registry.Detector``), the configured order and the
replacement styles, and get back new text, an offset map and a log.

The steps:

1. :func:`run_detectors` runs the configured detectors in the configured order and tags
   each span with the name of the detector that found it.
2. :func:`merge_spans` turns overlapping finds into one non-overlapping, sorted list.
3. :func:`make_replacer` builds the function that says what each span becomes
   (``pseudonym``, ``placeholder``, ``redact`` or ``generalise``).
4. :func:`apply_spans` rewrites the text and returns a :class:`Redaction`: the new text, the
   edits as ``(old_start, old_end, new_start, new_end)`` tuples (the offset-map contract the
   rest of fieldkit relies on) and a log that never holds the original text.

:func:`anonymise_text` does all four; :func:`review_candidates` lists what a human should
look at because no detector claimed it.

This module is core: it never imports a plugin. Plugins import :class:`DetectContext`,
:class:`Place` and :func:`parse_birth_date` from here.
"""

from __future__ import annotations

import bisect
import datetime
import re
import unicodedata
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, TYPE_CHECKING, Union

import attrs

from fieldkit.core.errors import InvalidInput, PluginError
from fieldkit.core.patterns import lazy
from fieldkit.privacy.spans import Span

if TYPE_CHECKING:
    from fieldkit.hooks.registry import Detector

__all__ = [
    "PLACE_KINDS",
    "STYLES",
    "DetectContext",
    "DetectorError",
    "LogEntry",
    "Place",
    "Redaction",
    "anonymise_text",
    "apply_spans",
    "make_replacer",
    "merge_spans",
    "normalise_identifier",
    "original_digest",
    "parse_birth_date",
    "placeholder_for",
    "review_candidates",
    "run_detectors",
]

#: the kinds a place or organisation on a place list can have
PLACE_KINDS = ("prison", "approved_premises", "court", "probation_office", "pdu", "local_authority", "other")

#: the replacement styles :func:`make_replacer` understands
STYLES = ("pseudonym", "placeholder", "redact", "generalise")

_STYLE_ALIASES = {"generalize": "generalise", "pseudonymise": "pseudonym", "pseudonymize": "pseudonym"}

#: kinds that the ``generalise`` style reduces to month and year
DATE_KINDS = ("dob", "date")
#: kinds that the ``generalise`` style reduces to a ten-year band (``34`` -> ``[30-39]``)
AGE_KINDS = ("age",)


# --------------------------------------------------------------------------- records


def _as_tuple(value: Any) -> tuple:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _check_place_kind(instance, attribute, value):
    if value not in PLACE_KINDS:
        raise InvalidInput(f"place kind must be one of {', '.join(PLACE_KINDS)}, not {value!r}")


@attrs.frozen(cache_hash=True)
class Place:
    """A place or organisation that can identify someone in combination: a prison, an
    approved premises, a court, a probation office, a PDU, a local authority …

    ``name`` is the usual full name; ``aliases`` are the other ways people write it.
    """

    name: str
    kind: str = attrs.field(default="other", validator=_check_place_kind)
    aliases: tuple = attrs.field(default=(), converter=_as_tuple)

    @property
    def names(self) -> tuple:
        """The name followed by the aliases."""
        return (self.name, *self.aliases)


@attrs.frozen
class DetectContext:
    """What a detector may use besides the text.

    ``people``: key-store entries (objects with ``.pseudonym`` and ``.names``);
    ``places``: :class:`Place` records; ``settings``: project configuration for detectors
    (for example ``places_file``). The settings are copied, so later changes to the dict the
    caller passed in do not reach the detectors.
    """

    people: tuple = attrs.field(default=(), converter=_as_tuple)
    places: tuple = attrs.field(default=(), converter=_as_tuple)
    settings: dict = attrs.field(factory=dict, converter=lambda s: dict(s or {}))


class DetectorError(PluginError):
    """A detector raised an exception or yielded something that is not a usable span."""

    def __init__(self, detector: str, message: str):
        super().__init__(f"detector {detector!r} failed: {message}")
        self.detector = detector


@attrs.frozen
class LogEntry:
    """One replacement, described without the original text.

    ``start``/``end`` are offsets in the original text; ``digest`` is a short hash of the
    normalised original (see :func:`original_digest`) so the same identifier found twice can
    be recognised in the log without the log revealing it.
    """

    start: int
    end: int
    kind: str
    directness: str
    detector: str
    replacement: str
    digest: str


@attrs.frozen
class Redaction:
    """The result of :func:`apply_spans`.

    ``text``: the new text. ``edits``: sorted ``(old_start, old_end, new_start, new_end)``
    tuples, one per replaced span; text outside the edits is unchanged and only shifted.
    ``log``: a :class:`LogEntry` per edit, in the same order.
    """

    text: str
    edits: list = attrs.field(factory=list)
    log: tuple = attrs.field(default=(), converter=_as_tuple)


# --------------------------------------------------------------------------- merging


def merge_spans(spans: Iterable[Span], order: Sequence[str] = ()) -> list[Span]:
    """Sort spans and resolve overlaps, returning sorted, non-overlapping spans.

    The rule:

    * Spans that overlap (share at least one character), directly or through a chain of
      overlaps, form a group. Each group becomes one span covering the union of the group,
      from the smallest start to the largest end.
    * The merged span takes ``kind``, ``directness``, ``hint`` and ``detector`` from the
      group member judged most specific: a ``direct`` span beats a ``quasi`` one; then the
      longer span wins; then the span whose detector comes earlier in ``order`` (detectors not
      in ``order`` come after all that are); then, for a stable result, the earlier start,
      then kind and hint alphabetically.
    * Spans that only touch (one ends where the next starts) are not merged.
    * Empty spans (``start == end``) are dropped: they cover nothing.
    """
    rank_of = {name: i for i, name in enumerate(order)}
    unknown = len(rank_of)

    def specificity(span: Span):
        return (
            0 if span.directness == "direct" else 1,
            -(span.end - span.start),
            rank_of.get(span.detector, unknown),
            span.start,
            span.kind,
            span.hint,
            span.detector,
        )

    items = sorted((s for s in spans if s.end > s.start), key=lambda s: (s.start, s.end))
    merged: list[Span] = []
    group: list[Span] = []
    group_end = -1

    def close():
        if group:
            best = group[0] if len(group) == 1 else min(group, key=specificity)
            if (best.start, best.end) != (group[0].start, group_end):
                best = attrs.evolve(best, start=group[0].start, end=group_end)
            merged.append(best)

    for span in items:
        if group and span.start < group_end:
            group.append(span)
            group_end = max(group_end, span.end)
        else:
            close()
            group = [span]
            group_end = span.end
    close()
    return merged


# --------------------------------------------------------------------------- dates

_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
_MONTH_NUMBERS = {name.lower(): i + 1 for i, name in enumerate(_MONTH_NAMES)}
_MONTH_NUMBERS.update({name[:3].lower(): i + 1 for i, name in enumerate(_MONTH_NAMES)})
_MONTH_NUMBERS["sept"] = 9
# full names first so that "March" is never read as "Mar" + "ch"
_MONTHS = "|".join(sorted(_MONTH_NUMBERS, key=len, reverse=True))
_ORD = r"(?:st|nd|rd|th)?"
_SP = r"[ \t\u00a0]+"

#: the written forms of a date that :func:`parse_birth_date` reads and the DOB detector looks
#: for (no anchors, named groups, compile with ``re.IGNORECASE``):
#: ``12/03/1987``, ``12.3.87``, ``12-03-1987``, ``1987-03-12``, ``12th March 1987``,
#: ``12 Mar 1987``, ``12th of March '87``, ``March 12, 1987``, ``March 1987``, ``Mar '87``
DATE_PATTERN = (
    r"(?:"
    r"(?P<nd>\d{1,2})(?P<sep>[/.\-])(?P<nm>\d{1,2})(?P=sep)(?P<ny>\d{4}|\d{2})"
    r"|(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})"
    rf"|(?P<td>\d{{1,2}}){_ORD}{_SP}(?:of{_SP})?(?P<tm>{_MONTHS})\.?,?{_SP}(?P<ty>\d{{4}}|'\d{{2}}|\d{{2}})"
    rf"|(?P<mdm>{_MONTHS})\.?{_SP}(?P<mdd>\d{{1,2}}){_ORD},?{_SP}(?P<mdy>\d{{4}})"
    rf"|(?P<mym>{_MONTHS})\.?,?{_SP}(?P<myy>\d{{4}}|'\d{{2}})"
    r")"
)


@lru_cache(maxsize=None)
def _date_regex() -> re.Pattern:
    return re.compile(DATE_PATTERN, re.IGNORECASE)


def _full_year(text: str, today: datetime.date) -> int:
    digits = text.lstrip("'")
    year = int(digits)
    if len(digits) == 2:
        year += 2000
        if year > today.year:
            year -= 100
    return year


def parse_birth_date(text: str, today: Optional[datetime.date] = None) -> Optional[tuple[int, int, Optional[int]]]:
    """Read a written date of birth: ``(year, month, day)``, ``day`` ``None`` when only the
    month and year are written, or ``None`` when ``text`` is not a plausible date of birth.

    Numeric dates are day-first (UK order). Two-digit years are taken as the most recent
    year not after today (``87`` -> 1987, ``05`` -> 2005). Plausible means: a real calendar
    date, year 1900 or later, and not after ``today``.
    """
    today = today or datetime.date.today()
    match = _date_regex().fullmatch(text.strip())
    if not match:
        return None
    g = match.groupdict()
    if g["nd"]:
        day, month, year = int(g["nd"]), int(g["nm"]), _full_year(g["ny"], today)
    elif g["iy"]:
        day, month, year = int(g["id"]), int(g["im"]), int(g["iy"])
    elif g["td"]:
        day, month, year = int(g["td"]), _MONTH_NUMBERS[g["tm"].lower()], _full_year(g["ty"], today)
    elif g["mdm"]:
        day, month, year = int(g["mdd"]), _MONTH_NUMBERS[g["mdm"].lower()], int(g["mdy"])
    else:
        day, month, year = None, _MONTH_NUMBERS[g["mym"].lower()], _full_year(g["myy"], today)
    if year < 1900 or not 1 <= month <= 12:
        return None
    if day is None:
        if (year, month) > (today.year, today.month):
            return None
        return (year, month, None)
    try:
        date = datetime.date(year, month, day)
    except ValueError:
        return None
    if date > today:
        return None
    return (year, month, day)


# --------------------------------------------------------------------------- replacing


@lru_cache(maxsize=256)
def placeholder_for(kind: str) -> str:
    """``prison`` -> ``[PRISON]``; ``prison_number`` -> ``[PRISON_NUMBER]``."""
    label = re.sub(r"[^0-9A-Z_]+", "_", str(kind).upper()).strip("_")
    return f"[{label or 'REDACTED'}]"


def _bracket(label: str) -> str:
    label = label.strip()
    if label.startswith("[") and label.endswith("]"):
        return label
    return f"[{label}]"


def _normalise_style(style: str, kind: str) -> str:
    name = _STYLE_ALIASES.get(str(style).strip().lower(), str(style).strip().lower())
    if name not in STYLES:
        raise InvalidInput(
            f"unknown replacement style {style!r} for {kind!r}; choose one of {', '.join(STYLES)}"
        )
    return name


def make_replacer(styles: Optional[Mapping] = None, lookup: Optional[Callable[[str, str], Optional[str]]] = None
                  ) -> Callable[[Span, str], str]:
    """Return ``replace(span, original) -> str`` for :func:`apply_spans`.

    ``styles`` maps a span kind to a style, with ``default`` for every other kind (itself
    defaulting to ``placeholder``); the project configuration shape
    ``{"styles": {...}}`` is accepted too. The styles:

    * ``pseudonym``: the span's hint in brackets (``P03`` -> ``[P03]``; a hint already in
      brackets, such as ``[PRISON]``, is kept as it is); a span without a hint gets a placeholder.
    * ``placeholder``: the kind in capitals, ``[NINO]``, ``[PRISON]``.
    * ``redact``: ``[REDACTED]``.
    * ``generalise``: dates of birth keep only month and year (``12/03/1987`` ->
      ``[March 1987]``), ages their ten-year band (``34`` -> ``[30-39]``); every other kind,
      and a date or age that cannot be read, gets a placeholder.

    ``lookup(kind, normalised)`` (the key store's) gives consistent replacements across
    records, e.g. the same prison is always ``[PRISON-2]``. It receives the span's ``key``
    (or its text) passed through :func:`normalise_identifier`, so ``QQ 12 34 56 C`` and
    ``qq123456c`` get the same replacement. When it returns a string, that
    string is the replacement, for the ``pseudonym`` and ``placeholder`` styles. It is not
    consulted for ``redact`` (which keeps no trace on purpose) or ``generalise`` (whose output
    is already the same for the same original). Unknown style names raise ``ValueError`` here,
    before any text is touched.
    """
    table = dict(styles or {})
    if isinstance(table.get("styles"), Mapping):
        table = dict(table["styles"])
    resolved = {kind: _normalise_style(style, kind) for kind, style in table.items()}
    default = resolved.pop("default", "placeholder")

    def replace(span: Span, original: str) -> str:
        style = resolved.get(span.kind, default)
        if style == "redact":
            return "[REDACTED]"
        if style == "generalise":
            if span.kind in DATE_KINDS:
                parsed = parse_birth_date(original)
                if parsed is not None:
                    year, month, _day = parsed
                    return f"[{_MONTH_NAMES[month - 1]} {year}]"
            if span.kind in AGE_KINDS:
                digits = re.search(r"\d+", original)
                if digits and int(digits.group()) < 130:
                    band = int(digits.group()) // 10 * 10
                    return f"[{band}-{band + 9}]"
            return placeholder_for(span.kind)
        if lookup is not None:
            found = lookup(span.kind, normalise_identifier(span.kind, span.key or original))
            if found is not None:
                return found
        if style == "pseudonym" and span.hint.strip():
            return _bracket(span.hint)
        if style == "placeholder" or style == "pseudonym":
            return placeholder_for(span.kind)
        raise AssertionError(style)  # pragma: no cover - styles were checked above

    return replace


_DIGEST_STRIP = lazy(r"[\s\-./()]+")
_NOT_ALNUM = lazy(r"[\W_]+")
_APOSTROPHE_FOLD = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})

#: kinds whose written form varies only by spacing, punctuation and case
COMPACT_KINDS = frozenset({"nino", "nhs", "postcode", "postcode_district", "vehicle", "prison_number",
                           "crn", "urn", "cro", "court_case"})


def normalise_identifier(kind: str, text: str) -> str:
    """The form of an identifier that decides its consistent replacement: the same identifier
    written with other spacing, case or national/international form gives the same string.

    * ``nino``, ``nhs``, ``postcode``, ``vehicle``, ``prison_number``, ``crn``, ``urn``,
      ``cro``, ``court_case``: letters and digits only, lower case (``QQ 12 34 56 C`` ->
      ``qq123456c``, ``NG7 2RD`` -> ``ng72rd``);
    * ``phone``: digits in national form (``+44 (0)7700 900123``, ``0044 7700 900123`` and
      ``07700-900-123`` -> ``07700900123``);
    * ``pnc``: two-digit year, serial without leading zeros, check letter
      (``2001/0123456A`` -> ``01/123456a``);
    * ``email``, ``handle``: lower case, no surrounding space (a handle without its ``@``);
    * ``url``: lower case, without ``http(s)://``, ``www.`` and a trailing ``/``;
    * anything else (names, places): NFC, case-folded, straight apostrophes, single spaces.
    """
    folded = unicodedata.normalize("NFKC", str(text)).casefold().translate(_APOSTROPHE_FOLD)
    if kind in COMPACT_KINDS:
        return _NOT_ALNUM.sub("", folded)
    if kind == "phone":
        digits = re.sub(r"\D", "", folded.replace("(0)", ""))
        if digits.startswith("0044"):
            digits = "0" + digits[4:]
        elif digits.startswith("44") and folded.lstrip().startswith("+"):
            digits = "0" + digits[2:]
        return digits
    if kind == "pnc":
        m = re.fullmatch(r"\s*(\d{2}|\d{4})\s*/\s*(\d+)\s*([a-z])\s*", folded)
        if m:
            return f"{m.group(1)[-2:]}/{int(m.group(2))}{m.group(3)}"
        return _NOT_ALNUM.sub("", folded)
    if kind in ("email", "handle"):
        return folded.strip().lstrip("@")
    if kind == "url":
        url = re.sub(r"^\s*(?:https?://)?(?:www\.)?", "", folded.strip())
        return url.rstrip("/")
    return " ".join(folded.split())


def original_digest(original: str, key: bytes = b"") -> str:
    """A short (12 hex digits) hash of an original, for the anonymisation log.

    The original is normalised first (NFKC, case-folded, spaces and ``- . / ( )`` removed)
    so ``QQ 12 34 56 C`` and ``qq123456c`` hash alike. Identifiers come from small spaces and
    an unkeyed hash of one can be reversed by trying them all, so pass a secret ``key`` (the
    key store's) whenever the log leaves the researcher's machine.
    """
    import hashlib
    import hmac

    norm = _DIGEST_STRIP.sub("", unicodedata.normalize("NFKC", original).casefold()).encode("utf-8")
    if key:
        return hmac.digest(key, norm, "sha256").hex()[:12]  # one-shot: as hmac.new, faster
    return hashlib.sha256(norm).hexdigest()[:12]


def apply_spans(text: str, spans: Iterable[Span], replace: Callable[[Span, str], str], *,
                hash_key: bytes = b"") -> Redaction:
    """Replace each span of ``text`` with ``replace(span, original)``.

    ``spans`` must not overlap (pass them through :func:`merge_spans` first); they are sorted
    here. Empty spans are skipped. Raises ``ValueError`` for overlapping spans or spans
    outside the text.
    """
    ordered = sorted((s for s in spans if s.end > s.start), key=lambda s: (s.start, s.end))
    pieces: list[str] = []
    edits: list[tuple[int, int, int, int]] = []
    log: list[LogEntry] = []
    pos = 0  # in the old text
    new_pos = 0
    for span in ordered:
        if span.end > len(text):
            raise ValueError(f"span [{span.start}, {span.end}) lies outside a text of length {len(text)}")
        if span.start < pos:
            raise ValueError(f"spans overlap at [{span.start}, {span.end}); merge them with merge_spans first")
        keep = text[pos:span.start]
        pieces.append(keep)
        new_pos += len(keep)
        original = text[span.start:span.end]
        replacement = replace(span, original)
        if not isinstance(replacement, str):
            raise TypeError(f"a replacement must be a string, not {type(replacement).__name__}")
        pieces.append(replacement)
        edits.append((span.start, span.end, new_pos, new_pos + len(replacement)))
        log.append(LogEntry(span.start, span.end, span.kind, span.directness, span.detector,
                            replacement, original_digest(original, hash_key)))
        new_pos += len(replacement)
        pos = span.end
    pieces.append(text[pos:])
    return Redaction("".join(pieces), edits, tuple(log))


# --------------------------------------------------------------------------- running


def _index_detectors(detectors) -> dict:
    if isinstance(detectors, Mapping):
        return dict(detectors)
    found: dict = {}
    for detector in detectors:
        name = detector.name
        if name in found and found[name] != detector:
            raise ValueError(f"two different detectors are registered as {name!r}")
        found[name] = detector
    return found


def run_detectors(text: str, detectors: Union[Iterable[Detector], Mapping[str, Detector]], context: Optional[DetectContext] = None,
                  order: Optional[Sequence[str]] = None) -> list[Span]:
    """Run the detectors named in ``order``, in that order, and return their merged spans.

    ``detectors`` is an iterable of ``fieldkit.hooks.registry.Detector`` or a mapping from name to
    detector (what the plugin manager returns). ``order`` comes from project configuration:
    registered detectors not named in it do not run, a name listed twice runs once, and a name
    with no registered detector raises ``ValueError`` naming it. An empty ``order`` runs
    nothing. Each span is tagged with the name its detector was registered under. A detector
    that raises, or yields something other than a ``Span`` inside the text, raises
    :class:`DetectorError` naming the detector.
    """
    if order is None:
        raise ValueError("run_detectors needs the configured detector order (a list of detector names)")
    if isinstance(order, str):
        order = [order]
    context = context if context is not None else DetectContext()
    by_name = _index_detectors(detectors)
    names = list(dict.fromkeys(order))
    missing = [name for name in names if name not in by_name]
    if missing:
        known = ", ".join(sorted(by_name)) or "none"
        raise InvalidInput(
            f"unknown detector{'s' if len(missing) > 1 else ''} in the configured order: "
            f"{', '.join(missing)} (registered: {known})"
        )
    found: list[Span] = []
    for name in names:
        detector = by_name[name]
        try:
            produced = list(detector.detect(text, context) or ())
        except DetectorError:
            raise
        except Exception as exc:
            raise DetectorError(name, f"{type(exc).__name__}: {exc}") from exc
        for span in produced:
            if not isinstance(span, Span):
                raise DetectorError(name, f"yielded {type(span).__name__}, not a Span")
            if span.end > len(text):
                raise DetectorError(name, f"span [{span.start}, {span.end}) lies outside the text")
            found.append(span if span.detector == name else attrs.evolve(span, detector=name))
    return merge_spans(found, names)


def anonymise_text(text: str, detectors: Union[Iterable[Detector], Mapping[str, Detector]], context: Optional[DetectContext] = None, *,
                   order: Sequence[str], styles: Optional[Mapping] = None,
                   lookup: Optional[Callable[[str, str], Optional[str]]] = None,
                   hash_key: bytes = b"") -> Redaction:
    """Detect, merge and replace in one call (see :func:`run_detectors`, :func:`make_replacer`
    and :func:`apply_spans`)."""
    replace = make_replacer(styles, lookup)  # first, so a bad style fails before detectors run
    spans = run_detectors(text, detectors, context, order)
    return apply_spans(text, spans, replace, hash_key=hash_key)


# --------------------------------------------------------------------------- review mode

_WORD = lazy(r"[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*")
_DIGITS = lazy(r"(?<!\d)\d{3,}(?!\d)")
_SENTENCE_END = ".!?:"
_SKIP_BACK = " \t\u00a0\"'\u201c\u2018([*->#"
_NOT_NAMES = frozenset(
    w.casefold() for w in (
        "I", "I'm", "I've", "I'd", "I'll",
        *_MONTH_NAMES, "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
    )
)


#: words that are capitalised at the start of a sentence only because they start it; they are
#: dropped from the front of a run there ("The EbE" -> "EbE", "Later Garside" -> "Garside")
_SENTENCE_WORDS = frozenset("""
    a an the and but or so then later after before when while if as at in on of to for from
    with by during since until yesterday today tomorrow this that these those there here it its
    he she they we you i my his her their our your me him them us who what where why how
    also afterwards meanwhile however although though because once still yet no yes not
    some all each every one both
""".split())


def _at_sentence_start(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and text[i] in _SKIP_BACK:
        i -= 1
    return i < 0 or text[i] == "\n" or text[i] in _SENTENCE_END


def review_candidates(text: str, covered_spans: Iterable[Span]) -> list[Span]:
    """Review mode: what might identify someone that no detector covered.

    Flags, as kind ``review``, directness ``quasi``, detector ``review``:

    * capitalised words (first letter upper-case, at least one lower-case letter, so ``SPO``
      and ``I`` are not flagged); consecutive capitalised words separated by one space make
      one candidate (``Sam Garside``). Month and weekday names are ignored. At the start of a
      sentence or line (after ``. ! ? :``, a line break, or the start of the text) a leading
      everyday word (``The``, ``Later``, ``She`` …) is dropped from the run; otherwise a
      candidate there is flagged only when it is clearly a name: two or more capitalised
      words (``Sam Garside said``), or a word that also appears capitalised mid-sentence
      somewhere in the text;
    * digit strings of three or more digits.

    Words and digit strings overlapping a covered span are left out (a run of capitalised
    words is split around a covered word). The result is sorted.
    """
    covered = merge_spans(covered_spans)
    starts = [s.start for s in covered]

    def is_covered(start: int, end: int) -> bool:
        i = bisect.bisect_right(starts, end - 1) - 1
        return i >= 0 and covered[i].end > start

    words = []
    for m in _WORD.finditer(text):
        w = m.group()
        if (w[0].isupper() and any(c.islower() for c in w) and w.casefold() not in _NOT_NAMES
                and not is_covered(m.start(), m.end())):
            words.append((m.start(), m.end(), w))
    runs: list[list[tuple[int, int, str]]] = []
    for word in words:
        if runs and text[runs[-1][-1][1]:word[0]] == " ":
            runs[-1].append(word)
        else:
            runs.append([word])
    mid_sentence_words = {
        w.casefold() for run in runs for (s, e, w) in run
        if not (_at_sentence_start(text, run[0][0]) and (s, e, w) == run[0])
    }
    candidates = []
    for run in runs:
        if _at_sentence_start(text, run[0][0]):
            if run[0][2].casefold() in _SENTENCE_WORDS:
                run = run[1:]  # the rest of the run is now mid-sentence
            elif len(run) == 1 and run[0][2].casefold() not in mid_sentence_words:
                continue
        if not run:
            continue
        start, end = run[0][0], run[-1][1]
        candidates.append(Span(start, end, "review", "quasi", detector="review"))
    for m in _DIGITS.finditer(text):
        if not is_covered(m.start(), m.end()):
            candidates.append(Span(m.start(), m.end(), "review", "quasi", detector="review"))
    candidates.sort(key=lambda s: (s.start, s.end))
    return candidates
