"""Full-text search (FTS5, ranked by bm25) over observation and memo bodies.

Each searchable table has an external-content FTS5 index (``<table>_fts``) kept in step
by triggers; ``Store.insert`` indexes bulk inserts a batch at a time (see
``fieldkit.store.schema.SEARCH_BATCHES``).
"""

from __future__ import annotations

from fieldkit.core import records
from fieldkit.core.errors import FieldkitError
from fieldkit.store.connection import errors
from fieldkit.store.schema import SEARCHABLE, TABLES


def search(store, type_name: str, match: str, *, limit: int, conditions: dict) -> list[tuple]:
    """``(record, snippet, rank)`` for the FTS5 query ``match``, best first, live records only.

    ``conditions`` are ``Store.select`` conditions on the records."""
    from fieldkit.core.convert import from_row

    if type_name not in SEARCHABLE:
        raise FieldkitError(f"cannot search {type_name} records; choose observation or memo")
    table = TABLES[type_name]
    clauses, args = store.where(type_name, conditions)
    where = "".join(f" and t.{c}" if c.startswith("[") else f" and {c}" for c in clauses)
    column = SEARCHABLE[type_name].index("body")
    sql = (
        f"select t.*, snippet([{table}_fts], {column}, '[', ']', '…', 12) as _snippet, "
        f"bm25([{table}_fts]) as _rank from [{table}_fts] join [{table}] t on t.rowid = [{table}_fts].rowid "
        f"where [{table}_fts] match ? and t.deleted_at is null{where} order by _rank limit ?"
    )
    try:
        rows = list(store.rows(sql, [match, *args, limit]))
    except errors("OperationalError") as exc:
        raise FieldkitError(f"cannot search: {exc}") from None
    cls = records.RECORD_TYPES[type_name]
    return [(from_row(cls, row), row["_snippet"], row["_rank"]) for row in rows]


def check_index(store, type_name: str) -> None:
    """Raise ``sqlite3.DatabaseError`` when a type's index disagrees with its table."""
    fts = f"{TABLES[type_name]}_fts"
    store.conn.execute(f"insert into [{fts}]([{fts}], rank) values ('integrity-check', 1)")


def rebuild_index(store, type_name: str) -> None:
    """Index a type's table again from its rows."""
    fts = f"{TABLES[type_name]}_fts"
    store.conn.execute(f"insert into [{fts}]([{fts}]) values ('rebuild')")


def optimise_index(store, type_name: str) -> None:
    """Merge the index's segments, which also drops what deleted rows left behind."""
    fts = f"{TABLES[type_name]}_fts"
    store.conn.execute(f"insert into [{fts}]([{fts}]) values ('optimize')")
