"""Anonymisation of a project's records: detectors, key store, decisions and the log together.

``fieldkit.privacy.detection`` holds the pure text pipeline; this module connects it to a project:

* which detectors run, in which order and with which replacement styles comes from the
  project setting ``anonymise`` (``{"detectors": [...], "styles": {...}, "places_file": ...}``);
* the people to look for and the consistent replacements come from the key store named by
  the setting ``keystore_path`` (never from the project database);
* review decisions (reject a span, accept it, add text to replace) are kept in the project
  database by record id, offsets and a keyed digest of the original, never the original;
* every replacement made for an export is written to ``anonymisation_log`` (digest, kind,
  detector, replacement, when, by whom), a table no exporter reads.

``anonymiser(project)`` returns an :class:`Anonymiser` whose ``apply(record, codings)``
gives the anonymised body and the codings moved onto it.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import re
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Optional, Sequence, Union

import attrs

from fieldkit.core.errors import FieldkitError, NotFound, Refused

if TYPE_CHECKING:  # annotations only
    from fieldkit.core.records import Coding, Record
    from fieldkit.privacy.detection import Redaction
    from fieldkit.privacy.keystore import KeyStore
    from fieldkit.privacy.unregistered import Knowledge
    from fieldkit.project import Project

#: the environment variable an encrypted key store's passphrase may come from
PASSPHRASE_ENV = "FIELDKIT_KEYS_PASSPHRASE"

#: the built-in detectors in their default order: names first (the most identifying), then
#: fixed-format identifiers, then places. Named here, not imported: the core never imports a
#: plugin. Registered detectors not listed here run after these, in name order. ``names``
#: is core (``fieldkit.privacy.names``): it always runs, whatever the configuration says.
DEFAULT_ORDER = (
    "names",
    "uk.email", "uk.url", "uk.handle", "uk.nino", "uk.nhs", "uk.pnc", "uk.cro", "uk.prison_number",
    "uk.crn", "uk.urn", "uk.court_case", "uk.phone", "uk.vehicle", "uk.address", "uk.postcode",
    "uk.dob", "uk.age",
    "places",
)

#: the core name detector's name in the configured order (it is not a plugin)
NAMES = "names"

#: default replacement styles: names become their pseudonym, dates of birth their month and
#: year, everything else a consistent placeholder such as ``[PRISON-2]``
DEFAULT_STYLES = {"name": "pseudonym", "dob": "generalise", "date": "generalise", "age": "generalise",
                  "default": "placeholder"}

#: what a review decision can be
ACTIONS = ("accept", "reject")
#: the stored decision that a name, at that place, is this person's (``attribute:P03``): made
#: when review registers it under a pseudonym, so that a nickname or shared name there gets it
ATTRIBUTE = "attribute:"

_WORD_RE = re.compile(r"[^\W_]+(?:['\u2019\-][^\W_]+)*")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'"})


# --------------------------------------------------------------------------- key store


def keystore_path(project: Project) -> Optional[Path]:
    """The configured key store file, or None when the project has none."""
    value = project.setting("keystore_path")
    return Path(value).expanduser() if value else None


def keystore_encrypted(path: Union[str, Path]) -> bool:
    """Whether the key store at ``path`` is encrypted (reads only its header)."""
    import sqlite3

    try:
        conn = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)
        try:
            row = conn.execute("select value from meta where key = 'encrypted'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return bool(row and row[0] == "1")


def open_keystore(project: Project, passphrase: Optional[str] = None) -> Optional[KeyStore]:
    """Open the project's key store (``FIELDKIT_KEYS_PASSPHRASE`` if no passphrase is given).

    Returns None when no key store is configured; raises ``KeyStoreError`` (one clear line)
    when one is configured but missing, damaged or the passphrase is wrong.
    """
    from fieldkit.privacy.keystore import KeyStore, KeyStoreError

    path = keystore_path(project)
    if path is None:
        return None
    if not path.exists():
        raise KeyStoreError(f"the key store {path} (setting keystore_path) is missing; "
                            "reconnect its drive or run: fieldkit config keystore_path NEWPATH")
    if passphrase is None and keystore_encrypted(path):
        passphrase = os.environ.get(PASSPHRASE_ENV) or None
    return KeyStore.open(path, passphrase)


def create_keystore(project: Project, path: Union[str, Path, None] = None, *,
                    passphrase: Optional[str] = None) -> KeyStore:
    """Create a key store for ``project`` at ``path`` (default: ``default_keystore_path``) and
    remember it in the setting ``keystore_path``. Refuses when the project already has one."""
    from fieldkit.privacy.keystore import KeyStore

    current = keystore_path(project)
    if current is not None and current.exists():
        raise Refused(f"this project already has a key store at {current}; "
                      "change it with: fieldkit config keystore_path NEWPATH")
    path = Path(path).expanduser() if path else default_keystore_path(project)
    store = KeyStore.create(path, passphrase)
    try:
        project.set_setting("keystore_path", str(path.resolve()))
    except BaseException:
        store.close()
        path.unlink(missing_ok=True)
        raise
    digest_key(project, store)  # a digest key still in fieldkit.db moves in now
    return store


def default_keystore_path(project: Project) -> Path:
    """``~/.fieldkit/keys/<project folder name>.keys``: outside the project, so that copies and
    backups of the project never carry the real names with them."""
    return Path.home() / ".fieldkit" / "keys" / f"{project.path.resolve().name}.keys"


def inside_project(project: Project, path: Union[str, Path]) -> bool:
    """Whether ``path`` lies inside the project folder (a key store should not)."""
    try:
        Path(path).expanduser().resolve().relative_to(project.path.resolve())
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- configuration


def settings(project: Project) -> dict:
    """The ``anonymise`` setting with defaults filled in."""
    configured = project.setting("anonymise") or {}
    if not isinstance(configured, dict):
        raise FieldkitError("the project setting 'anonymise' must be a mapping "
                            "(detectors, styles, places_file)")
    styles = dict(DEFAULT_STYLES)
    styles.update(configured.get("styles") or {})
    return {"detectors": configured.get("detectors"), "styles": styles,
            "places_file": configured.get("places_file") or "",
            "unregistered_names": bool(configured.get("unregistered_names", True)),
            "coarsen_dates": bool(configured.get("coarsen_dates", False)),
            "strict": bool(configured.get("strict", False))}


def detector_order(registered: Sequence[str], configured: Optional[Sequence[str]] = None) -> list:
    """The detectors to run, in order: the configured list exactly, or the default order
    (built-ins first, then any other registered detector by name). ``names`` (core) is in
    every order: first unless the configured list puts it elsewhere."""
    known = [*registered, NAMES]
    if configured:
        names = [configured] if isinstance(configured, str) else list(configured)
        missing = [n for n in names if n not in known]
        if missing:
            raise FieldkitError(f"configured detector(s) not installed: {', '.join(missing)}; "
                                f"installed: {', '.join(sorted(set(known)))}")
        order = list(dict.fromkeys(names))
        return order if NAMES in order else [NAMES, *order]
    order = [n for n in DEFAULT_ORDER if n in known]
    order += sorted(n for n in registered if n not in order)
    return order


def digest_key(project: "Project", store: Optional["KeyStore"]) -> Optional[bytes]:
    """The key of the project's digests (review decisions, added rules, the log), held in the
    key store ``store``; None when there is no key store and no key yet.

    A project made before the key moved kept it in ``fieldkit.db``: it is copied into the key
    store (committed there first), then deleted from the project, so a kill in between leaves
    it in both places and the next call finishes the move. The digests stay the same.
    """
    import secrets

    legacy = project.store.anonymisation.secret()
    if store is None:
        return legacy  # until a key store exists; doctor says the key is still in fieldkit.db
    held = store.digest_key()
    if legacy is not None:
        if held is None:
            held = store.keep_digest_key(legacy)
        if not hmac.compare_digest(held, legacy):
            raise FieldkitError(f"the key store {store.path} holds another project's digest key (fieldkit.db has its "
                                "own); check the setting keystore_path points at this project's key store")
        with project.transaction():
            project.store.anonymisation.drop_secret()
            project.store.audit("move_digest_key", "project", "", "the digest key moved into the key store")
        return held
    return held if held is not None else store.keep_digest_key(secrets.token_bytes(32))


def _secret(project, passphrase: Optional[str] = None) -> bytes:
    """The lasting digest key, for decisions and rules that must match on later runs; refuses
    when there is none (no key store)."""
    store = open_keystore(project, passphrase)
    try:
        key = digest_key(project, store)
    finally:
        if store is not None:
            store.close()
    if key is None:
        raise Refused("review decisions and added phrases are named by a keyed digest whose key is kept in the "
                      "key store, and this project has none; create one first: fieldkit keys init")
    return key


def normalise_phrase(text: str) -> str:
    """How an added phrase is compared: NFC, case-folded, straight apostrophes, single spaces."""
    text = unicodedata.normalize("NFC", text).translate(_APOSTROPHES)
    return " ".join(text.casefold().split())


def span_digest(secret: bytes, text: str) -> str:
    """The keyed digest that names an original in decisions, rules and the log."""
    # hmac.digest is OpenSSL's one-shot HMAC: the same bytes as hmac.new(...).digest(), ~5x faster
    return hmac.digest(secret, normalise_phrase(text).encode("utf-8"), "sha256").hex()[:24]


# --------------------------------------------------------------------------- the anonymiser


@attrs.frozen
class Replacement:
    """One replacement in a record, for review: ``number`` counts from 1 within the record."""

    number: int
    start: int
    end: int
    kind: str
    directness: str
    detector: str
    replacement: str
    digest: str
    status: str  # pending, accepted, rejected


class Anonymiser:
    """Anonymises records of one project. Build it with :func:`anonymiser`; reuse it.

    Detectors, the detection context, decisions and rules are loaded once. ``warnings``
    lists what the caller should tell the user (e.g. no key store configured).
    """

    def __init__(self, project, *, passphrase: Optional[str] = None, log: bool = True):
        from fieldkit.privacy.detection import DetectContext, make_replacer
        from fieldkit.hooks.manager import detectors

        self.project = project
        self.warnings: list[str] = []
        self.log_enabled = log
        config = settings(project)
        self._detectors = {k: v for k, v in detectors().items() if k != NAMES}
        self.order = detector_order(list(self._detectors), config["detectors"])
        self._plugin_order = [n for n in self.order if n != NAMES]
        self._unregistered = config["unregistered_names"]
        self._knowledge = None
        self._people_codes: Optional[dict] = None
        self._encounter_people: dict = {}
        self.strict = config["strict"]
        #: names replaced so far that still wait for a review decision (see fieldkit.privacy.review)
        self.pending_review = 0
        #: log entries ``(record id, entries)`` waiting for the end of a ``log_batch``
        self._held_log: Optional[list] = None
        self._store = open_keystore(project, passphrase)  # configured but unusable: raises
        try:
            key = digest_key(project, self._store)
        except BaseException:
            self.close()
            raise
        #: whether digests will match on a later run (no key store: a key for this run only)
        self.lasting = key is not None
        self._secret = key if key is not None else os.urandom(32)
        people = ()
        lookup = None
        if self._store is None:
            self.warnings.append("no key store is configured, so no name can get its pseudonym; names are "
                                 "found only by the unregistered-name rules, as [PERSON]; "
                                 "create one with: fieldkit keys init")
        else:
            people = self._store.people()
            lookup = self._store.lookup
            if not people:
                self.warnings.append(f"the key store {self._store.path} holds nobody yet; "
                                     "register people with: fieldkit keys add")
        from fieldkit.privacy.names import warn_unusable_aliases

        self.warnings += warn_unusable_aliases(people)
        context_settings = {"coarsen_dates": config["coarsen_dates"]}
        if config["places_file"]:
            context_settings["places_file"] = str(Path(config["places_file"]).expanduser())
        elif "places" in self.order:
            self.warnings.append("no places file is set (setting anonymise.places_file), so the places detector "
                                 "uses fieldkit's small INVENTED example list, which knows none of your sites; "
                                 "prisons, courts, PDUs and approved premises are still found by their form "
                                 "('HMP …', '… Magistrates' Court')")
        codes = tuple(project.store.consent.codes().values())
        context_settings["mention_codes"] = codes
        self.context = DetectContext(people=people, settings=context_settings)
        self._replace = make_replacer(config["styles"], lookup)
        self._load_decisions()

    def refuse_if_strict(self) -> None:
        """With the setting ``anonymise.strict``, refuse (before anything is written) while
        names nobody registered, or names shared by several people, wait for review."""
        if not self.strict:
            return
        from fieldkit.core.errors import Refused
        from fieldkit.privacy.review import record_candidates

        waiting = 0
        for type_name in ("observation", "memo"):
            for record in self.project.list(type_name):
                waiting += sum(1 for c in record_candidates(self, record) if c.claimed and c.needs_review)
        if waiting:
            raise Refused(f"anonymise.strict is on and {waiting} name(s) nobody registered or shared by several "
                          "people wait for review; decide with: fieldkit anonymise review --pending "
                          "(or fieldkit keys check)")

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def _load_decisions(self) -> None:
        self._decisions: dict = {}
        tables = self.project.store.anonymisation
        for record_id, start, end, digest, action in tables.decisions():
            self._decisions.setdefault(record_id, {})[(start, end, digest)] = action
        self._rules: dict = {}
        for digest, words, kind in tables.rules():
            self._rules[digest] = (words, kind)
        self._rule_lengths = sorted({w for w, _ in self._rules.values()})

    # ---------------------------------------------------------------- finding

    def _rule_spans(self, text: str) -> list:
        """Spans of phrases added by review (``--add``), found by digest: the phrase itself
        is never stored, so every run of 1..n words is hashed and compared."""
        from fieldkit.privacy.spans import Span

        if not self._rules:
            return []
        words = [(m.start(), m.end()) for m in _WORD_RE.finditer(text)]
        found = []
        for n in self._rule_lengths:
            for i in range(len(words) - n + 1):
                start, end = words[i][0], words[i + n - 1][1]
                if n > 1 and "\n\n" in text[start:end]:
                    continue
                rule = self._rules.get(span_digest(self._secret, text[start:end]))
                if rule is not None and rule[0] == n:
                    found.append(Span(start, end, rule[1], "direct", "", "review"))
        return found

    def knowledge(self) -> Optional[Knowledge]:
        """What the project's notes and memos say about names (read once, on first use):
        see ``fieldkit.privacy.unregistered.learn``."""
        if self._knowledge is None and self._unregistered:
            from fieldkit.privacy.unregistered import learn

            bodies = (body for type_name in ("observation", "memo") for body in self.project.store.bodies(type_name))
            self._knowledge = learn(bodies, self.context.people)
        return self._knowledge

    def evidence(self, record: Optional[Record]) -> tuple:
        """The pseudonyms ``record`` names besides its text: its ``@`` mentions, the
        participants it links to and those of its encounter (participant codes are the key
        store's pseudonyms). A one-word alias is given a pseudonym only for these people or
        for someone the text names in full (``fieldkit.privacy.names.find_people``)."""
        if record is None:
            return ()
        if self._people_codes is None:
            self._people_codes = self.project.store.consent.codes()
            self._encounter_people = {eid: people for eid, (_k, people) in
                                      self.project.store.consent.encounters().items()}
        return record_evidence(record, self._people_codes, self._encounter_people)

    def detect(self, text: str, evidence: Iterable[str] = ()) -> list:
        """Every span the configured detectors and the core name matching find in ``text``,
        merged (review decisions not applied); ``evidence``: see :meth:`evidence`."""
        from fieldkit.privacy.detection import merge_spans, run_detectors
        from fieldkit.privacy.names import find_people

        try:
            found = run_detectors(text, self._detectors, self.context, self._plugin_order)
        except ValueError as exc:
            if isinstance(exc, FieldkitError):
                raise
            raise FieldkitError(str(exc)) from None
        names = find_people(text, self.context.people, unregistered=self._unregistered,
                            knowledge=self.knowledge(), evidence=evidence)
        extra = self._rule_spans(text)
        return merge_spans([*names, *found, *extra], [*self.order, "review"])

    def spans(self, text: str, record_id: str = "", evidence: Iterable[str] = ()) -> list:
        """Every span that will be considered for ``text``, merged, with its decision status:
        ``[(span, digest, status)]``; ``status`` is pending, accepted or rejected."""
        found = self.detect(text, evidence)
        decided = self._decisions.get(record_id, {})
        out = []
        for span in found:
            digest = span_digest(self._secret, text[span.start:span.end])
            action = decided.get((span.start, span.end, digest))
            if action and action.startswith(ATTRIBUTE):
                if span.kind in ("name", "person"):
                    span = attrs.evolve(span, kind="name", hint=action[len(ATTRIBUTE):], detector="review")
                action = "accept"
            status = {"accept": "accepted", "reject": "rejected"}.get(action, "pending")
            out.append((span, digest, status))
        return out

    def review(self, record: Record) -> list[Replacement]:
        """What would be replaced in ``record``, numbered for ``accept``/``reject``."""
        text = record.body
        items = []
        for number, (span, digest, status) in enumerate(self.spans(text, record.id, self.evidence(record)), start=1):
            replacement = self._replace(span, text[span.start:span.end])
            items.append(Replacement(number, span.start, span.end, span.kind, span.directness,
                                     span.detector, replacement, digest, status))
        return items

    def redaction(self, record: Record, text: Optional[str] = None) -> Redaction:
        """The :class:`fieldkit.privacy.detection.Redaction` of ``record``'s body (rejected spans kept)."""
        from fieldkit.privacy.detection import apply_spans

        text = record.body if text is None else text
        evidence = self.evidence(record)
        if self._decisions.get(record.id):
            kept = [span for span, _digest, status in self.spans(text, record.id, evidence) if status != "rejected"]
        else:  # nothing decided on this record: every span is pending, and no digest is needed
            kept = self.detect(text, evidence)
        return apply_spans(text, kept, self._replace, hash_key=self._secret)

    # ---------------------------------------------------------------- applying

    def apply(self, record: Record, codings: Iterable[Coding] = ()) -> tuple:
        """``(anonymised text, codings moved onto it)`` for a record with a body.

        A coding whose text was replaced maps onto the replacement; one that cannot be
        placed is kept with ``status="review"``. Whole-record codings are unchanged.
        """
        if self._store is not None and self._store._conn is not None:
            # new consistent replacements of one record are committed together (one commit
            # per record that has any, instead of one per new identifier)
            with self._store.grouped():
                redaction = self.redaction(record)
        else:
            redaction = self.redaction(record)
        if self.log_enabled and redaction.log:
            entries = [(e.start, e.end, e.kind, e.directness, e.detector, e.replacement, e.digest)
                       for e in redaction.log]
            if self._held_log is not None:
                self._held_log.append((record.id, entries))
            else:
                self._write_log([(record.id, entries)])
        self.pending_review += sum(1 for e in redaction.log if e.detector in ("names.unregistered", "names.namesake"))
        return redaction.text, remap_codings(redaction.edits, codings)

    @contextlib.contextmanager
    def log_batch(self) -> Iterator[None]:
        """Write the log of every :meth:`apply` inside the block in one transaction, when the
        block ends (an export writes a page of records' log at once, not a record at a time)."""
        import sqlite3

        outer, self._held_log = self._held_log, []
        try:
            yield
        except BaseException:
            # texts already handed out (an exporter that stopped early) keep their log; a
            # generator finalised after its project was closed has nowhere to write it
            held, self._held_log = self._held_log, outer
            try:
                self._keep_log(held, outer)
            except sqlite3.ProgrammingError:
                pass
            raise
        held, self._held_log = self._held_log, outer
        self._keep_log(held, outer)

    def _keep_log(self, held: list, outer: Optional[list]) -> None:
        if held:
            if outer is not None:
                outer.extend(held)
            else:
                self._write_log(held)

    def _write_log(self, records: Sequence[tuple[str, list]], action: str = "export") -> None:
        with self.project.transaction():
            for record_id, entries in records:
                self.project.store.anonymisation.log(record_id, entries, action)


def remap_codings(edits: Sequence[tuple[int, int, int, int]], codings: Iterable[Coding]) -> tuple:
    """Move codings through anonymisation edits (``fieldkit.core.remap.map_span``)."""
    from fieldkit.core.remap import map_span

    out = []
    for coding in codings:
        if coding.start is None or not edits:
            out.append(coding)
            continue
        mapped = map_span(edits, coding.start, coding.end)
        if mapped.status == "lost":
            coding = attrs.evolve(coding, start=mapped.start, end=mapped.end, status="review")
        elif mapped.start != coding.start or mapped.end != coding.end:
            coding = attrs.evolve(coding, start=mapped.start, end=mapped.end)
        out.append(coding)  # a coding before every edit stays the same record
    return tuple(out)


def anonymiser(project: Project, *, passphrase: Optional[str] = None, log: bool = True) -> Anonymiser:
    """An :class:`Anonymiser` for ``project`` (detectors, key store and decisions loaded once)."""
    return Anonymiser(project, passphrase=passphrase, log=log)


# --------------------------------------------------------------------------- records


def _body_record(project, ref):
    record = project.get(ref)
    if not isinstance(getattr(record, "body", None), str):
        raise Refused(f"{record.type_name} records have no text to anonymise")
    return record


def anonymise_record(project: Project, ref: str, *, passphrase: Optional[str] = None) -> str:
    """The anonymised body of one record (as an export would write it; nothing is logged)."""
    record = _body_record(project, ref)
    an = anonymiser(project, passphrase=passphrase, log=False)
    try:
        return an.apply(record, ())[0]
    finally:
        an.close()


def _snippet(text: str, start: int, end: int, replacement: str, width: int = 30) -> str:
    before = text[max(0, start - width):start]
    after = text[end:end + width]
    flat = lambda s: re.sub(r"\s+", " ", s)  # noqa: E731 - one line per replacement
    return f"{'…' if start > width else ''}{flat(before)}«{text[start:end]} → {replacement}»{flat(after)}" \
           f"{'…' if end + width < len(text) else ''}"


def preview(project: Project, ref: Optional[str] = None, *, all_records: bool = False,
            passphrase: Optional[str] = None, types: Sequence[str] = ("observation", "memo")) -> tuple:
    """``(rows, warnings)``: each replacement in context, one dict per replacement with ``record``,
    ``number``, ``kind``, ``detector``, ``replacement``, ``status`` and ``context``.

    ``context`` shows the original text: a preview is for the researcher's own screen only.
    """
    if (ref is None) == (not all_records):
        raise FieldkitError("give one RECORD or --all")
    records = [_body_record(project, ref)] if ref is not None else [
        r for t in types for r in project.list(t)]
    an = anonymiser(project, passphrase=passphrase, log=False)
    try:
        rows = []
        for record in records:
            for item in an.review(record):
                rows.append({"record": record.id, "number": item.number, "start": item.start,
                             "end": item.end, "kind": item.kind, "directness": item.directness,
                             "detector": item.detector, "replacement": item.replacement,
                             "status": item.status,
                             "context": _snippet(record.body, item.start, item.end, item.replacement)})
        return rows, list(an.warnings)
    finally:
        an.close()


def decide(project: Project, ref: str, number: int, action: str, *, passphrase: Optional[str] = None) -> Replacement:
    """Accept or reject replacement ``number`` (as numbered by ``preview``) of one record.

    Remembered by record id, offsets and keyed digest; a later edit that changes that text
    makes the decision lapse (the span is proposed again), which errs on the side of privacy.
    """
    if action not in ACTIONS:
        raise FieldkitError(f"a decision is one of {', '.join(ACTIONS)}, not {action!r}")
    record = _body_record(project, ref)
    an = anonymiser(project, passphrase=passphrase, log=False)
    try:
        items = an.review(record)
    finally:
        an.close()
    chosen = next((i for i in items if i.number == number), None)
    if chosen is None:
        raise NotFound(f"no replacement {number} in {record.id} (it has {len(items)}); run --preview first")
    record_decision(project, record, chosen.start, chosen.end, chosen.digest, action, chosen.kind,
                    f"replacement {number} ({chosen.kind}, {chosen.detector})")
    return attrs.evolve(chosen, status="accepted" if action == "accept" else "rejected")


def record_decision(project: Project, record: Record, start: int, end: int, digest: str, action: str, kind: str,
                    note: str = "") -> None:
    """Remember ``action`` (accept or reject) for ``[start, end)`` of ``record`` (keyed digest only)."""
    _secret(project)  # a decision must outlive this run: refuses without a key store
    with project.transaction():
        project.store.anonymisation.decide(record.id, start, end, digest, action, kind)
        project.store.audit(f"anonymise_{action}", record.type_name, record.id, note or f"[{start}, {end}) ({kind})")


def log_decision(project: Project, record_id: str, start: int, end: int, kind: str, detector: str, replacement: str,
                 digest: str, action: str) -> None:
    """Write one review decision to the anonymisation log (a keyed digest, never the text)."""
    with project.transaction():
        project.store.anonymisation.log(record_id, [(start, end, kind, "", detector, replacement, digest)], action)


def add_rule(project: Project, text: str, kind: str) -> str:
    """Replace ``text`` (case-insensitive, whole words) in every record from now on.

    Only a keyed digest of the phrase is stored, never the phrase. Returns the digest.
    """
    phrase = normalise_phrase(text)
    words = list(_WORD_RE.finditer(phrase))
    if not words:
        raise FieldkitError("--add needs some text with letters or digits")
    kind = (kind or "").strip().lower()
    if not re.fullmatch(r"[a-z][a-z0-9_\-]{0,40}", kind):
        raise FieldkitError(f"--kind must be a short word such as name, place or prison, not {kind!r}")
    # hash what the matcher hashes: the run from the first word to the last, tidied
    digest = span_digest(_secret(project), phrase[words[0].start():words[-1].end()])
    with project.transaction():
        project.store.anonymisation.add_rule(digest, len(words), kind)
        project.store.audit("anonymise_add", "anonymisation_rule", digest[:12], f"kind {kind}, {len(words)} word(s)")
    return digest


def log_entries(project: Project, record: Optional[str] = None, limit: int = 100) -> list[dict]:
    """The anonymisation log (newest first): what was replaced (digest), how, when, by whom."""
    return project.store.anonymisation.log_entries(project.resolve(record) if record else None, limit)


# --------------------------------------------------------------------------- capture


#: the free-text fields of each record type besides bodies. Exports pass every one (and every
#: value of a participant's ``attributes``) through the anonymiser
#: (``fieldkit.exchange.exporting.scrub``), and ``pseudonymise_on_capture`` covers them too.
#: Names, codes and ids are labels the researcher chose.
FREE_TEXT = {
    "site": ("name", "note"),
    "participant": ("organisation", "note"),
    "consent": ("note",),
    "encounter": ("title", "summary"),
    "observation": ("observed_raw",),
    "memo": ("title",),
    "code": ("definition", "include", "exclude", "example"),
    "coding": ("note",),
    "attachment": ("filename",),
}


def record_evidence(record: Record, codes: dict, encounter_people: dict) -> tuple:
    """The pseudonyms ``record`` names besides its text (see :meth:`Anonymiser.evidence`):
    its ``@`` mentions, the participants it links to, and those of its encounter or of an
    encounter it links to; ``codes`` maps participant ids to codes, ``encounter_people``
    encounter ids to participant ids."""
    found = [str(m) for m in getattr(record, "mentions", ()) or ()]
    ids = [*(getattr(record, "links", ()) or ())]
    encounter = getattr(record, "encounter_id", None)
    ids += encounter_people.get(encounter, ()) if encounter else ()
    for link in getattr(record, "links", ()) or ():
        ids += encounter_people.get(link, ())
    found += [codes[i] for i in ids if i in codes]
    return tuple(dict.fromkeys(found))


class Capturer:
    """Replaces registered names as text is captured (see :func:`pseudonymise_on_capture`);
    the key store is read once, when the capturer is made."""

    def __init__(self, project: "Project", passphrase: Optional[str] = None):
        from fieldkit.privacy.keystore import KeyStoreError

        self.project = project
        path = keystore_path(project)
        #: what the key store file was when read: a changed file means a new capturer
        self.stamp = _stamp(path)
        try:
            store = open_keystore(project, passphrase)
        except KeyStoreError as exc:
            raise FieldkitError(f"pseudonymise_on_capture is on but {exc}; nothing was saved") from None
        self.people = ()
        if store is not None:
            try:
                self.people = store.people()
            finally:
                store.close()

    def text(self, text: str, codes: Optional[set] = None, evidence: Optional[Iterable[str]] = None) -> str:
        """``text`` with every registered name replaced: ``@P03`` for a participant of the
        project (a mention), ``[X01]`` for anyone else. With ``evidence`` (the pseudonyms
        the record names besides its text, :func:`record_evidence`), a one-word alias
        nothing ties to its owner is left as written."""
        if not self.people or not text:
            return text
        from fieldkit.privacy.detection import apply_spans
        from fieldkit.privacy.names import AMBIGUOUS_HINT, find_people

        if codes is None:
            codes = {code.lower() for code in self.project.store.consent.codes().values()}
        # a namesake (``Jane Okafor`` beside a registered Okafor) or a nickname nothing ties
        # to its owner is left as written: capture replaces only what it can attribute (a
        # wrong ``@P03`` would tie the note to the wrong person's consent for good), and
        # export-time anonymisation still replaces it, neutrally
        spans = [s for s in find_people(text, self.people, unregistered=False, evidence=evidence)
                 if s.kind == "name" and s.hint != AMBIGUOUS_HINT]
        if not spans:
            return text

        def replace(span, original):
            return f"@{span.hint}" if span.hint.lower() in codes else f"[{span.hint}]"

        return apply_spans(text, spans, replace).text

    def changes(self, record: "Record") -> dict:
        """``{field: pseudonymised value}`` for the body and every free-text field of
        ``record`` (``FREE_TEXT``, attribute values) that names a registered person."""
        if not self.people:
            return {}
        ids = self.project.store.consent.codes()
        codes = {code.lower() for code in ids.values()}
        encounters = {eid: people for eid, (_k, people) in self.project.store.consent.encounters().items()}
        evidence = record_evidence(record, ids, encounters)
        changes = {}
        for field in ("body", *FREE_TEXT.get(record.type_name, ())):
            value = getattr(record, field, None)
            if isinstance(value, str) and value:
                captured = self.text(value, codes, evidence)
                if captured != value:
                    changes[field] = captured
        attributes = getattr(record, "attributes", None)
        if attributes:
            captured = {key: self.text(value, codes, evidence) for key, value in attributes.items()}
            if captured != attributes:
                changes["attributes"] = captured
        return changes


def _stamp(path) -> tuple:
    try:
        st = os.stat(path) if path is not None else None
    except OSError:
        return (str(path), None)
    return (str(path), st and (st.st_mtime_ns, st.st_size, st.st_ino))


def capturer(project: "Project") -> Capturer:
    """The project's :class:`Capturer`, kept while the key store file is unchanged (so a bulk
    import reads the key store once, not once per record)."""
    held = getattr(project, "_fieldkit_capturer", None)
    if held is None or held.stamp != _stamp(keystore_path(project)):
        held = Capturer(project)
        project._fieldkit_capturer = held
    return held


def unlock_capture(project: "Project", passphrase: Optional[str]) -> None:
    """Read the key store now, with ``passphrase``, for pseudonymisation on capture: the
    records the project stores next use what was read (a command that asked for an
    encrypted key store's passphrase on the terminal calls this before it saves)."""
    project._fieldkit_capturer = Capturer(project, passphrase)


def pseudonymise_on_capture(project: Project, text: str, *, passphrase: Optional[str] = None) -> str:
    """Replace registered names in ``text`` as it is captured (setting ``pseudonymise_on_capture``).

    A name becomes ``@P03`` when P03 is a participant of the project (so it counts as a
    mention), otherwise ``[X01]``. Only the key store's names are replaced; identifiers are
    left for export-time anonymisation. Refuses (nothing is saved) when the key store cannot
    be opened, rather than keep a name the project promised not to keep. Every record the
    project stores goes through the same replacement while the setting is on (the built-in
    plugin ``fieldkit.plugins.pseudonymise``, hook ``capture_record``).
    """
    return Capturer(project, passphrase).text(text)
