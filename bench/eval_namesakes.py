"""Hand-written evaluation notes about namesakes, families and nicknames (held out from tuning).

Written for issue 12 (points 7 and 10) once the namesake rules were in place, without
reading fieldkit's word lists, patterns or context words; nothing is imported from fieldkit.
Every person is fictional. It is for scoring, not tuning: the one change made after its
first run fixed a general gap it exposed (a surname that several registered people share,
next to an unregistered first name, left that first name in clear: ``Kyle Tranter``), and
no note was changed to suit a result.

What it stresses, unlike ``eval_corpus.py`` (one template per sentence, people drawn at
random): a family sharing a surname (the Tranters), two people with the same first name
(two Kyles, two Roses), a nickname two people are known by (``Jo``), first names that are
everyday words (Will, Rose, Hope, Mark, Grace), names at the start of a sentence, in lower
case, with possessives, titles and accents, and notes that use the same words as ordinary
words (``will``, ``hope``, ``mark``, ``grace period``).

A mention is written ``[as written|P01]``; ``load()`` returns ``(people, docs)`` in the
shape of ``eval_corpus.generate`` (people in an order where every other one, from the
first, is registered in the half-registered set-up).
"""

from __future__ import annotations

import re

PEOPLE = [
    # (id, first, surname, aliases)
    ("P01", "Joanne", "Tranter", ["Jo"]),
    ("P02", "Kyle", "Ondrejka", []),
    ("P03", "Rose", "Bellingham", []),
    ("P04", "Kyle", "Tranter", ["Kyz"]),
    ("P05", "Will", "Haddow", []),
    ("P06", "Marguerite", "Fennimore", ["Maggie"]),
    ("P07", "Desmond", "Okonjo-Reid", ["Dez"]),
    ("P08", "Hope", "Stanforth", []),
    ("P09", "Priyanka", "Venkataraman", ["Pree"]),
    ("P10", "Aled", "Rhydderch", []),
    ("P11", "Ruby", "Tranter", []),
    ("P12", "Grace", "Oyelaran-Pike", []),
    ("P13", "Mark", "Sissons", []),
    ("P14", "Siân", "Prothero", []),
    ("P15", "Lewis", "Cattermole", []),
    ("P16", "Nell", "Cattermole", []),
    ("P17", "Bryony", "Askwith", ["Bry"]),
    ("P18", "Rose", "Kilbride", []),
    ("P19", "Femi", "Adeyinka-Cole", []),
    ("P20", "Josephine", "Larkworthy", ["Jo"]),
]

NOTES = [
    # the Tranter family: mother, son and daughter
    "Home visit with [Joanne Tranter|P01]. Her son [Kyle|P04] was in the kitchen and [Ruby|P11] came "
    "in from school halfway through. [Joanne|P01] did most of the talking.",
    "[Mrs Tranter|P01] rang the office to move Thursday's appointment; she said [Kyle|P04] would bring "
    "the form himself.",
    "[Kyle Tranter|P04] arrived on time. He thinks his mum worries too much. [Kyz|P04] (his own word "
    "for himself) wants to go back to college in September.",
    "[Ruby Tranter|P11] is fifteen and will not talk to anyone from probation, according to [Joanne|P01].",
    "[Tranter|P04] was breached in March, the case manager told me, although the recall did not go ahead.",
    # two Kyles
    "[Kyle Ondrejka|P02] and [Kyle Tranter|P04] were both in the waiting room; they do not know each other.",
    "[Mr Ondrejka|P02] asked for a female interpreter next time. [Ondrejka|P02] said the last one rushed him.",
    "After the group, [kyle|P02] stayed behind to stack the chairs.",
    # two Roses, Rose as a word
    "[Rose Bellingham|P03] runs the women's group on Wednesdays. A rose bush by the door has finally flowered.",
    "[Rose Kilbride|P18] is new to the team and shadowed [Bellingham|P03] for the day.",
    "Spoke to [Rose|P18] about the induction pack; she hopes to run the session herself next month.",
    "[Ms Kilbride|P18]'s caseload is already forty, which the manager said was too many.",
    # everyday-word first names
    "[Will Haddow|P05] said he will not sign anything until his solicitor has read it.",
    "We will see [Will|P05] again on Monday. He hopes the hostel place comes through.",
    "[Hope Stanforth|P08] chaired the panel. There is hope, she said, if the housing officer calls back.",
    "[Mark Sissons|P13] checked each file and made a mark against the late ones.",
    "[Mark|P13] was off sick, so the audit moved to the following week.",
    "[Grace Oyelaran-Pike|P12] gave the family a grace period of two weeks on the rent arrears.",
    "[Ms Oyelaran-Pike|P12] is the only housing officer who answers her phone, several people said.",
    # nicknames, one of them shared
    "[Marguerite Fennimore|P06] was reviewed today. Everyone at the centre calls her [Maggie|P06].",
    "[Maggie|P06]'s daughter has been in touch again about contact arrangements.",
    "[Dez|P07] and the support worker went to the job fair together; [Desmond|P07] came back with two leads.",
    "[Mr Okonjo-Reid|P07] is on a community order with an unpaid work requirement.",
    "[Pree|P09] ran the reflective practice session; [Priyanka Venkataraman|P09] has done it for three years.",
    "[Bryony Askwith|P17] missed supervision. [Bry|P17] texted later to say the bus never came.",
    "Duty officer today was [Josephine Larkworthy|P20]; [Jo|P20] had twelve people through reception by noon.",
    "[Jo|P20] from reception walked the new starter round the building.",
    "[Jo|P01] phoned back about [Kyle|P04]'s college form; [Joanne Tranter|P01] sounded tired.",
    # Welsh names, accents, lower case, sentence starts
    "[Aled Rhydderch|P10] is the Welsh-language practitioner for the area. [Aled|P10] interprets when asked.",
    "[Siân Prothero|P14] joined by phone. [Sian|P14] (written without the accent on the rota) leads on "
    "safeguarding.",
    "[Prothero|P14] said the referral went in on Friday.",
    "notes in a hurry: [aled|P10] covering, [sian|P14] at court, [femi|P19] on leave",
    # a brother and sister
    "[Lewis Cattermole|P15] and his sister [Nell Cattermole|P16] both attend the same unpaid work site.",
    "[Nell|P16] said [Lewis|P15] is drinking again; [Mr Cattermole|P15] denied it when asked.",
    "[Miss Cattermole|P16] wants a different placement from her brother.",
    "[Femi Adeyinka-Cole|P19] started as a probation services officer in June.",
    "[Femi|P19]'s first home visit was cancelled because of the weather.",
    # distractors: no person named
    "The Senior Probation Officer said the hostel will review every placement in May.",
    "Grace periods for fines were discussed; the court rarely grants more than one.",
    "Hope House and the Rose Centre both closed their waiting lists this month.",
    "We marked the case files in green and will check them on Tuesday.",
    "Kitchen staff will bake for the Christmas open day at the Approved Premises.",
]

_MENTION = re.compile(r"\[([^\[\]|]+)\|(P\d\d)\]")


def load():
    """``(people, docs)`` in the shape of ``eval_corpus.generate``: each doc ``{"id", "text",
    "truth"}``, ``truth`` holding ``(start, end, "name", "direct", person id)``."""
    people = [{"id": pid, "first": first, "surname": surname, "aliases": list(aliases), "rare": False}
              for pid, first, surname, aliases in PEOPLE]
    docs = []
    for index, note in enumerate(NOTES):
        text, truth, pos = "", [], 0
        for m in _MENTION.finditer(note):
            text += note[pos:m.start()]
            truth.append((len(text), len(text) + len(m.group(1)), "name", "direct", m.group(2)))
            text += m.group(1)
            pos = m.end()
        docs.append({"id": f"N{index + 1:03d}", "text": text + note[pos:] + "\n", "truth": truth})
    return people, docs
