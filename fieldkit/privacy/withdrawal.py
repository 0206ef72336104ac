"""Carrying out a participant's withdrawal of consent: erase or redact what is theirs.

``withdrawal_plan(project, "P03")`` lists everything linked to the participant without
changing anything; ``withdraw(project, "P03", mode=...)`` carries it out in one transaction.

What is linked:

* their *own* records: every note of a one-to-one encounter (interview, informal
  conversation) they took part in, the encounter itself, its codings and attachments;
* records that *mention* them: ``@P03`` in a body, a memo linking to them, or one of their
  registered names or aliases (when the key store is available);
* group encounters they took part in (their place in the participant list).

The modes:

* ``redact`` (default): their own records are erased; records that mention them are kept
  with every mention (``@P03`` and registered names) replaced by ``[withdrawn]``, codings
  moved onto the new text;
* ``erase``: their own records and every record that mentions them are erased.

In both modes: erasure is a hard delete (the one fieldkit allows), the old versions of every
erased or redacted record are purged from ``revisions`` (keeping them would defeat the
withdrawal), their anonymisation decisions and log lines go, they are removed from group
encounters, their participant entry keeps only its code and role, their key-store entry is
removed, a ``withdrawn`` consent event is recorded and the audit log gets one line with the
pseudonym and counts, no content.
"""

from __future__ import annotations

import re
from typing import Optional

import attrs

from fieldkit.privacy.consent import ONE_TO_ONE_KINDS
from fieldkit.core.errors import FieldkitError

MODES = ("redact", "erase")
MARKER = "[withdrawn]"


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
        if self.group_encounters:
            out.append(f"  remove {self.code} from {len(self.group_encounters)} group encounter(s)")
        if self.in_keystore:
            out.append(f"  remove {self.code} from the key store")
        elif self.keystore_note:
            out.append(f"  key store: {self.keystore_note}")
        out.append("  record a 'withdrawn' consent event; purge old versions of changed records")
        return out


def _mention_re(code: str) -> re.Pattern:
    # "@P03", and the Obsidian-style link "[[P03]]" / "[[P03|label]]" that counts as a mention too
    return re.compile(rf"(?<![\w@])@{re.escape(code)}(?![\w])|\[\[{re.escape(code)}(?:\|[^\[\]\n]*)?\]\]",
                      re.IGNORECASE)


def _person(project, code: str, passphrase):
    """(key store person or None, in_keystore, note)."""
    from fieldkit.privacy.anonymiser import open_keystore
    from fieldkit.privacy.keystore import KeyStoreError

    try:
        store = open_keystore(project, passphrase)
    except KeyStoreError as exc:
        # fail closed: without the key store the names written in the notes cannot be found
        raise FieldkitError(f"cannot carry out a withdrawal: {exc}") from None
    if store is None:
        return None, None, "no key store configured; names written in the notes cannot be found"
    try:
        if code in store:
            return store.get(code), True, ""
        return None, False, f"{code} is not in the key store"
    finally:
        store.close()


def _name_spans(person, text: str) -> list:
    if person is None:
        return []
    from fieldkit.privacy.names import find_names

    return find_names(text, (person,))


def _mention_spans(code: str, text: str, person) -> list:
    from fieldkit.privacy.detection import merge_spans
    from fieldkit.privacy.spans import Span

    spans = [Span(m.start(), m.end(), "mention", "direct", detector="withdrawal")
             for m in _mention_re(code).finditer(text)]
    return merge_spans([*spans, *_name_spans(person, text)])


def withdrawal_plan(project, participant, *, mode: str = "redact", passphrase: Optional[str] = None,
                    _person_info=None) -> WithdrawalPlan:
    """Everything ``withdraw`` would erase or redact for ``participant`` (code or id)."""
    if mode not in MODES:
        raise FieldkitError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    pid = project.resolve(participant, "participant")
    code = project.get(pid, type_name="participant").code
    person, in_store, note = _person_info or _person(project, code, passphrase)
    items: dict = {}
    own_encounters, group_encounters = [], []
    for encounter in project.list("encounter"):
        if any(p.participant_id == pid for p in encounter.participants):
            if encounter.kind in ONE_TO_ONE_KINDS:
                own_encounters.append(encounter.id)
                items[encounter.id] = PlanItem("encounter", encounter.id, "erase",
                                               f"{encounter.kind.replace('_', ' ')} {encounter.code}")
            else:
                group_encounters.append(encounter.id)
    own = set(own_encounters)
    for type_name in ("observation", "memo"):
        for record in project.list(type_name):
            if getattr(record, "encounter_id", None) in own:
                items[record.id] = PlanItem(type_name, record.id, "erase", "note of their one-to-one encounter")
                continue
            linked = pid in (getattr(record, "links", ()) or ())
            spans = _mention_spans(code, record.body, person)
            if not spans and not linked:
                continue
            why = "mentions them" if spans else "links to them"
            action = "erase" if mode == "erase" else "redact"
            items[record.id] = PlanItem(type_name, record.id, action, why, len(spans))
    erased = [i.record_id for i in items.values() if i.action == "erase"]
    codings = project.store.erasure.codings_on(erased)
    attachments = project.store.erasure.attachments_of([pid, *erased])
    ordered = sorted(items.values(), key=lambda i: (i.action, i.type_name, i.record_id))
    return WithdrawalPlan(pid, code, mode, tuple(ordered), codings, attachments, tuple(group_encounters),
                          in_store, note)


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
                + ("; removed from the key store" if self.keystore_removed else ""))


def withdraw(project, participant, *, mode: str = "redact", passphrase: Optional[str] = None,
             plan: Optional[WithdrawalPlan] = None) -> WithdrawalResult:
    """Carry out a withdrawal (see the module docstring) in one transaction.

    ``plan`` may be the one shown to the user; it is rebuilt if it is stale. The key store
    entry is removed last, inside the transaction, so a failure there undoes everything.
    """
    from fieldkit.privacy.anonymiser import open_keystore, remap_codings
    from fieldkit.privacy.consent import record_consent
    from fieldkit.privacy.detection import apply_spans

    info = _person(project, project.get(project.resolve(participant, "participant")).code, passphrase)
    fresh = withdrawal_plan(project, participant, mode=mode, passphrase=passphrase, _person_info=info)
    if plan is not None and plan != fresh:
        raise FieldkitError("the project changed since the withdrawal plan was shown; run the command again")
    plan = fresh
    person = info[0]
    erasure = project.store.erasure
    erasure.secure_delete()
    erased_ids = [i.record_id for i in plan.erased]
    redacted_ids = [i.record_id for i in plan.redacted]
    keystore_removed = False
    with project.transaction():
        # redact first: mentions become [withdrawn], codings follow the text; no revision
        # keeps the old text
        for item in plan.redacted:
            record = project.get(item.record_id, type_name=item.type_name)
            spans = _mention_spans(plan.code, record.body, person)
            redaction = apply_spans(record.body, spans, lambda span, original: MARKER)
            changes = {"body": redaction.text}
            if item.type_name == "memo":
                changes["links"] = tuple(x for x in record.links if x != plan.participant_id)
            erasure.overwrite(project.prepare(attrs.evolve(record, **changes)))
            codings = project.list("coding", record_id=record.id, include_deleted=True)
            for old, moved in zip(codings, remap_codings(redaction.edits, codings)):
                if moved != old:
                    erasure.move_coding(moved)
        # hard delete: codings, attachments, notes, then their encounters
        erasure.delete("coding", plan.codings)
        removed_files = [sha for sha in map(erasure.delete_attachment, plan.attachments) if sha]
        for type_name in ("observation", "memo", "encounter"):
            erasure.delete(type_name, [i.record_id for i in plan.erased if i.type_name == type_name])
        gone = set(erased_ids)
        if gone:
            erasure.drop_references(gone)
        # group encounters keep going without them
        for encounter_id in plan.group_encounters:
            encounter = project.get(encounter_id, type_name="encounter")
            kept = tuple(p for p in encounter.participants if p.participant_id != plan.participant_id)
            erasure.overwrite(attrs.evolve(encounter, participants=kept))
        # the participant keeps only a code and a role: attributes and notes may identify
        participant = project.get(plan.participant_id, type_name="participant")
        erasure.overwrite(attrs.evolve(participant, organisation="", attributes={}, note=""))
        erasure.forget([*erased_ids, *redacted_ids, *plan.group_encounters, plan.participant_id])
        record_consent(project, plan.participant_id, "withdrawn", (), note=f"withdrawal carried out ({plan.mode})")
        project.store.audit("withdraw", "participant", plan.participant_id,
                            f"{plan.code}: mode {plan.mode}; erased {len(erased_ids)} records, {len(plan.codings)} "
                            f"codings, {len(plan.attachments)} attachments; redacted {len(redacted_ids)} records")
        if info[1]:
            store = open_keystore(project, passphrase)
            try:
                store.remove(plan.code)
                keystore_removed = True
            finally:
                store.close()
    for sha in removed_files:
        (project.path / "attachments" / sha).unlink(missing_ok=True)
    erasure.scrub()
    return WithdrawalResult(plan.code, plan.mode, len(erased_ids), len(redacted_ids), len(plan.codings),
                            len(plan.attachments), keystore_removed)
