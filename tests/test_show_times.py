"""``fieldkit show`` prints times as a person reads them (issue 13, item 3): in the project's
time zone, to their precision, without seconds or microseconds; ``--json`` keeps ISO UTC."""

from __future__ import annotations

import json
import os
import re

import pytest

STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d$")  # what a person reads: no seconds, no zone letter
TIMES = ("created_at", "observed_at", "recorded_at", "start", "end", "at")


def shown(text: str) -> dict:
    """The ``key: value`` lines of ``show`` (the body after the blank line left out)."""
    fields = {}
    for line in text.split("\n\n")[0].splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def check_show(run_show, jotting_id: str, encounter: str) -> None:
    note = shown(run_show(jotting_id))
    # 10:00 in New York in July is 14:00 UTC: shown as typed, in the project's zone
    assert note["observed_at"] == "2026-07-01 10:00"
    assert STAMP.match(note["created_at"]) and STAMP.match(note["recorded_at"])
    meeting = shown(run_show(encounter))
    assert meeting["start"] == "2026-07-01 09:30" and meeting["end"] == "2026-07-01 11:15"
    for fields in (note, meeting):
        for key in TIMES:
            if key in fields:
                assert STAMP.match(fields[key]), (key, fields[key])
    data = json.loads(run_show(jotting_id, "--json"))
    assert data["observed_at"] == "2026-07-01T14:00:00.000000Z"
    assert data["created_at"].endswith("Z") and "." in data["created_at"]


def test_show_prints_times_in_the_project_zone(run):
    run("config", "timezone", "America/New_York")
    run("jot", "--at", "2026-07-01 10:00", "the panel starts")
    run("jot", "--at", "2026-07-01 afternoon", "the panel ends")
    run("encounter", "add", "interview", "--start", "2026-07-01 09:30", "--end", "2026-07-01 11:15")
    notes = {r["body"]: r["id"] for r in json.loads(run("list", "observation", "--json").output)}

    def run_show(*args):
        result = run("show", *args)
        assert result.exit_code == 0, result.output
        return result.output

    check_show(run_show, notes["the panel starts"], "E1")
    # a time given as part of a day is shown as that part of the day, never a made-up hour
    assert shown(run_show(notes["the panel ends"]))["observed_at"] == "2026-07-01 afternoon"


def test_show_times_in_a_fresh_process(tmp_path):
    from tests.test_cli_fresh import fieldkit_run

    env = {**{k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")},
           "FIELDKIT_PROJECT": str(tmp_path / "study"), "FIELDKIT_AUTHOR": "tester", "FIELDKIT_LOAD_PLUGINS": ""}
    fieldkit_run("init", tmp_path / "study", env=env, check=0)
    fieldkit_run("config", "timezone", "America/New_York", env=env, check=0)
    fieldkit_run("jot", "--at", "2026-07-01 10:00", "the panel starts", env=env, check=0)
    fieldkit_run("encounter", "add", "interview", "--start", "2026-07-01 09:30", "--end", "2026-07-01 11:15",
                 env=env, check=0)
    jid = json.loads(fieldkit_run("list", "observation", "--json", env=env, check=0).stdout)[0]["id"]
    check_show(lambda *args: fieldkit_run("show", *args, env=env, check=0).stdout, jid, "E1")


@pytest.mark.parametrize("zone, local", [("Europe/London", "2026-07-01 15:00"), ("UTC", "2026-07-01 14:00")])
def test_the_zone_is_the_projects(run, zone, local):
    run("config", "timezone", zone)
    run("jot", "--at", "2026-07-01T14:00:00Z", "said in UTC")
    jid = json.loads(run("list", "observation", "--json").output)[0]["id"]
    assert shown(run("show", jid).output)["observed_at"] == local
