"""Regular expressions compiled on first use.

Compiling a module's patterns at import costs every command, even one that never uses
them (a quick jot stamped "now" parses no time and detects nothing)."""

from __future__ import annotations

import re


class LazyPattern:
    """Stands in for ``re.compile(pattern, flags)``, compiling it the first time it is used."""

    __slots__ = ("_args", "_compiled")

    def __init__(self, pattern: str, flags: int = 0):
        self._args = (pattern, flags)
        self._compiled = None

    def __getattr__(self, name):
        # only reached for the pattern's own attributes (match, sub, pattern, ...)
        if self._compiled is None:
            self._compiled = re.compile(*self._args)
        return getattr(self._compiled, name)

    def __repr__(self):
        return f"LazyPattern({self._args[0]!r})"


def lazy(pattern: str, flags: int = 0) -> LazyPattern:
    return LazyPattern(pattern, flags)
