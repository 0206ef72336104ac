"""Queries behind privacy: consent events, the anonymisation tables, withdrawal erasure.

Reached as ``store.consent``, ``store.anonymisation`` and ``store.erasure``. The
anonymisation tables never hold an original in clear: spans are named by record, offsets
and a keyed digest. Erasure is the one place rows are deleted for good (principle 1: only
withdrawal and destruction do that), and it leaves no copy in revisions, logs or the index.
"""

from __future__ import annotations

import json
from typing import Optional, Sequence, TYPE_CHECKING

from fieldkit.store.schema import SEARCHABLE, TABLES
from fieldkit.store.store import _marks, _now

if TYPE_CHECKING:
    from fieldkit.core.records import Coding, Record

_CHUNK = 500


def _chunks(ids: Sequence[str]):
    ids = list(ids)
    for i in range(0, len(ids), _CHUNK):
        yield ids[i:i + _CHUNK]


class ConsentQueries:
    def __init__(self, store):
        self.conn = store.conn

    def participant(self, ref: str) -> Optional[tuple]:
        """``(id, code)`` of the live participant with this id or code (any case), or None."""
        return self.conn.execute(
            "select id, code from participants where (id = ? or code = ? collate nocase) and deleted_at is null",
            [ref, ref]).fetchone()

    def codes(self) -> dict:
        """``{participant id: code}`` of live participants."""
        return dict(self.conn.execute("select id, code from participants where deleted_at is null").fetchall())

    def latest(self) -> dict:
        """``{participant id: (status, scopes)}`` of each participant's latest live consent event."""
        found: dict = {}
        for pid, status, scopes in self.conn.execute(
                "select participant_id, status, scopes from consent_events where deleted_at is null order by at, id"):
            found[pid] = (status, tuple(json.loads(scopes or "[]")))
        return found

    def encounters(self) -> dict:
        """``{encounter id: (kind, participant ids)}`` of every encounter."""
        return {eid: (kind, tuple(item.get("participant_id") for item in json.loads(people or "[]")))
                for eid, kind, people in self.conn.execute("select id, kind, participants from encounters")}


class AnonymisationTables:
    def __init__(self, store):
        self.store = store
        self.conn = store.conn

    def secret(self) -> Optional[bytes]:
        """The digest key a project made before it moved into the key store still holds, if any
        (``fieldkit.privacy.anonymiser.digest_key`` moves it)."""
        row = self.conn.execute("select secret from anonymisation_secret where id = 1").fetchone()
        return None if row is None else bytes.fromhex(row[0])

    def drop_secret(self) -> None:
        """Delete the digest key from the project database (it is in the key store now)."""
        self.conn.execute("delete from anonymisation_secret")

    def decisions(self) -> list[tuple]:
        """``(record_id, start, end, digest, action)`` of every review decision, oldest first."""
        return self.conn.execute(
            "select record_id, start, [end], digest, action from anonymisation_decisions order by id").fetchall()

    def rules(self) -> list[tuple]:
        """``(digest, words, kind)`` of every added rule."""
        return self.conn.execute("select digest, words, kind from anonymisation_rules").fetchall()

    def decide(self, record_id: str, start: int, end: int, digest: str, action: str, kind: str) -> None:
        """Remember a decision on a span (replacing an earlier one on the same span)."""
        self.conn.execute("delete from anonymisation_decisions where record_id = ? and start = ? and [end] = ?",
                          [record_id, start, end])
        self.conn.execute(
            "insert into anonymisation_decisions (record_id, start, [end], digest, action, kind, author, at) "
            "values (?, ?, ?, ?, ?, ?, ?, ?)", [record_id, start, end, digest, action, kind, self.store.author(), _now()])

    def add_rule(self, digest: str, words: int, kind: str) -> None:
        self.conn.execute(
            "insert into anonymisation_rules (digest, words, kind, author, at) values (?, ?, ?, ?, ?) "
            "on conflict(digest) do update set kind = excluded.kind", [digest, words, kind, self.store.author(), _now()])

    def log(self, record_id: str, entries: Sequence[tuple], action: str) -> None:
        """Add replacements to the log: ``(start, end, kind, directness, detector, replacement,
        digest)`` each."""
        at, author = _now(), self.store.author()
        self.conn.executemany(
            "insert into anonymisation_log (record_id, start, [end], kind, directness, detector, replacement, "
            "digest, action, author, at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(record_id, *entry, action, author, at) for entry in entries])

    def log_entries(self, record_id: Optional[str] = None, limit: int = 100) -> list[dict]:
        """The log, newest first (of one record, if given)."""
        where, params = ("where record_id = ?", [record_id]) if record_id else ("", [])
        rows = self.conn.execute(
            "select record_id, start, [end], kind, directness, detector, replacement, digest, action, author, at "
            f"from anonymisation_log {where} order by id desc limit ?", [*params, limit])
        keys = ("record", "start", "end", "kind", "directness", "detector", "replacement", "digest", "action",
                "author", "at")
        return [dict(zip(keys, row)) for row in rows]


class Erasure:
    """Hard deletes and overwrites without revisions, for withdrawal of consent."""

    def __init__(self, store):
        self.store = store
        self.conn = store.conn

    def secure_delete(self) -> None:
        """Overwrite deleted content inside the file instead of leaving it in free pages."""
        self.conn.execute("PRAGMA secure_delete = ON")

    def codings_on(self, record_ids: Sequence[str]) -> tuple:
        """Ids of every coding (live or not) on these records."""
        found: list = []
        for chunk in _chunks(record_ids):
            found += [r[0] for r in self.conn.execute(f"select id from codings where record_id in ({_marks(chunk)})",
                                                      chunk)]
        return tuple(found)

    def attachments_of(self, record_ids: Sequence[str]) -> tuple:
        """Ids of every attachment (live or not) linked to these records."""
        found: list = []
        for chunk in _chunks(record_ids):
            found += [r[0] for r in self.conn.execute(
                f"select id from attachments where record_id in ({_marks(chunk)})", chunk)]
        return tuple(found)

    def overwrite(self, record: Record) -> None:
        """Write ``record`` over its stored row, keeping no revision of what was there."""
        from fieldkit.core.convert import to_row

        row = to_row(record)
        row["updated_at"] = _now()
        row.pop("id")
        self.conn.execute(f"update [{TABLES[record.type_name]}] set {', '.join(f'[{c}] = ?' for c in row)} "
                          "where id = ?", [*row.values(), record.id])

    def move_coding(self, coding: Coding) -> None:
        """Put a coding's new span and status in place, keeping no revision of the old span."""
        self.conn.execute("update codings set start = ?, [end] = ?, status = ? where id = ?",
                          [coding.start, coding.end, coding.status, coding.id])

    def delete(self, type_name: str, record_ids: Sequence[str]) -> None:
        for chunk in _chunks(record_ids):
            self.conn.execute(f"delete from [{TABLES[type_name]}] where id in ({_marks(chunk)})", chunk)
            if type_name in SEARCHABLE:
                self.conn.execute(f"delete from turns where record_id in ({_marks(chunk)})", chunk)

    def delete_attachment(self, attachment_id: str) -> Optional[str]:
        """Delete an attachment's row; returns its file's hash when no other row uses the file."""
        row = self.conn.execute("select sha256 from attachments where id = ?", [attachment_id]).fetchone()
        self.conn.execute("delete from attachments where id = ?", [attachment_id])
        if row and not self.conn.execute("select 1 from attachments where sha256 = ?", [row[0]]).fetchone():
            return row[0]
        return None

    def drop_references(self, gone: set) -> None:
        """Remove ids of erased records from ``derived_from`` and memo ``links``."""
        for table, column in (("observations", "derived_from"), ("memos", "links")):
            for record_id, value in self.conn.execute(
                    f"select id, [{column}] from [{table}] where [{column}] != '[]'").fetchall():
                ids = json.loads(value or "[]")
                kept = [x for x in ids if x not in gone]
                if kept != ids:
                    self.conn.execute(f"update [{table}] set [{column}] = ? where id = ?", [json.dumps(kept), record_id])

    def forget(self, record_ids: Sequence[str]) -> None:
        """Delete the revisions, anonymisation decisions and log lines of these records, and the
        member-checked quotes (with every wording) on them or of a participant among them."""
        for chunk in _chunks(record_ids):
            marks = _marks(chunk)
            self.conn.execute(f"delete from quote_versions where quote_id in (select id from quotes where "
                              f"record_id in ({marks}) or participant_id in ({marks}))", chunk + chunk)
            self.conn.execute(f"delete from quotes where record_id in ({marks}) or participant_id in ({marks})",
                              chunk + chunk)
            self.conn.execute(f"delete from revisions where record_id in ({marks})", chunk)
            self.conn.execute(f"delete from anonymisation_decisions where record_id in ({marks})", chunk)
            self.conn.execute(f"delete from anonymisation_log where record_id in ({marks})", chunk)
            self.forget_exchange(chunk)
            self.conn.execute(f"delete from merge_conflicts where record_id in ({marks})", chunk)

    def forget_exchange(self, record_ids: Sequence[str]) -> None:
        """Delete what other tools' files said of these records: a document's name kept for
        re-export can name the person, and another tool's case about an erased note names or
        describes them (erased whole); a set only loses the member."""
        for chunk in _chunks(record_ids):
            marks = _marks(chunk)
            self.conn.execute(f"delete from exchange_ids where record_id in ({marks})", chunk)
            self.conn.execute(f"delete from exchange_items where kind = 'case' and external_id in "
                              f"(select item_id from exchange_members where record_id in ({marks}))", chunk)
            self.conn.execute(f"delete from exchange_members where record_id in ({marks})", chunk)

    def exchange_texts(self) -> list[tuple]:
        """``(table, external id, name, data)`` of what other tools' files said and is kept:
        every kept set, user and case (``name`` and ``data``), and the kept identity of every
        record (``name`` is None, ``data`` holds e.g. a document's name in the other tool)."""
        return [("exchange_items", *row) for row in
                self.conn.execute("select external_id, name, data from exchange_items")] + \
            [("exchange_ids", ext, None, data) for ext, data in
             self.conn.execute("select external_id, data from exchange_ids where data not in ('', '{}')")]

    def set_exchange_text(self, table: str, external_id: str, name: Optional[str], data: str) -> None:
        """Overwrite the kept text of one row :meth:`exchange_texts` listed."""
        if table == "exchange_items":
            self.conn.execute("update exchange_items set name = ?, data = ? where external_id = ?",
                              [name, data, external_id])
        elif table == "exchange_ids":
            self.conn.execute("update exchange_ids set data = ? where external_id = ?", [data, external_id])
        else:
            raise ValueError(f"not an exchange table: {table}")

    def revision_rows(self) -> list[tuple]:
        """``(id, record_id, data)`` of every stored earlier version."""
        return self.conn.execute("select id, record_id, data from revisions").fetchall()

    def delete_revisions(self, revision_ids: Sequence[int]) -> None:
        for chunk in _chunks(revision_ids):
            self.conn.execute(f"delete from revisions where id in ({_marks(chunk)})", chunk)

    def audit_rows(self) -> list[tuple]:
        """``(id, detail)`` of every audit line with text."""
        return self.conn.execute("select id, detail from audit where detail is not null and detail != ''").fetchall()

    def set_audit_detail(self, audit_id: int, detail: str) -> None:
        self.conn.execute("update audit set detail = ? where id = ?", [detail, audit_id])

    def attachment_rows(self) -> list[tuple]:
        """``(id, sha256, record_id)`` of every attachment, live or not."""
        return self.conn.execute("select id, sha256, record_id from attachments").fetchall()

    def rebuild_indexes(self) -> None:
        """Build the full-text indexes again from the rows: nothing of a deleted or changed
        text survives in their shadow tables."""
        from fieldkit.store.search import optimise_index, rebuild_index

        for type_name in SEARCHABLE:
            rebuild_index(self.store, type_name)
            optimise_index(self.store, type_name)

    # the journal: a row written in the withdrawal's own transaction, finished when the key
    # store and the files have followed
    def journal_open(self, participant_id: str, code: str, mode: str, files: Sequence[str]) -> int:
        cursor = self.conn.execute(
            "insert into withdrawals (participant_id, code, mode, files, state, started_at) "
            "values (?, ?, ?, ?, 'pending', ?)", [participant_id, code, mode, json.dumps(list(files)), _now()])
        return cursor.lastrowid

    def journal_pending(self) -> list[dict]:
        """Withdrawals whose project part is committed but whose key store or files are not done."""
        rows = self.conn.execute("select id, participant_id, code, mode, files from withdrawals "
                                 "where state = 'pending' order by id").fetchall()
        return [{"id": r[0], "participant_id": r[1], "code": r[2], "mode": r[3], "files": json.loads(r[4] or "[]")}
                for r in rows]

    def journal_done(self, journal_id: int) -> None:
        self.conn.execute("update withdrawals set state = 'done', files = '[]', finished_at = ? where id = ?",
                          [_now(), journal_id])

    def checkpoint(self) -> None:
        """Commit and fold the write-ahead log into the database file, emptying the log."""
        self.conn.commit()
        try:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except Exception:  # pragma: no cover - another reader holds the log; it is checkpointed later
            pass

    def scrub(self) -> None:
        """Push deleted text out of the full-text indexes and the write-ahead log."""
        from fieldkit.store.search import optimise_index

        for type_name in SEARCHABLE:
            try:
                optimise_index(self.store, type_name)
            except Exception:  # pragma: no cover - an index without the optimize command
                pass
        try:
            self.conn.commit()
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except Exception:  # pragma: no cover - another reader holds the log; it is checkpointed later
            pass
