"""Errors a user can cause. The CLI prints their message as one line and exits 1.

Library functions raise only these for problems a user (or a script's input) can cause;
anything else that escapes is a bug in fieldkit or a plugin, and the CLI reports it as an
internal error (see ``docs/reliability.md``).
"""

from __future__ import annotations

from typing import Optional


class FieldkitError(Exception):
    """Base class: the message is a complete sentence a user can act on."""


class ProjectNotFound(FieldkitError):
    """No project at the given path, in ``FIELDKIT_PROJECT`` or in a folder above."""


class NotFound(FieldkitError):
    """A record, code, participant, file or format that was asked for does not exist."""


class InvalidInput(FieldkitError, ValueError):
    """A value a user gave (an argument, a setting, a file's content) is not acceptable.

    Also a ``ValueError``, so code that validated with ``except ValueError`` keeps working.
    """


class Refused(FieldkitError):
    """The operation would break a rule (editing a jotting, overwriting a file …)."""


class MissingExtra(FieldkitError):
    """An optional dependency is not installed; the message names the pip extra to add."""


class PluginError(FieldkitError):
    """A plugin failed; the message names the plugin and the hook.

    ``plugin`` and ``hook`` hold the names when they are known.
    """

    def __init__(self, message: str, *, plugin: Optional[str] = None, hook: Optional[str] = None) -> None:
        super().__init__(message)
        self.plugin = plugin
        self.hook = hook


class PluginRefused(PluginError, Refused):
    """A plugin stopped an operation on purpose by raising :class:`Refused` in a hook."""
