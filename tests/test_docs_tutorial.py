"""The code in the docs runs.

* docs/plugins/tutorial.md: its ``# file:``/``# append:`` blocks are written into an empty
  folder, the plugin is imported and registered with the fixture fieldkit ships, the
  ``# try it`` commands are run, then the folder is pip-installed (offline, into a private
  target) and fieldkit's own ``plugins`` command must see it and its tests must pass.
* docs/plugins/testing.md: its test module runs against the tutorial's plugin.
* docs/python-api.md: its Python blocks run in order as one script.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from fieldkit.testing import invoke_cli, register_plugin

DOCS = Path(__file__).resolve().parent.parent / "docs"
TUTORIAL = DOCS / "plugins" / "tutorial.md"
MARKER = re.compile(r"^# (file|append): (\S+)\n")


def blocks(page: Path) -> list[tuple[str, str]]:
    """``(language, code)`` for every fenced block of a page, in order."""
    text = page.read_text(encoding="utf-8")
    return re.findall(r"^```(\w*)\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def build(page: Path, folder: Path) -> list[str]:
    """Write a page's ``# file:`` and ``# append:`` blocks under ``folder``; returns the paths."""
    written = []
    for _lang, code in blocks(page):
        m = MARKER.match(code)
        if not m:
            continue
        action, rel = m.groups()
        target = folder / rel
        body = code[m.end():]
        if action == "file":
            assert rel not in written, f"{page.name}: {rel} is created twice"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body, encoding="utf-8")
            written.append(rel)
        else:
            assert rel in written, f"{page.name}: appends to {rel} before creating it"
            with target.open("a", encoding="utf-8") as handle:
                handle.write(body)
    return written


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tutorial") / "fieldkit-care-visits"
    folder.mkdir()
    written = build(TUTORIAL, folder)
    assert {"pyproject.toml", "fieldkit_care_visits/__init__.py", "tests/test_care_visits.py"} <= set(written)
    return folder


@pytest.fixture
def tutorial_plugin(plugin_dir, monkeypatch):
    monkeypatch.syspath_prepend(str(plugin_dir))
    for name in [m for m in sys.modules if m.startswith("fieldkit_care_visits")]:
        del sys.modules[name]
    import fieldkit_care_visits

    with register_plugin(fieldkit_care_visits, "care"):
        yield fieldkit_care_visits


def test_tutorial_files_are_valid(plugin_dir):
    import tomllib

    import yaml

    config = tomllib.loads((plugin_dir / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["project"]["entry-points"]["fieldkit"] == {"care": "fieldkit_care_visits"}
    assert yaml.safe_load((plugin_dir / "fieldkit_care_visits" / "care.yaml").read_text())["name"] == "care"
    for path in plugin_dir.rglob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")


def test_tutorial_plugin_contributes_what_the_tutorial_says(tutorial_plugin):
    from fieldkit.hooks import manager as plugin_manager

    assert "care" in plugin_manager.codebooks()
    assert "care.room" in plugin_manager.detectors()
    assert plugin_manager.exporters()["care-summary"].suffix == ".md"
    text = "Room 12, rm. 3 and Rm 40A"
    spans = list(plugin_manager.detectors()["care.room"].detect(text, None))
    assert [text[s.start:s.end] for s in spans] == ["Room 12", "rm. 3", "Rm 40A"]


def test_try_it_commands(tutorial_plugin, tmp_path, monkeypatch):
    """Run the tutorial's ``# try it`` block, command by command, in-process."""
    [script] = [code for lang, code in blocks(TUTORIAL) if lang == "bash" and code.startswith("# try it\n")]
    monkeypatch.chdir(tmp_path)
    last = None
    for line in script.splitlines()[1:]:
        argv = shlex.split(line)
        if argv[0] == "cd":
            monkeypatch.chdir(argv[1])
        elif argv[0] == "fieldkit":
            last = invoke_cli(*argv[1:])
            assert last.exit_code == 0, f"{line}\n{last.output}"
        elif argv[0] == "cat":
            shown = Path(argv[1]).read_text(encoding="utf-8")
        else:
            pytest.fail(f"the try-it block may only use fieldkit, cd and cat: {line}")
    assert shown == "# Care visit summary\n\n## safety\n\n- call bell\n"


def _pip_install(plugin_dir: Path, target: Path):
    # offline (no build isolation), so the build backend must already be installed
    pytest.importorskip("setuptools")
    pytest.importorskip("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--target", str(target), str(plugin_dir)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def installed(plugin_dir, tmp_path_factory):
    target = tmp_path_factory.mktemp("site")
    _pip_install(plugin_dir, target)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")}
    env["PYTHONPATH"] = os.pathsep.join([str(target), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def test_installed_plugin_is_seen_by_fieldkit_plugins(installed):
    out = subprocess.run([sys.executable, "-m", "fieldkit", "plugins", "--json"], capture_output=True, text=True,
                         env=installed, check=True).stdout
    [row] = [r for r in json.loads(out) if r["name"] == "care"]
    assert row["builtin"] is False and row["package"] == "fieldkit-care-visits 0.1.0"
    assert row["hooks"] == ["register_codebooks", "register_detectors", "register_exporters"]
    assert sorted(row["provides"]) == ["codebook:care", "detector:care.room", "exporter:care-summary"]


def test_tutorial_tests_and_testing_page_pass(plugin_dir, installed, tmp_path):
    """The tutorial's tests, and the examples on docs/plugins/testing.md, pass with pytest."""
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_care_visits.py").write_text((plugin_dir / "tests" / "test_care_visits.py").read_text())
    build(DOCS / "plugins" / "testing.md", tmp_path)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)],
                            capture_output=True, text=True, env=installed, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    expected = sum(path.read_text().count("\ndef test_") for path in tests.glob("test_*.py"))
    assert expected >= 5 and f"{expected} passed" in result.stdout, result.stdout


def test_python_api_page_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "python_api_page"}
    for number, (lang, code) in enumerate(blocks(DOCS / "python-api.md")):
        if lang == "python":
            exec(compile(code, f"docs/python-api.md block {number}", "exec"), namespace)
    assert (tmp_path / "api-export" / "quotes.csv").exists()


def test_tutorial_exporter_cannot_quote_without_consent(tutorial_plugin, tmp_path):
    """The tutorial's exporter checks no consent flag; export_items hands it only words that
    may be quoted, so the speaker of the words decides, turn by turn."""
    import fieldkit
    from fieldkit.core.records import Code, Coding
    from fieldkit.exchange import transcripts
    from fieldkit.exchange.exporting import ExportOptions, run_export
    from fieldkit.exchange.importing import ImportOptions
    from fieldkit.fieldwork.registers import add_encounter, add_participant
    from fieldkit.privacy import anonymiser as an
    from fieldkit.privacy.consent import record_consent

    project = fieldkit.init(tmp_path / "study")
    try:
        an.create_keystore(project, tmp_path / "k.keys").close()
        for code in ("P03", "P07", "P09"):
            add_participant(project, code)
        record_consent(project, "P03", "given", ["observation", "quotes"])
        record_consent(project, "P07", "given", ["observation"])  # no quotes
        record_consent(project, "P09", "withdrawn")
        add_encounter(project, "focus_group", code="E1", participants=["P03", "P07", "P09"])
        said = {"P03": "Quince marmalade matters.", "P07": "Walnut ledger matters.", "P09": "Cobalt lantern matters."}
        (tmp_path / "t.txt").write_text("".join(f"{who}: {words}\n" for who, words in said.items()))
        transcripts.load(project, tmp_path / "t.txt", ImportOptions(encounter="E1"))
        record = project.list("observation")[0]
        code = project.add(Code(name="voice"))
        for words in said.values():
            at = record.body.index(words)
            project.add(Coding(record_id=record.id, code_id=code.id, start=at, end=at + len(words), coder="a"))
        run_export(project, "care-summary", tmp_path / "summary.md", ExportOptions())
    finally:
        project.close()
    written = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert said["P03"] in written
    assert said["P07"] not in written and said["P09"] not in written
