"""The conformance suite every ``Store`` implementation must pass (after Haystack's
``DocumentStoreBaseTests``). A new backend subclasses ``StoreConformance`` and provides the
``make_store`` fixture; nothing else in here may know which backend it runs against."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from ragtune.embed.hashing import HashingEmbedder
from ragtune.index.base import SearchRequest, Store
from ragtune.index.filters import FilterError, evaluate
from ragtune.types import AccessList, Principal
from tests.index.corpus import chunk_document, make_document, write_for

EMBEDDER = HashingEmbedder(64)
ALICE_HR = Principal("alice", frozenset({"hr"}))
BOB = Principal("bob")
ADMIN = Principal("admin", frozenset({"hr", "it", "staff", "public"}))

MakeStore = Callable[[], Store]


def _ids(hits) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.document_id for h in hits]


class StoreConformance:
    @pytest.fixture
    def make_store(self) -> MakeStore:  # pragma: no cover - each backend overrides this
        raise NotImplementedError

    @pytest.fixture
    def store(self, make_store: MakeStore) -> Store:
        store = make_store()
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

    def test_integrity_after_mixed_writes(self, store: Store) -> None:
        self._fill(store)
        store.upsert([write_for(make_document(1, "new words here".split()), EMBEDDER)])
        store.delete(["doc-2"])
        store.update_access("doc-3", AccessList(frozenset(), frozenset({"it"}), "test"))
        assert store.check_integrity() == []
