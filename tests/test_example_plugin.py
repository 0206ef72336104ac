"""The example plugin package (examples/fieldkit-prisons-inspection), installed for real.

CI installs it with pip beside fieldkit (the README's test command); these tests check that
fieldkit's own ``plugins`` command, in a fresh process, sees all four of its contributions
through the entry point, exactly as a user would.
"""

import json
import os
import subprocess
import sys
from importlib import metadata

import pytest

DIST = "fieldkit-prisons-inspection"


def run_fieldkit(*args, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")}
    return subprocess.run([sys.executable, "-m", "fieldkit", *args], capture_output=True, text=True,
                          env={**clean, **env})


@pytest.fixture(scope="module")
def prisons_row():
    try:
        metadata.distribution(DIST)
    except metadata.PackageNotFoundError:
        pytest.fail(f"{DIST} is not installed; run: pip install -e ./examples/fieldkit-prisons-inspection")
    result = run_fieldkit("plugins", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert "prisons" in rows, f"fieldkit plugins does not list the example plugin: {sorted(rows)}"
    return rows["prisons"]


def test_installed_through_the_fieldkit_entry_point():
    [ep] = [ep for ep in metadata.distribution(DIST).entry_points if ep.group == "fieldkit"]
    assert (ep.name, ep.value) == ("prisons", "fieldkit_prisons_inspection")


def test_plugins_command_sees_all_four_contributions(prisons_row):
    assert prisons_row["builtin"] is False
    assert prisons_row["package"].startswith(f"{DIST} ")
    assert prisons_row["hooks"] == ["register_codebooks", "register_commands", "register_detectors",
                                    "register_exporters"]
    assert sorted(prisons_row["provides"]) == ["codebook:prisons", "detector:prisons.location",
                                               "detector:prisons.number", "exporter:prisons-evidence"]


def test_its_command_is_on_the_command_line():
    result = run_fieldkit("--help")
    assert result.returncode == 0 and "prisons" in result.stdout
    result = run_fieldkit("prisons", "wings", "--help")
    assert result.returncode == 0 and "wing" in result.stdout


def test_its_exporter_is_listed_by_export_help():
    assert "prisons-evidence" in run_fieldkit("export", "--help").stdout


def test_allow_list_can_leave_it_out():
    result = run_fieldkit("plugins", "--json", FIELDKIT_LOAD_PLUGINS="")
    assert "prisons" not in {row["name"] for row in json.loads(result.stdout)}
    result = run_fieldkit("plugins", "--json", FIELDKIT_LOAD_PLUGINS="prisons")
    assert "prisons" in {row["name"] for row in json.loads(result.stdout)}


def test_end_to_end_from_the_command_line(tmp_path):
    """Load its codebook, code a note, export the evidence table, list wings: all via the CLI."""
    project = tmp_path / "study"
    steps = [
        ("init", str(project)),
        ("--project", str(project), "codebook", "load", "prisons"),
        ("--project", str(project), "jot", "Peer inspector ran the focus group on C-wing"),
        ("--project", str(project), "autocode", "run", "--all"),
        ("--project", str(project), "autocode", "accept", "--all"),
        ("--project", str(project), "export", "prisons-evidence", str(tmp_path / "evidence.csv"), "--raw"),
    ]
    for argv in steps:
        result = run_fieldkit(*argv, FIELDKIT_AUTHOR="tester")
        assert result.returncode == 0, f"{argv}: {result.stderr}"
    table = (tmp_path / "evidence.csv").read_text(encoding="utf-8-sig")
    assert "prisoner-voice,prisoner-voice,Peer inspector" in table
    wings = run_fieldkit("--project", str(project), "prisons", "wings", "--json")
    assert json.loads(wings.stdout) == [{"reference": "C-wing", "parts": "wing", "mentions": 1, "records": 1}]
