"""A real PostgreSQL with pgvector for the tests (ragtune.testing.postgres), one per session.

Skipped with the reason when no server can start here; ``RAGTUNE_REQUIRE_POSTGRES=1`` (set by
``.ci/run``) turns that skip into a failure, so CI never passes without running these tests.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from ragtune.index.base import Store
from ragtune.index.postgres_store import PostgresStore
from ragtune.index.vectors import AnnConfig
from ragtune.testing.postgres import PostgresServer, PostgresUnavailable
from ragtune.testing.store import EMBEDDER

_schemas = itertools.count()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        if os.environ.get("RAGTUNE_REQUIRE_POSTGRES"):
            pytest.fail(f"RAGTUNE_REQUIRE_POSTGRES is set but no PostgreSQL could start: {exc}")
        pytest.skip(f"no PostgreSQL with pgvector here: {exc}")
    try:
        yield server.url
    finally:
        server.stop()


def new_schema() -> str:
    return f"t{os.getpid()}_{next(_schemas)}"


def empty_schema(url: str, schema: str) -> None:
    """Leave ``schema`` without rows (fast: a truncate, not a drop and re-create)."""
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass(%s)", (f"{schema}.documents",)).fetchone()[0] is not None:
            conn.execute(f"TRUNCATE {schema}.documents, {schema}.document_access, {schema}.chunks RESTART IDENTITY")


def store_factory(url: str, ann: AnnConfig | None = None) -> Callable[[Path], Store]:
    """``make_store`` for the conformance suites: one schema per test, emptied on every call."""
    schema = new_schema()

    def make(path: Path) -> Store:
        empty_schema(url, schema)
        return PostgresStore(url, EMBEDDER.identity, EMBEDDER.dimension, ann, schema=schema, pool_size=2)

    return make
