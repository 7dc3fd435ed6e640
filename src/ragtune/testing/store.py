"""The conformance suites every ``Store`` implementation must pass (after Haystack's
``DocumentStoreBaseTests``).

A backend subclasses ``StoreConformance`` (worked examples) and ``StoreAccessProperties``
(hypothesis properties of access control) and provides the ``make_store`` fixture: a factory that
takes an empty folder and returns a new, empty store there, opened for the suite's embedder
(``EMBEDDER.identity`` and ``EMBEDDER.dimension``: ``hashing-64``, 64-d). A server-backed store
may ignore the folder but must still start empty on every call. Nothing in here may know which
backend it runs against::

    class TestMyStore(StoreConformance):
        @pytest.fixture
        def make_store(self):
            return lambda path: MyStore(path, EMBEDDER.identity, EMBEDDER.dimension)

Needs ``pytest`` and ``hypothesis`` (``pip install 'ragtune[test]'``). The property examples per
test come from ``RAGTUNE_ACL_EXAMPLES`` (default 1000; set 10000+ for a deeper run).
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ragtune.config import AnswerConfig, RetrievalConfig
from ragtune.embed.hashing import HashingEmbedder
from ragtune.generate.answer_scorer import FeatureAnswerScorer
from ragtune.generate.assistant import Assistant
from ragtune.generate.extractive import ExtractiveReader
from ragtune.index.base import DocumentWrite, SearchRequest, SourceFingerprint, Store
from ragtune.index.filters import FilterError, evaluate
from ragtune.retrieve.retriever import Retriever
from ragtune.types import AccessList, Chunk, Document, Principal, content_hash

__all__ = [
    "EMBEDDER",
    "WORDS",
    "MakeStore",
    "StoreAccessProperties",
    "StoreConformance",
    "chunk_document",
    "make_document",
    "write_for",
]

EMBEDDER = HashingEmbedder(64)
"""The embedder whose vector space every suite store holds (no model: hashing of words)."""

MakeStore = Callable[[Path], Store]
"""An empty folder in, a new empty store for ``EMBEDDER`` out."""

# -- a small generated corpus: varied text, metadata and access lists -------------------------

WORDS = (
    "invoice refund bicycle warranty helmet salary leave policy security password laptop travel "
    "expense budget brake chain pedal frame wheel saddle manager holiday contract pension audit"
).split()


def make_document(
    number: int,
    words: list[str],
    groups: frozenset[str] = frozenset({"public"}),
    users: frozenset[str] = frozenset(),
    metadata: dict | None = None,
    chunks: int = 2,
) -> Document:
    parts = [" ".join(words[i::chunks]) or "empty" for i in range(chunks)]
    return Document(
        id=f"doc-{number}",
        source=f"/corpus/file-{number}.txt",
        text="\n\n".join(parts),
        format="text",
        metadata=metadata if metadata is not None else {"n": number},
        access=AccessList(users, groups, origin="test"),
    )


def chunk_document(document: Document) -> list[Chunk]:
    """Paragraphs as chunks, with exact spans."""
    out, start = [], 0
    for part in document.text.split("\n\n"):
        begin = document.text.index(part, start)
        end = begin + len(part)
        out.append(
            Chunk(
                Chunk.make_id(document.id, begin, end),
                document.id,
                document.source,
                part,
                begin,
                end,
                token_count=len(part.split()),
            )
        )
        start = end
    return out


def write_for(document: Document, embedder: HashingEmbedder, origin: str | None = None) -> DocumentWrite:
    chunks = chunk_document(document)
    vectors = embedder.embed([c.text for c in chunks]) if chunks else np.zeros((0, embedder.dimension), np.float32)
    return DocumentWrite(document, chunks, vectors, origin or document.source)


# -- worked examples --------------------------------------------------------------------------

ALICE_HR = Principal("alice", frozenset({"hr"}))
BOB = Principal("bob")
ADMIN = Principal("admin", frozenset({"hr", "it", "staff", "public"}))


def _ids(hits) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.document_id for h in hits]


class StoreConformance:
    """Search, access lists, replacement, deletion, filters and integrity on four documents."""

    @pytest.fixture
    def make_store(self) -> MakeStore:  # pragma: no cover - each backend overrides this
        raise NotImplementedError("provide a make_store fixture: an empty folder -> a new empty Store")

    @pytest.fixture
    def store(self, make_store: MakeStore, tmp_path: Path) -> Iterator[Store]:
        folder = tmp_path / "store"
        folder.mkdir()
        store = make_store(folder)
        yield store
        store.close()

    def _fill(self, store: Store) -> None:
        docs = [
            make_document(
                1,
                "bicycle warranty covers the frame and wheel".split(),
                metadata={"year": 2021, "tags": ["bike", "legal"], "lang": "en"},
            ),
            make_document(
                2,
                "refund policy for a returned helmet".split(),
                metadata={"year": 2023, "tags": ["shop"], "lang": "en"},
            ),
            make_document(
                3,
                "salary bands and pension for every manager".split(),
                frozenset({"hr"}),
                metadata={"year": 2024, "tags": ["hr"], "lang": "de"},
            ),
            make_document(
                4,
                "private note about the salary review".split(),
                frozenset(),
                frozenset({"bob"}),
                metadata={"year": 2022, "lang": "en"},
            ),
        ]
        store.upsert([write_for(d, EMBEDDER) for d in docs])

    def _search(
        self, store: Store, principal: Principal, text: str, k: int = 10, **kwargs
    ) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
        found = store.search(SearchRequest(principal, EMBEDDER.embed_query(text), text, k, **kwargs))
        return _ids(found.dense), _ids(found.keyword)

    def test_is_a_store_for_the_suite_embedder(self, store: Store) -> None:
        assert isinstance(store, Store)
        assert store.embedder == EMBEDDER.identity and store.dimension == EMBEDDER.dimension

    def test_empty_store_returns_nothing(self, store: Store) -> None:
        assert self._search(store, BOB, "anything") == ([], [])
        assert store.status().documents == 0

    def test_hits_carry_their_exact_source_span(self, store: Store) -> None:
        self._fill(store)
        found = store.search(SearchRequest(BOB, EMBEDDER.embed_query("warranty frame"), "warranty frame", 5))
        assert found.dense and found.keyword
        for hit in found.dense + found.keyword:
            document = store.document(hit.document_id, BOB)
            assert document is not None
            assert document.text[hit.start : hit.end] == hit.text
        assert found.keyword[0].document_id == "doc-1"

    def test_access_lists_are_applied_inside_the_search(self, store: Store) -> None:
        self._fill(store)
        dense, keyword = self._search(store, BOB, "salary pension manager", k=10)
        assert "doc-3" not in dense + keyword  # hr only
        assert "doc-4" in keyword  # bob's own note
        dense, keyword = self._search(store, ALICE_HR, "salary pension manager", k=10)
        assert "doc-3" in dense and "doc-3" in keyword
        assert "doc-4" not in dense + keyword
        # with k=1 the single result must be a *visible* one, not an empty post-filtered list
        dense, keyword = self._search(store, Principal("carol"), "salary", k=1)
        assert len(dense) == 1 and dense[0] in {"doc-1", "doc-2"}
        assert keyword == []  # no public document mentions salary

    def test_invisible_document_looks_absent(self, store: Store) -> None:
        self._fill(store)
        assert store.document("doc-3", BOB) is None
        assert store.document("doc-3", BOB) == store.document("no-such-doc", BOB)
        assert store.document("doc-3", ALICE_HR) is not None

    def test_document_listing_shows_only_what_the_principal_may_see(self, store: Store) -> None:
        self._fill(store)
        listed = {d.document_id for d in store.list_documents(BOB)}
        assert "doc-4" in listed and "doc-3" not in listed
        assert "doc-3" in {d.document_id for d in store.list_documents(ALICE_HR)}
        assert all(d.chunks == 2 for d in store.list_documents(ALICE_HR))
        first, rest = store.list_documents(BOB, limit=1), store.list_documents(BOB, offset=1)
        assert len(first) == 1 and first[0].document_id not in {d.document_id for d in rest}
        assert len(first) + len(rest) == len(listed)

    def test_replacing_a_document_removes_its_old_chunks(self, store: Store) -> None:
        self._fill(store)
        new = make_document(2, "exchange policy for broken pedal".split(), metadata={"year": 2025})
        store.upsert([write_for(new, EMBEDDER)])
        _, keyword = self._search(store, BOB, "helmet")
        assert "doc-2" not in keyword
        _, keyword = self._search(store, BOB, "pedal")
        assert keyword == ["doc-2"]
        assert store.status().documents == 4
        assert store.status().chunks == 8

    def test_delete(self, store: Store) -> None:
        self._fill(store)
        assert store.delete(["doc-1", "missing"]) == 1
        dense, keyword = self._search(store, ADMIN, "bicycle warranty")
        assert "doc-1" not in dense + keyword
        assert store.states(["doc-1", "doc-2"]).keys() == {"doc-2"}

    def test_access_update_changes_visibility_without_new_vectors(self, store: Store) -> None:
        self._fill(store)
        before = store.reusable_vectors(["doc-3"])
        store.update_access("doc-3", AccessList(frozenset({"bob"}), frozenset(), "test"))
        assert "doc-3" in self._search(store, BOB, "pension manager")[1]
        assert "doc-3" not in self._search(store, ALICE_HR, "pension manager")[1]
        after = store.reusable_vectors(["doc-3"])
        assert before.keys() == after.keys()
        assert all(np.array_equal(before[key], after[key]) for key in before)

    def test_states_and_origins(self, store: Store) -> None:
        self._fill(store)
        states = store.states(["doc-1", "doc-9"])
        assert set(states) == {"doc-1"} and states["doc-1"].origin == "/corpus/file-1.txt"
        under = {s.document_id for s in store.states_by_origin(prefix="/corpus/")}
        assert under == {"doc-1", "doc-2", "doc-3", "doc-4"}
        assert {s.document_id for s in store.states_by_origin(origins=["/corpus/file-2.txt"])} == {"doc-2"}
        assert store.states_by_origin(prefix="/corpus/file-1.txt_") == []  # LIKE wildcards are literal

    def test_source_fingerprints_are_forgotten_when_their_documents_change(self, store: Store) -> None:
        self._fill(store)
        origins = [f"/corpus/file-{n}.txt" for n in (1, 2, 3, 4)]
        store.set_source_fingerprints([SourceFingerprint(o, f"fp-{o}", 1, 2) for o in origins])
        assert store.source_fingerprints() == {o: SourceFingerprint(o, f"fp-{o}", 1, 2) for o in origins}
        store.upsert([write_for(make_document(1, "a new frame warranty".split()), EMBEDDER)])  # any write path
        store.update_access("doc-2", AccessList(frozenset({"bob"}), frozenset(), "test"))
        store.delete(["doc-3"])
        assert set(store.source_fingerprints()) == {origins[3]}  # only the untouched file is remembered
        store.set_source_fingerprints([SourceFingerprint(origins[3], "fp-new", 1, 2)])
        assert store.source_fingerprints()[origins[3]].fingerprint == "fp-new"
        # a fingerprint counting other documents than the index holds for its file is not offered
        store.set_source_fingerprints([SourceFingerprint(origins[3], "fp-new", 2, 4)])
        assert store.source_fingerprints() == {}

    def test_reusable_vectors_match_what_was_written(self, store: Store) -> None:
        document = make_document(7, "chain brake saddle".split())
        write = write_for(document, EMBEDDER)
        store.upsert([write])
        reusable = store.reusable_vectors(["doc-7"])
        assert len(reusable) == len(write.chunks)
        for vector in write.vectors:
            assert any(np.array_equal(vector, v) for v in reusable.values())

    @pytest.mark.parametrize(
        "filters",
        [
            {"lang": "en"},
            {"year": {"$gte": 2022}},
            {"year": {"$gt": 2021, "$lt": 2024}},
            {"lang": {"$in": ["de", "fr"]}},
            {"lang": {"$nin": ["de"]}},
            {"lang": {"$ne": "en"}},
            {"tags": {"$overlap": ["legal", "hr"]}},
            {"$or": [{"year": 2021}, {"tags": {"$overlap": ["shop"]}}]},
            {"$and": [{"lang": "en"}, {"year": {"$lte": 2022}}]},
            {"source": "/corpus/file-2.txt"},
            {"document_id": {"$in": ["doc-1", "doc-3"]}},
        ],
    )
    def test_metadata_filters_match_the_reference_semantics(self, store: Store, filters: dict) -> None:
        self._fill(store)
        expected = set()
        for number in (1, 2, 3, 4):
            document = store.document(f"doc-{number}", ADMIN)
            if document is None:  # doc-4 is bob's alone
                continue
            row = {"source": document.source, "format": document.format, "document_id": document.id}
            if evaluate(filters, document.metadata, row):
                expected.add(document.id)
        found = store.search(SearchRequest(ADMIN, EMBEDDER.embed_query("x"), None, 50, filters=filters))
        assert set(_ids(found.dense)) == expected

    def test_bad_filter_is_a_clear_error(self, store: Store) -> None:
        self._fill(store)
        with pytest.raises(FilterError, match="year"):
            store.search(SearchRequest(BOB, EMBEDDER.embed_query("x"), None, 5, filters={"year": {"$near": 3}}))

    def test_exact_dense_search_is_brute_force_over_visible_chunks(self, store: Store) -> None:
        self._fill(store)
        query = EMBEDDER.embed_query("salary warranty refund")
        found = store.search(SearchRequest(ALICE_HR, query, None, 3, exact=True))
        visible = []
        for number in (1, 2, 3, 4):
            document = store.document(f"doc-{number}", ALICE_HR)
            if document is not None:
                visible += chunk_document(document)
        scores = sorted((float(EMBEDDER.embed_query(c.text) @ query) for c in visible), reverse=True)[:3]
        assert [round(h.score, 5) for h in found.dense] == [round(s, 5) for s in scores]

    def test_wrong_vector_shape_is_rejected(self, store: Store) -> None:
        with pytest.raises(ValueError, match="shape"):
            store.search(SearchRequest(BOB, np.zeros(3, np.float32), None, 5))
        document = make_document(8, "x y".split())
        write = write_for(document, EMBEDDER)
        write.vectors = np.zeros((len(write.chunks), 3), np.float32)
        with pytest.raises(ValueError, match="64-d"):
            store.upsert([write])
        assert store.status().documents == 0

    def test_writes_recreate_the_index_in_another_store(self, store: Store, make_store: MakeStore, tmp_path: Path) -> None:
        """``writes()`` is what ``index copy`` moves: the copy answers every search and document
        read exactly as the original, with the same vectors (no re-embedding)."""
        self._fill(store)
        store.update_access("doc-3", AccessList(frozenset({"carol"}), frozenset({"it"}), "test"))
        batches = list(store.writes(batch=3))
        assert [len(b) for b in batches] == [3, 1]
        assert [w.document.id for b in batches for w in b] == ["doc-1", "doc-2", "doc-3", "doc-4"]
        folder = tmp_path / "copy"
        folder.mkdir()
        copy = make_store(folder)
        try:
            for batch in batches:
                copy.upsert(batch)
            assert copy.states(["doc-1", "doc-2", "doc-3", "doc-4"]) == store.states(["doc-1", "doc-2", "doc-3", "doc-4"])
            for principal in (ALICE_HR, BOB, ADMIN, Principal("carol")):
                for number in (1, 2, 3, 4):
                    assert copy.document(f"doc-{number}", principal) == store.document(f"doc-{number}", principal)
                query = EMBEDDER.embed_query("salary warranty refund")
                ours = store.search(SearchRequest(principal, query, "salary warranty", 10, exact=True, with_vectors=True))
                theirs = copy.search(SearchRequest(principal, query, "salary warranty", 10, exact=True, with_vectors=True))
                assert [(h.chunk_id, round(h.score, 5)) for h in theirs.dense] == [
                    (h.chunk_id, round(h.score, 5)) for h in ours.dense]
                assert [h.chunk_id for h in theirs.keyword] == [h.chunk_id for h in ours.keyword]
                for a, b in zip(ours.dense, theirs.dense):
                    assert np.array_equal(a.vector, b.vector)
                    assert (a.start, a.end, a.page, a.heading_path, a.metadata) == (
                        b.start, b.end, b.page, b.heading_path, b.metadata)
            assert copy.check_integrity() == []
        finally:
            copy.close()

    def test_contextual_headers_are_searched_kept_by_writes_and_key_vector_reuse(self, store: Store) -> None:
        """A chunk's header (``Chunk.context``) is keyword-indexed but not its text; ``writes()``
        carries it to a copy; reuse is keyed by the embedded text, so a new header is a new vector."""
        document = make_document(8, "gearbox torque figures for the touring model".split())
        chunks = [dataclasses.replace(c, context="Zephyr 2024 handbook — Drivetrain") for c in chunk_document(document)]
        vectors = EMBEDDER.embed([c.embedding_text for c in chunks])
        store.upsert([DocumentWrite(document, chunks, vectors, document.source)])
        found = store.search(SearchRequest(BOB, EMBEDDER.embed_query("zephyr drivetrain"), "zephyr drivetrain", 5))
        assert [h.document_id for h in found.keyword] == ["doc-8"] * len(chunks)
        assert all("Zephyr" not in h.text for h in found.keyword)  # cited text is the chunk's own
        [write] = [w for batch in store.writes() for w in batch if w.document.id == "doc-8"]
        assert [c.context for c in write.chunks] == [c.context for c in chunks]
        reusable = store.reusable_vectors(["doc-8"])
        assert set(reusable) == {content_hash(c.embedding_text) for c in chunks}
        assert not {content_hash(c.text) for c in chunks} & set(reusable)

    def test_fiscal_years_in_a_question_match_the_year_in_the_text(self, store: Store) -> None:
        # doc-10 says "dividends" twice: without the year, it would rank first
        store.upsert([write_for(make_document(9, "dividends paid 2022 totalled".split(), chunks=1), EMBEDDER),
                      write_for(make_document(10, "dividends paid dividends 2021".split(), chunks=1), EMBEDDER)])
        for question in ("FY2022 dividends", "dividends in FY22", "fy'22 dividends"):
            found = store.search(SearchRequest(BOB, EMBEDDER.embed_query(question), question, 2))
            assert [h.document_id for h in found.keyword][:1] == ["doc-9"], question

    def test_integrity_after_mixed_writes(self, store: Store) -> None:
        self._fill(store)
        store.upsert([write_for(make_document(1, "new words here".split()), EMBEDDER)])
        store.delete(["doc-2"])
        store.update_access("doc-3", AccessList(frozenset(), frozenset({"it"}), "test"))
        assert store.check_integrity() == []


# -- properties: nothing invisible ever comes back, and filtering happens before top-k --------

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


def _build(make_store: MakeStore, folder: Path, docs) -> tuple[Store, list[Document]]:  # type: ignore[no-untyped-def]
    store = make_store(folder)
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


# make_store is a function-scoped fixture, but a factory: every example opens its own store in its
# own temporary folder, so nothing is shared between examples. One method runs in every backend's
# subclass, which only shares their example database.
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
    derandomize=False,
)


class StoreAccessProperties:
    """Property-based access control over random corpora, principals, filters and k.

    The second property searches without ``exact``: give it a store whose approximate index is
    on from the first vector (``make_store`` of the subclass), so the filtered approximate path
    itself is what is checked.
    """

    @pytest.fixture
    def make_store(self) -> MakeStore:  # pragma: no cover - each backend overrides this
        raise NotImplementedError("provide a make_store fixture: an empty folder -> a new empty Store")

    @SETTINGS
    @given(
        docs=documents,
        principal=principals,
        query=st.lists(st.sampled_from(WORDS), min_size=1, max_size=4),
        flt=filters,
        k=st.integers(1, 8),
    )
    def test_exact_search_equals_brute_force_over_the_visible_subset(
        self, make_store: MakeStore, docs, principal, query, flt, k
    ) -> None:  # type: ignore[no-untyped-def]
        with tempfile.TemporaryDirectory() as tmp:
            store, built = _build(make_store, Path(tmp), docs)
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
    def test_graph_search_and_hybrid_never_leak(
        self, make_store: MakeStore, docs, principal, query, flt
    ) -> None:  # type: ignore[no-untyped-def]
        with tempfile.TemporaryDirectory() as tmp:
            store, built = _build(make_store, Path(tmp), docs)
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
