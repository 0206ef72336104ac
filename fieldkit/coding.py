"""Codes and codings: the codebook tree and coded segments of text."""

from __future__ import annotations

from typing import Optional

import attrs

from .errors import FieldkitError, NotFound


def code_path(project, code) -> str:
    """The ``parent/child`` path of a code."""
    parts = [code.name]
    seen = {code.id}
    while code.parent_id:
        code = project.get(code.parent_id, type_name="code", include_deleted=True)
        if code.id in seen:
            raise FieldkitError(f"code hierarchy has a cycle at {code.name}")
        seen.add(code.id)
        parts.append(code.name)
    return "/".join(reversed(parts))


def resolve_code(project, ref: str):
    """A code by id, path (``parent/child``) or unique name; raises NotFound."""
    from .convert import from_row
    from .records import Code

    ref = (ref or "").strip()
    rows = list(project.db.query("select * from codes where id = ? and deleted_at is null", [ref]))
    if not rows and "/" not in ref:
        rows = list(project.db.query("select * from codes where name = ? collate nocase and deleted_at is null", [ref]))
    if not rows and "/" in ref:
        parent_id = None
        for part in ref.strip("/").split("/"):
            clause = "parent_id is null" if parent_id is None else "parent_id = ?"
            args = [part] + ([] if parent_id is None else [parent_id])
            found = list(project.db.query(
                f"select * from codes where name = ? collate nocase and {clause} and deleted_at is null", args))
            if not found:
                raise NotFound(f"no code '{ref}' in the codebook")
            rows = found
            parent_id = found[0]["id"]
    if not rows:
        raise NotFound(f"no code '{ref}' in the codebook")
    if len(rows) > 1:
        codes = [from_row(Code, r) for r in rows]
        paths = ", ".join(code_path(project, c) for c in codes)
        raise NotFound(f"code name '{ref}' is ambiguous ({paths}); give its path")
    return from_row(Code, rows[0])


def remap_after_edit(project, old, new) -> list:
    """Move every coding of an edited body onto the new text; flag the ones that cannot follow.

    Runs inside the edit's transaction. Returns the codings that now need review.
    """
    from .offsets import diff_edits, map_span
    codings = project.list("coding", where="record_id = ? and start is not null", params=[old.id])
    if not codings:
        return []
    edits = diff_edits(old.body, new.body)
    review = []
    for coding in codings:
        mapped = map_span(edits, coding.start, coding.end)
        status = "review" if mapped.status == "lost" else coding.status
        changed = attrs.evolve(coding, start=mapped.start, end=mapped.end, status=status)
        if changed == coding:
            continue
        reason = "text edited: coding remapped" + (" (needs review)" if status == "review" else "")
        project.replace(coding, changed, reason)
        if status == "review":
            review.append(changed)
    return review

