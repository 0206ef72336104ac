"""Merging records that come back from another copy of the project (a second coder's work).

An import that meets a record it already has (the same id, or another tool's id it has seen
before) merges instead of adding a copy:

* the same content: nothing happens (importing a file twice changes nothing);
* the file holds a version this project had before (in its history): this project's newer
  version stays;
* the file's copy changed and this one did not (only a backup carries the other side's
  history, so only a JSONL import can tell): the file's version is applied, the old one kept
  in history;
* both changed: a *conflict*. This project's version stays current, the file's version is
  kept in the record's history, and the conflict is listed for ``fieldkit merge --review``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Optional, Union

if TYPE_CHECKING:  # annotations only
    from fieldkit.exchange.importing import ImportReport
    from fieldkit.project import Project

#: what a REFI-QDA file carries of each record, so the fields two copies are compared on
#: (the rest -- raw time text, tags derived from the body -- a .qdpx cannot carry)
CARRIED = {
    "observation": ("body",),
    "memo": ("title", "body"),
    "code": ("name", "parent_id", "colour", "definition", "include", "exclude", "example"),
    "coding": ("record_id", "code_id", "start", "end", "coder", "note"),
}
#: never compared: when and by whom a copy was made says nothing about its content
_IGNORED = frozenset({"created_at", "author"})


def content(record_or_json: object, fields: Optional[tuple] = None) -> dict:
    """The fields of a record (or its JSON shape) that a merge compares."""
    from fieldkit.core.convert import to_json

    data = record_or_json if isinstance(record_or_json, dict) else to_json(record_or_json)
    if fields is not None:
        return {k: data.get(k) for k in fields}
    return {k: v for k, v in data.items() if k not in _IGNORED}


def describe(current: object, incoming: object) -> str:
    """A short line saying what differs (names of codes, never note text)."""
    kind = current.type_name
    if kind == "code" and current.name != incoming.name:
        return f"code renamed in both: {current.name!r} here, {incoming.name!r} in the file"
    fields = [k for k, v in content(current).items() if content(incoming).get(k) != v]
    return f"{kind} changed in both ({', '.join(fields) or 'content'})"


class Merger:
    """Merges records of one import into the project; counts outcomes in the import report."""

    def __init__(self, project: "Project", report: "ImportReport", *, source: str, fields: Optional[dict] = None):
        self.project = project
        self.report = report
        self.source = source
        self.fields = fields  # type name -> compared fields; None compares every field

    def _fields(self, type_name: str) -> Optional[tuple]:
        return None if self.fields is None else self.fields.get(type_name)

    def merge(self, incoming: object, their_history: Iterable[dict] = (), *, current: object = None) -> str:
        """Merge ``incoming`` into the stored record with its id (``current``, when the caller
        has read it already); returns what happened."""
        store = self.project.store
        kind = incoming.type_name
        if current is None:
            found = store.get(kind, incoming.id)
            if found is None:
                raise ValueError(f"no stored {kind} {incoming.id} to merge into")
            current = found[0]
        fields = self._fields(kind)
        theirs = content(incoming, fields)
        if content(current, fields) == theirs:
            self.report.count(f"{kind}s already in the project (unchanged)")
            return "unchanged"
        if any(content(rev["data"], fields) == theirs for rev in store.history(incoming.id)):
            self.report.count(f"{kind}s kept as here (the file has an older version)")
            return "ours"
        ours = content(current, fields)
        if any(content(past, fields) == ours for past in their_history):
            self.project.update(incoming, reason=f"merged from {self.source}")
            self.report.count(f"{kind}s updated from the file")
            return "theirs"
        store.keep_revision(incoming, reason=f"merge conflict: the version in {self.source}, not applied")
        what = describe(current, incoming)
        store.exchange.add_conflict(self.source, kind, incoming.id, what)
        self.report.count("conflicts (both versions kept; see 'fieldkit merge --review')")
        return "conflict"


def keep_item(project: "Project", report: "ImportReport", external_id: str, kind: str, name: str, origin: str,
              data: dict, members: Iterable[tuple[str, str]] = ()) -> None:
    """Keep another tool's set, user or case (``store.exchange``), adding the members the project
    lacks, and count what happened: a second import of the same file changes nothing."""
    exchange = project.store.exchange
    outcome, fields = exchange.keep_item(external_id, kind, name, origin, data)
    if outcome == "added":
        report.count(f"{kind}s kept (written back on export)")
    elif outcome == "unchanged":
        report.count(f"{kind}s already kept (unchanged)")
    else:  # no history tells which side changed it: the kept one stays, listed for review
        # the line names fields, never the name: another tool's case may be named after a person
        exchange.add_conflict(report.source, kind, external_id,
                              f"kept {kind} differs from this file's ({', '.join(fields) or 'content'}); "
                              "the kept one stays, the file's is not kept")
        report.notes.append(f"{kind} {name!r} ({external_id}) differs from the one kept from an earlier import; "
                            "the kept one stays (listed by 'fieldkit merge --review')")
    members = list(members)
    if members:
        added = exchange.add_members(external_id, members)
        if added and outcome != "added":
            report.count(f"{kind} members added", added)


def review(project: "Project", *, include_resolved: bool = False) -> list[dict]:
    """The conflicts merges found and not yet marked resolved (``fieldkit merge --review``)."""
    return project.store.exchange.conflicts(include_resolved=include_resolved)


def resolve(project: "Project", conflict_id: int) -> None:
    """Mark a conflict resolved (after choosing or editing the version to keep)."""
    from fieldkit.core.errors import NotFound

    with project.transaction():
        if not project.store.exchange.resolve(conflict_id):
            raise NotFound(f"no open conflict {conflict_id}; 'fieldkit merge --review' lists them")


def merge_file(project: "Project", source: Union[str, Path], *, dry_run: bool = False,
               offsets: str = "auto") -> "ImportReport":
    """Merge a ``.qdpx`` or ``.jsonl`` file into the project (what ``fieldkit merge`` runs)."""
    from fieldkit.core.errors import InvalidInput
    from fieldkit.exchange.importing import ImportOptions, run_importer

    suffix = Path(source).suffix.lower()
    formats = {".qdpx": "qdpx", ".qde": "qdpx", ".jsonl": "jsonl"}
    if suffix not in formats:
        raise InvalidInput(f"merge reads .qdpx and .jsonl files, not {Path(source).name}")
    extra = {"offsets": offsets} if offsets != "auto" else {}
    return run_importer(project, formats[suffix], source, ImportOptions(dry_run=dry_run, extra=extra))
