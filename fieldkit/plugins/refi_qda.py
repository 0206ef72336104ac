"""REFI-QDA exchange (NVivo, ATLAS.ti, MAXQDA, QualCoder): ``qdpx`` and ``qdc`` exporters and importers.

Registered like any third-party plugin; the work is done in ``fieldkit.exchange.refi``, imported only
when an export or import runs.
"""

from __future__ import annotations

from typing import Callable, TYPE_CHECKING

from fieldkit.hooks.specs import hookimpl

if TYPE_CHECKING:
    from fieldkit.hooks.registry import Exporter, Importer


def _export_qdpx(project, dest, options=None, *, force=False):
    from fieldkit.exchange.refi import export_qdpx

    return export_qdpx(project, dest, options, force=force)


def _export_qdc(project, dest, options=None, *, force=False):
    from fieldkit.exchange.refi import export_qdc

    return export_qdc(project, dest, options, force=force)


def _import_qdpx(project, source, options=None):
    from fieldkit.exchange.refi import import_qdpx

    return import_qdpx(project, source, options)


def _import_qdc(project, source, options=None):
    from fieldkit.exchange.refi import import_qdc

    return import_qdc(project, source, options)


@hookimpl
def register_exporters(register: Callable[[Exporter], None]) -> None:
    """REFI-QDA project (.qdpx) and codebook (.qdc) exporters."""
    from fieldkit.hooks.registry import Exporter

    register(Exporter("qdpx", _export_qdpx, "REFI-QDA project for NVivo, ATLAS.ti, MAXQDA and QualCoder", ".qdpx"))
    register(Exporter("qdc", _export_qdc, "REFI-QDA codebook (codes, hierarchy, colours, descriptions)", ".qdc"))


@hookimpl
def register_importers(register: Callable[[Importer], None]) -> None:
    """REFI-QDA project (.qdpx) and codebook (.qdc) importers."""
    from fieldkit.hooks.registry import Importer

    register(Importer("qdpx", _import_qdpx, "REFI-QDA project from fieldkit or another QDA tool", ".qdpx"))
    register(Importer("qdc", _import_qdc, "REFI-QDA codebook: adds its codes to the codebook", ".qdc"))
