"""REFI-QDA exchange: ``.qdpx`` projects and ``.qdc`` codebooks for NVivo, ATLAS.ti, MAXQDA, QualCoder.

The public functions here are what the ``qdpx`` and ``qdc`` exporters and importers call
(``fieldkit/plugins/refi_qda.py`` registers them); scripts can call them directly::

    from fieldkit.exchange.exporting import ExportOptions
    from fieldkit.exchange import refi

    refi.export_qdpx(project, Path("out.qdpx"), ExportOptions())
    report = refi.import_qdpx(other_project, Path("from-nvivo.qdpx"))

Modules: ``project_xml`` writes a ``.qdpx``, ``codebook_xml`` writes and reads codes
(``.qdc`` and the codebook inside a project), ``reader`` reads a ``.qdpx`` safely and
loads it into a project. ``docs/refi-qda.md`` describes the mapping.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any, Callable, Optional, TYPE_CHECKING, Union

if TYPE_CHECKING:
    import os

    from fieldkit.exchange.exporting import ExportOptions, ExportReport
    from fieldkit.exchange.importing import ImportOptions, ImportReport
    from fieldkit.project import Project

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"

#: GUIDs for things without a stored id (users, variables, links, the ``Coding`` inside a
#: selection) are uuid5 values in this fixed namespace, so they are the same every export
GUID_NAMESPACE = uuid.UUID("ddead579-29d0-5d8f-90c4-c992c2f09cc1")

#: the ``origin`` attribute fieldkit writes; an import trusts fieldkit's own conventions
#: (GUIDs that are record ids, variables it wrote) only when the origin starts with "fieldkit"
ORIGIN_PREFIX = "fieldkit"

WHOLE_RECORD = "whole record"  # name of a selection that stands for a whole-record coding

_GUID = re.compile(r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$")


def origin() -> str:
    from fieldkit import __version__

    return f"{ORIGIN_PREFIX} {__version__}"


def is_fieldkit_origin(value: Optional[str]) -> bool:
    return (value or "").strip().lower().startswith(ORIGIN_PREFIX)


# Crockford base 32 (ULID digits; not I L O U) onto the digits int(..., 32) reads, as a table
# for bytes.translate (far quicker than str.translate): any other byte becomes "z", which
# int(..., 32) refuses.
_ULID_DIGITS = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD = bytes(b"0123456789abcdefghijklmnopqrstuv"[_ULID_DIGITS.index(c)] if c in _ULID_DIGITS else ord("z")
                   for c in range(256))
_NAMESPACE_BYTES = GUID_NAMESPACE.bytes


def record_guid(record_id: str) -> str:
    """The GUID of a stored record: its ULID as a UUID, so a record keeps its GUID in every export.

    Same value as ``fieldkit.core.ids.to_guid``, computed without building ULID and UUID objects
    (exports call this for every source and coding).
    """
    if len(record_id) == 26 and record_id.isascii():
        try:
            n = int(record_id.encode("ascii").translate(_CROCKFORD), 32)
        except ValueError:  # not all ULID digits
            n = 1 << 128
        if n < 1 << 128:  # 26 digits hold 130 bits; a ULID starts with 0-7
            h = f"{n:032x}"
            return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return derived_guid("id", record_id)  # ids made outside fieldkit that are not ULIDs


def derived_guid(kind: str, key: str) -> str:
    """A stable GUID for something without a stored id (a user, a variable, a link).

    The RFC 4122 version-5 UUID of ``kind:key`` in ``GUID_NAMESPACE`` (``uuid.uuid5``'s value).
    """
    return guid_maker(kind)(key)


# a version-5 UUID is the SHA-1 digest with the version digit set to 5 and the top two bits
# of the variant digit to 10 (RFC 4122): done on the hex digits, which is quicker in Python
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def guid_maker(kind: str) -> Callable[[str], str]:
    """``derived_guid`` of one ``kind`` as a function of the key, for exports that make many."""
    import hashlib

    sha1 = hashlib.sha1
    prefix = _NAMESPACE_BYTES + f"{kind}:".encode("utf-8")
    variant = _VARIANT

    def guid(key: str) -> str:
        h = sha1(prefix + key.encode("utf-8")).hexdigest()
        return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{variant[h[16]]}{h[17:20]}-{h[20:32]}"

    return guid


def any_id(value: Optional[str]) -> Optional[str]:
    """A GUID from any tool's id: a GUID cleaned as ``clean_guid``; another non-empty id (OpenQDA
    writes its own database ids) mapped to a fixed GUID of it; None when empty."""
    guid = clean_guid(value)
    if guid is None and value is not None and value.strip():
        guid = derived_guid("foreign id", value.strip())
    return guid


def clean_guid(value: Optional[str]) -> Optional[str]:
    """A GUID as written by any tool (braces, upper case) in lower-case 8-4-4-4-12 form, or None."""
    match = _GUID.match((value or "").strip())
    return match.group(1).lower() if match else None


def export_qdpx(project: Project, dest: Union[str, os.PathLike[str]], options: Optional[ExportOptions] = None, *,
                force: bool = False) -> ExportReport:
    """Write a REFI-QDA project (``.qdpx``) to ``dest``; returns an ``ExportReport``."""
    from fieldkit.exchange.refi.project_xml import export_qdpx as run

    return run(project, Path(dest), options, force=force)


def export_qdc(project: Project, dest: Union[str, os.PathLike[str]], options: Optional[ExportOptions] = None, *,
               force: bool = False) -> ExportReport:
    """Write the project's codebook as a REFI-QDA codebook (``.qdc``) to ``dest``."""
    from fieldkit.exchange.refi.codebook_xml import export_qdc as run

    return run(project, Path(dest), options, force=force)


def import_qdpx(project: Project, source: Union[str, os.PathLike[str]],
                options: Union[ImportOptions, dict[str, Any], None] = None) -> ImportReport:
    """Read a ``.qdpx`` (from fieldkit or another tool) into ``project`` in one transaction.

    Returns a ``fieldkit.exchange.importing.ImportReport``; ``options`` is a ``fieldkit.exchange.importing.ImportOptions``
    (``dry_run``, ``stage``, ``tags``, ``encounter``; ``extra={"crlf": "one"}`` when the file counts
    a CRLF line end as one character), a dict of the same names, or None.
    """
    from fieldkit.exchange.refi.reader import import_qdpx as run

    return run(project, Path(source), options)


def import_qdc(project: Project, source: Union[str, os.PathLike[str]],
               options: Union[ImportOptions, dict[str, Any], None] = None) -> ImportReport:
    """Add the codes of a REFI-QDA codebook (``.qdc``) to ``project`` in one transaction."""
    from fieldkit.exchange.refi.codebook_xml import import_qdc as run

    return run(project, Path(source), options)
