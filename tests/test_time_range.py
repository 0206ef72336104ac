"""``--since``/``--until`` have one meaning: ``fieldkit.core.timeinput.parse_range``.

The property tests check each range against an oracle built from the standard library
alone (``zoneinfo``): an instant is in the range for a day, hour, minute or part of day
exactly when its local wall-clock time falls in that day, hour, minute or part of day. The
command tests check that ``list``, ``search`` and ``export`` draw the same line."""

from __future__ import annotations

import csv
import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fieldkit.core.errors import InvalidInput
from fieldkit.core.records import Observation
from fieldkit.core.timeinput import TimeInputError, parse_range

ZONES = ["Europe/London", "UTC", "America/St_Johns", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham"]
UTC = dt.timezone.utc

days = st.dates(min_value=dt.date(1971, 1, 1), max_value=dt.date(2100, 12, 31))
offsets = st.integers(min_value=-36 * 3600, max_value=60 * 3600)  # seconds around the day's start


def _wall(instant: dt.datetime, zone: str) -> dt.datetime:
    return instant.astimezone(ZoneInfo(zone))


def _real_wall_time(day: dt.date, hour: int, minute: int, zone: str) -> bool:
    """Whether a local wall time exists exactly once (not in a gap, not in a repeated hour)."""
    naive = dt.datetime.combine(day, dt.time(hour, minute))
    first = naive.replace(tzinfo=ZoneInfo(zone), fold=0)
    second = naive.replace(tzinfo=ZoneInfo(zone), fold=1)
    back = first.astimezone(UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    return back == naive and first.utcoffset() == second.utcoffset()


@settings(max_examples=300, deadline=None)
@given(days, offsets, st.sampled_from(ZONES))
def test_a_date_covers_exactly_its_local_day(day, offset, zone):
    text = day.isoformat()
    found = parse_range(text, text, zone)
    # an instant near that day, anchored on its local noon (which always exists)
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    instant = noon + dt.timedelta(seconds=offset)
    assert (found.since <= instant <= found.until) == (_wall(instant, zone).date() == day)


@settings(max_examples=300, deadline=None)
@given(days, st.integers(0, 23), st.integers(-7200, 7200), st.sampled_from(ZONES))
def test_an_hour_covers_exactly_its_local_hour(day, hour, offset, zone):
    assume(_real_wall_time(day, hour, 0, zone))
    text = f"{day.isoformat()}T{hour:02d}"
    found = parse_range(text, text, zone)
    start = dt.datetime.combine(day, dt.time(hour), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    instant = start + dt.timedelta(seconds=offset)
    local = _wall(instant, zone)
    inside = (local.date(), local.hour) == (day, hour) and instant.utcoffset() is not None
    # the repeated hour of an autumn change belongs to its first occurrence only
    inside = inside and instant - start < dt.timedelta(hours=1) and instant >= start
    assert (found.since <= instant <= found.until) == inside


@settings(max_examples=300, deadline=None)
@given(days, st.integers(0, 23), st.integers(0, 59), st.integers(-300, 300), st.sampled_from(ZONES))
def test_a_minute_covers_exactly_its_sixty_seconds(day, hour, minute, offset, zone):
    assume(_real_wall_time(day, hour, minute, zone))
    text = f"{day.isoformat()} {hour:02d}:{minute:02d}"
    found = parse_range(text, text, zone)
    start = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    instant = start + dt.timedelta(seconds=offset)
    assert (found.since <= instant <= found.until) == (0 <= offset < 60)


PARTS = {"morning": (5, 12), "afternoon": (12, 17), "evening": (17, 22)}


@settings(max_examples=200, deadline=None)
@given(days, st.sampled_from(sorted(PARTS)), st.integers(0, 47 * 60), st.sampled_from(["UTC", "Europe/London"]))
def test_a_part_of_day_covers_its_hours(day, part, minutes, zone):
    text = f"{day.isoformat()} {part}"
    found = parse_range(text, text, zone)
    midnight = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(12), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    instant = midnight + dt.timedelta(minutes=minutes)
    local = _wall(instant, zone)
    first, last = PARTS[part]
    assert (found.since <= instant <= found.until) == (local.date() == day and first <= local.hour < last)


def test_open_ends_and_echo():
    found = parse_range(None, "2026-12-05", "Europe/London")
    assert found.since is None and found.since_time is None
    assert found.until == dt.datetime(2026, 12, 5, 23, 59, 59, 999999, tzinfo=UTC)
    assert found.until_time.raw == "2026-12-05" and found.until_time.precision == "day"
    assert parse_range("", "", "UTC").since is None


def test_a_range_that_ends_before_it_starts_is_refused():
    with pytest.raises(TimeInputError, match="the range starts .* after it ends"):
        parse_range("2026-12-06", "2026-12-05", "UTC")
    assert issubclass(TimeInputError, InvalidInput)
    # the same day as both ends is the whole day, not an empty range
    assert parse_range("2026-12-05", "2026-12-05", "UTC").since < parse_range("2026-12-05", "2026-12-05", "UTC").until


# --------------------------------------------------------------------------- the commands agree


@pytest.fixture
def dated(run):
    """Notes either side of midnight at the end of 5 December 2026 (London)."""
    import fieldkit

    project = fieldkit.open(run.path)
    times = {"before": dt.datetime(2026, 12, 5, 23, 59, 30, tzinfo=UTC),
             "after": dt.datetime(2026, 12, 6, 0, 0, 0, tzinfo=UTC),
             "early": dt.datetime(2026, 12, 5, 0, 0, 0, tzinfo=UTC)}
    project.add_many(Observation(stage="fieldnote", body=f"marker {name} note", observed_at=at,
                                 observed_precision="minute", observed_raw=name) for name, at in times.items())
    project.close()
    return run


def _bodies(rows):
    return sorted(row.get("body") or row.get("snippet") for row in rows)


def test_until_a_date_includes_that_whole_day_in_every_command(dated, tmp_path):
    listed = json.loads(dated("list", "--until", "2026-12-05", "--json").stdout)
    searched = json.loads(dated("search", "marker", "--until", "2026-12-05", "--json").stdout)
    export = dated("export", "csv", str(tmp_path / "csv"), "--until", "2026-12-05", "--raw")
    assert export.exit_code == 0, export.output
    with open(tmp_path / "csv" / "observations.csv", encoding="utf-8") as f:
        exported = [row["text"] for row in csv.DictReader(f)]
    expected = ["marker before note", "marker early note"]
    assert _bodies(listed) == expected
    assert len(searched) == 2 and all("after" not in row["snippet"] for row in searched)
    assert sorted(exported) == expected


def test_since_a_date_starts_at_its_midnight_in_every_command(dated, tmp_path):
    listed = json.loads(dated("list", "--since", "2026-12-06", "--json").stdout)
    export = dated("export", "csv", str(tmp_path / "csv"), "--since", "2026-12-06", "--raw")
    assert export.exit_code == 0, export.output
    with open(tmp_path / "csv" / "observations.csv", encoding="utf-8") as f:
        exported = [row["text"] for row in csv.DictReader(f)]
    assert _bodies(listed) == ["marker after note"] == sorted(exported)


def test_the_parsed_range_is_echoed(dated):
    result = dated("list", "--since", "2026-12-05", "--until", "2026-12-05")
    assert "since: Sat 5 Dec 2026  (from '2026-12-05')" in result.stderr
    assert "until: Sat 5 Dec 2026  (from '2026-12-05')" in result.stderr


def test_a_backwards_range_is_one_line(dated):
    result = dated("list", "--since", "2026-12-06", "--until", "2026-12-05")
    assert result.exit_code == 1
    assert [line for line in result.stderr.splitlines() if line.startswith("Error:")] == [
        "Error: the range starts (Sun 6 Dec 2026) after it ends (Sat 5 Dec 2026); nothing can fall in it"]
