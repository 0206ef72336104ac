"""What comes into a project: import options, the import report and shared helpers.

Most importers run inside ``run_import``: one transaction, so a file that fails half-way
leaves nothing behind, and ``dry_run`` rolls back a complete import after reporting it.
Importers that can check every file before writing (Markdown) write in short batches
instead (``write_in_batches``), so a large import does not lock other writers out.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, TYPE_CHECKING, Union

import attrs

from fieldkit.core.errors import FieldkitError

if TYPE_CHECKING:
    import os

    from fieldkit.core.records import Encounter
    from fieldkit.project import Project


@attrs.frozen
class ImportOptions:
    """How to read a source. Importers use the fields that apply to them and ignore the rest.

    ``speakers`` maps transcript speaker labels to participant codes; ``extra`` carries
    options of third-party importers.
    """

    encounter: Optional[str] = None
    speakers: dict = attrs.field(factory=dict, converter=dict)
    allow_unknown: bool = False
    stage: Optional[str] = None
    tags: tuple = attrs.field(default=(), converter=tuple)
    at: Optional[str] = None
    dry_run: bool = False
    progress: bool = False
    extra: dict = attrs.field(factory=dict, converter=dict)


@attrs.define
class ImportReport:
    """What an import added, what it skipped and what it could not read."""

    importer: str
    source: str
    counts: dict = attrs.Factory(dict)
    skipped: list = attrs.Factory(list)
    problems: list = attrs.Factory(list)
    notes: list = attrs.Factory(list)
    dry_run: bool = False

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    def summary_lines(self) -> list[str]:
        verb = "would import" if self.dry_run else "imported"
        lines = [f"{self.importer}: {verb} from {self.source}" + (" (dry run: nothing written)" if self.dry_run else "")]
        for what, n in sorted(self.counts.items()):
            lines.append(f"  {n} {what}")
        if not self.counts:
            lines.append("  nothing")
        lines += [f"  skipped: {s}" for s in self.skipped]
        lines += [f"  note: {n}" for n in self.notes]
        lines += [f"  problem: {p}" for p in self.problems]
        return lines


class ImportFailed(FieldkitError):
    """An import found problems and wrote nothing; ``report`` says what was wrong."""

    def __init__(self, report: ImportReport):
        self.report = report
        first = report.problems[0] if report.problems else "unknown problem"
        more = f" (and {len(report.problems) - 1} more problem(s))" if len(report.problems) > 1 else ""
        super().__init__(f"nothing imported from {report.source}: {first}{more}")


class _DryRun(Exception):
    pass


def run_import(project: Project, report: ImportReport, work: Callable[[], None], *,
               dry_run: bool = False) -> ImportReport:
    """Run ``work`` in one transaction; roll back if it reports problems or on ``dry_run``.

    ``work`` fills ``report`` and writes through ``project``. Problems in the report make the
    whole import fail with ``ImportFailed`` and nothing written.
    """
    report.dry_run = dry_run
    try:
        with project.transaction():
            work()
            if report.problems:
                raise ImportFailed(report)
            if dry_run:
                raise _DryRun()
            project.store.audit("import", report.importer, "", f"{report.source}: "
                                + ", ".join(f"{n} {w}" for w, n in sorted(report.counts.items())))
    except _DryRun:
        pass
    return report


#: how long one batch of an import's writes may hold the write lock (seconds)
BATCH_SECONDS = 1.0
#: the pause between batches: longer than the longest sleep of SQLite's busy handler
#: between its retries, so a writer kept waiting takes the lock in the pause
BATCH_PAUSE = 0.11


def write_in_batches(project: Project, report: ImportReport, writes: list[Callable[[], Any]]) -> None:
    """Run checked writes (callables) in short transactions, then audit the import.

    For importers that check everything first: each transaction holds the write lock for
    about ``BATCH_SECONDS``, and other writers get in between. A write that still fails stops
    the import; the batches before it stay (an import skips what it already wrote when run
    again)."""
    import time

    at = 0
    while at < len(writes):
        if at:
            time.sleep(BATCH_PAUSE)
        with project.transaction():
            started = time.monotonic()
            while at < len(writes) and (time.monotonic() - started) < BATCH_SECONDS:
                writes[at]()
                at += 1
    with project.transaction():
        project.store.audit("import", report.importer, "", f"{report.source}: "
                            + ", ".join(f"{n} {w}" for w, n in sorted(report.counts.items())))


def read_text_file(path: Path, what: str = "file") -> str:
    """A UTF-8 file (a byte-order mark is dropped) as text with ``\\n`` line ends."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise FieldkitError(f"no such {what}: {path}") from None
    except IsADirectoryError:
        raise FieldkitError(f"{path} is a folder, not a {what}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FieldkitError(f"{path} is not UTF-8 text (bad byte at position {exc.start}); "
                            "save it as UTF-8 and try again") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def observed_fields(project: Project, value: object) -> dict[str, Any]:
    """``observed_at``/``observed_precision``/``observed_raw`` from typed text or a YAML date."""
    if value is None or value == "":
        return {}
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            from zoneinfo import ZoneInfo

            value = value.replace(tzinfo=ZoneInfo(project.timezone))
        return {"observed_at": value, "observed_precision": "minute", "observed_raw": value.isoformat()}
    if isinstance(value, dt.date):
        from zoneinfo import ZoneInfo

        at = dt.datetime.combine(value, dt.time(), ZoneInfo(project.timezone))
        return {"observed_at": at, "observed_precision": "day", "observed_raw": value.isoformat()}
    from fieldkit.fieldwork.capture import _observed

    return _observed(project, str(value))


def already_imported(project: Project, body: str, encounter_id: Optional[str]) -> bool:
    """True when an observation with exactly this text (and encounter) is already stored."""
    from fieldkit.core.markdown import normalise

    return project.store.has_text("observation", normalise(body), encounter_id=encounter_id)


def with_tags(body: str, tags: Iterable[object]) -> str:
    """Append ``#tag`` words so tags live in the text (tags are derived from the body)."""
    from fieldkit.fieldwork.capture import _with_tags

    return _with_tags(body, [str(t) for t in tags])


def add_to_encounter(project: Project, encounter: Encounter, participant_ids: Iterable[str],
                     role: str = "") -> Encounter:
    """Add participants to an encounter (keeping its history); returns the encounter as stored."""
    from fieldkit.core.records import EncounterParticipant

    present = {p.participant_id for p in encounter.participants}
    new = [EncounterParticipant(pid, role) for pid in dict.fromkeys(participant_ids) if pid not in present]
    if not new:
        return encounter
    return project.update(attrs.evolve(encounter, participants=(*encounter.participants, *new)),
                          reason="participants added by import")


def run_importer(project: Project, format_name: str, source: Union[str, os.PathLike[str]],
                 options: Optional[ImportOptions] = None) -> ImportReport:
    """Import ``source`` with the importer registered as ``format_name`` (what ``fieldkit import`` runs)."""
    from fieldkit.core.errors import NotFound
    from fieldkit.hooks.manager import importers

    found = importers()
    importer = found.get(format_name)
    if importer is None:
        raise NotFound(f"no import format '{format_name}'; choose from {', '.join(sorted(found)) or 'none'}")
    source = Path(source).expanduser()
    if not source.exists():
        raise NotFound(f"no such file or folder: {source}")
    result = importer.load(project, source, options or ImportOptions())
    if isinstance(result, ImportReport):
        return result
    report = ImportReport(importer=format_name, source=str(source))
    if isinstance(result, dict):
        report.counts.update(result.get("counts", {}))
        report.problems.extend(result.get("problems", ()))
        report.notes.extend(result.get("notes", ()))
    return report
