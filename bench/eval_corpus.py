"""An evaluation corpus for anonymisation, written independently of fieldkit's detectors.

Nothing here is imported from fieldkit: no detector function, word list, pattern, place list
or context word. The sentence templates, the name lists and the identifier generators (with
their own check-digit arithmetic, written from the public format descriptions) were written
for this corpus. Every person and place is fictional. Names come from two hand-written lists:

* ``COMMON_*``: everyday first names and surnames of people in England and Wales (so a
  fallback detector that knows common names is tested on what it should know);
* ``RARE_*``: invented or rare names (so it is tested on names it cannot know).

``generate(seed, n_docs)`` returns ``(people, docs)``. Each doc is ``{"id", "text",
"truth"}`` and ``truth`` holds ``(start, end, kind, directness, person_id or "")``.
"""

from __future__ import annotations

import random
import re
import string

COMMON_FIRST = (
    "Sarah", "David", "Emma", "James", "Laura", "Michael", "Rebecca", "Daniel", "Gemma", "Craig",
    "Kirsty", "Lee", "Natalie", "Wayne", "Hayley", "Shaun", "Leanne", "Dean", "Stacey", "Ryan",
    "Mohammed", "Aisha", "Imran", "Priya", "Kieran", "Siobhan", "Gareth", "Rhian", "Tomasz", "Agnieszka",
    "Kwame", "Abena", "Jamal", "Chantelle", "Declan", "Bethany", "Callum", "Jade", "Connor", "Paige",
)
COMMON_SURNAME = (
    "Thompson", "Walker", "Robinson", "Wright", "Hughes", "Edwards", "Green", "Hall", "Wood", "Clarke",
    "Patel", "Khan", "Hussain", "Begum", "Ahmed", "Kowalski", "Nowak", "Mensah", "Owusu", "Campbell",
    "Murphy", "Kelly", "Davies", "Evans", "Jenkins", "Price", "Barnes", "Fletcher", "Stevenson", "Doherty",
)
RARE_FIRST = (
    "Orlaith", "Tamsin", "Ebony-Rae", "Zoltan", "Idris", "Marisol", "Ottilie", "Caspian", "Wrenna",
    "Lowenna", "Bartosz", "Nkechi", "Ysolde", "Fenella", "Jago", "Keturah", "Anselm", "Perpetua",
    "Tobiah", "Elowen", "Radoslaw", "Sunniva", "Auberon", "Morwenna",
)
RARE_SURNAME = (
    "Quenby", "Vayle", "Thistlewood", "Ormerod-Price", "Brackwell", "Pennyfeather", "Colquhoun",
    "Wrigglesworth", "Fairweather", "Sowerbutts", "Ibekwe", "Szczepanik", "Drummond-Hay", "Vasquez-Lowe",
    "Heskeith", "Ollerenshaw", "Quarmby", "Tregunna", "Mbeki-Shaw", "Athelney",
)
NICKNAMES = ("Shaz", "Davo", "Becks", "Dazza", "Kez", "Mo", "Jojo", "Tommo", "Bex", "Macca", "Smudge")
TITLES = ("Mr", "Mrs", "Ms", "Miss", "Dr")

TOWNS = ("Saltby", "Cradleigh", "Wexcombe", "Ambersett", "Hollowmere", "Duncaster", "Pellingford",
         "Ravensholt", "Thornwick", "Marrowby", "Kelsworth", "Brindlecote")
STREET_NAMES = ("Tennant", "Coopers", "Larch", "Old Quarry", "Ferry", "Bracken", "Weaver", "Canal",
                "Foundry", "Orchard", "Jubilee", "Chapel")
STREET_TYPES = ("Road", "Street", "Lane", "Close", "Avenue", "Crescent", "Way", "Side", "Terrace")

# -------------------------------------------------------------------------- identifiers

_LETTERS = "ZABCDEFGHJKLMNPQRTUVWXY"  # the mod-23 letter table from the PNC/CRO format notes


def nhs_number(rng: random.Random) -> str:
    """Ten digits starting 999 (not issued) whose mod-11 check digit is right."""
    while True:
        body = "999" + "".join(rng.choice(string.digits) for _ in range(6))
        weighted = sum(int(d) * w for d, w in zip(body, range(10, 1, -1)))
        check = (11 - weighted % 11) % 11
        if check != 10:
            digits = body + str(check)
            return rng.choice([f"{digits[:3]} {digits[3:6]} {digits[6:]}", digits, f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"])


def nino(rng: random.Random) -> str:
    d = "".join(rng.choice(string.digits) for _ in range(6))
    s = rng.choice("ABCD")
    return rng.choice([f"QQ{d}{s}", f"QQ {d[:2]} {d[2:4]} {d[4:]} {s}", f"qq{d}{s.lower()}", f"QQ {d} {s}"])


def phone(rng: random.Random) -> str:
    n = "".join(rng.choice(string.digits) for _ in range(3))
    a = "".join(rng.choice(string.digits) for _ in range(3))
    return rng.choice([f"07700 900{n}", f"07700900{n}", f"+44 7700 900{n}", f"07700 900 {n}",
                       f"0113 496 0{a}", f"01632 960{n}", f"+44 (0)7700 900{n}", f"07700-900-{n}"])


def pnc(rng: random.Random) -> str:
    year = rng.randint(1985, 2022)
    serial = rng.randint(1, 999999)
    letter = _LETTERS[int(f"{year % 100:02d}{serial:07d}") % 23]
    return rng.choice([f"{year}/{serial:07d}{letter}", f"{year % 100:02d}/{serial}{letter}"])


def cro(rng: random.Random) -> str:
    year = rng.randint(70, 99)
    serial = rng.randint(1, 999999)
    return f"{serial:06d}/{year:02d}{_LETTERS[int(f'{year:02d}{serial:06d}') % 23]}"


def prison_no(rng: random.Random) -> str:
    return (rng.choice(string.ascii_uppercase) + "".join(rng.choice(string.digits) for _ in range(4))
            + rng.choice(string.ascii_uppercase) + rng.choice(string.ascii_uppercase))


def crn(rng: random.Random) -> str:
    return rng.choice(string.ascii_uppercase) + "".join(rng.choice(string.digits) for _ in range(6))


def urn(rng: random.Random) -> str:
    return f"{rng.randint(10, 99)}{rng.choice(string.ascii_uppercase)}{rng.choice(string.ascii_uppercase)}" \
           f"{rng.randint(1000000, 9999999)}"


def court_case(rng: random.Random) -> str:
    return f"{rng.choice('TS')}{rng.randint(2015, 2024)}{rng.randint(1, 9999):04d}"


def vehicle(rng: random.Random) -> str:
    memory = rng.choice("ABCDEFGHKLMNOPRSVWY") + rng.choice("ABCDEFGHJKLMNOPRSTUVWXY")
    age = rng.choice(["05", "58", "12", "63", "19", "69", "71", "21"])
    tail = "".join(rng.choice("ABCDEFGHJKLMNOPRSTUVWXYZ") for _ in range(3))
    old = rng.choice("BCDFGHJKLMNPRSTVWXY") + str(rng.randint(1, 999)) + " " + "".join(
        rng.choice("ABCDEFGHJKLMNPRSTUVWXY") for _ in range(3))
    return rng.choice([f"{memory}{age} {tail}", f"{memory}{age}{tail}", old])


def postcode(rng: random.Random) -> str:
    # outward codes of the right shape in areas that do not exist (ZZ, YQ, KX)
    out = rng.choice(["ZZ", "YQ", "KX"]) + str(rng.randint(1, 29))
    inward = str(rng.randint(0, 9)) + "".join(rng.choice("ABDEFGHJLNPQRSTUWXYZ") for _ in range(2))
    return rng.choice([f"{out} {inward}", f"{out}{inward}", f"{out} {inward}".lower()])


def partial_postcode(rng: random.Random) -> str:
    return rng.choice(["ZZ", "YQ", "KX"]) + str(rng.randint(1, 29))


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


def dob(rng: random.Random) -> str:
    y, m, d = rng.randint(1960, 2004), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice([f"{d:02d}/{m:02d}/{y}", f"{d}.{m}.{y % 100:02d}", f"{d} {MONTHS[m - 1]} {y}",
                       f"{d}th {MONTHS[m - 1]} {y}", f"{MONTHS[m - 1]} {y}", f"{d}/{m}/{y % 100:02d}"])


def age(rng: random.Random) -> str:
    return str(rng.randint(18, 71))


def email(rng: random.Random, person) -> str:
    first, last = person["first"].lower(), person["surname"].lower().replace("-", "")
    return rng.choice([f"{first}.{last}@example.com", f"{first[0]}{last}{rng.randint(1, 99)}@example.org",
                       f"{last}.{first}@mail.example.net"])


def handle(rng: random.Random, person) -> str:
    return rng.choice([f"@{person['first'].lower()}_{rng.randint(10, 99)}",
                       f"@{person['surname'].lower().replace('-', '')}{rng.choice(['x', 'official', '_uk'])}"])


def url(rng: random.Random) -> str:
    return rng.choice(["https://www.example.org/profile/", "www.example.com/u/", "http://example.net/p?id="]) + \
        str(rng.randint(1000, 99999))


def address(rng: random.Random) -> str:
    street = f"{rng.choice(STREET_NAMES)} {rng.choice(STREET_TYPES)}"
    number = str(rng.randint(1, 240)) + rng.choice(["", "", "", "a", "b"])
    if rng.random() < 0.3:
        return f"flat {rng.randint(1, 12)}, {number} {street}"
    return f"{number} {street}"


def prison(rng: random.Random) -> str:
    return rng.choice([f"HMP {rng.choice(TOWNS)}", f"HMP/YOI {rng.choice(TOWNS)}", f"HMYOI {rng.choice(TOWNS)}",
                       f"{rng.choice(TOWNS)} prison", f"{rng.choice(TOWNS)} Prison"])


def court(rng: random.Random) -> str:
    return rng.choice([f"{rng.choice(TOWNS)} Magistrates' Court", f"{rng.choice(TOWNS)} Crown Court",
                       f"{rng.choice(TOWNS)} magistrates", f"{rng.choice(TOWNS)} Youth Court"])


def pdu(rng: random.Random) -> str:
    return rng.choice([f"{rng.choice(TOWNS)} PDU", f"North {rng.choice(TOWNS)} PDU",
                       f"{rng.choice(TOWNS)} probation office"])


def approved_premises(rng: random.Random) -> str:
    return rng.choice([f"{rng.choice(STREET_NAMES)} House Approved Premises", f"{rng.choice(TOWNS)} AP",
                       f"{rng.choice(STREET_NAMES)} House approved premises"])


# -------------------------------------------------------------------------- people and mentions


def make_people(rng: random.Random, n: int = 60) -> list[dict]:
    people, seen = [], set()
    while len(people) < n:
        rare = len(people) % 2 == 1
        first = rng.choice(RARE_FIRST if rare else COMMON_FIRST)
        surname = rng.choice(RARE_SURNAME if rare and rng.random() < 0.8 else COMMON_SURNAME)
        if (first, surname) in seen:
            continue
        seen.add((first, surname))
        aliases = [rng.choice(NICKNAMES)] if rng.random() < 0.25 else []
        people.append({"id": f"P{len(people) + 1:02d}", "first": first, "surname": surname,
                       "title": rng.choice(TITLES), "aliases": aliases, "rare": rare})
    return people


def mention(rng: random.Random, person: dict) -> str:
    """One way a fieldnote might name ``person``."""
    full = f"{person['first']} {person['surname']}"
    form = rng.random()
    if form < 0.30:
        text = full
    elif form < 0.55:
        text = person["first"]
    elif form < 0.70:
        text = f"{person['title']} {person['surname']}"
    elif form < 0.78:
        text = person["first"].lower()
    elif form < 0.84:
        text = full.upper()
    elif form < 0.90 and person["aliases"]:
        text = person["aliases"][0]
    else:
        text = full.lower() if rng.random() < 0.3 else person["first"]
    return text


# -------------------------------------------------------------------------- templates
# {p} a person, {p2} another person; other slots are identifier kinds.

FIELDNOTES = [
    "{p} arrived late to the supervision session and apologised twice.",
    "In the corridor {p} told me the appointments keep moving.",
    "We sat in the small interview room; {p} did most of the talking while {p2} took notes.",
    "The senior probation officer, {p}, chaired the Tuesday allocation meeting.",
    "OC: {p} seemed guarded whenever risk came up.",
    "Afterwards {p2} mentioned that {p} had been recalled last spring.",
    "Lunch with {p} who described the move from {prison} to {ap}.",
    "{p}'s case notes were thin, according to the inspector.",
    "The team leader ({p}) asked us not to quote the caseload figures.",
    "Phone call with {p}, who gave her number as {phone} for the follow-up.",
    "{p} showed me the letter: NI number {nino}, NHS number {nhs}.",
    "The inspectors met {p} and {p2} at {pdu} on a wet Thursday.",
    "At {court} the list was long; {p} was second on.",
    "Reflexive aside: I felt uneasy when {p} joked about the workload.",
    "{p} is {age} and has been on licence since leaving {prison}.",
    "A {age}-year-old man on the caseload, known to staff as {p}, had missed two appointments.",
    "{p} lives at {address}, {town} {postcode} with a cousin.",
    "The car outside, {vehicle}, belongs to {p} according to reception.",
    "Staff said {p} posts as {handle} and had been warned about it.",
    "The volunteer mentor, {p2}, brought biscuits again.",
    "Approved premises staff described {p} as settled.",
    "We waited for {p} in reception; the Approved Premises manager came instead.",
    "{p} said the Job Centre had stopped her money for a fortnight.",
    "{p} and I spoke briefly about the Probation Service rating.",
]
INTERVIEW = [
    "Interviewer: How long have you known {p}?\nRespondent: Since {prison}, years back.",
    "Respondent: My PO, {p}, is alright, she listens.",
    "Respondent: You can text me on {phone} or email {email}.",
    "Respondent: I was born {dob}, so I'm not a kid any more.",
    "Respondent: My date of birth is {dob} but they always get it wrong.",
    "Respondent: I'm {age} now and I've had enough of all this.",
    "Respondent: When I came out of {prison} they put me in {ap}.",
    "Respondent: {p} from the hostel helped me fill the forms in.",
    "Interviewer: And who else was in the meeting?\nRespondent: {p} and that new one, {p2}.",
    "Respondent: I'm at {address} now, near the shops.",
    "Respondent: Honestly {p} was the only one who rang me back.",
    "Respondent: My cousin {p2} drove me in the {vehicle} when the bus was off.",
    "Respondent: Court was at {court}, case {court_case} I think it said.",
    "Respondent: I live round {partial} way, the postcode area is {partial} anyway.",
]
CASE_REVIEW = [
    "Case review: {p}, DOB {dob}, CRN {crn}, PNC {pnc}.",
    "Person on probation: {p} (prison number {prison_no}), released from {prison}.",
    "CRO record {cro} and police URN {urn} are on file for {p}.",
    "Reference {crn} belongs to {p}; allocated to {p2} at {pdu}.",
    "Sentenced at {court} under case number {court_case}.",
    "Address on file: {address}, {town}, {postcode}.",
    "Contact: {phone}; email {email}; social media {handle}.",
    "Profile page saved from {url} for the file.",
    "{p} ({age}) was assessed as medium risk of serious harm.",
    "Date of birth {dob}; NI {nino}; NHS {nhs}.",
    "Vehicle {vehicle} was seen outside the address.",
    "The practitioner, {p2}, noted that {p} had moved to {ap}.",
]
DISTRACTORS = [
    "The Senior Probation Officer chaired the meeting on Monday.",
    "Approved Premises staff met in March to plan the rota.",
    "Tier 3 cases made up 40% of the caseload in 2022.",
    "The meeting started at 14:05 in room 101.",
    "Inspectors used the 2021/22 framework, standard 2.1.3.",
    "OASys assessments were late in 12 of 30 cases.",
    "MAPPA level 2 meetings happen every six weeks.",
    "The Crown Court sits on Wednesdays and Fridays.",
    "Quality Assurance and the Head of Service signed it off.",
    "HM Inspectorate of Probation published the report in June.",
    "Christmas and Easter rotas were agreed early.",
    "Universal Credit deductions came up in every interview.",
    "The Probation Delivery Unit covers three towns.",
    "Some 250 people on probation answered the survey.",
    "Budget lines were \u00a31,250 and \u00a33,400.",
    "The Expert by Experience group met on Thursday afternoon.",
    "A Lead Inspector and two Assistant Inspectors joined by Teams.",
    "Domestic Abuse enquiries were chased on 14 occasions.",
    "Alcoholics Anonymous meets at the Community Centre on Fridays.",
    "The Head of the PDU said Accredited Programmes had a waiting list.",
    "Ramadan meant some appointments moved to the morning.",
    "Building Better Relationships starts again in September.",
    "The Regional Probation Director visited in the Autumn.",
    "Section 20 of the guidance was read aloud.",
]
POOLS = {"fieldnote": FIELDNOTES, "interview": INTERVIEW, "case_review": CASE_REVIEW}

DIRECT = {"name", "nino", "nhs", "phone", "email", "pnc", "cro", "prison_no", "crn", "urn", "court_case",
          "vehicle", "handle", "url", "address"}
WRITERS = {
    "nino": nino, "nhs": nhs_number, "phone": phone, "pnc": pnc, "cro": cro, "prison_no": prison_no,
    "crn": crn, "urn": urn, "court_case": court_case, "vehicle": vehicle, "postcode": postcode,
    "partial": partial_postcode, "dob": dob, "age": age, "url": url, "address": address, "prison": prison,
    "court": court, "pdu": pdu, "ap": approved_premises,
}
PLACE_SLOTS = {"prison", "court", "pdu", "ap", "town"}
_SLOT = re.compile(r"\{([a-z_0-9]+)\}")


def _fill(rng, template, people, text, truth):
    p, p2 = rng.sample(people, 2)
    pos = 0
    for m in _SLOT.finditer(template):
        text += template[pos:m.start()]
        slot = m.group(1)
        who = ""
        if slot in ("p", "p2"):
            who = (p if slot == "p" else p2)["id"]
            value, kind = mention(rng, p if slot == "p" else p2), "name"
        elif slot == "email":
            value, kind, who = email(rng, p), "email", p["id"]
        elif slot == "handle":
            value, kind, who = handle(rng, p), "handle", p["id"]
        elif slot == "town":
            value, kind = rng.choice(TOWNS), "place"
        else:
            value = WRITERS[slot](rng)
            kind = "postcode" if slot == "partial" else ("place" if slot in PLACE_SLOTS else slot)
        directness = "direct" if kind in DIRECT else "quasi"
        # a name written with its possessive: the name alone is the identifier
        truth.append((len(text), len(text) + len(value), kind, directness, who))
        text += value
        pos = m.end()
    return text + template[pos:]


def generate(seed: int = 2024, n_docs: int = 300):
    rng = random.Random(seed)
    people = make_people(rng)
    docs = []
    for i in range(n_docs):
        genre = rng.choice(tuple(POOLS))
        text, truth = "", []
        for j in range(rng.randint(5, 10)):
            if j:
                text += rng.choice(["\n\n", " ", " ", "\n"]) if genre != "interview" else "\n"
            if rng.random() < 0.25:
                text += rng.choice(DISTRACTORS)
            else:
                text = _fill(rng, rng.choice(POOLS[genre]), people, text, truth)
        docs.append({"id": f"E{i + 1:04d}", "genre": genre, "text": text + "\n", "truth": truth})
    return people, docs
