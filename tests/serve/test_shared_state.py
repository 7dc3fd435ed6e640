"""API keys and rate-limit buckets in PostgreSQL (what replicas share), against the real server:
only hashes are stored, a key created or revoked through one connection counts at once through
another, the keys outlive a rebuild-and-swap and a drop of the index schema, and two limiters
over one bucket allow the limit once between them, also under concurrent requests."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
import pytest

from ragtune.config import EmbedderConfig, IndexConfig, RagtuneConfig, ServeConfig
from ragtune.errors import ConfigError
from ragtune.index.copy import copy_index
from ragtune.index.factory import build_store
from ragtune.index.postgres_store import drop_schema
from ragtune.index.rebuild import rebuilding
from ragtune.ingest.api import ingest
from ragtune.serve.errors import StateUnavailable
from ragtune.serve.keys import KeyRing, KeyStore
from ragtune.serve.postgres_keys import PostgresKeyStore
from ragtune.serve.postgres_ratelimit import PostgresRateLimiter
from ragtune.serve.postgres_state import APPLICATION_NAME, ServeStateDatabase
from ragtune.serve.ratelimit import RateLimiter
from ragtune.serve.stores import key_store_for, open_state_database, rate_limiter_for, state_schema
from ragtune.testing.store import EMBEDDER
from ragtune.types import Principal
from ragtune.workspace import Workspace
from tests.pg_fixtures import new_schema


def _config(url: str, schema: str | None = None, **serve: object) -> RagtuneConfig:
    return RagtuneConfig(embedder=EmbedderConfig(backend="hashing"),
                         index=IndexConfig(backend="postgres", url=url, schema=schema or new_schema()),
                         serve=ServeConfig(**serve))


@pytest.fixture
def database(postgres_url: str):  # type: ignore[no-untyped-def]
    """One replica's connections to a fresh state schema."""
    db = ServeStateDatabase(postgres_url, new_schema() + "_serve", setting="test")
    yield db
    db.close()


@pytest.fixture
def other_replica(database: ServeStateDatabase, postgres_url: str):  # type: ignore[no-untyped-def]
    """A second replica's connections to the same schema."""
    db = ServeStateDatabase(postgres_url, database.schema, setting="test")
    yield db
    db.close()


def test_only_hashes_are_stored_and_keys_map_to_principals(database: ServeStateDatabase, postgres_url: str) -> None:
    store = PostgresKeyStore(database)
    secret, entry = store.create("hanna", ["hr", " staff", "hr", ""], admin=True, label="laptop")
    other, _ = store.create("erik", ["staff"])
    with psycopg.connect(postgres_url) as conn:
        stored = str(conn.execute(f"SELECT * FROM {database.schema}.api_keys").fetchall())
    assert secret not in stored and other not in stored and entry.sha256 in stored
    ring = KeyRing(store)
    found = ring.lookup(secret)
    assert found == entry  # the same entry as created, timestamps to the second in UTC as in keys.json
    assert found.principal == Principal("hanna", frozenset({"hr", "staff"})) and found.admin
    assert ring.lookup(other).principal == Principal("erik", frozenset({"staff"}))
    assert ring.lookup(secret + "x") is None and ring.lookup("") is None
    assert len(ring) == 2 and [k.user for k in store.keys()] == ["hanna", "erik"]
    assert "sha256" not in entry.public() and entry.public()["label"] == "laptop"


def test_a_key_created_or_revoked_by_one_replica_counts_at_once_on_the_other(
        database: ServeStateDatabase, other_replica: ServeStateDatabase) -> None:
    mine, theirs = PostgresKeyStore(database), KeyRing(PostgresKeyStore(other_replica))
    secret, entry = mine.create("erik", [])
    assert theirs.lookup(secret) == entry  # no cache to wait for
    revoked = mine.revoke(entry.id)
    assert revoked.revoked is not None and revoked.id == entry.id
    assert theirs.lookup(secret) is None and len(theirs) == 0
    assert mine.revoke(entry.id).revoked == revoked.revoked  # revoking twice keeps the first time
    assert [k.revoked for k in mine.keys()] == [revoked.revoked]
    with pytest.raises(ConfigError, match="no API key with id 'nope'"):
        mine.revoke("nope")
    with pytest.raises(ConfigError, match="needs a user"):
        mine.create("  ", [])


def test_keys_outlive_a_rebuild_and_swap_an_index_copy_and_a_dropped_index(postgres_url: str, tmp_path: Path) -> None:
    config = _config(postgres_url)
    workspace = Workspace(tmp_path / "ws")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nLeave is 25 days.")
    ingest(workspace, [docs], config=config, embedder=EMBEDDER)
    store = key_store_for(workspace, config)
    try:
        secret, _ = store.create("erik", ["staff"])
        local = Workspace(tmp_path / "local")  # `ragtune index copy --replace` from SQLite into the live schema
        ingest(local, [docs], config=RagtuneConfig(embedder=EmbedderConfig(backend="hashing")), embedder=EMBEDDER)
        with build_store(local, RagtuneConfig(), None) as source, build_store(workspace, config, EMBEDDER) as target:
            copy_index(source, target, replace=True)
        assert KeyRing(store).lookup(secret) is not None
        with rebuilding(workspace, config) as (building, building_config):
            ingest(building, [docs], config=building_config, embedder=EMBEDDER)
        assert KeyRing(store).lookup(secret) is not None
        drop_schema(postgres_url, config.index.schema_name)
        assert KeyRing(store).lookup(secret) is not None
    finally:
        store.close()


def test_the_state_schema_is_beside_the_index_never_in_it(postgres_url: str, tmp_path: Path) -> None:
    assert state_schema(_config(postgres_url, "team_a")) == "team_a_serve"
    assert state_schema(_config(postgres_url, "team_a", state_schema="keys")) == "keys"
    long = "x" * 63
    assert state_schema(_config(postgres_url, long)) == "x" * 57 + "_serve"
    with pytest.raises(ConfigError, match=r"\[serve\] state_schema = 'team_a' is the index schema"):
        state_schema(_config(postgres_url, "team_a", state_schema="team_a"))
    sqlite = RagtuneConfig()
    assert open_state_database(sqlite) is None
    assert isinstance(key_store_for(Workspace(tmp_path), sqlite), KeyStore)
    assert isinstance(rate_limiter_for(sqlite.serve, None), RateLimiter)


def test_an_unreachable_database_is_named_with_its_password_masked() -> None:
    with pytest.raises(StateUnavailable, match=r"postgresql://ragtune:\*\*\*@127\.0\.0\.1:1/rag") as caught:
        ServeStateDatabase("postgresql://ragtune:hunter2@127.0.0.1:1/rag", "x_serve", setting="[index] url")
    assert "hunter2" not in str(caught.value) and "[index] url" in str(caught.value)


def test_a_lost_connection_is_state_unavailable_then_the_pool_recovers(database: ServeStateDatabase,
                                                                       postgres_url: str) -> None:
    store = PostgresKeyStore(database)
    secret, _ = store.create("erik", [])
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE application_name = %s AND pid <> pg_backend_pid()", (APPLICATION_NAME,))
    with pytest.raises(StateUnavailable, match="lost the connection"):
        store.find_active("x")
    assert KeyRing(store).lookup(secret) is not None  # the broken connection was replaced


def test_two_limiters_over_one_bucket_allow_the_limit_once(database: ServeStateDatabase,
                                                           other_replica: ServeStateDatabase) -> None:
    one, two = PostgresRateLimiter(database, 10), PostgresRateLimiter(other_replica, 10)
    taken = [(one if n % 2 else two).take("key-a") for n in range(10)]
    assert taken == [0.0] * 10
    wait = one.take("key-a")
    assert 5.0 < wait <= 6.0  # 10 per minute: a token every 6 s
    assert two.take("key-a") > 0
    assert one.take("key-b") == 0.0  # buckets are per key
    assert PostgresRateLimiter(database, 0).take("key-a") == 0.0  # 0 turns it off


def test_a_bucket_refills_evenly_by_the_database_clock(database: ServeStateDatabase) -> None:
    limiter = PostgresRateLimiter(database, 120)  # a token every 0.5 s
    assert all(limiter.take("k") == 0.0 for _ in range(120))
    wait = limiter.take("k")
    assert 0.0 < wait <= 0.5
    time.sleep(wait + 0.05)
    assert limiter.take("k") == 0.0
    assert limiter.take("k") > 0


def test_concurrent_requests_on_two_replicas_never_exceed_the_bucket(database: ServeStateDatabase,
                                                                     other_replica: ServeStateDatabase) -> None:
    per_minute = 30
    limiters = [PostgresRateLimiter(database, per_minute), PostgresRateLimiter(other_replica, per_minute)]
    allowed: list[bool] = []
    lock = threading.Lock()

    def hammer(limiter: PostgresRateLimiter) -> None:
        for _ in range(20):
            ok = limiter.take("shared") == 0.0
            with lock:
                allowed.append(ok)

    started = time.monotonic()
    threads = [threading.Thread(target=hammer, args=(limiters[n % 2],)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refilled = int((time.monotonic() - started) * per_minute / 60)  # tokens that came back meanwhile
    assert len(allowed) == 160
    assert per_minute <= sum(allowed) <= per_minute + refilled
