"""Warns when a note mentions or links to a participant who has not given consent to be observed."""

from __future__ import annotations

from typing import Optional, TYPE_CHECKING

from fieldkit.hooks.specs import hookimpl

if TYPE_CHECKING:
    from fieldkit.core.records import Record
    from fieldkit.project import Project


@hookimpl
def validate_record(project: Project, record: Record) -> Optional[list[str]]:
    """Warn about ``@P03`` mentions of participants without current observation consent, and
    about participants a note is linked to (``fieldkit edit NOTE --with P03``)."""
    mentions = getattr(record, "mentions", ())
    if getattr(record, "type_name", None) == "observation" and record.links:  # a memo's links name any record
        mentions = (*mentions, *record.links)
    if not mentions:
        return []  # most records: no import, no query (bulk imports call this per record)
    from fieldkit.privacy.consent import current_consent

    problems = []
    seen = set()
    for ref in mentions:
        consent = current_consent(project, ref)
        if consent is None or consent.participant_id in seen:
            continue  # not a participant code (a site, a person not yet registered), or said already
        seen.add(consent.participant_id)
        code = consent.code if ref == consent.participant_id else ref  # a link is an id: name its code
        if consent.status == "withdrawn":
            problems.append(f"@{code} has withdrawn consent; this note should not describe them")
        elif consent.status == "none":
            problems.append(f"@{code} has no recorded consent")
        elif "observation" not in consent.scopes:
            problems.append(f"@{code} has not consented to observation")
    return problems
