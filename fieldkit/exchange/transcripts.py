"""Transcripts of interviews and focus groups: plain speaker turns, WebVTT and SRT.

A transcript becomes ONE fieldnote in its encounter, so a coded passage can span turns and
the conversation stays in order. Each turn is a paragraph ``[00:01:02] P03: …``: the speaker
label is replaced by the participant code it is mapped to (labels in video-call captions are
often real names, which must not reach the project), ``Researcher`` for the researcher's own
turns (labels such as Interviewer or Facilitator, or ``--speaker LABEL=researcher``) and
``Speaker 2`` for someone nobody registered; the turn's start time is kept when the source
has timings. Consecutive caption cues of one speaker are joined into one turn.

Each turn is also stored as data (``store.turns``, see docs/records.md): the ``[start, end)``
of the speaker's words in the body, the speaker and the time codes, so consent, withdrawal
and the code-by-role matrix follow who spoke. :func:`find_turns` reads the turns back out of
a body written this way, and out of Markdown notes with speaker lines (``**P03:** …``).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any, Optional, TYPE_CHECKING

import attrs

from fieldkit.core.errors import InvalidInput

if TYPE_CHECKING:
    from fieldkit.core.records import Record
    from fieldkit.exchange.importing import ImportOptions, ImportReport
    from fieldkit.project import Project
    from fieldkit.store.turns import SpeakerTurn

_LABEL = r"[^\W\d_][\w'\u2019 .()-]{0,39}?"
_STAMP = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
_PLAIN_TURN = re.compile(
    rf"^\s*(?:[\[(](?P<ts>{_STAMP})[\])]\s*|(?P<bare>\d{{1,2}}:\d{{2}}:\d{{2}})\s+)?"
    rf"(?P<speaker>{_LABEL})\s*:(?:\s+(?P<text>.*)|\s*)$"
)
_PREFIX = re.compile(rf"^\s*-?\s*(?P<speaker>{_LABEL})\s*:\s+(?P<text>.*)$", re.S)
_CUE_TIME = re.compile(
    r"^\s*(?P<start>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*(?P<end>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})"
)
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>")
_TAG = re.compile(r"<[^>]*>|\{\\[^}]*\}")


@attrs.frozen
class Turn:
    """One speaker's turn: ``speaker`` as labelled in the source (None when unlabelled),
    ``start``/``end`` in seconds when the source has timings."""

    speaker: Optional[str]
    text: str
    start: Optional[float] = None
    end: Optional[float] = None


def seconds(stamp: str) -> float:
    """``01:02:03.500``, ``02:03,5`` or ``1:02`` as seconds."""
    parts = stamp.replace(",", ".").split(":")
    total = 0.0
    for part in parts:
        total = total * 60 + float(part)
    return total


def clock(value: float) -> str:
    """Seconds as ``hh:mm:ss`` (fractions dropped)."""
    value = int(value)
    return f"{value // 3600:02d}:{value % 3600 // 60:02d}:{value % 60:02d}"


def detect_format(text: str, name: str = "") -> str:
    """``vtt``, ``srt`` or ``plain``, from the file name and then the content."""
    suffix = Path(name).suffix.lower()
    if suffix in (".vtt", ".srt"):
        return suffix[1:]
    stripped = text.lstrip("\ufeff")
    if stripped.startswith("WEBVTT"):
        return "vtt"
    head = stripped.strip().split("\n", 3)
    if any(_CUE_TIME.match(line) for line in head[:3]):
        return "srt"
    return "plain"


def parse_transcript(text: str, fmt: Optional[str] = None, name: str = "") -> list:
    """The turns of a transcript (``fmt`` is ``plain``, ``vtt`` or ``srt``; guessed if None)."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    fmt = fmt or detect_format(text, name)
    if fmt == "plain":
        return parse_plain(text)
    if fmt == "vtt":
        return _merge(_vtt_cues(text))
    if fmt == "srt":
        return _merge(_srt_cues(text))
    raise InvalidInput(f"unknown transcript format {fmt!r}; use plain, vtt or srt")


def parse_plain(text: str) -> list:
    """Turns from ``SPEAKER: text`` lines; other lines continue the turn before them.

    A turn may start with a time: ``[00:01:02] P03: …``, ``(01:02) P03: …`` or ``00:01:02 P03: …``."""
    turns: list = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        match = _PLAIN_TURN.match(line)
        if match:
            stamp = match["ts"] or match["bare"]
            turns.append(Turn(match["speaker"].strip(), (match["text"] or "").strip(),
                              seconds(stamp) if stamp else None))
        elif turns:
            last = turns[-1]
            joined = f"{last.text}\n{line.strip()}" if last.text else line.strip()
            turns[-1] = attrs.evolve(last, text=joined)
        else:
            turns.append(Turn(None, line.strip()))
    return [t for t in turns if t.text]


def _blocks(text: str) -> list:
    return [b.strip("\n").split("\n") for b in re.split(r"\n[ \t]*\n", text) if b.strip()]


def _clean(line: str) -> str:
    return html.unescape(_TAG.sub("", line)).replace("\u200e", "").replace("\u200f", "").strip()


def _cue_turns(lines: list, start: float, end: float) -> list:
    """The (speaker, text) pieces of one cue's lines: ``<v Name>`` voice tags or ``Name:`` prefixes."""
    out: list = []
    for raw in lines:
        voice = _VOICE.search(raw)
        speaker = voice.group(1).strip() if voice else None
        line = _clean(raw)
        if not line:
            continue
        if speaker is None:
            prefix = _PREFIX.match(line)
            if prefix:
                speaker, line = prefix["speaker"].strip(), prefix["text"].strip()
        if speaker is None and out:
            out[-1] = attrs.evolve(out[-1], text=f"{out[-1].text} {line}")
        else:
            out.append(Turn(speaker, line, start, end))
    return out


def _vtt_cues(text: str) -> list:
    blocks = _blocks(text)
    if not blocks or not blocks[0][0].startswith("WEBVTT"):
        raise InvalidInput("not a WebVTT file (it must start with WEBVTT)")
    cues: list = []
    for block in blocks[1:]:
        if block[0].startswith(("NOTE", "STYLE", "REGION")):
            continue
        timing = next((i for i, line in enumerate(block[:2]) if "-->" in line), None)
        if timing is None:
            continue
        match = _CUE_TIME.match(block[timing])
        if not match:
            raise InvalidInput(f"cannot read the cue timing {block[timing]!r}")
        cues += _cue_turns(block[timing + 1:], seconds(match["start"]), seconds(match["end"]))
    return cues


def _srt_cues(text: str) -> list:
    cues: list = []
    for block in _blocks(text):
        timing = next((i for i, line in enumerate(block[:2]) if "-->" in line), None)
        if timing is None:
            raise InvalidInput(f"cannot find the cue timing in the SRT block starting {block[0][:40]!r}")
        match = _CUE_TIME.match(block[timing])
        if not match:
            raise InvalidInput(f"cannot read the cue timing {block[timing]!r}")
        cues += _cue_turns(block[timing + 1:], seconds(match["start"]), seconds(match["end"]))
    return cues


def _merge(cues: list) -> list:
    """Join consecutive cues of the same speaker; an unlabelled cue continues the last speaker."""
    turns: list = []
    for cue in cues:
        if turns and (cue.speaker is None or cue.speaker == turns[-1].speaker):
            last = turns[-1]
            turns[-1] = attrs.evolve(last, text=f"{last.text} {cue.text}", end=cue.end)
        else:
            turns.append(cue)
    return turns


#: the label of the researcher's turns in a body, and labels that mean the researcher
RESEARCHER_LABEL = "Researcher"
RESEARCHER_WORDS = ("researcher", "interviewer", "facilitator", "moderator", "the researcher")
_UNREGISTERED = re.compile(r"speaker \d+\Z")
_BODY_TURN = re.compile(
    rf"^[ \t]*(?:[-*][ \t]+)?(?:[\[(](?P<ts>{_STAMP})[\])][ \t]*)?(?:\*\*|__)?(?P<speaker>{_LABEL})[ \t]*"
    rf"(?:\*\*|__)?:(?:\*\*|__)?[ \t]+(?P<text>\S.*)$"
)


def find_turns(project: Project, record_id: str, body: str,
               times: Optional[list[tuple[Optional[float], Optional[float]]]] = None) -> list[SpeakerTurn]:
    """The speaker turns of a body: lines ``[ts] LABEL: words`` (Markdown bold and list
    marks allowed) whose label is a participant code, the researcher or ``Speaker N``; a
    turn runs to the next turn line or a blank line. ``times`` gives ``(start, end)`` seconds
    per turn when the source had them (in order)."""
    from fieldkit.store.turns import SpeakerTurn

    codes = {p.code.casefold(): p.id for p in project.list("participant")}
    found: list = []
    pos = 0
    open_turn = None
    for line in body.split("\n"):
        end_of_line = pos + len(line)
        match = _BODY_TURN.match(line)
        label = _key(match["speaker"]) if match else ""
        if match and (label in codes or label in RESEARCHER_WORDS or _UNREGISTERED.match(label)):
            if open_turn:
                found.append(open_turn)
            if label in codes:
                kind, speaker = "participant", codes[label]
            else:
                kind, speaker = ("researcher" if label in RESEARCHER_WORDS else "unregistered"), None
            start = pos + match.start("text")
            stamp = seconds(match["ts"]) if match["ts"] else None
            open_turn = SpeakerTurn(record_id, start, pos + len(line.rstrip()), kind, speaker,
                                    match["speaker"].strip(), stamp)
        elif open_turn and line.strip():
            open_turn = attrs.evolve(open_turn, end=pos + len(line.rstrip()))
        elif open_turn:
            found.append(open_turn)
            open_turn = None
        pos = end_of_line + 1
    if open_turn:
        found.append(open_turn)
    if times and len(times) == len(found):
        found = [attrs.evolve(t, time_start=a if a is not None else t.time_start, time_end=b)
                 for t, (a, b) in zip(found, times)]
    return found


def store_turns(project: Project, record: Record) -> int:
    """Find and store the speaker turns of a note; returns how many."""
    turns = find_turns(project, record.id, record.body)
    project.store.turns.replace(record.id, turns)
    return len(turns)


def _key(label: Optional[str]) -> str:
    return " ".join((label or "").split()).casefold()


def transcript_body(turns: list, names: dict) -> str:
    """The fieldnote text: one paragraph per turn, ``[hh:mm:ss] CODE: text``."""
    paragraphs = []
    for turn in turns:
        stamp = f"[{clock(turn.start)}] " if turn.start is not None else ""
        paragraphs.append(f"{stamp}{names[_key(turn.speaker)]}: {turn.text}")
    return "\n\n".join(paragraphs) + "\n"


def speaker_map(project: Project, turns: list[Turn], options: ImportOptions, report: ImportReport) -> dict[str, Any]:
    """Map every speaker label to a participant code; unknown labels are problems unless allowed."""
    from fieldkit.core.errors import NotFound

    given = {_key(label): code for label, code in options.speakers.items()}
    codes = {_key(p.code): p.code for p in project.list("participant")}
    names, unknown, ids = {}, [], []
    for label in dict.fromkeys(t.speaker for t in turns):
        key = _key(label)
        if key in names:
            continue
        target = given.get(key) or (codes.get(key) if label else None)
        if (target or "").casefold() == "researcher" or (target is None and key in RESEARCHER_WORDS):
            names[key] = RESEARCHER_LABEL  # the researcher's own turns, kept apart from participants'
            continue
        if target is None:
            unknown.append(label)
            names[key] = f"Speaker {len(unknown)}"
            continue
        try:
            person = project.get(target, type_name="participant")
        except NotFound:
            report.problems.append(f"--speaker maps {label!r} to {target!r}, which is not a participant code")
            names[key] = target
            continue
        names[key] = person.code
        ids.append(person.id)
    unused = [label for label in options.speakers if _key(label) not in names]
    if unused:
        report.notes.append(f"no turns by {', '.join(repr(u) for u in unused)} (given with --speaker)")
    if unknown:
        shown = ", ".join("(no label)" if u is None else repr(u) for u in unknown)
        if options.allow_unknown:
            report.notes.append(f"speakers not mapped to a participant, written as Speaker 1, 2 …: {shown}")
        else:
            report.problems.append(f"speakers not mapped to a participant: {shown}; map them with "
                                   "--speaker LABEL=CODE or pass --allow-unknown")
    return {"names": names, "participant_ids": ids}


def load(project: Project, source: Path, options: ImportOptions) -> ImportReport:
    """The ``transcript`` importer: one transcript file into one fieldnote of ``options.encounter``."""
    from fieldkit.core.errors import FieldkitError
    from fieldkit.exchange.importing import (ImportReport, add_to_encounter, already_imported, observed_fields, read_text_file,
                             run_import, with_tags)
    from fieldkit.core.records import Observation

    source = Path(source)
    if source.is_dir():
        raise FieldkitError(f"{source} is a folder; import one transcript file at a time")
    if not options.encounter:
        raise FieldkitError("a transcript belongs to an encounter: pass --encounter (e.g. -e E3)")
    encounter = project.get(options.encounter, type_name="encounter")
    text = read_text_file(source, "transcript")
    try:
        turns = parse_transcript(text, options.extra.get("format"), source.name)
    except ValueError as exc:
        raise FieldkitError(f"{source}: {exc}") from None
    if not turns:
        raise FieldkitError(f"{source} holds no speaker turns")
    report = ImportReport(importer="transcript", source=str(source))

    def work():
        mapping = speaker_map(project, turns, options, report)
        if report.problems:
            return
        body = with_tags(transcript_body(turns, mapping["names"]), options.tags)
        if already_imported(project, body, encounter.id):
            report.skipped.append(f"{source.name}: this transcript is already in {encounter.code}")
            return
        if options.at:
            observed = observed_fields(project, options.at)
        elif encounter.start:
            observed = {"observed_at": encounter.start, "observed_precision": "minute",
                        "observed_raw": f"start of {encounter.code}"}
        else:
            observed = {}
        add_to_encounter(project, project.get(encounter.id, type_name="encounter"), mapping["participant_ids"])
        record = project.add(Observation(stage=options.stage or "fieldnote", body=body, encounter_id=encounter.id,
                                         **observed), reason=f"imported transcript {source.name}")
        found = find_turns(project, record.id, record.body, [(t.start, t.end) for t in turns])
        project.store.turns.replace(record.id, found)
        report.count("fieldnotes")
        report.count("turns", len(turns))
        report.count("speakers", len({_key(t.speaker) for t in turns}))

    return run_import(project, report, work, dry_run=options.dry_run)
