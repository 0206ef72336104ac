"""Queries over codes and codings: the codebook tree, coding analysis, proposals.

Reached as ``store.coding``. Analysis reads live codings only, and leaves out codings of
tombstoned records (they vanish from analysis as they do from lists).
"""

from __future__ import annotations

import json
from typing import Optional, Sequence

from fieldkit.store.store import HUMAN_CODER, _marks

#: leaves out codings of tombstoned records
NOT_ON_DELETED = ("record_id not in (select id from observations where deleted_at is not null "
                  "union all select id from memos where deleted_at is not null "
                  "union all select id from encounters where deleted_at is not null)")
#: what a whole-record coding's end counts as where spans are compared (far above any offset)
WHOLE_END = 1 << 62
_CHUNK = 500


class CodingQueries:
    def __init__(self, store):
        self.store = store
        self.conn = store.conn

    # the codebook --------------------------------------------------------------------------
    def code_rows(self, *, include_deleted: bool = True) -> list[tuple]:
        """``(id, name, parent_id)`` of every code (live ones only unless ``include_deleted``)."""
        sql = "select id, name, parent_id from codes" + ("" if include_deleted else " where deleted_at is null")
        return self.conn.execute(sql).fetchall()

    def paths(self, *, include_deleted: bool = True) -> dict:
        """``{code id: "parent/child"}`` for every code (live ones unless ``include_deleted``)."""
        from fieldkit.core.errors import FieldkitError

        rows = {code_id: (name, parent_id) for code_id, name, parent_id in self.code_rows()}
        wanted = rows if include_deleted else {r[0] for r in self.code_rows(include_deleted=False)}
        paths: dict = {}
        for code_id in wanted:
            chain, seen, current = [], set(), code_id
            # a live code under a tombstoned parent still shows its parent's name
            while current in rows and current not in paths:
                if current in seen:
                    raise FieldkitError(f"code hierarchy has a cycle at {rows[current][0]}")
                seen.add(current)
                chain.append(current)
                current = rows[current][1]
            prefix = paths.get(current, "")
            for cid in reversed(chain):
                prefix = f"{prefix}/{rows[cid][0]}" if prefix else rows[cid][0]
                paths[cid] = prefix
        return {code_id: paths[code_id] for code_id in wanted}

    def parents(self) -> dict:
        """``{code id: parent id}`` for every code."""
        return dict(self.conn.execute("select id, parent_id from codes").fetchall())

    def children(self) -> list[tuple]:
        """``(id, parent_id)`` of live codes, in id order."""
        return self.conn.execute("select id, parent_id from codes where deleted_at is null order by id").fetchall()

    def named(self, name: str, *, parent_id: Optional[str] = None, anywhere: bool = False) -> list:
        """Live codes called ``name`` (ignoring case): under ``parent_id`` (None: at the top),
        or ``anywhere`` in the tree."""
        sql, args = "select * from codes where name = ? collate nocase and deleted_at is null", [name]
        if not anywhere:
            sql += " and parent_id is null" if parent_id is None else " and parent_id = ?"
            args += [] if parent_id is None else [parent_id]
        return self._codes(sql, args)

    def siblings(self, parent_id: Optional[str]) -> list[tuple]:
        """``(id, name)`` of the live codes under ``parent_id`` (None: at the top)."""
        if parent_id is None:
            return self.conn.execute("select id, name from codes where deleted_at is null and parent_id is null").fetchall()
        return self.conn.execute("select id, name from codes where deleted_at is null and parent_id = ?",
                                 [parent_id]).fetchall()

    def _codes(self, sql: str, args) -> list:
        from fieldkit.core.convert import from_row
        from fieldkit.core.records import Code

        return [from_row(Code, row) for row in self.store.rows(sql, args)]

    def usage(self, code_id: str) -> tuple[int, int, int]:
        """``(codings, live child codes, codes merged into it)``: codings live or removed."""
        used = self.conn.execute("select count(*) from codings where code_id = ?", [code_id]).fetchone()[0]
        kids = self.conn.execute("select count(*) from codes where parent_id = ? and deleted_at is null",
                                 [code_id]).fetchone()[0]
        merged = self.conn.execute("select count(*) from codes where merged_into = ?", [code_id]).fetchone()[0]
        return used, kids, merged

    def counts_by_code(self) -> dict:
        """``{code id: (codings by people, proposals by auto-coders)}`` over live codings."""
        counts: dict = {}
        for code_id, human, n in self.conn.execute(
                f"select code_id, {HUMAN_CODER}, count(*) from codings where deleted_at is null group by 1, 2"):
            people, auto = counts.get(code_id, (0, 0))
            counts[code_id] = (people + n, auto) if human else (people, auto + n)
        return counts

    # codings ---------------------------------------------------------------------------------
    def coders(self) -> list[str]:
        """Every coder with a live coding, sorted."""
        return [r[0] for r in self.conn.execute(
            "select distinct coder from codings where deleted_at is null order by coder")]

    def any_deleted_records(self) -> bool:
        """Whether any codable record is tombstoned (if none, analysis can skip the check)."""
        return bool(self.conn.execute(
            "select exists(select 1 from observations where deleted_at is not null) "
            "or exists(select 1 from memos where deleted_at is not null) "
            "or exists(select 1 from encounters where deleted_at is not null)").fetchone()[0])

    def _where(self, coders, human, code_ids, record_ids) -> tuple[list, list]:
        where, params = ["deleted_at is null"], []
        if self.any_deleted_records():
            where.append(NOT_ON_DELETED)
        if coders:
            where.append(f"coder in ({_marks(coders)})")
            params += list(coders)
        elif human is not None:
            where.append(HUMAN_CODER if human else f"not {HUMAN_CODER}")
        if code_ids is not None:
            where.append(f"code_id in ({_marks(code_ids)})")
            params += list(code_ids)
        if record_ids is not None:
            where.append(f"record_id in ({_marks(record_ids)})")
            params += list(record_ids)
        return where, params

    def analysed(self, columns: Sequence[str], *, coders: Optional[Sequence[str]] = None,
                 human: Optional[bool] = None, code_ids: Optional[Sequence[str]] = None,
                 record_ids: Optional[Sequence[str]] = None, ordered: bool = False) -> list[tuple]:
        """Columns of the codings analysis looks at: live, not on a tombstoned record, by
        ``coders`` (else by people only when ``human``), of ``code_ids``, on ``record_ids``;
        ``ordered`` sorts by record, start (whole-record codings first) and id."""
        self.store._check_columns("codings", columns)
        where, params = self._where(coders, human, code_ids, record_ids)
        sql = f"select {', '.join(f'[{c}]' for c in columns)} from codings where {' and '.join(where)}"
        if ordered:
            sql += " order by record_id, start, id"
        return self.conn.execute(sql, params).fetchall()

    def spans(self, *, same_coder: bool = False, coders: Optional[Sequence[str]] = None,
              human: Optional[bool] = None, code_ids: Optional[Sequence[str]] = None) -> list[tuple]:
        """``(record_id, [coder,] code_id, start, end)`` as ``analysed`` selects them, sorted by
        record (and coder) and start; a whole-record coding spans ``[0, WHOLE_END)``."""
        where, params = self._where(coders, human, code_ids, None)
        group = "record_id, coder" if same_coder else "record_id"
        return self.conn.execute(
            f"select {group}, code_id, coalesce(start, 0), coalesce([end], {WHOLE_END}) from codings "
            f"where {' and '.join(where)} order by {group}, coalesce(start, 0)", params).fetchall()

    def of_records(self, record_ids: Sequence[str]) -> dict:
        """``{record id: (live codings, by start and id)}`` for up to 500 records, one query."""
        from fieldkit.core.convert import from_row
        from fieldkit.core.records import Coding

        found: dict = {}
        ids = list(record_ids)
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i:i + _CHUNK]
            for row in self.store.rows(f"select * from codings where record_id in ({_marks(chunk)}) "
                                       "and deleted_at is null order by record_id, start, id", chunk):
                found.setdefault(row["record_id"], []).append(from_row(Coding, row))
        return {rid: tuple(codings) for rid, codings in found.items()}

    def spans_by(self, record_id: str, coder: str) -> set:
        """``(code_id, start, end)`` of every coding (live or not) by ``coder`` on a record."""
        return {tuple(r) for r in self.conn.execute(
            "select code_id, start, [end] from codings where record_id = ? and coder = ?", [record_id, coder])}

    def proposals(self, *, coder: Optional[str] = None, record_id: Optional[str] = None,
                  code_id: Optional[str] = None, pending: bool = False) -> list:
        """Live codings by auto-coders (or by ``coder``), by record, start and id; ``pending``
        leaves out those a person has made too (same record, code and span)."""
        from fieldkit.core.convert import from_row
        from fieldkit.core.records import Coding

        where, params = ["deleted_at is null", f"not {HUMAN_CODER}"], []
        for column, value in (("coder", coder), ("record_id", record_id), ("code_id", code_id)):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        if pending:
            where.append("not exists (select 1 from codings h where h.record_id = codings.record_id "
                         "and h.code_id = codings.code_id and h.start is codings.start and h.[end] is codings.[end] "
                         f"and {HUMAN_CODER.replace('coder', 'h.coder')} and h.deleted_at is null)")
        rows = self.store.rows(f"select * from codings where {' and '.join(where)} order by record_id, start, id",
                               params)
        return [from_row(Coding, row) for row in rows]

    # who and where a coding is about -------------------------------------------------------------
    def participants(self) -> list[tuple]:
        """``(id, code, role, organisation, attributes)`` of live participants."""
        return [(pid, code, role, org, json.loads(attributes or "{}")) for pid, code, role, org, attributes in
                self.conn.execute("select id, code, role, organisation, attributes from participants "
                                  "where deleted_at is null")]

    def sites(self) -> list[tuple]:
        """``(id, name, kind)`` of every site."""
        return self.conn.execute("select id, name, kind from sites").fetchall()

    def encounters(self) -> list[tuple]:
        """``(id, code, kind, site_id, participant ids)`` of every encounter."""
        return [(eid, code, kind, site_id, tuple(p["participant_id"] for p in json.loads(people or "[]")))
                for eid, code, kind, site_id, people in
                self.conn.execute("select id, code, kind, site_id, participants from encounters")]

    def mentions(self, record_ids: Sequence[str]) -> list[tuple]:
        """``(id, type name, encounter_id, mentions, linked participant ids)`` of the
        observations and memos among ``record_ids``."""
        found = []
        ids = list(record_ids)
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i:i + _CHUNK]
            for rid, encounter_id, mentions, links in self.conn.execute(
                    f"select id, encounter_id, mentions, links from observations where id in ({_marks(chunk)})", chunk):
                found.append((rid, "observation", encounter_id, json.loads(mentions or "[]"), json.loads(links or "[]")))
            for rid, mentions in self.conn.execute(
                    f"select id, mentions from memos where id in ({_marks(chunk)})", chunk):
                found.append((rid, "memo", None, json.loads(mentions or "[]"), []))
        return found
