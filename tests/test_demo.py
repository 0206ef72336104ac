"""``fieldkit demo``: the whole pipeline on a fictional study, end to end.

These tests call every step for real. While a module the demo needs is missing (auto-coding,
agreement, anonymisation, the built-in codebook) they FAIL, naming the missing step: the demo
is the integration check of the whole project and must not skip quietly.
"""

from __future__ import annotations

import csv
import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import fieldkit
from fieldkit import demo
from fieldkit.cli import cli
from fieldkit.core.errors import Refused

NAMES = [name for _, full, aliases in demo.PEOPLE for name in (*full.split(), *aliases)]


@pytest.fixture(autouse=True)
def _cli_as_it_was():
    """Running plugin commands loads every installed plugin's commands into the shared CLI;
    put it back afterwards so later tests (the docs reference) see only what they expect."""
    from fieldkit import testing

    snapshot = testing._snapshot_cli()
    yield
    testing._restore_cli(snapshot)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo") / "fieldkit-demo"
    started = time.perf_counter()
    result = demo.build_demo(folder)
    return result, time.perf_counter() - started


def test_demo_builds_everything_quickly(built):
    result, seconds = built
    assert result.failures == []
    assert seconds < 30, f"the demo took {seconds:.1f}s; keep it under ~20s"
    lines = result.summary_lines()
    assert lines[0] == f"Demo project: {result.path / 'project'}"
    assert any(line.startswith("Agreement (coder-a, coder-b") for line in lines)
    assert any(line.startswith("Auto-coding: auto:keywords") for line in lines)


def test_every_registered_exporter_wrote_its_file(built):
    from fieldkit.hooks.manager import exporters

    result, _ = built
    written = {name: path for name, path, _ in result.exports}
    assert set(written) == set(exporters())
    for name, path in written.items():
        assert path.exists(), name
        assert str(path) in "\n".join(result.summary_lines())


def test_the_demo_project_is_a_real_project(built):
    result, _ = built
    project = fieldkit.open(result.project)
    try:
        assert {e.code for e in project.list("encounter")} == {"E1", "E2", "E3"}
        kinds = {e.kind for e in project.list("encounter")}
        assert kinds == {"inspection_meeting", "interview", "focus_group"}
        assert project.list("observation", stage="jotting")
        fieldnote = project.list("observation", encounter="E1", stage="fieldnote")[0]
        assert "> OC:" in fieldnote.body and fieldnote.derived_from
        assert {m.kind for m in project.list("memo")} >= {"analytic", "reflexive", "methodological"}
        coders = {c.coder for c in project.list("coding")}
        assert {"coder-a", "coder-b", "auto:keywords"} <= coders
        from fieldkit.privacy.consent import current_consent

        assert current_consent(project, "P06").status == "withdrawn"
        assert "quotes" not in current_consent(project, "P07").scopes
        # the key store lives outside the project folder (copies of the project never carry it)
        assert result.keystore and result.keystore.exists()
        assert not result.keystore.resolve().is_relative_to(result.project.resolve())
        assert project.setting("keystore_path") == str(result.keystore.resolve())
    finally:
        project.close()


def _anonymised_files(result):
    for name, path, _ in result.exports:
        if name == "jsonl":
            continue  # the lossless backup is raw by design
        files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
        yield from files


def _text_of(path: Path) -> str:
    if path.suffix in (".docx", ".qdpx"):
        import zipfile

        with zipfile.ZipFile(path) as archive:
            return "\n".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist()
                             if n.endswith((".xml", ".txt", ".qde")))
    return path.read_text(encoding="utf-8-sig", errors="replace")


def test_no_registered_name_reaches_an_anonymised_export(built):
    result, _ = built
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, NAMES)) + r")\b")
    for path in _anonymised_files(result):
        found = pattern.findall(_text_of(path))
        assert not found, f"{path.name} contains {sorted(set(found))}"


def test_the_raw_backup_keeps_everything(built):
    result, _ = built
    backup = dict((n, p) for n, p, _ in result.exports)["jsonl"]
    text = backup.read_text(encoding="utf-8")
    assert "Helen, the lead inspector" in text  # as the researcher wrote it
    assert "Dana Whitlock" not in text  # the caption label was mapped to P03 on import


def test_withdrawn_and_no_quote_consent_are_respected(built):
    result, _ = built
    paths = dict((n, p) for n, p, _ in result.exports)
    csv_folder = paths["csv"]
    with open(csv_folder / "observations.csv", encoding="utf-8-sig", newline="") as handle:
        bodies = [row["text"] for row in csv.DictReader(handle)]
    assert not any("@P06" in b for b in bodies)  # the jotting about the withdrawn participant
    with open(csv_folder / "participants.csv", encoding="utf-8-sig", newline="") as handle:
        assert "P06" not in {row["code"] for row in csv.DictReader(handle)}
    with open(csv_folder / "quotes.csv", encoding="utf-8-sig", newline="") as handle:
        quotes = [row for row in csv.DictReader(handle)]
    assert quotes
    from_e3 = [row["quote"] for row in quotes if row["encounter"] == "E3"]
    # consent to quote is the speaker's: P01's words in the focus group, never P07's
    assert any("real co-design" in q for q in from_e3)
    assert not any("brings it all back" in q for q in from_e3)
    summary = "\n".join(line for _, _, lines in result.exports for line in lines)
    assert "consent" in summary and "left out" in summary


def test_demo_refuses_a_used_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(Refused, match="not empty"):
        demo.build_demo(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_demo_command_prints_where_things_are(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Demo project: fieldkit-demo/project" in result.output
    assert "fieldkit-demo/exports/demo.html" in result.output
    assert (tmp_path / "fieldkit-demo" / "project" / "fieldkit.db").exists()


def test_demo_skips_an_export_whose_optional_extra_is_missing(tmp_path, monkeypatch):
    """`pip install .` has no python-docx: the demo still succeeds and says what it skipped."""
    import sys

    from fieldkit.demo import build_demo

    monkeypatch.setitem(sys.modules, "docx", None)  # as if python-docx were not installed
    result = build_demo(tmp_path / "demo")
    assert [name for name, _ in result.skipped] == ["docx"]
    assert "fieldkit[docx]" in result.skipped[0][1]
    assert not result.failures
    assert "docx" not in [name for name, *_ in result.exports]
    assert any("skipped" in line for line in result.summary_lines())


def test_every_internal_link_of_the_html_report_has_a_target(built):
    result, _ = built
    page = dict((name, path) for name, path, _ in result.exports)["html"]
    html = Path(page).read_text(encoding="utf-8")
    targets = set(re.findall(r'\bid="([^"]+)"', html))
    links = re.findall(r'href="#([^"]*)"', html)
    assert links and [link for link in links if link not in targets] == []
