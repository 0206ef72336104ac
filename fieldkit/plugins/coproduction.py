"""Built-in codebook ``coproduction``: co-produced probation inspection.

The codebook itself is ``fieldkit/plugins/data/coproduction.yaml`` (a copy for editing is
``examples/codebook-coproduction.yaml``). It is registered through the same
``register_codebooks`` hook a third-party plugin would use.
"""

from __future__ import annotations

import functools
from typing import Callable, TYPE_CHECKING

from fieldkit.hooks.specs import hookimpl

if TYPE_CHECKING:
    from fieldkit.hooks.registry import Codebook

NAME = "coproduction"
DATA_FILE = "coproduction.yaml"
DESCRIPTION = (
    "Co-produced probation inspection: discourses, challenges, experiences and impacts "
    "of involving people on probation (experts by experience) in inspection"
)


def codebook_text() -> str:
    """The YAML text of the built-in codebook, read from the installed package data."""
    from importlib import resources

    return (resources.files("fieldkit.plugins") / "data" / DATA_FILE).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def load():
    """Parse the built-in codebook (once; the result is immutable) into ``CodebookData``."""
    from fieldkit.coding.codebook_file import load_codebook

    return load_codebook(codebook_text(), source=f"fieldkit:{NAME}", fmt="yaml")


@hookimpl
def register_codebooks(register: Callable[[Codebook], None]) -> None:
    """Register the ``coproduction`` codebook."""
    from fieldkit.hooks.registry import Codebook

    register(Codebook(name=NAME, load=load, description=DESCRIPTION))
