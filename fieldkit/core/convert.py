"""The one converter that owns how records look as database rows and as JSON.

Rows and JSON share a shape: datetimes become fixed-width UTC ISO strings (so text order is
time order), tuples become lists; in rows, lists and dicts are stored as JSON text.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
import types
import typing

import attrs

from fieldkit.core import records


# One canonical time text for rows, JSON and exports: fixed-width UTC, so text order is
# time order. timeinput owns the format; these names are what the rest of fieldkit calls.
from fieldkit.core.timeinput import from_iso as parse_iso  # noqa: E402
from fieldkit.core.timeinput import to_iso as iso  # noqa: E402


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


# What to_row stores for a non-empty tuple of plain strings; one encoder made once, as
# json.dumps would make a new one for these options on every call.
_encode_strings = json.JSONEncoder(ensure_ascii=False).encode


@functools.lru_cache(maxsize=None)
def _write_plan(cls):
    """``(columns, getter, time positions, tuple positions)`` for ``row_values``; None when a
    field needs the converter every time."""
    import operator

    hints = typing.get_type_hints(cls)
    names, times, tuples = [], [], []
    for position, field in enumerate(attrs.fields(cls)):
        base = _base_type(hints.get(field.name))
        if base is dt.datetime:
            times.append(position)
        elif base is tuple:
            tuples.append(position)
        elif base not in (str, int, float, bool):
            return None
        names.append(field.name)
    if len(names) < 2:
        return None  # attrgetter of one name gives a value, not a tuple
    return tuple(names), operator.attrgetter(*names), tuple(times), tuple(tuples)


def row_values(record):
    """``(columns, values)``: ``to_row``'s row as a column tuple and a value list, computed
    without the converter when every field is simple (plain values, times, tuples of
    strings); None when it is not. Bulk imports call this for every record."""
    plan = _write_plan(type(record))
    if plan is None:
        return None
    names, get, times, tuples = plan
    values = list(get(record))
    for i in times:
        if values[i] is not None:
            values[i] = iso(values[i])
    for i in tuples:
        value = values[i]
        if not value:
            values[i] = "[]"
        elif all(item.__class__ is str for item in value):
            values[i] = _encode_strings(value)
        else:
            return None  # a tuple of something else than strings
    return names, values


def to_row_fast(record) -> dict:
    """``to_row``'s value, without the converter when ``row_values`` can build it."""
    made = row_values(record)
    return to_row(record) if made is None else dict(zip(*made))


def from_row(cls, row: dict):
    """Rebuild a record of ``cls`` from a database row (extra columns are ignored)."""
    fields = {f.name for f in attrs.fields(cls)}
    data = {k: v for k, v in row.items() if k in fields}
    for name in _json_columns(cls):
        if isinstance(data.get(name), str):
            data[name] = json.loads(data[name])
    return converter().structure(data, cls)


def error_reason(exc) -> str:
    """One readable line for why ``from_row``/``from_json`` refused a value."""
    # cattrs wraps validation errors in groups; the innermost message is the readable one
    while getattr(exc, "exceptions", None):
        exc = exc.exceptions[0]
    return " ".join(str(exc).split()) or type(exc).__name__


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


# --- reading many rows fast -------------------------------------------------------------------
# Exports read every observation and coding of a project; cattrs and the validators cost more
# than the rest of an export together. Rows fieldkit wrote itself were validated on the way in,
# so ``row_reader`` rebuilds them with the same conversions and without the checks.


# datetime.fromisoformat reads a trailing "Z" from Python 3.11 on
_FROMISO_Z = sys.version_info >= (3, 11)


def parse_time(value):
    """``parse_iso`` for stored times, with a fast path for the canonical ``to_iso`` text."""
    if value.__class__ is dt.datetime:
        return value
    if _FROMISO_Z and len(value) == 27 and value[26] == "Z":
        try:
            return dt.datetime.fromisoformat(value)  # UTC, as parse_iso makes it
        except ValueError:
            pass
    return parse_iso(value)


_UNIONS = (typing.Union, types.UnionType)  # Optional[X], X | None


def _base_type(hint):
    """``X`` for ``Optional[X]`` (``X | None``), else ``hint`` itself."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if typing.get_origin(hint) in _UNIONS and len(args) == 1 else hint


def _structure_step(hint):
    """What the converter does to a column value of type ``hint``, or None to leave it to cattrs."""
    base = _base_type(hint)
    if base is not hint:  # optional: None stays None
        step = _structure_step(base)
        return None if step is None else (lambda v: None if v is None else step(v))
    if hint is str or hint is int:
        return lambda v: v if v.__class__ is hint else hint(v)
    if hint is dt.datetime:
        return parse_time
    if hint is tuple:
        return lambda v: () if v == "[]" else tuple((json.loads(v) if isinstance(v, str) else v) or ())
    if hint is dict:
        return lambda v: {} if v == "{}" else dict((json.loads(v) if isinstance(v, str) else v) or {})
    return None


def _field_step(field, hint):
    step = _structure_step(hint)
    if step is None:
        return None
    convert = field.converter
    if convert is None:
        return step
    if not callable(convert) or isinstance(convert, getattr(attrs, "Converter", ())):
        return None  # converters that take the instance need attrs' own __init__
    return lambda v: convert(step(v))


@functools.lru_cache(maxsize=64)
def _row_plan(cls, columns: tuple):
    """``((column index, field name, conversion), ...)`` for ``cls``, or None when a row in
    ``columns`` order cannot be read without attrs' ``__init__`` (a field has no column …)."""
    hints = typing.get_type_hints(cls)
    plan = []
    for field in attrs.fields(cls):
        if field.name not in columns or not field.init:
            return None
        step = _field_step(field, hints.get(field.name))
        if step is None:
            return None
        plan.append((columns.index(field.name), field.name, step))
    return tuple(plan)


def row_reader(cls, columns):
    """A function from a row tuple (in ``columns`` order) to a record of ``cls``.

    Its records equal ``from_row``'s for rows fieldkit wrote (the same conversions run), but
    no validator or ``__attrs_post_init__`` runs: use it only on rows from the project's own
    database. Classes or columns it cannot handle fall back to ``from_row``.
    """
    columns = tuple(columns)
    plan = _row_plan(cls, columns)
    if plan is None:
        return lambda row: from_row(cls, dict(zip(columns, row)))
    new = object.__new__
    put = object.__setattr__  # frozen classes refuse their own __setattr__

    def read(row):
        record = new(cls)
        for index, name, step in plan:
            put(record, name, step(row[index]))
        return record

    return read


def record_columns(cls, available) -> tuple:
    """The fields of ``cls`` that are columns in ``available``, in field order (for a select list)."""
    present = set(available)
    return tuple(f.name for f in attrs.fields(cls) if f.name in present)


@functools.lru_cache(maxsize=64)
def _view_class(cls, columns: tuple):
    import collections

    return collections.namedtuple(f"{cls.__name__}Row", columns)


def row_view(cls, columns):
    """A function from a row tuple to a light read-only view of a record of ``cls``.

    The view is a named tuple with the row's columns as fields; JSON lists and dicts are
    decoded (to tuples and dicts of plain values) and every other value is as stored, so
    times stay ``iso`` text. For code that only reads many rows and needs no record.
    """
    columns = tuple(columns)
    # tuple.__new__ straight from a row of the right length: namedtuple's _make checks it in Python
    make = functools.partial(tuple.__new__, _view_class(cls, columns))
    decode = [(i, _structure_step(tuple if name in _json_list_columns(cls) else dict))
              for i, name in enumerate(columns) if name in _json_columns(cls)]
    if not decode:
        return make

    def read(row):
        row = list(row)
        for index, step in decode:
            row[index] = step(row[index])
        return make(row)

    return read


@functools.lru_cache(maxsize=None)
def _json_list_columns(cls) -> frozenset:
    hints = typing.get_type_hints(cls)
    return frozenset(name for name in _json_columns(cls) if hints[name] is tuple)
