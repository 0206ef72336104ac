"""What leaves the project: selecting records, applying consent and anonymisation.

Every exporter goes through ``export_items`` so that selection, consent and anonymisation
are decided in one place, never by each exporter on its own.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterator, Optional

import attrs


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
    types: tuple = ("observation", "memo")
    passphrase: Optional[str] = None
    progress: bool = False


@attrs.frozen
class ExportItem:
    """One record ready to leave: ``text`` is the (anonymised) body, ``codings`` sit on that text."""

    record: object
    text: str
    codings: tuple
    quotes_allowed: bool = True


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

    def count(self, what: str, n: int = 1):
        self.counts[what] = self.counts.get(what, 0) + n

    def summary_lines(self) -> list[str]:
        lines = [f"{self.exporter}: wrote {self.dest}" + (" (anonymised)" if self.anonymised else " (NOT anonymised)")]
        for what, n in sorted(self.counts.items()):
            lines.append(f"  {n} {what}")
        reasons: dict = {}
        for item in self.left_out:
            reasons[item.reason] = reasons.get(item.reason, 0) + 1
        for reason, n in sorted(reasons.items()):
            lines.append(f"  left out {n}: {reason}")
        return lines


def _selected(project, options: ExportOptions, type_name: str):
    """Records of one type matching the options, in id order, streamed in pages."""
    where, params = [], []
    if type_name == "observation":
        if options.stages:
            where.append(f"stage in ({','.join('?' * len(options.stages))})")
            params += list(options.stages)
        if options.encounters:
            ids = [project.resolve(e, "encounter") for e in options.encounters]
            where.append(f"encounter_id in ({','.join('?' * len(ids))})")
            params += ids
    for tag in options.tags:
        where.append("exists (select 1 from json_each(tags) where value = ?)")
        params.append(tag.lstrip("#").lower())
    if options.codes:
        from .coding import resolve_code

        ids = [resolve_code(project, c).id for c in options.codes]
        where.append(f"id in (select record_id from codings where deleted_at is null and code_id in ({','.join('?' * len(ids))}))")
        params += ids
    filters = {}
    if options.since:
        filters["since"] = options.since
    if options.until:
        filters["until"] = options.until
    last = ""
    while True:
        page = project.list(type_name, where=" and ".join(where + ["id > ?"]), params=[*params, last],
                            limit=500, **filters)
        if not page:
            return
        yield from page
        last = page[-1].id


def export_items(project, options: ExportOptions, report: ExportReport) -> Iterator[ExportItem]:
    """Stream the records an export may contain, with anonymised text and remapped codings.

    Records a consent rule excludes are recorded in ``report.left_out`` instead.
    """
    policy = _release_policy(project)
    anonymiser = _anonymiser(project, options) if options.anonymise else None
    for type_name in options.types:
        for record in _selected(project, options, type_name):
            reason = policy.excluded(record) if policy else None
            if reason:
                report.left_out.append(LeftOut(record.id, record.type_name, reason))
                continue
            codings = tuple(project.list("coding", where="record_id = ?", params=[record.id], order_by="start, id"))
            text = record.body
            if anonymiser is not None:
                text, codings = anonymiser.apply(record, codings)
            quotes = policy.quotes_allowed(record) if policy else True
            yield ExportItem(record=record, text=text, codings=codings, quotes_allowed=quotes)


def _release_policy(project):
    """Consent rules for what may leave (``fieldkit.consent.release_policy``), if available."""
    from . import consent

    make = getattr(consent, "release_policy", None)
    return make(project) if make else None


def _anonymiser(project, options):
    from .anonymise import anonymiser

    return anonymiser(project, passphrase=options.passphrase)
