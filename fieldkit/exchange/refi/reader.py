"""Reading REFI-QDA: a ``.qdpx`` from fieldkit or another tool, parsed safely and loaded into a project.

Safety: XML is parsed with ``defusedxml`` with DTDs forbidden, so entity expansion
("billion laughs"), external entities and network fetches are refused before anything is
read; zip members are read with size limits and never extracted to disk.

Tolerance: a ``Sources/`` or ``sources/`` folder (or Windows back-slashes), a ``.qde``
named after the project, GUIDs in braces or upper case, byte-order marks, CRLF line ends
and texts that are not in NFC. Positions are mapped onto the stored (NFC, ``\\n``) text.

The whole import is read and checked first, then written in one transaction: a file that
cannot be read leaves the project untouched.
"""

from __future__ import annotations

import codecs
import datetime as dt
import posixpath
from pathlib import Path
from typing import Any, Iterator, Optional, TYPE_CHECKING, Union

import attrs

from fieldkit.core.errors import FieldkitError, NotFound
from fieldkit.exchange.refi import WHOLE_RECORD, any_id, clean_guid, is_fieldkit_origin

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

    from fieldkit.core.records import Memo, Record
    from fieldkit.exchange.importing import ImportOptions, ImportReport
    from fieldkit.project import Project

MAX_XML_BYTES = 512 * 1024 * 1024
MAX_TEXT_BYTES = 256 * 1024 * 1024
OTHER_SOURCES = ("PictureSource", "PDFSource", "AudioSource", "VideoSource")
#: variables of a type other than Text: their values are kept, as text
TYPED_VARIABLES = "variable(s) typed other than Text (Integer, Float, Boolean, Date, DateTime)"
UNREAD_WHY = {TYPED_VARIABLES: "their values are kept as text and written back as Text variables"}
SAMPLE_TEXTS = 200  # texts tried in each way of counting positions, to choose one


# XML helpers ------------------------------------------------------------------------------


def local_name(tag: object) -> str:
    """A tag without its namespace (some tools write none, some another)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def children(element: Element, name: str) -> list[Element]:
    """Child elements named ``name`` in any namespace (or none)."""
    suffix = "}" + name
    return [c for c in element if isinstance(c.tag, str) and (c.tag.endswith(suffix) or c.tag == name)]


def child_text(element: Element, name: str) -> str:
    found = children(element, name)
    return (found[0].text or "") if found else ""


def require_guid(element: Element, kind: str, where: str) -> str:
    """The element's ``guid`` as a GUID; an id that is not one (OpenQDA's) is mapped to a fixed
    GUID (``foreign_ids`` finds and reports them)."""
    guid = any_id(element.get("guid"))
    if guid is None:
        raise FieldkitError(f"{where} is not valid REFI-QDA: a {kind} has no guid")
    return guid


def optional_guid(element: Element, attribute: str) -> Optional[str]:
    return any_id(element.get(attribute))


def foreign_ids(root: Element) -> dict[str, str]:
    """``{GUID made: id as written}`` for every id in the XML that is not a GUID."""
    found = {}
    for el in root.iter():
        for attribute in ("guid", "targetGUID", "creatingUser", "originGUID"):
            raw = el.get(attribute)
            if raw is None or (len(raw) == 36 and raw[8] == "-" and raw[23] == "-"):
                continue  # shaped like a GUID: parsing checks it (most values; this is quick)
            if raw.strip() and clean_guid(raw) is None:
                found[any_id(raw)] = raw.strip()
    return found


def ref_guids(element: Element, name: str, where: str) -> tuple[str, ...]:
    out = []
    for ref in children(element, name):
        guid = any_id(ref.get("targetGUID"))
        if guid is None:
            raise FieldkitError(f"{where} is not valid REFI-QDA: a {name} has no valid targetGUID")
        out.append(guid)
    return tuple(out)


def parse_xml(data: bytes, where: str) -> Element:
    """An ElementTree root from bytes, refusing DTDs (so entity bombs and external entities)."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise FieldkitError(
            f"{where} declares a DTD or entities ({type(exc).__name__}); refused as unsafe "
            "(REFI-QDA files need neither)") from None
    except ParseError as exc:
        raise FieldkitError(f"{where} is not well-formed XML ({exc})") from None


def read_limited(path: Path, limit: int = MAX_XML_BYTES) -> bytes:
    """A whole file, refusing one larger than ``limit``."""
    path = Path(path)
    if not path.exists():
        raise NotFound(f"no file {path}")
    if path.is_dir():
        raise FieldkitError(f"{path} is a folder, not a file")
    if path.stat().st_size > limit:
        raise FieldkitError(f"{path.name} is larger than {limit // (1024 * 1024)} MB; refused")
    return path.read_bytes()


def parse_time(text: Optional[str]) -> Optional[dt.datetime]:
    """An ``xs:dateTime``; one without a zone is taken as UTC. None if absent or unreadable."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def decode_text(data: bytes) -> str:
    """Text from a source file: UTF-8 (a byte-order mark is dropped) or UTF-16 with its mark."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    return data.decode("utf-8")


# the archive ------------------------------------------------------------------------------


class Archive:
    """A ``.qdpx`` zip (or a bare ``.qde``): finds ``project.qde`` and the source texts in it."""

    def __init__(self, path: Path):
        import zipfile

        self.path = Path(path)
        self.zip = None
        if not self.path.exists():
            raise NotFound(f"no file {self.path}")
        if self.path.is_dir():
            raise FieldkitError(f"{self.path} is a folder; give a .qdpx file")
        with open(self.path, "rb") as fh:
            start = fh.read(4)
        if start.startswith(b"PK"):
            try:
                self.zip = zipfile.ZipFile(self.path)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                raise FieldkitError(
                    f"{self.path.name} is not a readable .qdpx: the zip archive is corrupt ({exc})") from None
            self._index()
        elif start.lstrip(codecs.BOM_UTF8)[:1] in (b"<", b"\xff", b"\xfe") or start.startswith(codecs.BOM_UTF8):
            self.qde_name = self.path.name  # a bare project.qde: texts must be inline
            self.base = ""
            self.names = {}
        else:
            raise FieldkitError(f"{self.path.name} is not a .qdpx file (neither a zip archive nor XML)")

    def _index(self):
        infos = [i for i in self.zip.infolist() if not i.is_dir()]
        # some Windows tools write back-slashes; compare names case-insensitively
        self.names = {i.filename.replace("\\", "/").lower(): i for i in infos}
        qdes = [name for name in self.names if name.endswith(".qde") and not name.startswith("__macosx/")]
        top = [name for name in qdes if "/" not in name]
        if "project.qde" in qdes:
            chosen = "project.qde"
        elif len(top) == 1:
            chosen = top[0]
        elif len(qdes) == 1:
            chosen = qdes[0]
        elif not qdes:
            raise FieldkitError(f"{self.path.name} is not a REFI-QDA project: the archive has no .qde file")
        else:
            raise FieldkitError(f"{self.path.name} holds {len(qdes)} .qde files; expected one project")
        self.qde_info = self.names[chosen]
        self.qde_name = self.qde_info.filename
        self.base = posixpath.dirname(chosen)
        self.base = self.base + "/" if self.base else ""

    def qde(self) -> bytes:
        if self.zip is None:
            return read_limited(self.path)
        return self._read(self.qde_info, MAX_XML_BYTES)

    def _read(self, info, limit: int) -> bytes:
        import zipfile
        import zlib

        too_big = f"{info.filename} in {self.path.name} is larger than {limit // (1024 * 1024)} MB; refused"
        if info.file_size > limit:
            raise FieldkitError(too_big)
        try:
            with self.zip.open(info) as fh:
                data = fh.read(limit + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
            raise FieldkitError(f"{info.filename} in {self.path.name} is corrupt ({exc})") from None
        if len(data) > limit:  # the size in the directory can lie
            raise FieldkitError(too_big)
        return data

    def source_bytes(self, path: str) -> tuple[Optional[bytes], str]:
        """The bytes of ``internal://NAME`` (or None) and, if None, why."""
        prefix = "internal://"
        if not path.lower().startswith(prefix):
            return None, f"its text is an external file ({path.split('://', 1)[0]}://…) not included in the archive"
        name = path[len(prefix):].replace("\\", "/").lstrip("/")
        if self.zip is None:
            return None, f"its text {name} is outside this bare .qde file"
        candidates = [f"{self.base}sources/{name}", f"{self.base}{name}", f"sources/{name}"]
        bare = name.replace("{", "").replace("}", "")
        if bare != name:
            candidates += [f"{self.base}sources/{bare}", f"sources/{bare}"]
        for candidate in candidates:
            info = self.names.get(candidate.lower())
            if info is not None:
                return self._read(info, MAX_TEXT_BYTES), ""
        return None, f"its text file sources/{name} is missing from the archive"

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# the model ---------------------------------------------------------------------------------


@attrs.frozen
class CodingRef:
    guid: str
    code_guid: str
    user: Optional[str]
    created: Optional[dt.datetime]
    note_refs: tuple = ()


@attrs.frozen
class Selection:
    guid: str
    name: str
    start: int
    end: int
    user: Optional[str]
    created: Optional[dt.datetime]
    description: str
    codings: tuple
    note_refs: tuple


@attrs.frozen
class TextDoc:
    """A ``TextSource`` or a ``Note`` (both are REFI-QDA text sources)."""

    kind: str  # "source" or "note"
    guid: str
    name: str
    path: Optional[str]
    content: Optional[str]
    rich_path: Optional[str]
    user: Optional[str]
    created: Optional[dt.datetime]
    description: str
    selections: tuple
    codings: tuple
    note_refs: tuple
    values: dict


@attrs.frozen
class Case:
    guid: str
    name: str
    description: str
    values: dict
    source_refs: tuple
    code_refs: int = 0  # codes on the case itself, and selections it names: fieldkit has neither
    selection_refs: int = 0


@attrs.frozen
class Link:
    guid: str
    name: str
    origin: Optional[str]
    target: Optional[str]


@attrs.frozen
class MemberSet:
    """A REFI-QDA ``Set``: a named group of codes, sources and notes (MAXQDA's document sets)."""

    guid: str
    name: str
    codes: tuple
    sources: tuple
    notes: tuple
    description: str = ""


@attrs.define
class ProjectModel:
    name: str
    origin: str
    users: dict
    codes: list
    variables: dict
    cases: list
    sources: list
    notes: list
    links: list
    other_sources: dict
    sets: list = attrs.Factory(list)
    #: what the file holds that fieldkit neither imports nor keeps: kind -> how many
    unread: dict = attrs.Factory(dict)


def _codings(element, where: str) -> tuple:
    out = []
    for el in children(element, "Coding"):
        guid = require_guid(el, "Coding", where)
        refs = ref_guids(el, "CodeRef", where)
        if not refs:
            raise FieldkitError(f"{where} is not valid REFI-QDA: Coding {guid} has no CodeRef")
        out.append(CodingRef(guid, refs[0], optional_guid(el, "creatingUser"), parse_time(el.get("creationDateTime")),
                             ref_guids(el, "NoteRef", where)))
    return tuple(out)


def _position(el, attribute: str, guid: str, where: str) -> int:
    raw = el.get(attribute)
    try:
        return int((raw or "").strip())
    except ValueError:
        raise FieldkitError(f"{where} is not valid REFI-QDA: PlainTextSelection {guid} has "
                            f"{attribute}={raw!r}, not a whole number") from None


def _values(element, variables: dict) -> dict:
    out = {}
    for vv in children(element, "VariableValue"):
        refs = [clean_guid(r.get("targetGUID")) for r in children(vv, "VariableRef")]
        name = variables.get(refs[0]) if refs else None
        if name is None:
            continue
        for value in vv:
            if local_name(value.tag).endswith("Value"):
                out[name] = value.text or ""
    return out


def _text_doc(el, kind: str, variables: dict, where: str) -> TextDoc:
    guid = require_guid(el, "Note" if kind == "note" else "TextSource", where)
    selections = []
    for sel in children(el, "PlainTextSelection"):
        sguid = require_guid(sel, "PlainTextSelection", where)
        selections.append(Selection(
            guid=sguid, name=sel.get("name") or "", start=_position(sel, "startPosition", sguid, where),
            end=_position(sel, "endPosition", sguid, where), user=optional_guid(sel, "creatingUser"),
            created=parse_time(sel.get("creationDateTime")), description=child_text(sel, "Description"),
            codings=_codings(sel, where), note_refs=ref_guids(sel, "NoteRef", where),
        ))
    content = children(el, "PlainTextContent")
    return TextDoc(
        kind=kind, guid=guid, name=el.get("name") or "", path=el.get("plainTextPath"),
        content=(content[0].text or "") if content else None, rich_path=el.get("richTextPath"),
        user=optional_guid(el, "creatingUser"), created=parse_time(el.get("creationDateTime")),
        description=child_text(el, "Description"), selections=tuple(selections), codings=_codings(el, where),
        note_refs=ref_guids(el, "NoteRef", where), values=_values(el, variables),
    )


def parse_project(root: Element, where: str) -> ProjectModel:
    """Everything fieldkit reads from a ``Project`` element, checked for the attributes it needs."""
    from fieldkit.exchange.refi.codebook_xml import read_codes

    if local_name(root.tag) != "Project":
        raise FieldkitError(f"{where} is not a REFI-QDA project (its root element is {local_name(root.tag)}, "
                            "not Project)")
    users = {}
    for group in children(root, "Users"):
        for el in children(group, "User"):
            users[require_guid(el, "User", where)] = (el.get("name") or el.get("id") or "").strip()
    codes = []
    for book in children(root, "CodeBook"):
        for group in children(book, "Codes"):
            codes += read_codes(group, where)
    unread: dict[str, int] = {}

    def unread_one(kind: str, n: int = 1) -> None:
        if n:
            unread[kind] = unread.get(kind, 0) + n

    variables = {}
    for group in children(root, "Variables"):
        for el in children(group, "Variable"):
            variables[require_guid(el, "Variable", where)] = (el.get("name") or "").strip()
            unread_one("variable description(s)", bool(child_text(el, "Description").strip()))
            unread_one(TYPED_VARIABLES, (el.get("typeOfVariable") or "Text") != "Text")
    cases = []
    for group in children(root, "Cases"):
        for el in children(group, "Case"):
            cases.append(Case(require_guid(el, "Case", where), el.get("name") or "", child_text(el, "Description"),
                              _values(el, variables), ref_guids(el, "SourceRef", where),
                              len(children(el, "CodeRef")), len(children(el, "SelectionRef"))))
    sources, other = [], {}
    for group in children(root, "Sources"):
        for el in group:
            name = local_name(el.tag)
            if name == "TextSource":
                sources.append(_text_doc(el, "source", variables, where))
            elif name in OTHER_SOURCES:
                other[name] = other.get(name, 0) + 1
                # their selections (areas, pages, times) and codings go with them
                for part in el.iter():
                    part_name = local_name(part.tag)
                    if part_name.endswith("Selection"):
                        unread_one(f"{part_name}(s) in {name}s")
                    elif part_name == "Coding":
                        unread_one(f"coding(s) in {name}s")
    notes = []
    for group in children(root, "Notes"):
        notes += [_text_doc(el, "note", variables, where) for el in children(group, "Note")]
    links = []
    for group in children(root, "Links"):
        for el in children(group, "Link"):
            links.append(Link(require_guid(el, "Link", where), el.get("name") or "",
                              optional_guid(el, "originGUID"), optional_guid(el, "targetGUID")))
    sets = []
    for group in children(root, "Sets"):
        for el in children(group, "Set"):
            sets.append(MemberSet(require_guid(el, "Set", where), el.get("name") or "",
                            ref_guids(el, "MemberCode", where), ref_guids(el, "MemberSource", where),
                            ref_guids(el, "MemberNote", where), child_text(el, "Description")))
    for group in children(root, "Graphs"):
        for el in children(group, "Graph"):
            unread_one("graph(s)")
            unread_one("vertices and edges of graphs", len(children(el, "Vertex")) + len(children(el, "Edge")))
    unread_one("project description(s)", bool(child_text(root, "Description").strip()))
    unread_one("note reference(s) on the project as a whole", len(children(root, "NoteRef")))
    return ProjectModel(name=root.get("name") or "", origin=root.get("origin") or "", users=users, codes=codes,
                        variables=variables, cases=cases, sources=sources, notes=notes, links=links,
                        other_sources=other, sets=sets, unread=unread)


# loading into a project ---------------------------------------------------------------------


def option(options: object, name: str, default: Any = None) -> Any:
    """A field of ``ImportOptions`` (or of a dict or any object), or ``default``."""
    if options is None:
        return default
    if isinstance(options, dict):
        return options.get(name, default)
    return getattr(options, name, default)


def import_qdpx(project: Project, source: Path,
                options: Union[ImportOptions, dict[str, Any], None] = None) -> ImportReport:
    """Read a ``.qdpx`` into ``project``: all of it in one transaction, or nothing.

    Everything is read and checked before the first write. Options used: ``dry_run``;
    ``stage`` (for sources from other tools; default fieldnote), ``tags`` (added to every
    imported note), ``encounter`` (for sources that name none); ``extra["crlf"] = "one"``
    when the file's positions count a CRLF line end as one character (default: as two,
    as the file stores it).
    """
    from fieldkit.exchange.importing import ImportReport, run_import

    source = Path(source)
    report = ImportReport(importer="qdpx", source=str(source))
    extra = option(options, "extra", None) or {}
    crlf_as_one = bool(option(options, "crlf_as_one", False)) or str(extra.get("crlf", "")).lower() in ("one", "1")
    crlf_given = bool(option(options, "crlf_as_one", False)) or "crlf" in extra
    offsets = str(option(options, "offsets", None) or extra.get("offsets") or "auto").strip().lower()
    with Archive(source) as archive:
        root = parse_xml(archive.qde(), archive.qde_name)
        model = parse_project(root, archive.qde_name)
        foreign = foreign_ids(root)
        if foreign:
            report.notes.append(f"{len(foreign)} id(s) in the file are not GUIDs (e.g. {next(iter(foreign.values()))!r}); "
                                "accepted, each mapped to a fixed GUID, and the original id kept with the record")
        loader = _Loader(project, model, report, crlf_as_one=crlf_as_one, stage=option(options, "stage"),
                         tags=tuple(option(options, "tags", ()) or ()), encounter=option(options, "encounter"),
                         offsets=offsets, crlf_given=crlf_given)
        loader.foreign = foreign
        loader.read_texts(archive)
    return run_import(project, report, loader.write, dry_run=bool(option(options, "dry_run", False)))


class PositionMap:
    """Carries positions in a text as a file stores it onto the text as fieldkit stores it.

    Stored text is NFC with ``\n`` line ends. The CR of each CRLF is dropped (positions after
    it move back by one); NFC is applied per *unit* -- a run that starts at a character which
    cannot combine with what precedes it -- so positions at unit boundaries map exactly and a
    position inside a unit (between a letter and its accent) widens to the whole unit.
    """

    def __init__(self, raw: str, crlf_as_one: bool = False, unit: str = "codepoints"):
        from fieldkit.core.markdown import normalise
        from fieldkit.exchange.refi.offsets import UTF16, Utf16Index, has_astral

        self.text = normalise(raw)
        # the same replacements, in the same order, as ``normalise``
        middle = raw.replace("\r\n", "\n").replace("\r", "\n")
        base = middle if crlf_as_one else raw
        # a file counting UTF-16 units: its positions are first turned into code points of ``base``
        self.utf16 = Utf16Index(base) if unit == UTF16 and has_astral(base) else None
        self.length = self.utf16.length if self.utf16 else len(base)  # the file's positions run 0 to here
        self.crs: list[int] = []  # positions in ``base`` of each CR dropped from a CRLF
        at = base.find("\r\n")
        while at >= 0:
            self.crs.append(at)
            at = base.find("\r\n", at + 2)
        self.units = None
        if middle != self.text:
            # first try cutting before every character that does not change what precedes it;
            # if reordering of marks joins pieces after all, cut only before starters
            self.units = self._units(middle, marks_may_start=True) or self._units(middle, marks_may_start=False)
            if self.units is None:  # never guess: every position widens to the whole text
                self.units = ([0, len(middle)], [0, len(self.text)])

    @property
    def identity(self) -> bool:
        return not self.crs and self.units is None and self.utf16 is None

    def _units(self, middle: str, *, marks_may_start: bool):
        import unicodedata

        nfc = unicodedata.normalize
        old, new, pieces, start = [0], [0], [], 0
        for i in range(1, len(middle) + 1):
            if i < len(middle):
                ch = middle[i]
                # below U+0300 nothing combines with what precedes it: always a cut
                if ch >= "\u0300":
                    unit = middle[start:i]
                    if not marks_may_start and unicodedata.combining(ch):
                        continue
                    if nfc("NFC", unit + ch) != nfc("NFC", unit) + nfc("NFC", ch):
                        continue
            piece = nfc("NFC", middle[start:i])
            pieces.append(piece)
            old.append(i)
            new.append(new[-1] + len(piece))
            start = i
        return (old, new) if "".join(pieces) == self.text else None

    def span(self, start: int, end: int) -> tuple[int, int, bool]:
        """``[start, end)`` in the stored text, and whether it still covers the same characters."""
        from bisect import bisect_left, bisect_right

        if self.utf16 is not None:
            start, end = self.utf16.to_codepoints(start), self.utf16.to_codepoints(end)
        new_start = start - bisect_left(self.crs, start)
        new_end = end - bisect_left(self.crs, end)
        exact = True
        if self.units is not None:
            old, new = self.units
            k = bisect_right(old, new_start) - 1  # the unit holding the start
            exact = old[k] == new_start
            new_start = new[k]
            j = bisect_left(old, new_end)  # the first unit boundary at or after the end
            exact = exact and old[j] == new_end
            new_end = new[j]
        return new_start, new_end, exact


class _Loader:
    def __init__(self, project, model: ProjectModel, report, *, crlf_as_one: bool = False,
                 stage: Optional[str] = None, tags: tuple = (), encounter: Optional[str] = None,
                 offsets: str = "auto", crlf_given: bool = False):
        self.project = project
        self.crlf_given = crlf_given
        self.model = model
        self.report = report
        self.crlf_as_one = crlf_as_one
        self.stage = stage
        self.tags = tags
        self.encounter_ref = encounter
        self.trusted = is_fieldkit_origin(model.origin)
        from fieldkit.exchange.refi.offsets import producer

        self.producer = producer(model.origin)
        self.offsets = offsets
        self.unit = "codepoints"
        self.texts: dict[str, PositionMap] = {}  # doc GUID -> its stored text and position map
        self.taken: set[str] = set()
        self.ids: dict[str, str] = {}  # GUID -> fieldkit id, for whatever was imported
        self.selection_ids: dict[str, list] = {}  # selection GUID -> coding ids made from it
        self.present: dict[str, str] = {}  # id -> type of records of the file this project has
        self.known: dict[str, str] = {}  # another tool's id -> the record an earlier import made
        self.current: dict[str, object] = {}  # id -> the stored record a merge compares with
        self.skipped: dict[str, tuple] = {}  # kind -> (how many, the first one), reported once per kind
        self.other_cases: list[Case] = []  # cases that are not fieldkit's participants, encounters or sites
        self.coding_guids: dict[str, str] = {}  # coding id -> the GUID of its selection (or Coding)
        self.identities: list[tuple] = []  # other tools' ids to keep
        self.foreign: dict[str, str] = {}  # GUID made for an id that is not one -> the id
        from fieldkit.exchange.merging import CARRIED, Merger

        self.merger = Merger(project, report, source=report.source, fields=CARRIED)

    def describe(self, doc: TextDoc) -> str:
        what = "note" if doc.kind == "note" else "source"
        return f"{what} {doc.name!r}" if doc.name else f"{what} {doc.guid}"

    def read_texts(self, archive: Archive) -> None:
        raws: dict[str, str] = {}
        for doc in self.model.sources + self.model.notes:
            data, why = archive.source_bytes(doc.path) if doc.path else (None, "")
            if data is not None:
                try:
                    raw = decode_text(data)
                except UnicodeDecodeError:
                    self.report.skipped.append(f"{self.describe(doc)}: its text is neither UTF-8 nor UTF-16")
                    continue
            elif doc.content is not None:  # inline text (also when a file named beside it is missing)
                raw = doc.content
            elif why:
                self.report.skipped.append(f"{self.describe(doc)}: {why}")
                continue
            elif doc.rich_path:
                self.report.skipped.append(f"{self.describe(doc)}: only a rich-text (docx) version is given")
                continue
            else:
                self.report.skipped.append(f"{self.describe(doc)}: it has no text")
                continue
            if not raw.strip():
                self.report.skipped.append(f"{self.describe(doc)}: its text is empty")
                continue
            raws[doc.guid] = raw
        self.unit = self.choose_unit(raws)
        for guid, raw in raws.items():
            self.texts[guid] = PositionMap(raw, self.crlf_as_one, self.unit)
        for kind, n in sorted(self.model.other_sources.items()):
            self.report.skipped.append(f"{n} {kind} element(s): fieldkit imports text sources only")

    def choose_unit(self, raws: dict) -> str:
        """The unit the file's positions count: as asked, else the one that cuts fewer words.

        The two units differ only on texts holding characters outside the Basic Multilingual
        Plane, and the two ways of counting a CRLF line end only on texts holding one; on those,
        each way is tried, and the producer's usual way is kept unless another puts clearly
        fewer selection boundaries inside words. Files from fieldkit and QualCoder (which count
        as Python does) are always read in code points. Sets ``crlf_as_one`` when it chooses.
        """
        from fieldkit.exchange.refi.offsets import (AUTO, CERTAIN, CODEPOINTS, UNITS, UTF16, clearly_fewer,
                                                    has_astral, word_cuts)

        tool, usual = self.producer
        if self.offsets in UNITS:
            self.report.notes.append(f"positions read as {self.offsets} (--offsets); the file is from {tool}")
            return self.offsets
        if self.offsets != AUTO:
            raise FieldkitError(f"--offsets must be codepoints, utf16 or auto, not {self.offsets!r}")
        if tool in CERTAIN:
            return usual
        usual_way = (usual, self.crlf_as_one)
        ways = [(unit, crlf) for unit in (CODEPOINTS, UTF16)
                for crlf in ((False, True) if not self.crlf_given else (self.crlf_as_one,))]
        cuts = dict.fromkeys(ways, 0)
        tried = 0
        for doc in self.model.sources + self.model.notes:
            raw = raws.get(doc.guid)
            if raw is None or not doc.selections or not (has_astral(raw) or "\r\n" in raw):
                continue
            tried += 1
            if tried > SAMPLE_TEXTS:  # enough texts to tell; the check after import sees them all
                break
            for unit, crlf in ways:
                positions = PositionMap(raw, crlf, unit)
                spans = [positions.span(s.start, s.end)[:2] for s in doc.selections
                         if 0 <= s.start <= s.end <= positions.length]
                cuts[unit, crlf] += word_cuts(positions.text, spans)[0]
        best = min(ways, key=lambda way: (cuts[way], way != usual_way))
        chosen = best if clearly_fewer(cuts[best], cuts[usual_way]) else usual_way
        unit, self.crlf_as_one = chosen
        if chosen != usual_way:
            crlf = "a CRLF line end as one character" if self.crlf_as_one else "a CRLF line end as two characters"
            self.report.notes.append(
                f"positions read as {unit}, counting {crlf}, not as {tool} usually writes them: counted that "
                f"way, {cuts[usual_way] - cuts[chosen]} fewer selection boundaries fall inside a word "
                "(override with --offsets and --option crlf=one|two)")
        elif unit == UTF16:
            self.report.notes.append(f"positions read as UTF-16 units, as {tool} counts them")
        return unit

    def find_existing(self) -> None:
        """Which GUIDs of the file name records this project already has: the ids of a fieldkit
        file, or another tool's ids an earlier import kept. Read in bulk, once."""
        from fieldkit.core.ids import from_guid

        model = self.model
        guids = [c.guid for c in model.codes] + [c.guid for c in model.cases]
        for doc in model.sources + model.notes:
            guids.append(doc.guid)
            for sel in doc.selections:
                guids.append(sel.guid)
                guids += [c.guid for c in sel.codings]
            guids += [c.guid for c in doc.codings]
        store = self.project.store
        kept = store.exchange.records_for(guids)
        alive: set = set()
        for record_type in {t for _, t in kept.values()}:
            alive |= store.ids_present(record_type, [r for r, t in kept.values() if t == record_type])
        for guid, (record_id, record_type) in kept.items():
            if record_id in alive:  # a record since erased is imported afresh
                self.known[guid] = record_id
                self.present[record_id] = record_type
        if self.trusted:
            ids = []
            for guid in guids:
                if guid not in self.known:
                    try:
                        ids.append(from_guid(guid))
                    except ValueError:
                        continue
            for type_name in ("observation", "memo", "code", "coding", "site", "participant", "encounter"):
                for found in store.ids_present(type_name, ids):
                    self.present[found] = type_name
        # the stored versions of what will be merged, read in bulk rather than one by one
        for type_name in ("observation", "memo", "coding"):
            ids = [i for i, t in self.present.items() if t == type_name]
            for k in range(0, len(ids), 500):
                for record in store.select(type_name, id=ids[k:k + 500], include_deleted=True):
                    self.current[record.id] = record

    def new_id(self, guid: str) -> str:
        """The record id for a GUID: the record it names when this project has it (merged, not
        doubled), the id it came from (fieldkit files), else a new id."""
        from fieldkit.core.ids import from_guid, new_id

        wanted = self.known.get(guid)
        if wanted is None and self.trusted:
            try:
                wanted = from_guid(guid)
            except ValueError:
                wanted = None
        if wanted and wanted not in self.taken:
            self.taken.add(wanted)
            return wanted
        if wanted:
            self.report.count("records given new ids (id used twice in the file)")
        made = new_id()
        self.taken.add(made)
        return made

    def save(self, record: Record, what: str) -> bool:
        """Add ``record``, or merge it into the stored record with its id; True when added."""
        kind = self.present.get(record.id)
        if kind is None:
            self.project.add(record, reason=f"imported from {self.report.source}")
            self.report.count(what)
            return True
        if kind != record.type_name:
            self.report.skipped.append(f"{record.type_name} {record.id}: that id is a {kind} in this project")
            return False
        self.merger.merge(record, current=self.current.get(record.id))
        return False

    def remember(self, guid: str, record: Record, data: Optional[dict[str, Any]] = None) -> None:
        """Keep another tool's id for ``record`` (and what fieldkit has no field for)."""
        if not self.trusted:
            data = dict(data or {})
            if guid in self.foreign:
                data["id"] = self.foreign[guid]
            self.identities.append((guid, record.id, record.type_name, self.producer[0], data))

    def user(self, *guids) -> str:
        for guid in guids:
            name = self.model.users.get(guid) if guid else None
            if name:
                return name
        return ""

    # writing ------------------------------------------------------------------------------
    def write(self) -> None:
        """Write everything; runs inside ``run_import``'s transaction."""
        from fieldkit.exchange.refi.codebook_xml import merge_codes

        project = self.project
        default_encounter = project.resolve(self.encounter_ref, "encounter") if self.encounter_ref else None
        self.find_existing()
        code_map = merge_codes(project, self.model.codes, trusted=self.trusted, report=self.report, taken=self.taken,
                               loader=self)
        self.ids.update(code_map)
        source_encounter = self.write_cases()
        self.write_observations(source_encounter, default_encounter)
        memo_plan = self.plan_memos()
        codings = self.plan_codings(code_map)
        for guid, memo in self.memos_with_links(memo_plan):
            self.save(memo, "memos")
            self.remember(guid, memo, {"name": memo.title})
        self.keep_items(codings)
        self.flush_skips()
        self.write_codings(codings)
        if self.identities:
            project.store.exchange.remember(self.identities)
        self.report_unkept(codings)
        renamed = self.report.counts.pop("records given new ids (id used twice in the file)", 0)
        if renamed:
            self.report.notes.append(f"{renamed} record(s) whose GUID the file uses twice were imported with new ids")

    def keep_items(self, codings: list) -> None:
        """Keep the file's sets, users and other tools' cases, which no fieldkit record holds,
        under their GUIDs (``store.exchange``), so an export writes them back; a second import
        of the same file finds them and changes nothing."""
        model = self.model
        kinds = {doc.guid: "observation" for doc in model.sources}
        kinds.update((doc.guid, "memo") for doc in model.notes)
        kinds.update((code.guid, "code") for code in model.codes)
        self.unkept_members = 0
        for group in model.sets:
            members = self._members(group.codes + group.sources + group.notes, kinds)
            self.unkept_members += len(group.codes) + len(group.sources) + len(group.notes) - len(members)
            self._keep(group.guid, "set", group.name, {"description": group.description}, members)
        # who coded or wrote something keeps their name on it; in a fieldkit file a user's GUID
        # is made from the name, so from one only users who made nothing here, or who carry
        # another tool's GUID, need keeping
        from fieldkit.exchange.refi import derived_guid

        used = {c.coder for c in codings}
        used.update(self.user(d.user) for d in model.sources + model.notes if d.guid in self.ids)
        for guid, name in model.users.items():
            if name and not (self.trusted and name in used and guid == derived_guid("user", name)):
                self._keep(guid, "user", name, {})
        self.unkept_case_links = 0
        alone = 0
        for case in self.other_cases:
            members = self._members(case.source_refs, kinds, only="observation")
            self.unkept_case_links += len(case.source_refs) - len(members)
            alone += not members
            self._keep(case.guid, "case", case.name, {"description": case.description, "variables": case.values},
                       members)
        if self.other_cases and not self.trusted:
            self.report.notes.append(
                f"{len(self.other_cases)} case(s) that are not fieldkit's participants, encounters or sites "
                f"({alone} of them about no imported document): kept with their descriptions, variables (as "
                "text) and documents, and written back by a qdpx export")

    def _members(self, guids: tuple, kinds: dict, only: Optional[str] = None) -> list[tuple[str, str]]:
        """``(record id, record type)`` of those of ``guids`` imported (as ``only``, if given)."""
        out = []
        for guid in guids:
            record_id, kind = self.ids.get(guid), kinds.get(guid)
            if record_id and kind and (only is None or kind == only):
                out.append((record_id, kind))
        return out

    def _keep(self, guid: str, kind: str, name: str, data: dict, members: list = ()) -> None:
        from fieldkit.exchange.merging import keep_item

        data = {k: v for k, v in data.items() if v not in ("", None, {})}
        if guid in self.foreign:
            data["id"] = self.foreign[guid]
        keep_item(self.project, self.report, guid, kind, name, self.producer[0], data, members)

    def report_unkept(self, codings: list) -> None:
        """One line per kind of thing the file holds that fieldkit keeps aside or cannot carry."""
        report = self.report
        model = self.model
        if getattr(self, "unkept_members", 0):
            report.skipped.append(f"{self.unkept_members} set membership(s) of items that were not imported")
        if getattr(self, "unkept_case_links", 0):
            report.skipped.append(f"{self.unkept_case_links} case link(s) to sources that were not imported")
        if self.trusted:
            return
        kept_docs = [d for d in model.sources if d.guid in self.ids]
        named = sum(1 for d in kept_docs if d.name)
        values = sum(len(d.values) for d in kept_docs)
        described = sum(1 for d in kept_docs if d.description.strip())
        parts = [f"{n} {what}" for n, what in ((named, "document name(s)"), (values, "document variable value(s)"),
                                                 (described, "document description(s)")) if n]
        if parts:
            report.notes.append(f"kept beside the notes, and written back by a qdpx export: {', '.join(parts)} "
                                "(fieldkit notes have no title, variables or description of their own)")
        used = {c.coder for c in codings}
        used.update(self.user(d.user) for d in model.sources + model.notes if d.guid in self.ids)
        idle = sorted(name for name in model.users.values() if name and name not in used)
        if idle:
            report.notes.append(f"{len(idle)} user(s) with nothing they made in this file ({', '.join(idle)}): "
                                "kept with their GUIDs, and written back by a qdpx export")
        cases = self.other_cases
        unread = dict(model.unread)
        unread["code reference(s) on cases"] = sum(c.code_refs for c in cases)
        unread["selection reference(s) on cases"] = sum(c.selection_refs for c in cases)
        unread["description(s) of notes (memos)"] = sum(1 for d in model.notes if d.guid in self.ids
                                                        and d.description.strip())
        notes = {d.guid for d in model.notes}
        unread["link(s) between items neither of which is a note"] = sum(
            1 for link in model.links if link.origin not in notes and link.target not in notes)
        for kind, n in unread.items():
            if n:
                why = UNREAD_WHY.get(kind, "fieldkit has nowhere to keep them")
                report.skipped.append(f"{n} {kind}: {why}")

    def write_codings(self, codings: list) -> None:
        """New codings in bulk; those the project has (same id, or the same span, code and coder
        on the same record) merged or left alone, so a second import adds nothing."""
        have = self.project.store.exchange.coding_keys([c.record_id for c in codings if c.record_id in self.present])
        new = []
        for coding in codings:
            if coding.id in self.present:
                self.save(coding, "codings")
                continue
            # another tool's codings have no id this project kept: the same span, code and
            # coder already on the record is the same coding (a fieldkit file's ids say it)
            key = (coding.record_id, coding.code_id, coding.start, coding.end, coding.coder)
            if not self.trusted and key in have:
                self.report.count("codings already in the project (unchanged)")
                continue
            new.append(coding)
            self.remember(self.coding_guids[coding.id], coding)
        if new:
            self.project.add_many(new, reason=f"imported from {self.report.source}")
            self.report.count("codings", len(new))

    def write_cases(self) -> dict:
        """Participants, encounters and sites from a fieldkit file; other tools' cases are reported."""
        source_encounter: dict[str, str] = {}
        by_type: dict[str, list] = {}
        for case in self.model.cases:
            kind = case.values.get("fieldkit type") if self.trusted else None
            by_type.setdefault(kind if kind in ("site", "participant", "encounter") else None, []).append(case)
        self.other_cases = by_type.get(None, [])  # kept by keep_items, once their documents are written
        for case in by_type.get("site", ()):
            self.site(case)
        for case in by_type.get("participant", ()):
            self.participant(case)
        for case in by_type.get("encounter", ()):
            enc_id = self.encounter(case)
            if enc_id:
                for ref in case.source_refs:
                    source_encounter.setdefault(ref, enc_id)
        return source_encounter

    def _existing(self, type_name: str, column: str, value: str) -> Optional[str]:
        found = self.project.store.select(type_name, **{column: value}, limit=1)
        return found[0].id if found else None

    def _add(self, record, what: str) -> Optional[str]:
        self.project.add(record, reason=f"imported from {self.report.source}")
        self.report.count(what)
        return record.id

    def site(self, case: Case) -> None:
        from fieldkit.core.records import SITE_KINDS, Site

        found = self._existing("site", "name", case.name)
        if found:
            self.ids[case.guid] = found
            self.report.count("sites already in the project")
            return
        kind = case.values.get("site kind")
        try:
            record = Site(id=self.new_id(case.guid), name=case.name, kind=kind if kind in SITE_KINDS else "other",
                          note=case.description)
        except ValueError as exc:
            self.report.skipped.append(f"site case {case.name!r}: {exc}")
            return
        self.ids[case.guid] = self._add(record, "sites")

    def participant(self, case: Case) -> None:
        from fieldkit.core.records import ROLES, Participant
        from fieldkit.exchange.refi.project_xml import ATTRIBUTE_PREFIX, VARIABLE_TYPES

        found = self._existing("participant", "code", case.name)
        if found:
            self.ids[case.guid] = found
            self.report.count("participants already in the project")
            return
        role = case.values.get("role")
        attributes = {}
        for name, value in case.values.items():
            if name in VARIABLE_TYPES:
                continue
            attributes[name[len(ATTRIBUTE_PREFIX):] if name.startswith(ATTRIBUTE_PREFIX) else name] = value
        try:
            record = Participant(id=self.new_id(case.guid), code=case.name, role=role if role in ROLES else "other",
                                 organisation=case.values.get("organisation", ""), attributes=attributes,
                                 note=case.description)
        except ValueError as exc:
            self.report.skipped.append(f"participant case {case.name!r}: {exc}")
            return
        self.ids[case.guid] = self._add(record, "participants")

    def encounter(self, case: Case) -> Optional[str]:
        from fieldkit.core.records import ENCOUNTER_KINDS, MODES, Encounter, EncounterParticipant

        found = self._existing("encounter", "code", case.name)
        if found:
            self.ids[case.guid] = found
            self.report.count("encounters already in the project")
            return found
        values = case.values
        site_id = self._existing("site", "name", values["site"]) if values.get("site") else None
        people = []
        for item in (values.get("participants") or "").split(", "):
            code, _, role = item.partition(":")
            pid = self._existing("participant", "code", code.strip()) if code.strip() else None
            if pid:
                people.append(EncounterParticipant(pid, role.strip()))
        kind, mode = values.get("encounter kind"), values.get("mode")
        try:
            record = Encounter(
                id=self.new_id(case.guid), code=case.name,
                kind=kind if kind in ENCOUNTER_KINDS else "observation_session",
                title=values.get("title", ""), site_id=site_id, mode=mode if mode in MODES else "in_person",
                start=parse_time(values.get("start")), end=parse_time(values.get("end")),
                participants=tuple(people), summary=case.description,
            )
        except ValueError as exc:
            self.report.skipped.append(f"encounter case {case.name!r}: {exc}")
            return None
        self.ids[case.guid] = self._add(record, "encounters")
        return record.id

    def write_observations(self, source_encounter: dict[str, str], default_encounter: Optional[str] = None) -> None:
        from fieldkit.core.records import PRECISIONS, STAGES, Observation

        derived: dict[str, list] = {}
        if self.trusted:
            for link in self.model.links:
                if link.name == "derived from" and link.origin and link.target:
                    derived.setdefault(link.origin, []).append(link.target)
        now = dt.datetime.now(dt.timezone.utc)
        planned = []
        docs = {doc.guid: doc for doc in self.model.sources}
        for doc in self.model.sources:
            if doc.guid not in self.texts:
                continue
            values = doc.values if self.trusted else {}
            stage = values.get("stage") if values.get("stage") in STAGES else (self.stage or "fieldnote")
            precision = values.get("observed precision")
            created = doc.created or now
            body = self.texts[doc.guid].text
            if self.tags:
                from fieldkit.exchange.importing import with_tags

                body = with_tags(body, self.tags)  # appended, so positions before it stay put
            try:
                record = Observation(
                    id=self.new_id(doc.guid), stage=stage, body=body,
                    encounter_id=source_encounter.get(doc.guid) or default_encounter,
                    observed_at=parse_time(values.get("observed at")),
                    observed_precision=precision if precision in PRECISIONS else "minute",
                    recorded_at=parse_time(values.get("recorded at")) or created, created_at=created,
                    author=self.user(doc.user),
                )
            except ValueError as exc:
                self.report.skipped.append(f"{self.describe(doc)}: {exc}")
                continue
            self.ids[doc.guid] = record.id
            planned.append((doc.guid, record))
        # jottings before the fieldnotes that expand them, so every reference exists when saved
        planned.sort(key=lambda item: bool(derived.get(item[0])))
        new = []
        for guid, record in planned:
            sources = tuple(self.ids[t] for t in derived.get(guid, ()) if t in self.ids)
            if sources:
                import attrs as _attrs

                record = _attrs.evolve(record, derived_from=sources)
            if record.id in self.present:
                self.save(record, "observations")
            else:
                new.append(record)
            doc = docs[guid]
            kept = {"name": doc.name, "variables": doc.values}
            if doc.description.strip():
                kept["description"] = doc.description
            self.remember(guid, record, kept)
        if new:  # in one bulk write, jottings still before the fieldnotes that expand them
            self.project.add_many(new, reason=f"imported from {self.report.source}")
            self.report.count("observations", len(new))

    def plan_memos(self) -> list:
        from fieldkit.core.records import MEMO_KINDS, Memo

        now = dt.datetime.now(dt.timezone.utc)
        planned = []
        for doc in self.model.notes:
            if doc.guid not in self.texts:
                continue
            values = doc.values if self.trusted else {}
            kind = values.get("memo kind")
            title = values["memo title"] if "memo title" in values else doc.name
            try:
                record = Memo(id=self.new_id(doc.guid), kind=kind if kind in MEMO_KINDS else "analytic",
                              title=" ".join(title.split()), body=self.texts[doc.guid].text,
                              created_at=doc.created or now, author=self.user(doc.user))
            except ValueError as exc:
                self.report.skipped.append(f"{self.describe(doc)}: {exc}")
                continue
            self.ids[doc.guid] = record.id
            planned.append((doc.guid, record))
        return planned

    def plan_codings(self, code_map: dict) -> list:
        """Codings for every selection that fits its text and names a known code."""
        from fieldkit.core.records import Coding

        out = []
        now = dt.datetime.now(dt.timezone.utc)
        for doc in self.model.sources + self.model.notes:
            record_id = self.ids.get(doc.guid)
            if record_id is None:
                continue
            positions = self.texts[doc.guid]
            length = positions.length
            mapped: list[tuple[int, int]] = []
            spans = [(sel, sel.codings) for sel in doc.selections]
            spans += [(None, (c,)) for c in doc.codings]  # a Coding on the source itself: whole text
            for sel, codings in spans:
                if sel is None:
                    start = end = None
                else:
                    where = f"{self.describe(doc)}: selection {sel.guid}"
                    if sel.start < 0 or sel.end < sel.start:
                        self.skip("selection(s) with reversed or negative positions",
                                  f"{where}: {sel.start}-{sel.end}")
                        continue
                    if sel.end > length:
                        self.skip("selection(s) ending beyond the end of their text",
                                  f"{where} ends at {sel.end}, the text at {length}")
                        continue
                    if self.trusted and sel.name == WHOLE_RECORD and sel.start == 0 and sel.end == length:
                        start = end = None
                    elif not positions.identity:
                        start, end, _ = positions.span(sel.start, sel.end)
                        if start == end and sel.start != sel.end:
                            self.skip("selection(s) covering only a line-end character, which fieldkit "
                                      "does not store", where)
                            continue
                    else:
                        start, end = sel.start, sel.end
                    if not codings:
                        self.report.count("selections without a code (skipped)")
                own_coders = len({c.user for c in codings}) > 1
                for coding in codings:
                    code_id = code_map.get(coding.code_guid)
                    if code_id is None:
                        self.skip("coding(s) of a code the file does not define",
                                  f"{self.describe(doc)}: unknown code {coding.code_guid}")
                        continue
                    one = sel is not None and len(codings) == 1
                    coding_id = self.new_id(sel.guid if one else coding.guid)
                    self.coding_guids[coding_id] = sel.guid if one else coding.guid
                    # who coded it and when: the selection's, when it says (NVivo puts the code's
                    # creator and creation time on every Coding element of that code), unless
                    # the codings of one selection name different coders of their own
                    if sel is not None and not own_coders:
                        coder = self.user(sel.user, coding.user, doc.user)
                        created = sel.created or coding.created
                    else:
                        coder = self.user(coding.user, sel.user if sel else None, doc.user)
                        created = coding.created or (sel.created if sel else None)
                    out.append(Coding(
                        id=coding_id, record_id=record_id, code_id=code_id, start=start, end=end,
                        coder=coder or "imported", note=sel.description if sel else "", created_at=created or now,
                    ))
                    if start is not None:
                        mapped.append((start, end))
                    self.ids[coding.guid] = coding_id
                    if sel is not None:
                        self.selection_ids.setdefault(sel.guid, []).append(coding_id)
            self.check_shift(doc, positions.text, mapped)
        return out

    def skip(self, kind: str, example: str) -> None:
        """Count a skipped item of one kind; the report gets one line per kind (``flush_skips``)."""
        n, first = self.skipped.get(kind, (0, example))
        self.skipped[kind] = (n + 1, first)

    def flush_skips(self) -> None:
        for kind, (n, first) in self.skipped.items():
            self.report.skipped.append(f"{n} {kind} (first: {first})")
        self.skipped.clear()

    def check_shift(self, doc: TextDoc, text: str, spans: list[tuple[int, int]]) -> None:
        """Warn when many codings of a text start or end inside a word: its positions may be
        counted in another unit than the one used (a shift nothing else would reveal)."""
        from fieldkit.exchange.refi.offsets import looks_shifted, word_cuts

        cut, checked = word_cuts(text, spans)
        if looks_shifted(cut, checked):
            self.report.notes.append(
                f"{self.describe(doc)}: {cut} of {checked} selection boundaries fall inside a word; its "
                f"positions may be counted differently from how they were read ({self.unit}) -- check a few "
                "codings, and try --offsets utf16 or --offsets codepoints")

    def memos_with_links(self, memos: list[tuple[str, Memo]]) -> Iterator[tuple[str, Memo]]:
        """Each memo linked to whatever carried a ``NoteRef`` to its note, or a ``Link`` with it."""
        import attrs as _attrs

        about: dict[str, list] = {}

        def link(note_guid, target_ids):
            for target in target_ids:
                if target and target not in about.setdefault(note_guid, []):
                    about[note_guid].append(target)

        for doc in self.model.sources + self.model.notes:
            for note in doc.note_refs:
                link(note, [self.ids.get(doc.guid)])
            for sel in doc.selections:
                for note in sel.note_refs:
                    link(note, self.selection_ids.get(sel.guid, ()))
                for coding in sel.codings:
                    for note in coding.note_refs:
                        link(note, [self.ids.get(coding.guid)])
            for coding in doc.codings:
                for note in coding.note_refs:
                    link(note, [self.ids.get(coding.guid)])
        for code in self.model.codes:
            for note in code.note_refs:
                link(note, [self.ids.get(code.guid)])
        for item in self.model.links:  # a Link between a note and anything, in either direction
            if item.origin and item.target and item.name != "derived from":
                link(item.origin, [self.ids.get(item.target)])
                link(item.target, [self.ids.get(item.origin)])
        for guid, memo in memos:
            targets = tuple(t for t in about.get(guid, ()) if t != memo.id)
            yield guid, (_attrs.evolve(memo, links=targets) if targets else memo)
