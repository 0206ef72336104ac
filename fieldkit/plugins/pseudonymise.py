"""Pseudonymisation on capture: with the project setting ``pseudonymise_on_capture``, every
record stored (added, imported, edited) has the registered names in its body and in every
free-text field replaced before it reaches the database (``fieldkit.privacy.anonymiser``)."""

from fieldkit.hooks.specs import hookimpl


@hookimpl
def capture_record(project, record):
    from fieldkit.privacy.anonymiser import capturer

    return capturer(project).changes(record)
