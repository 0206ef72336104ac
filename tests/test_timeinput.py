"""Tests for fieldkit.core.timeinput: reading typed times, DST, and canonical UTC text."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fieldkit.core.timeinput import (
    PARTS_OF_DAY,
    PRECISIONS,
    ObservedTime,
    TimeInputError,
    check_timezone,
    describe,
    from_iso,
    parse_time,
    to_iso,
    utcnow,
)

UTC = timezone.utc
LONDON = ZoneInfo("Europe/London")

# Wednesday 10 June 2026, 14:30 BST.
NOW = datetime(2026, 6, 10, 13, 30, tzinfo=UTC)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def london(*args, fold=0) -> datetime:
    return datetime(*args, tzinfo=LONDON, fold=fold).astimezone(UTC)


# --------------------------------------------------------------------------- accepted forms

ACCEPTED = [
    # now
    ("now", NOW, "minute"),
    # clock times today (BST, so UTC is one hour behind)
    ("14:05", london(2026, 6, 10, 14, 5), "minute"),
    ("9:30", london(2026, 6, 10, 9, 30), "minute"),
    ("09:30", london(2026, 6, 10, 9, 30), "minute"),
    ("14.05", london(2026, 6, 10, 14, 5), "minute"),
    ("14:05:30", london(2026, 6, 10, 14, 5, 30), "minute"),
    ("2pm", london(2026, 6, 10, 14, 0), "minute"),
    ("2 pm", london(2026, 6, 10, 14, 0), "minute"),
    ("2:30pm", london(2026, 6, 10, 14, 30), "minute"),
    ("2.30pm", london(2026, 6, 10, 14, 30), "minute"),
    ("9am", london(2026, 6, 10, 9, 0), "minute"),
    ("9 a.m.", london(2026, 6, 10, 9, 0), "minute"),
    ("12am", london(2026, 6, 10, 0, 0), "minute"),
    ("12pm", london(2026, 6, 10, 12, 0), "minute"),
    ("noon", london(2026, 6, 10, 12, 0), "minute"),
    ("midday", london(2026, 6, 10, 12, 0), "minute"),
    # later than now: still today
    ("23:15", london(2026, 6, 10, 23, 15), "minute"),
    # day words
    ("today", london(2026, 6, 10, 0, 0), "day"),
    ("yesterday", london(2026, 6, 9, 0, 0), "day"),
    ("today 08:00", london(2026, 6, 10, 8, 0), "minute"),
    ("yesterday 15:30", london(2026, 6, 9, 15, 30), "minute"),
    ("yesterday at 15:30", london(2026, 6, 9, 15, 30), "minute"),
    ("yesterday 3pm", london(2026, 6, 9, 15, 0), "minute"),
    # weekdays: the most recent past one, never today
    ("monday 10:00", london(2026, 6, 8, 10, 0), "minute"),
    ("mon 10:00", london(2026, 6, 8, 10, 0), "minute"),
    ("last tuesday", london(2026, 6, 9, 0, 0), "day"),
    ("tuesday", london(2026, 6, 9, 0, 0), "day"),
    ("wednesday", london(2026, 6, 3, 0, 0), "day"),
    ("last wednesday 18:45", london(2026, 6, 3, 18, 45), "minute"),
    ("thursday", london(2026, 6, 4, 0, 0), "day"),
    ("sunday", london(2026, 6, 7, 0, 0), "day"),
    # relative, counted back in UTC
    ("-20m", NOW - timedelta(minutes=20), "minute"),
    ("- 20m", NOW - timedelta(minutes=20), "minute"),
    ("-2h", NOW - timedelta(hours=2), "minute"),
    ("-1d", NOW - timedelta(days=1), "minute"),
    ("-1h30m", NOW - timedelta(hours=1, minutes=30), "minute"),
    ("20m ago", NOW - timedelta(minutes=20), "minute"),
    ("20 min ago", NOW - timedelta(minutes=20), "minute"),
    ("2 hours ago", NOW - timedelta(hours=2), "minute"),
    ("1 hour 30 minutes ago", NOW - timedelta(hours=1, minutes=30), "minute"),
    ("1 day and 2 hours ago", NOW - timedelta(days=1, hours=2), "minute"),
    ("an hour ago", NOW - timedelta(hours=1), "minute"),
    ("a day ago", NOW - timedelta(days=1), "minute"),
    ("-0m", NOW, "minute"),
    # parts of the day, anchored at fixed local hours
    ("morning", london(2026, 6, 10, 9, 0), "part_of_day"),
    ("afternoon", london(2026, 6, 10, 14, 0), "part_of_day"),
    ("evening", london(2026, 6, 10, 19, 0), "part_of_day"),
    ("night", london(2026, 6, 10, 23, 0), "part_of_day"),
    ("this morning", london(2026, 6, 10, 9, 0), "part_of_day"),
    ("tonight", london(2026, 6, 10, 23, 0), "part_of_day"),
    ("last night", london(2026, 6, 9, 23, 0), "part_of_day"),
    ("yesterday afternoon", london(2026, 6, 9, 14, 0), "part_of_day"),
    ("monday evening", london(2026, 6, 8, 19, 0), "part_of_day"),
    ("2026-03-29 morning", london(2026, 3, 29, 9, 0), "part_of_day"),
    # ISO 8601
    ("2026-03-29", london(2026, 3, 29, 0, 0), "day"),
    ("2026-03-29T14:05", london(2026, 3, 29, 14, 5), "minute"),
    ("2026-03-29 14:05", london(2026, 3, 29, 14, 5), "minute"),
    ("2026-03-29T14:05:30", london(2026, 3, 29, 14, 5, 30), "minute"),
    ("2026-03-29T14:05:30.25", london(2026, 3, 29, 14, 5, 30, 250000), "minute"),
    ("2026-03-29T14:05Z", utc(2026, 3, 29, 14, 5), "minute"),
    ("2026-03-29T14:05:00z", utc(2026, 3, 29, 14, 5), "minute"),
    ("2026-03-29T14:05+02:00", utc(2026, 3, 29, 12, 5), "minute"),
    ("2026-03-29T14:05-0330", utc(2026, 3, 29, 17, 35), "minute"),
    ("2026-03-29T14:05+05", utc(2026, 3, 29, 9, 5), "minute"),
    ("2026-03-29T14", london(2026, 3, 29, 14, 0), "hour"),
    ("2026-03-29 14", london(2026, 3, 29, 14, 0), "hour"),
    ("2026-03-29T14Z", utc(2026, 3, 29, 14, 0), "hour"),
    ("2026-01-15 9:30", london(2026, 1, 15, 9, 30), "minute"),
    ("2026-01-15 at 2pm", london(2026, 1, 15, 14, 0), "minute"),
    # ISO in the future is fine
    ("2027-01-01T10:00", london(2027, 1, 1, 10, 0), "minute"),
]


@pytest.mark.parametrize("text,expected,precision", ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_accepted_forms(text, expected, precision):
    got = parse_time(text, now=NOW)
    assert got.at == expected
    assert got.at.tzinfo is UTC
    assert got.precision == precision
    assert got.raw == text


@pytest.mark.parametrize("text", ["NOW", "Yesterday 15:30", "  yesterday   15:30\t", "2PM", "Last TUESDAY", "2026-03-29t14:05Z"])
def test_case_and_whitespace_do_not_matter(text):
    got = parse_time(text, now=NOW)
    assert got.raw == text  # exactly as typed, untrimmed
    assert got == ObservedTime(parse_time(text.strip().lower(), now=NOW).at, got.precision, text)


def test_now_defaults_to_current_utc_time():
    before = utcnow()
    got = parse_time("now")
    after = utcnow()
    assert before <= got.at <= after


def test_now_given_in_another_zone_is_the_same_instant():
    other = NOW.astimezone(ZoneInfo("Asia/Tokyo"))  # already 11 June in Tokyo
    assert parse_time("yesterday", now=other) == parse_time("yesterday", now=NOW)


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_time("14:05", now=datetime(2026, 6, 10, 13, 30))


def test_non_string_input_is_a_type_error():
    with pytest.raises(TypeError):
        parse_time(None, now=NOW)  # type: ignore[arg-type]


def test_other_project_zone():
    got = parse_time("14:05", now=NOW, tz="America/New_York")
    assert got.at == datetime(2026, 6, 10, 14, 5, tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)
    assert describe(got, "America/New_York") == "Wed 10 Jun 2026 14:05 EDT (minute)"


def test_offset_wins_over_project_zone():
    a = parse_time("2026-03-29T14:05+00:00", now=NOW, tz="Europe/London")
    b = parse_time("2026-03-29T14:05+00:00", now=NOW, tz="Asia/Kolkata")
    assert a.at == b.at == utc(2026, 3, 29, 14, 5)


def test_weekday_on_that_same_weekday_goes_back_a_week():
    # NOW is a Wednesday.
    assert parse_time("wednesday 10:00", now=NOW).at == london(2026, 6, 3, 10, 0)
    assert parse_time("wed", now=NOW).at == london(2026, 6, 3)


# --------------------------------------------------------------------------- midnight edge


def test_yesterday_just_after_local_midnight():
    # 00:05 BST on Wed 10 June is still Tue 9 June in UTC.
    now = london(2026, 6, 10, 0, 5)
    assert now == utc(2026, 6, 9, 23, 5)
    got = parse_time("yesterday 15:30", now=now)
    assert got.at == london(2026, 6, 9, 15, 30) == utc(2026, 6, 9, 14, 30)
    assert describe(got) == "Tue 9 Jun 2026 15:30 BST (minute)"
    assert parse_time("today", now=now).at == london(2026, 6, 10)
    assert parse_time("yesterday", now=now).at == london(2026, 6, 9)
    assert parse_time("14:05", now=now).at == london(2026, 6, 10, 14, 5)


def test_yesterday_just_after_local_midnight_east_of_utc():
    tz = "Pacific/Auckland"
    zone = ZoneInfo(tz)
    now = datetime(2026, 6, 10, 0, 5, tzinfo=zone)  # still 9 June in UTC
    got = parse_time("yesterday 15:30", now=now, tz=tz)
    assert got.at == datetime(2026, 6, 9, 15, 30, tzinfo=zone).astimezone(UTC)


# --------------------------------------------------------------------------- daylight saving


@pytest.mark.parametrize("text", ["2026-03-29 01:30", "2026-03-29T01:00", "2026-03-29 01:59", "2026-03-29T01"])
def test_spring_forward_gap_is_refused(text):
    with pytest.raises(TimeInputError) as err:
        parse_time(text, now=NOW)
    msg = str(err.value)
    assert "does not exist in Europe/London" in msg
    assert "\n" not in msg


def test_spring_forward_gap_for_clock_and_day_words():
    on_the_day = utc(2026, 3, 29, 12, 0)
    with pytest.raises(TimeInputError, match="does not exist"):
        parse_time("01:30", now=on_the_day)
    with pytest.raises(TimeInputError, match="does not exist"):
        parse_time("yesterday 01:30", now=utc(2026, 3, 30, 12, 0))


def test_either_side_of_the_gap_is_fine():
    assert parse_time("2026-03-29 00:59", now=NOW).at == utc(2026, 3, 29, 0, 59)
    assert parse_time("2026-03-29 02:00", now=NOW).at == utc(2026, 3, 29, 1, 0)


def test_gap_time_with_explicit_offset_is_accepted():
    assert parse_time("2026-03-29T01:30+00:00", now=NOW).at == utc(2026, 3, 29, 1, 30)


def test_day_precision_on_gap_day_is_local_midnight():
    assert parse_time("2026-03-29", now=NOW).at == utc(2026, 3, 29, 0, 0)
    assert parse_time("2026-10-25", now=NOW).at == utc(2026, 10, 24, 23, 0)


def test_day_whose_midnight_is_missing_starts_after_the_gap():
    # Chile moves its clocks from 00:00 to 01:00 on Sun 6 Sep 2026.
    tz = "America/Santiago"
    got = parse_time("2026-09-06", now=NOW, tz=tz)
    assert got.at == utc(2026, 9, 6, 4, 0)
    assert got.at.astimezone(ZoneInfo(tz)).hour == 1
    assert describe(got, tz) == "Sun 6 Sep 2026"
    with pytest.raises(TimeInputError, match="does not exist in America/Santiago"):
        parse_time("2026-09-06 00:30", now=NOW, tz=tz)


def test_fall_back_overlap_takes_first_occurrence():
    got = parse_time("2026-10-25 01:30", now=NOW)
    assert got.at == utc(2026, 10, 25, 0, 30)  # 01:30 BST, not 01:30 GMT
    assert got.at == london(2026, 10, 25, 1, 30, fold=0)
    assert describe(got) == "Sun 25 Oct 2026 01:30 BST (minute)"
    # the second 01:30 can still be given with an offset
    second = parse_time("2026-10-25T01:30+00:00", now=NOW)
    assert second.at == utc(2026, 10, 25, 1, 30)
    assert describe(second) == "Sun 25 Oct 2026 01:30 GMT (minute)"


def test_fall_back_overlap_for_clock_input():
    on_the_day = utc(2026, 10, 25, 12, 0)
    assert parse_time("01:30", now=on_the_day).at == utc(2026, 10, 25, 0, 30)
    assert parse_time("yesterday 01:30", now=utc(2026, 10, 26, 12, 0)).at == utc(2026, 10, 25, 0, 30)


def test_around_fall_back():
    assert parse_time("2026-10-25 00:59", now=NOW).at == utc(2026, 10, 24, 23, 59)
    assert parse_time("2026-10-25 02:00", now=NOW).at == utc(2026, 10, 25, 2, 0)


def test_relative_across_spring_forward():
    now = utc(2026, 3, 29, 1, 10)  # 02:10 BST, ten minutes after the change
    back = parse_time("-20m", now=now)
    assert back.at == utc(2026, 3, 29, 0, 50)
    assert describe(back) == "Sun 29 Mar 2026 00:50 GMT (minute)"
    assert parse_time("1 hour ago", now=now).at == utc(2026, 3, 29, 0, 10)
    # a day back is exactly 24 hours, which is 01:10 GMT on the Saturday
    day = parse_time("-1d", now=now)
    assert now - day.at == timedelta(hours=24)
    assert describe(day) == "Sat 28 Mar 2026 01:10 GMT (minute)"


def test_relative_across_fall_back():
    now = utc(2026, 10, 25, 1, 10)  # the second 01:10 (GMT)
    back = parse_time("-1h", now=now)
    assert back.at == utc(2026, 10, 25, 0, 10)
    assert describe(back) == "Sun 25 Oct 2026 01:10 BST (minute)"
    assert parse_time("-90m", now=now).at == utc(2026, 10, 24, 23, 40)


def test_describe_labels_follow_the_season():
    assert describe(parse_time("2026-03-29T14:05", now=NOW)) == "Sun 29 Mar 2026 14:05 BST (minute)"
    assert describe(parse_time("2026-03-28T14:05", now=NOW)) == "Sat 28 Mar 2026 14:05 GMT (minute)"


# --------------------------------------------------------------------------- describe


def test_describe_forms():
    assert describe(parse_time("2026-03-29", now=NOW)) == "Sun 29 Mar 2026"
    assert describe(parse_time("2026-03-29 afternoon", now=NOW)) == "Sun 29 Mar 2026 afternoon"
    assert describe(parse_time("2026-03-29T14", now=NOW)) == "Sun 29 Mar 2026 14:00 BST (hour)"
    assert describe(parse_time("last night", now=NOW)) == "Tue 9 Jun 2026 night"
    for part in PARTS_OF_DAY:
        assert describe(parse_time(f"yesterday {part}", now=NOW)) == f"Tue 9 Jun 2026 {part}"


def test_describe_part_of_day_not_at_an_anchor():
    t = ObservedTime(london(2026, 6, 10, 10, 30), "part_of_day", "x")
    assert describe(t) == "Wed 10 Jun 2026 morning"
    t = ObservedTime(london(2026, 6, 10, 3, 0), "part_of_day", "x")
    assert describe(t) == "Wed 10 Jun 2026 night"


def test_describe_rejects_unknown_zone():
    with pytest.raises(TimeInputError):
        describe(parse_time("now", now=NOW), "Mars/Olympus_Mons")


# --------------------------------------------------------------------------- bad input

BAD = [
    "25:99",
    "24:00",
    "12:60",
    "yesterday 99",
    "",
    "   ",
    "banana",
    "13pm",
    "0am",
    "2h",
    "20 minutes",
    "+20m",
    "in 2 hours",
    "-20",
    "20m from now",
    "2026-02-30",
    "2026-13-01",
    "2026-03-29T25:00",
    "2026-03-29T14:05+25:00",
    "2026-03-29Z",
    "last 10:00",
    "this 10:00",
    "last night 10pm",
    "mon 10",
    "tomorrow",
    "14:05\nyesterday",
    "0001-01-01T00:00+05:00",
    "99999999d ago",
    "x" * 500,
]


@pytest.mark.parametrize("text", BAD, ids=[repr(b[:30]) for b in BAD])
def test_bad_input_raises_one_line_error(text):
    with pytest.raises(TimeInputError) as err:
        parse_time(text, now=NOW)
    msg = str(err.value)
    assert isinstance(err.value, ValueError)
    assert msg and "\n" not in msg and len(msg) < 200
    assert msg.startswith(("cannot read time", "no time given"))


def test_bad_input_message_matches_the_house_style():
    with pytest.raises(TimeInputError) as err:
        parse_time("25:99", now=NOW)
    assert str(err.value) == ("cannot read time '25:99': expected 14:05, yesterday 15:30, 3pm yesterday, "
                              "06/12/2026 10:00, 6 Dec 10:00, -20m or ISO 8601")


def test_empty_input_message():
    with pytest.raises(TimeInputError, match="^no time given: expected 14:05"):
        parse_time("", now=NOW)


def test_bare_duration_suggests_relative_forms():
    with pytest.raises(TimeInputError, match="-2h or 2h ago"):
        parse_time("2h", now=NOW)


def test_future_relative_is_explained():
    with pytest.raises(TimeInputError, match="count back"):
        parse_time("+20m", now=NOW)


def test_impossible_date_is_named():
    with pytest.raises(TimeInputError, match="2026-02-30 is not a real date"):
        parse_time("2026-02-30", now=NOW)


# --------------------------------------------------------------------------- time zones


def test_check_timezone():
    assert check_timezone("Europe/London") == "Europe/London"
    assert check_timezone("UTC") == "UTC"
    assert check_timezone("America/Argentina/Buenos_Aires") == "America/Argentina/Buenos_Aires"


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "", " Europe/London", "Europe", "../etc/passwd", "/etc/localtime"])
def test_check_timezone_refuses_unknown(name):
    with pytest.raises(TimeInputError) as err:
        check_timezone(name)
    assert "unknown time zone" in str(err.value)
    assert "\n" not in str(err.value)


def test_check_timezone_suggests_spelling():
    with pytest.raises(TimeInputError, match="did you mean 'Europe/London'"):
        check_timezone("europe/london")


def test_parse_time_refuses_unknown_zone():
    with pytest.raises(TimeInputError, match="unknown time zone"):
        parse_time("14:05", now=NOW, tz="Atlantis/Capital")


# --------------------------------------------------------------------------- ObservedTime


def test_observed_time_validates_precision():
    for p in PRECISIONS:
        ObservedTime(NOW, p, "x")
    with pytest.raises(ValueError, match="precision"):
        ObservedTime(NOW, "second", "x")


def test_observed_time_normalises_to_utc_and_refuses_naive():
    t = ObservedTime(datetime(2026, 6, 10, 14, 30, tzinfo=LONDON), "minute", "14:30")
    assert t.at == NOW and t.at.tzinfo is UTC
    with pytest.raises(ValueError, match="timezone-aware"):
        ObservedTime(datetime(2026, 6, 10, 14, 30), "minute", "14:30")


def test_observed_time_is_frozen():
    t = parse_time("now", now=NOW)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        t.precision = "day"  # type: ignore[misc]


# --------------------------------------------------------------------------- canonical UTC text


def test_to_iso_examples():
    assert to_iso(utc(2026, 3, 29, 13, 5)) == "2026-03-29T13:05:00.000000Z"
    assert to_iso(datetime(2026, 3, 29, 14, 5, tzinfo=LONDON)) == "2026-03-29T13:05:00.000000Z"
    assert to_iso(utc(2026, 3, 29, 13, 5, 7, 42)) == "2026-03-29T13:05:07.000042Z"
    assert to_iso(utc(33, 1, 2, 3, 4)) == "0033-01-02T03:04:00.000000Z"


def test_to_iso_refuses_naive():
    with pytest.raises(ValueError):
        to_iso(datetime(2026, 3, 29, 13, 5))


def test_from_iso_examples():
    assert from_iso("2026-03-29T13:05:00.000000Z") == utc(2026, 3, 29, 13, 5)
    assert from_iso("2026-03-29T14:05:00+01:00") == utc(2026, 3, 29, 13, 5)
    assert from_iso("2026-03-29T13:05Z").tzinfo is UTC


@pytest.mark.parametrize("text", ["2026-03-29T13:05:00", "2026-03-29", "yesterday", ""])
def test_from_iso_refuses_naive_and_garbage(text):
    with pytest.raises(ValueError):
        from_iso(text)


def test_utcnow_is_aware_utc():
    n = utcnow()
    assert n.tzinfo is not None and n.utcoffset() == timedelta(0)


aware_datetimes = st.datetimes(
    min_value=datetime(1800, 1, 1),
    max_value=datetime(2200, 12, 31),
    timezones=st.timezones(),
)


@given(aware_datetimes)
def test_iso_round_trip(dt):
    back = from_iso(to_iso(dt))
    assert back.tzinfo is UTC
    # Compare as instants: inter-zone == is always False for datetimes in a DST fold.
    assert back == dt.astimezone(UTC)
    assert back.timestamp() == dt.timestamp()
    assert len(to_iso(dt)) == len("2026-03-29T13:05:00.000000Z")


@given(st.datetimes(min_value=datetime(1800, 1, 1), max_value=datetime(2200, 12, 31), timezones=st.just(UTC)))
def test_iso_round_trip_is_equal_for_utc(dt):
    assert from_iso(to_iso(dt)) == dt


@given(aware_datetimes, aware_datetimes)
def test_iso_strings_sort_in_time_order(a, b):
    ua, ub = a.astimezone(UTC), b.astimezone(UTC)
    sa, sb = to_iso(a), to_iso(b)
    assert (sa < sb) == (ua < ub)
    assert (sa == sb) == (ua == ub)


@settings(max_examples=300)
@given(
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 12, 31)),
    st.sampled_from(
        [
            "Europe/London",
            "America/New_York",
            "America/Sao_Paulo",
            "Australia/Lord_Howe",
            "Asia/Kolkata",
            "Pacific/Chatham",
            "Africa/Casablanca",
            "UTC",
        ]
    )
    | st.timezones().map(lambda z: z.key),
)
def test_existing_local_wall_time_round_trips(naive, tz):
    zone = ZoneInfo(tz)
    wall = naive.replace(second=0, microsecond=0)
    instant = wall.replace(tzinfo=zone).astimezone(UTC)
    assume(instant.astimezone(zone).replace(tzinfo=None) == wall)  # skip gap times
    got = parse_time(wall.strftime("%Y-%m-%d %H:%M"), now=NOW, tz=tz)
    assert got.at == instant
    assert got.precision == "minute"
    assert got.at.astimezone(zone).replace(tzinfo=None) == wall


@given(
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 12, 31), timezones=st.timezones()),
    st.integers(min_value=0, max_value=60 * 24 * 400),
)
def test_relative_minutes_are_exact_in_utc(now, minutes):
    assert parse_time(f"-{minutes}m", now=now).at == now.astimezone(UTC) - timedelta(minutes=minutes)
    assert parse_time(f"{minutes} minutes ago", now=now).at == now.astimezone(UTC) - timedelta(minutes=minutes)


@given(
    st.integers(0, 30),
    st.integers(0, 48),
    st.integers(0, 120),
    st.sampled_from(
        [
            "-{d}d{h}h{m}m",
            "-{d}d {h}h {m}m",
            "{d}d{h}h{m}m ago",
            "{d} days {h} hours {m} minutes ago",
            "{d} days, {h} hrs and {m} mins ago",
            "- {d} day {h} hour {m} min",
        ]
    ),
)
def test_compound_durations(d, h, m, form):
    got = parse_time(form.format(d=d, h=h, m=m), now=NOW)
    assert got.at == NOW - timedelta(days=d, hours=h, minutes=m)
    assert got.precision == "minute"


@given(st.text(max_size=40))
def test_any_text_either_parses_or_gives_a_one_line_error(text):
    try:
        got = parse_time(text, now=NOW)
    except TimeInputError as err:
        assert "\n" not in str(err)
    else:
        assert got.raw == text
        assert got.precision in PRECISIONS
        assert got.at.tzinfo is UTC


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.timezones()))
def test_to_iso_writes_what_isoformat_writes_in_utc(dt):
    """The standard library's own text of the instant in UTC is the oracle."""
    assert to_iso(dt) == dt.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
