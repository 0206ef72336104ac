"""The plugin system: hookspecs, built-ins registered like external plugins, loading rules,
and every hook called through pluggy (so wrappers work), with a failing, slow or wrong
plugin named. Each event-hook test runs on both write paths: ``Project.add`` (through
capture) and the bulk ``Project.add_many``."""

import inspect
import re
import subprocess
import sys
import time
import types

import pytest

from fieldkit.core.errors import InvalidInput, PluginError, PluginRefused, Refused
from fieldkit.core.records import Observation
from fieldkit.fieldwork import capture
from fieldkit.hooks import manager as plugin_manager
from fieldkit.hooks import specs as hookspecs
from fieldkit.hooks.registry import Exporter
from fieldkit.hooks.specs import hookimpl

SPECS = {name: f for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(f, "fieldkit_spec")}


def one(project, body):
    """The single-record path."""
    return capture.jot(project, body)


def bulk(project, body):
    """The bulk path: a record in the middle of a batch."""
    project.add_many([Observation(stage="jotting", body=f"{body} (first)"), Observation(stage="jotting", body=body),
                      Observation(stage="jotting", body=f"{body} (last)")], batch_size=2)


WRITES = pytest.mark.parametrize("write", [one, bulk], ids=["add", "add_many"])


@pytest.fixture
def extra_plugin():
    """Register a plugin object for one test (on the plugin manager of the moment, so a test
    can set FIELDKIT_* variables first: the manager reads them when it is made)."""
    added = []

    def add(obj, name):
        pm = plugin_manager.get_plugin_manager()
        pm.register(obj, name=name)
        added.append((pm, obj))

    yield add
    for pm, obj in added:
        if pm.is_registered(obj):
            pm.unregister(obj)


# --------------------------------------------------------------------------- specs


def test_hookspecs_are_typed_and_documented():
    assert len(SPECS) == 10
    for name, spec in SPECS.items():
        parameters = list(inspect.signature(spec).parameters)
        assert set(spec.__annotations__) == {*parameters, "return"}, f"{name}: annotate every argument and the return"
        summary, _, rest = spec.__doc__.strip().partition("\n")
        assert summary.strip() and summary.strip().endswith("."), name
        documented = re.findall(r"^\s*:param (\w+): \S", rest, flags=re.MULTILINE)
        assert documented == parameters, f"{name}: one :param: line per argument, in order"


def test_builtins_are_registered_and_check_pending():
    pm = plugin_manager.get_plugin_manager()
    from fieldkit.plugins import BUILTINS

    for name in BUILTINS:
        assert pm.has_plugin(name)
    assert not any(name.endswith("_commands") for name in BUILTINS), "fieldkit's commands are not plugins"
    pm.check_pending()


def test_loading_is_lazy_and_idempotent():
    plugin_manager.reset()
    assert plugin_manager._pm is None
    first = plugin_manager.get_plugin_manager()
    assert plugin_manager.get_plugin_manager() is first


def test_no_plugin_loads_at_import():
    code = ("import fieldkit, fieldkit.cli, sys; from fieldkit.hooks import manager as plugin_manager; "
            "print(plugin_manager._pm is None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split()
    assert out == ["True"]


# --------------------------------------------------------------------------- entry points


class FakeDist:
    """A distribution that counts how often its metadata is read."""

    def __init__(self, name, version="1.0"):
        self._name, self._version, self.reads = name, version, 0

    @property
    def name(self):
        self.reads += 1
        return self._name

    @property
    def version(self):
        self.reads += 1
        return self._version


class FakeEntryPoint:
    def __init__(self, name, module=None, error=None, dist=None):
        self.name, self.module, self.error, self.group, self.dist = name, module, error, "fieldkit", dist

    def load(self):
        if self.error:
            raise self.error
        return self.module


def _exporting(name):
    module = types.ModuleType(f"fk_{name}")

    @hookimpl
    def register_exporters(register):
        register(Exporter(name=f"{name}-format", export=lambda *a: None))

    module.register_exporters = register_exporters
    return module


@pytest.fixture
def entry_points(monkeypatch):
    """Make ``importlib.metadata.entry_points(group="fieldkit")`` return the given list."""
    import importlib.metadata as md

    def install(*eps):
        monkeypatch.setattr(md, "entry_points", lambda group=None: list(eps) if group == "fieldkit" else [])
        plugin_manager.reset()

    return install


def test_allow_list_limits_entry_points(monkeypatch, entry_points):
    entry_points(FakeEntryPoint("good", _exporting("good")), FakeEntryPoint("bad", _exporting("bad")))
    monkeypatch.setenv("FIELDKIT_LOAD_PLUGINS", "good")
    pm = plugin_manager.get_plugin_manager()
    assert pm.has_plugin("good") and not pm.has_plugin("bad")
    assert "good-format" in plugin_manager.exporters()
    monkeypatch.setenv("FIELDKIT_LOAD_PLUGINS", "")
    plugin_manager.reset()
    assert not plugin_manager.get_plugin_manager().has_plugin("good")


def test_a_broken_entry_point_is_named_and_skipped_while_the_rest_load(entry_points, capsys):
    typo = types.ModuleType("fk_typo")
    typo.register_exporter = hookimpl(lambda register: None)  # no such hook: it would never run
    first = FakeDist("fk-first", "2.1")
    entry_points(FakeEntryPoint("first", _exporting("first"), dist=first),
                 FakeEntryPoint("broken", error=ImportError("No module named 'missing_dependency'"),
                                dist=FakeDist("fk-broken")),
                 FakeEntryPoint("typo", typo),
                 FakeEntryPoint("last", _exporting("last")))
    pm = plugin_manager.get_plugin_manager()
    assert pm.has_plugin("first") and pm.has_plugin("last")
    assert not pm.has_plugin("broken") and not pm.has_plugin("typo")
    assert first.reads == 0  # loading a plugin reads no package metadata (a jot does not need it)
    err = capsys.readouterr().err
    assert ("plugin broken (fk-broken 1.0) failed to load: ImportError: No module named 'missing_dependency'; "
            "skipped") in err
    assert "plugin typo implements hooks fieldkit does not have: register_exporter; skipped" in err
    assert {"first-format", "last-format"} <= set(plugin_manager.exporters())
    rows = {row["name"]: row for row in plugin_manager.plugin_rows()}
    assert "missing_dependency" in rows["broken"]["error"] and rows["first"]["error"] is None
    assert rows["first"]["package"] == "fk-first 2.1" and rows["broken"]["package"] == "fk-broken 1.0"
    assert rows["last"]["package"] is None
    assert rows["first"]["provides"] == ["exporter:first-format"]


def test_plugins_command_lists_a_plugin_that_fails_in_a_hook(extra_plugin, run):
    class Failing:
        @hookimpl
        def register_detectors(self, register):
            raise RuntimeError("detector data missing")

    extra_plugin(_exporting("fine"), "fine")
    extra_plugin(Failing(), "failing")
    result = run("plugins", "--json")
    assert result.exit_code == 0, result.output
    import json

    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert "failing failed in register_detectors: RuntimeError: detector data missing" in rows["failing"]["error"]
    assert rows["fine"]["provides"] == ["exporter:fine-format"] and rows["fine"]["error"] is None
    # the built-in detectors were still listed: the hook was called again without the broken plugin
    assert "detector:places" in rows["fieldkit.plugins.places"]["provides"]
    assert "ERROR: plugin failing failed" in run("plugins").stdout


# --------------------------------------------------------------------------- event hooks


@WRITES
def test_validate_record_warnings_on_both_paths(project, extra_plugin, write):
    class NoVowels:
        @hookimpl
        def validate_record(self, project, record):
            return ["body has no vowels"] if not set("aeiou") & set(getattr(record, "body", "a")) else []

    extra_plugin(NoVowels(), "novowels")
    write(project, "xyz")
    assert [p for _, p in project.warnings] == ["body has no vowels"]


@WRITES
def test_validate_record_can_refuse_a_save(project, extra_plugin, write):
    class Strict:
        @hookimpl
        def validate_record(self, project, record):
            if "secret" in getattr(record, "body", ""):
                raise Refused("notes must not contain the word secret")
            return []

    extra_plugin(Strict(), "strict")
    with pytest.raises(PluginRefused, match=r"^notes must not contain the word secret "
                                            r"\(refused by plugin strict in validate_record\)$") as caught:
        write(project, "a secret plan")
    assert isinstance(caught.value, Refused) and caught.value.plugin == "strict"
    assert project.count("observation") == 0


def test_a_refusing_plugin_is_one_line_in_the_cli(extra_plugin, run):
    class Strict:
        @hookimpl
        def validate_record(self, project, record):
            raise Refused("this project takes no jottings")

    extra_plugin(Strict(), "strict")
    result = run("jot", "anything")
    assert result.exit_code == 1
    assert result.stderr == "Error: this project takes no jottings (refused by plugin strict in validate_record)\n"
    assert run("list", "--json").stdout.strip() == "[]"


@WRITES
def test_record_saved_failure_rolls_back_and_names_plugin(project, extra_plugin, write):
    class Broken:
        @hookimpl
        def record_saved(self, project, record):
            _helper()

    def _helper():
        raise RuntimeError("disk on fire")

    extra_plugin(Broken(), "broken-plugin")
    with pytest.raises(PluginError, match=r"^plugin broken-plugin failed in record_saved: RuntimeError: disk on fire$"):
        write(project, "will not stay")
    assert project.count("observation") == 0


@WRITES
def test_record_saved_sees_every_write_after_its_row_exists(project, extra_plugin, write):
    seen = []

    class Watcher:
        @hookimpl
        def record_saved(self, project, record):
            stored = project.get(record.id)  # the row is written before the hook runs
            seen.append((record.type_name, stored.body))

    extra_plugin(Watcher(), "watcher")
    write(project, "one")
    expected = ["one"] if write is one else ["one (first)", "one", "one (last)"]
    assert seen == [("observation", body) for body in expected]


def test_record_saved_sees_edits(project, extra_plugin):
    seen = []

    class Watcher:
        @hookimpl
        def record_saved(self, project, record):
            seen.append(record.body)

    extra_plugin(Watcher(), "watcher")
    note = capture.note(project, "two")
    capture.edit(project, note.id, "two, edited")
    assert seen == ["two", "two, edited"]


@WRITES
def test_validate_record_wrong_return_type(project, extra_plugin, write):
    class Wrong:
        @hookimpl
        def validate_record(self, project, record):
            return "a string, not a list"

    extra_plugin(Wrong(), "wrong-return")
    with pytest.raises(PluginError, match="plugin wrong-return returned str from validate_record; "
                                          "expected a list of strings"):
        write(project, "x")
    assert project.count("observation") == 0


# --------------------------------------------------------------------------- wrappers


@WRITES
def test_new_style_wrapper_sees_and_changes_results(project, extra_plugin, write):
    calls = []

    class Wrapping:
        @hookimpl(wrapper=True)
        def validate_record(self, project, record):
            problems = yield
            calls.append(record.body)
            return [*problems, ["checked by the wrapper"]]

    extra_plugin(Wrapping(), "wrapping")
    write(project, "wrapped")
    assert "wrapped" in calls
    assert "checked by the wrapper" in [p for _, p in project.warnings]


@WRITES
def test_old_style_hookwrapper_runs_around_record_saved(project, extra_plugin, write):
    order = []

    class Inner:
        @hookimpl
        def record_saved(self, project, record):
            order.append("inner")

    class Around:
        @hookimpl(hookwrapper=True)
        def record_saved(self, project, record):
            order.append("before")
            outcome = yield
            outcome.get_result()
            order.append("after")

    extra_plugin(Inner(), "inner")
    extra_plugin(Around(), "around")
    write(project, "around it")
    assert order[:3] == ["before", "inner", "after"] and len(order) % 3 == 0


@WRITES
def test_a_failing_wrapper_is_named(project, extra_plugin, write):
    class Inner:
        @hookimpl
        def record_saved(self, project, record):
            return None

    class FailingWrapper:
        @hookimpl(wrapper=True)
        def record_saved(self, project, record):
            yield
            raise KeyError("after the others")

    extra_plugin(Inner(), "inner")
    extra_plugin(FailingWrapper(), "failing-wrapper")
    with pytest.raises(PluginError, match="plugin failing-wrapper failed in record_saved: KeyError"):
        write(project, "x")
    assert project.count("observation") == 0


def test_an_inner_failure_through_a_wrapper_names_the_inner_plugin(project, extra_plugin):
    class Inner:
        @hookimpl
        def record_saved(self, project, record):
            raise ValueError("inner broke")

    class Passing:
        @hookimpl(wrapper=True)
        def record_saved(self, project, record):
            return (yield)

    extra_plugin(Inner(), "inner")
    extra_plugin(Passing(), "passing")
    with pytest.raises(PluginError, match="^plugin inner failed in record_saved: ValueError: inner broke$"):
        capture.jot(project, "x")


def test_a_wrapper_can_register_too(extra_plugin):
    class RegisteringWrapper:
        @hookimpl(wrapper=True)
        def register_exporters(self, register):
            result = yield
            register("not an exporter")
            return result

    extra_plugin(RegisteringWrapper(), "registering-wrapper")
    with pytest.raises(PluginError, match="plugin registering-wrapper registered str in register_exporters"):
        plugin_manager.exporters()


def test_plain_pluggy_calls_name_the_plugin(project, extra_plugin):
    """A caller that calls ``pm.hook.X(...)`` itself (as Project does) gets the plugin named."""

    class Broken:
        @hookimpl
        def record_saved(self, project, record):
            raise OSError("quota exceeded")

    extra_plugin(Broken(), "broken")
    pm = plugin_manager.get_plugin_manager()
    with pytest.raises(PluginError, match="^plugin broken failed in record_saved: OSError: quota exceeded$") as caught:
        pm.hook.record_saved(project=project, record=Observation(body="x"))
    assert caught.value.plugin == "broken" and caught.value.hook == "record_saved"
    assert isinstance(caught.value.__cause__, OSError)


def test_a_nested_hook_call_names_the_innermost_plugin(project, extra_plugin):
    class Outer:
        @hookimpl
        def record_saved(self, project, record):
            plugin_manager.exporters()

    class Inner:
        @hookimpl
        def register_exporters(self, register):
            raise RuntimeError("inner")

    extra_plugin(Outer(), "outer")
    extra_plugin(Inner(), "inner")
    with pytest.raises(PluginError, match="^plugin inner failed in register_exporters"):
        capture.jot(project, "x")


# --------------------------------------------------------------------------- slow plugins


@WRITES
def test_slow_plugin_is_named_once(project, extra_plugin, monkeypatch, capsys, write):
    class Slow:
        @hookimpl
        def record_saved(self, project, record):
            time.sleep(0.05)

    monkeypatch.setenv("FIELDKIT_SLOW_PLUGIN_SECONDS", "0.01")

    plugin_manager.reset()  # the manager reads FIELDKIT_* when it is made
    extra_plugin(Slow(), "slow-plugin")
    write(project, "x")
    capture.jot(project, "y")
    err = capsys.readouterr().err
    assert err.count("record_saved took") == 1
    assert re.search(r"fieldkit: record_saved took 0\.\d s in plugin\(s\) slow-plugin \(over "
                     r"FIELDKIT_SLOW_PLUGIN_SECONDS=0\.01", err), err
    assert project.count("observation") == (2 if write is one else 4)


def test_fast_plugins_are_not_reported(project, extra_plugin, monkeypatch, capsys):
    class Quick:
        @hookimpl
        def record_saved(self, project, record):
            return None

    monkeypatch.setenv("FIELDKIT_SLOW_PLUGIN_SECONDS", "5")

    plugin_manager.reset()  # the manager reads FIELDKIT_* when it is made
    extra_plugin(Quick(), "quick")
    capture.jot(project, "x")
    assert "took" not in capsys.readouterr().err


@pytest.mark.parametrize("value", ["abc", "-1", "0", "nan", "inf"])
def test_a_bad_slow_limit_names_the_variable(monkeypatch, value, run):
    monkeypatch.setenv("FIELDKIT_SLOW_PLUGIN_SECONDS", value)
    plugin_manager.reset()
    with pytest.raises(InvalidInput, match="FIELDKIT_SLOW_PLUGIN_SECONDS must be a positive number of seconds"):
        plugin_manager.get_plugin_manager()
    result = run("jot", "x")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: environment variable FIELDKIT_SLOW_PLUGIN_SECONDS must be")
    assert len(result.stderr.splitlines()) == 1


# --------------------------------------------------------------------------- registration


def test_wrong_registration_type_names_plugin(extra_plugin):
    class Wrong:
        @hookimpl
        def register_exporters(self, register):
            register("not an exporter")

    extra_plugin(Wrong(), "wrong-plugin")
    with pytest.raises(PluginError, match="plugin wrong-plugin registered str in register_exporters; expected Exporter"):
        plugin_manager.exporters()


def test_a_name_registered_twice_names_both_plugins(extra_plugin):
    class First:
        @hookimpl
        def register_exporters(self, register):
            register(Exporter("same-name", lambda *a: None))

    class Second:
        @hookimpl
        def register_exporters(self, register):
            _register_through_a_helper(register)

    def _register_through_a_helper(register):
        register(Exporter("same-name", lambda *a: None))

    extra_plugin(First(), "first")
    extra_plugin(Second(), "second")
    # pluggy calls the last registered first: second registers, then first clashes
    with pytest.raises(PluginError, match="plugin first registered exporter 'same-name' that second already registered"):
        plugin_manager.exporters()


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


# --------------------------------------------------------------------------- imports


def _notes_folder(tmp_path, *bodies):
    folder = tmp_path / "notes"
    folder.mkdir()
    for number, body in enumerate(bodies):
        (folder / f"note-{number}.md").write_text(f"---\ntype: observation\n---\n{body}\n", encoding="utf-8")
    return folder


def test_event_hooks_see_every_imported_record(project, extra_plugin, tmp_path):
    from fieldkit.exchange.importing import run_importer

    seen, checked = [], []

    class Watcher:
        @hookimpl
        def validate_record(self, project, record):
            checked.append(record.body.strip())
            return []

        @hookimpl
        def record_saved(self, project, record):
            seen.append(project.get(record.id).body.strip())

    extra_plugin(Watcher(), "watcher")
    run_importer(project, "markdown", _notes_folder(tmp_path, "first imported note", "second imported note"))
    expected = ["first imported note", "second imported note"]
    assert sorted(seen) == expected and sorted(checked) == expected


def test_a_refusing_plugin_stops_an_import_and_nothing_is_kept(project, extra_plugin, tmp_path):
    from fieldkit.exchange.importing import run_importer

    class Strict:
        @hookimpl
        def validate_record(self, project, record):
            if "forbidden" in record.body:
                raise Refused("this note may not be imported")
            return []

    extra_plugin(Strict(), "strict")
    from fieldkit.exchange.importing import ImportFailed

    # the importer collects each file's problem; the plugin's sentence and name reach the user
    with pytest.raises(ImportFailed, match=r"note-1\.md: this note may not be imported "
                                           r"\(refused by plugin strict in validate_record\)"):
        run_importer(project, "markdown", _notes_folder(tmp_path, "an allowed note", "a forbidden note"))
    assert project.count("observation") == 0


def test_the_same_class_registered_twice_is_told_apart(project, extra_plugin):
    class Configurable:
        def __init__(self, fail):
            self.fail = fail

        @hookimpl
        def record_saved(self, project, record):
            if self.fail:
                raise RuntimeError("configured to fail")

    extra_plugin(Configurable(fail=True), "second-copy")
    extra_plugin(Configurable(fail=False), "first-copy")
    with pytest.raises(PluginError, match="^plugin second-copy failed in record_saved"):
        capture.jot(project, "x")
