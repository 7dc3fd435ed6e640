"""The FastAPI application: it wires the routes (``serve/routes/``), the per-request
dependencies (``deps``), error mapping, the body limit, metrics and the web UI."""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable
from importlib import resources

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from ragtune.config import ServeConfig
from ragtune.errors import RagtuneError, RegistryError
from ragtune.serve.audit import AuditLog
from ragtune.serve.body_limit import BodyLimit
from ragtune.serve.deps import ServerState
from ragtune.serve.errors import ApiError, StateUnavailable, error_body
from ragtune.serve.keys import KeyRing
from ragtune.serve.metrics import ServerMetrics
from ragtune.serve.ratelimit import Limiter, RateLimiter
from ragtune.serve.replica import replica_id
from ragtune.serve.routes.native import router as native
from ragtune.serve.routes.openai import router as openai
from ragtune.serve.service import ModelNotFound, Service
from ragtune.version import __version__

logger = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def create_app(service: Service, keys: KeyRing, *, settings: ServeConfig | None = None,
               open_access: bool = False, audit: AuditLog | None = None, limiter: Limiter | None = None) -> FastAPI:
    """The app over ``service``. ``open_access``: requests without a key run as the anonymous
    public principal (the CLI allows it on loopback only). ``limiter``: default in this process;
    replicas pass the one shared in the database (``stores.rate_limiter_for``). The replica id
    is the audit log's."""
    settings = settings or service.config.serve
    audit = audit or AuditLog(service.workspace.audit_log, max_bytes=settings.audit_max_bytes,
                              backups=settings.audit_backups, replica=replica_id(settings))
    # no /docs or /redoc: they load Swagger UI and ReDoc from a CDN, unreachable air-gapped
    app = FastAPI(title="ragtune", version=__version__, docs_url=None, redoc_url=None,
                  description="RAG and tuned models over your documents; every request runs as its key's principal.")
    metrics = ServerMetrics()
    app.state.ragtune = ServerState(service, keys, settings, open_access, audit, metrics,
                                    limiter or RateLimiter(settings.rate_limit_per_minute), audit.replica)
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

    @app.exception_handler(StateUnavailable)
    async def unavailable(_: Request, exc: StateUnavailable) -> JSONResponse:
        logger.error("%s", exc)  # the message holds the masked URL only
        return answer(503, "the server cannot reach its key and rate-limit store; retry shortly", "service_unavailable",
                      {"Retry-After": "1"})

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
