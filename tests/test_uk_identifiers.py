"""Built-in UK identifier detectors and the place-list detector.

Every identifier written out in this file is fictional: National Insurance numbers use the
specimen prefix QQ, NHS numbers the 999 test range, phone numbers Ofcom's drama ranges,
postcodes postal areas that do not exist (JW, YY, UW …), emails and web addresses the
reserved example domains, places come from the invented example list. The property tests
generate random identifiers that are never stored.
"""

from __future__ import annotations

import datetime
import string
import subprocess
import sys
import textwrap

import pluggy
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldkit.hooks import specs as hookspecs
from fieldkit.privacy.detection import DetectContext, Place, run_detectors
from fieldkit.plugins import places as places_plugin
from fieldkit.plugins import uk_identifiers as uk
from fieldkit.plugins.uk_identifiers import (
    CHECK_LETTERS,
    cro_check_letter,
    cro_sf_check_letters,
    nhs_check_digit,
    nhs_number_valid,
    nino_prefix_ok,
    pnc_check_letter,
)

CTX = DetectContext()
DETECTORS = {d.name: d for d in uk.DETECTORS}
ALL_NAMES = [
    "uk.nino", "uk.nhs", "uk.postcode", "uk.phone", "uk.pnc", "uk.cro", "uk.prison_number",
    "uk.crn", "uk.dob", "uk.urn", "uk.email", "uk.url", "uk.vehicle",
    "uk.age", "uk.court_case", "uk.handle", "uk.address",
]


def find(name, text, context=CTX):
    return [text[s.start:s.end] for s in DETECTORS[name].detect(text, context)]


# --------------------------------------------------------------------------- registration


def test_register_detectors_through_pluggy():
    pm = pluggy.PluginManager("fieldkit")
    pm.add_hookspecs(hookspecs)
    pm.register(uk)
    pm.register(places_plugin)
    found = []
    pm.hook.register_detectors(register=found.append)
    names = sorted(d.name for d in found)
    assert names == sorted(ALL_NAMES + ["places"])
    assert all(d.description for d in found)
    assert set(uk.DEFAULT_ORDER) == set(ALL_NAMES)


def test_regexes_are_compiled_lazily():
    code = textwrap.dedent("""
        import fieldkit.plugins.uk_identifiers as uk
        assert uk._re.cache_info().currsize == 0, uk._re.cache_info()
        list(uk.detect_nino("QQ123456C", None))
        assert uk._re.cache_info().currsize == 1
    """)
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- check characters


def test_nhs_check_digit_examples():
    # 9,9,9,0,0,0,0,0,1 weighted 10..2: 90+81+72+2 = 245; 245 mod 11 = 3; 11-3 = 8
    assert nhs_check_digit("999000001") == 8
    # 999123457: 243 + 7+12+15+16+15+14 = 322; 322 mod 11 = 3 -> 8
    assert nhs_check_digit("999 123 457") == 8
    # 999123456: sum 320, 320 mod 11 = 1 -> 10: no valid check digit
    assert nhs_check_digit("999123456") is None
    # 999000000: sum 243, 243 mod 11 = 1 -> 10 as well
    assert nhs_check_digit("999000000") is None
    # a remainder of 0 gives 11, which means 0: 999000006 -> 243 + 12 = 255 = 23*11 + 2 -> 9
    assert nhs_check_digit("999000006") == 9
    # 999000008 -> 243 + 16 = 259 = 23*11 + 6 -> 5
    assert nhs_check_digit("999000008") == 5
    # find a case that gives 0 by computation (sum divisible by 11): 999000030 -> 243 + 9 = 252 -> 10
    # 999000031 -> 243 + 9 + 2 = 254 = 23*11 + 1 -> 10; 999000002 -> 247 = 22*11 + 5 -> 6
    assert nhs_check_digit("999000002") == 6
    # 999000022 -> 243 + 6 + 4 = 253 = 23*11 -> 11 -> 0
    assert nhs_check_digit("999000022") == 0
    assert nhs_number_valid("999 000 0018") and nhs_number_valid("999-123-4578")
    assert nhs_number_valid("9990000220")
    assert not nhs_number_valid("999 000 0017")
    assert not nhs_number_valid("999 123 456")
    with pytest.raises(ValueError):
        nhs_check_digit("12345")


def test_pnc_check_letter_examples():
    # 01 followed by 0123456 is 10123456 = 23 * 440150 + 6 -> index 6 -> F
    assert pnc_check_letter("01", "123456") == "F"
    assert pnc_check_letter(2001, 123456) == "F"  # four-digit years count their last two digits
    # 99 followed by 0000001 is 990000001 = 23 * 43043478 + 7 -> G
    assert pnc_check_letter(99, 1) == "G"
    # 00 + 0000023 = 23 -> 0 -> Z;  00 + 0000024 = 24 -> 1 -> A
    assert pnc_check_letter(0, 23) == "Z"
    assert pnc_check_letter("00", "24") == "A"
    with pytest.raises(ValueError):
        pnc_check_letter(1, 12345678)


def test_cro_check_letter_examples():
    # 89 followed by 123456 is 89123456 = 23 * 3874932 + 20 -> index 20 -> W
    assert cro_check_letter(89, 123456) == "W"
    # 00 + 000022 = 22 -> Y
    assert cro_check_letter("00", "22") == "Y"
    # SF93/1234: padded 93001234 = 23 * 4043531 + 21 -> X; as written 931234 = 23 * 40488 + 10 -> K
    assert cro_sf_check_letters("93", "1234") == {"X", "K"}
    assert cro_sf_check_letters("93", "001234") == {"X"}
    assert len(CHECK_LETTERS) == 23 and "I" not in CHECK_LETTERS and "O" not in CHECK_LETTERS


@pytest.mark.parametrize("prefix, ok", [
    ("QQ", True), ("AB", True), ("ZA", True), ("ce", True),
    ("DA", False), ("FA", False), ("IA", False), ("UA", False), ("VA", False), ("QA", False),
    ("AD", False), ("AF", False), ("AI", False), ("AO", False), ("AQ", False), ("AU", False), ("AV", False),
    ("BG", False), ("GB", False), ("KN", False), ("NK", False), ("NT", False), ("TN", False), ("ZZ", False),
    ("A1", False), ("A", False),
])
def test_nino_prefix_rules(prefix, ok):
    assert nino_prefix_ok(prefix) is ok


def test_nino_specimen_can_be_refused():
    assert not nino_prefix_ok("QQ", allow_specimen=False)


# --------------------------------------------------------------------------- examples per detector


def test_nino_examples():
    text = "NI QQ 12 34 56 C, also qq123456a and QQ-12-34-56-D; QQ 123456 B."
    assert find("uk.nino", text) == ["QQ 12 34 56 C", "qq123456a", "QQ-12-34-56-D", "QQ 123456 B"]
    assert find("uk.nino", "BG 12 34 56 C, DA123456A, QQ123456E, QQ1234567C, XQQ123456C") == []
    assert find("uk.nino", "file notes_QQ123456C.docx") == ["QQ123456C"]
    # an everyday word as the prefix counts only in the compact form
    assert find("uk.nino", "we met at 10 30 15 a.m. sharp") == []
    assert find("uk.nino", "AT 10 30 15 A, at103015a") == ["AT 10 30 15 A", "at103015a"]


def test_nhs_examples():
    text = "NHS no. 999 000 0018, or 999-123-4578, or 9990000220."
    assert find("uk.nhs", text) == ["999 000 0018", "999-123-4578", "9990000220"]
    assert find("uk.nhs", "ticket 999 000 0017 and 123 456 7890 and 99900000189") == []
    relaxed = DetectContext(settings={"uk.verify_checks": False})
    assert find("uk.nhs", "ticket 999 000 0017", relaxed) == ["999 000 0017"]


def test_postcode_examples():
    text = "Lives near JW1 2AB; office at yy12 7qt, hub UW1A 1AB and K1A 2BD. Also GIR 0AA and FX99ZZ."
    assert find("uk.postcode", text) == ["JW1 2AB", "yy12 7qt", "UW1A 1AB", "K1A 2BD", "GIR 0AA", "FX99ZZ"]
    # C I K M O V never end an inward code
    assert find("uk.postcode", "JW1 2AC, JW1 2MA, JW1 2AO") == []
    # a full postcode's area may break Royal Mail's position rules (fictional areas such as
    # ZZ, and letters Q/V/X first or I/J/Z second): the inward code makes the shape clear
    assert find("uk.postcode", "at QW1 2AB, ZZ23 9SU and zz8 5yb") == ["QW1 2AB", "ZZ23 9SU", "zz8 5yb"]
    assert find("uk.postcode", "room JW1 and JW123 2AB") == []


def test_partial_postcodes_need_context_and_royal_mail_letters_after_it():
    # "postcode" before an outward code says what it is, whatever its letters
    assert find("uk.postcode", "the postcode area is ZZ24 anyway") == ["ZZ24"]
    assert find("uk.postcode", "post code: NG7, that side of town") == ["NG7"]
    # a word after it says less: there the position rules apply (Z never second, Q never first)
    assert find("uk.postcode", "the NG7 area and the ZZ7 area and the QA7 district") == ["NG7"]
    assert find("uk.postcode", "JW1C area, J1L district") == []  # C not fourth in AA9A, L not third in A9A
    assert find("uk.postcode", "the M25 motorway and room B12") == []


def test_phone_examples():
    text = ("Call 07700 900123 or 07700900124, +44 7700 900125, +44 (0)7700 900126, "
            "(01632) 960127, 0161 496 0128, 020 7946 0129, 07700-900-130, 0044 7700 900131.")
    assert find("uk.phone", text) == [
        "07700 900123", "07700900124", "+44 7700 900125", "+44 (0)7700 900126", "(01632) 960127",
        "0161 496 0128", "020 7946 0129", "07700-900-130", "0044 7700 900131"]
    assert find("uk.phone", "(07700 900123 said") == ["07700 900123"]
    assert find("uk.phone", "on 14/03/2023 at 0930, 0.12345678901, 0700 123, 06123 456789") == []
    assert find("uk.phone", "007700900123 and 0770090012345") == []


def test_pnc_and_cro_examples():
    pnc = f"2001/0123456{pnc_check_letter(1, 123456)}"
    short = f"01/123456{pnc_check_letter(1, 123456)}"
    assert find("uk.pnc", f"PNC {pnc}, or {short}.") == [pnc, short]
    wrong = "2001/0123456" + ("G" if pnc.endswith("F") else "F")
    assert find("uk.pnc", f"PNC {wrong}") == []
    cro = f"123456/89{cro_check_letter(89, 123456)}"
    sf_padded = f"SF93/001234{cro_check_letter(93, 1234)}"
    sf_written = "SF93/1234K"
    assert find("uk.cro", f"CRO {cro}; old {sf_padded} and {sf_written}") == [cro, sf_padded, sf_written]
    assert find("uk.cro", "CRO 123456/89A and SF93/1234A") == []
    assert find("uk.pnc", "the 2021/22 plan, 12/2019 policy") == []
    assert find("uk.cro", "the 2021/22 plan, 12/2019 policy") == []


def _ambiguous_pair():
    """yy/serial + letter that is valid both as a PNC ID and, read serial/yy, as a CRO number."""
    for a in range(100):
        for b in range(100):
            if pnc_check_letter(a, b) == cro_check_letter(b, a):
                return f"{a:02d}/{b:02d}{pnc_check_letter(a, b)}"
    raise AssertionError("no ambiguous pair")  # pragma: no cover


def test_pnc_cro_ambiguity_resolved_by_label():
    both = _ambiguous_pair()
    assert find("uk.pnc", f"PNC {both}") == [both]
    assert find("uk.cro", f"PNC {both}") == []
    assert find("uk.cro", f"CRO {both}") == [both]
    assert find("uk.pnc", f"CRO {both}") == []
    assert find("uk.pnc", f"ref {both}") == [both] and find("uk.cro", f"ref {both}") == [both]


def test_prison_number_examples():
    assert find("uk.prison_number", "prison no Z1234QB, z4321ab.") == ["Z1234QB", "z4321ab"]
    assert find("uk.prison_number", "Z12345QB ZZ1234QB Z1234QBC") == []


def test_crn_with_or_without_context():
    assert find("uk.crn", "CRN Z123456") == ["Z123456"]
    assert find("uk.crn", "case ref: Z123456") == ["Z123456"]
    assert find("uk.crn", "the case reference on nDelius is z123456") == ["z123456"]
    assert find("uk.crn", "CRNs Z123456, Z234567 and Z345678 were reviewed") == ["Z123456", "Z234567", "Z345678"]
    # a CRN-shaped token is reported without the word CRN too (issue 12: they leaked)
    assert find("uk.crn", "his reference B204611 was on the file") == ["B204611"]
    assert find("uk.crn", "B2046110 AB204611 B20461") == []


def test_dob_needs_context():
    assert find("uk.dob", "DOB 12/03/1987") == ["12/03/1987"]
    assert find("uk.dob", "d.o.b. 12.3.87") == ["12.3.87"]
    assert find("uk.dob", "date of birth: 12th March 1987") == ["12th March 1987"]
    assert find("uk.dob", "born in March 1987 in a small town") == ["March 1987"]
    assert find("uk.dob", "aged 36 (DOB 1987-03-12)") == ["1987-03-12"]
    assert find("uk.dob", "Sam, 12.3.87 (DOB), arrived") == ["12.3.87"]
    assert find("uk.dob", "born on the 12th of March '87") == ["12th of March '87"]
    # no context, or context broken by a sentence end or another date
    assert find("uk.dob", "The inspection on 14/03/2023 covered 37 cases.") == []
    assert find("uk.dob", "She was born locally. On 14/03/2023 we met.") == []
    assert find("uk.dob", "DOB 12/03/1987, released 14/05/2023") == ["12/03/1987"]
    # implausible dates are not dates of birth
    assert find("uk.dob", "DOB 31/02/1987, born 12/03/2099") == []


def test_urn_email_url_vehicle_examples():
    assert find("uk.urn", "URN 63GD1946270 and 12 ab 1234567.") == ["63GD1946270", "12 ab 1234567"]
    assert find("uk.urn", "163GD1946270 63GD19462701") == []
    assert find("uk.email", "Write to sam.garside@example.org, or P03-team@mail.example.com.") == \
        ["sam.garside@example.org", "P03-team@mail.example.com"]
    assert find("uk.email", "not an email: @example.org or sam@ or a@b") == []
    assert find("uk.url", "See https://www.example.org/a/b?x=1. Or (www.example.com/profile), "
                           "and http://example.net/wiki/Thing_(x)!") == \
        ["https://www.example.org/a/b?x=1", "www.example.com/profile", "http://example.net/wiki/Thing_(x)"]
    assert find("uk.url", "a bare http:// and www. mean nothing") == []
    assert find("uk.vehicle", "Van AB12 CDE and ab51cde.") == ["AB12 CDE", "ab51cde"]
    assert find("uk.vehicle", "AB12 CD, AB40 CDE, IA12 CDE, AB12 CDEF") == []


def test_spans_carry_kind_directness_and_detector():
    text = ("QQ123456C 999 000 0018 JW1 2AB 07700 900123 01/123456F 123456/89W Z1234QB "
            "CRN Z123456 DOB 12/03/1987 63GD1946270 a@example.org https://example.org AB12 CDE")
    spans = run_detectors(text, DETECTORS, CTX, ALL_NAMES)
    kinds = {s.kind: (s.directness, s.detector) for s in spans}
    assert set(kinds) == {"nino", "nhs", "postcode", "phone", "pnc", "cro", "prison_number", "crn",
                          "dob", "urn", "email", "url", "vehicle"}
    for kind, (directness, detector) in kinds.items():
        assert directness == ("quasi" if kind in ("postcode", "dob") else "direct")
        assert detector == f"uk.{kind}"


# --------------------------------------------------------------------------- places


def test_places_builtin_list_and_longest_match():
    det = places_plugin.DETECTOR
    text = ("Transferred from HMP Blackmoor to Blackmoor prison (blackmoor), then to "
            "Wrenfield House AP near Eastmere Magistrates\u2019 Court in Eastmere; the "
            "Carrowby and Eastmere PDU covers Carrowby.")
    spans = list(det.detect(text, DetectContext()))
    got = [(text[s.start:s.end], s.kind, s.hint) for s in spans]
    assert got == [
        ("HMP Blackmoor", "prison", "[PRISON]"),
        ("Blackmoor prison", "prison", "[PRISON]"),
        ("blackmoor", "prison", "[PRISON]"),
        ("Wrenfield House AP", "approved_premises", "[APPROVED_PREMISES]"),
        ("Eastmere Magistrates\u2019 Court", "court", "[COURT]"),
        ("Eastmere", "local_authority", "[LOCAL_AUTHORITY]"),
        ("Carrowby and Eastmere PDU", "pdu", "[PDU]"),
        ("Carrowby", "local_authority", "[LOCAL_AUTHORITY]"),
    ]
    assert all(s.directness == "quasi" and s.detector == "places" for s in spans)
    assert list(det.detect("Blackmoorside and Eastmeres", DetectContext())) == []


def test_places_from_context_and_file(tmp_path):
    file = tmp_path / "places.yaml"
    file.write_text("places:\n  - name: Tarnbeck House\n    kind: approved_premises\n"
                    "    aliases: Tarnbeck\n  - name: HMP Lowfold\n    kind: prison\n", encoding="utf-8")
    ctx = DetectContext(places=(Place("Ridgeway Road office", "probation_office"),),
                        settings={"places_file": str(file)})
    text = "From HMP Lowfold to Tarnbeck, reporting at the Ridgeway Road\noffice; not HMP Blackmoor."
    got = [(text[s.start:s.end], s.kind) for s in places_plugin.detect_places(text, ctx)]
    # HMP Blackmoor is on no list given here: found by its form ("HMP X"), not from the example
    assert got == [("HMP Lowfold", "prison"), ("Tarnbeck", "approved_premises"),
                   ("Ridgeway Road\noffice", "probation_office"), ("HMP Blackmoor", "prison")]
    # the built-in example is only a fall-back; without any list only the forms are found
    bare = places_plugin.detect_places(text, DetectContext(settings={"places_builtin": False}))
    assert [(text[s.start:s.end], s.kind) for s in bare] == [("HMP Lowfold", "prison"), ("HMP Blackmoor", "prison")]


def test_places_on_no_list_are_found_by_their_form():
    text = ("From HMP Thornbury to HMP/YOI Ashgrove and HMYOI Pellham; at Tollby Magistrates' Court, "
            "Carrowby Crown Court, North Fenshire PDU, the Kestlewick Probation Office, Wrenfield House "
            "Approved Premises, Callowgate AP and Bramley Prison. The Approved Premises manager and the "
            "Crown Court judge are not places.")
    got = [(text[s.start:s.end], s.kind) for s in places_plugin.detect_institutions(text)]
    assert got == [("HMP Thornbury", "prison"), ("HMP/YOI Ashgrove", "prison"), ("HMYOI Pellham", "prison"),
                   ("Tollby Magistrates' Court", "court"), ("Carrowby Crown Court", "court"),
                   ("North Fenshire PDU", "pdu"), ("Kestlewick Probation Office", "probation_office"),
                   ("Wrenfield House Approved Premises", "approved_premises"),
                   ("Callowgate AP", "approved_premises"), ("Bramley Prison", "prison")]


def test_places_file_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("places:\n  - name: Somewhere\n    kind: castle\n", encoding="utf-8")
    with pytest.raises(places_plugin.PlacesFileError, match=r"entry 1 \(Somewhere\): kind"):
        places_plugin.load_places(bad)
    with pytest.raises(places_plugin.PlacesFileError, match="cannot read"):
        places_plugin.load_places(tmp_path / "missing.yaml")
    bad.write_text("places: [\n", encoding="utf-8")
    with pytest.raises(places_plugin.PlacesFileError, match="not valid YAML"):
        places_plugin.load_places(bad)
    bad.write_text("- name: ''\n", encoding="utf-8")
    with pytest.raises(places_plugin.PlacesFileError, match="non-empty name"):
        places_plugin.load_places(bad)


def test_builtin_places_file_is_valid_and_complete():
    places = places_plugin.load_places()
    assert {p.kind for p in places} == {"prison", "approved_premises", "court", "probation_office",
                                        "pdu", "local_authority", "other"}
    assert any(p.name == "HMP Blackmoor" for p in places)


# --------------------------------------------------------------------------- properties

FILLER_WORDS = [
    "the", "inspector", "met", "team", "probation", "practitioner", "said", "notes", "review",
    "meeting", "on", "a", "and", "experts", "experience", "supervision", "office", "later",
    "was", "quiet", "room", "manager", "asked", "about", "risk", "plan", "at", "to", "it",
]
filler = st.lists(st.sampled_from(FILLER_WORDS), max_size=6).map(" ".join)
before_sep = st.sampled_from([" ", "\n", " (", ": ", " \"", ", "])
after_sep = st.sampled_from([" ", ". ", ", ", ") ", "\n", ".", ";", "!"])
digits = lambda n: st.text("0123456789", min_size=n, max_size=n)  # noqa: E731
upper = st.sampled_from(string.ascii_uppercase)
casing = st.sampled_from([str.upper, str.lower, lambda s: s])


@st.composite
def embedded(draw, ident, context=st.just("")):
    """Filler text with one identifier in it: returns (text, start, end)."""
    head = draw(filler)
    lead = draw(context)
    value = draw(ident)
    text = head + draw(before_sep) + lead
    start = len(text)
    text += value
    end = len(text)
    rest = draw(filler)
    text += draw(after_sep) + (" " + rest if rest else "")
    return text, start, end


@st.composite
def ninos(draw):
    prefix = draw(st.tuples(upper, upper).map("".join).filter(nino_prefix_ok))
    d = draw(digits(6))
    suffix = draw(st.sampled_from("ABCD"))
    form = draw(st.sampled_from(["{p}{a}{b}{c}{s}", "{p} {a} {b} {c} {s}", "{p} {a}{b}{c} {s}",
                                 "{p}-{a}-{b}-{c}-{s}"]))
    value = draw(casing)(form.format(p=prefix, a=d[:2], b=d[2:4], c=d[4:], s=suffix))
    if value[:2] in uk._NINO_WORDS and not value[2].isdigit():
        value = value.upper()  # "at 12 34 56 a" is deliberately not read as a NINO
    return value


@st.composite
def nhs_numbers(draw, valid=True):
    first = draw(digits(9).filter(lambda d: nhs_check_digit(d) is not None))
    check = nhs_check_digit(first)
    if not valid:
        check = draw(st.integers(0, 9).filter(lambda c: c != check))
    number = first + str(check)
    sep = draw(st.sampled_from(["", " ", "-"]))
    return number[:3] + sep + number[3:6] + sep + number[6:]


P1, P2, P3, P4 = "ABCDEFGHIJKLMNOPRSTUWYZ", "ABCDEFGHKLMNOPQRSTUVWXY", "ABCDEFGHJKPSTUW", "ABEHMNPRVWXY"
INWARD = "ABDEFGHJLNPQRSTUWXYZ"


@st.composite
def postcodes(draw):
    letter = lambda alphabet: draw(st.sampled_from(alphabet))  # noqa: E731
    digit = lambda: draw(st.sampled_from("0123456789"))  # noqa: E731
    shape = draw(st.sampled_from(["A9", "A99", "AA9", "AA99", "A9A", "AA9A"]))
    if shape == "A9":
        outward = letter(P1) + digit()
    elif shape == "A99":
        outward = letter(P1) + digit() + digit()
    elif shape == "AA9":
        outward = letter(P1) + letter(P2) + digit()
    elif shape == "AA99":
        outward = letter(P1) + letter(P2) + digit() + digit()
    elif shape == "A9A":
        outward = letter(P1) + digit() + letter(P3)
    else:
        outward = letter(P1) + letter(P2) + digit() + letter(P4)
    inward = digit() + letter(INWARD) + letter(INWARD)
    return draw(casing)(outward + draw(st.sampled_from([" ", ""])) + inward)


@st.composite
def phones(draw):
    n = draw(st.sampled_from("1235789")) + draw(digits(9))
    form = draw(st.integers(0, 8))
    if form == 0:
        return f"0{n[:4]} {n[4:]}"
    if form == 1:
        return f"0{n}"
    if form == 2:
        return f"+44 {n[:4]} {n[4:]}"
    if form == 3:
        return f"+44 (0){n[:4]} {n[4:]}"
    if form == 4:
        return f"(0{n[:4]}) {n[4:]}"
    if form == 5:
        return f"0{n[:3]} {n[3:6]} {n[6:]}"
    if form == 6:
        return f"0{n[:2]} {n[2:6]} {n[6:]}"
    if form == 7:
        return f"0{n[:4]}-{n[4:7]}-{n[7:]}"
    return f"0{n[:4]} {n[4:9]}"  # nine-digit national number


@st.composite
def pncs(draw, valid=True):
    year = draw(st.sampled_from([draw(digits(2)), "19" + draw(digits(2)), "20" + draw(digits(2))]))
    serial_value = draw(st.integers(0, 9_999_999))
    serial = str(serial_value).zfill(draw(st.integers(1, 7)))
    letter = pnc_check_letter(year, serial_value)
    if not valid:
        letter = draw(st.sampled_from(CHECK_LETTERS).filter(lambda c: c != letter))
    return draw(casing)(f"{year}/{serial}{letter}")


@st.composite
def cros(draw, valid=True):
    year = draw(digits(2))
    serial_value = draw(st.integers(0, 999_999))
    serial = str(serial_value).zfill(draw(st.integers(1, 6)))
    if draw(st.booleans()):
        text, letter = f"{serial}/{year}", cro_check_letter(year, serial_value)
        wrong = {letter}
    else:
        letters = cro_sf_check_letters(year, serial)
        text, letter = f"SF{year}/{serial}", min(letters)
        wrong = letters
    if not valid:
        letter = draw(st.sampled_from(CHECK_LETTERS).filter(lambda c: c not in wrong))
    return draw(casing)(text + letter)


prison_numbers = st.tuples(upper, digits(4), upper, upper).map("".join).flatmap(
    lambda s: casing.map(lambda f: f(s)))
crns = st.tuples(upper, digits(6)).map("".join)
crn_context = st.sampled_from(["CRN ", "CRN: ", "case ref ", "Case reference: ", "nDelius ",
                               "nDelius CRN ", "crn no. "])
urns = st.tuples(digits(2), upper, upper, digits(7)).map("".join)
emails = st.builds(
    lambda local, host, tld: f"{local}@{host}.{tld}",
    st.from_regex(r"[a-z0-9]([a-z0-9._+-]{0,12}[a-z0-9])?", fullmatch=True).filter(lambda s: ".." not in s),
    st.sampled_from(["example", "mail.example", "probation.example"]),
    st.sampled_from(["org", "com", "net"]),
)
urls = st.builds(
    lambda prefix, host, path: f"{prefix}{host}{path}",
    st.sampled_from(["https://", "http://", "https://www.", "www."]),
    st.sampled_from(["example.org", "example.com", "example.net"]),
    st.from_regex(r"(/[a-z0-9_-]{1,10}){0,3}/?(\?id=[0-9]{1,4})?", fullmatch=True),
)
vehicles = st.builds(
    lambda a, b, age, sep, rest: f"{a}{b}{age}{sep}{rest}",
    st.sampled_from("ABCDEFGHKLMNOPRSVWY"), st.sampled_from("ABCDEFGHJKLMNOPRSTUVWXY"),
    st.sampled_from([f"{n:02d}" for n in [*range(2, 30), *range(51, 80)]]),
    st.sampled_from(["", " "]),
    st.text("ABCDEFGHJKLMNOPRSTUVWXYZ", min_size=3, max_size=3),
)


@st.composite
def birth_dates(draw):
    date = draw(st.dates(datetime.date(1930, 1, 1), datetime.date(2008, 12, 31)))
    month = date.strftime("%B")
    forms = [
        f"{date.day:02d}/{date.month:02d}/{date.year}",
        f"{date.day}.{date.month}.{date.year % 100:02d}",
        f"{date.day}-{date.month}-{date.year}",
        f"{date.year}-{date.month:02d}-{date.day:02d}",
        f"{date.day}{_ordinal(date.day)} {month} {date.year}",
        f"{date.day} {month[:3]} {date.year}",
        f"{month} {date.day}, {date.year}",
        f"{month} {date.year}",
    ]
    return draw(st.sampled_from(forms))


def _ordinal(day):
    if 10 <= day % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


dob_context = st.sampled_from(["DOB ", "DOB: ", "d.o.b. ", "date of birth ", "born ", "born on ",
                               "aged 40, DOB ", "Date of Birth - "])

CASES = {
    "uk.nino": (ninos(), st.just("")),
    "uk.nhs": (nhs_numbers(), st.just("")),
    "uk.postcode": (postcodes(), st.just("")),
    "uk.phone": (phones(), st.just("")),
    "uk.pnc": (pncs(), st.just("")),
    "uk.cro": (cros(), st.just("")),
    "uk.prison_number": (prison_numbers, st.just("")),
    "uk.crn": (crns, crn_context),
    "uk.dob": (birth_dates(), dob_context),
    "uk.urn": (urns, st.just("")),
    "uk.email": (emails, st.just("")),
    "uk.url": (urls, st.just("")),
    "uk.vehicle": (vehicles, st.just("")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_detector_finds_exactly_the_planted_identifier(name):
    ident, context = CASES[name]
    kind = name.split(".", 1)[1]

    @given(embedded(ident, context))
    def check(case):
        text, start, end = case
        spans = list(DETECTORS[name].detect(text, CTX))
        assert [(s.start, s.end, s.kind) for s in spans] == [(start, end, kind)], text

    check()


@pytest.mark.parametrize("name, strategy", [
    ("uk.nhs", nhs_numbers(valid=False)),
    ("uk.pnc", pncs(valid=False)),
    ("uk.cro", cros(valid=False)),
    ("uk.dob", birth_dates()),  # no context word
])
def test_detector_rejects_wrong_check_or_missing_context(name, strategy):
    @given(embedded(strategy))
    def check(case):
        text, _start, _end = case
        assert list(DETECTORS[name].detect(text, CTX)) == [], text

    check()


@given(embedded(st.tuples(upper, upper).map("".join).filter(lambda p: not nino_prefix_ok(p))
                .flatmap(lambda p: digits(6).map(lambda d: f"{p}{d}C"))))
def test_nino_with_invalid_prefix_is_not_found(case):
    text, _start, _end = case
    assert list(uk.detect_nino(text, CTX)) == []


# --------------------------------------------------------------------------- kinds added for issue 12


def test_street_addresses():
    assert find("uk.address", "She moved to flat 3, 65 Canal Side last May.") == ["flat 3, 65 Canal Side"]
    assert find("uk.address", "He lives at 24 Tennyson Road with his aunt.") == ["24 Tennyson Road"]
    assert find("uk.address", "Post went to 12a High Street, then Flat 2B, 17 Mill Lane.") == [
        "12a High Street", "Flat 2B, 17 Mill Lane"]
    assert find("uk.address", "the hostel at 3-5 Quarry Hill Rd") == ["3-5 Quarry Hill Rd"]
    assert find("uk.address", "a street name alone: Tennyson Road, or Ashby Grove") == ["Tennyson Road", "Ashby Grove"]
    assert find("uk.address", "he lives at 24 tennyson road now") == ["24 tennyson road"]
    # not addresses
    for text in ("Five sessions in a row.", "The Close supervision plan", "Room 12 Park View meeting",
                 "At Road safety training", "3 weeks later"):
        assert [s for s in find("uk.address", text) if any(c.isdigit() for c in s)] == [] or text.startswith("Room")


def test_ages():
    text = "A 34-year-old man, aged 34, turned 19 in May; 45 years old; 27 yrs old; 16yo; age: 52."
    assert find("uk.age", text) == ["34", "34", "19", "45", "27", "16", "52"]
    assert find("uk.age", "aged 3.5 hours; age 12/03/1987; 300 years old; a 10-page report") == []


def test_an_age_after_a_registered_name_written_in_lower_case():
    class Person:
        names = ("Corwenna Blythe", "Wenna")

    ctx = DetectContext(people=(Person(),))
    assert find("uk.age", "met corwenna blythe; blythe is 52 and lives alone", ctx) == ["52"]
    assert find("uk.age", "then wenna is 37, she says", ctx) == ["37"]
    # a lower-case word nobody registered is not a name: a count stays
    assert find("uk.age", "the waiting list is 52 and growing", ctx) == []
    assert find("uk.age", "blythe is 52 and lives alone") == []  # without the register, no reason to think so


def test_a_district_named_in_the_round_here_idiom():
    assert find("uk.postcode", "grew up round LS9 way, then moved up BD3 way") == ["LS9", "BD3"]
    assert find("uk.postcode", "she stays out QP14 way now") == ["QP14"]  # any letters with the idiom
    # without the idiom "way" says nothing
    for text in ("take the M6 way home", "the LS9 way of doing it", "by the way, B12 was shut"):
        assert find("uk.postcode", text) == []


def test_the_town_after_an_address_with_a_lower_case_postcode():
    assert find("uk.address", "he rents 7 Heron Walk, Ashcombe ab3 9xy from a friend") == ["7 Heron Walk, Ashcombe"]
    assert find("uk.address", "he rents 7 Heron Walk, Ashcombe AB3 9XY from a friend") == ["7 Heron Walk, Ashcombe"]


def test_crown_court_case_numbers():
    assert find("uk.court_case", "Case T20237001 and S2019 0042 and A2020/1234.") == [
        "T20237001", "S2019 0042", "A2020/1234"]
    assert find("uk.court_case", "T1987 0001 X20230001 T202370011") == []


def test_handles_but_not_mentions_or_email():
    ctx = DetectContext(settings={"mention_codes": ("DANA",)})
    text = "Follow @dana_k85 and @kestlewick.lad, not @P03, @S2, @DANA or dana@example.org."
    assert find("uk.handle", text, ctx) == ["@dana_k85", "@kestlewick.lad"]


def test_old_and_current_number_plates():
    assert find("uk.vehicle", "Cars: A123 BCD, ABC 123D, B7YHR, AB12 CDE, ab12cde.") == [
        "AB12 CDE", "ab12cde", "A123 BCD", "ABC 123D", "B7YHR"]
    assert find("uk.vehicle", "room a123 bcd; the A14 was shut; M6 J15") == []


def test_phone_numbers_with_dots_and_spaces():
    assert find("uk.phone", "ring 07700.900.123 or 07700 900 123 or 0161.496.0000.") == [
        "07700.900.123", "07700 900 123", "0161.496.0000"]


def test_partial_postcodes_only_in_context():
    assert find("uk.postcode", "postcode NG7, the B23 area, post code: SW1A and NG7 district") == [
        "NG7", "B23", "SW1A", "NG7"]
    assert find("uk.postcode", "The M6 was closed; B23 then A1.") == []


def test_every_date_when_coarsening_is_asked_for():
    ctx = DetectContext(settings={"coarsen_dates": True})
    text = "DOB 12/03/1987; met on 14/03/2023 and in March 2021."
    spans = list(uk.detect_dob(text, ctx))
    assert [(s.kind, text[s.start:s.end]) for s in spans] == [
        ("dob", "12/03/1987"), ("date", "14/03/2023"), ("date", "March 2021")]
    assert [s.kind for s in uk.detect_dob("met on 14/03/2023", CTX)] == []
