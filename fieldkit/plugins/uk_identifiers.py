"""Built-in detectors for identifiers found in UK criminal-justice fieldnotes (``uk.nino``,
``uk.nhs``, ``uk.postcode`` … one per kind).

The detectors themselves are in ``fieldkit.privacy.uk_identifiers``, imported when the hook
is called: every command loads the plugins, few of them detect anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from fieldkit.hooks.specs import hookimpl

if TYPE_CHECKING:
    from fieldkit.hooks.registry import Detector


@hookimpl
def register_detectors(register: Callable[["Detector"], None]) -> None:
    """Register the UK identifier detectors."""
    from fieldkit.privacy.uk_identifiers import DETECTORS

    for detector in DETECTORS:
        register(detector)
