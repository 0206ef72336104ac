"""Looking after a project: health checks (``doctor``) and consistent backups."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
from pathlib import Path
from typing import Any, Optional, TYPE_CHECKING, Union

import attrs

from fieldkit.core.errors import FieldkitError, Refused
from fieldkit.store.schema import SEARCHABLE, TABLES
from fieldkit.store.search import check_index, rebuild_index

if TYPE_CHECKING:
    from fieldkit.project import Project

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


def doctor(project: Project) -> list[Finding]:
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
    found += _site_names(project)
    found += _permissions(project)
    found += _attachments(project)
    found += _keystore(project)
    found += _leftovers(project)
    if project.store.anonymisation.secret() is not None:
        found.append(Finding("warning", "digest key", "the key of the anonymisation digests is still in fieldkit.db, "
                             "where it lets anyone with the database check a guessed name against them",
                             "fieldkit keys init, or with a key store: fieldkit anonymise --all --preview (moves it there)"))
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


def _site_names(project) -> list[Finding]:
    # site names are unique whatever their letter case; a project from before that check
    # may hold "Online" and "online", which '--site Online' cannot tell apart
    groups: dict = {}
    for site in project.store.select("site"):
        groups.setdefault(site.name.strip().casefold(), []).append(site)
    found = []
    for sites in groups.values():
        if len(sites) > 1:
            names = ", ".join(f"'{s.name}' ({s.id[-8:]})" for s in sites)
            found.append(Finding("warning", "sites", f"{len(sites)} sites share one name: {names}",
                                 f"fieldkit site rename {sites[-1].id} 'another name' (or delete the spare one)"))
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


#: what interrupted fieldkit commands can leave in the project folder: the copy a conversion
#: writes (plaintext, when ``decrypt`` was killed), a backup's part file, an attachment being
#: copied, an export's or report's scratch file or folder (when written inside the project),
#: and the copies ``attachment open`` handed to other programs
_LEFTOVER = re.compile(r"\.fieldkit\.db\.(converting|part)|\.fieldkit-report-.+|\..+\.(tmp|old|part)|.+\.fieldkit-tmp"
                       r"|\.opened")


def leftovers(project: Project) -> list[Path]:
    """Files and folders interrupted fieldkit commands left in the project folder."""
    found = []
    for folder in (project.path, project.path / "attachments"):
        if folder.is_dir():
            found += [p for p in sorted(folder.iterdir()) if _LEFTOVER.fullmatch(p.name) and not p.is_symlink()]
    return found


def _leftovers(project) -> list[Finding]:
    from fieldkit.store.attachments import OPENED
    from fieldkit.store.encryption import converting_path

    out = []
    for path in leftovers(project):
        if path.name == OPENED:
            count = sum(1 for f in path.rglob("*") if f.is_file())
            if count:
                out.append(Finding("warning", "leftovers", f"{count} attachment copies opened with 'attachment open' "
                                   f"are still in {path.name}", "fieldkit doctor --fix (removes them)"))
        elif path == converting_path(project.path):
            out.append(Finding("error", "leftovers", f"{path.name} is the copy an interrupted encrypt or decrypt "
                               "left behind: after a decrypt it holds every note in plaintext",
                               "fieldkit doctor --fix (removes it)"))
        else:
            out.append(Finding("warning", "leftovers", f"{path.name} was left by an interrupted fieldkit command",
                               "fieldkit doctor --fix (removes it)"))
    return out


def remove_leftovers(project: Project) -> list[str]:
    """Remove what ``leftovers`` lists, unless another fieldkit process is at work on the
    project now (its scratch files are then in use)."""
    import shutil

    from fieldkit.store.lock import exclusive

    found = leftovers(project)
    if not found:
        return []
    done = []
    try:
        with exclusive(project.path, wait=0):
            for path in found:
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink(missing_ok=True)
                done.append(f"removed {path.name}")
    except FieldkitError:
        done.append("left the leftover files: another fieldkit command is working on the project now")
    return done


def fix(project: Project) -> list[str]:
    """Repair what can be repaired safely: finish interrupted destructions, rebuild search
    indexes, tighten permissions and remove what interrupted commands left (see ``leftovers``)."""
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
    done += remove_leftovers(project)
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


def _copy_encrypted(source_conn, dest: Path) -> None:
    """A consistent copy of an SQLCipher database, encrypted under the same passphrase.

    An attached database without a KEY clause takes the main database's key, so the
    passphrase is never needed again here; ``sqlcipher_export`` reads one snapshot."""
    from fieldkit.store.connection import create_private_file

    create_private_file(dest)
    version = source_conn.execute("PRAGMA user_version").fetchone()[0]
    source_conn.execute("ATTACH DATABASE ? AS fieldkit_backup", [str(dest)])
    try:
        source_conn.execute("SELECT sqlcipher_export('fieldkit_backup')")
        source_conn.execute(f"PRAGMA fieldkit_backup.user_version = {int(version)}")
    finally:
        source_conn.execute("DETACH DATABASE fieldkit_backup")


def backup(project: Project, dest: Union[str, os.PathLike[str]], *,
           keys_dest: Optional[str] = None) -> dict[str, Any]:
    """Copy the project to a new folder ``dest`` (database and attachments), consistently.

    An encrypted project gives an encrypted backup (same passphrase). ``dest`` may not lie
    inside the project folder (copies of the project would then carry it, and ``encrypt``
    would leave it as it is). The key store is never put inside the project backup; give
    ``keys_dest`` to copy it to a separate file.
    """
    import shutil

    from fieldkit.store.connection import DB_NAME, is_encrypted

    dest = Path(dest).expanduser()
    if dest.resolve().is_relative_to(project.path.resolve()):
        raise Refused(f"{dest} is inside the project folder; put backups somewhere else (another drive)")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise Refused(f"{dest} already exists and is not empty; choose a new folder")
    keystore = project.setting("keystore_path")
    if keys_dest:  # checked before anything is written
        if not keystore:
            raise FieldkitError("this project has no key store configured; nothing to copy with --keys")
        keys_dest = Path(keys_dest).expanduser()
        if keys_dest.exists():
            raise Refused(f"{keys_dest} already exists; choose a new file for the key store copy")
        if keys_dest.resolve().is_relative_to(dest.resolve()):
            raise Refused("the key store copy must not go inside the project backup")
        if keys_dest.resolve().is_relative_to(project.path.resolve()):
            raise Refused("the key store copy must not go inside the project folder")
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(dest, 0o700)
    tmp = dest / ".fieldkit.db.part"
    encrypted = is_encrypted(project.path / DB_NAME)
    try:
        (_copy_encrypted if encrypted else _copy_sqlite)(project.store.conn, tmp)
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
    result = {"dest": str(dest), "attachments": copied, "keystore": None, "encrypted": encrypted}
    if keys_dest:
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
