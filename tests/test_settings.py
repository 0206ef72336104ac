"""Project settings are checked by the library against one schema (``fieldkit.core.settings``),
so ``fieldkit config`` and ``project.set_setting`` accept and refuse the same values."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldkit.core import settings as schema
from fieldkit.core.errors import InvalidInput, Refused


@pytest.mark.parametrize("key, value, problem", [
    ("pseudonymise_on_capture", "maybe", "must be true or false"),
    ("pseudonymise_on_capture", 1, "must be true or false"),
    ("timezone", "Mars/Olympus", "unknown time zone"),
    ("timezone", "europe/london", "did you mean 'Europe/London'"),
    ("colour", "blue", "unknown setting 'colour'"),
    ("timezon", "UTC", "did you mean timezone"),
    ("anonymise", {"detector": ["names"]}, "has no key 'detector'"),
    ("anonymise", {"detectors": "names", "styles": {"name": 3}}, "styles must be a mapping of kinds to styles"),
    ("anonymise", ["names"], "must be a mapping"),
    ("author", 42, "must be text"),
])
def test_the_library_refuses_what_the_schema_does_not_allow(project, key, value, problem):
    before = project.setting(key) if key in schema.SETTINGS else None
    with pytest.raises(InvalidInput, match=problem):
        project.set_setting(key, value)
    if key in schema.SETTINGS:
        assert project.setting(key) == before


@pytest.mark.parametrize("key, value", [
    ("pseudonymise_on_capture", True), ("timezone", "America/St_Johns"), ("author", "Sam"),
    ("anonymise", {"detectors": ["names", "places"], "places_file": "/srv/places.txt"}), ("anonymise", None),
    ("keystore_path", "/media/usb/study.keys"), ("name", "Probation inspection study"),
])
def test_the_library_keeps_what_the_schema_allows(project, key, value):
    project.set_setting(key, value)
    assert project.setting(key) == (value if value is not None else schema.SETTINGS[key].default)


@pytest.mark.parametrize("text, value", [("true", True), ("Yes", True), ("on", True), ("1", True),
                                         ("false", False), ("NO", False), ("off", False), ("0", False)])
def test_flags_read_the_usual_words(text, value):
    assert schema.parse("pseudonymise_on_capture", text) is value


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12))
def test_a_flag_is_never_a_guess(text):
    """Property: a flag's text gives True or False only when it is one of the known words."""
    word = text.strip().lower()
    try:
        value = schema.parse("pseudonymise_on_capture", text)
    except InvalidInput:
        assert word not in ("true", "yes", "on", "1", "false", "no", "off", "0")
    else:
        assert value is (word in ("true", "yes", "on", "1")) and word in ("true", "yes", "on", "1", "false", "no",
                                                                           "off", "0")


def test_the_cli_refuses_the_same_values(run):
    for args, problem in ((["pseudonymise_on_capture", "maybe"], "must be true or false"),
                          (["colour", "blue"], "unknown setting 'colour'"),
                          (["timezone", "Mars/Olympus"], "unknown time zone"),
                          (["anonymise", "{not json"], "takes a JSON object"),
                          (["codebook", "{}"], "fieldkit keeps the setting 'codebook' itself")):
        result = run("config", *args)
        assert result.exit_code == 1, (args, result.output)
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1 and problem in errors[0], (args, result.stderr)
    shown = json.loads(run("config", "--json").stdout)
    assert shown["pseudonymise_on_capture"] is False and shown["timezone"] == "Europe/London"
    assert set(shown) == set(schema.SETTINGS)


def test_the_cli_stores_typed_values(run):
    assert run("config", "pseudonymise_on_capture", "yes").stdout == "pseudonymise_on_capture = true\n"
    assert run("config", "author", "3").stdout == 'author = "3"\n'  # text stays text
    assert run("config", "anonymise", '{"detectors": ["names"]}').exit_code == 0
    shown = json.loads(run("config", "--json").stdout)
    assert shown["pseudonymise_on_capture"] is True and shown["author"] == "3"
    assert shown["anonymise"] == {"detectors": ["names"]}


def test_internal_settings_are_refused_to_users_but_kept_by_fieldkit(project):
    with pytest.raises(Refused):
        schema.check_user_setting("codebook")
    project.set_setting("codebook", {"name": "coproduction", "titles": {}})
    assert project.setting("codebook")["name"] == "coproduction"


def test_a_new_project_starts_with_the_defaults(project):
    assert schema.current(project) == {name: s.default for name, s in schema.SETTINGS.items()}
