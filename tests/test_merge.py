"""A second coder's work merges back: .qdpx and JSONL, conflicts kept and listed, nothing doubled.

The end-to-end test runs the installed ``fieldkit`` script in fresh processes on two separate
project folders, as the workflow in docs/exchange.md describes.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fieldkit
from fieldkit.core.records import Code, Coding, Memo, Observation
from fieldkit.exchange import merging, refi
from fieldkit.exchange.exporting import ExportOptions
from fieldkit.exchange.importing import ImportOptions, run_importer

RAW = ExportOptions(anonymise=False)
SCRIPT = Path(sys.executable).with_name("fieldkit")
if not SCRIPT.exists():
    SCRIPT = Path(shutil.which("fieldkit") or SCRIPT)

# texts with what trips offsets: emoji (two UTF-16 units), combining marks, right-to-left
words = st.sampled_from(["the", "officer", "listened", "\U0001F642", "cafe\u0301", "\u05e9\u05dc\u05d5\u05dd",
                         "n\u0303o", "\U0001F46E\U0001F3FD", "hostel", "P03:", "\u0645\u0631\u062d\u0628\u0627"])
bodies = st.lists(words, min_size=1, max_size=12).map(" ".join)


def codings_of(project) -> set:
    """Every live coding as (record, code, start, end, coder, covered text)."""
    out = set()
    for c in project.list("coding"):
        body = project.get(c.record_id).body
        out.add((c.id, c.record_id, c.code_id, c.start, c.end, c.coder,
                 body[c.start:c.end] if c.start is not None else None))
    return out


def code_spans(project, draw_span, record, code, coder, n):
    length = len(record.body)
    for _ in range(n):
        start, end = draw_span(length)
        project.add(Coding(record_id=record.id, code_id=code.id, start=start, end=end, coder=coder))


def first_coder(tmp, texts, data):
    """A project of ``texts`` with 0-2 random codings by "ana" on each: ``(project, code,
    records, span)``, ``span(length)`` drawing a further random span."""

    def span(length):
        start = data.draw(st.integers(0, length))
        return start, data.draw(st.integers(start, length))

    first = fieldkit.init(tmp / "first")
    code = first.add(Code(name="trust"))
    records = [first.add(Observation(stage="fieldnote", body=t)) for t in texts]
    for record in records:
        code_spans(first, span, record, code, "ana", data.draw(st.integers(0, 2)))
    return first, code, records, span


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(texts=st.lists(bodies, min_size=1, max_size=3), data=st.data())
def test_second_coder_qdpx_round_trip_merges_exactly(tmp_path_factory, texts, data):
    tmp = tmp_path_factory.mktemp("m")
    first, code, records, span = first_coder(tmp, texts, data)
    ours = codings_of(first)
    refi.export_qdpx(first, tmp / "to-second.qdpx", RAW)

    second = fieldkit.init(tmp / "second")
    refi.import_qdpx(second, tmp / "to-second.qdpx")
    assert codings_of(second) == ours  # texts, offsets, coders and ids (GUIDs) all kept
    for record in records:
        code_spans(second, span, second.get(record.id), second.get(code.id), "ben", data.draw(st.integers(0, 2)))
    theirs = codings_of(second)
    refi.export_qdpx(second, tmp / "back.qdpx", RAW)

    report = refi.import_qdpx(first, tmp / "back.qdpx")
    assert codings_of(first) == theirs  # ana's unchanged, ben's added on the same records
    assert len(first.list("observation")) == len(texts) and len(first.list("code")) == 1
    assert not any(k.startswith("conflicts") for k in report.counts)
    again = refi.import_qdpx(first, tmp / "back.qdpx")
    assert codings_of(first) == theirs
    assert not any(k in again.counts for k in ("codings", "observations", "codes"))


def test_conflicts_keep_both_versions_and_are_listed(tmp_path):
    first = fieldkit.init(tmp_path / "first")
    code = first.add(Code(name="trust"))
    note = first.add(Observation(stage="fieldnote", body="The officer listened."))
    refi.export_qdpx(first, tmp_path / "out.qdpx", RAW)
    second = fieldkit.init(tmp_path / "second")
    refi.import_qdpx(second, tmp_path / "out.qdpx")
    # both rename the code and edit the note, differently
    first.update(attrs.evolve(first.get(code.id), name="trust in staff"), reason="renamed")
    second.update(attrs.evolve(second.get(code.id), name="trust (staff)"), reason="renamed")
    first.update(attrs.evolve(first.get(note.id), body="The officer listened carefully."), reason="edit")
    second.update(attrs.evolve(second.get(note.id), body="The officer listened, then left."), reason="edit")
    refi.export_qdpx(second, tmp_path / "back.qdpx", RAW)
    report = refi.import_qdpx(first, tmp_path / "back.qdpx")
    assert report.counts["conflicts (both versions kept; see 'fieldkit merge --review')"] == 2
    assert first.get(code.id).name == "trust in staff"  # this project's version stays current
    assert first.get(note.id).body == "The officer listened carefully."
    kept = [rev["data"] for rev in first.store.history(note.id)]
    assert any(d.get("body") == "The officer listened, then left." for d in kept)
    listed = merging.review(first)
    assert sorted(row["record_id"] for row in listed) == sorted([code.id, note.id])
    assert any("'trust in staff' here, 'trust (staff)' in the file" in row["what"] for row in listed)
    # merging the same file again lists nothing new
    refi.import_qdpx(first, tmp_path / "back.qdpx")
    assert len(merging.review(first)) == 2
    merging.resolve(first, listed[0]["id"])
    assert len(merging.review(first)) == 1


def test_an_older_copy_does_not_undo_a_newer_edit(tmp_path):
    first = fieldkit.init(tmp_path / "first")
    note = first.add(Observation(stage="fieldnote", body="First version."))
    refi.export_qdpx(first, tmp_path / "old.qdpx", RAW)
    first.update(attrs.evolve(note, body="Second version."), reason="edit")
    report = refi.import_qdpx(first, tmp_path / "old.qdpx")
    assert first.get(note.id).body == "Second version."
    assert report.counts["observations kept as here (the file has an older version)"] == 1
    assert merging.review(first) == []


def test_jsonl_merge_applies_their_edit_adds_their_work_and_lists_conflicts(tmp_path):
    first = fieldkit.init(tmp_path / "first")
    code = first.add(Code(name="trust"))
    calm = first.add(Observation(stage="fieldnote", body="The wing was calm."))
    busy = first.add(Observation(stage="fieldnote", body="The wing was busy."))
    first.add(Coding(record_id=calm.id, code_id=code.id, start=4, end=8, coder="ana"))
    run_export_jsonl(first, tmp_path / "copy.jsonl")
    second = fieldkit.init(tmp_path / "second")
    run_importer(second, "jsonl", tmp_path / "copy.jsonl", ImportOptions())
    # second: codes, adds a memo, edits one note; first edits the other note and the same one
    second.add(Coding(record_id=calm.id, code_id=code.id, start=0, end=8, coder="ben"))
    memo = second.add(Memo(title="wing", body="Calm after the move.", links=(calm.id,)))
    second.update(attrs.evolve(second.get(calm.id), body="The wing was calm today."), reason="edit")
    second.update(attrs.evolve(second.get(busy.id), body="The wing was very busy."), reason="edit")
    first.update(attrs.evolve(first.get(busy.id), body="The wing was busy at lunch."), reason="edit")
    run_export_jsonl(second, tmp_path / "back.jsonl")
    report = run_importer(first, "jsonl", tmp_path / "back.jsonl", ImportOptions())
    assert first.get(calm.id).body == "The wing was calm today."  # only they changed it
    assert first.get(busy.id).body == "The wing was busy at lunch."  # both did: ours stays ...
    assert [r["record_id"] for r in merging.review(first)] == [busy.id]  # ... and it is listed
    assert first.get(memo.id).body == "Calm after the move."
    assert {c.coder for c in first.list("coding")} == {"ana", "ben"}
    assert report.counts["codings"] == 1 and report.counts["memos"] == 1
    again = run_importer(first, "jsonl", tmp_path / "back.jsonl", ImportOptions())
    assert not any(k in again.counts for k in ("codings", "memos", "observations"))
    assert len(merging.review(first)) == 1


def run_export_jsonl(project, dest):
    from fieldkit.exchange.exporting import run_export

    run_export(project, "jsonl", dest, RAW)


# the second-coder workflow, end to end, in fresh processes ---------------------------------


def fk(*args, env, check=0):
    result = subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == check, (args, result.stdout[-800:], result.stderr[-800:])
    assert "Traceback" not in result.stderr
    return result.stdout


def test_second_coder_workflow_with_two_project_folders(tmp_path):
    base = {k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")}
    base.update(FIELDKIT_LOAD_PLUGINS="", FIELDKIT_KEYS_PASSPHRASE="", EDITOR="false", COLUMNS="120")
    lead = {**base, "FIELDKIT_PROJECT": str(tmp_path / "lead"), "FIELDKIT_AUTHOR": "ana"}
    second = {**base, "FIELDKIT_PROJECT": str(tmp_path / "second"), "FIELDKIT_AUTHOR": "ben"}
    fk("init", tmp_path / "lead", env=lead)
    fk("codebook", "add", "trust", env=lead)
    out = fk("note", "--json", "The officer \U0001F642 listened and the hostel felt safe.", env=lead)
    record = json.loads(out)["id"]
    fk("code", "apply", record, "trust", "--quote", "listened", env=lead)
    # 1. the researcher sends the project (raw: the second coder is on the team)
    fk("export", "qdpx", tmp_path / "for-ben.qdpx", "--raw", env=lead)
    # 2. the second coder codes on another machine
    fk("init", tmp_path / "second", env=second)
    fk("import", "qdpx", tmp_path / "for-ben.qdpx", env=second)
    fk("code", "apply", record, "trust", "--quote", "listened", env=second)
    fk("code", "apply", record, "trust", "--quote", "felt safe", env=second)
    fk("export", "qdpx", tmp_path / "from-ben.qdpx", "--raw", env=second)
    # 3. the researcher merges, twice by mistake: the second time adds nothing
    merged = fk("merge", tmp_path / "from-ben.qdpx", env=lead)
    assert "2 codings" in merged
    again = fk("merge", tmp_path / "from-ben.qdpx", env=lead)
    assert "codings already in the project (unchanged)" in again and "  2 codings\n" not in again
    assert "no open merge conflicts" in fk("merge", "--review", env=lead)
    # 4. agreement
    agreement = fk("agreement", "--coders", "ana,ben", env=lead)
    assert "trust" in agreement
    listed = fk("code", "list", "--json", env=lead)
    coders = sorted(c["coder"] for c in json.loads(listed))
    assert coders == ["ana", "ben", "ben"]
    fk("merge", tmp_path / "notes.txt", env=lead, check=1)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(texts=st.lists(bodies, min_size=1, max_size=3), data=st.data())
def test_second_coder_jsonl_round_trip_merges_exactly(tmp_path_factory, texts, data):
    tmp = tmp_path_factory.mktemp("j")
    first, code, records, span = first_coder(tmp, texts, data)
    run_export_jsonl(first, tmp / "to-second.jsonl")
    second = fieldkit.init(tmp / "second")
    run_importer(second, "jsonl", tmp / "to-second.jsonl", ImportOptions())
    assert codings_of(second) == codings_of(first)
    for record in records:
        code_spans(second, span, second.get(record.id), second.get(code.id), "ben", data.draw(st.integers(0, 2)))
    theirs = codings_of(second)
    run_export_jsonl(second, tmp / "back.jsonl")
    run_importer(first, "jsonl", tmp / "back.jsonl", ImportOptions())
    assert codings_of(first) == theirs
    assert [o.body for o in first.list("observation")] == [o.body for o in second.list("observation")]
    assert merging.review(first) == []


def test_second_coder_on_a_project_first_imported_from_nvivo(tmp_path):
    fixture = Path(__file__).parent / "fixtures" / "refi" / "tools" / "nvivo.qdpx"
    first = fieldkit.init(tmp_path / "first")
    refi.import_qdpx(first, fixture)
    ours = codings_of(first)
    refi.export_qdpx(first, tmp_path / "send.qdpx", RAW)
    second = fieldkit.init(tmp_path / "second")
    refi.import_qdpx(second, tmp_path / "send.qdpx")
    assert {c[3:] for c in codings_of(second)} == {c[3:] for c in ours}
    (record,) = second.list("observation")
    (code,) = [c for c in second.list("code") if c.name == "Safety"]
    start = record.body.index("unsafe")
    second.add(Coding(record_id=record.id, code_id=code.id, start=start, end=start + 6, coder="Dee Park"))
    refi.export_qdpx(second, tmp_path / "back.qdpx", RAW)
    refi.import_qdpx(first, tmp_path / "back.qdpx")
    assert len(first.list("observation")) == 1 and len(first.list("code")) == 3
    added = codings_of(first) - ours
    assert [(c[5], c[6]) for c in added] == [("Dee Park", "unsafe")]
    # the NVivo GUID of the document survives the whole trip
    def source_guids(path):
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if n.lower().startswith("sources/")]
        return {n.split("/")[-1][:-4].lower() for n in names}

    assert source_guids(tmp_path / "back.qdpx") == source_guids(fixture)


def test_review_and_resolve_from_the_command_line(tmp_path):
    first = fieldkit.init(tmp_path / "first")
    code = first.add(Code(name="trust"))
    refi.export_qdpx(first, tmp_path / "out.qdpx", RAW)
    second = fieldkit.init(tmp_path / "second")
    refi.import_qdpx(second, tmp_path / "out.qdpx")
    first.update(attrs.evolve(first.get(code.id), name="trust in staff"), reason="renamed")
    second.update(attrs.evolve(second.get(code.id), name="trust (staff)"), reason="renamed")
    refi.export_qdpx(second, tmp_path / "back.qdpx", RAW)
    first.close()
    base = {k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")}
    env = {**base, "FIELDKIT_PROJECT": str(tmp_path / "first"), "FIELDKIT_AUTHOR": "ana",
           "FIELDKIT_LOAD_PLUGINS": "", "FIELDKIT_KEYS_PASSPHRASE": ""}
    out = fk("merge", tmp_path / "back.qdpx", env=env)
    assert "1 conflicts (both versions kept" in out
    listed = fk("merge", "--review", env=env)
    assert f"1. code {code.id}: code renamed in both: 'trust in staff' here, 'trust (staff)' in the file" in listed
    assert "conflict 1 marked resolved" in fk("merge", "--resolve", "1", env=env)
    assert "no open merge conflicts" in fk("merge", "--review", env=env)
    assert "(resolved" in fk("merge", "--review", "--all", env=env)
    failed = fk("merge", "--resolve", "1", env=env, check=1)
    assert failed == ""
