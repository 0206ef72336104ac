"""A fieldkit project: one directory holding ``fieldkit.db`` and its attachments.

``Project`` creates, reads, updates, tombstones, lists and searches records. Every write
runs in one ``BEGIN IMMEDIATE`` transaction, keeps the previous version in ``revisions``
and adds a line to ``audit``.
"""

from __future__ import annotations

import contextlib
import functools
import datetime as dt
import getpass
import json
import os
from pathlib import Path
from typing import Iterator, Optional

import attrs

from fieldkit.core import records
from fieldkit.core.errors import FieldkitError, NotFound, Refused
from fieldkit.store.connection import DB_NAME, SEARCHABLE, TABLES, errors, insert_sql

from fieldkit.core.settings import DEFAULTS as DEFAULT_SETTINGS


@attrs.frozen
class Revision:
    """A previous version of a record, kept when it was changed."""

    record_id: str
    record_type: str
    version: int
    data: dict
    author: str
    at: str
    reason: str


@attrs.frozen
class SearchHit:
    """One search result: the record, a snippet with ``[`` ``]`` around matches, and a rank."""

    record: object
    snippet: str
    rank: float


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def default_author() -> str:
    env = os.environ.get("FIELDKIT_AUTHOR")
    if env:
        return env
    try:
        return getpass.getuser()
    except Exception:  # no user name on some containers
        return "unknown"


def find_project(start: Optional[Path] = None) -> Path:
    """The project directory: ``FIELDKIT_PROJECT``, else walk up from ``start`` like git does."""
    env = os.environ.get("FIELDKIT_PROJECT")
    if env and start is None:
        path = Path(env).expanduser()
        if not (path / DB_NAME).exists():
            raise FieldkitError(f"FIELDKIT_PROJECT={env} is not a fieldkit project (no {DB_NAME})")
        return path
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / DB_NAME).exists():
            return folder
    raise FieldkitError(
        "no fieldkit project here or above; run 'fieldkit init DIR' or pass --project"
    )


def init(path, *, timezone: str = "Europe/London", author: str = "") -> "Project":
    """Create a new project directory (mode 0700) with an empty database (mode 0600)."""
    from fieldkit.store import connection as store
    from fieldkit.core.timeinput import check_timezone

    path = Path(path).expanduser()
    check_timezone(timezone)
    if (path / DB_NAME).exists():
        raise Refused(f"{path} already holds a fieldkit project")
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)
        db = store.connect(path / DB_NAME, create=True)
    except PermissionError:
        raise FieldkitError(f"cannot create a project in {path}: permission denied") from None
    except OSError as exc:
        raise FieldkitError(f"cannot create a project in {path}: {exc.strerror}") from None
    store.migrate(db)
    project = Project(path, db)
    with project.transaction():
        for key, value in {**DEFAULT_SETTINGS, "timezone": timezone, "author": author}.items():
            project._set_setting(key, value)
        project._audit("init", "project", "", f"created at {path.name}")
    return project


def open(path=None, *, passphrase: Optional[str] = None) -> "Project":  # noqa: A001 - as in the brief
    """Open an existing project (``path`` or discovery), migrating its schema if needed.

    An encrypted project needs ``passphrase``, else FIELDKIT_PASSPHRASE or the system keyring."""
    from fieldkit.store import connection as store

    path = Path(path).expanduser() if path else find_project()
    if not (path / DB_NAME).exists():
        if (path.name == DB_NAME) and path.exists():
            path = path.parent
        else:
            raise FieldkitError(f"{path} is not a fieldkit project (no {DB_NAME}); run 'fieldkit init {path}'")
    if passphrase is None and store.is_encrypted(path / DB_NAME):
        from fieldkit.store.encryption import stored_passphrase

        passphrase = stored_passphrase(path)
    db = store.connect(path / DB_NAME, passphrase=passphrase)
    try:
        store.migrate(db)
    except store.errors("DatabaseError") as exc:
        raise FieldkitError(f"{path / DB_NAME} is not a usable fieldkit database ({exc})") from None
    return Project(path, db)


class Project:
    """An open project. Use ``fieldkit.open`` or ``fieldkit.init`` to get one."""

    def __init__(self, path: Path, conn):
        self.path = Path(path)
        if hasattr(conn, "conn"):  # a sqlite-utils Database
            self.__dict__["db"] = conn
            conn = conn.conn
        self.conn = conn
        self.warnings: list[tuple[str, str]] = []
        self._author: Optional[str] = None

    def __repr__(self):
        return f"<Project {self.path}>"

    @functools.cached_property
    def db(self):
        """The sqlite-utils ``Database`` on the project's connection, made on first use.

        Capture writes and settings go through ``conn`` directly, so a quick jot never pays
        for importing sqlite-utils."""
        from fieldkit.store.connection import database

        return database(self.conn)

    def close(self):
        self.conn.close()

    def _query(self, sql: str, args=()) -> Iterator[dict]:
        """Rows as dicts, as ``db.query`` gives them. Every read of ``Project`` goes through
        the connection this way, so capture and search stay clear of the sqlite-utils import."""
        cursor = self.conn.execute(sql, args)
        keys = [d[0] for d in cursor.description]
        for row in cursor:
            yield dict(zip(keys, row))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # settings ---------------------------------------------------------------------------
    def setting(self, key: str, default=None):
        row = self.conn.execute("select value from settings where key = ?", [key]).fetchone()
        if row is None:
            return DEFAULT_SETTINGS.get(key, default)
        return json.loads(row[0])

    def set_setting(self, key: str, value) -> None:
        from fieldkit.core.settings import validate

        value = validate(key, value)
        with self.transaction():
            old = self.setting(key)
            self._set_setting(key, value)
            self._audit("setting", "settings", key, json.dumps({"old": old, "new": value}))

    def _set_setting(self, key, value):
        self.conn.execute(
            "insert into settings (key, value) values (?, ?) on conflict(key) do update set value = excluded.value",
            [key, json.dumps(value)],
        )

    @property
    def author(self) -> str:
        if self._author is None:
            self._author = os.environ.get("FIELDKIT_AUTHOR") or self.setting("author") or default_author()
        return self._author

    @property
    def timezone(self) -> str:
        return self.setting("timezone") or "Europe/London"

    # transactions -----------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator["Project"]:
        """One write transaction, taken with BEGIN IMMEDIATE so concurrent writers queue."""
        conn = self.conn
        if conn.in_transaction:
            with self.db.atomic():
                yield self
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except errors("OperationalError") as exc:
            raise _db_error(exc, self.path) from None
        try:
            yield self
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
                raise _db_error(exc, self.path) from None

    def _audit(self, action, record_type, record_id, detail=""):
        from fieldkit.core.convert import iso

        self.conn.execute(
            "insert into audit (at, author, action, record_type, record_id, detail) values (?, ?, ?, ?, ?, ?)",
            [iso(_now()), self.author, action, record_type, record_id, detail],
        )

    # writing ----------------------------------------------------------------------------
    def _prepare(self, record):
        """Fill the author and derive tags and mentions from Markdown bodies."""
        changes = {}
        if not record.author:
            changes["author"] = self.author
        if isinstance(record, (records.Observation, records.Memo)):
            from fieldkit.core.markdown import tags_and_mentions

            tags, mentions = tags_and_mentions(record.body)
            if tags != record.tags:
                changes["tags"] = tags
            if mentions != record.mentions:
                changes["mentions"] = mentions
        if not changes:
            return record
        # The filled fields are valid by construction (a string, tuples of strings), so a
        # copy with them set skips re-running every validator: bulk imports save ~40%.
        cls = type(record)
        prepared = object.__new__(cls)
        for name in _field_names(cls):
            object.__setattr__(prepared, name, changes[name] if name in changes else getattr(record, name))
        return prepared

    def _validate(self, record, call=None) -> list[str]:
        call = call or _hook("validate_record")
        problems = [problem for result in call(project=self, record=record) for problem in result]
        for problem in problems:
            self.warnings.append((record.id, problem))
        return problems

    def _saved(self, record, call=None):
        (call or _hook("record_saved"))(project=self, record=record)

    def add(self, record, *, reason: str = "created"):
        """Save a new record; returns it as stored (author filled, tags derived)."""
        from fieldkit.core.convert import to_row_fast

        record = self._prepare(record)
        self._check_references(record)
        self._validate(record)
        table = TABLES[record.type_name]
        with self.transaction():
            try:
                row = to_row_fast(record)
                self.conn.execute(insert_sql(table, row), list(row.values()))
            except errors("IntegrityError") as exc:
                raise _integrity_error(exc, record) from None
            self._audit("create", record.type_name, record.id, reason)
            self._saved(record)
        return record

    def add_many(self, items, *, reason: str = "bulk import", batch_size: int = 1000) -> int:
        """Save many new records in one transaction (all or nothing); returns how many.

        The same hooks run as for ``add``; a failing hook undoes the whole batch."""
        from fieldkit.core.convert import row_values, to_row

        validate, saved = _hook("validate_record"), _hook("record_saved")
        validating, watching = bool(validate.get_hookimpls()), bool(saved.get_hookimpls())
        count = 0
        with self.transaction():
            # rows waiting to be written, by table and columns (one executemany each)
            pending: dict[tuple, list] = {}
            written: list = []  # records of the batch, for record_saved once their rows exist
            for record in items:
                record = self._prepare(record)
                if validating:
                    self._validate(record, validate)
                made = row_values(record)
                if made is None:
                    row = to_row(record)
                    made = tuple(row), list(row.values())
                pending.setdefault((TABLES[record.type_name], made[0]), []).append(made[1])
                if watching:
                    written.append(record)
                count += 1
                if count % batch_size == 0:
                    self._flush(pending)
                    self._saved_all(written, saved)
            self._flush(pending)
            self._saved_all(written, saved)
            self._audit("bulk_create", "*", "", f"{reason}: {count} records")
        return count

    def _saved_all(self, written: list, saved) -> None:
        for record in written:
            self._saved(record, saved)
        written.clear()

    def _flush(self, pending):
        # Plain executemany (sqlite-utils' insert_all would re-check every value's type,
        # and the values are already in SQLite's types), with batch full-text indexing.
        from fieldkit.store.connection import insert_rows

        for (table, columns), rows in pending.items():
            if rows:
                try:
                    insert_rows(self.conn, table, columns, rows)
                except errors("IntegrityError") as exc:
                    raise _integrity_error(exc, table=table) from None
                rows.clear()

    def update(self, record, *, reason: str = ""):
        """Save a changed record, keeping the previous version in the revision history."""
        old = self.get(record.id, type_name=record.type_name)
        if isinstance(old, records.Observation) and old.stage == "jotting":
            raise Refused("jottings cannot be changed; expand them into a fieldnote instead")
        if type(record) is not type(old):
            raise Refused("a record cannot change its type")
        record = attrs.evolve(self._prepare(record), created_at=old.created_at, author=old.author)
        if record == old:
            return old
        self._check_references(record)
        self._validate(record)
        with self.transaction():
            try:
                self.replace(old, record, reason)
            except errors("IntegrityError") as exc:
                raise _integrity_error(exc, record) from None
            if getattr(old, "body", None) is not None and old.body != record.body:
                from fieldkit.coding.codings import remap_after_edit

                remap_after_edit(self, old, record)
            self._saved(record)
        return record

    def replace(self, old, new, reason: str) -> None:
        """Write ``new`` over ``old`` inside the caller's transaction, keeping ``old`` as a revision."""
        from fieldkit.core.convert import iso, to_json, to_row

        table = TABLES[old.type_name]
        version = self.conn.execute(f"select version from [{table}] where id = ?", [old.id]).fetchone()[0] or 1
        self.db["revisions"].insert(
            {"record_type": old.type_name, "record_id": old.id, "version": version,
             "data": json.dumps(to_json(old), ensure_ascii=False), "author": self.author,
             "at": iso(_now()), "reason": reason}
        )
        row = to_row(new)
        row.update(version=version + 1, updated_at=iso(_now()))
        self.db[table].update(old.id, row)
        self._audit("update", old.type_name, old.id, reason)

    def delete(self, ref, *, reason: str = "") -> object:
        """Tombstone a record: it disappears from lists but stays in the database."""
        from fieldkit.core.convert import iso

        record = self.get(ref)
        table = TABLES[record.type_name]
        with self.transaction():
            self.conn.execute(
                f"update [{table}] set deleted_at = ? where id = ?", [iso(_now()), record.id]
            )
            self._audit("delete", record.type_name, record.id, reason)
        return record

    def undelete(self, ref, *, reason: str = "") -> object:
        record = self.get(ref, include_deleted=True)
        with self.transaction():
            self.conn.execute(f"update [{TABLES[record.type_name]}] set deleted_at = null where id = ?", [record.id])
            self._audit("undelete", record.type_name, record.id, reason)
        return record

    def _check_references(self, record):
        """Refuse references to records that do not exist, with a readable message."""
        refs = []
        for name in ("encounter_id", "site_id", "participant_id", "parent_id", "code_id", "record_id", "merged_into"):
            value = getattr(record, name, None)
            if value:
                refs.append((name, value))
        for item in getattr(record, "participants", ()) or ():
            refs.append(("participant", item.participant_id))
        for ref_id in getattr(record, "derived_from", ()) or ():
            refs.append(("derived_from", ref_id))
        for name, value in refs:
            if self.find_type(value) is None:
                raise NotFound(f"{name} {value} does not exist in this project")

    # reading ----------------------------------------------------------------------------
    def find_type(self, record_id: str) -> Optional[str]:
        """The type name of the record with this exact id, or None."""
        for type_name, table in TABLES.items():
            if self.conn.execute(f"select 1 from [{table}] where id = ?", [record_id]).fetchone():
                return type_name
        return None

    def resolve(self, ref: str, type_name: Optional[str] = None) -> str:
        """Turn what a person typed (an id, a unique id suffix, P03, E12, a site or code name) into an id."""
        ref = (ref or "").strip()
        if not ref:
            raise NotFound("no record given")
        types = [type_name] if type_name else list(TABLES)
        for t in types:
            if self.conn.execute(f"select 1 from [{TABLES[t]}] where id = ?", [ref]).fetchone():
                return ref
        by_name = {"participant": "code", "encounter": "code", "site": "name", "code": "name"}
        for t in types:
            column = by_name.get(t)
            if not column:
                continue
            rows = self.conn.execute(
                f"select id from [{TABLES[t]}] where {column} = ? collate nocase and deleted_at is null", [ref]
            ).fetchall()
            if len(rows) == 1:
                return rows[0][0]
            if len(rows) > 1 and t == "code":
                from fieldkit.coding.codings import resolve_code

                return resolve_code(self, ref).id
        if "code" in types and "/" in ref:
            from fieldkit.coding.codings import resolve_code

            return resolve_code(self, ref).id
        if 6 <= len(ref) <= 40:  # an id ending or beginning (ids are 26 characters; longer text is not one)
            matches = []
            for t in types:
                matches += [r[0] for r in self.conn.execute(
                    f"select id from [{TABLES[t]}] where id like ? or id like ?",
                    [f"%{ref.upper()}", f"{ref.upper()}%"],
                ).fetchall()]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise NotFound(f"'{ref}' matches {len(matches)} records; give more of the id")
        what = type_name or "record"
        raise NotFound(f"no {what} '{ref}' in this project")

    def get(self, ref: str, *, type_name: Optional[str] = None, include_deleted: bool = False):
        """The record for an id or a name a person typed; raises NotFound."""
        from fieldkit.core.convert import from_row

        record_id = self.resolve(ref, type_name)
        found = type_name or self.find_type(record_id)
        data = next(self._query(f"select * from [{TABLES[found]}] where id = ?", [record_id]))
        if data.get("deleted_at") and not include_deleted:
            raise NotFound(f"{found} {record_id} was deleted on {data['deleted_at'][:10]}")
        return from_row(records.RECORD_TYPES[found], data)

    def list(self, type_name: str, *, where: str = "", params=(), order_by: str = "", limit: Optional[int] = None,
             include_deleted: bool = False, **filters):
        """Records of one type, oldest first. Filters: ``stage``, ``encounter``, ``tag``, ``kind``,
        ``participant``, ``since``/``until`` (datetimes, on ``observed_at`` or ``created_at``)."""
        from fieldkit.core.convert import from_row

        sql, args = self._select(type_name, where=where, params=params, order_by=order_by, limit=limit,
                                 include_deleted=include_deleted, **filters)
        cls = records.RECORD_TYPES[type_name]
        return [from_row(cls, row) for row in self._query(sql, args)]

    def _select(self, type_name: str, *, columns: str = "*", where: str = "", params=(), order_by: str = "",
                limit: Optional[int] = None, include_deleted: bool = False, **filters) -> tuple[str, list]:
        """The SQL and arguments ``list`` runs (exports run it with their own select list)."""
        if type_name not in TABLES:
            raise FieldkitError(f"unknown record type '{type_name}'; choose from {', '.join(TABLES)}")
        clauses, args = self._filters(type_name, filters)
        if where:
            clauses.append(f"({where})")
            args.extend(params)
        if not include_deleted:
            clauses.append("deleted_at is null")
        sql = f"select {columns} from [{TABLES[type_name]}]"
        if clauses:
            sql += " where " + " and ".join(clauses)
        sql += f" order by {order_by or 'id'}"
        if limit:
            sql += f" limit {int(limit)}"
        return sql, args

    def _filters(self, type_name, filters):
        from fieldkit.core.convert import iso

        clauses, args = [], []
        for key, value in filters.items():
            if value is None or value == ():
                continue
            if key in ("stage", "kind", "status", "role", "coder"):
                clauses.append(f"[{key}] = ?")
                args.append(value)
            elif key == "encounter":
                clauses.append("encounter_id = ?")
                args.append(self.resolve(value, "encounter"))
            elif key == "tag":
                clauses.append("exists (select 1 from json_each(tags) where value = ?)")
                args.append(value.lstrip("#").lower())
            elif key == "participant":
                pid = self.resolve(value, "participant")
                code = self.get(pid).code
                if type_name in ("observation", "memo"):
                    clause = "exists (select 1 from json_each(mentions) where value = ? collate nocase)"
                    args.append(code)
                    if type_name == "observation":
                        clause = f"({clause} or encounter_id in (select e.id from encounters e, json_each(e.participants) j where json_extract(j.value, '$.participant_id') = ?))"
                        args.append(pid)
                    clauses.append(clause)
                elif type_name == "encounter":
                    clauses.append("exists (select 1 from json_each(participants) j where json_extract(j.value, '$.participant_id') = ?)")
                    args.append(pid)
                else:
                    clauses.append("participant_id = ?")
                    args.append(pid)
            elif key == "code":
                from fieldkit.coding.codings import resolve_code

                clauses.append("id in (select record_id from codings where code_id = ? and deleted_at is null)")
                args.append(resolve_code(self, value).id)
            elif key in ("since", "until"):
                column = "coalesce(observed_at, created_at)" if type_name == "observation" else "created_at"
                clauses.append(f"{column} {'>=' if key == 'since' else '<='} ?")
                args.append(iso(value))
            else:
                raise FieldkitError(f"unknown filter '{key}' for {type_name}")
        return clauses, args

    def count(self, type_name: str) -> int:
        return self.conn.execute(f"select count(*) from [{TABLES[type_name]}] where deleted_at is null").fetchone()[0]

    def history(self, ref: str) -> list[Revision]:
        """Every earlier version of a record, oldest first (the current version is ``get``)."""
        record = self.get(ref, include_deleted=True)
        rows = self._query("select * from revisions where record_id = ? order by version", [record.id])
        return [
            Revision(r["record_id"], r["record_type"], r["version"], json.loads(r["data"]),
                     r["author"], r["at"], r["reason"])
            for r in rows
        ]

    def audit_log(self, limit: int = 100) -> list[dict]:
        return list(self._query("select * from audit order by id desc limit ?", [limit]))

    # search -----------------------------------------------------------------------------
    def search(self, query: str, *, types=("observation", "memo"), limit: int = 50, **filters) -> list[SearchHit]:
        """Full-text search (FTS5, ranked by bm25) over observation and memo bodies.

        ``query`` is taken as plain words (all must match); filters as in ``list``."""
        from fieldkit.core.convert import from_row

        words = [w for w in query.replace('"', " ").split() if w]
        if not words:
            raise FieldkitError("search needs at least one word")
        match = " ".join(f'"{w}"' for w in words)
        hits = []
        for type_name in types:
            if type_name not in SEARCHABLE:
                raise FieldkitError(f"cannot search {type_name} records; choose observation or memo")
            table = TABLES[type_name]
            clauses, args = self._filters(type_name, filters)
            where = "".join(f" and t.{c}" if c.startswith("[") else f" and {c}" for c in clauses)
            column_index = SEARCHABLE[type_name].index("body")
            sql = (
                f"select t.*, snippet([{table}_fts], {column_index}, '[', ']', '…', 12) as _snippet, "
                f"bm25([{table}_fts]) as _rank from [{table}_fts] join [{table}] t on t.rowid = [{table}_fts].rowid "
                f"where [{table}_fts] match ? and t.deleted_at is null{where} order by _rank limit ?"
            )
            try:
                rows = list(self._query(sql, [match, *args, limit]))
            except errors("OperationalError") as exc:
                raise FieldkitError(f"cannot search for {query!r}: {exc}") from None
            cls = records.RECORD_TYPES[type_name]
            hits += [SearchHit(from_row(cls, r), r["_snippet"], r["_rank"]) for r in rows]
        hits.sort(key=lambda h: h.rank)
        return hits[:limit]


@functools.lru_cache(maxsize=None)
def _field_names(cls) -> tuple:
    return tuple(f.name for f in attrs.fields(cls))


def _hook(name: str):
    """A hook's caller; the plugin manager names a failing or slow plugin and checks results."""
    from fieldkit.hooks.manager import get_plugin_manager

    return getattr(get_plugin_manager().hook, name)


def _integrity_error(exc, record=None, *, table: str = "") -> FieldkitError:
    """The one line for a failed insert of ``record``, or of a batch into ``table``: a batch
    names only the type, as executemany does not say which row failed."""
    if record is not None:
        what = getattr(record, "code", None) or getattr(record, "name", None) or record.id
        existing, subject, after = f"a {record.type_name} '{what}'", record.type_name, ""
    else:
        type_name = next(name for name, t in TABLES.items() if t == table)
        subject = f"{'an' if type_name[0] in 'aeiou' else 'a'} {type_name} in this import"
        existing, after = subject, "; nothing was imported"
    text = str(exc)
    if "UNIQUE" in text:
        return Refused(f"{existing} already exists{after}")
    if "FOREIGN KEY" in text:
        return NotFound(f"{subject} refers to a record that does not exist{after}")
    return FieldkitError(f"cannot save {subject}: {text}{after}")


def _db_error(exc, path) -> FieldkitError:
    text = str(exc)
    if "readonly" in text or "read-only" in text:
        return FieldkitError(f"the project at {path} is read-only; nothing was written")
    if "locked" in text or "busy" in text:
        return FieldkitError(f"the project at {path} is busy (locked by another program); try again")
    return FieldkitError(f"database error in {path}: {text}")
