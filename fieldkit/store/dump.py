"""Whole tables as stored, for the lossless JSONL backup (``fieldkit.exchange.jsonl``).

Reached as ``store.dump``. Every data table is listed (full-text indexes and migration
bookkeeping are not: they are rebuilt), read in primary-key order, and written back
exactly as given when a backup is restored into an empty project.
"""

from __future__ import annotations

from typing import Iterator

from fieldkit.store.schema import SET_NAME, TABLES

#: record tables, parents before children (foreign keys are also deferred on restore)
RECORD_TABLE_ORDER = ("sites", "participants", "consent_events", "encounters", "codes", "observations",
                      "memos", "codings", "attachments")
_FIRST = ("settings",)
_BEFORE_LAST = ("revisions",)
_LAST = ("audit",)
#: never written to a backup: the key of the anonymisation digests belongs in the key store
#: (a project made before it moved may still hold it until its key store is next opened)
KEPT_OUT = ("anonymisation_secret",)


class Dump:
    def __init__(self, store):
        self.store = store
        self.conn = store.conn

    def tables(self) -> list[str]:
        """Every table a backup holds, in backup order: settings, the record tables parents
        first, revisions, any other table by name, the audit log last."""
        rows = self.conn.execute("select name, sql from sqlite_master where type = 'table'").fetchall()
        virtual = [name for name, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL TABLE")]
        names = [
            name for name, _ in rows
            if not name.startswith(("sqlite_", "_sqlite_")) and name not in KEPT_OUT
            and not any(name == v or name.startswith(v + "_") for v in virtual)
        ]
        fixed = [*_FIRST, *RECORD_TABLE_ORDER, *_BEFORE_LAST]
        others = sorted(n for n in names if n not in fixed and n not in _LAST)
        return [n for n in fixed if n in names] + others + [n for n in _LAST if n in names]

    def migrations(self) -> list[str]:
        """The names of fieldkit's applied migrations, in order."""
        return [r[0] for r in self.conn.execute(
            "select name from _sqlite_migrations where migration_set = ? order by id", [SET_NAME])]

    def rows(self, table: str) -> tuple[list, Iterator[tuple]]:
        """``(columns, rows)`` of a table in primary-key order."""
        keys = [r[1] for r in sorted((r for r in self.conn.execute(f"pragma table_info([{table}])") if r[5]),
                                     key=lambda r: r[5])]
        order = ", ".join(f"[{c}]" for c in keys) if keys else "rowid"
        cursor = self.conn.execute(f"select * from [{table}] order by {order}")
        return [d[0] for d in cursor.description], cursor

    def count(self, table: str) -> int:
        return self.conn.execute(f"select count(*) from [{table}]").fetchone()[0]

    def is_empty(self) -> bool:
        """Whether the project holds no records and no history yet."""
        return not any(self.conn.execute(f"select 1 from [{table}] limit 1").fetchone()
                       for table in [*TABLES.values(), "revisions"])

    def clear(self, table: str) -> None:
        self.conn.execute(f"delete from [{table}]")

    def defer_foreign_keys(self) -> None:
        """Check references at commit, not per row: parents may come after their children."""
        self.conn.execute("PRAGMA defer_foreign_keys = ON")

    def broken_references(self) -> list[tuple]:
        """``(table, rowid, parent table, …)`` for each row referring to a missing parent."""
        return self.conn.execute("PRAGMA foreign_key_check").fetchall()
