"""The one converter that owns how records look as database rows and as JSON.

Both shapes come from one cattrs converter with one set of rules: datetimes become
fixed-width UTC ISO text (so text order is time order) and tuples become lists. A row is
the JSON shape with its lists and dicts stored as JSON text, so the row converter is the
JSON converter with those two rules replaced.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
import typing
from typing import TYPE_CHECKING, Optional, TypeVar

import attrs

from fieldkit.core import records

if TYPE_CHECKING:  # annotations only: cattrs is imported when the converter is first made
    import cattrs

R = TypeVar("R", bound=records.Record)

# One canonical time text for rows, JSON and exports: fixed-width UTC, so text order is
# time order. timeinput owns the format; these names are what the rest of fieldkit calls.
from fieldkit.core.timeinput import from_iso as parse_iso  # noqa: E402
from fieldkit.core.timeinput import to_iso as iso  # noqa: E402

# datetime.fromisoformat reads a trailing "Z" from Python 3.11 on
_FROMISO_Z = sys.version_info >= (3, 11)


def parse_time(value: "str | dt.datetime") -> dt.datetime:
    """``parse_iso`` for stored times, with a fast path for the canonical ``iso`` text."""
    if value.__class__ is dt.datetime:
        return value
    if _FROMISO_Z and len(value) == 27 and value[26] == "Z":
        try:
            return dt.datetime.fromisoformat(value)  # UTC, as parse_iso makes it
        except ValueError:
            pass
    return parse_iso(value)


def _participant(item: records.EncounterParticipant) -> dict:
    return {"participant_id": item.participant_id, "role": item.role}


@functools.lru_cache(maxsize=None)
def converter() -> "cattrs.Converter":
    """The converter between records and JSON-ready data."""
    import cattrs

    conv = cattrs.Converter()
    conv.register_unstructure_hook(dt.datetime, iso)
    conv.register_structure_hook(dt.datetime, lambda value, _: parse_time(value))
    conv.register_structure_hook(tuple, lambda value, _: tuple(value or ()))
    conv.register_structure_hook(dict, lambda value, _: dict(value or {}))
    conv.register_unstructure_hook(records.EncounterParticipant, _participant)
    conv.register_structure_hook(records.EncounterParticipant, lambda value, _: records.EncounterParticipant(**value))
    return conv


# JSON text of a list of plain strings, as json.dumps writes it; one encoder made once
_encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode
# the encoder's own quoting of one string (without ensure_ascii), used for lists of strings:
# every record's tags and mentions are one, and the whole encoder costs ten times as much
_quote = json.encoder.encode_basestring


def _list_text(value: tuple) -> str:
    if not value:
        return "[]"
    if all(item.__class__ is str for item in value):
        return "[" + ", ".join(map(_quote, value)) + "]"
    return _encode(converter().unstructure(value))


def _dict_text(value: dict) -> str:
    return _encode(value) if value else "{}"


def _from_list_text(value, _) -> tuple:
    if value is None or value == "[]":
        return ()
    return tuple(json.loads(value) if value.__class__ is str else value)


def _from_dict_text(value, _) -> dict:
    if value is None or value == "{}":
        return {}
    return dict(json.loads(value) if value.__class__ is str else value)


@functools.lru_cache(maxsize=None)
def row_converter() -> "cattrs.Converter":
    """The converter between records and database rows: lists and dicts as JSON text."""
    conv = converter().copy()
    conv.register_unstructure_hook(tuple, _list_text)
    conv.register_unstructure_hook(dict, _dict_text)
    conv.register_structure_hook(tuple, _from_list_text)
    conv.register_structure_hook(dict, _from_dict_text)
    return conv


def to_json(record: records.Record) -> dict:
    """A record as plain JSON-ready data, with its ``type``."""
    data = converter().unstructure(record)
    data["type"] = record.type_name
    return data


def from_json(data: dict, cls: Optional[type] = None) -> records.Record:
    """Rebuild a record from ``to_json`` output (the ``type`` key picks the class)."""
    cls = cls or records.RECORD_TYPES[data.get("type")]
    return converter().structure(data, cls)


def to_row(record: records.Record) -> dict:
    """A record as a database row (column -> value), in field order."""
    return row_converter().unstructure(record)


def from_row(cls: type[R], row: dict) -> R:
    """Rebuild a record of ``cls`` from a database row (extra columns are ignored)."""
    return row_converter().structure(row, cls)


@functools.lru_cache(maxsize=None)
def json_columns(cls) -> frozenset:
    """The fields of ``cls`` a row holds as JSON text (its tuples and dicts)."""
    hints = typing.get_type_hints(cls)
    return frozenset(f.name for f in attrs.fields(cls) if hints.get(f.name) in (tuple, dict))


def error_reason(exc: BaseException) -> str:
    """One readable line for why ``from_row``/``from_json`` refused a value."""
    # cattrs wraps validation errors in groups; the innermost message is the readable one
    while getattr(exc, "exceptions", None):
        exc = exc.exceptions[0]
    return " ".join(str(exc).split()) or type(exc).__name__
