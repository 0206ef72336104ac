"""Encryption at rest with SQLCipher (the optional ``encrypt`` extra).

The passphrase comes from the caller, else ``FIELDKIT_PASSPHRASE``, else the system keyring
(service ``fieldkit``, user = the project's absolute path) when ``keyring`` is installed.
Converting copies every page with ``sqlcipher_export`` into a new file, checks it, then
swaps it in with ``os.replace``: the original stays intact until the copy is known good.
The project lock (``fieldkit.store.lock``) is held alone meanwhile, so no write is lost.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

from fieldkit.core.errors import FieldkitError, Refused
from fieldkit.store.connection import DB_NAME, is_encrypted

KEYRING_SERVICE = "fieldkit"


def stored_passphrase(project_path: Union[str, os.PathLike[str]]) -> Optional[str]:
    """The passphrase from FIELDKIT_PASSPHRASE or the system keyring, if either has one."""
    env = os.environ.get("FIELDKIT_PASSPHRASE")
    if env:
        return env
    try:
        import keyring
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, str(Path(project_path).resolve()))
    except Exception:  # no keyring backend on this machine
        return None


def remember_passphrase(project_path: Union[str, os.PathLike[str]], passphrase: str) -> None:
    """Store the passphrase in the system keyring so commands need not ask for it."""
    try:
        import keyring

        keyring.set_password(KEYRING_SERVICE, str(Path(project_path).resolve()), passphrase)
    except Exception as exc:
        raise FieldkitError(f"cannot use the system keyring: {exc}") from None


def _sqlcipher():
    try:
        import sqlcipher3
    except ImportError:
        from fieldkit.core.errors import MissingExtra

        raise MissingExtra("encryption needs the extra: pip install 'fieldkit[encrypt]'") from None
    return sqlcipher3


def _convert(project_path: Path, *, old_key: Optional[str], new_key: Optional[str]) -> None:
    """Copy the database into ``.fieldkit.db.converting`` under ``new_key``, check it, swap it in.

    The project lock is held alone throughout (``fieldkit.store.lock``): writes in progress
    finish first, and writers that wait meanwhile find the file replaced and fail cleanly
    instead of committing into the old file."""
    from fieldkit.store.lock import exclusive

    sqlcipher3 = _sqlcipher()
    with exclusive(project_path):
        _convert_locked(sqlcipher3, project_path, old_key=old_key, new_key=new_key)


def _convert_locked(sqlcipher3, project_path: Path, *, old_key: Optional[str], new_key: Optional[str]) -> None:
    from fieldkit.store.connection import _cipher_connect, _quote, create_private_file

    db_path = project_path / DB_NAME
    tmp = converting_path(project_path)
    if tmp.exists():
        tmp.unlink()
    def connect():
        return _cipher_connect(db_path, old_key) if old_key else sqlcipher3.connect(str(db_path), timeout=60)

    # One connection holds the write lock so nobody writes while another copies every page.
    guard, source = connect(), connect()
    try:
        guard.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        guard.execute("BEGIN IMMEDIATE")
        create_private_file(tmp)
        source.execute(f"ATTACH DATABASE ? AS converted KEY {_quote(new_key or '')}", [str(tmp)])
        source.execute("SELECT sqlcipher_export('converted')")
        version = source.execute("PRAGMA user_version").fetchone()[0]
        source.execute(f"PRAGMA converted.user_version = {int(version)}")
        source.execute("DETACH DATABASE converted")
        check = _cipher_connect(tmp, new_key) if new_key else sqlcipher3.connect(str(tmp))
        try:
            if check.execute("pragma integrity_check").fetchone()[0] != "ok":
                raise FieldkitError("the converted copy failed its integrity check; the project is unchanged")
            check.execute("PRAGMA journal_mode = WAL")
        finally:
            check.close()
        source.close()
        os.replace(tmp, db_path)
        for suffix in ("-wal", "-shm"):
            side = project_path / f"{DB_NAME}{suffix}"
            if side.exists():
                side.unlink()
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise
    finally:
        source.close()
        guard.close()


def converting_path(project_path: Union[str, os.PathLike[str]]) -> Path:
    """Where a conversion writes its copy: a leftover one (a killed ``decrypt``) is plaintext,
    which ``fieldkit doctor`` reports and removes."""
    return Path(project_path) / f".{DB_NAME}.converting"


def encrypt(project_path: Union[str, os.PathLike[str]], passphrase: str) -> None:
    """Encrypt a plain project's database in place with ``passphrase``."""
    project_path = Path(project_path)
    if not passphrase:
        raise FieldkitError("an empty passphrase cannot encrypt anything")
    if is_encrypted(project_path / DB_NAME):
        raise Refused("this project is already encrypted")
    _convert(project_path, old_key=None, new_key=passphrase)


def decrypt(project_path: Union[str, os.PathLike[str]], passphrase: str) -> None:
    """Turn an encrypted project back into a plain SQLite database."""
    project_path = Path(project_path)
    if not is_encrypted(project_path / DB_NAME):
        raise Refused("this project is not encrypted")
    _convert(project_path, old_key=passphrase, new_key=None)
