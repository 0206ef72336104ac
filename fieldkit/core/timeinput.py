"""Reading the times researchers type, and writing times down canonically.

fieldkit keeps two clocks for every entry:

* ``observed_at`` — when the thing happened, as the researcher said it. People type
  ``14:05``, ``yesterday afternoon`` or ``-20m``; :func:`parse_time` turns that into an
  :class:`ObservedTime`: an instant in UTC, how precise the statement was, and the text
  exactly as typed.
* ``recorded_at`` — when fieldkit stored the entry, taken from :func:`utcnow` and written
  with :func:`to_iso`.

Local wall times are read in the project time zone (``Europe/London`` unless configured).
A wall time that falls in a spring-forward gap is refused; one that happens twice in an
autumn fall-back is taken at its first occurrence (``fold=0``). Relative times such as
``-20m`` are counted back from ``now`` in UTC, so they are exact across a clock change.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Optional

import attrs

from fieldkit.core.errors import InvalidInput
from fieldkit.core.patterns import lazy

if TYPE_CHECKING:  # annotations only: zoneinfo is imported when a zone is looked up
    from zoneinfo import ZoneInfo

PRECISIONS = ("minute", "hour", "part_of_day", "day")

DEFAULT_TIMEZONE = "Europe/London"

#: The local hour each part of the day is anchored at.
PARTS_OF_DAY = {"morning": 9, "afternoon": 14, "evening": 19, "night": 23}

#: The local hours each part of the day covers, [start, end); night runs into the next day.
PART_HOURS = {"morning": (5, 12), "afternoon": (12, 17), "evening": (17, 22), "night": (22, 29)}

EXPECTED = "expected 14:05, yesterday 15:30, 3pm yesterday, 06/12/2026 10:00, 6 Dec 10:00, -20m or ISO 8601"

#: The years a typed time may fall in: anything outside is a slip of the keyboard, and
#: refusing it at input keeps every later time-zone conversion inside Python's range.
FIRST_YEAR, LAST_YEAR = 1900, 2100
OUT_OF_RANGE = f"fieldkit accepts times from {FIRST_YEAR} to {LAST_YEAR}"

_UTC = timezone.utc

_WEEKDAYS = {
    "monday": 0, "mon": 0,
    "tuesday": 1, "tue": 1, "tues": 1,
    "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3,
    "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}
_DAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_MONTHS = {name: n for n, names in enumerate((
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
    ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"),
    ("nov", "november"), ("dec", "december")), start=1) for name in names}

_UNITS = {
    "d": "days", "day": "days", "days": "days",
    "h": "hours", "hr": "hours", "hrs": "hours", "hour": "hours", "hours": "hours",
    "m": "minutes", "min": "minutes", "mins": "minutes",
    "minute": "minutes", "minutes": "minutes",
}
_AMOUNT = r"(?:(?<!\d)\d+|(?<![a-z])an?(?=\s))"
_UNIT_WORD = "|".join(sorted(_UNITS, key=len, reverse=True))
_ONE = rf"{_AMOUNT}\s*(?:{_UNIT_WORD})(?![a-z])"
_DURATION = rf"(?:{_ONE}(?:\s*,?\s*(?:and\s+)?{_ONE})*)"
_DURATION_PART = lazy(rf"({_AMOUNT})\s*({_UNIT_WORD})(?![a-z])")

_RE_REL_MINUS = lazy(rf"-\s*(?P<d>{_DURATION})")
_RE_REL_AGO = lazy(rf"(?P<d>{_DURATION})\s+ago")
_RE_REL_FUTURE = lazy(rf"(?:\+\s*|in\s+)(?P<d>{_DURATION})(?:\s+from\s+now)?")
_RE_BARE_DURATION = lazy(_DURATION)

_RE_ISO = lazy(
    r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})"
    r"(?:[t ](?P<h>\d{2})(?::(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?)?"
    r"(?P<off>z|[+-]\d{2}(?::?\d{2})?)?)?"
)
_RE_CLOCK24 = lazy(r"(?P<h>\d{1,2})[:.](?P<m>\d{2})(?::(?P<s>\d{2}))?")
_RE_CLOCK12 = lazy(r"(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?\s*(?P<ap>am|pm|a\.m\.|p\.m\.)")
_RE_DATE = lazy(r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})")
_RE_DAY_PREFIX = lazy(
    r"(?P<day>\d{4}-\d{2}-\d{2}|today|yesterday|this|last\s+[a-z]+|[a-z]+)(?:\s+at)?\s+(?P<rest>.+)"
)

# UK day-first dates: 06/12/2026, 6.12.26, 6/12 (the year is optional)
_RE_NUMERIC_DATE = lazy(r"(?P<d>\d{1,2})[/.](?P<mo>\d{1,2})(?:[/.](?P<y>\d{4}|\d{2}))?")
# 6 Dec, 6th December 2026, Dec 6, December 6 2026; a weekday in front is allowed (Sun 6 Dec 2026)
_RE_NAMED_DATE = lazy(
    r"(?:(?P<wd>[a-z]{3,9}),?\s+)?(?:(?P<d1>\d{1,2})(?:st|nd|rd|th)?\s+(?P<m1>[a-z]{3,9})\.?"
    r"|(?P<m2>[a-z]{3,9})\.?\s+(?P<d2>\d{1,2})(?:st|nd|rd|th)?,?)(?:\s+(?P<y>\d{4}))?"
)

_RE_CANONICAL = lazy(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


class TimeInputError(InvalidInput):
    """A time the user typed could not be read; the message is one line saying what to type."""


def _to_utc(value: datetime) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"at must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("at must be timezone-aware, got a naive datetime")
    return value.astimezone(_UTC)


@attrs.frozen
class ObservedTime:
    """When something was observed, as the researcher stated it.

    ``at`` is the instant (always converted to UTC), ``precision`` says how exact the
    statement was (one of :data:`PRECISIONS`) and ``raw`` is the text exactly as typed.
    """

    at: datetime = attrs.field(converter=_to_utc)
    precision: str = attrs.field()
    raw: str = attrs.field(default="", validator=attrs.validators.instance_of(str))

    @precision.validator
    def _check_precision(self, attribute, value):
        if value not in PRECISIONS:
            raise InvalidInput(f"precision must be one of {', '.join(PRECISIONS)}, not {value!r}")


# --------------------------------------------------------------------------- helpers


def utcnow() -> datetime:
    """The current time as a timezone-aware UTC datetime."""
    return datetime.now(_UTC)


def to_iso(dt: datetime) -> str:
    """Write an aware datetime as fixed-width UTC text, e.g. ``2026-03-29T13:05:00.000000Z``.

    Every result has the same width, so sorting the strings sorts the instants.
    Naive datetimes are refused with ValueError.
    """
    if not isinstance(dt, datetime):
        raise TypeError(f"to_iso needs a datetime, not {type(dt).__name__}")
    if dt.tzinfo is not _UTC:  # stored times are already UTC
        if dt.tzinfo is None or dt.utcoffset() is None:
            raise ValueError("to_iso needs a timezone-aware datetime, got a naive one")
        dt = dt.astimezone(_UTC)
    # what isoformat(timespec="microseconds") writes before the "+00:00" of UTC, formatted
    # directly: every stored record has two or three times, and this is half the work
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second,
                                                     dt.microsecond)


def from_iso(s: str) -> datetime:
    """Read text written by :func:`to_iso` (or any ISO 8601 text with ``Z`` or an offset).

    Returns an aware datetime in UTC. Text without an offset is refused with ValueError.
    """
    if not isinstance(s, str):
        raise TypeError(f"from_iso needs a str, not {type(s).__name__}")
    text = s.strip()
    if _RE_CANONICAL.fullmatch(text):
        return datetime(
            int(text[0:4]), int(text[5:7]), int(text[8:10]),
            int(text[11:13]), int(text[14:16]), int(text[17:19]), int(text[20:26]),
            tzinfo=_UTC,
        )
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"not an ISO 8601 timestamp: {s!r}") from None
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise InvalidInput(f"timestamp has no UTC offset: {s!r}")
    return dt.astimezone(_UTC)


def check_timezone(name: str) -> str:
    """Return ``name`` if it is a known IANA time zone, else raise TimeInputError."""
    _zone(name)
    return name


def _zone(name: str) -> ZoneInfo:
    if not isinstance(name, str):
        raise TypeError(f"time zone must be a str, not {type(name).__name__}")
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

    try:
        if not name or name != name.strip():
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    hint = ""
    if name.strip():
        try:
            wanted = name.strip().lower()
            matches = [z for z in available_timezones() if z.lower() == wanted]
        except Exception:  # pragma: no cover - depends on the installed tz database
            matches = []
        if matches:
            hint = f" (did you mean {sorted(matches)[0]!r}?)"
    raise TimeInputError(
        f"unknown time zone {_show(name)}{hint}: use an IANA name such as Europe/London or UTC"
    )


def _show(raw: str) -> str:
    """Quote user text for a one-line message."""
    s = " ".join(str(raw).split())
    if len(s) > 60:
        s = s[:57] + "..."
    return "'" + s.replace("'", "\u2019") + "'"


def _fail(raw: str, reason: str = EXPECTED) -> TimeInputError:
    return TimeInputError(f"cannot read time {_show(raw)}: {reason}")


def _fmt_date(d: date) -> str:
    return f"{_DAY_ABBR[d.weekday()]} {d.day} {_MONTH_ABBR[d.month - 1]} {d.year}"


def _resolve(wall: datetime, zone: ZoneInfo, raw: str, *, strict: bool = True) -> datetime:
    """Turn a naive local wall time into a UTC instant in ``zone``.

    Ambiguous times take the first occurrence (fold=0). Times in a gap raise
    TimeInputError when ``strict``; otherwise they map onto the instant after the gap
    (which for a missing midnight is the start of the day).
    """
    aware = wall.replace(tzinfo=zone, fold=0)
    try:
        instant = aware.astimezone(_UTC)
        back = instant.astimezone(zone).replace(tzinfo=None)
    except OverflowError:
        raise _fail(raw, "that date is out of range") from None
    if strict and back != wall:
        raise _fail(
            raw,
            f"{wall:%H:%M} on {_fmt_date(wall.date())} does not exist in {zone.key} "
            "(the clocks went forward); pick a time outside the gap or give a UTC offset",
        )
    return instant


def _local_today(now_utc: datetime, zone: ZoneInfo) -> date:
    return now_utc.astimezone(zone).date()


def _make_date(y: str, mo: str, d: str, raw: str) -> date:
    if not FIRST_YEAR <= int(y) <= LAST_YEAR:
        raise _fail(raw, OUT_OF_RANGE)
    try:
        return date(int(y), int(mo), int(d))
    except ValueError:
        raise _fail(raw, f"{y}-{mo}-{d} is not a real date") from None


def _nearest(month: int, day: int, today: date, raw: str) -> date:
    """A date given without its year: in the year that puts it nearest today (``6 Dec``
    typed in January is last December's)."""
    found = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            found.append(date(year, month, day))
        except ValueError:
            continue  # 29 February outside a leap year
    if not found:
        raise _fail(raw, f"{day}/{month} is not a real date")
    return min(found, key=lambda d: (abs((d - today).days), d > today))


def _calendar_date(text: str, today: date, raw: str) -> date | None:
    """Read a UK date (``06/12/2026``, ``6 Dec``, ``6th December 2026``, ``Sun 6 Dec 2026``)."""
    m = _RE_NUMERIC_DATE.fullmatch(text)
    if m:
        day, month, year = m["d"], m["mo"], m["y"]
    else:
        m = _RE_NAMED_DATE.fullmatch(text)
        if not m:
            return None
        if m["wd"] and m["wd"] not in _WEEKDAYS:
            return None
        name = m["m1"] or m["m2"]
        if name not in _MONTHS:
            return None
        day, month, year = m["d1"] or m["d2"], str(_MONTHS[name]), m["y"]
    if not 1 <= int(month) <= 12:
        raise _fail(raw, f"{month} is not a month (dates are day first: 06/12/2026 is 6 December)")
    if year is None:
        return _nearest(int(month), int(day), today, raw)
    if len(year) == 2:
        year = str(2000 + int(year))
    return _make_date(year, month, day, raw)


def _duration(text: str, raw: str) -> timedelta:
    parts = {"days": 0, "hours": 0, "minutes": 0}
    for amount, unit in _DURATION_PART.findall(text):
        n = 1 if amount in ("a", "an") else int(amount)
        parts[_UNITS[unit]] += n
    try:
        return timedelta(**parts)
    except OverflowError:
        raise _fail(raw, "that is too far back") from None


def _clock(text: str) -> tuple[time, str] | None:
    """Read a clock time (``14:05``, ``9.30``, ``2pm``, ``noon``); None if it is not one."""
    if text in ("noon", "midday"):
        return time(12, 0), "minute"
    m = _RE_CLOCK24.fullmatch(text)
    if m:
        h, mi, s = int(m["h"]), int(m["m"]), int(m["s"] or 0)
        if h > 23 or mi > 59 or s > 59:
            return None
        return time(h, mi, s), "minute"
    m = _RE_CLOCK12.fullmatch(text)
    if m:
        h, mi = int(m["h"]), int(m["m"] or 0)
        if not 1 <= h <= 12 or mi > 59:
            return None
        h = h % 12 + (12 if m["ap"].startswith("p") else 0)
        return time(h, mi), "minute"
    return None


def _day(word: str, now_utc: datetime, zone: ZoneInfo, raw: str) -> date | None:
    """Read a day word (``today``, ``yesterday``, ``last tuesday``, ``2026-03-29``)."""
    today = _local_today(now_utc, zone)
    if word == "today":
        return today
    if word == "yesterday":
        return today - timedelta(days=1)
    m = _RE_DATE.fullmatch(word)
    if m:
        return _make_date(m["y"], m["mo"], m["d"], raw)
    found = _calendar_date(word, today, raw)
    if found is not None:
        return found
    name = word[5:].strip() if word.startswith("last ") else word
    if name in _WEEKDAYS:
        back = (today.weekday() - _WEEKDAYS[name]) % 7 or 7
        return today - timedelta(days=back)
    return None


# --------------------------------------------------------------------------- parsing


def parse_time(text: str, *, now: datetime | None = None, tz: str = DEFAULT_TIMEZONE) -> ObservedTime:
    """Read a time as a researcher types it; see ``docs/time.md`` for every accepted form.

    ``now`` (timezone-aware; default :func:`utcnow`) anchors relative input and words such
    as ``today``; ``tz`` is the project time zone in which local wall times are read.
    Raises :class:`TimeInputError` with a one-line message when the text cannot be read.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_time needs a str, not {type(text).__name__}")
    zone = _zone(tz)
    if now is None:
        now_utc = utcnow()
    else:
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be a timezone-aware datetime")
        now_utc = now.astimezone(_UTC)
    s = " ".join(text.strip().lower().split())
    if not s:
        raise TimeInputError(f"no time given: {EXPECTED}")
    if any(c in text.strip() for c in "\n\r\v\f"):
        raise _fail(text, "a time is one line")
    at, precision = _parse(s, text, now_utc, zone)
    if not FIRST_YEAR <= at.astimezone(zone).year <= LAST_YEAR:
        raise _fail(text, OUT_OF_RANGE)
    return ObservedTime(at=at, precision=precision, raw=text)


def in_future(t: ObservedTime, *, now: datetime | None = None) -> bool:
    """Whether the period ``t`` names starts after ``now`` (a time to warn about, not refuse:
    a planned encounter may be, a note of what happened rarely is)."""
    return t.at > (now or utcnow()).astimezone(_UTC)


def _parse(s: str, raw: str, now_utc: datetime, zone: ZoneInfo) -> tuple[datetime, str]:
    if s == "now":
        return now_utc, "minute"

    # Relative: "-20m", "-1h30m", "2 hours ago", "an hour ago".
    m = _RE_REL_MINUS.fullmatch(s) or _RE_REL_AGO.fullmatch(s)
    if m:
        delta = _duration(m["d"], raw)
        try:
            return now_utc - delta, "minute"
        except OverflowError:
            raise _fail(raw, "that is too far back") from None
    if _RE_REL_FUTURE.fullmatch(s):
        raise _fail(raw, "relative times count back: write -20m or 20m ago (use a clock time or ISO 8601 for a planned time)")

    # ISO 8601: date, date + time, optionally with Z or an offset.
    m = _RE_ISO.fullmatch(s)
    if m:
        return _parse_iso(m, raw, zone)

    # Clock time or part of day on its own: today.
    today = _local_today(now_utc, zone)
    got = _time_of_day(s, today, zone, raw)
    if got:
        return got
    if s == "tonight":
        return _part(today, "night", zone, raw)
    if s == "last night":
        return _part(today - timedelta(days=1), "night", zone, raw)

    # A day on its own: "yesterday", "last tuesday", "monday".
    d = _day(s, now_utc, zone, raw)
    if d is not None:
        return _resolve(datetime.combine(d, time()), zone, raw, strict=False), "day"

    # A day followed by a clock time or part of day: "yesterday 15:30", "this morning".
    m = _RE_DAY_PREFIX.fullmatch(s)
    if m:
        word, rest = m["day"], m["rest"]
        d = today if word == "this" and rest in PARTS_OF_DAY else _day(word, now_utc, zone, raw)
        if d is not None:
            got = _time_of_day(rest, d, zone, raw)
            if got:
                return got

    # A date and a time in either order: "06/12/2026 10:00", "6 dec at 10:00",
    # "3pm yesterday", "10:00 on 6 dec", "afternoon 6 dec".
    words = s.split(" ")
    for cut in range(1, len(words)):
        head, tail = " ".join(words[:cut]), " ".join(words[cut:])
        for day_text, time_text in ((head, tail), (tail, head)):
            day_text, time_text = day_text.removeprefix("on "), time_text.removeprefix("at ")
            if time_text not in PARTS_OF_DAY and _clock(time_text) is None:
                continue
            d = _day(day_text, now_utc, zone, raw)
            if d is not None:
                return _time_of_day(time_text, d, zone, raw)

    if _RE_BARE_DURATION.fullmatch(s):
        raise _fail(raw, f"for a time in the past write -{s} or {s} ago; for a clock time write e.g. 14:05")
    raise _fail(raw)


def _time_of_day(text: str, d: date, zone: ZoneInfo, raw: str) -> tuple[datetime, str] | None:
    if text in PARTS_OF_DAY:
        return _part(d, text, zone, raw)
    c = _clock(text)
    if c:
        t, precision = c
        return _resolve(datetime.combine(d, t), zone, raw), precision
    return None


def _part(d: date, name: str, zone: ZoneInfo, raw: str) -> tuple[datetime, str]:
    wall = datetime.combine(d, time(PARTS_OF_DAY[name]))
    return _resolve(wall, zone, raw, strict=False), "part_of_day"


def _parse_iso(m: re.Match, raw: str, zone: ZoneInfo) -> tuple[datetime, str]:
    d = _make_date(m["y"], m["mo"], m["d"], raw)
    if m["h"] is None:
        return _resolve(datetime.combine(d, time()), zone, raw, strict=False), "day"
    h, mi, sec = int(m["h"]), int(m["mi"] or 0), int(m["s"] or 0)
    micro = int((m["f"] or "0")[:6].ljust(6, "0"))
    if h > 23 or mi > 59 or sec > 59:
        raise _fail(raw, "hours run 00-23 and minutes and seconds 00-59")
    wall = datetime.combine(d, time(h, mi, sec, micro))
    precision = "minute" if m["mi"] is not None else "hour"
    off = m["off"]
    if off is None:
        return _resolve(wall, zone, raw), precision
    if off == "z":
        offset = timedelta(0)
    else:
        digits = off[1:].replace(":", "")
        oh, om = int(digits[:2]), int(digits[2:4] or 0)
        if oh > 23 or om > 59:
            raise _fail(raw, f"{off} is not a valid UTC offset")
        offset = timedelta(hours=oh, minutes=om) * (-1 if off[0] == "-" else 1)
    try:
        return wall.replace(tzinfo=timezone(offset)).astimezone(_UTC), precision
    except OverflowError:
        raise _fail(raw, "that date is out of range") from None


# --------------------------------------------------------------------------- echo


def _part_name(hour: int) -> str:
    for name, anchor in PARTS_OF_DAY.items():
        if hour == anchor:
            return name
    for name, (start, end) in PART_HOURS.items():
        if start <= hour < end or start <= hour + 24 < end:
            return name
    return "night"  # pragma: no cover - the hours above cover the whole day


def describe(t: ObservedTime, tz: str = DEFAULT_TIMEZONE) -> str:
    """The readable echo of an observed time in ``tz``, e.g. ``Sun 29 Mar 2026 14:05 BST (minute)``.

    Day precision shows only the date; part-of-day precision shows the date and the part
    (``Sun 29 Mar 2026 afternoon``). Use the project zone the time was parsed in.
    """
    local = t.at.astimezone(_zone(tz))
    day = _fmt_date(local.date())
    if t.precision == "day":
        return day
    if t.precision == "part_of_day":
        return f"{day} {_part_name(local.hour)}"
    return f"{day} {local:%H:%M} {local.tzname()} ({t.precision})"


def show(at: Optional[datetime], tz: str = DEFAULT_TIMEZONE, precision: str = "minute") -> str:
    """A stored instant as a table shows it: local to ``tz``, to its precision, never with
    seconds: ``2026-12-05 14:05``, ``2026-12-05 afternoon``, ``2026-12-05``; ``""`` for None."""
    if at is None:
        return ""
    local = at.astimezone(_zone(tz))
    if precision == "day":
        return f"{local:%Y-%m-%d}"
    if precision == "part_of_day":
        return f"{local:%Y-%m-%d} {_part_name(local.hour)}"
    return f"{local:%Y-%m-%d %H:%M}"


# --------------------------------------------------------------------------- ranges


def period(t: ObservedTime, tz: str = DEFAULT_TIMEZONE) -> tuple[datetime, datetime]:
    """The ``[start, end)`` instants (UTC) of the minute, hour, part of day or day ``t`` names.

    Days and parts of days are local to ``tz``: a day is local midnight to local midnight
    (23 or 25 hours across a clock change); ``yesterday afternoon`` is 12:00 to 17:00.
    """
    zone = _zone(tz)
    local = t.at.astimezone(zone)
    if t.precision == "minute":
        start = t.at - timedelta(seconds=local.second, microseconds=local.microsecond)
        return start, start + timedelta(minutes=1)
    if t.precision == "hour":
        start = t.at - timedelta(minutes=local.minute, seconds=local.second, microseconds=local.microsecond)
        return start, start + timedelta(hours=1)
    raw = t.raw or describe(t, tz)
    if t.precision == "part_of_day":
        first, last = PART_HOURS[_part_name(local.hour)]
        day = local.date() if local.hour >= 5 or first < 22 else local.date() - timedelta(days=1)
        start_wall = datetime.combine(day, time()) + timedelta(hours=first)
        end_wall = datetime.combine(day, time()) + timedelta(hours=last)
        return _resolve(start_wall, zone, raw, strict=False), _resolve(end_wall, zone, raw, strict=False)
    day = local.date()
    try:
        next_day = day + timedelta(days=1)
    except OverflowError:
        raise _fail(raw, "that date is out of range") from None
    return (_resolve(datetime.combine(day, time()), zone, raw, strict=False),
            _resolve(datetime.combine(next_day, time()), zone, raw, strict=False))


@attrs.frozen
class TimeRange:
    """A range of times from ``--since``/``--until``: both ends inclusive, in UTC, None when open.

    ``since`` is the start of the period the text names and ``until`` the last microsecond
    of its period, so ``until 2026-12-05`` includes the whole of that day and
    ``since 14:05`` starts at 14:05:00. ``since_time``/``until_time`` are the parsed times
    (for echoing them back).
    """

    since: Optional[datetime] = None
    until: Optional[datetime] = None
    since_time: Optional[ObservedTime] = None
    until_time: Optional[ObservedTime] = None


def parse_range(since: Optional[str], until: Optional[str], tz: str = DEFAULT_TIMEZONE, *,
                now: Optional[datetime] = None) -> TimeRange:
    """Read ``--since``/``--until`` text (either may be None or empty) as one :class:`TimeRange`.

    Every command and library function that filters by time uses this, so the words mean
    the same everywhere. Raises :class:`TimeInputError` for unreadable text and when the
    range ends before it starts.
    """
    since_t = parse_time(since, now=now, tz=tz) if since else None
    until_t = parse_time(until, now=now, tz=tz) if until else None
    start = period(since_t, tz)[0] if since_t else None
    end = period(until_t, tz)[1] - timedelta(microseconds=1) if until_t else None
    if start is not None and end is not None and start > end:
        raise TimeInputError(f"the range starts ({describe(since_t, tz)}) after it ends "
                             f"({describe(until_t, tz)}); nothing can fall in it")
    return TimeRange(since=start, until=end, since_time=since_t, until_time=until_t)
