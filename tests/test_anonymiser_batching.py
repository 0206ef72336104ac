"""The quicker paths an export takes through the anonymiser give what the slower ones gave.

* ``Anonymiser.redaction`` of a record without review decisions skips the decision digests;
  the oracle is the path through ``spans`` (digest and status of every span).
* ``remap_codings`` keeps a coding that no edit moved as it is; the oracle evolves every one.
* ``Anonymiser.log_batch`` writes a page's log in one transaction: the same rows as a write
  per record, written when the block ends.
* ``KeyStore.grouped`` commits the new replacements of a block together, or none of them.
"""

from __future__ import annotations

import sqlite3

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldkit.core.records import Coding, Observation
from fieldkit.core.remap import map_span
from fieldkit.privacy import anonymiser as an
from fieldkit.privacy.detection import apply_spans
from test_export_identical import register_people

PIECES = (
    "Orla Vantreece", "Orla", "Toby", "Tobiah Merrow's", "Ines Quarrendon", "Caspian Quenby", "Mr Quenby",
    "QQ 12 34 56 C", "LS1 4AP", "07700 900123", "A1234BC", "12/03/1987", "HMP Fernhollow", "aged 34",
    "Brackwater caseload", "the", "review", "met", "asked", "café", "naïve", "😀", "“fair”", "and",
    "probation", "officer", ".", ",", "\n\n", "P03:", "inspector",
)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    import fieldkit

    folder = tmp_path_factory.mktemp("batching")
    project = fieldkit.init(folder / "study")
    register_people(project, folder / "study.keys")
    an.add_rule(project, "Brackwater caseload", "place")
    decided = project.add(Observation(body="Ines Quarrendon asked Orla Vantreece about the review.", stage="fieldnote"))
    rows = an.preview(project, decided.id)[0]
    an.decide(project, decided.id, rows[0]["number"], "reject")
    anonymiser = an.anonymiser(project, log=False)
    yield project, anonymiser, decided
    anonymiser.close()
    project.close()


def old_redaction(anonymiser, record):
    """The redaction as it was made before: every span through ``spans`` (digest, status)."""
    kept = [span for span, _digest, status in anonymiser.spans(record.body, record.id, anonymiser.evidence(record)) if status != "rejected"]
    return apply_spans(record.body, kept, anonymiser._replace, hash_key=anonymiser._secret)


texts = st.lists(st.sampled_from(PIECES), min_size=1, max_size=25).map(lambda words: "Note: " + " ".join(words))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=texts)
def test_redaction_without_decisions_is_the_redaction_through_spans(study, text):
    _project, anonymiser, _decided = study
    record = Observation(body=text, stage="fieldnote")
    assert anonymiser.redaction(record) == old_redaction(anonymiser, record)


def test_a_record_with_decisions_still_goes_through_them(study):
    _project, anonymiser, decided = study
    redaction = anonymiser.redaction(decided)
    assert redaction == old_redaction(anonymiser, decided)
    assert redaction.text.startswith("Ines Quarrendon asked [P03]")  # the rejected span stays


def old_remap(edits, codings):
    """The remap as it was: every coding with a position, once there are edits, evolved."""
    def moved(coding):
        mapped = map_span(edits, coding.start, coding.end)
        status = "review" if mapped.status == "lost" else coding.status
        return attrs.evolve(coding, start=mapped.start, end=mapped.end, status=status)

    return tuple(coding if coding.start is None or not edits else moved(coding) for coding in codings)


@st.composite
def edits_and_codings(draw):
    length = draw(st.integers(1, 200))
    cuts = sorted(draw(st.lists(st.integers(0, length), max_size=12, unique=True)))
    edits, shift = [], 0
    for start, end in zip(cuts[::2], cuts[1::2]):
        new_length = draw(st.integers(0, 12))
        edits.append((start, end, start + shift, start + shift + new_length))
        shift += new_length - (end - start)
    codings = []
    for _ in range(draw(st.integers(0, 8))):
        if draw(st.booleans()):
            start = draw(st.integers(0, length))
            end = draw(st.integers(start, length))
        else:
            start = end = None
        codings.append(Coding(record_id="r", code_id="c", start=start, end=end, coder="a",
                              status=draw(st.sampled_from(("ok", "review")))))
    return edits, codings


@settings(max_examples=300, deadline=None)
@given(case=edits_and_codings())
def test_remap_codings_is_the_old_remap(case):
    edits, codings = case
    assert an.remap_codings(edits, codings) == old_remap(edits, codings)


def _log_rows(project):
    return [tuple(row[:-1]) for row in project.conn.execute(
        "select record_id, start, [end], kind, directness, detector, replacement, digest, action, author, at "
        "from anonymisation_log order by id")]


def test_a_log_batch_writes_the_rows_a_record_at_a_time_would(tmp_path):
    import fieldkit

    bodies = ["Orla Vantreece met Toby near LS1 4AP.", "Nobody here.", "Caspian Quenby phoned 07700 900123."]
    found = []
    for batched in (False, True):
        project = fieldkit.init(tmp_path / f"study-{batched}")
        keys = an.create_keystore(project, tmp_path / f"{batched}.keys")
        try:
            keys.add("P03", "Orla Vantreece", aliases=["Orla"])
        finally:
            keys.close()
        records = [project.add(Observation(id=f"01J{i:023d}", body=body, stage="fieldnote"))
                   for i, body in enumerate(bodies)]
        anonymiser = an.anonymiser(project)
        try:
            if batched:
                with anonymiser.log_batch():
                    texts = [anonymiser.apply(record)[0] for record in records]
                    assert _log_rows(project) == []  # nothing written until the block ends
            else:
                texts = [anonymiser.apply(record)[0] for record in records]
        finally:
            anonymiser.close()
        # each project has its own digest key, so the digests differ; all else is compared
        found.append((texts, [row[:7] + row[8:] for row in _log_rows(project)]))
        project.close()
    assert found[0] == found[1]
    assert len(found[1][1]) >= 5


def test_grouped_commits_new_replacements_together_or_not_at_all(tmp_path):
    from fieldkit.privacy.keystore import KeyStore

    path = tmp_path / "g.keys"
    KeyStore.create(path).close()
    keys = KeyStore.open(path)
    other = sqlite3.connect(path)
    count = lambda: other.execute("select count(*) from replacements").fetchone()[0]  # noqa: E731
    try:
        with keys.grouped():
            assert not keys._conn.in_transaction  # no write yet: no transaction
            first = keys.replacement_for("postcode", "LS1 4AP")
            second = keys.replacement_for("postcode", "LS2 7QW")
            assert count() == 0  # not committed until the group ends
        assert count() == 2 and (first, second) == ("[POSTCODE-1]", "[POSTCODE-2]")
        with pytest.raises(RuntimeError):
            with keys.grouped():
                keys.replacement_for("postcode", "LS3 1AA")
                raise RuntimeError("the export failed")
        assert count() == 2 and not keys._conn.in_transaction
        # the rolled-back replacement is not remembered: its number goes to the next new one
        assert keys.replacement_for("postcode", "LS9 9ZZ") == "[POSTCODE-3]"
        assert keys.replacement_for("postcode", "LS3 1AA") == "[POSTCODE-4]"
        assert keys.replacement_for("postcode", "LS1 4AP") == "[POSTCODE-1]"
    finally:
        other.close()
        keys.close()


def test_an_export_stopped_early_keeps_the_log_of_what_it_handed_out(tmp_path):
    import gc
    import sys

    import fieldkit
    from fieldkit.exchange.exporting import ExportOptions, ExportReport, export_items

    project = fieldkit.init(tmp_path / "study")
    register_people(project, tmp_path / "study.keys")
    for i in range(3):
        project.add(Observation(body=f"Orla Vantreece met Tobiah Merrow, visit {i}.", stage="fieldnote"))
    items = export_items(project, ExportOptions(), ExportReport(exporter="test", dest="-"))
    first = next(items)
    assert first.text.startswith("[P03] met [P07]")
    assert _log_rows(project) == []  # held until the page ends
    items.close()  # the exporter stops after one record
    assert {row[0] for row in _log_rows(project)} == {first.record.id}
    # a generator finalised after its project closed leaves quietly (nothing can be written)
    items = export_items(project, ExportOptions(), ExportReport(exporter="test", dest="-"))
    next(items)
    project.close()
    errors = []
    hook, sys.unraisablehook = sys.unraisablehook, errors.append
    try:
        del items
        gc.collect()
    finally:
        sys.unraisablehook = hook
    assert errors == []
