"""The zip inside a ``.qdpx``, written in the export's own process with ``zipfile``.

A ``.qdpx`` holds one small text file per source; texts are added in batches. A zipper also
keeps *staged* bytes: XML written before the entry it belongs to can be opened
(``project.qde`` needs every source seen before its head can be written). They wait in a
temporary file in the zip's folder and are copied into the entry with ``write_staged``.
"""

from __future__ import annotations

import os
import zipfile
from typing import Iterable, Iterator, TYPE_CHECKING, Union

if TYPE_CHECKING:
    import contextlib

    #: what a binary file's ``write`` takes
    Buffer = Union[bytes, bytearray, memoryview]

_CHUNK = 1 << 20


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

    def write(self, data: Buffer) -> int:
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

    def flush(self) -> None:
        self._drain()
        self.raw.flush()


class Staged:
    """Bytes kept under keys until an entry is written, in one temporary file in ``folder``."""

    def __init__(self, folder: str):
        self.folder = folder
        self.file = None
        self.end = 0
        self.segments: dict = {}  # key -> [[offset, length], ...]

    def _open(self):
        if self.file is None:
            import tempfile

            self.file = tempfile.TemporaryFile(dir=self.folder)
        return self.file

    def add(self, key: str, data: bytes) -> None:
        self._open().write(data)
        segments = self.segments.setdefault(key, [])
        if segments and sum(segments[-1]) == self.end:
            segments[-1][1] += len(data)
        else:
            segments.append([self.end, len(data)])
        self.end += len(data)

    def chunks(self, key: str) -> Iterator[bytes]:
        """The bytes staged under ``key``, a megabyte at a time."""
        segments = self.segments.pop(key, [])
        if not segments:
            return
        self.file.flush()
        for offset, length in segments:
            self.file.seek(offset)
            while length:
                chunk = self.file.read(min(length, _CHUNK))
                if not chunk:
                    raise EOFError("staged bytes are missing")
                yield chunk
                length -= len(chunk)
        self.file.seek(self.end)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


class Zipper:
    """A deflated zip at ``path``: texts added in batches, then entries streamed one at a time."""

    def __init__(self, path, stamp: tuple):
        self.staged = Staged(os.path.dirname(os.path.abspath(path)))
        self.file = open(path, "wb")
        self.out = SeekableTail(self.file)
        self.zf = zipfile.ZipFile(self.out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        self.stamp = tuple(stamp)
        self.info = zipfile.ZipInfo
        self.deflated = zipfile.ZIP_DEFLATED

    def add(self, entries: Iterable[tuple[str, bytes]]) -> None:
        """``(name, bytes)`` pairs, as owner-only files stamped with the export's time."""
        for name, data in entries:
            info = self.info(name, self.stamp)
            info.compress_type = self.deflated
            info.external_attr = 0o600 << 16
            self.zf.writestr(info, data)

    def stage(self, key: str, data: bytes) -> None:
        """Keep ``data`` (after what was staged under ``key`` before) for ``write_staged``."""
        self.staged.add(key, data)

    def open(self, name: str) -> "Entry":
        return Entry(self, self.zf.open(name, "w", force_zip64=True))

    def close(self) -> None:
        self.zf.close()
        self.staged.close()
        self.file.close()

    def abort(self) -> None:
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

    def write(self, data: Buffer) -> int:
        return self.out.write(data)

    def write_staged(self, key: str) -> None:
        for chunk in self.zipper.staged.chunks(key):
            self.out.write(chunk)

    def close(self) -> None:
        self.out.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_zip(stack: contextlib.ExitStack, path: Union[str, os.PathLike[str]], stamp: tuple[int, ...]) -> Zipper:
    """A zipper for the file at ``path`` (which may be emptied), registered on ``stack``: on an
    error it lets go of the file before the caller removes it. Call ``close`` to finish."""
    zipper = Zipper(path, stamp)
    stack.push(lambda kind, exc, tb: zipper.abort() if kind else None)
    return zipper
