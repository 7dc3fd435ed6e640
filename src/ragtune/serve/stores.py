"""Where the server keeps its API keys and rate-limit buckets, chosen by ``[index] backend``.

* ``postgres``: in the database, in the state schema beside the index (``postgres_state.py``), so
  any number of replicas, each with its own workspace folder, share them, and ``ragtune keys``
  run against any of those workspaces changes the keys of all of them.
* ``sqlite`` (one machine): keys in ``<workspace>/keys.json``, buckets in the server's memory.

The model registry is not here: replicas read it from a shared, read-only workspace volume.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ragtune.config import RagtuneConfig, ServeConfig
from ragtune.errors import ConfigError, RagtuneError
from ragtune.serve.keys import ApiKey, KeyBackend, KeyStore
from ragtune.serve.ratelimit import Limiter, RateLimiter
from ragtune.workspace import Workspace

if TYPE_CHECKING:  # psycopg is imported only when the backend is postgres
    from ragtune.serve.postgres_state import ServeStateDatabase

STATE_SCHEMA_SUFFIX = "_serve"


def shares_state(config: RagtuneConfig) -> bool:
    """Whether keys and rate limits live in the database (shared by replicas)."""
    return config.index.backend == "postgres"


def state_schema(config: RagtuneConfig) -> str:
    """``[serve] state_schema``, else ``<index schema>_serve`` (cut so the name stays within
    PostgreSQL's 63 characters)."""
    index_schema = config.index.schema_name
    schema = config.serve.state_schema or f"{index_schema[:63 - len(STATE_SCHEMA_SUFFIX)]}{STATE_SCHEMA_SUFFIX}"
    if schema == index_schema:
        raise ConfigError(f"[serve] state_schema = {schema!r} is the index schema ([index] schema): a rebuild "
                          "replaces that schema whole and would take the API keys with it; name another schema")
    return schema


def open_state_database(config: RagtuneConfig) -> ServeStateDatabase | None:
    """The ``ServeStateDatabase`` holding keys and buckets, or None when they stay local (SQLite).
    The caller closes it."""
    if not shares_state(config):
        return None
    try:
        from ragtune.serve.postgres_state import ServeStateDatabase
    except ImportError as exc:
        raise RagtuneError(f'[index] backend = "postgres" needs psycopg and psycopg-pool ({exc.name} is missing): '
                           "pip install 'ragtune[postgres]'") from None
    index = config.index
    setting = "[index] url" if index.url else f"[index] url_env ({index.url_env})"
    return ServeStateDatabase(index.server_url(), state_schema(config), setting=setting)


def key_store_for(workspace: Workspace, config: RagtuneConfig, database: ServeStateDatabase | None = None) -> KeyBackend:
    """The workspace's key store. On PostgreSQL it uses ``database`` (the server's, shared with
    its rate limiter) or opens its own, which ``close()`` closes."""
    if not shares_state(config):
        return KeyStore.for_workspace(workspace.root)
    from ragtune.serve.postgres_keys import PostgresKeyStore

    opened = database or open_state_database(config)
    assert opened is not None  # shares_state: there is a database
    return PostgresKeyStore(opened)


def rate_limiter_for(settings: ServeConfig, database: ServeStateDatabase | None = None) -> Limiter:
    """Buckets in ``database`` when there is one (shared by replicas), else in this process."""
    if database is None:
        return RateLimiter(settings.rate_limit_per_minute)
    from ragtune.serve.postgres_ratelimit import PostgresRateLimiter

    return PostgresRateLimiter(database, settings.rate_limit_per_minute)


def unread_key_file(workspace: Workspace, config: RagtuneConfig) -> list[ApiKey]:
    """Active keys in ``keys.json`` that a server sharing its state in the database never reads
    (left from before the workspace moved to PostgreSQL), so that ``ragtune serve`` can say so."""
    if not shares_state(config) or not workspace.keys_path.exists():
        return []
    return KeyStore.for_workspace(workspace.root).active()
