"""The ``fieldkit`` command line: a thin layer over the library functions.

Only click is imported at start-up; each command imports what it needs when it runs.
"""

from __future__ import annotations

import os
import sys

import click

from fieldkit import __version__
from fieldkit.core.errors import FieldkitError


class FieldkitGroup(click.Group):
    """A click group that turns user errors into one line on stderr and a non-zero exit."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except FieldkitError as exc:
            _fail(str(exc))
        except (ValueError, KeyError) as exc:
            _fail(_value_message(exc))
        except _db_errors() as exc:
            _fail(f"database error: {exc}")
        except UnicodeError as exc:
            _fail(f"input is not valid text: {exc}")
        except KeyboardInterrupt:
            _fail("interrupted; nothing half-written was kept", code=130)
        except OSError as exc:
            _fail(f"{exc.strerror or exc}" + (f": {exc.filename}" if getattr(exc, "filename", None) else ""))
        except RecursionError:
            _fail("input too deeply nested")
        except Exception as exc:  # never a traceback for users; FIELDKIT_DEBUG shows it
            if os.environ.get("FIELDKIT_DEBUG"):
                raise
            _fail(f"internal error: {type(exc).__name__}: {exc} (set FIELDKIT_DEBUG=1 for details)", code=2)

    def list_commands(self, ctx):
        _load_plugin_commands(self)
        return super().list_commands(ctx)

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is None:
            _load_plugin_commands(self)
            command = super().get_command(ctx, name)
        return command


class SubGroup(FieldkitGroup):
    def list_commands(self, ctx):
        return click.Group.list_commands(self, ctx)

    def get_command(self, ctx, name):
        return click.Group.get_command(self, ctx, name)


def _db_errors():
    from fieldkit.store.connection import errors

    return errors("Error")


def _value_message(exc) -> str:
    text = str(exc.args[0]) if getattr(exc, "args", None) else str(exc)
    return " ".join(text.split()) or type(exc).__name__


def _fail(message: str, code: int = 1):
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


#: group id -> the plugin manager whose commands the group holds; a new manager (other
#: plugins) means putting back fieldkit's own commands and asking the plugins again
_plugins_loaded: dict = {}
#: fieldkit's own commands of each core group, recorded once the core commands exist
_OWN_COMMANDS: dict = {}


def _record_own_commands(group):
    _OWN_COMMANDS[id(group)] = (group, dict(group.commands))
    for command in group.commands.values():
        if isinstance(command, click.Group):
            _record_own_commands(command)


def _load_plugin_commands(group):
    from fieldkit.hooks.manager import call_hook, get_plugin_manager

    pm = get_plugin_manager()
    if _plugins_loaded.get(id(group)) is pm:
        return
    _plugins_loaded[id(group)] = pm
    if id(group) in _OWN_COMMANDS:
        for own_group, commands in _OWN_COMMANDS.values():
            own_group.commands.clear()
            own_group.commands.update(commands)
    try:
        call_hook("register_commands", cli=group)
    except FieldkitError as exc:
        click.echo(f"Error: {exc}", err=True)


def get_project(ctx=None):
    """The project for this command: --project, FIELDKIT_PROJECT, or the nearest one above."""
    from fieldkit.project import open as open_project

    ctx = ctx or click.get_current_context()
    root = ctx.find_root()
    obj = root.obj if isinstance(root.obj, dict) else {}
    if obj.get("project") is None:
        from fieldkit.store.connection import PassphraseNeeded

        try:
            obj["project"] = open_project(obj.get("project_path"))
        except PassphraseNeeded:
            if not _stdin_is_tty():
                raise
            secret = click.prompt("Passphrase", hide_input=True, err=True)
            obj["project"] = open_project(obj.get("project_path"), passphrase=secret)
        root.obj = obj
        ctx.call_on_close(obj["project"].close)
    return obj["project"]


def read_text(args, *, allow_editor: bool = True, template: str = "") -> str:
    """Text from arguments, from stdin (``-`` or piped), or from $EDITOR."""
    text = " ".join(args) if args else ""
    if text == "-" or (not text and not _stdin_is_tty()):
        data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise FieldkitError("input is not valid UTF-8; nothing was saved") from None
    elif not text and allow_editor:
        from fieldkit.cli.editor import edit_text

        text = edit_text(template)
    if not text or not text.strip():
        raise FieldkitError("empty text; nothing was saved")
    return text


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return True


def echo_warnings(project):
    for record_id, problem in project.warnings:
        click.echo(f"Warning: {problem}", err=True)
    project.warnings.clear()


def output(rows, columns=(), fmt="table"):
    from fieldkit.core.output import emit

    emit(rows, columns=columns, fmt=fmt)


def format_option(f):
    f = click.option("--csv", "fmt", flag_value="csv", help="Output CSV.")(f)
    f = click.option("--json", "fmt", flag_value="json", help="Output JSON.")(f)
    return f


def json_option(f):
    return click.option("--json", "fmt", flag_value="json", default="table", help="Output JSON.")(f)


@click.group(cls=FieldkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fieldkit")
@click.option("--project", "project_path", type=click.Path(file_okay=False), envvar="FIELDKIT_PROJECT",
              help="Project directory (default: FIELDKIT_PROJECT, else the nearest one above).")
@click.pass_context
def cli(ctx, project_path):
    """Capture, keep, code, anonymise and export ethnographic fieldwork data."""
    ctx.obj = {"project_path": project_path}


from fieldkit.cli import capture as cli_capture  # noqa: E402,F401  (registers the core commands on cli)
cli.add_command(__import__("fieldkit.cli.serve", fromlist=["serve"]).serve)  # the browser workbench

_record_own_commands(cli)
