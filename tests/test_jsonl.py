"""Lossless JSONL: backup, restore into an empty project, and byte-identical re-export."""

from __future__ import annotations

import io
import json
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fieldkit
from fieldkit.core.errors import FieldkitError, Refused
from fieldkit.exchange.exporting import ExportOptions, run_export
from fieldkit.exchange import jsonl
from fieldkit.exchange.importing import ImportFailed, ImportOptions, run_importer
from fieldkit.core.records import Coding, Memo, Observation

from test_exports import build_sample

RAW = ExportOptions(anonymise=False)


def lines(path):
    return path.read_text(encoding="utf-8").split("\n")[:-1]


def restore(source, target_path, **options):
    target = fieldkit.init(target_path)
    run_importer(target, "jsonl", source, ImportOptions(**options))
    return target


def assert_restored_exactly(original_file, restored, tmp_path):
    """Re-exporting the restored project gives the original bytes plus one audit line for the restore."""
    again = tmp_path / "again.jsonl"
    run_export(restored, "jsonl", again, RAW)
    before, after = lines(original_file), lines(again)
    assert after[:-1] == before
    last = json.loads(after[-1])
    assert last["table"] == "audit" and last["row"]["action"] == "import" and last["row"]["record_type"] == "jsonl"


@pytest.fixture
def sample(tmp_path):
    p = build_sample(tmp_path / "sample")
    yield p
    p.close()


def test_round_trip_reproduces_the_project(sample, tmp_path):
    first = tmp_path / "backup.jsonl"
    report = run_export(sample, "jsonl", first, RAW)
    assert report.anonymised is False
    restored = restore(first, tmp_path / "restored")
    assert_restored_exactly(first, restored, tmp_path)
    # same ids, same history, same versions, tombstones kept
    for type_name in ("observation", "memo", "coding", "code", "participant", "encounter", "site", "consent"):
        a = sample.list(type_name, include_deleted=True)
        b = restored.list(type_name, include_deleted=True)
        assert a == b, type_name
    edited = next(o for o in sample.list("observation") if o.body.startswith("Full note"))
    assert restored.history(edited.id) == sample.history(edited.id)
    assert restored.db.execute("select version from observations where id = ?", [edited.id]).fetchone()[0] == 2
    deleted = sample.db.execute("select id, deleted_at from memos where deleted_at is not null").fetchall()
    assert deleted and restored.db.execute("select id, deleted_at from memos where deleted_at is not null").fetchall() == deleted
    assert restored.setting("timezone") == sample.setting("timezone")
    # the full-text index is rebuilt from the restored bodies
    assert [h.record.id for h in restored.search("résumé")] == [edited.id]
    restored.close()


def test_file_shape_header_and_order(sample, tmp_path):
    dest = tmp_path / "b.jsonl"
    run_export(sample, "jsonl", dest, RAW)
    rows = [json.loads(line) for line in lines(dest)]
    assert rows[0] == {"fieldkit": "jsonl", "format": 1, "schema": sample.store.dump.migrations()}
    tables = [r["table"] for r in rows[1:]]
    order = list(dict.fromkeys(tables))
    assert order[0] == "settings" and order[-1] == "audit"
    assert order.index("codes") < order.index("codings") and order.index("sites") < order.index("encounters")
    assert tables == sorted(tables, key=order.index)  # each table in one run
    observations = [r["row"] for r in rows[1:] if r["table"] == "observations"]
    assert [o["id"] for o in observations] == sorted(o["id"] for o in observations)
    assert all(isinstance(o["tags"], list) for o in observations)  # JSON, not JSON text
    revision = next(r["row"] for r in rows[1:] if r["table"] == "revisions")
    assert isinstance(revision["data"], dict)
    assert "fts" not in " ".join(order) and "_sqlite_migrations" not in order
    assert dest.stat().st_mode & 0o077 == 0
    again = tmp_path / "c.jsonl"
    run_export(sample, "jsonl", again, RAW)
    assert again.read_bytes() == dest.read_bytes()


def test_export_refuses_to_anonymise_or_select(sample, tmp_path):
    with pytest.raises(Refused, match="--raw"):
        run_export(sample, "jsonl", tmp_path / "a.jsonl", ExportOptions())
    with pytest.raises(Refused, match="whole project.*encounters"):
        run_export(sample, "jsonl", tmp_path / "a.jsonl", ExportOptions(anonymise=False, encounters=("E1",)))
    assert not (tmp_path / "a.jsonl").exists()


def test_import_into_the_project_it_came_from_changes_nothing(sample, tmp_path):
    dest = tmp_path / "b.jsonl"
    run_export(sample, "jsonl", dest, RAW)
    before = lines(dest)
    report = run_importer(sample, "jsonl", dest, ImportOptions())
    again = tmp_path / "c.jsonl"
    run_export(sample, "jsonl", again, RAW)
    strip = lambda rows: [r for r in rows if '"table":"audit"' not in r]  # noqa: E731 (the import is audited)
    assert strip(lines(again)) == strip(before)
    assert not any(k.startswith("conflicts") for k in report.counts)


def test_dry_run_writes_nothing(sample, tmp_path):
    dest = tmp_path / "b.jsonl"
    run_export(sample, "jsonl", dest, RAW)
    target = fieldkit.init(tmp_path / "t")
    report = run_importer(target, "jsonl", dest, ImportOptions(dry_run=True))
    assert report.dry_run and report.counts["observations rows"] == 4
    assert target.count("observation") == 0
    assert target.setting("timezone") == "Europe/London"
    target.close()


def _broken(tmp_path, sample, change):
    dest = tmp_path / "b.jsonl"
    run_export(sample, "jsonl", dest, RAW)
    text = lines(dest)
    change(text)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(text) + "\n", encoding="utf-8")
    return bad


def _replace_row(text, table, **changes):
    for i, line in enumerate(text):
        item = json.loads(line)
        if item.get("table") == table:
            item["row"].update(changes)
            text[i] = json.dumps(item, ensure_ascii=False)
            return


@pytest.mark.parametrize("change, message", [
    (lambda t: t.insert(3, "{not json"), "not a backup line"),
    (lambda t: t.insert(3, json.dumps({"table": "secrets", "row": {"a": 1}})), "unknown table 'secrets'"),
    (lambda t: _replace_row(t, "observations", stage="bogus"), "invalid observation: stage must be one of"),
    (lambda t: _replace_row(t, "observations", colour="red"), "has no column"),
    (lambda t: _replace_row(t, "codings", code_id="01ARZ3NDEKTSV4RRFFQ69G5FAV"), "refer to records missing"),
    (lambda t: t.insert(5, t[5]), "cannot restore"),  # the same row twice
])
def test_bad_backups_are_reported_and_nothing_is_written(sample, tmp_path, change, message):
    bad = _broken(tmp_path, sample, change)
    target = fieldkit.init(tmp_path / "t")
    with pytest.raises(ImportFailed, match=message):
        run_importer(target, "jsonl", bad, ImportOptions())
    assert all(target.count(t) == 0 for t in ("observation", "memo", "code", "coding", "participant"))
    assert target.setting("timezone") == "Europe/London"
    assert [r["action"] for r in target.audit_log()] == ["init"]
    target.close()


def test_not_a_backup_and_newer_schema(tmp_path):
    target = fieldkit.init(tmp_path / "t")
    plain = tmp_path / "x.jsonl"
    plain.write_text('{"a": 1}\n')
    with pytest.raises(FieldkitError, match="not a fieldkit JSONL backup"):
        run_importer(target, "jsonl", plain, ImportOptions())
    newer = tmp_path / "n.jsonl"
    newer.write_text(json.dumps({"fieldkit": "jsonl", "format": 1, "schema": ["0001_initial", "9999_future"]}) + "\n")
    with pytest.raises(FieldkitError, match="newer fieldkit"):
        run_importer(target, "jsonl", newer, ImportOptions())
    binary = tmp_path / "b.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(FieldkitError):
        run_importer(target, "jsonl", binary, ImportOptions())
    target.close()


def test_children_before_parents_restore(tmp_path):
    """A code moved under a code created later: foreign keys are checked at the end, not per row."""
    from fieldkit.coding.codebook import add_code, move_code

    p = fieldkit.init(tmp_path / "p")
    child = add_code(p, "child")
    add_code(p, "parent")
    move_code(p, child.id, "parent")
    dest = tmp_path / "b.jsonl"
    run_export(p, "jsonl", dest, RAW)
    restored = restore(dest, tmp_path / "r")
    assert_restored_exactly(dest, restored, tmp_path)
    assert restored.get("parent/child").id == child.id


def test_writes_line_by_line(sample):
    class Recorder(io.StringIO):
        calls = 0

        def write(self, text):
            Recorder.calls += 1
            assert text.endswith("\n") and text.count("\n") == 1
            return super().write(text)

    out = Recorder()
    counts = jsonl.write_jsonl(sample, out)
    assert Recorder.calls == sum(counts.values()) + 1


def _peak_export_memory(tmp_path, n):
    p = fieldkit.init(tmp_path / f"p{n}")
    body = "A long fieldnote paragraph about the inspection meeting. " * 20
    p.add_many(Observation(stage="fieldnote", body=f"{i} {body}") for i in range(n))
    sink = type("Sink", (), {"write": lambda self, text: len(text)})()
    tracemalloc.start()
    jsonl.write_jsonl(p, sink)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    p.close()
    return peak


def test_export_memory_stays_flat(tmp_path):
    small = _peak_export_memory(tmp_path, 200)
    large = _peak_export_memory(tmp_path, 4000)
    # 20x the rows (about 4.5 MB of text) must not need much more memory than 200 rows
    assert large < small * 2 + 200_000, (small, large)


# --- property: any project survives the round trip -------------------------------------------

piece = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=6),
    st.sampled_from(["é", "e\u0301", "“", "”", "😀", "👩🏽\u200d⚖️", "שלום", "مرحبا", "\r\n", "\n", "#tag", "@P03"]),
)
text = st.lists(piece, min_size=1, max_size=8).map("".join).filter(lambda s: s.strip())


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bodies=st.lists(text, min_size=1, max_size=4), memos=st.lists(text, max_size=2),
       edits=st.lists(text, max_size=2), data=st.data())
def test_any_project_round_trips(tmp_path_factory, bodies, memos, edits, data):
    from fieldkit.fieldwork.capture import edit
    from fieldkit.coding.codebook import add_code

    tmp = tmp_path_factory.mktemp("rt")
    p = fieldkit.init(tmp / "p")
    saved = [p.add(Observation(stage=data.draw(st.sampled_from(["jotting", "fieldnote"])), body=b)) for b in bodies]
    saved += [p.add(Memo(body=m, title=m[:10])) for m in memos]
    code = add_code(p, "c")
    for record in saved:
        n = len(record.body)
        start = data.draw(st.integers(0, n - 1))
        p.add(Coding(record_id=record.id, code_id=code.id, start=start, end=data.draw(st.integers(start + 1, n)),
                     coder=data.draw(st.sampled_from(["alice", "bob"]))))
    editable = [r for r in saved if getattr(r, "stage", "fieldnote") == "fieldnote"]
    for new_body in edits:
        if editable:
            edit(p, data.draw(st.sampled_from(editable)).id, new_body)
    if data.draw(st.booleans()):
        p.delete(saved[0].id, reason="tombstone")
    dest = tmp / "a.jsonl"
    run_export(p, "jsonl", dest, RAW)
    restored = restore(dest, tmp / "r")
    assert_restored_exactly(dest, restored, tmp)
    for record in saved:
        assert restored.get(record.id, include_deleted=True) == p.get(record.id, include_deleted=True)
    for table in ("observations", "memos"):  # restored rows are indexed in batches: check the index
        restored.conn.execute(f"insert into [{table}_fts]([{table}_fts], rank) values ('integrity-check', 1)")
        assert restored.conn.execute("select 1 from sqlite_master where name = ?", [f"{table}_ai"]).fetchone()
    restored.close()
    p.close()
