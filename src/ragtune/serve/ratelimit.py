"""Per-key rate limit: a token bucket of ``per_minute`` requests, refilled evenly. This one lives
in the process (one server on one machine); ``postgres_ratelimit.PostgresRateLimiter`` keeps the
buckets in the database so that replicas share them (``stores.rate_limiter_for`` picks one)."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Limiter(Protocol):
    per_minute: int

    def take(self, key: str) -> float:
        """0.0 when the request may go ahead (one token taken), else the seconds until it may."""
        ...


class RateLimiter:
    def __init__(self, per_minute: int, clock=time.monotonic) -> None:  # type: ignore[no-untyped-def]
        self.per_minute = per_minute
        self._rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0.0 when the request may go ahead (one token taken), else the seconds until it may."""
        if self.per_minute <= 0:
            return 0.0
        now = self._clock()
        with self._lock:
            tokens, stamp = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - stamp) * self._rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self._rate
