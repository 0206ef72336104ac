"""The project lock: writers share it, ``encrypt``/``decrypt`` (and ``doctor`` cleaning up
after them) take it alone.

SQLite's own lock cannot protect a conversion: ``encrypt`` replaces ``fieldkit.db`` with a
new file, and a writer that was waiting on the old file's lock would then commit into the
replaced file, which nobody reads again. So every write transaction first takes a shared
``flock`` on ``.fieldkit.lock`` in the project folder and checks that ``fieldkit.db`` is still
the file its connection opened (same device and inode); a conversion takes the lock
exclusively, so it waits for writes in progress to finish and holds new ones back until the
new file is in place. A writer held back that way then finds the file replaced and fails
with one clear error, having written nothing.

A writer holding the lock only briefly leaves gaps a conversion could use, but with several
writers one of them nearly always holds it, and ``flock`` does not queue: the conversion
would wait for ever. So a conversion first closes a gate, ``.fieldkit.gate`` (held
exclusively), and every writer passes that gate (takes it shared and lets go at once)
before it takes the lock: new writers wait at the gate while the ones inside finish.

Where ``fcntl`` is missing (Windows) or the folder is read-only, there is no lock file and
writes go ahead as before (SQLite still serialises them).
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Iterator, Optional

from fieldkit.core.errors import FieldkitError

LOCK_NAME = ".fieldkit.lock"
#: closed by a conversion so that writers stop arriving (see the module docstring)
GATE_NAME = ".fieldkit.gate"
#: how long a writer waits for a conversion, and a conversion for writers (as SQLite's busy timeout)
WAIT_S = 60.0


class FileReplaced(FieldkitError):
    """The project file was replaced (encrypted or decrypted) after this connection opened it."""


def identity(path: Path) -> Optional[tuple]:
    """``(device, inode)`` of ``path``, or None if it does not exist."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _fcntl():
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return None
    return fcntl


def _open(folder: Path, name: str = LOCK_NAME) -> Optional[int]:
    try:
        return os.open(folder / name, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return None  # a read-only folder: nothing can be written there anyway


def _acquire(fd: int, mode: int, wait: float, what: str) -> None:
    fcntl = _fcntl()
    deadline = time.monotonic() + wait
    pause = 0.002
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise FieldkitError(what) from None
            time.sleep(pause)
            pause = min(pause * 2, 0.05)


def _pass(gate: Optional[int], wait: float, what: str) -> None:
    """Wait while a conversion has the gate closed, then go on (see the module docstring)."""
    if gate is not None:
        _acquire(gate, _fcntl().LOCK_SH, wait, what)
        _fcntl().flock(gate, _fcntl().LOCK_UN)


@contextlib.contextmanager
def _held(folder: Path, mode: str, wait: float, busy: str) -> Iterator[None]:
    """Hold the lock file's ``flock`` in ``mode`` (``LOCK_SH``: after passing the gate;
    ``LOCK_EX``: with the gate closed first); no lock where there can be none (no ``fcntl``,
    a read-only folder)."""
    fcntl = _fcntl()
    fd = _open(folder) if fcntl is not None else None
    if fd is None:
        yield
        return
    gate = _open(folder, GATE_NAME)
    try:
        if mode == "LOCK_EX":
            if gate is not None:
                _acquire(gate, fcntl.LOCK_EX, wait, busy)
        else:
            _pass(gate, wait, busy)
        _acquire(fd, getattr(fcntl, mode), wait, busy)
        yield
    finally:
        os.close(fd)  # closing the descriptors releases the locks
        if gate is not None:
            os.close(gate)


class WriterLock:
    """A store's side of the project lock, held shared around each write transaction.

    The lock file stays open from the first write until ``close``, so a write costs one
    ``flock`` and one ``stat``. Refuses (``FileReplaced``) when ``db_name`` is no longer the
    file ``opened`` identifies."""

    def __init__(self, folder: Path, opened: Optional[tuple], db_name: str, *, wait: float = WAIT_S):
        self.folder, self.opened, self.db_name, self.wait = Path(folder), opened, db_name, wait
        self._fd: Optional[int] = None
        self._gate: Optional[int] = None
        self._tried = False

    def __enter__(self) -> "WriterLock":
        fcntl = _fcntl()
        if not self._tried:
            self._tried = True
            self._fd = _open(self.folder) if fcntl is not None else None
            self._gate = _open(self.folder, GATE_NAME) if self._fd is not None else None
        if self._fd is not None:
            busy = f"the project at {self.folder} is being encrypted or decrypted; try again when that has finished"
            _pass(self._gate, self.wait, busy)
            _acquire(self._fd, fcntl.LOCK_SH, self.wait, busy)
        if self.opened is not None and identity(self.folder / self.db_name) != self.opened:
            self.__exit__(None, None, None)
            raise FileReplaced(f"the project at {self.folder} was encrypted or decrypted while this command ran; "
                               "nothing was written; run the command again")
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            _fcntl().flock(self._fd, _fcntl().LOCK_UN)

    def close(self) -> None:
        for fd in (self._fd, self._gate):
            if fd is not None:
                os.close(fd)
        self._fd = self._gate = None


def shared(folder: Path, *, wait: float = WAIT_S) -> contextlib.AbstractContextManager[None]:
    """Hold the lock shared (opening a project: never while a conversion swaps the files)."""
    return _held(folder, "LOCK_SH", wait, f"the project at {folder} is being encrypted or decrypted; "
                                          "try again when that has finished")


def exclusive(folder: Path, *, wait: float = WAIT_S) -> contextlib.AbstractContextManager[None]:
    """Hold the lock alone: waits for writes in progress, holds back new ones."""
    return _held(folder, "LOCK_EX", wait, f"the project at {folder} is in use by another fieldkit command; "
                                          "try again when it has finished")
