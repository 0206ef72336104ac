"""Human exports (Markdown, CSV, HTML, DOCX) and the shared export machinery.

These tests run with ``ExportOptions(anonymise=False)`` unless they test anonymisation
itself; consent rules are exercised with a stand-in release policy so the exporters'
handling of ``left_out`` and ``quotes_allowed`` is checked on its own.
"""

from __future__ import annotations

import csv
import datetime as dt
import html.parser
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fieldkit
from fieldkit.exchange import exporting
from fieldkit.fieldwork.capture import edit, jot, memo, note
from fieldkit.coding.codebook import add_code
from fieldkit.coding.codings import apply_code
from fieldkit.privacy.consent import record_consent
from fieldkit.core.errors import FieldkitError, NotFound, Refused
from fieldkit.exchange.exporting import ExportOptions, ExportReport, LeftOut, run_export
from fieldkit.core.output import unguard_cell
from fieldkit.fieldwork.registers import add_encounter, add_participant, add_site
from fieldkit.core.records import CONSENT_SCOPES, Coding, Memo, Observation

RAW = ExportOptions(anonymise=False)
UTC = dt.timezone.utc


def build_sample(path) -> fieldkit.Project:
    """A small fictional project: two encounters, jottings, fieldnotes, memos, codes and codings,
    an edit (revision + remapped coding) and a tombstone."""
    p = fieldkit.init(path)
    add_site(p, "North PDU", kind="probation_delivery_unit")
    add_participant(p, "P03", role="person_on_probation")
    record_consent(p, "P03", "given", CONSENT_SCOPES)
    add_participant(p, "P07", role="inspector", organisation="Team B")
    record_consent(p, "P07", "given", CONSENT_SCOPES)
    add_encounter(p, "interview", code="E1", title="Interview at North PDU", site="North PDU",
                  participants=["P03:interviewee"], start=dt.datetime(2026, 3, 10, 10, tzinfo=UTC))
    add_encounter(p, "focus_group", code="E2", participants=["P07"])
    jot(p, "Café chat with @P03 about the “ladder” #power", encounter="E1", when="2026-03-10 10:05")
    n1 = note(p, "Full note: naïve résumé 😀 and @P03 said the final say was theirs.\n\n> OC: power.\n#power",
              encounter="E1", when="2026-03-10 11:00")
    n2 = note(p, "Focus group note about voice #voice", encounter="E2", when="2026-03-12 10:00")
    memo(p, "A memo about E1 and <b>bold</b> claims", links=["E1"], title="About E1")
    gone = memo(p, "A memo that will be deleted")
    note(p, "A note with no encounter", when="2026-03-15")
    add_code(p, "power", colour="#1f77b4", definition="Who decides")
    add_code(p, "asymmetry", parent="power")
    add_code(p, "voice")
    apply_code(p, n1.id, "power/asymmetry", quote="the final say", coder="alice")
    apply_code(p, n1.id, "voice", quote="naïve résumé 😀", coder="bob")
    apply_code(p, n2.id, "voice", whole=True, coder="alice")
    edit(p, n1.id, "Full note: a naïve résumé 😀 and @P03 said the final say was theirs.\n\n> OC: power.\n#power")
    p.delete(gone.id, reason="test tombstone")
    return p


@pytest.fixture
def sample(tmp_path):
    p = build_sample(tmp_path / "sample")
    yield p
    p.close()


def apply_consent(project) -> None:
    """Real consent on the sample (no stand-in for the release policy): P07 withdraws and the
    focus-group note mentions them, so it is left out; P03 keeps consent without the quotes
    scope, so nothing of the interview E1 may be quoted."""
    record_consent(project, "P07", "withdrawn")
    record_consent(project, "P03", "limited", ["observation"])
    focus = next(o for o in project.list("observation") if o.body.startswith("Focus group"))
    edit(project, focus.id, focus.body.replace("#voice", "with @P07 #voice"))


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


# --- the export machinery ----------------------------------------------------------------------


def test_check_dest_refuses_existing_file_without_force(tmp_path):
    target = tmp_path / "out.html"
    target.write_text("mine")
    with pytest.raises(Refused, match="--force"):
        exporting.check_dest(target, force=False, folder=False)
    assert exporting.check_dest(target, force=True, folder=False) == target


def test_force_never_replaces_a_users_folder(tmp_path):
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "chapter1.docx").write_text("precious")
    with pytest.raises(Refused, match="not written by a fieldkit export"):
        exporting.check_dest(folder, force=True, folder=True)
    assert (folder / "chapter1.docx").read_text() == "precious"


def test_failed_export_leaves_nothing_behind(tmp_path):
    dest = tmp_path / "out.txt"
    with pytest.raises(RuntimeError):
        with exporting.atomic_output(dest) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_folder_replaces_an_earlier_export_with_force(sample, tmp_path):
    dest = tmp_path / "md"
    run_export(sample, "markdown", dest, RAW)
    (dest / "stale.md").write_text("old")
    run_export(sample, "markdown", dest, ExportOptions(anonymise=False, force=True))
    assert not (dest / "stale.md").exists()
    assert (dest / exporting.MANIFEST).is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_export_files_are_private(sample, tmp_path):
    run_export(sample, "html", tmp_path / "r.html", RAW)
    run_export(sample, "csv", tmp_path / "csv", RAW)
    assert (tmp_path / "r.html").stat().st_mode & 0o077 == 0
    assert (tmp_path / "csv").stat().st_mode & 0o077 == 0


def test_unknown_format_names_the_choices(sample, tmp_path):
    with pytest.raises(NotFound, match="choose from .*csv.*jsonl"):
        run_export(sample, "pdf", tmp_path / "x.pdf", RAW)


def test_every_registered_exporter_runs(sample, tmp_path):
    from fieldkit.hooks.manager import exporters

    for name, exporter in exporters().items():
        dest = tmp_path / (name + exporter.suffix)
        report = run_export(sample, name, dest, RAW)
        assert dest.exists(), name
        assert report.summary_lines()[0].startswith(name)


def test_selection_by_encounter_tag_stage_code_and_time(sample):
    def ids(**kw):
        report = ExportReport("t", "x")
        return {i.record.body.split()[0] for i in exporting.export_items(
            sample, ExportOptions(anonymise=False, **kw), report)}

    assert ids(encounters=("E2",)) == {"Focus", "A"}  # memos are not tied to encounters by selection
    assert ids(tags=("voice",)) == {"Focus"}
    assert ids(stages=("jotting",), types=("observation",)) == {"Café"}
    # a parent code selects the records coded with its children
    assert ids(codes=("power",)) == {"Full"}
    march_11 = dt.datetime(2026, 3, 11, tzinfo=UTC)
    assert ids(since=march_11, types=("observation",)) == {"Focus", "A"}
    assert ids(until=march_11, types=("observation",)) == {"Café", "Full"}


def test_count_selected_matches_items(sample):
    for options in (RAW, ExportOptions(anonymise=False, tags=("power",)),
                    ExportOptions(anonymise=False, encounters=("E1",), stages=("fieldnote",))):
        report = ExportReport("t", "x")
        assert exporting.count_selected(sample, options) == len(list(exporting.export_items(sample, options, report)))


def test_run_export_accepts_a_dict_report_from_a_plugin(sample, tmp_path, monkeypatch):
    from fieldkit.hooks import manager as plugin_manager
    from fieldkit.hooks.registry import Exporter

    def export(project, dest, options):
        Path(dest).write_text("x")
        return {"counts": {"things": 2}, "left_out": [("id1", "observation", "because")]}

    monkeypatch.setattr(plugin_manager, "exporters", lambda: {"plain": Exporter("plain", export, "", ".txt")})
    report = run_export(sample, "plain", tmp_path / "a.txt", RAW)
    assert report.counts == {"things": 2}
    assert report.left_out == [LeftOut("id1", "observation", "because")]


def test_text_fields_identity_when_raw(sample):
    report = ExportReport("t", "x")
    assert exporting.text_fields(sample, RAW, report)("Dana said hi") == "Dana said hi"


# --- Markdown ---------------------------------------------------------------------------------


def front_matter(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    head, _, body = text[4:].partition("\n---\n")
    return yaml.safe_load(head), body


def test_markdown_one_file_per_encounter_with_front_matter(sample, tmp_path):
    report = run_export(sample, "markdown", tmp_path / "md", RAW)
    files = sorted(p.name for p in (tmp_path / "md").glob("*.md"))
    assert files == ["E1.md", "E2.md", "no-encounter.md"]
    meta, body = front_matter(tmp_path / "md" / "E1.md")
    assert meta["encounter"] == "E1" and meta["kind"] == "interview" and meta["site"] == "North PDU"
    assert meta["participants"] == [{"code": "P03", "role": "person_on_probation", "part": "interviewee"}]
    assert meta["start"] == "2026-03-10T10:00:00.000000Z"
    assert "## Jotting · 2026-03-10 10:05" in body
    assert "a naïve résumé 😀" in body  # the current version of the edited note
    assert "codes power/asymmetry, voice" in body
    assert "A memo about E1" in body  # a memo linked to E1 sits in E1's file
    assert "deleted" not in (tmp_path / "md" / "no-encounter.md").read_text()
    assert report.counts == {"observations": 4, "memos": 1, "files": 3}
    manifest = json.loads((tmp_path / "md" / exporting.MANIFEST).read_text())
    assert manifest["files"] == files and manifest["anonymised"] is False


def test_markdown_file_names_are_safe_and_unique(tmp_path):
    p = fieldkit.init(tmp_path / "p")
    add_encounter(p, "meeting", code="../E1")
    add_encounter(p, "meeting", code="..-E1")
    note(p, "one", encounter="../E1")
    note(p, "two", encounter="..-E1")
    run_export(p, "markdown", tmp_path / "md", RAW)
    names = sorted(x.name for x in (tmp_path / "md").iterdir())
    assert names == ["E1-2.md", "E1.md", exporting.MANIFEST]


# --- CSV --------------------------------------------------------------------------------------


def test_csv_tables_and_quotes(sample, tmp_path):
    run_export(sample, "csv", tmp_path / "csv", RAW)
    folder = tmp_path / "csv"
    assert {p.name for p in folder.glob("*.csv")} == {
        "observations.csv", "memos.csv", "codings.csv", "quotes.csv", "codes.csv", "participants.csv",
        "encounters.csv", "sites.csv", "consent_events.csv"}
    quotes = read_csv(folder / "quotes.csv")
    by_code = {q["code_path"]: q for q in quotes}
    assert by_code["power/asymmetry"]["quote"] == "the final say"
    assert by_code["power/asymmetry"]["participant_roles"] == "person_on_probation"
    assert by_code["power/asymmetry"]["site"] == "North PDU"
    assert by_code["power/asymmetry"]["encounter"] == "E1"
    assert by_code["voice"]["quote"] in ("naïve résumé 😀", "Focus group note about voice #voice")
    whole = [q for q in quotes if q["start"] == ""]
    assert whole and whole[0]["quote"] == "Focus group note about voice #voice"
    codes = {c["path"]: c for c in read_csv(folder / "codes.csv")}
    assert set(codes) == {"power", "power/asymmetry", "voice"}
    assert codes["power"]["definition"] == "Who decides"
    people = {r["code"]: r for r in read_csv(folder / "participants.csv")}
    assert people["P07"]["organisation"] == "Team B" and people["P03"]["consent"] == "given"


def test_csv_respects_release_policy(sample, tmp_path):
    apply_consent(sample)
    report = run_export(sample, "csv", tmp_path / "csv", RAW)
    quotes = read_csv(tmp_path / "csv" / "quotes.csv")
    assert all("final say" not in q["quote"] for q in quotes)  # @P03's note: no quotes
    assert sum(1 for x in report.left_out if x.reason == "no consent to quotes") == 2
    codings = read_csv(tmp_path / "csv" / "codings.csv")
    assert len(codings) == 2  # the codings themselves (no text) are still listed; not the excluded note's


def test_csv_withdrawn_participant_left_out(sample, tmp_path):
    record_consent(sample, "P07", "withdrawn")
    report = run_export(sample, "csv", tmp_path / "csv", RAW)
    assert {r["code"] for r in read_csv(tmp_path / "csv" / "participants.csv")} == {"P03"}
    assert "P07" not in (tmp_path / "csv" / "consent_events.csv").read_text(encoding="utf-8-sig")
    assert "P07" not in (tmp_path / "csv" / "encounters.csv").read_text(encoding="utf-8-sig")
    assert any(x.reason == "consent withdrawn" for x in report.left_out)


def test_csv_quotes_only_for_selected_codes(sample, tmp_path):
    run_export(sample, "csv", tmp_path / "csv", ExportOptions(anonymise=False, codes=("power",)))
    quotes = read_csv(tmp_path / "csv" / "quotes.csv")
    assert [q["code_path"] for q in quotes] == ["power/asymmetry"]


body_text = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"), min_size=1, max_size=60),
    st.tuples(st.sampled_from(["=", "+", "-", "@", "'", "'=", "- ", "\t"]), st.text(max_size=20)).map("".join),
).filter(lambda s: s.strip() and "\r" not in s and "\x00" not in s)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=body_text, data=st.data())
def test_csv_quote_is_exactly_the_coded_text(tmp_path_factory, body, data):
    from fieldkit.core.markdown import normalise

    tmp = tmp_path_factory.mktemp("q")
    p = fieldkit.init(tmp / "p")
    try:
        stored = p.add(Observation(stage="fieldnote", body=body))
        text = normalise(body)
        start = data.draw(st.integers(0, len(text) - 1))
        end = data.draw(st.integers(start + 1, len(text)))
        code = add_code(p, "c")
        p.add(Coding(record_id=stored.id, code_id=code.id, start=start, end=end, coder="a"))
        run_export(p, "csv", tmp / "csv", RAW)
        run_export(p, "html", tmp / "r.html", RAW)
        quotes = read_csv(tmp / "csv" / "quotes.csv")
        assert [unguard_cell(q["quote"]) for q in quotes] == [text[start:end]]
        observations = read_csv(tmp / "csv" / "observations.csv")
        assert unguard_cell(observations[0]["text"]) == text
        # a cell that a spreadsheet would run as a formula starts with the apostrophe guard
        for cell, exported in ((quotes[0]["quote"], text[start:end]), (observations[0]["text"], text)):
            assert cell.startswith("'") == exported.startswith(("=", "+", "-", "@", "\t", "'"))
        marks = parse_html(tmp / "r.html").marks
        assert marks == [text[start:end]]
    finally:
        p.close()


# --- HTML -------------------------------------------------------------------------------------


class _Collect(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.marks, self.stack, self.ids, self.hrefs = [], [], [], set(), []
        self._mark = None
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a":
            self.hrefs.append(attrs.get("href", ""))
        if tag == "mark":
            self._mark = []
        if tag not in ("meta", "br", "hr", "img", "input", "link"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag == "mark":
            self.marks.append("".join(self._mark))
            self._mark = None
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> after {self.stack[-3:]}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)
        if self._mark is not None:
            self._mark.append(data)


def parse_html(path: Path) -> _Collect:
    parser = _Collect()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    assert parser.stack == []
    return parser


def test_html_is_self_contained_and_well_formed(sample, tmp_path):
    run_export(sample, "html", tmp_path / "r.html", RAW)
    parsed = parse_html(tmp_path / "r.html")
    names = [t for t, _ in parsed.tags]
    assert "script" not in names and "link" not in names and "img" not in names and "iframe" not in names
    assert all(h.startswith("#") for h in parsed.hrefs)  # only links inside the report
    assert all(h[1:] in parsed.ids for h in parsed.hrefs)  # and every one of them lands somewhere
    assert {"codebook", "segments", "notes"} <= parsed.ids
    assert "the final say" in parsed.marks and "naïve résumé 😀" in parsed.marks
    text = "".join(parsed.text)
    assert "A memo about E1 and <b>bold</b> claims" in text  # raw HTML shown as text, not run
    assert ("b", {}) not in parsed.tags


def test_html_leaves_out_quotes_without_consent(sample, tmp_path):
    apply_consent(sample)
    report = run_export(sample, "html", tmp_path / "r.html", RAW)
    parsed = parse_html(tmp_path / "r.html")
    assert "the final say" not in parsed.marks
    assert "Focus group note about voice" not in "".join(parsed.text)  # P07's note left out
    assert "left out: P07 withdrew consent" in "".join(parsed.text)
    assert any(x.reason == "no consent to quotes" for x in report.left_out)


def test_html_colour_cannot_break_out_of_style(tmp_path):
    from fieldkit.exchange.html_report import colour

    assert colour("#12abEF") == "#12abEF"
    assert colour("red;background:url(http://x)") == "#e0a800"


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no /usr/bin/chromium; see docs/exchange.md for the manual check")
def test_html_renders_in_headless_chromium(sample, tmp_path):
    run_export(sample, "html", tmp_path / "r.html", RAW)
    shot = tmp_path / "shot.png"
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1000,1400",
         f"--screenshot={shot}", (tmp_path / "r.html").as_uri()],
        capture_output=True, timeout=120,
    )
    assert shot.exists(), result.stderr.decode(errors="replace")[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1000, 1400)
    # a blank page compresses to almost nothing; a rendered report does not
    assert len(data) > 20_000


# --- DOCX -------------------------------------------------------------------------------------


def test_docx_reopens_with_python_docx(sample, tmp_path):
    docx = pytest.importorskip("docx")
    report = run_export(sample, "docx", tmp_path / "r.docx", RAW)
    document = docx.Document(str(tmp_path / "r.docx"))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Codebook" in text and "Coded segments" in text and "Notes and memos" in text
    assert "power/asymmetry" in text
    highlighted = [r.text for p in document.paragraphs for r in p.runs if r.font.highlight_color]
    assert "the final say" in highlighted
    assert report.counts["coded segments"] == 3


def test_docx_drops_characters_word_cannot_hold(tmp_path):
    docx = pytest.importorskip("docx")
    p = fieldkit.init(tmp_path / "p")
    p.add(Memo(body="bell\x07 and form feed\x0c survive as text"))
    run_export(p, "docx", tmp_path / "r.docx", RAW)
    text = "\n".join(x.text for x in docx.Document(str(tmp_path / "r.docx")).paragraphs)
    assert "bell and form feed survive as text" in text


def test_docx_without_python_docx_is_a_clear_error(sample, tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *args, **kwargs):
        if name == "docx" or name.startswith("docx."):
            raise ImportError("no docx")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(FieldkitError, match=r"pip install 'fieldkit\[docx\]'"):
        run_export(sample, "docx", tmp_path / "r.docx", RAW)
    assert not (tmp_path / "r.docx").exists()


# --- anonymised by default ----------------------------------------------------------------------


def test_exports_are_anonymised_by_default():
    assert ExportOptions().anonymise is True


def test_anonymised_export_replaces_key_store_names(tmp_path):
    """With the anonymisation engine and a key store, no registered name reaches an export."""
    from fieldkit.privacy.keystore import KeyStore

    p = fieldkit.init(tmp_path / "p")
    add_participant(p, "P03", role="person_on_probation")
    record_consent(p, "P03", "given", CONSENT_SCOPES)
    keys = tmp_path / "keys.db"
    store = KeyStore.create(keys)
    store.add("P03", "Dana Whitlock", ["Dee"])
    store.close()
    p.set_setting("keystore_path", str(keys))
    add_encounter(p, "interview", code="E1", title="Interview with Dana Whitlock", summary="Dee was late",
                  participants=["P03"])
    n = note(p, "Dana Whitlock said the final say was theirs. Dee laughed.", encounter="E1")
    memo(p, "Reflections.", title="After meeting Dana Whitlock")
    add_code(p, "power")
    apply_code(p, n.id, "power", quote="the final say", coder="alice")
    run_export(p, "csv", tmp_path / "csv", ExportOptions())
    run_export(p, "html", tmp_path / "r.html", ExportOptions())
    run_export(p, "markdown", tmp_path / "md", ExportOptions())
    for path in [*(tmp_path / "csv").iterdir(), tmp_path / "r.html", *(tmp_path / "md").iterdir()]:
        text = path.read_text(encoding="utf-8-sig")
        assert "Whitlock" not in text and "Dee " not in text, path.name
    quotes = read_csv(tmp_path / "csv" / "quotes.csv")
    assert [q["quote"] for q in quotes] == ["the final say"]  # codings follow the anonymised text


def _peak_csv_memory(tmp_path, n):
    import tracemalloc

    p = fieldkit.init(tmp_path / f"p{n}")
    body = "A long fieldnote paragraph about the inspection meeting. " * 20
    p.add_many(Observation(stage="fieldnote", body=f"{i} {body}") for i in range(n))
    tracemalloc.start()
    run_export(p, "csv", tmp_path / f"csv{n}", RAW)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    p.close()
    return peak


def test_csv_export_memory_stays_flat(tmp_path):
    small = _peak_csv_memory(tmp_path, 300)
    large = _peak_csv_memory(tmp_path, 3000)
    assert large < small * 2 + 300_000, (small, large)


def test_anonymiser_warnings_reach_the_summary(sample, tmp_path):
    report = run_export(sample, "csv", tmp_path / "csv", ExportOptions())
    assert any("no key store" in w for w in report.warnings)
    assert any(line.startswith("  warning: no key store") for line in report.summary_lines())
