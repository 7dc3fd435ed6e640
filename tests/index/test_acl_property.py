"""Property-based access-control tests: nothing invisible ever comes back, and filtering happens
before top-k (the visible results equal an exact search over the visible subset).

Examples: RAGTUNE_ACL_EXAMPLES (default 1000 in CI; set 10000+ for a deeper run).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ragtune.config import AnswerConfig, RetrievalConfig
from ragtune.generate.answer_scorer import FeatureAnswerScorer
from ragtune.generate.assistant import Assistant
from ragtune.generate.extractive import ExtractiveReader
from ragtune.index.base import SearchRequest
from ragtune.index.filters import evaluate
from ragtune.index.sqlite_store import SqliteStore
from ragtune.index.vectors import AnnConfig
from ragtune.retrieve.retriever import Retriever
from ragtune.types import AccessList, Principal
from tests.index.conformance import EMBEDDER
from tests.index.corpus import WORDS, chunk_document, make_document, write_for

EXAMPLES = int(os.environ.get("RAGTUNE_ACL_EXAMPLES", "1000"))
GROUPS = ["public", "hr", "it", "sales", "legal", "exec"]
USERS = ["ann", "ben", "cat", "dan"]
ANSWER_ALL = AnswerConfig(mode="extract", min_similarity=-1.0, min_term_overlap=0.0)  # every hit passes the gate
READER = ExtractiveReader(FeatureAnswerScorer())

documents = st.lists(
    st.tuples(
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=10),
        st.frozensets(st.sampled_from(GROUPS), max_size=2),
        st.frozensets(st.sampled_from(USERS), max_size=2),
        st.integers(0, 9),
    ),
    min_size=1,
    max_size=14,
)
principals = st.builds(
    Principal, st.sampled_from(USERS + ["eve"]), st.frozensets(st.sampled_from(GROUPS[1:]), max_size=3)
)
filters = st.one_of(
    st.none(),
    st.builds(lambda v: {"level": {"$gte": v}}, st.integers(0, 9)),
    st.builds(lambda v: {"level": {"$in": v}}, st.lists(st.integers(0, 9), min_size=1, max_size=4)),
    st.builds(lambda v: {"tags": {"$overlap": v}}, st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=2)),
)


def _build(tmp: Path, docs, ann: AnnConfig) -> tuple[SqliteStore, list]:  # type: ignore[no-untyped-def]
    store = SqliteStore(tmp, EMBEDDER.identity, EMBEDDER.dimension, ann)
    built = []
    for number, (words, groups, users, level) in enumerate(docs):
        tags = ["x", "y", "z"][: level % 4]
        document = make_document(number, words, groups, users, {"level": level, "tags": tags})
        built.append(document)
    store.upsert([write_for(d, EMBEDDER) for d in built])
    return store, built


def _visible_chunks(built, principal: Principal, flt) -> list:  # type: ignore[no-untyped-def]
    out = []
    for document in built:
        if document.access.visible_to(principal) and evaluate(flt, document.metadata, {}):
            out += chunk_document(document)
    return out


SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=False
)


@SETTINGS
@given(
    docs=documents,
    principal=principals,
    query=st.lists(st.sampled_from(WORDS), min_size=1, max_size=4),
    flt=filters,
    k=st.integers(1, 8),
)
def test_exact_search_equals_brute_force_over_the_visible_subset(docs, principal, query, flt, k) -> None:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as tmp:
        store, built = _build(Path(tmp), docs, AnnConfig())
        try:
            text = " ".join(query)
            vector = EMBEDDER.embed_query(text)
            found = store.search(SearchRequest(principal, vector, text, k, filters=flt, exact=True))
            visible = _visible_chunks(built, principal, flt)
            visible_ids = {c.id for c in visible}
            for hit in found.dense + found.keyword:
                assert hit.chunk_id in visible_ids, "an invisible chunk was returned"
            expected = sorted((float(EMBEDDER.embed_query(c.text) @ vector) for c in visible), reverse=True)[:k]
            assert np.allclose([h.score for h in found.dense], expected, atol=1e-5)
            assert len(found.keyword) <= k
            # keyword side: top-k over the visible set, not a post-filtered top-k of everything
            everyone = Principal(principal.user_id, frozenset(GROUPS))  # sees a superset
            words = set(query)
            matching = [c for c in visible if words & set(c.text.split())]
            assert len(found.keyword) == min(k, len(matching))
            if found.keyword:
                broad = store.search(SearchRequest(everyone, None, text, 10_000, filters=flt)).keyword
                reference = [h for h in broad if h.chunk_id in visible_ids][:k]
                assert [round(h.score, 6) for h in found.keyword] == [round(h.score, 6) for h in reference]
        finally:
            store.close()


@SETTINGS
@given(
    docs=documents, principal=principals, query=st.lists(st.sampled_from(WORDS), min_size=1, max_size=4), flt=filters
)
def test_graph_search_and_hybrid_never_leak(docs, principal, query, flt) -> None:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as tmp:
        # HNSW on from the first vector and exact search disabled: the filtered graph path itself
        store, built = _build(
            Path(tmp), docs, AnnConfig(hnsw_min_vectors=1, exact_max_visible=0, m=8, ef_construction=32)
        )
        try:
            visible_ids = {c.id for c in _visible_chunks(built, principal, flt)}
            retriever = Retriever(store, EMBEDDER, RetrievalConfig(candidates=20))
            text = " ".join(query)
            for mode in ("dense", "bm25", "hybrid"):
                hits = retriever.search(text, principal, k=5, mode=mode, filters=flt).hits
                assert {h.chunk_id for h in hits} <= visible_ids
                if mode == "dense":
                    assert len(hits) == min(5, len(visible_ids)), "the filter must not starve the result list"
            # An extractive answer quotes only what the principal may see.
            answer = Assistant(retriever, None, config=ANSWER_ALL, reader=READER).ask(text, principal, filters=flt)
            if not visible_ids:  # nothing visible: refused (a visible chunk of title-like words may be refused too)
                assert not answer.found and not answer.citations
            for quote in answer.evidence:
                assert quote.chunk_id in visible_ids
                assert quote.quote in next(h.text for h in answer.sources if h.chunk_id == quote.chunk_id)
            for document in built:
                shown = store.document(document.id, principal)
                assert (shown is not None) == document.access.visible_to(principal)
        finally:
            store.close()


def test_empty_access_list_is_visible_to_nobody() -> None:
    assert not AccessList(frozenset(), frozenset()).visible_to(Principal("x", frozenset(GROUPS)))
