"""The Starlette application of `symderiv serve`: the page, its static files and the JSON API.

    POST /api/check  {problem, quantity, claim} -> what `symderiv check --json` prints
    POST /api/grade  {problem, text}            -> what `symderiv grade --json` prints for the submission
    POST /api/view   {problem, text}            -> {report: as /api/grade, lines, parts}: the page's view
    GET  /api/problems                          -> the answer keys and their parts

Nothing from the client names a file: a problem id is looked up among the keys loaded at start-up.
Bodies are read up to a cap and the fields have limits (413 beyond them); a client that sends too
many requests gets 429 with Retry-After; a check over the time limit 504. Every error is a JSON
object {"error": "<one line>"}, an unexpected failure included (500). Non-finite floats (an
infinite relative error) become null, since JSON has no Infinity; text that is not valid Unicode
(a lone surrogate) is refused with 400. Answers are kept in memory up to CACHE_BYTES of JSON.
The client's address comes from X-Forwarded-For only when the connection comes from one of
`config.forwarded_allow_ips`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
from collections import OrderedDict
from pathlib import Path

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from symderiv.web import jobs
from symderiv.web.config import (
    CACHE_BYTES,
    LOOPBACK_HOSTS,
    MAX_BODY_BYTES,
    MAX_CLAIM_CHARS,
    MAX_QUANTITY_CHARS,
    MAX_TEXT_BYTES,
    ServeConfig,
    is_loopback,
)
from symderiv.web.library import Problem, load_keys, quantity_name
from symderiv.web.pool import JobTimeout, PoolBusy, PoolError, WorkerPool
from symderiv.web.ratelimit import RateLimiter
from symderiv.web.view import hidden_report, hidden_verdict, hidden_view, prose_html

STATIC = Path(__file__).resolve().parent / "static"
MAX_PROBLEM_CHARS = 200
log = logging.getLogger("symderiv.serve")
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
        b"frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class ApiResponse(JSONResponse):
    def render(self, content) -> bytes:
        # "replace": a lone surrogate that got this far becomes "?" rather than a text/plain 500
        return json.dumps(_finite(content), ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")


def _error(status: int, message: str, headers: dict | None = None) -> ApiResponse:
    return ApiResponse({"error": message}, status_code=status, headers=headers)


class SecurityHeaders:
    """Adds a strict Content-Security-Policy and friends to every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _shown(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def host_name(host: str) -> str:
    """The name in a Host header, without its port: "[::1]:8000" -> "::1", "localhost:80" -> "localhost"."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.split(":", 1)[0] if host.count(":") == 1 else host


class LoopbackHostOnly:
    """On a loopback server, a request whose Host is not a loopback name (localhost, any 127.x.y.z,
    ::1) is refused with 400, so a page on another site cannot reach it by DNS rebinding."""

    def __init__(self, app, names: list[str] | None = None):
        self.app, self.names = app, {n.strip("[]").lower() for n in names or ()}

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        host = Headers(scope=scope).get("host", "")
        name = host_name(host)
        if name in self.names or is_loopback(name):
            return await self.app(scope, receive, send)
        response = _error(400, f"this server answers on this machine only (Host {_shown(host, 60)!r} is not local)")
        return await response(scope, receive, send)


async def read_json(request: Request) -> dict:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise ApiError(415, "send a JSON object with Content-Type: application/json")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise ApiError(413, f"the request is {int(length):,} bytes; the limit is {MAX_BODY_BYTES:,}")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise ApiError(413, f"the request is over the limit of {MAX_BODY_BYTES:,} bytes")
    except ClientDisconnect:
        raise ApiError(400, "the client went away before sending the whole request") from None
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError(400, "the request body is not valid JSON (UTF-8)") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the request body must be a JSON object")
    return data


def text_field(data: dict, name: str, *, max_chars: int | None = None, max_bytes: int | None = None) -> str:
    value = data.get(name)
    if value is None:
        raise ApiError(400, f"missing field {name!r}")
    if not isinstance(value, str):
        raise ApiError(400, f"field {name!r} must be a string")
    if max_chars is not None and len(value) > max_chars:
        raise ApiError(413, f"{name} is {len(value):,} characters; the limit is {max_chars:,}")
    if max_bytes is not None and len(value.encode("utf-8", "surrogatepass")) > max_bytes:
        raise ApiError(413, f"{name} is over the limit of {max_bytes // 1024} KB")
    if "\x00" in value:
        raise ApiError(400, f"{name} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(400, f"{name} is not valid Unicode (a lone surrogate, such as \\ud800)") from None
    return value


def problem_summary(p: Problem, hide_feedback: bool = False) -> dict:
    return {
        "id": p.id,
        "title": p.title,
        "statement_html": prose_html(p.statement),
        "parts": list(p.parts),
        "optional": list(p.optional),
        "hide_feedback": hide_feedback or p.hide_feedback,
        "quantities": [
            {"id": q.id, "name": quantity_name(p, q.id), "kind": q.kind, "of": q.of, "wrt": q.wrt} for q in p.quantities
        ],
    }


class AnswerCache:
    """The last answers, bounded by the bytes of their JSON (and of their keys), least recently used out.
    Keys are kept as hashes, so a 256 KB text costs 32 bytes of key."""

    def __init__(self, max_bytes: int):
        self.max_bytes, self.bytes = max_bytes, 0
        self.entries: OrderedDict[bytes, tuple[dict, int]] = OrderedDict()

    @staticmethod
    def _key(key: tuple) -> bytes:
        return hashlib.sha256(json.dumps(key, ensure_ascii=True).encode("ascii")).digest()

    def get(self, key: tuple) -> dict | None:
        digest = self._key(key)
        if digest not in self.entries:
            return None
        self.entries.move_to_end(digest)
        return self.entries[digest][0]

    def put(self, key: tuple, value: dict) -> None:
        size = len(json.dumps(_finite(value), ensure_ascii=False).encode("utf-8", "replace")) + 100
        if size > self.max_bytes // 8:  # one huge answer would push out hundreds of small ones
            return
        digest = self._key(key)
        if digest in self.entries:
            self.bytes -= self.entries.pop(digest)[1]
        self.entries[digest] = (value, size)
        self.bytes += size
        while self.bytes > self.max_bytes:
            self.bytes -= self.entries.popitem(last=False)[1][1]


class Api:
    def __init__(self, config: ServeConfig, problems: dict[str, Problem]):
        self.config, self.problems = config, problems
        self.pool = WorkerPool(config.workers, config.time_limit)
        self.limiter = RateLimiter(config.rate_limit) if config.rate_limit else None
        self.cache = AnswerCache(CACHE_BYTES)
        self.listing = {  # rendered once
            "problems": [problem_summary(p, config.hide_feedback) for p in problems.values()]
        }

    def problem(self, data: dict) -> Problem:
        pid = text_field(data, "problem", max_chars=MAX_PROBLEM_CHARS)
        if pid not in self.problems:
            known = ", ".join(sorted(self.problems))
            raise ApiError(404, f"no problem {_shown(pid)!r} (known: {known})")
        return self.problems[pid]

    def hidden(self, problem: Problem) -> bool:
        """Marks only (before a deadline): `serve --hide-feedback`, or the key's [grading] hide_feedback."""
        return self.config.hide_feedback or problem.hide_feedback

    def admit(self, request: Request) -> None:
        if self.limiter is None:
            return
        client = request.client.host if request.client else "unknown"
        wait = self.limiter.allow(client)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise ApiError(
                429,
                f"too many requests from {client}: the limit is {self.config.rate_limit.requests} "
                f"per {self.config.rate_limit.seconds:g} s; try again in {seconds} s",
                {"Retry-After": str(seconds)},
            )

    async def run(self, key: tuple, fn, *args, heavy: bool = False) -> dict:
        found = self.cache.get(key)
        if found is not None:
            return found
        try:
            result = await self.pool.run(fn, *args, heavy=heavy)
        except JobTimeout as exc:
            raise ApiError(504, str(exc)) from None
        except PoolBusy as exc:
            raise ApiError(503, str(exc), {"Retry-After": "5"}) from None
        except PoolError as exc:
            raise ApiError(500, str(exc)) from None
        if "error" in result and "parts" not in result:
            raise ApiError(400, result["error"])
        self.cache.put(key, result)
        return result

    async def problems_list(self, request: Request):
        return ApiResponse(self.listing)

    async def check(self, request: Request):
        self.admit(request)
        data = await read_json(request)
        problem = self.problem(data)
        quantity = text_field(data, "quantity", max_chars=MAX_QUANTITY_CHARS)
        claim = text_field(data, "claim", max_chars=MAX_CLAIM_CHARS)
        result = await self.run(
            ("check", problem.id, quantity, claim), jobs.check_job, problem, quantity, claim, self.config.symbolic
        )
        return ApiResponse(hidden_verdict(result) if self.hidden(problem) else result)

    async def grade(self, request: Request):
        self.admit(request)
        data = await read_json(request)
        problem = self.problem(data)
        text = text_field(data, "text", max_bytes=MAX_TEXT_BYTES)
        result = await self.run(
            ("grade", problem.id, text), jobs.grade_job, problem, text, self.config.symbolic, heavy=True
        )
        return ApiResponse(hidden_report(result) if self.hidden(problem) else result)

    async def view(self, request: Request):
        self.admit(request)
        data = await read_json(request)
        problem = self.problem(data)
        text = text_field(data, "text", max_bytes=MAX_TEXT_BYTES)
        result = await self.run(
            ("view", problem.id, text), jobs.view_job, problem, text, self.config.symbolic, heavy=True
        )
        return ApiResponse(hidden_view(result) if self.hidden(problem) else result)


def _guarded(handler):
    async def endpoint(request: Request):
        try:
            return await handler(request)
        except ApiError as exc:
            return _error(exc.status, exc.message, exc.headers)

    return endpoint


async def _failed(request: Request, exc: Exception):
    """Anything unexpected: a JSON 500 naming the kind of failure (the log has one line for it)."""
    return _error(500, f"the server failed on this request ({type(exc).__name__}); it has been logged")


async def index(request: Request):
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")


def create_app(
    config: ServeConfig | None = None,
    problems: dict[str, Problem] | None = None,
    allowed_hosts: list[str] | None = None,
    on_ready=None,
) -> Starlette:
    """The application. `problems` defaults to the keys of config.keys; `allowed_hosts` (Host
    header names) guards a loopback server against DNS rebinding; `on_ready()` is called once the
    workers have started."""
    config = config or ServeConfig()
    problems = load_keys(config.keys) if problems is None else problems
    api = Api(config, problems)
    first = next(iter(problems.values()))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await api.pool.start(warm_up=(jobs.warm_up, first, config.symbolic))
        if on_ready is not None:
            on_ready()
        try:
            yield
        finally:
            api.pool.close()

    async def not_found(request: Request, exc):
        return _error(getattr(exc, "status_code", 404), getattr(exc, "detail", None) or "not found")

    routes = [
        Route("/", index),
        Route("/api/problems", _guarded(api.problems_list), methods=["GET"]),
        Route("/api/check", _guarded(api.check), methods=["POST"]),
        Route("/api/grade", _guarded(api.grade), methods=["POST"]),
        Route("/api/view", _guarded(api.view), methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [Middleware(SecurityHeaders)]
    if config.forwarded_allow_ips:  # X-Forwarded-For believed from these proxies only (uvicorn's own is off)
        middleware.append(Middleware(ProxyHeadersMiddleware, trusted_hosts=list(config.forwarded_allow_ips)))
    if allowed_hosts:
        middleware.append(Middleware(LoopbackHostOnly, names=allowed_hosts))
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={404: not_found, 405: not_found, Exception: _failed},
    )
    app.state.api = api
    return app


def loopback_hosts() -> list[str]:
    return [h if ":" not in h else f"[{h}]" for h in LOOPBACK_HOSTS]
