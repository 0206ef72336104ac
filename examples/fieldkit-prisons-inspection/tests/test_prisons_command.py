"""``fieldkit prisons wings``: wing and cell references in the notes."""

import json

from fieldkit.fieldwork import capture

import fieldkit_prisons_inspection as plugin
from fieldkit_prisons_inspection.commands import location_references


def test_library_function_groups_spellings(fieldkit_project):
    capture.jot(fieldkit_project, "Quiet on B-wing cell 2-14 this morning")
    capture.jot(fieldkit_project, "Back to B wing cell 2-14; then houseblock 3")
    capture.memo(fieldkit_project, "Houseblock 3 keeps coming up.")
    rows = location_references(fieldkit_project)
    assert rows == [
        {"reference": "B-wing cell 2-14", "parts": "wing+cell", "mentions": 2, "records": 2},
        {"reference": "houseblock 3", "parts": "houseblock", "mentions": 2, "records": 2},
    ]


def test_wings_command(fieldkit_plugin, fieldkit_project, fieldkit_cli):
    fieldkit_plugin(plugin, "prisons")
    result = fieldkit_cli("prisons", "wings", project=fieldkit_project)
    assert result.exit_code == 0 and "No wing" in result.output
    capture.jot(fieldkit_project, "Walked C-wing with the peer inspector")
    result = fieldkit_cli("prisons", "wings", "--json", project=fieldkit_project)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"reference": "C-wing", "parts": "wing", "mentions": 1, "records": 1}]
    assert "C-wing" in fieldkit_cli("prisons", "wings", project=fieldkit_project).output


def test_unknown_encounter_is_one_line(fieldkit_plugin, fieldkit_project, fieldkit_cli):
    fieldkit_plugin(plugin, "prisons")
    result = fieldkit_cli("prisons", "wings", "-e", "E99", project=fieldkit_project)
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "Traceback" not in result.output
