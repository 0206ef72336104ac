"""Looking after a project: health checks (``doctor``) and consistent backups."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from typing import Optional

import attrs

from fieldkit.core.errors import FieldkitError, Refused
from fieldkit.store.schema import SEARCHABLE, TABLES
from fieldkit.store.search import check_index, rebuild_index

SYNCED_FOLDERS = ("dropbox", "onedrive", "google drive", "googledrive", "icloud", "mobile documents", "box sync",
                  "nextcloud", "owncloud", "pcloud", "mega")


@attrs.frozen
class Finding:
    """One problem ``doctor`` found: how bad, what, and the command that fixes it."""

    level: str  # "error" or "warning"
    check: str
    message: str
    fix: str = ""


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def doctor(project) -> list[Finding]:
    """Check a project's integrity, search index, codings, permissions, attachments and key store."""
    found: list[Finding] = []
    conn = project.store.conn
    result = [r[0] for r in conn.execute("pragma integrity_check").fetchall()]
    if result != ["ok"]:
        found.append(Finding("error", "integrity", f"database integrity check failed: {'; '.join(result[:3])}",
                             "restore from a backup: fieldkit backup made one; copy it back over fieldkit.db"))
    for type_name in SEARCHABLE:
        try:
            check_index(project.store, type_name)
        except sqlite3.DatabaseError as exc:
            found.append(Finding("error", "search index",
                                 f"the {TABLES[type_name]} search index disagrees with the table ({exc})",
                                 "fieldkit doctor --fix (rebuilds the search index)"))
    orphans = conn.execute(
        "select count(*) from codings c where c.deleted_at is null and not exists "
        "(select 1 from observations where id = c.record_id) and not exists (select 1 from memos where id = c.record_id) "
        "and not exists (select 1 from encounters where id = c.record_id)"
    ).fetchone()[0]
    if orphans:
        found.append(Finding("warning", "codings", f"{orphans} coding(s) point at records that do not exist",
                             "fieldkit list coding --json (inspect), then fieldkit delete ID --reason orphan"))
    dead = conn.execute(
        "select count(*) from codings c join observations o on o.id = c.record_id "
        "where c.deleted_at is null and o.deleted_at is not null"
    ).fetchone()[0]
    if dead:
        found.append(Finding("warning", "codings", f"{dead} coding(s) belong to deleted records",
                             "fieldkit undelete the record, or delete the codings"))
    review = project.store.count("coding", status="review")
    if review:
        found.append(Finding("warning", "codings", f"{review} coding(s) lost their text in an edit and need review",
                             "fieldkit code review"))
    pending = project.store.erasure.journal_pending()
    if pending:
        found.append(Finding("error", "withdrawal",
                             f"the withdrawal of {', '.join(p['code'] for p in pending)} was interrupted "
                             "after the project was changed (the key store or attachment files are not done)",
                             "fieldkit doctor (run with the key store connected; it finishes the withdrawal)"))
    for journal in project.store.lifecycle.unfinished():
        found.append(Finding("error", "destruction",
                             f"destruction #{journal['id']} ({', '.join(journal['classes'])}) was interrupted "
                             f"({journal['state']}); what it destroys may still be in the project",
                             "fieldkit doctor --fix (finishes it)"))
    found += _records(project)
    found += _permissions(project)
    found += _attachments(project)
    found += _keystore(project)
    return found


def _records(project) -> list[Finding]:
    # a row changed behind fieldkit's back (a hand edit in another SQLite tool) may no longer
    # be a valid record; reading it would fail wherever it is read, so say so here
    from fieldkit.core.convert import error_reason, from_row
    from fieldkit.core.records import RECORD_TYPES

    found = []
    for type_name, table in TABLES.items():
        bad, first = 0, ""
        for row in project.store.rows(f"select * from [{table}]"):
            try:
                from_row(RECORD_TYPES[type_name], row)
            except Exception as exc:  # cattrs/attrs raise many kinds; all mean an invalid row
                bad += 1
                first = first or f"{row.get('id')}: {error_reason(exc)}"
        if bad:
            found.append(Finding("error", "records", f"{bad} {type_name} row(s) are not valid records (first: {first})",
                                 "restore fieldkit.db from a backup, or correct the row by hand"))
    return found


def _permissions(project) -> list[Finding]:
    out = []
    if _mode(project.path) & 0o077:
        out.append(Finding("warning", "permissions", f"{project.path} can be read by other users",
                           f"chmod 700 '{project.path}'"))
    for name in ("fieldkit.db", "fieldkit.db-wal", "fieldkit.db-shm"):
        path = project.path / name
        if path.exists() and _mode(path) & 0o077:
            out.append(Finding("warning", "permissions", f"{name} can be read by other users", f"chmod 600 '{path}'"))
    folder = project.path / "attachments"
    if folder.exists():
        loose = [p for p in folder.iterdir() if p.is_file() and _mode(p) & 0o077]
        if loose:
            out.append(Finding("warning", "permissions", f"{len(loose)} attachment file(s) can be read by other users",
                               f"chmod 600 '{folder}'/*"))
    return out


def _attachments(project) -> list[Finding]:
    from fieldkit.store.attachments import is_sha256, sha256_file

    out = []
    for row in project.store.rows("select id, sha256, filename from attachments where deleted_at is null"):
        if not is_sha256(row["sha256"]):
            out.append(Finding("error", "attachments", f"attachment {row['id']} has no valid file hash "
                               "(it names no file; it was written outside fieldkit)",
                               f"fieldkit delete {row['id']} --reason 'invalid hash'"))
            continue
        path = project.path / "attachments" / row["sha256"]
        if not path.exists():
            out.append(Finding("error", "attachments", f"attachment {row['filename']} ({row['id']}) is missing",
                               "restore the file from a backup into attachments/"))
        elif sha256_file(path) != row["sha256"]:
            out.append(Finding("error", "attachments", f"attachment {row['filename']} ({row['id']}) has changed on disk",
                               "restore the file from a backup into attachments/"))
    return out


def _keystore(project) -> list[Finding]:
    configured = project.setting("keystore_path")
    if not configured:
        return []
    path = Path(configured).expanduser()
    out = []
    if path.resolve().is_relative_to(project.path.resolve()):
        out.append(Finding("warning", "key store", "the key store is inside the project folder, so copies of the "
                           "project carry real names with them", "move it elsewhere and run: fieldkit config keystore_path NEWPATH"))
    lowered = str(path.resolve()).lower()
    if any(f"/{word}" in lowered for word in SYNCED_FOLDERS):
        out.append(Finding("warning", "key store", f"the key store {path} is in a synced cloud folder",
                           "move it to local or encrypted storage and update: fieldkit config keystore_path NEWPATH"))
    if path.exists() and _mode(path) & 0o077:
        out.append(Finding("warning", "permissions", "the key store can be read by other users", f"chmod 600 '{path}'"))
    if not path.exists():
        out.append(Finding("error", "key store", f"the configured key store {path} does not exist",
                           "reconnect the drive, or fieldkit config keystore_path NEWPATH"))
    return out


def fix(project) -> list[str]:
    """Repair what can be repaired safely: finish interrupted destructions, rebuild search
    indexes and tighten permissions."""
    from fieldkit.store.lifecycle import complete_destruction

    done = []
    for journal in project.store.lifecycle.unfinished():
        complete_destruction(project.store, project.path, journal["id"])
        done.append(f"finished destruction #{journal['id']}")
    with project.transaction():
        for type_name in SEARCHABLE:
            rebuild_index(project.store, type_name)
        project.store.audit("repair", "project", "", "search indexes rebuilt")
    done.append("rebuilt the search indexes")
    os.chmod(project.path, 0o700)
    for path in [project.path / n for n in ("fieldkit.db", "fieldkit.db-wal", "fieldkit.db-shm")] + \
            sorted((project.path / "attachments").glob("*") if (project.path / "attachments").exists() else []):
        if path.exists() and _mode(path) & 0o077:
            os.chmod(path, 0o600)
            done.append(f"chmod 600 {path.name}")
    return done


def _copy_sqlite(source_conn, dest: Path) -> None:
    """A consistent copy with SQLite's online backup API (safe while others write)."""
    fd = os.open(dest, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)
    target = sqlite3.connect(dest)
    try:
        source_conn.backup(target)
    finally:
        target.close()


def backup(project, dest, *, keys_dest: Optional[str] = None) -> dict:
    """Copy the project to a new folder ``dest`` (database and attachments), consistently.

    The key store is never put inside the project backup; give ``keys_dest`` to copy it
    to a separate file.
    """
    import shutil

    dest = Path(dest).expanduser()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise Refused(f"{dest} already exists and is not empty; choose a new folder")
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(dest, 0o700)
    tmp = dest / ".fieldkit.db.part"
    try:
        _copy_sqlite(project.store.conn, tmp)
        os.replace(tmp, dest / "fieldkit.db")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    copied = 0
    source = project.path / "attachments"
    if source.exists():
        (dest / "attachments").mkdir(mode=0o700, exist_ok=True)
        for item in source.iterdir():
            if item.is_file() and not item.name.startswith("."):
                shutil.copy2(item, dest / "attachments" / item.name)
                os.chmod(dest / "attachments" / item.name, 0o600)
                copied += 1
    result = {"dest": str(dest), "attachments": copied, "keystore": None}
    keystore = project.setting("keystore_path")
    if keys_dest:
        if not keystore:
            raise FieldkitError("this project has no key store configured; nothing to copy with --keys")
        keys_dest = Path(keys_dest).expanduser()
        if keys_dest.exists():
            raise Refused(f"{keys_dest} already exists; choose a new file for the key store copy")
        if keys_dest.resolve().is_relative_to(dest.resolve()):
            raise Refused("the key store copy must not go inside the project backup")
        conn = sqlite3.connect(Path(keystore).expanduser())
        try:
            _copy_sqlite(conn, keys_dest)
        finally:
            conn.close()
        result["keystore"] = str(keys_dest)
    from fieldkit.store.lifecycle import file_digest

    with project.transaction():
        project.store.audit("backup", "project", "", str(dest))
        # a backup holds everyone's words: the export register lists it for every participant
        everyone = list(project.store.consent.codes())
        project.store.lifecycle.register("backup", "backup", "raw", str(dest.resolve()), {},
                                         {"attachments": copied}, {}, everyone, file_digest(dest))
        if result["keystore"]:  # the names behind the pseudonyms: a copy to account for too
            project.store.lifecycle.register("key store copy", "keystore", "raw", str(Path(result["keystore"]).resolve()),
                                             {}, {}, {}, everyone, file_digest(result["keystore"]))
    return result
