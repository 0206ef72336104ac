"""Registers you can edit (issue 13, item 4): participants, encounters and sites change with
history; site names are unique whatever their letter case (and duplicates made before that
check are reported, not fatal); a deleted record's code is explained; participants come in
from a CSV file, all or nothing, with a dry run."""

from __future__ import annotations

import json
import os

import pytest

from fieldkit.core.errors import FieldkitError, InvalidInput, NotFound, Refused
from fieldkit.core.records import Site
from fieldkit.fieldwork import registers
from fieldkit.privacy.consent import current_consent
from fieldkit.store.maintenance import doctor


@pytest.fixture
def people(project):
    registers.add_site(project, "North PDU", kind="probation_delivery_unit")
    registers.add_site(project, "Online", kind="online")
    for code, role in (("P01", "inspector"), ("P02", "expert_by_experience"), ("P03", "probation_practitioner")):
        registers.add_participant(project, code, role=role, attributes={"team": "north"})
    registers.add_encounter(project, "interview", title="first", site="North PDU", participants=["P01"])
    return project


def test_a_participant_is_edited_with_history(people):
    edited = registers.edit_participant(people, "P02", role="peer_researcher", organisation="Peer team",
                                        attributes={"cohort": "2026"}, remove_attributes=["team"], note="joined",
                                        reason="became a peer researcher")
    assert (edited.role, edited.organisation, edited.attributes, edited.note) == (
        "peer_researcher", "Peer team", {"cohort": "2026"}, "joined")
    history = people.history("P02")
    assert [(h.data["role"], h.data["attributes"], h.reason) for h in history] == [
        ("expert_by_experience", {"team": "north"}, "became a peer researcher")]
    with pytest.raises(Refused, match="P02 has no attribute 'team'"):
        registers.edit_participant(people, "P02", remove_attributes=["team"])


def test_an_encounter_is_edited_with_history(people):
    import datetime as dt

    start = dt.datetime(2026, 11, 3, 10, tzinfo=dt.timezone.utc)
    edited = registers.edit_encounter(people, "E1", add=["P02:interviewee", "P03"], remove=["P01"],
                                      title="second look", site="Online", kind="focus_group", mode="video",
                                      start=start, summary="went well")
    assert [(people.get(p.participant_id).code, p.role) for p in edited.participants] == [
        ("P02", "interviewee"), ("P03", "")]
    assert (edited.title, people.get(edited.site_id).name, edited.kind, edited.mode, edited.start) == (
        "second look", "Online", "focus_group", "video", start)
    # a person added again takes the new role; the site can be cleared
    again = registers.edit_encounter(people, "E1", add=["P03:note taker"], site=None)
    assert [p.role for p in again.participants] == ["interviewee", "note taker"] and again.site_id is None
    assert [h.data["title"] for h in people.history("E1")] == ["first", "second look"]
    with pytest.raises(Refused, match="P01 is not in E1"):
        registers.edit_encounter(people, "E1", remove=["P01"])
    with pytest.raises(InvalidInput, match="end must not be before start"):
        registers.edit_encounter(people, "E1", end=start - dt.timedelta(hours=1))


def test_site_names_are_unique_whatever_their_case(people):
    for name in ("Online", "online", "  ONLINE "):
        with pytest.raises(Refused, match="a site named 'Online' already exists"):
            registers.add_site(people, name)
    with pytest.raises(Refused, match="a site named 'Online' already exists"):
        registers.edit_site(people, "North PDU", name="online")
    renamed = registers.edit_site(people, "Online", name="ONLINE", reason="house style")
    assert renamed.name == "ONLINE"
    moved = registers.edit_site(people, "online", name="Video calls", kind="other", note="Teams")
    assert (moved.name, moved.kind, moved.note) == ("Video calls", "other", "Teams")
    assert [h.data["name"] for h in people.history(moved.id)] == ["Online", "ONLINE"]
    assert len(people.list("site")) == 2


def test_duplicates_made_before_the_check_are_reported_not_fatal(people):
    people.add(Site(name="online"))  # as an older fieldkit let it happen
    with pytest.raises(NotFound, match="2 sites are named 'Online'"):
        people.resolve("Online", "site")
    findings = [f for f in doctor(people) if f.check == "sites"]
    assert len(findings) == 1 and "'Online'" in findings[0].message and "'online'" in findings[0].message
    registers.edit_site(people, findings[0].message.split("(")[-1].split(")")[0], name="Online (old)")
    assert not [f for f in doctor(people) if f.check == "sites"]


def test_a_deleted_records_code_is_explained(people):
    people.delete("E1", reason="made by mistake")
    with pytest.raises(Refused, match=r"E1 belongs to a deleted encounter .* such as E2"):
        registers.add_encounter(people, "interview", code="E1")
    people.delete("P03", reason="never took part")
    with pytest.raises(Refused, match=r"P03 belongs to a deleted participant .* such as P04"):
        registers.add_participant(people, "P03")
    with pytest.raises(Refused, match="participant P01 already exists"):
        registers.add_participant(people, "P01")


CSV = """code,role,organisation,consent,scopes,attr:cohort,note
P10,expert_by_experience,Peer team,given,observation;quotes,2026,
P11,inspector,HMIP,limited,observation,,joined late
P12,,,,,,
"""


def test_participants_import_from_csv(project):
    dry = registers.import_participants(project, CSV, source="people.csv", dry_run=True)
    assert dry.summary() == "would add 3 participant(s) and 2 consent event(s) (dry run: nothing was saved)"
    assert project.list("participant") == [] and project.list("consent") == []
    done = registers.import_participants(project, CSV, source="people.csv")
    assert done.summary() == "added 3 participant(s) and 2 consent event(s)"
    p10, p11, p12 = (project.get(c, type_name="participant") for c in ("P10", "P11", "P12"))
    assert (p10.role, p10.organisation, p10.attributes) == ("expert_by_experience", "Peer team", {"cohort": "2026"})
    assert (p11.note, p12.role) == ("joined late", "other")
    assert current_consent(project, p10.id).scopes == ("observation", "quotes")
    assert current_consent(project, p11.id).status == "limited"
    assert current_consent(project, p12.id).status == "none"


@pytest.mark.parametrize("text, message", [
    (CSV + "P13,boss,,,,,\n", "people.csv line 5: role 'boss' is not one of"),
    (CSV + "P10,other,,,,,\n", "people.csv line 5: P10 is in the file twice"),
    (CSV + "P14,other,,limited,,,\n", "people.csv line 5: limited consent must name its scopes"),
    (CSV + "P14,other,,given,phone,,\n", "people.csv line 5: scope 'phone' is not one of"),
    (CSV + "P14,other,,maybe,,,\n", "people.csv line 5: consent 'maybe' is not one of"),
    ("code,role,name\nP20,other,Jane Doe\n", "column fieldkit does not take: 'name'"),
    ("role\nother\n", "has no 'code' column"),
    ("code\n", "has no participants"),
])
def test_a_bad_csv_imports_nothing(project, text, message):
    with pytest.raises(FieldkitError, match=message.replace("(", r"\(")) as err:
        registers.import_participants(project, text, source="people.csv")
    assert "\n" not in str(err.value)
    assert project.list("participant") == [] and project.list("consent") == []


def test_an_import_of_a_registered_code_imports_nothing(project):
    registers.add_participant(project, "P11")
    with pytest.raises(InvalidInput, match="line 3: participant P11 is already registered"):
        registers.import_participants(project, CSV, source="people.csv")
    assert [p.code for p in project.list("participant")] == ["P11"]


# --- command line --------------------------------------------------------------------------------

def test_registers_on_the_command_line(run, tmp_path):
    assert run("site", "add", "Online").exit_code == 0
    dup = run("site", "add", "online")
    assert dup.exit_code == 1 and dup.output.strip() == (
        "Error: a site named 'Online' already exists (site names ignore letter case); use it, or choose another name")
    assert "site Online renamed to Video calls" in run("site", "rename", "online", "Video calls").output
    assert "site Video calls updated (online)" in run("site", "edit", "video calls", "--kind", "online").output
    run("participant", "add", "P01", "--role", "inspector")
    run("participant", "add", "P02")
    assert "participant P02 updated (expert_by_experience)" in run(
        "participant", "edit", "P02", "--role", "expert_by_experience", "--attr", "cohort=2026").output
    run("encounter", "add", "interview", "--with", "P01")
    edited = run("encounter", "edit", "E1", "--add", "P02:interviewee", "--remove", "P01", "--site", "Video calls",
                 "--title", "Talk", "--start", "06/11/2026 10:00")
    assert "encounter E1 updated (people: P02:interviewee)" in edited.output
    shown = run("encounter", "show", "E1").output
    assert "title: Talk" in shown and "start: 2026-11-06 10:00" in shown
    run("delete", "E1", "--reason", "test")
    again = run("encounter", "add", "interview", "--code", "E1")
    assert again.exit_code == 1 and "E1 belongs to a deleted encounter" in again.output
    people = tmp_path / "people.csv"
    people.write_text(CSV, encoding="utf-8")
    assert "would add 3 participant(s)" in run("participant", "import", str(people), "--dry-run").output
    assert len(json.loads(run("participant", "list", "--json").output)) == 2
    assert "added 3 participant(s)" in run("participant", "import", str(people)).output
    assert len(json.loads(run("participant", "list", "--json").output)) == 5


def test_participant_import_in_a_fresh_process(tmp_path):
    from tests.test_cli_fresh import fieldkit_run

    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")}
    env.update(FIELDKIT_PROJECT=str(tmp_path / "study"), FIELDKIT_AUTHOR="tester", FIELDKIT_LOAD_PLUGINS="")
    fieldkit_run("init", tmp_path / "study", env=env, check=0)
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV + "P13,boss,,,,,\n", encoding="utf-8")
    refused = fieldkit_run("participant", "import", bad, env=env, check=1)
    assert len(refused.stderr.strip().splitlines()) == 1 and "line 5: role 'boss'" in refused.stderr
    good = tmp_path / "good.csv"
    good.write_text(CSV, encoding="utf-8")
    fieldkit_run("participant", "import", good, env=env, check=0)
    listed = json.loads(fieldkit_run("participant", "list", "--json", env=env, check=0).stdout)
    assert [p["code"] for p in listed] == ["P10", "P11", "P12"]


def test_a_csv_that_is_not_text_or_not_csv_imports_nothing(run, tmp_path):
    binary = tmp_path / "people.csv"
    binary.write_bytes(b"code\n\xffP1\n")
    result = run("participant", "import", str(binary))
    assert result.exit_code == 1 and result.output.strip() == (
        f"Error: {binary} is not UTF-8 text (save it as CSV UTF-8); nothing was imported")
    broken = tmp_path / "broken.csv"
    broken.write_text('code,role\n"P1,other\n', encoding="utf-8")
    result = run("participant", "import", str(broken))
    assert result.exit_code == 1 and "is not a readable CSV file" in result.output
    odd = tmp_path / "odd.csv"
    odd.write_text("code\nP 1\n", encoding="utf-8")
    result = run("participant", "import", str(odd))
    assert result.exit_code == 1 and "'P 1' is not a pseudonym code" in result.output
    assert json.loads(run("participant", "list", "--json").output) == []
