"""The anonymisation review queue the workbench shows, behind one small interface.

The page needs three things from the privacy work: the candidates of a record (what would
be replaced, with its decision), a way to accept or reject one, and a way to register a
name that no detector knows yet. Today these come from ``fieldkit.privacy.anonymiser``
(``preview`` and ``decide``, kept in the ``anonymisation_decisions`` table) and the key
store (``find_unregistered_names``, ``KeyStore.add``/``add_alias``). When ``fieldkit
anonymise review`` grows its own candidate list, only this module needs to change.

A candidate is a dict with ``record``, ``number`` (its place in the record's review list,
as ``fieldkit anonymise --preview`` numbers it), ``start``/``end`` (code points), ``kind``,
``detector``, ``replacement``, ``status`` (pending, accepted, rejected) and ``context``
(the original text around it: for the researcher's own screen only, never logged).
"""

from __future__ import annotations

from typing import Optional

from fieldkit.core.errors import FieldkitError

TYPES = ("observation", "memo")


def candidates(project, record: Optional[str] = None, *, passphrase: Optional[str] = None) -> tuple[list, list]:
    """``(candidates, warnings)`` of one record, or of every note and memo."""
    from fieldkit.privacy.anonymiser import preview

    if record:
        return preview(project, record, passphrase=passphrase)
    return preview(project, all_records=True, passphrase=passphrase, types=TYPES)


def decide(project, record: str, number: int, action: str, *, passphrase: Optional[str] = None) -> dict:
    """Accept or reject candidate ``number`` of ``record`` (kept as a decision, logged in the audit)."""
    from fieldkit.privacy.anonymiser import decide as decide_one

    item = decide_one(project, record, int(number), action, passphrase=passphrase)
    return {"record": record, "number": item.number, "status": item.status, "kind": item.kind}


def unregistered_names(project, *, passphrase: Optional[str] = None, limit: int = 50) -> list[dict]:
    """Name-like phrases in the notes that the key store does not know, most frequent first."""
    from fieldkit.privacy.anonymiser import open_keystore
    from fieldkit.privacy.keystore import find_unregistered_names

    store = open_keystore(project, passphrase)
    if store is None:
        return []
    try:
        texts = (r.body for t in TYPES for r in project.list(t))
        return [{"phrase": phrase, "count": count} for phrase, count in find_unregistered_names(texts, store)[:limit]]
    finally:
        store.close()


def add_to_keystore(project, name: str, pseudonym: str, *, passphrase: Optional[str] = None) -> list[str]:
    """Register ``name`` under ``pseudonym`` (a new person, or an alias of a registered one).

    Returns the key store's warnings (e.g. an alias that is also a common word)."""
    from fieldkit.privacy.anonymiser import open_keystore

    name, pseudonym = (name or "").strip(), (pseudonym or "").strip()
    if not name or not pseudonym:
        raise FieldkitError("give the name and the pseudonym (such as P07) to register it under")
    store = open_keystore(project, passphrase)
    if store is None:
        raise FieldkitError("this project has no key store yet; create one with: fieldkit keys init")
    try:
        if pseudonym in store:
            return store.add_alias(pseudonym, name)
        return store.add(pseudonym, name)
    finally:
        store.close()
