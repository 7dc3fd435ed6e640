"""The PostgreSQL + pgvector store against a real server: the shared suites of
ragtune.testing.store (exact and forced-HNSW planning), then what only this backend has."""

from __future__ import annotations

import pytest

from ragtune.index.vectors import AnnConfig
from ragtune.testing.store import StoreConformance
from tests.pg_fixtures import store_factory

pytestmark = pytest.mark.integration


class TestPostgresStoreDefault(StoreConformance):
    @pytest.fixture
    def make_store(self, postgres_url):  # type: ignore[no-untyped-def]
        return store_factory(postgres_url)


class TestPostgresStoreHnsw(StoreConformance):
    """Every dense search that is not ``exact`` walks the HNSW index with the filter inside."""

    @pytest.fixture
    def make_store(self, postgres_url):  # type: ignore[no-untyped-def]
        return store_factory(postgres_url, AnnConfig(exact_max_visible=0, m=8, ef_construction=32))
