"""An archive deposit: the package the UK Data Service's ReShare repository expects.

``fieldkit export deposit FOLDER`` writes

* ``README.txt``, the data list: every file, what it holds, how many rows;
* ``data/notes.csv`` and ``data/quotes.csv``: the anonymised notes and coded quotes, only of
  records whose participants all gave ``archive`` consent (the research team's own roles
  excepted), with withdrawn and amended quotes as the participants asked;
* ``data/participants.csv``: pseudonym and role of each participant whose words are included;
* ``codebook.csv``; ``methods_and_consent.txt``: encounters by kind and consent by scope;
* ``anonymisation_summary.csv``: how many identifiers of each kind were replaced (never an
  original, never a key);
* ``manifest-sha256.txt``: the sha256 of every other file (``sha256sum -c`` reads it).

It refuses while the disclosure report of its selection has open items that no current
sign-off accepted, and it is always anonymised.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Union

from fieldkit.core.errors import Refused

if TYPE_CHECKING:
    import os

    from fieldkit.exchange.exporting import ExportOptions, ExportReport
    from fieldkit.project import Project

MANIFEST_FILE = "manifest-sha256.txt"
FILES = {
    "README.txt": "this data list",
    "data/notes.csv": "anonymised fieldnotes, transcripts and memos, one row each",
    "data/quotes.csv": "coded quotes (segments of the notes), one row per coding",
    "data/participants.csv": "pseudonym and role of each participant whose words are included",
    "codebook.csv": "the codes: path, definition, when to use and when not",
    "methods_and_consent.txt": "how the data were gathered and what participants agreed to",
    "anonymisation_summary.csv": "how many identifiers of each kind were replaced",
    "fieldkit-export.json": "what the export wrote and left out, for fieldkit",
    MANIFEST_FILE: "sha256 checksum of every other file",
}


def check_disclosure(project: Project, options: ExportOptions) -> None:
    """Refuse while the selection's disclosure report has open items no current sign-off accepted."""
    import json

    from fieldkit.exchange.register import current_sign_off
    from fieldkit.lifecycle.disclosure import disclosure_report

    report = disclosure_report(project, options, passphrase=options.passphrase)
    if not report.open_items:
        return
    signed = current_sign_off(project, options)
    accepted = set(json.loads(signed["detail"]).get("accepted", ())) if signed else set()
    left = [i for i in report.open_items if i.kind not in accepted]
    if left:
        raise Refused(f"the disclosure report of this selection has {len(left)} open item(s) "
                      f"({', '.join(sorted({i.kind for i in left}))}); run fieldkit disclosure-report with the same "
                      "options, resolve them or sign them off, then deposit")


def export(project: Project, dest: Path, options: ExportOptions) -> ExportReport:
    """The ``deposit`` exporter (see the module docstring)."""
    from fieldkit.exchange.csv_tables import _Table, quote_text
    from fieldkit.exchange.exporting import (ExportReport, LeftOut, Lookups, atomic_output, export_items,
                                             text_fields, write_manifest)
    from fieldkit.lifecycle.disclosure import TEAM_ROLES

    if not options.anonymise:
        raise Refused("a deposit is always anonymised; leave out --raw")
    check_disclosure(project, options)
    report = ExportReport(exporter="deposit", dest=str(dest), anonymised=True)
    lookups = Lookups(project)
    texts = text_fields(project, options, report)
    latest = project.store.consent.latest()
    archive = {pid for pid, (status, scopes) in latest.items() if status != "withdrawn" and "archive" in scopes}
    included_people: dict = {}
    holders: set = set()  # everyone whose records went in, the team included (for the register)
    record_ids = []
    with atomic_output(dest, force=options.force, folder=True) as folder:
        (folder / "data").mkdir(mode=0o700)
        notes = _Table(folder / "data", "notes.csv", ("id", "type", "encounter", "encounter_kind", "site",
                                                      "observed_on", "title", "text"))
        quotes = _Table(folder / "data", "quotes.csv", ("coding_id", "record_id", "code_path", "quote",
                                                        "member_check"))
        try:
            for item in export_items(project, options, report):
                record = item.record
                everyone = lookups.people(record)
                people = [p for p in everyone if p.role not in TEAM_ROLES]
                missing = [p.code for p in people if p.id not in archive]
                if missing:
                    report.left_out.append(LeftOut(record.id, record.type_name,
                                                   "no archive consent"))
                    continue
                for person in people:
                    included_people[person.id] = person
                holders.update(p.id for p in everyone)
                record_ids.append(record.id)
                encounters = [lookups.encounters[e] for e in lookups.encounter_ids(record)]
                observed = getattr(record, "observed_at", None)
                notes.write({"id": record.id, "type": record.type_name,
                             "encounter": ", ".join(e.code for e in encounters),
                             "encounter_kind": ", ".join(e.kind for e in encounters),
                             "site": lookups.context(record)["site"],
                             "observed_on": observed.date().isoformat() if observed else "",
                             "title": texts(getattr(record, "title", "") or ""), "text": item.text})
                report.count(f"{record.type_name}s")
                if not item.quotes_allowed:
                    continue
                for coding in item.codings:
                    if coding.status != "ok" or coding.coder.startswith("auto:"):
                        continue
                    quotes.write({"coding_id": coding.id, "record_id": record.id,
                                  "code_path": lookups.code_path(coding.code_id),
                                  "quote": quote_text(item.text, coding),
                                  "member_check": item.quote_status.get(coding.id, "")})
                    report.count("quotes")
        finally:
            notes.close()
            quotes.close()
        people = _Table(folder / "data", "participants.csv", ("code", "role"))
        for person in sorted(included_people.values(), key=lambda p: p.code):
            people.write({"code": person.code, "role": person.role})
        people.close()
        codebook = _Table(folder, "codebook.csv", ("path", "definition", "include", "exclude"))
        for path, code in lookups.codebook():
            codebook.write({"path": path, "definition": texts(code.definition), "include": texts(code.include),
                            "exclude": texts(code.exclude)})
        codebook.close()
        kinds = project.store.lifecycle.anonymisation_kinds(record_ids)
        summary = _Table(folder, "anonymisation_summary.csv", ("kind", "replaced"))
        for kind, n in sorted(kinds.items()):
            summary.write({"kind": kind, "replaced": n})
        summary.close()
        (folder / "methods_and_consent.txt").write_text(
            _methods(project, lookups, latest, included_people), encoding="utf-8")
        rows = {"data/notes.csv": notes.rows, "data/quotes.csv": quotes.rows, "data/participants.csv": people.rows,
                "codebook.csv": codebook.rows, "anonymisation_summary.csv": summary.rows}
        (folder / "README.txt").write_text(_readme(project, report, rows), encoding="utf-8")
        report.files = sorted(FILES)
        report.participants = holders
        write_manifest(folder, report)
        write_checksums(folder)
    return report


def _methods(project, lookups, latest: dict, included: dict) -> str:
    kinds = Counter(e.kind for e in project.list("encounter"))
    scopes: Counter = Counter()
    statuses: Counter = Counter()
    for pid in lookups.participants:
        status, granted = latest.get(pid, ("none", ()))
        statuses[status] += 1
        scopes.update(granted if status != "withdrawn" else ())
    lines = ["Methods and consent summary", "", "Encounters by kind:"]
    lines += [f"  {kind.replace('_', ' ')}: {n}" for kind, n in sorted(kinds.items())] or ["  none"]
    lines += ["", "Participants by consent status:"]
    lines += [f"  {status}: {n}" for status, n in sorted(statuses.items())]
    lines += ["", "Participants agreeing to each use:"]
    lines += [f"  {scope}: {n}" for scope, n in sorted(scopes.items())]
    lines += ["", f"Participants whose words are in this deposit: {len(included)} (each agreed to archiving).",
              "", "Add the project's information sheet, consent form and methods description to the deposit;",
              "fieldkit does not hold them.", ""]
    return "\n".join(lines)


def _readme(project, report, rows: dict) -> str:
    name = project.setting("name") or project.path.name
    lines = [f"Data list: {name}", "", "Anonymised qualitative data prepared with fieldkit for deposit.",
             "Names and other identifiers were replaced by pseudonyms or placeholders; records of anyone",
             "without archive consent were left out.", "", "Files:"]
    for path, meaning in FILES.items():
        count = f" ({rows[path]} row(s))" if path in rows else ""
        lines.append(f"  {path}: {meaning}{count}")
    left = report.left_out_by_reason()
    if left:
        lines += ["", "Left out:"] + [f"  {n} record(s): {reason}" for reason, n in left.items()]
    lines.append("")
    return "\n".join(lines)


def write_checksums(folder: Path) -> None:
    """``manifest-sha256.txt`` with the sha256 of every other file, as ``sha256sum`` writes it."""
    lines = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST_FILE):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.relative_to(folder).as_posix()}")
    (folder / MANIFEST_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")


def verify(folder: Union[str, os.PathLike[str]]) -> list[str]:
    """Files whose checksum does not match the manifest (or are missing from it)."""
    folder = Path(folder)
    listed = {}
    for line in (folder / MANIFEST_FILE).read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    bad = [name for name, digest in listed.items()
           if not (folder / name).is_file() or hashlib.sha256((folder / name).read_bytes()).hexdigest() != digest]
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {MANIFEST_FILE}
    return sorted(bad + [name for name in present if name not in listed])
