"""FIELDKIT_TRACE_PLUGINS=1: every hook call prints its plugin and its result to stderr."""

import inspect

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldkit.fieldwork import capture

from fieldkit.hooks import specs as hookspecs

from fieldkit.hooks import manager as plugin_manager
from fieldkit.core.errors import PluginError
from fieldkit.hooks.specs import hookimpl
from fieldkit.hooks.registry import Codebook, Coder, Detector, Exporter, Importer
from fieldkit.testing import register_plugin

SPECS = sorted(name for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(f, "fieldkit_spec"))


class Tracer:
    """Implements every hook, returning something recognisable from each."""

    @hookimpl
    def register_commands(self, cli):
        @cli.command("tracer-cmd")
        def tracer_cmd():
            """A command from the tracer."""

    @hookimpl
    def register_exporters(self, register):
        register(Exporter("tracer-exp", lambda project, dest, options: None))

    @hookimpl
    def register_importers(self, register):
        register(Importer("tracer-imp", lambda project, source, options: None))

    @hookimpl
    def register_detectors(self, register):
        register(Detector("tracer-det", lambda text, context=None: ()))

    @hookimpl
    def register_coders(self, register):
        register(Coder("tracer-coder", lambda project, record, codes: ()))

    @hookimpl
    def register_codebooks(self, register):
        register(Codebook("tracer-book", lambda: {"name": "tracer-book", "codes": []}))

    @hookimpl
    def record_saved(self, project, record):
        return "saved-marker"

    @hookimpl
    def register_migrations(self, register):
        register("tracer", [("0001_tracer", ["CREATE TABLE tracer_marks (id INTEGER PRIMARY KEY)"])])

    @hookimpl
    def validate_record(self, project, record):
        return ["validated-marker"]

    @hookimpl
    def capture_record(self, project, record):
        return {}  # nothing to change


def _commands(project):
    from fieldkit.cli import cli

    cli.list_commands(click.Context(cli))


def _saved(project):
    capture.jot(project, "a traced jotting")


def _captured(project):
    from fieldkit.privacy.anonymiser import create_keystore, keystore_path

    if keystore_path(project) is None:
        create_keystore(project, project.path.parent / "trace.keys").close()
    project.set_setting("pseudonymise_on_capture", True)
    capture.jot(project, "a traced jotting")


def _opened(project):
    import fieldkit

    fieldkit.open(project.path).close()


#: how each hook is reached in normal use, and what the tracer's result looks like in the trace:
#: a registration hook is traced per plugin with the names it registered; any other hook once
#: per call, with its plugins in call order and pluggy's result (every non-None answer)
EXERCISE = {
    "register_commands": (_commands, "[]"),
    "register_exporters": (lambda p: plugin_manager.exporters(), "['tracer-exp']"),
    "register_importers": (lambda p: plugin_manager.importers(), "['tracer-imp']"),
    "register_detectors": (lambda p: plugin_manager.detectors(), "['tracer-det']"),
    "register_coders": (lambda p: plugin_manager.coders(), "['tracer-coder']"),
    "register_codebooks": (lambda p: plugin_manager.codebooks(), "['tracer-book']"),
    "record_saved": (_saved, "['saved-marker']"),
    "register_migrations": (_opened, "[]"),
    "validate_record": (_saved, "[['validated-marker'], []]"),
    "capture_record": (_captured, "[{}, {}]"),
}


def _trace_lines(err: str, hook: str) -> list[tuple[list[str], str]]:
    """``(plugins, result)`` of each trace line of ``hook``."""
    lines = []
    for line in err.splitlines():
        prefix = f"fieldkit trace: {hook} <- "
        if line.startswith(prefix):
            plugins, _, result = line[len(prefix):].partition(": ")
            lines.append((plugins.split(", "), result))
    return lines


def _call_order(hook: str) -> list[str]:
    pm = plugin_manager.get_plugin_manager()
    return [impl.plugin_name for impl in reversed(getattr(pm.hook, hook).get_hookimpls())]


def test_every_hook_has_a_trace_test():
    assert sorted(EXERCISE) == SPECS


@pytest.mark.parametrize("hook", SPECS)
def test_each_hook_call_is_traced(hook, project, monkeypatch, capsys):
    monkeypatch.setenv("FIELDKIT_TRACE_PLUGINS", "1")
    plugin_manager.reset()  # the manager reads FIELDKIT_* when it is made
    exercise, shown = EXERCISE[hook]
    with register_plugin(Tracer(), "tracer"):
        capsys.readouterr()
        exercise(project)
        order = _call_order(hook)
    lines = _trace_lines(capsys.readouterr().err, hook)
    if hook.startswith("register_") and hook not in ("register_commands", "register_migrations"):
        assert (["tracer"], shown) in lines
    else:
        assert (order, shown) in lines and order[0] == "tracer"


@pytest.mark.parametrize("hook", SPECS)
def test_builtins_are_traced_too(hook, project, monkeypatch, capsys):
    """Every implementation is traced, not only third-party ones."""
    monkeypatch.setenv("FIELDKIT_TRACE_PLUGINS", "1")
    plugin_manager.reset()  # the manager reads FIELDKIT_* when it is made
    exercise, _ = EXERCISE[hook]
    exercise(project)
    traced = {plugin for plugins, _ in _trace_lines(capsys.readouterr().err, hook) for plugin in plugins}
    assert set(_call_order(hook)) <= traced


def test_silent_without_the_variable(project, capsys):
    with register_plugin(Tracer(), "tracer"):
        for exercise, _ in EXERCISE.values():
            exercise(project)
    assert "fieldkit trace" not in capsys.readouterr().err


def test_a_failing_plugin_is_traced_then_reported(project, monkeypatch, capsys):
    class Broken:
        @hookimpl
        def register_exporters(self, register):
            raise RuntimeError("no disk")

        @hookimpl
        def record_saved(self, project, record):
            raise ValueError("bad record")

    monkeypatch.setenv("FIELDKIT_TRACE_PLUGINS", "1")

    plugin_manager.reset()  # the manager reads FIELDKIT_* when it is made
    with register_plugin(Broken(), "broken"):
        with pytest.raises(PluginError, match="broken.*register_exporters"):
            plugin_manager.exporters()
        with pytest.raises(PluginError, match="broken.*record_saved"):
            capture.jot(project, "not kept")
    err = capsys.readouterr().err
    assert "fieldkit trace: register_exporters <- broken: raised RuntimeError: no disk" in err
    assert "fieldkit trace: record_saved <- broken: raised ValueError: bad record" in err


def test_direct_pluggy_calls_and_plugin_listing_are_traced(monkeypatch, capsys):
    monkeypatch.setenv("FIELDKIT_TRACE_PLUGINS", "1")
    plugin_manager.reset()  # the manager reads FIELDKIT_* when it is made
    with register_plugin(Tracer(), "tracer") as pm:
        pm.hook.validate_record(project=None, record=None)
        plugin_manager.plugin_rows()
    err = capsys.readouterr().err
    assert "validate_record <- tracer, fieldkit.plugins.consent_check: [['validated-marker'], []]" in err
    assert "fieldkit trace: register_coders <- tracer: ['tracer-coder']" in err


@settings(max_examples=25, deadline=None)
@given(st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True), unique=True, max_size=5))
def test_register_trace_lists_exactly_what_was_registered(names):
    """Property: the traced result of a register hook is the names it registered, in order."""
    import os

    class Many:
        @hookimpl
        def register_exporters(self, register):
            for name in names:
                register(Exporter(f"many-{name}", lambda project, dest, options: None))

    import contextlib
    import io

    buffer = io.StringIO()
    os.environ["FIELDKIT_TRACE_PLUGINS"] = "1"
    try:
        with register_plugin(Many(), "many"), contextlib.redirect_stderr(buffer):
            plugin_manager.exporters()
    finally:
        del os.environ["FIELDKIT_TRACE_PLUGINS"]
    expected = [f"many-{n}" for n in names]
    assert f"fieldkit trace: register_exporters <- many: {expected!r}\n" in buffer.getvalue()
