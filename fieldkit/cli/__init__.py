"""The ``fieldkit`` command line: a thin layer over the library functions.

Only click is imported at start-up; each command imports what it needs when it runs.
The commands live one group per module (see ``fieldkit.cli.main``); plugins building
commands use the helpers re-exported here.
"""

from fieldkit.cli.context import get_project
from fieldkit.cli.editor import read_text
from fieldkit.cli.groups import SubGroup
from fieldkit.cli.main import cli
from fieldkit.cli.output import echo_warnings, format_option, json_option, output

__all__ = ["cli", "echo_warnings", "format_option", "get_project", "json_option", "output", "read_text", "SubGroup"]
