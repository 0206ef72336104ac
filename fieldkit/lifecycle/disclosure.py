"""Disclosure review: what in a planned export could still identify someone.

``disclosure_report(project, options)`` looks at the records an export with ``options``
would hold and lists

* **open items**, which block a sign-off and a deposit: small cells (a role, or a
  participant attribute, at a site, or a code used by people of one role, held by fewer than
  ``k`` people), names nobody registered or several people share (what ``fieldkit keys
  check`` suggests), and stretches of text the detectors did not claim but that look
  identifying and nobody has reviewed (``fieldkit anonymise review``);
* **notes**, which the researcher should read but fieldkit handles: the quasi-identifiers
  an export keeps (roles, sites, attributes, exact times), quotes without quote consent
  (left out of quote tables), quotes not yet member-checked.

``sign_off`` writes the sign-off, the selection it covers and the state of the data into
the audit log. Under the setting ``disclosure.strict`` an export needs a sign-off of its
exact selection made since the data last changed (``fieldkit.exchange.register``).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any, Optional, Sequence, TYPE_CHECKING

import attrs

from fieldkit.core.errors import InvalidInput, Refused

if TYPE_CHECKING:
    from fieldkit.exchange.exporting import ExportOptions
    from fieldkit.project import Project

DEFAULT_K = 3
#: the kinds of open item (they block a sign-off unless accepted with a reason)
OPEN_KINDS = ("small cell", "unresolved names", "unreviewed text")
#: roles whose cells are not counted: the research team's own
TEAM_ROLES = ("researcher", "peer_researcher")


@attrs.frozen
class Item:
    """One finding: ``level`` is ``open`` (blocks sign-off) or ``note``."""

    level: str
    kind: str
    message: str
    count: int = 1


@attrs.frozen
class DisclosureReport:
    selection: dict
    key: str
    k: int
    records: int
    items: tuple

    @property
    def open_items(self) -> list[Item]:
        return [i for i in self.items if i.level == "open"]

    def lines(self) -> list[str]:
        out = [f"Disclosure review of export selection {self.key} ({self.records} record(s), k = {self.k}):"]
        if not self.items:
            out.append("  nothing found")
        for item in self.items:
            out.append(f"  {item.level:4}  {item.kind}: {item.message}")
        out.append(f"  {len(self.open_items)} open item(s)")
        return out


def _k(project) -> int:
    return int((project.setting("disclosure") or {}).get("k", DEFAULT_K))


def disclosure_report(project: Project, options: ExportOptions, *,
                      passphrase: Optional[str] = None) -> DisclosureReport:
    """The report for an export with ``options`` (an ``ExportOptions``)."""
    from fieldkit.exchange.exporting import Lookups, selected_records
    from fieldkit.exchange.register import selection, selection_key
    from fieldkit.privacy.consent import release_policy

    k = _k(project)
    policy = release_policy(project)
    lookups = Lookups(project)
    records = [r for r in selected_records(project, options) if not policy.excluded(r)]
    items: list[Item] = []
    people: dict = {}
    sites_of: dict = defaultdict(set)
    no_quotes = 0
    codings_by_record = project.store.coding.of_records([r.id for r in records])
    code_people: dict = defaultdict(set)
    exact_times = 0
    for record in records:
        found = [p for p in lookups.people(record) if p.role not in TEAM_ROLES]
        sites = [lookups.sites[e.site_id].name for e in (lookups.encounters[i] for i in lookups.encounter_ids(record))
                 if e.site_id in lookups.sites]
        for person in found:
            people[person.id] = person
            sites_of[person.id].update(sites)
        codings = [c for c in codings_by_record.get(record.id, ()) if not c.coder.startswith("auto:")]
        if codings and not policy.quotes_allowed(record):
            no_quotes += len(codings)
        speakers = _speakers(project, record, found)
        for coding in codings:
            for person in speakers(coding):
                code_people[(coding.code_id, person.role)].add(person.id)
        if getattr(record, "observed_at", None) is not None and record.observed_precision == "minute":
            exact_times += 1
    items += _small_cells(project, people, sites_of, code_people, lookups, k)
    items += _names_and_candidates(project, [r.id for r in records], passphrase)
    if people:
        roles = Counter(p.role for p in people.values())
        items.append(Item("note", "quasi-identifiers", "roles kept in the export: "
                          + ", ".join(f"{role} ({n})" for role, n in sorted(roles.items()))))
        attributes = sorted({key for p in people.values() for key in p.attributes})
        if attributes:
            items.append(Item("note", "quasi-identifiers", f"participant attributes kept: {', '.join(attributes)}"))
        site_names = sorted({s for names in sites_of.values() for s in names})
        if site_names:
            items.append(Item("note", "quasi-identifiers", f"sites named: {', '.join(site_names)}"))
    coarse = ((project.setting("anonymise") or {}).get("coarsen_dates"))
    if exact_times and not coarse:
        items.append(Item("note", "quasi-identifiers", f"{exact_times} note(s) keep exact times; "
                          "the setting anonymise.coarsen_dates coarsens dates", exact_times))
    if no_quotes:
        items.append(Item("note", "quote consent", f"{no_quotes} coded quote(s) sit in records where someone has no "
                          "quote consent; exports leave them out of quote tables", no_quotes))
    ids = {r.id for r in records}
    pending = [q for q in project.store.lifecycle.quotes() if q["record_id"] in ids and q["status"] == "pending"]
    if pending:
        items.append(Item("note", "member checking", f"{len(pending)} quote(s) shown to participants have no "
                          "response yet", len(pending)))
    return DisclosureReport(selection(options), selection_key(options), k, len(records), tuple(items))


def _speakers(project, record, people: list):
    """Who said the words a coding covers: the speaker of the turn it lies in, when the note
    has speaker turns (``fieldkit.lifecycle.passages.speakers``); else everyone the record is
    about."""
    from fieldkit.lifecycle.passages import speakers

    by_id = {p.id: p for p in people}
    found = [(start, end, by_id.get(pid)) for pid, _label, start, end in speakers(project, record)]

    def of(coding) -> list:
        if coding.start is not None and found:
            return [person for start, end, person in found
                    if person is not None and start <= coding.start and coding.end <= end]
        return people

    return of


def _small_cells(project, people: dict, sites_of: dict, code_people: dict, lookups, k: int) -> list[Item]:
    cells: dict = defaultdict(set)
    wanted = (project.setting("disclosure") or {}).get("attributes")
    for pid, person in people.items():
        for key, value in person.attributes.items():
            if wanted is None or key in wanted:
                cells[(f"attribute {key}", str(value), "")].add(pid)
        for site in sites_of.get(pid, ()):
            cells[("role", person.role, site)].add(pid)
            for key, value in person.attributes.items():
                if wanted is None or key in wanted:
                    cells[(f"attribute {key}", str(value), site)].add(pid)
    out = []
    for (what, value, site), members in sorted(cells.items()):
        if len(members) < k:
            where = f" at {site}" if site else " in the whole export"
            out.append(Item("open", "small cell", f"{what} {value!r}{where}: {len(members)} person(s), below k = {k}",
                            len(members)))
    for (code_id, role), members in sorted(code_people.items(), key=lambda kv: (lookups.code_path(kv[0][0]), kv[0][1])):
        if len(members) < k:
            out.append(Item("open", "small cell", f"code {lookups.code_path(code_id)!r} x role {role!r}: "
                            f"{len(members)} person(s), below k = {k}", len(members)))
    return out


def _names_and_candidates(project, record_ids: list, passphrase) -> list[Item]:
    from fieldkit.privacy.review import candidates

    if not record_ids:
        return []
    found = candidates(project, record_ids, passphrase=passphrase)
    waiting = [c for c in found if c.claimed and c.needs_review]
    unreviewed = [c for c in found if not c.claimed and c.status == "pending"]
    out = []
    if waiting:
        out.append(Item("open", "unresolved names", f"{len(waiting)} name(s) nobody registered or several people "
                        "share wait for a decision (fieldkit keys check; fieldkit anonymise review)", len(waiting)))
    if unreviewed:
        out.append(Item("open", "unreviewed text", f"{len(unreviewed)} stretch(es) of text look identifying and no "
                        "detector claimed them (fieldkit anonymise review)", len(unreviewed)))
    return out


def sign_off(project: Project, report: DisclosureReport, *, accept: Sequence[str] = (),
             note: str = "") -> dict[str, Any]:
    """Record the researcher's sign-off of ``report`` in the audit log.

    Refused while open items remain, unless their kinds are in ``accept`` (e.g. ``small
    cell``) with a ``note`` saying why the risk is acceptable; the sign-off records both."""
    from fieldkit.exchange.register import SIGN_OFF

    accept = tuple(dict.fromkeys(accept))
    unknown = [kind for kind in accept if kind not in OPEN_KINDS]
    if unknown:
        raise InvalidInput(f"cannot accept {unknown[0]!r}; open items are of the kinds {', '.join(OPEN_KINDS)}")
    if accept and not note.strip():
        raise InvalidInput("accepting open items needs a note saying why the risk is acceptable (--note)")
    left = [i for i in report.open_items if i.kind not in accept]
    if left:
        raise Refused(f"the disclosure report has {len(left)} open item(s) "
                      f"({', '.join(sorted({i.kind for i in left}))}); resolve them before signing it off")
    detail = {"selection": report.selection, "data_version": project.store.lifecycle.data_version(),
              "records": report.records, "k": report.k, "notes": len(report.items), "note": note.strip(),
              "accepted": sorted({i.kind for i in report.open_items})}
    with project.transaction():
        project.store.audit(SIGN_OFF, "export-selection", report.key, json.dumps(detail, sort_keys=True))
    return detail
