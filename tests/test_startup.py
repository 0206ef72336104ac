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


def modules_after_jot(text):
    """Every module in ``sys.modules`` after a jot in a fresh process (``FIELDKIT_PROJECT`` set)."""
    code = ("import sys; sys.argv = ['fieldkit', 'jot', *sys.argv[1:]]\nfrom fieldkit.cli import cli\n"
            "try:\n    cli()\nexcept SystemExit:\n    pass\nprint(' '.join(sorted(sys.modules)))\n")
    result = subprocess.run([sys.executable, "-c", code, text], capture_output=True, text=True, timeout=60,
                            check=True)
    assert "saved" in result.stdout
    return set(result.stdout.splitlines()[-1].split())


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
    loaded = modules_after_jot("a second jotting")
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


def test_a_plain_jot_leaves_out_what_only_other_paths_need(tmp_path, monkeypatch):
    """A jot at "now" looks up no time zone (zoneinfo), reads no HTML block (html) and, when it
    succeeds, prints no traceback (traceback): each is imported where it is used."""
    import fieldkit

    fieldkit.init(tmp_path / "p").close()
    monkeypatch.setenv("FIELDKIT_PROJECT", str(tmp_path / "p"))
    loaded = modules_after_jot("the LI hands the intro to @P03 #voice")
    assert "fieldkit.core.timeinput" in loaded and "fieldkit.core.markdown" in loaded  # the probe sees them
    for module in ("zoneinfo", "html", "traceback"):
        assert module not in loaded, f"a plain jot imported {module}"


def test_a_plain_jot_loads_plugins_without_reading_package_metadata(tmp_path, monkeypatch):
    """Entry points are still found and loaded (importlib.metadata; the example plugin's hooks
    are registered), but a jot reads no distribution's metadata file (the email parser that
    reads it stays unloaded: package names are read when ``fieldkit plugins`` shows them) and
    makes its id without python-ulid."""
    import fieldkit

    fieldkit.init(tmp_path / "p").close()
    monkeypatch.setenv("FIELDKIT_PROJECT", str(tmp_path / "p"))
    loaded = modules_after_jot("the LI hands the intro to @P03 #voice")
    assert "importlib.metadata" in loaded and "fieldkit_prisons_inspection" in loaded  # plugins load
    for module in ("email.parser", "email.feedparser", "ulid"):
        assert module not in loaded, f"a plain jot imported {module}"


def test_a_plain_jot_registers_the_detector_plugins_without_building_their_detectors(tmp_path, monkeypatch):
    """Every plugin is registered for a jot (its hooks may run), but the detectors, their
    patterns and the registration types are imported only when ``register_detectors`` and
    the like are called. (The example plugin, the one entry point of the test environment,
    imports them inside its hooks too.)"""
    import fieldkit

    fieldkit.init(tmp_path / "p").close()
    monkeypatch.setenv("FIELDKIT_PROJECT", str(tmp_path / "p"))
    loaded = modules_after_jot("the LI hands the intro to @P03 #voice")
    assert {"fieldkit.plugins.uk_identifiers", "fieldkit.plugins.places", "fieldkit_prisons_inspection"} <= loaded
    for module in ("fieldkit.privacy.uk_identifiers", "fieldkit.privacy.places", "fieldkit.privacy.detection",
                   "fieldkit.privacy.spans", "fieldkit.hooks.registry"):
        assert module not in loaded, f"a plain jot imported {module}"
