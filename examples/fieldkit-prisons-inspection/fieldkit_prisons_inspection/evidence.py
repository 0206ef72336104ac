"""The ``prisons-evidence`` exporter: an inspection evidence table as one CSV file.

One row per coded segment, grouped by code: the framework area (the top-level code), the
code's path, the evidence (the coded text), and where it came from (record, encounter,
site, date). Inspection teams paste such tables into their evidence bases.

The text comes from :func:`fieldkit.exchange.exporting.export_items`, so the table is anonymised
unless the user asks otherwise, withdrawn participants are left out, and segments from
notes without consent to quotes are left out and counted in the report.
"""

from __future__ import annotations

COLUMNS = ("area", "code", "evidence", "record_type", "record", "encounter", "site", "date", "coder",
           "status", "note")


def record_date(project, record) -> str:
    """The local date a record is about: when it was observed, else when it was written."""
    import zoneinfo

    when = getattr(record, "observed_at", None) or getattr(record, "recorded_at", None) or record.created_at
    return when.astimezone(zoneinfo.ZoneInfo(project.timezone)).date().isoformat()


def evidence_rows(project, options, report) -> list[dict]:
    """The rows of the evidence table, sorted by code path, date and position.

    Pending auto-coder proposals are not evidence until a person accepts them, so codings by
    ``auto:…`` coders are skipped.
    """
    from fieldkit.coding.codings import is_auto_coder
    from fieldkit.exchange.exporting import LeftOut, Lookups, export_items, selected_code_ids, text_fields

    texts = text_fields(project, options, report)
    lookups = Lookups(project, texts)
    wanted = set(selected_code_ids(project, options)) if options.codes else None
    rows = []
    for item in export_items(project, options, report):
        record = item.record
        context = lookups.context(record)
        for coding in item.withheld:  # words consent does not let anyone quote
            if not is_auto_coder(coding.coder) and (wanted is None or coding.code_id in wanted):
                report.left_out.append(LeftOut(coding.id, "quote", "no consent to quotes"))
        for coding in item.codings:  # export_items passes only codings that may be quoted
            if is_auto_coder(coding.coder) or (wanted is not None and coding.code_id not in wanted):
                continue
            path = lookups.code_path(coding.code_id)
            evidence = item.text if coding.start is None else item.text[coding.start:coding.end]
            rows.append({
                "area": path.split("/", 1)[0], "code": path, "evidence": evidence,
                "record_type": record.type_name, "record": record.id, "encounter": context["encounter"],
                "site": context["site"], "date": record_date(project, record), "coder": coding.coder,
                "status": coding.status, "note": texts(coding.note),
            })
            rows[-1]["_order"] = (path.casefold(), rows[-1]["date"], record.id, coding.start or 0)
    rows.sort(key=lambda row: row["_order"])
    for row in rows:
        del row["_order"]
    return rows


def export(project, dest, options):
    """Write the evidence table to ``dest`` (UTF-8 with a byte-order mark, for Excel)."""
    import csv

    from fieldkit.exchange.exporting import ExportReport, atomic_output

    report = ExportReport(exporter="prisons-evidence", dest=str(dest), anonymised=options.anonymise)
    rows = evidence_rows(project, options, report)
    with atomic_output(dest, force=options.force) as tmp:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    report.count("evidence rows", len(rows))
    report.count("codes with evidence", len({row["code"] for row in rows}))
    report.files = [str(dest)]
    return report
