"""Built-in detectors for identifiers found in UK criminal-justice fieldnotes.

One detector per kind, each registered through ``register_detectors`` like any plugin:

=================  ===============  ==========  =============================================
detector           kind             directness  what it finds
=================  ===============  ==========  =============================================
uk.nino            nino             direct      National Insurance numbers (prefix rules)
uk.nhs             nhs              direct      NHS numbers with a valid mod-11 check digit
uk.postcode        postcode         quasi       full postcodes (Royal Mail position rules)
uk.phone           phone            direct      ``+44`` / ``0`` numbers, many spacings
uk.pnc             pnc              direct      PNC IDs with a valid check letter
uk.cro             cro              direct      CRO numbers (and ``SF`` form), check letter
uk.prison_number   prison_number    direct      NOMIS prison numbers, ``A1234BC``
uk.crn             crn              direct      nDelius case reference, only after "CRN" …
uk.dob             dob              quasi       dates of birth, only next to "DOB", "born" …
uk.urn             urn              direct      police/CPS case URNs, ``63GD1946270``
uk.email           email            direct      email addresses
uk.url             url              direct      web addresses (``http(s)://`` or ``www.``)
uk.vehicle         vehicle          direct      current-style number plates, ``AB12 CDE``
=================  ===============  ==========  =============================================

Matching is case-insensitive and word-bounded: an identifier is not found inside a longer run
of letters and digits (an underscore counts as a boundary, so ``notes_QQ123456C`` is found).
Regular expressions are compiled on first use, not at import.

Choices worth knowing:

* National Insurance: the prefix rules are applied (first letter not D F I Q U V, second not
  D F I O Q U V, never BG GB KN NK NT TN ZZ), except that ``QQ``, the specimen prefix used in
  examples, training material and test data, is accepted so that such data is anonymised too.
  A valid prefix that is an everyday lower-case word (``at``, ``as``, ``by``, ``we`` …) counts
  only when the digits follow it directly, so ``at 10 30 15 a.m.`` is not a NINO.
* NHS, PNC and CRO numbers with a wrong check character are not reported: with ten bare
  digits or a short ``yy/serial`` form, the check is what tells an identifier from other
  numbers. Setting ``uk.verify_checks`` to ``False`` in ``DetectContext.settings`` reports
  them whatever the check character.
* The ``SF`` form of a CRO number is checked over the year followed by the serial padded to
  six digits (as documented) and also over the serial as written (as some validators do); a
  letter matching either is accepted.
* ``12/34X`` reads as both a PNC ID and a CRO number. When both check letters fit, the label
  nearest before it (``PNC`` or ``CRO``, within 30 characters) decides; with no label both
  detectors report it and the configured order decides.
* CRNs (letter + six digits) collide with many codes, so one is reported only when "CRN",
  "case ref", "case reference" or "nDelius"/"Delius" (optionally followed by "no." or
  "number") ends within 30 characters before it with no sentence break in between (``. ! ?
  ;`` followed by a space, or a line break), or when it is the next item of a list that
  started with a reported CRN (``CRNs X1…, X2… and X3…``: only spaces, commas, ``; / &``,
  "and", "or" between them).
* Dates are reported as dates of birth only with context: "DOB", "D.O.B.", "date of birth",
  "birth date", "birthday", "born" or "aged" ending within 30 characters before the date,
  with no digits and no sentence break in between; or "DOB" / "date of birth" right after
  it (``12.3.87 (DOB)``). The date must be plausible (a real
  date, from 1900 to today). A year alone is not reported. Forms: see
  ``fieldkit.privacy.detection.DATE_PATTERN``.
* Phone numbers: ``+44``, ``0044`` or ``0``, then 9 or 10 digits starting 1, 2, 3, 5, 7, 8 or 9,
  with at most one space or hyphen between digits, ``(0)`` after ``+44`` and brackets round
  the area code. Ofcom's drama ranges are phone numbers like any other.
* Number plates: only the current (2001-) format; older prefix and suffix plates are not found.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterator, Optional

from fieldkit.privacy.detection import DATE_PATTERN, parse_birth_date
from fieldkit.hooks.specs import hookimpl
from fieldkit.hooks.registry import Detector
from fieldkit.privacy.spans import Span

#: check letters for PNC IDs and CRO numbers, indexed by (number mod 23)
CHECK_LETTERS = "ZABCDEFGHJKLMNPQRTUVWXY"

#: National Insurance prefix rules (HMRC NIM39110)
NINO_BAD_FIRST = frozenset("DFIQUV")
NINO_BAD_SECOND = frozenset("DFIOQUV")
NINO_NEVER_ISSUED = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})
#: the specimen prefix, accepted although the rules above exclude it
NINO_SPECIMEN = frozenset({"QQ"})

#: a sensible default order for these detectors (projects configure their own)
DEFAULT_ORDER = (
    "uk.email", "uk.url", "uk.nino", "uk.nhs", "uk.pnc", "uk.cro", "uk.prison_number",
    "uk.crn", "uk.urn", "uk.phone", "uk.vehicle", "uk.postcode", "uk.dob",
)

_FLAGS = re.IGNORECASE | re.ASCII
_L = r"(?<![^\W_])"  # not just after a letter or digit
_R = r"(?![^\W_])"  # not just before a letter or digit
# the same as _L, checked after the first character: a pattern that starts with a digit class
# rather than a look-behind lets the regex engine skip quickly to the next digit
_L1 = r"(?<![^\W_].)"
_S = r"[ \u00a0\-]?"  # one optional space or hyphen
_SP = r"[ \u00a0]?"  # one optional space
_REACH = 30  # characters a context word may be before what it introduces

# Royal Mail position rules
_P1 = "[A-PR-UWYZ]"  # not Q V X
_P2 = "[A-HK-Y]"  # not I J Z
_P3 = "[A-HJKPSTUW]"  # third position of A9A
_P4 = "[ABEHMNPRVWXY]"  # fourth position of AA9A
_INWARD_LETTER = "[ABD-HJLNP-UW-Z]"  # not C I K M O V
_OUTWARD = rf"(?:{_P1}\d\d?|{_P1}{_P2}\d\d?|{_P1}\d{_P3}|{_P1}{_P2}\d{_P4})"

_PATTERNS = {
    "nino": rf"{_L}(?P<prefix>[A-Z]{{2}}){_S}\d{{2}}{_S}\d{{2}}{_S}\d{{2}}{_S}(?P<suffix>[A-D]){_R}",
    "nhs": rf"(?P<a>\d{_L1}\d{{2}}){_S}(?P<b>\d{{3}}){_S}(?P<c>\d{{4}}){_R}",
    "postcode": rf"{_L}(?:GIR{_SP}0AA|{_OUTWARD}{_SP}\d{_INWARD_LETTER}{{2}}){_R}",
    "phone": (
        r"(?<![^\W_])(?<!\+)"
        r"(?:\+[ \u00a0]?44[ \u00a0]?(?:\(0\)[ \u00a0]?)?|0044[ \u00a0]?(?:\(0\)[ \u00a0]?)?|\(0(?=\d)|0)"
        r"[1-35789](?:(?:[ \u00a0\-]|\)[ \u00a0]?)?\d){8,9}"
        r"(?![^\W_])"
    ),
    "pnc": rf"(?P<year>\d{_L1}(?:\d{{3}}|\d))/(?P<serial>\d{{1,7}})(?P<check>[A-Z]){_R}",
    "cro": rf"(?P<serial>\d{_L1}\d{{0,5}})/(?P<year>\d{{2}})(?P<check>[A-Z]){_R}",
    "cro_sf": rf"{_L}SF{_SP}(?P<year>\d{{2}})/(?P<serial>\d{{1,6}})(?P<check>[A-Z]){_R}",
    "prison_number": rf"{_L}[A-Z]\d{{4}}[A-Z]{{2}}{_R}",
    "crn": rf"{_L}[A-Z]\d{{6}}{_R}",
    "crn_context": (
        rf"{_L}(?:CRNs?|case[ \u00a0]+ref(?:erence)?s?|n?Delius)(?:[ \u00a0]+(?:no|number)\.?)?(?![^\W_])"
    ),
    "crn_list_gap": r"[ \u00a0,;/&]*(?:(?:and|or)[ \u00a0]+)?",
    "urn": rf"\d{_L1}\d{_SP}[A-Z]{{2}}{_SP}\d{{7}}{_R}",
    "date": rf"{_L}{DATE_PATTERN}{_R}",
    "dob_before": (
        rf"{_L}(?:d\.?[ \u00a0]?o\.?[ \u00a0]?b\.?|date[ \u00a0]+of[ \u00a0]+birth|birth[ \u00a0]?date"
        rf"|birthday|born|aged){_R}"
    ),
    "dob_after": r"[ \u00a0]*[(\[,\-]?[ \u00a0]*(?:d\.?o\.?b|date[ \u00a0]+of[ \u00a0]+birth)(?![^\W_])",
    "label": rf"{_L}(?P<label>PNC|CRO){_R}",
    "email": (
        r"(?<![\w.%+\-])[A-Z0-9_%+\-](?:[A-Z0-9._%+\-]*[A-Z0-9_%+\-])?"
        r"@(?:[A-Z0-9](?:[A-Z0-9\-]*[A-Z0-9])?\.)+[A-Z]{2,}(?![\w\-])"
    ),
    "url": r"(?<![\w@/.])(?:https?://|www\.)[^\s<>\"'`{}|\\^\[\]]+",
    "vehicle": (
        rf"{_L}[A-HK-PR-SVWY][A-HJ-PR-Y](?:0[2-9]|[12]\d|5[1-9]|[67]\d){_SP}[A-HJ-PR-Z]{{3}}{_R}"
    ),
}


@lru_cache(maxsize=None)
def _re(name: str) -> re.Pattern:
    return re.compile(_PATTERNS[name], _FLAGS)


def _verify(context) -> bool:
    settings = getattr(context, "settings", None) or {}
    return bool(settings.get("uk.verify_checks", True))


def _context_before(regex: re.Pattern, text: str, start: int, reach: int = _REACH):
    """The last match of ``regex`` ending at most ``reach`` characters before ``start``."""
    found = None
    for m in regex.finditer(text, max(0, start - reach - 40), start):
        if m.end() >= start - reach:
            found = m
    return found


# --------------------------------------------------------------------------- check characters


def nino_prefix_ok(prefix: str, *, allow_specimen: bool = True) -> bool:
    """Whether two letters can begin a National Insurance number."""
    p = prefix.upper()
    if len(p) != 2 or not (p.isascii() and p.isalpha()):
        return False
    if allow_specimen and p in NINO_SPECIMEN:
        return True
    return p[0] not in NINO_BAD_FIRST and p[1] not in NINO_BAD_SECOND and p not in NINO_NEVER_ISSUED


def nhs_check_digit(first_nine: str) -> Optional[int]:
    """The NHS number check digit for nine digits, or ``None`` when no check digit fits (the
    weighted sum gives 10, so no NHS number starts with these nine digits)."""
    digits = [int(c) for c in first_nine if c.isdigit()]
    if len(digits) != 9:
        raise ValueError(f"an NHS number check needs nine digits, got {first_nine!r}")
    total = sum(d * w for d, w in zip(digits, range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def nhs_number_valid(number: str) -> bool:
    """Whether ten digits (spaces and hyphens ignored) form a valid NHS number."""
    digits = re.sub(r"[ \u00a0\-]", "", number)
    if len(digits) != 10 or not digits.isdigit():
        return False
    return nhs_check_digit(digits[:9]) == int(digits[9])


def _two_digit_year(year) -> int:
    text = str(year).strip()
    if not text.isdigit() or len(text) not in (1, 2, 4):
        raise ValueError(f"a year must have two or four digits, got {year!r}")
    return int(text[-2:])


def pnc_check_letter(year2, serial) -> str:
    """The PNC ID check letter: ``CHECK_LETTERS[int(yy + serial padded to 7) % 23]``.

    ``year2`` is the year (two digits, or four of which the last two count); ``serial`` is the
    serial number, up to seven digits.
    """
    yy = _two_digit_year(year2)
    number = int(str(serial))
    if not 0 <= number <= 9_999_999:
        raise ValueError(f"a PNC serial has at most seven digits, got {serial!r}")
    return CHECK_LETTERS[int(f"{yy:02d}{number:07d}") % 23]


def cro_check_letter(year2, serial) -> str:
    """The CRO number check letter: ``CHECK_LETTERS[int(yy + serial padded to 6) % 23]``."""
    yy = _two_digit_year(year2)
    number = int(str(serial))
    if not 0 <= number <= 999_999:
        raise ValueError(f"a CRO serial has at most six digits, got {serial!r}")
    return CHECK_LETTERS[int(f"{yy:02d}{number:06d}") % 23]


def cro_sf_check_letters(year2, serial: str) -> frozenset:
    """Check letters accepted for the ``SF`` form: over the serial padded to six digits and
    over the serial as written (validators differ on this)."""
    yy = _two_digit_year(year2)
    return frozenset({cro_check_letter(yy, serial), CHECK_LETTERS[int(f"{yy:02d}{serial}") % 23]})


def _pnc_valid(m: re.Match) -> bool:
    return pnc_check_letter(m["year"], m["serial"]) == m["check"].upper()


def _cro_valid(m: re.Match) -> bool:
    return cro_check_letter(m["year"], m["serial"]) == m["check"].upper()


def _label(text: str, start: int) -> Optional[str]:
    m = _context_before(_re("label"), text, start)
    return m["label"].upper() if m else None


# --------------------------------------------------------------------------- detectors


def _spans(name: str, kind: str, text: str, directness: str = "direct", check=None) -> Iterator[Span]:
    for m in _re(name).finditer(text):
        if check is None or check(m):
            yield Span(m.start(), m.end(), kind, directness, detector=f"uk.{kind}")


#: lower-case two-letter words that are valid prefixes; "at 10 30 15 a.m." is not a NINO
_NINO_WORDS = frozenset({"am", "an", "as", "at", "by", "ha", "he", "me", "my", "pa", "we", "ye", "ah", "eh"})


def _nino_ok(m: re.Match) -> bool:
    prefix = m["prefix"]
    if prefix in _NINO_WORDS and not m.group()[2:3].isdigit():
        return False  # an everyday word followed by a space: only the compact form counts
    return nino_prefix_ok(prefix)


def detect_nino(text: str, context=None) -> Iterator[Span]:
    """National Insurance numbers: ``QQ 12 34 56 C``, ``QQ123456C``, ``qq-12-34-56-c`` …"""
    return _spans("nino", "nino", text, check=_nino_ok)


def detect_nhs(text: str, context=None) -> Iterator[Span]:
    """NHS numbers, ``999 123 4560`` style or ten bare digits, with the check digit verified."""
    verify = _verify(context)
    return _spans("nhs", "nhs", text, check=lambda m: not verify or nhs_number_valid(m.group()))


def detect_postcode(text: str, context=None) -> Iterator[Span]:
    """Full postcodes (outward and inward code), with or without the space."""
    return _spans("postcode", "postcode", text, "quasi")


def detect_phone(text: str, context=None) -> Iterator[Span]:
    """UK phone numbers written the ways people write them."""
    for m in _re("phone").finditer(text):
        start, found = m.start(), m.group()
        if found.startswith("(") and ")" not in found:
            start += 1  # a stray opening bracket is not part of the number
        yield Span(start, m.end(), "phone", "direct", detector="uk.phone")


def detect_pnc(text: str, context=None) -> Iterator[Span]:
    """PNC IDs, ``2001/0123456F`` or ``01/123456F``, with the check letter verified."""
    verify = _verify(context)
    for m in _re("pnc").finditer(text):
        if verify and not _pnc_valid(m):
            continue
        cro = _re("cro").fullmatch(m.group())
        if cro and _cro_valid(cro) and _label(text, m.start()) == "CRO":
            continue
        yield Span(m.start(), m.end(), "pnc", "direct", detector="uk.pnc")


def detect_cro(text: str, context=None) -> Iterator[Span]:
    """CRO numbers, ``123456/89X`` and ``SF89/123456X``, with the check letter verified."""
    verify = _verify(context)
    for m in _re("cro").finditer(text):
        if verify and not _cro_valid(m):
            continue
        pnc = _re("pnc").fullmatch(m.group())
        if pnc and _pnc_valid(pnc) and _label(text, m.start()) == "PNC":
            continue
        yield Span(m.start(), m.end(), "cro", "direct", detector="uk.cro")
    for m in _re("cro_sf").finditer(text):
        if verify and m["check"].upper() not in cro_sf_check_letters(m["year"], m["serial"]):
            continue
        yield Span(m.start(), m.end(), "cro", "direct", detector="uk.cro")


def detect_prison_number(text: str, context=None) -> Iterator[Span]:
    """NOMIS prison numbers: a letter, four digits, two letters (``A1234BC``)."""
    return _spans("prison_number", "prison_number", text)


def _gap_ok(gap: str, digits: bool) -> bool:
    """Whether the text between a context word and what it introduces keeps them together:
    no sentence break (``. ! ? ;`` before a space, or a line break), and, if ``digits`` is
    false, no digits. A ``.`` or ``:`` right after the context word is allowed."""
    if gap[:1] in (".", ":"):
        gap = gap[1:]
    if re.search(r"[.!?;](?:\s|$)|\n", gap):
        return False
    return digits or not re.search(r"\d", gap)


def detect_crn(text: str, context=None) -> Iterator[Span]:
    """nDelius case reference numbers (a letter and six digits) introduced by a context word."""
    last_end = None
    for m in _re("crn").finditer(text):
        before = _context_before(_re("crn_context"), text, m.start())
        introduced = before is not None and _gap_ok(text[before.end():m.start()], digits=True)
        follows = last_end is not None and _re("crn_list_gap").fullmatch(text, last_end, m.start()) is not None
        if introduced or follows:
            last_end = m.end()
            yield Span(m.start(), m.end(), "crn", "direct", detector="uk.crn")


def _dob_context(text: str, start: int, end: int) -> bool:
    before = _context_before(_re("dob_before"), text, start)
    if before is not None and _gap_ok(text[before.end():start], digits=False):
        return True
    return _re("dob_after").match(text, end) is not None


def _date_candidates(text: str):
    """Dates near a context word: starting up to ``_REACH`` characters after one, or ending
    shortly before one (``12.3.87 (DOB)``). Searching only there is much faster than reading
    every date in the text; :func:`_dob_context` still decides."""
    date_re = _re("date")
    found = set()

    def scan(pos, endpos):
        for m in date_re.finditer(text, pos, endpos):
            full = date_re.match(text, m.start())  # endpos may have cut the date short
            if full is not None and full.end() == m.end():
                found.add((m.start(), m.end()))
            yield m

    for ctx in _re("dob_before").finditer(text):
        for m in scan(ctx.end(), min(len(text), ctx.end() + _REACH + 60)):
            if m.start() > ctx.end() + _REACH:
                break
        for _m in scan(max(0, ctx.start() - 60), ctx.start()):
            pass
    kept, last_end = [], -1
    for start, end in sorted(found, key=lambda se: (se[0], -se[1])):
        if start >= last_end:
            kept.append((start, end))
            last_end = end
    return kept


def detect_dob(text: str, context=None) -> Iterator[Span]:
    """Dates of birth: a plausible date with "DOB", "born", "aged" … just before it."""
    for start, end in _date_candidates(text):
        if parse_birth_date(text[start:end]) is None:
            continue
        if _dob_context(text, start, end):
            yield Span(start, end, "dob", "quasi", detector="uk.dob")


def detect_urn(text: str, context=None) -> Iterator[Span]:
    """Police/CPS case URNs: two digits, two letters, seven digits (``63GD1946270``)."""
    return _spans("urn", "urn", text)


def detect_email(text: str, context=None) -> Iterator[Span]:
    """Email addresses."""
    if "@" not in text:
        return iter(())
    return _spans("email", "email", text)


_URL_TRAILING = ".,;:!?*"


def detect_url(text: str, context=None) -> Iterator[Span]:
    """Web addresses starting ``http://``, ``https://`` or ``www.``; trailing punctuation and an
    unbalanced closing bracket are left out."""
    lowered = text.lower()
    if "http" not in lowered and "www." not in lowered:
        return
    for m in _re("url").finditer(text):
        url = m.group()
        while url:
            if url[-1] in _URL_TRAILING:
                url = url[:-1]
            elif url[-1] == ")" and url.count(")") > url.count("("):
                url = url[:-1]
            else:
                break
        body = re.sub(r"^(?:https?://|www\.)", "", url, flags=re.IGNORECASE)
        if body:
            yield Span(m.start(), m.start() + len(url), "url", "direct", detector="uk.url")


def detect_vehicle(text: str, context=None) -> Iterator[Span]:
    """Current-format vehicle registrations, ``AB12 CDE``."""
    return _spans("vehicle", "vehicle", text)


DETECTORS = (
    Detector("uk.nino", detect_nino, "National Insurance numbers"),
    Detector("uk.nhs", detect_nhs, "NHS numbers (mod-11 check digit verified)"),
    Detector("uk.postcode", detect_postcode, "UK postcodes (quasi-identifier)"),
    Detector("uk.phone", detect_phone, "UK phone numbers"),
    Detector("uk.pnc", detect_pnc, "Police National Computer IDs (check letter verified)"),
    Detector("uk.cro", detect_cro, "Criminal Records Office numbers (check letter verified)"),
    Detector("uk.prison_number", detect_prison_number, "NOMIS prison numbers"),
    Detector("uk.crn", detect_crn, "nDelius case reference numbers (after CRN, case ref, nDelius)"),
    Detector("uk.dob", detect_dob, "dates of birth (after DOB, born, aged; quasi-identifier)"),
    Detector("uk.urn", detect_urn, "police/CPS case URNs"),
    Detector("uk.email", detect_email, "email addresses"),
    Detector("uk.url", detect_url, "web addresses"),
    Detector("uk.vehicle", detect_vehicle, "vehicle registrations (current format)"),
)


@hookimpl
def register_detectors(register):
    """Register the UK identifier detectors."""
    for detector in DETECTORS:
        register(detector)
