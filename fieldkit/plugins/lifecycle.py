"""The archive deposit (``fieldkit export deposit``), registered like any export format."""

from __future__ import annotations

from typing import Callable, TYPE_CHECKING

from fieldkit.hooks.specs import hookimpl

if TYPE_CHECKING:
    from fieldkit.hooks.registry import Exporter


def _deposit(project, dest, options):  # imported only when a deposit is made
    from fieldkit.lifecycle.deposit import export

    return export(project, dest, options)


@hookimpl
def register_exporters(register: Callable[[Exporter], None]) -> None:
    """A package for the UK Data Service's ReShare: data list, data, codebook, checksums."""
    from fieldkit.hooks.registry import Exporter

    register(Exporter("deposit", _deposit,
                      "Archive deposit for UK Data Service ReShare: anonymised, archive consent only, checksummed"))
