"""``fieldkit serve``: the local coding workbench in the browser (needs the ``serve`` extra)."""

from __future__ import annotations

import ipaddress

import click

from fieldkit.core.errors import FieldkitError, MissingExtra

DEFAULT_PORT = 8765
LOOPBACK = "127.0.0.1"


def _check_extra() -> None:
    try:
        import jinja2  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise MissingExtra("the workbench needs its extra: pip install 'fieldkit[serve]'") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _free_port(host: str, wanted: int) -> int:
    """``wanted`` if free, else the next free one of the ten above it (0: any free port)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for port in ([0] if wanted == 0 else range(wanted, wanted + 10)):
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host.strip("[]"), port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise FieldkitError(f"ports {wanted}-{wanted + 9} on {host} are all in use; choose one with --port")


def _project_path(project_path):
    """The project folder (-p, else --project / FIELDKIT_PROJECT / the nearest one above) and,
    for an encrypted project without a stored passphrase, the passphrase typed now."""
    from pathlib import Path

    from fieldkit.project import find_project, open as open_project
    from fieldkit.store.connection import PassphraseNeeded

    if not project_path:
        root = click.get_current_context().find_root()
        project_path = (root.obj or {}).get("project_path") if isinstance(root.obj, dict) else None
    path = Path(project_path).expanduser() if project_path else find_project()
    passphrase = None
    try:
        project = open_project(path)
    except PassphraseNeeded:
        passphrase = click.prompt("Passphrase", hide_input=True, err=True)
        project = open_project(path, passphrase=passphrase)
    try:
        return project.path, passphrase
    finally:
        project.close()


@click.command()
@click.option("-p", "--project", "project_path", type=click.Path(file_okay=False),
              help="Project directory (default: as for every command, the nearest one above).")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="Port to listen on (the next free one is used if it is taken; 0: any free port).")
@click.option("--host", default=None,
              help="Listen on this address instead of 127.0.0.1. Anyone who can reach it and has the "
                   "token can read and change the project: only on a network you trust.")
@click.option("--open", "open_browser", is_flag=True, help="Open the workbench in the web browser.")
@click.option("--coder", default="", help="Coder name for new codings (default: the project author).")
def serve(project_path, port, host, open_browser, coder):
    """Code in the browser: a local workbench on 127.0.0.1 with a secret token.

    Prints an address with a random token (as Jupyter does); only that address opens the
    workbench. Stop it with Ctrl+C.
    """
    _check_extra()
    import threading
    import webbrowser

    import uvicorn

    from fieldkit.serve.app import create_app
    from fieldkit.serve.security import new_token

    path, passphrase = _project_path(project_path)
    listen = host or LOOPBACK
    if host and not _is_loopback(host):
        click.echo(f"Warning: listening on {host}, not only on this computer: anyone who can reach this "
                   "address and has the token can read and change the project, and the connection is not "
                   "encrypted. Use this only on a network you trust.", err=True)
    port = _free_port(listen, port)
    token = new_token()
    shown = listen if ":" not in listen else f"[{listen}]"
    if listen in ("0.0.0.0", "::"):
        hosts = ["*"]
        shown = LOOPBACK
    else:
        hosts = [shown, LOOPBACK, "localhost"] if _is_loopback(listen) else [shown]
    app = create_app(path, token=token, hosts=hosts, port=port, passphrase=passphrase, coder=coder)
    url = f"http://{shown}:{port}/?token={token}"
    server = uvicorn.Server(uvicorn.Config(app, host=listen.strip("[]"), port=port, log_level="warning",
                                           access_log=False, lifespan="on"))

    def announce():
        # the address is given once the server answers (and Ctrl+C is the server's to handle)
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            click.echo(f"fieldkit workbench for {path}\n\n    {url}\n\n"
                       "Open that address in a browser; Ctrl+C stops the server.")
            if open_browser:
                webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    server.run()
