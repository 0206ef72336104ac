import os

import pytest

import fieldkit
from fieldkit.hooks import manager as plugin_manager


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """Each test gets a clean plugin manager, a fixed author and no project from the environment."""
    monkeypatch.delenv("FIELDKIT_PROJECT", raising=False)
    monkeypatch.delenv("FIELDKIT_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("FIELDKIT_TRACE_PLUGINS", raising=False)
    monkeypatch.setenv("FIELDKIT_AUTHOR", "tester")
    monkeypatch.setenv("EDITOR", "false")
    plugin_manager.reset()
    yield
    plugin_manager.reset()


@pytest.fixture
def project(tmp_path):
    p = fieldkit.init(tmp_path / "study")
    yield p
    p.close()


@pytest.fixture
def run(tmp_path):
    """Run the CLI against a fresh project: ``run("jot", "text")`` returns the click Result."""
    from click.testing import CliRunner

    path = tmp_path / "cli-study"
    fieldkit.init(path).close()

    def invoke(*args, input=None, project=True):
        argv = ["--project", str(path), *args] if project else list(args)
        from fieldkit.cli import cli

        return CliRunner().invoke(cli, argv, input=input, catch_exceptions=False)

    invoke.path = path
    return invoke
