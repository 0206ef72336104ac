"""Opening the project database: WAL, foreign keys, a busy timeout, SQLCipher when encrypted.

The schema and its migrations are in ``fieldkit.store.schema``; the statements run on the
connection are in ``fieldkit.store.store`` and the modules beside it.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Union

from fieldkit.core.errors import FieldkitError

if TYPE_CHECKING:
    import sqlite_utils

DB_NAME = "fieldkit.db"
BUSY_TIMEOUT_S = 60


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


def _looks_damaged(path: Path) -> bool:
    """A file without SQLite's header that cannot be an SQLCipher one either: too short, or
    not whole pages (SQLCipher writes pages of 512 bytes or a multiple)."""
    size = path.stat().st_size
    return size < 1024 or size % 512 != 0


def _disk_full(exc: BaseException) -> bool:
    return getattr(exc, "sqlite_errorcode", None) == 13 or "disk is full" in str(exc)


def writable(path: Path) -> bool:
    """Whether this process may change the database file and create files beside it."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _read_only_connect(path: Path) -> sqlite3.Connection:
    """A read-only connection: reading commands work on a project on read-only media or in
    a folder this user may not change; any write fails as read-only. Without write access to
    the folder SQLite cannot keep the WAL index beside the file, so the file is read as
    immutable (nobody can be writing it through this folder's permissions either)."""
    from urllib.parse import quote

    options = "mode=ro" if os.access(path.parent, os.W_OK) else "mode=ro&immutable=1"
    return sqlite3.connect(f"file:{quote(str(path))}?{options}", uri=True, timeout=BUSY_TIMEOUT_S)


def _check_fieldkit(conn, path: Path) -> None:
    """Refuse, before anything is written, a database that fieldkit did not make."""
    tables = [row[0] for row in conn.execute("select name from sqlite_master where type = 'table' order by name")]
    if not tables:
        raise FieldkitError(f"{path} is empty, not a fieldkit database; it was left unchanged "
                            "(run 'fieldkit init' in a new folder to start a project)")
    made = "_sqlite_migrations" in tables and conn.execute(
        "select 1 from _sqlite_migrations where migration_set = 'fieldkit' limit 1").fetchone()
    if not made:
        shown = ", ".join(tables[:3]) + (", …" if len(tables) > 3 else "")
        raise FieldkitError(f"{path} is an SQLite database of another program (tables {shown}), not a fieldkit "
                            "database; it was left unchanged")


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
    except sqlcipher3.DatabaseError as exc:
        conn.close()
        if _disk_full(exc):
            raise FieldkitError(f"the disk holding {path.parent} is full; free some space and try again "
                                "(nothing was changed)") from None
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
    conn = None
    try:
        if is_encrypted(path):
            if _looks_damaged(path):
                raise FieldkitError(f"{path} is neither a fieldkit database nor an encrypted one (its header is not "
                                    "SQLite's); it may be damaged: restore it from a backup. It was left unchanged")
            if not passphrase:
                raise PassphraseNeeded(f"{path} is encrypted; give the passphrase (prompt, FIELDKIT_PASSPHRASE or keyring)")
            conn = _cipher_connect(path, passphrase)
        elif not create and not writable(path):
            conn = _read_only_connect(path)
        else:
            conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S)
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        if not create:
            _check_fieldkit(conn, path)
        conn.execute("PRAGMA foreign_keys = ON")
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal":
            try:
                conn.execute("PRAGMA journal_mode = WAL")
            except errors("OperationalError"):
                pass  # read-only media: reads still work
        conn.execute("PRAGMA synchronous = NORMAL")
    except FieldkitError:
        if conn is not None:
            conn.close()
        raise
    except errors("DatabaseError") as exc:
        if conn is not None:
            conn.close()
        if _disk_full(exc):
            raise FieldkitError(f"the disk holding {path.parent} is full; free some space and try again "
                                "(nothing was changed)") from None
        raise FieldkitError(f"{path} is not a fieldkit database ({exc})") from None
    return conn


def database(conn: Union[sqlite3.Connection, sqlite_utils.Database]) -> sqlite_utils.Database:
    """The sqlite-utils ``Database`` over a connection (or the one given, if it already is one)."""
    if hasattr(conn, "conn"):
        return conn
    import sqlite_utils

    return sqlite_utils.Database(conn, execute_plugins=False)
