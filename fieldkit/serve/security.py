"""The workbench's guard: the token, the Host check, cross-site request refusal and headers.

Every request passes through :class:`Guard` before any page or API code runs:

* the ``Host`` header must name the address the server was started on (a page on another
  site cannot reach the server by pointing its own name at 127.0.0.1, "DNS rebinding");
* the secret token must come with the request: ``?token=`` on the first visit (it is then
  moved into an HttpOnly, SameSite=Strict cookie and the browser is sent to the same page
  without it, so the token leaves the address bar and history), or the cookie, or an
  ``Authorization: Token …`` header for scripts;
* a request that changes anything (any method but GET and HEAD) must carry the header
  ``X-Fieldkit-Request: 1``, which a form on another site cannot send and which a script on
  another site cannot send without a CORS preflight the server never grants; its
  ``Origin`` (and ``Sec-Fetch-Site``, when the browser sends them) must be this server;
* every response carries a Content-Security-Policy that allows scripts, styles, fonts and
  images from the server itself only, and no inline script.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Iterable
from urllib.parse import parse_qsl, urlencode

#: scripts, styles, fonts and images only from this server; no inline script, no framing
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "cache-control": "no-store",
}
CSRF_HEADER = "x-fieldkit-request"
SAFE_METHODS = ("GET", "HEAD")


def new_token() -> str:
    """A fresh random token (as Jupyter prints one): 32 bytes, URL-safe."""
    return secrets.token_urlsafe(32)


def cookie_name(port: int) -> str:
    """Cookies are shared by every port of a host, so each server's cookie names its port."""
    return f"fieldkit_token_{port}"


class Guard:
    """ASGI middleware that refuses any request without the token or from another site."""

    def __init__(self, app, *, token: str, hosts: Iterable[str], cookie: str):
        self.app = app
        self.token = token
        self.hosts = {h.lower() for h in hosts}
        self.cookie = cookie

    def _ok(self, given: str) -> bool:
        return bool(given) and hmac.compare_digest(given.encode(), self.token.encode())

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await self.app(scope, receive, send)
        if scope["type"] != "http":  # no websockets
            return
        from starlette.requests import Request

        request = Request(scope)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.decode().lower() not in HEADERS]
                headers += [(k.encode(), v.encode()) for k, v in HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        host = request.headers.get("host", "").lower()
        if host not in self.hosts and "*" not in self.hosts:
            return await _refuse(scope, receive, send_with_headers, 400,
                                 "This address is not the one fieldkit serve was started on.")
        query = request.query_params.get("token")
        if query is not None:
            if not self._ok(query):
                return await _refuse(scope, receive, send_with_headers, 403, "Wrong token.")
            if request.method in SAFE_METHODS:
                return await _enter(scope, receive, send_with_headers, request, self.cookie, self.token)
        auth = request.headers.get("authorization", "")
        given = auth[6:].strip() if auth.lower().startswith("token ") else request.cookies.get(self.cookie, "")
        if query is None and not self._ok(given):
            return await _refuse(scope, receive, send_with_headers, 403,
                                 "This page needs the token: open the address that 'fieldkit serve' printed.")
        if request.method not in SAFE_METHODS:
            problem = _cross_site(request, host)
            if problem:
                return await _refuse(scope, receive, send_with_headers, 403, problem)
        return await self.app(scope, receive, send_with_headers)


def _cross_site(request, host: str) -> str:
    if request.headers.get(CSRF_HEADER) != "1":
        return "Refused: a change must come from the workbench page itself (header missing)."
    origin = request.headers.get("origin")
    if origin is not None and origin.lower() not in (f"http://{host}", f"https://{host}"):
        return "Refused: the request came from another site."
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return "Refused: the request came from another site."
    return ""


async def _enter(scope, receive, send, request, cookie: str, token: str):
    """Set the cookie and send the browser to the same address without the token."""
    from starlette.responses import RedirectResponse

    rest = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k != "token"]
    target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(cookie, token, httponly=True, samesite="strict", path="/")
    await response(scope, receive, send)


async def _refuse(scope, receive, send, status: int, message: str):
    from starlette.responses import JSONResponse, PlainTextResponse

    wants_json = scope["path"].startswith("/api/")
    response = JSONResponse({"error": message}, status_code=status) if wants_json else \
        PlainTextResponse(message, status_code=status)
    await response(scope, receive, send)
