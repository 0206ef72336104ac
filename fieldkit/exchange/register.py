"""The export register and the disclosure sign-off: a record of every copy that left the
project, and the check that an export was reviewed (docs/lifecycle.md).

``run_export`` calls :func:`require_sign_off` before an exporter runs (it does nothing unless
the setting ``disclosure.strict`` is on) and :func:`register_copy` after it; backups and
member-check packs are registered too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional, TYPE_CHECKING, Union

from fieldkit.exchange.exporting import ExportOptions, ExportReport

if TYPE_CHECKING:
    import os

    from fieldkit.project import Project


def selection(options: ExportOptions) -> dict:
    """What an export selects, as plain data: the register records it and a sign-off covers it."""
    def when(value):
        return value.isoformat() if value else None

    return {"encounters": sorted(options.encounters), "since": when(options.since), "until": when(options.until),
            "tags": sorted(options.tags), "codes": sorted(options.codes), "stages": sorted(options.stages),
            "types": sorted(options.types), "anonymise": options.anonymise, "profile": options.profile,
            "member_checked_only": options.member_checked_only}


def selection_key(options: ExportOptions) -> str:
    """A short stable name for a selection (the audit log's record id of a sign-off)."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps(selection(options), sort_keys=True).encode()).hexdigest()[:16]


SIGN_OFF = "disclosure-sign-off"


def current_sign_off(project: Project, options: ExportOptions) -> Optional[dict]:
    """The sign-off of this selection, if one was made and nothing has changed since."""
    import json

    found = project.store.lifecycle.latest_audit(SIGN_OFF, selection_key(options))
    if found is None:
        return None
    detail = json.loads(found["detail"])
    return found if detail.get("data_version") == project.store.lifecycle.data_version() else None


def require_sign_off(project: Project, options: ExportOptions) -> None:
    """Under the setting ``disclosure.strict``, refuse an export nobody signed off (unchanged)."""
    from fieldkit.core.errors import Refused

    if not (project.setting("disclosure") or {}).get("strict"):
        return
    if current_sign_off(project, options) is None:
        raise Refused("disclosure.strict is on and this export selection has no current disclosure sign-off; "
                      "run fieldkit disclosure-report with the same selection options and --sign-off")


def register_copy(project: Project, kind: str, format_name: str, dest: Union[str, os.PathLike[str]],
                  options: Optional[ExportOptions], report: Optional[ExportReport] = None, *,
                  participants: Optional[Iterable[str]] = None, profile: Optional[str] = None) -> int:
    """Add a copy that left the project to the export register (see ``fieldkit copies``)."""
    from fieldkit.store.lifecycle import file_digest

    dest = Path(dest)
    if participants is None and report is not None:
        participants = report.participants
        if not participants and not report.anonymised:
            # a raw copy that did not say whose records it holds is taken to hold everyone's
            participants = project.store.consent.codes()
    if profile is None:
        profile = "raw" if options is not None and not options.anonymise else "anonymised"
    with project.transaction():
        return project.store.lifecycle.register(
            kind, format_name, profile, str(dest.resolve()) if dest.exists() else str(dest),
            selection(options) if options is not None else {}, report.counts if report else {},
            report.left_out_by_reason() if report else {},
            sorted(participants or ()),
            file_digest(dest) if dest.exists() else "")
