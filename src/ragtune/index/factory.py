"""Opens the store a workspace's configuration names (``[index] backend``). Nothing outside
``index/`` names a concrete store: everything else holds a ``Store``."""

from __future__ import annotations

from collections.abc import Callable

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


BACKENDS: dict[str, Callable[[Workspace, RagtuneConfig, Embedder | None], Store]] = {"sqlite": _sqlite}


def build_store(workspace: Workspace, config: RagtuneConfig, embedder: Embedder | None) -> Store:
    """The configured store. ``embedder``: the one its vectors must come from (checked against
    the index); ``None`` opens it for reading what needs no vectors (status, documents, access)."""
    return BACKENDS[config.index.backend](workspace, config, embedder)
