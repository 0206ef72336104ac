"""Record ids against python-ulid, the oracle (a test dependency; fieldkit makes its own ids)."""

import time
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ulid import ULID, LaxMonotonicPolicy, ULIDGenerator

from fieldkit.core import ids
from fieldkit.core.errors import InvalidInput

ULID_DIGITS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # the spec's alphabet, written out here
values = st.integers(min_value=0, max_value=2**128 - 1)
# ULID digits of both cases, the letters Crockford leaves out, and a few others
ulid_chars = st.sampled_from("0123456789ABCDEFGHJKMNPQRSTVWXYZabcdefghjkmnpqrstvwxyzILOUiloU-_ſK\u00e9 ")


def _oracle_decode(text):
    try:
        return int(ULID.from_str(text))
    except ValueError:
        return None


@settings(max_examples=500)
@given(values)
def test_encode_writes_what_python_ulid_writes(value):
    assert ids.encode(value) == str(ULID.from_int(value))
    assert ids.decode(ids.encode(value)) == value


@settings(max_examples=500)
@given(st.one_of(st.text(ulid_chars, min_size=26, max_size=26), st.text(ulid_chars, max_size=30),
                 st.text(st.sampled_from(ULID_DIGITS + ULID_DIGITS.lower()), min_size=26, max_size=26),
                 values.map(lambda v: str(ULID.from_int(v)).lower())))
def test_decode_reads_and_refuses_what_python_ulid_does(text):
    expected = _oracle_decode(text)
    if expected is None:
        with pytest.raises(InvalidInput):
            ids.decode(text)
    else:
        assert ids.decode(text) == expected


@settings(max_examples=300)
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=2**48 - 1) | st.sampled_from([5, 6, 7]),
                          st.integers(min_value=0, max_value=2**80 - 1) | st.sampled_from([0, 2**80 - 2, 2**80 - 1])),
                min_size=1, max_size=30))
def test_a_sequence_of_ids_matches_python_ulids_monotonic_generator(steps):
    """Given the same clock readings and random bits, fieldkit makes the ids python-ulid's
    monotonic generator makes: the random part plus one within a millisecond, fresh bits
    in another millisecond or when plus one would overflow."""
    oracle = ULIDGenerator(policy=LaxMonotonicPolicy())
    expected = []
    for millis, random_part in steps:
        oracle.clock = lambda: millis  # noqa: B023 - read at once by generate()
        oracle.randomness_source = lambda _: random_part.to_bytes(10, "big")  # noqa: B023
        expected.append(str(oracle.generate()))
    last, made = ids.START, []
    for millis, random_part in steps:
        last = ids.next_value(millis, last, lambda: random_part.to_bytes(10, "big"))
        made.append(ids.encode(last[0] << 80 | last[1]))
    assert made == expected


def test_new_ids_sort_in_the_order_they_were_made_and_carry_the_time():
    before = time.time_ns() // 1_000_000
    made = [ids.new_id() for _ in range(2000)]
    after = time.time_ns() // 1_000_000
    assert made == sorted(made) and len(set(made)) == len(made)
    assert all(ids.is_id(i) for i in made)
    stamps = [ULID.from_str(i).milliseconds for i in made]
    assert before <= stamps[0] <= stamps[-1] <= after
    # within a millisecond, the random part counts up by one
    same = [(a, b) for a, b in zip(made, made[1:]) if a[:10] == b[:10]]
    assert same and all(int(ULID.from_str(b)) - int(ULID.from_str(a)) == 1 for a, b in same)


@settings(max_examples=300)
@given(values)
def test_guids_match_python_ulid(value):
    record_id = str(ULID.from_int(value))
    guid = ids.to_guid(record_id)
    assert guid == str(ULID.from_str(record_id).to_uuid())
    assert ids.from_guid(guid) == str(ULID.from_uuid(uuid.UUID(guid))) == record_id
    assert ids.from_guid("{" + guid.upper().replace("-", "") + "}") == record_id


def test_bad_input_is_one_clear_error():
    for bad in ("", "not-a-ulid", "8" + "0" * 25, "I" * 26):
        with pytest.raises(InvalidInput):
            ids.to_guid(bad)
    with pytest.raises(InvalidInput):
        ids.from_guid("not a guid")
    with pytest.raises(InvalidInput):
        ids.encode(2**128)
