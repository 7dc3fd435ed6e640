"""Search use cases as Python functions; the CLI and the server call these."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ragtune.config import RagtuneConfig
from ragtune.embed.base import Embedder
from ragtune.index.base import StoreStatus
from ragtune.index.factory import build_store, index_exists
from ragtune.retrieve.expansion import QueryExpander
from ragtune.retrieve.rerank import CrossEncoderReranker
from ragtune.retrieve.retriever import Mode, Retrieval, Retriever
from ragtune.types import Principal
from ragtune.workspace import Workspace


def open_retriever(
    workspace: Workspace, config: RagtuneConfig | None = None, embedder: Embedder | None = None,
    *, create: bool = False,
) -> Retriever:
    """A retriever over the workspace index; close it with ``retriever.close()``. With
    ``create`` a missing index is created empty (a server that will receive uploads)."""
    from ragtune.embed.factory import build_embedder

    config = config or workspace.load_config()
    if not create and not index_exists(workspace, config):
        from ragtune.errors import RagtuneError

        raise RagtuneError(f"no index in workspace {workspace.root}: run 'ragtune ingest PATH' first")
    embedder = embedder or build_embedder(config.embedder)  # exports cached per user, not per workspace
    store = build_store(workspace, config, embedder)
    reranker = open_cross_encoder(config.retrieval.rerank_model) if config.retrieval.rerank_model else None
    return Retriever(store, embedder, config.retrieval, reranker)


def open_cross_encoder(value: str, field: str = "retrieval.rerank_model") -> CrossEncoderReranker:
    """The cross-encoder a configuration value names: a local CrossEncoder folder, as a loaded
    configuration holds it (a registry reference such as ``name@v2`` has become the reader's
    folder when the workspace loaded its config). It reranks chunks and, having the
    ``AnswerScorer`` shape, scores answer candidates (``field="answer.scorer"``)."""
    return CrossEncoderReranker(value, field=field)


def search(
    workspace: Workspace,
    query: str,
    principal: Principal,
    *,
    k: int | None = None,
    mode: Mode | None = None,
    filters: Mapping[str, Any] | None = None,
    config: RagtuneConfig | None = None,
    expander: QueryExpander | None = None,
) -> Retrieval:
    """``expander``: needed when ``[retrieval] expand`` is on (``ragtune.generate.expand``)."""
    retriever = open_retriever(workspace, config)
    retriever.expander = expander
    try:
        return retriever.search(query, principal, k=k, mode=mode, filters=filters)
    finally:
        retriever.close()


def index_status(workspace: Workspace, config: RagtuneConfig | None = None) -> StoreStatus:
    store = build_store(workspace, config or workspace.load_config(), None)
    try:
        return store.status()
    finally:
        store.close()
