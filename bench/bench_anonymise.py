"""Anonymisation speed: the ``names`` detector against one regex per registered name.

Synthetic data only: 2,000 invented people (names built from made-up syllables, each with
one or two nicknames) and about 10 MB of invented fieldnote sentences that mention them by
full name, first name, surname, initial + surname, nickname and possessive.

Rows (``ratio`` = floor_s / ours_s, higher is better; targets: >= 1,000,000 chars/s and a
ratio >= 20):

- ``names detector, one text``: ``fieldkit.plugins.names.find_names`` over the whole corpus,
  automaton build included, against the plain approach of compiling
  ``\\b<name>\\b`` (case-insensitive) for every registered name and alias and running each
  over the text. When that baseline would take more than two minutes it is timed on a 1 MB
  slice (and, if needed, a sample of the names) and scaled linearly; the note says so.
- ``names detector, per note``: the same corpus cut into ~5 KB notes, each passed through the
  registered detector with one ``DetectContext`` (the cached automaton is reused).
- ``all built-in detectors``: if ``fieldkit.privacy.detection`` and the built-in detector plugins are
  importable, ``anonymise_text`` with every built-in detector (names, UK identifiers, places),
  the pseudonym style and a key store's consistent-replacement ``lookup``, per note.

Run ``python bench/bench_anonymise.py`` (``--quick``: 200 people, 200 KB).
"""

from __future__ import annotations

import random
import re
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BASELINE_BUDGET_S = 120.0
SLICE_CHARS = 1_000_000
NOTE_CHARS = 5_000

_FIRST_A = ("Al", "Bren", "Cor", "Da", "El", "Fen", "Gal", "Hol", "Is", "Jor", "Kel", "Lio", "Mar", "Nel",
            "Or", "Per", "Quin", "Ros", "Sel", "Tam", "Ul", "Vin", "Wyl", "Yas", "Zel", "Ot", "Ny", "Ké")
_FIRST_B = ("a", "o", "en", "is", "ine", "ric", "wyn", "ana", "el", "ië", "ath", "ory")
_SUR_A = ("Ash", "Brack", "Cal", "Dun", "Ever", "Fair", "Gren", "Hart", "Ing", "Kes", "Lang", "Mor",
          "Nort", "Ock", "Pem", "Rad", "Stan", "Thorn", "Umber", "Wex", "Yarr", "Zenn", "Quar", "Vell")
_SUR_B = ("", "a", "e", "i", "o", "er", "in")
_SUR_C = ("ley", "ford", "wick", "by", "ham", "ton", "dale", "moor", "field", "worth", "combe", "stead",
          "haugh", "nell", "sby", "rigg")
_NICK = ("y", "o", "ie", "s", "zy", "ster")

_OPENERS = (
    "During the case review", "At the start of the meeting", "In the corridor afterwards", "On the phone",
    "Later that afternoon", "While the lead inspector read the file", "Back in the team room",
    "Before the focus group", "At the feedback session", "Over coffee",
)
_VERBS = (
    "said that", "explained how", "asked whether", "wondered if", "pointed out that", "noted that",
    "told the panel that", "complained that", "suggested that", "agreed that",
)
_CLAUSES = (
    "the sentence plan had not been reviewed since March",
    "the expert by experience was handed the introduction without warning",
    "the practitioner had a caseload far above the workload measure",
    "risk of serious harm screening was done late",
    "the approved premises place fell through at short notice",
    "nobody had asked the person on probation what support would help",
    "the senior probation officer checked her phone throughout",
    "case supervision felt rushed and the notes were thin",
    "the interview room was cold and the chairs uncomfortable",
    "the rating for engagement might be contested by the provider",
    "co-production meant something different to each person in the room",
    "the domestic abuse enquiries were chased twice and still not returned",
)
_ASIDES = (
    "> OC: power visible in who speaks first.", "(check this against the jottings)",
    "#power #voice", "", "", "",
)


def make_people(count: int, seed: int = 7):
    """``count`` invented people, each a ``Person`` with one or two nicknames."""
    from fieldkit.privacy.keystore import Person

    rng = random.Random(seed)
    people = []
    seen = set()
    while len(people) < count:
        first = rng.choice(_FIRST_A) + rng.choice(_FIRST_B)
        surname = rng.choice(_SUR_A) + rng.choice(_SUR_B) + rng.choice(_SUR_C)
        if (first, surname) in seen:
            continue
        seen.add((first, surname))
        nicks = {first[: rng.randint(2, 4)].rstrip("aeiouë") + rng.choice(_NICK)}
        if rng.random() < 0.5:
            nicks.add(surname[:4] + rng.choice(_NICK))
        nicks.discard(first)
        index = len(people) + 1
        people.append(Person(f"P{index:04d}", (f"{first} {surname}", *sorted(nicks))))
    return tuple(people)


def _mention(rng, person) -> str:
    full = person.names[0]
    first, surname = full.split(" ", 1)
    form = rng.random()
    if form < 0.25:
        text = full
    elif form < 0.45:
        text = first
    elif form < 0.6:
        text = surname
    elif form < 0.7:
        text = f"{first[0]}. {surname}"
    elif form < 0.85 and len(person.names) > 1:
        text = rng.choice(person.names[1:])
    else:
        text = first.lower() if rng.random() < 0.5 else full.upper()
    if rng.random() < 0.15:
        text += rng.choice(("'s", "\u2019s"))
    return text


def make_notes(people, total_chars: int, seed: int = 11) -> list[str]:
    """Invented notes of about ``NOTE_CHARS`` characters, ``total_chars`` in all."""
    rng = random.Random(seed)
    notes = []
    made = 0
    while made < total_chars:
        sentences = []
        size = 0
        while size < NOTE_CHARS:
            sentence = (
                f"{rng.choice(_OPENERS)}, {_mention(rng, rng.choice(people))} {rng.choice(_VERBS)} "
                f"{rng.choice(_CLAUSES)}; {_mention(rng, rng.choice(people))} {rng.choice(_VERBS)} "
                f"{rng.choice(_CLAUSES)}. {rng.choice(_ASIDES)}"
            )
            if rng.random() < 0.1:
                sentence += "\n\n"
            sentences.append(sentence)
            size += len(sentence) + 1
        note = " ".join(sentences)
        notes.append(note)
        made += len(note)
    return notes


def _baseline_names(people) -> list[str]:
    return [name for person in people for name in person.names]


def _time_baseline(names, text) -> float:
    started = time.perf_counter()
    for name in names:
        pattern = re.compile(r"\b" + re.escape(name) + r"\b", re.I)
        for _ in pattern.finditer(text):
            pass
    return time.perf_counter() - started


def baseline(people, text: str) -> tuple[float, str]:
    """Seconds for one compiled regex per name over ``text`` (measured or scaled) and a note."""
    names = _baseline_names(people)
    probe_names = names[:20]
    probe_text = text[:SLICE_CHARS]
    probe = _time_baseline(probe_names, probe_text)
    estimate = probe * (len(names) / len(probe_names)) * (len(text) / len(probe_text))
    if estimate <= BASELINE_BUDGET_S:
        return _time_baseline(names, text), f"baseline measured: {len(names)} regexes over {len(text):,} chars"
    sample = names
    if probe * (len(names) / len(probe_names)) > BASELINE_BUDGET_S:
        step = max(1, int(len(names) * probe / len(probe_names) / BASELINE_BUDGET_S) + 1)
        sample = names[::step]
    measured = _time_baseline(sample, probe_text)
    scaled = measured * (len(names) / len(sample)) * (len(text) / len(probe_text))
    return scaled, (
        f"baseline timed with {len(sample)} of {len(names)} regexes on a {len(probe_text):,}-char slice "
        f"({measured:.1f}s) and scaled linearly to {len(names)} regexes x {len(text):,} chars"
    )


def _row(benchmark, n, ours, floor, chars, note):
    return {
        "benchmark": benchmark,
        "n": n,
        "ours_s": round(ours, 3),
        "floor_s": round(floor, 3),
        "ratio": round(floor / ours, 1) if ours else float("inf"),
        "note": f"chars/s {chars / ours:,.0f} (target >= 1,000,000; ratio target >= 20); {note}",
    }


def run(quick: bool = False) -> list[dict]:
    from fieldkit.plugins import names as names_plugin

    n_people = 200 if quick else 2_000
    total = 200_000 if quick else 10_000_000
    people = make_people(n_people)
    notes = make_notes(people, total)
    text = "\n\n".join(notes)
    chars = len(text)
    rows = []

    floor, floor_note = baseline(people, text)

    names_plugin.clear_cache()
    started = time.perf_counter()
    spans = names_plugin.find_names(text, people)
    ours = time.perf_counter() - started
    started = time.perf_counter()
    names_plugin.clear_cache()
    names_plugin.matcher_for(people)
    build = time.perf_counter() - started
    rows.append(_row(
        f"names detector, one text ({n_people:,} people, {len(spans):,} names found)", chars, ours, floor, chars,
        f"automaton build {build:.2f}s included; {floor_note}",
    ))

    context = _context(people)
    detector = _registered(names_plugin)["names"]
    started = time.perf_counter()
    found = 0
    for note in notes:
        found += len(list(detector.detect(note, context)))
    ours_notes = time.perf_counter() - started
    note_chars = sum(map(len, notes))
    rows.append(_row(
        f"names detector, per note ({len(notes):,} notes, {found:,} names found)", note_chars, ours_notes,
        floor * note_chars / chars, note_chars, "same baseline, scaled to the notes' characters",
    ))

    full = _all_detectors(people, notes, context)
    if full is not None:
        ours_all, count, detector_names = full
        rows.append(_row(
            f"all built-in detectors via anonymise_text ({len(detector_names)} detectors, {count:,} spans)",
            note_chars, ours_all, floor * note_chars / chars, note_chars,
            "per note, pseudonym style, key store lookup; floor is the names-only regex baseline",
        ))
    return rows


def _context(people):
    try:
        from fieldkit.privacy.detection import DetectContext
    except ImportError:
        from types import SimpleNamespace

        return SimpleNamespace(people=people, places=(), settings={})
    return DetectContext(people=people, places=(), settings={})


def _registered(module) -> dict:
    found = []
    module.register_detectors(register=found.append)
    return {d.name: d for d in found}


def _all_detectors(people, notes, context):
    try:
        from fieldkit.privacy.detection import anonymise_text
        from fieldkit.privacy.keystore import KeyStore
        from fieldkit.plugins import names as names_plugin
        from fieldkit.plugins import uk_identifiers
    except ImportError:
        return None
    detectors = {}
    for module in (names_plugin, uk_identifiers):
        detectors.update(_registered(module))
    try:
        from fieldkit.plugins import places

        detectors.update(_registered(places))
    except ImportError:
        pass
    order = ["names", *sorted(n for n in detectors if n != "names")]
    with tempfile.TemporaryDirectory() as tmp:
        with KeyStore.create(Path(tmp) / "keys.db") as store:
            started = time.perf_counter()
            count = 0
            for note in notes:
                result = anonymise_text(note, detectors, context, order=order,
                                        styles={"default": "pseudonym"}, lookup=store.lookup)
                count += len(result.edits)
            elapsed = time.perf_counter() - started
    return elapsed, count, order


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(row)
