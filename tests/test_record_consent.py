"""``record_consent`` decides what consent without scopes means, for scripts and the CLI alike."""

import json

import pytest

from fieldkit.core.errors import InvalidInput
from fieldkit.core.records import CONSENT_SCOPES
from fieldkit.fieldwork.registers import add_participant
from fieldkit.privacy.consent import current_consent, record_consent


@pytest.fixture
def person(project):
    add_participant(project, "P03", role="expert_by_experience")
    return project


def test_given_without_scopes_means_every_scope(person):
    event = record_consent(person, "P03", "given")
    assert event.scopes == CONSENT_SCOPES
    assert current_consent(person, "P03").scopes == CONSENT_SCOPES


def test_a_caller_can_choose_the_default(person):
    event = record_consent(person, "P03", "given", default_scopes=("observation",))
    assert event.scopes == ("observation",)


def test_explicit_scopes_win_and_an_empty_list_is_empty(person):
    assert record_consent(person, "P03", "given", ["quotes", "quotes"]).scopes == ("quotes",)
    assert record_consent(person, "P03", "given", []).scopes == ()


def test_limited_must_name_scopes_and_withdrawn_has_none(person):
    with pytest.raises(InvalidInput, match="limited consent must name its scopes"):
        record_consent(person, "P03", "limited")
    with pytest.raises(InvalidInput, match="withdrawn consent has no scopes"):
        record_consent(person, "P03", "withdrawn", ["quotes"])
    assert record_consent(person, "P03", "withdrawn").scopes == ()
    with pytest.raises(InvalidInput, match="consent status must be one of"):
        record_consent(person, "P03", "maybe")
    assert person.count("consent") == 1


def test_the_cli_means_the_same(run):
    run("participant", "add", "P03")
    run("participant", "add", "P04")
    assert run("participant", "consent", "P03", "given").exit_code == 0
    import fieldkit

    project = fieldkit.open(run.path)
    try:
        record_consent(project, "P04", "given")
    finally:
        project.close()
    rows = {row["code"]: row for row in json.loads(run("participant", "list", "--json").stdout)}
    assert rows["P03"]["scopes"] == rows["P04"]["scopes"] == list(CONSENT_SCOPES)
    result = run("participant", "consent", "P03", "limited")
    assert result.exit_code == 1 and "limited consent must name its scopes" in result.stderr
