"""Warns when a note mentions a participant who has not given consent to be observed."""

from fieldkit.hooks.specs import hookimpl


@hookimpl
def validate_record(project, record):
    """Warn about ``@P03`` mentions of participants without current observation consent."""
    mentions = getattr(record, "mentions", ())
    if not mentions:
        return []  # most records: no import, no query (bulk imports call this per record)
    from fieldkit.privacy.consent import current_consent

    problems = []
    for code in mentions:
        consent = current_consent(project, code)
        if consent is None:
            continue  # not a participant code (a site, a person not yet registered)
        if consent.status == "withdrawn":
            problems.append(f"@{code} has withdrawn consent; this note should not describe them")
        elif consent.status == "none":
            problems.append(f"@{code} has no recorded consent")
        elif "observation" not in consent.scopes:
            problems.append(f"@{code} has not consented to observation")
    return problems
