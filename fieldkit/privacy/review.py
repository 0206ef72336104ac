"""Review before release: what the detectors replaced, and what looks identifying but was not.

:func:`candidates` lists, for the records you choose, every stretch of text a researcher
should look at, as :class:`Candidate` records:

* ``claimed``: what an export would replace (any detector), with its replacement;
* ``unclaimed``: what no detector claimed but looks identifying: capitalised words, runs of
  three or more digits, and ``@mentions`` of codes that are not participants of the project.

A candidate also says whether it still *needs review*: a name nobody registered
(``names.unregistered``), a namesake (``names.namesake``: a name shared by several people,
never given one person's pseudonym) and every unclaimed candidate, until a decision is
recorded. :func:`unresolved` counts what still needs review; exports warn about it and, with
the setting ``anonymise.strict``, refuse.

:func:`decide` records a decision:

* ``accept``: a claimed candidate is checked and stays replaced; an unclaimed one is
  replaced from now on, in every record (a review rule kept as a keyed digest, never text);
* ``reject``: a claimed candidate is kept as written in this record; an unclaimed one is
  dismissed (it is not listed as needing review again while the text there is unchanged);
* ``register``: the text is added to the key store as a person's name (a new pseudonym) or
  as an alias of one (``pseudonym`` names them).

Decisions are stored in the project by record id, offsets and a keyed digest of the text
(never the text), and each is written to the anonymisation log (action ``review-accept``,
``review-reject`` or ``review-register``). The API is what ``fieldkit anonymise review``
and the browser workbench use: list, then ``decide(project, candidate, action)``.
"""

from __future__ import annotations

import re
from typing import Iterable, Optional, TYPE_CHECKING

import attrs

from fieldkit.core.errors import FieldkitError

if TYPE_CHECKING:
    from fieldkit.core.records import Record
    from fieldkit.privacy.anonymiser import Anonymiser
    from fieldkit.project import Project

#: what :func:`decide` accepts
REVIEW_ACTIONS = ("accept", "reject", "register")
#: detectors whose finds need a human decision before release
NEEDS_REVIEW = ("names.unregistered", "names.namesake")

_MENTION = re.compile(r"(?<![\w@.])@([A-Za-z][\w\-]{0,31})(?![\w@])")


@attrs.frozen
class Candidate:
    """One stretch ``[start, end)`` of a record's text to review.

    ``status`` is ``pending``, ``accepted`` or ``rejected``; ``claimed`` is whether an export
    replaces it (``replacement`` then says with what); ``needs_review`` whether it is still
    waiting for a decision; ``reason`` says in words why it is listed. ``digest`` is the keyed
    digest of the text that decisions are stored under.
    """

    record_id: str
    start: int
    end: int
    kind: str
    detector: str
    status: str
    claimed: bool
    replacement: str
    digest: str
    needs_review: bool
    reason: str
    number: int = 0


def _reason(span, claimed: bool) -> str:
    if not claimed:
        if span.kind == "mention":
            return "an @mention of a code that is not a participant"
        return "looks identifying; no detector claimed it"
    if span.detector == "names.namesake":
        if span.kind == "person":
            return "next to a registered name but not that person: a namesake, given a neutral placeholder"
        return ("a name that may be several people's (shared, or a nickname the record does not tie to its "
                "owner): given a neutral placeholder")
    if span.detector == "names.unregistered":
        return "a name that nobody registered in the key store"
    return f"replaced ({span.kind}, {span.detector})"


def record_candidates(anonymiser: Anonymiser, record: Record, codes: Iterable[str] = ()) -> list[Candidate]:
    """Candidates of one record, with an open :class:`~fieldkit.privacy.anonymiser.Anonymiser`."""
    from fieldkit.privacy.anonymiser import span_digest
    from fieldkit.privacy.detection import review_candidates
    from fieldkit.privacy.spans import Span

    text = record.body
    spans = anonymiser.spans(text, record.id, anonymiser.evidence(record))
    out = []
    for span, digest, status in spans:
        needs = span.detector in NEEDS_REVIEW and status == "pending"
        out.append(Candidate(record.id, span.start, span.end, span.kind, span.detector, status, True,
                             anonymiser._replace(span, text[span.start:span.end]), digest, needs,
                             _reason(span, True)))
    claimed = [span for span, _d, _s in spans]
    codes = {c.casefold() for c in codes}
    unclaimed = list(review_candidates(text, claimed))
    for m in _MENTION.finditer(text):
        if m.group(1).casefold() not in codes and not any(s.start < m.end() and m.start() < s.end for s in claimed):
            unclaimed.append(Span(m.start(), m.end(), "mention", "quasi", detector="review"))
    decided = anonymiser._decisions.get(record.id, {})
    for span in sorted(unclaimed, key=lambda s: (s.start, s.end)):
        digest = span_digest(anonymiser._secret, text[span.start:span.end])
        action = decided.get((span.start, span.end, digest))
        status = {"accept": "accepted", "reject": "rejected"}.get(action, "pending")
        out.append(Candidate(record.id, span.start, span.end, span.kind, "review", status, False, "", digest,
                             status == "pending", _reason(span, False)))
    out.sort(key=lambda c: (c.start, c.end, not c.claimed))
    return [attrs.evolve(c, number=i) for i, c in enumerate(out, start=1)]


def _records(project, refs, types):
    from fieldkit.privacy.anonymiser import _body_record

    if refs is None:
        return [r for t in types for r in project.list(t)]
    return [_body_record(project, ref) for ref in refs]


def _codes(project) -> tuple:
    return tuple(p.code for p in project.list("participant"))


def candidates(project: Project, refs: Optional[Iterable[str]] = None, *, passphrase: Optional[str] = None,
               types: tuple = ("observation", "memo"), only_pending: bool = False) -> list[Candidate]:
    """Every :class:`Candidate` of the records ``refs`` (ids or references; default: every
    fieldnote, jotting and memo), in record order then text order. ``only_pending`` keeps
    those that still need review."""
    from fieldkit.privacy.anonymiser import anonymiser

    records = _records(project, refs, types)
    codes = _codes(project)
    an = anonymiser(project, passphrase=passphrase, log=False)
    try:
        out = []
        for record in records:
            found = record_candidates(an, record, codes)
            out += [c for c in found if c.needs_review] if only_pending else found
        return out
    finally:
        an.close()


def unresolved(project: Project, *, passphrase: Optional[str] = None) -> list[Candidate]:
    """Names still waiting for a decision (nobody registered them, or they are namesakes):
    what ``fieldkit keys check`` suggests and what exports warn about."""
    return [c for c in candidates(project, passphrase=passphrase, only_pending=True) if c.claimed]


def decide(project: Project, candidate: Candidate, action: str, *, pseudonym: Optional[str] = None,
           kind: Optional[str] = None, passphrase: Optional[str] = None) -> Candidate:
    """Record a decision on ``candidate`` (see the module docstring); returns it updated.

    Refuses a candidate whose text has changed since it was listed (list again).
    """
    from fieldkit.privacy import anonymiser as an

    if action not in REVIEW_ACTIONS:
        raise FieldkitError(f"a review decision is one of {', '.join(REVIEW_ACTIONS)}, not {action!r}")
    record = an._body_record(project, candidate.record_id)
    text = record.body[candidate.start:candidate.end]
    secret = an._secret(project)
    if an.span_digest(secret, text) != candidate.digest:
        raise FieldkitError(f"the text of {record.id} changed since this candidate was listed; list it again")
    if action == "register":
        _register(project, text, pseudonym, passphrase)
        # this occurrence is theirs: a nickname or a shared name here gets their pseudonym
        an.record_decision(project, record, candidate.start, candidate.end, candidate.digest,
                           an.ATTRIBUTE + str(pseudonym), candidate.kind)
        status = "accepted"
    elif candidate.claimed or action == "reject":
        an.record_decision(project, record, candidate.start, candidate.end, candidate.digest, action, candidate.kind)
        status = "accepted" if action == "accept" else "rejected"
    else:
        an.add_rule(project, text, kind or ("name" if candidate.kind in ("review", "mention") else candidate.kind))
        an.record_decision(project, record, candidate.start, candidate.end, candidate.digest, "accept", candidate.kind)
        status = "accepted"
    an.log_decision(project, record.id, candidate.start, candidate.end, candidate.kind, candidate.detector,
                    candidate.replacement, candidate.digest, f"review-{action}")
    return attrs.evolve(candidate, status=status, needs_review=False)


def _register(project, text: str, pseudonym: Optional[str], passphrase: Optional[str]) -> None:
    from fieldkit.privacy.anonymiser import open_keystore

    if not pseudonym:
        raise FieldkitError("registering a name needs the pseudonym to file it under (e.g. P07 or X02)")
    store = open_keystore(project, passphrase)
    if store is None:
        raise FieldkitError("this project has no key store; create one with: fieldkit keys init")
    try:
        from fieldkit.privacy.unregistered import TITLES, _strip_possessive

        words = text.split()
        while len(words) > 1 and words[0].casefold().rstrip(".") in TITLES:
            words = words[1:]  # "Mr Hendry" is registered as "Hendry"
        name = _strip_possessive(" ".join(words))
        if pseudonym in store:
            store.add_alias(pseudonym, name)
        else:
            store.add(pseudonym, name, kind="participant" if pseudonym[:1].upper() == "P" else "non-participant")
    finally:
        store.close()


def waiting_names(project: Project, *, passphrase: Optional[str] = None) -> list[tuple[str, int]]:
    """``[(text, count)]`` of the names in :func:`unresolved`, most frequent first (the
    researcher's own screen: this is real text)."""
    from collections import Counter

    counts: Counter = Counter()
    bodies: dict = {}
    for item in unresolved(project, passphrase=passphrase):
        if item.record_id not in bodies:
            bodies[item.record_id] = project.get(item.record_id).body
        counts[" ".join(bodies[item.record_id][item.start:item.end].split())] += 1
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))


def doctor_findings(project: Project, *, passphrase: Optional[str] = None) -> list[dict]:
    """What ``fieldkit doctor`` says about names waiting for review (``level``, ``check``,
    ``message``, ``fix``); a key store that cannot be opened is reported, not raised."""
    try:
        waiting = waiting_names(project, passphrase=passphrase)
    except FieldkitError as exc:
        return [{"level": "warning", "check": "review", "message": f"names waiting for review were not checked: {exc}",
                 "fix": "set FIELDKIT_KEYS_PASSPHRASE or reconnect the key store, then run fieldkit doctor again"}]
    if not waiting:
        return []
    listed = ", ".join(f"{text} ({count})" for text, count in waiting[:20])
    more = f" and {len(waiting) - 20} more" if len(waiting) > 20 else ""
    return [{"level": "warning", "check": "review",
             "message": f"{sum(c for _t, c in waiting)} name(s) nobody registered or shared by several people wait "
                        f"for review: {listed}{more}",
             "fix": "fieldkit anonymise review --pending (register, accept or reject each)"}]
