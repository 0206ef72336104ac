"""Records: validation at construction and lossless row and JSON round trips."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldkit.core import convert

from fieldkit.core import ids

from fieldkit.core import records as r

UTC = dt.timezone.utc
aware = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(UTC))
text = st.text(min_size=1, max_size=80).filter(lambda s: s.strip())
plain = st.text(max_size=40)
small = st.lists(st.text(min_size=1, max_size=12), max_size=4).map(tuple)
opt_id = st.one_of(st.none(), st.builds(ids.new_id))


def base():
    return dict(id=st.builds(ids.new_id), created_at=aware, author=plain)


STRATEGIES = {
    "site": st.builds(r.Site, name=text, kind=st.sampled_from(r.SITE_KINDS), note=plain, **base()),
    "participant": st.builds(r.Participant, code=text, role=st.sampled_from(r.ROLES), organisation=plain,
                             attributes=st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
                             **base()),
    "consent": st.builds(r.ConsentEvent, participant_id=text, status=st.sampled_from(r.CONSENT_STATUSES),
                         scopes=st.lists(st.sampled_from(r.CONSENT_SCOPES), unique=True).map(tuple), at=aware,
                         note=plain, **base()),
    "encounter": st.builds(r.Encounter, code=text, kind=st.sampled_from(r.ENCOUNTER_KINDS), title=plain,
                           site_id=opt_id, start=st.none(), end=st.one_of(st.none(), aware),
                           mode=st.sampled_from(r.MODES),
                           participants=st.lists(st.builds(r.EncounterParticipant, participant_id=text, role=plain),
                                                 max_size=3).map(tuple), summary=plain, **base()),
    "observation": st.builds(r.Observation, stage=st.sampled_from(r.STAGES), body=text, encounter_id=opt_id,
                             observed_at=st.one_of(st.none(), aware), observed_precision=st.sampled_from(r.PRECISIONS),
                             observed_raw=plain, recorded_at=aware, tags=small, mentions=small, derived_from=small,
                             **base()),
    "memo": st.builds(r.Memo, kind=st.sampled_from(r.MEMO_KINDS), title=plain, body=text, links=small, tags=small,
                      **base()),
    "code": st.builds(r.Code, name=text.filter(lambda s: "/" not in s), parent_id=opt_id, definition=plain,
                      colour=plain, status=st.sampled_from(r.CODE_STATUSES), keywords=st.just(({"word": "x"},)),
                      **base()),
    "coding": st.builds(lambda s, n, **kw: r.Coding(start=s, end=s + n, **kw), st.integers(0, 10**6),
                        st.integers(0, 1000), record_id=text, code_id=text, coder=text, note=plain,
                        status=st.sampled_from(r.CODING_STATUSES), **base()),
    "attachment": st.builds(r.Attachment, sha256=st.text("0123456789abcdef", min_size=64, max_size=64), filename=text, media_type=plain, size=st.integers(0, 10**9),
                            record_id=opt_id, **base()),
}


def test_every_record_type_has_a_strategy():
    assert set(STRATEGIES) == set(r.RECORD_TYPES)


@pytest.mark.parametrize("type_name", sorted(STRATEGIES))
def test_round_trips(type_name):
    @settings(max_examples=60, deadline=None)
    @given(STRATEGIES[type_name])
    def check(record):
        assert convert.from_row(type(record), convert.to_row(record)) == record
        assert convert.from_json(convert.to_json(record)) == record
        import json

        assert convert.from_json(json.loads(json.dumps(convert.to_json(record)))) == record

    check()


@given(st.builds(ids.new_id))
def test_ids_convert_losslessly_to_guids(record_id):
    guid = ids.to_guid(record_id)
    assert len(guid) == 36 and guid.count("-") == 4
    assert ids.from_guid(guid) == record_id
    assert ids.from_guid("{" + guid.upper() + "}") == record_id


def test_ids_sort_by_creation():
    made = [ids.new_id() for _ in range(50)]
    assert len(set(made)) == 50 and made == sorted(made)
    assert all(ids.is_id(i) for i in made)


@given(st.binary(min_size=16, max_size=16))
def test_an_id_is_written_as_python_ulid_writes_it(value):
    from ulid import ULID

    assert ids.crockford(value) == str(ULID.from_bytes(value))


@pytest.mark.parametrize("make, message", [
    (lambda: r.Observation(body="   "), "body must not be empty"),
    (lambda: r.Observation(body="x", stage="draft"), "stage must be one of"),
    (lambda: r.Coding(record_id="a", code_id="b", start=5, end=2, coder="x"), "start <= end"),
    (lambda: r.Coding(record_id="a", code_id="b", start=5, coder="x"), "both start and end"),
    (lambda: r.Observation(body="x", observed_at=dt.datetime(2026, 1, 1)), "timezone-aware"),
    (lambda: r.Participant(code="P1", role="prisoner"), "role must be one of"),
    (lambda: r.ConsentEvent(participant_id="x", status="given", scopes=("quotes", "video")), "scopes must be drawn"),
    (lambda: r.Code(name="a/b"), "must not contain '/'"),
    (lambda: r.Encounter(code="E1", start=dt.datetime(2026, 1, 2, tzinfo=UTC), end=dt.datetime(2026, 1, 1, tzinfo=UTC)), "end must not be before start"),
])
def test_validation(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@given(st.text(min_size=1).filter(lambda s: s.strip()))
def test_bodies_are_stored_normalised(body):
    import unicodedata

    stored = r.Observation(body=body).body
    assert "\r" not in stored
    assert unicodedata.is_normalized("NFC", stored)


def test_datetimes_become_utc():
    london = dt.timezone(dt.timedelta(hours=1))
    o = r.Observation(body="x", observed_at=dt.datetime(2026, 6, 1, 14, 5, tzinfo=london))
    assert o.observed_at == dt.datetime(2026, 6, 1, 13, 5, tzinfo=UTC)
    assert o.observed_at.tzinfo == UTC


@pytest.mark.parametrize("type_name", sorted(STRATEGIES))
def test_a_row_is_the_json_shape_with_lists_and_dicts_as_json_text(type_name):
    """The stored row format: what ``to_json`` gives, lists and dicts written by ``json.dumps``
    (sorted keys, no ASCII escaping) as every earlier release wrote them."""
    import json

    @settings(max_examples=60, deadline=None)
    @given(STRATEGIES[type_name])
    def check(record):
        shape = convert.to_json(record)
        del shape["type"]
        expected = {k: json.dumps(v, ensure_ascii=False, sort_keys=True) if isinstance(v, (list, tuple, dict)) else v
                    for k, v in shape.items()}
        row = convert.to_row(record)
        assert row == expected
        assert list(row) == [f.name for f in __import__("attrs").fields(type(record))]
        # the bookkeeping columns of a stored row are not fields
        stored = {**row, "version": 3, "updated_at": None, "deleted_at": "2026-01-01T00:00:00.000000Z"}
        assert convert.from_row(type(record), stored) == record

    check()
