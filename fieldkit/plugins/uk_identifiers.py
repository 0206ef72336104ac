"""Built-in detectors for identifiers found in UK criminal-justice fieldnotes.

One detector per kind, each registered through ``register_detectors`` like any plugin:

=================  ===============  ==========  =============================================
detector           kind             directness  what it finds
=================  ===============  ==========  =============================================
uk.nino            nino             direct      National Insurance numbers (prefix rules)
uk.nhs             nhs              direct      NHS numbers with a valid mod-11 check digit
uk.postcode        postcode         quasi       full postcodes (Royal Mail position rules), and
                                                outward codes (``NG7``) next to "postcode", "area" …
uk.phone           phone            direct      ``+44`` / ``0`` numbers, spaces, hyphens or dots
uk.pnc             pnc              direct      PNC IDs with a valid check letter
uk.cro             cro              direct      CRO numbers (and ``SF`` form), check letter
uk.prison_number   prison_number    direct      NOMIS prison numbers, ``A1234BC``
uk.crn             crn              direct      nDelius case references: a letter and six digits
uk.dob             dob / date       quasi       dates of birth next to "DOB", "born" …; every
                                                date when the setting ``coarsen_dates`` is on
uk.age             age              quasi       ages: ``34-year-old``, ``aged 34``, ``turned 34``
uk.urn             urn              direct      police/CPS case URNs, ``63GD1946270``
uk.court_case      court_case       direct      Crown Court case numbers, ``T20237001``
uk.email           email            direct      email addresses
uk.url             url              direct      web addresses (``http(s)://`` or ``www.``)
uk.handle          handle           direct      social media handles, ``@dana_k85`` (not ``@P03``)
uk.vehicle         vehicle          direct      number plates: current ``AB12 CDE``, prefix
                                                ``A123 BCD`` and suffix ``ABC 123D`` styles
uk.address         address          direct /    street addresses: ``24 Tennyson Road``,
                                    quasi       ``flat 3, 65 Canal Side`` (direct); a street
                                                name alone, ``Tennyson Road`` (quasi)
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
* CRNs (a letter and six digits) are reported wherever they stand, with or without "CRN"
  before them: in fieldnotes that shape is almost always a case reference, and missing one
  costs more than replacing a room code.
* Dates are reported as dates of birth only with context: "DOB", "D.O.B.", "date of birth",
  "birth date", "birthday", "born" or "aged" ending within 30 characters before the date,
  with no digits and no sentence break in between; or "DOB" / "date of birth" right after
  it (``12.3.87 (DOB)``). The date must be plausible (a real
  date, from 1900 to today). A year alone is not reported. Forms: see
  ``fieldkit.privacy.detection.DATE_PATTERN``.
* Phone numbers: ``+44``, ``0044`` or ``0``, then 9 or 10 digits starting 1, 2, 3, 5, 7, 8 or 9,
  with at most one space, hyphen or dot between digits, ``(0)`` after ``+44`` and brackets
  round the area code. Ofcom's drama ranges are phone numbers like any other.
* Number plates: the current (2001-) format in any case; the prefix (1983-2001) and suffix
  (1963-1983) formats only in capitals, since in lower case they read as words and numbers.
* Full postcodes: the outward code may use any one or two letters (the inward code,
  digit and two letters, makes the shape clear); Royal Mail's position rules apply only to
  an outward code on its own.
* Partial postcodes: an outward code alone (``NG7``, ``SW1A``) only with "postcode",
  "post code" or "postal district" shortly before it (then any one or two letters), or
  "area", "district" or "postcode" right after it (then only letters Royal Mail uses there).
* Ages: a number of years before "year old" (``34-year-old``, ``34 years old``, ``34 yrs
  old``, ``34yo``) or after "aged", "age", "turned", "turns"; two digits after "I'm", "she
  is", "he's", "they are", "who is" or "is"/"was" after a capitalised word, when a count is
  unlikely to follow (``I'm 41 now``, ``Dana is 34 and``), or in brackets after a word
  (``Dana (34)``). The span is the number, which the
  ``generalise`` style turns into its ten-year band (``[30-39]``).
* Crown Court case numbers: ``T``, ``S``, ``A`` or ``U``, a year from 1990 and a four-digit
  serial (``T20237001``, ``T2023 7001``).
* Handles: ``@`` then 2-30 letters, digits, ``_`` or ``.``, not inside an email address and
  not shaped like a fieldkit mention of a pseudonym (``@P03``, ``@S2``).
* Street addresses: a house number (``24``, ``12a``, ``3-5``), optionally after "flat",
  "apartment", "unit" or "room" and its number, then one to three capitalised words and a
  street word (``Road``, ``Street``, ``Lane``, ``Close``, ``Side`` …); or, without a number,
  capitalised words before a street word that is rarely anything else (``Road``,
  ``Street``, ``Lane``, ``Avenue``, ``Crescent``, ``Terrace``, ``Gardens``, ``Grove``,
  ``Mews``, ``Drive``, ``Close``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, Iterator, Optional, TYPE_CHECKING, Union

from fieldkit.privacy.detection import DATE_PATTERN, parse_birth_date
from fieldkit.hooks.specs import hookimpl
from fieldkit.hooks.registry import Detector
from fieldkit.privacy.spans import Span

if TYPE_CHECKING:
    from fieldkit.privacy.detection import DetectContext

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
    "uk.email", "uk.url", "uk.handle", "uk.nino", "uk.nhs", "uk.pnc", "uk.cro", "uk.prison_number",
    "uk.crn", "uk.urn", "uk.court_case", "uk.phone", "uk.vehicle", "uk.address", "uk.postcode",
    "uk.dob", "uk.age",
)

_FLAGS = re.IGNORECASE | re.ASCII
_L = r"(?<![^\W_])"  # not just after a letter or digit
_R = r"(?![^\W_])"  # not just before a letter or digit
# the same as _L, checked after the first character: a pattern that starts with a digit class
# rather than a look-behind lets the regex engine skip quickly to the next digit
_L1 = r"(?<![^\W_].)"
# after the first digit: the letters matched by the pattern put in for {0} just before it,
# with no letter or digit before them
_LETTER1 = r"(?<![^\W_]{0}.)(?<={0}.)"
#: patterns whose match starts this many characters after the identifier (see _LETTER1)
_LEAD = {"prison_number": 1, "crn": 1, "court_case": 1, "vehicle": 2}
_PHONE_L = r"(?<![^\W_].)(?<!\+.)"
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
#: the outward code of a full postcode, whose inward code makes the shape unmistakable
_ANY_OUTWARD = r"(?:[A-Z]{1,2}\d[A-Z\d]?)"

#: street words: after a house number any of these ends an address
STREET_WORDS = (
    "Road", "Rd", "Street", "St", "Lane", "Ln", "Avenue", "Ave", "Close", "Drive", "Dr", "Way", "Court",
    "Ct", "Crescent", "Cres", "Place", "Pl", "Grove", "Gardens", "Gdns", "Terrace", "Walk", "Row",
    "Square", "Sq", "Hill", "Park", "Mews", "Rise", "View", "Green", "Side", "Parade", "Vale", "Wharf",
    "Quay", "Gate", "Yard", "Fold", "Croft", "Chase", "Meadow", "Meadows", "Bank", "End", "Boulevard",
    "Approach", "Circus", "Embankment", "Passage", "Hollow", "Heights", "Broadway", "Villas",
)
#: street words that end a street name even without a house number
STRONG_STREET_WORDS = ("Road", "Street", "Lane", "Avenue", "Crescent", "Terrace", "Gardens", "Grove",
                       "Mews", "Drive", "Close")
_CAPWORD = r"[A-Z][a-z'\u2019]+(?:-[A-Z]?[a-z'\u2019]+)*"

_PATTERNS = {
    "nino": rf"{_L}(?P<prefix>[A-Z]{{2}}){_S}\d{{2}}{_S}\d{{2}}{_S}\d{{2}}{_S}(?P<suffix>[A-D]){_R}",
    "nhs": rf"(?P<a>\d{_L1}\d{{2}}){_S}(?P<b>\d{{3}}){_S}(?P<c>\d{{4}}){_R}",
    # a full postcode: any one or two letters for the area (fictional and newly created
    # areas break Royal Mail's position rules), the inward code as Royal Mail writes it
    "postcode": rf"{_L}(?:GIR{_SP}0AA|{_ANY_OUTWARD}{_SP}\d{_INWARD_LETTER}{{2}}){_R}",
    # each way of starting looks back past its first character (not after a letter, digit or
    # "+"), so the engine can skip ahead to a "+", "0" or "("
    "phone": (
        rf"(?:\+{_PHONE_L}[ \u00a0]?44[ \u00a0]?(?:\(0\)[ \u00a0]?)?|0{_PHONE_L}044[ \u00a0]?(?:\(0\)[ \u00a0]?)?"
        rf"|\({_PHONE_L}0(?=\d)|0{_PHONE_L})"
        r"[1-35789](?:(?:[ \u00a0\-.]|\)[ \u00a0]?)?\d){8,9}"
        r"(?![^\W_])"
    ),
    "pnc": rf"(?P<year>\d{_L1}(?:\d{{3}}|\d))/(?P<serial>\d{{1,7}})(?P<check>[A-Z]){_R}",
    "cro": rf"(?P<serial>\d{_L1}\d{{0,5}})/(?P<year>\d{{2}})(?P<check>[A-Z]){_R}",
    "cro_sf": rf"(?-i:[Ss]){_L1}F{_SP}(?P<year>\d{{2}})/(?P<serial>\d{{1,6}})(?P<check>[A-Z]){_R}",
    # these three begin with one letter (_LEAD): the match starts at the first digit and looks
    # back at the letter, so the engine can skip to digits (the span starts at the letter)
    "prison_number": rf"\d{_LETTER1.format('[A-Z]')}\d{{3}}[A-Z]{{2}}{_R}",
    "crn": rf"\d{_LETTER1.format('[A-Z]')}\d{{5}}{_R}",
    "court_case": rf"(?:1{_LETTER1.format('[TSAU]')}99\d|2{_LETTER1.format('[TSAU]')}0\d\d)[ \u00a0/]?\d{{4}}{_R}",
    "outward": rf"{_L}{_OUTWARD}{_R}",
    "any_outward": rf"{_L}{_ANY_OUTWARD}{_R}",
    "postcode_before": r"(?:post[ \u00a0]?code|postal[ \u00a0]+(?:district|area))s?\b[^.!?\n\d]{0,25}\Z",
    "postcode_after": r"[ \u00a0]+(?:area|district|postcode|post[ \u00a0]code|way)\b",
    # "round NG7 way", "up SK4 way": the idiom names a district whatever its letters
    "postcode_way": r"(?:round|around|near|over|up|down|out)[ \u00a0]+\Z",
    # ages, one pattern per way of writing them, each starting with a digit or a word
    "age_years": r"(?P<n>\d(?<![\w.]\d)\d{0,2})(?:[ \u00a0\-]*(?:years?|yrs?)[ \u00a0\-]*old|[ \u00a0]?y/?o)(?![^\W_])",
    # age_word and age_is: the first letter (without IGNORECASE, so the engine can skip ahead
    # to one), then \b as a look-back past it, then the rest of each word in the original order
    "age_word": (
        r"(?-i:[AaTt])(?<!\w.)(?:(?<=a)(?:ged|ge)|(?<=t)(?:urned|urns))"
        r"[ \u00a0:]+(?P<n>\d{1,3})(?![\d.,:/]\d|[^\W_])"
    ),
    # "I'm 41 now", "she is 34,", "Dana is 34 and": two digits, where a count is unlikely
    "age_is": (
        r"(?-i:[IiSsHhTtWw])(?<!\w.)(?:(?<=i)['\u2019]m|(?<=i)[ \u00a0]+am"
        r"|(?:(?<=s)he|(?<=h)e|(?<=t)hey|(?<=w)ho)(?:['\u2019][sr]e?|[ \u00a0]+(?:is|are|was))|(?<=i)s|(?<=w)as)"
        r"[ \u00a0]+(?P<n>[1-9]\d)(?=[ \u00a0]*(?:now|years|yrs|and|but|[,.;)]|$))"
    ),
    "age_bracket": r"\((?P<n>[1-9]\d)\)",
    "handle": r"(?<![\w@./+\-])@(?P<h>[A-Z0-9_](?:[A-Z0-9_.]{0,28}[A-Z0-9_])?)(?![\w@]|\.[A-Z0-9])",
    "urn": rf"\d{_L1}\d{_SP}[A-Z]{{2}}{_SP}\d{{7}}{_R}",
    "date": rf"{_L}{DATE_PATTERN}{_R}",
    # dob, d.o.b., date of birth | birth date, birthday, born | aged: the first letter (matched
    # without IGNORECASE, so the engine can skip ahead to one), then the look-back past it
    "dob_before": (
        rf"(?-i:[DdBbAa]){_L1}(?:(?<=d)(?:\.?[ \u00a0]?o\.?[ \u00a0]?b\.?|ate[ \u00a0]+of[ \u00a0]+birth)"
        rf"|(?<=b)(?:irth[ \u00a0]?date|irthday|orn)|(?<=a)ged){_R}"
    ),
    "dob_after": r"[ \u00a0]*[(\[,\-]?[ \u00a0]*(?:d\.?o\.?b|date[ \u00a0]+of[ \u00a0]+birth)(?![^\W_])",
    "label": rf"{_L}(?P<label>PNC|CRO){_R}",
    "email": (
        r"(?<![\w.%+\-])[A-Z0-9_%+\-](?:[A-Z0-9._%+\-]*[A-Z0-9_%+\-])?"
        r"@(?:[A-Z0-9](?:[A-Z0-9\-]*[A-Z0-9])?\.)+[A-Z]{2,}(?![\w\-])"
    ),
    "url": r"(?<![\w@/.])(?:https?://|www\.)[^\s<>\"'`{}|\\^\[\]]+",
    # two letters (_LEAD), then the two-digit age identifier: the match starts at its first digit
    "vehicle": (
        rf"\d{_LETTER1.format('[A-HK-PR-SVWY][A-HJ-PR-Y]')}(?:(?<=0)[2-9]|(?<=[12])\d|(?<=5)[1-9]|(?<=[67])\d)"
        rf"{_SP}[A-HJ-PR-Z]{{3}}{_R}"
    ),
}

# case-sensitive patterns (compiled without IGNORECASE)
_CASED = {
    # first letter, then the look-back past it (as _L1), then which style that letter allows
    "vehicle_old": (
        r"[A-HJ-Y](?<![^\W_].)(?:(?<=[A-HJ-NP-Y])\d{1,3}[ \u00a0]?[A-HJ-PR-Y]{3}"  # prefix style, A123 BCD
        r"|(?<=[A-HJ-PR-Y])[A-HJ-PR-Y]{2}[ \u00a0]?\d{1,3}[ \u00a0]?[A-HJ-NP-Y])(?![^\W_])"  # suffix style, ABC 123D
    ),
    # both forms begin with a house number; its first digit is taken out of the alternatives
    # so that the engine can skip ahead to a digit
    "address": (
        r"\d(?:\d{0,3}[A-Za-z]?(?:[\-\u2013]\d{1,4}[A-Za-z]?)?,?[ \u00a0]+"
        rf"(?:{_CAPWORD}[ \u00a0]+){{1,3}}(?:{'|'.join(STREET_WORDS)})(?![^\W_])"
        r"|\d{0,3}[a-z]?[ \u00a0]+(?:[a-z]+[ \u00a0]+){1,2}(?:road|street|lane|avenue|crescent|terrace|gardens)(?![^\W_]))"
    ),
    "flat_before": r"(?<![^\W_])(?:[Ff]lat|FLAT|[Aa]partment|[Aa]pt\.?|[Uu]nit|[Rr]oom)[ \u00a0]+[0-9A-Za-z]{1,4},?[ \u00a0]+\Z",
    "street_word": rf"(?:{'|'.join(w[0] + _L1 + w[1:] for w in STRONG_STREET_WORDS)})(?![^\W_])",
    "street_before": rf"(?:{_CAPWORD}[ \u00a0]+){{1,3}}\Z",
}


@lru_cache(maxsize=None)
def _re(name: str) -> re.Pattern:
    if name in _CASED:
        return re.compile(_CASED[name])
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


def pnc_check_letter(year2: Union[int, str], serial: Union[int, str]) -> str:
    """The PNC ID check letter: ``CHECK_LETTERS[int(yy + serial padded to 7) % 23]``.

    ``year2`` is the year (two digits, or four of which the last two count); ``serial`` is the
    serial number, up to seven digits.
    """
    yy = _two_digit_year(year2)
    number = int(str(serial))
    if not 0 <= number <= 9_999_999:
        raise ValueError(f"a PNC serial has at most seven digits, got {serial!r}")
    return CHECK_LETTERS[int(f"{yy:02d}{number:07d}") % 23]


def cro_check_letter(year2: Union[int, str], serial: Union[int, str]) -> str:
    """The CRO number check letter: ``CHECK_LETTERS[int(yy + serial padded to 6) % 23]``."""
    yy = _two_digit_year(year2)
    number = int(str(serial))
    if not 0 <= number <= 999_999:
        raise ValueError(f"a CRO serial has at most six digits, got {serial!r}")
    return CHECK_LETTERS[int(f"{yy:02d}{number:06d}") % 23]


def cro_sf_check_letters(year2: Union[int, str], serial: str) -> frozenset:
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
    lead = _LEAD.get(name, 0)
    for m in _re(name).finditer(text):
        if check is None or check(m):
            yield Span(m.start() - lead, m.end(), kind, directness, detector=f"uk.{kind}")


#: lower-case two-letter words that are valid prefixes; "at 10 30 15 a.m." is not a NINO
_NINO_WORDS = frozenset({"am", "an", "as", "at", "by", "ha", "he", "me", "my", "pa", "we", "ye", "ah", "eh"})


def _nino_ok(m: re.Match) -> bool:
    prefix = m["prefix"]
    if prefix in _NINO_WORDS and not m.group()[2:3].isdigit():
        return False  # an everyday word followed by a space: only the compact form counts
    return nino_prefix_ok(prefix)


def detect_nino(text: str, context: Optional[DetectContext] = None) -> Iterator[Span]:
    """National Insurance numbers: ``QQ 12 34 56 C``, ``QQ123456C``, ``qq-12-34-56-c`` …"""
    return _spans("nino", "nino", text, check=_nino_ok)


def detect_nhs(text: str, context: Optional[DetectContext] = None) -> Iterator[Span]:
    """NHS numbers, ``999 123 4560`` style or ten bare digits, with the check digit verified."""
    verify = _verify(context)
    return _spans("nhs", "nhs", text, check=lambda m: not verify or nhs_number_valid(m.group()))


def detect_postcode(text: str, context: Optional[DetectContext] = None) -> Iterator[Span]:
    """Full postcodes (outward and inward code), with or without the space; outward codes
    alone next to "postcode", "area", "district" or "way" ("round NG7 way")."""
    yield from _spans("postcode", "postcode", text, "quasi")
    lowered = text.lower()
    if "post" not in lowered and "area" not in lowered and "district" not in lowered and "way" not in lowered:
        return
    strict = _re("outward")
    for m in _re("any_outward").finditer(text):
        # "postcode" just before it says what it is, whatever its letters; a word after it
        # ("NG7 area") says less, so there the letters must follow Royal Mail's rules, unless
        # the whole idiom "round NG7 way" is there
        after = _re("postcode_after").match(text, m.end())
        way = after is not None and after.group().split()[-1].lower() == "way"
        if _re("postcode_before").search(text[max(0, m.start() - 40):m.start()]) or (after and (
                _re("postcode_way").search(text[max(0, m.start() - 10):m.start()]) if way
                else strict.fullmatch(text, m.start(), m.end()))):
            yield Span(m.start(), m.end(), "postcode", "quasi", detector="uk.postcode")


def detect_phone(text: str, context: Optional[DetectContext] = None) -> Iterator[Span]:
    """UK phone numbers written the ways people write them."""
    for m in _re("phone").finditer(text):
        start, found = m.start(), m.group()
        if found.startswith("(") and ")" not in found:
            start += 1  # a stray opening bracket is not part of the number
        yield Span(start, m.end(), "phone", "direct", detector="uk.phone")


def detect_pnc(text: str, context: Optional[DetectContext] = None) -> Iterator[Span]:
    """PNC IDs, ``2001/0123456F`` or ``01/123456F``, with the check letter verified."""
    verify = _verify(context)
    for m in _re("pnc").finditer(text):
        if verify and not _pnc_valid(m):
            continue
        cro = _re("cro").fullmatch(m.group())
        if cro and _cro_valid(cro) and _label(text, m.start()) == "CRO":
            continue
        yield Span(m.start(), m.end(), "pnc", "direct", detector="uk.pnc")


def detect_cro(text: str, context: Optional[DetectContext] = None) -> Iterator[Span]:
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


def detect_prison_number(text: str, context: Optional[DetectContext] = None) -> Iterator[Span]:
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


def detect_crn(text: str, context: Optional[DetectContext] = None) -> Iterator[Span]:
    """nDelius case reference numbers: a letter and six digits, with or without "CRN"."""
    return _spans("crn", "crn", text)


def detect_court_case(text: str, context: Optional[DetectContext] = None) -> Iterator[Span]:
    """Crown Court case numbers: ``T20237001`` (a letter, the year, a four-digit serial)."""
    return _spans("court_case", "court_case", text)


def detect_age(text: str, context: Optional[DetectContext] = None) -> Iterator[Span]:
    """Ages: the number in ``34-year-old``, ``aged 34``, ``turned 34``, ``I'm 34 now``, ``Dana (34)``."""
    found = []
    for name in ("age_years", "age_word", "age_is", "age_bracket"):
        for m in _re(name).finditer(text):
            if int(m.group("n")) > 120:
                continue
            if name == "age_bracket" and not (m.start() >= 2 and text[m.start() - 1] == " "
                                              and text[m.start() - 2].isalpha()):
                continue
            if name == "age_is" and m.group().split()[0].lower() in ("is", "was") \
                    and not _after_a_name(text, m.start(), context):
                continue
            found.append((m.start("n"), m.end("n")))
    for start, end in sorted(set(found)):
        yield Span(start, end, "age", "quasi", detector="uk.age")


def _after_a_name(text: str, start: int, context: Optional[DetectContext] = None) -> bool:
    """Whether the word before ``start`` is capitalised (``Dana is 34``, not ``room is 12``)
    or, in any case, a word of a registered person's names (``dana okafor is 34``)."""
    m = re.search(r"([^\W\d_]+)[ \u00a0]+\Z", text[max(0, start - 30):start])
    if not m:
        return False
    word = m.group(1)
    if word[0].isupper():
        return word not in ("It", "This", "That", "There", "What")
    people = getattr(context, "people", None) or ()
    folded = word.casefold()
    return any(folded in (w.casefold() for name in getattr(person, "names", ()) for w in name.split())
               for person in people)


_CODE_SHAPED = re.compile(r"[A-Za-z]{1,3}\d{1,4}\Z")


def detect_handle(text: str, context: Optional[DetectContext] = None) -> Iterator[Span]:
    """Social media handles (``@dana_k85``); a fieldkit mention of a pseudonym code (``@P03``,
    ``@S2``) or of a participant listed in ``context.settings["mention_codes"]`` is not one."""
    if "@" not in text:
        return
    settings = getattr(context, "settings", None) or {}
    codes = {str(c).casefold() for c in settings.get("mention_codes", ()) or ()}
    for m in _re("handle").finditer(text):
        handle = m.group("h")
        if _CODE_SHAPED.match(handle) or handle.casefold() in codes:
            continue
        yield Span(m.start(), m.end(), "handle", "direct", detector="uk.handle")


#: ", Town" after a street address, when a comma, a postcode or the end of a sentence follows
_TOWN_AFTER = re.compile(r",[ \u00a0]*([A-Z][a-z'\u2019\-]+(?:[ \u00a0][A-Z][a-z'\u2019\-]+)?)(?=[ \u00a0]*(?:[,.;\n]|$|[A-Za-z]{1,2}\d))")


def detect_address(text: str, context: Optional[DetectContext] = None) -> Iterator[Span]:
    """Street addresses with a house number (direct) and street names alone (quasi)."""
    found = []
    for m in _re("address").finditer(text):
        if m.start() and (text[m.start() - 1].isalnum() or text[m.start() - 1] in "/_"):
            continue  # inside a longer number or word
        start, end = m.start(), m.end()
        flat = _re("flat_before").search(text, max(0, start - 20), start)
        if flat is not None:
            start = flat.start()
        town = _TOWN_AFTER.match(text, end)
        if town is not None:
            end = town.end(1)
        found.append(Span(start, end, "address", "direct", detector="uk.address"))
    for m in _re("street_word").finditer(text):
        before = _re("street_before").search(text, max(0, m.start() - 60), m.start())
        if before is None:
            continue
        start = before.start()
        words = before.group().split()
        while words and words[0] in _NOT_STREET_START:  # a sentence opener, not part of the name
            start = text.index(words[1], start + len(words[0])) if len(words) > 1 else m.start()
            words = words[1:]
        if not words or (start and (text[start - 1].isalnum() or text[start - 1] in "_")):
            continue
        if any(s.start <= start < s.end for s in found):
            continue
        found.append(Span(start, m.end(), "address", "quasi", detector="uk.address"))
    return iter(sorted(found, key=lambda s: s.start))


_NOT_STREET_START = frozenset("""
The A An At In On To From Of And Or Our My His Her Their This That Its Near By Off Along Down Up
Past Into Onto Via Lives Live Living Moved Move Stays Staying Behind Beside Opposite
""".split())


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


def detect_dob(text: str, context: Optional[DetectContext] = None) -> Iterator[Span]:
    """Dates of birth: a plausible date with "DOB", "born", "aged" … just before it. With the
    setting ``coarsen_dates`` every other date with a month and a year is reported too, as
    kind ``date`` (the ``generalise`` style keeps its month and year)."""
    settings = getattr(context, "settings", None) or {}
    dobs = set()
    for start, end in _date_candidates(text):
        if parse_birth_date(text[start:end]) is None:
            continue
        if _dob_context(text, start, end):
            dobs.add(start)
            yield Span(start, end, "dob", "quasi", detector="uk.dob")
    if settings.get("coarsen_dates"):
        for m in _re("date").finditer(text):
            if m.start() not in dobs and parse_birth_date(m.group()) is not None:
                yield Span(m.start(), m.end(), "date", "quasi", detector="uk.dob")


def detect_urn(text: str, context: Optional[DetectContext] = None) -> Iterator[Span]:
    """Police/CPS case URNs: two digits, two letters, seven digits (``63GD1946270``)."""
    return _spans("urn", "urn", text)


def detect_email(text: str, context: Optional[DetectContext] = None) -> Iterator[Span]:
    """Email addresses."""
    if "@" not in text:
        return iter(())
    return _spans("email", "email", text)


_URL_TRAILING = ".,;:!?*"


def detect_url(text: str, context: Optional[DetectContext] = None) -> Iterator[Span]:
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


def detect_vehicle(text: str, context: Optional[DetectContext] = None) -> Iterator[Span]:
    """Vehicle registrations: current ``AB12 CDE``; prefix ``A123 BCD`` and suffix ``ABC 123D``
    in capitals."""
    lead = _LEAD["vehicle"]
    for m in _re("vehicle").finditer(text):
        start = m.start() - lead
        letters = [c for c in text[start:m.end()] if c.isalpha()]
        if all(c.isupper() for c in letters) or all(c.islower() for c in letters):  # not "KX25 way"
            yield Span(start, m.end(), "vehicle", "direct", detector="uk.vehicle")
    yield from _spans("vehicle_old", "vehicle", text)


DETECTORS = (
    Detector("uk.nino", detect_nino, "National Insurance numbers"),
    Detector("uk.nhs", detect_nhs, "NHS numbers (mod-11 check digit verified)"),
    Detector("uk.postcode", detect_postcode, "UK postcodes (quasi-identifier)"),
    Detector("uk.phone", detect_phone, "UK phone numbers"),
    Detector("uk.pnc", detect_pnc, "Police National Computer IDs (check letter verified)"),
    Detector("uk.cro", detect_cro, "Criminal Records Office numbers (check letter verified)"),
    Detector("uk.prison_number", detect_prison_number, "NOMIS prison numbers"),
    Detector("uk.crn", detect_crn, "nDelius case reference numbers (a letter and six digits)"),
    Detector("uk.dob", detect_dob, "dates of birth (after DOB, born, aged; every date with coarsen_dates)"),
    Detector("uk.age", detect_age, "ages (34-year-old, aged 34; quasi-identifier)"),
    Detector("uk.urn", detect_urn, "police/CPS case URNs"),
    Detector("uk.court_case", detect_court_case, "Crown Court case numbers (T20237001)"),
    Detector("uk.email", detect_email, "email addresses"),
    Detector("uk.url", detect_url, "web addresses"),
    Detector("uk.handle", detect_handle, "social media handles (@name, not fieldkit mentions)"),
    Detector("uk.vehicle", detect_vehicle, "vehicle registrations (current, prefix and suffix styles)"),
    Detector("uk.address", detect_address, "street addresses (24 Tennyson Road, flat 3, 65 Canal Side)"),
)


@hookimpl
def register_detectors(register: Callable[[Detector], None]) -> None:
    """Register the UK identifier detectors."""
    for detector in DETECTORS:
        register(detector)
