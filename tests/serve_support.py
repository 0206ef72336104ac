"""Helpers for the workbench tests: a real server on a free port, and Debian's Chromium."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

CHROMIUM = os.environ.get("FIELDKIT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(project_path: Path, *, token: str = "test-token-0123456789", coder: str = ""):
    """The real app under uvicorn in a thread; yields ``(base_url, token)``."""
    import uvicorn

    from fieldkit.serve.app import create_app

    port = free_port()
    app = create_app(project_path, token=token, hosts=["127.0.0.1", "localhost"], port=port, coder=coder)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the workbench server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", token
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextlib.contextmanager
def chromium_context():
    """A headless Chromium (Debian's, never a downloaded one) with a fresh profile."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="fieldkit-chromium-")
    try:
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1400, "height": 900})
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def check_review_decisions(project, record: str, text: str) -> None:
    """Through the library: ``@zed99`` accepted (replaced from now on), ``4412`` rejected (kept),
    ``Mr Hendry`` registered as X01 in the real key store, each logged as the CLI logs it."""
    from fieldkit.privacy import anonymiser as an
    from fieldkit.privacy import review

    now = {text[c.start:c.end]: c for c in review.candidates(project, [record])}
    # an accepted unclaimed candidate is replaced from now on: the review rule claims it
    assert now["zed99"].claimed and not now["zed99"].needs_review
    assert now["4412"].status == "rejected" and not now["4412"].needs_review
    assert "Mr Hendry" not in [text[c.start:c.end] for c in review.unresolved(project)]
    store = an.open_keystore(project)
    try:
        assert store.get("X01").names == ("Hendry",)  # the title is left out, as the CLI does
    finally:
        store.close()
    actions = sorted(e["action"] for e in an.log_entries(project, record))
    assert actions == ["review-accept", "review-register", "review-reject"]
