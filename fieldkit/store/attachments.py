"""Files kept beside the database, named by their content hash."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import shutil
from pathlib import Path
from typing import Optional, TYPE_CHECKING, Union

from fieldkit.core.errors import FieldkitError
from fieldkit.core.records import Attachment

if TYPE_CHECKING:
    from fieldkit.project import Project

FOLDER = "attachments"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_SHA256 = re.compile(r"[0-9a-f]{64}\Z")


def is_sha256(value: object) -> bool:
    """Whether ``value`` is a lower-case hex SHA-256, the only name a stored file has."""
    return isinstance(value, str) and bool(_SHA256.match(value))


def stored_path(project: Project, attachment: Attachment) -> Path:
    """The file of an attachment; refuses a row whose hash is not one (a crafted
    ``../../x`` must never name a file outside the project)."""
    if not is_sha256(attachment.sha256):
        raise FieldkitError(f"attachment {attachment.id} has no valid file hash; it names no file")
    return project.path / FOLDER / attachment.sha256


def attach(project: Project, file: Union[str, os.PathLike[str]], *, record: Optional[str] = None) -> Attachment:
    """Copy ``file`` into the project (owner-only) and record it, linked to ``record``.

    Only the file's base name is kept, so a name like ``../../etc/x`` cannot point outside.
    """
    source = Path(file)
    if not source.is_file():
        raise FieldkitError(f"no such file: {source}")
    name = os.path.basename(str(source)).strip() or "attachment"
    if any(ch in name for ch in "\x00\n\r") or name in (".", ".."):
        raise FieldkitError(f"unusable file name: {name!r}")
    record_id = project.resolve(record) if record else None
    sha = sha256_file(source)
    folder = project.path / FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    target = folder / sha
    if not target.exists():
        tmp = folder / f".{sha}.part"
        fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out)
        os.replace(tmp, target)
    media = mimetypes.guess_type(name)[0] or "application/octet-stream"
    try:
        return project.add(Attachment(sha256=sha, filename=name, media_type=media,
                                      size=source.stat().st_size, record_id=record_id))
    except BaseException:
        # the record failed: remove the copy unless another attachment already uses it
        if not project.store.count("attachment", sha256=sha, include_deleted=True):
            target.unlink(missing_ok=True)
        raise


def extract(project: Project, ref: str, dest: Union[str, os.PathLike[str]], *, force: bool = False) -> Path:
    """Write a copy of an attachment to ``dest`` (a file, or a folder to put it in under its
    own name), readable by the owner only; returns the path written.

    Refuses to replace an existing file unless ``force``, and refuses a stored file whose
    content no longer matches its hash."""
    from fieldkit.core.errors import NotFound, Refused

    attachment = project.get(ref, type_name="attachment")
    source = stored_path(project, attachment)
    if not source.is_file():
        raise NotFound(f"the file of attachment {attachment.id} is missing from {source.parent}; "
                       "restore it from a backup")
    if sha256_file(source) != attachment.sha256:
        raise FieldkitError(f"the stored file of attachment {attachment.id} is damaged (its content no longer "
                            "matches its hash); restore it from a backup")
    target = Path(dest).expanduser()
    if target.is_dir():
        target = target / attachment.filename
    if target.exists() and not force:
        raise Refused(f"{target} already exists; pass --force to replace it")
    if not target.parent.is_dir():
        raise NotFound(f"no such folder: {target.parent}")
    tmp = target.parent / f".{target.name}.fieldkit-part"
    fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out)
        if force:
            os.replace(tmp, target)
        else:
            os.link(tmp, target)  # fails if the name appeared meanwhile: never overwrite
    except FileExistsError:
        raise Refused(f"{target} already exists; pass --force to replace it") from None
    finally:
        tmp.unlink(missing_ok=True)
    return target


#: where ``attachment open`` puts the copies it hands to other programs: inside the project
#: folder, so they share its protection and ``doctor`` can list and remove them
OPENED = ".opened"


def open_copy(project: Project, ref: str) -> Path:
    """A copy of an attachment for another program to open, under its own name in a new
    owner-only folder in the project's ``.opened`` folder (see ``maintenance.leftovers``)."""
    import secrets

    base = project.path / OPENED
    base.mkdir(mode=0o700, exist_ok=True)
    os.chmod(base, 0o700)
    folder = base / secrets.token_hex(8)
    folder.mkdir(mode=0o700)
    try:
        return extract(project, ref, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def remove_open_copies(project_path: Path, sha: str) -> int:
    """Delete the ``attachment open`` copies of the file with hash ``sha`` (when its
    attachment is withdrawn or destroyed, no copy of it may stay in the project folder);
    returns how many were removed."""
    base = Path(project_path) / OPENED
    if not base.is_dir():
        return 0
    removed = 0
    for path in base.rglob("*"):
        if path.is_file() and not path.is_symlink() and sha256_file(path) == sha:
            path.unlink()
            removed += 1
    return removed

