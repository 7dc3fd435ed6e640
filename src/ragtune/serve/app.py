"""The FastAPI application: authentication, limits, errors, metrics and the web UI; the endpoints
themselves live in ``openai_routes`` and ``native_routes``."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ragtune.version import __version__
from ragtune.config import ServeConfig
from ragtune.errors import RagtuneError, RegistryError
from ragtune.serve.audit import AuditLog
from ragtune.serve.keys import ApiKey, KeyRing
from ragtune.serve.metrics import ServerMetrics
from ragtune.serve.ratelimit import RateLimiter
from ragtune.serve.service import ModelNotFound, Service
from ragtune.types import Principal

logger = logging.getLogger(__name__)
T = TypeVar("T")
ANONYMOUS = "anonymous"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ApiError(Exception):
    """An error answered as ``{"error": {"message", "type", "code"}}``, OpenAI's shape."""

    def __init__(self, status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.headers = status, message, kind, headers or {}


def error_body(message: str, kind: str, status: int) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": status}}


@dataclass(frozen=True, slots=True)
class Caller:
    principal: Principal
    key: ApiKey | None
    """None when the server runs open on loopback and the request brought no key."""

    @property
    def admin(self) -> bool:
        return self.key is not None and self.key.admin

    def audit_fields(self) -> dict[str, Any]:
        return {"key_id": self.key.id if self.key else None, "user": self.principal.user_id,
                "groups": sorted(self.principal.groups)}


@dataclass
class ServerState:
    service: Service
    keys: KeyRing
    settings: ServeConfig
    open_access: bool
    audit: AuditLog
    metrics: ServerMetrics
    limiter: RateLimiter

    async def run(self, work: Callable[[], T]) -> T:
        """Run blocking work on the thread pool, bounded by ``request_timeout`` (504 after)."""
        try:
            return await asyncio.wait_for(run_in_threadpool(work), self.settings.request_timeout)
        except TimeoutError:
            raise ApiError(504, f"the request took longer than serve.request_timeout "
                                f"({self.settings.request_timeout:g} s)", "timeout") from None


class BodyLimit:
    """Refuses a request body over ``limit`` bytes with 413, whether it announces its length or
    streams it in chunks, before the endpoint reads it whole."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        seen = 0
        started = refused = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 went out; whatever the app answers to the cut body is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        async def counted() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit and not started:
                    await self._refuse(send)
                    refused = True
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, counted, tracked)

    async def _refuse(self, send: Send) -> None:
        body = JSONResponse(error_body(f"the request body is larger than serve.max_body_bytes ({self.limit} bytes)",
                                       "request_too_large", 413), status_code=413)
        await body({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def state(request: Request) -> ServerState:
    return request.app.state.ragtune


def caller(request: Request) -> Caller:
    """Who is calling: the principal of the bearer key (or ``X-API-Key``). No key is 401 unless
    the server runs open on loopback; every caller is rate-limited per key."""
    st = state(request)
    header = request.headers.get("authorization", "")
    presented = header[7:].strip() if header[:7].lower() == "bearer " else request.headers.get("x-api-key", "").strip()
    if presented:
        key = st.keys.lookup(presented)
        if key is None:
            raise ApiError(401, "invalid API key", "invalid_api_key", {"WWW-Authenticate": "Bearer"})
        who = Caller(key.principal, key)
    elif st.open_access:
        who = Caller(Principal(ANONYMOUS), None)
    else:
        raise ApiError(401, "missing API key: send 'Authorization: Bearer <key>' (ragtune keys create)",
                       "invalid_api_key", {"WWW-Authenticate": "Bearer"})
    bucket = who.key.id if who.key else f"ip:{request.client.host if request.client else '?'}"
    wait = st.limiter.take(bucket)
    if wait > 0:
        st.metrics.rate_limited.inc()
        raise ApiError(429, f"rate limit: {st.settings.rate_limit_per_minute} requests per minute per key; "
                            f"retry in {wait:.1f} s", "rate_limit_exceeded", {"Retry-After": str(max(1, round(wait)))})
    return who


CallerDep = Annotated[Caller, Depends(caller)]


def admin(who: CallerDep) -> Caller:
    if not who.admin:
        raise ApiError(403, "this needs an admin key (ragtune keys create --admin)", "permission_denied")
    return who


AdminDep = Annotated[Caller, Depends(admin)]


def create_app(service: Service, keys: KeyRing, *, settings: ServeConfig | None = None,
               open_access: bool = False, audit: AuditLog | None = None) -> FastAPI:
    """The app over ``service``. ``open_access``: requests without a key run as the anonymous
    public principal (the CLI allows it on loopback only)."""
    from ragtune.serve.native_routes import router as native
    from ragtune.serve.openai_routes import router as openai

    settings = settings or service.config.serve
    audit = audit or AuditLog(service.workspace.audit_log,
                              max_bytes=settings.audit_max_bytes, backups=settings.audit_backups)
    # no /docs or /redoc: they load Swagger UI and ReDoc from a CDN, unreachable air-gapped
    app = FastAPI(title="ragtune", version=__version__, docs_url=None, redoc_url=None,
                  description="RAG and tuned models over your documents; every request runs as its key's principal.")
    metrics = ServerMetrics()
    app.state.ragtune = ServerState(service, keys, settings, open_access, audit, metrics,
                                    RateLimiter(settings.rate_limit_per_minute))
    app.include_router(openai)
    app.include_router(native)
    _add_errors(app)
    _add_metrics(app, metrics)
    _add_ui(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app


def _add_errors(app: FastAPI) -> None:
    def answer(status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(error_body(message, kind, status), status_code=status, headers=headers)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return answer(exc.status, exc.message, exc.kind, exc.headers)

    @app.exception_handler(ModelNotFound)
    @app.exception_handler(RegistryError)
    async def not_found(_: Request, exc: Exception) -> JSONResponse:
        return answer(404, str(exc), "model_not_found")

    @app.exception_handler(RagtuneError)
    async def bad_request(_: Request, exc: RagtuneError) -> JSONResponse:
        return answer(400, str(exc), "invalid_request_error")

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        return answer(422, f"invalid request: {problems}", "invalid_request_error")

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return answer(exc.status_code, str(exc.detail), "invalid_request_error", dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error")
        return answer(500, f"internal error ({type(exc).__name__}); see the server log", "server_error")


def _add_metrics(app: FastAPI, metrics: ServerMetrics) -> None:
    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        metrics.in_flight.inc()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            metrics.in_flight.dec()
            route = getattr(request.scope.get("route"), "path", "unmatched")
            metrics.requests.labels(route, request.method, str(status)).inc()
            metrics.latency.labels(route).observe(time.perf_counter() - started)


def _add_ui(app: FastAPI) -> None:
    ui = resources.files("ragtune.serve").joinpath("ui")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(str(ui.joinpath("index.html")))

    @app.get("/admin", include_in_schema=False)
    async def admin_page() -> FileResponse:
        return FileResponse(str(ui.joinpath("admin.html")))

    app.mount("/ui", StaticFiles(directory=str(ui)), name="ui")
