"""Docs that cannot drift from the code.

Fails when: docs/cli.md or docs/plugins/builtins.md differ from a fresh ``docs/gen_cli.py``
run; a command has no help text or no docs entry; a hook in ``hookspecs.py`` has no entry in
docs/plugins/hooks.md, or its documented signature, summary or arguments differ from the
spec; a hook's example does not run; a "Used by" link names a built-in that does not use the
hook; a page under docs/ is missing from the MkDocs nav or the index; ``mkdocs build
--strict`` fails.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

from fieldkit.fieldwork import capture

from fieldkit.hooks import specs as hookspecs

from fieldkit.hooks import manager as plugin_manager
from fieldkit.testing import invoke_cli, register_plugin

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
HOOKS_PAGE = DOCS / "plugins" / "hooks.md"
SPECS = {name: f for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(f, "fieldkit_spec")}
REGENERATE = "run `python docs/gen_cli.py` and commit the result"


@pytest.fixture(scope="module")
def gen():
    spec = importlib.util.spec_from_file_location("fieldkit_docs_gen_cli", DOCS / "gen_cli.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def builtins_only(monkeypatch):
    """What the reference documents: fieldkit's built-ins, not whatever else is installed."""
    monkeypatch.setenv("FIELDKIT_LOAD_PLUGINS", "")
    plugin_manager.reset()
    yield
    plugin_manager.reset()


# --------------------------------------------------------------------------- generated pages


def _structure(page: str) -> list:
    """Each command heading with the options its help shows: what must not drift, whatever
    click release laid the text out."""
    sections = re.split(r"^(#+ fieldkit(?: [\w-]+)*)$", page, flags=re.MULTILINE)
    return [(head, sorted(set(re.findall(r"--[\w-]+", body)))) for head, body in zip(sections[1::2], sections[2::2])]


def test_cli_reference_matches_help_output(gen, builtins_only):
    from importlib.metadata import version

    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    fresh = gen.render_cli()
    if f"rendered with click {version('click')} -->" in page:
        assert page == fresh, f"docs/cli.md is out of date: {REGENERATE}"
    else:  # another click release: the same commands and options, laid out its own way
        assert _structure(page) == _structure(fresh), f"docs/cli.md is out of date: {REGENERATE}"


def test_builtins_page_matches_plugins(gen, builtins_only):
    fresh = gen.render_builtins()
    page = DOCS / "plugins" / "builtins.md"
    assert page.read_text(encoding="utf-8") == fresh, f"docs/plugins/builtins.md is out of date: {REGENERATE}"


def test_generated_help_is_the_real_help(gen, builtins_only):
    """The page shows what a user sees: compare a few commands with a real subprocess run."""
    import os

    import shutil

    script = Path(sys.executable).with_name("fieldkit")
    script = str(script) if script.exists() else shutil.which("fieldkit")
    if script is None:
        pytest.skip("the fieldkit console script is not installed")
    env = {**os.environ, "FIELDKIT_LOAD_PLUGINS": "", "COLUMNS": str(gen.WIDTH)}
    for path in (("fieldkit",), ("fieldkit", "jot"), ("fieldkit", "encounter", "add"), ("fieldkit", "export")):
        out = subprocess.run([script, *path[1:], "--help"], capture_output=True, text=True, env=env,
                             check=True).stdout
        assert gen.help_text(path) == out.rstrip() + "\n"


def test_every_command_has_help_text(gen, builtins_only):
    missing = [" ".join(path) for path, command, ctx in gen.walk_commands()
               if not (command.help or command.short_help or "").strip()]
    assert not missing, f"commands without help text: {', '.join(missing)}"


def test_every_command_has_a_reference_entry(gen, builtins_only):
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^#+ (fieldkit(?: [\w-]+)*)$", page, flags=re.MULTILINE))
    missing = [" ".join(path) for path, _, _ in gen.walk_commands() if " ".join(path) not in headings]
    assert not missing, f"commands missing from docs/cli.md ({REGENERATE}): {', '.join(missing)}"


def test_every_top_level_command_is_described_in_a_guide(gen, builtins_only):
    """Beyond the generated reference, each command is explained somewhere a reader looks."""
    guides = "\n".join(p.read_text(encoding="utf-8") for p in DOCS.rglob("*.md")
                       if p.name not in ("cli.md", "builtins.md"))
    top = [path[1] for path, _, _ in gen.walk_commands() if len(path) == 2]
    missing = [name for name in top if not re.search(rf"fieldkit {re.escape(name)}\b", guides)]
    assert not missing, f"commands no guide in docs/ mentions as `fieldkit NAME`: {', '.join(missing)}"


# --------------------------------------------------------------------------- hook reference


def hook_sections() -> dict:
    text = HOOKS_PAGE.read_text(encoding="utf-8")
    parts = re.split(r"^## `(\w+)`\s*$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def fenced(section: str, lang: str = "python") -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)


def test_every_hook_has_an_entry_and_no_entry_is_stale():
    sections = hook_sections()
    assert sorted(sections) == sorted(SPECS), "docs/plugins/hooks.md sections differ from fieldkit/hooks/specs.py"


def spec_signature(name: str) -> str:
    """The spec's signature as the page shows it: ``name(arg: Type, ...) -> Return``."""
    signature = inspect.signature(SPECS[name])
    args = ", ".join(f"{arg}: {param.annotation}" for arg, param in signature.parameters.items())
    return f"{name}({args}) -> {signature.return_annotation}"


def spec_params(name: str) -> dict:
    """``:param NAME: text`` of the spec's docstring, with RST literals as Markdown ones."""
    found = re.findall(r"^\s*:param (\w+): (.+)$", SPECS[name].__doc__, flags=re.MULTILINE)
    return {arg: text.strip().replace("``", "`") for arg, text in found}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_documented_signature_summary_and_arguments_match(name):
    section = hook_sections()[name]
    spec = SPECS[name]
    blocks = fenced(section)
    assert blocks and blocks[0].strip() == spec_signature(name), \
        f"{name}: the first code block must be the signature exactly as in fieldkit/hooks/specs.py"
    summary = spec.__doc__.strip().split("\n")[0]
    assert summary in section, f"{name}: the hookspec's summary line must appear on the page"
    documented = re.findall(r"^\| `(\w+)` \| `(.+?)` \| (.+) \|$", section, flags=re.MULTILINE)
    parameters = inspect.signature(spec).parameters
    assert [arg for arg, _, _ in documented] == list(parameters), \
        f"{name}: the argument table must list exactly the spec's arguments, in order"
    for arg, kind, meaning in documented:
        assert kind == parameters[arg].annotation, f"{name}: the type of {arg} differs from the spec"
        assert meaning.strip() == spec_params(name)[arg], f"{name}: the meaning of {arg} differs from its :param:"
    assert "**Returns:**" in section, f"{name}: say what the return value means"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_used_by_names_builtins_that_use_the_hook(name):
    from fieldkit.plugins import BUILTINS

    section = hook_sections()[name]
    used_by = section.split("**Used by:**", 1)
    assert len(used_by) == 2, f"{name}: no 'Used by' line"
    pm = plugin_manager.get_plugin_manager()
    implementers = {impl.plugin_name.rsplit(".", 1)[-1] for impl in getattr(pm.hook, name).get_hookimpls()
                    if impl.plugin_name in BUILTINS}
    linked = set(re.findall(r"\(builtins\.md#(\w+)\)", used_by[1]))
    assert linked <= implementers, f"{name}: links to built-ins that do not use it: {linked - implementers}"
    if implementers:
        assert linked, f"{name}: link to a built-in that uses it, one of {sorted(implementers)}"
        assert "No built-in plugin uses this hook" not in used_by[1]
    else:
        assert "No built-in plugin uses this hook" in used_by[1]


# each hook's example, loaded as a plugin and used the way fieldkit uses it


def _ex_commands(module, project, tmp_path):
    capture.jot(project, "first")
    result = invoke_cli("count-jottings", project=project)
    assert result.exit_code == 0 and result.output == "1 jotting(s)\n"


def _ex_exporters(module, project, tmp_path):
    from fieldkit.exchange.exporting import ExportOptions, run_export

    note = capture.note(project, "three words here")
    run_export(project, "word-counts", tmp_path / "counts.tsv", ExportOptions(anonymise=False))
    assert (tmp_path / "counts.tsv").read_text() == f"{note.id}\t3\n"


def _ex_importers(module, project, tmp_path):
    from fieldkit.exchange.importing import run_importer

    source = tmp_path / "lines.txt"
    source.write_text("arrived at the office\n\nthe visit began\n", encoding="utf-8")
    report = run_importer(project, "lines", source)
    assert report.counts == {"jottings": 2}
    assert [o.body for o in project.list("observation")] == ["arrived at the office", "the visit began"]


def _ex_detectors(module, project, tmp_path):
    text = "Met in Room 12, then room 4B."
    spans = list(plugin_manager.detectors()["example.room"].detect(text, None))
    assert [text[s.start:s.end] for s in spans] == ["Room 12", "room 4B"]


def _ex_coders(module, project, tmp_path):
    from fieldkit.coding.autocode import run_autocoder
    from fieldkit.coding.codebook import add_code

    add_code(project, "questions")
    note = capture.note(project, "Who decides? Nobody said.")
    report = run_autocoder(project, "questions", all_records=True)
    assert report.proposed == 1
    [proposal] = project.list("coding")
    assert note.body[proposal.start:proposal.end] == "Who decides?"


def _ex_codebooks(module, project, tmp_path):
    from fieldkit.coding.codebook import load_into_project

    load_into_project(project, "visits")
    assert sorted(c.name for c in project.list("code")) == ["access", "humour", "rapport"]


def _ex_record_saved(module, project, tmp_path):
    jotting = capture.jot(project, "saved and seen")
    assert module.SAVED == [("observation", jotting.id)]


def _ex_validate(module, project, tmp_path):
    capture.jot(project, "TODO add the time")
    assert "the text still says TODO" in [problem for _, problem in project.warnings]


def _ex_capture(module, project, tmp_path):
    project.set_setting("pseudonymise_on_capture", True)
    saved = capture.memo(project, "Notes from the visit", title="Visit to Room 12")
    assert saved.title == "Visit to [ROOM]"


def _ex_migrations(module, project, tmp_path):
    import fieldkit

    reopened = fieldkit.open(project.path)
    try:
        reopened.conn.execute("insert into example_visits_rooms (name, floor) values ('Room 12', 1)")
        assert reopened.conn.execute("select name, floor from example_visits_rooms").fetchall() == [("Room 12", 1)]
    finally:
        reopened.close()


EXAMPLES = {
    "register_migrations": _ex_migrations,
    "register_commands": _ex_commands, "register_exporters": _ex_exporters,
    "register_importers": _ex_importers, "register_detectors": _ex_detectors,
    "register_coders": _ex_coders, "register_codebooks": _ex_codebooks,
    "record_saved": _ex_record_saved, "validate_record": _ex_validate, "capture_record": _ex_capture,
}


def test_every_hook_example_has_a_check():
    assert sorted(EXAMPLES) == sorted(SPECS)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hook_example_runs(name, project, tmp_path):
    blocks = fenced(hook_sections()[name])
    assert len(blocks) >= 2, f"{name}: needs an example after the signature"
    module = types.ModuleType(f"hook_example_{name}")
    exec(compile(blocks[1], f"docs/plugins/hooks.md ({name})", "exec"), module.__dict__)
    assert hasattr(module, name), f"{name}: the example must implement the hook"
    with register_plugin(module, f"example-{name}"):
        EXAMPLES[name](module, project, tmp_path)


# --------------------------------------------------------------------------- records and configuration


def test_every_record_type_and_field_is_documented():
    import attrs

    from fieldkit.core.records import RECORD_TYPES, Record

    text = (DOCS / "records.md").read_text(encoding="utf-8")
    sections = dict(zip(*[iter(re.split(r"^## (.+)$", text, flags=re.MULTILINE)[1:])] * 2))
    common = {f.name for f in attrs.fields(Record)}
    documented_common = set(re.findall(r"^\| `(\w+)` \|", sections["Fields every record has"], re.MULTILINE))
    assert common <= documented_common
    for cls in RECORD_TYPES.values():
        assert cls.__name__ in sections, f"docs/records.md has no section for {cls.__name__}"
        documented = {name for cell in re.findall(r"^\| ([^|]+) \|", sections[cls.__name__], re.MULTILINE)
                      for name in re.findall(r"`(\w+)`", cell)}
        missing = {f.name for f in attrs.fields(cls)} - common - documented
        assert not missing, f"docs/records.md, {cls.__name__}: fields not documented: {sorted(missing)}"
        assert f"`{cls.type_name}`" in text


def test_every_setting_and_environment_variable_is_documented():
    from fieldkit.core.environment import VARIABLES
    from fieldkit.core.settings import SETTINGS

    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    missing = [key for key in SETTINGS if f"`{key}`" not in page]
    assert not missing, f"docs/configuration.md does not document settings: {missing}"
    used = set(VARIABLES)
    for path in (ROOT / "fieldkit").rglob("*.py"):
        used |= set(re.findall(r"\b(FIELDKIT_[A-Z_]+)\b", path.read_text(encoding="utf-8")))
    missing = sorted(var for var in used if f"`{var}`" not in page)
    assert not missing, f"docs/configuration.md does not document environment variables: {missing}"


# --------------------------------------------------------------------------- site


def nav_pages() -> list[str]:
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    pages = []

    def walk(items):
        for item in items:
            if isinstance(item, str):
                pages.append(item)
            elif isinstance(item, dict):
                for value in item.values():
                    walk(value) if isinstance(value, list) else pages.append(value)

    walk(config["nav"])
    return pages


def doc_pages() -> list[str]:
    return sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))


def test_every_page_is_in_the_nav_once():
    pages = nav_pages()
    assert sorted(pages) == doc_pages(), "mkdocs.yml nav must list every page under docs/ exactly once"


def test_index_links_every_page():
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(([\w/.-]+\.md)(?:#[\w-]*)?\)", index))
    missing = [p for p in doc_pages() if p != "index.md" and p not in linked]
    assert not missing, f"docs/index.md does not link: {', '.join(missing)}"


def test_mkdocs_build_strict(tmp_path):
    pytest.importorskip("mkdocs")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
         "-d", str(tmp_path / "site")],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert (tmp_path / "site" / "plugins" / "hooks" / "index.html").exists()


def test_ci_runs_the_readme_test_command_verbatim():
    """The README's second set-up command is what .ci/run runs, and each makes its own venv."""
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    block = readme.split("```bash", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(block) == 2, block
    for command in block:
        assert command.startswith("python3 -m venv .venv && . .venv/bin/activate && "), command
    ci = (root / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == block[1]
