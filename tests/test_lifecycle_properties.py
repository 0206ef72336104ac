"""Round trips of the lifecycle's text handling, against code and tools it does not share."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldkit.exchange.transcripts import Turn, transcript_body
from fieldkit.lifecycle.deposit import MANIFEST_FILE, verify, write_checksums
from fieldkit.lifecycle.passages import turns
from fieldkit.lifecycle.retention import parse_rule

CODES = st.from_regex(r"[A-Z][A-Za-z0-9]{0,5}", fullmatch=True)
WORDS = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1,
                max_size=40).map(lambda s: " ".join(s.split())).filter(bool)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(CODES, WORDS, st.one_of(st.none(), st.floats(0, 36000, allow_nan=False))),
                min_size=1, max_size=8))
def test_turns_read_back_what_the_transcript_importer_writes(items):
    written = [Turn(code, text, start) for code, text, start in items]
    body = transcript_body(written, {code.casefold(): code for code, _t, _s in items})
    found = turns(body)
    assert [(label, body[start:end]) for label, start, end in found] == [(code, text) for code, text, _s in items]


@given(st.integers(0, 999), st.sampled_from(["day", "days", "week", "weeks", "month", "months", "year", "years"]),
       st.from_regex(r"[a-z][a-z_\-]{0,15}", fullmatch=True), st.sampled_from([" ", "  ", "\t"]))
def test_a_rule_reads_back_its_parts(amount, unit, anchor, gap):
    rule = parse_rule(f"{amount}{gap}{unit} after{gap}{anchor}")
    assert (rule.amount, rule.unit.rstrip("s"), rule.anchor) == (amount, unit.rstrip("s"), anchor)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z]{1,8}(/[a-z]{1,8})?\.(csv|txt)", fullmatch=True), st.binary(max_size=200),
                       min_size=1, max_size=6), st.data())
def test_the_manifest_verifies_and_catches_any_change(tmp_path_factory, files, data):
    folder = tmp_path_factory.mktemp("deposit")
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    write_checksums(folder)
    assert verify(folder) == []
    for line in (folder / MANIFEST_FILE).read_text().splitlines():  # the sha256sum format, checked by hand
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    written = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST_FILE)
    victim = data.draw(st.sampled_from(written))
    (folder / victim).write_bytes((folder / victim).read_bytes() + b"x")
    assert verify(folder) == [victim]


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="needs coreutils sha256sum")
def test_sha256sum_reads_the_manifest(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notes.csv").write_text("id,text\n1,hello\n")
    (tmp_path / "README.txt").write_text("data list\n")
    write_checksums(tmp_path)
    done = subprocess.run(["sha256sum", "-c", MANIFEST_FILE], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
