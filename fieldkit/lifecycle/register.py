"""The export register: every copy of the project's words that left it.

Exports (``fieldkit.exchange.exporting.run_export``), backups and member-check packs add a
row each: when, who, the format and profile (anonymised or raw), the selection, what was
left out, whose records went in, and the sha256 of what was written. ``copies`` answers
"where are all copies of P03's words?".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, TYPE_CHECKING

if TYPE_CHECKING:
    from fieldkit.project import Project


def copies(project: Project, participant: Optional[str] = None) -> list[dict[str, Any]]:
    """Register rows (holding ``participant``'s words, if given), oldest first, each with a
    ``state``: ``present`` (the file's checksum still matches), ``changed`` or ``gone``."""
    from fieldkit.store.lifecycle import file_digest

    pid = project.resolve(participant, "participant") if participant else None
    rows = project.store.lifecycle.copies(pid)
    for row in rows:
        dest = Path(row["dest"])
        if not dest.exists():
            row["state"] = "gone"
        else:
            row["state"] = "present" if file_digest(dest) == row["sha256"] else "changed"
    return rows
