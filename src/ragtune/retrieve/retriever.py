"""Search as a principal: embed the query, ask the store (ACL and filters applied inside), fuse,
optionally rerank and diversify. Timings per stage are returned with the hits.

With ``[retrieval] expand`` (``retrieve/expansion.py``) the question is first expanded by a
``QueryExpander``: ``hyde`` changes the dense query vector, ``multi`` searches rewordings too and
fuses their lists with the question's. Either way each hit's ``dense`` score stays its cosine with
the question itself, so the assistant's relevance gate means what it means without expansion."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ragtune.config import RetrievalConfig
from ragtune.embed.base import Embedder, normalise
from ragtune.index.base import Hit, SearchRequest, SearchResults, Store
from ragtune.retrieve.expansion import Expansion, QueryExpander, changes_nothing, missing_expander
from ragtune.retrieve.fusion import reciprocal_rank_fusion, weighted_score_fusion
from ragtune.retrieve.mmr import mmr
from ragtune.retrieve.rerank import Reranker
from ragtune.types import Principal

Mode = Literal["hybrid", "dense", "bm25"]


@dataclass(slots=True)
class Retrieval:
    query: str
    mode: str
    hits: list[Hit]
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per stage: ``expand`` (the language model, 0 when cached; only with expansion),
    ``embed``, ``search``, ``fuse``, ``rerank``, ``total``."""
    expansion: Expansion | None = None
    """What ``[retrieval] expand`` added to the question; None when it is off."""

    def to_dict(self) -> dict[str, Any]:
        shown = {
            "query": self.query,
            "mode": self.mode,
            "timings_ms": {k: round(v * 1000, 3) for k, v in self.timings.items()},
            "hits": [h.to_dict() for h in self.hits],
        }
        if self.expansion is not None:
            shown["expansion"] = self.expansion.to_dict()
        return shown


class Retriever:
    def __init__(
        self,
        store: Store,
        embedder: Embedder | None,
        config: RetrievalConfig | None = None,
        reranker: Reranker | None = None,
        expander: QueryExpander | None = None,
    ) -> None:
        """``expander`` is needed only when ``config.expand`` is not ``off``."""
        self.store = store
        self.embedder = embedder
        self.config = config or RetrievalConfig()
        self.reranker = reranker
        self.expander = expander

    def close(self) -> None:
        """Close the store and the expander (which frees only a model it loaded itself; the
        embedder and reranker hold no resources to release)."""
        try:
            self.store.close()
        finally:
            if self.expander is not None:
                self.expander.close()

    def __enter__(self) -> Retriever:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def search(
        self,
        query: str,
        principal: Principal,
        *,
        k: int | None = None,
        mode: Mode | None = None,
        filters: Mapping[str, Any] | None = None,
        rerank: bool | None = None,
    ) -> Retrieval:
        cfg = self.config
        k = k or cfg.k
        mode = mode or cfg.mode
        timings: dict[str, float] = {}
        started = time.perf_counter()
        expansion = self._expand(query, mode) if cfg.expand != "off" else None
        if expansion is not None:
            timings["expand"] = expansion.seconds
        tick = time.perf_counter()
        vector = None
        if mode in ("hybrid", "dense"):
            if self.embedder is None:
                raise ValueError(f"mode '{mode}' needs an embedder")
            vector = self.embedder.embed_query(query)
        # (name, text for BM25, dense vector): the question, then what expansion adds.
        queries: list[tuple[str, str, Any]] = [("question", query, vector)]
        hyde = expansion is not None and expansion.mode == "hyde" and bool(expansion.texts) and vector is not None
        if hyde:
            # HyDE: the normalised mean of the question's and the passage's embeddings. The
            # passage is embedded as a document (it stands for one); BM25 keeps the question.
            passage = self.embedder.embed([expansion.texts[0]])[0]  # type: ignore[union-attr]
            queries = [("question", query, normalise(vector + passage))]
        elif expansion is not None and expansion.mode == "multi":
            queries += [
                (f"rewording {n}", text, self.embedder.embed_query(text) if vector is not None else None)  # type: ignore[union-attr]
                for n, text in enumerate(expansion.texts, start=1)
            ]
        timings["embed"] = time.perf_counter() - tick

        use_rerank = self.reranker is not None and (rerank if rerank is not None else True)
        depth = max(k, cfg.candidates if mode == "hybrid" or use_rerank or cfg.mmr else k)
        # Expanded dense searches bring each hit's vector, to score it against the question itself.
        rescore = vector is not None and (hyde or len(queries) > 1)
        with_vectors = cfg.mmr or rescore
        timings["search"] = timings["fuse"] = 0.0
        ranked: dict[str, list[Hit]] = {}
        for name, text, query_vector in queries:
            tick = time.perf_counter()
            found = self.store.search(
                SearchRequest(
                    principal=principal,
                    vector=query_vector,
                    text=text if mode in ("hybrid", "bm25") else None,
                    k=depth,
                    filters=filters,
                    exact=cfg.exact,
                    with_vectors=with_vectors,
                )
            )
            timings["search"] += time.perf_counter() - tick
            tick = time.perf_counter()
            ranked[name] = self._fuse(found, mode)
            timings["fuse"] += time.perf_counter() - tick

        tick = time.perf_counter()
        if len(ranked) == 1:
            hits = ranked["question"]
        else:
            # The question's list last, so a chunk it found keeps the question's own scores.
            order = [*list(ranked)[1:], "question"]
            hits = reciprocal_rank_fusion({name: ranked[name] for name in order}, {}, cfg.rrf_k)
        if rescore:
            for hit in hits:
                if "dense" in hit.scores and hit.vector is not None:
                    if hyde:
                        hit.scores["hyde"] = hit.scores["dense"]  # the cosine with the HyDE vector
                    hit.scores["dense"] = float(np.dot(vector, hit.vector))
        if rescore or len(ranked) > 1:
            timings["fuse"] += time.perf_counter() - tick

        if use_rerank and hits:
            tick = time.perf_counter()
            head = hits[: cfg.rerank_top_n]
            scores = self.reranker.score(query, [h.text for h in head])
            for hit, score in zip(head, scores):
                hit.scores["rerank"] = float(score)
                hit.score = float(score)
            hits = sorted(head, key=lambda h: (-h.score, h.chunk_id)) + hits[cfg.rerank_top_n :]
            timings["rerank"] = time.perf_counter() - tick
        if cfg.mmr and vector is not None:
            hits = mmr(vector, hits, k, cfg.mmr_lambda)
        for hit in hits:
            hit.vector = None
        timings["total"] = time.perf_counter() - started
        return Retrieval(query, mode, hits[:k], timings, expansion)

    def _fuse(self, found: SearchResults, mode: str) -> list[Hit]:
        """One query's hits: its dense and BM25 lists fused as configured, or the one asked for."""
        cfg = self.config
        if mode == "hybrid":
            lists = {"dense": found.dense, "bm25": found.keyword}
            weights = {"dense": cfg.dense_weight, "bm25": cfg.bm25_weight}
            if cfg.fusion == "rrf":
                return reciprocal_rank_fusion(lists, weights, cfg.rrf_k)
            return weighted_score_fusion(lists, weights)
        return found.dense if mode == "dense" else found.keyword

    def _expand(self, query: str, mode: str) -> Expansion | None:
        """The configured expansion of ``query``; None where it could change nothing (HyDE only
        moves the dense query, and BM25 alone has none), so no model is called for it."""
        cfg = self.config
        if changes_nothing(cfg.expand, mode):
            return None
        if self.expander is None:
            raise missing_expander(cfg.expand)
        return self.expander.expand(query, cfg.expand, count=cfg.expand_queries, max_tokens=cfg.expand_max_tokens)
