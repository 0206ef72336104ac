"""``fieldkit demo``: a small, entirely FICTIONAL probation-inspection study, built end to end.

Every person, place, organisation and identifier below is invented. The demo runs the same
library functions a researcher's commands run: sites, participants and consent (one
withdrawn, one without consent to quotes), three encounters (an inspection meeting, an
interview imported from a WebVTT transcript, a focus group imported from a plain-text
transcript), jottings expanded into fieldnotes with observer comments, memos, the built-in
``coproduction`` codebook, a sample coded by two coders, keyword auto-coding, inter-coder
agreement, a key store with the participants' (invented) real names, and every registered
exporter. Each step calls its library function directly, so a missing piece fails loudly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional, TYPE_CHECKING, Union

import attrs

from fieldkit.core.errors import FieldkitError, MissingExtra, Refused

if TYPE_CHECKING:
    import os

    from fieldkit.hooks.registry import Exporter

CODERS = ("coder-a", "coder-b")
PASSPHRASE_NOTE = "the demo key store has no passphrase; give one to a real study's key store"

SITES = (
    ("Northvale PDU", "probation_delivery_unit", "A fictional probation delivery unit"),
    ("Inspection team B", "inspection_team", "A fictional inspection team"),
    ("Online", "online", "Video calls"),
)
# (code, role, organisation, consent events [(status, scopes, when)])
PARTICIPANTS = (
    ("P01", "expert_by_experience", "Northvale Lived Experience Panel",
     [("given", ("observation", "audio", "quotes", "archive"), "2026-03-02 10:00")]),
    ("P02", "inspector", "Inspection team B", [("given", ("observation", "audio", "quotes", "archive"), "2026-03-02 10:10")]),
    ("P03", "person_on_probation", "", [("given", ("observation", "audio", "quotes"), "2026-03-03 09:00")]),
    ("P04", "probation_practitioner", "Northvale PDU", [("given", ("observation", "quotes"), "2026-03-03 09:30")]),
    ("P05", "manager", "Northvale PDU", [("given", ("observation", "audio", "quotes", "archive"), "2026-03-03 09:45")]),
    ("P06", "person_on_probation", "", [("given", ("observation",), "2026-03-04 11:00")]),
    ("P07", "expert_by_experience", "Northvale Lived Experience Panel",
     [("limited", ("observation", "audio"), "2026-03-04 12:00")]),
    ("R1", "researcher", "Fictional University", [("given", ("observation", "audio", "quotes", "archive"), "2026-03-01 09:00")]),
)
# consent withdrawn after the fieldwork: exports leave out what is about them
WITHDRAWALS = (("P06", "2026-03-20 16:00", "asked by phone to withdraw after the briefing"),)
# invented names for the key store: (pseudonym, real name, aliases)
PEOPLE = (
    ("P01", "Marcus Thornbury", ("Marc",)),
    ("P02", "Helen Ashcombe", ()),
    ("P03", "Dana Whitlock", ("Dee Whitlock",)),
    ("P04", "Owen Castellan", ()),
    ("P05", "Priya Lanworth", ()),
    ("P06", "Jordan Feltwell", ()),
    ("P07", "Kezia Marlow", ("Kez",)),
)
ENCOUNTERS = (
    ("E1", "inspection_meeting", "Team briefing before the fieldwork week", "Northvale PDU", "in_person",
     ("P01:peer inspector", "P02:lead inspector", "P05:senior manager"),
     "2026-03-10 09:30", "2026-03-10 11:00"),
    ("E2", "interview", "Interview about taking part in the inspection", "Northvale PDU", "video",
     ("P03:interviewee", "R1:interviewer"), "2026-03-11 14:00", "2026-03-11 14:45"),
    ("E3", "focus_group", "Experts by experience focus group", "Online", "video",
     ("P01:participant", "P07:participant", "R1:facilitator"), "2026-03-12 10:00", "2026-03-12 11:30"),
)
JOTTINGS = (
    ("E1", "2026-03-10 09:34", "LI hands the intro to the EbE; SPO checks phone #power"),
    ("E1", "2026-03-10 09:41", "Marc: 'doing to us, not with us' - room goes quiet #voice"),
    ("E1", "2026-03-10 10:02", "Agenda set before the panel arrived? ask @P02 #power"),
    ("E1", "2026-03-10 10:20", "@P06 arrives late, sits by the door, leaves at the break"),
)
E1_FIELDNOTE = """# E1: Team briefing before the fieldwork week

Helen, the lead inspector (@P02), opened the briefing and then handed the introduction to
@P01, the peer inspector from the lived experience panel. Marc spoke for ten minutes about
what it was like to be supervised in Northvale and said the team wanted to stop "doing to us,
not with us". The room went quiet for a moment before anyone answered.

> OC: The hand-over looked rehearsed. Is this partnership, or a performance of partnership?
> Compare with the tokenism code and with what Marc says in the focus group.

Priya (@P05), the senior manager, checked her phone twice while Marc was speaking. Later she
said the unit "already runs a customer satisfaction survey every quarter", which sounded more
like consultation than co-production. The agenda had been fixed by the inspection team the
week before; the panel was not asked to add to it, and the inspectors kept the final say on
which cases would be read.

> OC: Power asymmetry shows in small things: who sits where, who speaks first, who sets the
> agenda. I noticed that I wrote down the inspectors' words more fully than the panel's.

Marc asked whether his expenses for the day would be paid on the day this time. Helen said
she would chase it. #power #voice
"""
E2_TRANSCRIPT = """WEBVTT

NOTE Fictional interview, exported from a video-call tool

1
00:00:02.000 --> 00:00:06.500
<v Interviewer>Thanks for talking to me. What was it like to take part in the inspection?</v>

2
00:00:07.000 --> 00:00:15.000
<v Dana Whitlock>Honestly? I felt listened to for once. The inspectors actually listened,</v>

3
00:00:15.000 --> 00:00:21.000
<v Dana Whitlock>it wasn't just a tick box. They used my first name and asked what I thought.</v>

4
00:01:05.000 --> 00:01:10.000
<v Interviewer>Was there anything that did not work so well?</v>

5
00:01:11.000 --> 00:01:24.000
<v Dana Whitlock>The paperwork. And my probation officer Owen had to vouch for me before I was allowed in the room.</v>

6
00:01:24.500 --> 00:01:36.000
<v Dana Whitlock>After it I went on the peer mentor training. It gave me the confidence to apply for a job.</v>
"""
E3_TRANSCRIPT = """[00:00:05] R1: Thank you both for coming. What difference do you think the panel made?
[00:00:14] P01: Some. They rewrote two of the questions with us in a workshop, that was real co-design.
But the final say on the report was always theirs. It's a ladder and we're on the middle rung.
[00:01:02] P07: For me it brings it all back, reading case files. Nobody offered a debrief after.
[00:01:30] P01: And the recommendations - we saw the draft recommendations for one afternoon. That's consultation, not partnership.
[00:02:10] P07: I'd still do it again. Kez from two years ago wouldn't have believed I'd be sat with inspectors.
"""
MEMOS = (
    ("analytic", "Partnership or performance?", ("E1",),
     "The briefing in E1 staged partnership (the peer inspector introduced the inspection) while "
     "the agenda and the final say stayed with the inspectors. In E3 the panel name the same gap: "
     "co-design of questions, consultation on recommendations. Compare the ladder rungs across "
     "encounters. #tokenism #power"),
    ("reflexive", "Whose words I write down", ("E1",),
     "Reading back E1 I recorded the inspectors' words almost verbatim and summarised the panel's. "
     "From E2 on I will jot the panel's exact phrases first."),
    ("methodological", "Consent and quotes", ("E3",),
     "@P07 agreed to observation and audio but not to being quoted, so their turns in the focus "
     "group are analysed but never appear as quotes in reports; what P01 said there may be quoted. "
     "One participant withdrew after E1; "
     "exports leave out what is about them."),
)
# (encounter, quote, code path, coders)
CODINGS = (
    ("E1", "handed the introduction to\n@P01", "discourses/ladder-rungs/partnership", CODERS),
    ("E1", '"doing to us,\nnot with us"', "discourses/ladder-rungs", CODERS),
    ("E1", "customer satisfaction survey", "discourses/consumerist-involvement", CODERS),
    ("E1", "sounded more\nlike consultation than co-production", "discourses/ladder-rungs/consultation", ("coder-a",)),
    ("E1", "the inspectors kept the final say", "challenges/power-asymmetry", CODERS),
    ("E1", "The agenda had been fixed by the inspection team", "challenges/power-asymmetry", ("coder-b",)),
    ("E1", "expenses", "challenges/payment-and-recognition", CODERS),
    ("E2", "I felt listened to for once", "experiences/feeling-heard", CODERS),
    ("E2", "it wasn't just a tick box", "discourses/ladder-rungs/tokenism", ("coder-a",)),
    ("E2", "had to vouch for me before I was allowed in the room", "challenges/professional-gatekeeping", CODERS),
    ("E2", "It gave me the confidence to apply for a job", "impacts/desistance-and-self-efficacy", CODERS),
    ("E2", "used my first name", "experiences/relationships-with-inspectors", ("coder-b",)),
    ("E3", "that was real co-design", "discourses/coproduction-stages/co-design", CODERS),
    ("E3", "it brings it all back", "experiences/emotional-labour", CODERS),
)


@attrs.define
class DemoResult:
    """Where the demo put things and what each step reported.

    ``path`` is the demo folder; inside it ``project`` (the fieldkit project), ``keys`` (the
    key store, kept outside the project as a real study should), ``sources`` (the transcript
    files it imported) and ``exports``."""

    path: Path
    keystore: Optional[Path] = None
    exports: list = attrs.Factory(list)  # (exporter name, path, summary lines)
    failures: list = attrs.Factory(list)  # (exporter name, message)
    skipped: list = attrs.Factory(list)  # (exporter name, why: an optional extra is missing)
    lines: list = attrs.Factory(list)

    @property
    def project(self) -> Path:
        return self.path / "project"

    def summary_lines(self) -> list[str]:
        out = [f"Demo project: {self.project}", *self.lines]
        out.append("Exports:")
        width = max([10, *(len(name) for name, *_ in (*self.exports, *self.failures))])
        for name, path, _ in self.exports:
            out.append(f"  {name:<{width}} {path}")
        for name, message in self.failures:
            out.append(f"  {name:<{width}} FAILED: {message}")
        for name, message in self.skipped:
            out.append(f"  {name:<{width}} skipped: {message}")
        out.append(f"Try: cd {self.project} && fieldkit list && fieldkit agreement --coders {','.join(CODERS)}")
        return out


def _check_dir(path: Path) -> Path:
    path = Path(path).expanduser()
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise Refused(f"{path} exists and is not empty; give the demo a new folder (fieldkit demo DIR)")
    return path


def _at(project, text: str):
    from fieldkit.core.timeinput import parse_time

    return parse_time(text, tz=project.timezone).at


def _step(name: str):
    """Turn a missing module behind a demo step into a clear error naming the step."""

    def wrap(fn):
        def run(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except ImportError as exc:
                raise FieldkitError(f"demo step '{name}' cannot run: {exc}") from exc

        run.__name__ = fn.__name__
        return run

    return wrap


def build_demo(path: Union[str, os.PathLike[str]], *, echo: Callable[[str], None] = lambda line: None) -> DemoResult:
    """Create the fictional demo project in ``path`` (new or empty), code, anonymise and export it."""
    from fieldkit.project import init

    path = _check_dir(Path(path))
    echo(f"Creating a fictional probation-inspection study in {path}")
    result = DemoResult(path=path)
    project = init(result.project, timezone="Europe/London", author="demo-researcher")
    try:
        _fieldwork(project, echo)
        _capture(project, path, echo)
        _coding(project, result, echo)
        _anonymisation(project, path, result, echo)
        _exports(project, path, result, echo)
    finally:
        project.close()
    if result.failures:
        names = ", ".join(name for name, _ in result.failures)
        raise FieldkitError(f"the demo project is in {path}, but these exports failed: {names} "
                            f"({result.failures[0][1]})")
    return result


@_step("fieldwork")
def _fieldwork(project, echo):
    from fieldkit.privacy.consent import record_consent
    from fieldkit.fieldwork.registers import add_encounter, add_participant, add_site

    echo("  sites, participants and consent")
    for name, kind, note in SITES:
        add_site(project, name, kind=kind, note=note)
    for code, role, organisation, events in PARTICIPANTS:
        add_participant(project, code, role=role, organisation=organisation)
        for status, scopes, when in events:
            record_consent(project, code, status, scopes, at=_at(project, when))
    echo("  encounters")
    for code, kind, title, site, mode, people, start, end in ENCOUNTERS:
        add_encounter(project, kind, code=code, title=title, site=site, participants=people, mode=mode,
                      start=_at(project, start), end=_at(project, end))


@_step("capture")
def _capture(project, path: Path, echo):
    from fieldkit.fieldwork.capture import expand, jot, jottings_for, memo
    from fieldkit.exchange.importing import ImportOptions, run_importer

    echo("  jottings, an expanded fieldnote with observer comments, memos")
    for encounter, when, text in JOTTINGS:
        jot(project, text, encounter=encounter, when=when)
    expand(project, E1_FIELDNOTE, jottings_for(project, "E1"), encounter="E1")
    echo("  transcripts: a WebVTT interview and a plain-text focus group")
    sources = path / "sources"
    sources.mkdir(mode=0o700)
    (sources / "E2-interview.vtt").write_text(E2_TRANSCRIPT, encoding="utf-8")
    (sources / "E3-focus-group.txt").write_text(E3_TRANSCRIPT, encoding="utf-8")
    run_importer(project, "transcript", sources / "E2-interview.vtt",
                 ImportOptions(encounter="E2", speakers={"Interviewer": "R1", "Dana Whitlock": "P03"}))
    run_importer(project, "transcript", sources / "E3-focus-group.txt", ImportOptions(encounter="E3"))
    for kind, title, links, text in MEMOS:
        memo(project, text, kind=kind, title=title, links=links)
    from fieldkit.privacy.consent import record_consent

    for code, when, note in WITHDRAWALS:
        record_consent(project, code, "withdrawn", (), at=_at(project, when), note=note)


@_step("coding")
def _coding(project, result: DemoResult, echo):
    from fieldkit.coding.autocode import run_autocoder
    from fieldkit.coding.codebook import load_into_project
    from fieldkit.coding.codings import agreement, apply_code

    echo("  the coproduction codebook")
    load_into_project(project, "coproduction")
    echo(f"  a coded sample by two coders ({', '.join(CODERS)})")
    notes = {}
    for encounter, quote, code, coders in CODINGS:
        if encounter not in notes:
            notes[encounter] = project.list("observation", encounter=encounter, stage="fieldnote")[0]
        for coder in coders:
            apply_code(project, notes[encounter].id, code, quote=quote, coder=coder)
    echo("  keyword auto-coding")
    auto = run_autocoder(project, "keywords", all_records=True)
    result.lines.append(f"Auto-coding: {auto.summary()}")
    echo("  inter-coder agreement")
    stats = agreement(project, CODERS)
    overall = stats.rows[-1]
    shown = [f"{label} {overall[key]:{fmt}}" for key, label, fmt in (
        ("percent", "agreement", ".1%"), ("cohen_kappa", "Cohen's kappa", ".2f"),
        ("krippendorff_alpha", "Krippendorff's alpha", ".2f")) if isinstance(overall.get(key), float)]
    result.lines.append(f"Agreement ({', '.join(CODERS)}, {stats.unit} units): {', '.join(shown)}; "
                        f"{len(stats.disagreements)} disagreement(s) to discuss")


@_step("anonymisation")
def _anonymisation(project, path: Path, result: DemoResult, echo):
    from fieldkit.privacy.anonymiser import anonymise_record, create_keystore

    echo("  key store with the participants' (invented) names, and anonymisation")
    keys = path / "keys" / "keystore.db"
    store = create_keystore(project, keys)
    try:
        for pseudonym, name, aliases in PEOPLE:
            store.add(pseudonym, name, aliases)
    finally:
        store.close()
    result.keystore = keys
    note = project.list("observation", encounter="E1", stage="fieldnote")[0]
    text = anonymise_record(project, note.id)
    first = next(line for line in text.splitlines() if "@P02" in line)
    result.lines.append(f"Anonymised, e.g.: {first.strip()}")
    result.lines.append(f"Key store: {keys} ({PASSPHRASE_NOTE})")


def export_dest(folder: Path, exporter: Exporter) -> Path:
    """Where the demo writes an exporter's output: ``demo.html``, ``codebook.yaml``, ``csv/`` …"""
    if not exporter.suffix:
        return folder / exporter.name
    stem = "demo" if exporter.suffix.lstrip(".") == exporter.name else exporter.name
    return folder / f"{stem}{exporter.suffix}"


@_step("exports")
def _exports(project, path: Path, result: DemoResult, echo):
    from fieldkit.exchange.exporting import ExportOptions, run_export
    from fieldkit.hooks.manager import exporters

    folder = path / "exports"
    folder.mkdir(mode=0o700)
    # the deposit needs a signed-off disclosure review; a real study resolves the items first
    from fieldkit.lifecycle.disclosure import OPEN_KINDS, disclosure_report, sign_off

    sign_off(project, disclosure_report(project, ExportOptions()), accept=OPEN_KINDS,
             note="fictional demo data; a real study resolves these items before a deposit")
    for name, exporter in sorted(exporters().items()):
        echo(f"  export {name}")
        # the lossless backup cannot be anonymised by design; every other format is
        options = ExportOptions(anonymise=name != "jsonl")
        dest = export_dest(folder, exporter)
        try:
            report = run_export(project, name, dest, options)
        except MissingExtra as exc:
            result.skipped.append((name, str(exc)))
            continue
        except FieldkitError as exc:
            result.failures.append((name, str(exc)))
            continue
        result.exports.append((name, dest, report.summary_lines()))
