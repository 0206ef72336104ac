"""The click group classes: the root group that reports errors and asks plugins for commands.

fieldkit's own commands are listed explicitly in ``fieldkit.cli.main`` and imported when used.
Plugins add theirs through the ``register_commands(cli)`` hook, called once per plugin
manager with the root group, only when a command name is not one of fieldkit's own or a
group lists its commands (``--help``): the quick commands never load plugins. A plugin may
add a command to one of fieldkit's groups (``participant``): asking that group for a
command it does not have loads the plugins too, so it works in a fresh process.
"""

from __future__ import annotations

from typing import Any, Optional

import click

from fieldkit.cli.errors import check_arguments, report

#: root group id -> the plugin manager whose commands it holds
_loaded: dict[int, Any] = {}
#: root group id -> fieldkit's own commands of the root and of every group below it
_own: dict[int, list[tuple[click.Group, dict]]] = {}


def _groups(command: click.Command, seen: Optional[list] = None) -> list[click.Group]:
    """Every click group reachable from ``command`` (itself included)."""
    seen = seen if seen is not None else []
    if isinstance(command, click.Group) and all(command is not group for group in seen):
        seen.append(command)
        for child in list(command.commands.values()):
            _groups(child, seen)
    return seen


def snapshot(root: click.Group) -> list[tuple[click.Group, dict]]:
    """The commands of every group under ``root``, to put back with :func:`restore`."""
    if isinstance(root, FieldkitGroup):
        root.load_own_commands()
    return [(group, dict(group.commands)) for group in _groups(root)]


def restore(saved: list[tuple[click.Group, dict]]) -> None:
    for group, commands in saved:
        group.commands.clear()
        group.commands.update(commands)


def forget_plugin_commands(root: click.Group) -> None:
    """Take plugin commands away; the next lookup asks the (current) plugins again."""
    if id(root) in _own:
        restore(_own[id(root)])
    _loaded.pop(id(root), None)


def load_plugin_commands(root: click.Group) -> None:
    """Call ``register_commands(cli=root)`` once for the current plugin manager."""
    from fieldkit.hooks.manager import get_plugin_manager

    pm = get_plugin_manager()
    if _loaded.get(id(root)) is pm:
        return
    own = _own.setdefault(id(root), snapshot(root))  # fieldkit's own, all imported first
    restore(own)  # a new plugin manager: only fieldkit's own commands, then ask its plugins
    _loaded[id(root)] = pm
    pm.hook.register_commands(cli=root)
    for group, commands in own:
        for name, command in commands.items():
            if group.commands.get(name) is not command:
                group.commands[name] = command
                where = name if group is root else f"{group.name} {name}"
                click.echo(f"Warning: a plugin tried to replace the fieldkit command '{where}'; "
                           "fieldkit's own command is kept", err=True)




def _root_of(ctx: Optional[click.Context]) -> Optional[click.Group]:
    if ctx is None:
        return None
    root = ctx.find_root().command
    return root if isinstance(root, FieldkitGroup) else None


def _import(spec: str) -> click.Command:
    from importlib import import_module

    module, _, attribute = spec.partition(":")
    return getattr(import_module(f"fieldkit.cli.{module}"), attribute)


class FieldkitGroup(click.Group):
    """The root group: turns every exception into one line and an exit code
    (``fieldkit.cli.errors``), imports fieldkit's own commands when they are used
    (``lazy_commands``: name -> ``"module:attribute"`` in ``fieldkit.cli``; ``lazy_subcommands``:
    group name -> more commands for it), and asks plugins for commands it does not have."""

    def __init__(self, *args: Any, lazy_commands: Optional[dict] = None, lazy_subcommands: Optional[dict] = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})
        self.lazy_subcommands = dict(lazy_subcommands or {})
        self._imported: set = set()

    def own_command(self, name: str) -> Optional[click.Command]:
        """fieldkit's own command ``name``, imported on first use (None if there is none)."""
        if name in self.lazy_commands and name not in self._imported:
            command = _import(self.lazy_commands[name])
            for spec in self.lazy_subcommands.get(name, ()):
                sub = _import(spec)
                if isinstance(command, click.Group):
                    command.add_command(sub)
            self.add_command(command, name)
            self._imported.add(name)
        return self.commands.get(name) if name in self.lazy_commands else None

    def load_own_commands(self) -> None:
        """Import every one of fieldkit's own commands (help, plugins, documentation)."""
        for name in self.lazy_commands:
            self.own_command(name)

    def main(self, args: Any = None, prog_name: Optional[str] = None, complete_var: Optional[str] = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if standalone_mode:
            import sys

            check_arguments(list(sys.argv[1:] if args is None else args))
        try:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except Exception as exc:  # before or around a command: help, plugin loading
            if not standalone_mode:
                raise
            report(exc)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _with_usage(self, ctx, exc) from None
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except (Exception, KeyboardInterrupt) as exc:
            report(exc)

    def list_commands(self, ctx: click.Context) -> list[str]:
        load_plugin_commands(self)
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> Optional[click.Command]:
        command = self.own_command(cmd_name) or super().get_command(ctx, cmd_name)
        if command is None:
            load_plugin_commands(self)
            command = super().get_command(ctx, cmd_name)
        return command


def _with_usage(group: click.Group, ctx: click.Context, exc: click.UsageError) -> click.UsageError:
    """Give a usage error raised while parsing a subcommand's arguments that subcommand's
    context, so its usage line is shown (click leaves it out for an option missing its value)."""
    if exc.ctx is None and ctx.invoked_subcommand:
        command = group.get_command(ctx, ctx.invoked_subcommand)
        if command is not None:
            exc.ctx = click.Context(command, info_name=ctx.invoked_subcommand, parent=ctx)
    return exc


class SubGroup(click.Group):
    """A group below the root (fieldkit's or a plugin's). Errors are reported by the root;
    a command name it does not know loads plugin commands first (a plugin may add one)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _with_usage(self, ctx, exc) from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        root = _root_of(ctx)
        if root is not None:
            load_plugin_commands(root)
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> Optional[click.Command]:
        command = super().get_command(ctx, cmd_name)
        root = _root_of(ctx)
        if command is None and root is not None:
            load_plugin_commands(root)
            command = super().get_command(ctx, cmd_name)
        return command


class DefaultCommandGroup(SubGroup):
    """A group that runs ``default_command`` when the first word is not one of its commands
    (``fieldkit autocode --all`` is ``fieldkit autocode run --all``)."""

    default_command = "run"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)
