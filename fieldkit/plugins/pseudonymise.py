"""Pseudonymisation on capture: with the project setting ``pseudonymise_on_capture``, every
record stored (added, imported, edited) has the registered names in its body and in every
free-text field replaced before it reaches the database (``fieldkit.privacy.anonymiser``)."""

from __future__ import annotations

from typing import Optional, TYPE_CHECKING

from fieldkit.hooks.specs import hookimpl

if TYPE_CHECKING:
    from fieldkit.core.records import Record
    from fieldkit.project import Project


@hookimpl
def capture_record(project: Project, record: Record) -> Optional[dict]:
    from fieldkit.privacy.anonymiser import capturer

    return capturer(project).changes(record)
