"""Qualitative coding commands: ``code``, ``codebook``, ``autocode`` and ``agreement``.

Each command is a thin layer over ``fieldkit.coding.codings``, ``fieldkit.coding.codebook``,
``fieldkit.coding.queries`` and ``fieldkit.coding.autocode``, imported when the command runs.
"""

from __future__ import annotations

import sys

from typing import Callable, Optional

import click

from fieldkit.cli.context import get_project
from fieldkit.cli.groups import DefaultCommandGroup, SubGroup
from fieldkit.cli.options import COUNT
from fieldkit.cli.options import split as _split
from fieldkit.cli.output import echo_warnings, format_option, json_option, output
from fieldkit.cli.output import short as _short

GROUPS = ("code", "record", "encounter", "participant", "role", "site")


def _where_options(f):
    """Where to put a coding: a quote (with its occurrence), offsets, or the whole record."""
    for decl, kw in reversed([
        (("--quote", "-q"), dict(help="The text to code, as it appears in the record.")),
        (("--occurrence", "-n"), dict(type=int, help="Which occurrence of a repeated quote (1, 2 …).")),
        (("--start",), dict(type=int, help="Start offset (code points).")),
        (("--end",), dict(type=int, help="End offset (code points, exclusive).")),
        (("--whole",), dict(is_flag=True, help="Code the whole record (the only way for encounters).")),
    ]):
        f = click.option(*decl, **kw)(f)
    return f


def _coding_table(rows, fmt, *, context=False):
    from fieldkit.core.output import preview

    if fmt in ("json", "csv"):
        output(rows, fmt=fmt)
        return
    shown = []
    for r in rows:
        text = r.get("text") or ""
        if context and (r.get("before") or r.get("after")):
            text = f"…{r.get('before', '')}[{text}]{r.get('after', '')}…"
        shown.append({**r, "id": _short(r.get("id") or r.get("coding")), "record": _short(r["record"]),
                      "span": "whole" if r["start"] is None else f"{r['start']}-{r['end']}",
                      "text": preview(text, 70)})
    output(shown, ["id", "record", "code", "coder", "span", "status", "text"])


@click.group(cls=SubGroup)
def code() -> None:
    """Apply codes to text and query coded segments."""


@code.command("apply")
@click.argument("record")
@click.argument("code_ref", metavar="CODE")
@_where_options
@click.option("--coder", help="Coder name (default: the project author).")
@click.option("--note", default="", help="A note on this coding.")
@json_option
def code_apply(record: str, code_ref: str, quote: Optional[str], occurrence: Optional[int], start: Optional[int],
               end: Optional[int], whole: bool, coder: Optional[str], note: str, fmt: str) -> None:
    """Apply CODE to a quote, an offset range or the whole of RECORD.

    \b
    fieldkit code apply 01HX…Q7 power-asymmetry --quote "checks phone"
    fieldkit code apply 01HX…Q7 power-asymmetry --quote "EbE" --occurrence 2
    fieldkit code apply E12 challenges --whole
    """
    from fieldkit.coding.codings import apply_code, code_path

    project = get_project()
    coding = apply_code(project, record, code_ref, quote=quote, occurrence=occurrence, start=start, end=end,
                        whole=whole, coder=coder, note=note)
    echo_warnings(project)
    if fmt == "json":
        from fieldkit.core.convert import to_json

        output(to_json(coding), fmt="json")
        return
    code_obj = project.get(coding.code_id, type_name="code")
    where = "the whole record" if coding.start is None else f"[{coding.start}, {coding.end})"
    click.echo(f"coding {coding.id}: '{code_path(project, code_obj)}' on {where} by {coding.coder}")


@code.command("list")
@click.option("--record", "-r", help="Only codings of this record.")
@click.option("--code", "-c", "code_ref", help="Only this code.")
@click.option("--descendants", "-d", is_flag=True, help="With --code: include the codes below it.")
@click.option("--coder", help="Only this coder.")
@click.option("--status", type=click.Choice(["ok", "review"]), help="Only codings with this status.")
@click.option("--no-auto", is_flag=True, help="Leave out auto-coder proposals.")
@format_option
def code_list(record: Optional[str], code_ref: Optional[str], descendants: bool, coder: Optional[str],
              status: Optional[str], no_auto: bool, fmt: Optional[str]) -> None:
    """List codings with the text they cover."""
    from fieldkit.coding.codings import coding_rows, list_codings

    project = get_project()
    codings = list_codings(project, record=record, code=code_ref, coder=coder, status=status,
                           descendants=descendants, include_auto=not no_auto)
    _coding_table(coding_rows(project, codings), fmt)


@code.command("remove")
@click.argument("coding_ids", nargs=-1, required=True, metavar="CODING...")
@click.option("--reason", default="", help="Why (kept in the audit log).")
def code_remove(coding_ids: tuple, reason: str) -> None:
    """Remove codings (tombstoned: kept in the database and its history)."""
    from fieldkit.coding.codings import remove_coding

    project = get_project()
    with project.transaction():
        removed = [remove_coding(project, ref, reason=reason) for ref in coding_ids]
    for c in removed:
        click.echo(f"coding {c.id} removed")


@code.command("review")
@click.argument("coding_id", required=False, metavar="[CODING]")
@click.option("--ok", "confirm", is_flag=True, help="The coding is right as it stands.")
@_where_options
@click.option("--reason", default="", help="Why (kept in history).")
@format_option
def code_review(coding_id: Optional[str], confirm: bool, quote: Optional[str], occurrence: Optional[int],
                start: Optional[int], end: Optional[int], whole: bool, reason: str, fmt: Optional[str]) -> None:
    """List codings needing review after an edit, or settle one.

    \b
    fieldkit code review                      # list them
    fieldkit code review 7KQ2M1ZP --ok        # right as it stands
    fieldkit code review 7KQ2M1ZP --quote "new wording"
    """
    from fieldkit.coding.codings import coding_rows, resolve_review, review_list, review_texts

    project = get_project()
    located = quote is not None or start is not None or end is not None or whole
    if coding_id is None:
        if confirm or located:
            raise click.UsageError("give the coding to settle")
        found = review_list(project)
        rows = [{**row, "was": review_texts(project, c)[0]} for c, row in zip(found, coding_rows(project, found))]
        if fmt in ("json", "csv"):
            output(rows, fmt=fmt)
            return
        from fieldkit.core.output import preview

        output([{**r, "id": _short(r["id"]), "record": _short(r["record"]), "code": r["code"],
                 "was": "(not kept)" if r["was"] is None else preview(r["was"], 40), "now": preview(r["text"], 40)}
                for r in rows], ["id", "record", "code", "was", "now"])
        return
    if not (confirm or located):
        raise click.UsageError("say --ok, or where the coding belongs now (--quote, --start/--end, --whole)")
    if confirm and located:
        raise click.UsageError("--ok keeps the coding where it is; do not also give a new place")
    coding = resolve_review(project, coding_id, quote=quote, occurrence=occurrence, start=start, end=end,
                            whole=whole, reason=reason)
    where = "the whole record" if coding.start is None else f"[{coding.start}, {coding.end})"
    click.echo(f"coding {coding.id} reviewed: {where}")


@code.command("segments")
@click.argument("code_ref", metavar="CODE")
@click.option("--no-descendants", is_flag=True, help="Only CODE itself, not the codes below it.")
@click.option("--coder", help="Only this coder.")
@click.option("--include-auto", is_flag=True, help="Include auto-coder proposals.")
@click.option("--context", type=COUNT, default=60, show_default=True, help="Characters shown either side.")
@format_option
def code_segments(code_ref: str, no_descendants: bool, coder: Optional[str], include_auto: bool, context: int,
                  fmt: Optional[str]) -> None:
    """Every segment coded with CODE (and the codes below it), with context."""
    from fieldkit.coding.queries import segments

    project = get_project()
    rows = segments(project, code_ref, descendants=not no_descendants, coder=coder,
                    include_auto=include_auto, context=context)
    if fmt:
        output(rows, fmt=fmt)
        return
    if not rows:
        click.echo("(none)")
    for r in rows:
        where = "whole record" if r["start"] is None else f"{r['start']}-{r['end']}"
        head = f"{r['code']}  {r['record_type']} {_short(r['record'])}"
        head += f" ({r['encounter']})" if r["encounter"] else ""
        head += f"  said by {r['speakers']}" if r.get("speakers") else ""
        click.echo(f"{head}  {where}  {r['coder']}" + ("  [needs review]" if r["status"] == "review" else "")
                   + (f"  [member check: {r['member_check']}]" if r["member_check"] else ""))
        before = " ".join(r["before"].split())
        after = " ".join(r["after"].split())
        click.echo(f"    …{before} [{' '.join(r['text'].split())}] {after}…")
        click.echo("")


@code.command("freq")
@click.option("--by", type=click.Choice(GROUPS), default="code", show_default=True,
              help="Count per code, or per code and record, encounter, participant, role or site.")
@click.option("--code", "-c", "codes", multiple=True, help="Only these codes (repeat or comma-separate).")
@click.option("--descendants", "-d", is_flag=True, help="With --code: include the codes below them.")
@click.option("--coder", help="Only this coder.")
@click.option("--include-auto", is_flag=True, help="Include auto-coder proposals.")
@click.option("--rollup", is_flag=True, help="Count each coding for its code's ancestors too.")
@format_option
def code_freq(by: str, codes: tuple, descendants: bool, coder: Optional[str], include_auto: bool, rollup: bool,
              fmt: Optional[str]) -> None:
    """Code frequencies, overall or by record, encounter, participant, role or site."""
    from fieldkit.coding.queries import frequencies

    project = get_project()
    rows = frequencies(project, by, codes=_split(codes) or None, descendants=descendants, coder=coder,
                       include_auto=include_auto, rollup=rollup)
    if by == "record" and not fmt:
        rows = [{**r, "record": _short(r["record"])} for r in rows]
    columns = ["code"] + ([by] if by != "code" else []) + ["codings", "records"]
    output(rows, columns, fmt or "table")


@code.command("cooccur")
@click.option("--code", "-c", "codes", multiple=True, help="Only these codes.")
@click.option("--coder", help="Only this coder.")
@click.option("--same-coder", is_flag=True, help="Only pair codings made by the same coder.")
@click.option("--include-auto", is_flag=True, help="Include auto-coder proposals.")
@click.option("--min", "min_count", type=COUNT, default=1, show_default=True, help="Leave out rarer pairs.")
@format_option
def code_cooccur(codes: tuple, coder: Optional[str], same_coder: bool, include_auto: bool, min_count: int,
                 fmt: Optional[str]) -> None:
    """Code co-occurrence: overlapping segments and records sharing both codes."""
    from fieldkit.coding.queries import cooccurrence

    project = get_project()
    rows = cooccurrence(project, codes=_split(codes) or None, coder=coder, same_coder=same_coder,
                        include_auto=include_auto, min_count=min_count)
    output(rows, ["code_a", "code_b", "overlaps", "records"], fmt or "table")


@code.command("matrix")
@click.option("--by", "attribute", default="role", show_default=True,
              help="role, participant, organisation, site, site_kind, encounter, encounter_kind, "
                   "record_type, coder, or a participant attribute (attr:KEY).")
@click.option("--count", type=click.Choice(["codings", "records"]), default="codings", show_default=True)
@click.option("--code", "-c", "codes", multiple=True, help="Only these codes.")
@click.option("--descendants", "-d", is_flag=True, help="With --code: include the codes below them.")
@click.option("--coder", help="Only this coder.")
@click.option("--include-auto", is_flag=True, help="Include auto-coder proposals.")
@click.option("--rollup", is_flag=True, help="Count each coding for its code's ancestors too.")
@format_option
def code_matrix(attribute: str, count: str, codes: tuple, descendants: bool, coder: Optional[str],
                include_auto: bool, rollup: bool, fmt: Optional[str]) -> None:
    """Code-by-attribute table (for example codes by participant role)."""
    from fieldkit.coding.queries import matrix, matrix_columns

    project = get_project()
    rows = matrix(project, attribute, count=count, codes=_split(codes) or None, descendants=descendants,
                  coder=coder, include_auto=include_auto, rollup=rollup)
    output(rows, matrix_columns(rows), fmt or "table")


def code_fields(f: Callable) -> Callable:
    for decl, kw in reversed([
        (("--title",), dict(help="A human title (default: from the name).")),
        (("--definition",), dict(help="What the code means.")),
        (("--include",), dict(help="When to apply it.")),
        (("--exclude",), dict(help="When not to apply it.")),
        (("--example",), dict(help="An (invented) example.")),
        (("--colour", "--color"), dict(help="Colour as #rrggbb.")),
        (("--keyword", "-k"), dict(multiple=True,
                                   help="Keyword rule: word:TEXT, phrase:TEXT, regex:PATTERN or near:A,B[:N].")),
    ]):
        f = click.option(*decl, **kw)(f)
    return f


@click.group(cls=SubGroup)
def codebook() -> None:
    """The hierarchical codebook: load, show, add, rename, move, merge, retire, export."""


@codebook.command("load")
@click.argument("source", metavar="NAME|FILE")
@click.option("--update", is_flag=True, help="Overwrite codes that exist with other definitions (history kept).")
@json_option
def codebook_load(source: str, update: bool, fmt: str) -> None:
    """Load a codebook a plugin provides (such as coproduction) or a YAML/JSON file."""
    from fieldkit.coding.codebook import load_into_project

    report = load_into_project(get_project(), source, update=update)
    if fmt == "json":
        output({"name": report.name, "added": report.added, "unchanged": report.unchanged,
                    "updated": report.updated, "skipped": report.skipped}, fmt="json")
    else:
        click.echo(report.summary())


@codebook.command("available")
@format_option
def codebook_available(fmt: Optional[str]) -> None:
    """List the codebooks plugins provide."""
    from fieldkit.coding.codebook import available_codebooks

    rows = [{"name": n, "description": c.description} for n, c in sorted(available_codebooks().items())]
    output(rows, ["name", "description"], fmt or "table")


@codebook.command("show")
@click.argument("code_ref", required=False, metavar="[CODE]")
@click.option("--all", "show_all", is_flag=True, help="Include merged and retired codes.")
@format_option
def codebook_show(code_ref: Optional[str], show_all: bool, fmt: Optional[str]) -> None:
    """Show the code tree with usage counts, or one code in full."""
    from fieldkit.coding.codebook import codebook_rows

    project = get_project()
    rows = codebook_rows(project, include_inactive=show_all or bool(code_ref))
    if code_ref:
        from fieldkit.coding.codings import resolve_code

        wanted = resolve_code(project, code_ref).id
        rows = [r for r in rows if r["id"] == wanted]
        if fmt:
            output(rows[0] if fmt == "json" else rows, fmt=fmt)
            return
        for key in ("path", "title", "status", "merged_into", "codings", "proposed", "colour", "definition",
                    "include", "exclude", "example", "keywords", "id"):
            value = rows[0][key]
            if value not in (None, "", []):
                if key == "keywords":
                    from fieldkit.coding.codings import rule_from_dict

                    value = "; ".join(rule_from_dict(k).describe() for k in value)
                click.echo(f"{key:>11}: {value}")
        return
    if fmt:
        output(rows, fmt=fmt)
        return
    if not rows:
        click.echo("(the codebook is empty; try 'fieldkit codebook load coproduction')")
    from fieldkit.core.output import preview

    for r in rows:
        status = "" if r["status"] == "active" else f" [{r['status']}" + (
            f" into {r['merged_into']}]" if r["merged_into"] else "]")
        label = "  " * r["depth"] + r["name"] + status
        click.echo(f"{label:<44} {r['codings']:>5}  {preview(r['definition'], 60)}".rstrip())


@codebook.command("add")
@click.argument("name")
@click.option("--parent", "-p", help="Parent code (path or name).")
@code_fields
def codebook_add(name: str, parent: Optional[str], title: Optional[str], definition: Optional[str],
                 include: Optional[str], exclude: Optional[str], example: Optional[str], colour: Optional[str],
                 keyword: tuple) -> None:
    """Add code NAME (optionally under --parent)."""
    from fieldkit.coding.codebook import add_code
    from fieldkit.coding.codings import code_path

    project = get_project()
    code = add_code(project, name, parent=parent, title=title or "", definition=definition or "",
                    include=include or "", exclude=exclude or "", example=example or "", colour=colour or "",
                    keywords=keyword)
    click.echo(f"code '{code_path(project, code)}' added ({code.id})")


@codebook.command("edit")
@click.argument("code_ref", metavar="CODE")
@code_fields
@click.option("--replace-keywords", is_flag=True, help="Replace the keyword rules instead of adding to them.")
@click.option("--reason", default="", help="Why (kept in history).")
def codebook_edit(code_ref: str, title: Optional[str], definition: Optional[str], include: Optional[str],
                  exclude: Optional[str], example: Optional[str], colour: Optional[str], keyword: tuple,
                  replace_keywords: bool, reason: str) -> None:
    """Change a code's title, definition, include/exclude rules, example, colour or keywords."""
    from fieldkit.coding.codebook import edit_code
    from fieldkit.coding.codings import code_path

    project = get_project()
    kw = {"keywords": keyword} if replace_keywords else {"add_keywords": keyword}
    code = edit_code(project, code_ref, title=title, definition=definition, include=include, exclude=exclude,
                     example=example, colour=colour, reason=reason, **kw)
    click.echo(f"code '{code_path(project, code)}' updated")


@codebook.command("rename")
@click.argument("code_ref", metavar="CODE")
@click.argument("new_name")
@click.option("--reason", default="", help="Why (kept in history).")
def codebook_rename(code_ref: str, new_name: str, reason: str) -> None:
    """Rename a code; its codings and children stay with it."""
    from fieldkit.coding.codebook import rename_code
    from fieldkit.coding.codings import code_path

    project = get_project()
    code = rename_code(project, code_ref, new_name, reason=reason)
    click.echo(f"code renamed: now '{code_path(project, code)}'")


@codebook.command("move")
@click.argument("code_ref", metavar="CODE")
@click.argument("parent", required=False)
@click.option("--top", is_flag=True, help="Move to the top level.")
@click.option("--reason", default="", help="Why (kept in history).")
def codebook_move(code_ref: str, parent: Optional[str], top: bool, reason: str) -> None:
    """Move CODE (with the codes below it) under PARENT, or to the top with --top."""
    from fieldkit.coding.codebook import move_code
    from fieldkit.coding.codings import code_path

    if bool(parent) == bool(top):
        raise click.UsageError("give a new PARENT or --top")
    project = get_project()
    code = move_code(project, code_ref, None if top else parent, reason=reason)
    click.echo(f"code moved: now '{code_path(project, code)}'")


@codebook.command("merge")
@click.argument("source")
@click.argument("target")
@click.option("--reason", default="", help="Why (kept in history).")
def codebook_merge(source: str, target: str, reason: str) -> None:
    """Merge SOURCE into TARGET: codings and children move, SOURCE keeps a pointer."""
    from fieldkit.coding.codebook import merge_codes
    from fieldkit.coding.codings import code_path

    project = get_project()
    result = merge_codes(project, source, target, reason=reason)
    text = f"merged into '{code_path(project, result.target)}': {result.moved} coding(s) moved"
    if result.duplicates:
        text += f", {result.duplicates} duplicate(s) removed"
    if result.children:
        text += f", {result.children} child code(s) moved"
    click.echo(text)


@codebook.command("retire")
@click.argument("code_ref", metavar="CODE")
@click.option("--reason", default="", help="Why (kept in history).")
def codebook_retire(code_ref: str, reason: str) -> None:
    """Retire a code: it can no longer be applied; its codings stay."""
    from fieldkit.coding.codebook import retire_code

    code = retire_code(get_project(), code_ref, reason=reason)
    click.echo(f"code '{code.name}' retired")


@codebook.command("restore")
@click.argument("code_ref", metavar="CODE")
@click.option("--reason", default="", help="Why (kept in history).")
def codebook_restore(code_ref: str, reason: str) -> None:
    """Bring a retired code back into use."""
    from fieldkit.coding.codebook import restore_code

    code = restore_code(get_project(), code_ref, reason=reason)
    click.echo(f"code '{code.name}' is active again")


@codebook.command("delete")
@click.argument("code_ref", metavar="CODE")
@click.option("--reason", required=True, help="Why (kept in the audit log).")
def codebook_delete(code_ref: str, reason: str) -> None:
    """Delete an unused code (tombstoned); codes with codings must be retired or merged instead."""
    from fieldkit.coding.codebook import delete_code

    code = delete_code(get_project(), code_ref, reason=reason)
    click.echo(f"code '{code.name}' deleted (tombstoned)")


@codebook.command("export")
@click.argument("dest", required=False, metavar="[FILE]")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]),
              help="Default: from the file name (.json is JSON), else YAML.")
@click.option("--include-retired", is_flag=True, help="Also export retired codes.")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
def codebook_export(dest: Optional[str], fmt: Optional[str], include_retired: bool, force: bool) -> None:
    """Write the codebook as YAML or JSON to FILE (or standard output)."""
    from fieldkit.coding.codebook import export_codebook, write_codebook

    project = get_project()
    if not dest or dest == "-":
        from fieldkit.coding.codebook_file import dump_codebook

        click.echo(dump_codebook(export_codebook(project, include_retired=include_retired), fmt or "yaml"),
                   nl=False)
        return
    path = write_codebook(project, dest, fmt=fmt, force=force, include_retired=include_retired)
    click.echo(f"codebook written to {path}", err=True)


@click.group(cls=DefaultCommandGroup)
def autocode() -> None:
    """Auto-coding: propose codings with a plugin coder, then accept or reject them.

    \b
    fieldkit autocode --all                 # run the keywords coder everywhere
    fieldkit autocode list                  # pending proposals
    fieldkit autocode accept --all --as alice
    fieldkit autocode reject 7KQ2M1ZP
    """


@autocode.command("run")
@click.argument("records", nargs=-1, metavar="[RECORD...]")
@click.option("--coder", default="keywords", show_default=True, help="The auto-coder to run.")
@click.option("--all", "all_records", is_flag=True, help="Every observation and memo.")
@click.option("--code", "-c", "codes", multiple=True, help="Only offer these codes.")
@json_option
def autocode_run(records: tuple, coder: str, all_records: bool, codes: tuple, fmt: str) -> None:
    """Run an auto-coder over RECORD... or --all; proposals are stored as coder auto:NAME."""
    from fieldkit.coding.autocode import get_coder, run_autocoder

    project = get_project()
    get_coder(coder)  # an unknown coder fails before the progress bar starts
    if all_records and records:
        raise click.UsageError("give records or --all, not both")
    if all_records and fmt != "json":
        total = project.count("observation") + project.count("memo")
        with click.progressbar(length=total, label="auto-coding", file=sys.stderr) as bar:
            report = run_autocoder(project, coder, all_records=True, codes=_split(codes) or None,
                                   progress=bar.update)
    else:
        report = run_autocoder(project, coder, records=list(records), all_records=all_records,
                               codes=_split(codes) or None)
    if fmt == "json":
        output({"coder": report.coder, "records": report.records, "proposed": report.proposed,
                    "already": report.already, "by_code": report.by_code}, fmt="json")
        return
    click.echo(report.summary())
    if report.proposed:
        click.echo(f"review them with 'fieldkit autocode list'; compare with a person using "
                   f"'fieldkit agreement --coders {report.coder},NAME'")


@autocode.command("list")
@click.option("--coder", help="Only this auto-coder (e.g. keywords).")
@click.option("--record", "-r", help="Only this record.")
@click.option("--code", "-c", "code_ref", help="Only this code.")
@click.option("--every", is_flag=True, help="Include proposals already accepted.")
@format_option
def autocode_list(coder: Optional[str], record: Optional[str], code_ref: Optional[str], every: bool,
                  fmt: Optional[str]) -> None:
    """List pending proposals with their text."""
    from fieldkit.coding.autocode import proposals
    from fieldkit.coding.codings import coding_rows

    project = get_project()
    found = proposals(project, coder=coder, record=record, code=code_ref, pending=not every)
    _coding_table(coding_rows(project, found), fmt)


def _choose(f):
    f = click.argument("ids", nargs=-1, metavar="[PROPOSAL...]")(f)
    f = click.option("--all", "all_pending", is_flag=True, help="Every pending proposal (narrowed below).")(f)
    f = click.option("--coder", help="With --all: only this auto-coder.")(f)
    f = click.option("--record", "-r", help="With --all: only this record.")(f)
    f = click.option("--code", "-c", "code_ref", help="With --all: only this code.")(f)
    f = click.option("--reason", default="", help="Why (kept in history).")(f)
    return f


@autocode.command("accept")
@_choose
@click.option("--as", "as_coder", help="The coder accepting them (default: the project author).")
def autocode_accept(ids: tuple, all_pending: bool, coder: Optional[str], record: Optional[str],
                    code_ref: Optional[str], reason: str, as_coder: Optional[str]) -> None:
    """Accept proposals: copy them to a human coder."""
    from fieldkit.coding.autocode import accept

    project = get_project()
    made = accept(project, ids, as_coder=as_coder, all_pending=all_pending, reason=reason,
                  **_narrow(all_pending, coder, record, code_ref))
    click.echo(f"accepted {len(made)} proposal(s) as {as_coder or project.author}")


@autocode.command("reject")
@_choose
def autocode_reject(ids: tuple, all_pending: bool, coder: Optional[str], record: Optional[str],
                    code_ref: Optional[str], reason: str) -> None:
    """Reject proposals (tombstoned; they will not be proposed again)."""
    from fieldkit.coding.autocode import reject

    project = get_project()
    gone = reject(project, ids, all_pending=all_pending, reason=reason,
                  **_narrow(all_pending, coder, record, code_ref))
    click.echo(f"rejected {len(gone)} proposal(s)")


@autocode.command("coders")
@format_option
def autocode_coders(fmt: Optional[str]) -> None:
    """List the auto-coders plugins provide."""
    from fieldkit.coding.autocode import available_coders

    rows = [{"name": n, "description": c.description} for n, c in sorted(available_coders().items())]
    output(rows, ["name", "description"], fmt or "table")


def _narrow(all_pending, coder, record, code_ref) -> dict:
    if not all_pending and (coder or record or code_ref):
        raise click.UsageError("--coder, --record and --code narrow --all; with ids, give only the ids")
    return {"coder": coder, "record": record, "code": code_ref} if all_pending else {}


def _pct(value):
    return None if value is None else f"{100 * value:.1f}%"


@click.command("agreement")
@click.option("--coders", required=True, help="Two or more coders, comma-separated: alice,bob[,carol].")
@click.option("--unit", type=click.Choice(["character", "segment"]), default="character", show_default=True,
              help="Compare every character, or matched segments.")
@click.option("--overlap", type=float, default=0.5, show_default=True,
              help="Segment units: how much two segments must overlap (intersection/union) to agree.")
@click.option("--code", "-c", "codes", multiple=True, help="Only these codes.")
@click.option("--record", "-r", "records", multiple=True, help="Only these records.")
@click.option("--untouched", type=click.Choice(["missing", "absent"]), default="missing", show_default=True,
              help="A coder who coded nothing in a record: missing data, or a decision that no code applies.")
@click.option("--limit", type=COUNT, default=50, show_default=True, help="Disagreements to list (0: all).")
@format_option
def agreement_command(coders: str, unit: str, overlap: float, codes: tuple, records: tuple, untouched: str,
                      limit: int, fmt: Optional[str]) -> None:
    """Inter-coder agreement per code and overall, and the disagreements to discuss.

    Percent agreement, Cohen's kappa (two coders), Fleiss' kappa and Krippendorff's alpha
    (nominal), over characters or matched segments.
    """
    from fieldkit.coding.codings import agreement

    project = get_project()
    result = agreement(project, _split([coders]), unit=unit, overlap=overlap, codes=_split(codes) or None,
                       records=_split(records) or None, untouched=untouched)
    if fmt == "json":
        output(result.to_json(), fmt="json")
        return
    if fmt == "csv":
        output(result.rows, ["code", "units", "percent", "cohen_kappa", "fleiss_kappa",
                                 "krippendorff_alpha", "note"], "csv")
        return
    click.echo(f"Agreement between {', '.join(result.coders)} ({unit} units"
               + (f", overlap >= {overlap}" if unit == "segment" else "") + ")")
    click.echo("")
    table = [{"code": r["code"], "units": r["units"], "percent": _pct(r["percent"]),
              "cohen": r["cohen_kappa"], "fleiss": r["fleiss_kappa"], "alpha": r["krippendorff_alpha"],
              "note": r["note"] if r["code"] != "(overall)" else ""} for r in result.rows]
    columns = ["code", "units", "percent"] + (["cohen"] if len(result.coders) == 2 else []) + \
        ["fleiss", "alpha", "note"]
    output(table, columns)
    for note in result.notes:
        click.echo(f"Note: {note}")
    click.echo("")
    shown = result.disagreements if not limit else result.disagreements[:limit]
    click.echo(f"Disagreements: {len(result.disagreements)}" +
               (f" (first {len(shown)}; --limit 0 for all)" if len(shown) < len(result.disagreements) else ""))
    if shown:
        from fieldkit.core.output import preview

        output([{"record": _short(d["record_id"]), "code": d["code"], "span": f"{d['start']}-{d['end']}",
                     "applied_by": d["applied_by"], "not_by": d["not_applied_by"],
                     "text": preview(d["text"], 50)} for d in shown],
                   ["record", "code", "span", "applied_by", "not_by", "text"])
