"""Retention and destruction: keeping data only as long as the information sheet promised.

Rules live in the setting ``retention``, one for the project and optionally one per record
class; a class without its own rule follows the project's. A rule is one of

* ``until 2031-09-30`` (or just the date): everything of the class is due the day after;
* ``N days|weeks|months|years after MILESTONE``: a named date in the setting ``milestones``
  (``submission: 2027-03-31``) or a date written out;
* ``N days|weeks|months|years after collection``: each item is due that long after it was
  recorded.

The record classes: ``audio`` (audio and video attachments), ``attachments`` (every other
attachment), ``transcripts`` (notes holding speaker turns), ``raw_notes`` (jottings),
``notes`` (every other fieldnote and memo) and ``keystore`` (the key store file).

``destroy`` erases what is due with the crash-safe order of :mod:`fieldkit.store.lifecycle`:
a journal row first, then rows, history, quotes and the anonymisation tables in one
transaction together with the destruction certificate in the audit log, then the files,
then the search index, VACUUM and the write-ahead log. ``fieldkit doctor --fix`` finishes a
destruction that was interrupted.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Optional, Sequence, TYPE_CHECKING

import attrs

from fieldkit.core.errors import InvalidInput, Refused

if TYPE_CHECKING:
    from fieldkit.project import Project

CLASSES = ("audio", "attachments", "transcripts", "raw_notes", "notes", "keystore")
_UNITS = {"day": "days", "days": "days", "week": "weeks", "weeks": "weeks", "month": "months",
          "months": "months", "year": "years", "years": "years"}
_DATE = r"\d{4}-\d{2}-\d{2}"
_UNTIL = re.compile(rf"^(?:until\s+|keep\s+until\s+)?({_DATE})$", re.IGNORECASE)
_AFTER = re.compile(r"^(\d+)\s+(days?|weeks?|months?|years?)\s+after\s+([\w\-]+)$", re.IGNORECASE)


@attrs.frozen
class Rule:
    """A parsed rule: ``until`` a date, or ``amount`` ``unit`` after ``anchor`` (a date or ``collection``)."""

    text: str
    until: Optional[dt.date] = None
    amount: int = 0
    unit: str = ""
    anchor: str = ""

    def due_from(self, start: dt.date) -> dt.date:
        """The first day an item that starts on ``start`` is due."""
        return _add(start, self.amount, self.unit) + dt.timedelta(days=1)


def _add(day: dt.date, amount: int, unit: str) -> dt.date:
    if unit == "days":
        return day + dt.timedelta(days=amount)
    if unit == "weeks":
        return day + dt.timedelta(weeks=amount)
    months = amount * (12 if unit == "years" else 1)
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    import calendar

    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def parse_rule(text: str) -> Rule:
    """A :class:`Rule` from its words; InvalidInput says what is expected."""
    words = " ".join(str(text).split())
    until = _UNTIL.match(words)
    if until:
        return Rule(words, until=_date(until.group(1)))
    after = _AFTER.match(words)
    if after:
        return Rule(words, amount=int(after.group(1)), unit=_UNITS[after.group(2).lower()], anchor=after.group(3))
    raise InvalidInput(f"cannot read the retention rule {text!r}: write 'until 2031-09-30', "
                       "'6 months after submission' (a milestone) or '5 years after collection'")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date (YYYY-MM-DD)") from None


@attrs.frozen
class Due:
    """One record class: its rule, the day it is (or its first item is) due, and what is due today."""

    record_class: str
    rule: Optional[Rule]
    due_on: Optional[dt.date]
    items: tuple  # (kind, id) of what is due now
    total: int


def _rule_for(project, record_class: str) -> Optional[Rule]:
    rules = project.setting("retention") or {}
    text = rules.get(record_class) or rules.get("project")
    return parse_rule(text) if text else None


def _anchor_date(project, rule: Rule) -> Optional[dt.date]:
    if rule.until is not None or rule.anchor.lower() == "collection":
        return None
    if re.fullmatch(_DATE, rule.anchor):
        return _date(rule.anchor)
    milestones = project.setting("milestones") or {}
    found = {k.lower(): v for k, v in milestones.items()}.get(rule.anchor.lower())
    if found is None:
        raise InvalidInput(f"the retention rule {rule.text!r} counts from {rule.anchor!r}, which is not a milestone; "
                           f"set it: fieldkit config milestones '{{\"{rule.anchor}\": \"YYYY-MM-DD\"}}'")
    return _date(found)


def _items(project, record_class: str) -> list[tuple[str, str, dt.date]]:
    """``(kind, id, collected on)`` of everything of a class (deleted records too: they still hold text)."""
    from fieldkit.lifecycle.passages import speakers

    tables = project.store.lifecycle
    if record_class in ("audio", "attachments"):
        out = []
        for attachment_id, created, media_type in tables.attachment_rows():
            is_audio = (media_type or "").startswith(("audio/", "video/"))
            if is_audio == (record_class == "audio"):
                out.append(("attachment", attachment_id, _day(created)))
        return out
    if record_class == "keystore":
        from fieldkit.privacy.anonymiser import keystore_path

        path = keystore_path(project)
        if path is None or not path.exists():
            return []
        return [("keystore", str(path), dt.datetime.fromtimestamp(path.stat().st_mtime).date())]
    out = []
    notes = project.list("observation", include_deleted=True)
    stored = project.store.turns.of_records([r.id for r in notes])
    for record in notes:
        is_transcript = any(pid for pid, *_ in speakers(project, record, stored=stored.get(record.id, [])))
        if record_class == "transcripts" and is_transcript:
            out.append(("observation", record.id, record.created_at.date()))
        elif record_class == "raw_notes" and not is_transcript and record.stage == "jotting":
            out.append(("observation", record.id, record.created_at.date()))
        elif record_class == "notes" and not is_transcript and record.stage != "jotting":
            out.append(("observation", record.id, record.created_at.date()))
    if record_class == "notes":
        out += [("memo", m.id, m.created_at.date()) for m in project.list("memo", include_deleted=True)]
    return out


def _day(text: str) -> dt.date:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()


def retention(project: Project, *, today: Optional[dt.date] = None) -> list[Due]:
    """Every record class with its rule and what is due ``today`` (default: today)."""
    today = today or dt.date.today()
    out = []
    for record_class in CLASSES:
        rule = _rule_for(project, record_class)
        items = _items(project, record_class)
        if rule is None:
            out.append(Due(record_class, None, None, (), len(items)))
            continue
        if rule.until is not None:
            due_on: Optional[dt.date] = rule.until + dt.timedelta(days=1)
            due = [(k, i) for k, i, _d in items] if today >= due_on else []
        elif rule.anchor.lower() == "collection":
            dates = [(k, i, rule.due_from(d)) for k, i, d in items]
            due_on = min((d for _k, _i, d in dates), default=None)
            due = [(k, i) for k, i, d in dates if today >= d]
        else:
            due_on = rule.due_from(_anchor_date(project, rule))
            due = [(k, i) for k, i, _d in items] if today >= due_on else []
        out.append(Due(record_class, rule, due_on, tuple(due), len(items)))
    return out


@attrs.frozen
class Certificate:
    """What a destruction erased: classes, counts, when and by whom; never content."""

    journal_id: int
    classes: tuple
    counts: dict
    at: str
    author: str

    def lines(self) -> list[str]:
        out = [f"Destruction certificate #{self.journal_id}: {self.at} by {self.author}"]
        out += [f"  {what}: {n}" for what, n in sorted(self.counts.items())]
        return out


def destroy(project: Project, classes: Sequence[str], *, today: Optional[dt.date] = None,
            passphrase: Optional[str] = None) -> Certificate:
    """Erase everything of ``classes`` that is due (see the module docstring)."""
    from fieldkit.store.lifecycle import complete_destruction

    unknown = [c for c in classes if c not in CLASSES]
    if unknown:
        raise InvalidInput(f"no record class {unknown[0]!r}; the classes are {', '.join(CLASSES)}")
    if not classes:
        raise InvalidInput(f"name what to destroy: any of {', '.join(CLASSES)}")
    if project.store.lifecycle.unfinished():
        raise Refused("an earlier destruction was interrupted; finish it first: fieldkit doctor --fix")
    status = {d.record_class: d for d in retention(project, today=today)}
    plan: dict = {"observation": [], "memo": [], "attachment": [], "keystore": [], "files": []}
    for record_class in classes:
        due = status[record_class]
        if due.rule is None:
            raise Refused(f"{record_class} has no retention rule (nor has the project); nothing is due")
        if not due.items:
            when = f"; the first is due on {due.due_on.isoformat()}" if due.due_on else ""
            raise Refused(f"nothing of {record_class} is due for destruction yet{when}")
        for kind, item_id in due.items:
            plan[kind].append(item_id)
    if plan["keystore"]:
        _check_keystore_can_go(project, plan, passphrase)
        plan["keystore_setting"] = True
    plan["files"] = project.store.lifecycle.attachment_files(plan["attachment"])
    counts = {"observations": len(plan["observation"]), "memos": len(plan["memo"]),
              "attachments": len(plan["attachment"]), "key store": len(plan["keystore"])}
    plan["counts"] = {k: v for k, v in counts.items() if v}
    with project.transaction():
        journal_id = project.store.lifecycle.open_journal(list(classes), plan)
    done = complete_destruction(project.store, project.path, journal_id)
    return Certificate(journal_id, tuple(classes), done["counts"], done["at"], done["author"])


def _check_keystore_can_go(project, plan: dict, passphrase) -> None:
    """Fail closed: without the key store, exports cannot replace the registered names, so
    refuse while a note that stays still holds one."""
    from fieldkit.privacy.anonymiser import open_keystore
    from fieldkit.privacy.names import find_names

    store = open_keystore(project, passphrase)
    if store is None:
        return
    try:
        people = store.people()
    finally:
        store.close()
    going = set(plan["observation"]) | set(plan["memo"])
    holding = 0
    for type_name in ("observation", "memo"):
        for record in project.list(type_name, include_deleted=True):
            text = record.body + " " + (getattr(record, "title", "") or "")
            if record.id not in going and find_names(text, people):
                holding += 1
    if holding:
        raise Refused(f"{holding} note(s) that stay still hold names registered in the key store; destroying it "
                      "would leave them without pseudonyms in exports. Edit them to use the pseudonyms first "
                      "(fieldkit anonymise show ID shows where), then destroy the key store")
