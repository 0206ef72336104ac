"""The keys, anonymise and participant withdraw commands."""

from __future__ import annotations

import json
import stat

import fieldkit


def _keys(run, tmp_path, *extra):
    path = tmp_path / "outside" / "study.keys"
    result = run("keys", "init", str(path), *extra)
    assert result.exit_code == 0, result.output
    return path


def test_keys_init_add_list(run, tmp_path):
    path = _keys(run, tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert fieldkit.open(run.path).setting("keystore_path") == str(path.resolve())
    again = run("keys", "init", str(tmp_path / "other.keys"))
    assert again.exit_code == 1 and "already has a key store" in again.output
    result = run("keys", "add", "P03", "--name", "Dana Okafor", "--alias", "Dee", "--alias", "Rose")
    assert result.exit_code == 0 and "P03 registered" in result.output
    assert "common English word" in result.output  # the Rose warning
    listed = run("keys", "list")
    assert "P03" in listed.output and "Dana" not in listed.output
    shown = json.loads(run("keys", "list", "--show-names", "--json").output)
    assert shown[0]["name"] == "Dana Okafor" and shown[0]["aliases"] == ["Dee", "Rose"]
    assert "Dana" not in (run.path / "fieldkit.db").read_bytes().decode("latin-1")


def test_keys_encrypted_with_env_passphrase(run, tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDKIT_KEYS_PASSPHRASE", "s3cret pass")
    path = _keys(run, tmp_path, "--encrypt")
    assert run("keys", "add", "P03", "--name", "Dana Okafor").exit_code == 0
    assert b"Okafor" not in path.read_bytes()
    monkeypatch.setenv("FIELDKIT_KEYS_PASSPHRASE", "wrong")
    result = run("keys", "list")
    assert result.exit_code == 1 and "wrong passphrase" in result.output and "Traceback" not in result.output


def test_keys_without_store_is_one_line(run):
    result = run("keys", "list")
    assert result.exit_code == 1 and result.output.startswith("Error: ") and "keys init" in result.output


def test_keys_check_suggests_unregistered_names(run, tmp_path):
    _keys(run, tmp_path)
    run("keys", "add", "P03", "--name", "Dana Okafor")
    run("note", "Dana Okafor and Marek Lindqvist met; later Marek Lindqvist left.")
    result = run("keys", "check", "--json")
    rows = json.loads(result.output)
    assert {"text": "Marek Lindqvist", "count": 2} in rows
    assert not any("Dana" in r["text"] for r in rows)


def test_anonymise_record_preview_and_decisions(run, tmp_path):
    _keys(run, tmp_path)
    run("keys", "add", "P03", "--name", "Dana Okafor")
    run("note", "Dana Okafor at HMP Blackmoor, NINO QQ123456C, near the Blue Door.")
    project = fieldkit.open(run.path)
    rid = project.list("observation")[0].id
    shown = run("anonymise", rid)
    assert shown.output.strip() == "[P03] at [PRISON-1], NINO [NINO-1], near the Blue Door."
    preview = run("anonymise", rid, "--preview")
    assert "1. name (names): …" not in preview.output and "«Dana Okafor → [P03]»" in preview.output
    rows = json.loads(run("anonymise", rid, "--preview", "--json").stdout)
    prison = next(r["number"] for r in rows if r["kind"] == "prison")
    assert run("anonymise", rid, "--reject", str(prison)).exit_code == 0
    assert run("anonymise", "--add", "Blue Door", "--kind", "place").exit_code == 0
    shown = run("anonymise", rid)
    assert "HMP Blackmoor" in shown.output and "Blue Door" not in shown.output
    assert "[rejected]" in run("anonymise", rid, "--preview").output
    assert "«" in run("anonymise", "--all").output
    bad = run("anonymise", rid, "--accept", "99")
    assert bad.exit_code == 1 and "no replacement 99" in bad.output
    assert run("anonymise").exit_code == 1
    assert run("anonymise", "--add", "x").exit_code == 1


def test_participant_withdraw_asks_then_acts(run, tmp_path):
    _keys(run, tmp_path)
    run("keys", "add", "P03", "--name", "Dana Okafor")
    run("participant", "add", "P03")
    run("encounter", "add", "interview", "--with", "P03")
    run("note", "@P03 mentioned in passing")
    result = run("participant", "withdraw", "P03", input="n\n")
    assert result.exit_code == 1 and "redact" in result.output
    assert fieldkit.open(run.path).list("observation")[0].body == "@P03 mentioned in passing"
    result = run("participant", "withdraw", "P03", "--yes")
    assert result.exit_code == 0 and "P03 withdrawn" in result.output
    assert fieldkit.open(run.path).list("observation")[0].body == "[withdrawn] mentioned in passing"
    listed = run("keys", "list", "--show-names").output
    assert "withdrawn" in next(line for line in listed.splitlines() if "P03" in line)
    assert "Dana" not in listed
