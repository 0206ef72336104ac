"""Opening the project database and keeping its schema current.

The schema is a list of ``sqlite_utils.Migrations``; each migration runs in a transaction.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

from fieldkit.core.errors import FieldkitError

DB_NAME = "fieldkit.db"
BUSY_TIMEOUT_S = 60

TABLES = {
    "site": "sites",
    "participant": "participants",
    "consent": "consent_events",
    "encounter": "encounters",
    "observation": "observations",
    "memo": "memos",
    "code": "codes",
    "coding": "codings",
    "attachment": "attachments",
}
FOREIGN_KEYS = {
    "consent": [("participant_id", "participants", "id")],
    "encounter": [("site_id", "sites", "id")],
    "observation": [("encounter_id", "encounters", "id")],
    "code": [("parent_id", "codes", "id"), ("merged_into", "codes", "id")],
    "coding": [("code_id", "codes", "id")],
}
SEARCHABLE = {"observation": ["body"], "memo": ["title", "body"]}


def insert_sql(table: str, columns) -> str:
    # Rows come from the converter, already in SQLite's types: a plain insert is all they need.
    return (f"insert into [{table}] ({', '.join(f'[{c}]' for c in columns)}) "
            f"values ({', '.join('?' * len(columns))})")


def insert_rows(conn: sqlite3.Connection, table: str, columns, rows: list) -> None:
    """Insert new rows (value sequences in ``columns`` order) with one ``executemany``,
    indexing a searchable table's new rows with one statement rather than row by row.

    The full-text insert trigger fires once per row, and FTS5 fed one row per statement is
    far slower than fed many by one statement: 100,000 observations took 7.5 s that way
    against 1.9 s for the rows plus one ``INSERT ... SELECT`` per 1,000 (measured here).
    So the trigger is dropped for the batch and made again from its own stored SQL, all
    inside a savepoint: a failure rolls back to the schema as it was, and other connections
    never see it missing. A table without that trigger is written plainly.
    """
    insert = insert_sql(table, columns)
    searched = next((cols for type_name, cols in SEARCHABLE.items() if TABLES[type_name] == table), None)
    trigger = searched and conn.execute(
        "select sql from sqlite_master where type = 'trigger' and name = ?", [f"{table}_ai"]
    ).fetchone()
    (last,) = conn.execute(f"select max(rowid) from [{table}]").fetchone() if trigger else (None,)
    if not trigger or (last or 0) >= 2**62:
        # (near the largest rowid SQLite picks new rowids at random, not above the last)
        conn.executemany(insert, rows)
        return
    indexed = ", ".join(f"[{c}]" for c in searched)
    conn.execute("savepoint fieldkit_insert_rows")
    try:
        conn.execute(f"drop trigger [{table}_ai]")
        conn.executemany(insert, rows)
        conn.execute(
            f"insert into [{table}_fts] (rowid, {indexed}) select rowid, {indexed} from [{table}] where rowid > ?",
            [last or 0],
        )
        conn.execute(trigger[0])
    except BaseException:
        conn.execute("rollback to fieldkit_insert_rows")
        conn.execute("release fieldkit_insert_rows")
        raise
    conn.execute("release fieldkit_insert_rows")


def import_sqlite_utils():
    """Import sqlite-utils without its optional pandas and numpy probes.

    sqlite-utils imports pandas and numpy when present only to recognise their value types;
    fieldkit never passes such values, and the probe costs a quick jot ~0.1 s or more.
    """
    if "sqlite_utils" in sys.modules:
        return sys.modules["sqlite_utils"]
    blocked = [name for name in ("pandas", "numpy") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # makes "import numpy" fail fast inside sqlite-utils
    try:
        import sqlite_utils
    finally:
        for name in blocked:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
    return sqlite_utils


def _migrations():
    Migrations = import_sqlite_utils().Migrations

    from fieldkit.core import convert

    from fieldkit.core import records

    migrations = Migrations("fieldkit")

    @migrations(name="0001_initial")
    def initial(db):
        for type_name, table in TABLES.items():
            cls = records.RECORD_TYPES[type_name]
            columns = convert.column_types(cls)
            columns.update({"version": int, "updated_at": str, "deleted_at": str})
            db[table].create(
                columns,
                pk="id",
                not_null={"id", "created_at"},
                foreign_keys=FOREIGN_KEYS.get(type_name, []),
                defaults={"version": 1},
            )
        db["participants"].create_index(["code"], unique=True)
        db["encounters"].create_index(["code"], unique=True)
        db["observations"].create_index(["encounter_id"])
        db["observations"].create_index(["observed_at"])
        db["codings"].create_index(["record_id"])
        db["codings"].create_index(["code_id"])
        db["codes"].create_index(["parent_id"])
        db["consent_events"].create_index(["participant_id"])
        db["revisions"].create(
            {"id": int, "record_type": str, "record_id": str, "version": int, "data": str,
             "author": str, "at": str, "reason": str},
            pk="id",
        )
        db["revisions"].create_index(["record_id"])
        db["audit"].create(
            {"id": int, "at": str, "author": str, "action": str, "record_type": str,
             "record_id": str, "detail": str},
            pk="id",
        )
        db["settings"].create({"key": str, "value": str}, pk="key")
        for type_name, columns in SEARCHABLE.items():
            db[TABLES[type_name]].enable_fts(
                columns, fts_version="FTS5", create_triggers=True, tokenize="porter unicode61 remove_diacritics 2"
            )

    @migrations(name="0002_anonymisation")
    def anonymisation(db):
        # Review decisions, added rules and the replacement log. None of them holds an
        # original in clear: spans are named by record, offsets and a keyed digest.
        import secrets

        db["anonymisation_decisions"].create(
            {"id": int, "record_id": str, "start": int, "end": int, "digest": str, "action": str,
             "kind": str, "author": str, "at": str},
            pk="id",
        )
        db["anonymisation_decisions"].create_index(["record_id"])
        db["anonymisation_rules"].create(
            {"id": int, "digest": str, "words": int, "kind": str, "author": str, "at": str}, pk="id",
        )
        db["anonymisation_rules"].create_index(["digest"], unique=True)
        db["anonymisation_log"].create(
            {"id": int, "record_id": str, "start": int, "end": int, "kind": str, "directness": str,
             "detector": str, "replacement": str, "digest": str, "action": str, "author": str, "at": str},
            pk="id",
        )
        db["anonymisation_log"].create_index(["record_id"])
        # the key for the digests above; it never leaves the project database
        db["anonymisation_secret"].create({"id": int, "secret": str}, pk="id")
        db["anonymisation_secret"].insert({"id": 1, "secret": secrets.token_hex(32)})

    return migrations


# The names of the migrations above, in order: opening a current project compares these with
# the applied ones in plain SQL, so a quick jot never imports sqlite-utils (a test keeps them equal).
MIGRATIONS = ("0001_initial", "0002_anonymisation")


def known_migrations() -> list[str]:
    return list(MIGRATIONS)


def errors(name: str) -> tuple:
    """The DB-API exception class ``name`` of every driver in use (sqlite3, and sqlcipher3 for
    encrypted projects), for ``except store.errors("IntegrityError")``."""
    found = [getattr(sqlite3, name)]
    cipher = sys.modules.get("sqlcipher3")
    if cipher is not None:
        found.append(getattr(cipher, name))
    return tuple(found)


SQLITE_HEADER = b"SQLite format 3\x00"


def is_encrypted(path: Path) -> bool:
    """A non-empty database file without SQLite's plain header is an SQLCipher one."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        return False
    return len(head) == 16 and head != SQLITE_HEADER


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _cipher_connect(path: Path, passphrase: str):
    try:
        import sqlcipher3
    except ImportError:
        from fieldkit.core.errors import MissingExtra

        raise MissingExtra("this project is encrypted; install the extra: pip install 'fieldkit[encrypt]'") from None
    conn = sqlcipher3.connect(str(path), timeout=BUSY_TIMEOUT_S)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
    except sqlcipher3.DatabaseError:
        pass
    # PRAGMA key takes no bound parameters: quote the passphrase as an SQL literal
    conn.execute(f"PRAGMA key = {_quote(passphrase)}")
    try:
        conn.execute("select count(*) from sqlite_master").fetchone()
    except sqlcipher3.DatabaseError:
        conn.close()
        raise FieldkitError(f"wrong passphrase for {path}") from None
    return conn


class PassphraseNeeded(FieldkitError):
    """The database is encrypted and no passphrase was given."""


def create_private_file(path: Path) -> None:
    """Create an empty file readable by the owner only; refuse to replace one."""
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)


def connect(path: Path, *, create: bool = False, passphrase: str | None = None) -> sqlite3.Connection:
    """A connection to the project file with WAL, foreign keys and a busy timeout.

    An encrypted (SQLCipher) file needs ``passphrase``; otherwise PassphraseNeeded is raised.
    Wrap it with :func:`database` for sqlite-utils.
    """
    if create:
        create_private_file(path)
    elif not path.exists():
        raise FieldkitError(f"no fieldkit database at {path}")
    try:
        if is_encrypted(path):
            if not passphrase:
                raise PassphraseNeeded(f"{path} is encrypted; give the passphrase (prompt, FIELDKIT_PASSPHRASE or keyring)")
            conn = _cipher_connect(path, passphrase)
        else:
            conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S)
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal":
            try:
                conn.execute("PRAGMA journal_mode = WAL")
            except errors("OperationalError"):
                pass  # read-only media: reads still work
        conn.execute("PRAGMA synchronous = NORMAL")
    except errors("DatabaseError") as exc:
        raise FieldkitError(f"{path} is not a fieldkit database ({exc})") from None
    return conn


def database(conn):
    """The sqlite-utils ``Database`` over a connection (or the one given, if it already is one)."""
    if hasattr(conn, "conn"):
        return conn
    return import_sqlite_utils().Database(conn, execute_plugins=False)


def applied_migrations(conn) -> list[str]:
    """Names of the fieldkit migrations applied to a database, in order, read in plain SQL."""
    conn = getattr(conn, "conn", conn)
    if not conn.execute("select 1 from sqlite_master where name = '_sqlite_migrations'").fetchone():
        return []
    rows = conn.execute("select name from _sqlite_migrations where migration_set = 'fieldkit' order by rowid")
    return [row[0] for row in rows]


def migrate(db) -> list[str]:
    """Apply pending migrations; refuse a database written by a newer fieldkit.

    ``db`` is a connection or a sqlite-utils ``Database``; sqlite-utils is only needed when
    something is pending."""
    applied = applied_migrations(db)
    newer = [name for name in applied if name not in MIGRATIONS]
    if newer:
        raise FieldkitError(
            f"this project was written by a newer fieldkit (schema {newer[-1]}); upgrade fieldkit to open it"
        )
    if not set(MIGRATIONS) - set(applied):
        return []
    db = database(db)
    migrations = _migrations()
    pending = [m.name for m in migrations.pending(db)]
    migrations.apply(db)
    return pending
