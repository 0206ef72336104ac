"""The environment variables fieldkit reads, each checked and named when it is wrong.

Every variable is read through one of these functions, so a bad value gives one clear
line naming the variable (``FIELDKIT_SLOW_PLUGIN_SECONDS must be a number of seconds ...``)
instead of a failure somewhere else. ``docs/configuration.md`` lists them.
"""

from __future__ import annotations

import math
import os
from typing import Callable, Optional

from fieldkit.core.errors import InvalidInput

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")

#: every variable fieldkit reads, with the kind of value it takes
VARIABLES = {
    "FIELDKIT_PROJECT": "path",
    "FIELDKIT_AUTHOR": "text",
    "FIELDKIT_LOAD_PLUGINS": "names",
    "FIELDKIT_TRACE_PLUGINS": "flag",
    "FIELDKIT_SLOW_PLUGIN_SECONDS": "seconds",
    "FIELDKIT_DEBUG": "flag",
    "FIELDKIT_PASSPHRASE": "text",
    "FIELDKIT_KEYS_PASSPHRASE": "text",
}

DEFAULT_SLOW_SECONDS = 2.0


def _show(value: str) -> str:
    shown = value if len(value) <= 40 else value[:37] + "..."
    return repr(shown)


def _text(name: str) -> Optional[str]:
    value = os.environ.get(name)
    if value is None:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"environment variable {name} is not valid UTF-8 text") from None
    return value


def flag(name: str) -> bool:
    """An on/off variable: ``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off``/empty."""
    value = _text(name)
    if value is None:
        return False
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise InvalidInput(f"environment variable {name} must be 1 or 0 (or true/false, yes/no, on/off), "
                       f"not {_show(value)}")


def seconds(name: str, default: float) -> float:
    """A positive number of seconds (``0.5``, ``2``); ``default`` when unset or empty."""
    value = _text(name)
    if value is None or not value.strip():
        return default
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise InvalidInput(f"environment variable {name} must be a positive number of seconds "
                           f"(such as 2 or 0.5), not {_show(value)}")
    return number


def names(name: str) -> Optional[frozenset]:
    """A comma-separated list of names; None when the variable is not set at all."""
    value = _text(name)
    if value is None:
        return None
    return frozenset(part.strip() for part in value.split(",") if part.strip())


def text(name: str) -> Optional[str]:
    """A variable's text (checked to be valid UTF-8); None when it is not set."""
    return _text(name)


def slow_plugin_seconds() -> float:
    """How long one hook call may take before fieldkit warns (``FIELDKIT_SLOW_PLUGIN_SECONDS``)."""
    return seconds("FIELDKIT_SLOW_PLUGIN_SECONDS", DEFAULT_SLOW_SECONDS)


def check_environment() -> None:
    """Read every variable once, so a bad value is reported before a command does anything."""
    readers: dict[str, Callable[[str], object]] = {"flag": flag, "names": names, "text": text, "path": os.environ.get,
               "seconds": lambda name: seconds(name, DEFAULT_SLOW_SECONDS)}
    for name, kind in VARIABLES.items():
        readers[kind](name)
