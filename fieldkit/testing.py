"""Helpers for testing fieldkit plugins, and a pytest plugin that provides them as fixtures.

fieldkit installs this module as a pytest plugin (entry point group ``pytest11``), so in any
environment where fieldkit is installed these fixtures are available without imports:

``fieldkit_plugin``
    A function ``register(plugin, name=None, *, isolated=True)`` that registers a plugin
    (a module, a class instance or any object with ``@hookimpl`` functions) for the current
    test only. Afterwards the plugin is removed, commands it added to the CLI are taken away
    and the plugin manager is rebuilt, so nothing leaks into the next test.
``fieldkit_project``
    A fresh, empty project in ``tmp_path`` (closed after the test).
``fieldkit_cli``
    A function ``invoke(*args, project=None, input=None)`` running the ``fieldkit`` command
    line in-process with click's ``CliRunner`` and returning its ``Result``.

Outside pytest, :func:`register_plugin` is a context manager doing the same as the
``fieldkit_plugin`` fixture.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional

if TYPE_CHECKING:
    import click.testing
    import pluggy

try:  # only the fixtures need pytest; the helpers work without it
    import pytest
except ImportError:  # pragma: no cover - pytest is how this module is normally loaded
    pytest = None

__all__ = ["register_plugin", "invoke_cli", "fieldkit_plugin", "fieldkit_project", "fieldkit_cli"]

_ENV = "FIELDKIT_LOAD_PLUGINS"


def _snapshot_cli() -> list:
    """The commands of every group in the CLI, so they can be put back exactly."""
    from fieldkit.cli.groups import snapshot
    from fieldkit.cli.main import cli

    return snapshot(cli)


def _restore_cli(saved: list) -> None:
    """Put the commands back and let the next use of the CLI ask the (new) plugins again."""
    from fieldkit.cli.groups import forget_plugin_commands, restore
    from fieldkit.cli.main import cli

    restore(saved)
    forget_plugin_commands(cli)


@contextlib.contextmanager
def register_plugin(plugin: object, name: Optional[str] = None, *,
                    isolated: bool = True) -> Iterator["pluggy.PluginManager"]:
    """Register ``plugin`` with fieldkit for the duration of a ``with`` block.

    ``name`` defaults to the module name or class name. With ``isolated`` (the default), no
    installed entry-point plugin is loaded alongside it — only fieldkit's built-ins and
    ``plugin`` — so a test passes the same whether or not the plugin under test (or any
    other) is also installed. Pass ``isolated=False`` to keep installed plugins.

    Yields the pluggy plugin manager. On exit the plugin is unregistered, commands it added
    are removed and the plugin manager is rebuilt on next use.
    """
    from fieldkit.hooks import manager as plugin_manager

    if name is None:
        name = getattr(plugin, "__name__", None) or type(plugin).__name__
    old_env = os.environ.get(_ENV)
    snapshot = _snapshot_cli()
    if isolated:
        os.environ[_ENV] = ""
    plugin_manager.reset()
    try:
        pm = plugin_manager.get_plugin_manager()
        if pm.has_plugin(name):
            from fieldkit.core.errors import PluginError

            raise PluginError(f"a plugin named {name!r} is already registered; pass another name")
        pm.register(plugin, name=name)
        _restore_cli(snapshot)  # forget which groups already asked plugins for commands
        yield pm
    finally:
        if old_env is None:
            os.environ.pop(_ENV, None)
        else:
            os.environ[_ENV] = old_env
        plugin_manager.reset()
        _restore_cli(snapshot)


def invoke_cli(*args: Any, project: Any = None, input: Optional[str] = None,
               catch_exceptions: bool = False) -> "click.testing.Result":
    """Run ``fieldkit [--project PROJECT] ARGS`` in-process; returns click's ``Result``."""
    from click.testing import CliRunner

    from fieldkit.cli import cli

    argv = [str(a) for a in args]
    if project is not None:
        argv = ["--project", str(getattr(project, "path", project)), *argv]
    return CliRunner().invoke(cli, argv, input=input, catch_exceptions=catch_exceptions)


if pytest is not None:

    @pytest.fixture
    def fieldkit_plugin() -> Iterator[Callable[..., Any]]:
        """Register plugins for one test: ``fieldkit_plugin(plugin, name=None, isolated=True)``."""
        with contextlib.ExitStack() as stack:
            registered = []

            def register(plugin: object, name: Optional[str] = None, *, isolated: bool = True) -> Any:
                if registered:
                    # a second plugin joins the first, on the same plugin manager
                    from fieldkit.hooks import manager as plugin_manager

                    pm = plugin_manager.get_plugin_manager()
                    pm.register(plugin, name=name or getattr(plugin, "__name__", None) or type(plugin).__name__)
                    from fieldkit.cli.groups import forget_plugin_commands
                    from fieldkit.cli.main import cli

                    forget_plugin_commands(cli)
                    registered.append(plugin)
                    return pm
                pm = stack.enter_context(register_plugin(plugin, name, isolated=isolated))
                registered.append(plugin)
                return pm

            yield register

    @pytest.fixture
    def fieldkit_project(tmp_path: Any) -> Iterator[Any]:
        """A new, empty fieldkit project in ``tmp_path / "project"``."""
        from fieldkit.project import init

        project = init(tmp_path / "project")
        try:
            yield project
        finally:
            project.close()

    @pytest.fixture
    def fieldkit_cli() -> Callable[..., Any]:
        """``invoke(*args, project=None, input=None)``: run the CLI in-process."""
        return invoke_cli
