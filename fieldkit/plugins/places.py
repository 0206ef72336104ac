"""The ``places`` detector: names of prisons, approved premises, courts, probation offices,
PDUs, local authorities and other organisations, from a user-editable list.

The detector itself is in ``fieldkit.privacy.places``, imported when the hook is called:
every command loads the plugins, few of them detect anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from fieldkit.hooks.specs import hookimpl

if TYPE_CHECKING:
    from fieldkit.hooks.registry import Detector


@hookimpl
def register_detectors(register: Callable[["Detector"], None]) -> None:
    """Register the place-list detector."""
    from fieldkit.privacy.places import DETECTOR

    register(DETECTOR)
