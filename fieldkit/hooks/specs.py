"""Hook specifications: every way a plugin can extend fieldkit.

Registration hooks receive a ``register`` callback so one hook can add many things.
Each spec's one-line docstring is its summary in ``docs/plugins/hooks.md``.
"""

from __future__ import annotations

from pluggy import HookimplMarker, HookspecMarker

hookspec = HookspecMarker("fieldkit")
hookimpl = HookimplMarker("fieldkit")


@hookspec
def register_commands(cli):
    """Add click commands or groups to the ``fieldkit`` command line."""


@hookspec
def register_exporters(register):
    """Register exporters: call ``register(fieldkit.hooks.registry.Exporter(...))`` for each."""


@hookspec
def register_importers(register):
    """Register importers: call ``register(fieldkit.hooks.registry.Importer(...))`` for each."""


@hookspec
def register_detectors(register):
    """Register anonymisation detectors: call ``register(fieldkit.hooks.registry.Detector(...))``."""


@hookspec
def register_coders(register):
    """Register auto-coders: call ``register(fieldkit.hooks.registry.Coder(...))`` for each."""


@hookspec
def register_codebooks(register):
    """Register named codebooks: call ``register(fieldkit.hooks.registry.Codebook(...))`` for each."""


@hookspec
def record_saved(project, record):
    """Called after a record is written (inside its transaction); raise to undo the write."""


@hookspec
def validate_record(project, record):
    """Return a list of problem strings about a record about to be saved (warnings, not errors)."""


@hookspec
def register_migrations(register):
    """Register migrations for a plugin's own tables: ``register(set_name, [(name, [sql, ...]), ...])``."""
