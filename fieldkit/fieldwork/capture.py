"""Capturing text: jottings in the field, fieldnotes and memos afterwards."""

from __future__ import annotations

import datetime as dt
from typing import Optional, Sequence, TYPE_CHECKING, Union

from fieldkit.core.errors import InvalidInput
from fieldkit.core.records import Memo, Observation

if TYPE_CHECKING:
    from fieldkit.core.records import Encounter, Record
    from fieldkit.project import Project


def _observed(project, when: Optional[str], now: Optional[dt.datetime] = None):
    """Parse what a person typed for 'when it happened' in the project's timezone."""
    if not when:
        return {}
    from fieldkit.core.timeinput import parse_time

    t = parse_time(when, now=now, tz=project.timezone)
    return {"observed_at": t.at, "observed_precision": t.precision, "observed_raw": t.raw}


def _with_tags(body: str, tags: Sequence[str]) -> str:
    """Append ``#tag`` words the user gave as options, so tags live in the text itself.

    Tags go on the same line when that reads as tags, else in a paragraph of their own (after
    an indented or fenced code line, say). Text that leaves a code block or raw HTML open to
    its end cannot take a tag at all, and is refused rather than saved without it.
    """
    from fieldkit.core.markdown import tags_and_mentions

    words = dict.fromkeys(t.lstrip("#") for t in tags if t and t.lstrip("#"))
    have = set(tags_and_mentions(body)[0])
    extra = [w for w in words if w.lower() not in have]
    for w in extra:
        if tags_and_mentions(f"#{w}")[0] != (w.lower(),):
            raise InvalidInput(f"{w!r} is not a tag: a tag is letters, digits, '-' and '_', starts with a letter or digit and has a letter")
    if not extra:
        return body
    line = " ".join(f"#{w}" for w in extra)
    for joined in (f"{body} {line}", f"{body.rstrip()}\n\n{line}"):
        found = set(tags_and_mentions(joined)[0])
        if all(w.lower() in found for w in extra):
            return joined
    raise InvalidInput(f"cannot add #{extra[0]} as a tag: the text leaves a code block or HTML open at its end")


def unknown_mentions(project: Project, record: Record) -> list[str]:
    """The mentions of a record that name no registered participant or site (``@P99``)."""
    if not getattr(record, "mentions", ()):
        return []
    known = {p.code.casefold() for p in project.list("participant")} | {
        s.name.casefold() for s in project.list("site")}
    return [m for m in record.mentions if m.casefold() not in known]


def _checked(project, record):
    """Warn (in ``project.warnings``) about mentions of no one registered: a typo such as
    ``@P99`` would otherwise leave a person out of consent checks and withdrawal."""
    unknown = unknown_mentions(project, record)
    if not unknown:
        return record
    import difflib

    codes = [p.code for p in project.list("participant")]
    for mention in unknown:
        near = difflib.get_close_matches(mention, codes, n=1)
        hint = f" (did you mean @{near[0]}?)" if near else ""
        project.warnings.append((record.id, f"@{mention} is not a registered participant or site{hint}"))
    return record


def _people(project: Project, people: Sequence[str]) -> tuple[str, ...]:
    """Participant ids for codes or ids given at capture, in order, each once."""
    return tuple(dict.fromkeys(project.resolve(code, "participant") for code in people))


def jot(project: Project, text: str, *, encounter: Optional[str] = None, when: Optional[str] = None,
        tags: Sequence[str] = (), now: Optional[dt.datetime] = None, session: bool = True,
        people: Sequence[str] = ()) -> Observation:
    """Save a jotting: quick, immutable, stamped with both clocks.

    Without ``encounter`` it attaches to the capture session's encounter, if one is current
    (``encounter start``; pass ``session=False`` to leave it unattached). ``people``
    (participant codes or ids) are those it is about besides its @mentions: consent,
    withdrawal and queries treat them like mentions."""
    encounter_id = project.resolve(encounter, "encounter") if encounter else None
    if encounter_id is None and session:
        from fieldkit.fieldwork.registers import current_encounter

        current = current_encounter(project)
        encounter_id = current.id if current else None
    observed = _observed(project, when, now) or {"observed_at": now or dt.datetime.now(dt.timezone.utc),
                                                  "observed_precision": "minute", "observed_raw": "now"}
    return _checked(project, project.add(Observation(stage="jotting", body=_with_tags(text, tags),
                                                     encounter_id=encounter_id, links=_people(project, people),
                                                     **observed)))


def note(project: Project, text: str, *, encounter: Optional[str] = None, when: Optional[str] = None,
         tags: Sequence[str] = (), derived_from: Sequence[str] = (), now: Optional[dt.datetime] = None,
         people: Sequence[str] = ()) -> Observation:
    """Save a full fieldnote (editable later, with history); ``people`` as for :func:`jot`."""
    encounter_id = project.resolve(encounter, "encounter") if encounter else None
    return _checked(project, project.add(Observation(
        stage="fieldnote", body=_with_tags(text, tags), encounter_id=encounter_id, links=_people(project, people),
        derived_from=tuple(project.resolve(d, "observation") for d in derived_from), **_observed(project, when, now),
    )))


def jottings_for(project: Project, encounter: Optional[str] = None, *, day: Optional[dt.date] = None,
                 include_expanded: bool = False) -> list[Observation]:
    """The jottings of an encounter (or, with no encounter, of one local day), oldest first.

    Jottings a fieldnote already expands are left out unless ``include_expanded``."""
    if encounter:
        found = project.list("observation", stage="jotting", encounter=encounter, order_by="observed_at, id")
    else:
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(project.timezone)
        day = day or dt.datetime.now(zone).date()
        start = dt.datetime.combine(day, dt.time(), zone)
        end = start + dt.timedelta(days=1)
        found = project.list("observation", stage="jotting", since=start, until=end, order_by="observed_at, id")
    if include_expanded:
        return found
    done = project.store.expanded_jottings()
    return [j for j in found if j.id not in done]


#: ``relink``'s encounter when it is left as it is
KEEP = "keep"


def relink(project: Project, ref: str, encounter: Optional[str] = KEEP, *, add: Sequence[str] = (),
           remove: Sequence[str] = (), reason: str = "") -> Observation:
    """Correct the links of a jotting or fieldnote, keeping the old ones in its history: its
    encounter (``None``: none; ``KEEP``: unchanged) and the participants it is about besides
    its @mentions (``add``, ``remove``: codes or ids). A jotting's text never changes, so a
    participant its text mentions cannot be removed."""
    import attrs

    from fieldkit.core.errors import Refused

    record = project.get(ref)
    if record.type_name != "observation":
        raise Refused(f"only jottings and fieldnotes have these links, not a {record.type_name}")
    changes: dict = {}
    why = []
    if encounter != KEEP:
        changes["encounter_id"] = project.resolve(encounter, "encounter") if encounter else None
        why.append("linked to another encounter" if changes["encounter_id"] else "unlinked from its encounter")
    if add or remove:
        gone = [project.resolve(code, "participant") for code in remove]
        for mention in record.mentions:
            if set(project.store.ids_named("participant", "code", mention)) & set(gone):
                raise Refused(f"its text mentions @{mention}, and only its text can stop that: "
                              "a jotting's text never changes (expand it into a fieldnote), a fieldnote's is edited")
        links = [pid for pid in record.links if pid not in gone]
        links += [pid for pid in (project.resolve(code, "participant") for code in add) if pid not in links]
        changes["links"] = tuple(links)
        why.append("participants corrected")
    return project.update(attrs.evolve(record, **changes), reason=reason or "; ".join(why))


def expand_template(project: Project, jottings: Sequence[Observation], encounter: Optional[Encounter] = None) -> str:
    """The Markdown a researcher starts from when expanding jottings into a fieldnote."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(project.timezone)
    lines = []
    if encounter is not None:
        lines.append(f"# {encounter.code}: {encounter.title or encounter.kind.replace('_', ' ')}")
        lines.append("")
    lines.append("<!-- Expand the jottings below into a full fieldnote. Keep analytic asides in")
    lines.append("     '> OC:' blocks. Lines inside these comment markers are dropped. -->")
    lines.append("")
    for j in jottings:
        stamp = j.observed_at.astimezone(zone).strftime("%H:%M") if j.observed_at else "--:--"
        lines.append(f"- {stamp} {j.body}")
    lines.append("")
    return "\n".join(lines)


def strip_template_comments(text: str) -> str:
    """Remove the ``<!-- … -->`` guidance the template added."""
    import re

    return re.sub(r"<!--.*?-->\n?", "", text, flags=re.S).strip() + "\n"


def expand(project: Project, body: str, jottings: Sequence[Observation], *, encounter: Optional[str] = None,
           when: Optional[str] = None) -> Observation:
    """Save a fieldnote that expands the given jottings (linked through ``derived_from``); it is
    about the participants they were linked to, so consent still reaches it."""
    body = strip_template_comments(body)
    observed = _observed(project, when)
    if not observed and jottings:
        first = jottings[0]
        observed = {"observed_at": first.observed_at, "observed_precision": first.observed_precision,
                    "observed_raw": first.observed_raw}
    encounter_id = project.resolve(encounter, "encounter") if encounter else (jottings[0].encounter_id if jottings else None)
    links = tuple(dict.fromkeys(pid for j in jottings for pid in j.links))
    return _checked(project, project.add(Observation(stage="fieldnote", body=body, encounter_id=encounter_id,
                                                     derived_from=tuple(j.id for j in jottings), links=links,
                                                     **observed)))


#: the tag that keeps a memo out of every export (reflexive notes meant for the researcher only)
PRIVATE_TAG = "private"


def memo(project: Project, text: str, *, kind: str = "analytic", title: str = "", links: Sequence[str] = (),
         private: bool = False) -> Memo:
    """Save a memo, linked to any records or codes (ids, codes like P03/E12, or code names).

    ``private`` adds the ``#private`` tag: exports leave such memos out."""
    body = text
    if private:
        body = _with_tags(body, [PRIVATE_TAG])
    return _checked(project, project.add(Memo(kind=kind, title=title, body=body,
                                              links=tuple(project.resolve(x) for x in links))))


def is_private(record: Record) -> bool:
    """Whether a record is kept out of exports by the ``#private`` tag (memos only)."""
    return record.type_name == "memo" and PRIVATE_TAG in record.tags


def edit(project: Project, ref: str, body: str, *, reason: str = "") -> Union[Observation, Memo]:
    """Replace the body of a fieldnote or memo, keeping the old version in its history."""
    import attrs

    from fieldkit.core.errors import Refused

    record = project.get(ref)
    if not hasattr(record, "body"):
        raise Refused(f"{record.type_name} records have no text to edit")
    return _checked(project, project.update(attrs.evolve(record, body=body), reason=reason or "edited"))
