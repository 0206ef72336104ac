"""Errors a user can cause. The CLI prints their message as one line and exits non-zero."""


class FieldkitError(Exception):
    """Base class: the message is a complete sentence a user can act on."""


class ProjectNotFound(FieldkitError):
    pass


class NotFound(FieldkitError):
    pass


class Refused(FieldkitError):
    """The operation would break a rule (editing a jotting, overwriting a file …)."""


class MissingExtra(FieldkitError):
    """An optional dependency is not installed; the message names the pip extra to add."""


class PluginError(FieldkitError):
    """A plugin failed; the message names the plugin and the hook."""
