"""Chooses and opens the store a workspace's configuration names."""

from __future__ import annotations

from ragtune.config import RagtuneConfig
from ragtune.embed.base import Embedder
from ragtune.index.sqlite_store import SqliteStore
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


def build_store(workspace: Workspace, config: RagtuneConfig, embedder: Embedder) -> SqliteStore:
    return SqliteStore(workspace.index_dir, embedder.identity, embedder.dimension, ann_config(config))
