"""The store: the project's one database connection and every statement run on it.

Nothing outside ``fieldkit.store`` writes SQL against fieldkit's tables. ``Store`` holds
the generic operations on records (insert, update with its revision, tombstone, get,
select, count, history, search), settings and the audit log; the queries of one concern
live in a module of their own, reached through an attribute of the store:

* ``store.coding`` (:mod:`fieldkit.store.coding`): the codebook tree and coding analysis;
* ``store.turns`` (:mod:`fieldkit.store.turns`): speaker turns in transcript bodies;
* ``store.consent``, ``store.anonymisation``, ``store.erasure``
  (:mod:`fieldkit.store.privacy`): consent events, the anonymisation tables, withdrawal;
* ``store.dump`` (:mod:`fieldkit.store.dump`): whole tables, for the JSONL backup.

Rows become records (and records rows) only through ``fieldkit.core.convert``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional, Sequence

from fieldkit.core import records
from fieldkit.core.errors import FieldkitError, NotFound, Refused
from fieldkit.store.connection import DB_NAME, errors
from fieldkit.store.schema import INDEX_SUFFIXES, SEARCH_DEFERRED, SEARCHABLE, TABLES, TEXT_START

if TYPE_CHECKING:  # annotations only: each part is imported when first used
    import sqlite_utils

    from fieldkit.core.searchquery import SearchQuery

    from fieldkit.store.coding import CodingQueries
    from fieldkit.store.dump import Dump
    from fieldkit.store.exchange import ExchangeTables
    from fieldkit.store.lifecycle import LifecycleTables
    from fieldkit.store.privacy import AnonymisationTables, ConsentQueries, Erasure
    from fieldkit.store.turns import TurnQueries

#: rows written per statement by ``insert``
BATCH_SIZE = 1000
#: conditions ``select`` understands besides a column name (see ``Store.select``)
SPECIAL = ("tag", "not_tag", "about", "coded_with", "since", "until", "after", "human", "has_span")
_TYPE_OF = {table: type_name for type_name, table in TABLES.items()}


#: what ``order_by="when"`` sorts by: when it happened, else when it was written down
_WHEN = {"observations": "coalesce([observed_at], [created_at])", "encounters": "coalesce([start], [created_at])",
         "consent_events": "[at]"}


def _now() -> str:
    from fieldkit.core.convert import iso

    return iso(dt.datetime.now(dt.timezone.utc))


def _marks(values) -> str:
    return ",".join("?" * len(values))


class Store:
    """The project database behind one connection (see the module notes)."""

    def __init__(self, conn, path: Optional[Path] = None, *, author: Callable[[], str] = lambda: "unknown",
                 opened: Optional[tuple] = None):
        self.conn = conn
        self.path = Path(path) if path else None
        #: the identity of the database file this connection opened (``fieldkit.store.lock``):
        #: a write refuses once encrypt or decrypt has replaced that file
        self.opened = opened
        self._lock = contextlib.nullcontext()
        if self.path is not None:
            from fieldkit.store.lock import WriterLock, identity

            if opened is None:
                self.opened = identity(self.path / DB_NAME)
            self._lock = WriterLock(self.path, self.opened, DB_NAME)
        #: who writes: revisions and audit lines are signed with ``author()``
        self.author = author
        self._columns: dict[str, tuple] = {}

    def close(self) -> None:
        self.conn.close()

    @property
    def read_only(self) -> bool:
        """Whether this project can only be read (its database or folder is not writable)."""
        from fieldkit.store.connection import DB_NAME, writable

        return self.path is not None and not writable(self.path / DB_NAME)
        if hasattr(self._lock, "close"):
            self._lock.close()

    @functools.cached_property
    def db(self) -> "sqlite_utils.Database":
        """A sqlite-utils ``Database`` on the same connection (for migrations and scripts)."""
        from fieldkit.store.connection import database

        return database(self.conn)

    @functools.cached_property
    def coding(self) -> "CodingQueries":
        from fieldkit.store.coding import CodingQueries

        return CodingQueries(self)

    @functools.cached_property
    def consent(self) -> "ConsentQueries":
        from fieldkit.store.privacy import ConsentQueries

        return ConsentQueries(self)

    @functools.cached_property
    def anonymisation(self) -> "AnonymisationTables":
        from fieldkit.store.privacy import AnonymisationTables

        return AnonymisationTables(self)

    @functools.cached_property
    def erasure(self) -> "Erasure":
        from fieldkit.store.privacy import Erasure

        return Erasure(self)

    @functools.cached_property
    def lifecycle(self) -> "LifecycleTables":
        from fieldkit.store.lifecycle import LifecycleTables

        return LifecycleTables(self)

    @functools.cached_property
    def turns(self) -> "TurnQueries":
        from fieldkit.store.turns import TurnQueries

        return TurnQueries(self)

    @functools.cached_property
    def exchange(self) -> "ExchangeTables":
        from fieldkit.store.exchange import ExchangeTables

        return ExchangeTables(self)

    @functools.cached_property
    def dump(self) -> "Dump":
        from fieldkit.store.dump import Dump

        return Dump(self)

    # plumbing ---------------------------------------------------------------------------
    @functools.cached_property
    def max_variables(self) -> int:
        """How many ``?`` one statement may hold on this connection: as SQLite says (Python
        3.11 and later), else 999, the smallest limit any build of SQLite has had."""
        getlimit = getattr(self.conn, "getlimit", None)  # not on SQLCipher's connections either
        return getlimit(9) if getlimit is not None else 999  # 9: SQLITE_LIMIT_VARIABLE_NUMBER

    def rows(self, sql: str, args: Sequence[Any] = ()) -> Iterator[dict]:
        """Rows of one of the store's own statements, as dicts."""
        cursor = self.conn.execute(sql, args)
        keys = [d[0] for d in cursor.description]
        for row in cursor:
            yield dict(zip(keys, row))

    def columns(self, table: str) -> tuple:
        """The columns of a table, as the database has them (read once per store)."""
        found = self._columns.get(table)
        if found is None:
            found = tuple(r[1] for r in self.conn.execute(f"pragma table_info([{table}])"))
            if not found:
                raise FieldkitError(f"the project database has no table {table}")
            self._columns[table] = found
        return found

    @contextlib.contextmanager
    def transaction(self) -> Iterator["Store"]:
        """One write transaction, taken with BEGIN IMMEDIATE so concurrent writers queue.

        Nested, it is a savepoint: an error rolls back the inner block only."""
        conn = self.conn
        if conn.in_transaction:
            conn.execute("SAVEPOINT fieldkit")
            try:
                yield self
            except BaseException:
                conn.execute("ROLLBACK TO fieldkit")
                conn.execute("RELEASE fieldkit")
                raise
            conn.execute("RELEASE fieldkit")
            return
        with self._lock:  # the project lock, shared (see fieldkit.store.lock)
            try:
                conn.execute("BEGIN IMMEDIATE")
            except errors("OperationalError") as exc:
                raise self._db_error(exc) from None
            try:
                yield self
            except errors("OperationalError") as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if "readonly" in str(exc):
                    raise self._db_error(exc) from None
                raise
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            else:
                try:
                    conn.execute("COMMIT")
                except errors("OperationalError") as exc:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise self._db_error(exc) from None

    @contextlib.contextmanager
    def snapshot(self) -> Iterator["Store"]:
        """Read from one consistent state of the database (a WAL read transaction)."""
        conn = self.conn
        if conn.in_transaction:
            yield self
            return
        conn.execute("BEGIN")
        try:
            yield self
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")

    def _db_error(self, exc) -> FieldkitError:
        text, where = str(exc), self.path or "the project"
        if "readonly" in text or "read-only" in text:
            return FieldkitError(f"the project at {where} is read-only; nothing was written")
        if "locked" in text or "busy" in text:
            return FieldkitError(f"the project at {where} is busy (locked by another program); try again")
        return FieldkitError(f"database error in {where}: {text}")

    # settings and the audit log -----------------------------------------------------------
    def setting(self, key: str, default: Any = None) -> Any:
        """The stored value of a setting (JSON), or ``default`` when it was never set."""
        row = self.conn.execute("select value from settings where key = ?", [key]).fetchone()
        return default if row is None else json.loads(row[0])

    def settings(self) -> dict:
        """Every stored setting."""
        return {key: json.loads(value) for key, value in self.conn.execute("select key, value from settings")}

    def set_setting(self, key: str, value: Any) -> None:
        self.conn.execute(
            "insert into settings (key, value) values (?, ?) on conflict(key) do update set value = excluded.value",
            [key, json.dumps(value)],
        )

    def audit(self, action: str, record_type: str, record_id: str, detail: str = "") -> None:
        """Add a line to the audit log (never content: what happened, to which id, why)."""
        self.conn.execute(
            "insert into audit (at, author, action, record_type, record_id, detail) values (?, ?, ?, ?, ?, ?)",
            [_now(), self.author(), action, record_type, record_id, detail],
        )

    def audit_log(self, limit: int = 100) -> list[dict]:
        """The newest audit lines first."""
        return list(self.rows("select * from audit order by id desc limit ?", [limit]))

    # writing records ------------------------------------------------------------------------
    def insert(self, items: Iterable, *, batch_size: int = BATCH_SIZE,
               written: Optional[Callable[[list], None]] = None) -> int:
        """Write new records, ``batch_size`` rows per statement; returns how many.

        The one write path for a single record and for thousands. Rows of a searchable table
        are indexed a batch at a time (one ``INSERT ... SELECT`` per batch instead of the
        insert trigger per row). ``written(records)`` runs after each batch is in the table.
        Call it inside a transaction; a failure leaves the caller to roll back.
        """
        from fieldkit.core.convert import to_row

        pending: dict[str, list] = {}  # table -> [(record, row values)], in first-seen order
        columns: dict[str, tuple] = {}
        count = 0
        for record in items:
            table = TABLES[record.type_name]
            row = to_row(record)
            batch = pending.get(table)
            if batch is None:
                columns[table] = tuple(row)
                batch = pending[table] = []
            batch.append((record, tuple(row.values())))
            count += 1
            if count % batch_size == 0:
                self._write_batches(pending, columns, written)
        self._write_batches(pending, columns, written)
        return count

    def _write_batches(self, pending: dict, columns: dict, written) -> None:
        for table, batch in pending.items():
            if not batch:
                continue
            try:
                self._insert_rows(table, columns[table], [values for _, values in batch])
            except errors("IntegrityError") as exc:
                raise _integrity_error(exc, table, [record for record, _ in batch]) from None
            if written is not None:
                written([record for record, _ in batch])
            batch.clear()

    def _insert_rows(self, table: str, columns: tuple, rows: list) -> None:
        """Value rows written with multi-row statements; a searchable table's new rows indexed
        with one statement per index."""
        conn = self.conn
        indexed = SEARCHABLE.get(_TYPE_OF.get(table))
        last = conn.execute(f"select max(rowid) from [{table}]").fetchone()[0] if indexed and len(rows) > 1 else None
        # a single row is left to the trigger; so are rows near the largest rowid, where SQLite
        # picks new rowids at random rather than after the last
        if not indexed or len(rows) == 1 or (last or 0) >= 2**62:
            self._insert_values(table, columns, rows)
            return
        listed = ", ".join(f"[{c}]" for c in indexed)
        conn.execute("savepoint fieldkit_insert")
        try:
            conn.execute(f"insert into [{SEARCH_DEFERRED}] (id) values (1)")
            self._insert_values(table, columns, rows)
            for suffix in INDEX_SUFFIXES:
                conn.execute(f"insert into [{table}{suffix}] (rowid, {listed}) select rowid, {listed} from [{table}] "
                             f"where rowid > ?", [last or 0])
            conn.execute(f"delete from [{SEARCH_DEFERRED}]")
        except BaseException:
            conn.execute("rollback to fieldkit_insert")
            conn.execute("release fieldkit_insert")
            raise
        conn.execute("release fieldkit_insert")

    def _insert_values(self, table: str, columns: tuple, rows: list) -> None:
        """``insert ... values (...), (...), ...``: many rows per statement. A statement that
        fires triggers (or checks foreign keys) journals the pages it changes so that it can
        be undone alone; one row per statement would pay that for every row."""
        from itertools import chain

        conn = self.conn
        head = f"insert into [{table}] ({', '.join(f'[{c}]' for c in columns)}) values "
        one = f"({_marks(columns)})"
        per = max(1, self.max_variables // len(columns))
        for at in range(0, len(rows), per):
            chunk = rows[at:at + per]
            conn.execute(head + ",".join([one] * len(chunk)), list(chain.from_iterable(chunk)))

    def insert_rows(self, table: str, columns: tuple, rows: list) -> None:
        """Write rows exactly as given (a backup being restored), batch-indexed like ``insert``."""
        self._insert_rows(table, tuple(columns), rows)

    def update(self, old: records.Record, new: records.Record, *, reason: str) -> None:
        """Write ``new`` over ``old`` (same id), keeping ``old`` as a revision, and audit it."""
        from fieldkit.core.convert import to_json, to_row

        table = TABLES[old.type_name]
        version = self.conn.execute(f"select version from [{table}] where id = ?", [old.id]).fetchone()[0] or 1
        now = _now()
        self.conn.execute(
            "insert into revisions (record_type, record_id, version, data, author, at, reason) "
            "values (?, ?, ?, ?, ?, ?, ?)",
            [old.type_name, old.id, version, json.dumps(to_json(old), ensure_ascii=False), self.author(), now,
             reason],
        )
        row = to_row(new)
        row.update(version=version + 1, updated_at=now)
        row.pop("id")
        try:
            self.conn.execute(f"update [{table}] set {', '.join(f'[{c}] = ?' for c in row)} where id = ?",
                              [*row.values(), old.id])
        except errors("IntegrityError") as exc:
            raise _integrity_error(exc, table, [new]) from None
        self.audit("update", old.type_name, old.id, reason)

    def keep_revision(self, record: records.Record, *, reason: str) -> None:
        """Keep ``record`` in the history of the stored record with its id, leaving that one current
        (a merge keeps the other side of a conflict this way)."""
        from fieldkit.core.convert import to_json

        table = TABLES[record.type_name]
        version = self.conn.execute(f"select version from [{table}] where id = ?", [record.id]).fetchone()[0] or 1
        self.conn.execute(
            "insert into revisions (record_type, record_id, version, data, author, at, reason) "
            "values (?, ?, ?, ?, ?, ?, ?)",
            [record.type_name, record.id, version, json.dumps(to_json(record), ensure_ascii=False), self.author(),
             _now(), reason],
        )
        self.audit("keep version", record.type_name, record.id, reason)

    def ids_present(self, type_name: str, ids: Iterable[str]) -> set:
        """Those of ``ids`` that are stored as records of ``type_name`` (deleted ones too)."""
        table = TABLES[type_name]
        ids = list(ids)
        found: set = set()
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            found.update(row[0] for row in self.conn.execute(
                f"select id from [{table}] where id in ({_marks(chunk)})", chunk))
        return found

    def tombstone(self, record: records.Record, *, reason: str = "") -> None:
        """Mark a record deleted: it leaves lists and searches but stays in the database."""
        self.conn.execute(f"update [{TABLES[record.type_name]}] set deleted_at = ? where id = ?", [_now(), record.id])
        self.audit("delete", record.type_name, record.id, reason)

    def untombstone(self, record: records.Record, *, reason: str = "") -> None:
        self.conn.execute(f"update [{TABLES[record.type_name]}] set deleted_at = null where id = ?", [record.id])
        self.audit("undelete", record.type_name, record.id, reason)

    # reading records --------------------------------------------------------------------------
    def find_type(self, record_id: str) -> Optional[str]:
        """The type name of the record with this exact id, or None."""
        for type_name, table in TABLES.items():
            if self.conn.execute(f"select 1 from [{table}] where id = ?", [record_id]).fetchone():
                return type_name
        return None

    def get(self, type_name: str, record_id: str) -> Optional[tuple]:
        """``(record, deleted_at)`` for an id, or None when there is none."""
        from fieldkit.core.convert import from_row

        row = next(self.rows(f"select * from [{TABLES[type_name]}] where id = ?", [record_id]), None)
        if row is None:
            return None
        return from_row(records.RECORD_TYPES[type_name], row), row["deleted_at"]

    def ids_named(self, type_name: str, column: str, value: str) -> list[str]:
        """Ids of live records whose ``column`` equals ``value``, ignoring case."""
        self._check_columns(TABLES[type_name], [column])
        return [r[0] for r in self.conn.execute(
            f"select id from [{TABLES[type_name]}] where [{column}] = ? collate nocase and deleted_at is null",
            [value])]

    def ids_around(self, type_name: str, fragment: str) -> list[str]:
        """Ids (live or not) that end or start with ``fragment``."""
        return [r[0] for r in self.conn.execute(
            f"select id from [{TABLES[type_name]}] where id like ? or id like ?", [f"%{fragment}", f"{fragment}%"])]

    def values_starting(self, type_name: str, column: str, prefix: str) -> list[str]:
        """Every value of ``column`` starting with ``prefix`` (deleted records too)."""
        self._check_columns(TABLES[type_name], [column])
        return [r[0] for r in self.conn.execute(
            f"select [{column}] from [{TABLES[type_name]}] where [{column}] like ?", [f"{prefix}%"])]

    def select(self, type_name: str, *, order_by: str = "id", limit: Optional[int] = None, include_deleted: bool = False,
               **conditions) -> list:
        """Records of one type meeting every condition, in ``order_by`` order.

        A condition is a column name with a value (``None`` matches null, a list, tuple or set
        any of its values) or one of: ``tag`` (a tag or tags, all present), ``not_tag`` (none
        of these tags), ``about``
        (``(participant id, code)``: mentioned, or taking part in the record's encounter),
        ``coded_with`` (code ids, any of them in a live coding), ``since``/``until``
        (datetimes, on ``observed_at`` or ``created_at``), ``after`` (ids above this one, for
        paging), ``human`` (codings by people, or with False by auto-coders) and ``has_span``.
        ``order_by`` names columns (``"at, id"``; ``desc`` after a name reverses it); ``when``
        is the time a record is about (an observation's observed time, else its creation).
        """
        from fieldkit.core.convert import from_row

        sql, args = self._select_sql(type_name, "*", conditions, include_deleted, order_by, limit)
        cls = records.RECORD_TYPES[type_name]
        return [from_row(cls, row) for row in self.rows(sql, args)]

    def count(self, type_name: str, *, include_deleted: bool = False, **conditions) -> int:
        """How many records ``select`` would give."""
        sql, args = self._select_sql(type_name, "count(*)", conditions, include_deleted, None, None)
        return self.conn.execute(sql, args).fetchone()[0]

    def _select_sql(self, type_name: str, what: str, conditions: dict, include_deleted: bool, order_by,
                    limit) -> tuple[str, list]:
        if type_name not in TABLES:
            raise FieldkitError(f"unknown record type '{type_name}'; choose from {', '.join(TABLES)}")
        table = TABLES[type_name]
        clauses, args = self.where(type_name, conditions)
        if not include_deleted:
            clauses.append("deleted_at is null")
        sql = f"select {what} from [{table}]"
        if clauses:
            sql += " where " + " and ".join(clauses)
        if order_by:
            sql += " order by " + self._order(table, order_by)
        if limit:
            sql += f" limit {int(limit)}"
        return sql, args

    def _order(self, table: str, order_by) -> str:
        parts = []
        for item in (order_by.split(",") if isinstance(order_by, str) else order_by):
            name, _, direction = item.strip().partition(" ")
            direction = direction.strip().lower()
            if direction not in ("", "asc", "desc"):
                raise FieldkitError(f"cannot order by {item.strip()!r}")
            if name == "when":  # the time a record is about, as since/until read it
                column = _WHEN.get(table, "[created_at]")
            else:
                self._check_columns(table, [name])
                column = f"[{name}]"
            parts.append(column + (" desc" if direction == "desc" else ""))
        return ", ".join(parts)

    def _check_columns(self, table: str, names) -> None:
        known = self.columns(table)
        unknown = [n for n in names if n not in known]
        if unknown:
            raise FieldkitError(f"{table} has no column {unknown[0]!r}")

    def where(self, type_name: str, conditions: dict) -> tuple[list, list]:
        """SQL conditions and their arguments for ``select``'s keyword conditions."""
        table = TABLES[type_name]
        clauses: list = []
        args: list = []
        for key, value in conditions.items():
            if key == "tag":
                for tag in ((value,) if isinstance(value, str) else value):
                    clauses.append("exists (select 1 from json_each(tags) where value = ?)")
                    args.append(tag)
            elif key == "not_tag":
                for tag in ((value,) if isinstance(value, str) else value):
                    clauses.append("not exists (select 1 from json_each(tags) where value = ?)")
                    args.append(tag)
            elif key == "about":
                if type_name not in ("observation", "memo", "encounter"):
                    self._check_columns(table, ["participant_id"])
                pid, code = value
                clauses.append(_about(type_name))
                args += {"observation": [code, pid, pid], "memo": [code], "encounter": [pid]}.get(type_name, [pid])
            elif key == "coded_with":
                ids = list(value)
                clauses.append(f"id in (select record_id from codings where deleted_at is null "
                               f"and code_id in ({_marks(ids)}))")
                args += ids
            elif key == "coded_with_all":
                for ids in value:
                    clauses.append(f"id in (select record_id from codings where deleted_at is null "
                                   f"and code_id in ({_marks(ids)}))")
                    args += list(ids)
            elif key == "about_any":
                clauses.append("(" + " or ".join([_about(type_name)] * len(value)) + ")")
                for pid, code in value:
                    args += {"observation": [code, pid, pid], "memo": [code], "encounter": [pid]}.get(type_name, [pid])
            elif key == "at_site":
                self._check_columns(table, ["encounter_id"])
                clauses.append("encounter_id in (select id from encounters where site_id = ?)")
                args.append(value)
            elif key == "speaker":
                # a turn stored as data (imported transcripts), or a paragraph of the text
                # that is a turn: "[00:01:02] P03: ..." or "P03: ..."
                self._check_columns(table, ["body"])
                pid, code = value
                clauses.append("(id in (select record_id from turns where speaker_id = ?) "
                               "or substr(body, 1, length(?) + 1) = ? || ':' or instr(body, char(10) || ? || ':') > 0 "
                               "or instr(body, '] ' || ? || ':') > 0)")
                args += [pid, *[code] * 4]
            elif key in ("since", "until"):
                from fieldkit.core.convert import iso

                column = "coalesce(observed_at, created_at)" if type_name == "observation" else "created_at"
                clauses.append(f"{column} {'>=' if key == 'since' else '<='} ?")
                args.append(iso(value))
            elif key == "after":
                clauses.append("id > ?")
                args.append(value)
            elif key == "human":
                clauses.append(HUMAN_CODER if value else f"not {HUMAN_CODER}")
            elif key == "has_span":
                clauses.append("start is not null" if value else "start is null")
            else:
                self._check_columns(table, [key])
                if value is None:
                    clauses.append(f"[{key}] is null")
                elif isinstance(value, (list, tuple, set, frozenset)):
                    values = list(value)
                    clauses.append(f"[{key}] in ({_marks(values)})" if values else "0")
                    args += values
                else:
                    clauses.append(f"[{key}] = ?")
                    args.append(value)
        return clauses, args

    def has_text(self, type_name: str, body: str, **conditions: Any) -> bool:
        """Whether a live record of the type has exactly this body (and the conditions);
        looked up through the index of body starts."""
        table = TABLES[type_name]
        clauses, args = self.where(type_name, conditions)
        # the index is named, as the planner would otherwise walk every note of an encounter
        # (or of none); "+body" keeps SQLite from putting the text into the indexed expression
        sql = (f"select 1 from [{table}] indexed by [idx_{table}_body_start] where substr(body, 1, {TEXT_START}) = ? "
               f"and +body = ? and deleted_at is null{''.join(f' and {c}' for c in clauses)} limit 1")
        return self.conn.execute(sql, [body[:TEXT_START], body, *args]).fetchone() is not None

    def bodies(self, type_name: str) -> Iterator[str]:
        """The bodies of the live records of a type with a body, streamed in table order."""
        self._check_columns(TABLES[type_name], ["body"])
        for (body,) in self.conn.execute(f"select body from [{TABLES[type_name]}] where deleted_at is null"):
            yield body

    def encounter_of(self, observation_id: str) -> Optional[str]:
        """The encounter id of an observation (None if it has none or there is no such id)."""
        row = self.conn.execute("select encounter_id from observations where id = ?", [observation_id]).fetchone()
        return row[0] if row else None

    def history(self, record_id: str) -> list[dict]:
        """The stored earlier versions of a record, oldest first (``data`` decoded)."""
        found = []
        for row in self.rows("select * from revisions where record_id = ? order by version", [record_id]):
            row["data"] = json.loads(row["data"])
            found.append(row)
        return found

    def expanded_jottings(self) -> set[str]:
        """Ids of the jottings a live fieldnote expands (its ``derived_from``)."""
        return {row[0] for row in self.conn.execute(
            "select value from observations, json_each(observations.derived_from) "
            "where observations.stage = 'fieldnote' and observations.deleted_at is null")}

    def search(self, type_name: str, query: "SearchQuery | str", *, limit: int, conditions: dict) -> list[tuple]:
        """``(record, snippet, rank)`` for a parsed search (or an FTS5 expression) over one
        searchable type, best first."""
        from fieldkit.store.search import search

        return search(self, type_name, query, limit=limit, conditions=conditions)


#: codings by people: coder names not starting with "auto:" (a range test, which SQLite
#: evaluates much faster than LIKE over many rows)
HUMAN_CODER = "(coder < 'auto:' or coder >= 'auto;')"


def _about(type_name: str) -> str:
    """The condition for records about a participant (arguments as ``where`` adds them)."""
    mentioned = "exists (select 1 from json_each(mentions) where value = ? collate nocase)"
    took_part = ("exists (select 1 from json_each(participants) j "
                 "where json_extract(j.value, '$.participant_id') = ?)")
    if type_name == "observation":
        return (f"({mentioned} or exists (select 1 from json_each(links) where value = ?) "
                f"or encounter_id in (select e.id from encounters e, json_each(e.participants) j "
                f"where json_extract(j.value, '$.participant_id') = ?))")
    if type_name == "memo":
        return mentioned
    if type_name == "encounter":
        return took_part
    return "participant_id = ?"


def _integrity_error(exc, table: str, written: list) -> FieldkitError:
    """The one line for a failed write: one record is named; a batch names only the type, as
    ``executemany`` does not say which row failed."""
    type_name = _TYPE_OF.get(table, table)
    if len(written) == 1:
        record = written[0]
        what = getattr(record, "code", None) or getattr(record, "name", None) or record.id
        article = "an" if type_name[0] in "aeiou" else "a"
        existing, subject, after = f"{article} {type_name} '{what}'", type_name, ""
    else:
        subject = f"{'an' if type_name[0] in 'aeiou' else 'a'} {type_name} in this import"
        existing, after = subject, "; nothing was imported"
    text = str(exc)
    if "UNIQUE" in text:
        return Refused(f"{existing} already exists{after}")
    if "FOREIGN KEY" in text:
        return NotFound(f"{subject} refers to a record that does not exist{after}")
    return FieldkitError(f"cannot save {subject}: {text}{after}")
