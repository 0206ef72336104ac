"""Markdown export: a folder with one file per encounter, for reading and for other tools.

Each file starts with YAML front matter describing the encounter, then its jottings,
fieldnotes and the memos linked to it, in the order they were written. Notes and memos
that belong to no encounter go to ``no-encounter.md``. Files are appended to as the notes
stream past, so memory stays flat however large the project is.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Callable, Optional, TYPE_CHECKING

if TYPE_CHECKING:
    import datetime as dt

    from fieldkit.core.records import Encounter
    from fieldkit.exchange.exporting import ExportItem, ExportOptions, ExportReport, Lookups
    from fieldkit.project import Project

NO_ENCOUNTER = "no-encounter"


def _file_stem(code: str, used: set) -> str:
    """A safe file name for an encounter code, unique even on case-insensitive disks."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", code).strip("-.") or "encounter"
    candidate, n = stem, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{stem}-{n}"
    used.add(candidate.lower())
    return candidate


def _front_matter(data: dict) -> str:
    import yaml

    return "---\n" + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100) + "---\n"


def local_time(project: Project, value: Optional[dt.datetime], precision: str = "minute") -> str:
    """A stored UTC time as local wall time in the project's zone (``2026-03-12 14:05``)."""
    if value is None:
        return ""
    from zoneinfo import ZoneInfo

    local = value.astimezone(ZoneInfo(project.timezone))
    return local.strftime("%Y-%m-%d" if precision == "day" else "%Y-%m-%d %H:%M")


def encounter_header(project: Project, lookups: Lookups, encounter: Encounter, texts: Callable[[str], str],
                     anonymised: bool) -> str:
    """Front matter and title for an encounter's file (``texts`` anonymises free text)."""
    from fieldkit.core.convert import iso

    site = lookups.sites.get(encounter.site_id)
    people = []
    for item in encounter.participants:
        person = lookups.participants.get(item.participant_id)
        if person is not None:
            entry = {"code": person.code, "role": person.role}
            if item.role:
                entry["part"] = item.role
            people.append(entry)
    title = texts(encounter.title)
    summary = texts(encounter.summary)
    data = {
        "encounter": encounter.code, "id": encounter.id, "kind": encounter.kind, "title": title or "",
        "site": site.name if site else None, "mode": encounter.mode,
        "start": iso(encounter.start) if encounter.start else None,
        "end": iso(encounter.end) if encounter.end else None,
        "participants": people, "summary": summary or "", "anonymised": anonymised,
    }
    heading = f"# {encounter.code}: {title or encounter.kind.replace('_', ' ')}\n"
    return _front_matter(data) + "\n" + heading


def note_section(project: Project, lookups: Lookups, item: ExportItem, texts: Callable[[str], str]) -> str:
    """One observation or memo as a Markdown section (``texts`` anonymises the memo title)."""
    record = item.record
    codes = sorted({lookups.code_path(c.code_id) for c in item.codings})
    if record.type_name == "observation":
        when = local_time(project, record.observed_at, record.observed_precision)
        heading = f"## {record.stage.capitalize()}" + (f" · {when}" if when else "")
        meta = [f"id {record.id}", f"recorded {local_time(project, record.recorded_at)}"]
    else:
        heading = f"## Memo ({record.kind})" + (f": {texts(record.title)}" if record.title else "")
        meta = [f"id {record.id}", f"written {local_time(project, record.created_at)}"]
    if record.tags:
        meta.append("tags " + " ".join(f"#{t}" for t in record.tags))
    if codes:
        meta.append("codes " + ", ".join(codes))
    return f"\n{heading}\n\n*{' · '.join(meta)}*\n\n{item.text.rstrip()}\n"


def export(project: Project, dest: Path, options: ExportOptions) -> ExportReport:
    """The ``markdown`` exporter: one ``.md`` file per encounter plus ``no-encounter.md``."""
    from fieldkit.exchange.exporting import (ExportReport, Lookups, atomic_output, count_selected, export_anonymiser,
                                             export_items, progress, text_fields, write_manifest)

    report = ExportReport(exporter="markdown", dest=str(dest), anonymised=options.anonymise)
    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(atomic_output(dest, force=options.force, folder=True))
        # one anonymiser for the texts and every free-text field of this export
        anonymiser = export_anonymiser(project, options, report)
        if anonymiser is not None:
            stack.callback(anonymiser.close)
        texts = text_fields(project, options, report, anonymiser=anonymiser)
        lookups = Lookups(project, texts)
        files: dict = {}  # encounter id (or None) -> file name
        used: set = {NO_ENCOUNTER}
        items = export_items(project, options, report, anonymiser=anonymiser)
        length = count_selected(project, options) if options.progress else None
        with progress(options, items, length=length, label="markdown") as items:
            for item in items:
                targets = lookups.encounter_ids(item.record) or [None]
                section = note_section(project, lookups, item, texts)
                for eid in targets:
                    if eid not in files:
                        if eid is None:
                            name = f"{NO_ENCOUNTER}.md"
                            head = _front_matter({"encounter": None, "anonymised": options.anonymise}) + \
                                "\n# Notes and memos without an encounter\n"
                        else:
                            name = _file_stem(lookups.encounters[eid].code, used) + ".md"
                            head = encounter_header(project, lookups, lookups.encounters[eid], texts,
                                                    options.anonymise)
                        files[eid] = name
                        (folder / name).write_text(head, encoding="utf-8")
                    with open(folder / files[eid], "a", encoding="utf-8", newline="\n") as out:
                        out.write(section)
                report.count(f"{item.record.type_name}s")
        report.count("files", len(files))
        report.files = sorted(files.values())
        write_manifest(folder, report)
    return report
