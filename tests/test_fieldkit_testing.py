"""fieldkit.testing: the helpers and pytest fixtures fieldkit ships for plugin authors."""

import os
import subprocess
import sys

import click
import pytest

from fieldkit.hooks import manager as plugin_manager
from fieldkit.cli import cli
from fieldkit.core.errors import PluginError
from fieldkit.hooks.specs import hookimpl
from fieldkit.hooks.registry import Exporter
from fieldkit.testing import invoke_cli, register_plugin


class Extra:
    @hookimpl
    def register_exporters(self, register):
        register(Exporter("extra-format", lambda project, dest, options: None))

    @hookimpl
    def register_commands(self, cli):
        @cli.command("extra-cmd")
        def extra_cmd():
            """An extra command."""
            click.echo("extra ran")

        @cli.group("extra-group")
        def extra_group():
            """An extra group."""

        @extra_group.command("sub")
        def sub():
            """A sub-command."""
            click.echo("sub ran")


def command_names():
    return set(cli.list_commands(click.Context(cli)))


def test_register_and_clean_up():
    before = command_names()
    with register_plugin(Extra(), "extra") as pm:
        assert pm.has_plugin("extra")
        assert "extra-format" in plugin_manager.exporters()
        assert invoke_cli("extra-cmd").output == "extra ran\n"
        assert invoke_cli("extra-group", "sub").output == "sub ran\n"
    assert command_names() == before
    assert not plugin_manager.get_plugin_manager().has_plugin("extra")
    assert "extra-format" not in plugin_manager.exporters()
    assert invoke_cli("extra-cmd").exit_code != 0


def test_clean_up_after_a_failing_test():
    with pytest.raises(RuntimeError):
        with register_plugin(Extra(), "extra"):
            invoke_cli("extra-cmd")
            raise RuntimeError("the test failed")
    assert "extra-cmd" not in command_names()
    assert "extra-format" not in plugin_manager.exporters()


def test_sub_commands_added_to_existing_groups_are_removed():
    class AddsToEncounter:
        @hookimpl
        def register_commands(self, cli):
            @cli.get_command(click.Context(cli), "encounter").command("extra-sub")
            def extra_sub():
                """Added to a core group."""

    with register_plugin(AddsToEncounter(), "adds"):
        command_names()  # core groups are found without asking plugins, so ask them first
        assert invoke_cli("encounter", "extra-sub").exit_code == 0
    assert invoke_cli("encounter", "extra-sub").exit_code != 0
    assert invoke_cli("encounter", "list", "--help").exit_code == 0


def test_isolated_ignores_installed_plugins_and_restores_the_environment(monkeypatch):
    monkeypatch.setenv("FIELDKIT_LOAD_PLUGINS", "prisons")
    with register_plugin(Extra(), "extra"):
        assert os.environ["FIELDKIT_LOAD_PLUGINS"] == ""
        assert not plugin_manager.get_plugin_manager().has_plugin("prisons")
    assert os.environ["FIELDKIT_LOAD_PLUGINS"] == "prisons"


def test_not_isolated_keeps_installed_plugins(monkeypatch):
    import fieldkit_prisons_inspection  # noqa: F401  (installed with fieldkit's test setup, see the README)

    monkeypatch.delenv("FIELDKIT_LOAD_PLUGINS", raising=False)
    with register_plugin(Extra(), "extra", isolated=False) as pm:
        assert pm.has_plugin("prisons") and pm.has_plugin("extra")


def test_name_clash_is_refused():
    from fieldkit.plugins import BUILTINS

    with pytest.raises(PluginError, match="already registered"):
        with register_plugin(Extra(), BUILTINS[0]):
            pass


def test_default_name_is_the_module_or_class_name():
    import types

    module = types.ModuleType("my_plugin_module")
    with register_plugin(module) as pm:
        assert pm.has_plugin("my_plugin_module")
    with register_plugin(Extra()) as pm:
        assert pm.has_plugin("Extra")


def test_fixtures_work_in_a_fresh_pytest_run(tmp_path):
    """The pytest11 entry point makes the fixtures available with no conftest or import."""
    (tmp_path / "test_uses_fixtures.py").write_text(
        "import click\n"
        "from fieldkit import hookimpl\nfrom fieldkit.fieldwork import capture\n\n"
        "class Hello:\n"
        "    @hookimpl\n"
        "    def register_commands(self, cli):\n"
        "        @cli.command()\n"
        "        def hello():\n"
        "            '''Say hello.'''\n"
        "            click.echo('hello')\n\n"
        "def test_one(fieldkit_plugin, fieldkit_project, fieldkit_cli):\n"
        "    fieldkit_plugin(Hello(), 'hello')\n"
        "    capture.jot(fieldkit_project, 'x')\n"
        "    assert fieldkit_cli('hello', project=fieldkit_project).output == 'hello\\n'\n\n"
        "def test_two(fieldkit_cli):\n"
        "    assert fieldkit_cli('hello').exit_code == 2\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                            capture_output=True, text=True, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_fixture_registers_two_plugins_side_by_side(fieldkit_plugin, fieldkit_cli):
    class Other:
        @hookimpl
        def register_exporters(self, register):
            register(Exporter("other-format", lambda project, dest, options: None))

    pm = fieldkit_plugin(Extra(), "extra")
    assert fieldkit_plugin(Other(), "other") is pm
    assert {"extra-format", "other-format"} <= set(plugin_manager.exporters())
    assert fieldkit_cli("extra-cmd").output == "extra ran\n"


def test_fixture_left_nothing_behind(fieldkit_cli):
    """Runs after the test above (same module, file order): its plugins and command are gone."""
    assert "extra-format" not in plugin_manager.exporters()
    assert fieldkit_cli("extra-cmd").exit_code != 0
