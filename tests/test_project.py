"""The store: CRUD, history, tombstones, audit, search, permissions and migrations."""

import datetime as dt
import os
import stat

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fieldkit
from fieldkit.fieldwork import capture
from fieldkit.fieldwork import registers as fieldwork
from fieldkit.store import connection as store
from fieldkit.store import schema
from fieldkit.core.errors import FieldkitError, NotFound, Refused
from fieldkit.core.records import Memo, Observation

UTC = dt.timezone.utc


def test_init_creates_private_files(tmp_path):
    p = fieldkit.init(tmp_path / "study")
    capture.jot(p, "first")
    assert stat.S_IMODE(os.stat(p.path).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(p.path / "fieldkit.db").st_mode) == 0o600
    for extra in ("fieldkit.db-wal", "fieldkit.db-shm"):
        if (p.path / extra).exists():
            assert stat.S_IMODE(os.stat(p.path / extra).st_mode) & 0o077 == 0
    p.close()


def test_pragmas(project):
    assert project.db.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert project.db.execute("pragma foreign_keys").fetchone()[0] == 1
    assert project.db.execute("pragma busy_timeout").fetchone()[0] >= 5000


def test_init_refuses_existing_project(project):
    with pytest.raises(Refused, match="already holds"):
        fieldkit.init(project.path)


def test_open_finds_project_by_walking_up(project, monkeypatch):
    sub = project.path / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    opened = fieldkit.open()
    assert opened.path.resolve() == project.path.resolve()
    opened.close()


def test_open_from_environment(project, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FIELDKIT_PROJECT", str(project.path))
    opened = fieldkit.open()
    assert opened.path == project.path
    opened.close()


def test_open_without_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FieldkitError, match="no fieldkit project"):
        fieldkit.open()


def test_add_get_list(project):
    site = fieldwork.add_site(project, "North PDU", kind="probation_delivery_unit")
    p = fieldwork.add_participant(project, "P03", role="expert_by_experience")
    enc = fieldwork.add_encounter(project, "interview", site="North PDU", participants=["P03:interviewee"])
    assert enc.code == "E1" and enc.site_id == site.id
    assert enc.participants[0].participant_id == p.id and enc.participants[0].role == "interviewee"
    obs = capture.jot(project, "EbE leads the intro @P03 #power", encounter="E1")
    assert obs.tags == ("power",) and obs.mentions == ("P03",)
    assert project.get(obs.id) == obs
    assert project.get(obs.id[-8:]) == obs
    assert project.get("P03") == p
    assert project.get("E1") == enc
    assert project.list("observation", encounter="E1") == [obs]
    assert project.list("observation", participant="P03") == [obs]
    assert project.list("observation", tag="POWER") == [obs]
    assert project.list("encounter", participant="P03") == [enc]
    assert project.author == "tester" and obs.author == "tester"


def test_unknown_references_are_refused(project):
    with pytest.raises(NotFound):
        capture.jot(project, "x", encounter="E99")
    with pytest.raises(NotFound):
        project.add(Observation(body="x", encounter_id="01ARZ3NDEKTSV4RRFFQ69G5FAV"))
    assert project.count("observation") == 0


def test_duplicate_codes_refused(project):
    fieldwork.add_participant(project, "P01")
    with pytest.raises(Refused, match="already exists"):
        fieldwork.add_participant(project, "P01")


def test_updates_keep_every_prior_version(project):
    note = capture.note(project, "version one")
    bodies = ["version two", "version three", "version four"]
    for i, body in enumerate(bodies):
        capture.edit(project, note.id, body, reason=f"edit {i}")
    history = project.history(note.id)
    assert [h.data["body"] for h in history] == ["version one", "version two", "version three"]
    assert [h.reason for h in history] == ["edit 0", "edit 1", "edit 2"]
    assert [h.version for h in history] == [1, 2, 3]
    assert all(h.author == "tester" for h in history)
    assert project.get(note.id).body == "version four"
    actions = [row["action"] for row in project.audit_log()]
    assert actions.count("update") == 3 and "create" in actions


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(min_size=1, max_size=30).filter(lambda s: s.strip()), min_size=1, max_size=6))
def test_history_property(project, bodies):
    memo = capture.memo(project, "start")
    for body in bodies:
        capture.edit(project, memo.id, body)
    seen = [h.data["body"] for h in project.history(memo.id)] + [project.get(memo.id).body]
    expected = ["start"]
    from fieldkit.core.markdown import normalise

    for body in bodies:
        if normalise(body) != expected[-1]:
            expected.append(normalise(body))
    assert seen == expected


def test_jottings_cannot_change(project):
    j = capture.jot(project, "quick")
    with pytest.raises(Refused, match="jottings cannot be changed"):
        project.update(attrs.evolve(j, body="changed"))
    with pytest.raises(Refused):
        project.update(attrs.evolve(j, stage="fieldnote", body="sneaky"))
    assert project.get(j.id).body == "quick"
    assert project.history(j.id) == []


def test_delete_is_a_tombstone(project):
    n = capture.note(project, "to be removed")
    project.delete(n.id, reason="duplicate")
    assert project.list("observation") == []
    with pytest.raises(NotFound, match="was deleted"):
        project.get(n.id)
    assert project.get(n.id, include_deleted=True).body == "to be removed"
    assert project.db.execute("select count(*) from observations").fetchone()[0] == 1
    assert project.audit_log()[0]["action"] == "delete"
    project.undelete(n.id)
    assert project.get(n.id).body == "to be removed"


def test_search_ranks_and_filters(project):
    fieldwork.add_participant(project, "P07")
    fieldwork.add_encounter(project, "focus_group", code="E5")
    a = capture.jot(project, "the inspector checks her phone during the meeting", encounter="E5")
    b = capture.note(project, "phone phone phone: the phone rings again @P07 #noise")
    m = capture.memo(project, "Reflexive memo about phone etiquette", kind="reflexive")
    hits = project.search("phone")
    assert {h.record.id for h in hits} == {a.id, b.id, m.id}
    assert hits[0].record.id == b.id
    assert "[phone]" in hits[0].snippet
    assert [h.record.id for h in project.search("phone", types=("memo",))] == [m.id]
    assert [h.record.id for h in project.search("phone", stage="jotting", types=("observation",))] == [a.id]
    assert [h.record.id for h in project.search("phone", encounter="E5", types=("observation",))] == [a.id]
    assert [h.record.id for h in project.search("phone", participant="P07", types=("observation",))] == [b.id]
    assert [h.record.id for h in project.search("phone", tag="noise", types=("observation",))] == [b.id]
    assert project.search("elephant") == []
    future = dt.datetime(2100, 1, 1, tzinfo=UTC)
    assert project.search("phone", since=future, types=("observation",)) == []


def test_search_finds_what_was_written_after_edit(project):
    n = capture.note(project, "original words about governance")
    capture.edit(project, n.id, "rewritten text about tokenism")
    assert project.search("governance") == []
    assert [h.record.id for h in project.search("tokenism")] == [n.id]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.from_regex(r"[a-z]{4,10}", fullmatch=True), min_size=1, max_size=8, unique=True))
def test_search_finds_every_word_written(project, words):
    n = capture.jot(project, " ".join(words))
    for w in words:
        assert n.id in {h.record.id for h in project.search(w)}


def test_migrations_from_empty_database(tmp_path):
    path = tmp_path / "fieldkit.db"
    conn = store.connect(path, create=True)
    applied = schema.migrate(conn)
    assert applied == list(schema.MIGRATIONS)
    assert schema.applied_migrations(conn) == applied
    assert schema.migrate(conn) == []
    assert {"observations", "memos", "revisions", "audit", "observations_fts"} <= set(store.database(conn).table_names())


def test_migration_names_listed_for_the_fast_open_match_the_migrations():
    assert list(schema.MIGRATIONS) == [m.name for m in schema.migrations()._migrations]


def test_newer_schema_is_refused(project):
    project.db["_sqlite_migrations"].insert({"migration_set": "fieldkit", "name": "9999_future", "applied_at": "x"})
    project.close()
    with pytest.raises(FieldkitError, match="newer fieldkit"):
        fieldkit.open(project.path)


def test_not_sqlite(tmp_path):
    (tmp_path / "fieldkit.db").write_text("this is not a database" * 100)
    with pytest.raises(FieldkitError, match="not"):
        fieldkit.open(tmp_path)


def test_failed_write_leaves_nothing(project):
    before = project.db.execute("select count(*) from audit").fetchone()[0]
    with pytest.raises(RuntimeError):
        with project.transaction():
            capture.jot(project, "inside")
            raise RuntimeError("boom")
    assert project.count("observation") == 0
    assert project.db.execute("select count(*) from audit").fetchone()[0] == before


def test_add_many_is_all_or_nothing(project):
    good = [Observation(body=f"note {i}") for i in range(10)]
    assert project.add_many(good) == 10
    bad = [Observation(body="fine"), Observation(body="bad", encounter_id="nope")]
    trigger = _fts_checked(project, "observations")
    with pytest.raises(NotFound, match="an observation in this import refers to a record that does not exist"):
        project.add_many(bad)  # fails inside the batch insert, with indexing deferred
    with pytest.raises(Refused, match="already exists; nothing was imported"):
        project.add_many([Observation(body="new"), good[0]])
    assert project.count("observation") == 10
    assert len(project.search("note")) == 10
    assert _fts_checked(project, "observations") == trigger


def test_bulk_insert_never_changes_the_schema(project):
    """Batch indexing must not drop and remake triggers: other connections could see a table
    without its trigger, and every schema change invalidates their prepared statements."""
    from fieldkit.hooks import manager as plugin_manager
    from fieldkit.hooks.specs import hookimpl

    versions = []

    class Watcher:
        @hookimpl
        def record_saved(self, project, record):
            versions.append(project.conn.execute("pragma schema_version").fetchone()[0])

    before = project.conn.execute("pragma schema_version").fetchone()[0]
    plugin_manager.get_plugin_manager().register(Watcher(), name="schema-watcher")
    try:
        project.add_many([Observation(body=f"note {i} #batch") for i in range(7)], batch_size=3)
        project.add_many([Memo(title="t", body=f"memo {i}") for i in range(4)], batch_size=2)
    finally:
        plugin_manager.get_plugin_manager().unregister(name="schema-watcher")
    assert len(versions) == 11 and set(versions) == {before}
    assert project.conn.execute("pragma schema_version").fetchone()[0] == before
    assert len(project.search("batch")) == 7 and len(project.search("memo")) == 4
    _fts_checked(project, "observations")
    _fts_checked(project, "memos")


def _index_entries(project, table):
    # every (term, row, column, offset) the full-text index holds for a table
    conn = project.conn
    conn.execute(f"create virtual table if not exists temp.[{table}_terms] using fts5vocab(main, [{table}_fts], 'instance')")
    return sorted(conn.execute(f"select term, doc, col, offset from temp.[{table}_terms]").fetchall())


def _fts_checked(project, table):
    project.conn.execute(f"insert into [{table}_fts]([{table}_fts], rank) values ('integrity-check', 1)")
    return project.conn.execute("select sql from sqlite_master where name = ?", [f"{table}_ai"]).fetchone()


_BODY = st.lists(st.sampled_from(list("ab cé#@\n-_'") + ["word", "Über", "名字"]), min_size=1, max_size=30).map("".join).filter(str.strip)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(st.tuples(st.booleans(), _BODY, _BODY), min_size=1, max_size=25), batch_size=st.integers(1, 6))
def test_bulk_indexing_equals_row_by_row_indexing(tmp_path_factory, items, batch_size):
    # add_many indexes each batch with one statement while the per-row trigger stands aside:
    # the index must come out exactly as the trigger would have built it.
    made = [Memo(title=a, body=b) if memo else Observation(body=b) for memo, a, b in items]
    bulk = fieldkit.init(tmp_path_factory.mktemp("bulk") / "p")
    single = fieldkit.init(tmp_path_factory.mktemp("single") / "p")
    try:
        triggers = {t: _fts_checked(bulk, t) for t in ("observations", "memos")}
        assert bulk.add_many(made, batch_size=batch_size) == len(made)
        for record in made:
            single.add(record)
        for table in ("observations", "memos"):
            assert _fts_checked(bulk, table) == triggers[table]  # the trigger is unchanged
            assert _index_entries(bulk, table) == _index_entries(single, table)
    finally:
        bulk.close()
        single.close()


def test_failed_bulk_insert_keeps_trigger_and_index(project):
    from fieldkit.hooks import manager as plugin_manager
    from fieldkit.hooks.specs import hookimpl
    from fieldkit.core.errors import PluginError

    project.add_many([Observation(body=f"early note {i}") for i in range(3)])
    trigger = _fts_checked(project, "observations")

    class Failing:
        seen = 0

        @hookimpl
        def validate_record(self, project, record):
            Failing.seen += 1
            if Failing.seen == 5:  # after two batches of two were written
                raise RuntimeError("no")

    plugin_manager.get_plugin_manager().register(Failing(), name="failing-validator")
    # (a plugin's error reaches the caller as it was raised, or wrapped in PluginError naming it)
    with pytest.raises((PluginError, RuntimeError), match="no"):
        project.add_many([Observation(body=f"late note {i}") for i in range(6)], batch_size=2)
    plugin_manager.get_plugin_manager().unregister(name="failing-validator")
    assert project.count("observation") == 3
    assert _fts_checked(project, "observations") == trigger
    capture.jot(project, "a late note after all")  # indexed by the trigger again
    assert len(project.search("late")) == 1 and len(project.search("early")) == 3


def test_expand_links_jottings(project):
    fieldwork.add_encounter(project, "inspection_meeting", code="E12")
    j1 = capture.jot(project, "LI hands intro to EbE", encounter="E12", when="-30m")
    j2 = capture.jot(project, "SPO checks phone", encounter="E12", when="-20m")
    jottings = capture.jottings_for(project, "E12")
    assert [j.id for j in jottings] == [j1.id, j2.id]
    template = capture.expand_template(project, jottings, project.get("E12"))
    assert "LI hands intro to EbE" in template and "SPO checks phone" in template
    note = capture.expand(project, template + "\nThe lead inspector handed over.\n> OC: tokenism?", jottings)
    assert note.stage == "fieldnote" and note.derived_from == (j1.id, j2.id)
    assert note.encounter_id == j1.encounter_id
    assert "<!--" not in note.body
    assert note.observed_at == j1.observed_at


def test_two_clocks(project):
    now = dt.datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
    j = capture.jot(project, "after the clocks changed", when="yesterday 15:30", now=now)
    assert j.observed_raw == "yesterday 15:30"
    assert j.observed_at == dt.datetime(2026, 3, 28, 15, 30, tzinfo=UTC)  # GMT on 28 March
    j2 = capture.jot(project, "BST now", when="11:30", now=now)
    assert j2.observed_at == dt.datetime(2026, 3, 29, 10, 30, tzinfo=UTC)  # BST on 29 March
    assert j.recorded_at.tzinfo == UTC


def test_settings_and_timezone(project):
    assert project.timezone == "Europe/London"
    project.set_setting("timezone", "Europe/Dublin")
    assert project.timezone == "Europe/Dublin"
