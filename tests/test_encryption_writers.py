"""Encryption without loss while others write (issue 12, point 6): 8 writer processes jot
while the project is encrypted and then decrypted; every jot a writer saw succeed is in the
final file, and every other jot failed with one clear fieldkit error and left nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

import fieldkit
from fieldkit.store import encryption

pytest.importorskip("sqlcipher3")

WRITERS = 8
PASSPHRASE = "correct horse battery"

# Each writer keeps its connection as long as it works (so a connection opened before a
# conversion is exercised) and opens the project again after a clean failure.
WRITER = textwrap.dedent("""
    import sys, time
    import fieldkit
    from fieldkit.core.errors import FieldkitError
    from fieldkit.fieldwork.capture import jot

    path, name, stop = sys.argv[1], sys.argv[2], sys.argv[3]
    project, i = None, 0
    import os
    while not os.path.exists(stop) or i < 5:
        body = f"writer {name} jot {i}"
        try:
            if project is None:
                project = fieldkit.open(path)
            jot(project, body)
            print("ok", body, flush=True)
        except FieldkitError as exc:
            print("failed", body, "|", str(exc).splitlines()[0], flush=True)
            if project is not None:
                project.close()
            project = None
        i += 1
        time.sleep(0.003)
    if project is not None:
        project.close()
""")


def _bodies(path) -> list:
    project = fieldkit.open(path, passphrase=os.environ.get("FIELDKIT_PASSPHRASE"))
    try:
        return [o.body for o in project.list("observation")]
    finally:
        project.close()


def _wait_for_lines(outputs, n, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(sum(1 for _ in open(f)) >= n for f in outputs):
            return
        time.sleep(0.05)
    raise AssertionError("writers did not start")


def test_no_jot_is_lost_while_encrypt_and_decrypt_run(tmp_path, monkeypatch):
    path = tmp_path / "study"
    fieldkit.init(path).close()
    stop = tmp_path / "stop"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")},
           "FIELDKIT_PASSPHRASE": PASSPHRASE, "FIELDKIT_AUTHOR": "writer", "FIELDKIT_LOAD_PLUGINS": ""}
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", PASSPHRASE)
    outputs = [tmp_path / f"writer-{n}.txt" for n in range(WRITERS)]
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(n), str(stop)], env=env,
                              stdout=open(out, "w"), stderr=subprocess.PIPE, text=True)
             for n, out in enumerate(outputs)]
    try:
        _wait_for_lines(outputs, 3)
        encryption.encrypt(path, PASSPHRASE)
        _wait_for_lines(outputs, 15)
        encryption.decrypt(path, PASSPHRASE)
        _wait_for_lines(outputs, 25)
    finally:
        stop.touch()
        errors = [p.communicate(timeout=120)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    assert not any("Traceback" in e for e in errors), errors
    ok, failed = set(), {}
    for out in outputs:
        for line in out.read_text().splitlines():
            status, rest = line.split(" ", 1)
            if status == "ok":
                ok.add(rest)
            else:
                body, message = rest.split(" | ", 1)
                failed[body] = message
    stored = _bodies(path)
    assert len(stored) == len(set(stored))
    lost = ok - set(stored)
    assert not lost, f"{len(lost)} jot(s) reported saved are missing: {sorted(lost)[:5]}"
    assert not set(failed) & set(stored), "a jot reported as failed was written"
    assert len(ok) > WRITERS * 10
    for message in failed.values():
        assert "encrypted or decrypted" in message or "encrypted" in message, message
    assert not (path / ".fieldkit.db.converting").exists()


def test_a_conversion_waiting_for_the_lock_holds_new_writers_back(tmp_path):
    """Writers overlapping one another must not starve a conversion: once it waits, a new
    writer waits behind it instead of joining the writers already inside."""
    import threading

    from fieldkit.core.errors import FieldkitError
    from fieldkit.store.lock import WriterLock, exclusive

    inside, later = WriterLock(tmp_path, None, "fieldkit.db"), WriterLock(tmp_path, None, "fieldkit.db", wait=0.3)
    got = threading.Event()

    def convert():
        with exclusive(tmp_path, wait=10):
            got.set()

    with inside:
        thread = threading.Thread(target=convert)
        thread.start()
        time.sleep(0.3)  # the conversion is now waiting for the writer inside
        with pytest.raises(FieldkitError, match="being encrypted or decrypted"):
            later.__enter__()
        assert not got.is_set()
    thread.join(10)
    assert got.is_set()
    with later:  # and once it is done, writers go on
        pass
    inside.close()
    later.close()
