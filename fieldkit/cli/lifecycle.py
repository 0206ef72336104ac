"""The research data lifecycle: ``member-check``, ``disclosure-report``, ``retention``,
``destroy`` and ``copies`` (over ``fieldkit.lifecycle``; ``export deposit`` is an export format)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional

import click

from fieldkit.cli.context import get_project
from fieldkit.cli.groups import DefaultCommandGroup
from fieldkit.cli.options import export_options, selection_options
from fieldkit.cli.output import format_option, output


class MemberCheckGroup(DefaultCommandGroup):
    """``member-check P03`` is short for ``member-check pack P03``."""

    default_command = "pack"


@click.group("member-check", cls=MemberCheckGroup)
def member_check() -> None:
    """Show participants their own words and record what they say about each quote."""


@member_check.command("pack")
@click.argument("participant")
@click.option("-o", "--out", "folder", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder for PARTICIPANT-member-check.docx and .html.")
@click.option("--cover", type=click.Path(dir_okay=False, path_type=Path),
              help="Cover text template ($code, $count); default member-check-cover.txt in the project, "
                   "else fieldkit's.")
@click.option("--force", is_flag=True, help="Replace packs written before.")
def pack(participant: str, folder: Path, cover: Optional[Path], force: bool) -> None:
    """Write the member-check pack of PARTICIPANT (Word and HTML), pseudonymised as exports are."""
    from fieldkit.cli.privacy import keys_passphrase
    from fieldkit.lifecycle.member_check import build_pack

    project = get_project()
    made = build_pack(project, participant, folder, cover=cover, force=force, passphrase=keys_passphrase(project))
    click.echo(f"{len(made.quotes)} quote(s) of {made.code}; wrote {', '.join(made.files)}")


@member_check.command("respond")
@click.argument("quote")
@click.argument("response", type=click.Choice(("approved", "amended", "withdrawn", "comment")))
@click.option("--wording", help="The participant's new wording (with amended).")
@click.option("--comment", default="", help="What the participant said (any response may carry one).")
def respond(quote: str, response: str, wording: Optional[str], comment: str) -> None:
    """Record a participant's RESPONSE to QUOTE (an id such as P03-Q2)."""
    from fieldkit.lifecycle.member_check import respond as record

    row = record(get_project(), quote, response, wording=wording, comment=comment)
    click.echo(f"{row['id']}: {row['status']} (version {row['version']})")


@member_check.command("import")
@click.argument("participant")
@click.argument("returned", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_pack(participant: str, returned: Path) -> None:
    """Read a returned Word pack: comments, tracked changes to a quote, typed answers."""
    from fieldkit.lifecycle.member_check import import_responses

    done = import_responses(get_project(), participant, returned)
    for quote_id, response in done:
        click.echo(f"{quote_id}: {response}")
    if not done:
        click.echo("no responses found in the document")


@member_check.command("list")
@click.argument("participant", required=False)
@format_option
def list_quotes(participant: Optional[str], fmt: Optional[str]) -> None:
    """Quotes shown (or to show) to participants and their member-check status."""
    from fieldkit.core.output import short
    from fieldkit.lifecycle.member_check import quote_list

    project = get_project()
    codes = project.store.consent.codes()
    rows = [{"quote": q["id"], "participant": codes.get(q["participant_id"], q["participant_id"]),
             "record": short(q["record_id"]), "status": q["status"], "version": q["version"],
             "comment": q["comment"] or ""} for q in quote_list(project, participant)]
    output(rows, ("quote", "participant", "record", "status", "version", "comment"), fmt=fmt or "table")


@member_check.command("history")
@click.argument("quote")
@format_option
def quote_history(quote: str, fmt: Optional[str]) -> None:
    """Every response to QUOTE, oldest first (amendments keep each wording)."""
    from fieldkit.core.errors import NotFound

    project = get_project()
    found = project.store.lifecycle.quote(quote)
    if found is None:
        raise NotFound(f"no quote {quote}; fieldkit member-check list shows them")
    rows = [{k: h[k] or "" for k in ("version", "status", "wording", "comment", "author", "at")}
            for h in project.store.lifecycle.quote_history(found["id"])]
    output(rows, ("version", "status", "wording", "comment", "author", "at"), fmt=fmt or "table")


@click.command("disclosure-report")
@selection_options
@click.option("--sign-off", "sign", is_flag=True, help="Sign the report off (recorded in the audit log).")
@click.option("--accept", "accepted", multiple=True,
              type=click.Choice(("small cell", "unresolved names", "unreviewed text")),
              help="With --sign-off: accept open items of this kind (needs --note).")
@click.option("--note", default="", help="Why the accepted risk is acceptable (kept with the sign-off).")
@format_option
def disclosure_report(sign: bool, accepted: tuple, note: str, fmt: Optional[str], **selection) -> None:
    """What could still identify someone in an export with these options; sign it off."""
    from fieldkit.lifecycle.disclosure import disclosure_report as review
    from fieldkit.lifecycle.disclosure import sign_off

    project = get_project()
    options = export_options(project, **selection)
    report = review(project, options, passphrase=options.passphrase)
    if fmt:
        output([{"level": i.level, "kind": i.kind, "message": i.message, "count": i.count} for i in report.items],
               ("level", "kind", "message", "count"), fmt=fmt)
    else:
        for line in report.lines():
            click.echo(line)
    if sign:
        sign_off(project, report, accept=accepted, note=note)
        click.echo(f"signed off export selection {report.key}", err=True)
    elif accepted:
        from fieldkit.core.errors import InvalidInput

        raise InvalidInput("--accept goes with --sign-off")


def _today(value: Optional[str]) -> Optional[dt.date]:
    if not value:
        return None
    from fieldkit.core.errors import InvalidInput

    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"--today needs a date (YYYY-MM-DD), not {value!r}") from None


@click.command("retention")
@click.option("--today", help="Show what is due on this date instead (YYYY-MM-DD).")
@format_option
def retention(today: Optional[str], fmt: Optional[str]) -> None:
    """Each record class with its retention rule and what is due for destruction."""
    from fieldkit.lifecycle.retention import retention as status

    rows = [{"class": d.record_class, "rule": d.rule.text if d.rule else "(none)",
             "due_on": d.due_on.isoformat() if d.due_on else "", "due_now": len(d.items), "held": d.total}
            for d in status(get_project(), today=_today(today))]
    output(rows, ("class", "rule", "due_on", "due_now", "held"), fmt=fmt or "table")


@click.command("destroy")
@click.argument("classes", nargs=-1, required=True,
                type=click.Choice(("audio", "attachments", "transcripts", "raw_notes", "notes", "keystore")))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def destroy(classes: tuple, yes: bool) -> None:
    """Erase what is due of CLASSES from records, history, index, attachments and key store."""
    from fieldkit.cli.privacy import keys_passphrase
    from fieldkit.lifecycle.retention import destroy as erase
    from fieldkit.lifecycle.retention import retention as status

    project = get_project()
    due = {d.record_class: d for d in status(project)}
    for name in classes:
        click.echo(f"  {name}: {len(due[name].items)} item(s) due under '{due[name].rule.text if due[name].rule else '-'}'")
    if not yes:
        click.confirm("Destroy them? This cannot be undone", abort=True, err=True)
    certificate = erase(project, classes, passphrase=keys_passphrase(project))
    for line in certificate.lines():
        click.echo(line)


@click.command("copies")
@click.argument("participant", required=False)
@format_option
def copies(participant: Optional[str], fmt: Optional[str]) -> None:
    """Every export, backup and member-check pack (holding PARTICIPANT's words, if given)."""
    from fieldkit.lifecycle.register import copies as listed

    rows = listed(get_project(), participant)
    output([{**row, "left_out": ", ".join(f"{n} {why}" for why, n in row["left_out"].items())} for row in rows],
           ("at", "kind", "format", "profile", "dest", "state", "left_out", "sha256"), fmt=fmt or "table")
