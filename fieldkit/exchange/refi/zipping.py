"""The zip inside a ``.qdpx``: written in the export's process, or by a helper process.

A ``.qdpx`` holds one small text file per source, and zipfile spends tens of microseconds of
Python on each (header, compressor, checksum, the header again): about as long as the export
takes to write that source's XML. With a processor to spare, a helper process writes the zip
while the export writes the XML; :func:`open_zip` decides. Both ways run the same
:class:`Zipper`, so the file is the same byte for byte.

A zipper also keeps *staged* bytes: XML written before the entry it belongs to can be
opened (``project.qde`` needs every source seen before its head can be written). They wait
in temporary files in the zip's folder and are copied into the entry with ``write_staged``.

This module is also the helper's script (``python -I zipping.py PATH YEAR MONTH …``): it imports
only the standard library, so the helper starts quickly and needs nothing from the project.
"""

from __future__ import annotations

import os
import pickle
import sys

_CHUNK = 1 << 20
#: fewer texts than this are zipped in the export's own process: a helper takes ~50 ms to start
HELPER_FROM = 2000


class SeekableTail:
    """The file a ``ZipFile`` writes to, holding the last megabyte or so in memory.

    ZipFile seeks back over every entry to fill in its header, then forward again: on a
    plain file that is a flush and several system calls per entry, a large part of writing
    many small entries. Seeks that land in the tail held here cost nothing; the tail goes
    to ``raw`` in large writes, and a seek further back goes to ``raw`` itself.
    """

    def __init__(self, raw, size: int = _CHUNK):
        self.raw = raw
        self.size = size
        self.base = raw.tell()  # where in the file the held tail starts
        self.tail = bytearray()
        self.pos = self.base

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 1:
            offset += self.pos
        elif whence == 2:  # only the file knows where it ends
            self._drain()
            self.base = self.pos = offset = self.raw.seek(offset, 2)
        if not self.base <= offset <= self.base + len(self.tail):
            self._drain()
            self.base = self.raw.seek(offset)
        self.pos = offset
        return offset

    def write(self, data) -> int:
        n = len(data) if data.__class__ is bytes else memoryview(data).nbytes
        at = self.pos - self.base
        if at == len(self.tail):
            self.tail += data
        else:
            self.tail[at:at + n] = data  # overwrites what is there, extends past the end
        self.pos += n
        if len(self.tail) >= self.size and self.pos == self.base + len(self.tail):
            self._drain()
        return n

    def _drain(self):
        """Write the held tail where it belongs; ``raw`` is left at the current position."""
        if self.tail:
            self.raw.write(self.tail)
            end = self.base + len(self.tail)
            self.tail.clear()
            if self.pos != end:
                self.raw.seek(self.pos)
            self.base = self.pos

    def flush(self):
        self._drain()
        self.raw.flush()


class Staged:
    """Bytes kept under keys until an entry is written, in one temporary file in ``folder``."""

    def __init__(self, folder: str):
        self.folder = folder
        self.file = None
        self.end = 0
        self.segments: dict = {}  # key -> [[offset, length], ...]

    def fileno(self) -> int:
        if self.file is None:
            import tempfile

            self.file = tempfile.TemporaryFile(dir=self.folder)
        return self.file.fileno()

    def add(self, key: str, data: bytes):
        self.fileno()
        self.file.write(data)
        segments = self.segments.setdefault(key, [])
        if segments and sum(segments[-1]) == self.end:
            segments[-1][1] += len(data)
        else:
            segments.append([self.end, len(data)])
        self.end += len(data)

    def take(self, key: str) -> list:
        """Where the bytes staged under ``key`` are in the file (written out by now)."""
        if self.file is not None:
            self.file.flush()
        return self.segments.pop(key, [])

    def chunks(self, key: str):
        """The bytes staged under ``key``, a megabyte at a time."""
        segments = self.take(key)
        if segments:
            yield from read_segments(self.file.fileno(), segments)

    def close(self):
        if self.file is not None:
            self.file.close()


def read_segments(fd: int, segments):
    """The bytes of ``[offset, length]`` segments of the file open as ``fd``, in chunks.

    Positioned reads: a helper process shares the file, and its position, with the export.
    """
    pread = getattr(os, "pread", None) or _seek_read
    for offset, length in segments:
        while length:
            chunk = pread(fd, min(length, _CHUNK), offset)
            if not chunk:
                raise EOFError("staged bytes are missing")
            yield chunk
            offset += len(chunk)
            length -= len(chunk)


def _seek_read(fd: int, size: int, offset: int) -> bytes:
    """``os.pread`` where there is none (Windows; no helper runs there): back to the end after."""
    os.lseek(fd, offset, os.SEEK_SET)
    try:
        return os.read(fd, size)
    finally:
        os.lseek(fd, 0, os.SEEK_END)


class Zipper:
    """A deflated zip at ``path``: texts added in batches, then entries streamed one at a time."""

    def __init__(self, path, stamp: tuple):
        import zipfile

        self.staged = Staged(os.path.dirname(os.path.abspath(path)))
        self.file = open(path, "wb")
        self.out = SeekableTail(self.file)
        self.zf = zipfile.ZipFile(self.out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        self.stamp = tuple(stamp)
        self.info = zipfile.ZipInfo
        self.deflated = zipfile.ZIP_DEFLATED

    def add(self, entries):
        """``(name, bytes)`` pairs, as owner-only files stamped with the export's time."""
        for name, data in entries:
            info = self.info(name, self.stamp)
            info.compress_type = self.deflated
            info.external_attr = 0o600 << 16
            self.zf.writestr(info, data)

    def stage(self, key: str, data: bytes):
        """Keep ``data`` (after what was staged under ``key`` before) for ``write_staged``."""
        self.staged.add(key, data)

    def open(self, name: str) -> "Entry":
        return Entry(self, self.zf.open(name, "w", force_zip64=True))

    def close(self):
        self.zf.close()
        self.staged.close()
        self.file.close()

    def abort(self):
        """Let go of the file and the staged bytes (the caller removes an unfinished file)."""
        try:
            self.zf.close()  # else it would try again when collected, on a closed file
        except Exception:  # noqa: BLE001 - the export is failing already; its error is the one to see
            pass
        self.staged.close()
        self.file.close()


class Entry:
    """One entry being written: bytes, or bytes staged earlier."""

    def __init__(self, zipper: Zipper, out):
        self.zipper = zipper
        self.out = out

    def write(self, data) -> int:
        return self.out.write(data)

    def write_staged(self, key: str):
        for chunk in self.zipper.staged.chunks(key):
            self.out.write(chunk)

    def close(self):
        self.out.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class HelperZipper:
    """A :class:`Zipper` run by a helper process, told what to do through a pipe.

    The same methods, sent as pickled messages; the helper's queue is the pipe, so a slow
    helper holds the export back rather than letting texts pile up in memory. Staged bytes
    stay in a file on this side (sent while the helper is busy with texts, they would hold the
    export up); the helper inherits it and reads them when their entry is written.
    """

    def __init__(self, path, stamp: tuple):
        import subprocess
        import tempfile

        # a file, not a pipe, for what the helper says: a full pipe would stall it
        self.errors = tempfile.TemporaryFile()
        # the helper reads staged bytes from the file itself, not through the pipe
        self.staged = Staged(os.path.dirname(os.path.abspath(path)))
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", __file__, os.fspath(path), *map(str, stamp)],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self.errors,
                pass_fds=(self.staged.fileno(),))
        except BaseException:
            self.errors.close()
            self.staged.close()
            raise
        _widen(self.proc.stdin)
        self.pickler = pickle.Pickler(self.proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)

    def send(self, *message):
        try:
            self.pickler.dump(message)
        except OSError:  # the helper stopped: say why
            self.proc.communicate()
            self._raise_if_failed()
            raise
        self.pickler.clear_memo()  # nothing is sent twice; the memo would only grow

    def add(self, entries):
        self.send("add", list(entries))

    def stage(self, key: str, data: bytes):
        self.staged.add(key, data)

    def open(self, name: str) -> "_HelperEntry":
        self.send("open", name)
        return _HelperEntry(self)

    def close(self):
        """Wait for the helper to finish the zip; raise if it could not."""
        self.send("finish")
        self.staged.close()
        self.proc.communicate()
        self._raise_if_failed()
        self.errors.close()

    def _raise_if_failed(self):
        from fieldkit.core.errors import FieldkitError

        if self.proc.returncode:
            self.errors.seek(0)
            said = self.errors.read().decode("utf-8", "replace").strip().splitlines()
            raise FieldkitError("could not write the .qdpx zip: "
                                + (said[-1] if said else f"helper exit status {self.proc.returncode}"))

    def abort(self):
        self.staged.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()
        self.errors.close()


class _HelperEntry:
    def __init__(self, zipper: HelperZipper):
        self.zipper = zipper

    def write(self, data) -> int:
        self.zipper.send("write", bytes(data))
        return len(data)

    def write_staged(self, key: str):
        staged = self.zipper.staged
        self.zipper.send("write_staged", staged.fileno(), staged.take(key))

    def close(self):
        self.zipper.send("close")

    def __enter__(self):
        return self

    def __exit__(self, kind, *exc):
        if kind is None:  # on an error the helper is stopped instead
            self.close()


def _widen(pipe):
    """Let the pipe hold a megabyte (Linux), so that neither side waits on every 64 KiB."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, _CHUNK)
    except (ImportError, AttributeError, OSError):
        pass


def helper_available() -> bool:
    """Whether a helper process can run this file and would have a processor of its own."""
    if getattr(sys, "frozen", False) or not __file__.endswith(".py"):
        return False
    # an embedding program (a web server, an editor) can be sys.executable: only run a Python
    if not os.path.basename(sys.executable or "").lower().startswith("python"):
        return False
    if os.name != "posix":  # the helper inherits the staging file's descriptor
        return False
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cpus > 1 and os.path.isfile(__file__)


def open_zip(stack, path, stamp: tuple, *, texts: int):
    """A zipper for the file at ``path`` (which may be emptied), registered on ``stack``.

    A helper process writes it when there are enough ``texts`` to pay for starting one; on
    an error the zipper is stopped before the caller removes the file. Call ``close`` to finish.
    """
    zipper = None
    if texts >= HELPER_FROM and helper_available():
        try:
            zipper = HelperZipper(path, stamp)
        except OSError:  # no process to be had: write the zip here
            pass
    if zipper is None:
        zipper = Zipper(path, stamp)
    stack.push(lambda kind, exc, tb: zipper.abort() if kind else None)
    return zipper


def main(argv) -> int:
    """The helper: carry out the messages on stdin (see :class:`HelperZipper`) on ``argv[0]``."""
    path, stamp = argv[0], tuple(int(n) for n in argv[1:])
    zipper = Zipper(path, stamp)
    load = pickle.Unpickler(sys.stdin.buffer).load
    entry = None
    while True:
        kind, *args = load()  # EOFError before "finish": the export stopped, the file is abandoned
        if kind == "finish":
            break
        if kind == "add":
            zipper.add(*args)
        elif kind == "open":
            entry = zipper.open(*args)
        elif kind == "write":
            entry.write(*args)
        elif kind == "write_staged":
            for chunk in read_segments(*args):
                entry.write(chunk)
        elif kind == "close":
            entry.close()
    zipper.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
