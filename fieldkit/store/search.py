"""Full-text search (FTS5, ranked by bm25) over observation and memo bodies.

Each searchable table has an external-content FTS5 index (``<table>_fts``) kept in step
by triggers; ``Store.insert`` indexes bulk inserts a batch at a time (see
``fieldkit.store.schema.SEARCH_BATCHES``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fieldkit.core import records
from fieldkit.core.errors import FieldkitError
from fieldkit.store.connection import errors
from fieldkit.store.schema import INDEX_SUFFIXES, SEARCHABLE, TABLES

if TYPE_CHECKING:  # annotations only
    from fieldkit.core.searchquery import SearchQuery
    from fieldkit.store.store import Store

#: a prefix that starts more words than this is matched against word stems alone
PREFIX_WORDS = 64


def search(store: Store, type_name: str, query: "SearchQuery | str", *, limit: int, conditions: dict) -> list[tuple]:
    """``(record, snippet, rank)`` for a search, best first, live records only.

    ``query`` is a :class:`fieldkit.core.searchquery.SearchQuery` (its prefixes are widened
    to the whole words that start with them) or an FTS5 expression; ``conditions`` are
    ``Store.select`` conditions on the records."""
    from fieldkit.core.convert import from_row

    match = query if isinstance(query, str) else query.fts(lambda prefix: prefix_words(store, type_name, prefix))

    if type_name not in SEARCHABLE:
        raise FieldkitError(f"cannot search {type_name} records; choose observation or memo")
    table = TABLES[type_name]
    clauses, args = store.where(type_name, conditions)
    # the conditions read the table alone (the index has columns of the same names)
    where = f" and t.rowid in (select rowid from [{table}] where {' and '.join(clauses)})" if clauses else ""
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


def prefix_words(store: Store, type_name: str, prefix: str) -> list[str]:
    """The words as written that start with ``prefix`` (lower case, accents folded by the
    index), or ``[]`` when there are more than ``PREFIX_WORDS`` of them."""
    vocab = f"{TABLES[type_name]}_words_vocab"
    prefix = prefix.lower()
    # the upper bound is the smallest string after every string starting with the prefix
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    rows = store.conn.execute(f"select term from [{vocab}] where term >= ? and term < ? limit ?",
                              [prefix, upper, PREFIX_WORDS + 1]).fetchall()
    return [] if len(rows) > PREFIX_WORDS else [row[0] for row in rows]


def _indexes(type_name: str) -> list[str]:
    return [f"{TABLES[type_name]}{suffix}" for suffix in INDEX_SUFFIXES]


def check_index(store: Store, type_name: str) -> None:
    """Raise ``sqlite3.DatabaseError`` when one of a type's indexes disagrees with its table."""
    for fts in _indexes(type_name):
        store.conn.execute(f"insert into [{fts}]([{fts}], rank) values ('integrity-check', 1)")


def rebuild_index(store: Store, type_name: str) -> None:
    """Index a type's table again from its rows."""
    for fts in _indexes(type_name):
        store.conn.execute(f"insert into [{fts}]([{fts}]) values ('rebuild')")


def optimise_index(store: Store, type_name: str) -> None:
    """Merge the indexes' segments, which also drops what deleted rows left behind."""
    for fts in _indexes(type_name):
        store.conn.execute(f"insert into [{fts}]([{fts}]) values ('optimize')")
