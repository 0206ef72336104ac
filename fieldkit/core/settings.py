"""The project settings: each key's kind of value, default and meaning, and their checks.

``Project.set_setting`` checks every value here, so a script and ``fieldkit config``
accept and refuse the same things: an unknown key is refused (with the nearest known one),
``pseudonymise_on_capture maybe`` is refused, a time zone must be an IANA name.
``docs/configuration.md`` describes each setting.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any, Callable, Optional

import attrs

from fieldkit.core.errors import InvalidInput, Refused

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


@attrs.frozen
class Setting:
    """One setting: ``kind`` is ``text``, ``flag``, ``timezone``, ``path`` or ``mapping``.

    ``user`` is False for settings fieldkit keeps itself (``fieldkit config`` shows them but
    refuses to change them; their own commands do).
    """

    name: str
    kind: str
    default: Any
    meaning: str
    user: bool = True
    keys: Optional[dict] = None  # a mapping's allowed keys -> check of each value


def _text_list(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _text_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_flag(value: Any) -> bool:
    return isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 2


SETTINGS: dict[str, Setting] = {s.name: s for s in (
    Setting("timezone", "timezone", "Europe/London",
            "the IANA time zone typed times are read in and shown in"),
    Setting("author", "text", "", "the author of new records when FIELDKIT_AUTHOR is not set"),
    Setting("pseudonymise_on_capture", "flag", False,
            "replace names registered in the key store by their pseudonyms as notes are captured"),
    Setting("keystore_path", "path", "", "where the project's key store file is"),
    Setting("anonymise", "mapping", None, "which detectors run, in what order, replacement styles, places file",
            keys={"detectors": (_text_list, "a list of detector names"),
                  "styles": (_text_map, "a mapping of kinds to styles"),
                  "places_file": (_is_text, "a file path"),
                  "unregistered_names": (_is_flag, "true or false"),
                  "coarsen_dates": (_is_flag, "true or false"),
                  "strict": (_is_flag, "true or false")}),
    Setting("name", "text", "", "the project's name in exports (default: its folder name)"),
    Setting("capture_session", "mapping", None,
            "the encounter jottings attach to, from 'encounter start' until 'encounter stop' or the end of "
            "that day", user=False,
            keys={"encounter": (_is_text, "an encounter id"), "day": (_is_text, "a date (YYYY-MM-DD)")}),
    Setting("retention", "mapping", None,
            "retention rules: how long the project and each record class are kept (fieldkit retention)",
            keys={name: (_is_text, "a rule such as 'until 2031-09-30' or '6 months after submission'")
                  for name in ("project", "audio", "attachments", "transcripts", "raw_notes", "notes", "keystore")}),
    Setting("milestones", "mapping", None, "named dates retention rules count from, e.g. submission: 2027-03-31"),
    Setting("disclosure", "mapping", None, "disclosure review: the small-cell threshold k and strict sign-off",
            keys={"k": (_is_count, "a whole number of at least 2"),
                  "strict": (_is_flag, "true or false"),
                  "attributes": (_text_list, "a list of participant attribute names to cross with site")}),
    Setting("codebook", "mapping", None, "the loaded codebook's name and code titles", user=False,
            keys={"name": (_is_text, "text"), "title": (_is_text, "text"), "description": (_is_text, "text"),
                  "titles": (_text_map, "a mapping of code ids to titles")}),
)}

#: what a new project starts with
DEFAULTS: dict[str, Any] = {name: s.default for name, s in SETTINGS.items() if s.default is not None}


def setting(key: str) -> Setting:
    """The :class:`Setting` called ``key``; unknown keys raise InvalidInput naming the nearest."""
    found = SETTINGS.get(key)
    if found is None:
        import difflib

        near = difflib.get_close_matches(str(key), SETTINGS, n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        raise InvalidInput(f"unknown setting {key!r}{hint}; the settings are {', '.join(SETTINGS)}")
    return found


def _check_mapping(s: Setting, value: Any) -> dict:
    if not isinstance(value, dict):
        raise InvalidInput(f"setting {s.name} must be a mapping (a JSON object), not {type(value).__name__}")
    if s.keys is None:  # a free mapping of names to text (e.g. milestones)
        if not _text_map(value):
            raise InvalidInput(f"setting {s.name} must map names to text")
        return value
    allowed = s.keys
    for key, item in value.items():
        if key not in allowed:
            raise InvalidInput(f"setting {s.name} has no key {key!r}; its keys are {', '.join(allowed)}")
        check, expected = allowed[key]
        if item is not None and not check(item):
            raise InvalidInput(f"setting {s.name}: {key} must be {expected}, not {item!r}")
    return value


def _check_timezone(s: Setting, value: Any) -> str:
    from fieldkit.core.timeinput import check_timezone

    if not isinstance(value, str):
        raise InvalidInput(f"setting {s.name} must be a time zone name, not {value!r}")
    return check_timezone(value)


#: the longest text setting (a name, an author, a path)
TEXT_LIMIT = 1000


def _check_text(s: Setting, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"setting {s.name} must be text, not {type(value).__name__}")
    if "\x00" in value:
        raise InvalidInput(f"setting {s.name} must not contain a NUL character")
    if any(ch in "\n\r\x85\u2028\u2029" or unicodedata.category(ch) == "Cc" for ch in value):
        raise InvalidInput(f"setting {s.name} must be one line of text, without control characters")
    if len(value) > TEXT_LIMIT:
        raise InvalidInput(f"setting {s.name} must be at most {TEXT_LIMIT} characters long")
    return value


def _check_flag(s: Setting, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"setting {s.name} must be true or false, not {value!r}")
    return value


_CHECKS: dict[str, Callable[[Setting, Any], Any]] = {
    "text": _check_text, "path": _check_text, "flag": _check_flag, "timezone": _check_timezone,
    "mapping": _check_mapping,
}


def validate(key: str, value: Any) -> Any:
    """``value`` if it is right for setting ``key``, else InvalidInput saying what is expected.

    ``None`` clears a mapping setting (back to its default)."""
    s = setting(key)
    if value is None and s.kind == "mapping":
        return None
    return _CHECKS[s.kind](s, value)


def parse(key: str, text: str) -> Any:
    """The value of setting ``key`` typed as ``text`` (as ``fieldkit config KEY VALUE`` gets it).

    Flags take true/false (yes/no, on/off, 1/0); mappings take a JSON object; the others
    take the text as it is. The result has been through :func:`validate`.
    """
    s = setting(key)
    if s.kind == "flag":
        word = text.strip().lower()
        if word not in _TRUE + _FALSE:
            raise InvalidInput(f"setting {key} must be true or false (yes/no, on/off, 1/0), not {text!r}")
        return validate(key, word in _TRUE)
    if s.kind == "mapping":
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise InvalidInput(f"setting {key} takes a JSON object: {exc}") from None
        return validate(key, value)
    return validate(key, text)


def check_user_setting(key: str) -> Setting:
    """The setting, if a user may change it directly; Refused for those fieldkit keeps."""
    s = setting(key)
    if not s.user:
        raise Refused(f"fieldkit keeps the setting {key!r} itself; change it with 'fieldkit {key}' commands")
    return s


def current(project: Any) -> dict[str, Any]:
    """Every setting's value in ``project`` (defaults where none is stored)."""
    return {name: project.setting(name) for name in SETTINGS}
