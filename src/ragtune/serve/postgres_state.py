"""The PostgreSQL schema holding what ``ragtune serve`` replicas share besides the index: the API
keys (``api_keys``) and the rate-limit buckets (``rate_buckets``).

It is a sibling of the index schema (``[serve] state_schema``, default ``<index schema>_serve``),
never the index schema itself: a rebuild-and-swap replaces the index schema whole
(``index/rebuild.py``), and the keys must outlive that. It is created on first use. Statements
name their tables with the schema (no ``search_path`` startup option), so this works through
any pooler.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from ragtune.errors import RagtuneError
from ragtune.index.postgres_store import masked_url
from ragtune.serve.errors import StateUnavailable

POOL_SIZE = 2
"""Connections per server process. A request holds one for a single short statement at a time
(its key's row, then its bucket: each well under a millisecond), so two serve many threads."""
APPLICATION_NAME = "ragtune serve state"
"""How these connections show in ``pg_stat_activity``, apart from the index's."""

TABLES = (
    """CREATE TABLE IF NOT EXISTS {schema}.api_keys (
        sha256 text PRIMARY KEY,
        id text NOT NULL UNIQUE,
        user_name text NOT NULL,
        groups text[] NOT NULL,
        admin boolean NOT NULL,
        label text NOT NULL,
        created timestamptz NOT NULL,
        revoked timestamptz,
        seq bigint GENERATED ALWAYS AS IDENTITY  -- listing order: creation order, as in keys.json
    )""",
    # UNLOGGED: taking a token writes no WAL, so a request never waits for a disk flush on
    # commit. The price: a database crash empties the table and every bucket starts full again,
    # which a rate limit can bear (keys, which must be durable, are in a logged table).
    """CREATE UNLOGGED TABLE IF NOT EXISTS {schema}.rate_buckets (
        bucket text PRIMARY KEY,
        tokens double precision NOT NULL,
        stamp timestamptz NOT NULL,
        allowed boolean NOT NULL
    )""",
)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class ServeStateDatabase:
    """A small connection pool to the state schema, which it creates if missing. ``setting``
    names where the URL came from, for error messages; the URL is only ever shown masked."""

    def __init__(self, url: str, schema: str, *, setting: str) -> None:
        self.schema = schema
        self.location = f"{masked_url(url)} (schema {schema})"
        self._setting = setting
        self._create_schema(url)
        self._pool = ConnectionPool(url, min_size=1, max_size=POOL_SIZE, open=False, timeout=10,
                                    kwargs={"autocommit": True, "connect_timeout": 10,
                                            "application_name": APPLICATION_NAME})
        try:
            self._pool.open(wait=True, timeout=30)
        except Exception as exc:
            self._pool.close()
            raise StateUnavailable(f"cannot open connections to {self.location} ({setting}) for API keys and rate "
                                   f"limits: {_reason(exc)}") from None

    def _create_schema(self, url: str) -> None:
        """On one plain connection first: an unreachable server fails here at once, with its
        reason, rather than after the pool's retries. Under a lock, since two replicas starting
        together would otherwise race in CREATE TABLE."""
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=10, application_name=APPLICATION_NAME) as conn, \
                    conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"ragtune serve state {self.schema}",))
                # Only when missing: CREATE SCHEMA needs the database's CREATE right even with IF NOT
                # EXISTS, which a role given a schema of its own by an administrator may lack.
                if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,)).fetchone() is None:
                    conn.execute(f"CREATE SCHEMA {self.schema}")
                for statement in TABLES:
                    conn.execute(statement.format(schema=self.schema))
        except psycopg.errors.InsufficientPrivilege as exc:
            raise RagtuneError(
                f"cannot create the schema for API keys and rate limits in {self.location}: {_reason(exc)}. Let the "
                "ragtune role create schemas in the database, or create one it owns and name it in [serve] state_schema"
            ) from None
        except psycopg.OperationalError as exc:
            raise StateUnavailable(f"cannot connect to PostgreSQL at {self.location} ({self._setting}) for API keys and "
                                   f"rate limits: {_reason(exc)}") from None

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection (autocommit); an unreachable server becomes ``StateUnavailable``,
        which the HTTP service answers with 503. A connection that broke is dropped by the pool
        and replaced, so a database restart costs the requests in flight, not the replica."""
        try:
            with self._pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise StateUnavailable(f"lost the connection to PostgreSQL at {self.location} ({self._setting}), which holds "
                                   f"the API keys and rate limits: {_reason(exc)}") from None

    def close(self) -> None:
        self._pool.close()
