"""Readers in one process while another process rewrites a document: every search sees the
document whole, either the old or the new version, never a mix. On SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ragtune.embed.hashing import HashingEmbedder
from ragtune.index.base import SearchRequest, Store
from ragtune.index.postgres_store import PostgresStore
from ragtune.index.sqlite_store import SqliteStore
from ragtune.testing.store import make_document, write_for
from ragtune.types import Document, Principal
from tests.pg_fixtures import new_schema

ROOT = Path(__file__).resolve().parents[2]


def version(which: int) -> Document:
    """Version 0 has 3 chunks all saying 'alpha'; version 1 has 4 chunks all saying 'beta'."""
    word = ["alpha", "beta"][which]
    words = [f"{word} {i}" for i in range(3 + which)]
    document = make_document(1, words, chunks=3 + which)
    return document


def open_store(folder: Path, server: list[str], embedder: HashingEmbedder) -> Store:
    """The SQLite store in ``folder``, or with ``server`` = [url, schema] that PostgreSQL schema."""
    if server:
        return PostgresStore(server[0], embedder.identity, embedder.dimension, schema=server[1], pool_size=2)
    return SqliteStore(folder, embedder.identity, embedder.dimension)


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest) -> list[str]:
    return [] if request.param == "sqlite" else [request.getfixturevalue("postgres_url"), new_schema()]


def test_readers_see_old_or_new_never_half(tmp_path: Path, server: list[str]) -> None:
    embedder = HashingEmbedder(64)
    folder = tmp_path / "index"
    with open_store(folder, server, embedder) as store:
        store.upsert([write_for(version(0), embedder), write_for(make_document(2, ["gamma"] * 3), embedder)])
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.index.concurrent_writer", str(folder), "4", *server],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = {0: 0, 1: 0}
    query = embedder.embed_query("alpha beta")
    with open_store(folder, server, embedder) as reader:
        while writer.poll() is None:
            found = reader.search(SearchRequest(Principal("u"), query, "alpha beta", 20))
            for hits in (found.dense, found.keyword):
                texts = [h.text for h in hits if h.document_id == "doc-1"]
                kinds = {t.split()[0] for t in texts}
                assert len(kinds) == 1, f"a half-written document was visible: {texts}"
                assert len(texts) == (3 if kinds == {"alpha"} else 4)
                seen[0 if kinds == {"alpha"} else 1] += 1
            document = reader.document("doc-1", Principal("u"))
            assert document is not None
    out, err = writer.communicate()
    assert writer.returncode == 0, err
    assert int(out) > 20, "the writer barely ran; the test proved nothing"
    assert seen[0] > 0 and seen[1] > 0, f"readers saw only one version: {seen}"
