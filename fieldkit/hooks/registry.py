"""The things plugins register: exporters, importers, detectors, coders and codebooks.

Each is a small frozen record holding a name, a one-line description and the callable
that does the work, so the core can list them (``fieldkit plugins``) without calling them.
"""

from __future__ import annotations

from typing import Any, Callable

import attrs


@attrs.frozen
class Exporter:
    """Writes (part of) a project to ``dest``.

    ``export(project, dest, options)`` returns an ``ExportReport`` (or a dict) saying what was
    written and what was left out. ``options`` is an ``ExportOptions``.
    """

    name: str
    export: Callable[..., Any]
    description: str = ""
    suffix: str = ""


@attrs.frozen
class Importer:
    """Reads ``source`` into a project: ``load(project, source, options)`` returns a report."""

    name: str
    load: Callable[..., Any]
    description: str = ""
    suffix: str = ""


@attrs.frozen
class Detector:
    """Finds identifying spans: ``detect(text, context)`` yields ``fieldkit.privacy.spans.Span``.

    ``context`` is a ``DetectContext`` (key store entries, place lists, configuration).
    """

    name: str
    detect: Callable[..., Any]
    description: str = ""


@attrs.frozen
class Coder:
    """Proposes codings: ``propose(project, record, codes)`` yields ``Proposal`` records."""

    name: str
    propose: Callable[..., Any]
    description: str = ""


@attrs.frozen
class Codebook:
    """A named codebook a project can load: ``load()`` returns codebook data (see docs/coding.md)."""

    name: str
    load: Callable[[], Any]
    description: str = ""
