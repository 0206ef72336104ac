"""The key of the anonymisation digests lives in the key store, never in fieldkit.db or an
export (issue 12, point 5): a digest next to its key confirms a guessed name."""

from __future__ import annotations

import hashlib
import hmac
import sqlite3

import pytest

import fieldkit
from fieldkit.core.errors import FieldkitError, Refused
from fieldkit.exchange.exporting import ExportOptions, run_export
from fieldkit.fieldwork.capture import note
from fieldkit.privacy import anonymiser as an
from fieldkit.privacy.keystore import KeyStore

LEGACY = bytes(range(32))


def db_secret(project) -> list:
    return project.conn.execute("select secret from anonymisation_secret").fetchall()


def oracle(key: bytes, text: str) -> str:
    """The digest as the anonymisation tables store it, written out independently."""
    return hmac.new(key, " ".join(text.casefold().split()).encode(), hashlib.sha256).hexdigest()[:24]


def legacy_project(path):
    """A project as an earlier fieldkit left it: its digest key in fieldkit.db and a review
    decision keyed with it."""
    p = fieldkit.init(path)
    with p.transaction():
        p.conn.execute("insert into anonymisation_secret (id, secret) values (1, ?)", [LEGACY.hex()])
        p.store.anonymisation.decide("R1", 0, 5, oracle(LEGACY, "Brixworth"), "reject", "place")
    return p


def test_a_new_project_keeps_no_digest_key_and_its_key_store_gets_one(project, tmp_path):
    assert db_secret(project) == []
    store = an.create_keystore(project, tmp_path / "keys" / "s.keys")
    key = store.digest_key()
    store.close()
    assert key is not None and len(key) == 32
    assert db_secret(project) == []
    digest = an.add_rule(project, "Tennyson Lodge", "place")
    assert digest == oracle(key, "Tennyson Lodge")


def test_a_legacy_key_moves_into_the_key_store_and_digests_stay_equal(tmp_path):
    p = legacy_project(tmp_path / "old")
    try:
        assert db_secret(p) == [(LEGACY.hex(),)]
        from fieldkit.store.maintenance import doctor

        assert [f.check for f in doctor(p)].count("digest key") == 1
        store = an.create_keystore(p, tmp_path / "keys" / "s.keys")
        assert store.digest_key() == LEGACY
        store.close()
        assert db_secret(p) == []
        assert "digest key" not in [f.check for f in doctor(p)]
        assert an._secret(p) == LEGACY
        assert any(e["action"] == "move_digest_key" for e in p.audit_log())
    finally:
        p.close()


def test_a_move_interrupted_between_the_two_files_is_finished_next_time(tmp_path, monkeypatch):
    p = legacy_project(tmp_path / "old")
    keys = tmp_path / "keys" / "s.keys"
    KeyStore.create(keys).close()
    p.set_setting("keystore_path", str(keys))
    tables = type(p.store.anonymisation)

    def killed(self):
        raise KeyboardInterrupt  # stands for the process dying after the key store committed

    monkeypatch.setattr(tables, "drop_secret", killed)
    with pytest.raises(KeyboardInterrupt):
        an._secret(p)
    monkeypatch.undo()
    with KeyStore.open(keys) as store:
        assert store.digest_key() == LEGACY  # committed in the key store ...
    assert db_secret(p) == [(LEGACY.hex(),)]  # ... and still in the project: nothing lost
    assert an._secret(p) == LEGACY  # the next run finishes the move
    assert db_secret(p) == []
    p.close()


def test_a_key_store_with_another_key_is_refused_and_nothing_moves(tmp_path):
    p = legacy_project(tmp_path / "old")
    keys = tmp_path / "keys" / "s.keys"
    with KeyStore.create(keys) as store:
        store.keep_digest_key(b"\x01" * 32)
    p.set_setting("keystore_path", str(keys))
    with pytest.raises(FieldkitError, match="another project's digest key"):
        an._secret(p)
    assert db_secret(p) == [(LEGACY.hex(),)]
    p.close()


def test_an_encrypted_key_store_holds_the_key_sealed(tmp_path):
    p = legacy_project(tmp_path / "old")
    store = an.create_keystore(p, tmp_path / "keys" / "s.keys", passphrase="correct horse")
    store.close()
    raw = (tmp_path / "keys" / "s.keys").read_bytes()
    assert LEGACY not in raw and LEGACY.hex().encode() not in raw
    import base64

    assert base64.b64encode(LEGACY) not in raw
    with KeyStore.open(tmp_path / "keys" / "s.keys", "correct horse") as store:
        assert store.digest_key() == LEGACY
    p.close()


def test_no_export_and_no_backup_carries_the_key(tmp_path):
    p = legacy_project(tmp_path / "old")
    note(p, "A note about the visit.")
    run_export(p, "jsonl", tmp_path / "before.jsonl", ExportOptions(anonymise=False))
    text = (tmp_path / "before.jsonl").read_text(encoding="utf-8")
    assert LEGACY.hex() not in text and "anonymisation_secret" not in text
    an.create_keystore(p, tmp_path / "keys" / "s.keys").close()
    from fieldkit.store.maintenance import backup

    backup(p, tmp_path / "backup")
    copy = sqlite3.connect(tmp_path / "backup" / "fieldkit.db")
    assert copy.execute("select count(*) from anonymisation_secret").fetchone()[0] == 0
    copy.close()
    p.close()


def test_a_legacy_backup_restores_its_key_which_then_moves(tmp_path):
    """A JSONL backup written before the move holds the key; restoring it keeps its digests."""
    import json

    p = legacy_project(tmp_path / "old")
    dump = tmp_path / "legacy.jsonl"
    run_export(p, "jsonl", dump, ExportOptions(anonymise=False))
    p.close()
    lines = dump.read_text(encoding="utf-8").splitlines()
    lines.insert(2, json.dumps({"table": "anonymisation_secret", "row": {"id": 1, "secret": LEGACY.hex()}}))
    dump.write_text("\n".join(lines) + "\n", encoding="utf-8")
    q = fieldkit.init(tmp_path / "restored")
    from fieldkit.exchange.importing import run_importer

    run_importer(q, "jsonl", dump)
    assert db_secret(q) == [(LEGACY.hex(),)]
    an.create_keystore(q, tmp_path / "keys" / "r.keys").close()
    assert db_secret(q) == [] and an._secret(q) == LEGACY
    q.close()


def test_decisions_need_a_key_store(project):
    n = note(project, "Met at Brixworth.")
    with pytest.raises(Refused, match="fieldkit keys init"):
        an.add_rule(project, "Brixworth", "place")
    with pytest.raises(Refused, match="fieldkit keys init"):
        an.record_decision(project, n, 7, 16, "0" * 24, "reject", "place")
    assert project.conn.execute("select count(*) from anonymisation_decisions").fetchone()[0] == 0


MOVER = """
import sys, fieldkit
from fieldkit.privacy import anonymiser as an
p = fieldkit.open(sys.argv[1])
an._secret(p)
p.close()
"""


def test_sigkill_at_any_moment_of_the_move_loses_no_key(tmp_path):
    """20 moves killed at random moments: the key is always somewhere, never two different
    keys, and the next run always ends with it in the key store only, digests unchanged."""
    import os
    import random
    import signal
    import subprocess
    import sys
    import time

    rng = random.Random(12)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")}, "FIELDKIT_LOAD_PLUGINS": ""}
    outcomes = set()
    for trial in range(20):
        path = tmp_path / f"p{trial}"
        p = legacy_project(path)
        keys = tmp_path / f"k{trial}.keys"
        KeyStore.create(keys).close()
        p.set_setting("keystore_path", str(keys))
        p.close()
        proc = subprocess.Popen([sys.executable, "-c", MOVER, str(path)], env=env)
        time.sleep(rng.uniform(0.05, 0.9))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        p = fieldkit.open(path)
        with KeyStore.open(keys) as store:
            held = store.digest_key()
        in_db = db_secret(p)
        assert held in (None, LEGACY) and (in_db or held == LEGACY), (trial, held, in_db)
        outcomes.add(("db" if in_db else "") + ("+keys" if held else ""))
        assert an._secret(p) == LEGACY and db_secret(p) == []
        p.close()
    assert len(outcomes) >= 2, outcomes  # the kills landed at different moments
