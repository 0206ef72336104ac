"""CSV export: a folder with one table per record type and ``quotes.csv``.

``quotes.csv`` has one row per coded segment (code path, record, the quoted text,
participants and their roles, site, encounter): the table researchers sort, filter and
paste into reports. Files are UTF-8 with a byte-order mark so that Excel reads accents
and curly quotes correctly; rows are written as the notes stream past.
"""

from __future__ import annotations

import contextlib
import csv
import json
from pathlib import Path
from typing import Any, TYPE_CHECKING

from fieldkit.core.output import guard_cell

if TYPE_CHECKING:
    from fieldkit.core.records import Coding
    from fieldkit.exchange.exporting import ExportOptions, ExportReport
    from fieldkit.project import Project

OBSERVATION_COLUMNS = ("id", "stage", "encounter", "site", "observed_at", "observed_local", "observed_precision",
                       "recorded_at", "tags", "mentions", "author", "text")
MEMO_COLUMNS = ("id", "kind", "title", "created_at", "links", "tags", "mentions", "author", "text")
CODING_COLUMNS = ("id", "record_id", "record_type", "code_id", "code_path", "start", "end", "coder", "status",
                  "note", "created_at")
QUOTE_COLUMNS = ("code_path", "quote", "record_type", "record_id", "coding_id", "start", "end", "coder",
                 "participants", "participant_roles", "site", "encounter", "observed_at", "member_check")
CODE_COLUMNS = ("id", "path", "name", "parent_id", "status", "merged_into", "colour", "definition", "include",
                "exclude", "example", "keywords")
PARTICIPANT_COLUMNS = ("id", "code", "role", "organisation", "attributes", "consent", "consent_scopes", "note")
ENCOUNTER_COLUMNS = ("id", "code", "kind", "title", "site", "mode", "start", "end", "participants", "summary")
SITE_COLUMNS = ("id", "name", "kind", "note")
CONSENT_COLUMNS = ("id", "participant", "status", "scopes", "at", "note")


class _Table:
    def __init__(self, folder: Path, name: str, columns):
        self.name = name
        self.handle = open(folder / name, "w", encoding="utf-8-sig", newline="")
        self.writer = csv.DictWriter(self.handle, fieldnames=columns, extrasaction="ignore")
        self.writer.writeheader()
        self.rows = 0

    def write(self, row: dict[str, Any]) -> None:
        self.writer.writerow({k: _cell(v) for k, v in row.items()})
        self.rows += 1

    def close(self) -> None:
        self.handle.close()


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return guard_cell(", ".join(str(v) for v in value))
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if hasattr(value, "isoformat"):
        from fieldkit.core.convert import iso

        return iso(value)
    if isinstance(value, str):
        return guard_cell(value)
    return value


def quote_text(text: str, coding: Coding) -> str:
    """The coded characters of ``text`` (the whole text for a whole-record coding)."""
    return text if coding.start is None else text[coding.start:coding.end]


def export(project: Project, dest: Path, options: ExportOptions) -> ExportReport:
    """The ``csv`` exporter: ``observations.csv``, ``memos.csv``, ``codings.csv``, ``quotes.csv``,
    ``codes.csv``, ``participants.csv``, ``encounters.csv``, ``sites.csv``, ``consent_events.csv``."""
    from fieldkit.exchange.exporting import (ExportReport, Lookups, atomic_output, count_selected, export_anonymiser,
                                             export_items, progress, selected_code_ids, text_fields, write_manifest)
    report = ExportReport(exporter="csv", dest=str(dest), anonymised=options.anonymise)
    quote_codes = set(selected_code_ids(project, options)) if options.codes else None
    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(atomic_output(dest, force=options.force, folder=True))
        # one anonymiser for the texts and every free-text field of this export
        anonymiser = export_anonymiser(project, options, report)
        if anonymiser is not None:
            stack.callback(anonymiser.close)
        lookups = Lookups(project, text_fields(project, options, report, anonymiser=anonymiser))
        tables = {
            "observation": _Table(folder, "observations.csv", OBSERVATION_COLUMNS),
            "memo": _Table(folder, "memos.csv", MEMO_COLUMNS),
            "coding": _Table(folder, "codings.csv", CODING_COLUMNS),
            "quote": _Table(folder, "quotes.csv", QUOTE_COLUMNS),
        }
        try:
            items = export_items(project, options, report, anonymiser=anonymiser)
            length = count_selected(project, options) if options.progress else None
            with progress(options, items, length=length, label="csv") as items:
                for item in items:
                    _write_item(project, lookups, tables, item, quote_codes, report)
            withdrawn = _write_people(project, folder, lookups, tables, report)
            _write_fieldwork(project, folder, lookups, tables, options, withdrawn)
            _write_codes(folder, lookups, tables)
        finally:
            for table in tables.values():
                table.close()
        for table in tables.values():
            report.count(f"rows in {table.name}", table.rows)
        report.files = sorted(t.name for t in tables.values())
        write_manifest(folder, report)
    return report


def _write_item(project, lookups, tables, item, quote_codes, report):
    from fieldkit.exchange.exporting import LeftOut, speaker_context
    from fieldkit.exchange.markdown_files import local_time

    record = item.record
    context = lookups.context(record)
    if record.type_name == "observation":
        tables["observation"].write({
            "id": record.id, "stage": record.stage, "encounter": context["encounter"], "site": context["site"],
            "observed_at": record.observed_at, "observed_local": local_time(project, record.observed_at,
                                                                            record.observed_precision),
            "observed_precision": record.observed_precision, "recorded_at": record.recorded_at,
            "tags": record.tags, "mentions": record.mentions, "author": record.author, "text": item.text,
        })
    else:
        tables["memo"].write({
            "id": record.id, "kind": record.kind, "title": record.title, "created_at": record.created_at,
            "links": record.links, "tags": record.tags, "mentions": record.mentions, "author": record.author,
            "text": item.text,
        })
    withheld = {coding.id for coding in item.withheld}
    for coding in (*item.codings, *item.withheld):
        path = lookups.code_path(coding.code_id)
        tables["coding"].write({
            "id": coding.id, "record_id": record.id, "record_type": record.type_name, "code_id": coding.code_id,
            "code_path": path, "start": coding.start, "end": coding.end, "coder": coding.coder,
            "status": coding.status, "note": coding.note, "created_at": coding.created_at,
        })
        if quote_codes is not None and coding.code_id not in quote_codes:
            continue
        if coding.id in withheld:  # its position is listed above; its words stay out
            report.left_out.append(LeftOut(coding.id, "quote", "no consent to quotes"))
            continue
        said = speaker_context(project, lookups, item, coding)  # in a transcript: who said it
        tables["quote"].write({
            "code_path": path, "quote": quote_text(item.text, coding), "record_type": record.type_name,
            "record_id": record.id, "coding_id": coding.id, "start": coding.start, "end": coding.end,
            "coder": coding.coder, "participants": said["participants"],
            "participant_roles": said["participant_roles"], "site": context["site"],
            "encounter": context["encounter"], "observed_at": getattr(record, "observed_at", None),
            "member_check": item.quote_status.get(coding.id, ""),
        })


def _write_people(project, folder, lookups, tables, report) -> set:
    """Participants and consent events; withdrawn participants are left out. Returns their ids."""
    from fieldkit.privacy.consent import current_consent
    from fieldkit.exchange.exporting import LeftOut

    people = tables["participant"] = _Table(folder, "participants.csv", PARTICIPANT_COLUMNS)
    events = tables["consent"] = _Table(folder, "consent_events.csv", CONSENT_COLUMNS)
    withdrawn = set()
    for person in lookups.records("participant", order_by="code"):
        consent = current_consent(project, person.id)
        if consent.status == "withdrawn":
            withdrawn.add(person.id)
            report.left_out.append(LeftOut(person.id, "participant", "consent withdrawn"))
            continue
        people.write({
            "id": person.id, "code": person.code, "role": person.role, "organisation": person.organisation,
            "attributes": person.attributes, "consent": consent.status, "consent_scopes": consent.scopes,
            "note": person.note,
        })
    for event in lookups.records("consent", order_by="at, id"):
        if event.participant_id in withdrawn or event.participant_id not in lookups.participants:
            continue
        events.write({
            "id": event.id, "participant": lookups.participants[event.participant_id].code, "status": event.status,
            "scopes": event.scopes, "at": event.at, "note": event.note,
        })
    return withdrawn


def _write_fieldwork(project, folder, lookups, tables, options, withdrawn):
    chosen = {project.resolve(e, "encounter") for e in options.encounters}
    encounters = tables["encounter"] = _Table(folder, "encounters.csv", ENCOUNTER_COLUMNS)
    for enc in lookups.records("encounter", order_by="code"):
        if chosen and enc.id not in chosen:
            continue
        site = lookups.sites.get(enc.site_id)
        codes = [lookups.participants[p.participant_id].code for p in enc.participants
                 if p.participant_id in lookups.participants and p.participant_id not in withdrawn]
        encounters.write({
            "id": enc.id, "code": enc.code, "kind": enc.kind, "title": enc.title,
            "site": site.name if site else "", "mode": enc.mode, "start": enc.start, "end": enc.end,
            "participants": codes, "summary": enc.summary,
        })
    sites = tables["site"] = _Table(folder, "sites.csv", SITE_COLUMNS)
    for site in lookups.records("site", order_by="name"):
        sites.write({"id": site.id, "name": site.name, "kind": site.kind, "note": site.note})


def _write_codes(folder, lookups, tables):
    codes = tables["code"] = _Table(folder, "codes.csv", CODE_COLUMNS)
    for path, code in lookups.codebook():
        codes.write({
            "id": code.id, "path": path, "name": code.name, "parent_id": code.parent_id, "status": code.status,
            "merged_into": code.merged_into, "colour": code.colour, "definition": code.definition,
            "include": code.include, "exclude": code.exclude, "example": code.example,
            "keywords": json.dumps(list(code.keywords), ensure_ascii=False),
        })
