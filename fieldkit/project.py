"""A fieldkit project: one directory holding ``fieldkit.db`` and its attachments.

``Project`` creates, reads, updates, tombstones, lists and searches records. It turns what
a person typed (``E12``, ``P03``, a code path) into ids, fills in what a record derives
(its author, its tags and mentions), calls the ``validate_record`` and ``record_saved``
hooks, and keeps codings on their text when a body is edited; every statement it runs
goes through its store (``project.store``, see ``fieldkit.store.store``). Every write runs
in one ``BEGIN IMMEDIATE`` transaction, keeps the previous version in ``revisions`` and
adds a line to ``audit``.
"""

from __future__ import annotations

import contextlib
import getpass
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Optional, TypeVar

import attrs

from fieldkit.core import records
from fieldkit.core.errors import FieldkitError, NotFound, Refused
from fieldkit.core.markdown import tags_and_mentions
from fieldkit.store.connection import DB_NAME
from fieldkit.store import schema
from fieldkit.store.schema import SEARCHABLE, TABLES
from fieldkit.store.store import Store

from fieldkit.core.settings import DEFAULTS as DEFAULT_SETTINGS

if TYPE_CHECKING:  # annotations only
    import sqlite3

    import sqlite_utils

#: a record type: ``add``, ``update`` and ``prepare`` give back the type they were given
R = TypeVar("R", bound=records.Record)
_MISSING = object()
#: the revision reason of a coding whose text an edit changed (``review_texts`` looks for it)
REVIEW_REASON = "text edited: the coded text changed; needs review"


@attrs.frozen
class Revision:
    """A previous version of a record, kept when it was changed."""

    record_id: str
    record_type: str
    version: int
    data: dict
    author: str
    at: str
    reason: str


@attrs.frozen
class SearchHit:
    """One search result: the record, a snippet with ``[`` ``]`` around matches, and a rank."""

    record: object
    snippet: str
    rank: float


def default_author() -> str:
    env = os.environ.get("FIELDKIT_AUTHOR")
    if env:
        return env
    try:
        return getpass.getuser()
    except Exception:  # no user name on some containers
        return "unknown"


def find_project(start: Optional[Path] = None) -> Path:
    """The project directory: ``FIELDKIT_PROJECT``, else walk up from ``start`` like git does."""
    env = os.environ.get("FIELDKIT_PROJECT")
    if env and start is None:
        path = Path(env).expanduser()
        if not (path / DB_NAME).exists():
            raise FieldkitError(f"FIELDKIT_PROJECT={env} is not a fieldkit project (no {DB_NAME})")
        return path
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / DB_NAME).exists():
            return folder
    raise FieldkitError(
        "no fieldkit project here or above; run 'fieldkit init DIR' or pass --project"
    )


def init(path: "str | os.PathLike[str]", *, timezone: str = "Europe/London", author: str = "") -> "Project":
    """Create a new project directory (mode 0700) with an empty database (mode 0600)."""
    from fieldkit.core.timeinput import check_timezone
    from fieldkit.store import connection

    path = Path(path).expanduser()
    check_timezone(timezone)
    if (path / DB_NAME).exists():
        raise Refused(f"{path} already holds a fieldkit project")
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)
        conn = connection.connect(path / DB_NAME, create=True)
    except PermissionError:
        raise FieldkitError(f"cannot create a project in {path}: permission denied") from None
    except OSError as exc:
        raise FieldkitError(f"cannot create a project in {path}: {exc.strerror}") from None
    schema.migrate(conn)
    project = Project(path, conn)
    with project.transaction():
        for key, value in {**DEFAULT_SETTINGS, "timezone": timezone, "author": author}.items():
            project.store.set_setting(key, value)
        project.store.audit("init", "project", "", f"created at {path.name}")
    project._migrate_plugins()
    return project


def open(path: "str | os.PathLike[str] | None" = None, *, passphrase: Optional[str] = None) -> "Project":  # noqa: A001 - as in the brief
    """Open an existing project (``path`` or discovery), migrating its schema if needed.

    An encrypted project needs ``passphrase``, else FIELDKIT_PASSPHRASE or the system keyring."""
    from fieldkit.store import connection

    path = Path(path).expanduser() if path else find_project()
    if not (path / DB_NAME).exists():
        if (path.name == DB_NAME) and path.exists():
            path = path.parent
        else:
            raise FieldkitError(f"{path} is not a fieldkit project (no {DB_NAME}); run 'fieldkit init {path}'")
    from fieldkit.store.lock import identity, shared

    # connect under the project lock, so never while encrypt/decrypt swaps the file and its
    # WAL; a file replaced after this makes the first write fail cleanly (see store.lock)
    with shared(path):
        if passphrase is None and connection.is_encrypted(path / DB_NAME):
            from fieldkit.store.encryption import stored_passphrase

            passphrase = stored_passphrase(path)
        opened = identity(path / DB_NAME)
        conn = connection.connect(path / DB_NAME, passphrase=passphrase)
        try:
            schema.migrate(conn)
        except connection.errors("DatabaseError") as exc:
            conn.close()
            if "readonly" in str(exc):
                raise FieldkitError(f"{path} needs an upgrade to this fieldkit's schema but is read-only; open it "
                                    "once where it can be written") from None
            raise FieldkitError(f"{path / DB_NAME} is not a usable fieldkit database ({exc})") from None
    project = Project(path, conn, opened=opened)
    project._migrate_plugins()
    return project


#: the column a person names a record of each type by (beside its id)
NAMED_BY = {"participant": "code", "encounter": "code", "site": "name", "code": "name", "attachment": "filename"}


class Project:
    """An open project. Use ``fieldkit.open`` or ``fieldkit.init`` to get one."""

    def __init__(self, path: Path, conn, *, opened: Optional[tuple] = None):
        self.path = Path(path)
        conn = getattr(conn, "conn", conn)  # a sqlite-utils Database is accepted too
        #: every statement the project runs goes through its store
        self.store = Store(conn, self.path, author=lambda: self.author, opened=opened)
        #: ``(record id, problem)`` pairs that ``validate_record`` hooks reported
        self.warnings: list[tuple[str, str]] = []
        self._author: Optional[str] = None
        #: record id -> the record as ``check`` passed it, until it is added
        self._checked: dict = {}

    def __repr__(self):
        return f"<Project {self.path}>"

    @property
    def conn(self) -> "sqlite3.Connection":
        """The project's ``sqlite3`` connection, for a script's own reads."""
        return self.store.conn

    @property
    def db(self) -> "sqlite_utils.Database":
        """A sqlite-utils ``Database`` on the project's connection, for a script's own reads."""
        return self.store.db

    def close(self) -> None:
        self.store.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _migrate_plugins(self) -> None:
        """Apply the migrations of plugins that keep tables of their own (see ``register_migrations``)."""
        from fieldkit.store import schema

        sets = plugin_migrations()
        if sets:
            schema.migrate_plugins(self.store.conn, sets)

    # settings ---------------------------------------------------------------------------
    def setting(self, key: str, default: Any = None) -> Any:
        value = self.store.setting(key, _MISSING)
        if value is _MISSING:
            return DEFAULT_SETTINGS.get(key, default)
        return value

    def settings(self) -> dict:
        """Every setting: the defaults, overridden by what the project stores."""
        return {**DEFAULT_SETTINGS, **self.store.settings()}

    def set_setting(self, key: str, value: Any) -> None:
        import json

        from fieldkit.core.settings import validate

        value = validate(key, value)
        with self.transaction():
            old = self.setting(key)
            self.store.set_setting(key, value)
            self.store.audit("setting", "settings", key, json.dumps({"old": old, "new": value}))

    @property
    def author(self) -> str:
        if self._author is None:
            self._author = os.environ.get("FIELDKIT_AUTHOR") or self.setting("author") or default_author()
        return self._author

    @property
    def timezone(self) -> str:
        return self.setting("timezone") or "Europe/London"

    # transactions -----------------------------------------------------------------------
    def transaction(self) -> contextlib.AbstractContextManager:
        """One write transaction (BEGIN IMMEDIATE, so concurrent writers queue); nested, a savepoint."""
        return self.store.transaction()

    # writing ----------------------------------------------------------------------------
    def prepare(self, record: R, *, capture: Optional[bool] = None) -> R:
        """The record as it will be stored: pseudonymised on capture when the project asks for
        it (``capture``: the setting, read here unless given), author filled, tags and
        mentions from its body."""
        if capture is None:
            capture = bool(self.setting("pseudonymise_on_capture"))
        records.check_writable(record)
        if capture:
            record = self._captured(record)
        changes = {}
        if not record.author:
            changes["author"] = self.author
        if isinstance(record, (records.Observation, records.Memo)):
            tags, mentions = tags_and_mentions(record.body)
            if tags != record.tags:
                changes["tags"] = tags
            if mentions != record.mentions:
                changes["mentions"] = mentions
        return attrs.evolve(record, **changes) if changes else record

    def _captured(self, record: R) -> R:
        """``record`` as the ``capture_record`` hooks pseudonymise it; refuses when none answers,
        so a project that promised to keep no names never stores one unseen."""
        results = _hooks().capture_record(project=self, record=record)
        if not results:
            raise Refused("pseudonymise_on_capture is on but no plugin pseudonymises records "
                          "(fieldkit.plugins.pseudonymise is missing); nothing was saved")
        changes: dict = {}
        for result in results:
            changes.update(result)
        return attrs.evolve(record, **changes) if changes else record

    def _validate(self, record, hook: Any = None) -> list[str]:
        """Problems ``validate_record`` hooks report about ``record`` (kept in ``warnings``);
        ``hook`` is the hook caller, when a bulk write has it at hand."""
        # the plugin manager has checked each answer is a list of strings, naming the plugin
        results = (hook or _hooks().validate_record)(project=self, record=record)
        problems = [problem for result in results for problem in result]
        if problems:
            self.warnings += [(record.id, problem) for problem in problems]
        return problems

    def _saved(self, written: list) -> None:
        """Tell ``record_saved`` hooks about records now in the database."""
        hook = _hooks().record_saved
        for record in written:
            hook(project=self, record=record)

    def check(self, record: R) -> R:
        """The record as ``add`` would store it, after the checks ``add`` makes (references
        exist, ``validate_record`` hooks), without writing anything; raises as ``add`` would.

        Adding exactly the record returned does not run the hooks a second time (an importer
        checks every file before it writes any); ``forget_checks`` drops what was not added."""
        record = self.prepare(record)
        self._check_references(record)
        self._validate(record)
        self._checked[record.id] = record
        return record

    def forget_checks(self) -> None:
        """Forget records ``check`` passed that were not added."""
        self._checked.clear()

    def add(self, record: R, *, reason: str = "created") -> R:
        """Save a new record; returns it as stored (author filled, tags derived)."""
        if self._checked.pop(record.id, None) != record:
            record = self.check(record)
            self._checked.pop(record.id, None)
        else:
            self._check_references(record)  # a reference may have gone since the check
        with self.transaction():
            self.store.insert([record], written=self._saved)
            self.store.audit("create", record.type_name, record.id, reason)
        return record

    def add_many(self, items: Iterable, *, reason: str = "bulk import", batch_size: int = 1000) -> int:
        """Save many new records in one transaction (all or nothing); returns how many.

        The same hooks run as for ``add``; a failing hook undoes the whole batch. References
        are checked by the database (``add`` checks them first, for a friendlier message)."""
        hooks = _hooks()
        validate = hooks.validate_record if hooks.validate_record.get_hookimpls() else None
        saved = self._saved if hooks.record_saved.get_hookimpls() else None
        capture = bool(self.setting("pseudonymise_on_capture"))
        prepare, check = self.prepare, self._validate

        def prepared() -> Iterator[records.Record]:
            for record in items:
                record = prepare(record, capture=capture)
                if validate is not None:
                    check(record, validate)
                yield record

        with self.transaction():
            count = self.store.insert(prepared(), batch_size=batch_size, written=saved)
            self.store.audit("bulk_create", "*", "", f"{reason}: {count} records")
        return count

    def update(self, record: R, *, reason: str = "") -> R:
        """Save a changed record, keeping the previous version in the revision history."""
        old = self.get(record.id, type_name=record.type_name)
        if isinstance(old, records.Observation) and old.stage == "jotting" \
                and attrs.evolve(record, encounter_id=old.encounter_id, links=old.links) != old:
            # only its links (encounter, participants) can be corrected, with history; its words never change
            raise Refused("jottings cannot be changed; expand them into a fieldnote instead")
        if type(record) is not type(old):
            raise Refused("a record cannot change its type")
        jotting = isinstance(old, records.Observation) and old.stage == "jotting"
        # a jotting's words stay as written even when pseudonymising on capture was turned on since
        record = attrs.evolve(self.prepare(record, capture=False if jotting else None),
                              created_at=old.created_at, author=old.author)
        if record == old:
            return old
        self._check_references(record)
        self._validate(record)
        with self.transaction():
            self.store.update(old, record, reason=reason)
            if getattr(old, "body", None) is not None and old.body != record.body:
                self._follow_edit(old, record)
                self._move_quotes(old, record)
            self._saved([record])
        return record

    def _follow_edit(self, old, new) -> None:
        """Move every coding of an edited body onto the new text; flag those whose text changed.

        An exact character diff (``fieldkit.core.remap.diff_edits``) says which codings an
        edit reached: one whose characters it left alone keeps its status and moves exactly
        with its text. One whose text was changed, cut or added to is marked ``review``,
        never left looking ``ok`` on other text, and is placed over the changed words (a
        word diff, ``diff_words``, so it does not land on scraps of another word). Its
        previous span stays in its history, so the text it covered can be shown beside the
        new (``fieldkit.coding.codings.review_texts``).
        """
        from fieldkit.core.remap import diff_edits, diff_words, map_span

        codings = self.store.select("coding", record_id=old.id, has_span=True)
        turns = self.store.turns.of_record(old.id)
        if not codings and not turns:
            return
        edits = diff_edits(old.body, new.body)
        self.store.turns.follow(old.id, edits)  # who said what moves with the words
        words = None
        for coding in codings:
            mapped = map_span(edits, coding.start, coding.end)
            if mapped.status == "exact":
                changed, why = attrs.evolve(coding, start=mapped.start, end=mapped.end), "text edited: coding moved"
            else:
                words = diff_words(old.body, new.body) if words is None else words
                placed = map_span(words, coding.start, coding.end)
                changed, why = attrs.evolve(coding, start=placed.start, end=placed.end, status="review"), REVIEW_REASON
            if changed != coding:
                self.store.update(coding, changed, reason=why)

    def _move_quotes(self, old, new) -> None:
        """Move the member-checked quotes of an edited body with their text, as codings move:
        a withdrawn quote must keep covering the words the participant withdrew."""
        from fieldkit.core.remap import diff_edits, map_span

        quotes = self.store.lifecycle.quotes(record_ids=[old.id])
        if not quotes:
            return
        edits = diff_edits(old.body, new.body)
        for quote in quotes:
            mapped = map_span(edits, quote["start"], quote["end"], replacements_ok=False)
            if (mapped.start, mapped.end) != (quote["start"], quote["end"]):
                self.store.lifecycle.move_quote(quote["id"], mapped.start, mapped.end)

    def delete(self, ref: "str | records.Record", *, reason: str = "") -> records.Record:
        """Tombstone a record: it disappears from lists but stays in the database."""
        record = self.get(ref)
        with self.transaction():
            self.store.tombstone(record, reason=reason)
        return record

    def undelete(self, ref: "str | records.Record", *, reason: str = "") -> records.Record:
        record = self.get(ref, include_deleted=True)
        with self.transaction():
            self.store.untombstone(record, reason=reason)
        return record

    def _check_references(self, record):
        """Refuse references to records that do not exist, with a readable message."""
        refs = []
        for name in ("encounter_id", "site_id", "participant_id", "parent_id", "code_id", "record_id", "merged_into"):
            value = getattr(record, name, None)
            if value:
                refs.append((name, value))
        for item in getattr(record, "participants", ()) or ():
            refs.append(("participant", item.participant_id))
        for ref_id in getattr(record, "derived_from", ()) or ():
            refs.append(("derived_from", ref_id))
        if isinstance(record, records.Observation):
            for ref_id in record.links:
                if self.find_type(ref_id) != "participant":
                    raise NotFound(f"participant {ref_id} does not exist in this project")
        for name, value in refs:
            if self.find_type(value) is None:
                raise NotFound(f"{name} {value} does not exist in this project")

    # reading ----------------------------------------------------------------------------
    def find_type(self, record_id: str) -> Optional[str]:
        """The type name of the record with this exact id, or None."""
        return self.store.find_type(record_id)

    def resolve(self, ref: str, type_name: Optional[str] = None) -> str:
        """Turn what a person typed (an id, a unique id suffix, P03, E12, a site, code or attachment
        file name) into an id."""
        ref = (ref or "").strip()
        if not ref:
            raise NotFound("no record given")
        types = [type_name] if type_name else list(TABLES)
        for t in types:
            if self.store.count(t, id=ref, include_deleted=True):
                return ref
        for t in types:
            column = NAMED_BY.get(t)
            if not column:
                continue
            found = self.store.ids_named(t, column, ref)
            if len(found) == 1:
                return found[0]
            if len(found) > 1 and t == "code":
                return self.resolve_code(ref).id
            if len(found) > 1:
                raise NotFound(f"{len(found)} {t}s are named '{ref}' (in one letter case or another); give the id, "
                               f"or rename one ('fieldkit doctor' lists them)")
        if "code" in types and "/" in ref:
            return self.resolve_code(ref).id
        if 6 <= len(ref) <= 40:  # an id ending or beginning (ids are 26 characters; longer text is not one)
            matches = [found for t in types for found in self.store.ids_around(t, ref.upper())]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise NotFound(f"'{ref}' matches {len(matches)} records; give more of the id")
        what = type_name or "record"
        raise NotFound(f"no {what} '{ref}' in this project{self._did_you_mean(ref, types)}")

    def _did_you_mean(self, ref: str, types: list) -> str:
        """``"; did you mean P01?"`` from the codes and names of registers close to ``ref``."""
        import difflib

        names = [getattr(record, NAMED_BY[t]) for t in types if t in NAMED_BY for record in self.store.select(t)]
        if "code" in types:
            names += list(self.store.coding.paths(include_deleted=False).values())
        lowered = {n.casefold(): n for n in names if n}
        close = difflib.get_close_matches(ref.casefold(), list(lowered), n=3, cutoff=0.6)
        score = {n: difflib.SequenceMatcher(None, ref.casefold(), n).ratio() for n in close}
        # only the closest (ties in alphabetical order): one good guess, not a list of near misses
        best = sorted((n for n in close if score[n] >= max(score.values()) - 0.05), key=lambda n: (-score[n], n))
        return f"; did you mean {' or '.join(lowered[n] for n in best)}?" if best else ""

    def resolve_code(self, ref: str) -> records.Code:
        """A live code by id, path (``parent/child``) or unique name; raises NotFound."""
        ref = (ref or "").strip()
        queries = self.store.coding
        found = self.store.select("code", id=ref)
        if not found and "/" not in ref:
            found = queries.named(ref, anywhere=True)
        if not found and "/" in ref:
            parent_id = None
            for part in ref.strip("/").split("/"):
                found = queries.named(part, parent_id=parent_id)
                if not found:
                    raise NotFound(f"no code '{ref}' in the codebook{self._did_you_mean(ref, ['code'])}")
                parent_id = found[0].id
        if not found:
            raise NotFound(f"no code '{ref}' in the codebook{self._did_you_mean(ref, ['code'])}")
        if len(found) > 1:
            paths = queries.paths()
            raise NotFound(f"code name '{ref}' is ambiguous ({', '.join(paths[c.id] for c in found)}); "
                           "give its path")
        return found[0]

    def get(self, ref: str, *, type_name: Optional[str] = None, include_deleted: bool = False) -> records.Record:
        """The record for an id or a name a person typed; raises NotFound."""
        record_id = self.resolve(ref, type_name)
        found = type_name or self.find_type(record_id)
        record, deleted_at = self.store.get(found, record_id)
        if deleted_at and not include_deleted:
            raise NotFound(f"{found} {record_id} was deleted on {deleted_at[:10]}")
        return record

    def list(self, type_name: str, *, order_by: str = "id", limit: Optional[int] = None,
             include_deleted: bool = False, **filters) -> list:
        """Records of one type, in id order (so oldest first) unless ``order_by`` names columns.

        Filters: ``stage``, ``kind``, ``status``, ``role``, ``coder`` or any other column
        (a value, or a list of values); ``encounter``, ``participant`` and ``code`` (as a
        person types them: ``E12``, ``P03``, ``power/agenda``); ``tag``; ``since``/``until``
        (datetimes, on ``observed_at`` or ``created_at``); ``after`` (ids after this one, to
        read page by page with ``limit``). A filter given as None is left out."""
        return self.store.select(type_name, order_by=order_by or "id", limit=limit, include_deleted=include_deleted,
                                 **self._conditions(type_name, filters))

    def _conditions(self, type_name: str, filters: dict) -> dict:
        """``Store.select`` conditions for what ``list`` takes (references resolved to ids)."""
        if type_name not in TABLES:
            raise FieldkitError(f"unknown record type '{type_name}'; choose from {', '.join(TABLES)}")
        conditions = {}
        for key, value in filters.items():
            if value is None or value == ():
                continue
            if key == "encounter":
                conditions["encounter_id"] = self.resolve(value, "encounter")
            elif key == "tag":
                conditions["tag"] = value.lstrip("#").lower()
            elif key == "participant":
                pid = self.resolve(value, "participant")
                conditions["about"] = (pid, self.get(pid).code)
            elif key == "code":
                conditions["coded_with"] = [self.resolve_code(value).id]
            elif key in ("since", "until", "after"):
                conditions[key] = value
            elif key in self.store.columns(TABLES[type_name]):
                conditions[key] = value
            else:
                raise FieldkitError(f"unknown filter '{key}' for {type_name}")
        return conditions

    def count(self, type_name: str, **filters) -> int:
        """How many live records of a type (``list``'s filters apply)."""
        return self.store.count(type_name, **self._conditions(type_name, filters))

    def history(self, ref: str) -> list[Revision]:
        """Every earlier version of a record, oldest first (the current version is ``get``)."""
        record = self.get(ref, include_deleted=True)
        return [Revision(r["record_id"], r["record_type"], r["version"], r["data"], r["author"], r["at"], r["reason"])
                for r in self.store.history(record.id)]

    def audit_log(self, limit: int = 100) -> list[dict]:
        return self.store.audit_log(limit)

    # search -----------------------------------------------------------------------------
    def search(self, query: str, *, types: Iterable[str] = ("observation", "memo"), limit: int = 50, **filters) -> list[SearchHit]:
        """Full-text search (FTS5, ranked by bm25) over observation and memo bodies.

        ``query`` as a person types it (see ``docs/search.md``): words (all must match),
        ``OR``, ``NOT``, quoted phrases, ``prefix*``, ``NEAR``, brackets and the field filters
        ``code:``, ``speaker:``, ``site:``, ``role:``, ``encounter:``, ``tag:``; other filters
        as in ``list``. A type a filter cannot apply to (a memo has no encounter) is left out."""
        from fieldkit.core.searchquery import parse_query

        parsed = parse_query(query)
        hits = []
        for type_name in types:
            if type_name not in SEARCHABLE:
                raise FieldkitError(f"cannot search {type_name} records; choose observation or memo")
            conditions = self._search_conditions(type_name, parsed.filters, filters)
            if conditions is None:
                continue
            found = self.store.search(type_name, parsed, limit=limit, conditions=conditions)
            hits += [SearchHit(*hit) for hit in found]
        hits.sort(key=lambda h: h.rank)
        return hits[:limit]

    def _search_conditions(self, type_name: str, fields: dict, filters: dict) -> Optional[dict]:
        """Store conditions for a search's field filters and ``list`` filters; None when a
        filter cannot apply to the type (its records can never match)."""
        given = {key: value for key, value in filters.items() if value is not None and value != ()}
        only_notes = {"encounter", "site", "stage", "speaker"}
        if type_name != "observation" and only_notes & (set(given) | set(fields)):
            return None
        # the code filter (-c) is the code itself, as in ``list``; code: takes the codes below it too
        conditions = self._conditions(type_name, given)
        for ref in fields.get("code", ()):
            conditions.setdefault("coded_with_all", []).append(self._code_and_below(ref))
        for key, values in fields.items():
            value = values[0]
            if key == "encounter":
                found = self.resolve(value, "encounter")
                if conditions.get("encounter_id", found) != found:
                    return None
                conditions["encounter_id"] = found
            elif key == "tag":
                conditions["tag"] = [*([conditions["tag"]] if "tag" in conditions else []),
                                     *(v.lstrip("#").lower() for v in values)]
            elif key == "site":
                conditions["at_site"] = self.resolve(value, "site")
            elif key == "speaker":
                person = self.get(self.resolve(value, "participant"))
                conditions["speaker"] = (person.id, person.code)
            elif key == "role":
                people = self.store.select("participant", role=value)
                if not people:
                    roles = sorted({p.role for p in self.store.select("participant")})
                    raise NotFound(f"no participant has the role '{value}'"
                                   + (f"; roles in use: {', '.join(roles)}" if roles else ""))
                conditions["about_any"] = [(p.id, p.code) for p in people]
        return conditions

    def _code_and_below(self, ref: str) -> list[str]:
        """A code's id and the ids of every code below it."""
        top = self.resolve_code(ref).id
        children: dict = {}
        for code_id, parent_id in self.store.coding.children():
            children.setdefault(parent_id, []).append(code_id)
        found, stack = [], [top]
        while stack:
            current = stack.pop()
            found.append(current)
            stack.extend(children.get(current, ()))
        return found


def plugin_migrations() -> dict[str, tuple]:
    """``{set name: ((migration name, DDL statements), ...)}`` registered by plugins.

    A plugin keeps tables of its own by registering a named set of migrations, each a name
    and a sequence of SQL statements (literal DDL, frozen like fieldkit's own)."""
    found: dict[str, tuple] = {}

    def register(set_name: str, steps: Iterable[Any]) -> None:
        # raised inside the plugin's hook call, so the plugin manager names the plugin
        if not isinstance(set_name, str) or not set_name or set_name == schema.SET_NAME:
            raise ValueError(f"a plugin migration set needs a name of its own, not {set_name!r}")
        if set_name in found:
            raise ValueError(f"two plugins registered migrations named {set_name!r}")
        checked = []
        for step in steps:
            name, statements = step
            if isinstance(statements, str):
                statements = (statements,)
            checked.append((str(name), tuple(statements)))
        found[set_name] = tuple(checked)

    _hooks().register_migrations(register=register)
    return found


def _hooks():
    from fieldkit.hooks.manager import get_plugin_manager

    return get_plugin_manager().hook
