"""What leaves the project: selecting records, applying consent and anonymisation.

Every exporter goes through ``export_items`` so that selection, consent and anonymisation
are decided in one place, never by each exporter on its own.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, TYPE_CHECKING, TypeVar, Union

import attrs

if TYPE_CHECKING:
    from fieldkit.core.records import Coding, Participant, Record
    from fieldkit.privacy.anonymiser import Anonymiser
    from fieldkit.project import Project


@attrs.frozen
class ExportOptions:
    """Which records to export and how. Anonymised by default."""

    anonymise: bool = True
    encounters: tuple = ()
    since: Optional[dt.datetime] = None
    until: Optional[dt.datetime] = None
    tags: tuple = ()
    codes: tuple = ()
    stages: tuple = ()
    #: None: observations and memos, or only observations when ``stages`` are given (a memo
    #: has no stage, so "only jottings" leaves memos out)
    types: Optional[tuple] = attrs.field(default=None)
    passphrase: Optional[str] = None
    progress: bool = False
    #: replace an existing file, or a folder an earlier export wrote (see ``check_dest``)
    force: bool = False
    #: the release profile: ``internal`` (supervision) or ``publication`` (stricter; see
    #: docs/anonymisation.md#release-profiles)
    profile: str = "internal"
    #: only the codings of these coders (all people's codings when empty); an auto-coder's
    #: proposals never leave, whatever this says: accepting one copies it to a person
    coders: tuple = ()
    #: only codings with these statuses (``ok``, ``review``; all when empty)
    statuses: tuple = ()
    #: the program a file is written for (``qdpx``: ``nvivo``, ``atlas``, ``maxqda``, ``qualcoder``)
    program: Optional[str] = None
    #: keep only codings on quotes the participant approved or amended (``fieldkit member-check``)
    member_checked_only: bool = False

    def __attrs_post_init__(self) -> None:
        if not self.types:
            object.__setattr__(self, "types", ("observation",) if self.stages else ("observation", "memo"))


@attrs.frozen
class ExportItem:
    """One record ready to leave, already obeying consent: ``text`` (also ``record.body``) is
    the released, anonymised body, in which the turns of speakers whose consent does not
    cover them read ``[turn omitted: consent]``; every coding in ``codings`` sits on that text
    and MAY be quoted; ``withheld`` holds codings whose words may not be quoted (write their
    positions if you must, never their text). ``quotes_allowed`` is False when anything was
    withheld (kept for exporters written before ``withheld``)."""

    record: object
    text: str
    codings: tuple
    quotes_allowed: bool = True
    withheld: tuple = ()
    omitted_turns: int = 0
    #: ``{coding id: member-check status}`` of the codings that are quotes a participant was shown
    quote_status: dict = attrs.Factory(dict)


@attrs.frozen
class LeftOut:
    record_id: str
    record_type: str
    reason: str


@attrs.define
class ExportReport:
    """What an export wrote and what it left out, and why."""

    exporter: str
    dest: str
    counts: dict = attrs.Factory(dict)
    left_out: list = attrs.Factory(list)
    files: list = attrs.Factory(list)
    anonymised: bool = True
    #: things the user should know, e.g. that no key store is configured so names stay
    warnings: list = attrs.Factory(list)
    #: ids of the participants whose records went into the export (for the export register)
    participants: set = attrs.Factory(set)

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    def left_out_by_reason(self) -> dict:
        """``{reason: how many}``, sorted by reason."""
        reasons: dict = {}
        for item in self.left_out:
            reasons[item.reason] = reasons.get(item.reason, 0) + 1
        return dict(sorted(reasons.items()))

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def summary_lines(self) -> list[str]:
        lines = [f"{self.exporter}: wrote {self.dest}" + (" (anonymised)" if self.anonymised else " (NOT anonymised)")]
        for what, n in sorted(self.counts.items()):
            lines.append(f"  {n} {what}")
        for reason, n in self.left_out_by_reason().items():
            lines.append(f"  left out {n}: {reason}")
        lines += [f"  warning: {w}" for w in self.warnings]
        return lines


def _conditions(project, options: ExportOptions, type_name: str) -> dict:
    """The ``Store.select`` conditions of the records of one type an export selects."""
    conditions: dict = {}
    if type_name == "observation":
        if options.stages:
            conditions["stage"] = list(options.stages)
        if options.encounters:
            conditions["encounter_id"] = [project.resolve(e, "encounter") for e in options.encounters]
    if options.tags:
        conditions["tag"] = tuple(tag.lstrip("#").lower() for tag in options.tags)
    if type_name == "memo":  # a #private memo never leaves (fieldwork.capture.is_private)
        from fieldkit.fieldwork.capture import PRIVATE_TAG

        conditions["not_tag"] = PRIVATE_TAG
    if options.codes:
        conditions["coded_with"] = selected_code_ids(project, options)
    if options.since:
        conditions["since"] = options.since
    if options.until:
        conditions["until"] = options.until
    return conditions


def selected_code_ids(project: Project, options: ExportOptions) -> list:
    """The ids of the codes ``options.codes`` names, with all their descendants."""
    from fieldkit.coding.codings import children_map, descendant_ids, resolve_code

    children = children_map(project)
    found: list = []
    for ref in options.codes:
        found += [cid for cid in descendant_ids(project, resolve_code(project, ref).id, children=children)
                  if cid not in found]
    return found


_PAGE = 500


def _pages(project, options: ExportOptions, type_name: str) -> Iterator[list]:
    """Records of one type matching the options, in id order, as pages of up to ``_PAGE``."""
    conditions = _conditions(project, options, type_name)
    after = ""
    while True:
        page = project.store.select(type_name, after=after, limit=_PAGE, **conditions)
        if not page:
            return
        yield page
        after = page[-1].id


def selected_records(project: Project, options: ExportOptions) -> Iterator[Record]:
    """Every record an export with ``options`` looks at (before consent rules), in id order."""
    for type_name in options.types:
        for page in _pages(project, options, type_name):
            yield from page


def export_items(project: Project, options: ExportOptions, report: ExportReport, *,
                 anonymiser: Optional[Anonymiser] = None) -> Iterator[ExportItem]:
    """Stream the records an export may contain, already obeying consent: anonymised text,
    turns without consent omitted, and only quotable codings in ``codings``.

    Records a consent rule excludes are recorded in ``report.left_out`` instead. The consent
    release policy is core: if it cannot run, the export stops (privacy fails closed).
    ``anonymiser`` (see :func:`export_anonymiser`) lets the calls of one export share what
    an anonymiser reads once; without it an anonymised export makes its own.
    """
    from fieldkit.core.errors import Refused
    from fieldkit.exchange.quote_status import MemberChecks

    policy = _release_policy(project, options)
    if options.profile == "publication" and not options.anonymise:
        raise Refused("the publication profile is always anonymised; leave out --raw (or use --profile internal)")
    own = anonymiser is None and options.anonymise
    if own:
        anonymiser = _anonymiser(project, options, report)
    elif not options.anonymise:
        anonymiser = None
    pending_before = anonymiser.pending_review if anonymiser is not None else 0
    # bodies and free text of one export through the one anonymiser
    texts = text_fields(project, options, report, anonymiser=anonymiser)
    wanted = coding_filter(options)
    codings_of = project.store.coding.of_records
    turns_of = project.store.turns.of_records
    checks = MemberChecks(project, options, prepare=texts)
    try:
        for type_name in options.types:
            for page in _pages(project, options, type_name):
                ids = [record.id for record in page]
                codings_by_record = codings_of(ids)
                turns_by_record = turns_of(ids)
                checks.load(page)
                # the anonymisation log of a page is written in one transaction
                with anonymiser.log_batch() if anonymiser is not None else contextlib.nullcontext():
                    for record in page:
                        turns = turns_by_record.get(record.id, [])
                        reason = policy.excluded(record) or policy.excluded_by_profile(record, turns)
                        if reason:
                            report.left_out.append(LeftOut(record.id, type_name, reason))
                            continue
                        codings = wanted(codings_by_record.get(record.id, ()))
                        item = _released(policy, anonymiser, texts, options, record, codings, turns, checks)
                        if item.omitted_turns:
                            report.count("turns omitted (consent)", item.omitted_turns)
                        direct, encounters = policy.linked(record)  # whose words went out, for the export register
                        report.participants.update(direct, *(people for _kind, people in encounters))
                        yield item
    finally:
        if anonymiser is not None:
            pending = anonymiser.pending_review - pending_before
            if pending:
                report.warn(f"{pending} name(s) replaced by a neutral or numbered placeholder wait "
                            "for review (nobody registered them, or several people share them): "
                            "fieldkit anonymise review --pending")
            if own:
                anonymiser.close()


def _released(policy, anonymiser, texts, options: ExportOptions, record, codings, turns,
              checks=None) -> ExportItem:
    """One record as consent lets it leave, anonymised (every free-text field too), dates
    coarsened for publication, and with what its participants said in member checking
    (``checks``) applied."""
    if checks is not None:  # quotes travel as codings, so consent and anonymisation move them
        codings = checks.with_quotes(record, codings)
    release = policy.release(record, codings, turns)
    if release.text != record.body:
        record = attrs.evolve(record, body=release.text)
    text, quotable, withheld = release.text, release.codings, release.withheld
    if anonymiser is not None:
        text, moved = anonymiser.apply(record, (*quotable, *withheld))
        quotable, withheld = tuple(moved[:len(quotable)]), tuple(moved[len(quotable):])
    status: dict = {}
    if checks is not None:
        text, kept, status = checks.apply(record, text, (*quotable, *withheld))
        withheld_ids = {c.id for c in withheld}
        quotable = tuple(c for c in kept if c.id not in withheld_ids)
        withheld = tuple(c for c in kept if c.id in withheld_ids)
    changes: dict = {"body": text} if text != record.body else {}
    if options.profile == "publication":
        changes.update(coarse_dates(record))
    if changes:
        record = attrs.evolve(record, **changes)
    if anonymiser is not None:
        record = scrub(record, texts)
        quotable = tuple(scrub(coding, texts) for coding in quotable)
        withheld = tuple(scrub(coding, texts) for coding in withheld)
    return ExportItem(record=record, text=text, codings=quotable, quotes_allowed=not withheld, withheld=withheld,
                      omitted_turns=release.omitted_turns, quote_status=status)


def coding_filter(options: ExportOptions) -> Callable[[tuple], tuple]:
    """A function keeping the codings an export may carry: never an auto-coder's proposal
    (one a person accepted has a copy by that person), only ``options.coders`` and
    ``options.statuses`` when given."""
    from fieldkit.coding.codings import is_auto_coder
    from fieldkit.core.errors import InvalidInput, Refused

    coders, statuses = set(options.coders), set(options.statuses)
    proposals = sorted(c for c in coders if is_auto_coder(c))
    if proposals:
        raise Refused(f"{', '.join(proposals)} only proposes codings, and proposals never leave the project; "
                      "accept them first: fieldkit autocode accept")
    unknown = sorted(statuses - {"ok", "review"})
    if unknown:
        raise InvalidInput(f"coding status must be ok or review, not {', '.join(unknown)}")

    def keep(codings) -> tuple:
        return tuple(c for c in codings if not is_auto_coder(c.coder)
                     and (not coders or c.coder in coders) and (not statuses or c.status in statuses))

    return keep


def coarse_dates(record: Record) -> dict:
    """The publication profile's dates: each to the day (times of day and the phrase a note's
    time was typed as are left out)."""
    changes: dict = {}
    for name in ("observed_at", "recorded_at", "created_at"):
        value = getattr(record, name, None)
        if value is not None:
            changes[name] = value.replace(hour=0, minute=0, second=0, microsecond=0)
    if getattr(record, "observed_at", None) is not None:
        changes["observed_precision"] = "day"
    if getattr(record, "observed_raw", ""):
        changes["observed_raw"] = ""
    return changes


def _release_policy(project, options: ExportOptions):
    """The consent release policy (``fieldkit.privacy.consent.release_policy``), called
    directly: an export never runs without it."""
    from fieldkit.core.errors import FieldkitError
    from fieldkit.privacy.consent import release_policy

    try:
        return release_policy(project, options.profile)
    except FieldkitError:
        raise
    except Exception as exc:
        raise FieldkitError(f"cannot export: the consent release policy could not run ({exc}); "
                            "nothing was written") from None


def export_anonymiser(project: Project, options: ExportOptions, report: ExportReport) -> Optional[Anonymiser]:
    """The anonymiser one export shares between its calls of :func:`export_items` and
    :func:`text_fields` (None for a raw export): the key store, decisions and what the
    project's notes say about names are read once per export, never kept past it. The
    caller closes it."""
    return _anonymiser(project, options, report) if options.anonymise else None


def _anonymiser(project, options, report, *, log: bool = True):
    """The project's anonymiser; what it warns about (no key store …) goes into the report."""
    from fieldkit.privacy.anonymiser import anonymiser

    made = anonymiser(project, passphrase=options.passphrase, log=log)
    try:
        made.refuse_if_strict()
    except BaseException:
        made.close()
        raise
    for warning in made.warnings:
        report.warn(warning)
    return made


# --- shared helpers for exporters ------------------------------------------------------------

#: the file a folder export writes first, so ``--force`` can tell its own folders from a user's
MANIFEST = "fieldkit-export.json"


def check_dest(dest: Union[str, Path], *, force: bool, folder: bool) -> Path:
    """Refuse to overwrite what is at ``dest`` unless ``force``; returns ``dest`` as a Path.

    ``--force`` replaces a file, an empty folder or a folder an earlier export wrote (it holds
    ``MANIFEST``); it never replaces any other non-empty folder, so a mistyped path cannot
    wipe a user's files.
    """
    from fieldkit.core.errors import Refused

    dest = Path(dest).expanduser()
    if not dest.exists() and not dest.is_symlink():
        return dest
    if dest.is_dir() and not dest.is_symlink():
        if not folder:
            raise Refused(f"{dest} is a folder; give a file name for this export")
        if not any(dest.iterdir()):
            return dest
        if not (dest / MANIFEST).is_file():
            raise Refused(f"{dest} is a folder that is not empty and was not written by a fieldkit export; "
                          "choose another destination")
    elif folder:
        if not force:
            raise Refused(f"{dest} exists; pass --force to replace it")
        return dest
    if not force:
        raise Refused(f"{dest} exists; pass --force to replace it")
    return dest


@contextlib.contextmanager
def atomic_output(dest: Union[str, Path], *, force: bool = False, folder: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; move it into place only if the block succeeds.

    Files are created owner-only (0600) and folders 0700, like the project itself. On any
    error the temporary path is removed and ``dest`` is left as it was.
    """
    import os
    import shutil
    import tempfile

    dest = check_dest(dest, force=force, folder=folder)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if folder:
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    else:
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
        os.close(fd)
        tmp = Path(name)
    try:
        yield tmp
        _owner_only(tmp)
        if folder and dest.exists():
            # swap the old export out before removing it, so a crash never leaves neither
            old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=dest.parent))
            os.replace(dest, old / "x")
            os.replace(tmp, dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, dest)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise


def _owner_only(path: Path) -> None:
    """Make an export owner-only however its writer created the files inside (0600 files,
    0700 folders), before it moves into place."""
    import os

    if not path.is_dir():
        os.chmod(path, 0o600)
        return
    os.chmod(path, 0o700)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            item = os.path.join(root, name)
            if not os.path.islink(item):  # a link's target is not the export's to change
                os.chmod(item, 0o700 if name in dirs else 0o600)


def write_manifest(folder: Union[str, Path], report: ExportReport) -> None:
    """Describe a folder export in ``MANIFEST`` (what, how many, what was left out and why)."""
    import json

    data = {"exporter": report.exporter, "anonymised": report.anonymised, "counts": report.counts,
            "left_out": report.left_out_by_reason(), "files": sorted(report.files)}
    (Path(folder) / MANIFEST).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def count_selected(project: Project, options: ExportOptions) -> int:
    """How many records ``export_items`` will look at (for progress bars)."""
    return sum(project.store.count(type_name, **_conditions(project, options, type_name))
               for type_name in options.types)


@contextlib.contextmanager
def progress(options: ExportOptions, iterable: Iterable, *, length: Optional[int] = None,
             label: str = "") -> Iterator[Iterable]:
    """Wrap ``iterable`` in a progress bar on stderr when ``options.progress`` asks for one."""
    if not options.progress:
        yield iterable
        return
    import sys

    import click

    with click.progressbar(iterable, length=length, label=label, file=sys.stderr) as bar:
        yield bar


class Lookups:
    """Small cached look-ups exporters share: code paths, encounters, sites and participants.

    The codebook, sites, participants and encounters are small next to the notes, so they are
    read once; observations and memos are never held here.
    """

    def __init__(self, project, texts=None):
        self.project = project
        #: prepares free text for export (see ``text_fields``); every record read here is
        #: scrubbed with it, so titles, notes, definitions and site names leave anonymised
        self.texts = texts
        self._codes = None
        self._paths = None
        self._encounters = None
        self._participants = None
        self._by_code = None
        self._sites = None
        self._withdrawn = None

    def records(self, type_name: str, **filters) -> list:
        """``project.list(type_name, **filters)``, each record scrubbed for export."""
        found = self.project.list(type_name, **filters)
        return found if self.texts is None else [scrub(record, self.texts) for record in found]

    @property
    def codes(self) -> dict:
        if self._codes is None:
            self._codes = {c.id: c for c in self.records("code", include_deleted=True)}
        return self._codes

    def code_path(self, code_id: str) -> str:
        if self._paths is None:
            from fieldkit.coding.codings import code_paths

            self._paths = code_paths(self.project)
        return self._paths.get(code_id, code_id)

    def codebook(self) -> list:
        """Active and merged codes (not deleted) as ``(path, code)``, sorted by path."""
        return sorted(((self.code_path(c.id), c) for c in self.records("code")), key=lambda pc: pc[0].lower())

    @property
    def encounters(self) -> dict:
        if self._encounters is None:
            self._encounters = {e.id: e for e in self.records("encounter", include_deleted=True)}
        return self._encounters

    @property
    def participants(self) -> dict:
        if self._participants is None:
            self._participants = {p.id: p for p in self.records("participant", include_deleted=True)}
        return self._participants

    @property
    def sites(self) -> dict:
        if self._sites is None:
            self._sites = {s.id: s for s in self.records("site", include_deleted=True)}
        return self._sites

    def encounter_ids(self, record: Record) -> list:
        """The encounters a record belongs to: its own, or for a memo those it links to
        (directly or through a linked observation)."""
        if getattr(record, "encounter_id", None):
            return [record.encounter_id]
        found = []
        for link in getattr(record, "links", ()):
            if link in self.encounters:
                found.append(link)
            else:
                encounter_id = self.project.store.encounter_of(link)
                if encounter_id:
                    found.append(encounter_id)
        return list(dict.fromkeys(found))

    @property
    def withdrawn(self) -> set:
        """Ids of participants whose current consent is withdrawn (never named as present)."""
        if self._withdrawn is None:
            self._withdrawn = {pid for pid, (status, _) in self.project.store.consent.latest().items()
                               if status == "withdrawn"}
        return self._withdrawn

    def people(self, record: Record) -> list[Participant]:
        """Participants a record is about: its encounters' participants and its @mentions,
        leaving out anyone who withdrew."""
        if self._by_code is None:
            self._by_code = {p.code.lower(): p for p in self.participants.values()}
        by_code = self._by_code
        found = {}
        for eid in self.encounter_ids(record):
            for item in self.encounters[eid].participants:
                person = self.participants.get(item.participant_id)
                if person is not None:
                    found[person.id] = person
        for code in getattr(record, "mentions", ()):
            person = by_code.get(code.lower())
            if person is not None:
                found[person.id] = person
        for link in getattr(record, "links", ()):
            if link in self.participants:
                found[link] = self.participants[link]
        return sorted((p for p in found.values() if p.id not in self.withdrawn), key=lambda p: p.code)

    def context(self, record: Record) -> dict:
        """Encounter codes, site names, participant codes and roles for a record, as text."""
        encounters = [self.encounters[e] for e in self.encounter_ids(record)]
        sites = [self.sites[e.site_id].name for e in encounters if e.site_id in self.sites]
        people = self.people(record)
        return {
            "encounter": ", ".join(e.code for e in encounters),
            "site": ", ".join(dict.fromkeys(sites)),
            "participants": ", ".join(p.code for p in people),
            "participant_roles": ", ".join(sorted({p.role for p in people})),
        }


def speaker_context(project: Project, lookups: Lookups, item: ExportItem, coding: Coding) -> dict:
    """``context`` for one coded segment: in a note with speaker turns, ``participants`` and
    ``participant_roles`` are those of the speakers of the coded words (the researcher as
    ``(researcher)``), not everyone present."""
    context = lookups.context(item.record)
    turns = project.store.turns.of_record(item.record.id) if coding.start is not None else ()
    if not turns:
        return context
    # the coding sits on the exported text; its words' speakers are found on the stored one
    stored = project.store.coding.of_records([item.record.id]).get(item.record.id, ())
    original = next((c for c in stored if c.id == coding.id and c.start is not None), None)
    if original is None:
        return context
    codes, roles = [], []
    for turn in turns:
        if not (turn.start < original.end and original.start < turn.end):
            continue
        person = lookups.participants.get(turn.speaker_id) if turn.speaker_kind == "participant" else None
        label = turn.speaker_label if lookups.texts is None else lookups.texts(turn.speaker_label)
        code = "(researcher)" if turn.speaker_kind == "researcher" else person.code if person else label
        role = "(researcher)" if turn.speaker_kind == "researcher" else person.role if person else "(unregistered)"
        codes += [code] if code not in codes else []
        roles += [role] if role not in roles else []
    return {**context, "participants": ", ".join(codes), "participant_roles": ", ".join(sorted(roles))}


R = TypeVar("R")


def scrub(record: R, texts: Callable[[str], str]) -> R:
    """``record`` with every free-text field (``fieldkit.privacy.anonymiser.FREE_TEXT``)
    prepared by ``texts`` (see :func:`text_fields`); the record itself when nothing changes."""
    from fieldkit.privacy.anonymiser import FREE_TEXT

    changes = {}
    for field in FREE_TEXT.get(record.type_name, ()):
        value = getattr(record, field, "")
        if value:
            prepared = texts(value)
            if prepared != value:
                changes[field] = prepared
    attributes = getattr(record, "attributes", None)
    if attributes:
        prepared = {key: texts(value) for key, value in attributes.items()}
        if prepared != attributes:
            changes["attributes"] = prepared
    return attrs.evolve(record, **changes) if changes else record


def text_fields(project: Project, options: ExportOptions, report: ExportReport, *,
                anonymiser: Optional[Anonymiser] = None) -> Callable[[str], str]:
    """A function preparing short free text (titles, summaries, notes) for export.

    Such fields can hold names as easily as a body can, so they go through the same detectors
    and key store as bodies unless the export is raw. They belong to no record's review
    decisions, and are not written to the anonymisation log. ``anonymiser`` is the export's
    (see :func:`export_anonymiser`); without it one is made when first needed.
    """
    if not options.anonymise:
        return lambda text: text
    state: dict = {} if anonymiser is None else {"anonymiser": anonymiser}
    # short fields repeat (a site on every note, "now" as the time typed): the same text
    # always gets the same replacement, so each distinct one is anonymised once
    done: dict = {}

    def prepare(text):
        if not text or not text.strip():
            return text
        found = done.get(text)
        if found is not None:
            return found
        if "anonymiser" not in state:
            state["anonymiser"] = _anonymiser(project, options, report, log=False)
        from fieldkit.core.records import Memo

        found = state["anonymiser"].redaction(Memo(body=text, id="", author="export"), text).text
        if len(done) < 10_000:
            done[text] = found
        return found

    return prepare


def run_export(project: Project, format_name: str, dest: Union[str, Path], options: ExportOptions) -> ExportReport:
    """Export with the exporter registered as ``format_name`` (what ``fieldkit export`` runs).

    An exporter without a file suffix writes a folder. ``dest`` is checked before the exporter
    runs, so no plugin can overwrite a user's file without ``force``.
    """
    from fieldkit.core.errors import FieldkitError, NotFound
    from fieldkit.hooks.manager import exporters

    found = exporters()
    exporter = found.get(format_name)
    if exporter is None:
        raise NotFound(f"no export format '{format_name}'; choose from {', '.join(sorted(found)) or 'none'}")
    from fieldkit.exchange.register import register_copy, require_sign_off

    dest = check_dest(dest, force=options.force, folder=not exporter.suffix)
    require_sign_off(project, options)
    result = exporter.export(project, dest, options)
    if dest.exists() and not dest.is_symlink():  # a plugin's exporter may not use atomic_output
        _owner_only(dest)
    if isinstance(result, dict):
        known = {k: v for k, v in result.items() if k in ("counts", "files", "anonymised")}
        left = [item if isinstance(item, LeftOut) else LeftOut(*item) for item in result.get("left_out", ())]
        result = ExportReport(exporter=format_name, dest=str(dest), left_out=left,
                              **{"anonymised": options.anonymise, **known})
    if not isinstance(result, ExportReport):
        raise FieldkitError(f"exporter '{format_name}' returned {type(result).__name__}, not an ExportReport")
    if project.store.read_only:  # reading commands work on a read-only project; say what was not kept
        result.warn("this export is not listed in the export register (fieldkit copies): the project is read-only")
    else:
        register_copy(project, "export", format_name, dest, options, result)
    return result
