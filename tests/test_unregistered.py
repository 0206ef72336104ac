"""People nobody registered, namesakes and one-letter aliases (issue 12, points 7 and 8).

Every person and place here is fictional; the invented names are not on fieldkit's lists.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldkit.privacy.keystore import KeyStore, KeyStoreError, Person
from fieldkit.privacy.names import AMBIGUOUS_HINT, find_names, find_people
from fieldkit.privacy.unregistered import find_unregistered, learn, suggestions

DANA = Person("P03", ("Dana Okafor", "Dee"))


def names_in(text, people=(), **kwargs):
    return [(text[s.start:s.end], s.kind, s.hint, s.detector, s.key)
            for s in find_people(text, people, **kwargs)]


def written(text, people=(), **kwargs):
    return [text[s.start:s.end] for s in find_people(text, people, **kwargs)]


# --------------------------------------------------------------------------- unregistered names


def test_full_names_first_names_titles_cases_and_possessives():
    text = ("Darren Smith arrived late; darren was upset and DARREN SMITH signed. Siobhan's mum rang. "
            "Mr Hendry and Dr. A. Patel joined; PC Hollins left. Kayleigh said no.")
    assert written(text) == ["Darren Smith", "darren", "DARREN SMITH", "Siobhan", "Mr Hendry", "Dr. A. Patel",
                             "PC Hollins", "Kayleigh"]
    keys = {w: k for w, _kind, _h, _d, k in names_in(text)}
    assert keys["darren"] == keys["DARREN SMITH"] == "darren smith"  # one person, one placeholder


def test_invented_names_by_pairs_verbs_and_the_rest_of_the_text():
    text = "Tobiah Quennell rang at ten. Later Quennell said the letter never came. We asked Quennell again."
    found = names_in(text)
    assert [w for w, *_ in found] == ["Tobiah Quennell", "Quennell", "Quennell"]
    assert {k for *_, k in found} == {"tobiah quennell"}
    # a lone invented word without any evidence is not taken as a name
    assert written("The Ashgrove estate was quiet.") == []
    assert written("Afterwards Ysolde mentioned the rota.") == ["Ysolde"]  # a verb of speech follows


PROSE = """Fieldnote, inspection week 3, Monday 14 March.

The Senior Probation Officer chaired the allocation meeting in the PDU office. The Probation
Officer and the Approved Premises manager joined by Teams; HM Inspectorate of Probation staff
observed. On Tuesday the Lead Inspector and an Expert by Experience reviewed OASys assessments,
MAPPA minutes and the Sentence Plan. Christmas rotas, Universal Credit and the Job Centre came up.
Later the Head of Service said Quality Assurance would follow in April. In June, the Crown Court
listed six cases. The EbE group met at the Community Centre; the SPO and PSO took notes. Approved
premises staff, the Regional Probation Director and the Victim Liaison Unit agreed the actions.
"""


def test_ordinary_probation_prose_has_no_names():
    assert written(PROSE) == []


def test_lists_and_data_files_are_shipped_with_their_provenance():
    from pathlib import Path

    import fieldkit.privacy.unregistered as unreg

    data = Path(unreg.__file__).parent / "data"
    readme = (data / "README.md").read_text()
    for name in ("first_names.txt", "surnames.txt", "english_words.txt.gz", "proper_nouns.txt.gz",
                 "fieldwork_words.txt"):
        assert (data / name).is_file() and name in readme
    assert "Open Government Licence" in readme and "public domain" in readme
    assert "Kevin Atkinson" in (data / "SCOWL-COPYRIGHT.txt").read_text()


# --------------------------------------------------------------------------- namesakes


def test_a_registered_surname_next_to_an_unregistered_first_name_is_another_person():
    found = names_in("Met Dana Okafor and Jane Okafor. Later Okafor said no.", (DANA,))
    assert [(w, kind, hint, det) for w, kind, hint, det, _k in found] == [
        ("Dana Okafor", "name", "P03", "names"),
        ("Jane Okafor", "person", "", "names.namesake"),  # never P03
        ("Okafor", "name", AMBIGUOUS_HINT, "names.namesake"),  # which Okafor? neutral
    ]
    # on its own, with no namesake in the text, the surname is Dana's
    assert names_in("Okafor said no.", (DANA,))[0][2] == "P03"


def test_a_registered_first_name_before_another_surname_and_double_barrelled_names():
    assert names_in("Then Dana Mensah arrived.", (DANA,))[0][:4] == ("Dana Mensah", "person", "", "names.namesake")
    found = names_in("Jago Ormerod-Okafor and Mr Okafor-Price came.", (DANA,))
    assert [(w, kind) for w, kind, *_ in found] == [("Jago Ormerod-Okafor", "person"), ("Mr Okafor-Price", "person")]
    assert all(hint != "P03" for _w, _k, hint, *_ in found)


def test_a_part_shared_by_two_registered_people_is_neutral():
    people = (DANA, Person("P04", ("Sam Okafor",)))
    assert [h for _w, _k, h, *_ in names_in("Okafor was late; Sam Okafor was not.", people)] == [AMBIGUOUS_HINT, "P04"]


def test_the_rest_of_the_project_teaches_names_and_namesakes():
    knowledge = learn(["Caspian Quennell joined the group.", "Jane Okafor is Dana's cousin."], (DANA,))
    assert written("Afterwards we met caspian and Caspian at the hub.", knowledge=knowledge) == ["caspian", "Caspian"]
    assert names_in("Caspian was late.", knowledge=knowledge)[0][4] == "caspian quennell"
    # Okafor alone, in a note where no Jane appears, is no longer simply Dana's
    assert names_in("Okafor said no.", (DANA,), knowledge=knowledge)[0][2] == AMBIGUOUS_HINT


def test_keys_check_suggestions_are_what_the_anonymiser_would_flag():
    found = dict(suggestions(["Met Dana Okafor and Jane Okafor.", "Tobiah Quennell rang."], (DANA,)))
    assert found == {"Jane Okafor": 1, "Tobiah Quennell": 1}


# --------------------------------------------------------------------------- one-letter aliases


def test_one_letter_aliases_are_matched_in_capitals_or_refused(tmp_path):
    people = (Person("P05", ("Jay Brannock", "J")),)
    assert [(t, h) for t, _k, h, *_ in names_in("J said hi; j said hi; J. Brannock; JJ", people)] == [
        ("J", "P05"), ("J. Brannock", "P05")]
    with KeyStore.create(tmp_path / "k.keys") as store:
        store.add("P05", "Jay Brannock", ["J"])
        for bad in ("I", "A", "7"):
            with pytest.raises(KeyStoreError, match=repr(bad)):
                store.add_alias("P05", bad)
        with pytest.raises(KeyStoreError, match="everyday word"):
            store.add("P06", "Ivy Tamworth", ["I"])


# --------------------------------------------------------------------------- properties

invented = st.text(string.ascii_lowercase, min_size=4, max_size=9).map(lambda w: "Zq" + w)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300), st.lists(st.sampled_from([DANA, Person("P04", ("Sam Okafor", "Sammy"))]),
                                        max_size=2, unique=True))
def test_spans_are_sorted_disjoint_and_inside_any_text(text, people):
    spans = find_people(text, people)
    last = 0
    for span in spans:
        assert last <= span.start < span.end <= len(text)
        last = span.end
    assert find_people(text, people) == spans  # deterministic
    # every span begins and ends on a word boundary: never half a word
    for span in spans:
        assert span.start == 0 or not text[span.start - 1].isalnum(), (text, span)
        assert span.end == len(text) or not text[span.end].isalpha() or text[span.end - 1] == "-", (text, span)


@settings(max_examples=100, deadline=None)
@given(invented, invented, st.sampled_from(["{n} said the plan was fine.", "We met {n} at the hub.",
                                            "Notes: {n}'s licence ends soon.", "OC: {n} looked tired today."]))
def test_a_full_invented_name_never_survives(first, last, template):
    name = f"{first} {last.capitalize()}"
    text = template.format(n=name)
    covered = {i for s in find_people(text, ()) for i in range(s.start, s.end)}
    start = text.index(name)
    assert all(i in covered for i in range(start, start + len(name))), text


def test_registered_matching_is_unchanged_without_unregistered_rules():
    text = "Met Dana Okafor, then Tobiah Quennell."
    assert [text[s.start:s.end] for s in find_names(text, (DANA,))] == ["Dana Okafor"]
    assert written(text, (DANA,), unregistered=False) == ["Dana Okafor"]
