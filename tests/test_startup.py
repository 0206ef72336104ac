"""`fieldkit --version` and `--help` must start fast: no heavy imports."""

import subprocess
import sys

import pytest

HEAVY = ("sqlite_utils", "cattrs", "markdown_it")


def imported_modules(*args):
    code = "import sys; sys.argv = ['fieldkit', *sys.argv[1:]]\nfrom fieldkit.cli import cli\ntry:\n    cli()\nexcept SystemExit:\n    pass\n"
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code, *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names, result.stdout


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_no_heavy_imports(args):
    names, out = imported_modules(*args)
    assert "fieldkit" in out.lower() or "usage" in out.lower()
    assert "click" in names  # the probe really sees imports
    for heavy in HEAVY:
        assert heavy not in names, f"{' '.join(args)} imported {heavy}"


def test_help_lists_plugin_commands_without_heavy_imports():
    names, out = imported_modules("--help")
    for command in ("jot", "expand", "plugins", "search"):
        assert command in out


def test_a_plain_jot_does_not_import_sqlite_utils_or_a_parser(tmp_path, monkeypatch):
    """The quick-capture path writes through the store's connection: sqlite-utils, markdown-it
    and dateutil are loaded only by commands that need them. (cattrs is loaded: the one
    converter turns the jotting into its row; it costs a jot about 12 ms, measured in
    docs/benchmarks.md.)"""
    import fieldkit

    fieldkit.init(tmp_path / "p").close()
    monkeypatch.setenv("FIELDKIT_PROJECT", str(tmp_path / "p"))
    names, out = imported_modules("jot", "the LI hands the intro to @P03 #voice")
    assert "saved" in out
    for heavy in ("sqlite_utils", "markdown_it", "dateutil", "subprocess"):
        assert heavy not in names, f"jot imported {heavy}"
    # only the command's own module of the CLI: the others load when their commands are used
    # (importlib.import_module does not show in -X importtime, so ask sys.modules)
    code = ("import sys; sys.argv = ['fieldkit', 'jot', 'a second jotting']\nfrom fieldkit.cli import cli\n"
            "try:\n    cli()\nexcept SystemExit:\n    pass\nprint(' '.join(sorted(sys.modules)))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    loaded = set(result.stdout.splitlines()[-1].split())
    assert "fieldkit.cli.capture" in loaded
    for other in ("coding", "records", "fieldwork", "privacy", "exchange", "maintenance", "serve", "project"):
        assert f"fieldkit.cli.{other}" not in loaded, f"jot imported fieldkit.cli.{other}"
    project = fieldkit.open(tmp_path / "p")
    try:
        (note,) = [n for n in project.list("observation") if n.body.startswith("the LI")]
        assert note.tags == ("voice",) and note.mentions == ("P03",)
        assert len(project.list("observation")) == 2
    finally:
        project.close()
