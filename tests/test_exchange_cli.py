"""The ``export``, ``import`` and ``demo`` commands: thin, one-line errors, nothing half-written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import fieldkit
from fieldkit.cli import cli

from test_exports import build_sample, read_csv

FIXTURES = Path(__file__).parent / "fixtures" / "imports"


@pytest.fixture(autouse=True)
def _cli_as_it_was():
    """Running plugin commands loads every installed plugin's commands into the shared CLI;
    put it back afterwards so later tests (the docs reference) see only what they expect."""
    from fieldkit import testing

    snapshot = testing._snapshot_cli()
    yield
    testing._restore_cli(snapshot)


@pytest.fixture
def sample_path(tmp_path):
    build_sample(tmp_path / "sample").close()
    return tmp_path / "sample"


def invoke(path, *args):
    return CliRunner().invoke(cli, ["--project", str(path), *args], catch_exceptions=False)


def test_export_prints_summary(sample_path, tmp_path):
    result = invoke(sample_path, "export", "csv", str(tmp_path / "out"), "--raw")
    assert result.exit_code == 0, result.output
    assert "csv: wrote" in result.output and "(NOT anonymised)" in result.output
    assert "rows in quotes.csv" in result.output
    assert "NOT anonymised; this export contains" in result.stderr
    assert (tmp_path / "out" / "quotes.csv").exists()


def test_export_refuses_to_overwrite_without_force(sample_path, tmp_path):
    target = tmp_path / "r.html"
    target.write_text("my own file")
    result = invoke(sample_path, "export", "html", str(target), "--raw")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {target} exists; pass --force to replace it"
    assert target.read_text() == "my own file"
    result = invoke(sample_path, "export", "html", str(target), "--raw", "--force")
    assert result.exit_code == 0 and "<!DOCTYPE html>" in target.read_text()


def test_jsonl_needs_raw(sample_path, tmp_path):
    result = invoke(sample_path, "export", "jsonl", str(tmp_path / "b.jsonl"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: jsonl is the lossless backup format")
    assert "Traceback" not in result.output
    assert not (tmp_path / "b.jsonl").exists()


def test_backup_and_restore_on_the_command_line(sample_path, tmp_path):
    backup = tmp_path / "b.jsonl"
    assert invoke(sample_path, "export", "jsonl", str(backup), "--raw").exit_code == 0
    assert CliRunner().invoke(cli, ["init", str(tmp_path / "new")]).exit_code == 0
    result = invoke(tmp_path / "new", "import", "jsonl", str(backup))
    assert result.exit_code == 0, result.output
    assert "jsonl: imported from" in result.output and "observations rows" in result.output
    restored = fieldkit.open(tmp_path / "new")
    assert restored.count("observation") == 4
    restored.close()


def test_unknown_format_is_one_line(sample_path, tmp_path):
    result = invoke(sample_path, "export", "pdf", str(tmp_path / "x.pdf"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no export format 'pdf'; choose from ")
    assert len(result.stderr.strip().splitlines()) == 1
    result = invoke(sample_path, "import", "pdf", str(FIXTURES / "zoom.vtt"))
    assert result.exit_code == 1 and result.stderr.startswith("Error: no import format 'pdf'")


def test_help_lists_registered_formats(sample_path):
    result = invoke(sample_path, "export", "--help")
    assert "Formats:" in result.output
    for name in ("jsonl", "markdown", "csv", "html", "docx", "codebook"):
        assert f"  {name} " in result.output
    result = invoke(sample_path, "import", "--help")
    for name in ("jsonl", "markdown", "transcript", "codebook"):
        assert f"  {name} " in result.output


def test_selection_options(sample_path, tmp_path):
    result = invoke(sample_path, "export", "csv", str(tmp_path / "e1"), "--raw", "-e", "E1", "--stage", "fieldnote",
                    "--type", "observation")
    assert result.exit_code == 0, result.output
    rows = read_csv(tmp_path / "e1" / "observations.csv")
    assert [r["text"][:9] for r in rows] == ["Full note"]
    result = invoke(sample_path, "export", "csv", str(tmp_path / "days"), "--raw", "--since", "2026-03-12",
                    "--until", "2026-03-12", "--type", "observation")
    assert result.exit_code == 0, result.output
    assert "since: Thu 12 Mar 2026" in result.stderr
    rows = read_csv(tmp_path / "days" / "observations.csv")
    assert [r["text"][:16] for r in rows] == ["Focus group note"]  # --until with a date includes that whole day
    result = invoke(sample_path, "export", "csv", str(tmp_path / "bad"), "--raw", "--code", "nonsense")
    assert result.exit_code == 1 and "no code 'nonsense'" in result.stderr
    assert not (tmp_path / "bad").exists()


def test_passphrase_env_must_be_set(sample_path, tmp_path, monkeypatch):
    monkeypatch.delenv("FK_TEST_PASSPHRASE", raising=False)
    result = invoke(sample_path, "export", "csv", str(tmp_path / "x"), "--passphrase-env", "FK_TEST_PASSPHRASE")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: environment variable FK_TEST_PASSPHRASE is not set"


def test_progress_bar_goes_to_stderr(sample_path, tmp_path):
    # (click draws the bar on a terminal; into a pipe it writes only the label, once)
    result = invoke(sample_path, "export", "markdown", str(tmp_path / "md"), "--raw", "--progress")
    assert result.exit_code == 0
    assert result.stderr.splitlines()[0] == "markdown"
    assert result.stdout.startswith("markdown: wrote")
    result = invoke(sample_path, "export", "markdown", str(tmp_path / "md2"), "--raw")
    assert result.stderr.splitlines()[0].startswith("Warning")


def test_import_transcript_with_speakers(sample_path):
    result = invoke(sample_path, "import", "transcript", str(FIXTURES / "zoom.vtt"), "-e", "E1",
                    "--speaker", "Interviewer=P07", "-t", "interview")
    assert result.exit_code == 0, result.output
    assert "1 fieldnotes" in result.output and "2 turns" in result.output
    project = fieldkit.open(sample_path)
    bodies = [o.body for o in project.list("observation", encounter="E1")]
    assert any(b.startswith("[00:00:00] P07: Shall we start?") for b in bodies)
    project.close()


def test_import_refusal_lists_problems(sample_path):
    result = invoke(sample_path, "import", "transcript", str(FIXTURES / "interview.vtt"), "-e", "E1")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: nothing imported from")
    assert "--allow-unknown" in result.stderr
    result = invoke(sample_path, "import", "markdown", str(FIXTURES / "bad-notes"))
    assert result.exit_code == 1
    assert result.stderr.count("problem: ") == 2 and "Error: nothing imported" in result.stderr


def test_import_bad_option_syntax(sample_path):
    result = invoke(sample_path, "import", "transcript", str(FIXTURES / "zoom.vtt"), "-e", "E1", "--speaker", "P07")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: --speaker needs LABEL=VALUE, got 'P07'"


def test_import_dry_run(sample_path):
    result = invoke(sample_path, "import", "markdown", str(FIXTURES / "notes"), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would import" in result.output and "2 fieldnotes" in result.output
    result = invoke(sample_path, "import", "codebook", str(FIXTURES / "codebook.json"), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would import" in result.output and "dry run" in result.output
    project = fieldkit.open(sample_path)
    assert "debrief" not in {c.name for c in project.list("code")}
    assert project.count("observation") == 4
    project.close()


def test_demo_refuses_a_folder_with_files(tmp_path):
    folder = tmp_path / "busy"
    folder.mkdir()
    (folder / "thesis.docx").write_text("x")
    result = CliRunner().invoke(cli, ["demo", str(folder)], catch_exceptions=False)
    assert result.exit_code == 1
    assert "exists and is not empty" in result.stderr
    assert [p.name for p in folder.iterdir()] == ["thesis.docx"]


def test_help_does_not_import_heavy_modules():
    code = ("import sys; from fieldkit.cli import cli; from click.testing import CliRunner; "
            "r = CliRunner().invoke(cli, ['--help']); assert 'export' in r.output and 'demo' in r.output, r.output; "
            "heavy = [m for m in ('sqlite_utils', 'cattrs', 'markdown_it', 'yaml', 'docx') if m in sys.modules]; "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
