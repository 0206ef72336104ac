"""The ``code``, ``codebook``, ``autocode`` and ``agreement`` commands, through click's CliRunner."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import fieldkit
from fieldkit.cli import cli

NOTE = "The LI hands the intro to the EbE; the SPO checks phone. Later the SPO checks phone again."


@pytest.fixture
def fk(tmp_path):
    path = tmp_path / "study"
    fieldkit.init(path).close()

    def run(*args, input=None, ok=True):
        result = CliRunner().invoke(cli, ["--project", str(path), *args], input=input)
        if ok:
            assert result.exit_code == 0, (result.output, result.stderr if hasattr(result, "stderr") else "")
        return result

    run.path = path
    return run


@pytest.fixture
def noted(fk):
    fk("participant", "add", "P03", "--role", "expert_by_experience")
    fk("participant", "add", "P07", "--role", "inspector")
    fk("site", "add", "S2")
    fk("encounter", "add", "inspection_meeting", "--with", "P03,P07", "--site", "S2")
    note_id = json.loads(fk("note", "-e", "E1", "--json", NOTE).output)["id"]
    fk("codebook", "add", "power", "--definition", "Who holds sway", "--colour", "#aa0000")
    fk("codebook", "add", "asymmetry", "--parent", "power", "-k", "phrase:checks phone")
    return fk, note_id


def error_line(result):
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


def test_apply_by_quote_and_occurrence(noted):
    fk, note_id = noted
    out = fk("code", "apply", note_id[-8:], "power-asymmetry" if False else "asymmetry",
             "--quote", "checks phone", "--occurrence", "2").output
    assert "'power/asymmetry' on [71, 83) by tester" in out
    data = json.loads(fk("code", "apply", note_id, "power", "--quote", "hands the intro", "--coder", "bob",
                         "--json").output)
    assert (data["start"], data["end"], data["coder"]) == (7, 22, "bob")
    fk("code", "apply", "E1", "power", "--whole")
    listed = json.loads(fk("code", "list", "--json").output)
    assert {(r["code"], r["text"]) for r in listed} == {
        ("power/asymmetry", "checks phone"), ("power", "hands the intro"), ("power", "E1")}


def test_apply_errors_are_one_line(noted):
    fk, note_id = noted
    line = error_line(fk("code", "apply", note_id, "asymmetry", "--quote", "checks phone", ok=False))
    assert "occurs 2 times" in line and "1 at 43" in line and "2 at 71" in line and "--occurrence" in line
    assert "not found" in error_line(fk("code", "apply", note_id, "asymmetry", "--quote", "reads", ok=False))
    assert "no code 'nosuch'" in error_line(fk("code", "apply", note_id, "nosuch", "--whole", ok=False))
    assert "no record 'ZZZZZZZZ'" in error_line(fk("code", "apply", "ZZZZZZZZ", "power", "--whole", ok=False))
    assert "do not fit" in error_line(fk("code", "apply", note_id, "power", "--start", "5", "--end", "999",
                                         ok=False))
    assert "whole" in error_line(fk("code", "apply", "E1", "power", "--quote", "x", ok=False))
    assert json.loads(fk("code", "list", "--json").output) == []


def test_remove_and_review_flow(noted):
    fk, note_id = noted
    cid = json.loads(fk("code", "apply", note_id, "asymmetry", "-q", "checks phone", "-n", "1", "--json").output)["id"]
    keep = json.loads(fk("code", "apply", note_id, "power", "-q", "hands the intro", "--json").output)["id"]
    edited = NOTE.replace("the SPO checks phone. Later", "later")
    fk("edit", note_id, "--from-file", "-", input=edited)
    review = fk("code", "review").output
    assert cid[-8:] in review and keep[-8:] not in review
    assert json.loads(fk("code", "review", "--json").output)[0]["id"] == cid
    fk("code", "review", cid, "--quote", "checks phone")
    assert json.loads(fk("code", "review", "--json").output) == []
    assert fk("code", "review", "--ok", ok=False).exit_code == 2  # usage error: which coding?
    fk("code", "remove", keep, "--reason", "mistake")
    assert keep not in fk("code", "list", "--json").output


def test_segments_freq_cooccur_matrix(noted):
    fk, note_id = noted
    fk("code", "apply", note_id, "asymmetry", "-q", "checks phone", "-n", "2")
    fk("code", "apply", note_id, "power", "-q", "SPO checks", "-n", "2")
    fk("code", "apply", "E1", "power", "--whole")
    seg = fk("code", "segments", "power").output
    assert "[checks phone]" in seg and "[SPO checks]" in seg
    seg_json = json.loads(fk("code", "segments", "power", "--no-descendants", "--json").output)
    assert {r["code"] for r in seg_json} == {"power"}
    freq = json.loads(fk("code", "freq", "--by", "role", "--json").output)
    assert {"code": "power", "role": "inspector", "codings": 2, "records": 2} in freq
    csv_out = fk("code", "freq", "--csv").output.splitlines()
    assert csv_out[0] == "code,codings,records" and "power,2,2" in csv_out
    co = json.loads(fk("code", "cooccur", "--json").output)
    assert co == [{"code_a": "power", "code_b": "power/asymmetry", "overlaps": 1, "records": 1}]  # E1 is another record
    table = fk("code", "matrix", "--by", "role").output
    assert "expert_by_experience" in table and "inspector" in table
    assert "unknown attribute" in error_line(fk("code", "matrix", "--by", "shoe", ok=False))


def test_codebook_commands(noted, tmp_path):
    fk, note_id = noted
    fk("codebook", "add", "control", "-k", "word:control")
    fk("code", "apply", note_id, "control", "-q", "hands")
    fk("codebook", "rename", "control", "steering", "--reason", "clearer")
    fk("codebook", "move", "steering", "power")
    shown = fk("codebook", "show").output
    assert "  steering" in shown and "Who holds sway" in shown
    assert "under its own descendant" in error_line(fk("codebook", "move", "power", "power/steering", ok=False))
    out = fk("codebook", "merge", "power/steering", "power/asymmetry").output
    assert "1 coding(s) moved" in out
    assert "merged" in fk("codebook", "show", "--all").output
    assert "was merged into 'power/asymmetry'" in error_line(
        fk("code", "apply", note_id, "power/steering", "--whole", ok=False))
    fk("codebook", "retire", "power/asymmetry")
    fk("codebook", "restore", "power/asymmetry")
    one = json.loads(fk("codebook", "show", "asymmetry", "--json").output)
    assert one["codings"] == 1 and {"word": "control"} in one["keywords"]
    dest = tmp_path / "book.yaml"
    fk("codebook", "export", str(dest))
    assert "--force" in error_line(fk("codebook", "export", str(dest), ok=False))
    fk("codebook", "export", str(dest), "--force")
    assert "name: asymmetry" in dest.read_text(encoding="utf-8")
    assert '"name": "power"' in fk("codebook", "export", "--format", "json").output


def test_codebook_load_file_and_errors(fk, tmp_path):
    book = tmp_path / "b.yaml"
    book.write_text("name: b\ncodes:\n  - name: one\n    children:\n      - name: two\n", encoding="utf-8")
    assert "2 added" in fk("codebook", "load", str(book)).output
    assert "0 added, 2 unchanged" in fk("codebook", "load", str(book)).output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: b\ncodes: [oops\n", encoding="utf-8")
    assert "invalid YAML" in error_line(fk("codebook", "load", str(bad), ok=False))
    assert "no codebook named 'nothing'" in error_line(fk("codebook", "load", "nothing", ok=False))
    assert "used by" not in fk("codebook", "delete", "one/two", "--reason", "test").output


def test_codebook_load_coproduction(fk):
    from fieldkit.hooks.manager import codebooks

    assert "coproduction" in codebooks()
    out = fk("codebook", "load", "coproduction").output
    assert "added" in out
    rows = json.loads(fk("codebook", "show", "--json").output)
    assert any(r["keywords"] for r in rows)


def test_autocode_commands(noted):
    fk, note_id = noted
    out = fk("autocode", "--all").output
    assert "auto:keywords: 2 new proposal(s)" in out
    assert "0 new" in fk("autocode", note_id).output
    pending = json.loads(fk("autocode", "list", "--json").output)
    assert len(pending) == 2
    fk("autocode", "accept", pending[0]["id"], "--as", "alice")
    fk("autocode", "reject", "--all", "--reason", "only one wanted")
    assert json.loads(fk("autocode", "list", "--json").output) == []
    assert "keywords" in fk("autocode", "coders").output
    assert "or --all" in error_line(fk("autocode", ok=False))
    assert "no auto-coder named 'nope'" in error_line(fk("autocode", "--coder", "nope", "--all", ok=False))
    agree = fk("agreement", "--coders", "alice,auto:keywords").output
    # the rejected proposal is gone; the accepted one matches alice's copy
    assert "power/asymmetry" in agree and "100.0%" in agree and "Disagreements: 0" in agree


def test_agreement_command(noted):
    fk, note_id = noted
    fk("code", "apply", note_id, "asymmetry", "-q", "checks phone", "-n", "1", "--coder", "alice")
    fk("code", "apply", note_id, "asymmetry", "-q", "checks phone", "-n", "1", "--coder", "bob")
    fk("code", "apply", note_id, "asymmetry", "-q", "checks phone", "-n", "2", "--coder", "bob")
    fk("code", "apply", "E1", "power", "--whole", "--coder", "carol")
    table = fk("agreement", "--coders", "alice,bob").output
    assert "power/asymmetry" in table and "(overall)" in table and "cohen" in table
    assert "Disagreements: 1" in table and "checks phone" in table
    data = json.loads(fk("agreement", "--coders", "alice,bob", "--unit", "segment", "--json").output)
    assert data["unit"] == "segment" and data["rows"][0]["units"] == 2
    assert data["rows"][0]["percent"] == 0.5
    csv_lines = fk("agreement", "--coders", "alice,bob", "--csv").output.splitlines()
    assert csv_lines[0].startswith("code,units,percent,cohen_kappa")
    three = fk("agreement", "--coders", "alice,bob,carol").output
    assert "coded by only one coder" in three and "cohen" not in three.splitlines()[2]
    assert "at least two coders" in error_line(fk("agreement", "--coders", "alice", ok=False))
    assert "have no codings" in error_line(fk("agreement", "--coders", "alice,zed", ok=False))
    assert "overlap" in error_line(fk("agreement", "--coders", "alice,bob", "--overlap", "0", ok=False))


def test_help_lists_the_commands(fk):
    out = CliRunner().invoke(cli, ["--help"]).output
    for name in ("code", "codebook", "autocode", "agreement"):
        assert f"  {name} " in out
