"""The ``fieldkit prisons`` commands, thin wrappers over the functions above them."""

from __future__ import annotations

from typing import Optional

import click


def location_references(project, *, encounter: Optional[str] = None) -> list[dict]:
    """Every wing, landing, cell, spur or houseblock reference in the notes and memos.

    One row per reference (spacing, hyphens and case ignored), most mentioned first:
    ``reference`` (as first written), ``parts``, ``mentions`` and ``records``. Useful for
    building a place list before anonymising, or for seeing which wings the notes cover.
    """
    from .locations import find_locations, reference_key

    found: dict = {}
    types = ("observation",) if encounter else ("observation", "memo")
    for type_name in types:
        for record in project.list(type_name, encounter=encounter) if encounter else project.list(type_name):
            for start, end, kinds in find_locations(record.body):
                row = found.setdefault(reference_key(record.body[start:end]), {
                    "reference": record.body[start:end], "parts": "+".join(kinds), "mentions": 0, "records": set(),
                })
                row["mentions"] += 1
                row["records"].add(record.id)
    rows = [{**row, "records": len(row["records"])} for row in found.values()]
    return sorted(rows, key=lambda r: (-r["mentions"], reference_key(r["reference"])))


def add_commands(cli):
    from fieldkit.cli import SubGroup, format_option, get_project, output

    @cli.group(cls=SubGroup)
    def prisons():
        """Prisons inspection: wing and cell references in the notes."""

    @prisons.command("wings")
    @click.option("-e", "--encounter", help="Only the notes of this encounter (code or id).")
    @format_option
    def wings(encounter, fmt):
        """List wing, landing, cell and houseblock references found in notes and memos."""
        rows = location_references(get_project(), encounter=encounter)
        if not rows and not fmt:
            click.echo("No wing, cell or houseblock references found.")
            return
        output(rows, ["reference", "parts", "mentions", "records"], fmt or "table")
