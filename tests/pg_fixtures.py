"""A real PostgreSQL with pgvector for the tests (ragtune.testing.postgres), one per session.

Skipped with the reason when no server can start here; ``RAGTUNE_REQUIRE_POSTGRES=1`` (set by
``.ci/run``) turns that skip into a failure, so CI never passes without running these tests.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

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


def store_factory(url: str, ann: AnnConfig | None = None) -> Callable[[Path], Store]:
    """``make_store`` for the conformance suites: a new schema on every call (creating one costs
    ~30 ms, less than truncating a used one), so every store starts empty and none share rows."""

    def make(path: Path) -> Store:
        return PostgresStore(url, EMBEDDER.identity, EMBEDDER.dimension, ann, schema=new_schema(), pool_size=2)

    return make
