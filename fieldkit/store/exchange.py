"""Queries behind exchange with other tools: kept identities and merge conflicts.

Reached as ``store.exchange``. ``exchange_ids`` maps another tool's id (a GUID, lower case,
or its own id) to the record imported from it, with what fieldkit has no field for (a
document's name, variables and sets; a code's codability) as JSON. ``merge_conflicts``
lists records two sides changed differently; it holds ids and a short description, never
content (both versions are in ``revisions``). ``exchange_items`` keeps what another tool's
file holds that is no fieldkit record (sets, users, cases about no imported document), and
``exchange_members`` which records each set holds.
"""

from __future__ import annotations

import json
from itertools import chain
from typing import Iterable, Optional, Sequence

from fieldkit.store.store import _marks, _now

_CHUNK = 500


def _chunks(values: Sequence):
    values = list(values)
    for i in range(0, len(values), _CHUNK):
        yield values[i:i + _CHUNK]


class ExchangeTables:
    def __init__(self, store):
        self.store = store
        self.conn = store.conn

    # identities -----------------------------------------------------------------------------
    def records_for(self, external_ids: Iterable[str]) -> dict:
        """``{external id: (record id, record type)}`` for those of ``external_ids`` already seen."""
        found = {}
        for chunk in _chunks(list(dict.fromkeys(external_ids))):
            for ext, rid, rtype in self.conn.execute(
                    f"select external_id, record_id, record_type from exchange_ids where external_id in ({_marks(chunk)})",
                    chunk):
                found[ext] = (rid, rtype)
        return found

    def remember(self, rows: Iterable[tuple]) -> None:
        """Keep ``(external id, record id, record type, origin, data dict)`` rows (a newer row wins)."""
        values = [(ext, rid, rtype, origin, json.dumps(data, ensure_ascii=False, sort_keys=True) if data else "{}")
                  for ext, rid, rtype, origin, data in rows]
        per = max(1, self.store.max_variables // 5)  # many rows per statement, in order
        for at in range(0, len(values), per):
            chunk = values[at:at + per]
            self.conn.execute(
                "insert into exchange_ids (external_id, record_id, record_type, origin, data) values "
                + ",".join(["(?, ?, ?, ?, ?)"] * len(chunk))
                + " on conflict(external_id) do update set record_id = excluded.record_id, "
                "record_type = excluded.record_type, origin = excluded.origin, data = excluded.data",
                list(chain.from_iterable(chunk)))

    def identities(self, record_type: Optional[str] = None) -> dict:
        """``{record id: (external id, data dict)}`` (the latest kept per record)."""
        sql = "select record_id, external_id, data from exchange_ids"
        args: list = []
        if record_type:
            sql += " where record_type = ?"
            args.append(record_type)
        return {rid: (ext, json.loads(data or "{}")) for rid, ext, data in self.conn.execute(sql + " order by rowid",
                                                                                               args)}

    def forget_records(self, record_ids: Sequence[str]) -> None:
        """Drop the identities of records (a withdrawal erases them with the records)."""
        for chunk in _chunks(record_ids):
            self.conn.execute(f"delete from exchange_ids where record_id in ({_marks(chunk)})", chunk)
            self.conn.execute(f"delete from merge_conflicts where record_id in ({_marks(chunk)})", chunk)

    # other tools' sets, users and cases ----------------------------------------------------
    def items(self, kind: Optional[str] = None) -> list[dict]:
        """Kept items (``external_id``, ``kind``, ``name``, ``origin``, ``data`` as a dict,
        ``members`` as ``[(record id, record type)]``), in the order they were first kept."""
        sql = "select external_id, kind, name, origin, data from exchange_items"
        args: list = []
        if kind:
            sql += " where kind = ?"
            args.append(kind)
        found = {ext: {"external_id": ext, "kind": k, "name": name, "origin": origin,
                       "data": json.loads(data or "{}"), "members": []}
                 for ext, k, name, origin, data in self.conn.execute(sql + " order by rowid", args)}
        members_sql = "select item_id, record_id, record_type from exchange_members"
        if kind:
            members_sql += " where item_id in (select external_id from exchange_items where kind = ?)"
        for item, rid, rtype in self.conn.execute(members_sql + " order by rowid", args):
            if item in found:
                found[item]["members"].append((rid, rtype))
        return list(found.values())

    def keep_item(self, external_id: str, kind: str, name: str, origin: str, data: dict) -> tuple[str, list[str]]:
        """Keep an item; returns ``(outcome, fields)``: ``added`` or ``unchanged`` with no
        fields, or ``different`` with the fields (``kind``, ``name``, keys of ``data``) in which
        the kept item with this id differs (it is left as it is: the caller reports it)."""
        text = json.dumps(data or {}, ensure_ascii=False, sort_keys=True)
        row = self.conn.execute("select kind, name, data from exchange_items where external_id = ?",
                                [external_id]).fetchone()
        if row is None:
            self.conn.execute("insert into exchange_items (external_id, kind, name, origin, data) "
                              "values (?, ?, ?, ?, ?)", [external_id, kind, name, origin, text])
            return "added", []
        if tuple(row) == (kind, name, text):
            return "unchanged", []
        kept, given = json.loads(row[2] or "{}"), data or {}
        fields = [f for f, ours, theirs in (("kind", row[0], kind), ("name", row[1], name)) if ours != theirs]
        return "different", fields + sorted(k for k in set(kept) | set(given) if kept.get(k) != given.get(k))

    def add_members(self, item_id: str, members: Iterable[tuple[str, str]]) -> int:
        """Add ``(record id, record type)`` members to a kept set; returns how many were new."""
        before = self.conn.total_changes
        self.conn.executemany("insert or ignore into exchange_members (item_id, record_id, record_type) "
                              "values (?, ?, ?)", [(item_id, rid, rtype) for rid, rtype in members])
        return self.conn.total_changes - before

    # merging --------------------------------------------------------------------------------
    def coding_keys(self, record_ids: Sequence[str]) -> set:
        """``(record id, code id, start, end, coder)`` of the live codings on these records."""
        keys = set()
        for chunk in _chunks(list(dict.fromkeys(record_ids))):
            keys.update(self.conn.execute(
                f"select record_id, code_id, start, [end], coder from codings where deleted_at is null "
                f"and record_id in ({_marks(chunk)})", chunk).fetchall())
        return keys

    def add_conflict(self, source: str, record_type: str, record_id: str, what: str) -> None:
        self.conn.execute(
            "insert into merge_conflicts (at, source, record_type, record_id, what) values (?, ?, ?, ?, ?)",
            [_now(), source, record_type, record_id, what])

    def conflicts(self, *, include_resolved: bool = False) -> list[dict]:
        sql = "select * from merge_conflicts"
        if not include_resolved:
            sql += " where resolved_at is null"
        return list(self.store.rows(sql + " order by id"))

    def resolve(self, conflict_id: int) -> bool:
        cursor = self.conn.execute("update merge_conflicts set resolved_at = ? where id = ? and resolved_at is null",
                                   [_now(), conflict_id])
        return cursor.rowcount > 0
