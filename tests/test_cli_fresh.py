"""Every documented command, run as a user runs it: the installed ``fieldkit`` script in a
fresh process (not click's in-process runner, where an earlier command may already have
loaded plugins). A command that exists only after another command loaded plugins, a
plugin command added to one of fieldkit's groups, a broken plugin, and the error model's
exit codes are all checked here from the outside."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import fieldkit

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).with_name("fieldkit")
if not SCRIPT.exists():  # an environment without the console script next to python
    SCRIPT = Path(shutil.which("fieldkit") or SCRIPT)


def documented_commands() -> list[tuple[str, ...]]:
    """Every command heading of docs/cli.md, as words after ``fieldkit``."""
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    return [tuple(h.split()[1:]) for h in re.findall(r"^#+ (fieldkit(?: [\w-]+)*)$", page, flags=re.MULTILINE)]


def fieldkit_run(*args, env=None, input=None, cwd=None, check=None):
    """Run the installed script; ``check`` is the exit status it must end with."""
    result = subprocess.run([str(SCRIPT), *[str(a) for a in args]], capture_output=True, text=True, input=input,
                            env=env, cwd=cwd, timeout=120)
    if check is not None:
        assert result.returncode == check, (args, result.returncode, result.stdout[-1000:], result.stderr[-1500:])
        assert "Traceback" not in result.stderr, (args, result.stderr[-1500:])
    return result


@pytest.fixture
def env(tmp_path):
    """The environment of a user with one project and no installed plugins."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")}
    return {**base, "FIELDKIT_PROJECT": str(tmp_path / "study"), "FIELDKIT_AUTHOR": "tester",
            "FIELDKIT_LOAD_PLUGINS": "", "FIELDKIT_KEYS_PASSPHRASE": "", "EDITOR": "false", "COLUMNS": "100"}


def test_the_script_is_installed():
    assert SCRIPT.exists(), "install fieldkit (pip install -e .) so the fieldkit script exists"


@pytest.mark.parametrize("words", documented_commands(), ids=lambda w: " ".join(w) or "fieldkit")
def test_every_documented_command_has_help_in_a_fresh_process(words, env):
    result = fieldkit_run(*words, "--help", env=env, check=0)
    assert result.stdout.startswith(f"Usage: {' '.join(('fieldkit', *words))} ")


def test_the_reference_lists_the_commands_users_depend_on():
    documented = {" ".join(words) for words in documented_commands()}
    for command in ("jot", "participant withdraw", "participant consent", "export", "import", "code apply",
                    "codebook load", "anonymise", "keys init", "doctor", "plugins", "config"):
        assert command in documented, command


def test_the_main_commands_for_real(env, tmp_path):
    def ok(*args, input=None):
        return fieldkit_run(*args, env=env, input=input, check=0)

    def user_error(*args, needle, input=None):
        result = fieldkit_run(*args, env=env, input=input, check=1)
        lines = result.stderr.splitlines()
        assert len([line for line in lines if line.startswith("Error:")]) == 1, result.stderr
        assert needle in result.stderr, result.stderr
        return result

    ok("init", tmp_path / "study")
    ok("site", "add", "North PDU", "--kind", "probation_delivery_unit")
    ok("participant", "add", "P03", "--role", "expert_by_experience")
    ok("participant", "add", "P07", "--role", "inspector")
    assert "observation, audio, quotes, archive" in ok("participant", "consent", "P03", "given").stdout
    ok("participant", "consent", "P07", "given", "--scope", "observation")
    user_error("participant", "consent", "P07", "limited", needle="limited consent must name its scopes")
    ok("encounter", "add", "interview", "--code", "E1", "--with", "P03,P07", "--site", "North PDU",
       "--start", "2026-03-02T10:00")
    ok("encounter", "start", "E1", "--at", "2026-03-02T10:05")
    jotting = json.loads(ok("jot", "LI hands the intro to @P03 #power", "-e", "E1", "--at", "2026-03-02T10:10",
                            "--json").stdout)
    ok("encounter", "end", "E1", "--at", "2026-03-02T11:00", "--summary", "went well")
    assert json.loads(ok("encounter", "list", "--json").stdout)[0]["code"] == "E1"
    assert "went well" in ok("encounter", "show", "E1").stdout
    note = json.loads(ok("note", "-", "--at", "2026-03-03 09:00", "--json",
                         input="P03 said the panel felt like tokenism.\n").stdout)
    ok("memo", "Power sits with the lead inspector.", "--title", "Power", "-k", "analytic")
    assert len(json.loads(ok("list", "--json").stdout)) == 2
    # --until means the end of the day given, as in export
    assert [r["id"] for r in json.loads(ok("list", "--until", "2026-03-02", "--json").stdout)] == [jotting["id"]]
    assert [r["id"] for r in json.loads(ok("list", "--since", "2026-03-03", "--json").stdout)] == [note["id"]]
    ok("show", note["id"])
    assert json.loads(ok("search", "tokenism", "--json").stdout)[0]["id"] == note["id"]
    ok("edit", note["id"], "--from-file", "-", "--reason", "typo", input="P03 said the panel felt like tokenism!\n")
    assert json.loads(ok("history", note["id"], "--json").stdout)[0]["reason"] == "typo"
    user_error("edit", jotting["id"], "--from-file", "-", input="changed", needle="jottings cannot be changed")
    ok("config")
    ok("config", "timezone", "Europe/London")
    user_error("config", "pseudonymise_on_capture", "maybe", needle="must be true or false")
    user_error("config", "colour", "blue", needle="unknown setting 'colour'")
    ok("codebook", "load", "coproduction")
    ok("codebook", "show")
    ok("code", "apply", note["id"], "tokenism", "--quote", "tokenism")
    assert "tokenism" in ok("code", "list").stdout
    ok("code", "segments", "tokenism")
    ok("code", "freq", "--by", "role")
    ok("autocode", "--all")
    ok("autocode", "list")
    ok("autocode", "accept", "--all", "--as", "second")
    ok("agreement", "--coders", "tester,second")
    ok("keys", "init", tmp_path / "keys" / "study.keys")
    ok("keys", "add", "P03", "--name", "Alex Example")
    ok("keys", "list")
    ok("anonymise", "--all")
    ok("anonymise", "review")
    ok("export", "csv", tmp_path / "csv", "--until", "2026-03-02")
    ok("export", "jsonl", tmp_path / "out.jsonl", "--raw")
    ok("export", "qdpx", tmp_path / "out.qdpx")
    ok("attach", ROOT / "README.md", "--to", note["id"])
    ok("doctor")
    ok("backup", tmp_path / "backup")
    plugins = json.loads(ok("plugins", "--json").stdout)
    assert {row["name"] for row in plugins} >= {"fieldkit.plugins.places", "fieldkit.plugins.formats"}
    ok("delete", jotting["id"], "--reason", "test")
    # the command the privacy issue found missing in a fresh process
    ok("participant", "add", "P09", "--role", "stakeholder")
    ok("participant", "consent", "P09", "given")
    result = ok("participant", "withdraw", "P09", "--yes")
    assert "P09" in result.stdout
    other = {**env, "FIELDKIT_PROJECT": str(tmp_path / "other")}
    fieldkit_run("init", tmp_path / "other", env=other, check=0)
    fieldkit_run("import", "jsonl", tmp_path / "out.jsonl", env=other, check=0)
    fieldkit_run("demo", tmp_path / "demo", env=env, check=0)


# --------------------------------------------------------------------------- plugins from outside


PLUGIN = '''
import click

from fieldkit import hookimpl


@hookimpl
def register_commands(cli):
    participant = cli.commands["participant"]

    @participant.command("greet")
    @click.argument("code")
    def greet(code):
        """Greet a participant (a plugin's command in fieldkit's participant group)."""
        click.echo(f"hello {code}")

    @cli.command("explode")
    def explode():
        """A plugin command with a bug in it."""
        {}["missing_key"]
'''


def _distribution(site: Path, name: str, module: str, source: str | None) -> None:
    """An installed distribution as importlib.metadata finds it: a dist-info folder on the path."""
    info = site / f"{name.replace('-', '_')}-0.1.dist-info"  # as a wheel names it
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[fieldkit]\n{name.split('-')[1]} = {module}\n", encoding="utf-8")
    if source is not None:
        (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")


@pytest.fixture
def plugin_env(env, tmp_path):
    site = tmp_path / "site"
    _distribution(site, "fk-greeter", "fk_greeter", PLUGIN)
    _distribution(site, "fk-broken", "fk_broken_module_that_is_missing", None)
    fieldkit.init(tmp_path / "study").close()
    plugin_env = {**env, "PYTHONPATH": str(site)}
    plugin_env.pop("FIELDKIT_LOAD_PLUGINS")
    return plugin_env


def test_a_plugin_command_in_a_fieldkit_group_works_in_a_fresh_process(plugin_env):
    result = fieldkit_run("participant", "greet", "P03", env=plugin_env, check=0)
    assert result.stdout == "hello P03\n"
    assert "greet" in fieldkit_run("participant", "--help", env=plugin_env, check=0).stdout


def test_a_broken_plugin_is_named_and_the_others_still_load(plugin_env):
    result = fieldkit_run("participant", "greet", "P03", env=plugin_env, check=0)
    assert re.search(r"fieldkit: plugin broken \(fk-broken 0\.1\) failed to load: ModuleNotFoundError: .*"
                     r"fk_broken_module_that_is_missing.*; skipped", result.stderr), result.stderr
    rows = {row["name"]: row for row in json.loads(fieldkit_run("plugins", "--json", env=plugin_env,
                                                                check=0).stdout)}
    assert "fk_broken_module_that_is_missing" in rows["broken"]["error"]
    assert rows["greeter"]["error"] is None and rows["greeter"]["hooks"] == ["register_commands"]
    only = {**plugin_env, "FIELDKIT_LOAD_PLUGINS": "greeter"}
    result = fieldkit_run("participant", "greet", "P07", env=only, check=0)
    assert result.stdout == "hello P07\n" and result.stderr == ""


# --------------------------------------------------------------------------- error model


def test_an_internal_error_has_its_own_exit_code_and_no_traceback(plugin_env):
    quiet = {**plugin_env, "FIELDKIT_LOAD_PLUGINS": "greeter"}
    result = fieldkit_run("explode", env=quiet, check=3)
    assert result.stderr == ("Error: internal error in fieldkit 0.1.0: KeyError: 'missing_key'. This is a bug: "
                             "please report it with the command you ran; FIELDKIT_DEBUG=1 shows the traceback\n")


def test_debug_shows_the_traceback_of_an_internal_error(plugin_env):
    debug = {**plugin_env, "FIELDKIT_LOAD_PLUGINS": "greeter", "FIELDKIT_DEBUG": "1"}
    result = subprocess.run([str(SCRIPT), "explode"], capture_output=True, text=True, env=debug, timeout=120)
    assert result.returncode == 3
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert "KeyError: 'missing_key'" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("Error: internal error in fieldkit")


def test_a_user_error_is_one_line_even_when_debugging(env, tmp_path):
    fieldkit.init(tmp_path / "study").close()
    result = fieldkit_run("show", "01ARZ3NDEKTSV4RRFFQ69G5FAV", env={**env, "FIELDKIT_DEBUG": "1"}, check=1)
    assert result.stderr == "Error: no record '01ARZ3NDEKTSV4RRFFQ69G5FAV' in this project\n"


def test_a_usage_error_exits_2(env):
    result = fieldkit_run("jot", "--no-such-option", env=env, check=2)
    assert "Usage: fieldkit jot" in result.stderr and "No such option" in result.stderr


def test_a_closed_pipe_is_silent(env, tmp_path):
    from fieldkit.core.records import Observation

    project = fieldkit.init(tmp_path / "study")
    project.add_many(Observation(stage="jotting", body=f"jotting number {i} " + "words " * 10) for i in range(3000))
    project.close()
    result = subprocess.run(f"'{SCRIPT}' list | head -n 1", shell=True, capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.stdout.startswith("id")
    assert result.stderr == ""


def test_invalid_utf8_arguments_are_one_clear_line(env, tmp_path):
    fieldkit.init(tmp_path / "study").close()
    result = subprocess.run([str(SCRIPT).encode(), b"jot", b"caf\xe9 \xff"], capture_output=True, env=env,
                            timeout=120)
    assert result.returncode == 1
    assert result.stderr.decode() == "Error: argument 2 is not valid UTF-8 text: caf\\udce9 \\udcff\n"
    assert fieldkit.open(tmp_path / "study").count("observation") == 0


@pytest.mark.parametrize("variable, value", [("FIELDKIT_SLOW_PLUGIN_SECONDS", "abc"), ("FIELDKIT_DEBUG", "maybe"),
                                             ("FIELDKIT_TRACE_PLUGINS", "sometimes")])
def test_a_bad_environment_variable_is_named(env, tmp_path, variable, value):
    fieldkit.init(tmp_path / "study").close()
    result = fieldkit_run("list", env={**env, variable: value}, check=1)
    assert result.stderr.startswith(f"Error: environment variable {variable} must be ")
    assert len(result.stderr.splitlines()) == 1


CLI_MODULES = sorted(p.stem for p in (ROOT / "fieldkit" / "cli").glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("module", CLI_MODULES)
def test_each_cli_module_imports_on_its_own(module):
    """No import cycle: each command module can be the first one imported."""
    result = subprocess.run([sys.executable, "-c", f"import fieldkit.cli.{module}"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-1500:]
