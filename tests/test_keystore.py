"""The key store: a separate, owner-only file holding real names, optionally encrypted.

Every person here is fictional.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import sys

import pytest

from fieldkit.privacy.keystore import KeyStore, KeyStoreError, Person
from fieldkit.privacy.names import name_warnings, warn_common_aliases
from fieldkit.privacy.unregistered import suggestions

PASS = "correct horse battery staple (fictional)"
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


@pytest.fixture
def store_path(tmp_path):
    return tmp_path / "secret" / "keys.db"


@pytest.fixture
def encrypted(store_path):
    store = KeyStore.create(store_path, passphrase=PASS)
    yield store
    store.close()


@pytest.fixture
def plain(tmp_path):
    store = KeyStore.create(tmp_path / "plain-keys.db")
    yield store
    store.close()


def test_create_then_open_round_trips_people(store_path):
    with KeyStore.create(store_path, passphrase=PASS) as store:
        assert store.encrypted
        store.add("P03", "Dana Okafor", aliases=["Dee", "D.O."], contact="dana@example.invalid", note="met at S2")
        store.add("X01", "Hollis Varga", kind="non-participant")
    with KeyStore.open(store_path, passphrase=PASS) as store:
        assert store.pseudonyms() == ("P03", "X01")
        dana = store.get("P03")
        assert dana == Person("P03", ("Dana Okafor", "Dee", "D.O."), contact="dana@example.invalid",
                              kind="participant", note="met at S2")
        assert dana.name == "Dana Okafor" and dana.aliases == ("Dee", "D.O.")
        assert store.get("X01").kind == "non-participant"
        assert [p.pseudonym for p in store.people()] == ["P03", "X01"]
        assert "P03" in store and "P99" not in store and len(store) == 2


def test_unencrypted_store_round_trips(plain):
    plain.add("P01", "Idris Tamworth-Vale")
    path = plain.path
    plain.close()
    with KeyStore.open(path) as store:
        assert not store.encrypted
        assert store.get("P01").names == ("Idris Tamworth-Vale",)


@posix_only
def test_file_is_owner_only_and_new_parent_directory_is_private(store_path, encrypted):
    encrypted.add("P03", "Dana Okafor")
    assert stat.S_IMODE(os.stat(store_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(store_path.parent).st_mode) == 0o700


@posix_only
def test_mode_is_0600_even_with_a_permissive_umask(tmp_path):
    old = os.umask(0)
    try:
        KeyStore.create(tmp_path / "k.db").close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "k.db").st_mode) == 0o600


def test_refuses_to_overwrite_an_existing_file(store_path, encrypted):
    encrypted.add("P03", "Dana Okafor")
    with pytest.raises(KeyStoreError, match="already exists"):
        KeyStore.create(store_path, passphrase=PASS)
    other = store_path.parent / "notes.txt"
    other.write_text("field notes")
    with pytest.raises(KeyStoreError, match="refusing to overwrite"):
        KeyStore.create(other)
    assert other.read_text() == "field notes"
    # the original store is untouched
    assert encrypted.get("P03").name == "Dana Okafor"


def test_encrypted_values_are_not_in_the_raw_file(store_path):
    with KeyStore.create(store_path, passphrase=PASS) as store:
        store.add("P03", "Wilhelmina Quarrendon", aliases=["Minnie Q"], contact="07700 900123",
                  note="prefers mornings")
        store.replacement_for("prison", "HMP Thistlebrook")
        store.remove("P03")
        store.add("P04", "Ottoline Farrowdene", aliases=["Tilly"])
    raw = store_path.read_bytes()
    for secret in ("Quarrendon", "Wilhelmina", "Minnie", "07700", "mornings", "Thistlebrook",
                   "Ottoline", "Farrowdene", "Tilly"):
        assert secret.encode() not in raw
        assert secret.encode("utf-16-le") not in raw
        assert secret.lower().encode() not in raw
    assert b"P04" in raw  # pseudonyms stay readable so listing works
    for sidecar in ("-journal", "-wal"):
        assert not store_path.with_name(store_path.name + sidecar).exists()


def test_unencrypted_values_are_in_clear_but_the_mapping_key_is_hashed(plain):
    plain.replacement_for("prison", "HMP Thistlebrook")
    conn = sqlite3.connect(plain.path)
    digest, original = conn.execute("SELECT digest, original FROM replacements").fetchone()
    conn.close()
    assert "thistlebrook" not in digest.lower() and len(digest) == 64
    assert original == "HMP Thistlebrook"


def test_wrong_passphrase_is_refused(store_path, encrypted):
    encrypted.add("P03", "Dana Okafor")
    encrypted.close()
    with pytest.raises(KeyStoreError, match=r"^wrong passphrase for key store "):
        KeyStore.open(store_path, passphrase="not the passphrase")
    with pytest.raises(KeyStoreError, match="encrypted; give its passphrase"):
        KeyStore.open(store_path)
    with KeyStore.open(store_path, passphrase=PASS) as store:
        assert store.get("P03").name == "Dana Okafor"


def test_passphrase_on_an_unencrypted_store_is_an_error(plain):
    plain.close()
    with pytest.raises(KeyStoreError, match="not encrypted"):
        KeyStore.open(plain.path, passphrase="anything")


def test_missing_file_is_one_clear_line(tmp_path):
    missing = tmp_path / "nowhere" / "keys.db"
    with pytest.raises(KeyStoreError) as info:
        KeyStore.open(missing)
    message = str(info.value)
    assert message == f"no key store at {missing}" and "\n" not in message
    assert not missing.exists() and not missing.parent.exists()


def test_a_file_that_is_not_a_key_store(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(KeyStoreError, match="not a fieldkit key store"):
        KeyStore.open(junk)
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(KeyStoreError, match="not a fieldkit key store"):
        KeyStore.open(other)


def test_duplicate_pseudonym_is_refused(encrypted):
    encrypted.add("P03", "Dana Okafor")
    with pytest.raises(KeyStoreError, match="P03 is already in the key store"):
        encrypted.add("P03", "Someone Else")
    assert encrypted.get("P03").names == ("Dana Okafor",)


def test_add_alias_extends_an_entry(encrypted):
    encrypted.add("P03", "Dana Okafor")
    assert encrypted.add_alias("P03", "Dee") == []
    assert encrypted.add_alias("P03", "dee") == []  # already there, any case
    assert encrypted.get("P03").names == ("Dana Okafor", "Dee")
    with pytest.raises(KeyStoreError, match="P44 is not in the key store"):
        encrypted.add_alias("P44", "Nobody")


def test_bad_input_is_refused(plain):
    with pytest.raises(KeyStoreError, match="not a pseudonym code"):
        plain.add("P 03", "Dana Okafor")
    with pytest.raises(KeyStoreError, match="kind must be one of"):
        plain.add("P03", "Dana Okafor", kind="friend")
    with pytest.raises(KeyStoreError, match="a name is needed"):
        plain.add("P03", "   ")
    with pytest.raises(ValueError):
        Person("P03", ("Dana Okafor",), kind="stranger")


def test_names_are_tidied(plain):
    plain.add("P05", "  Zoe\u0308   Ní  Bhriain ", aliases="Zo")
    person = plain.get("P05")
    assert person.names == ("Zoë Ní Bhriain", "Zo")  # NFC, single spaces; one alias as a string


def test_remove_erases_the_entry(store_path, encrypted):
    encrypted.add("P03", "Dana Okafor")
    encrypted.add("P04", "Ottoline Farrowdene")
    removed = encrypted.remove("P03")
    assert removed.name == "Dana Okafor"
    assert encrypted.pseudonyms() == ("P04",)
    with pytest.raises(KeyStoreError):
        encrypted.get("P03")
    with pytest.raises(KeyStoreError):
        encrypted.remove("P03")


def test_remove_scrubs_a_clear_text_name_from_the_file(plain):
    plain.add("P03", "Wilhelmina Quarrendon")
    plain.add("P04", "Ottoline Farrowdene")
    plain.remove("P03")
    raw = plain.path.read_bytes()
    assert b"Quarrendon" not in raw  # secure_delete overwrote the row
    assert b"Farrowdene" in raw


def test_update_changes_contact_note_and_kind(encrypted):
    encrypted.add("X01", "Hollis Varga", kind="non-participant")
    updated = encrypted.update("X01", contact="via PDU", kind="participant")
    assert updated.contact == "via PDU" and updated.kind == "participant"
    assert encrypted.get("X01") == updated


def test_replacements_are_consistent_across_reopen(store_path):
    with KeyStore.create(store_path, passphrase=PASS) as store:
        first = store.replacement_for("prison", "HMP Thistlebrook")
        assert first == "[PRISON-1]"
        assert store.replacement_for("prison", "hmp   THISTLEBROOK") == "[PRISON-1]"
        assert store.replacement_for("prison", "HMP Gorsemoor") == "[PRISON-2]"
        assert store.replacement_for("place", "Thistlebrook") == "[PLACE-1]"
        assert store.replacement_for("probation office", "Wrenfold Road office") == "[PROBATION-OFFICE-1]"
    with KeyStore.open(store_path, passphrase=PASS) as store:
        assert store.replacement_for("prison", "HMP Gorsemoor") == "[PRISON-2]"
        assert store.replacement_for("prison", "HMP Thistlebrook") == "[PRISON-1]"
        assert store.replacement_for("prison", "HMP Newcastle-under-Wold") == "[PRISON-3]"
        assert store.replacement_for("Place", "thistlebrook") == "[PLACE-1]"
        listed = store.replacements()
    assert [row["replacement"] for row in listed] == [
        "[PLACE-1]", "[PRISON-1]", "[PRISON-2]", "[PRISON-3]", "[PROBATION-OFFICE-1]"
    ]
    assert listed[1]["original"] == "HMP Thistlebrook"


def test_lookup_leaves_names_to_the_pseudonym_hint(encrypted):
    assert encrypted.lookup("name", "Dana Okafor") is None
    assert encrypted.lookup("prison", "HMP Gorsemoor") == "[PRISON-1]"
    assert encrypted.lookup("prison", "HMP Gorsemoor") == encrypted.replacement_for("prison", "hmp gorsemoor")


def test_common_word_aliases_warn_but_are_kept(encrypted):
    warnings = encrypted.add("P03", "Dana Okafor", aliases=["Rose", "Dee", "Jo"])
    assert len(warnings) == 2
    assert any("'Rose'" in w and "common English word" in w for w in warnings)
    assert any("'Jo'" in w and "2 letter" in w for w in warnings)
    assert all(w.startswith("P03: ") for w in warnings)
    assert encrypted.get("P03").aliases == ("Rose", "Dee", "Jo")
    assert encrypted.add_alias("P03", "Will") and "common English word" in encrypted.add_alias("P03", "Mark")[0]
    assert encrypted.add_alias("P03", "Big Dave") == []
    encrypted.add("P04", "Bill Marsh")  # a full name whose parts are everyday words
    every = warn_common_aliases(encrypted)
    assert sum("P04" in w for w in every) == 2
    assert sum("P03" in w for w in every) == 4
    assert name_warnings(Person("P09", ("Ottoline Farrowdene", "Tilly"))) == []


def test_keys_check_suggestions(plain):
    plain.add("P03", "Dana Okafor", aliases=["Dee"])
    texts = [
        "Met Dana Okafor and Marek Lindqvist at the PDU. The SPO said Lindqvist was late.",
        "Dee spoke to Mrs Haverty about the Probation Service. On Monday Marek Lindqvist phoned.",
        "Dana Jane Okafor signed. Later the EbE and I talked about HMIP.",
        "Haverty was there.",  # a single capitalised word at a sentence start: ignored
    ]
    found = dict(suggestions(texts, plain))
    assert found["Marek Lindqvist"] == 2
    assert found["Lindqvist"] == 1
    assert found["Mrs Haverty"] == 1  # after a title, kept (with the title: it says more than the name)
    assert found["Dana Jane Okafor"] == 1  # has an unregistered middle name
    assert "Dana Okafor" not in found and "Dee" not in found and "Haverty" not in found
    for noise in ("SPO", "PDU", "EbE", "HMIP", "Probation Service", "Monday", "Later", "Met", "I"):
        assert noise not in found
    ordered = suggestions(texts, plain.people())
    assert ordered[0] == ("Marek Lindqvist", 2)
