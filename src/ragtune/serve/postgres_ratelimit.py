"""The rate limit shared by replicas: one token bucket per key in ``<state schema>.rate_buckets``,
so N replicas together allow ``rate_limit_per_minute`` per key, not N times it.

Taking a token is one statement (``INSERT … ON CONFLICT DO UPDATE … RETURNING``): the row lock
of the upsert serialises replicas taking from the same bucket, so none can read a stale count.
The refill is computed in SQL from the database's ``clock_timestamp()``, the one clock all
replicas share: their own clocks need not agree.
"""

from __future__ import annotations

from ragtune.serve.postgres_state import ServeStateDatabase

# The proposed row (``excluded``) carries the statement's one reading of the clock, for a new
# bucket and an existing one alike. An existing bucket is refilled for the time since its stamp
# (never negative, never above the capacity); one token is taken if there is one.
_TAKE = """
INSERT INTO {table} AS b (bucket, tokens, stamp, allowed)
VALUES (%(bucket)s, %(capacity)s - 1, clock_timestamp(), true)
ON CONFLICT (bucket) DO UPDATE SET (tokens, allowed, stamp) = (
    SELECT CASE WHEN r.tokens >= 1 THEN r.tokens - 1 ELSE r.tokens END, r.tokens >= 1, excluded.stamp
    FROM (SELECT least(%(capacity)s, b.tokens + greatest(0, extract(epoch FROM excluded.stamp - b.stamp)::float8)
                                                * %(per_second)s) AS tokens) AS r
)
RETURNING allowed, tokens
"""


class PostgresRateLimiter:
    """``Limiter`` over the database; the same ``take`` as the in-process ``RateLimiter``."""

    def __init__(self, database: ServeStateDatabase, per_minute: int) -> None:
        self.database = database
        self.per_minute = per_minute
        self._per_second = per_minute / 60.0
        self._statement = _TAKE.format(table=f"{database.schema}.rate_buckets")

    def take(self, key: str) -> float:
        """0.0 when the request may go ahead (one token taken), else the seconds until it may."""
        if self.per_minute <= 0:
            return 0.0
        params = {"bucket": key, "capacity": float(self.per_minute), "per_second": self._per_second}
        with self.database.connection() as conn:
            allowed, tokens = conn.execute(self._statement, params).fetchone()
        return 0.0 if allowed else (1.0 - tokens) / self._per_second
