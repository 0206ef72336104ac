"""The same identifier, written another way, gets the same placeholder (issue 12, Consistency).

Renderings are generated here from a canonical value (spacing, case, national or
international form); the oracle is the canonical value itself, not fieldkit's normaliser.
All identifiers are fictional (QQ prefix, Ofcom drama phone ranges, invented postcodes).
"""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from fieldkit.privacy.detection import make_replacer, normalise_identifier
from fieldkit.privacy.keystore import KeyStore
from fieldkit.privacy.spans import Span

digits = st.text(string.digits, min_size=1, max_size=1)
seps = st.sampled_from(["", " ", "  ", "-", "\u00a0"])


def _join(parts, draw_sep):
    out = parts[0]
    for part in parts[1:]:
        out += draw_sep() + part
    return out


@st.composite
def ninos(draw):
    """(canonical, rendering) of a specimen National Insurance number."""
    body = draw(st.text(string.digits, min_size=6, max_size=6))
    suffix = draw(st.sampled_from("ABCD"))
    canonical = f"QQ{body}{suffix}"
    parts = ["QQ", body[:2], body[2:4], body[4:], suffix]
    written = _join(parts, lambda: draw(seps))
    if draw(st.booleans()):
        written = written.lower()
    return canonical, written


@st.composite
def phones(draw):
    """(canonical national form, rendering) of a drama-range mobile number."""
    tail = draw(st.text(string.digits, min_size=3, max_size=3))
    national = f"07700900{tail}"
    form = draw(st.sampled_from(["national", "plus44", "plus44zero", "0044"]))
    rest = national[1:]
    groups = [rest[:4], rest[4:]]
    sep = draw(st.sampled_from([" ", "", "-", "."]))
    if form == "national":
        written = "0" + sep.join(groups)
    elif form == "plus44":
        written = "+44 " + sep.join(groups)
    elif form == "plus44zero":
        written = "+44 (0)" + sep.join(groups)
    else:
        written = "0044 " + sep.join(groups)
    return national, written


@st.composite
def postcodes(draw):
    outward = draw(st.sampled_from(["NG7", "ZZ9", "QX1", "B23", "SW1A", "XY12"]))
    inward = draw(st.text(string.digits, min_size=1, max_size=1)) + draw(
        st.text("ABDEFGHJLNPQRSTUWXYZ", min_size=2, max_size=2))
    written = outward + draw(st.sampled_from(["", " ", "  "])) + inward
    if draw(st.booleans()):
        written = written.lower()
    return outward + inward, written


@given(ninos())
def test_nino_renderings_normalise_alike(case):
    canonical, written = case
    assert normalise_identifier("nino", written) == canonical.lower()


@given(phones())
def test_phone_renderings_normalise_to_the_national_number(case):
    national, written = case
    assert normalise_identifier("phone", written) == national


@given(postcodes())
def test_postcode_renderings_normalise_alike(case):
    canonical, written = case
    assert normalise_identifier("postcode", written) == canonical.lower()


@given(ninos(), ninos())
def test_different_identifiers_stay_different(a, b):
    assert (normalise_identifier("nino", a[1]) == normalise_identifier("nino", b[1])) == (a[0] == b[0])


def test_pnc_years_and_padding():
    assert normalise_identifier("pnc", "2001/0123456A") == normalise_identifier("pnc", "01/123456a")
    assert normalise_identifier("pnc", "01/123456A") != normalise_identifier("pnc", "02/123456A")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(ninos().map(lambda c: ("nino", *c)), phones().map(lambda c: ("phone", *c)),
                          postcodes().map(lambda c: ("postcode", *c))), min_size=1, max_size=8))
def test_same_identifier_same_placeholder_through_the_key_store(tmp_path_factory, cases):
    """The whole path: replacer -> normalise -> key store mapping."""
    path = tmp_path_factory.mktemp("keys") / "k.keys"
    with KeyStore.create(path) as store:
        replace = make_replacer({"default": "placeholder"}, store.lookup)
        given_out = {}
        for kind, canonical, written in cases:
            label = replace(Span(0, len(written), kind), written)
            assert given_out.setdefault((kind, canonical), label) == label, (kind, written)
        # different identifiers of a kind never share a label
        labels = {}
        for (kind, canonical), label in given_out.items():
            assert labels.setdefault(label, canonical) == canonical


def test_issue_examples(tmp_path):
    with KeyStore.create(tmp_path / "k.keys") as store:
        replace = make_replacer({}, store.lookup)

        def label(kind, text):
            return replace(Span(0, len(text), kind), text)

        assert label("nino", "QQ123456C") == label("nino", "QQ 12 34 56 C") == "[NINO-1]"
        assert label("phone", "07700 900123") == label("phone", "07700900123") == label("phone", "+44 7700 900123")
        assert label("postcode", "NG7 2RD") == label("postcode", "ng72rd")
