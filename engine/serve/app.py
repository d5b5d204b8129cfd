"""The HTTP routes of `exportctl serve` (Starlette): the decision API for systems and the page for
people. Policies are fixed at start; nothing in a request names a file, a folder or code."""

from __future__ import annotations

import datetime as _dt
import hmac
import json
from dataclasses import dataclass
from pathlib import Path

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..render import json_text
from .desk import Desk, RecordError, examples, examples_root, problem

STATIC = Path(__file__).resolve().parent / "static"
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]
JSON_TYPES = {"application/json"}
YAML_TYPES = {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"}
JSONL_TYPES = {"application/x-ndjson", "application/jsonl", "application/jsonlines", "application/json-seq"}
BATCH_CHUNK = 64    # records decided per trip to the worker thread


@dataclass
class Settings:
    """What `exportctl serve` was started with; every limit has a generous default."""

    policies: str | None = None
    record: str | None = None
    token: str | None = None
    max_body: int = 1 << 20            # one transaction: 1 MiB
    max_batch_body: int = 64 << 20     # a JSON Lines batch: 64 MiB
    timeout: float = 30.0              # seconds to read a request and decide it
    allowed_hosts: tuple = ()          # Host headers accepted (DNS rebinding); () = any


class ApiError(Exception):
    """An HTTP-level refusal: status, problem code (not an engine diagnostic), message."""

    def __init__(self, status: int, code: str, message: str, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def _json(obj, status: int = 200, headers: dict | None = None) -> Response:
    # json_text: the same serialisation as `exportctl evaluate --format json`
    return Response(json_text(obj) + "\n", status_code=status, media_type="application/json", headers=headers)


def _error(status: int, code: str, message: str, problems: list | None = None, headers=None, **extra) -> Response:
    body = {"error": code, "status": status, "message": message, "problems": problems or []}
    body.update(extra)
    return _json(body, status, headers)


def _as_of(request: Request) -> _dt.date | None:
    raw = request.query_params.get("as_of")
    if raw in (None, ""):
        return None
    try:
        return _dt.date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "bad-parameter", f"as_of: not a date (YYYY-MM-DD): {raw!r}", parameter="as_of")


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes `limit` (before reading it all)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "too-large", f"request body is {int(declared):,} bytes; the limit is {limit:,}",
                       limit=limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "too-large", f"request body is over the limit of {limit:,} bytes", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _text(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ApiError(400, "bad-input", f"{source}: the body is not UTF-8 text (byte {e.start})")


# ---------------------------------------------------------------- routes

async def decisions(request: Request) -> Response:
    """One transaction (JSON or YAML) -> its decision, exactly as `evaluate --format json`."""
    desk: Desk = request.app.state.desk
    settings: Settings = request.app.state.settings
    as_of = _as_of(request)
    mt = _media_type(request)
    if mt in JSON_TYPES:
        source = "request.json"
    elif mt in YAML_TYPES:
        source = "request.yaml"
    else:
        raise ApiError(415, "unsupported-media-type",
                       f"send the transaction as Content-Type application/json or application/yaml, not {mt or 'nothing'!r}")
    with anyio.fail_after(settings.timeout):
        text = _text(await _body(request, settings.max_body), source)
        recs = await anyio.to_thread.run_sync(desk.read_one, text, source)
        if len(recs) != 1:
            raise ApiError(400, "bad-input", f"{source}: {len(recs)} transactions in one request; "
                           "send one, or use POST /v1/decisions:batch (JSON Lines)")
        if recs[0].error is not None:
            return _error(400, "bad-input", "the transaction has problems; nothing was evaluated",
                          [problem(d) for d in recs[0].error.diagnostics])
        [out] = await anyio.to_thread.run_sync(desk.decide_records, recs, as_of)
    return _json(out)


async def validate(request: Request) -> Response:
    """Read and validate a transaction without deciding it: the page's YAML tab uses it to fill the form."""
    desk: Desk = request.app.state.desk
    settings: Settings = request.app.state.settings
    mt = _media_type(request)
    if mt not in JSON_TYPES | YAML_TYPES:
        raise ApiError(415, "unsupported-media-type", "send application/json or application/yaml")
    source = "request.json" if mt in JSON_TYPES else "request.yaml"
    with anyio.fail_after(settings.timeout):
        text = _text(await _body(request, settings.max_body), source)
        recs = await anyio.to_thread.run_sync(desk.read_one, text, source)
    if len(recs) != 1:
        raise ApiError(400, "bad-input", f"{source}: {len(recs)} transactions in one request; send one")
    rec = recs[0]
    if rec.error is not None:
        return _error(400, "bad-input", "the transaction has problems", [problem(d) for d in rec.error.diagnostics])
    return _json({"valid": True, "transaction": rec.transaction.data, "input_digest": rec.transaction.digest})


async def decisions_batch(request: Request) -> Response:
    """JSON Lines in, JSON Lines out, streamed in input order; a bad line is an error record in place."""
    desk: Desk = request.app.state.desk
    settings: Settings = request.app.state.settings
    as_of = _as_of(request)
    mt = _media_type(request)
    if mt not in JSONL_TYPES | JSON_TYPES:
        raise ApiError(415, "unsupported-media-type",
                       f"send JSON Lines as Content-Type application/x-ndjson, not {mt or 'nothing'!r}")
    declared = request.headers.get("content-length")
    limit = settings.max_batch_body
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "too-large", f"request body is {int(declared):,} bytes; the limit is {limit:,}",
                       limit=limit)
    source = "request.jsonl"
    lines = _lines(request, limit, settings.timeout)
    first = []
    async for n, raw in lines:      # find the first record before answering, so "nothing" is a 400
        if raw.strip():
            first.append((n, raw))
            break
    if not first:
        raise ApiError(400, "bad-input", f"{source}: no transactions in the input")

    def decide(batch):
        recs = []
        for n, raw in batch:
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                line = None
                from ..diagnostics import Diagnostic, ExportctlError
                from ..facts import Record
                from ..source import Span

                recs.append(Record(f"{source}:{n}", error=ExportctlError(
                    Diagnostic("E601", f"not UTF-8 text (byte {e.start + 1} of the line)", Span(source, n, e.start + 1)))))
            if line is not None:
                rec = desk.read_line(line, n, source)
                if rec is not None:
                    recs.append(rec)
        return "".join(json_text(d) + "\n" for d in desk.decide_records(recs, as_of))

    async def out():
        batch = list(first)
        try:
            async for n, raw in lines:
                if raw.strip():
                    batch.append((n, raw))
                if len(batch) >= BATCH_CHUNK:
                    yield await anyio.to_thread.run_sync(decide, batch)
                    batch = []
            if batch:
                yield await anyio.to_thread.run_sync(decide, batch)
        except ApiError as e:   # the answer has started: the refusal becomes the last record
            yield json_text({"source": source, "error": [{"code": e.code, "severity": "error", "message": e.message}]}) + "\n"
        except RecordError as e:
            yield json_text({"source": source, "error": [{"code": "record-failed", "severity": "error",
                                                          "message": str(e)}]}) + "\n"

    return StreamingResponse(out(), media_type="application/x-ndjson")


async def _lines(request: Request, limit: int, timeout: float):
    """(line number, bytes) of the body as it arrives; over `limit` bytes or `timeout` seconds
    without data raises ApiError."""
    buf, size, n = b"", 0, 0
    stream = request.stream().__aiter__()
    while True:
        try:
            with anyio.fail_after(timeout):
                chunk = await stream.__anext__()
        except StopAsyncIteration:
            break
        except TimeoutError:
            raise ApiError(408, "timeout", f"no data for {timeout:g} s")
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "too-large", f"request body is over the limit of {limit:,} bytes", limit=limit)
        buf += chunk
        if b"\n" in buf:
            *done, buf = buf.split(b"\n")
            for line in done:
                n += 1
                yield n, line
    if buf:
        yield n + 1, buf


async def policies(request: Request) -> Response:
    return _json(request.app.state.desk.policies_info())


async def schema(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in ("transaction", "decision"):
        raise ApiError(404, "not-found", f"no schema {name!r}: transaction or decision")
    return _json(request.app.state.desk.schema(name))


async def healthz(request: Request) -> Response:
    desk: Desk = request.app.state.desk
    return _json({"status": "ok", "policy_digest": desk.ps.digest, "recording": bool(desk.record)})


async def openapi(request: Request) -> Response:
    from .openapi import document

    return _json(document(request.app.state.desk))


async def example_list(request: Request) -> Response:
    return _json({"examples": [{"name": k, "title": v} for k, v in examples().items()]})


async def example(request: Request) -> Response:
    name = request.path_params["name"]
    known = examples()
    if name not in known:          # only names from the list: a request never names a path
        raise ApiError(404, "not-found", f"no example {name!r}")
    text = (examples_root() / f"{name}.yaml").read_text(encoding="utf-8")
    return PlainTextResponse(text, media_type="application/yaml")


async def page(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", media_type="text/html")


# ---------------------------------------------------------------- errors and guards

async def _api_error(request, exc: ApiError):
    return _error(exc.status, exc.code, exc.message, **exc.extra)


async def _http_error(request, exc: HTTPException):
    return _error(exc.status_code, "http", exc.detail or "", headers=getattr(exc, "headers", None))


async def _record_error(request, exc: RecordError):
    return _error(503, "record-failed", f"{exc}; the decision was not given", )


async def _timeout(request, exc: TimeoutError):
    return _error(503, "timeout", "the request took longer than the server's time limit")


async def _internal(request, exc: Exception):
    # an engine bug: say so plainly, never a traceback (the server's log has it)
    return _error(500, "internal", f"E901 internal error, please report: {type(exc).__name__}")


class _Guard:
    """Bearer token on the API (when one is set) and security headers on every answer."""

    OPEN = ("/", "/healthz", "/static/")

    def __init__(self, app, token: str | None):
        self.app, self.token = app, token

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        if self.token and not (path == "/" or path == "/healthz" or path.startswith("/static/")):
            auth = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
            given = auth[7:] if auth.lower().startswith("bearer ") else ""
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                body = json_text({"error": "unauthorized", "status": 401, "problems": [],
                                  "message": "this server needs a bearer token: Authorization: Bearer <token>"})
                resp = Response(body + "\n", 401, media_type="application/json",
                                headers={"WWW-Authenticate": 'Bearer realm="exportctl"'})
                return await resp(scope, receive, send)

        async def send_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                            (b"content-security-policy",
                             b"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"),
                            (b"cache-control", b"no-store")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_headers)


def create_app(settings: Settings | None = None, desk: Desk | None = None) -> Starlette:
    """The ASGI app. Loads (and checks) the policies now: a broken folder raises ExportctlError."""
    settings = settings or Settings()
    desk = desk or Desk(settings.policies, settings.record)
    routes = [
        Route("/", page),
        Route("/healthz", healthz),
        Route("/openapi.json", openapi),
        Route("/v1/decisions", decisions, methods=["POST"]),
        Route("/v1/decisions:batch", decisions_batch, methods=["POST"]),
        Route("/v1/transactions:validate", validate, methods=["POST"]),
        Route("/v1/policies", policies),
        Route("/v1/schema/{name}", schema),
        Route("/v1/examples", example_list),
        Route("/v1/examples/{name}", example),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = []
    if settings.allowed_hosts:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=list(settings.allowed_hosts)))
    app = Starlette(routes=routes, middleware=middleware, exception_handlers={
        ApiError: _api_error, HTTPException: _http_error, RecordError: _record_error,
        TimeoutError: _timeout, Exception: _internal})
    app.state.desk = desk
    app.state.settings = settings
    guarded = _Guard(app, settings.token)
    guarded.state = app.state        # tests and the runner reach the desk through it
    return guarded
