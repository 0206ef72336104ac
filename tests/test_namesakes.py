"""Namesakes: a shared or unattributed name never gets one person's pseudonym or number (issue 12, pt 7).

Every person here is fictional; the invented names are on none of fieldkit's lists.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldkit.fieldwork.capture import note
from fieldkit.fieldwork.registers import add_encounter, add_participant
from fieldkit.privacy import anonymiser as an, review
from fieldkit.privacy.keystore import Person
from fieldkit.privacy.names import AMBIGUOUS_HINT, NAMESAKE, find_people
from fieldkit.privacy.unregistered import learn

TOBIAH = Person("P39", ("Tobiah Quennell", "Becks"))


def spans(text, people=(), **kwargs):
    return [(text[s.start:s.end], s.kind, s.hint, s.detector, s.key) for s in find_people(text, people, **kwargs)]


# --------------------------------------------------------------------------- one-word aliases


def test_a_nickname_alone_gets_its_pseudonym_only_when_something_ties_it_to_its_owner():
    alone = "In the corridor Becks told me the appointments keep moving."
    # nothing in the note says which Becks: neutral, listed for review
    assert spans(alone, (TOBIAH,), evidence=())[0][:4] == ("Becks", "name", AMBIGUOUS_HINT, NAMESAKE)
    # the record names its owner (a mention, a link, the encounter)
    assert spans(alone, (TOBIAH,), evidence=("P39",))[0][2] == "P39"
    # the note names its owner in full, or mentions them
    assert [h for _w, _k, h, *_ in spans("Tobiah Quennell came. " + alone, (TOBIAH,), evidence=())] == ["P39", "P39"]
    assert spans("@P39 came. " + alone, (TOBIAH,), evidence=())[-1][2] == "P39"
    # a first name or surname alone is not a nickname: still the person's
    assert spans("Quennell said no.", (TOBIAH,), evidence=())[0][2] == "P39"
    # capture (no evidence given) keeps the pseudonym, as before
    assert spans(alone, (TOBIAH,))[0][2] == "P39"


def test_the_anonymiser_takes_the_evidence_from_the_record(project, tmp_path):
    store = an.create_keystore(project, tmp_path / "keys" / "k.keys")
    store.add("P39", "Tobiah Quennell", ["Becks"])
    store.close()
    add_participant(project, "P39")
    encounter = add_encounter(project, "interview", participants=["P39"])
    theirs = note(project, "Becks was late again.", encounter=encounter.id)
    stray = note(project, "Becks was late again.")
    mentioned = note(project, "@P39 arrived. Becks was late again.")
    anonymiser = an.anonymiser(project, log=False)
    try:
        assert anonymiser.apply(theirs, ())[0] == "[P39] was late again."
        assert anonymiser.apply(stray, ())[0] == "[NAME] was late again."
        assert anonymiser.apply(mentioned, ())[0].endswith("[P39] was late again.")
    finally:
        anonymiser.close()
    # the neutral one waits for review, saying why; the attributed one does not
    waiting = {c.record_id: c for c in review.candidates(project, [theirs.id, stray.id]) if c.claimed}
    assert waiting[stray.id].needs_review and "nickname" in waiting[stray.id].reason
    assert not waiting[theirs.id].needs_review


def test_registering_a_nickname_in_review_attributes_that_occurrence_only(project, tmp_path):
    store = an.create_keystore(project, tmp_path / "keys" / "k.keys")
    store.add("P39", "Tobiah Quennell", ["Becks"])
    store.close()
    first = note(project, "Becks was late again.")
    other = note(project, "Becks was late again.")
    (becks,) = [c for c in review.candidates(project, [first.id]) if c.claimed]
    assert becks.replacement == "[NAME]" and becks.needs_review
    review.decide(project, becks, "register", pseudonym="P39")
    assert an.anonymise_record(project, first.id) == "[P39] was late again."
    assert an.anonymise_record(project, other.id) == "[NAME] was late again."  # another Becks, maybe
    assert not [c for c in review.candidates(project, [first.id]) if c.needs_review]


# --------------------------------------------------------------------------- registered parts


def test_a_registered_first_name_in_someone_elses_full_name_anywhere_in_the_project_is_neutral():
    ryan = Person("P07", ("Ryan Pellow",))
    knowledge = learn(["Ryan Wood came to the hub on Friday."], (ryan,))
    # "Wood" is an everyday word, so "Ryan Wood" is not next to a name-like word; it is
    # still an unregistered full name containing Ryan's first name
    assert spans("Later Ryan said no.", (ryan,), knowledge=knowledge)[0][2] == AMBIGUOUS_HINT
    # Ryan's own full name elsewhere teaches nothing against him
    knowledge = learn(["Ryan Pellow came to the hub on Friday."], (ryan,))
    assert spans("Later Ryan said no.", (ryan,), knowledge=knowledge)[0][2] == "P07"


# --------------------------------------------------------------------------- numbered placeholders


def test_a_word_of_several_unregistered_full_names_gets_no_number():
    knowledge = learn(["Wrenzo Pellaby chaired.", "Wrenzo Quarnock took notes.", "Mrs Tamzin Athelby came."])
    for text, word in (("Later Wrenzo said no.", "Wrenzo"), ("Later wrenzo said no.", "wrenzo")):
        assert spans(text, knowledge=knowledge)[0][:4] == (word, "name", AMBIGUOUS_HINT, NAMESAKE)
    # a word of exactly one full name shares that name's placeholder
    assert spans("Later Mrs Athelby said no.", knowledge=knowledge)[0][4] == "tamzin athelby"
    assert spans("Later Pellaby said no.", knowledge=knowledge)[0][4] == "wrenzo pellaby"


def test_a_title_and_a_surname_that_is_an_everyday_word_are_told_apart_too():
    knowledge = learn(["Declan Hall chaired.", "Hayley Hall took notes."])
    assert spans("Then Mr Hall said no.", knowledge=knowledge)[0][:3] == ("Mr Hall", "name", AMBIGUOUS_HINT)
    knowledge = learn(["Declan Hall chaired."])
    assert spans("Then Mr Hall said no.", knowledge=knowledge)[0][4] == "declan hall"


def test_a_lower_case_hyphenated_first_name_is_one_name():
    knowledge = learn(["Ebony-Rae Pellaby chaired.", "Ebony-Rae Quarnock took notes."])
    found = spans("we saw ebony-rae today", knowledge=knowledge)
    assert found[0][:3] == ("ebony-rae", "name", AMBIGUOUS_HINT)


# --------------------------------------------------------------------------- property

# few invented words, so that people often share a first name or a surname
firsts = st.sampled_from(["Zqorvel", "Zqbaxwyn", "Zqtrimost", "Zqgandpry"])
surnames = st.sampled_from(["Vorquelle", "Ulkbaxter", "Prywynne", "Zqostram"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(firsts, surnames), min_size=2, max_size=5, unique=True),
       st.lists(st.tuples(st.integers(0, 4), st.sampled_from(["first", "surname", "title", "full", "lower"])),
                min_size=1, max_size=12))
def test_two_different_unregistered_people_never_share_a_placeholder(people, mentions):
    """Oracle: who each mention is (the generator knows). Full names are written in the
    project, then notes mention the same people by parts: no key may stand for two people."""
    project_texts = [f"{f} {s} arrived at the hub." for f, s in people]
    knowledge = learn(project_texts)
    keys: dict = {}
    for index, form in mentions:
        first, surname = people[index % len(people)]
        written = {"first": first, "surname": surname, "title": f"Mx {surname}", "full": f"{first} {surname}",
                   "lower": first.lower()}[form]
        text = f"On Monday {written} said the plan was fine."
        found = [s for s in find_people(text, (), knowledge=knowledge) if s.start <= text.index(written) < s.end]
        assert found, text  # every mention is replaced by something
        span = found[0]
        if span.hint == AMBIGUOUS_HINT:
            continue  # neutral: stands for nobody in particular
        keys.setdefault(span.key, set()).add((first, surname))
    assert all(len(who) == 1 for who in keys.values()), keys


def test_a_surname_several_registered_people_share_next_to_another_first_name_is_a_third_person():
    family = (Person("P01", ("Joanne Tranter",)), Person("P11", ("Ruby Tranter",)))
    found = spans("Kyle Tranter arrived on time.", family, evidence=())
    assert found[0][:4] == ("Kyle Tranter", "person", "", NAMESAKE)  # Kyle is not left in clear
    assert spans("Then Tranter said no.", family)[0][2] == AMBIGUOUS_HINT
    assert [h for _w, _k, h, *_ in spans("Ruby Tranter met Joanne Tranter.", family)] == ["P11", "P01"]


# --------------------------------------------------------------------------- from a fresh shell


def test_a_nickname_in_a_fresh_process(tmp_path):
    """The installed script, as a user runs it: a nickname becomes the pseudonym only in the
    note that is tied to its owner."""
    import json
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).with_name("fieldkit")
    script = script if script.exists() else Path(shutil.which("fieldkit") or script)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("FIELDKIT_")},
           "FIELDKIT_PROJECT": str(tmp_path / "study"), "FIELDKIT_AUTHOR": "tester", "FIELDKIT_LOAD_PLUGINS": "",
           "EDITOR": "false"}

    def ok(*args):
        result = subprocess.run([str(script), *map(str, args)], capture_output=True, text=True, env=env, timeout=120)
        assert result.returncode == 0 and "Traceback" not in result.stderr, (args, result.stderr[-1000:])
        return result.stdout

    ok("init", tmp_path / "study")
    ok("keys", "init", tmp_path / "keys" / "study.keys")
    ok("keys", "add", "P39", "--name", "Tobiah Quennell", "--alias", "Becks")
    tied = json.loads(ok("note", "@P39 came in. Becks was late again.", "--json"))
    stray = json.loads(ok("note", "Becks was late again.", "--json"))
    assert ok("anonymise", tied["id"]).strip().endswith("[P39] was late again.")
    assert ok("anonymise", stray["id"]).strip() == "[NAME] was late again."
