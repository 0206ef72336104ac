"""Queries behind the research data lifecycle (``store.lifecycle``): member-checked quotes and
their versions, the export register, disclosure sign-offs and the destruction journal.

None of these tables holds a real name. ``quote_versions.wording`` holds a participant's own
amended wording (the same kind of text as a note), so destruction and withdrawal remove it
with the record it belongs to; the register and the journal hold ids, counts and hashes only.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Optional, Sequence, TYPE_CHECKING, Union

from fieldkit.store.schema import SEARCHABLE, TABLES
from fieldkit.store.store import _marks, _now

if TYPE_CHECKING:
    import os

    from fieldkit.store.store import Store

_CHUNK = 500


def file_digest(path: Union[str, os.PathLike[str]]) -> str:
    """sha256 of a file, or of a folder: over each file's relative path and sha256, in order."""
    from pathlib import Path

    from fieldkit.store.attachments import sha256_file

    path = Path(path)
    if path.is_file():
        return sha256_file(path)
    listing = hashlib.sha256()
    for item in sorted(p for p in path.rglob("*") if p.is_file()):
        listing.update(f"{item.relative_to(path).as_posix()}  {sha256_file(item)}\n".encode())
    return listing.hexdigest()


def _chunks(ids: Sequence[str]):
    ids = list(ids)
    for i in range(0, len(ids), _CHUNK):
        yield ids[i:i + _CHUNK]


class LifecycleTables:
    def __init__(self, store):
        self.store = store
        self.conn = store.conn

    # quotes -------------------------------------------------------------------------------
    def quotes(self, participant_id: Optional[str] = None, record_ids: Optional[Sequence[str]] = None) -> list[dict]:
        """Quote rows (of one participant, or on some records), in id order, with their latest
        wording and comment (None when never amended/commented)."""
        where, args = [], []
        if participant_id is not None:
            where.append("q.participant_id = ?")
            args.append(participant_id)
        if record_ids is not None:
            if not record_ids:
                return []
            where.append(f"q.record_id in ({_marks(record_ids)})")
            args += list(record_ids)
        sql = ("select q.*, (select wording from quote_versions v where v.quote_id = q.id and v.wording is not null "
               "order by v.version desc, v.id desc limit 1) as wording, "
               "(select comment from quote_versions v where v.quote_id = q.id and v.comment != '' "
               "order by v.id desc limit 1) as comment from quotes q"
               + (" where " + " and ".join(where) if where else "") + " order by q.rowid")
        return list(self.store.rows(sql, args))

    def quote(self, quote_id: str) -> Optional[dict]:
        found = [q for q in self.quotes() if q["id"].lower() == quote_id.lower()]
        return found[0] if found else None

    def add_quote(self, quote_id: str, participant_id: str, record_id: str, coding_id: Optional[str],
                  start: int, end: int) -> None:
        self.conn.execute(
            "insert into quotes (id, participant_id, record_id, coding_id, start, [end], status, version, created_at, "
            "author) values (?, ?, ?, ?, ?, ?, 'pending', 1, ?, ?)",
            [quote_id, participant_id, record_id, coding_id, start, end, _now(), self.store.author()])

    def move_quote(self, quote_id: str, start: int, end: int) -> None:
        self.conn.execute("update quotes set start = ?, [end] = ? where id = ?", [start, end, quote_id])

    def respond(self, quote_id: str, status: str, *, wording: Optional[str] = None, comment: str = "") -> int:
        """Record a response: the quote's status and version move on, the version row keeps history."""
        row = self.conn.execute("select version from quotes where id = ?", [quote_id]).fetchone()
        version = row[0] + (1 if wording is not None else 0)
        at = _now()
        self.conn.execute("update quotes set status = ?, version = ?, updated_at = ? where id = ?",
                          [status, version, at, quote_id])
        self.conn.execute(
            "insert into quote_versions (quote_id, version, status, wording, comment, author, at) "
            "values (?, ?, ?, ?, ?, ?, ?)", [quote_id, version, status, wording, comment, self.store.author(), at])
        return version

    def quote_history(self, quote_id: str) -> list[dict]:
        return list(self.store.rows("select * from quote_versions where quote_id = ? order by id", [quote_id]))

    # the export register ------------------------------------------------------------------
    def register(self, kind: str, fmt: str, profile: str, dest: str, selection: dict, counts: dict,
                 left_out: dict, participants: Sequence[str], sha256: str) -> int:
        cursor = self.conn.execute(
            "insert into export_register (at, author, kind, format, profile, dest, selection, counts, left_out, "
            "participants, sha256) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [_now(), self.store.author(), kind, fmt, profile, dest, json.dumps(selection, sort_keys=True),
             json.dumps(counts, sort_keys=True), json.dumps(left_out, sort_keys=True),
             json.dumps(sorted(participants)), sha256])
        return cursor.lastrowid

    def copies(self, participant_id: Optional[str] = None) -> list[dict]:
        """Register rows, oldest first (those holding a participant's words, if given)."""
        sql = "select * from export_register"
        args: list = []
        if participant_id is not None:
            sql += " where exists (select 1 from json_each(participants) where value = ?)"
            args.append(participant_id)
        out = []
        for row in self.store.rows(sql + " order by id", args):
            for key in ("selection", "counts", "left_out", "participants"):
                row[key] = json.loads(row[key] or "null")
            out.append(row)
        return out

    # disclosure sign-off ------------------------------------------------------------------
    def data_version(self) -> str:
        """A digest that changes whenever any record, consent, review decision, quote or setting changes."""
        digest = hashlib.sha256()
        for table in (*TABLES.values(),):
            digest.update(repr(self.conn.execute(
                f"select count(*), max(created_at), max(updated_at), max(deleted_at) from [{table}]").fetchone()).encode())
        for table in ("anonymisation_decisions", "anonymisation_rules", "quote_versions", "revisions"):
            digest.update(repr(self.conn.execute(f"select count(*), max(id) from [{table}]").fetchone()).encode())
        # settings decide what an export writes (detectors, styles, coarsened dates)
        digest.update(repr(self.conn.execute("select key, value from settings order by key").fetchall()).encode())
        return digest.hexdigest()

    def latest_audit(self, action: str, record_id: str) -> Optional[dict]:
        rows = list(self.store.rows("select * from audit where action = ? and record_id = ? order by id desc limit 1",
                                    [action, record_id]))
        return rows[0] if rows else None

    def anonymisation_kinds(self, record_ids: Sequence[str]) -> dict:
        """``{kind: how many distinct stretches}`` the anonymisation log replaced in these records."""
        found: dict = {}
        for chunk in _chunks(record_ids):
            for kind, n in self.conn.execute(
                    "select kind, count(*) from (select distinct record_id, start, [end], kind from anonymisation_log "
                    f"where record_id in ({_marks(chunk)}) and action = 'export') group by kind", chunk):
                found[kind] = found.get(kind, 0) + n
        return found

    # destruction ----------------------------------------------------------------------------
    def open_journal(self, classes: Sequence[str], plan: dict) -> int:
        cursor = self.conn.execute(
            "insert into destruction_journal (at, author, classes, plan, state) values (?, ?, ?, ?, 'started')",
            [_now(), self.store.author(), json.dumps(list(classes)), json.dumps(plan, sort_keys=True)])
        return cursor.lastrowid

    def unfinished(self) -> list[dict]:
        out = []
        for row in self.store.rows("select * from destruction_journal where state != 'done' order by id"):
            row["classes"], row["plan"] = json.loads(row["classes"]), json.loads(row["plan"])
            out.append(row)
        return out

    def set_journal_state(self, journal_id: int, state: str) -> None:
        self.conn.execute("update destruction_journal set state = ?, finished_at = ? where id = ?",
                          [state, _now() if state == "done" else None, journal_id])

    def erase_records(self, type_name: str, record_ids: Sequence[str]) -> None:
        """Hard-delete records with everything that holds their text or who spoke in it: codings,
        revisions, the anonymisation tables, speaker turns, quotes and quote versions (the index
        follows by trigger)."""
        for chunk in _chunks(record_ids):
            marks = _marks(chunk)
            self.conn.execute(f"delete from quote_versions where quote_id in "
                              f"(select id from quotes where record_id in ({marks}))", chunk)
            self.conn.execute(f"delete from quotes where record_id in ({marks})", chunk)
            coding_ids = [r[0] for r in self.conn.execute(
                f"select id from codings where record_id in ({marks})", chunk)]
            for inner in _chunks(coding_ids):
                self.conn.execute(f"delete from revisions where record_id in ({_marks(inner)})", inner)
                self.conn.execute(f"delete from codings where id in ({_marks(inner)})", inner)
            for table in ("revisions", "anonymisation_decisions", "anonymisation_log", "turns"):
                self.conn.execute(f"delete from [{table}] where record_id in ({marks})", chunk)
            self.store.erasure.forget_exchange(chunk)
            self.conn.execute(f"delete from [{TABLES[type_name]}] where id in ({marks})", chunk)

    def erase_attachments(self, attachment_ids: Sequence[str]) -> list[str]:
        """Delete attachment rows (and their revisions); the hashes of files no row uses any more."""
        hashes = set()
        for chunk in _chunks(attachment_ids):
            marks = _marks(chunk)
            hashes |= {r[0] for r in self.conn.execute(f"select sha256 from attachments where id in ({marks})", chunk)}
            self.conn.execute(f"delete from revisions where record_id in ({marks})", chunk)
            self.conn.execute(f"delete from attachments where id in ({marks})", chunk)
        return sorted(sha for sha in hashes
                      if not self.conn.execute("select 1 from attachments where sha256 = ?", [sha]).fetchone())

    def attachment_files(self, attachment_ids: Sequence[str]) -> list[str]:
        """The file hashes of these attachments."""
        found: set = set()
        for chunk in _chunks(attachment_ids):
            found |= {r[0] for r in self.conn.execute(
                f"select sha256 from attachments where id in ({_marks(chunk)})", chunk)}
        return sorted(found)

    def record_ids(self, type_name: str, **where) -> list[tuple]:
        """``(id, created_at)`` of every row of a type (deleted ones too), optionally by column values."""
        sql = f"select id, created_at from [{TABLES[type_name]}]"
        args: list = []
        if where:
            sql += " where " + " and ".join(f"[{k}] = ?" for k in where)
            args = list(where.values())
        return self.conn.execute(sql + " order by id", args).fetchall()

    def attachment_rows(self) -> list[tuple]:
        """``(id, created_at, media_type)`` of every attachment row."""
        return self.conn.execute("select id, created_at, media_type from attachments order by id").fetchall()

    def compact(self) -> None:
        """Push destroyed text out of every page: rebuild and optimise the full-text indexes,
        VACUUM the file and truncate the write-ahead log."""
        from fieldkit.store.search import optimise_index, rebuild_index

        for type_name in SEARCHABLE:
            rebuild_index(self.store, type_name)
            optimise_index(self.store, type_name)
        if self.conn.in_transaction:
            self.conn.commit()
        self.conn.execute("PRAGMA secure_delete = ON")
        self.conn.execute("VACUUM")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def complete_destruction(store: Store, project_path: Union[str, os.PathLike[str]],
                         journal_id: int) -> dict[str, Any]:
    """Carry out (or finish) the destruction a journal row describes; returns its certificate.

    Each step can be repeated: the rows go in one transaction that also writes the
    certificate and moves the journal to ``rows-done``; then the files go, then the index,
    VACUUM and the write-ahead log, and the journal is ``done``. A kill at any point leaves a
    journal row that is not ``done``, which ``doctor`` reports and ``doctor --fix`` finishes.
    """
    import re
    from pathlib import Path

    tables = store.lifecycle
    row = next((r for r in tables.unfinished() if r["id"] == journal_id), None)
    if row is None:
        raise ValueError(f"no unfinished destruction #{journal_id}")
    plan = row["plan"]
    certificate = {"journal": journal_id, "classes": row["classes"], "counts": plan.get("counts", {}),
                   "planned_at": row["at"], "at": _now(), "author": store.author()}
    store.conn.execute("PRAGMA secure_delete = ON")
    if row["state"] == "started":
        with store.transaction():
            for type_name in ("observation", "memo"):
                tables.erase_records(type_name, plan.get(type_name, ()))
            tables.erase_attachments(plan.get("attachment", ()))
            gone = set(plan.get("observation", ())) | set(plan.get("memo", ()))
            if gone:
                store.erasure.drop_references(gone)
            if plan.get("keystore_setting"):
                store.set_setting("keystore_path", "")
            store.audit("destroy", "project", str(journal_id), json.dumps(certificate, sort_keys=True))
            tables.set_journal_state(journal_id, "rows-done")
    else:
        found = [r for r in store.rows("select detail from audit where action = 'destroy' and record_id = ? "
                                       "order by id desc limit 1", [str(journal_id)])]
        if found:
            certificate = json.loads(found[0]["detail"])
    from fieldkit.store.attachments import remove_open_copies

    folder = Path(project_path) / "attachments"
    for sha in plan.get("files", ()):
        if not re.fullmatch(r"[0-9a-f]{64}", sha):
            continue  # never a path: a crafted hash must not name a file outside the folder
        if not store.conn.execute("select 1 from attachments where sha256 = ?", [sha]).fetchone():
            _shred(folder / sha)
            remove_open_copies(Path(project_path), sha)
    for keystore in plan.get("keystore", ()):
        for suffix in ("", "-wal", "-shm", "-journal"):
            _shred(Path(keystore + suffix))
    tables.compact()
    with store.transaction():
        tables.set_journal_state(journal_id, "done")
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return certificate


def _shred(path) -> None:
    """Overwrite a file with zeros before unlinking it, so its bytes do not linger in the folder's
    free blocks any longer than the file system keeps them."""
    import os

    if not path.is_file() or path.is_symlink():
        return
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.write(b"\0" * size)
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()
