"""The project database's schema: its tables and the frozen migrations that make them.

Every migration is literal DDL, written once and never derived from the record classes:
a new record field needs a new numbered migration, so a fresh project and an old one
migrated to the same version always hold the same schema (``tests/test_migrations.py``
builds both and compares them). The statements of ``0001_initial`` and
``0002_anonymisation`` are the exact text the first releases wrote (they were made with
sqlite-utils then; SQLite keeps that text in ``sqlite_master``).

Migrations are applied with ``sqlite_utils.Migrations`` (set ``fieldkit``), each in its own
transaction. Plugins that keep tables of their own register migration sets of their own
through the ``register_migrations`` hook (see :func:`plugin_migrations`).
"""

from __future__ import annotations

from typing import Callable, Sequence, TYPE_CHECKING

from fieldkit.core.errors import FieldkitError, PluginError

if TYPE_CHECKING:
    import sqlite3

    from sqlite_utils import Migrations

#: record type name -> table
TABLES = {
    "site": "sites",
    "participant": "participants",
    "consent": "consent_events",
    "encounter": "encounters",
    "observation": "observations",
    "memo": "memos",
    "code": "codes",
    "coding": "codings",
    "attachment": "attachments",
}
#: record types with a full-text index, and the indexed columns (in the index's order)
SEARCHABLE = {"observation": ("body",), "memo": ("title", "body")}
#: the indexes of a searchable table: words stemmed (``_fts``, ranked and quoted from) and the
#: words as written (``_words``, only which rows hold which word: it turns a prefix into the
#: whole words that start with it, which the stemmed index cannot when a prefix outruns a stem)
INDEX_SUFFIXES = ("_fts", "_words")
#: the row of this table, while it exists inside a transaction, stops the insert triggers
#: from indexing rows one at a time: a bulk insert indexes each batch with one statement
SEARCH_DEFERRED = "search_deferred"


def _record_table(table: str, columns: str) -> str:
    """A record table: id and the common fields first, then its own, then the bookkeeping."""
    return (f'CREATE TABLE "{table}" (\n   "id" TEXT PRIMARY KEY NOT NULL,\n   "created_at" TEXT NOT NULL,\n'
            f'   "author" TEXT,\n{columns}   "version" INTEGER DEFAULT 1,\n   "updated_at" TEXT,\n'
            f'   "deleted_at" TEXT\n)')


def _index(name: str, table: str, columns: str, unique: bool = False) -> str:
    return f'CREATE {"UNIQUE " if unique else ""}INDEX "{name}"\n    ON "{table}" ({columns})'


INITIAL = (
    _record_table("sites", '   "name" TEXT,\n   "kind" TEXT,\n   "note" TEXT,\n'),
    _record_table("participants", '   "code" TEXT,\n   "role" TEXT,\n   "organisation" TEXT,\n'
                                  '   "attributes" TEXT,\n   "note" TEXT,\n'),
    _record_table("consent_events", '   "participant_id" TEXT REFERENCES "participants"("id"),\n'
                                    '   "status" TEXT,\n   "scopes" TEXT,\n   "at" TEXT,\n   "note" TEXT,\n'),
    _record_table("encounters", '   "code" TEXT,\n   "kind" TEXT,\n   "title" TEXT,\n'
                                '   "site_id" TEXT REFERENCES "sites"("id"),\n   "start" TEXT,\n   "end" TEXT,\n'
                                '   "mode" TEXT,\n   "participants" TEXT,\n   "summary" TEXT,\n'),
    _record_table("observations", '   "stage" TEXT,\n   "body" TEXT,\n'
                                  '   "encounter_id" TEXT REFERENCES "encounters"("id"),\n'
                                  '   "observed_at" TEXT,\n   "observed_precision" TEXT,\n   "observed_raw" TEXT,\n'
                                  '   "recorded_at" TEXT,\n   "tags" TEXT,\n   "mentions" TEXT,\n'
                                  '   "derived_from" TEXT,\n'),
    _record_table("memos", '   "kind" TEXT,\n   "title" TEXT,\n   "body" TEXT,\n   "links" TEXT,\n'
                           '   "tags" TEXT,\n   "mentions" TEXT,\n'),
    _record_table("codes", '   "name" TEXT,\n   "parent_id" TEXT REFERENCES "codes"("id"),\n'
                           '   "definition" TEXT,\n   "include" TEXT,\n   "exclude" TEXT,\n   "example" TEXT,\n'
                           '   "colour" TEXT,\n   "status" TEXT,\n   "merged_into" TEXT REFERENCES "codes"("id"),\n'
                           '   "keywords" TEXT,\n'),
    _record_table("codings", '   "record_id" TEXT,\n   "code_id" TEXT REFERENCES "codes"("id"),\n'
                             '   "start" INTEGER,\n   "end" INTEGER,\n   "coder" TEXT,\n   "note" TEXT,\n'
                             '   "status" TEXT,\n'),
    _record_table("attachments", '   "sha256" TEXT,\n   "filename" TEXT,\n   "media_type" TEXT,\n'
                                 '   "size" INTEGER,\n   "record_id" TEXT,\n'),
    _index("idx_participants_code", "participants", '"code"', unique=True),
    _index("idx_encounters_code", "encounters", '"code"', unique=True),
    _index("idx_observations_encounter_id", "observations", '"encounter_id"'),
    _index("idx_observations_observed_at", "observations", '"observed_at"'),
    _index("idx_codings_record_id", "codings", '"record_id"'),
    _index("idx_codings_code_id", "codings", '"code_id"'),
    _index("idx_codes_parent_id", "codes", '"parent_id"'),
    _index("idx_consent_events_participant_id", "consent_events", '"participant_id"'),
    'CREATE TABLE "revisions" (\n   "id" INTEGER PRIMARY KEY,\n   "record_type" TEXT,\n   "record_id" TEXT,\n'
    '   "version" INTEGER,\n   "data" TEXT,\n   "author" TEXT,\n   "at" TEXT,\n   "reason" TEXT\n)',
    _index("idx_revisions_record_id", "revisions", '"record_id"'),
    'CREATE TABLE "audit" (\n   "id" INTEGER PRIMARY KEY,\n   "at" TEXT,\n   "author" TEXT,\n   "action" TEXT,\n'
    '   "record_type" TEXT,\n   "record_id" TEXT,\n   "detail" TEXT\n)',
    'CREATE TABLE "settings" (\n   "key" TEXT PRIMARY KEY,\n   "value" TEXT\n)',
    # full-text indexes over bodies (external content: the index reads the table's rows)
    'CREATE VIRTUAL TABLE "observations_fts" USING FTS5 (\n    "body",\n'
    "    tokenize='porter unicode61 remove_diacritics 2',\n    content=\"observations\"\n)",
    'CREATE TRIGGER "observations_ai" AFTER INSERT ON "observations" BEGIN\n'
    '  INSERT INTO "observations_fts" (rowid, "body") VALUES (new.rowid, new."body");\nEND',
    'CREATE TRIGGER "observations_ad" AFTER DELETE ON "observations" BEGIN\n'
    '  INSERT INTO "observations_fts" ("observations_fts", rowid, "body") VALUES(\'delete\', old.rowid, old."body");\n'
    'END',
    'CREATE TRIGGER "observations_au" AFTER UPDATE ON "observations" BEGIN\n'
    '  INSERT INTO "observations_fts" ("observations_fts", rowid, "body") VALUES(\'delete\', old.rowid, old."body");\n'
    '  INSERT INTO "observations_fts" (rowid, "body") VALUES (new.rowid, new."body");\nEND',
    'CREATE VIRTUAL TABLE "memos_fts" USING FTS5 (\n    "title", "body",\n'
    "    tokenize='porter unicode61 remove_diacritics 2',\n    content=\"memos\"\n)",
    'CREATE TRIGGER "memos_ai" AFTER INSERT ON "memos" BEGIN\n'
    '  INSERT INTO "memos_fts" (rowid, "title", "body") VALUES (new.rowid, new."title", new."body");\nEND',
    'CREATE TRIGGER "memos_ad" AFTER DELETE ON "memos" BEGIN\n'
    '  INSERT INTO "memos_fts" ("memos_fts", rowid, "title", "body") '
    'VALUES(\'delete\', old.rowid, old."title", old."body");\nEND',
    'CREATE TRIGGER "memos_au" AFTER UPDATE ON "memos" BEGIN\n'
    '  INSERT INTO "memos_fts" ("memos_fts", rowid, "title", "body") '
    'VALUES(\'delete\', old.rowid, old."title", old."body");\n'
    '  INSERT INTO "memos_fts" (rowid, "title", "body") VALUES (new.rowid, new."title", new."body");\nEND',
)

# Review decisions, added rules and the replacement log. None of them holds an original in
# clear: spans are named by record, offsets and a keyed digest. The secret keys the digests.
ANONYMISATION = (
    'CREATE TABLE "anonymisation_decisions" (\n   "id" INTEGER PRIMARY KEY,\n   "record_id" TEXT,\n'
    '   "start" INTEGER,\n   "end" INTEGER,\n   "digest" TEXT,\n   "action" TEXT,\n   "kind" TEXT,\n'
    '   "author" TEXT,\n   "at" TEXT\n)',
    _index("idx_anonymisation_decisions_record_id", "anonymisation_decisions", '"record_id"'),
    'CREATE TABLE "anonymisation_rules" (\n   "id" INTEGER PRIMARY KEY,\n   "digest" TEXT,\n   "words" INTEGER,\n'
    '   "kind" TEXT,\n   "author" TEXT,\n   "at" TEXT\n)',
    _index("idx_anonymisation_rules_digest", "anonymisation_rules", '"digest"', unique=True),
    'CREATE TABLE "anonymisation_log" (\n   "id" INTEGER PRIMARY KEY,\n   "record_id" TEXT,\n   "start" INTEGER,\n'
    '   "end" INTEGER,\n   "kind" TEXT,\n   "directness" TEXT,\n   "detector" TEXT,\n   "replacement" TEXT,\n'
    '   "digest" TEXT,\n   "action" TEXT,\n   "author" TEXT,\n   "at" TEXT\n)',
    _index("idx_anonymisation_log_record_id", "anonymisation_log", '"record_id"'),
    'CREATE TABLE "anonymisation_secret" (\n   "id" INTEGER PRIMARY KEY,\n   "secret" TEXT\n)',
)

# The insert triggers index a row only when no bulk insert is under way in this transaction;
# a bulk insert adds the row of search_deferred, indexes each batch with one INSERT ... SELECT,
# and removes the row again, all inside its transaction (other connections never see it).
SEARCH_BATCHES = (
    'CREATE TABLE "search_deferred" (\n   "id" INTEGER PRIMARY KEY CHECK ("id" = 1)\n)',
    'DROP TRIGGER "observations_ai"',
    'CREATE TRIGGER "observations_ai" AFTER INSERT ON "observations"\n'
    '  WHEN NOT EXISTS (SELECT 1 FROM "search_deferred") BEGIN\n'
    '  INSERT INTO "observations_fts" (rowid, "body") VALUES (new.rowid, new."body");\nEND',
    'DROP TRIGGER "memos_ai"',
    'CREATE TRIGGER "memos_ai" AFTER INSERT ON "memos"\n'
    '  WHEN NOT EXISTS (SELECT 1 FROM "search_deferred") BEGIN\n'
    '  INSERT INTO "memos_fts" (rowid, "title", "body") VALUES (new.rowid, new."title", new."body");\nEND',
)

# The research data lifecycle (issue 16): member-checked quotes and their versions, the
# register of every copy that left, and the journal that makes destruction completable.
LIFECYCLE = (
    'CREATE TABLE "quotes" (\n   "id" TEXT PRIMARY KEY NOT NULL,\n   "participant_id" TEXT,\n   "record_id" TEXT,\n'
    '   "coding_id" TEXT,\n   "start" INTEGER,\n   "end" INTEGER,\n   "status" TEXT,\n   "version" INTEGER,\n'
    '   "created_at" TEXT,\n   "updated_at" TEXT,\n   "author" TEXT\n)',
    _index("idx_quotes_participant_id", "quotes", '"participant_id"'),
    _index("idx_quotes_record_id", "quotes", '"record_id"'),
    'CREATE TABLE "quote_versions" (\n   "id" INTEGER PRIMARY KEY,\n   "quote_id" TEXT,\n   "version" INTEGER,\n'
    '   "status" TEXT,\n   "wording" TEXT,\n   "comment" TEXT,\n   "author" TEXT,\n   "at" TEXT\n)',
    _index("idx_quote_versions_quote_id", "quote_versions", '"quote_id"'),
    'CREATE TABLE "export_register" (\n   "id" INTEGER PRIMARY KEY,\n   "at" TEXT,\n   "author" TEXT,\n'
    '   "kind" TEXT,\n   "format" TEXT,\n   "profile" TEXT,\n   "dest" TEXT,\n   "selection" TEXT,\n'
    '   "counts" TEXT,\n   "left_out" TEXT,\n   "participants" TEXT,\n   "sha256" TEXT\n)',
    'CREATE TABLE "destruction_journal" (\n   "id" INTEGER PRIMARY KEY,\n   "at" TEXT,\n   "author" TEXT,\n'
    '   "classes" TEXT,\n   "plan" TEXT,\n   "state" TEXT,\n   "finished_at" TEXT\n)',
)


# A withdrawal's journal (written in the transaction that changes the project, finished once
# the key store holds the tombstone and the files are gone; doctor finishes a pending one)
# and speaker turns: the [start, end) of each speaker's words in a note's body.
CONSENT_TURNS = (
    'CREATE TABLE "withdrawals" (\n   "id" INTEGER PRIMARY KEY,\n   "participant_id" TEXT,\n   "code" TEXT,\n'
    '   "mode" TEXT,\n   "files" TEXT,\n   "state" TEXT,\n   "started_at" TEXT,\n   "finished_at" TEXT\n)',
    'CREATE TABLE "turns" (\n   "id" INTEGER PRIMARY KEY,\n   "record_id" TEXT NOT NULL,\n'
    '   "start" INTEGER NOT NULL,\n   "end" INTEGER NOT NULL,\n   "speaker_id" TEXT,\n   "speaker_label" TEXT,\n'
    '   "speaker_kind" TEXT,\n   "time_start" REAL,\n   "time_end" REAL\n)',
    _index("idx_turns_record_id", "turns", '"record_id"'),
    _index("idx_turns_speaker_id", "turns", '"speaker_id"'),
)


# What exchange with other tools keeps: each imported record's identity in the file it came
# from (the other tool's GUID or id, and what fieldkit has no field for: a document's name,
# its variables and sets, a code's codability), so a second import matches instead of
# doubling and an export gives the record back its identity; and the conflicts a merge found.
EXCHANGE = (
    'CREATE TABLE "exchange_ids" (\n   "external_id" TEXT PRIMARY KEY,\n   "record_id" TEXT,\n'
    '   "record_type" TEXT,\n   "origin" TEXT,\n   "data" TEXT\n)',
    _index("idx_exchange_ids_record_id", "exchange_ids", '"record_id"'),
    'CREATE TABLE "merge_conflicts" (\n   "id" INTEGER PRIMARY KEY,\n   "at" TEXT,\n   "source" TEXT,\n'
    '   "record_type" TEXT,\n   "record_id" TEXT,\n   "what" TEXT,\n   "resolved_at" TEXT\n)',
    _index("idx_merge_conflicts_record_id", "merge_conflicts", '"record_id"'),
)


def _words_index(table: str, columns: str, new: str, old: str) -> tuple:
    """An unstemmed, row-level full-text index of a table, with its vocabulary and triggers."""
    words = f"{table}_words"
    return (
        f'CREATE VIRTUAL TABLE "{words}" USING FTS5 (\n    {columns},\n'
        f"    tokenize='unicode61 remove_diacritics 2',\n    content=\"{table}\",\n    detail=none\n)",
        f'CREATE VIRTUAL TABLE "{words}_vocab" USING fts5vocab("{words}", row)',
        f'CREATE TRIGGER "{words}_ai" AFTER INSERT ON "{table}"\n'
        f'  WHEN NOT EXISTS (SELECT 1 FROM "search_deferred") BEGIN\n'
        f'  INSERT INTO "{words}" (rowid, {columns}) VALUES (new.rowid, {new});\nEND',
        f'CREATE TRIGGER "{words}_ad" AFTER DELETE ON "{table}" BEGIN\n'
        f'  INSERT INTO "{words}" ("{words}", rowid, {columns}) VALUES(\'delete\', old.rowid, {old});\nEND',
        f'CREATE TRIGGER "{words}_au" AFTER UPDATE ON "{table}" BEGIN\n'
        f'  INSERT INTO "{words}" ("{words}", rowid, {columns}) VALUES(\'delete\', old.rowid, {old});\n'
        f'  INSERT INTO "{words}" (rowid, {columns}) VALUES (new.rowid, {new});\nEND',
        f'INSERT INTO "{words}" ("{words}") VALUES (\'rebuild\')',
    )


#: the leading characters of a body that the text indexes hold (finding a text already
#: stored looks up its start, then compares whole bodies)
TEXT_START = 64

# Words as written, beside the stemmed index, so that a prefix search finds every word that
# starts with the prefix (see INDEX_SUFFIXES); and the start of each body indexed, so that an
# import finds a text already stored without reading every body.
SEARCH_WORDS = (
    *_words_index("observations", '"body"', 'new."body"', 'old."body"'),
    *_words_index("memos", '"title", "body"', 'new."title", new."body"', 'old."title", old."body"'),
    _index("idx_observations_body_start", "observations", 'substr("body", 1, 64)'),
    _index("idx_memos_body_start", "memos", 'substr("body", 1, 64)'),
)


def _run(statements: Sequence[str]) -> Callable:
    def apply(db) -> None:
        for sql in statements:
            db.execute(sql)

    return apply


def _anonymisation(db) -> None:
    import secrets

    _run(ANONYMISATION)(db)
    # the key for the anonymisation digests (0005 moves it out of the project database)
    db.execute("INSERT INTO anonymisation_secret (id, secret) VALUES (1, ?)", [secrets.token_hex(32)])


# The digest key belongs in the key store (fieldkit.privacy.anonymiser.digest_key moves it
# there). Where no decision, rule or log entry depends on it yet, it is simply dropped; the
# table stays (empty) so that every project has the same schema.
DIGEST_KEY_OUT = (
    'DELETE FROM "anonymisation_secret" WHERE NOT EXISTS (SELECT 1 FROM "anonymisation_decisions")\n'
    '  AND NOT EXISTS (SELECT 1 FROM "anonymisation_rules") AND NOT EXISTS (SELECT 1 FROM "anonymisation_log")',
)

# Participants a note is about besides its @mentions: a jotting's words never change, so a
# link it lacks (or a wrong one) is corrected here, with history. Participant ids, as JSON.
OBSERVATION_LINKS = (
    'ALTER TABLE "observations" ADD COLUMN "links" TEXT',
)

# What another tool's file holds that is no fieldkit record, kept so an export writes it back:
# its sets (MAXQDA document sets, code and memo sets), its users (also those who coded
# nothing) and its cases that refer to no imported document, each under the tool's own id;
# and which records each set holds (a withdrawal erases a member's row with the record).
EXCHANGE_ITEMS = (
    'CREATE TABLE "exchange_items" (\n   "external_id" TEXT PRIMARY KEY,\n   "kind" TEXT NOT NULL,\n'
    '   "name" TEXT,\n   "origin" TEXT,\n   "data" TEXT\n)',
    _index("idx_exchange_items_kind", "exchange_items", '"kind"'),
    'CREATE TABLE "exchange_members" (\n   "item_id" TEXT NOT NULL,\n   "record_id" TEXT NOT NULL,\n'
    '   "record_type" TEXT,\n   PRIMARY KEY ("item_id", "record_id")\n)',
    _index("idx_exchange_members_record_id", "exchange_members", '"record_id"'),
)

#: every fieldkit migration, in order: (name, function of a sqlite-utils Database)
STEPS = (
    ("0001_initial", _run(INITIAL)),
    ("0002_anonymisation", _anonymisation),
    ("0003_search_batches", _run(SEARCH_BATCHES)),
    ("0004_consent_turns", _run(CONSENT_TURNS)),
    ("0005_digest_key_out", _run(DIGEST_KEY_OUT)),
    ("0006_exchange_ids", _run(EXCHANGE)),
    ("0007_lifecycle", _run(LIFECYCLE)),
    ("0008_search_words", _run(SEARCH_WORDS)),
    ("0009_observation_links", _run(OBSERVATION_LINKS)),
    ("0011_exchange_items", _run(EXCHANGE_ITEMS)),
)
#: their names: opening a current project compares these with the applied ones in plain SQL,
#: so a quick jot never imports sqlite-utils
MIGRATIONS = tuple(name for name, _ in STEPS)
SET_NAME = "fieldkit"


def migrations() -> Migrations:
    """fieldkit's migrations as a ``sqlite_utils.Migrations`` set."""
    from sqlite_utils import Migrations

    made = Migrations(SET_NAME)
    for name, step in STEPS:
        made(name=name)(step)
    return made


def applied_migrations(conn: sqlite3.Connection, migration_set: str = SET_NAME) -> list[str]:
    """Names of the migrations of one set applied to a database, in order (plain SQL)."""
    if not conn.execute("select 1 from sqlite_master where name = '_sqlite_migrations'").fetchone():
        return []
    rows = conn.execute("select name from _sqlite_migrations where migration_set = ? order by rowid",
                        [migration_set])
    return [row[0] for row in rows]


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply fieldkit's pending migrations to the connection's database; return their names.

    Refuses a database written by a newer fieldkit. sqlite-utils is imported only when
    something is pending."""
    applied = applied_migrations(conn)
    newer = [name for name in applied if name not in MIGRATIONS]
    if newer:
        raise FieldkitError(
            f"this project was written by a newer fieldkit (schema {newer[-1]}); upgrade fieldkit to open it"
        )
    pending = [name for name in MIGRATIONS if name not in applied]
    if pending:
        from fieldkit.store.connection import database

        migrations().apply(database(conn))
    return pending


# --- plugin tables ------------------------------------------------------------------------------


def migrate_plugins(conn: sqlite3.Connection, sets: dict[str, tuple]) -> list[str]:
    """Apply the pending migrations of plugin sets (each migration in its own transaction).

    ``sets`` is ``{set name: ((migration name, SQL statements), ...)}``, as plugins register
    them (see ``Project`` and the ``register_migrations`` hook)."""
    done = []
    for set_name, steps in sets.items():
        applied = set(applied_migrations(conn, set_name))
        pending = [name for name, _ in steps if name not in applied]
        if not pending:
            continue
        from sqlite_utils import Migrations

        from fieldkit.store.connection import database, errors

        made = Migrations(set_name)
        for name, statements in steps:
            made(name=name)(_run(statements))
        try:
            made.apply(database(conn))
        except errors("Error") as exc:
            raise PluginError(f"the plugin migrations {set_name!r} failed ({exc}); the project was left as it was "
                              "before the failing migration") from None
        done += [f"{set_name}:{name}" for name in pending]
    return done
