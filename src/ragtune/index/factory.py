"""Opens the store a workspace's configuration names (``[index] backend``). Nothing outside
``index/`` names a concrete store: everything else holds a ``Store``."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from ragtune.config import RagtuneConfig
from ragtune.embed.base import Embedder
from ragtune.index.base import Store
from ragtune.index.vectors import AnnConfig
from ragtune.workspace import Workspace


def ann_config(config: RagtuneConfig) -> AnnConfig:
    index = config.index
    return AnnConfig(
        hnsw_min_vectors=index.hnsw_min_vectors,
        exact_max_visible=index.exact_max_visible,
        m=index.hnsw_m,
        ef_construction=index.ef_construction,
        ef_search=index.ef_search,
        oversample=index.oversample,
    )


def _sqlite(workspace: Workspace, config: RagtuneConfig, embedder: Embedder | None) -> Store:
    from ragtune.index.sqlite_store import SqliteStore

    if embedder is None:
        return SqliteStore(workspace.index_dir, None, None, ann_config(config))
    return SqliteStore(workspace.index_dir, embedder.identity, embedder.dimension, ann_config(config))


def _sqlite_exists(workspace: Workspace, config: RagtuneConfig) -> bool:
    from ragtune.index.sqlite_store import DB_NAME

    return (workspace.index_dir / DB_NAME).exists()


def _postgres(workspace: Workspace, config: RagtuneConfig, embedder: Embedder | None) -> Store:
    from ragtune.index.postgres_store import PostgresStore

    index = config.index
    setting = "[index] url" if index.url else f"[index] url_env ({index.url_env})"
    identity, dimension = (embedder.identity, embedder.dimension) if embedder is not None else (None, None)
    return PostgresStore(index.server_url(), identity, dimension, ann_config(config), schema=index.schema_name,
                         pool_size=index.pool_size, setting=setting)


def _postgres_exists(workspace: Workspace, config: RagtuneConfig) -> bool:
    from ragtune.index.postgres_store import schema_exists

    return schema_exists(config.index.server_url(), config.index.schema_name)


class Backend(NamedTuple):
    open: Callable[[Workspace, RagtuneConfig, Embedder | None], Store]
    exists: Callable[[Workspace, RagtuneConfig], bool]
    """Whether the workspace has an index of this backend (without creating one)."""


BACKENDS: dict[str, Backend] = {
    "sqlite": Backend(_sqlite, _sqlite_exists),
    "postgres": Backend(_postgres, _postgres_exists),
}


def index_exists(workspace: Workspace, config: RagtuneConfig) -> bool:
    return BACKENDS[config.index.backend].exists(workspace, config)


def build_store(workspace: Workspace, config: RagtuneConfig, embedder: Embedder | None) -> Store:
    """The configured store. ``embedder``: the one its vectors must come from (checked against
    the index); ``None`` opens it for reading what needs no vectors (status, documents, access)."""
    return BACKENDS[config.index.backend].open(workspace, config, embedder)
