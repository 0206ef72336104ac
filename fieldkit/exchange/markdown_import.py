"""Importing a folder of Markdown files with YAML front matter (Obsidian vaults, plain notes).

Each ``.md`` file (searched recursively, in name order) becomes one fieldnote, jotting or
memo. Front matter keys, all optional::

    ---
    type: observation        # or memo
    stage: fieldnote         # or jotting (observations)
    encounter: E3            # an existing encounter code
    observed: 2026-03-12 14:05   # also 'date'; any time fieldkit accepts, or a YAML date
    tags: [power, voice]     # or "power, voice"; added to the text as #tags
    participants: [P03, P07] # added to the encounter's participants
    kind: reflexive          # memos
    title: After the meeting # memos
    links: [E3, P03]         # memos: records, participants, encounters or codes
    ---

Any problem in any file (an unknown encounter, a bad time, unreadable YAML) is reported
and nothing is imported. A file whose text is already in the project is skipped, so
importing the same folder twice adds nothing, and an import that was interrupted while
writing (it writes in batches) can simply be run again.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TYPE_CHECKING

from fieldkit.core.errors import InvalidInput

if TYPE_CHECKING:
    from fieldkit.exchange.importing import ImportOptions, ImportReport
    from fieldkit.project import Project

KNOWN_KEYS = {"type", "stage", "encounter", "observed", "date", "tags", "participants", "kind", "title", "links",
              "aliases", "created", "modified", "id"}
_FRONT = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


#: the largest front matter read (characters); notes' front matter is a few lines
FRONT_MATTER_LIMIT = 64_000


def _safe_loader():
    """A safe YAML loader that refuses aliases: an alias repeats a structure without copying
    it, and a few nested ones (an "alias bomb") grow into more than memory holds."""
    import yaml

    class Loader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                raise InvalidInput("front matter uses a YAML alias (*name); write the value out instead")
            return super().compose_node(parent, index)

    return Loader


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """``(front matter dict, body)``; a file without front matter gives ``({}, text)``."""
    import yaml

    match = _FRONT.match(text)
    if not match:
        return {}, text
    if len(match.group(1) or "") > FRONT_MATTER_LIMIT:
        raise InvalidInput(f"front matter is longer than {FRONT_MATTER_LIMIT:,} characters")
    try:
        data = yaml.load(match.group(1) or "", Loader=_safe_loader()) or {}  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark else ""
        raise InvalidInput(f"front matter is not valid YAML{where}") from None
    except RecursionError:
        raise InvalidInput("front matter is nested too deeply to read") from None
    if not isinstance(data, dict):
        raise InvalidInput("front matter must be a mapping of keys to values")
    return data, text[match.end():]


def _list(value) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value)]


def markdown_files(source: Path) -> list:
    """The ``.md`` files under ``source`` (not hidden ones), in name order. A file or folder
    that is a symbolic link to somewhere outside ``source`` is not followed."""
    if source.is_file():
        return [source]
    root = source.resolve()
    return sorted(p for p in source.rglob("*.md") if p.is_file() and not any(
        part.startswith(".") for part in p.relative_to(source).parts) and p.resolve().is_relative_to(root))


def load(project: Project, source: Path, options: ImportOptions) -> ImportReport:
    """The ``markdown`` importer: a folder (or one file) of Markdown notes.

    Every file is read and checked first (as ``Project.add`` checks, plugins' ``validate_record``
    included), writing nothing; a problem in any file stops the import there. The notes are then written in batches, each its own short transaction,
    so a large import never keeps other writers (a ``jot``) waiting long."""
    from fieldkit.core.errors import FieldkitError
    from fieldkit.exchange.importing import ImportReport

    source = Path(source)
    files = markdown_files(source)
    if not files:
        raise FieldkitError(f"no .md files in {source}")
    report = ImportReport(importer="markdown", source=str(source), dry_run=options.dry_run)
    try:
        return _import(project, source, files, options, report)
    finally:
        project.forget_checks()


def _import(project, source: Path, files: list, options, report):
    from fieldkit.core.errors import FieldkitError
    from fieldkit.exchange.importing import ImportFailed, write_in_batches

    planned: list = []
    seen: set = set()
    for path in files:
        name = str(path.relative_to(source)) if source.is_dir() else path.name
        try:
            plan = _plan(project, path, name, options, report)
        except (ValueError, FieldkitError) as exc:
            report.problems.append(f"{name}: {' '.join(str(exc).split())}")
            continue
        if plan is None:
            continue
        key = (plan[1].type_name, plan[1].body, getattr(plan[1], "encounter_id", None))
        if key in seen:
            report.skipped.append(f"{name}: already imported")
            continue
        seen.add(key)
        planned.append(plan)
        report.count("memos" if plan[1].type_name == "memo" else f"{plan[1].stage}s")
    if report.problems:
        raise ImportFailed(report)
    if not options.dry_run:
        write_in_batches(project, report, [(lambda p=plan: _write(project, report, *p)) for plan in planned])
    return report


def _plan(project, path: Path, name: str, options, report):
    """``(name, record, participant ids for its encounter)`` for one file, or None to skip it."""
    from fieldkit.exchange.importing import already_imported, observed_fields, read_text_file, with_tags
    from fieldkit.core.markdown import normalise
    from fieldkit.core.records import MEMO_KINDS, STAGES, Memo, Observation

    meta, body = split_front_matter(read_text_file(path))
    body = body.strip("\n")
    if not body.strip():
        report.skipped.append(f"{name}: no text")
        return None
    unknown = sorted(str(k) for k in meta if k not in KNOWN_KEYS)
    if unknown:
        report.notes.append(f"{name}: ignored front matter {', '.join(unknown)}")
    kind = str(meta.get("type") or "observation").lower()
    tags = [*options.tags, *_list(meta.get("tags"))]
    body = normalise(with_tags(body, tags) + "\n")
    if kind == "memo":
        memo_kind = str(meta.get("kind") or "analytic")
        if memo_kind not in MEMO_KINDS:
            raise InvalidInput(f"memo kind must be one of {', '.join(MEMO_KINDS)}, not {memo_kind!r}")
        links = tuple(project.resolve(link) for link in _list(meta.get("links")))
        if project.store.has_text("memo", body):
            report.skipped.append(f"{name}: already imported")
            return None
        return name, project.check(Memo(kind=memo_kind, title=str(meta.get("title") or ""), body=body, links=links)), ()
    if kind not in ("observation", "fieldnote", "jotting"):
        raise InvalidInput(f"type must be observation or memo, not {kind!r}")
    stage = str(meta.get("stage") or (kind if kind == "jotting" else "") or options.stage or "fieldnote")
    if stage not in STAGES:
        raise InvalidInput(f"stage must be jotting or fieldnote, not {stage!r}")
    ref = meta.get("encounter") or options.encounter
    encounter = project.get(str(ref), type_name="encounter") if ref else None
    people = [project.get(code, type_name="participant") for code in _list(meta.get("participants"))]
    if people and encounter is None:
        raise InvalidInput("participants are added to an encounter; give 'encounter' too")
    when = meta.get("observed", meta.get("date")) or options.at
    observed = observed_fields(project, when)
    if already_imported(project, body, encounter.id if encounter else None):
        report.skipped.append(f"{name}: already imported")
        return None
    record = project.check(Observation(stage=stage, body=body, encounter_id=encounter.id if encounter else None,
                                       **observed))
    return name, record, tuple(p.id for p in people)


def _write(project, report, name: str, record, people: tuple) -> None:
    from fieldkit.exchange.importing import add_to_encounter

    if people:
        add_to_encounter(project, project.get(record.encounter_id, type_name="encounter"), list(people))
    record = project.add(record, reason=f"imported from {name}")
    if record.type_name == "observation":
        from fieldkit.exchange.transcripts import store_turns

        if store_turns(project, record):  # a focus group written as speaker lines
            report.count("speaker turns")
