"""The one converter that owns how records look as database rows and as JSON.

Rows and JSON share a shape: datetimes become fixed-width UTC ISO strings (so text order is
time order), tuples become lists; in rows, lists and dicts are stored as JSON text.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import typing

import attrs

from . import records


# One canonical time text for rows, JSON and exports: fixed-width UTC, so text order is
# time order. timeinput owns the format; these names are what the rest of fieldkit calls.
from .timeinput import from_iso as parse_iso  # noqa: E402
from .timeinput import to_iso as iso  # noqa: E402


@functools.lru_cache(maxsize=None)
def converter():
    import cattrs

    conv = cattrs.Converter()
    conv.register_unstructure_hook(dt.datetime, iso)
    conv.register_structure_hook(dt.datetime, lambda v, _: v if isinstance(v, dt.datetime) else parse_iso(v))
    conv.register_structure_hook(tuple, lambda v, _: tuple(v or ()))
    conv.register_structure_hook(dict, lambda v, _: dict(v or {}))
    conv.register_unstructure_hook(records.EncounterParticipant, lambda p: {"participant_id": p.participant_id, "role": p.role})
    conv.register_structure_hook(records.EncounterParticipant, lambda v, _: records.EncounterParticipant(**v))
    return conv


@functools.lru_cache(maxsize=None)
def _json_columns(cls) -> frozenset:
    hints = typing.get_type_hints(cls)
    return frozenset(
        f.name for f in attrs.fields(cls) if hints.get(f.name) in (tuple, dict)
    )


def to_json(record) -> dict:
    """A record as plain JSON-ready data, with its ``type``."""
    data = converter().unstructure(record)
    data["type"] = record.type_name
    return data


def from_json(data: dict, cls=None):
    """Rebuild a record from ``to_json`` output (the ``type`` key picks the class)."""
    data = dict(data)
    name = data.pop("type", None)
    cls = cls or records.RECORD_TYPES[name]
    fields = {f.name for f in attrs.fields(cls)}
    return converter().structure({k: v for k, v in data.items() if k in fields}, cls)


def to_row(record) -> dict:
    """A record as a database row: JSON text for its lists and dicts."""
    data = converter().unstructure(record)
    for name in _json_columns(type(record)):
        value = data[name]
        data[name] = json.dumps(value, ensure_ascii=False, sort_keys=True) if value else _EMPTY[type(value)]
    return data


_EMPTY = {list: "[]", tuple: "[]", dict: "{}"}


def from_row(cls, row: dict):
    """Rebuild a record of ``cls`` from a database row (extra columns are ignored)."""
    fields = {f.name for f in attrs.fields(cls)}
    data = {k: v for k, v in row.items() if k in fields}
    for name in _json_columns(cls):
        if isinstance(data.get(name), str):
            data[name] = json.loads(data[name])
    return converter().structure(data, cls)


def column_types(cls) -> dict:
    """SQLite column types for a record class, for table creation."""
    hints = typing.get_type_hints(cls)
    out = {}
    for f in attrs.fields(cls):
        hint = hints[f.name]
        if hint is int or hint == typing.Optional[int]:
            out[f.name] = int
        else:
            out[f.name] = str
    return out
