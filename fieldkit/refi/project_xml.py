"""Writing a REFI-QDA project (``.qdpx``): a zip with ``project.qde`` and ``sources/<GUID>.txt``.

The export streams: each text goes into the zip as soon as ``export_items`` yields it, and
the XML for sources and notes goes to temporary files beside the destination. The head of
``project.qde`` (users, codebook, variables, cases) can only be written once every source
has been seen, so it is written last and the two fragments are copied in after it. Memory
holds ids and GUIDs, never the texts or the XML tree.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import tempfile
from pathlib import Path
from typing import Optional

from . import PROJECT_NS, WHOLE_RECORD, derived_guid, origin, record_guid

# Characters XML 1.0 cannot carry at all; they are written as U+FFFD.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
# In attributes, parsers fold raw line breaks and tabs into spaces, so they are escaped too.
_ATTR_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                               "\r": "&#13;", "\n": "&#10;", "\t": "&#9;"})
_RGB = re.compile(r"#(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})")
SCHEMA_LOCATION = "http://schema.qdasoftware.org/versions/Project/v1.0/Project.xsd"
_FLUSH_AT = 1 << 20
_UTC = dt.timezone.utc

#: variables fieldkit writes; participant attributes with one of these names get a prefix
VARIABLE_TYPES = {
    "fieldkit type": "Text", "role": "Text", "organisation": "Text",
    "encounter kind": "Text", "mode": "Text", "site": "Text", "site kind": "Text",
    "title": "Text", "participants": "Text", "start": "DateTime", "end": "DateTime",
    "stage": "Text", "encounter": "Text", "observed at": "DateTime",
    "observed precision": "Text", "recorded at": "DateTime",
    "memo kind": "Text", "memo title": "Text",
}
ATTRIBUTE_PREFIX = "attribute: "


def xml_text(value: str) -> str:
    """``value`` escaped for element content."""
    if _INVALID_XML.search(value):
        value = _INVALID_XML.sub("\ufffd", value)
    return value.translate(_TEXT_ESCAPES)


def xml_attr(value: str) -> str:
    """``value`` escaped for a double-quoted attribute."""
    if _INVALID_XML.search(value):
        value = _INVALID_XML.sub("\ufffd", value)
    return value.translate(_ATTR_ESCAPES)


def xml_time(value) -> str:
    """An ``xs:dateTime`` in UTC with ``Z`` (records hold UTC already; isoformat is the fast path)."""
    text = value.astimezone(_UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def valid_colour(value: str) -> Optional[str]:
    return value if value and _RGB.fullmatch(value) else None


class _Fragment:
    """XML text gathered in a temporary binary file, flushed in large chunks (small writes are slow)."""

    def __init__(self, folder: Path):
        self.file = tempfile.TemporaryFile(dir=folder)
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str):
        self.parts.append(text)
        self.size += len(text)
        if self.size >= _FLUSH_AT:
            self.flush()

    def flush(self):
        if self.parts:
            self.file.write("".join(self.parts).encode("utf-8"))
            self.parts.clear()
            self.size = 0

    def copy_to(self, out):
        self.flush()
        self.file.seek(0)
        while True:
            chunk = self.file.read(_FLUSH_AT)
            if not chunk:
                return
            out.write(chunk)

    def close(self):
        self.file.close()


def export_qdpx(project, dest: Path, options=None, *, force: bool = False):
    """Write ``project`` (as selected, consented and anonymised by ``options``) to a ``.qdpx``.

    The file appears only when it is complete; an existing ``dest`` is refused unless
    ``force`` (or ``options.force``).
    """
    import zipfile

    from ..exporting import ExportOptions, ExportReport, atomic_output

    options = options or ExportOptions()
    dest = Path(dest)
    report = ExportReport(exporter="qdpx", dest=str(dest), anonymised=options.anonymise)
    force = force or bool(getattr(options, "force", False))
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(atomic_output(dest, force=force))
        fh = stack.enter_context(open(tmp, "wb"))
        zf = stack.enter_context(zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True))
        writer = _QdpxWriter(project, options, report, zf, Path(tmp).parent)
        stack.callback(writer.close)
        writer.run()
    report.files.append(str(dest))
    return report


class _QdpxWriter:
    def __init__(self, project, options, report, zf, folder: Path):
        import time
        import zipfile

        from ..exporting import text_fields

        self.project = project
        self.options = options
        self.report = report
        self.zf = zf
        self.sources = _Fragment(folder)
        self.notes = _Fragment(folder)
        self.stamp = time.localtime()[:6]
        self.deflated = zipfile.ZIP_DEFLATED
        self.users: dict[str, str] = {}  # name -> GUID, in order of first use
        self.variables: dict[str, str] = {}  # name -> GUID, of the variables used
        self.value_heads: dict[str, str] = {}  # name -> '<VariableValue><VariableRef …/>'
        self.about: dict[str, list[str]] = {}  # record id -> GUIDs of notes about it
        self.about_used: set[str] = set()
        self.case_sources: dict[str, list[str]] = {}  # case record id -> source GUIDs
        self.links: list[tuple[str, str, str, str]] = []  # (key, name, origin GUID, target)
        self.exported: set[str] = set()  # ids of the observations and memos written
        # titles, summaries and notes can name people as easily as bodies: same anonymiser
        self.free_text = text_fields(project, options, report)

    def close(self):
        self.sources.close()
        self.notes.close()

    # helpers ---------------------------------------------------------------------------
    def user(self, name: str) -> Optional[str]:
        if not name:
            return None
        guid = self.users.get(name)
        if guid is None:
            guid = self.users[name] = derived_guid("user", name)
        return guid

    def variable(self, name: str) -> str:
        guid = self.variables.get(name)
        if guid is None:
            guid = self.variables[name] = derived_guid("variable", name)
        return guid

    def value(self, name: str, value, kind: str = "Text") -> str:
        head = self.value_heads.get(name)
        if head is None:
            head = self.value_heads[name] = f'<VariableValue><VariableRef targetGUID="{self.variable(name)}"/>'
        if kind == "DateTime":
            return f"{head}<DateTimeValue>{xml_time(value)}</DateTimeValue></VariableValue>\n"
        return f"{head}<TextValue>{xml_text(str(value))}</TextValue></VariableValue>\n"

    def note_refs(self, record_id: str) -> str:
        guids = self.about.get(record_id)
        if not guids:
            return ""
        self.about_used.add(record_id)
        return "".join(f'<NoteRef targetGUID="{g}"/>\n' for g in guids)

    def add_text(self, guid: str, text: str):
        import zipfile

        info = zipfile.ZipInfo(f"sources/{guid}.txt", self.stamp)
        info.compress_type = self.deflated
        info.external_attr = 0o600 << 16
        # UTF-8 without a byte-order mark; bodies are stored with "\n" line ends already
        self.zf.writestr(info, text.encode("utf-8"))

    def scrub(self, text: str) -> str:
        return self.free_text(text) if text else text

    # the export ------------------------------------------------------------------------
    def run(self):
        import attrs

        from ..exporting import count_selected, export_items, progress

        self.load_context()
        types = tuple(self.options.types)
        memos = []
        if "memo" in types:
            only_memos = attrs.evolve(self.options, types=("memo",))
            memos = list(self.collect_memos(export_items(self.project, only_memos, self.report)))
            for memo in memos:
                for target in memo["links"]:
                    self.about.setdefault(target, []).append(memo["guid"])
        if "observation" in types:
            only_sources = attrs.evolve(self.options, types=("observation",))
            total = count_selected(self.project, only_sources) if self.options.progress else None
            items = export_items(self.project, only_sources, self.report)
            with progress(self.options, items, length=total, label="qdpx") as bar:
                for item in bar:
                    self.write_source(item)
        for memo in memos:
            self.write_note(memo)
        self.finish_links()
        self.write_project()

    def load_context(self):
        """Codes, encounters, sites and participants: few enough to hold while the texts stream."""
        from ..consent import current_consent

        project = self.project
        self.codes = {c.id: c for c in project.list("code")}
        self.code_guids = {cid: record_guid(cid) for cid in self.codes}
        self.encounters = {e.id: e for e in project.list("encounter")}
        if self.options.encounters:
            wanted = {project.resolve(e, "encounter") for e in self.options.encounters}
            self.encounters = {k: v for k, v in self.encounters.items() if k in wanted}
        self.sites = {s.id: s for s in project.list("site")}
        self.participants = {}
        for person in project.list("participant"):
            consent = current_consent(project, person.id)
            if consent is not None and consent.status == "withdrawn":
                from ..exporting import LeftOut

                self.report.left_out.append(LeftOut(person.id, "participant", "participant withdrew consent"))
                continue
            self.participants[person.id] = person
        if self.options.encounters:
            people = {p.participant_id for e in self.encounters.values() for p in e.participants}
            self.participants = {k: v for k, v in self.participants.items() if k in people}
            used_sites = {e.site_id for e in self.encounters.values()}
            self.sites = {k: v for k, v in self.sites.items() if k in used_sites}
        self.by_code = {p.code: p.id for p in self.participants.values()}
        self.case_ids = set(self.encounters) | set(self.sites) | set(self.participants)
        self.tz = _zone(project.timezone)

    def collect_memos(self, items):
        """Write each memo's text into the zip; keep what its ``Note`` needs (never the text)."""
        for item in items:
            memo = item.record
            guid = record_guid(memo.id)
            self.add_text(guid, item.text)
            self.exported.add(memo.id)
            # selections are built later, once every note about a coding is known
            yield {
                "record": memo, "guid": guid, "links": tuple(memo.links),
                "title": self.scrub(memo.title), "length": len(item.text), "codings": item.codings,
            }

    def selections(self, record, length: int, codings) -> str:
        """``PlainTextSelection`` elements for the codings of one exported text."""
        from ..exporting import LeftOut

        parts = []
        about = self.about
        for coding in codings:
            code_guid = self.code_guids.get(coding.code_id)
            if code_guid is None:
                self.report.left_out.append(LeftOut(coding.id, "coding", "its code was deleted"))
                continue
            if coding.whole_record:
                start, end, name = 0, length, f' name="{WHOLE_RECORD}"'
            else:
                start, end, name = coding.start, coding.end, ""
                if end > length:
                    self.report.left_out.append(LeftOut(coding.id, "coding", "coding lies beyond the end of its text"))
                    continue
            user = self.user(coding.coder)
            when = xml_time(coding.created_at)
            description = ""
            if coding.note:
                description = f"<Description>{xml_text(self.scrub(coding.note))}</Description>"
            parts.append(
                f'<PlainTextSelection guid="{record_guid(coding.id)}"{name} startPosition="{start}" '
                f'endPosition="{end}" creatingUser="{user}" creationDateTime="{when}">{description}'
                f'<Coding guid="{derived_guid("coding", coding.id)}" creatingUser="{user}">'
                f'<CodeRef targetGUID="{code_guid}"/></Coding>\n'
                f'{self.note_refs(coding.id) if about else ""}</PlainTextSelection>\n'
            )
        if parts:
            self.report.count("codings", len(parts))
        return "".join(parts)

    def write_source(self, item):
        record = item.record
        guid = record_guid(record.id)
        self.add_text(guid, item.text)
        self.exported.add(record.id)
        encounter = self.encounters.get(record.encounter_id) if record.encounter_id else None
        when = record.observed_at or record.recorded_at
        label = when.astimezone(self.tz).isoformat(" ", "minutes")[:16] if when else ""
        parts = (encounter.code if encounter else "", record.stage, label, f"({record.id[-6:]})")
        name = " ".join(p for p in parts if p)
        user = self.user(record.author)
        user_attr = f' creatingUser="{user}"' if user else ""
        description = ""
        if not item.quotes_allowed:
            description = ("<Description>Consent does not cover quotation: do not quote from this source."
                           "</Description>\n")
        values = [self.value("stage", record.stage)]
        if encounter is not None:
            values.append(self.value("encounter", encounter.code))
        if record.observed_at:
            values.append(self.value("observed at", record.observed_at, "DateTime"))
            values.append(self.value("observed precision", record.observed_precision))
        values.append(self.value("recorded at", record.recorded_at, "DateTime"))
        self.sources.write(
            f'<TextSource guid="{guid}" name="{xml_attr(name)}" plainTextPath="internal://{guid}.txt"{user_attr} '
            f'creationDateTime="{xml_time(record.created_at)}">\n{description}'
            f'{self.selections(record, len(item.text), item.codings)}'
            f'{self.note_refs(record.id)}{"".join(values)}</TextSource>\n'
        )
        self.report.count("sources")
        self.add_to_cases(record, guid, encounter)
        for jotting in record.derived_from:
            self.links.append((f"{record.id}:{jotting}", "derived from", guid, jotting))

    def add_to_cases(self, record, guid, encounter):
        cases = set()
        if encounter is not None:
            cases.add(encounter.id)
            if encounter.site_id in self.sites:
                cases.add(encounter.site_id)
            cases.update(p.participant_id for p in encounter.participants if p.participant_id in self.participants)
        for code in record.mentions:
            pid = self.by_code.get(code)
            if pid:
                cases.add(pid)
        for case in cases:
            self.case_sources.setdefault(case, []).append(guid)

    def write_note(self, memo):
        record = memo["record"]
        guid = memo["guid"]
        title = memo["title"]
        name = title or f"{record.kind} memo ({record.id[-6:]})"
        user = self.user(record.author)
        user_attr = f' creatingUser="{user}"' if user else ""
        self.notes.write(
            f'<Note guid="{guid}" name="{xml_attr(name)}" plainTextPath="internal://{guid}.txt"{user_attr} '
            f'creationDateTime="{xml_time(record.created_at)}">\n'
            f'{self.selections(record, memo["length"], memo["codings"])}{self.note_refs(record.id)}'
            f'{self.value("memo kind", record.kind)}{self.value("memo title", title)}</Note>\n'
        )
        self.report.count("notes")
        for target in memo["links"]:
            if target in self.case_ids:
                self.links.append((f"{record.id}:{target}", "about", guid, record_guid(target)))
                self.about_used.add(target)

    def finish_links(self):
        """Keep only links whose two ends were exported; count memo links that could not be kept."""
        kept = []
        for key, name, origin_guid, target in self.links:
            if name == "derived from":
                if target not in self.exported:
                    continue
                target_guid = record_guid(target)
            else:
                target_guid = target
            kept.append((derived_guid("link", key), name, origin_guid, target_guid))
        self.links = kept

    # project.qde ---------------------------------------------------------------------------
    def write_project(self):
        import datetime as dt

        head = self.head_parts(dt.datetime.now(dt.timezone.utc))
        # only now has every target (codes too) had the chance to carry its NoteRefs
        dropped = sum(len(v) for k, v in self.about.items() if k not in self.about_used)
        if dropped:
            self.report.count("memo links to records not in this export (dropped)", dropped)
        with self.zf.open("project.qde", "w", force_zip64=True) as out:
            out.write("".join(head).encode("utf-8"))
            if self.report.counts.get("sources"):
                out.write(b"<Sources>\n")
                self.sources.copy_to(out)
                out.write(b"</Sources>\n")
            if self.report.counts.get("notes"):
                out.write(b"<Notes>\n")
                self.notes.copy_to(out)
                out.write(b"</Notes>\n")
            tail = []
            if self.links:
                tail.append("<Links>\n")
                tail += [f'<Link guid="{g}" name="{name}" direction="OneWay" originGUID="{o}" targetGUID="{t}"/>\n'
                         for g, name, o, t in self.links]
                tail.append("</Links>\n")
            state = "anonymised" if self.options.anonymise else "NOT anonymised"
            tail.append(f"<Description>Exported by {xml_text(origin())} ({state}).</Description>\n</Project>\n")
            out.write("".join(tail).encode("utf-8"))

    def head_parts(self, now) -> list[str]:
        from .codebook_xml import code_elements

        project = self.project
        me = self.user(project.author)
        name = project.setting("name") or project.path.name or "fieldkit project"
        # cases and codes are written first so that every user and variable they use is known
        cases = self.case_parts()
        codes = list(code_elements(self.codes.values(), about=self.note_refs))
        self.report.count("codes", len(self.codes))
        parts = [
            '<?xml version="1.0" encoding="utf-8"?>\n',
            f'<Project xmlns="{PROJECT_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:schemaLocation="{PROJECT_NS} {SCHEMA_LOCATION}" name="{xml_attr(name)}" '
            f'origin="{xml_attr(origin())}"' + (f' creatingUserGUID="{me}"' if me else "")
            + f' creationDateTime="{xml_time(now)}">\n',
        ]
        if self.users:
            parts.append("<Users>\n")
            parts += [f'<User guid="{guid}" name="{xml_attr(user)}"/>\n' for user, guid in self.users.items()]
            parts.append("</Users>\n")
        self.report.count("users", len(self.users))
        if codes:
            parts += ["<CodeBook><Codes>\n", *codes, "</Codes></CodeBook>\n"]
        if self.variables:
            parts.append("<Variables>\n")
            parts += [f'<Variable guid="{guid}" name="{xml_attr(name)}" '
                      f'typeOfVariable="{VARIABLE_TYPES.get(name, "Text")}"/>\n'
                      for name, guid in self.variables.items()]
            parts.append("</Variables>\n")
        if cases:
            parts += ["<Cases>\n", *cases, "</Cases>\n"]
        return parts

    def case_parts(self) -> list[str]:
        parts = []
        for site in self.sites.values():
            values = [self.value("fieldkit type", "site"), self.value("site kind", site.kind)]
            parts.append(self.case(site, site.name, self.scrub(site.note), values))
        for person in self.participants.values():
            values = [self.value("fieldkit type", "participant"), self.value("role", person.role)]
            if person.organisation:
                values.append(self.value("organisation", self.scrub(person.organisation)))
            for key, val in sorted(person.attributes.items()):
                label = ATTRIBUTE_PREFIX + key if key in VARIABLE_TYPES or key.startswith(ATTRIBUTE_PREFIX) else key
                values.append(self.value(label, val))
            parts.append(self.case(person, person.code, self.scrub(person.note), values))
        for enc in self.encounters.values():
            values = [self.value("fieldkit type", "encounter"), self.value("encounter kind", enc.kind),
                      self.value("mode", enc.mode)]
            if enc.title:
                values.append(self.value("title", self.scrub(enc.title)))
            if enc.site_id in self.sites:
                values.append(self.value("site", self.sites[enc.site_id].name))
            for label in ("start", "end"):
                if getattr(enc, label):
                    values.append(self.value(label, getattr(enc, label), "DateTime"))
            people = [f"{self.participants[p.participant_id].code}:{p.role}" if p.role
                      else self.participants[p.participant_id].code
                      for p in enc.participants if p.participant_id in self.participants]
            if people:
                values.append(self.value("participants", ", ".join(people)))
            parts.append(self.case(enc, enc.code, self.scrub(enc.summary), values))
        return parts

    def case(self, record, name: str, description: str, values: list[str]) -> str:
        description = f"<Description>{xml_text(description)}</Description>\n" if description else ""
        refs = "".join(f'<SourceRef targetGUID="{g}"/>\n' for g in self.case_sources.get(record.id, ()))
        self.report.count("cases")
        return (f'<Case guid="{record_guid(record.id)}" name="{xml_attr(name)}">\n'
                f'{description}{"".join(values)}{refs}</Case>\n')


def _zone(name: str):
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(name)
    except Exception:  # a bad setting must not stop an export; names are only labels
        import datetime as dt

        return dt.timezone.utc
