"""Round trips: fieldkit -> .qdpx -> fieldkit keeps texts, codes, codings (same characters) and memos."""

import datetime as dt
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fieldkit
from fieldkit.fieldwork import capture
from fieldkit.fieldwork import registers as fieldwork
from fieldkit.exchange import refi
from fieldkit.exchange.exporting import ExportOptions
from fieldkit.core.records import Code, Coding, Memo, Observation

RAW = ExportOptions(anonymise=False)
UTC = dt.timezone.utc

# Letters, accents, curly quotes, emoji (with a ZWJ sequence and a skin tone), combining marks,
# right-to-left scripts, Markdown punctuation and line breaks.
PIECES = [
    "a", "b", "Z", " ", " ", "\n", "é", "ñ", "ø", "ß", "“", "”", "‘", "’", "—", "…",
    "😀", "👩‍⚖️", "👍🏽", "\u0301", "\u0308", "e\u0301", "\u05d0\u05d1\u05d2", "\u0645\u0631\u062d\u0628\u0627",
    "\u200f", "#tag", "@P03", "> OC: ", "*", "`", "&", "<", "\t", "\u00a0", "𝔘", "中文",
]
TEXT = st.lists(st.sampled_from(PIECES), min_size=1, max_size=40).map("".join).filter(lambda s: s.strip())
NAME = st.lists(st.sampled_from([p for p in PIECES if p not in ("/", "\n", "\t")]), min_size=1, max_size=6).map(
    lambda parts: " ".join("".join(parts).split())).filter(bool)
COLOUR = st.sampled_from(["", "#1f77b4", "#FF7F0E", "#abc"])


def snapshot(project) -> dict:
    """Everything the round trip must keep, by record id."""
    coded = {}
    for coding in project.list("coding"):
        body = project.get(coding.record_id).body
        segment = body if coding.whole_record else body[coding.start:coding.end]
        coded[coding.id] = (coding.record_id, coding.code_id, coding.start, coding.end, coding.coder, segment)
    return {
        "observations": {o.id: (o.stage, o.body, o.encounter_id, o.observed_at, o.derived_from)
                         for o in project.list("observation")},
        "memos": {m.id: (m.kind, m.title, m.body, frozenset(m.links)) for m in project.list("memo")},
        "codes": {c.id: (c.name, c.parent_id, c.colour, c.definition, c.include, c.exclude, c.example, c.status)
                  for c in project.list("code")},
        "codings": coded,
    }


def round_trip(project, tmp_path, name="copy"):
    dest = tmp_path / f"{name}.qdpx"
    refi.export_qdpx(project, dest, RAW, force=True)
    other = fieldkit.init(tmp_path / name)
    report = refi.import_qdpx(other, dest)
    return other, report


@st.composite
def projects(draw):
    """Observations, a small code tree, codings anywhere in the stored text, and memos."""
    bodies = draw(st.lists(TEXT, min_size=1, max_size=4))
    codes = []
    for i in range(draw(st.integers(1, 4))):
        parent = draw(st.sampled_from([None, *range(len(codes))])) if codes else None
        codes.append((draw(NAME), parent, draw(COLOUR), draw(st.sampled_from(["", "Definition “here”."])),
                      draw(st.sampled_from(["", "include this 😀"]))))
    return bodies, codes, draw(st.lists(TEXT, max_size=2)), draw(st.data())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(projects())
def test_round_trip_keeps_every_coded_segment(tmp_path_factory, spec):
    bodies, code_specs, memo_bodies, data = spec
    tmp_path = tmp_path_factory.mktemp("rt")
    project = fieldkit.init(tmp_path / "p")
    records = [project.add(Observation(stage="fieldnote", body=b)) for b in bodies]
    by_spec, made = [], {}  # one code per name under the same parent, as a codebook has
    for name, parent, colour, definition, include in code_specs:
        parent_id = by_spec[parent].id if parent is not None else None
        if (name, parent_id) not in made:
            made[name, parent_id] = project.add(Code(name=name, parent_id=parent_id, colour=colour,
                                                     definition=definition, include=include))
        by_spec.append(made[name, parent_id])
    codes = list(made.values())
    memos = [project.add(Memo(body=b, title=f"Memo {i} “€”", links=(records[0].id, codes[0].id)))
             for i, b in enumerate(memo_bodies)]
    for record in records + memos:
        length = len(record.body)  # offsets are over the stored (NFC) body
        for _ in range(data.draw(st.integers(0, 3))):
            whole = data.draw(st.booleans())
            start = data.draw(st.integers(0, length))
            end = data.draw(st.integers(start, length))
            project.add(Coding(record_id=record.id, code_id=data.draw(st.sampled_from(codes)).id,
                               start=None if whole else start, end=None if whole else end,
                               coder=data.draw(st.sampled_from(["alice", "Bø Ørsted", "مريم"]))))
    before = snapshot(project)
    other, report = round_trip(project, tmp_path)
    after = snapshot(other)
    assert after["codings"] == before["codings"]
    assert after == before
    assert not report.skipped
    project.close()
    other.close()


def build_study(project):
    """A study with everything a .qdpx can carry: cases, jottings expanded into a fieldnote,
    a nested codebook with descriptions, two coders, memos about a source, a code and a person."""
    fieldwork.add_site(project, "Westgate AP", kind="approved_premises")
    fieldwork.add_participant(project, "P03", role="expert_by_experience", organisation="Peer Voice",
                              attributes={"cohort": "2026", "site": "north"})
    fieldwork.add_participant(project, "P11", role="probation_practitioner")
    fieldwork.add_encounter(project, "focus_group", code="E4", title="Focus group", site="Westgate AP",
                            participants=["P03:member", "P11"], mode="in_person",
                            start=dt.datetime(2026, 4, 1, 13, tzinfo=UTC), end=dt.datetime(2026, 4, 1, 15, tzinfo=UTC),
                            summary="Lively.")
    jots = [capture.jot(project, text, encounter="E4", now=dt.datetime(2026, 4, 1, 13, m, tzinfo=UTC))
            for m, text in ((5, "EbE opens"), (20, "SPO quiet"))]
    note = capture.expand(project, "The EbE opened — “we run this”.\n> OC: shift of voice", jots)
    voice = project.add(Code(name="voice", colour="#9467bd", definition="Who speaks.", include="turn taking",
                             exclude="silence", example="“we run this”"))
    lived = project.add(Code(name="lived experience", parent_id=voice.id, colour="#8c564b"))
    retired = project.add(Code(name="old", status="retired"))
    project.add(Coding(record_id=note.id, code_id=lived.id, start=17, end=30, coder="alice", note="key line"))
    project.add(Coding(record_id=note.id, code_id=voice.id, coder="bob"))
    project.add(Coding(record_id=jots[0].id, code_id=retired.id, start=0, end=3, coder="bob"))
    capture.memo(project, "Voice moves to the EbE.", title="Voice", links=[note.id, voice.id, "P03", "E4"])
    capture.memo(project, "Applies to quotes only.", kind="code", links=[lived.id])
    return note


def test_round_trip_of_a_whole_study_keeps_ids_and_fieldwork(project, tmp_path):
    build_study(project)
    before = snapshot(project)
    other, report = round_trip(project, tmp_path)
    assert snapshot(other) == before
    assert report.counts["participants"] == 2 and report.counts["encounters"] == 1 and report.counts["sites"] == 1
    coding = next(c for c in other.list("coding") if c.note)
    assert coding.note == "key line"
    retired = other.get("old", type_name="code")
    assert retired.status == "retired"
    jottings = other.list("observation", stage="jotting")
    assert [j.observed_at for j in jottings] == [j.observed_at for j in project.list("observation", stage="jotting")]
    other.close()


def _same_fields(left, right):
    """Records equal in everything a .qdpx carries (not author or created_at)."""
    import attrs

    def keep(record):
        return {k: v for k, v in attrs.asdict(record, recurse=False).items() if k not in ("author", "created_at")}

    return [keep(r) for r in left] == [keep(r) for r in right]


def test_fieldwork_records_come_back_field_for_field(project, tmp_path):
    build_study(project)
    other, _ = round_trip(project, tmp_path)
    for type_name in ("participant", "encounter", "site"):
        assert _same_fields(project.list(type_name), other.list(type_name)), type_name
    other.close()


def test_export_of_an_imported_project_gives_the_same_file_content(project, tmp_path):
    build_study(project)
    other, _ = round_trip(project, tmp_path, "first")
    again, _ = round_trip(other, tmp_path, "second")
    assert snapshot(again) == snapshot(project)
    other.close()
    again.close()


def test_reimport_into_the_same_project_changes_nothing(project, tmp_path):
    build_study(project)
    before = snapshot(project)
    dest = tmp_path / "self.qdpx"
    refi.export_qdpx(project, dest, RAW)
    report = refi.import_qdpx(project, dest)
    assert snapshot(project) == before
    assert report.counts["participants already in the project"] == 2
    assert report.counts["observations already in the project (unchanged)"] == len(before["observations"])
    assert report.counts["codings already in the project (unchanged)"] == len(before["codings"])
    assert not any(k.startswith(("conflicts", "codings", "observations")) and "already" not in k
                   for k in report.counts)


def test_qdc_round_trip_keeps_the_codebook(project, tmp_path):
    build_study(project)
    dest = tmp_path / "book.qdc"
    refi.export_qdc(project, dest)
    other = fieldkit.init(tmp_path / "other")
    refi.import_qdc(other, dest)
    assert snapshot(other)["codes"] == snapshot(project)["codes"]
    other.close()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(TEXT, min_size=1, max_size=3), st.lists(st.sampled_from(["\r\n", "\n", "\r"]), min_size=1, max_size=3))
def test_other_tools_crlf_and_nfd_texts_keep_their_segments(tmp_path_factory, words, breaks):
    """A tool writing CRLF and decomposed accents: every segment maps onto the same characters."""
    import unicodedata
    import zipfile

    tmp_path = tmp_path_factory.mktemp("crlf")
    pieces = list(itertools.chain.from_iterable(zip(words, itertools.cycle(breaks))))
    raw = unicodedata.normalize("NFD", "".join(pieces))
    # code each word as the tool sees it: code points of the file as stored, CRLF as two
    selections, at = [], 0
    for i, piece in enumerate(pieces):
        piece = unicodedata.normalize("NFD", piece)
        if i % 2 == 0:
            selections.append((at, at + len(piece), piece))
        at += len(piece)
    sel_xml = "".join(
        f'<PlainTextSelection guid="e0000000-0000-4000-8000-{n:012d}" startPosition="{s}" endPosition="{e}">'
        f'<Coding guid="f0000000-0000-4000-8000-{n:012d}"><CodeRef targetGUID="a0000000-0000-4000-8000-000000000001"/>'
        f"</Coding></PlainTextSelection>" for n, (s, e, _) in enumerate(selections))
    qde = ('<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="t" origin="Other">'
           '<CodeBook><Codes><Code guid="a0000000-0000-4000-8000-000000000001" name="c" isCodable="true"/></Codes>'
           '</CodeBook><Sources><TextSource guid="b0000000-0000-4000-8000-000000000001" '
           f'plainTextPath="internal://b0000000-0000-4000-8000-000000000001.txt">{sel_xml}</TextSource></Sources>'
           "</Project>")
    path = tmp_path / "tool.qdpx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", qde)
        zf.writestr("Sources/b0000000-0000-4000-8000-000000000001.txt", "\ufeff".encode() + raw.encode())
    project = fieldkit.init(tmp_path / "p")
    report = refi.import_qdpx(project, path)
    got = sorted(project.get(c.record_id).body[c.start:c.end] for c in project.list("coding"))
    expected = sorted(unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
                      for _, _, text in selections)
    assert got == expected, report.skipped
    project.close()
