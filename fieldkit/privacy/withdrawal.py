"""Carrying out a participant's withdrawal of consent: erase or redact what is theirs.

``withdrawal_plan(project, "P03")`` lists everything linked to the participant without
changing anything; ``withdraw(project, "P03", mode=...)`` carries it out.

What is linked:

* their *own* records: every note of a one-to-one encounter (interview, informal
  conversation) they took part in, the encounter itself, its codings and attachments, and
  attachments linked to their participant entry;
* every record of every type whose text *mentions* them: ``@P03`` or one of their
  registered names or aliases in any text field (bodies, titles, summaries, notes, code
  definitions and examples, coding notes, attribute values, attachment names, the
  free-text date a note was written with), deleted records included;
* their speaker turns in transcripts of group encounters;
* group encounters they took part in (their place in the participant list);
* earlier versions (revisions) and audit lines that mention them; attachment files whose
  text mentions them.

The modes:

* ``redact`` (default): their own records are erased; every mention elsewhere becomes
  ``[withdrawn]`` and each of their turns ``[turn withdrawn]``, codings moved onto the new
  text;
* ``erase``: their own records and every note or memo that mentions them are erased
  (other record types are redacted: erasing a code would take everyone's codings with it).

Crash safety. The key store is opened first: without it the names written in the notes
cannot be found, so the withdrawal refuses. The plan is built again under the project's
write lock and every project change, with a *journal* row, is committed in ONE
transaction: a kill before that commit leaves nothing done. Afterwards the key-store
entry becomes a tombstone (the code without names, never deleted first, so no export can
ever treat the code as unknown again), attachment files are deleted, and the journal row
is closed. A kill after the commit leaves a pending journal row: :func:`finish_pending`
(run by ``fieldkit doctor`` and by the next ``withdraw``) completes it. Text never appears
in the journal: only ids, the pseudonym and file hashes.
"""

from __future__ import annotations

import json
import re
from typing import Any, Optional, TYPE_CHECKING

import attrs

from fieldkit.core.errors import FieldkitError
from fieldkit.privacy.consent import ONE_TO_ONE_KINDS

if TYPE_CHECKING:
    from fieldkit.project import Project

MODES = ("redact", "erase")
MARKER = "[withdrawn]"
TURN_MARKER = "[turn withdrawn]"
#: record types in the order the plan lists them
TYPES = ("site", "participant", "consent", "encounter", "observation", "memo", "code", "coding", "attachment")
#: fields that hold ids, codes or fixed vocabularies, never free text; tags and mentions of
#: notes follow their body (``Project.prepare``)
_NOT_TEXT = frozenset({"id", "author", "created_at", "updated_at", "code", "kind", "stage", "status", "role",
                       "mode", "observed_precision", "media_type", "sha256", "colour", "coder", "participant_id",
                       "record_id", "code_id", "site_id", "encounter_id", "parent_id", "merged_into", "scopes",
                       "mentions", "links", "derived_from", "tags", "participants", "size", "start", "end"})
_ATTACHMENT_SCAN_LIMIT = 64 * 1024 * 1024


@attrs.frozen
class PlanItem:
    """One record the withdrawal touches: ``action`` is erase or redact; ``why`` explains."""

    type_name: str
    record_id: str
    action: str
    why: str
    occurrences: int = 0


@attrs.frozen
class WithdrawalPlan:
    """What ``withdraw`` will do; nothing has changed yet."""

    participant_id: str
    code: str
    mode: str
    items: tuple
    codings: tuple  # ids of codings erased with their records
    attachments: tuple  # ids of attachments erased
    group_encounters: tuple  # ids of encounters they are removed from
    in_keystore: Optional[bool]  # None when no key store could be read
    keystore_note: str = ""
    revisions: tuple = ()  # ids of earlier versions that mention them (erased)
    audit_lines: tuple = ()  # ids of audit lines that mention them (redacted)
    turns: tuple = ()  # ids of their speaker turns in group transcripts

    @property
    def erased(self) -> list:
        return [i for i in self.items if i.action == "erase"]

    @property
    def redacted(self) -> list:
        return [i for i in self.items if i.action == "redact"]

    def lines(self) -> list[str]:
        """The plan in words, for the confirmation prompt (pseudonyms and ids only)."""
        out = [f"Withdrawal of {self.code} (mode {self.mode}):"]
        for item in self.items:
            extra = f", {item.occurrences} mention(s)" if item.action == "redact" else ""
            out.append(f"  {item.action:6} {item.type_name} {item.record_id} ({item.why}{extra})")
        out.append(f"  erase  {len(self.codings)} coding(s) and {len(self.attachments)} attachment(s)")
        if self.turns:
            out.append(f"  replace {len(self.turns)} speaker turn(s) by {TURN_MARKER}")
        if self.revisions:
            out.append(f"  erase  {len(self.revisions)} earlier version(s) that mention {self.code}")
        if self.audit_lines:
            out.append(f"  redact {len(self.audit_lines)} audit line(s)")
        if self.group_encounters:
            out.append(f"  remove {self.code} from {len(self.group_encounters)} group encounter(s)")
        if self.in_keystore:
            out.append(f"  keep {self.code} in the key store as a tombstone (its names erased)")
        elif self.keystore_note:
            out.append(f"  key store: {self.keystore_note}")
        out.append("  record a 'withdrawn' consent event; purge old versions of changed records")
        return out


def _mention_re(code: str) -> re.Pattern:
    # "@P03", and the Obsidian-style link "[[P03]]" / "[[P03|label]]" that counts as a mention too
    return re.compile(rf"(?<![\w@])@{re.escape(code)}(?![\w])|\[\[{re.escape(code)}(?:\|[^\[\]\n]*)?\]\]",
                      re.IGNORECASE)


class _Finder:
    """Finds the participant in text: ``@CODE`` mentions and their registered names."""

    def __init__(self, code: str, person):
        self.code = code
        self.person = person if person is not None and getattr(person, "names", ()) else None
        self._mention = _mention_re(code)

    def spans(self, text: str) -> list:
        from fieldkit.privacy.detection import merge_spans
        from fieldkit.privacy.spans import Span

        if not text:
            return []
        spans = [Span(m.start(), m.end(), "mention", "direct", detector="withdrawal")
                 for m in self._mention.finditer(text)]
        if self.person is not None:
            from fieldkit.privacy.names import find_names

            spans += find_names(text, (self.person,))
        return merge_spans(spans)

    def redact(self, text: str) -> tuple[str, Any, int]:
        """``(new text, edits, count)``; edits as the anonymiser reports them."""
        from fieldkit.privacy.detection import apply_spans

        spans = self.spans(text)
        if not spans:
            return text, (), 0
        redaction = apply_spans(text, spans, lambda span, original: MARKER)
        return redaction.text, redaction.edits, len(spans)

    def count(self, value: Any) -> int:
        """Mentions in a field value: text, a tuple of texts or a dict of texts."""
        if isinstance(value, str):
            return len(self.spans(value))
        if isinstance(value, tuple):
            return sum(self.count(v) for v in value if isinstance(v, str))
        if isinstance(value, dict):
            return sum(self.count(str(k)) + self.count(str(v)) for k, v in value.items())
        return 0

    def redact_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)[0]
        if isinstance(value, tuple):
            return tuple(self.redact_value(v) if isinstance(v, str) else v for v in value)
        if isinstance(value, dict):
            return {self.redact_value(str(k)): self.redact_value(str(v)) for k, v in value.items()}
        return value


def _text_fields(record) -> list[str]:
    return [f.name for f in attrs.fields(type(record)) if f.name not in _NOT_TEXT]


def _open_keys(project, passphrase, *, allow_no_keystore: bool):
    """The open key store, or None when there is none and the caller allowed that."""
    from fieldkit.privacy.anonymiser import open_keystore
    from fieldkit.privacy.keystore import KeyStoreError

    try:
        store = open_keystore(project, passphrase)
    except KeyStoreError as exc:
        # fail closed: without the key store the names written in the notes cannot be found
        raise FieldkitError(f"cannot carry out a withdrawal: {exc}") from None
    if store is None and not allow_no_keystore:
        raise FieldkitError("cannot carry out a withdrawal: this project has no key store, so the names written "
                            "in the notes cannot be found; connect it (fieldkit config keystore_path PATH), or "
                            "pass --without-keystore to redact @mentions only")
    return store


def _person_in(keys, code: str):
    """(key store person or None, in_keystore, note)."""
    if keys is None:
        return None, None, "no key store configured; names written in the notes cannot be found"
    if code in keys:
        return keys.get(code), True, ""
    return None, False, f"{code} is not in the key store (a tombstone is added)"


def _attachment_mentions(project, sha: str, finder: _Finder) -> bool:
    """Whether an attachment file's text mentions them (files read as UTF-8, errors ignored)."""
    path = _attachment_path(project, sha)
    if path is None or not path.is_file() or path.stat().st_size > _ATTACHMENT_SCAN_LIMIT:
        return False
    return bool(finder.spans(path.read_bytes().decode("utf-8", errors="ignore")))


def _attachment_path(project, sha: str):
    """The stored file of a hash, or None when the hash is not one (never a path elsewhere)."""
    from fieldkit.store.attachments import FOLDER, is_sha256

    return project.path / FOLDER / sha if is_sha256(sha) else None


def _revision_links(data: str, pid: str) -> bool:
    """Whether an earlier version linked to them (a link since removed counts as a mention would)."""
    try:
        value = json.loads(data or "{}")
    except ValueError:
        return False
    return isinstance(value, dict) and pid in (value.get("links") or ())


def _revision_mentions(data: str, finder: _Finder) -> bool:
    try:
        value = json.loads(data or "{}")
    except ValueError:
        return bool(finder.spans(data or ""))
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if finder.spans(item):
                return True
        elif isinstance(item, dict):
            stack += [str(k) for k in item] + list(item.values())
        elif isinstance(item, list):
            stack += item
    return False


def _build_plan(project, pid: str, code: str, mode: str, person, in_store, note) -> WithdrawalPlan:
    finder = _Finder(code, person)
    erasure = project.store.erasure
    items: dict = {}
    own_encounters, group_encounters = [], []
    for encounter in project.list("encounter", include_deleted=True):
        if any(p.participant_id == pid for p in encounter.participants):
            if encounter.kind in ONE_TO_ONE_KINDS:
                own_encounters.append(encounter.id)
                items[encounter.id] = PlanItem("encounter", encounter.id, "erase",
                                               f"{encounter.kind.replace('_', ' ')} {encounter.code}")
            else:
                group_encounters.append(encounter.id)
    own = set(own_encounters)
    for type_name in TYPES:
        for record in project.list(type_name, include_deleted=True):
            if record.id in items:
                continue
            if getattr(record, "encounter_id", None) in own:
                items[record.id] = PlanItem(type_name, record.id, "erase", "note of their one-to-one encounter")
                continue
            if record.id == pid:
                continue  # their entry keeps its code and role (below)
            count = sum(finder.count(getattr(record, name)) for name in _text_fields(record))
            linked = pid in (getattr(record, "links", ()) or ())
            if not count and not linked:
                continue
            why = "mentions them" if count else "links to them"
            erase = mode == "erase" and type_name in ("observation", "memo")
            items[record.id] = PlanItem(type_name, record.id, "erase" if erase else "redact", why, count)
    erased = [i.record_id for i in items.values() if i.action == "erase"]
    codings = erasure.codings_on(erased)
    for coding_id in codings:
        items.pop(coding_id, None)  # erased with their record
    attachments = set(erasure.attachments_of([pid, *erased]))
    for attachment_id, sha, _record in erasure.attachment_rows():
        if attachment_id not in attachments and _attachment_mentions(project, sha, finder):
            attachments.add(attachment_id)
    for attachment_id in attachments:
        items.pop(attachment_id, None)  # erased, so not also redacted
    turns = []
    kept_notes = [o.id for o in project.list("observation", include_deleted=True) if o.id not in set(erased)]
    for record_id, record_turns in project.store.turns.of_records(kept_notes).items():
        theirs = [t.id for t in record_turns if t.speaker_id == pid]
        turns += theirs
        if theirs and record_id not in items:
            items[record_id] = PlanItem("observation", record_id, "redact", "their speaker turns", 0)
    touched = set(items) | {pid}
    revisions = tuple(rid for rid, record_id, data in erasure.revision_rows()
                      if record_id not in touched and (_revision_mentions(data, finder) or _revision_links(data, pid)))
    audit_lines = tuple(aid for aid, detail in erasure.audit_rows() if finder.spans(detail))
    ordered = sorted(items.values(), key=lambda i: (i.action, TYPES.index(i.type_name), i.record_id))
    return WithdrawalPlan(pid, code, mode, tuple(ordered), codings, tuple(sorted(attachments)),
                          tuple(group_encounters), in_store, note, revisions, audit_lines, tuple(turns))


def withdrawal_plan(project: Project, participant: str, *, mode: str = "redact", passphrase: Optional[str] = None,
                    allow_no_keystore: bool = False) -> WithdrawalPlan:
    """Everything ``withdraw`` would erase or redact for ``participant`` (code or id)."""
    if mode not in MODES:
        raise FieldkitError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    pid = project.resolve(participant, "participant")
    code = project.get(pid, type_name="participant", include_deleted=True).code
    keys = _open_keys(project, passphrase, allow_no_keystore=allow_no_keystore)
    try:
        return _build_plan(project, pid, code, mode, *_person_in(keys, code))
    finally:
        if keys is not None:
            keys.close()


@attrs.frozen
class WithdrawalResult:
    code: str
    mode: str
    erased: int
    redacted: int
    codings: int
    attachments: int
    keystore_removed: bool

    def summary(self) -> str:
        return (f"{self.code} withdrawn ({self.mode}): erased {self.erased} record(s), {self.codings} coding(s), "
                f"{self.attachments} attachment(s); redacted {self.redacted} record(s)"
                + ("; key-store entry kept as a tombstone, its names erased" if self.keystore_removed else ""))


def _redact_record(project, item: PlanItem, finder: _Finder, turn_ids: set, pid: str) -> None:
    """Replace every mention in every text field of one record (and their turns in a note)."""
    from fieldkit.privacy.anonymiser import remap_codings

    erasure = project.store.erasure
    record = project.get(item.record_id, type_name=item.type_name, include_deleted=True)
    changes: dict = {}
    edits = ()
    for name in _text_fields(record):
        value = getattr(record, name)
        if name == "body":
            text, edits = _redact_turns(project, record, turn_ids)
            text, more, _count = finder.redact(text)
            if more:
                from fieldkit.core.remap import compose

                edits = compose(edits, more) if edits else more
            if text != value:
                changes[name] = text
            continue
        new = finder.redact_value(value)
        if new != value:
            changes[name] = new
    if item.type_name in ("observation", "memo") and pid in record.links:
        changes["links"] = tuple(x for x in record.links if x != pid)
    if not changes:
        return
    updated = attrs.evolve(record, **changes)
    if item.type_name in ("observation", "memo"):
        updated = project.prepare(updated)
    erasure.overwrite(updated)
    if edits:
        codings = project.list("coding", record_id=record.id, include_deleted=True)
        for old, moved in zip(codings, remap_codings(edits, codings)):
            if moved != old:
                erasure.move_coding(moved)
        project.store.turns.follow(record.id, edits)


def _redact_turns(project, record, turn_ids: set):
    """The body with each of their turns' words replaced by ``TURN_MARKER``; the edits."""
    from fieldkit.privacy.detection import apply_spans
    from fieldkit.privacy.spans import Span

    spans = [Span(t.start, t.end, "turn", "direct", detector="withdrawal")
             for t in project.store.turns.of_record(record.id) if t.id in turn_ids and t.end > t.start]
    if not spans:
        return record.body, ()
    redaction = apply_spans(record.body, sorted(spans, key=lambda s: s.start), lambda span, original: TURN_MARKER)
    return redaction.text, redaction.edits


def withdraw(project: Project, participant: str, *, mode: str = "redact", passphrase: Optional[str] = None,
             plan: Optional[WithdrawalPlan] = None, allow_no_keystore: bool = False) -> WithdrawalResult:
    """Carry out a withdrawal (see the module docstring).

    ``plan`` may be the one shown to the user; the plan is built again under the write lock
    and the withdrawal refused if it differs. Refuses when the key store is configured but
    cannot be opened, or (unless ``allow_no_keystore``) when there is none.
    """
    if mode not in MODES:
        raise FieldkitError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    keys = _open_keys(project, passphrase, allow_no_keystore=allow_no_keystore)
    try:
        _finish(project, keys)  # an earlier withdrawal killed half-way comes first
        erasure = project.store.erasure
        erasure.secure_delete()
        with project.transaction():  # BEGIN IMMEDIATE: the write lock, before the plan is built
            pid = project.resolve(participant, "participant")
            code = project.get(pid, type_name="participant", include_deleted=True).code
            person, in_store, note = _person_in(keys, code)
            fresh = _build_plan(project, pid, code, mode, person, in_store, note)
            if plan is not None and plan != fresh:
                raise FieldkitError("the project changed since the withdrawal plan was shown; run the command again")
            plan = fresh
            files = _apply(project, plan, _Finder(code, person))
            journal = erasure.journal_open(pid, code, mode, files)
        # the project part is committed with its journal row: from here a kill is completable
        _finish(project, keys, only=journal)
    finally:
        if keys is not None:
            keys.close()
    return WithdrawalResult(plan.code, plan.mode, len(plan.erased), len(plan.redacted), len(plan.codings),
                            len(plan.attachments), keys is not None)


def _redact_exchange(erasure, finder: _Finder) -> None:
    """Their names out of what other tools' files said and fieldkit keeps for re-export (a
    set's or case's name and description, a document's name), wherever it is kept."""
    def redact(value):
        if isinstance(value, str):
            return finder.redact(value)[0]
        if isinstance(value, list):
            return [redact(v) for v in value]
        if isinstance(value, dict):
            return {redact(k) if isinstance(k, str) else k: redact(v) for k, v in value.items()}
        return value

    for table, external_id, name, data in erasure.exchange_texts():
        kept = json.loads(data or "{}")
        new_name, new_data = (redact(name) if name else name), redact(kept)
        if new_name != name or new_data != kept:
            erasure.set_exchange_text(table, external_id, new_name,
                                      json.dumps(new_data, ensure_ascii=False, sort_keys=True))


def _apply(project, plan: WithdrawalPlan, finder: _Finder) -> list:
    """Every project change of a withdrawal (inside the caller's transaction); returns the
    hashes of attachment files no longer used by any row."""
    from fieldkit.privacy.consent import record_consent

    erasure = project.store.erasure
    erased_ids = [i.record_id for i in plan.erased]
    turn_ids = set(plan.turns)
    for item in plan.redacted:
        _redact_record(project, item, finder, turn_ids, plan.participant_id)
    # hard delete: codings, attachments, notes, then their encounters
    erasure.delete("coding", plan.codings)
    files = [sha for sha in map(erasure.delete_attachment, plan.attachments) if sha]
    for type_name in ("observation", "memo", "encounter"):  # children before the encounters they name
        erasure.delete(type_name, [i.record_id for i in plan.erased if i.type_name == type_name])
    gone = set(erased_ids) | set(plan.attachments)
    if gone:
        erasure.drop_references(gone)
    for encounter_id in plan.group_encounters:
        encounter = project.get(encounter_id, type_name="encounter", include_deleted=True)
        kept = tuple(p for p in encounter.participants if p.participant_id != plan.participant_id)
        erasure.overwrite(attrs.evolve(encounter, participants=kept))
    # their entry keeps only a code and a role: attributes and notes may identify; so may
    # the notes of their consent events
    participant = project.get(plan.participant_id, type_name="participant", include_deleted=True)
    erasure.overwrite(attrs.evolve(participant, organisation="", attributes={}, note=""))
    for event in project.list("consent", participant_id=plan.participant_id, include_deleted=True):
        if event.note:
            erasure.overwrite(attrs.evolve(event, note=""))
    erasure.delete_revisions(plan.revisions)
    _redact_exchange(erasure, finder)
    for audit_id, detail in erasure.audit_rows():
        if audit_id in set(plan.audit_lines):
            erasure.set_audit_detail(audit_id, finder.redact(detail)[0])
    erasure.forget([*erased_ids, *(i.record_id for i in plan.redacted), *plan.group_encounters,
                    *plan.attachments, plan.participant_id])
    record_consent(project, plan.participant_id, "withdrawn", (), note=f"withdrawal carried out ({plan.mode})")
    project.store.audit("withdraw", "participant", plan.participant_id,
                        f"{plan.code}: mode {plan.mode}; erased {len(erased_ids)} records, {len(plan.codings)} "
                        f"codings, {len(plan.attachments)} attachments; redacted {len(plan.redacted)} records")
    erasure.rebuild_indexes()
    return [sha for sha in files if _attachment_path(project, sha) is not None]


def _finish(project, keys, *, only: Optional[int] = None) -> list[str]:
    """Complete committed withdrawals: tombstone in the key store, files deleted, journal
    closed, write-ahead log folded in. Each step can be repeated."""
    from fieldkit.store.attachments import remove_open_copies

    erasure = project.store.erasure
    done = []
    for entry in erasure.journal_pending():
        if only is not None and entry["id"] != only:
            continue
        if keys is not None:
            keys.tombstone(entry["code"])
        for sha in entry["files"]:
            path = _attachment_path(project, sha)
            if path is not None:
                path.unlink(missing_ok=True)
                remove_open_copies(project.path, sha)
        with project.transaction():
            erasure.journal_done(entry["id"])
        done.append(entry["code"])
    if done:
        erasure.checkpoint()
    return done


def pending_withdrawals(project: Project) -> list[str]:
    """Pseudonyms of withdrawals whose project part is done but which are not finished."""
    return [entry["code"] for entry in project.store.erasure.journal_pending()]


def finish_pending(project: Project, passphrase: Optional[str] = None) -> list[str]:
    """Finish withdrawals a kill interrupted after their project part was committed (what
    ``fieldkit doctor`` runs); returns their pseudonyms. Refuses without the key store when
    one is configured."""
    if not project.store.erasure.journal_pending():
        return []
    from fieldkit.privacy.anonymiser import keystore_path

    keys = _open_keys(project, passphrase, allow_no_keystore=keystore_path(project) is None)
    try:
        return _finish(project, keys)
    finally:
        if keys is not None:
            keys.close()
