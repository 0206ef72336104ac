"""A seeded synthetic corpus of probation fieldwork text with planted identifiers.

``generate_corpus(seed, n_docs)`` returns a :class:`Corpus` (a list of :class:`Doc`) of
fieldnotes from inspection work, interview excerpts and case-review notes. Each document
records where every planted identifier is: ``truth`` holds ``(start, end, kind,
directness)`` tuples. The corpus also carries the ``people`` it names (pseudonym, full name,
aliases; usable as key-store people in a ``DetectContext``) and the ``places`` it takes place
names from (the built-in example list), so that name and place detectors can be measured.

Everything is invented. Names are random pairs of generic first names and surnames;
identifiers use fictional ranges: National Insurance prefix QQ, NHS numbers in the 999 test
range, Ofcom drama phone numbers, postal areas that do not exist, the reserved example.*
domains for email and web addresses. PNC, CRO, CRN, prison numbers, URNs and number plates are
random strings with correct check characters where the format has one.

The text also holds distractors that look a little like identifiers but are not (meeting
dates without a "born"/"DOB", room numbers, a letter and six digits without "CRN", a ten-digit
number failing the NHS check, year ranges, section numbers), so that precision means something.
"""

from __future__ import annotations

import random
import re
from typing import Optional

import attrs

from fieldkit.privacy.places import load_places
from fieldkit.privacy.uk_identifiers import (
    cro_check_letter,
    nhs_check_digit,
    pnc_check_letter,
)

__all__ = ["Corpus", "Doc", "Person", "DIRECTNESS", "generate_corpus", "make_people"]

FIRST_NAMES = (
    "Sam", "Alex", "Jordan", "Chris", "Jo", "Lee", "Robin", "Morgan", "Casey", "Jamie", "Dana",
    "Toni", "Rowan", "Billie", "Frankie", "Nicky", "Terry", "Kerry", "Leslie", "Hayden",
)
SURNAMES = (
    "Garside", "Ashdown", "Brindley", "Corran", "Dunmore", "Elstow", "Farrant", "Hathersall",
    "Kilbride", "Lowther", "Marlowe", "Nettleford", "Pennick", "Quarrie", "Rudyard", "Selwood",
    "Tarrant", "Upshaw", "Varley", "Wetherall",
)

#: directness of every planted kind; place kinds are quasi
DIRECTNESS = {
    "name": "direct", "nino": "direct", "nhs": "direct", "postcode": "quasi", "phone": "direct",
    "pnc": "direct", "cro": "direct", "prison_number": "direct", "crn": "direct", "dob": "quasi",
    "urn": "direct", "email": "direct", "url": "direct", "vehicle": "direct",
}


@attrs.frozen
class Person:
    """An invented person: ``names`` is the full name followed by the aliases (the key-store shape)."""

    pseudonym: str
    name: str
    aliases: tuple = ()

    @property
    def names(self) -> tuple:
        return (self.name, *self.aliases)


@attrs.frozen
class Doc:
    """One synthetic document and the identifiers planted in it."""

    id: str
    genre: str
    text: str
    truth: list = attrs.field(factory=list)


class Corpus(list):
    """A list of :class:`Doc` that also knows the people and places it was written with."""

    def __init__(self, docs=(), people=(), places=()):
        super().__init__(docs)
        self.people = tuple(people)
        self.places = tuple(places)


def make_people(rng: random.Random, n: int = 16) -> tuple:
    """``n`` invented people with pseudonyms P01…; aliases are the first name and the surname."""
    pairs = [(f, s) for f in FIRST_NAMES for s in SURNAMES]
    rng.shuffle(pairs)
    people, used_first, used_last = [], set(), set()
    for first, last in pairs:
        # distinct first names and surnames keep every alias pointing at one person
        if first in used_first or last in used_last:
            continue
        used_first.add(first)
        used_last.add(last)
        people.append(Person(f"P{len(people) + 1:02d}", f"{first} {last}", (first, last)))
        if len(people) == n:
            break
    return tuple(people)


# --------------------------------------------------------------------------- identifier writers

_DIGITS = "0123456789"
_PLATE_LETTERS = "ABCDEFGHJKLMNOPRSTUVWXYZ"
_FICTIONAL_AREAS = ("YY", "JW", "UW", "FX", "OY", "KX")
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def _digits(rng, n):
    return "".join(rng.choice(_DIGITS) for _ in range(n))


def _nino(rng, ctx):
    d = _digits(rng, 6)
    s = rng.choice("ABCD")
    form = rng.choice(["QQ {a} {b} {c} {s}", "QQ{a}{b}{c}{s}", "qq {a}{b}{c} {s}", "QQ-{a}-{b}-{c}-{s}",
                       "QQ {a}{b}{c}{s}"])
    text = form.format(a=d[:2], b=d[2:4], c=d[4:], s=s)
    return text.lower() if form.startswith("qq") else text


def _nhs(rng, ctx):
    while True:
        first = "999" + _digits(rng, 6)
        check = nhs_check_digit(first)
        if check is not None:
            break
    n = first + str(check)
    sep = rng.choice([" ", " ", "", "-"])
    return n[:3] + sep + n[3:6] + sep + n[6:]


def _postcode(rng, ctx):
    area = rng.choice(_FICTIONAL_AREAS)
    shape = rng.choice(["AA9", "AA99", "AA9A"])
    outward = area + rng.choice(_DIGITS[1:])
    if shape == "AA99":
        outward += rng.choice(_DIGITS)
    elif shape == "AA9A":
        outward += rng.choice("ABEHMNPRVWXY")
    inward = rng.choice(_DIGITS) + rng.choice(_INWARD_LETTERS) + rng.choice(_INWARD_LETTERS)
    form = rng.random()
    if form < 0.7:
        return f"{outward} {inward}"
    if form < 0.85:
        return f"{outward}{inward}"
    return f"{outward} {inward}".lower()


def _phone(rng, ctx):
    tail = _digits(rng, 3)
    choice = rng.randrange(6)
    if choice == 0:  # mobile drama range 07700 900xxx
        return rng.choice([f"07700 900{tail}", f"07700900{tail}", f"+44 7700 900{tail}",
                           f"+44 (0)7700 900{tail}", f"07700-900-{tail}", f"07700 900 {tail}"])
    if choice == 1:
        return rng.choice([f"01632 960{tail}", f"(01632) 960{tail}", f"+44 1632 960{tail}"])
    if choice == 2:
        return rng.choice([f"020 7946 0{tail}", f"(020) 7946 0{tail}", f"+44 20 7946 0{tail}"])
    if choice == 3:
        return rng.choice([f"0161 496 0{tail}", f"(0161) 496 0{tail}", f"01614960{tail}"])
    if choice == 4:
        return rng.choice([f"0113 496 0{tail}", f"+44 113 496 0{tail}"])
    return rng.choice([f"029 2018 0{tail}", f"(029) 2018 0{tail}"])


def _pnc(rng, ctx):
    year = rng.randint(1985, 2023)
    serial = rng.randint(1, 9_999_999)
    letter = pnc_check_letter(year, serial)
    form = rng.random()
    if form < 0.5:
        return f"{year}/{serial:07d}{letter}"
    if form < 0.75:
        return f"{year % 100:02d}/{serial}{letter}"
    return f"{year}/{serial}{letter}"


def _cro(rng, ctx):
    year = rng.randint(0, 99)
    serial = rng.randint(1, 999_999)
    letter = cro_check_letter(year, serial)
    form = rng.random()
    if form < 0.4:
        return f"{serial:06d}/{year:02d}{letter}"
    if form < 0.8:
        return f"{serial}/{year:02d}{letter}"
    return f"SF{year:02d}/{serial:06d}{letter}"


def _prison_number(rng, ctx):
    return rng.choice("XYZ") + _digits(rng, 4) + rng.choice(_PLATE_LETTERS) + rng.choice(_PLATE_LETTERS)


def _crn(rng, ctx):
    return rng.choice("QZ") + _digits(rng, 6)


def _ordinal(day):
    if 10 <= day % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _dob(rng, ctx):
    year = rng.randint(1950, 2005)
    month = rng.randint(1, 12)
    day = rng.randint(1, 28)
    name = _MONTHS[month - 1]
    return rng.choice([
        f"{day:02d}/{month:02d}/{year}",
        f"{day}/{month}/{year}",
        f"{day}.{month}.{year % 100:02d}",
        f"{day:02d}-{month:02d}-{year}",
        f"{day}{_ordinal(day)} {name} {year}",
        f"{day} {name[:3]} {year}",
        f"{name} {day}, {year}",
        f"{name} {year}",
        f"{year}-{month:02d}-{day:02d}",
    ])


def _urn(rng, ctx):
    force = f"{rng.randint(1, 99):02d}"
    unit = rng.choice(_PLATE_LETTERS) + rng.choice(_PLATE_LETTERS)
    serial = _digits(rng, 7)
    return rng.choice([f"{force}{unit}{serial}", f"{force} {unit} {serial}", f"{force}{unit}{serial}"])


def _email(rng, ctx):
    first, last = ctx["person"].name.lower().split()
    return rng.choice([
        f"{first}.{last}@example.org",
        f"{first[0]}{last}@mail.example.com",
        f"{ctx['person'].pseudonym.lower()}.research@example.net",
        f"{last}{rng.randint(1, 99)}@example.com",
    ])


def _url(rng, ctx):
    first, last = ctx["person"].name.lower().split()
    return rng.choice([
        f"https://www.example.org/people/{first}-{last}",
        f"www.example.com/blog/{rng.randint(2015, 2024)}/probation-voices",
        f"http://example.net/forum?id={rng.randint(1, 9999)}",
        f"https://example.org/{last}",
    ])


def _vehicle(rng, ctx):
    area = rng.choice("ABCDEFGHKLMNOPRSVWY") + rng.choice("ABCDEFGHJKLMNOPRSTUVWXY")
    age = rng.choice([*range(2, 26), *range(51, 76)])
    rest = "".join(rng.choice(_PLATE_LETTERS) for _ in range(3))
    return rng.choice([f"{area}{age:02d} {rest}", f"{area}{age:02d}{rest}"])


WRITERS = {
    "nino": _nino, "nhs": _nhs, "postcode": _postcode, "phone": _phone, "pnc": _pnc, "cro": _cro,
    "prison_number": _prison_number, "crn": _crn, "dob": _dob, "urn": _urn, "email": _email,
    "url": _url, "vehicle": _vehicle,
}

# --------------------------------------------------------------------------- templates
# {person} a full name or alias of someone (kind name); {place:KIND} a listed place;
# {KIND} an identifier written by WRITERS[KIND]. One person per sentence.

FIELDNOTE = [
    "The inspection meeting at {place:probation_office} started late; {person} chaired it.",
    "{person} explained how supervision works across {place:pdu}.",
    "LI hands the intro to the EbE; the SPO checks phone {phone} for messages.",
    "The case file on the table showed NI number {nino} and NHS number {nhs}.",
    "{person} read the summary aloud: PNC {pnc}, CRO {cro}.",
    "Case review for {person}: CRN {crn}, prison number {prison_number}, released from {place:prison}.",
    "He was born on {dob} and now lives near {postcode}.",
    "The URN {urn} was listed at {place:court} for the following week.",
    "Contact details on the form: {email}, tel. {phone}.",
    "The van parked outside, reg {vehicle}, belonged to a visitor.",
    "{person} moved to {place:approved_premises} after release.",
    "Funding for the scheme comes through {place:local_authority}.",
    "OC: {person} seemed wary whenever {place:other} came up.",
    "The practitioner had printed the profile at {url} for the file.",
    "An old letter in the file gave CRO number {cro} and case ref {crn}.",
    "The team discussed a recall; nDelius record {crn} was out of date.",
    "Visitors' log: {person}, car {vehicle}, arrived 10:40.",
]
INTERVIEW = [
    "Interviewer: How did you find {place:other}?\nRespondent: Honestly, {person} there helped a lot.",
    "Respondent: My PO said ring {phone} if anything changes.",
    "Respondent: I was at {place:prison} for two years, then {place:approved_premises}.",
    "Interviewer: And the hearing?\nRespondent: That was at {place:court}, {person} came with me.",
    "Respondent: They wrote my date of birth as {dob} on everything.",
    "Respondent: You can email me on {email} after this.",
    "Respondent: My number in there was {prison_number}, you never forget it.",
    "Interviewer: Where do you report now?\nRespondent: {place:probation_office}, every Tuesday.",
    "Respondent: I'm in my forties (DOB {dob}) and this is my first time on licence.",
    "Respondent: I live out by {postcode} now, near my sister.",
]
CASE_REVIEW = [
    "Case reference: {crn}. Person on probation: {person}, d.o.b. {dob}.",
    "PNC ID {pnc}; CRO {cro}; NOMIS number {prison_number}.",
    "Address recorded as {postcode}; phone {phone}.",
    "Police URN {urn} relates to the index offence.",
    "Risk assessment completed by {person} at {place:pdu}.",
    "NHS no. {nhs} shared with the GP at the practitioner's request.",
    "National Insurance: {nino}. DOB: {dob}.",
    "Reviewer note: {person} lived at {place:approved_premises} until the licence ended.",
    "Sentence passed at {place:court}; served at {place:prison}.",
]
DISTRACTORS = [
    "The meeting started at 14:05 in room 101.",
    "The inspection on 14/03/2023 covered 37 cases.",
    "Tier 3 cases made up 40% of the caseload.",
    "The stationery order SO-2046 had still not arrived.",
    "Inspectors used the 2021/22 framework, standard 2.1.3.",
    "The PDU managed 1,204 cases with 23 practitioners.",
    "A ticket numbered 123 456 7890 was pinned to the board.",
    "Budget lines were \u00a31,250 and \u00a33,400.",
    "Fieldwork week 12 ended on Friday 17 March 2023.",
    "OC: the EbE seemed more at ease after the break.",
    "Some 250 people on probation answered the survey.",
    "The SPO mentioned section 20 and PSR timeliness.",
    "Reflexive aside: I talked too much in the first half.",
    "Break at 11:15; tea ran out by 11:30.",
]
HEADERS = {
    "fieldnote": ["Fieldnote, inspection week {n}\n\n", "Observation notes, day {n}\n\n", ""],
    "interview": ["Interview excerpt {n}\n\n", "Focus group extract {n}\n\n"],
    "case_review": ["Case review notes {n}\n\n", "Case sample {n}: summary\n\n"],
}
POOLS = {"fieldnote": FIELDNOTE, "interview": INTERVIEW, "case_review": CASE_REVIEW}

_SLOT = re.compile(r"\{([a-z_]+)(?::([a-z_]+))?\}")


def _render(rng: random.Random, template: str, people, places_by_kind, text: str, truth: list) -> str:
    """Append one filled template to ``text``, recording the planted spans in ``truth``."""
    person = rng.choice(people)
    ctx = {"person": person}
    pos = 0
    for m in _SLOT.finditer(template):
        text += template[pos:m.start()]
        slot, arg = m.group(1), m.group(2)
        if slot == "person":
            value, kind, directness = rng.choice(person.names), "name", "direct"
        elif slot == "place":
            place = rng.choice(places_by_kind[arg])
            value, kind, directness = rng.choice(place.names), place.kind, "quasi"
        else:
            value, kind, directness = WRITERS[slot](rng, ctx), slot, DIRECTNESS[slot]
        truth.append((len(text), len(text) + len(value), kind, directness))
        text += value
        pos = m.end()
    return text + template[pos:]


def generate_corpus(seed: int, n_docs: int, people: Optional[tuple] = None) -> Corpus:
    """``n_docs`` synthetic documents, the same for the same ``seed``."""
    rng = random.Random(seed)
    people = tuple(people) if people is not None else make_people(rng)
    places = load_places()
    places_by_kind: dict = {}
    for place in places:
        places_by_kind.setdefault(place.kind, []).append(place)
    docs = []
    for i in range(n_docs):
        genre = rng.choice(("fieldnote", "interview", "case_review"))
        text = rng.choice(HEADERS[genre]).format(n=rng.randint(1, 30))
        truth: list = []
        for j in range(rng.randint(4, 9)):
            if j and rng.random() < 0.15:
                text += "\n\n"
            elif j:
                text += "\n" if genre == "interview" else " "
            if rng.random() < 0.3:
                text += rng.choice(DISTRACTORS)
            else:
                text = _render(rng, rng.choice(POOLS[genre]), people, places_by_kind, text, truth)
        docs.append(Doc(f"D{i + 1:04d}", genre, text + "\n", truth))
    return Corpus(docs, people, places)
