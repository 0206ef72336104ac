"""The plugin system: hookspecs, built-ins registered like external plugins, loading rules."""

import importlib
import sys
import types

import pytest

import fieldkit
from fieldkit.fieldwork import capture
from fieldkit.hooks import specs as hookspecs
from fieldkit.hooks import manager as plugin_manager
from fieldkit.core.errors import PluginError
from fieldkit.hooks.specs import hookimpl
from fieldkit.hooks.registry import Exporter


def test_hookspecs_all_have_docstrings():
    import inspect

    specs = [f for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(f, "fieldkit_spec")]
    assert len(specs) == 9
    for spec in specs:
        assert spec.__doc__ and "\n" not in spec.__doc__.strip(), spec.__name__


def test_builtins_are_registered_and_check_pending():
    pm = plugin_manager.get_plugin_manager()
    from fieldkit.plugins import BUILTINS

    for name in BUILTINS:
        assert pm.has_plugin(name)
    pm.check_pending()


def test_loading_is_lazy_and_idempotent():
    plugin_manager.reset()
    assert plugin_manager._pm is None
    first = plugin_manager.get_plugin_manager()
    assert plugin_manager.get_plugin_manager() is first


def test_no_plugin_loads_at_import():
    code = "import fieldkit, fieldkit.cli, sys; from fieldkit.hooks import manager as plugin_manager; print(plugin_manager._pm is None, 'pluggy._manager' in sys.modules)"
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split()
    assert out[0] == "True"


class FakeEntryPoint:
    def __init__(self, name, module):
        self.name, self.module, self.group = name, module, "fieldkit"

    def load(self):
        return self.module


def test_allow_list_limits_entry_points(monkeypatch):
    good = types.ModuleType("fk_good")
    bad = types.ModuleType("fk_bad")

    @hookimpl
    def register_exporters(register):
        register(Exporter(name="good-format", export=lambda *a: None))

    good.register_exporters = register_exporters
    import importlib.metadata as md

    monkeypatch.setattr(md, "entry_points", lambda group=None: [FakeEntryPoint("good", good), FakeEntryPoint("bad", bad)])
    monkeypatch.setenv("FIELDKIT_LOAD_PLUGINS", "good")
    plugin_manager.reset()
    pm = plugin_manager.get_plugin_manager()
    assert pm.has_plugin("good") and not pm.has_plugin("bad")
    assert "good-format" in plugin_manager.exporters()
    monkeypatch.setenv("FIELDKIT_LOAD_PLUGINS", "")
    plugin_manager.reset()
    assert not plugin_manager.get_plugin_manager().has_plugin("good")


@pytest.fixture
def extra_plugin():
    """Register a plugin object for one test."""
    pm = plugin_manager.get_plugin_manager()
    added = []

    def add(obj, name):
        pm.register(obj, name=name)
        added.append(obj)

    yield add
    for obj in added:
        pm.unregister(obj)


def test_consent_warning_plugin_is_a_few_lines(project, extra_plugin):
    class NoVowelsPlugin:
        @hookimpl
        def validate_record(self, project, record):
            return ["body has no vowels"] if not set("aeiou") & set(getattr(record, "body", "a")) else []

    extra_plugin(NoVowelsPlugin(), "novowels")
    capture.jot(project, "xyz")
    assert ("body has no vowels" in [p for _, p in project.warnings])


def test_record_saved_failure_rolls_back_and_names_plugin(project, extra_plugin):
    class Broken:
        @hookimpl
        def record_saved(self, project, record):
            raise RuntimeError("disk on fire")

    extra_plugin(Broken(), "broken-plugin")
    with pytest.raises(PluginError, match="broken-plugin.*record_saved.*disk on fire"):
        capture.jot(project, "will not stay")
    assert project.count("observation") == 0


def test_record_saved_sees_every_write(project, extra_plugin):
    seen = []

    class Watcher:
        @hookimpl
        def record_saved(self, project, record):
            seen.append((record.type_name, record.id))

    extra_plugin(Watcher(), "watcher")
    j = capture.jot(project, "one")
    n = capture.note(project, "two")
    capture.edit(project, n.id, "two, edited")
    assert seen == [("observation", j.id), ("observation", n.id), ("observation", n.id)]


def test_wrong_registration_type_names_plugin(extra_plugin):
    class Wrong:
        @hookimpl
        def register_exporters(self, register):
            register("not an exporter")

    extra_plugin(Wrong(), "wrong-plugin")
    with pytest.raises(PluginError, match="wrong-plugin"):
        plugin_manager.exporters()


def test_validate_record_wrong_return_type(project, extra_plugin):
    class Wrong:
        @hookimpl
        def validate_record(self, project, record):
            return "a string, not a list"

    extra_plugin(Wrong(), "wrong-return")
    with pytest.raises(PluginError, match="plugin wrong-return returned str from validate_record; expected a list of strings"):
        capture.jot(project, "x")
    assert project.count("observation") == 0


def test_trace(project, extra_plugin, monkeypatch, capsys):
    monkeypatch.setenv("FIELDKIT_TRACE_PLUGINS", "1")
    capture.jot(project, "traced")
    err = capsys.readouterr().err
    assert "validate_record <- fieldkit.plugins.consent_check" in err


def test_slow_plugin_is_named(project, extra_plugin, monkeypatch, capsys):
    import time

    class Slow:
        @hookimpl
        def validate_record(self, project, record):
            time.sleep(0.05)
            return []

    monkeypatch.setenv("FIELDKIT_SLOW_PLUGIN_SECONDS", "0.01")
    extra_plugin(Slow(), "slow-plugin")
    capture.jot(project, "x")
    err = capsys.readouterr().err
    assert "plugin slow-plugin is slow in validate_record" in err
    assert project.count("observation") == 1


@pytest.mark.parametrize("hook", ["register_exporters", "register_importers", "register_detectors",
                                  "register_coders", "register_codebooks"])
def test_raising_registration_hook_names_plugin_and_hook(extra_plugin, hook):
    plugin = types.SimpleNamespace()

    def boom(register):
        raise ValueError("bad plugin")

    setattr(plugin, hook, hookimpl(boom))
    extra_plugin(plugin, "raiser")
    getter = getattr(plugin_manager, hook.split("_", 1)[1])
    with pytest.raises(PluginError, match=f"raiser failed in {hook}: ValueError: bad plugin"):
        getter()
