"""What commands print: a table per record type, readable records, "did you mean", agreement
over a code and the codes below it, segments in the order things happened, and exports of
one stage (all data fictional)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import fieldkit
from fieldkit.cli import cli
from fieldkit.coding import codings as coding
from fieldkit.coding import queries
from fieldkit.coding.codebook import add_code
from fieldkit.core.errors import NotFound
from fieldkit.fieldwork import capture
from fieldkit.fieldwork.registers import add_encounter, add_participant, add_site

SCRIPT = Path(sys.executable).with_name("fieldkit")


@pytest.fixture
def study(tmp_path):
    project = fieldkit.init(tmp_path / "study")
    add_site(project, "Riverside AP", kind="approved_premises")
    add_participant(project, "P01", role="inspector", attributes={"region": "north"})
    add_participant(project, "P02", role="manager")
    add_encounter(project, "interview", code="E12", site="Riverside AP", participants=["P01", "P02"])
    add_code(project, "challenges")
    add_code(project, "workload", parent="challenges")
    add_code(project, "staffing", parent="challenges")
    yield project
    project.close()


def cli_run(project, *args):
    return CliRunner().invoke(cli, ["--project", str(project.path), *args])


def fresh(project, *args):
    return subprocess.run([str(SCRIPT), "--project", str(project.path), *args], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("type_name,header,cell", [
    ("site", ["id", "name", "kind", "note"], "approved_premises"),
    ("participant", ["id", "code", "role", "organisation", "attributes"], "region=north"),
    ("encounter", ["id", "code", "kind", "title", "site", "start", "people"], "P01, P02"),
    ("code", ["id", "path", "status", "definition"], "challenges/workload"),
])
def test_each_type_lists_its_own_columns(study, type_name, header, cell):
    result = cli_run(study, "list", type_name)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == header
    assert cell in result.output
    assert "Riverside AP" in cli_run(study, "list", "encounter").output  # the site by name, not id


def test_consent_and_coding_lists_in_a_fresh_process(study):
    capture.note(study, "The manager says the caseload doubled.", encounter="E12")
    note = study.list("observation")[0]
    coding.apply_code(study, note.id, "challenges/workload", quote="caseload doubled", coder="alice")
    assert fresh(study, "participant", "consent", "P01", "given", "--scope", "quotes").returncode == 0
    consent = fresh(study, "list", "consent")
    assert consent.returncode == 0 and consent.stdout.split("\n")[0].split() == ["id", "participant", "status",
                                                                                  "scopes", "at"]
    assert "P01" in consent.stdout and "quotes" in consent.stdout
    codings = fresh(study, "list", "coding")
    assert codings.stdout.split("\n")[0].split() == ["id", "record", "code", "span", "coder", "status"]
    assert "challenges/workload" in codings.stdout and "alice" in codings.stdout


def test_show_prints_no_python_reprs(study):
    result = cli_run(study, "show", "E12")
    assert result.exit_code == 0
    assert "{" not in result.output and "'" not in result.output
    assert "participant_id=" in result.output
    data = json.loads(cli_run(study, "show", "E12", "--json").output)
    assert data["code"] == "E12"



def test_show_names_the_zone_its_times_are_in(study):
    study.set_setting("timezone", "America/New_York")
    shown = fresh(study, "show", "E12")
    assert shown.returncode == 0
    lines = shown.stdout.splitlines()
    zone = [line.split(":", 1)[1].strip() for line in lines if line.strip().startswith("zone:")]
    assert zone == ["America/New_York"]

@pytest.mark.parametrize("args,suggestion", [
    (("show", "P0l"), "did you mean P01 or P02?"),
    (("list", "-e", "E21"), "did you mean E12?"),
    (("code", "segments", "chalenges"), "did you mean challenges?"),
    (("list", "-c", "challenges/workloads"), "did you mean challenges/workload?"),
    (("list", "-p", "P2"), "did you mean P02?"),
])
def test_did_you_mean(study, args, suggestion):
    result = fresh(study, *args)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and lines[0].endswith(suggestion), lines


def test_no_suggestion_when_nothing_is_close(study):
    with pytest.raises(NotFound) as caught:
        study.get("Q999", type_name="participant")
    assert "did you mean" not in str(caught.value)


def test_agreement_over_a_code_includes_the_codes_below_it_and_says_so(study):
    note = capture.note(study, "Caseloads are high. Two posts are vacant. Morale is low.", encounter="E12")
    coding.apply_code(study, note.id, "challenges/workload", quote="Caseloads are high.", coder="alice")
    coding.apply_code(study, note.id, "challenges/staffing", quote="Two posts are vacant.", coder="alice")
    coding.apply_code(study, note.id, "challenges/workload", quote="Caseloads are high.", coder="bob")
    result = coding.agreement(study, ["alice", "bob"], codes=["challenges"])
    codes = {row["code"] for row in result.rows}
    assert {"challenges/workload", "challenges/staffing"} <= codes
    overall = next(row for row in result.rows if row["code"] == "(overall)")
    assert overall["percent"] < 1
    assert any("includes the codes below it" in n for n in result.notes)
    printed = cli_run(study, "agreement", "--coders", "alice,bob", "--code", "challenges")
    assert "includes the codes below it: challenges/workload, challenges/staffing" in printed.output \
        or "includes the codes below it: challenges/staffing, challenges/workload" in printed.output


def test_segments_come_in_the_order_things_happened(study):
    later = capture.note(study, "Afternoon: the workload came up again.", when="2026-03-02 15:00")
    earlier = capture.note(study, "Morning: workload first raised.", when="2026-03-02 09:00")
    memo = capture.memo(study, "Workload is the thread through the week.")
    for record in (later, earlier, memo):
        coding.apply_code(study, record.id, "challenges/workload", quote="workload" if record is not memo else "Workload",
                          coder="alice")
    order = [row["record"] for row in queries.segments(study, "challenges")]
    assert order == [earlier.id, later.id, memo.id]


def test_export_of_jottings_holds_no_memos(study, tmp_path):
    import csv

    capture.jot(study, "Jotted at the door.")
    capture.note(study, "A fieldnote.")
    capture.memo(study, "A memo about the day.")
    out = tmp_path / "jottings"
    result = fresh(study, "export", "csv", str(out), "--stage", "jotting")
    assert result.returncode == 0, result.stderr
    with open(out / "observations.csv", encoding="utf-8") as f:
        assert [row["stage"] for row in csv.DictReader(f)] == ["jotting"]
    with open(out / "memos.csv", encoding="utf-8") as f:
        assert list(csv.DictReader(f)) == []


def test_a_closed_pipe_ends_the_output_silently(study):
    study.add_many(capture_jottings(3000))
    pipe = subprocess.Popen([str(SCRIPT), "--project", str(study.path), "list"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    pipe.stdout.readline()
    pipe.stdout.close()
    _, err = pipe.communicate(timeout=120)
    assert err == b""


def capture_jottings(n: int):
    from fieldkit.core.records import Observation

    return [Observation(stage="jotting", body=f"Line {i} of a long day.") for i in range(n)]


# --- attachments ----------------------------------------------------------------------------

@pytest.fixture
def photo(study, tmp_path):
    from fieldkit.store.attachments import attach

    source = tmp_path / "site-visit.jpg"
    source.write_bytes(b"fictional image bytes")
    return attach(study, source)


def test_attachment_extract_writes_an_owner_only_copy_and_never_overwrites(study, photo, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    first = fresh(study, "attachment", "extract", "site-visit.jpg", str(out))
    assert first.returncode == 0, first.stderr
    copy = out / "site-visit.jpg"
    assert copy.read_bytes() == b"fictional image bytes"
    assert copy.stat().st_mode & 0o777 == 0o600
    copy.write_bytes(b"the researcher's own edit")
    again = fresh(study, "attachment", "extract", photo.id, str(out))
    assert again.returncode == 1 and again.stderr.strip().startswith("Error: ") and "--force" in again.stderr
    assert copy.read_bytes() == b"the researcher's own edit"
    assert sorted(p.name for p in out.iterdir()) == ["site-visit.jpg"]
    forced = fresh(study, "attachment", "extract", photo.id, str(out / "renamed.jpg"), "--force")
    assert forced.returncode == 0 and (out / "renamed.jpg").read_bytes() == b"fictional image bytes"


def test_a_damaged_stored_attachment_is_not_handed_out(study, photo, tmp_path):
    from fieldkit.store.attachments import stored_path

    stored = stored_path(study, photo)
    stored.chmod(0o600)
    stored.write_bytes(b"changed on disk")
    out = tmp_path / "out"
    out.mkdir()
    result = fresh(study, "attachment", "extract", photo.id, str(out))
    assert result.returncode == 1 and "damaged" in result.stderr
    assert list(out.iterdir()) == []


def test_attachment_open_launches_a_private_copy(study, photo, monkeypatch):
    import click

    launched = []
    monkeypatch.setattr(click, "launch", lambda path, **kw: launched.append(Path(path)) or 0)
    result = cli_run(study, "attachment", "open", "site-visit.jpg")
    assert result.exit_code == 0, result.output
    assert len(launched) == 1 and launched[0].name == "site-visit.jpg"
    assert launched[0].read_bytes() == b"fictional image bytes"
    assert launched[0].parent.stat().st_mode & 0o777 == 0o700
    assert launched[0].stat().st_mode & 0o777 == 0o600
    # the copy stays inside the project, where doctor finds it and --fix removes it
    assert launched[0].is_relative_to(study.path)
    from fieldkit.store import maintenance

    found = [f for f in maintenance.doctor(study) if f.check == "leftovers"]
    assert len(found) == 1 and "1 attachment copies" in found[0].message
    assert any("removed .opened" in line for line in maintenance.fix(study))
    assert not launched[0].exists() and not [f for f in maintenance.doctor(study) if f.check == "leftovers"]


def test_every_command_that_lists_or_shows_takes_json():
    import click

    def walk(command, path):
        if isinstance(command, click.Group):
            ctx = click.Context(command)
            for name in command.list_commands(ctx):
                yield from walk(command.get_command(ctx, name), [*path, name])
        else:
            yield path, command

    listing = []
    for path, command in walk(cli, []):
        first = (command.help or "").split()[:1]
        if path[-1] in ("list", "show", "search", "history", "segments", "review") or first in (["List"], ["Show"]):
            listing.append((" ".join(path), {o for p in command.params for o in getattr(p, "opts", [])}))
    assert len(listing) >= 10
    assert [name for name, opts in listing if "--json" not in opts] == []
