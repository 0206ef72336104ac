"""Databases written by every earlier schema version open, migrate, keep their data and end
up with exactly the schema of a fresh project."""

import shutil
import sqlite3
from pathlib import Path

import pytest

import fieldkit
from fieldkit.store import connection, schema

FIXTURES = Path(__file__).parent / "fixtures" / "schema"
VERSIONS = sorted(p.name for p in FIXTURES.iterdir() if (p / "fieldkit.db").exists())


def test_there_is_a_fixture_for_every_earlier_version():
    assert VERSIONS == list(schema.MIGRATIONS)[:-1]


def shape(conn) -> dict:
    """Everything a schema is: each object's SQL, each table's columns (name, type, not null,
    default, key), each index's columns and each trigger's SQL."""
    objects = conn.execute("select type, name, tbl_name, sql from sqlite_master order by type, name").fetchall()
    tables = [name for kind, name, _, _ in objects if kind == "table"]
    return {
        "objects": objects,
        "columns": {t: conn.execute(f"pragma table_xinfo([{t}])").fetchall() for t in tables},
        "indexes": {t: sorted((i[1], i[2], tuple(c[2] for c in conn.execute(f"pragma index_info([{i[1]}])")))
                              for i in conn.execute(f"pragma index_list([{t}])")) for t in tables},
        "triggers": conn.execute("select name, tbl_name, sql from sqlite_master where type = 'trigger' "
                                 "order by name").fetchall(),
    }


def fresh_shape(tmp_path, stop_before=None) -> dict:
    conn = connection.connect(tmp_path / "fresh.db", create=True)
    schema.migrations().apply(connection.database(conn), stop_before=stop_before)
    found = shape(conn)
    conn.close()
    return found


@pytest.mark.parametrize("version", VERSIONS)
def test_frozen_migrations_rebuild_each_fixture_schema_exactly(tmp_path, version):
    """The literal DDL of the migrations up to ``version`` makes what that release made."""
    names = list(schema.MIGRATIONS)
    following = names[names.index(version) + 1]
    old = sqlite3.connect(FIXTURES / version / "fieldkit.db")
    try:
        assert shape(old) == fresh_shape(tmp_path, stop_before=following)
    finally:
        old.close()


@pytest.mark.parametrize("version", VERSIONS)
def test_migrated_fixture_has_the_fresh_schema(tmp_path, version):
    shutil.copytree(FIXTURES / version, tmp_path / "p")
    fieldkit.open(tmp_path / "p").close()
    migrated = sqlite3.connect(tmp_path / "p" / "fieldkit.db")
    try:
        assert shape(migrated) == fresh_shape(tmp_path)
    finally:
        migrated.close()


@pytest.mark.parametrize("version", VERSIONS)
def test_old_database_migrates_and_keeps_data(tmp_path, version):
    shutil.copytree(FIXTURES / version, tmp_path / "p")
    project = fieldkit.open(tmp_path / "p")
    assert schema.applied_migrations(project.conn) == list(schema.MIGRATIONS)
    assert project.conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert project.get("P03").role == "expert_by_experience"
    assert project.get("E1").kind == "inspection_meeting"
    notes = project.list("observation", stage="fieldnote")
    assert [n.body for n in notes] == ["The expert by experience opened the whole meeting. #power"]
    assert [h.data["body"] for h in project.history(notes[0].id)] == ["The expert by experience opened the meeting. #power"]
    coding = project.list("coding")[0]
    assert notes[0].body[coding.start:coding.end] == "expert by experience opene"
    assert [h.record.id for h in project.search("agenda")] == [project.list("memo")[0].id]
    # the migrated project keeps working, singly and in bulk, and its index stays whole
    from fieldkit.core.records import Observation
    from fieldkit.fieldwork import capture

    capture.jot(project, "after migration", encounter="E1")
    project.add_many([Observation(body=f"bulk after migration {i}") for i in range(5)])
    assert project.count("observation") == 8
    assert len(project.search("migration")) == 6
    project.conn.execute("insert into observations_fts(observations_fts, rank) values ('integrity-check', 1)")
    project.close()
