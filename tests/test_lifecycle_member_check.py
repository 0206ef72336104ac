"""Member checking: the pack a participant reads, their responses, and exports honouring them."""

from __future__ import annotations

import copy

import attrs

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifecycle_helpers import build

from fieldkit.core.errors import InvalidInput
from fieldkit.core.records import Coding
from fieldkit.exchange.exporting import ExportOptions, ExportReport, export_items, run_export
from fieldkit.exchange.quote_status import WITHDRAWN, apply_quote_status
from fieldkit.lifecycle import member_check
from fieldkit.store.lifecycle import file_digest

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture
def study(project, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    ids = build(project)
    return project, ids


def texts(path) -> str:
    return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)


def test_pack_shows_the_participants_quotes_pseudonymised_in_docx_and_html(study, tmp_path):
    project, ids = study
    pack = member_check.build_pack(project, "P03", tmp_path / "packs")
    docx_path, html_path = (tmp_path / "packs" / "P03-member-check.docx", tmp_path / "packs" / "P03-member-check.html")
    assert [q.quote_id for q in pack.quotes] == ["P03-Q1", "P03-Q2", "P03-Q3"]
    words = texts(docx_path)
    html = html_path.read_text(encoding="utf-8")
    for shown in (words, html):
        assert "Thackaberry" not in shown and "Oriel" not in shown
        assert "my officer [OFFICER1] listened" in shown
        assert "the reporting centre was understaffed" in shown
        assert "Nobody read the sentence plans" not in shown  # P02's words are not P03's
        assert "Can you tell me about supervision" not in shown  # nor the researcher's
    quote_paragraphs = [p.text for p in docx.Document(str(docx_path)).paragraphs if p.style.name == "Quote"]
    assert quote_paragraphs == ["my officer [OFFICER1] listened", "the appointments felt like mine",
                                "the reporting centre was understaffed"]
    assert "Dear P03" in words and "There are 3 quote(s)" in words
    copies = project.store.lifecycle.copies(project.resolve("P03", "participant"))
    assert [(c["kind"], c["format"]) for c in copies] == [("member-check", "docx"), ("member-check", "html")]
    assert copies[0]["sha256"] == file_digest(docx_path) and copies[1]["sha256"] == file_digest(html_path)


def test_the_cover_is_a_template_the_researcher_edits(study, tmp_path):
    project, _ = study
    (project.path / member_check.COVER_FILE).write_text("Hello $code, here are your $count quotes.\n")
    member_check.build_pack(project, "P03", tmp_path / "packs")
    assert "Hello P03, here are your 3 quotes." in texts(tmp_path / "packs" / "P03-member-check.docx")


def _export(project, **options) -> dict:
    report = ExportReport("test", "-")
    return {item.record.id: item for item in export_items(project, ExportOptions(**options), report)}


def test_amendment_is_a_new_version_and_exports_use_it(study):
    project, ids = study
    member_check.sync_quotes(project, "P03")
    member_check.respond(project, "P03-Q2", "approved")
    after = member_check.respond(project, "P03-Q2", "amended", wording="the appointments were for me")
    assert after["status"] == "amended" and after["version"] == 2
    history = project.store.lifecycle.quote_history("P03-Q2")
    assert [(h["version"], h["status"], h["wording"]) for h in history] == [
        (1, "approved", None), (2, "amended", "the appointments were for me")]
    item = _export(project)[ids["transcript"]]
    assert "because the appointments were for me." in item.text
    assert "felt like mine" not in item.text
    # the coding on the amended quote now covers the new wording
    coded = [item.text[c.start:c.end] for c in item.codings if c.id == ids["codings"][1]]
    assert coded == ["the appointments were for me"]
    assert item.quote_status[ids["codings"][1]] == "amended"


def test_withdrawn_quote_never_leaves_again(study, tmp_path):
    project, ids = study
    member_check.sync_quotes(project, "P03")
    member_check.respond(project, "P03-Q1", "withdrawn", comment="too recognisable")
    items = _export(project)
    text = items[ids["transcript"]].text
    assert "listened" not in text and WITHDRAWN in text
    assert ids["codings"][0] not in {c.id for c in items[ids["transcript"]].codings}
    raw = _export(project, anonymise=False)[ids["transcript"]].text
    assert "listened" not in raw and "Thackaberry" not in raw
    run_export(project, "html", tmp_path / "r.html", ExportOptions())
    assert "listened" not in (tmp_path / "r.html").read_text(encoding="utf-8")
    with pytest.raises(InvalidInput, match="withdrawn"):
        member_check.respond(project, "P03-Q1", "approved")


def test_member_checked_only_keeps_approved_and_amended_quotes(study):
    project, ids = study
    member_check.sync_quotes(project, "P03")
    member_check.respond(project, "P03-Q3", "approved")
    items = _export(project, member_checked_only=True)
    kept = {c.id for item in items.values() for c in item.codings}
    assert kept == {ids["codings"][2]}
    everything = {c.id for item in _export(project).values() for c in item.codings}
    assert set(ids["codings"]) <= everything


def _mark_up(path, out):
    """What a participant does in Word: a comment, a tracked change, a typed answer."""
    document = docx.Document(str(path))
    paragraphs = document.paragraphs
    quotes = [p for p in paragraphs if p.style.name == "Quote"]
    # Q1: a comment on the quote
    document.add_comment(quotes[0].runs, text="Please leave out the part about my officer.", author="P03")
    # Q2: a tracked change replacing "mine" with "they were for me"
    p = quotes[1]._p
    run = p.findall(f"{W}r")[0]
    run.find(f"{W}t").text = "the appointments felt like "
    deleted = copy.deepcopy(run)
    deleted.find(f"{W}t").tag = f"{W}delText"
    deleted.find(f"{W}delText").text = "mine"
    inserted = copy.deepcopy(run)
    inserted.find(f"{W}t").text = "they were for me"
    for tag, child in (("del", deleted), ("ins", inserted)):
        wrapper = p.makeelement(f"{W}{tag}", {f"{W}id": "9" if tag == "del" else "10", f"{W}author": "P03"})
        wrapper.append(child)
        p.append(wrapper)
    # Q3: "withdraw" typed under "Your response"
    third = [i for i, x in enumerate(paragraphs) if x.text.startswith("Your response")][2]
    paragraphs[third + 1].add_run("Withdraw please, people would know it was me.")
    document.save(str(out))


def test_a_returned_docx_is_read_comments_tracked_changes_and_answers(study, tmp_path):
    project, ids = study
    member_check.build_pack(project, "P03", tmp_path / "packs")
    returned = tmp_path / "returned.docx"
    _mark_up(tmp_path / "packs" / "P03-member-check.docx", returned)
    done = member_check.import_responses(project, "P03", returned)
    assert done == [("P03-Q1", "comment"), ("P03-Q2", "amended"), ("P03-Q3", "withdrawn")]
    quotes = {q["id"]: q for q in project.store.lifecycle.quotes()}
    assert quotes["P03-Q1"]["status"] == "pending"
    assert quotes["P03-Q1"]["comment"] == "Please leave out the part about my officer."
    assert quotes["P03-Q2"]["wording"] == "the appointments felt like they were for me"
    assert quotes["P03-Q3"]["status"] == "withdrawn"


@st.composite
def quoted_texts(draw):
    text = draw(st.text(alphabet="ab cd\n", min_size=1, max_size=60))
    cuts = sorted(draw(st.sets(st.integers(0, len(text)), max_size=6)))
    spans = [(a, b) for a, b in zip(cuts[::2], cuts[1::2]) if a < b]
    statuses = draw(st.lists(st.sampled_from(["pending", "approved", "amended", "withdrawn"]),
                             min_size=len(spans), max_size=len(spans)))
    wordings = draw(st.lists(st.text(alphabet="xyz ", min_size=1, max_size=8), min_size=len(spans),
                             max_size=len(spans)))
    return text, list(zip(spans, statuses, wordings))


@settings(max_examples=200, deadline=None)
@given(quoted_texts())
def test_quote_status_matches_a_plain_rebuild_of_the_text(case):
    text, quotes = case
    rows = [{"id": f"Q{i}", "start": a, "end": b, "status": s, "wording": w if s == "amended" else None}
            for i, ((a, b), s, w) in enumerate(quotes)]
    placed = [Coding(id=f"quote:Q{i}", record_id="r", code_id="quote", start=a, end=b, coder="mc")
              for i, ((a, b), _s, _w) in enumerate(quotes)]
    real = [Coding(id=f"c{i}", record_id="r", code_id="x", start=a, end=b, coder="me")
            for i, ((a, b), _s, _w) in enumerate(quotes)]
    new_text, codings, status = apply_quote_status(text, [*real, *placed], rows)
    # the oracle: rebuild the text piece by piece from the spans, left to right
    expected, pos = "", 0
    for (a, b), s, w in quotes:
        expected += text[pos:a] + {"withdrawn": WITHDRAWN, "amended": w}.get(s, text[a:b])
        pos = b
    expected += text[pos:]
    assert new_text == expected
    kept = {c.id: c for c in codings}
    for i, ((_a, _b), s, w) in enumerate(quotes):
        if s == "withdrawn":
            assert f"c{i}" not in kept
        else:
            c = kept[f"c{i}"]
            assert new_text[c.start:c.end] == (w if s == "amended" else text[_a:_b])
        assert status[f"c{i}"] == s


def test_quote_status_is_a_column_of_quotes_csv(study, tmp_path):
    import csv

    project, ids = study
    member_check.sync_quotes(project, "P03")
    member_check.respond(project, "P03-Q3", "approved")
    run_export(project, "csv", tmp_path / "csv", ExportOptions())
    with open(tmp_path / "csv" / "quotes.csv", encoding="utf-8-sig", newline="") as handle:
        status = {row["coding_id"]: row["member_check"] for row in csv.DictReader(handle)}
    assert status[ids["codings"][2]] == "approved"
    assert status[ids["codings"][3]] == ""  # P01's words were never shown to anyone


def test_withdrawal_of_the_participant_takes_their_quotes_and_wordings(study):
    from fieldkit.privacy.withdrawal import withdraw

    project, ids = study
    member_check.sync_quotes(project, "P03")
    member_check.respond(project, "P03-Q3", "amended", wording="PAPERWEIGHTWORDING the centre was short-staffed")
    withdraw(project, "P03", mode="redact")
    assert project.store.lifecycle.quotes() == []
    assert project.store.lifecycle.quote_history("P03-Q3") == []
    project.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    folder = project.path
    assert not any(b"PAPERWEIGHTWORDING" in p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_quote_status_shows_in_coding_queries(study):
    from fieldkit.coding.queries import segments

    project, ids = study
    member_check.sync_quotes(project, "P03")
    member_check.respond(project, "P03-Q1", "withdrawn")
    found = {row["coding"]: row["member_check"] for row in segments(project, "trust")}
    assert found == {ids["codings"][0]: "withdrawn", ids["codings"][1]: "pending"}


def test_a_restored_backup_keeps_withdrawn_quotes_withdrawn(study, tmp_path):
    import fieldkit
    from fieldkit.exchange.importing import ImportOptions, run_importer

    project, ids = study
    member_check.sync_quotes(project, "P03")
    member_check.respond(project, "P03-Q1", "withdrawn")
    run_export(project, "jsonl", tmp_path / "backup.jsonl", ExportOptions(anonymise=False))
    restored = fieldkit.init(tmp_path / "restored")
    try:
        run_importer(restored, "jsonl", tmp_path / "backup.jsonl", ImportOptions())
        assert restored.store.lifecycle.quote("P03-Q1")["status"] == "withdrawn"
        text = _export(restored, anonymise=False)[ids["transcript"]].text
        assert "listened" not in text and WITHDRAWN in text
    finally:
        restored.close()


def test_a_withdrawn_quote_follows_its_words_through_edits_even_without_its_coding(study):
    project, ids = study
    member_check.sync_quotes(project, "P03")
    member_check.respond(project, "P03-Q2", "withdrawn")
    project.delete(ids["codings"][1], reason="recoded elsewhere")
    record = project.get(ids["transcript"])
    project.update(attrs.evolve(record, body="[00:00:01] R1: Hello.\n\n" + record.body), reason="added the start")
    text = _export(project, anonymise=False)[ids["transcript"]].text
    assert "felt like mine" not in text
    assert f"because {WITHDRAWN}." in text


def test_a_pack_leaves_out_quotes_whose_coding_went_unless_answered(study, tmp_path):
    project, ids = study
    member_check.sync_quotes(project, "P03")
    member_check.respond(project, "P03-Q1", "approved")
    project.delete(ids["codings"][0], reason="wrong code")
    project.delete(ids["codings"][1], reason="wrong code")
    pack = member_check.pack_contents(project, "P03")
    assert [q.quote_id for q in pack.quotes] == ["P03-Q1", "P03-Q3"]


def test_imported_transcripts_use_their_stored_speaker_turns(study, tmp_path):
    from fieldkit.exchange.importing import ImportOptions, run_importer
    from fieldkit.lifecycle.passages import participant_passages

    project, ids = study
    source = tmp_path / "second.txt"
    source.write_text("Interviewer: How was the induction?\n\nWren: It was quick and nobody explained the rules.\n",
                      encoding="utf-8")
    run_importer(project, "transcript", source,
                 ImportOptions(encounter="E1", speakers={"Interviewer": "R1", "Wren": "P03"}))
    note = [o for o in project.list("observation") if "induction" in o.body][0]
    assert "P03: It was quick" in note.body
    # the speaker line no longer names P03: only the stored turn still says who spoke
    note = project.update(attrs.evolve(note, body=note.body.replace("P03: It was quick", "W: It was quick")),
                          reason="label")
    stored = [t for t in project.store.turns.of_record(note.id) if t.speaker_id == project.resolve("P03")]
    assert len(stored) == 1
    mine = [(p.start, p.end) for p in participant_passages(project, "P03") if p.record_id == note.id]
    assert mine == [(stored[0].start, stored[0].end)]
    assert note.body[stored[0].start:stored[0].end] == "It was quick and nobody explained the rules."


def test_no_pack_for_someone_who_withdrew(study, tmp_path):
    from fieldkit.core.errors import Refused
    from fieldkit.privacy.consent import record_consent

    project, _ = study
    record_consent(project, "P01", "withdrawn")
    with pytest.raises(Refused, match="P01 withdrew consent"):
        member_check.build_pack(project, "P01", tmp_path / "packs")
    assert not (tmp_path / "packs" / "P01-member-check.docx").exists()
