"""The PostgreSQL + pgvector store against a real server: the shared suites of
ragtune.testing.store (exact and forced-HNSW planning), then what only this backend has."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest

from ragtune.config import IndexConfig, RagtuneConfig
from ragtune.errors import RagtuneError
from ragtune.index.base import IndexCorruptError, IndexMismatchError, SearchRequest, SourceFingerprint
from ragtune.index.postgres_store import PostgresStore, masked_url
from ragtune.index.vectors import AnnConfig
from ragtune.ingest.api import ingest
from ragtune.testing.postgres import PostgresServer, free_port
from ragtune.testing.store import EMBEDDER, WORDS, StoreConformance, make_document, write_for
from ragtune.types import Principal
from ragtune.workspace import Workspace
from tests.pg_fixtures import new_schema, store_factory

pytestmark = pytest.mark.integration


class TestPostgresStoreDefault(StoreConformance):
    @pytest.fixture
    def make_store(self, postgres_url):  # type: ignore[no-untyped-def]
        return store_factory(postgres_url)


class TestPostgresStoreHnsw(StoreConformance):
    """Every dense search that is not ``exact`` walks the HNSW index with the filter inside."""

    @pytest.fixture
    def make_store(self, postgres_url):  # type: ignore[no-untyped-def]
        return store_factory(postgres_url, AnnConfig(exact_max_visible=0, m=8, ef_construction=32))


# -- bad input: each a clear error naming the setting, nothing half-written ---------------------

def test_unreachable_server_names_the_setting_and_masks_the_password() -> None:
    url = f"postgresql://ragtune:s3cret@127.0.0.1:{free_port()}/postgres"
    with pytest.raises(RagtuneError) as caught:
        PostgresStore(url, EMBEDDER.identity, EMBEDDER.dimension, schema="nothing", setting="[index] url_env (PG)")
    message = str(caught.value)
    assert "cannot connect to PostgreSQL at postgresql://ragtune:***@127.0.0.1" in message
    assert "[index] url_env (PG)" in message and "s3cret" not in message


def test_masked_url_hides_passwords_in_both_spellings() -> None:
    assert masked_url("postgresql://ana:pw@db.example:5432/kb") == "postgresql://ana:***@db.example:5432/kb"
    assert masked_url("host=db user=ana password=pw dbname=kb") == "host=db user=ana password=*** dbname=kb"
    assert masked_url("postgresql://ana@db/kb") == "postgresql://ana@db/kb"


def test_another_embedder_or_a_newer_schema_is_refused(postgres_url: str) -> None:
    schema = new_schema()
    with PostgresStore(postgres_url, EMBEDDER.identity, EMBEDDER.dimension, schema=schema) as store:
        store.upsert([write_for(make_document(1, "salary leave".split()), EMBEDDER)])
    with pytest.raises(IndexMismatchError, match="hashing-64.*64-d.*'other' \\(128-d\\)"):
        PostgresStore(postgres_url, "other", 128, schema=schema)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"UPDATE {schema}.meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(IndexCorruptError, match="schema version 99, written by a newer ragtune"):
        PostgresStore(postgres_url, EMBEDDER.identity, EMBEDDER.dimension, schema=schema)
    with pytest.raises(RagtuneError, match="no index in .*schema absent.*ragtune ingest"):
        PostgresStore(postgres_url, None, None, schema="absent")


def test_a_database_without_pgvector_says_what_the_administrator_must_do(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS novector")
        conn.execute("DROP ROLE IF EXISTS plain")
        conn.execute("CREATE ROLE plain LOGIN")
        conn.execute("CREATE DATABASE novector OWNER plain")
    url = postgres_url.replace("ragtune@", "plain@").rsplit("/", 1)[0] + "/novector"
    with pytest.raises(RagtuneError, match="pgvector extension is not installed.*CREATE EXTENSION vector"):
        PostgresStore(url, EMBEDDER.identity, EMBEDDER.dimension, schema="kb")


def test_server_down_mid_ingest_leaves_whole_documents_and_a_rerun_converges(tmp_path: Path) -> None:
    folder = Path(tempfile.mkdtemp(prefix="ragtune-pg-test-"))  # not under tmp_path: 0700, unreadable as nobody
    server = PostgresServer(folder).start()
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for number in range(400):
        (corpus / f"note-{number:03d}.md").write_text(f"# Note {number}\n\n" + " ".join(WORDS[number % 7:]) * 6)
    config = RagtuneConfig(index=IndexConfig(backend="postgres", url=server.url, schema="kb", batch_chunks=4))
    workspace = Workspace(tmp_path / "ws")
    sources_done = []

    def stop_midway(source) -> None:  # type: ignore[no-untyped-def]
        sources_done.append(source)
        if len(sources_done) == 150:  # on any machine: the server goes away with 250 files to go
            server.stop()

    with pytest.raises(RagtuneError, match="PostgreSQL at postgresql://ragtune@127.0.0.1.*\\[index\\] url"):
        ingest(workspace, [corpus], config=config, embedder=EMBEDDER, on_progress=stop_midway)
    server = PostgresServer(folder, port=server.port).start()
    try:
        with PostgresStore(server.url, None, None, schema="kb") as store:
            assert store.check_integrity() == []
            written = store.status().documents
        assert 0 < written < 400, "the stop should land mid-ingest"
        report = ingest(workspace, [corpus], config=config, embedder=EMBEDDER)
        assert report.failed == 0
        with PostgresStore(server.url, None, None, schema="kb") as store:
            assert store.status().documents == 400 and store.check_integrity() == []
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def test_a_version_1_schema_is_migrated_on_open_and_keeps_its_rows(postgres_url: str) -> None:
    from ragtune.index.postgres_schema import MIGRATIONS, SCHEMA_VERSION

    schema = new_schema()
    with psycopg.connect(postgres_url, autocommit=True) as conn:  # what ragtune 1 created
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"CREATE TABLE {schema}.meta (key text PRIMARY KEY, value text NOT NULL)")
        for statement in MIGRATIONS[0]:
            conn.execute(statement.format(schema=schema, dimension=EMBEDDER.dimension, m=16, ef_construction=64))
        conn.execute(f"INSERT INTO {schema}.meta VALUES ('schema_version', '1'), ('embedder', %s), ('dimension', %s)",
                     (EMBEDDER.identity, str(EMBEDDER.dimension)))
        conn.execute(f"INSERT INTO {schema}.documents (id, origin, source, format, record_hash, access_hash, "
                     "allowed_users, allowed_groups, access_origin, metadata, layout, text, n_chunks, updated_at) "
                     "VALUES ('d', 'o', 's', 'text', 'r', 'a', '[]', '[\"public\"]', 'test', '{}', "
                     "'{\"page_starts\": [], \"outline\": []}', 'leave policy', 1, 0)")
        conn.execute(f"INSERT INTO {schema}.document_access VALUES ('g:public', 1)")
        conn.execute(f"INSERT INTO {schema}.chunks (id, doc, ordinal, text, heading, heading_path, start_offset, "
                     "end_offset, token_count, text_hash, embedding) VALUES ('c', 1, 0, 'leave policy', '', '[]', 0, "
                     "12, 2, 'h', %s)", (str([0.125] * EMBEDDER.dimension),))
    with PostgresStore(postgres_url, EMBEDDER.identity, EMBEDDER.dimension, schema=schema) as store:
        hits = store.search(SearchRequest(Principal("u"), None, "leave", 5)).keyword
        assert [h.chunk_id for h in hits] == ["c"] and store.check_integrity() == []
        store.set_source_fingerprints([SourceFingerprint("o", "f", 1, 1)])  # version 3's table and trigger
        store.delete(["d"])
        assert store.source_fingerprints() == {}
    with psycopg.connect(postgres_url) as conn:
        version = conn.execute(f"SELECT value FROM {schema}.meta WHERE key = 'schema_version'").fetchone()[0]
    assert int(version) == SCHEMA_VERSION == 3


def test_keyword_ranking_is_bm25_a_rare_word_outweighs_a_repeated_common_one(postgres_url: str) -> None:
    """ts_rank_cd has no IDF and ranks the chunk repeating the common word first; BM25 does not."""
    common = [make_document(n, ["policy", "budget"], chunks=1) for n in range(1, 30)]
    rare = make_document(40, ["pension", "policy"], chunks=1)
    repeated = make_document(41, ["policy"] * 8, chunks=1)
    with PostgresStore(postgres_url, EMBEDDER.identity, EMBEDDER.dimension, schema=new_schema()) as store:
        store.upsert([write_for(d, EMBEDDER) for d in [*common, rare, repeated]])
        hits = store.search(SearchRequest(Principal("u"), None, "pension policy", 3)).keyword
        assert hits[0].document_id == "doc-40"
        assert hits[0].score > hits[1].score > 0
