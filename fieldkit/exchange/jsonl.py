"""Lossless JSON Lines: the backup and migration format.

One JSON object per line, UTF-8, ``\\n`` line ends, keys sorted, written as the rows are read:

* line 1, the header: ``{"fieldkit": "jsonl", "format": 1, "schema": [migration names]}``;
* then one line per stored row: ``{"table": "observations", "row": {...}}``, every column as
  stored (tombstones keep ``deleted_at``, records keep ``version`` and ``updated_at``), with
  list and dict columns, revision data and setting values written as JSON rather than as
  JSON text. Tables come in a fixed order (settings, the record tables parents first,
  revisions, any other table by name, audit last) and rows in primary-key order, so the same
  project always gives the same bytes.

Full-text indexes are left out (they are rebuilt from the bodies). Nothing is anonymised:
the file holds everything the project holds, so exporting it needs ``anonymise=False``.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Callable, Optional, TYPE_CHECKING, TextIO

from fieldkit.core.errors import FieldkitError, Refused

if TYPE_CHECKING:
    from fieldkit.core.records import Record
    from fieldkit.exchange.exporting import ExportOptions, ExportReport
    from fieldkit.exchange.importing import ImportOptions, ImportReport
    from fieldkit.project import Project

FORMAT = 1


def _dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _decoded_columns(table: str) -> frozenset:
    """Columns holding JSON text that the file shows as JSON."""
    from fieldkit.core.convert import json_columns
    from fieldkit.core.records import RECORD_TYPES
    from fieldkit.store.schema import TABLES

    by_table = {t: name for name, t in TABLES.items()}
    if table in by_table:
        return json_columns(RECORD_TYPES[by_table[table]])
    return {"revisions": frozenset({"data"}), "settings": frozenset({"value"})}.get(table, frozenset())


def _out_value(value):
    if isinstance(value, bytes):
        return {"$base64": base64.b64encode(value).decode("ascii")}
    return value


def _in_value(value):
    if isinstance(value, dict) and set(value) == {"$base64"}:
        return base64.b64decode(value["$base64"])
    return value


def write_jsonl(project: Project, out: TextIO, *, on_row: Optional[Callable[[], None]] = None) -> dict[str, int]:
    """Write the whole project to the text stream ``out``; returns row counts by table."""
    dump = project.store.dump
    counts = {}
    with project.store.snapshot():
        out.write(_dumps({"fieldkit": "jsonl", "format": FORMAT, "schema": dump.migrations()}) + "\n")
        for table in dump.tables():
            decoded = _decoded_columns(table)
            columns, cursor = dump.rows(table)
            n = 0
            for values in cursor:
                row = dict(zip(columns, map(_out_value, values)))
                for name in decoded:
                    if isinstance(row.get(name), str):
                        row[name] = json.loads(row[name])
                out.write(_dumps({"row": row, "table": table}) + "\n")
                n += 1
                if on_row is not None:
                    on_row()
            counts[table] = n
    return counts


def export(project: Project, dest: Path, options: ExportOptions) -> ExportReport:
    """The ``jsonl`` exporter: every row of the project, exactly, never anonymised."""
    from fieldkit.exchange.exporting import ExportReport, atomic_output

    if options.anonymise:
        raise Refused("jsonl is the lossless backup format: it holds every name and every identifying "
                      "detail in the notes and cannot be anonymised; pass --raw to write it anyway, "
                      "or choose an anonymised format such as csv or markdown")
    chosen = [name for name in ("encounters", "tags", "codes", "stages") if getattr(options, name)]
    if options.since or options.until:
        chosen.append("since/until")
    if set(options.types) != {"observation", "memo"} and not options.stages:
        chosen.append("type")
    if chosen:
        raise Refused(f"jsonl always writes the whole project; it cannot select by {', '.join(chosen)}")
    report = ExportReport(exporter="jsonl", dest=str(dest), anonymised=False)
    with atomic_output(dest, force=options.force) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as out:
            if options.progress:
                from fieldkit.exchange.exporting import progress

                dump = project.store.dump
                total = sum(dump.count(t) for t in dump.tables())
                with progress(options, range(total), length=total, label="jsonl") as bar:
                    counts = write_jsonl(project, out, on_row=lambda: bar.update(1))
            else:
                counts = write_jsonl(project, out)
    for table, n in counts.items():
        if n:
            report.count(f"{table} rows", n)
    report.files.append(str(dest))
    return report


# --- import -----------------------------------------------------------------------------------


def load(project: Project, source: Path, options: ImportOptions) -> ImportReport:
    """The ``jsonl`` importer: restore a backup into an empty project (same ids and history), or
    merge it into a project that shares its records (``fieldkit.exchange.merging``)."""
    from fieldkit.exchange.importing import ImportReport, run_import

    source = Path(source)
    if not source.is_file():
        raise FieldkitError(f"no such file: {source}")
    report = ImportReport(importer="jsonl", source=str(source))
    restore = _restore if project.store.dump.is_empty() else _merge

    def work():
        with open(source, encoding="utf-8", newline="") as handle:
            restore(project, handle, report)

    try:
        return run_import(project, report, work, dry_run=options.dry_run)
    except UnicodeDecodeError as exc:
        raise FieldkitError(f"{source} is not UTF-8 text (bad byte at position {exc.start})") from None


class _Batch:
    """Rows waiting to be inserted into one table with one statement; the records among them
    are announced to ``record_saved`` hooks once they are written."""

    def __init__(self, project):
        from fieldkit.hooks.manager import get_plugin_manager

        self.project = project
        self.saved = get_plugin_manager().hook.record_saved
        self.table = None
        self.columns = None
        self.rows = []
        self.records = []

    def add(self, table: str, columns: tuple[str, ...], values: list[Any], record: Optional[Record] = None) -> None:
        if (table, columns) != (self.table, self.columns) or len(self.rows) >= 1000:
            self.flush()
            self.table, self.columns = table, columns
        self.rows.append(values)
        if record is not None:
            self.records.append(record)

    def flush(self) -> None:
        if self.rows:
            self.project.store.insert_rows(self.table, self.columns, self.rows)
            self.rows = []
        for record in self.records:
            self.saved(project=self.project, record=record)
        self.records = []


def _header(handle, report) -> None:
    """Read and check the header line: a fieldkit backup of a format and schema this fieldkit reads."""
    from fieldkit.store.schema import MIGRATIONS

    first = handle.readline()
    try:
        header = json.loads(first)
    except (ValueError, RecursionError):
        header = None
    if not isinstance(header, dict) or header.get("fieldkit") != "jsonl":
        raise FieldkitError(f"{report.source} is not a fieldkit JSONL backup (no header line)")
    if header.get("format") != FORMAT:
        raise FieldkitError(f"{report.source} uses JSONL format {header.get('format')}; this fieldkit reads {FORMAT}")
    unknown = [m for m in header.get("schema", []) if m not in MIGRATIONS]
    if unknown:
        raise FieldkitError(f"{report.source} was written by a newer fieldkit (schema {unknown[-1]}); upgrade to import it")


def _lines(handle, report):
    """``(line number, table, row)`` of each backup line; bad lines become problems."""
    for number, line in enumerate(handle, start=2):
        if len(report.problems) >= 20:
            report.problems.append("stopped after 20 problems")
            return
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            table, row = item["table"], item["row"]
            if not isinstance(row, dict):
                raise TypeError("row is not an object")
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            report.problems.append(f"line {number}: not a backup line ({type(exc).__name__})")
            continue
        yield number, table, row


def _merge(project, handle, report) -> None:
    """Merge a backup into a project that is not empty: records it shares are matched (or merged,
    with conflicts kept and listed), new ones added with their history; the rest is reported."""
    from fieldkit.core.convert import error_reason, from_json, from_row
    from fieldkit.core.records import RECORD_TYPES
    from fieldkit.exchange.merging import Merger
    from fieldkit.store.schema import TABLES

    store = project.store
    _header(handle, report)
    type_of = {t: name for name, t in TABLES.items()}
    records, history, skipped, identities = [], {}, {}, []
    kept: dict[str, list] = {}
    for number, table, row in _lines(handle, report):
        if table == "revisions":
            data = row.get("data")
            history.setdefault(row.get("record_id"), []).append(
                (json.loads(data) if isinstance(data, str) else data, row.get("reason") or "merged history"))
            continue
        if table == "exchange_ids":
            identities.append((row.get("external_id"), row.get("record_id"), row.get("record_type"),
                               row.get("origin"), _json_dict(row.get("data"))))
            continue
        if table in ("exchange_items", "exchange_members"):  # other tools' sets, users, cases
            kept.setdefault(table, []).append(row)
            continue
        if table not in type_of:
            skipped[table] = skipped.get(table, 0) + 1
            continue
        if row.get("deleted_at"):
            skipped["deleted record"] = skipped.get("deleted record", 0) + 1
            continue
        try:
            records.append(from_row(RECORD_TYPES[type_of[table]], {k: _in_value(v) for k, v in row.items()}))
        except Exception as exc:  # cattrs/attrs raise many kinds; all mean a bad record
            report.problems.append(f"line {number}: invalid {type_of[table]}: {error_reason(exc)}")
    if report.problems:
        return
    present = {}
    for type_name in TABLES:
        for found in store.ids_present(type_name, [r.id for r in records if r.type_name == type_name]):
            present[found] = type_name
    merger = Merger(project, report, source=report.source)
    new = []
    for record in records:
        kind = present.get(record.id)
        if kind is None:
            new.append(record)
        elif kind != record.type_name:
            report.skipped.append(f"{record.type_name} {record.id}: that id is a {kind} in this project")
        else:
            merger.merge(record, their_history=[data for data, _ in history.get(record.id, ())])
    if new:
        project.add_many(new, reason=f"merged from {report.source}")
        for record in new:
            report.count(f"{record.type_name}s")
    carried = 0
    for record in new:  # their earlier versions come with them
        for data, reason in history.get(record.id, ()):
            try:
                store.keep_revision(from_json(data, type(record)), reason=reason)
            except Exception as exc:  # a damaged revision must not stop the merge
                report.skipped.append(f"an earlier version of {record.id}: {error_reason(exc)}")
                continue
            carried += 1
    if carried:
        report.count("earlier versions of new records", carried)
    new_ids = {r.id for r in new}
    store.exchange.remember([row for row in identities if row[1] in new_ids or row[1] in present])
    _merge_kept(project, report, kept, new_ids | set(present))
    for table, n in sorted(skipped.items()):
        report.skipped.append(f"{n} {table} row(s): a merge takes live records and their history only "
                              "(settings, audit log and anonymisation tables stay this project's own)")


def _json_dict(value) -> dict:
    """A JSON-text column of a backup line as a dict (the file shows such columns as text)."""
    if isinstance(value, str):
        try:
            value = json.loads(value or "{}")
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _merge_kept(project, report, kept: dict, live: set) -> None:
    """Other tools' sets, users and cases of the file, with their members among ``live`` records."""
    from fieldkit.exchange.merging import keep_item

    members: dict[str, list] = {}
    for row in kept.get("exchange_members", ()):
        if row.get("record_id") in live:
            members.setdefault(row.get("item_id"), []).append((row["record_id"], row.get("record_type")))
    for row in kept.get("exchange_items", ()):
        keep_item(project, report, row["external_id"], row["kind"], row.get("name") or "", row.get("origin") or "",
                  _json_dict(row.get("data")), members.get(row["external_id"], ()))


def _restore(project, handle, report) -> None:
    from fieldkit.core.convert import error_reason, from_row
    from fieldkit.core.records import RECORD_TYPES, check_writable
    from fieldkit.store.connection import errors
    from fieldkit.store.schema import TABLES

    store = project.store
    dump = store.dump
    type_of = {t: name for name, t in TABLES.items()}
    _header(handle, report)
    # a backup written before the digest key moved into the key store holds it: restored, it
    # keeps the backup's digests valid and moves into the key store when that is next opened
    allowed = set(dump.tables()) | {"anonymisation_secret"}
    columns_of = {t: set(store.columns(t)) for t in allowed}
    dump.defer_foreign_keys()  # parents may come after children (moved codes)
    # an empty project still has rows of its own (settings, its 'init' audit line, the
    # digest key before 0005): each table the backup holds replaces them whole
    cleared = set(TABLES.values()) | {"revisions"}  # known to be empty already
    batch = _Batch(project)
    for number, table, row in _lines(handle, report):
        if table not in allowed:
            report.problems.append(f"line {number}: unknown table {table!r}")
            continue
        extra = set(row) - columns_of[table]
        if extra:
            report.problems.append(f"line {number}: {table} has no column(s) {', '.join(sorted(extra))}")
            continue
        row = {k: _in_value(v) for k, v in row.items()}
        for name in _decoded_columns(table):
            if name in row and (row[name] is not None or table in _ENCODE):
                row[name] = _ENCODE.get(table, _encode_record_column)(row[name])
        record = None
        if table in type_of:
            try:
                record = from_row(RECORD_TYPES[type_of[table]], row)
                check_writable(record)
            except Exception as exc:  # cattrs/attrs raise many kinds; all mean a bad record
                report.problems.append(f"line {number}: invalid {type_of[table]}: {error_reason(exc)}")
                continue
        columns = tuple(sorted(row))
        try:
            if table not in cleared:
                batch.flush()
                dump.clear(table)
                cleared.add(table)
            batch.add(table, columns, [row[c] for c in columns], record)
        except errors("Error") as exc:  # duplicate ids and the like
            report.problems.append(f"cannot restore {batch.table} (near line {number}): {exc}")
            return
        report.count(f"{table} rows")
    try:
        batch.flush()
    except errors("Error") as exc:
        report.problems.append(f"cannot restore {batch.table}: {exc}")
        return
    if not report.problems:
        bad = dump.broken_references()
        if bad:
            report.problems.append(f"{len(bad)} row(s) refer to records missing from the backup "
                                   f"(first: {bad[0][0]} row {bad[0][1]})")


def _encode_record_column(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)  # as convert.to_row writes it


# the JSON text other tables hold, written exactly as project.py writes it
_ENCODE = {
    "settings": json.dumps,
    "revisions": lambda value: json.dumps(value, ensure_ascii=False),
}
