"""The SQLite store: the shared suites of ragtune.testing.store, then what only this backend has
(reopening, the vector file beside the database, compaction, integrity checks)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from ragtune.index.base import SearchRequest
from ragtune.index.sqlite_store import IndexMismatchError, SqliteStore
from ragtune.index.vectors import AnnConfig
from ragtune.testing.store import EMBEDDER, WORDS, StoreConformance, make_document, write_for
from ragtune.types import Principal


class TestSqliteStoreExact(StoreConformance):
    @pytest.fixture
    def make_store(self):  # type: ignore[no-untyped-def]
        return lambda path: SqliteStore(path, EMBEDDER.identity, EMBEDDER.dimension)


class TestSqliteStoreHnsw(StoreConformance):
    """The same suite with the HNSW graph always on and exact search only for tiny visible sets."""

    @pytest.fixture
    def make_store(self):  # type: ignore[no-untyped-def]
        ann = AnnConfig(hnsw_min_vectors=1, exact_max_visible=0, m=8, ef_construction=40)
        return lambda path: SqliteStore(path, EMBEDDER.identity, EMBEDDER.dimension, ann)


def _corpus(n: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [make_document(i, list(rng.choice(WORDS, 12)), chunks=3) for i in range(n)]


def test_reopen_keeps_everything_and_refuses_another_embedder(tmp_path: Path) -> None:
    folder = tmp_path / "index"
    with SqliteStore(folder, EMBEDDER.identity, EMBEDDER.dimension) as store:
        store.upsert([write_for(d, EMBEDDER) for d in _corpus(20)])
    with SqliteStore(folder, EMBEDDER.identity, EMBEDDER.dimension) as store:
        assert store.status().documents == 20 and store.status().fresh
        assert store.check_integrity() == []
    with pytest.raises(IndexMismatchError, match="hashing-64.*other-model"):
        SqliteStore(folder, "other-model", 64)
    with pytest.raises(IndexMismatchError, match="128-d"):
        SqliteStore(folder, EMBEDDER.identity, 128)


@pytest.mark.parametrize("damage", ["delete", "truncate", "stale"])
def test_vector_file_is_rebuilt_or_caught_up(tmp_path: Path, damage: str) -> None:
    folder = tmp_path / "index"
    ann = AnnConfig(hnsw_min_vectors=10, m=8, ef_construction=40)
    corpus = _corpus(30)
    with SqliteStore(folder, EMBEDDER.identity, EMBEDDER.dimension, ann) as store:
        store.upsert([write_for(d, EMBEDDER) for d in corpus[:20]])
        store.flush()
        stale = (folder / "vectors-e0.faiss").read_bytes()
        store.upsert([write_for(d, EMBEDDER) for d in corpus[20:]])
    vector_file = folder / "vectors-e0.faiss"
    if damage == "delete":
        vector_file.unlink()
    elif damage == "truncate":
        vector_file.write_bytes(vector_file.read_bytes()[:100])
    else:  # the file from before the last write, as after a crash between commit and save
        vector_file.write_bytes(stale)
    with SqliteStore(folder, EMBEDDER.identity, EMBEDDER.dimension, ann) as store:
        assert store.check_integrity() == []
        query = EMBEDDER.embed_query(corpus[25].text.split("\n\n")[0])
        top = store.search(SearchRequest(Principal("u"), query, None, 1, exact=True)).dense
        assert top[0].document_id == "doc-25"


def test_compaction_renumbers_and_keeps_results(tmp_path: Path) -> None:
    folder = tmp_path / "index"
    with SqliteStore(folder, EMBEDDER.identity, EMBEDDER.dimension) as store:
        corpus = _corpus(20)
        store.upsert([write_for(d, EMBEDDER) for d in corpus])
        store.delete([d.id for d in corpus[:10]])
        query = EMBEDDER.embed_query(corpus[15].text)
        before = store.search(SearchRequest(Principal("u"), query, None, 5)).dense
        assert store.compact() is True
        after = store.search(SearchRequest(Principal("u"), query, None, 5)).dense
        assert [h.chunk_id for h in after] == [h.chunk_id for h in before]
        assert store.check_integrity() == []
        assert store.compact() is False
    assert sorted(p.name for p in folder.glob("vectors-*.faiss")) == ["vectors-e1.faiss"]


def test_integrity_check_finds_damage(tmp_path: Path) -> None:
    folder = tmp_path / "index"
    with SqliteStore(folder, EMBEDDER.identity, EMBEDDER.dimension) as store:
        store.upsert([write_for(d, EMBEDDER) for d in _corpus(5)])
    db = sqlite3.connect(folder / "ragtune.db")
    db.execute("DROP TRIGGER chunks_fts_delete")
    db.execute("DELETE FROM chunks WHERE rowid = 1")  # bypasses the full-text index
    db.execute("DELETE FROM document_access WHERE doc = 2")
    db.commit()
    db.close()
    with SqliteStore(folder, EMBEDDER.identity, EMBEDDER.dimension) as store:
        problems = " | ".join(store.check_integrity())
    assert "full-text" in problems
    assert "no access rows" in problems


def test_document_without_access_rows_is_invisible_to_everyone(tmp_path: Path) -> None:
    """Fail closed: a document with an empty access list is visible to nobody."""
    from ragtune.types import AccessList

    with SqliteStore(tmp_path / "i", EMBEDDER.identity, EMBEDDER.dimension) as store:
        document = make_document(1, "secret plans".split(), frozenset(), frozenset())
        store.upsert([write_for(document, EMBEDDER)])
        for principal in (Principal("u"), Principal("", frozenset({""}))):
            found = store.search(SearchRequest(principal, EMBEDDER.embed_query("secret"), "secret", 5))
            assert found.dense == [] and found.keyword == []
        assert AccessList(frozenset(), frozenset()).visible_to(Principal("u")) is False
