"""The anonymised exports of a fixed study stay what they were before the export was made faster.

``fixtures/export_identical.json`` holds the ``.qdpx``, CSV, Markdown and HTML exports of the study built
here, as the export wrote them before the speed work of issue 11 (shared anonymiser, one
key-store transaction and one log write per page, no decision digests for records without
decisions). Only what changes from run to run is normalised: times and dates, the zip's own
time stamps, the export's name. Everything that depends on the privacy steps is compared as
written: anonymised bodies, free text (site notes, titles, coding notes, amended quotes),
consent per speaker turn, a withdrawn participant's records and quotes, review decisions,
added phrases, placeholders and positions.

When an export's format changes on purpose, regenerate the file on the tree that changed it
(``python tests/test_export_identical.py``) and say so in the commit.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import zipfile
from pathlib import Path

EXPECTED = Path(__file__).parent / "fixtures" / "export_identical.json"

BODIES = (
    "Orla Vantreece met Toby at the office on 3 March; her NI number is QQ 12 34 56 C "
    "and she lives near LS1 4AP. Caspian Quenby, who nobody registered, joined later.",
    "Mr Quenby phoned 07700 900123 about prison number A1234BC. Orla said the plan was "
    "“fair” and naïve in places 😀; Toby agreed. Date of birth 12/03/1987.",
    "The team discussed the Brackwater caseload. Nobody named anyone.",
    "Ines Quarrendon asked Orla Vantreece about the review. Caspian agreed with Ines.",
)
TRANSCRIPT = (
    "[00:00:05] R1: Can you tell me about supervision here?\n\n"
    "[00:00:12] P03: Honestly my officer Orla Vantreece listened when nobody else did.\n\n"
    "[00:00:30] P09: I want none of this kept, Toby knows why.\n\n"
    "[00:00:41] P03: I started turning up on time because Caspian Quenby helped.\n"
)


SAID = (
    ("P03", "Orla Vantreece was fair to me."),
    ("P07", "Caspian Quenby holds the keys."),
    ("P09", "Withdrawn cobalt lantern, says Toby."),
    ("Sam", "Unregistered juniper kite."),
)


def _ids():
    counter = itertools.count(1)
    return lambda: f"01J{next(counter):023d}"


def register_people(project, keys_path: Path) -> None:
    """A key store at ``keys_path`` with two participants and one other person."""
    from fieldkit.privacy import anonymiser as an

    keys = an.create_keystore(project, keys_path)
    try:
        keys.add("P03", "Orla Vantreece", aliases=["Orla"])
        keys.add("P07", "Tobiah Merrow", aliases=["Toby"])
        keys.add("X01", "Ines Quarrendon", kind="non-participant")
    finally:
        keys.close()


def build_study(project, keys_path: Path) -> dict:
    """A small fictional study with every privacy step of an export in play; every record id
    is fixed, so the export can be compared byte for byte where it does not hold a time."""
    from fieldkit.coding.codebook import add_code
    from fieldkit.coding.codings import apply_code
    from fieldkit.core.records import Coding, Memo, Observation
    from fieldkit.exchange import transcripts
    from fieldkit.exchange.importing import ImportOptions
    from fieldkit.fieldwork.registers import add_encounter, add_participant, add_site
    from fieldkit.lifecycle.member_check import respond, sync_quotes
    from fieldkit.privacy import anonymiser as an
    from fieldkit.privacy.consent import record_consent

    register_people(project, keys_path)
    add_site(project, "Fernhollow PDU", note="Orla Vantreece manages the reception desk.")
    add_site(project, "Brackwater office")
    add_participant(project, "P03", role="person_on_probation", attributes={"mentor": "Toby"})
    add_participant(project, "P07", role="probation_practitioner", organisation="Team of Tobiah Merrow")
    add_participant(project, "P09", role="person_on_probation")
    add_participant(project, "R1", role="researcher")
    record_consent(project, "P03", "given", ["observation", "quotes"])
    record_consent(project, "P07", "given", ["observation"])
    record_consent(project, "P09", "given")
    record_consent(project, "P09", "withdrawn")
    record_consent(project, "R1", "given", ["observation", "quotes"])
    interview = add_encounter(project, "interview", code="E1", site="Fernhollow PDU", title="Talk with Orla",
                              participants=["P03:interviewee", "R1"], summary="Toby sat in for a while.")
    group = add_encounter(project, "focus_group", code="E2", site="Brackwater office",
                          participants=["P03", "P07", "P09"])
    alone = add_encounter(project, "interview", code="E3", participants=["P09"])
    notes = [project.add(Observation(stage="fieldnote", body=body, encounter_id=group.id,
                                     observed_raw="after lunch with Toby" if i == 0 else ""))
             for i, body in enumerate(BODIES)]
    transcript = project.add(Observation(stage="fieldnote", body=TRANSCRIPT, encounter_id=interview.id))
    project.add(Observation(stage="fieldnote", body="P09 talked about Orla at length.", encounter_id=alone.id))
    project.add(Observation(stage="jotting", body="@P09 was late again", encounter_id=group.id,
                            mentions=["P09"]))
    # speaker turns kept as data: consent is each speaker's (P09 withdrew, Sam is unregistered)
    cues = "".join(f"\n00:00:{i * 5:02d}.000 --> 00:00:{i * 5 + 4:02d}.000\n<v {who}>{words}\n"
                   for i, (who, words) in enumerate(SAID))
    (keys_path.parent / "panel.vtt").write_text("WEBVTT\n" + cues, encoding="utf-8")
    loaded = transcripts.load(project, keys_path.parent / "panel.vtt", ImportOptions(encounter="E2", allow_unknown=True))
    assert not loaded.problems
    panel = project.list("observation")[-1]
    add_code(project, "trust")
    add_code(project, "resources")
    for _who, words in SAID:
        apply_code(project, panel.id, "trust", quote=words)
    apply_code(project, transcript.id, "trust", quote="my officer Orla Vantreece listened")
    apply_code(project, transcript.id, "trust", quote="Caspian Quenby helped")
    apply_code(project, transcript.id, "resources", quote="I want none of this kept")
    apply_code(project, notes[0].id, "trust", quote="Orla Vantreece met Toby", note="Orla again, see Caspian")
    apply_code(project, notes[0].id, "resources", quote="QQ 12 34 56 C")
    apply_code(project, notes[1].id, "trust", quote="Mr Quenby phoned 07700 900123")
    apply_code(project, notes[1].id, "resources", whole=True)
    apply_code(project, notes[3].id, "trust", quote="Caspian agreed with Ines")
    apply_code(project, notes[2].id, "resources", quote="Brackwater caseload", coder="bob")
    quotes = sync_quotes(project, "P03")
    assert len(quotes) == 3, quotes
    respond(project, quotes[0]["id"], "amended", wording="my officer Orla listened, and Toby too")
    respond(project, quotes[1]["id"], "withdrawn")
    respond(project, quotes[2]["id"], "approved")
    decisions = an.preview(project, notes[3].id)[0]
    ines = next(row for row in decisions if row["context"].startswith("«Ines"))
    an.decide(project, notes[3].id, ines["number"], "reject")
    an.add_rule(project, "Brackwater caseload", "place")
    project.add(Memo(body="Orla and Caspian Quenby trust each other; Toby less so.", title="Trust for Orla",
                     kind="analytic", links=[notes[0].id, interview.id]))
    project.add(Coding(record_id=notes[2].id, code_id=project.list("code")[0].id, start=4, end=8, coder="carol",
                       note="Tobiah Merrow would disagree"))
    return {"notes": [n.id for n in notes], "transcript": transcript.id}


_TIMES = (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?"),
          re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d"))


def _plain(text: str) -> str:
    for pattern in _TIMES:
        text = pattern.sub("<time>", text)
    return text


def exports(project, folder: Path) -> dict:
    """``{name: text}`` of the default (anonymised) ``.qdpx``, CSV, Markdown and HTML
    exports, times normalised; entry names and order kept."""
    from fieldkit.exchange.exporting import ExportOptions, run_export

    found: dict = {}
    qdpx = folder / "study.qdpx"
    report = run_export(project, "qdpx", qdpx, ExportOptions())
    found["qdpx report"] = _plain(json.dumps({"counts": report.counts, "warnings": report.warnings,
                                               "left out": report.left_out_by_reason(),
                                               "participants": sorted(report.participants)}, sort_keys=True))
    with zipfile.ZipFile(qdpx) as zf:
        for name in zf.namelist():
            found[f"qdpx {name}"] = _plain(zf.read(name).decode("utf-8"))
    for format_name in ("csv", "markdown"):
        written = folder / f"study-{format_name}"
        run_export(project, format_name, written, ExportOptions())
        for path in sorted(written.rglob("*")):
            if path.is_file():
                found[f"{format_name} {path.relative_to(written)}"] = _plain(path.read_text(encoding="utf-8"))
    run_export(project, "html", folder / "study.html", ExportOptions())
    found["html"] = _plain((folder / "study.html").read_text(encoding="utf-8"))
    return found


def fixed_exports(folder: Path, monkeypatch=None) -> dict:
    import fieldkit
    from fieldkit.core import ids

    if monkeypatch is not None:
        monkeypatch.setattr(ids, "new_id", _ids())
    else:  # regenerating from the command line
        ids.new_id = _ids()
    project = fieldkit.init(folder / "study")
    try:
        build_study(project, folder / "study.keys")
        return exports(project, folder)
    finally:
        project.close()


def test_anonymised_exports_are_unchanged(tmp_path, monkeypatch):
    found = fixed_exports(tmp_path, monkeypatch)
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    assert list(found) == list(expected)
    for name in expected:
        assert found[name] == expected[name], name
    # the study exercises what it claims to: anonymised text, an omitted turn, a withdrawal
    qde = found["qdpx project.qde"]
    assert "Vantreece" not in json.dumps(found) and "Quenby" not in json.dumps(found)
    assert "[turn omitted: consent]" in json.dumps(found)
    assert "withdrew consent" in found["qdpx report"]
    assert "[quote withdrawn by participant]" in json.dumps(found)
    assert "<PlainTextSelection" in qde


if __name__ == "__main__":  # regenerate the expected exports (see the module docstring)
    import os
    import tempfile

    os.environ.setdefault("FIELDKIT_AUTHOR", "tester")
    os.environ.pop("FIELDKIT_LOAD_PLUGINS", None)
    with tempfile.TemporaryDirectory() as tmp:
        data = fixed_exports(Path(tmp))
    EXPECTED.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {EXPECTED} ({len(data)} files)", file=sys.stderr)
