"""Question answering as Python functions; the CLI and the server call these."""

from __future__ import annotations

import numpy as np

from ragtune.config import RagtuneConfig
from ragtune.embed.base import Embedder
from ragtune.generate.assistant import Assistant
from ragtune.generate.base import LLM
from ragtune.generate.citations import Similarity
from ragtune.retrieve.api import open_retriever
from ragtune.workspace import Workspace


def embedding_similarity(embedder: Embedder) -> Similarity:
    """Cosine of two texts' embeddings (the embedder returns unit vectors)."""

    def similarity(a: str, b: str) -> float:
        vectors = embedder.embed([a, b])
        return float(np.dot(vectors[0], vectors[1]))

    return similarity


def open_assistant(workspace: Workspace, config: RagtuneConfig | None = None, *, llm: LLM | None = None) -> Assistant:
    """An assistant over the workspace index with the configured model; ``close_assistant`` frees both."""
    from ragtune.generate.factory import build_llm

    config = config or workspace.load_config()
    retriever = open_retriever(workspace, config)
    try:
        llm = llm or build_llm(config.llm)
    except BaseException:
        retriever.store.close()
        raise
    similarity = None
    if config.answer.semantic_threshold is not None and retriever.embedder is not None:
        similarity = embedding_similarity(retriever.embedder)
    return Assistant(retriever, llm, config.llm, config.answer, similarity)


def close_assistant(assistant: Assistant) -> None:
    assistant.retriever.store.close()
    assistant.llm.close()
