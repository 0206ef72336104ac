"""The store: one write path, record_saved after the row on every path, select's conditions,
plugin tables through register_migrations."""

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fieldkit
from fieldkit.core.errors import FieldkitError, PluginError
from fieldkit.core.records import Code, Coding, Memo, Observation, Participant
from fieldkit.fieldwork import capture
from fieldkit.hooks.specs import hookimpl
from fieldkit.store import schema
from fieldkit.store.search import check_index
from fieldkit.testing import register_plugin

UTC = dt.timezone.utc
FIXTURES = Path(__file__).parent / "fixtures" / "imports"


class RowWatcher:
    """Checks, when record_saved runs, that the record's row is already in the table."""

    def __init__(self):
        self.seen = []

    @hookimpl
    def record_saved(self, project, record):
        stored = project.store.get(record.type_name, record.id)
        assert stored is not None, f"record_saved ran before {record.id} was written"
        assert stored[0] == record
        self.seen.append(record.id)


def test_record_saved_runs_after_the_row_is_written_on_every_path(project, tmp_path):
    from fieldkit.exchange.exporting import ExportOptions, run_export
    from fieldkit.exchange.importing import ImportOptions, run_importer

    watcher = RowWatcher()
    with register_plugin(watcher, "row-watcher"):
        jotting = capture.jot(project, "single add")
        note = capture.note(project, "a note to edit")
        edited = capture.edit(project, note.id, "a note, edited")
        many = [Observation(body=f"bulk {i}") for i in range(7)] + [Memo(body=f"memo {i}") for i in range(3)]
        project.add_many(many, batch_size=3)
        run_importer(project, "markdown", FIXTURES / "notes" / "plain.md", ImportOptions())
        imported = [i for i in watcher.seen if i not in {jotting.id, note.id, *(r.id for r in many)}]
        run_export(project, "jsonl", tmp_path / "backup.jsonl", ExportOptions(anonymise=False))
        restored = fieldkit.init(tmp_path / "restored")
        try:
            before = len(watcher.seen)
            run_importer(restored, "jsonl", tmp_path / "backup.jsonl", ImportOptions())
            restored_ids = watcher.seen[before:]
        finally:
            restored.close()
    assert watcher.seen[:3] == [jotting.id, note.id, edited.id]
    assert watcher.seen[3:13] == [r.id for r in many]
    assert imported
    assert sorted(restored_ids) == sorted(r.id for t in ("observation", "memo") for r in project.list(t))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.sampled_from(["observation", "memo", "code"]), min_size=1, max_size=20),
       batch_size=st.integers(1, 5))
def test_bulk_and_single_inserts_store_the_same_rows(tmp_path_factory, kinds, batch_size):
    """add and add_many share one write path: the same records give the same rows."""
    made = []
    for i, kind in enumerate(kinds):
        made.append({"observation": lambda: Observation(body=f"note {i} #t{i % 3} @P{i % 2}"),
                     "memo": lambda: Memo(title=f"m{i}", body=f"memo {i}"),
                     "code": lambda: Code(name=f"code {i}")}[kind]())
    one, bulk = (fieldkit.init(tmp_path_factory.mktemp(n) / "p") for n in ("one", "bulk"))
    try:
        for record in made:
            one.add(record)
        bulk.add_many(made, batch_size=batch_size)
        for table in ("observations", "memos", "codes"):
            rows = [list(one.store.rows(f"select * from {table} order by id")),
                    list(bulk.store.rows(f"select * from {table} order by id"))]
            assert rows[0] == rows[1]
    finally:
        one.close()
        bulk.close()


def _index_contents(project) -> dict:
    """Every row of the searchable tables and every entry of both their text indexes (word,
    row, column, position), read through fts5vocab tables of this connection only."""
    conn = project.store.conn
    found = {}
    for table in ("observations", "memos"):
        found[table] = conn.execute(f"select rowid, * from {table} order by rowid").fetchall()
        for suffix in ("_fts", "_words"):
            conn.execute(f"create virtual table if not exists temp.[v{table}{suffix}] "
                         f"using fts5vocab(main, [{table}{suffix}], instance)")
            found[table + suffix] = conn.execute(f"select * from temp.[v{table}{suffix}] "
                                                 "order by term, doc, col, offset").fetchall()
    return found


_words = st.text(st.characters(codec="utf-8", categories=("L", "Nd", "Zs", "Mn", "Po")), min_size=1, max_size=12)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.tuples(st.booleans(), _words, _words), min_size=1, max_size=25),
       batch_size=st.integers(1, 7), variables=st.integers(1, 60))
def test_bulk_and_single_inserts_fill_both_text_indexes_alike(tmp_path_factory, texts, batch_size, variables):
    """A bulk insert writes many rows per statement and indexes them a batch at a time; one
    record at a time, the insert triggers index each row. Both give the same rows and the same
    entries in the stemmed index and the index of words as written, whatever the batch and
    however many rows one statement may hold (``variables``: its limit of ``?``)."""
    made = []
    for i, (is_memo, first, second) in enumerate(texts):
        body = f"{first} #{second.strip() or 'x'} {i}"
        made.append(Memo(title=second, body=body) if is_memo else Observation(body=body))
    one, bulk = (fieldkit.init(tmp_path_factory.mktemp(n) / "p") for n in ("one", "bulk"))
    try:
        for record in made:
            one.add(record)
        bulk.store.max_variables = variables  # as few as one row per statement
        bulk.add_many(made, batch_size=batch_size)
        assert _index_contents(bulk) == _index_contents(one)
        for type_name in ("observation", "memo"):
            check_index(bulk.store, type_name)
    finally:
        one.close()
        bulk.close()


def test_select_conditions(project):
    p = project.add(Participant(code="P07", role="inspector"))
    a = capture.note(project, "first about @P07 #power")
    capture.note(project, "second #voice")
    code = project.add(Code(name="power"))
    project.add(Coding(record_id=a.id, code_id=code.id, start=0, end=5, coder="alice"))
    project.add(Coding(record_id=a.id, code_id=code.id, coder="auto:keywords"))
    store = project.store
    assert [r.id for r in store.select("observation", tag="power")] == [a.id]
    assert [r.id for r in store.select("observation", about=(p.id, "P07"))] == [a.id]
    assert [r.id for r in store.select("observation", coded_with=[code.id])] == [a.id]
    assert [c.coder for c in store.select("coding", human=True)] == ["alice"]
    assert [c.coder for c in store.select("coding", human=False)] == ["auto:keywords"]
    assert [c.coder for c in store.select("coding", has_span=False)] == ["auto:keywords"]
    assert [c.coder for c in store.select("coding", start=None)] == ["auto:keywords"]
    assert [c.coder for c in store.select("coding", coder=["alice", "bob"])] == ["alice"]
    assert store.count("observation", stage="fieldnote") == 2
    assert store.select("observation", order_by="id desc", limit=1)[0].body.startswith("second")
    with pytest.raises(FieldkitError, match="codings has no column 'participant_id'"):
        project.list("coding", participant="P07")


@pytest.mark.parametrize("conditions", [{"nope": 1}, {"order_by": "id; drop table codes"},
                                        {"order_by": "body collate nocase"}, {"order_by": "[id]"}])
def test_select_refuses_what_is_not_a_column(project, conditions):
    with pytest.raises(FieldkitError):
        project.store.select("observation", **conditions)
    assert project.conn.execute("select count(*) from codes").fetchone() == (0,)


def test_list_ignores_filters_given_as_none_but_select_matches_null(project):
    capture.note(project, "no encounter")
    assert len(project.list("observation", encounter=None)) == 1
    assert len(project.store.select("observation", encounter_id=None)) == 1
    assert project.store.select("observation", encounter_id="E99") == []


# --- plugin tables -------------------------------------------------------------------------------


class Visits:
    steps = [("0001_rooms", ["CREATE TABLE visits_rooms (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"])]

    @hookimpl
    def register_migrations(self, register):
        register("visits", self.steps)


def _applied(project, set_name):
    from fieldkit.store.schema import applied_migrations

    return applied_migrations(project.conn, set_name)


def test_plugin_migrations_apply_once_and_later_ones_follow(tmp_path):
    plugin = Visits()
    with register_plugin(plugin, "visits"):
        project = fieldkit.init(tmp_path / "p")
        project.conn.execute("insert into visits_rooms (name) values ('Room 12')")
        project.conn.commit()
        project.close()
        plugin.steps = [*Visits.steps, ("0002_floor", "ALTER TABLE visits_rooms ADD COLUMN floor INTEGER")]
        project = fieldkit.open(tmp_path / "p")
        project.close()
        project = fieldkit.open(tmp_path / "p")  # nothing left to apply
        try:
            assert _applied(project, "visits") == ["0001_rooms", "0002_floor"]
            assert project.conn.execute("select name, floor from visits_rooms").fetchall() == [("Room 12", None)]
            assert _applied(project, "fieldkit")[-1] == schema.MIGRATIONS[-1]
        finally:
            project.close()


@pytest.mark.parametrize("name", ["fieldkit", ""])
def test_a_plugin_cannot_use_fieldkits_migration_set(tmp_path, name):
    class Thief:
        @hookimpl
        def register_migrations(self, register):
            register(name, [("0004_mine", ["DROP TABLE audit"])])

    with register_plugin(Thief(), "thief"):
        with pytest.raises(PluginError, match="needs a name of its own"):
            fieldkit.init(tmp_path / "p")


def test_a_failing_plugin_migration_is_reported_and_rolled_back(tmp_path):
    project = fieldkit.init(tmp_path / "p")
    project.close()

    class Broken:
        @hookimpl
        def register_migrations(self, register):
            register("broken", [("0001_half", ["CREATE TABLE broken_a (id INTEGER)", "CREATE TABLE nope nope"])])

    with register_plugin(Broken(), "broken"):
        with pytest.raises(PluginError, match="plugin migrations 'broken' failed"):
            fieldkit.open(tmp_path / "p")
    project = fieldkit.open(tmp_path / "p")
    try:
        assert project.conn.execute("select 1 from sqlite_master where name = 'broken_a'").fetchone() is None
        assert _applied(project, "broken") == []
    finally:
        project.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.sampled_from("abcde"), st.text(max_size=3)), max_size=30),
       variables=st.integers(5, 40))
def test_kept_identities_newest_wins_however_many_rows_a_statement_holds(project, rows, variables):
    """Another tool's ids are kept many to a statement; the last row for an id wins, as a
    dict built from the same rows in order (the oracle) keeps it."""
    project.store.max_variables = variables
    with project.transaction():
        project.store.conn.execute("delete from exchange_ids")
        project.store.exchange.remember([(ext, f"rec-{i}", "coding", "Tool", {"v": v} if v else {})
                                         for i, (ext, v) in enumerate(rows)])
    expected = {ext: (f"rec-{i}", {"v": v} if v else {}) for i, (ext, v) in enumerate(rows)}
    assert {rid: data for rid, (ext, data) in project.store.exchange.identities().items()} == dict(expected.values())
    kept = dict(project.store.conn.execute("select external_id, record_id from exchange_ids").fetchall())
    assert kept == {ext: rid for ext, (rid, _) in expected.items()}


def test_a_connection_that_cannot_say_its_limit_gets_statements_any_sqlite_takes(project):
    """SQLCipher's connections (and Python before 3.11) have no ``getlimit``: a statement then
    holds at most 999 values, and a bulk insert of many rows still writes them all."""
    from fieldkit.store.store import Store

    class WithoutLimit:
        def __init__(self, conn):
            self._conn = conn

        def __getattr__(self, name):
            if name == "getlimit":
                raise AttributeError(name)
            return getattr(self._conn, name)

    store = Store(WithoutLimit(project.store.conn))
    assert store.max_variables == 999
    made = [Observation(body=f"note {i} #t{i % 3}") for i in range(150)]  # more than 999 values a batch
    with store.transaction():
        assert store.insert(made) == 150
    assert project.count("observation") == 150
    check_index(project.store, "observation")
