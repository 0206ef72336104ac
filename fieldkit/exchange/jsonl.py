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
import contextlib
import json
import sqlite3
from pathlib import Path

from fieldkit.core.errors import FieldkitError, Refused

FORMAT = 1
#: record tables, parents before children (foreign keys are also deferred on import)
RECORD_TABLE_ORDER = ("sites", "participants", "consent_events", "encounters", "codes", "observations",
                      "memos", "codings", "attachments")
_FIRST = ("settings",)
_BEFORE_LAST = ("revisions",)
_LAST = ("audit",)


def _dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def data_tables(db) -> list:
    """Every table a backup holds, in backup order (no FTS index, no migration bookkeeping)."""
    rows = db.execute("select name, sql from sqlite_master where type = 'table'").fetchall()
    virtual = [name for name, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL TABLE")]
    names = [
        name for name, _ in rows
        if not name.startswith(("sqlite_", "_sqlite_"))
        and not any(name == v or name.startswith(v + "_") for v in virtual)
    ]
    fixed = [*_FIRST, *RECORD_TABLE_ORDER, *_BEFORE_LAST]
    others = sorted(n for n in names if n not in fixed and n not in _LAST)
    return [n for n in fixed if n in names] + others + [n for n in _LAST if n in names]


def _decoded_columns(table: str) -> frozenset:
    """Columns holding JSON text that the file shows as JSON."""
    from fieldkit.core.convert import _json_columns
    from fieldkit.core.records import RECORD_TYPES
    from fieldkit.store.connection import TABLES

    by_table = {t: name for name, t in TABLES.items()}
    if table in by_table:
        return _json_columns(RECORD_TYPES[by_table[table]])
    return {"revisions": frozenset({"data"}), "settings": frozenset({"value"})}.get(table, frozenset())


def _order_by(db, table: str) -> str:
    pks = db[table].pks
    return ", ".join(f"[{c}]" for c in pks) if pks else "rowid"


def _out_value(value):
    if isinstance(value, bytes):
        return {"$base64": base64.b64encode(value).decode("ascii")}
    return value


def _in_value(value):
    if isinstance(value, dict) and set(value) == {"$base64"}:
        return base64.b64decode(value["$base64"])
    return value


def schema(db) -> list:
    return [r[0] for r in db.execute("select name from _sqlite_migrations order by id")]


@contextlib.contextmanager
def _snapshot(project):
    """Read everything from one consistent state of the database (WAL read snapshot)."""
    conn = project.db.conn
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")


def write_jsonl(project, out, *, on_row=None) -> dict:
    """Write the whole project to the text stream ``out``; returns row counts by table."""
    db = project.db
    counts = {}
    with _snapshot(project):
        out.write(_dumps({"fieldkit": "jsonl", "format": FORMAT, "schema": schema(db)}) + "\n")
        for table in data_tables(db):
            decoded = _decoded_columns(table)
            cursor = db.execute(f"select * from [{table}] order by {_order_by(db, table)}")
            columns = [d[0] for d in cursor.description]
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


def export(project, dest: Path, options):
    """The ``jsonl`` exporter: every row of the project, exactly, never anonymised."""
    from fieldkit.exchange.exporting import ExportReport, atomic_output

    if options.anonymise:
        raise Refused("jsonl is the lossless backup format: it holds every name and every identifying "
                      "detail in the notes and cannot be anonymised; pass --raw to write it anyway, "
                      "or choose an anonymised format such as csv or markdown")
    chosen = [name for name in ("encounters", "tags", "codes", "stages") if getattr(options, name)]
    if options.since or options.until:
        chosen.append("since/until")
    if set(options.types) != {"observation", "memo"}:
        chosen.append("type")
    if chosen:
        raise Refused(f"jsonl always writes the whole project; it cannot select by {', '.join(chosen)}")
    report = ExportReport(exporter="jsonl", dest=str(dest), anonymised=False)
    with atomic_output(dest, force=options.force) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as out:
            if options.progress:
                from fieldkit.exchange.exporting import progress

                total = sum(project.db.execute(f"select count(*) from [{t}]").fetchone()[0]
                            for t in data_tables(project.db))
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


def _is_empty(project) -> bool:
    from fieldkit.store.connection import TABLES

    for table in [*TABLES.values(), "revisions"]:
        if project.db.execute(f"select 1 from [{table}] limit 1").fetchone():
            return False
    return True


def load(project, source: Path, options):
    """The ``jsonl`` importer: restore a backup into an EMPTY project, same ids and history."""
    from fieldkit.exchange.importing import ImportReport, run_import

    source = Path(source)
    if not source.is_file():
        raise FieldkitError(f"no such file: {source}")
    if not _is_empty(project):
        raise Refused("jsonl import restores a whole project and needs an empty one; "
                      "run 'fieldkit init NEWDIR' and import into that")
    report = ImportReport(importer="jsonl", source=str(source))

    def work():
        with open(source, encoding="utf-8", newline="") as handle:
            _restore(project, handle, report)

    try:
        return run_import(project, report, work, dry_run=options.dry_run)
    except UnicodeDecodeError as exc:
        raise FieldkitError(f"{source} is not UTF-8 text (bad byte at position {exc.start})") from None


class _Batch:
    """Rows waiting to be inserted into one table with one statement."""

    def __init__(self, db):
        self.db = db
        self.table = None
        self.columns = None
        self.rows = []

    def add(self, table, columns, values):
        if (table, columns) != (self.table, self.columns) or len(self.rows) >= 1000:
            self.flush()
            self.table, self.columns = table, columns
        self.rows.append(values)

    def flush(self):
        if self.rows:
            from fieldkit.store.connection import insert_rows  # notes and memos are indexed a batch at a time

            insert_rows(self.db.conn, self.table, self.columns, self.rows)
            self.rows = []


def _restore(project, handle, report) -> None:
    from fieldkit.core.convert import error_reason, from_row
    from fieldkit.core.records import RECORD_TYPES
    from fieldkit.store.connection import TABLES, known_migrations

    db = project.db
    type_of = {t: name for name, t in TABLES.items()}
    first = handle.readline()
    try:
        header = json.loads(first)
    except (ValueError, RecursionError):
        header = None
    if not isinstance(header, dict) or header.get("fieldkit") != "jsonl":
        raise FieldkitError(f"{report.source} is not a fieldkit JSONL backup (no header line)")
    if header.get("format") != FORMAT:
        raise FieldkitError(f"{report.source} uses JSONL format {header.get('format')}; this fieldkit reads {FORMAT}")
    unknown = [m for m in header.get("schema", []) if m not in known_migrations()]
    if unknown:
        raise FieldkitError(f"{report.source} was written by a newer fieldkit (schema {unknown[-1]}); upgrade to import it")
    allowed = set(data_tables(db))
    columns_of = {t: set(db[t].columns_dict) for t in allowed}
    db.execute("PRAGMA defer_foreign_keys = ON")  # parents may come after children (moved codes)
    # an empty project still has rows of its own (settings, its 'init' audit line, the
    # anonymisation secret): each table the backup holds replaces them whole
    cleared = set(TABLES.values()) | {"revisions"}  # known to be empty already
    batch = _Batch(db)
    for number, line in enumerate(handle, start=2):
        if len(report.problems) >= 20:
            report.problems.append("stopped after 20 problems")
            break
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
        if table in type_of:
            try:
                from_row(RECORD_TYPES[type_of[table]], row)
            except Exception as exc:  # cattrs/attrs raise many kinds; all mean a bad record
                report.problems.append(f"line {number}: invalid {type_of[table]}: {error_reason(exc)}")
                continue
        columns = tuple(sorted(row))
        try:
            if table not in cleared:
                batch.flush()
                db.execute(f"delete from [{table}]")
                cleared.add(table)
            batch.add(table, columns, [row[c] for c in columns])
        except sqlite3.Error as exc:  # duplicate ids and the like
            report.problems.append(f"cannot restore {batch.table} (near line {number}): {exc}")
            return
        report.count(f"{table} rows")
    try:
        batch.flush()
    except sqlite3.Error as exc:
        report.problems.append(f"cannot restore {batch.table}: {exc}")
        return
    if not report.problems:
        bad = db.execute("PRAGMA foreign_key_check").fetchall()
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
