"""Property-based access-control tests of the SQLite store (the properties live in
ragtune.testing.store): nothing invisible ever comes back, and filtering happens before top-k
(the visible results equal an exact search over the visible subset).

Examples: RAGTUNE_ACL_EXAMPLES (default 1000 in CI; set 10000+ for a deeper run).
"""

from __future__ import annotations

import pytest

from ragtune.index.sqlite_store import SqliteStore
from ragtune.index.vectors import AnnConfig
from ragtune.testing.store import EMBEDDER, GROUPS, StoreAccessProperties
from ragtune.types import AccessList, Principal
from tests.pg_fixtures import store_factory


class TestSqliteStoreAccess(StoreAccessProperties):
    """HNSW on from the first vector and exact search disabled, so the graph-search property walks
    the filtered graph itself; the exact-search property asks for ``exact=True``, which bypasses
    the graph, so it checks the same brute-force path as under the default configuration."""

    @pytest.fixture
    def make_store(self):  # type: ignore[no-untyped-def]
        ann = AnnConfig(hnsw_min_vectors=1, exact_max_visible=0, m=8, ef_construction=32)
        return lambda path: SqliteStore(path, EMBEDDER.identity, EMBEDDER.dimension, ann)


def test_empty_access_list_is_visible_to_nobody() -> None:
    assert not AccessList(frozenset(), frozenset()).visible_to(Principal("x", frozenset(GROUPS)))


@pytest.mark.integration
class TestPostgresStoreAccess(StoreAccessProperties):
    """The same properties on PostgreSQL, every non-exact dense search walking the HNSW index
    with the access condition inside (exact_max_visible=0)."""

    @pytest.fixture
    def make_store(self, postgres_url):  # type: ignore[no-untyped-def]
        return store_factory(postgres_url, AnnConfig(exact_max_visible=0, m=8, ef_construction=32))
