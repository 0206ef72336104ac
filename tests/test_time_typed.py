"""Times as people type them (issue 13, item 3): UK day-first dates, a time before or after
its day, a safe range refused at input, future times warned about, part-of-day precision
shown as a part of the day, lists in observed-time order, times shown in the project's zone
without seconds.

The round-trip properties write random datetimes with the standard library's ``strftime``
(not with fieldkit) in each accepted style and read them back with ``parse_time``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fieldkit.core.timeinput import TimeInputError, in_future, parse_time, show

LONDON = ZoneInfo("Europe/London")
# Sunday 6 December 2026, 15:00 in London (GMT)
NOW = dt.datetime(2026, 12, 6, 15, 0, tzinfo=dt.timezone.utc)


def local(text, now=NOW, tz="Europe/London"):
    t = parse_time(text, now=now, tz=tz)
    return t.at.astimezone(ZoneInfo(tz)).replace(tzinfo=None), t.precision


@pytest.mark.parametrize("text, wall, precision", [
    ("06/12/2026 10:00", dt.datetime(2026, 12, 6, 10, 0), "minute"),
    ("6/12/2026 10:00", dt.datetime(2026, 12, 6, 10, 0), "minute"),
    ("05.12.26 9:30", dt.datetime(2026, 12, 5, 9, 30), "minute"),
    ("6 Dec 10:00", dt.datetime(2026, 12, 6, 10, 0), "minute"),
    ("6th December 2026 at 2pm", dt.datetime(2026, 12, 6, 14, 0), "minute"),
    ("Dec 4 10:15", dt.datetime(2026, 12, 4, 10, 15), "minute"),
    ("Sat 5 Dec 2026 14:05", dt.datetime(2026, 12, 5, 14, 5), "minute"),
    ("3pm yesterday", dt.datetime(2026, 12, 5, 15, 0), "minute"),
    ("10:00 on 4 Dec", dt.datetime(2026, 12, 4, 10, 0), "minute"),
    ("this morning", dt.datetime(2026, 12, 6, 9, 0), "part_of_day"),
    ("yesterday afternoon", dt.datetime(2026, 12, 5, 14, 0), "part_of_day"),
    ("afternoon yesterday", dt.datetime(2026, 12, 5, 14, 0), "part_of_day"),
    ("4 Dec", dt.datetime(2026, 12, 4, 0, 0), "day"),
    ("04/12", dt.datetime(2026, 12, 4, 0, 0), "day"),
    ("30 Jan", dt.datetime(2027, 1, 30, 0, 0), "day"),      # nearer than last January
    ("15 Jun", dt.datetime(2026, 6, 15, 0, 0), "day"),
])
def test_uk_forms(text, wall, precision):
    assert local(text) == (wall, precision)


@pytest.mark.parametrize("text, reason", [
    ("9999-12-31 23:00", "fieldkit accepts times from 1900 to 2100"),
    ("1/1/1850 10:00", "fieldkit accepts times from 1900 to 2100"),
    ("0001-01-01", "fieldkit accepts times from 1900 to 2100"),
    ("2101-01-01T00:00Z", "fieldkit accepts times from 1900 to 2100"),
    ("-50000d", "fieldkit accepts times from 1900 to 2100"),
    ("31/02/2026", "2026-02-31 is not a real date"),
    ("12/13/2026", "13 is not a month (dates are day first"),
    ("6 Dec\n10:00", "a time is one line"),
])
def test_out_of_range_and_impossible_dates_are_refused_in_one_line(text, reason):
    with pytest.raises(TimeInputError) as err:
        parse_time(text, now=NOW)
    assert reason in str(err.value) and "\n" not in str(err.value)


def test_future_times_are_told_apart():
    assert in_future(parse_time("7 Dec 10:00", now=NOW), now=NOW)
    assert not in_future(parse_time("6 Dec 10:00", now=NOW), now=NOW)
    assert not in_future(parse_time("-20m", now=NOW), now=NOW)


def test_show_keeps_the_precision_and_the_zone_and_drops_seconds():
    summer = dt.datetime(2026, 7, 1, 13, 5, 59, 123456, tzinfo=dt.timezone.utc)
    assert show(summer, "Europe/London") == "2026-07-01 14:05"
    assert show(summer, "Europe/London", "part_of_day") == "2026-07-01 afternoon"
    assert show(summer, "Europe/London", "day") == "2026-07-01"
    assert show(None) == ""


# --- round trips -------------------------------------------------------------------------------

walls = st.datetimes(min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2100, 12, 30)).map(
    lambda d: d.replace(second=0, microsecond=0))


def _exists(wall, zone=LONDON):
    """The wall time exists once in the zone (not in a spring gap, not in an autumn repeat)."""
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    back = first.astimezone(dt.timezone.utc).astimezone(zone).replace(tzinfo=None)
    return back == wall and first.utcoffset() == second.utcoffset()


STYLES = {
    "numeric": lambda d: d.strftime("%d/%m/%Y %H:%M"),
    "numeric, no padding": lambda d: f"{d.day}/{d.month}/{d.year} {d.hour}:{d.minute:02d}",
    "dotted": lambda d: d.strftime("%d.%m.%Y %H.%M"),
    "named": lambda d: d.strftime("%d %b %Y %H:%M"),
    "named in full, at": lambda d: d.strftime("%d %B %Y at %H:%M"),
    "weekday in front": lambda d: d.strftime("%a %d %b %Y %H:%M"),
    "time first": lambda d: d.strftime("%H:%M on %d/%m/%Y"),
    "12-hour clock": lambda d: f"{d.hour % 12 or 12}:{d.minute:02d}{'pm' if d.hour >= 12 else 'am'} {d.day} {d:%b %Y}",
    "iso": lambda d: d.strftime("%Y-%m-%d %H:%M"),
}


@settings(max_examples=300, deadline=None)
@given(wall=walls, style=st.sampled_from(sorted(STYLES)))
def test_each_style_reads_back_the_time_it_was_written_from(wall, style):
    assume(_exists(wall))
    text = STYLES[style](wall)
    assert local(text) == (wall, "minute"), text


@settings(max_examples=200, deadline=None)
@given(days=st.integers(-170, 170), minutes=st.integers(0, 24 * 60 - 1),
       style=st.sampled_from(["%d %b %H:%M", "%d/%m %H:%M", "%H:%M on %d %B"]))
def test_a_date_without_a_year_is_the_nearest_one(days, minutes, style):
    today = NOW.astimezone(LONDON).date()
    wall = dt.datetime.combine(today + dt.timedelta(days=days), dt.time()) + dt.timedelta(minutes=minutes)
    assume(_exists(wall))
    assert local(wall.strftime(style)) == (wall, "minute")


@settings(max_examples=100, deadline=None)
@given(days=st.integers(1, 6), hour=st.integers(1, 23), part=st.sampled_from(["morning", "afternoon", "evening"]))
def test_relative_days_with_a_time_either_side(days, hour, part):
    today = NOW.astimezone(LONDON).date()
    day = today - dt.timedelta(days=days)
    clock = f"{hour % 12 or 12}{'pm' if hour >= 12 else 'am'}"
    name = "yesterday" if days == 1 else day.strftime("%d/%m/%Y")
    assert local(f"{clock} {name}") == (dt.datetime.combine(day, dt.time(hour)), "minute")
    assert local(f"{name} {clock}") == (dt.datetime.combine(day, dt.time(hour)), "minute")
    anchor = {"morning": 9, "afternoon": 14, "evening": 19}[part]
    assert local(f"{name} {part}") == (dt.datetime.combine(day, dt.time(anchor)), "part_of_day")


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=dt.date(1900, 1, 2), max_value=dt.date(2100, 12, 30)),
       part=st.sampled_from(["morning", "afternoon", "evening"]),
       style=st.sampled_from(["%d/%m/%Y {part}", "{part} %d %B %Y", "%a %d %b %Y {part}", "%Y-%m-%d {part}"]))
def test_a_part_of_the_day_reads_back_and_shows_as_that_part(day, part, style):
    text = day.strftime(style.replace("{part}", part))
    t = parse_time(text, now=NOW)
    assert t.precision == "part_of_day"
    assert show(t.at, "Europe/London", t.precision) == f"{day:%Y-%m-%d} {part}"


# --- the command line -------------------------------------------------------------------------

def test_lists_show_part_of_day_and_sort_by_observed_time(run):
    run("jot", "--at", "2026-11-20 16:00", "written first, happened last")
    run("jot", "--at", "19/11/2026 afternoon", "written second, happened in between")
    run("jot", "--at", "9am 18/11/2026", "written last, happened first")
    table = run("list").output.splitlines()[2:]
    assert [line.split("  ")[-1].strip() for line in table] == [
        "written last, happened first", "written second, happened in between", "written first, happened last"]
    assert "2026-11-19 afternoon" in table[1] and "14:00" not in table[1]
    assert "2026-11-18 09:00" in table[0]


def test_typed_times_are_echoed_warned_and_refused(run):
    echoed = run("jot", "--at", "06/11/2026 10:00", "on the 6th")
    assert "observed: Fri 6 Nov 2026 10:00 GMT (minute)  (from '06/11/2026 10:00')" in echoed.output
    assert "in the future" not in echoed.output
    ahead = run("jot", "--at", "2099-01-01 10:00", "typo")
    assert ahead.exit_code == 0 and "Warning: the observed time is in the future" in ahead.output
    refused = run("jot", "--at", "9999-12-31 23:00", "far too late")
    assert refused.exit_code == 1
    assert refused.output.strip().splitlines() == [
        "Error: cannot read time '9999-12-31 23:00': fieldkit accepts times from 1900 to 2100"]
    assert "far too late" not in run("list").output


def test_encounter_times_show_in_the_project_zone_without_seconds(run):
    run("encounter", "add", "interview", "--start", "2026-07-01T13:05:07Z", "--end", "2026-07-01 15:00")
    listed = run("encounter", "list").output
    assert "2026-07-01 14:05" in listed and "2026-07-01 15:00" in listed
    assert "13:05" not in listed and ".000000" not in listed and "+00:00" not in listed
    shown = run("encounter", "show", "E1").output
    assert "start: 2026-07-01 14:05" in shown and "000" not in shown
    data = json.loads(run("encounter", "list", "--json").output)
    assert data[0]["start"] == "2026-07-01T13:05:07.000000Z"  # JSON keeps the exact UTC instant


def test_typed_times_in_a_fresh_process(tmp_path):
    from tests.test_cli_fresh import fieldkit_run

    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")}
    env.update(FIELDKIT_PROJECT=str(tmp_path / "study"), FIELDKIT_AUTHOR="tester", FIELDKIT_LOAD_PLUGINS="")
    fieldkit_run("init", tmp_path / "study", env=env, check=0)
    fieldkit_run("jot", "--at", "3pm yesterday", "later", env=env, check=0)
    fieldkit_run("jot", "--at", "yesterday morning", "earlier", env=env, check=0)
    listed = fieldkit_run("list", env=env, check=0).stdout.splitlines()[2:]
    assert "morning" in listed[0] and "earlier" in listed[0] and "15:00" in listed[1]
    bad = fieldkit_run("jot", "--at", "9999-12-31 23:00", "x", env=env, check=1)
    assert bad.stderr.strip().startswith("Error: cannot read time") and len(bad.stderr.strip().splitlines()) == 1


def test_history_shows_local_times_without_seconds(run):
    from fieldkit.core.timeinput import from_iso

    assert run("config", "timezone", "Asia/Tokyo").exit_code == 0
    run("participant", "add", "P01")
    run("participant", "edit", "P01", "--role", "inspector")
    at = json.loads(run("history", "P01", "--json").output)[0]["at"]
    table = run("history", "P01").output
    assert from_iso(at).astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M") in table
    assert at[:16].replace("T", " ") not in table  # not the UTC text
