"""Databases written by every earlier schema version open, migrate and keep their data."""

import shutil
from pathlib import Path

import pytest

import fieldkit
from fieldkit.store import connection as store

FIXTURES = Path(__file__).parent / "fixtures" / "schema"
VERSIONS = sorted(p.name for p in FIXTURES.iterdir() if (p / "fieldkit.db").exists())


def test_there_is_a_fixture_for_every_earlier_version():
    assert VERSIONS == store.known_migrations()[:-1]


@pytest.mark.parametrize("version", VERSIONS)
def test_old_database_migrates_and_keeps_data(tmp_path, version):
    shutil.copytree(FIXTURES / version, tmp_path / "p")
    project = fieldkit.open(tmp_path / "p")
    applied = [m.name for m in store._migrations().applied(project.db)]
    assert applied == store.known_migrations()
    assert project.db.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert project.get("P03").role == "expert_by_experience"
    assert project.get("E1").kind == "inspection_meeting"
    notes = project.list("observation", stage="fieldnote")
    assert [n.body for n in notes] == ["The expert by experience opened the whole meeting. #power"]
    assert [h.data["body"] for h in project.history(notes[0].id)] == ["The expert by experience opened the meeting. #power"]
    coding = project.list("coding")[0]
    assert notes[0].body[coding.start:coding.end] == "expert by experience opene"
    assert [h.record.id for h in project.search("agenda")] == [project.list("memo")[0].id]
    # the migrated project keeps working
    from fieldkit.fieldwork import capture

    capture.jot(project, "after migration", encounter="E1")
    assert project.count("observation") == 3
    project.close()
