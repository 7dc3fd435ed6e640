"""Question answering as Python functions; the CLI and the server call these."""

from __future__ import annotations

import numpy as np

from ragtune.config import RagtuneConfig
from ragtune.embed.base import Embedder
from ragtune.generate.answer_scorer import AnswerScorer, FeatureAnswerScorer
from ragtune.generate.assistant import Assistant
from ragtune.generate.extractive import ExtractiveReader
from ragtune.generate.base import LLM
from ragtune.generate.citations import Similarity
from ragtune.generate.expand import attach_expander
from ragtune.retrieve.api import open_cross_encoder, open_retriever
from ragtune.retrieve.retriever import Retriever
from ragtune.workspace import Workspace


def embedding_similarity(embedder: Embedder) -> Similarity:
    """Cosine of two texts' embeddings (the embedder returns unit vectors)."""

    def similarity(a: str, b: str) -> float:
        vectors = embedder.embed([a, b])
        return float(np.dot(vectors[0], vectors[1]))

    return similarity


def open_reader(config: RagtuneConfig, retriever: Retriever) -> ExtractiveReader:
    """The extractive reader: ``[answer] scorer`` (a trained cross-encoder) or the built-in
    feature scorer."""
    scorer: AnswerScorer
    if config.answer.scorer:
        scorer = open_cross_encoder(config.answer.scorer, field="answer.scorer")
    else:
        scorer = FeatureAnswerScorer()
    return ExtractiveReader(scorer, max_evidence=config.answer.max_evidence)


def open_assistant(
    workspace: Workspace, config: RagtuneConfig | None = None, *, llm: LLM | None = None, with_llm: bool | None = None
) -> Assistant:
    """An assistant over the workspace index with the configured model; ``assistant.close()`` (or
    ``with``) frees both.

    ``with_llm=False`` loads no language model (only extractive answers); by default one is
    loaded unless ``[answer] mode`` is ``extract``."""
    from ragtune.generate.factory import build_llm

    config = config or workspace.load_config()
    with_llm = (config.answer.mode == "generate" or llm is not None) if with_llm is None else with_llm
    retriever = open_retriever(workspace, config)
    try:
        reader = open_reader(config, retriever)
        llm = (llm or build_llm(config.llm)) if with_llm else None
    except BaseException:
        retriever.close()
        raise
    # [retrieval] expand writes with the answering model; without one it loads when first needed.
    attach_expander(retriever, config.llm, llm=llm)
    similarity = None
    if config.answer.semantic_threshold is not None and retriever.embedder is not None:
        similarity = embedding_similarity(retriever.embedder)
    return Assistant(retriever, llm, config.llm, config.answer, similarity, reader)


def close_assistant(assistant: Assistant) -> None:
    """The same as ``assistant.close()`` (or ``with open_assistant(ws) as assistant:``)."""
    assistant.close()
