"""Privacy commands: ``keys`` (the key store), ``anonymise`` (show, review) and ``participant withdraw``.

Each command is a thin layer over ``fieldkit.privacy.anonymiser``, ``fieldkit.privacy.keystore`` and
``fieldkit.privacy.withdrawal``.
"""

from __future__ import annotations

import os
from typing import Any, Optional

import click

from fieldkit.cli import editor
from fieldkit.cli.context import get_project
from fieldkit.cli.groups import DefaultCommandGroup, SubGroup
from fieldkit.cli.output import json_option, output
from fieldkit.core.errors import FieldkitError, InvalidInput

PASSPHRASE_ENV = "FIELDKIT_KEYS_PASSPHRASE"


def keys_passphrase(project: Any, *, new: bool = False) -> Optional[str]:
    """The key store passphrase: FIELDKIT_KEYS_PASSPHRASE, else a prompt (only if needed)."""
    from fieldkit.privacy.anonymiser import keystore_encrypted, keystore_path

    secret = os.environ.get(PASSPHRASE_ENV)
    if secret:
        return secret
    if not new:
        path = keystore_path(project)
        if path is None or not path.exists() or not keystore_encrypted(path):
            return None
    if not editor.stdin_is_tty():
        raise FieldkitError(f"the key store passphrase is needed; set {PASSPHRASE_ENV} or run in a terminal")
    return click.prompt("Key store passphrase", hide_input=True, confirmation_prompt=new, err=True)


def open_keys(project: Any) -> Any:
    """The project's key store, opened; a clear error when the project has none."""
    from fieldkit.privacy.anonymiser import open_keystore

    store = open_keystore(project, keys_passphrase(project))
    if store is None:
        raise FieldkitError("this project has no key store; create one with: fieldkit keys init")
    return store


@click.group(cls=SubGroup)
def keys() -> None:
    """The key store: real names and aliases, kept outside the project."""


@keys.command("init")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--encrypt", is_flag=True, help=f"Encrypt with a passphrase (prompted, or {PASSPHRASE_ENV}).")
def keys_init(path: Optional[str], encrypt: bool) -> None:
    """Create the key store at PATH (default ~/.fieldkit/keys/PROJECT.keys) and use it."""
    from fieldkit.privacy.anonymiser import create_keystore, default_keystore_path, inside_project

    project = get_project()
    target = path or default_keystore_path(project)
    if inside_project(project, target):
        click.echo("Warning: the key store is inside the project folder; copies of the project "
                   "will carry the real names. Prefer a path outside it.", err=True)
    store = create_keystore(project, target, passphrase=keys_passphrase(project, new=True) if encrypt else None)
    state = "encrypted" if store.encrypted else "not encrypted"
    store.close()
    click.echo(f"key store created at {project.setting('keystore_path')} ({state}, owner-only)")


@keys.command("add")
@click.argument("pseudonym")
@click.option("--name", required=True, help="The real full name.")
@click.option("--alias", "aliases", multiple=True, help="An alias or nickname (repeatable).")
@click.option("--contact", default="", help="Contact details (kept in the key store only).")
@click.option("--kind", type=click.Choice(("participant", "non-participant")), default="participant",
              show_default=True)
@click.option("--note", default="")
def keys_add(pseudonym: str, name: str, aliases: tuple, contact: str, kind: str, note: str) -> None:
    """Register PSEUDONYM (P03, X01) with a real name and aliases; or add aliases to it."""
    project = get_project()
    store = open_keys(project)
    try:
        if pseudonym in store:
            if contact or note:
                store.update(pseudonym, contact=contact or None, note=note or None)
            warnings = []
            for alias in (name, *aliases):
                warnings += store.add_alias(pseudonym, alias)
            done = f"{pseudonym}: names updated"
        else:
            warnings = store.add(pseudonym, name, aliases, contact=contact, kind=kind, note=note)
            done = f"{pseudonym} registered ({1 + len(aliases)} name(s))"
    finally:
        store.close()
    for warning in warnings:
        click.echo(f"Warning: {warning}", err=True)
    from fieldkit.privacy.consent import current_consent

    if kind == "participant" and current_consent(project, pseudonym) is None:
        click.echo(f"Note: {pseudonym} is not a participant of this project yet "
                   f"(fieldkit participant add {pseudonym}).", err=True)
    click.echo(done)


@keys.command("list")
@click.option("--show-names", is_flag=True, help="Show real names, aliases and contacts.")
@json_option
def keys_list(show_names: bool, fmt: str) -> None:
    """List pseudonyms in the key store (real names only with --show-names).

    A withdrawn participant stays listed as a tombstone: the code, no names."""
    project = get_project()
    store = open_keys(project)
    try:
        people = store.people()
    finally:
        store.close()
    rows = []
    for person in people:
        row = {"pseudonym": person.pseudonym, "kind": person.kind, "names": len(person.names),
               "status": "withdrawn" if person.withdrawn else ""}
        if show_names:
            row.update(name=person.name, aliases=list(person.aliases), contact=person.contact)
        rows.append(row)
    columns = ["pseudonym", "kind", "names", "status"] + (["name", "aliases", "contact"] if show_names else [])
    output(rows, columns, fmt or "table")


@keys.command("check")
@json_option
def keys_check(fmt: str) -> None:
    """Names in the notes that nobody registered, or that several people share, still waiting for review."""
    from fieldkit.privacy.names import warn_common_aliases
    from fieldkit.privacy.review import waiting_names

    project = get_project()
    store = open_keys(project)
    try:
        warnings = warn_common_aliases(store)
    finally:
        store.close()
    found = waiting_names(project, passphrase=keys_passphrase(project))
    for warning in warnings:
        click.echo(f"Warning: {warning}", err=True)
    rows = [{"text": text, "count": count} for text, count in found]
    if fmt != "json" and not rows:
        click.echo("no unregistered names found")
        return
    output(rows, ["text", "count"], fmt or "table")


class AnonymiseGroup(DefaultCommandGroup):
    """``anonymise RECORD …`` is short for ``anonymise show RECORD …``."""

    default_command = "show"


@click.group("anonymise", cls=AnonymiseGroup)
def anonymise() -> None:
    """Anonymisation: show records as exports write them (anonymise RECORD), review, decide."""


@anonymise.command("review")
@click.argument("records", nargs=-1)
@click.option("--pending", is_flag=True, help="Only what still needs a decision.")
@click.option("--accept", "accepts", multiple=True, type=int, help="Accept candidate N (repeatable).")
@click.option("--reject", "rejects", multiple=True, type=int, help="Reject candidate N (repeatable).")
@click.option("--register", "registers", multiple=True, type=int,
              help="Add candidate N's text to the key store under --pseudonym.")
@click.option("--pseudonym", help="With --register: the pseudonym (new, or an existing one to add an alias).")
@click.option("--kind", help="With --accept of an unclaimed candidate: what it is (name, place …).")
@json_option
def anonymise_review(records: tuple, pending: bool, accepts: tuple, rejects: tuple, registers: tuple,
                     pseudonym: Optional[str], kind: Optional[str], fmt: str) -> None:
    """List what detectors replaced and what looks identifying but was not; decide on each.

    Numbers count across the listing (run it again without decisions to see them). The
    listing shows the original text: it is for your own screen. Every decision is written
    to the anonymisation log as a keyed digest, never the text.
    """
    from fieldkit.privacy import review
    from fieldkit.privacy.anonymiser import _snippet

    project = get_project()
    secret = keys_passphrase(project)
    items = review.candidates(project, list(records) or None, passphrase=secret, only_pending=pending)
    numbered = {n: i for n, i in enumerate(items, start=1)}
    chosen = [(n, "accept") for n in accepts] + [(n, "reject") for n in rejects] + \
             [(n, "register") for n in registers]
    for number, action in chosen:
        if number not in numbered:
            raise InvalidInput(f"no candidate {number} (the listing has {len(numbered)})")
        done = review.decide(project, numbered[number], action, pseudonym=pseudonym, kind=kind,
                             passphrase=secret)
        said = {"accept": "accepted", "reject": "rejected", "register": "registered"}[action]
        click.echo(f"{said} candidate {number} ({done.kind})")
    if chosen:
        return
    bodies: dict = {}
    rows = []
    for number, item in numbered.items():
        if item.record_id not in bodies:
            bodies[item.record_id] = project.get(item.record_id).body
        rows.append({"number": number, "record": item.record_id, "start": item.start, "end": item.end,
                     "kind": item.kind, "detector": item.detector, "status": item.status,
                     "claimed": item.claimed, "replacement": item.replacement,
                     "needs_review": item.needs_review, "reason": item.reason,
                     "context": _snippet(bodies[item.record_id], item.start, item.end,
                                         item.replacement or "?")})
    if fmt == "json":
        output(rows, fmt="json")
        return
    if not rows:
        click.echo("nothing to review")
    for row in rows:
        flag = " NEEDS REVIEW" if row["needs_review"] else ""
        status = "" if row["status"] == "pending" else f" [{row['status']}]"
        click.echo(f"{row['number']:>4}. {row['record'][-8:]} {row['kind']} ({row['detector']}){status}{flag}: "
                   f"{row['context']}")
    waiting = sum(r["needs_review"] for r in rows)
    click.echo(f"{len(rows)} candidate(s), {waiting} waiting for a decision", err=True)


@anonymise.command("show")
@click.argument("record", required=False)
@click.option("--all", "all_records", is_flag=True, help="Every fieldnote, jotting and memo.")
@click.option("--preview", is_flag=True, help="Show each replacement in context (original text: your screen only).")
@click.option("--accept", "accepts", multiple=True, type=int, help="Accept replacement N of RECORD.")
@click.option("--reject", "rejects", multiple=True, type=int, help="Keep the text of replacement N of RECORD.")
@click.option("--add", "add_text", help="Replace this text in every record from now on.")
@click.option("--kind", help="The kind of text given with --add (name, place, prison …).")
@click.option("--log", "show_log", is_flag=True, help="Show the anonymisation log (digests, never text).")
@json_option
def anonymise_command(record: Optional[str], all_records: bool, preview: bool, accepts: tuple, rejects: tuple,
                      add_text: Optional[str], kind: Optional[str], show_log: bool, fmt: str) -> None:
    """Show a record anonymised, preview its replacements, and remember decisions."""
    from fieldkit.privacy import anonymiser as an

    project = get_project()
    secret = keys_passphrase(project)
    if show_log:
        output(an.log_entries(project, record), ["at", "author", "record", "kind", "detector", "replacement",
                                                 "digest", "action"], fmt or "table")
        return
    if add_text is not None:
        if not kind:
            raise InvalidInput("--add needs --kind (name, place, prison …)")
        an.add_rule(project, add_text, kind)
        click.echo(f"added: text of kind {kind.lower()} will be replaced in every record")
    if (accepts or rejects) and not record:
        raise InvalidInput("--accept and --reject need a RECORD (numbers are per record)")
    for number in accepts:
        an.decide(project, record, number, "accept", passphrase=secret)
        click.echo(f"accepted replacement {number}")
    for number in rejects:
        an.decide(project, record, number, "reject", passphrase=secret)
        click.echo(f"rejected replacement {number}: its text will be kept")
    if record and all_records:
        raise InvalidInput("give one RECORD or --all, not both")
    if not record and not all_records:
        if add_text is not None:
            return
        raise InvalidInput("give a RECORD or --all")
    if preview or all_records:
        rows, warnings = an.preview(project, record, all_records=all_records, passphrase=secret)
        for warning in warnings:
            click.echo(f"Warning: {warning}", err=True)
        if fmt == "json":
            output(rows, fmt="json")
            return
        if not rows:
            click.echo("nothing to replace")
        for row in rows:
            status = "" if row["status"] == "pending" else f" [{row['status']}]"
            where = f"{row['record'][-8:]} " if all_records else ""
            click.echo(f"{where}{row['number']:>3}. {row['kind']} ({row['detector']}){status}: {row['context']}")
        return
    text = an.anonymise_record(project, record, passphrase=secret)
    if fmt == "json":
        output({"record": project.resolve(record), "text": text}, fmt="json")
    else:
        click.echo(text.rstrip("\n"))


@click.command("withdraw")
@click.argument("ref")
@click.option("--mode", type=click.Choice(("redact", "erase")), default="redact", show_default=True,
              help="redact: keep group notes with mentions replaced; erase: delete those too.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--without-keystore", is_flag=True,
              help="Go ahead in a project that has no key store (only @mentions can be found then).")
def participant_withdraw(ref: str, mode: str, yes: bool, without_keystore: bool) -> None:
    """Carry out a withdrawal: show what is linked to REF, then erase or redact it."""
    from fieldkit.privacy.withdrawal import withdraw, withdrawal_plan

    project = get_project()
    secret = keys_passphrase(project)
    plan = withdrawal_plan(project, ref, mode=mode, passphrase=secret, allow_no_keystore=without_keystore)
    for line in plan.lines():
        click.echo(line)
    if not yes:
        click.confirm("This cannot be undone. Go ahead?", abort=True, err=True)
    result = withdraw(project, ref, mode=mode, passphrase=secret, plan=plan, allow_no_keystore=without_keystore)
    click.echo(result.summary())
