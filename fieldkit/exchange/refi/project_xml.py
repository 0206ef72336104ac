"""Writing a REFI-QDA project (``.qdpx``): a zip with ``project.qde`` and ``sources/<GUID>.txt``.

The export streams: texts go into the zip in batches as ``export_items`` yields them (see
``.archive``), and the XML for sources and notes is staged in a temporary file beside the
destination. The head of ``project.qde`` (users, codebook, variables, cases) can only be
written once every source has been seen, so it is written last (its cases staged too: they
refer to every source) and the staged XML is copied in after it. Memory holds ids and
GUIDs, never the texts or the XML tree.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence, TYPE_CHECKING

from fieldkit.exchange.refi import PROJECT_NS, WHOLE_RECORD, derived_guid, guid_maker, origin, record_guid

if TYPE_CHECKING:
    from fieldkit.core.records import Coding, Encounter, Record
    from fieldkit.exchange.exporting import ExportItem, ExportOptions, ExportReport
    from fieldkit.exchange.refi.archive import Entry
    from fieldkit.project import Project

# Characters XML 1.0 cannot carry at all; they are written as U+FFFD.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
# In attributes, parsers fold raw line breaks and tabs into spaces, so they are escaped too.
_ATTR_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                               "\r": "&#13;", "\n": "&#10;", "\t": "&#9;"})
# Whether there is anything to do at all: most values have nothing, and translate is slow.
_TEXT_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_ATTR_SPECIAL = re.compile('[&<>"\t\n\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]')
_RGB = re.compile(r"#(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})")
SCHEMA_LOCATION = "http://schema.qdasoftware.org/versions/Project/v1.0/Project.xsd"
_FLUSH_AT = 1 << 20
_BATCH = 500  # sources whose texts are zipped before their XML is written
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
QUOTES_NOT_ALLOWED = "Consent does not cover quotation: do not quote from this source."


def xml_text(value: str) -> str:
    """``value`` escaped for element content."""
    if not _TEXT_SPECIAL.search(value):
        return value
    if _INVALID_XML.search(value):
        value = _INVALID_XML.sub("\ufffd", value)
    return value.translate(_TEXT_ESCAPES)


def xml_attr(value: str) -> str:
    """``value`` escaped for a double-quoted attribute."""
    if not _ATTR_SPECIAL.search(value):
        return value
    if _INVALID_XML.search(value):
        value = _INVALID_XML.sub("\ufffd", value)
    return value.translate(_ATTR_ESCAPES)


def xml_time(value: dt.datetime) -> str:
    """An ``xs:dateTime`` in UTC with ``Z`` (no fraction when it is zero)."""
    text = value.astimezone(_UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def valid_colour(value: str) -> Optional[str]:
    return value if value and _RGB.fullmatch(value) else None


class _Fragment:
    """XML text staged with the zipper (``.archive``) until ``project.qde`` is written, in large
    chunks (small writes are slow)."""

    def __init__(self, zipper, key: str):
        self.zipper = zipper
        self.key = key
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size >= _FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.zipper.stage(self.key, "".join(self.parts).encode("utf-8"))
            self.parts.clear()
            self.size = 0

    def copy_to(self, out: Entry) -> None:
        self.flush()
        out.write_staged(self.key)


def export_qdpx(project: Project, dest: Path, options: Optional[ExportOptions] = None, *,
                force: bool = False) -> ExportReport:
    """Write ``project`` (as selected, consented and anonymised by ``options``) to a ``.qdpx``.

    The file appears only when it is complete; an existing ``dest`` is refused unless
    ``force`` (or ``options.force``).
    """
    import time

    from fieldkit.exchange.exporting import ExportOptions, ExportReport, atomic_output
    from fieldkit.exchange.refi.archive import open_zip

    options = options or ExportOptions()
    dest = Path(dest)
    report = ExportReport(exporter="qdpx", dest=str(dest), anonymised=options.anonymise)
    force = force or bool(getattr(options, "force", False))
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(atomic_output(dest, force=force))
        # every text is stamped with the time the export started
        zipper = open_zip(stack, tmp, time.localtime()[:6])
        writer = _QdpxWriter(project, options, report, zipper)
        stack.callback(writer.close)
        writer.run()
        zipper.close()
    report.files.append(str(dest))
    return report


class _QdpxWriter:
    def __init__(self, project, options, report, zipper):
        from fieldkit.exchange.exporting import export_anonymiser, text_fields

        self.project = project
        self.options = options
        self.report = report
        self.zipper = zipper  # see .archive: texts go in batches, project.qde last
        self.sources = _Fragment(zipper, "sources")
        self.notes = _Fragment(zipper, "notes")
        self.coding_guid = guid_maker("coding")
        self.users: dict[str, str] = {}  # name -> GUID, in order of first use
        self.variables: dict[str, str] = {}  # name -> GUID, of the variables used
        self.value_heads: dict[str, str] = {}  # name -> '<VariableValue><VariableRef …/>'
        self.text_values: dict[tuple, str] = {}  # (name, text) -> its VariableValue (stages repeat)
        self.encounter_cases: dict[str, tuple] = {}  # encounter id -> the cases its sources belong to
        self.about: dict[str, list[str]] = {}  # record id -> GUIDs of notes about it
        self.about_used: set[str] = set()
        self.case_sources: dict[str, list[str]] = {}  # case record id -> source GUIDs
        self.links: list[tuple[str, str, str, str]] = []  # (key, name, origin GUID, target)
        self.exported: set[str] = set()  # ids of the observations and memos written
        self.batch_guids: dict[str, str] = {}  # id -> GUID of the sources being written
        self.memo_ids: set[str] = set()
        self.foreign_cases: dict[str, tuple] = {}  # another tool's case GUID -> (name, variables, source GUIDs)
        self.profile = getattr(options, "program", None)
        if self.profile is not None and self.profile not in PROFILES:
            from fieldkit.core.errors import InvalidInput

            raise InvalidInput(f"--for must be one of {', '.join(PROFILES)}, not {self.profile!r}")
        # titles, summaries and notes can name people as easily as bodies: one anonymiser for
        # the bodies, memos and every free-text field of this export
        self.anonymiser = export_anonymiser(project, options, report)
        self.free_text = text_fields(project, options, report, anonymiser=self.anonymiser)

    def close(self) -> None:
        if self.anonymiser is not None:
            self.anonymiser.close()

    # helpers ---------------------------------------------------------------------------
    def user(self, name: str) -> Optional[str]:
        if not name:
            return None
        guid = self.users.get(name)
        if guid is None:  # the GUID another tool gave this user, else one made from the name
            guid = self.users[name] = self.kept_users.get(name) or derived_guid("user", name)
        return guid

    def variable(self, name: str) -> str:
        guid = self.variables.get(name)
        if guid is None:
            guid = self.variables[name] = derived_guid("variable", name)
        return guid

    def value(self, name: str, value: object, kind: str = "Text") -> str:
        if kind == "DateTime":
            return f"{self.value_head(name)}<DateTimeValue>{xml_time(value)}</DateTimeValue></VariableValue>\n"
        if value.__class__ is not str:
            return f"{self.value_head(name)}<TextValue>{xml_text(str(value))}</TextValue></VariableValue>\n"
        found = self.text_values.get((name, value))
        if found is None:  # values repeat (stages, encounters …): each is made once
            found = f"{self.value_head(name)}<TextValue>{xml_text(value)}</TextValue></VariableValue>\n"
            self.text_values[(name, value)] = found
        return found

    def value_head(self, name: str) -> str:
        head = self.value_heads.get(name)
        if head is None:
            head = self.value_heads[name] = f'<VariableValue><VariableRef targetGUID="{self.variable(name)}"/>'
        return head

    def note_refs(self, record_id: str) -> str:
        guids = self.about.get(record_id)
        if not guids:
            return ""
        self.about_used.add(record_id)
        return "".join(f'<NoteRef targetGUID="{g}"/>\n' for g in guids)

    def add_texts(self, texts: Iterable[tuple[str, str]]) -> None:
        """``(guid, text)`` pairs into the zip as ``sources/<guid>.txt``."""
        # UTF-8 without a byte-order mark; bodies are stored with "\n" line ends already
        self.zipper.add([(f"sources/{guid}.txt", text.encode("utf-8")) for guid, text in texts])

    def guid_of(self, record_id: str) -> str:
        """A record's GUID: the one another tool gave it, else its id's."""
        return _kept_guid(self.kept.get(record_id)) or record_guid(record_id)

    def scrub(self, text: str) -> str:
        return self.free_text(text) if text else text

    # the export ------------------------------------------------------------------------
    def run(self) -> None:
        import attrs

        from fieldkit.exchange.exporting import count_selected, export_items, progress

        self.load_context()
        types = tuple(self.options.types)
        memos = []
        if "memo" in types:
            only_memos = attrs.evolve(self.options, types=("memo",))
            memos = list(self.collect_memos(export_items(self.project, only_memos, self.report,
                                                         anonymiser=self.anonymiser)))
            self.memo_ids = {m["record"].id for m in memos}
            for memo in memos:
                for target in memo["links"]:
                    self.about.setdefault(target, []).append(memo["guid"])
        if "observation" in types:
            only_sources = attrs.evolve(self.options, types=("observation",))
            total = count_selected(self.project, only_sources) if self.options.progress else None
            items = export_items(self.project, only_sources, self.report, anonymiser=self.anonymiser)
            with progress(self.options, items, length=total, label="qdpx") as bar:
                for batch in _batches(bar, _BATCH):
                    self.write_sources(batch)
        for memo in memos:
            self.write_note(memo)
        self.leave_out_case_codings()
        self.finish_links()
        self.write_project()
        if self.profile:
            self.warn_profile(memos)

    def warn_profile(self, memos: list) -> None:
        """Say what the ``--for`` profile changed and what the target program will drop."""
        report = self.report
        report.warn(f"written for {self.profile}: {PROFILES[self.profile]}")
        if self.profile != "qualcoder":
            return
        # what QualCoder's REFI-QDA import does not keep, as fieldkit's issue 15 records it
        drops = {
            "coding(s) on memos": sum(len(m["codings"]) for m in memos),
            "case-to-source link(s)": sum(len(v) for v in self.case_sources.values()),
            "memo link(s) to other memos": sum(1 for m in memos for t in m["links"] if t in self.memo_ids),
        }
        names: dict = {}
        for code in self.codes.values():
            names.setdefault(code.name, []).append(code.id)
        drops["code(s) sharing a name with a code under another parent (QualCoder merges them)"] = sum(
            len(ids) for ids in names.values() if len(ids) > 1)
        # its documentation: "sets and graphs cannot be imported" (QualCoder wiki, Imports and Exports)
        drops["set(s)"] = report.counts.get("sets", 0)
        for what, n in drops.items():
            if n:
                report.warn(f"QualCoder will drop {n} {what}")

    def leave_out_case_codings(self) -> None:
        """Codings on an encounter, site or participant: REFI-QDA codes text, so each is reported."""
        labels = {"encounter": self.encounters, "site": self.sites, "participant": self.participants}
        for kind, records in labels.items():
            if not records:
                continue
            for coding in self.project.store.select("coding", record_id=list(records)):
                self.leave_out(coding.id, f"coding on a{'n' if kind[0] in 'aeiou' else ''} {kind}: "
                                          "REFI-QDA codes text sources only")

    def load_context(self) -> None:
        """Codes, encounters, sites and participants: few enough to hold while the texts stream."""
        from fieldkit.privacy.consent import current_consent
        from fieldkit.exchange.exporting import scrub

        project = self.project

        def records(type_name):  # every free-text field anonymised, as the bodies are
            return [scrub(record, self.free_text) for record in project.list(type_name)]

        self.codes = {c.id: c for c in records("code")}
        # what other tools gave records (their GUIDs, a document's name, variables and sets,
        # a code being a category): given back, so a round trip keeps their identity
        self.kept = project.store.exchange.identities()
        kept_codes = {cid: self.kept[cid] for cid in self.codes if cid in self.kept}
        self.code_guids = {cid: _kept_guid(kept_codes.get(cid)) or record_guid(cid) for cid in self.codes}
        self.not_codable = frozenset(cid for cid, (_, data) in kept_codes.items() if data.get("codable") is False)
        self.sets: dict[str, list[str]] = {}  # set name -> GUIDs of the exported sources in it (older imports)
        # other tools' sets, users and cases that are no fieldkit record, kept by an import
        self.items = project.store.exchange.items()
        self.kept_users: dict[str, str] = {}
        for item in self.items:
            if item["kind"] == "user" and item["name"]:
                self.kept_users.setdefault(item["name"], _kept_guid((item["external_id"],)) or
                                           derived_guid("user", item["name"]))
        self.encounters = {e.id: e for e in records("encounter")}
        if self.options.encounters:
            wanted = {project.resolve(e, "encounter") for e in self.options.encounters}
            self.encounters = {k: v for k, v in self.encounters.items() if k in wanted}
        self.sites = {s.id: s for s in records("site")}
        self.participants = {}
        for person in records("participant"):
            consent = current_consent(project, person.id)
            if consent is not None and consent.status == "withdrawn":
                from fieldkit.exchange.exporting import LeftOut

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

    def collect_memos(self, items: Iterable[ExportItem]) -> Iterator[dict[str, Any]]:
        """Write each memo's text into the zip; keep what its ``Note`` needs (never the text)."""
        for item in items:
            memo = item.record
            guid = self.guid_of(memo.id)
            self.add_texts([(guid, item.text)])
            self.exported.add(memo.id)
            # selections are built later, once every note about a coding is known
            yield {
                "record": memo, "guid": guid, "links": tuple(memo.links),
                "title": self.scrub(memo.title), "length": len(item.text),
                "codings": (*item.codings, *item.withheld),
                "text": item.text if self.profile == "nvivo" else "",
            }

    def selections(self, record: Record, length: int, codings: Iterable[Coding], text: str = "") -> str:
        """``PlainTextSelection`` elements for the codings of one exported text."""
        parts = []
        # the NVivo profile counts positions as NVivo does (UTF-16 units)
        convert = utf16_position(text) if self.profile == "nvivo" else None
        about = self.about
        code_guids, users, coding_guid, guid_of = self.code_guids, self.users, self.coding_guid, self.guid_of
        for coding in codings:
            cid = coding.id
            code_guid = code_guids.get(coding.code_id)
            if code_guid is None:
                self.leave_out(cid, "its code was deleted")
                continue
            start = coding.start
            if start is None:  # a whole-record coding
                start, end, name = 0, length, f' name="{WHOLE_RECORD}"'
            else:
                end, name = coding.end, ""
                if end > length:
                    self.leave_out(cid, "coding lies beyond the end of its text")
                    continue
            if convert is not None:
                start, end = convert(start), convert(end)
            user = users.get(coding.coder) or self.user(coding.coder)
            description = ""
            if coding.note:
                description = f"<Description>{xml_text(self.scrub(coding.note))}</Description>"
            parts.append(
                f'<PlainTextSelection guid="{guid_of(cid)}"{name} startPosition="{start}" '
                f'endPosition="{end}" creatingUser="{user}" creationDateTime="{xml_time(coding.created_at)}">'
                f'{description}<Coding guid="{coding_guid(cid)}" creatingUser="{user}">'
                f'<CodeRef targetGUID="{code_guid}"/></Coding>\n'
                f'{self.note_refs(cid) if about else ""}</PlainTextSelection>\n'
            )
        if parts:
            self.report.count("codings", len(parts))
        return "".join(parts)

    def leave_out(self, coding_id: str, reason: str) -> None:
        from fieldkit.exchange.exporting import LeftOut

        self.report.left_out.append(LeftOut(coding_id, "coding", reason))

    def write_sources(self, items: Sequence[ExportItem]) -> None:
        """A batch of texts into the zip, then their ``TextSource`` elements.

        Not one text and its element at a time: when the zip is written here, each compressor
        it makes churns the processor's caches, and alternating with the XML slows both.
        """
        self.batch_guids = {item.record.id: self.guid_of(item.record.id) for item in items}
        self.add_texts((self.batch_guids[item.record.id], item.text) for item in items)
        for item in items:
            self.write_source(item)

    def write_source(self, item: ExportItem) -> None:
        record = item.record
        guid = self.batch_guids.get(record.id) or record_guid(record.id)
        self.exported.add(record.id)
        encounter = self.encounters.get(record.encounter_id) if record.encounter_id else None
        observed = record.observed_at
        when = observed or record.recorded_at
        label = self.local_minute(when) if when else ""
        parts = (encounter.code if encounter else "", record.stage, label, f"({record.id[-6:]})")
        name = " ".join(p for p in parts if p)
        kept = self.kept.get(record.id, ("", {}))[1]
        if kept.get("name"):  # the document's name in the tool it came from (it may name someone)
            name = self.scrub(kept["name"])
        user = self.users.get(record.author) or self.user(record.author)
        user_attr = f' creatingUser="{user}"' if user else ""
        description = self.scrub(kept["description"]) if kept.get("description") else ""
        if not item.quotes_allowed:
            description = "\n".join(filter(None, (description, QUOTES_NOT_ALLOWED)))
        if description:
            description = f"<Description>{xml_text(description)}</Description>\n"
        # in this order: the Variables list follows the order of first use
        value = self.value
        values = value("stage", record.stage)
        if encounter is not None:
            values += value("encounter", encounter.code)
        if observed:
            values += value("observed at", observed, "DateTime")
            values += value("observed precision", record.observed_precision)
        values += value("recorded at", record.recorded_at, "DateTime")
        for var, text in (kept.get("variables") or {}).items():
            if var not in VARIABLE_TYPES:  # another tool's document variables, as text
                values += value(var, self.scrub(str(text)))
        for set_name in kept.get("sets") or ():
            self.sets.setdefault(set_name, []).append(guid)
        for case in kept.get("cases") or ():  # another tool's case about this document
            found = self.foreign_cases.setdefault(case["guid"], (case["name"], case.get("variables") or {}, []))
            found[2].append(guid)
        self.sources.write(
            f'<TextSource guid="{guid}" name="{xml_attr(name)}" plainTextPath="internal://{guid}.txt"{user_attr} '
            f'creationDateTime="{xml_time(record.created_at)}">\n{description}'
            f'{self.selections(record, len(item.text), (*item.codings, *item.withheld), item.text)}'
            f'{self.note_refs(record.id) if self.about else ""}{values}</TextSource>\n'
        )
        self.report.count("sources")
        self.add_to_cases(record, guid, encounter)
        for jotting in record.derived_from:
            self.links.append((f"{record.id}:{jotting}", "derived from", guid, jotting))

    def local_minute(self, when: dt.datetime) -> str:
        """``when`` in the project's zone, to the minute, for names."""
        return when.astimezone(self.tz).isoformat(" ", "minutes")[:16]

    def add_to_cases(self, record: Record, guid: str, encounter: Optional[Encounter]) -> None:
        cases = self.cases_of(encounter) if encounter is not None else ()
        linked = [pid for pid in record.links if pid in self.participants]  # as mentioned, below
        if record.mentions or linked:
            cases = set(cases)
            cases.update(linked)
            for code in record.mentions:
                pid = self.by_code.get(code)
                if pid:
                    cases.add(pid)
        case_sources = self.case_sources
        for case in cases:
            found = case_sources.get(case)
            if found is None:
                case_sources[case] = [guid]
            else:
                found.append(guid)

    def cases_of(self, encounter: Encounter) -> tuple[str, ...]:
        """The encounter, its site and its participants, as far as they are exported (once per encounter)."""
        cases = self.encounter_cases.get(encounter.id)
        if cases is None:
            found = {encounter.id}
            if encounter.site_id in self.sites:
                found.add(encounter.site_id)
            found.update(p.participant_id for p in encounter.participants if p.participant_id in self.participants)
            cases = self.encounter_cases[encounter.id] = tuple(found)
        return cases

    def write_note(self, memo: dict[str, Any]) -> None:
        record = memo["record"]
        guid = memo["guid"]
        title = memo["title"]
        name = title or f"{record.kind} memo ({record.id[-6:]})"
        user = self.user(record.author)
        user_attr = f' creatingUser="{user}"' if user else ""
        self.notes.write(
            f'<Note guid="{guid}" name="{xml_attr(name)}" plainTextPath="internal://{guid}.txt"{user_attr} '
            f'creationDateTime="{xml_time(record.created_at)}">\n'
            f'{self.selections(record, memo["length"], memo["codings"], memo["text"])}{self.note_refs(record.id)}'
            f'{self.value("memo kind", record.kind)}{self.value("memo title", title)}</Note>\n'
        )
        self.report.count("notes")
        for target in memo["links"]:
            if target in self.case_ids:
                self.links.append((f"{record.id}:{target}", "about", guid, record_guid(target)))
                self.about_used.add(target)

    def finish_links(self) -> None:
        """Keep only links whose two ends were exported; count memo links that could not be kept."""
        kept = []
        for key, name, origin_guid, target in self.links:
            if name == "derived from":
                if target not in self.exported:
                    continue
                target_guid = self.guid_of(target)
            else:
                target_guid = target
            kept.append((derived_guid("link", key), name, origin_guid, target_guid))
        self.links = kept

    # project.qde ---------------------------------------------------------------------------
    def write_project(self) -> None:
        import datetime as dt

        # cases (and codes, in head_parts) are made first so that every user and variable they
        # use is known; cases are staged, as they refer to every source
        cases = _Fragment(self.zipper, "cases")
        for case in self.case_parts():
            cases.write(case)
        head = self.head_parts(dt.datetime.now(dt.timezone.utc))
        # only now has every target (codes too) had the chance to carry its NoteRefs
        dropped = sum(len(v) for k, v in self.about.items() if k not in self.about_used)
        if dropped:
            self.report.count("memo links to records not in this export (dropped)", dropped)
        with self.zipper.open("project.qde") as out:
            out.write("".join(head).encode("utf-8"))
            if self.report.counts.get("cases"):
                out.write(b"<Cases>\n")
                cases.copy_to(out)
                out.write(b"</Cases>\n")
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
            sets = self.set_elements()
            if sets:
                tail += ["<Sets>\n", *sets, "</Sets>\n"]
                self.report.count("sets", len(sets))
            state = "anonymised" if self.options.anonymise else "NOT anonymised"
            tail.append(f"<Description>Exported by {xml_text(origin())} ({state}).</Description>\n</Project>\n")
            out.write("".join(tail).encode("utf-8"))

    def set_elements(self) -> list[str]:
        """``Set`` elements: other tools' sets with their GUIDs and the members this export holds."""
        out = []
        names = set()
        dropped = 0
        for item in self.items:
            if item["kind"] != "set":
                continue
            names.add(item["name"])
            by_kind: dict[str, list[str]] = {"code": [], "observation": [], "memo": []}
            for rid, kind in item["members"]:
                if kind == "code" and rid in self.code_guids:
                    by_kind[kind].append(self.code_guids[rid])
                elif kind in ("observation", "memo") and rid in self.exported:
                    by_kind[kind].append(self.guid_of(rid))
                else:
                    dropped += 1
            description = item["data"].get("description")
            guid = _kept_guid((item["external_id"],)) or derived_guid("set", item["external_id"])
            out.append(f'<Set guid="{guid}" name="{xml_attr(self.scrub(item["name"]))}">'
                       + (f"<Description>{xml_text(self.scrub(description))}</Description>" if description else "")
                       + "".join(f'<MemberCode targetGUID="{g}"/>' for g in by_kind["code"])
                       + "".join(f'<MemberSource targetGUID="{g}"/>' for g in by_kind["observation"])
                       + "".join(f'<MemberNote targetGUID="{g}"/>' for g in by_kind["memo"]) + "</Set>\n")
        for set_name, members in self.sets.items():  # document sets kept by older imports
            if set_name not in names:
                out.append(f'<Set guid="{derived_guid("set", set_name)}" name="{xml_attr(set_name)}">'
                           + "".join(f'<MemberSource targetGUID="{g}"/>' for g in members) + "</Set>\n")
        if dropped:
            self.report.count("set memberships of records not in this export (dropped)", dropped)
        return out

    def head_parts(self, now: dt.datetime) -> list[str]:
        """``project.qde`` up to its cases: declaration, users, codebook and variables."""
        from fieldkit.exchange.refi.codebook_xml import code_elements

        project = self.project
        me = self.user(project.author)
        name = project.setting("name") or project.path.name or "fieldkit project"
        codes = list(code_elements(self.codes.values(), about=self.note_refs, guids=self.code_guids,
                                   not_codable=self.not_codable))
        self.report.count("codes", len(self.codes))
        parts = [
            '<?xml version="1.0" encoding="utf-8"?>\n',
            f'<Project xmlns="{PROJECT_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:schemaLocation="{PROJECT_NS} {SCHEMA_LOCATION}" name="{xml_attr(name)}" '
            f'origin="{xml_attr(origin())}"' + (f' creatingUserGUID="{me}"' if me else "")
            + f' creationDateTime="{xml_time(now)}">\n',
        ]
        for user in self.kept_users:  # also those with nothing in this export, so a round trip keeps them
            self.user(user)
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
        return parts

    def case_parts(self) -> Iterator[str]:
        """One ``Case`` element after another: sites, participants, encounters."""
        for site in self.sites.values():
            values = [self.value("fieldkit type", "site"), self.value("site kind", site.kind)]
            yield self.case(site, site.name, self.scrub(site.note), values)
        for person in self.participants.values():
            values = [self.value("fieldkit type", "participant"), self.value("role", person.role)]
            if person.organisation:
                values.append(self.value("organisation", self.scrub(person.organisation)))
            for key, val in sorted(person.attributes.items()):
                label = ATTRIBUTE_PREFIX + key if key in VARIABLE_TYPES or key.startswith(ATTRIBUTE_PREFIX) else key
                values.append(self.value(label, val))
            yield self.case(person, person.code, self.scrub(person.note), values)
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
            yield self.case(enc, enc.code, self.scrub(enc.summary), values)
        for case_guid, (name, variables, sources) in self.foreign_cases.items():  # kept by older imports
            yield self.other_case(case_guid, name, "", variables, sources)
        dropped = 0
        for item in self.items:
            if item["kind"] != "case" or item["external_id"] in self.foreign_cases:
                continue
            sources = [self.guid_of(rid) for rid, _ in item["members"]
                       if rid in self.exported and rid not in self.memo_ids]
            if item["members"] and not sources:  # about notes this export leaves out
                dropped += 1
                continue
            data = item["data"]
            yield self.other_case(item["external_id"], item["name"], data.get("description", ""),
                                  data.get("variables") or {}, sources)
        if dropped:
            self.report.count("other tools' cases about no exported note (dropped)", dropped)

    def other_case(self, case_guid: str, name: str, description: str, variables: dict, sources: list) -> str:
        """A case another tool made (not a participant, encounter or site), with its variables as text."""
        values = [self.value(var, self.scrub(str(text))) for var, text in sorted(variables.items())
                  if var not in VARIABLE_TYPES]
        description = f"<Description>{xml_text(self.scrub(description))}</Description>\n" if description else ""
        refs = "".join(f'<SourceRef targetGUID="{g}"/>\n' for g in sources)
        self.report.count("cases")
        return (f'<Case guid="{_kept_guid((case_guid, {})) or derived_guid("case", case_guid)}" '
                f'name="{xml_attr(self.scrub(name))}">\n{description}{"".join(values)}{refs}</Case>\n')

    def case(self, record: Record, name: str, description: str, values: list[str]) -> str:
        description = f"<Description>{xml_text(description)}</Description>\n" if description else ""
        refs = "".join(f'<SourceRef targetGUID="{g}"/>\n' for g in self.case_sources.pop(record.id, ()))
        self.report.count("cases")
        return (f'<Case guid="{record_guid(record.id)}" name="{xml_attr(name)}">\n'
                f'{description}{"".join(values)}{refs}</Case>\n')


#: what each ``--for`` profile changes, and what the target program is known to drop on import
PROFILES = {
    "nvivo": "positions written in UTF-16 code units, as NVivo counts them",
    "atlas": "positions in code points, as the standard says",
    "maxqda": "positions in code points, as the standard says",
    "qualcoder": "positions in code points, as the standard says",
}


def utf16_position(text: str) -> Optional[Callable[[int], int]]:
    """A function from code-point positions in ``text`` to UTF-16 positions (None when they agree)."""
    from bisect import bisect_left

    if text.isascii():
        return None
    astral = [i for i, ch in enumerate(text) if ord(ch) > 0xFFFF]
    if not astral:
        return None
    return lambda position: position + bisect_left(astral, position)


def _kept_guid(kept) -> Optional[str]:
    """The GUID another tool gave a record, if it was a GUID (OpenQDA's own ids are not)."""
    from fieldkit.exchange.refi import clean_guid

    return clean_guid(kept[0]) if kept else None


def _batches(items, size: int):
    import itertools

    items = iter(items)
    while batch := list(itertools.islice(items, size)):
        yield batch


def _zone(name: str):
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(name)
    except Exception:  # a bad setting must not stop an export; names are only labels
        import datetime as dt

        return dt.timezone.utc
