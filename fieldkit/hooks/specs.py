"""Hook specifications: every way a plugin can extend fieldkit.

Registration hooks receive a ``register`` callback so one hook can add many things.
Each spec's docstring is a one-line summary and one ``:param:`` line per argument; both
appear in ``docs/plugins/hooks.md`` (``tests/test_docs_drift.py`` checks they agree).
Every hook is called through pluggy (``pm.hook.<name>(...)``), so ``@hookimpl(wrapper=True)``
and ``@hookimpl(hookwrapper=True)`` implementations work as pluggy documents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional, Sequence

from pluggy import HookimplMarker, HookspecMarker

if TYPE_CHECKING:  # annotations only: importing these here would slow every start
    import click

    from fieldkit.core.records import Record
    from fieldkit.hooks.registry import Codebook, Coder, Detector, Exporter, Importer
    from fieldkit.project import Project

hookspec = HookspecMarker("fieldkit")
hookimpl = HookimplMarker("fieldkit")


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the ``fieldkit`` command line.

    :param cli: the root ``fieldkit`` group; sub-groups such as ``participant`` are ``cli.commands[NAME]``
    """


@hookspec
def register_exporters(register: Callable[[Exporter], None]) -> None:
    """Register exporters: call ``register(fieldkit.hooks.registry.Exporter(...))`` for each.

    :param register: call once per exporter
    """


@hookspec
def register_importers(register: Callable[[Importer], None]) -> None:
    """Register importers: call ``register(fieldkit.hooks.registry.Importer(...))`` for each.

    :param register: call once per importer
    """


@hookspec
def register_detectors(register: Callable[[Detector], None]) -> None:
    """Register anonymisation detectors: call ``register(fieldkit.hooks.registry.Detector(...))``.

    :param register: call once per detector
    """


@hookspec
def register_coders(register: Callable[[Coder], None]) -> None:
    """Register auto-coders: call ``register(fieldkit.hooks.registry.Coder(...))`` for each.

    :param register: call once per auto-coder
    """


@hookspec
def register_codebooks(register: Callable[[Codebook], None]) -> None:
    """Register named codebooks: call ``register(fieldkit.hooks.registry.Codebook(...))`` for each.

    :param register: call once per codebook
    """


@hookspec
def record_saved(project: Project, record: Record) -> None:
    """Called after a record is written (inside its transaction); raise to undo the write.

    :param project: the open project the record was written to
    :param record: the record as stored
    """


@hookspec
def validate_record(project: Project, record: Record) -> Optional[list[str]]:
    """Check a record about to be saved: return warnings, or raise ``Refused`` to stop the save.

    :param project: the open project the record is about to be written to
    :param record: the record as it will be stored
    """


@hookspec
def capture_record(project: Project, record: Record) -> Optional[dict]:
    """Pseudonymise a record as it is captured: return ``{field: new value}`` for the fields to change.

    :param project: the open project whose setting ``pseudonymise_on_capture`` is on
    :param record: the record about to be stored (added, imported or edited)
    """


@hookspec
def register_migrations(register: Callable[[str, Sequence[tuple[str, Sequence[str]]]], None]) -> None:
    """Register migrations for a plugin's own tables: ``register(set_name, [(name, [sql, ...]), ...])``.

    :param register: call it with your migration set's name and its migrations, oldest first: each a name and its SQL statements
    """
