"""The project's codebook: adding, renaming, moving, merging and retiring codes, with history.

Every change goes through ``Project.update`` (so the previous version of the code is kept
with a reason) inside one transaction. Codes are never hard-deleted: ``delete_code``
tombstones a code only when no coding, child or merged code refers to it.

A codebook can be loaded from a file (YAML or JSON, see ``docs/codebook-format.md``), from a
plugin's ``register_codebooks`` or from ``CodebookData``, and exported back. Code titles and
the codebook's own name, title and description have no column on ``Code``; they live in the
``codebook`` project setting.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence, TYPE_CHECKING, Union

import attrs

from fieldkit.coding.codings import (code_path, code_paths, descendant_ids, resolve_code, rule_from_dict,
                     rule_to_dict)
from fieldkit.core.errors import FieldkitError, NotFound, PluginError, Refused

if TYPE_CHECKING:
    from fieldkit.coding.codebook_file import CodebookData
    from fieldkit.coding.keywords import KeywordRule
    from fieldkit.core.records import Code
    from fieldkit.project import Project

    #: a code given by path, name or id, or the code itself
    CodeRef = Union[str, Code]
    #: keyword rules as the codebook file writes them, as rule text, or as ``KeywordRule``
    Rules = Iterable[Union[str, dict[str, Any], KeywordRule]]

SETTING = "codebook"
TEXT_FIELDS = ("definition", "include", "exclude", "example")
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


# helpers ----------------------------------------------------------------------------------
def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise FieldkitError("a code needs a name")
    name = name.strip()
    if "/" in name:
        raise FieldkitError(f"code name '{name}' must not contain '/' (it separates a code's path)")
    if any(ch in name for ch in "\n\r\t"):
        raise FieldkitError(f"code name {name!r} must be on one line")
    return name


def _check_colour(colour: str) -> str:
    colour = (colour or "").strip()
    if colour and not _COLOUR.fullmatch(colour):
        raise FieldkitError(f"colour must look like #1f77b4 (six hex digits), not {colour!r}")
    return colour.lower()


def _code(project, ref):
    return ref if getattr(ref, "type_name", None) == "code" else resolve_code(project, ref)


def _clash(project, name: str, parent_id: Optional[str], exclude_id: Optional[str] = None):
    """A live sibling with the same name, compared ignoring case."""
    for code_id, other in project.store.coding.siblings(parent_id):
        if code_id != exclude_id and other.casefold() == name.casefold():
            return code_id
    return None


def _where(project, parent_id) -> str:
    if parent_id is None:
        return "at the top level"
    return f"under '{code_path(project, project.get(parent_id, type_name='code'))}'"


def parse_rule_text(text: str) -> dict:
    """A keyword rule typed on the command line: ``word:tokenism``, ``phrase:user voice``,
    ``regex:co-?produc``, ``near:expert,experience`` or ``near:expert,experience:3``."""
    from fieldkit.coding.keywords import KINDS

    kind, sep, value = (text or "").partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in KINDS:
        raise FieldkitError("a keyword rule looks like word:TEXT, phrase:TEXT, regex:PATTERN or near:A,B[:N]; "
                            f"got {text!r}")
    if kind == "near":
        words, _, within = value.partition(":")
        data: dict = {"near": [w.strip() for w in words.split(",") if w.strip()]}
        if within.strip():
            if not within.strip().isdigit():
                raise FieldkitError(f"near rule distance must be a whole number, not {within!r}")
            data["within"] = int(within)
    else:
        data = {kind: value if kind == "regex" else value.strip()}
    return rule_to_dict(rule_from_dict(data))


def _keywords(rules) -> tuple:
    return tuple(parse_rule_text(r) if isinstance(r, str) else rule_to_dict(r) for r in (rules or ()))


def _meta(project) -> dict:
    value = project.setting(SETTING) or {}
    return {"name": value.get("name", ""), "title": value.get("title", ""),
            "description": value.get("description", ""), "titles": dict(value.get("titles", {}))}


def _set_title(project, code_id: str, title: str) -> None:
    meta = _meta(project)
    if title:
        meta["titles"][code_id] = title
    else:
        meta["titles"].pop(code_id, None)
    project.set_setting(SETTING, meta)


def title_from_name(name: str) -> str:
    """``power-asymmetry`` -> ``Power asymmetry``: the title a code gets when none is given."""
    words = re.sub(r"[-_]+", " ", name).strip()
    return (words[:1].upper() + words[1:]) if words else name


def code_title(project: Project, code: Code, meta: Optional[dict[str, Any]] = None) -> str:
    """A code's human title: the one given when it was loaded or added, else made from its name."""
    meta = meta or _meta(project)
    return meta["titles"].get(code.id) or title_from_name(code.name)


# changing codes -------------------------------------------------------------------------------
def add_code(project: Project, name: str, *, parent: Optional[str] = None, title: str = "", definition: str = "",
             include: str = "", exclude: str = "", example: str = "", colour: str = "", keywords: Rules = (),
             reason: str = "added to the codebook") -> Code:
    """Add a code (under ``parent``, a code path, name or id); sibling names must differ."""
    from fieldkit.core.records import Code

    name = _check_name(name)
    parent_code = _code(project, parent) if parent else None
    if parent_code is not None and parent_code.status == "merged":
        raise Refused(f"code '{code_path(project, parent_code)}' was merged; choose another parent")
    parent_id = parent_code.id if parent_code else None
    with project.transaction():
        if _clash(project, name, parent_id):
            raise Refused(f"a code '{name}' already exists {_where(project, parent_id)}")
        code = project.add(Code(name=name, parent_id=parent_id, definition=definition, include=include,
                                exclude=exclude, example=example, colour=_check_colour(colour),
                                keywords=_keywords(keywords)), reason=reason)
        if title:
            _set_title(project, code.id, title.strip())
    return code


def edit_code(project: Project, ref: CodeRef, *, reason: str = "", title: Optional[str] = None,
              keywords: Optional[Rules] = None, add_keywords: Rules = (), **fields: Any) -> Code:
    """Change a code's definition, include, exclude, example, colour or keyword rules."""
    code = _code(project, ref)
    unknown = set(fields) - {*TEXT_FIELDS, "colour"}
    if unknown:
        raise FieldkitError(f"cannot set {', '.join(sorted(unknown))} here; use rename, move, merge or retire")
    changes = {k: v for k, v in fields.items() if v is not None}
    if "colour" in changes:
        changes["colour"] = _check_colour(changes["colour"])
    if keywords is not None:
        changes["keywords"] = _keywords(keywords)
    if add_keywords:
        current = list(changes.get("keywords", code.keywords))
        for rule in _keywords(add_keywords):
            if rule not in current:
                current.append(rule)
        changes["keywords"] = tuple(current)
    with project.transaction():
        updated = project.update(attrs.evolve(code, **changes), reason=reason or "code edited")
        if title is not None:
            _set_title(project, code.id, title.strip())
    return updated


def rename_code(project: Project, ref: CodeRef, new_name: str, *, reason: str = "") -> Code:
    """Give a code a new name; its codings, children and history stay with it."""
    code = _code(project, ref)
    new_name = _check_name(new_name)
    if new_name == code.name:
        return code
    with project.transaction():
        if _clash(project, new_name, code.parent_id, exclude_id=code.id):
            raise Refused(f"a code '{new_name}' already exists {_where(project, code.parent_id)}")
        return project.update(attrs.evolve(code, name=new_name),
                              reason=reason or f"renamed from '{code.name}' to '{new_name}'")


def move_code(project: Project, ref: CodeRef, new_parent: Optional[CodeRef], *, reason: str = "") -> Code:
    """Put a code (with everything below it) under another parent, or at the top (``None``)."""
    with project.transaction():
        return _move(project, _code(project, ref), _code(project, new_parent) if new_parent else None, reason)


def _move(project, code, parent, reason):
    parent_id = parent.id if parent else None
    if parent is not None:
        if parent.id in descendant_ids(project, code.id):
            what = "itself" if parent.id == code.id else f"its own descendant '{code_path(project, parent)}'"
            raise Refused(f"cannot move '{code_path(project, code)}' under {what}")
        if parent.status == "merged":
            raise Refused(f"code '{code_path(project, parent)}' was merged; choose another parent")
    if parent_id == code.parent_id:
        return code
    old_path = code_path(project, code)
    if _clash(project, code.name, parent_id, exclude_id=code.id):
        raise Refused(f"a code '{code.name}' already exists {_where(project, parent_id)}")
    new_place = code_path(project, parent) if parent else "the top level"
    return project.update(attrs.evolve(code, parent_id=parent_id),
                          reason=reason or f"moved from '{old_path}' to {new_place}")


@attrs.frozen
class MergeResult:
    source: object
    target: object
    moved: int
    duplicates: int
    children: int


def merge_codes(project: Project, source: CodeRef, target: CodeRef, *, reason: str = "") -> MergeResult:
    """Merge ``source`` into ``target``: its codings and children move to the target, its keyword
    rules are added to the target's, and it stays in the codebook as ``merged`` pointing there.

    A coding the same coder already made with the target on the same span is tombstoned rather
    than duplicated. Refuses merging a code into itself, into its own descendant, or into a
    merged or retired code, and children whose names clash with the target's.
    """
    with project.transaction():  # checks and writes together: a refusal leaves nothing written
        return _merge(project, _code(project, source), _code(project, target), reason)


def _merge(project, src, dst, reason) -> MergeResult:
    src_path, dst_path = code_path(project, src), code_path(project, dst)
    if src.id == dst.id:
        raise Refused("cannot merge a code into itself")
    if src.status == "merged":
        raise Refused(f"code '{src_path}' was already merged")
    if dst.status != "active":
        raise Refused(f"cannot merge into '{dst_path}': it is {dst.status}")
    if dst.id in descendant_ids(project, src.id):
        raise Refused(f"cannot merge '{src_path}' into its own descendant '{dst_path}'; move '{dst_path}' out first")
    why = reason or f"merged '{src_path}' into '{dst_path}'"
    children = project.list("code", parent_id=src.id)
    for child in children:
        if _clash(project, child.name, dst.id):
            raise Refused(f"cannot merge: both '{src_path}' and '{dst_path}' have a child named '{child.name}'; "
                          "merge or rename those first")
    from fieldkit.coding.codings import find_duplicate

    moved = duplicates = 0
    for coding in project.list("coding", code_id=src.id):
        if find_duplicate(project, coding.record_id, dst.id, coding.coder, coding.start, coding.end):
            project.delete(coding.id, reason=f"{why}: the same coding already exists with '{dst_path}'")
            duplicates += 1
        else:
            project.update(attrs.evolve(coding, code_id=dst.id), reason=why)
            moved += 1
    for child in children:
        project.update(attrs.evolve(child, parent_id=dst.id), reason=why)
    rules = list(dst.keywords)
    for rule in src.keywords:
        if rule not in rules:
            rules.append(rule)
    if tuple(rules) != tuple(dst.keywords):
        dst = project.update(attrs.evolve(dst, keywords=tuple(rules)), reason=f"{why}: keyword rules carried over")
    src = project.update(attrs.evolve(src, status="merged", merged_into=dst.id), reason=why)
    return MergeResult(src, dst, moved, duplicates, len(children))


def retire_code(project: Project, ref: CodeRef, *, reason: str = "") -> Code:
    """Stop using a code: it cannot be applied, but its codings and history stay."""
    return _set_status(project, ref, "retired", reason or "retired", "nothing to retire")


def restore_code(project: Project, ref: CodeRef, *, reason: str = "") -> Code:
    """Bring a retired code back into use."""
    return _set_status(project, ref, "active", reason or "restored", "apply the code it was merged into")


def _set_status(project: Project, ref: CodeRef, status: str, reason: str, if_merged: str) -> Code:
    """The code with ``status`` (unchanged if it has it already); a merged code is refused."""
    code = _code(project, ref)
    if code.status == "merged":
        raise Refused(f"code '{code_path(project, code)}' was merged; {if_merged}")
    if code.status == status:
        return code
    return project.update(attrs.evolve(code, status=status), reason=reason)


def delete_code(project: Project, ref: CodeRef, *, reason: str = "") -> Code:
    """Tombstone a code nobody uses; refuse one that codings, child codes or merged codes refer to."""
    code = _code(project, ref)
    path = code_path(project, code)
    used, kids, merged = project.store.coding.usage(code.id)
    if used:
        raise Refused(f"code '{path}' is used by {used} coding(s) (live or removed); retire or merge it instead")
    if kids:
        raise Refused(f"code '{path}' has {kids} child code(s); move or delete them first")
    if merged:
        raise Refused(f"code '{path}' has {merged} code(s) merged into it; retire it instead")
    return project.delete(code.id, reason=reason or "deleted from the codebook")


# reading --------------------------------------------------------------------------------------
def codebook_rows(project: Project, *, include_inactive: bool = True) -> list[dict[str, Any]]:
    """One row per live code, depth-first (parents before children): path, status, texts, and how
    many codings people made with it (``codings``) and auto-coders proposed (``proposed``)."""
    from fieldkit.coding.codings import children_map

    meta = _meta(project)
    paths = code_paths(project)
    codes = {c.id: c for c in project.list("code")}
    counts = project.store.coding.counts_by_code()
    children = children_map(project)
    rows = []

    def visit(code_id, depth):
        code = codes.get(code_id)
        if code is None:
            return
        if include_inactive or code.status == "active":
            rows.append({
                "id": code.id, "path": paths[code.id], "name": code.name, "depth": depth,
                "title": meta["titles"].get(code.id) or "", "status": code.status,
                "merged_into": paths.get(code.merged_into) if code.merged_into else None,
                "codings": counts.get(code.id, (0, 0))[0], "proposed": counts.get(code.id, (0, 0))[1],
                "definition": code.definition, "include": code.include,
                "exclude": code.exclude, "example": code.example, "colour": code.colour,
                "keywords": [dict(k) for k in code.keywords],
            })
        for child in children.get(code_id, []):
            visit(child, depth + 1)

    roots = [cid for cid, c in codes.items() if c.parent_id is None or c.parent_id not in codes]
    for root in sorted(roots):
        visit(root, 0)
    return rows


# loading and exporting ------------------------------------------------------------------------
@attrs.define
class LoadReport:
    """What loading a codebook did, code path by code path."""

    name: str
    added: list = attrs.Factory(list)
    unchanged: list = attrs.Factory(list)
    updated: list = attrs.Factory(list)
    skipped: list = attrs.Factory(list)

    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.unchanged)} unchanged"]
        if self.updated:
            parts.append(f"{len(self.updated)} updated")
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        return f"codebook {self.name}: " + ", ".join(parts)


def available_codebooks() -> dict:
    """The codebooks plugins register, by name."""
    from fieldkit.hooks.manager import codebooks

    return codebooks()


def read_codebook(source: Union[str, os.PathLike[str], CodebookData]) -> CodebookData:
    """``CodebookData`` from a registered codebook name, a YAML/JSON file, or ``CodebookData``."""
    from fieldkit.coding.codebook_file import CodebookData, CodebookError, load_codebook, parse_codebook

    if isinstance(source, CodebookData):
        return source
    text = os.fspath(source)
    path = Path(text).expanduser()
    registered = available_codebooks()
    is_file = path.exists() or path.suffix.lower() in (".yaml", ".yml", ".json")
    try:
        if is_file or text not in registered:
            if not is_file:
                names = ", ".join(sorted(registered)) or "none"
                raise NotFound(f"no codebook named '{text}' (registered: {names}) and no such file")
            return load_codebook(path)
        item = registered[text]
        try:
            data = item.load()
        except Exception as exc:
            raise PluginError(f"codebook {text} failed to load: {type(exc).__name__}: {exc}") from exc
        if isinstance(data, CodebookData):
            return data
        if isinstance(data, str):
            return load_codebook(data if "\n" in data else data + "\n", source=f"codebook {text}")
        return parse_codebook(data, source=f"codebook {text}")
    except CodebookError as exc:
        raise FieldkitError(str(exc)) from None


def _spec_fields(spec) -> dict:
    return {"definition": spec.definition, "include": spec.include, "exclude": spec.exclude,
            "example": spec.example, "colour": (spec.colour or "").lower(),
            "keywords": tuple(rule_to_dict(r) for r in spec.keywords)}


def load_into_project(project: Project, source: Union[str, os.PathLike[str], CodebookData], *, update: bool = False,
                      reason: str = "") -> LoadReport:
    """Add a codebook's codes to the project, matching existing codes by path (ignoring case).

    New codes are added; identical ones are left alone. A code that exists with different
    texts or rules is refused (nothing is written) unless ``update`` is true, when it is
    changed with its old version kept. A different colour alone keeps the project's colour
    (a file's default colours shift when codes are added) unless ``update``. All in one
    transaction.
    """
    data = read_codebook(source)
    report = LoadReport(data.name)
    why = reason or f"loaded from codebook {data.name}"
    existing = {p.casefold(): cid for cid, p in code_paths(project, include_deleted=False).items()}
    conflicts = []
    with project.transaction():
        meta = _meta(project)
        ids: dict = {}
        for spec in data.codes:
            found = existing.get(spec.path.casefold())
            fields = _spec_fields(spec)
            if found is None:
                parent = ids.get(spec.parent_path) if spec.parent_path else None
                code = add_code(project, spec.name, parent=parent, reason=why, **fields)
                report.added.append(spec.path)
            else:
                code = project.get(found, type_name="code")
                if code.status == "merged":
                    report.skipped.append(f"{spec.path} (merged)")
                    ids[spec.path] = code.merged_into or code.id
                    continue
                current = {k: getattr(code, k) for k in fields}
                current["keywords"] = tuple(dict(k) for k in current["keywords"])
                # a file's default colours depend on code order, so a colour alone is no conflict
                if current == fields or (not update and {**current, "colour": fields["colour"]} == fields):
                    report.unchanged.append(spec.path)
                elif update:
                    code = project.update(attrs.evolve(code, **fields), reason=why)
                    report.updated.append(spec.path)
                else:
                    conflicts.append(spec.path)
            ids[spec.path] = code.id
            if spec.title:
                meta["titles"][code.id] = spec.title
        if conflicts:
            shown = ", ".join(conflicts[:5]) + (f" and {len(conflicts) - 5} more" if len(conflicts) > 5 else "")
            raise Refused(f"{len(conflicts)} code(s) already exist with different definitions or rules "
                          f"({shown}); nothing was loaded. Use --update to overwrite them (old versions are kept)")
        if not meta["name"]:
            meta.update(name=data.name, title=data.title, description=data.description)
        project.set_setting(SETTING, meta)
    return report


def export_codebook(project: Project, *, include_retired: bool = False, name: Optional[str] = None,
                    title: Optional[str] = None, description: Optional[str] = None) -> CodebookData:
    """The project's codebook as ``CodebookData`` (active codes; ``include_retired`` adds retired
    ones). Merged codes are left out: their codings now sit on the codes they were merged into."""
    from fieldkit.coding.codebook_file import CodebookData, CodeSpec, default_colour
    from fieldkit.coding.codings import children_map

    meta = _meta(project)
    codes = {c.id: c for c in project.list("code")}
    children = children_map(project)
    wanted = {cid for cid, c in codes.items() if c.status == "active" or (include_retired and c.status == "retired")}
    # keep the ancestors of wanted codes so the tree stays whole
    for cid in list(wanted):
        parent = codes[cid].parent_id
        while parent and parent in codes and parent not in wanted:
            wanted.add(parent)
            parent = codes[parent].parent_id
    specs: list = []

    def visit(code_id, parent_path):
        code = codes[code_id]
        path = f"{parent_path}/{code.name}" if parent_path else code.name
        colour = code.colour if _COLOUR.fullmatch(code.colour or "") else default_colour(len(specs))
        specs.append(CodeSpec(path=path, name=code.name, parent_path=parent_path, title=code_title(project, code, meta),
                              definition=code.definition, include=code.include, exclude=code.exclude,
                              example=code.example, colour=colour,
                              keywords=tuple(rule_from_dict(k) for k in code.keywords)))
        for child in children.get(code_id, []):
            if child in wanted:
                visit(child, path)

    for root in children.get(None, []):
        if root in wanted:
            visit(root, None)
    book_name = name or meta["name"] or project.path.name or "codebook"
    book_name = "-".join(book_name.split()).replace("/", "-")
    return CodebookData(name=book_name, title=title or meta["title"] or title_from_name(book_name),
                        description=description if description is not None else meta["description"],
                        codes=tuple(specs))


def write_codebook(project: Project, dest: Union[str, os.PathLike[str]], *, fmt: Optional[str] = None,
                   force: bool = False, include_retired: bool = False) -> Path:
    """Export the codebook to a YAML or JSON file; refuses to overwrite unless ``force``."""
    from fieldkit.coding.codebook_file import dump_codebook

    dest = Path(dest).expanduser()
    fmt = fmt or ("json" if dest.suffix.lower() == ".json" else "yaml")
    if fmt not in ("yaml", "json"):
        raise FieldkitError(f"format must be yaml or json, not {fmt!r}")
    if dest.exists() and not force:
        raise Refused(f"{dest} already exists; pass --force to overwrite it")
    text = dump_codebook(export_codebook(project, include_retired=include_retired), fmt)
    tmp = dest.with_name(dest.name + ".fieldkit-tmp")
    # owner-only from the start, like every file fieldkit writes (definitions may quote notes)
    with os.fdopen(os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600), "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(tmp, 0o600)  # an older leftover keeps its mode through O_TRUNC
    os.replace(tmp, dest)  # the old file is replaced whole or not at all
    return dest


def children_of(project: Project, ref: CodeRef) -> list[Code]:
    code = _code(project, ref)
    return project.list("code", parent_id=code.id)


__all__: Sequence[str] = (
    "add_code", "edit_code", "rename_code", "move_code", "merge_codes", "retire_code", "restore_code",
    "delete_code", "codebook_rows", "read_codebook", "load_into_project", "export_codebook", "write_codebook",
    "available_codebooks", "parse_rule_text", "LoadReport", "MergeResult",
)
