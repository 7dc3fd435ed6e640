"""Per-request dependencies of the endpoints: the server's state, who is calling (API key →
principal, or anonymous on an open loopback server), the rate limit, and admin rights."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from ragtune.config import ServeConfig
from ragtune.serve.audit import AuditLog
from ragtune.serve.errors import ApiError
from ragtune.serve.keys import ApiKey, KeyRing
from ragtune.serve.metrics import ServerMetrics
from ragtune.serve.ratelimit import Limiter
from ragtune.serve.service import Service
from ragtune.types import Principal

T = TypeVar("T")
ANONYMOUS = "anonymous"


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
    limiter: Limiter
    replica: str
    """This server's name among its replicas (``[serve] replica_id``)."""

    async def run(self, work: Callable[[], T]) -> T:
        """Run blocking work on the thread pool, bounded by ``request_timeout`` (504 after)."""
        try:
            return await asyncio.wait_for(run_in_threadpool(work), self.settings.request_timeout)
        except TimeoutError:
            raise ApiError(504, f"the request took longer than serve.request_timeout "
                                f"({self.settings.request_timeout:g} s)", "timeout") from None


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
