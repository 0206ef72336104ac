"""Encryption at rest with SQLCipher: conversion without loss, clear errors."""

import io
import json

import pytest

import fieldkit
from fieldkit.fieldwork import capture
from fieldkit.store import encryption
from fieldkit.fieldwork import registers as fieldwork
from fieldkit.core.errors import FieldkitError, Refused
from fieldkit.store.connection import PassphraseNeeded, is_encrypted

pytest.importorskip("sqlcipher3")


def jsonl_dump(project) -> list:
    from fieldkit.exchange.jsonl import write_jsonl

    out = io.StringIO()
    write_jsonl(project, out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def make(path):
    project = fieldkit.init(path)
    fieldwork.add_participant(project, "P03", role="expert_by_experience")
    note = capture.note(project, "Fieldnote naming Dana Okafor at the north office #power @P03")
    capture.edit(project, note.id, "Fieldnote about the north office #power @P03", reason="anonymised by hand")
    capture.memo(project, "reflexive thoughts", kind="reflexive")
    return project


def test_encrypt_and_decrypt_without_loss(tmp_path):
    path = tmp_path / "p"
    project = make(path)
    before = jsonl_dump(project)
    project.close()
    encryption.encrypt(path, "correct horse")
    raw = (path / "fieldkit.db").read_bytes()
    assert is_encrypted(path / "fieldkit.db")
    assert b"Okafor" not in raw and b"north office" not in raw
    with pytest.raises(PassphraseNeeded):
        fieldkit.open(path)
    with pytest.raises(FieldkitError, match="wrong passphrase"):
        fieldkit.open(path, passphrase="battery staple")
    project = fieldkit.open(path, passphrase="correct horse")
    assert jsonl_dump(project) == before
    assert project.search("office")
    capture.jot(project, "written while encrypted")
    after_write = jsonl_dump(project)
    project.close()
    encryption.decrypt(path, "correct horse")
    assert not is_encrypted(path / "fieldkit.db")
    project = fieldkit.open(path)
    assert jsonl_dump(project) == after_write
    project.close()


def test_bulk_insert_into_an_encrypted_project_is_indexed(tmp_path):
    # the batch indexing (trigger dropped and remade in a savepoint) through SQLCipher
    from fieldkit.core.records import Memo, Observation

    path = tmp_path / "p"
    make(path).close()
    encryption.encrypt(path, "correct horse")
    project = fieldkit.open(path, passphrase="correct horse")
    project.add_many([Observation(body=f"bulk note {i} about the panel") for i in range(25)]
                     + [Memo(title="bulk memo", body="about the panel")], batch_size=10)
    for table in ("observations", "memos"):
        project.conn.execute(f"insert into [{table}_fts]([{table}_fts], rank) values ('integrity-check', 1)")
        assert project.conn.execute("select 1 from sqlite_master where name = ?", [f"{table}_ai"]).fetchone()
    assert len(project.search("panel", limit=100)) == 26
    project.close()


def test_passphrase_from_environment(tmp_path, monkeypatch):
    path = tmp_path / "p"
    make(path).close()
    encryption.encrypt(path, "from env")
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", "from env")
    project = fieldkit.open(path)
    assert project.count("observation") == 1
    project.close()


def test_refusals(tmp_path):
    path = tmp_path / "p"
    make(path).close()
    with pytest.raises(Refused):
        encryption.decrypt(path, "x")
    with pytest.raises(FieldkitError):
        encryption.encrypt(path, "")
    encryption.encrypt(path, "pw")
    with pytest.raises(Refused):
        encryption.encrypt(path, "pw")
    with pytest.raises(FieldkitError, match="wrong passphrase"):
        encryption.decrypt(path, "nope")
    assert fieldkit.open(path, passphrase="pw").count("observation") == 1


def test_cli_encrypt_wrong_passphrase(run, monkeypatch):
    run("jot", "a jotting")
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", "s3cret")
    assert run("encrypt").exit_code == 0
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", "wrong")
    result = run("list")
    assert result.exit_code == 1 and "wrong passphrase" in result.output and "Traceback" not in result.output
    monkeypatch.delenv("FIELDKIT_PASSPHRASE")
    result = run("list")  # no tty: no prompt, one clear line
    assert result.exit_code == 1 and "encrypted" in result.output
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", "s3cret")
    assert "a jotting" in run("list").output
    assert run("decrypt").exit_code == 0
    monkeypatch.delenv("FIELDKIT_PASSPHRASE")
    assert "a jotting" in run("list").output
