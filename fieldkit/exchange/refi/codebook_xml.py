"""Codes in REFI-QDA: the ``CodeBook`` inside a project and the stand-alone ``.qdc`` file.

A REFI-QDA code has a name, a colour and one ``Description``; fieldkit's definition,
include, exclude and example are composed into that description as labelled paragraphs
(``Include: …``) and split again when the file came from fieldkit. The two schemas differ
in small ways: a ``.qdc`` code has no ``NoteRef`` and its root is ``CodeBook`` in the
``urn:QDA-XML:codebook:1.0`` namespace.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable, Optional, TYPE_CHECKING, Union

import attrs

from fieldkit.core.errors import FieldkitError
from fieldkit.exchange.refi import CODEBOOK_NS, clean_guid, is_fieldkit_origin, origin, record_guid

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

    from fieldkit.exchange.exporting import ExportOptions, ExportReport
    from fieldkit.exchange.importing import ImportOptions, ImportReport
    from fieldkit.exchange.refi.reader import _Loader
    from fieldkit.project import Project

LABELS = ("Include", "Exclude", "Example")
CODEBOOK_SCHEMA_LOCATION = "http://schema.qdasoftware.org/versions/Codebook/v1.0/Codebook.xsd"


def compose_description(definition: str = "", include: str = "", exclude: str = "", example: str = "") -> str:
    """One description text: the definition, then ``Include:``, ``Exclude:``, ``Example:`` paragraphs."""
    parts = [definition] if definition else []
    for label, value in zip(LABELS, (include, exclude, example)):
        if value:
            parts.append(f"{label}: {value}")
    return "\n\n".join(parts)


def split_description(text: str) -> dict:
    """The inverse of :func:`compose_description` (labels are looked for from the end)."""
    fields = {"definition": "", "include": "", "exclude": "", "example": ""}
    rest = text or ""
    for label in reversed(LABELS):
        marker = f"\n\n{label}: "
        at = rest.rfind(marker)
        if at >= 0:
            fields[label.lower()] = rest[at + len(marker):]
            rest = rest[:at]
        elif rest.startswith(f"{label}: "):
            fields[label.lower()] = rest[len(label) + 2:]
            rest = ""
    fields["definition"] = rest
    return fields


def _tree(codes: Iterable) -> tuple[list, dict]:
    """Top-level codes and children by parent id; a code whose parent is not exported goes on top."""
    codes = sorted(codes, key=lambda c: (c.name.lower(), c.id))
    ids = {c.id for c in codes}
    roots, children = [], {}
    for code in codes:
        if code.parent_id and code.parent_id in ids and code.parent_id != code.id:
            children.setdefault(code.parent_id, []).append(code)
        else:
            roots.append(code)
    return roots, children


def code_elements(codes: Iterable, *, about: Optional[Callable[[str], str]] = None,
                  guids: Optional[dict] = None, not_codable: frozenset = frozenset()) -> Iterable[str]:
    """Nested ``Code`` elements (project or codebook schema: ``about`` adds ``NoteRef``s, project only).

    ``guids`` gives codes another GUID than their id's (the one another tool gave them);
    codes in ``not_codable`` are written ``isCodable="false"`` (another tool's categories).
    """
    guids = guids or {}
    from fieldkit.exchange.refi.project_xml import valid_colour, xml_attr, xml_text

    roots, children = _tree(codes)
    seen = set()

    def element(code, depth):
        if code.id in seen:  # a cycle in a damaged codebook must not loop forever
            return
        seen.add(code.id)
        colour = valid_colour(code.colour)
        colour_attr = f' color="{colour}"' if colour else ""
        codable = "true" if code.status == "active" and code.id not in not_codable else "false"
        yield (f'{"  " * depth}<Code guid="{guids.get(code.id) or record_guid(code.id)}" name="{xml_attr(code.name)}" '
               f'isCodable="{codable}"{colour_attr}>\n')
        description = compose_description(code.definition, code.include, code.exclude, code.example)
        if description:
            yield f"<Description>{xml_text(description)}</Description>\n"
        if about is not None:
            yield about(code.id)
        for child in children.get(code.id, ()):
            yield from element(child, depth + 1)
        yield f'{"  " * depth}</Code>\n'

    for root in roots:
        yield from element(root, 0)
    # codes only reachable through a cycle were never reached from a root: put them on top
    for code in sorted(codes, key=lambda c: c.id):
        if code.id not in seen:
            yield from element(code, 0)


def export_qdc(project: Project, dest: Path, options: Optional[ExportOptions] = None, *,
               force: bool = False) -> ExportReport:
    """Write the project's codebook (codes not deleted) as a ``.qdc`` file."""
    from fieldkit.exchange.exporting import ExportOptions, ExportReport, atomic_output, scrub, text_fields
    from fieldkit.exchange.refi.project_xml import xml_attr

    options = options or ExportOptions()
    report = ExportReport(exporter="qdc", dest=str(dest), anonymised=options.anonymise)
    # definitions and examples quote fieldwork as readily as notes do
    texts = text_fields(project, options, report)
    codes = [scrub(code, texts) for code in project.list("code")]
    if not codes:
        raise FieldkitError("the codebook is empty; there is nothing to export")
    # codes from another tool keep its GUIDs, and its categories stay not codable
    kept = project.store.exchange.identities("code")
    guids = {cid: clean_guid(ext) for cid, (ext, _) in kept.items() if clean_guid(ext)}
    not_codable = frozenset(cid for cid, (_, data) in kept.items() if data.get("codable") is False)
    text = "".join([
        '<?xml version="1.0" encoding="utf-8"?>\n',
        f'<CodeBook xmlns="{CODEBOOK_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{CODEBOOK_NS} {CODEBOOK_SCHEMA_LOCATION}" origin="{xml_attr(origin())}">\n',
        "<Codes>\n", *code_elements(codes, guids=guids, not_codable=not_codable), "</Codes>\n",
        *code_sets(project, {c.id: guids.get(c.id) or record_guid(c.id) for c in codes}, report, texts),
        "</CodeBook>\n",
    ])
    force = force or bool(getattr(options, "force", False))
    with atomic_output(Path(dest), force=force) as tmp:
        Path(tmp).write_bytes(text.encode("utf-8"))
    report.count("codes", len(codes))
    report.files.append(str(dest))
    return report


def code_sets(project: Project, code_guids: dict[str, str], report: ExportReport,
              texts: Callable[[str], str]) -> list[str]:
    """``<Sets>`` of a codebook: the kept sets that hold codes, with their code members only."""
    from fieldkit.exchange.refi import derived_guid
    from fieldkit.exchange.refi.project_xml import xml_attr, xml_text

    out, dropped = [], 0
    for item in project.store.exchange.items("set"):
        members = [code_guids[rid] for rid, kind in item["members"] if kind == "code" and rid in code_guids]
        dropped += len(item["members"]) - len(members)
        if not members:
            continue
        description = item["data"].get("description")
        out.append(f'<Set guid="{clean_guid(item["external_id"]) or derived_guid("set", item["external_id"])}" '
                   f'name="{xml_attr(texts(item["name"]) if item["name"] else "")}">'
                   + (f"<Description>{xml_text(texts(description))}</Description>" if description else "")
                   + "".join(f'<MemberCode guid="{g}"/>' for g in members) + "</Set>\n")
    if dropped:
        report.count("set memberships of documents, notes or deleted codes (a codebook holds codes only; dropped)",
                     dropped)
    if out:
        report.count("sets", len(out))
        return ["<Sets>\n", *out, "</Sets>\n"]
    return []


# reading -------------------------------------------------------------------------------


@attrs.frozen
class CodeNode:
    """One code read from a file, parents before children."""

    guid: str
    name: str
    parent_guid: Optional[str]
    colour: str = ""
    description: str = ""
    codable: bool = True
    note_refs: tuple = ()  # GUIDs of notes about this code (project files only)


def read_codes(codes_element: Element, where: str) -> list[CodeNode]:
    """The ``Code`` elements under a ``Codes`` element, flattened depth-first."""
    from fieldkit.exchange.refi.reader import child_text, children, ref_guids, require_guid

    out: list[CodeNode] = []
    stack = [(el, None) for el in reversed(children(codes_element, "Code"))]
    while stack:
        el, parent = stack.pop()
        guid = require_guid(el, "Code", where)
        name = el.get("name")
        if name is None:
            raise FieldkitError(f"{where} is not valid REFI-QDA: Code {guid} has no name")
        out.append(CodeNode(
            guid=guid, name=name, parent_guid=parent, colour=(el.get("color") or "").strip(),
            description=child_text(el, "Description"),
            codable=(el.get("isCodable") or "true").strip().lower() not in ("false", "0"),
            note_refs=ref_guids(el, "NoteRef", where),
        ))
        stack.extend((child, guid) for child in reversed(children(el, "Code")))
    return out


def _code_name(name: str, report) -> str:
    cleaned = " ".join(name.split())
    if "/" in cleaned:
        report.notes.append(f"code name {name!r} contains '/', which separates parent and child in fieldkit; "
                            "imported with '∕' instead")
        cleaned = cleaned.replace("/", "\u2215")
    return cleaned or "unnamed code"


def merge_codes(project: Project, nodes: list[CodeNode], *, trusted: bool, report: ImportReport, taken: set[str],
                loader: Optional[_Loader] = None) -> dict[str, str]:
    """Add codes to the project (inside the caller's transaction); returns GUID -> code id.

    A code already in the project (same id from a fieldkit file, another tool's id seen by an
    earlier import, or the same path) is used, not doubled; a fieldkit code changed on both
    sides is merged (``fieldkit.exchange.merging``). ``loader`` is the project import under
    way, which keeps other tools' ids; a bare codebook import passes none.
    """
    from fieldkit.core.ids import new_id
    from fieldkit.core.records import Code
    from fieldkit.exchange.refi.project_xml import valid_colour

    mapping: dict[str, str] = {}
    categories = 0
    for node in nodes:
        parent_id = mapping.get(node.parent_guid) if node.parent_guid else None
        if node.parent_guid and parent_id is None:
            continue  # its parent could not be imported (reported there)
        name = _code_name(node.name, report)
        fields = split_description(node.description) if trusted else {"definition": node.description}
        colour = valid_colour(node.colour) or ""
        status = "active" if node.codable or not trusted else "retired"
        known = loader.known.get(node.guid) if loader is not None else None
        wanted = known or (_guid_to_id(node.guid) if trusted else None)
        if wanted and wanted not in taken and project.list("code", id=wanted, limit=1):
            taken.add(wanted)
            mapping[node.guid] = wanted
            incoming = Code(id=wanted, name=name, parent_id=parent_id, colour=colour, status=status, **fields)
            if loader is not None:
                loader.merger.merge(incoming)
            else:
                report.count("codes already in the project")
            continue
        found = project.store.select("code", name=name, parent_id=parent_id, limit=1)
        if found:
            mapping[node.guid] = found[0].id
            report.count("codes already in the project")
            if loader is not None:
                loader.remember(node.guid, found[0], {"codable": node.codable})
            continue
        code_id = wanted if wanted and wanted not in taken and project.find_type(wanted) is None else new_id()
        if wanted and code_id != wanted:
            report.count("records given new ids (id already in use)")
        if node.colour and not colour:
            report.notes.append(f"code {name!r}: colour {node.colour!r} is not #rrggbb; left out")
        code = Code(id=code_id, name=name, parent_id=parent_id, colour=colour, status=status, **fields)
        project.add(code, reason=f"imported from {report.source}")
        taken.add(code_id)
        mapping[node.guid] = code_id
        report.count("codes")
        if not trusted and not node.codable:
            categories += 1
        if loader is not None:
            loader.remember(node.guid, code, {"codable": node.codable})
    if categories:
        report.notes.append(f"{categories} code(s) not meant for coding (isCodable=\"false\": categories that "
                            "group other codes) imported as codes; they are written back as not codable on export")
    return mapping


def _guid_to_id(guid: str) -> Optional[str]:
    from fieldkit.core.ids import from_guid

    try:
        return from_guid(guid)
    except ValueError:
        return None


def import_qdc(project: Project, source: Path,
               options: Union[ImportOptions, dict[str, Any], None] = None) -> ImportReport:
    """Add the codes of a ``.qdc`` file to the project, in one transaction (``dry_run`` honoured)."""
    from fieldkit.exchange.importing import ImportReport, run_import
    from fieldkit.exchange.refi import any_id
    from fieldkit.exchange.refi.reader import (child_text, children, foreign_ids, local_name, option, parse_xml,
                                               read_limited, require_guid)

    source = Path(source)
    report = ImportReport(importer="qdc", source=str(source))
    root = parse_xml(read_limited(source), source.name)
    if local_name(root.tag) != "CodeBook":
        raise FieldkitError(f"{source.name} is not a REFI-QDA codebook (its root element is "
                            f"{local_name(root.tag)}, not CodeBook)")
    codes = children(root, "Codes")
    if not codes:
        raise FieldkitError(f"{source.name} is not valid REFI-QDA: CodeBook has no Codes")
    nodes = read_codes(codes[0], source.name)
    foreign = foreign_ids(root)
    if foreign:
        report.notes.append(f"{len(foreign)} code id(s) are not GUIDs (e.g. {next(iter(foreign.values()))!r}); "
                            "accepted, each mapped to a fixed GUID")
    sets = [(require_guid(el, "Set", source.name), el.get("name") or "", child_text(el, "Description"),
             [any_id(m.get("guid")) for m in children(el, "MemberCode")])
            for group in children(root, "Sets") for el in children(group, "Set")]
    trusted = is_fieldkit_origin(root.get("origin"))

    def work():
        from fieldkit.exchange.merging import keep_item
        from fieldkit.exchange.refi.offsets import producer

        code_map = merge_codes(project, nodes, trusted=trusted, report=report, taken=set())
        tool = producer(root.get("origin"))[0]
        if not trusted:  # the other tool's GUIDs, so a codebook or project export gives them back
            project.store.exchange.remember(
                [(node.guid, code_map[node.guid], "code", tool,
                  {"codable": node.codable, **({"id": foreign[node.guid]} if node.guid in foreign else {})})
                 for node in nodes if node.guid in code_map])
        missing = 0
        for guid, name, description, members in sets:  # code sets, kept as a project file's sets are
            found = [(code_map[g], "code") for g in members if g in code_map]
            missing += len(members) - len(found)
            keep_item(project, report, guid, "set", name, tool,
                      {"description": description} if description else {}, found)
        if missing:
            report.skipped.append(f"{missing} set membership(s) of codes the codebook does not define")

    return run_import(project, report, work, dry_run=bool(option(options, "dry_run", False)))
