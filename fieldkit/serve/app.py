"""The workbench application: pages and a JSON API over fieldkit's library functions.

Every change goes through the same library functions the command line uses (so the same
records, revision history, audit log and consent checks apply); this module only turns
requests into calls and results into pages. ``create_app`` builds the Starlette app;
``fieldkit serve`` (``fieldkit.cli.serve``) runs it with uvicorn.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Optional, TYPE_CHECKING, Union

from fieldkit.core.errors import FieldkitError, NotFound
from fieldkit.serve import data
from fieldkit.serve.security import Guard, cookie_name

if TYPE_CHECKING:
    import os

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, Response

HERE = Path(__file__).resolve().parent
TEXT_TYPES = ("observation", "memo")


def create_app(project_path: Union[str, os.PathLike[str]], *, token: str,
               hosts: Iterable[str] = ("127.0.0.1", "localhost"), port: int = 0, passphrase: Optional[str] = None,
               coder: str = "") -> Starlette:
    """The ASGI app for one project. ``hosts`` are the ``Host`` header values accepted
    (with the port, e.g. ``127.0.0.1:8765``); every request needs ``token``."""
    import contextlib

    from jinja2 import Environment, FileSystemLoader, select_autoescape
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    bench = data.Workbench(Path(project_path), passphrase=passphrase, coder=coder)
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
    env.filters["pretty"] = lambda s: str(s or "").replace("_", " ")
    env.filters["when"] = _when

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        bench.close()

    handlers = _Handlers(bench, env)
    routes = [
        Route("/", handlers.home),
        Route("/doc/{ref}", handlers.document),
        Route("/compare/{ref}", handlers.compare),
        Route("/codebook", handlers.codebook),
        Route("/search", handlers.search),
        Route("/review", handlers.review),
        Route("/api/codebook", handlers.api_codebook),
        Route("/api/codes", handlers.api_add_code, methods=["POST"]),
        Route("/api/codes/{ref}/{op}", handlers.api_code_op, methods=["POST"]),
        Route("/api/records/{ref}/codings", handlers.api_record_codings),
        Route("/api/codings", handlers.api_apply, methods=["POST"]),
        Route("/api/codings/{ref}/{op}", handlers.api_coding_op, methods=["POST"]),
        Route("/api/memos", handlers.api_memo, methods=["POST"]),
        Route("/api/proposals/{ref}/{op}", handlers.api_proposal, methods=["POST"]),
        Route("/api/anonymise/decide", handlers.api_anonymise_decide, methods=["POST"]),
        Route("/api/search/preview", handlers.api_search_preview, methods=["POST"]),
        Route("/api/search/code", handlers.api_search_code, methods=["POST"]),
        Route("/api/coder", handlers.api_coder, methods=["POST"]),
        Route("/api/names", handlers.api_names, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    allowed = set()
    for host in hosts:
        allowed.add(host)
        if port and ":" not in host.split("]")[-1]:
            allowed.add(f"{host}:{port}")
    middleware = [Middleware(Guard, token=token, hosts=allowed, cookie=cookie_name(port))]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.workbench = bench
    return app


def _script_json(payload) -> str:
    """JSON to embed in a ``<script type="application/json">`` block: ``<``, ``>`` and ``&``
    escaped, so a note holding ``</script>`` cannot end the block early."""
    text = json.dumps(payload, ensure_ascii=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _when(value) -> str:
    if not value:
        return ""
    return value.strftime("%Y-%m-%d %H:%M")


def _json_response(payload, status: int = 200):
    from starlette.responses import Response

    return Response(json.dumps(payload, ensure_ascii=False, default=str), status_code=status,
                    media_type="application/json")


def _error(exc: Exception, *, page: bool = False, env=None):
    status = 404 if isinstance(exc, NotFound) else 400
    message = str(exc) if isinstance(exc, FieldkitError) else f"{type(exc).__name__}: {exc}"
    if page and env is not None:
        from starlette.responses import HTMLResponse

        return HTMLResponse(env.get_template("error.html").render(message=message, page="error", coder=""),
                            status_code=status)
    return _json_response({"error": message}, status)


def _guarded(page: bool = False):
    """Turn a user error raised by the library into a 400/404 answer with its message."""
    import functools

    def wrap(func):
        @functools.wraps(func)
        async def run(self, request):
            try:
                return await func(self, request)
            except (FieldkitError, ValueError, KeyError) as exc:
                return _error(exc, page=page, env=self.env)
        return run
    return wrap


async def _body(request) -> dict:
    try:
        payload = await request.json()
    except ValueError:
        raise FieldkitError("the request body is not JSON") from None
    if not isinstance(payload, dict):
        raise FieldkitError("the request body must be a JSON object")
    return payload


class _Handlers:
    def __init__(self, bench: data.Workbench, env):
        self.bench = bench
        self.env = env

    def page(self, name: str, **context: Any) -> HTMLResponse:
        from starlette.responses import HTMLResponse

        project = self.bench.project()
        context.setdefault("coder", self.bench.coder)
        context.setdefault("project_name", project.path.name)
        return HTMLResponse(self.env.get_template(f"{name}.html").render(page=name, **context))

    def warnings(self) -> list[str]:
        project = self.bench.project()
        found = [problem for _record, problem in project.warnings]
        project.warnings.clear()
        return found

    # pages -----------------------------------------------------------------------------
    @_guarded(page=True)
    async def home(self, request: Request) -> Response:
        return self.page("home", **data.home(self.bench.project()))

    @_guarded(page=True)
    async def document(self, request: Request) -> Response:
        from fieldkit.coding.codings import coders_in_project, is_auto_coder
        from fieldkit.serve.render import render_body

        project = self.bench.project()
        record = project.get(request.path_params["ref"])
        if record.type_name not in (*TEXT_TYPES, "encounter"):
            raise FieldkitError(f"a {record.type_name} has no document view")
        body = getattr(record, "body", None)
        turns = data.shown_turns(project, record) if body is not None else []
        html = render_body(body, turns) if body is not None else ""
        encounter = project.get(record.encounter_id) if getattr(record, "encounter_id", None) else None
        codes = data.codes(project)
        payload = {
            "record": record.id, "type": record.type_name, "coder": self.bench.coder,
            "codings": data.record_codings(project, record), "codes": _code_choices(codes),
            "recent": self.bench.recent,
        }
        speakers = list({(t.speaker, t.code): t for t in turns}.values())  # each once, in order of speaking
        return self.page("document", record=record, html=html, encounter=encounter, codes=codes,
                         label=data.label(record), speakers=speakers,
                         coders=[c for c in coders_in_project(project) if not is_auto_coder(c)],
                         payload=_script_json(payload))

    @_guarded(page=True)
    async def compare(self, request: Request) -> Response:
        from fieldkit.coding.codings import agreement, coders_in_project, is_auto_coder, record_text
        from fieldkit.serve.offsets import Utf16Index
        from fieldkit.serve.render import render_body

        project = self.bench.project()
        record = project.get(request.path_params["ref"])
        text = record_text(record)
        if text is None:
            raise FieldkitError("only notes and memos can be compared side by side")
        people = [c for c in coders_in_project(project) if not is_auto_coder(c)]
        a = request.query_params.get("a") or (people[0] if people else "")
        b = request.query_params.get("b") or next((c for c in people if c != a), "")
        columns = [{"coder": c, "codings": data.record_codings(project, record, coders=[c])} for c in (a, b) if c]
        figures = {"document": None, "project": None}
        disagreements: list = []
        if a and b and a != b:
            index = Utf16Index(text)
            for scope, records in (("document", [record.id]), ("project", None)):
                try:
                    result = agreement(project, [a, b], records=records)
                except FieldkitError as exc:
                    figures[scope] = {"error": str(exc)}
                    continue
                figures[scope] = {"rows": result.rows, "notes": result.notes}
                if scope == "document":
                    disagreements = [{**d, "s16": index.to_utf16(d["start"]), "e16": index.to_utf16(d["end"])}
                                     for d in result.disagreements if d["record_id"] == record.id]
        payload = {"record": record.id, "columns": columns, "disagreements": disagreements}
        return self.page("compare", record=record, label=data.label(record), html=render_body(text, data.shown_turns(project, record)),
                         coders=people, a=a, b=b, figures=figures, disagreements=disagreements,
                         payload=_script_json(payload))

    @_guarded(page=True)
    async def codebook(self, request: Request) -> Response:
        codes = data.codes(self.bench.project())
        return self.page("codebook", codes=codes, payload=_script_json({"codes": _code_choices(codes)}))

    @_guarded(page=True)
    async def search(self, request: Request) -> Response:
        from fieldkit.serve.search import filter_choices, run_search

        project = self.bench.project()
        params = dict(request.query_params)
        results = run_search(project, params) if params.get("q") else None
        codes = data.codes(project)
        return self.page("search", params=params, results=results, choices=filter_choices(project),
                         payload=_script_json({"codes": _code_choices(codes), "params": params}))

    @_guarded(page=True)
    async def review(self, request: Request) -> Response:
        from fieldkit.coding.autocode import proposals
        from fieldkit.coding.codings import coding_rows

        project = self.bench.project()
        show_anonymise = bool(request.query_params.get("anonymise"))
        pending = bool(request.query_params.get("pending"))
        rows = coding_rows(project, proposals(project), context=60)
        codes = {c["id"]: c for c in data.codes(project)}
        for row, proposal in zip(rows, proposals(project)):
            row["colour"] = codes.get(proposal.code_id, {}).get("colour", "#888888")
        anonymise, anonymise_error = [], ""
        if show_anonymise:
            try:
                anonymise = data.anonymise_review(project, record=request.query_params.get("record") or None,
                                                  pending=pending)
            except FieldkitError as exc:  # fails closed: nothing is shown, the reason is
                anonymise, anonymise_error = [], str(exc)
        return self.page("review", proposals=rows, anonymise=anonymise, anonymise_error=anonymise_error,
                         show_anonymise=show_anonymise, pending=pending, has_keystore=data.has_keystore(project),
                         waiting=sum(c["needs_review"] for c in anonymise))

    # API: codebook ---------------------------------------------------------------------
    @_guarded()
    async def api_codebook(self, request: Request) -> Response:
        return _json_response({"codes": data.codes(self.bench.project())})

    @_guarded()
    async def api_add_code(self, request: Request) -> Response:
        from fieldkit.coding.codebook import add_code

        body = await _body(request)
        project = self.bench.project()
        fields = {k: str(body[k]) for k in ("definition", "include", "exclude", "example", "colour", "title")
                  if body.get(k)}
        code = add_code(project, str(body.get("name", "")), parent=body.get("parent") or None, **fields)
        return _json_response({"code": _code_json(project, code.id)}, 201)

    @_guarded()
    async def api_code_op(self, request: Request) -> Response:
        from fieldkit.coding import codebook

        body = await _body(request)
        project = self.bench.project()
        ref, op = request.path_params["ref"], request.path_params["op"]
        if op == "rename":
            code = codebook.rename_code(project, ref, str(body.get("name", "")))
        elif op == "move":
            code = codebook.move_code(project, ref, body.get("parent") or None)
        elif op == "merge":
            code = codebook.merge_codes(project, ref, str(body.get("into", ""))).source
        elif op == "retire":
            code = codebook.retire_code(project, ref)
        elif op == "restore":
            code = codebook.restore_code(project, ref)
        elif op == "edit":
            fields = {k: str(body[k]) for k in ("definition", "include", "exclude", "example", "colour")
                      if k in body}
            code = codebook.edit_code(project, ref, title=body.get("title"), **fields)
        else:
            raise NotFound(f"no code operation '{op}'")
        return _json_response({"code": _code_json(project, code.id)})

    # API: codings ----------------------------------------------------------------------
    @_guarded()
    async def api_record_codings(self, request: Request) -> Response:
        project = self.bench.project()
        record = project.get(request.path_params["ref"])
        coders = [c for c in request.query_params.get("coders", "").split(",") if c] or None
        return _json_response({"codings": data.record_codings(project, record, coders=coders)})

    @_guarded()
    async def api_apply(self, request: Request) -> Response:
        from fieldkit.coding.codebook import add_code
        from fieldkit.coding.codings import apply_code, record_text

        body = await _body(request)
        project = self.bench.project()
        record = project.get(str(body.get("record", "")))
        whole = bool(body.get("whole"))
        start = end = None
        if not whole:
            text = record_text(record)
            if text is None:
                raise FieldkitError(f"a {record.type_name} is coded as a whole")
            start, end = data.span_from_utf16(text, body.get("start16"), body.get("end16"))
        with project.transaction():  # a new code and its first coding together, or neither
            code = body.get("code")
            if not code and body.get("new_code"):
                code = add_code(project, str(body["new_code"]), parent=body.get("parent") or None).id
            if not code:
                raise FieldkitError("choose a code")
            coding = apply_code(project, record.id, code, start=start, end=end, whole=whole,
                                coder=self.bench.coder, note=str(body.get("note", "")))
        self.bench.used(coding.code_id)
        return _json_response({"coding": self._coding(record, coding), "recent": self.bench.recent,
                               "codes": _code_choices(data.codes(project)), "warnings": self.warnings()}, 201)

    def _coding(self, record, coding) -> dict:
        from fieldkit.coding.codings import code_paths, record_text
        from fieldkit.serve.offsets import Utf16Index

        project = self.bench.project()
        text = record_text(record)
        rows = {r["id"]: r for r in data.codes(project)}
        return data.coding_json(coding, Utf16Index(text) if text is not None else None, rows, code_paths(project))

    @_guarded()
    async def api_coding_op(self, request: Request) -> Response:
        from fieldkit.coding import codings

        body = await _body(request)
        project = self.bench.project()
        ref, op = request.path_params["ref"], request.path_params["op"]
        if op == "remove":
            removed = codings.remove_coding(project, ref, reason="removed in the workbench")
            return _json_response({"removed": removed.id})
        if op == "note":
            coding = codings.annotate_coding(project, ref, str(body.get("note", "")))
        elif op == "bounds":
            current = codings.get_coding(project, ref)
            record = project.get(current.record_id)
            text = codings.record_text(record)
            if text is None:
                raise FieldkitError(f"a {record.type_name} is coded as a whole")
            start, end = data.span_from_utf16(text, body.get("start16"), body.get("end16"))
            coding = codings.rebound_coding(project, ref, start, end, reason="re-bounded in the workbench")
        else:
            raise NotFound(f"no coding operation '{op}'")
        return _json_response({"coding": self._coding(project.get(coding.record_id), coding)})

    # API: memos, proposals, anonymisation ------------------------------------------------
    @_guarded()
    async def api_memo(self, request: Request) -> Response:
        from fieldkit.coding.codings import record_text
        from fieldkit.fieldwork.capture import memo

        body = await _body(request)
        project = self.bench.project()
        text = str(body.get("body", "")).strip()
        if not text:
            raise FieldkitError("the memo is empty; nothing was saved")
        links = [str(x) for x in body.get("links", []) if x]
        quote = body.get("quote")
        if quote:  # a memo on a selection: linked to its record, the passage quoted with its place
            record = project.get(str(quote.get("record", "")))
            source = record_text(record)
            if source is None:
                raise FieldkitError(f"a {record.type_name} has no text to quote")
            start, end = data.span_from_utf16(source, quote.get("start16"), quote.get("end16"))
            quoted = "\n".join(f"> {line}" for line in source[start:end].splitlines())
            text = f"{quoted}\n>\n> ({data.label(record)}, characters {start}-{end})\n\n{text}"
            links.append(record.id)
        saved = memo(project, text, kind=str(body.get("kind") or "analytic"), title=str(body.get("title", "")),
                     links=list(dict.fromkeys(links)), private=bool(body.get("private")))
        return _json_response({"memo": {"id": saved.id, "kind": saved.kind, "title": saved.title,
                                        "links": list(saved.links), "tags": list(saved.tags)},
                               "warnings": self.warnings()}, 201)

    @_guarded()
    async def api_proposal(self, request: Request) -> Response:
        from fieldkit.coding import autocode

        project = self.bench.project()
        ref, op = request.path_params["ref"], request.path_params["op"]
        if op == "accept":
            made = autocode.accept(project, [ref], as_coder=self.bench.coder)
            return _json_response({"accepted": [c.id for c in made]})
        if op == "reject":
            return _json_response({"rejected": [c.id for c in autocode.reject(project, [ref])]})
        if op in ("sentence", "paragraph"):
            made = autocode.accept_extended(project, ref, op, as_coder=self.bench.coder)
            return _json_response({"accepted": [made.id], "start": made.start, "end": made.end})
        raise NotFound(f"no proposal operation '{op}'")

    @_guarded()
    async def api_anonymise_decide(self, request: Request) -> Response:
        body = await _body(request)
        return _json_response(data.anonymise_decide(self.bench.project(), body))

    # API: search -----------------------------------------------------------------------
    @_guarded()
    async def api_search_preview(self, request: Request) -> Response:
        from fieldkit.serve.search import preview

        body = await _body(request)
        return _json_response(preview(self.bench.project(), body, self.bench.coder))

    @_guarded()
    async def api_search_code(self, request: Request) -> Response:
        from fieldkit.coding.codings import code_spans

        body = await _body(request)
        spans = []
        for item in body.get("spans", []):
            spans.append((str(item["record"]), int(item["start"]), int(item["end"])))
        if not spans:
            raise FieldkitError("no hits chosen; nothing was coded")
        project = self.bench.project()
        made, skipped = code_spans(project, str(body.get("code", "")), spans, coder=self.bench.coder,
                                   reason="coded from a search in the workbench")
        if made:
            self.bench.used(made[0].code_id)
        return _json_response({"coded": len(made), "skipped": skipped, "warnings": self.warnings()}, 201)

    # API: identity and names -----------------------------------------------------------
    @_guarded()
    async def api_coder(self, request: Request) -> Response:
        body = await _body(request)
        return _json_response({"coder": self.bench.set_coder(str(body.get("coder", "")))})

    @_guarded()
    async def api_names(self, request: Request) -> Response:
        body = await _body(request)
        return _json_response({"names": data.real_names(self.bench.project(), body.get("passphrase"))})


def _code_choices(codes: list) -> list:
    """What the code picker needs: active codes with path, colour and counts."""
    return [{"id": c["id"], "path": c["path"], "colour": c["colour"], "definition": c["definition"],
             "codings": c["codings"]} for c in codes if c["status"] == "active"]


def _code_json(project, code_id: str) -> dict:
    return next(c for c in data.codes(project) if c["id"] == code_id)
