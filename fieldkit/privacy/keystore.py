"""The key store: who each pseudonym really is, kept in its own file.

Real names, aliases, nicknames and contact details live only here, never in the project
database or in any export. A key store is one SQLite file, created readable and writable
by its owner only (mode 0600; a parent directory it has to create is made 0700), and it
is never overwritten: ``KeyStore.create`` refuses a path that already exists.

Records
-------
``Person(pseudonym, names, contact, kind, note)``: ``names[0]`` is the real full name and
the rest are aliases and nicknames; ``kind`` is ``participant`` (``P03``) or
``non-participant`` (``X01``, someone whose case comes up but who is not in the study).

The store also keeps a *replacement mapping* so that the same place or identifier gets
the same replacement in every record and every run: ``replacement_for("prison",
"HMP Brixworth")`` returns ``[PRISON-1]`` today, next week and after a re-open. Rows are
keyed by an HMAC-SHA256, under a random per-store secret, of the kind and the normalised
original (NFC, case-folded, straight apostrophes, single spaces), so the key column
reveals nothing about the original. The original itself is kept beside it only so that
a researcher can list the mapping; it is encrypted like the names when the store is.

Encryption at rest (when a passphrase is given to ``create``)
-------------------------------------------------------------
Only audited primitives from the ``cryptography`` package are used:

* A random 32-byte *data key* encrypts the values. It is stored wrapped (encrypted) with a
  *key-encryption key* derived from the passphrase with Scrypt (n=2**15, r=8, p=1, 32-byte
  output, random 16-byte salt). The salt and the Scrypt parameters are kept in the
  ``meta`` table, so they can be raised later without breaking old stores.
* Wrapping and every sensitive value use AES-256-GCM with a fresh random 12-byte nonce.
  A stored value is ``b"\\x01" + nonce + ciphertext-with-tag``. The associated data names
  the table, column and row (``people.names:P03``), so a value copied into another row
  or column fails to decrypt instead of silently re-identifying the wrong person.
* Encrypted: names and aliases (as a JSON list), contact, note, the HMAC secret, the
  project's digest key (``meta.digest_key``) and the originals in the replacement table. In clear: pseudonym codes, kinds, replacement
  labels such as ``[PRISON-1]`` and the HMAC digests, so listing and counting work.
* A fixed check value is also stored encrypted under the data key. Opening with a wrong
  passphrase fails the GCM tag on the wrapped key (or on the check value) and raises
  ``KeyStoreError("wrong passphrase for key store …")``; nothing is half-opened.

Without a passphrase the same file layout is used with values in clear (still mode 0600).
The connection runs with ``PRAGMA secure_delete = ON`` so that ``remove`` (erasure after
a withdrawal) overwrites the deleted rows inside the file. Copies elsewhere (backups, the
file system's own free blocks) are outside what a library can scrub.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import sqlite3
import unicodedata
from pathlib import Path
from typing import Iterable, Iterator, Optional, Union

import attrs

from fieldkit.core.errors import FieldkitError, InvalidInput

FORMAT_NAME = "fieldkit-keystore"
FORMAT_VERSION = 1
PERSON_KINDS = ("participant", "non-participant")

_SCRYPT_DEFAULTS = {"n": 2**15, "r": 8, "p": 1}
_CHECK_PLAINTEXT = b"fieldkit key store: passphrase check"
_SEALED_PREFIX = b"\x01"
_PSEUDONYM_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}\Z")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'"})

_SCHEMA = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE people (
    pseudonym TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    names BLOB NOT NULL,
    contact BLOB NOT NULL,
    note BLOB NOT NULL
);
CREATE TABLE replacements (
    kind TEXT NOT NULL,
    digest TEXT NOT NULL,
    seq INTEGER NOT NULL,
    replacement TEXT NOT NULL,
    original BLOB NOT NULL,
    PRIMARY KEY (kind, digest),
    UNIQUE (kind, seq)
);
"""


class KeyStoreError(FieldkitError):
    """Something is wrong with a key store: missing, not a key store, wrong passphrase …"""


def _check_kind(instance, attribute, value):
    if value not in PERSON_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(PERSON_KINDS)}, not {value!r}")


def _clean_name(value: str) -> str:
    """NFC, single spaces, no edge whitespace."""
    return " ".join(unicodedata.normalize("NFC", str(value)).split())


@attrs.frozen(cache_hash=True)
class Person:
    """One entry in the key store. ``names[0]`` is the real full name; the rest are aliases."""

    pseudonym: str
    names: tuple = attrs.field(converter=tuple)
    contact: str = ""
    kind: str = attrs.field(default="participant", validator=_check_kind)
    note: str = ""

    @property
    def name(self) -> str:
        """The real full name."""
        return self.names[0] if self.names else ""

    @property
    def aliases(self) -> tuple:
        """Aliases and nicknames (everything after the full name)."""
        return self.names[1:]

    @property
    def withdrawn(self) -> bool:
        """A tombstone left by a withdrawal: the code without names (see ``KeyStore.tombstone``)."""
        return not self.names


# --------------------------------------------------------------------------- crypto helpers


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


def _passphrase_bytes(passphrase) -> bytes:
    if isinstance(passphrase, bytes):
        return passphrase
    return unicodedata.normalize("NFC", str(passphrase)).encode("utf-8")


def _derive_kek(passphrase, salt: bytes, params: dict) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    kdf = Scrypt(salt=salt, length=32, n=int(params["n"]), r=int(params["r"]), p=int(params["p"]))
    return kdf.derive(_passphrase_bytes(passphrase))


def _gcm_encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = secrets.token_bytes(12)
    return _SEALED_PREFIX + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _gcm_decrypt(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Raises ``cryptography.exceptions.InvalidTag`` on a wrong key or tampered value."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not blob.startswith(_SEALED_PREFIX) or len(blob) < 1 + 12 + 16:
        raise InvalidInput("not a sealed value")
    return AESGCM(key).decrypt(blob[1:13], blob[13:], aad)


def normalise_original(original: str) -> str:
    """How an original is compared for the replacement mapping: NFC, case-folded, tidy spaces."""
    text = unicodedata.normalize("NFC", str(original)).translate(_APOSTROPHES)
    return " ".join(text.casefold().split())


def replacement_label(kind: str) -> str:
    """``prison`` -> ``PRISON``; ``probation office`` -> ``PROBATION-OFFICE``."""
    label = re.sub(r"[^A-Z0-9]+", "-", str(kind).upper()).strip("-")
    return label or "ITEM"


# --------------------------------------------------------------------------- the store


class KeyStore:
    """A key store file. Use ``KeyStore.create`` or ``KeyStore.open``; close it when done.

    Works as a context manager: ``with KeyStore.open(path, passphrase) as keys: ...``.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection, data_key: Optional[bytes], hmac_secret: bytes):
        # use create() or open(): they check the file and the passphrase
        self.path = Path(path)
        self._conn = conn
        self._key = data_key
        self._hmac_secret = hmac_secret
        self._replacement_cache: dict = {}
        self._grouping = False  # inside grouped(): a write opens a transaction the group commits

    # ---------------------------------------------------------------- opening

    @classmethod
    def create(cls, path: Union[str, Path], passphrase: Optional[str] = None) -> KeyStore:
        """Create a new key store at ``path`` (mode 0600); refuse if anything is already there.

        With a ``passphrase`` the sensitive values are encrypted (see the module docstring).
        """
        path = Path(path)
        parent = path.parent
        if not parent.exists():
            os.makedirs(parent, mode=0o700, exist_ok=True)
        if passphrase is not None and not _passphrase_bytes(passphrase):
            raise KeyStoreError("the key store passphrase must not be empty")
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            raise KeyStoreError(f"a key store (or other file) already exists at {path}; refusing to overwrite it") from None
        except OSError as exc:
            raise KeyStoreError(f"cannot create key store at {path}: {exc.strerror}") from None
        os.close(fd)
        conn = None
        try:
            try:
                os.chmod(path, 0o600)
            except OSError:  # pragma: no cover - e.g. file systems without modes
                pass
            conn = _connect(path)
            meta = {
                "format": FORMAT_NAME,
                "version": str(FORMAT_VERSION),
                "encrypted": "1" if passphrase is not None else "0",
            }
            hmac_secret = secrets.token_bytes(32)
            data_key = None
            if passphrase is not None:
                salt = secrets.token_bytes(16)
                params = dict(_SCRYPT_DEFAULTS)
                kek = _derive_kek(passphrase, salt, params)
                data_key = secrets.token_bytes(32)
                meta["kdf"] = json.dumps({"name": "scrypt", "salt": _b64(salt), **params})
                meta["cipher"] = "aes-256-gcm"
                meta["wrapped_key"] = _b64(_gcm_encrypt(kek, data_key, b"meta.wrapped_key"))
                meta["check"] = _b64(_gcm_encrypt(data_key, _CHECK_PLAINTEXT, b"meta.check"))
                meta["hmac_secret"] = _b64(_gcm_encrypt(data_key, hmac_secret, b"meta.hmac_secret"))
            else:
                meta["hmac_secret"] = _b64(hmac_secret)
            with _transaction(conn):
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", sorted(meta.items()))
        except BaseException:
            if conn is not None:
                conn.close()
            try:
                os.unlink(path)
            except OSError:
                pass
            raise
        return cls(path, conn, data_key, hmac_secret)

    @classmethod
    def open(cls, path: Union[str, Path], passphrase: Optional[str] = None) -> KeyStore:
        """Open an existing key store; an encrypted one needs its passphrase."""
        path = Path(path)
        if not path.is_file():
            raise KeyStoreError(f"no key store at {path}")
        try:
            conn = _connect(path, must_exist=True)
            rows = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise KeyStoreError(f"the key store {path} is locked by another program; try again "
                                    "when it has finished") from None
            raise KeyStoreError(f"the key store {path} cannot be opened ({exc}) or is not a fieldkit key store") from None
        except sqlite3.DatabaseError:
            raise KeyStoreError(f"{path} is not a fieldkit key store") from None
        try:
            if rows.get("format") != FORMAT_NAME:
                raise KeyStoreError(f"{path} is not a fieldkit key store")
            if int(rows.get("version", "0")) > FORMAT_VERSION:
                raise KeyStoreError(f"key store {path} was written by a newer fieldkit (format {rows['version']})")
            encrypted = rows.get("encrypted") == "1"
            if not encrypted:
                if passphrase is not None:
                    raise KeyStoreError(f"key store {path} is not encrypted, but a passphrase was given")
                return cls(path, conn, None, _unb64(rows["hmac_secret"]))
            if passphrase is None:
                raise KeyStoreError(f"key store {path} is encrypted; give its passphrase")
            from cryptography.exceptions import InvalidTag

            kdf = json.loads(rows["kdf"])
            if kdf.get("name") != "scrypt":
                raise KeyStoreError(f"key store {path} uses an unknown key derivation {kdf.get('name')!r}")
            kek = _derive_kek(passphrase, _unb64(kdf["salt"]), kdf)
            try:
                data_key = _gcm_decrypt(kek, _unb64(rows["wrapped_key"]), b"meta.wrapped_key")
                check = _gcm_decrypt(data_key, _unb64(rows["check"]), b"meta.check")
                hmac_secret = _gcm_decrypt(data_key, _unb64(rows["hmac_secret"]), b"meta.hmac_secret")
            except (InvalidTag, ValueError):
                raise KeyStoreError(f"wrong passphrase for key store {path}") from None
            if not hmac.compare_digest(check, _CHECK_PLAINTEXT):
                raise KeyStoreError(f"wrong passphrase for key store {path}")
            return cls(path, conn, data_key, hmac_secret)
        except KeyStoreError:
            conn.close()
            raise
        except (KeyError, ValueError, sqlite3.DatabaseError):
            conn.close()
            raise KeyStoreError(f"key store {path} is damaged (its header cannot be read)") from None

    # ---------------------------------------------------------------- the digest key

    def digest_key(self) -> Optional[bytes]:
        """The key of the project's review digests and anonymisation log, or None if this
        store holds none yet. It lives here, never in the project database, so that the
        digests there cannot be checked against a list of candidate names."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'digest_key'").fetchone()
        if row is None:
            return None
        stored = _unb64(row[0])
        return stored if self._key is None else _gcm_decrypt(self._key, stored, b"meta.digest_key")

    def keep_digest_key(self, key: bytes) -> bytes:
        """Store ``key`` as the digest key unless one is already held; returns the key held
        (a concurrent caller may have stored its own first)."""
        if len(key) < 16:
            raise KeyStoreError("a digest key must be at least 16 bytes")
        stored = key if self._key is None else _gcm_encrypt(self._key, key, b"meta.digest_key")
        with _transaction(self._db):
            self._db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('digest_key', ?)", [_b64(stored)])
        return self.digest_key()

    def close(self) -> None:
        """Close the file. The data key is dropped from this object."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._key = None
        self._replacement_cache.clear()

    @contextlib.contextmanager
    def grouped(self) -> Iterator[None]:
        """New replacements made inside the block are committed together when it ends (all or
        none); a block that makes none starts no transaction at all."""
        db = self._db
        if self._grouping or db.in_transaction:
            yield
            return
        self._grouping = True
        try:
            yield
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
                self._replacement_cache.clear()  # it may hold replacements that were rolled back
            raise
        finally:
            self._grouping = False
        if db.in_transaction:
            db.execute("COMMIT")

    def __enter__(self) -> "KeyStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._conn is None else ("encrypted" if self.encrypted else "not encrypted")
        return f"<KeyStore {str(self.path)!r} {state}>"

    @property
    def encrypted(self) -> bool:
        """Whether values are encrypted at rest."""
        return self._key is not None

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise KeyStoreError(f"key store {self.path} is closed")
        return self._conn

    # ---------------------------------------------------------------- value sealing

    def _seal(self, value: str, aad: str):
        if self._key is None:
            return value
        return _gcm_encrypt(self._key, value.encode("utf-8"), aad.encode("utf-8"))

    def _unseal(self, stored, aad: str) -> str:
        if self._key is None:
            if isinstance(stored, bytes):
                raise KeyStoreError(f"key store {self.path} holds an encrypted value but was opened without a key")
            return stored
        from cryptography.exceptions import InvalidTag

        try:
            return _gcm_decrypt(self._key, bytes(stored), aad.encode("utf-8")).decode("utf-8")
        except (InvalidTag, ValueError, TypeError):
            raise KeyStoreError(f"key store {self.path}: value {aad} cannot be decrypted (tampered or damaged)") from None

    # ---------------------------------------------------------------- people

    def add(self, pseudonym: str, name: str, aliases: Iterable[str] = (), contact: str = "",
            kind: str = "participant", note: str = "") -> list[str]:
        """Register someone under ``pseudonym``; returns warnings (e.g. an alias that is a common word).

        Refuses a pseudonym that is already registered (use ``add_alias`` to extend an entry).
        """
        pseudonym = _check_pseudonym(pseudonym)
        if kind not in PERSON_KINDS:
            raise KeyStoreError(f"kind must be one of {', '.join(PERSON_KINDS)}, not {kind!r}")
        if isinstance(aliases, str):
            aliases = [aliases]
        names = _dedupe([_clean_name(name), *(_clean_name(a) for a in aliases)])
        if not names or not names[0]:
            raise KeyStoreError(f"a name is needed to register {pseudonym}")
        if any(not n for n in names):
            raise KeyStoreError(f"an empty alias was given for {pseudonym}")
        _check_aliases(pseudonym, names[1:])
        person = Person(pseudonym, tuple(names), contact=str(contact), kind=kind, note=str(note))
        with _transaction(self._db) as db:
            exists = db.execute("SELECT 1 FROM people WHERE pseudonym = ?", (pseudonym,)).fetchone()
            if exists:
                raise KeyStoreError(f"{pseudonym} is already in the key store; use add_alias to add a name")
            db.execute(
                "INSERT INTO people (pseudonym, kind, names, contact, note) VALUES (?, ?, ?, ?, ?)",
                self._person_row(person),
            )
        from fieldkit.privacy.names import name_warnings

        return name_warnings(person)

    def add_alias(self, pseudonym: str, alias: str) -> list[str]:
        """Add an alias or nickname to someone already registered; returns warnings."""
        alias = _clean_name(alias)
        if not alias:
            raise KeyStoreError("an alias must not be empty")
        _check_aliases(pseudonym, [alias])
        with _transaction(self._db):
            person = self.get(pseudonym)
            if person.withdrawn:
                raise KeyStoreError(f"{person.pseudonym} withdrew from the study; their entry keeps no names")
            if alias.casefold() in {n.casefold() for n in person.names}:
                return []
            updated = attrs.evolve(person, names=person.names + (alias,))
            self._db.execute(
                "UPDATE people SET names = ? WHERE pseudonym = ?",
                (self._person_row(updated)[2], person.pseudonym),
            )
        from fieldkit.privacy.names import name_warnings

        return name_warnings(updated, only=(alias,))

    def update(self, pseudonym: str, *, contact: Optional[str] = None, note: Optional[str] = None,
               kind: Optional[str] = None) -> Person:
        """Change the contact, note or kind of an entry; returns the new entry."""
        with _transaction(self._db):
            person = self.get(pseudonym)
            changes = {k: v for k, v in (("contact", contact), ("note", note), ("kind", kind)) if v is not None}
            if "kind" in changes and changes["kind"] not in PERSON_KINDS:
                raise KeyStoreError(f"kind must be one of {', '.join(PERSON_KINDS)}, not {kind!r}")
            updated = attrs.evolve(person, **changes)
            row = self._person_row(updated)
            self._db.execute(
                "UPDATE people SET kind = ?, names = ?, contact = ?, note = ? WHERE pseudonym = ?",
                (*row[1:], updated.pseudonym),
            )
        return updated

    def get(self, pseudonym: str) -> Person:
        """The entry for ``pseudonym``; ``KeyStoreError`` if there is none."""
        row = self._db.execute(
            "SELECT pseudonym, kind, names, contact, note FROM people WHERE pseudonym = ?", (str(pseudonym),)
        ).fetchone()
        if row is None:
            raise KeyStoreError(f"{pseudonym} is not in the key store")
        return self._person_from_row(row)

    def __contains__(self, pseudonym) -> bool:
        return self._db.execute("SELECT 1 FROM people WHERE pseudonym = ?", (str(pseudonym),)).fetchone() is not None

    def __len__(self) -> int:
        return self._db.execute("SELECT count(*) FROM people").fetchone()[0]

    def pseudonyms(self) -> tuple:
        """Every registered pseudonym, sorted (needs no decryption)."""
        return tuple(r[0] for r in self._db.execute("SELECT pseudonym FROM people ORDER BY pseudonym"))

    def people(self) -> tuple:
        """Every entry, sorted by pseudonym, as ``Person`` records."""
        rows = self._db.execute("SELECT pseudonym, kind, names, contact, note FROM people ORDER BY pseudonym")
        return tuple(self._person_from_row(r) for r in rows)

    def remove(self, pseudonym: str) -> Person:
        """Erase an entry (e.g. after consent is withdrawn); returns what was removed.

        The deleted row is overwritten inside the file (``secure_delete``).
        """
        with _transaction(self._db):
            person = self.get(pseudonym)
            self._db.execute("DELETE FROM people WHERE pseudonym = ?", (person.pseudonym,))
        return person

    def tombstone(self, pseudonym: str) -> None:
        """Keep ``pseudonym`` as a withdrawn entry: its names, contact and note are erased
        (overwritten inside the file), the code stays so it is never given to anyone else and
        nothing falls back to treating it as unknown. Adds the tombstone if the code is new;
        doing it twice is harmless."""
        pseudonym = _check_pseudonym(pseudonym)
        with _transaction(self._db) as db:
            row = db.execute("SELECT kind FROM people WHERE pseudonym = ?", (pseudonym,)).fetchone()
            empty = self._person_row(Person(pseudonym, (), kind=row[0] if row else "participant"))
            if row:
                db.execute("UPDATE people SET names = ?, contact = ?, note = ? WHERE pseudonym = ?",
                           (*empty[2:], pseudonym))
            else:
                db.execute("INSERT INTO people (pseudonym, kind, names, contact, note) VALUES (?, ?, ?, ?, ?)", empty)

    def _person_row(self, person: Person) -> tuple:
        p = person.pseudonym
        return (
            p,
            person.kind,
            self._seal(json.dumps(list(person.names), ensure_ascii=False), f"people.names:{p}"),
            self._seal(person.contact, f"people.contact:{p}"),
            self._seal(person.note, f"people.note:{p}"),
        )

    def _person_from_row(self, row) -> Person:
        p, kind, names, contact, note = row
        return Person(
            pseudonym=p,
            names=tuple(json.loads(self._unseal(names, f"people.names:{p}"))),
            contact=self._unseal(contact, f"people.contact:{p}"),
            kind=kind,
            note=self._unseal(note, f"people.note:{p}"),
        )

    # ---------------------------------------------------------------- replacement mapping

    def _digest(self, kind: str, normalised: str) -> str:
        message = f"{kind}\x00{normalised}".encode("utf-8")
        return hmac.new(self._hmac_secret, message, hashlib.sha256).hexdigest()

    def replacement_for(self, kind: str, original: str) -> str:
        """The consistent replacement for ``original`` of this ``kind``, allocating ``[KIND-n]`` if new.

        The same (kind, original), compared case-insensitively with tidy spaces, always gets the
        same replacement, across records, runs and re-opens of the store.
        """
        kind = str(kind).strip().lower()
        if not kind:
            raise KeyStoreError("a replacement needs a kind (prison, place, …)")
        normalised = normalise_original(original)
        cached = self._replacement_cache.get((kind, normalised))
        if cached is not None:
            return cached
        digest = self._digest(kind, normalised)
        db = self._db
        row = db.execute("SELECT replacement FROM replacements WHERE kind = ? AND digest = ?", (kind, digest)).fetchone()
        if row is None:
            if self._grouping and not db.in_transaction:
                db.execute("BEGIN IMMEDIATE")  # grouped() commits it
            with _transaction(db):
                row = db.execute(
                    "SELECT replacement FROM replacements WHERE kind = ? AND digest = ?", (kind, digest)
                ).fetchone()
                if row is None:
                    seq = db.execute(
                        "SELECT coalesce(max(seq), 0) + 1 FROM replacements WHERE kind = ?", (kind,)
                    ).fetchone()[0]
                    replacement = f"[{replacement_label(kind)}-{seq}]"
                    sealed = self._seal(" ".join(str(original).split()), f"replacements.original:{kind}:{digest}")
                    db.execute(
                        "INSERT INTO replacements (kind, digest, seq, replacement, original) VALUES (?, ?, ?, ?, ?)",
                        (kind, digest, seq, replacement, sealed),
                    )
                    row = (replacement,)
        self._replacement_cache[(kind, normalised)] = row[0]
        return row[0]

    def lookup(self, kind: str, original: str) -> Optional[str]:
        """For ``make_replacer(..., lookup=store.lookup)``: ``None`` for names (they use the
        pseudonym hint), otherwise the consistent replacement from ``replacement_for``."""
        if kind == "name":
            return None
        return self.replacement_for(kind, original)

    def replacements(self) -> list[dict]:
        """The mapping, for review: ``[{"kind", "replacement", "original"}, …]`` in allocation order."""
        rows = self._db.execute("SELECT kind, digest, replacement, original FROM replacements ORDER BY kind, seq")
        return [
            {"kind": kind, "replacement": rep,
             "original": self._unseal(orig, f"replacements.original:{kind}:{digest}")}
            for kind, digest, rep, orig in rows
        ]


def _connect(path: Path, must_exist: bool = False) -> sqlite3.Connection:
    # autocommit mode: every write goes through KeyStore._transaction (BEGIN IMMEDIATE)
    if must_exist:
        conn = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=rw", uri=True, timeout=10,
                               isolation_level=None)
    else:
        conn = sqlite3.connect(str(path), timeout=10, isolation_level=None)
    conn.execute("PRAGMA secure_delete = ON")
    return conn


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection):
    """One write transaction; nested use joins the outer one."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _check_pseudonym(pseudonym) -> str:
    pseudonym = str(pseudonym).strip()
    if not _PSEUDONYM_RE.match(pseudonym):
        raise KeyStoreError(
            f"{pseudonym!r} is not a pseudonym code: use a letter then letters or digits, e.g. P03 or X01"
        )
    return pseudonym


def _check_aliases(pseudonym: str, aliases) -> None:
    from fieldkit.privacy.names import alias_problem

    for alias in aliases:
        problem = alias_problem(alias)
        if problem:
            raise KeyStoreError(f"{pseudonym}: {problem}")


def _dedupe(names: list) -> list:
    seen = set()
    out = []
    for n in names:
        key = n.casefold()
        if key not in seen:
            seen.add(key)
            out.append(n)
    return out
