"""Opens the store a workspace's configuration names (``[index] backend``). Nothing outside
``index/`` names a concrete store: everything else holds a ``Store``."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from ragtune.config import RagtuneConfig
from ragtune.errors import ConfigError, RagtuneError
from ragtune.embed.base import Embedder
from ragtune.index.base import Store
from ragtune.index.vectors import AnnConfig
from ragtune.workspace import Workspace


def ann_config(config: RagtuneConfig) -> AnnConfig:
    index = config.index
    return AnnConfig(
        hnsw_min_vectors=index.hnsw_min_vectors,
        exact_max_visible=index.exact_max_visible,
        m=index.hnsw_m,
        ef_construction=index.ef_construction,
        ef_search=index.ef_search,
        oversample=index.oversample,
    )


def _sqlite(workspace: Workspace, config: RagtuneConfig, embedder: Embedder | None) -> Store:
    from ragtune.index.sqlite_store import SqliteStore

    if embedder is None:
        return SqliteStore(workspace.index_dir, None, None, ann_config(config))
    return SqliteStore(workspace.index_dir, embedder.identity, embedder.dimension, ann_config(config))


def _sqlite_exists(workspace: Workspace, config: RagtuneConfig) -> bool:
    from ragtune.index.sqlite_store import DB_NAME

    return (workspace.index_dir / DB_NAME).exists()


def _postgres(workspace: Workspace, config: RagtuneConfig, embedder: Embedder | None) -> Store:
    from ragtune.index.postgres_store import PostgresStore

    index = config.index
    setting = "[index] url" if index.url else f"[index] url_env ({index.url_env})"
    identity, dimension = (embedder.identity, embedder.dimension) if embedder is not None else (None, None)
    return PostgresStore(index.server_url(), identity, dimension, ann_config(config), schema=index.schema_name,
                         pool_size=index.pool_size, setting=setting)


def _postgres_exists(workspace: Workspace, config: RagtuneConfig) -> bool:
    from ragtune.index.postgres_store import schema_exists

    return schema_exists(config.index.server_url(), config.index.schema_name)


class Backend(NamedTuple):
    open: Callable[[Workspace, RagtuneConfig, Embedder | None], Store]
    exists: Callable[[Workspace, RagtuneConfig], bool]
    """Whether the workspace has an index of this backend (without creating one)."""


BACKENDS: dict[str, Backend] = {
    "sqlite": Backend(_sqlite, _sqlite_exists),
    "postgres": Backend(_postgres, _postgres_exists),
}


def index_exists(workspace: Workspace, config: RagtuneConfig) -> bool:
    return BACKENDS[config.index.backend].exists(workspace, config)


def build_store(workspace: Workspace, config: RagtuneConfig, embedder: Embedder | None) -> Store:
    """The configured store. ``embedder``: the one its vectors must come from (checked against
    the index); ``None`` opens it for reading what needs no vectors (status, documents, access)."""
    return BACKENDS[config.index.backend].open(workspace, config, embedder)


POSTGRES_SCHEMES = ("postgresql://", "postgres://")
SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")  # as [index] schema: a plain SQL name, never quoted


def is_postgres_url(target: str) -> bool:
    return target.startswith(POSTGRES_SCHEMES)


def open_index_at(target: str, config: RagtuneConfig, embedder_identity: str, dimension: int,
                  schema: str | None = None) -> Store:
    """The index at ``target``, to copy into (``ragtune index copy --to``): a PostgreSQL URL
    (``postgresql://`` or ``postgres://``; ``schema``, default ``[index] schema``), or a folder for
    SQLite (``sqlite:PATH`` or a plain path). A missing index is created for ``embedder_identity``
    and ``dimension``; an existing one is opened as it is, so that ``copy_index`` can refuse one of
    another embedder with its own message rather than the store's "configured embedder" one."""
    ann = ann_config(config)
    if is_postgres_url(target):
        try:
            from ragtune.index.postgres_store import PostgresStore, schema_exists
        except ImportError as exc:
            raise RagtuneError(f"--to a PostgreSQL URL needs psycopg and pgvector ({exc.name} is missing): "
                               "pip install 'ragtune[postgres]'") from None

        schema = schema or config.index.schema_name
        if not SCHEMA_NAME.fullmatch(schema):
            raise ConfigError(f"--schema {schema!r}: use lower-case letters, digits and _ (a SQL name of at most 63)")
        try:
            exists = schema_exists(target, schema)
        except RagtuneError as exc:
            raise RagtuneError(f"--to: {exc}") from None
        identity, dim = (None, None) if exists else (embedder_identity, dimension)
        return PostgresStore(target, identity, dim, ann, schema=schema, pool_size=config.index.pool_size,
                             setting="--to")
    if "://" in target:
        raise ConfigError(f"--to {target.split('://')[0]}://…: not an index location; give a postgresql:// URL, "
                          "or a folder (sqlite:PATH or a plain path)")
    if schema is not None:
        raise ConfigError("--schema applies to a PostgreSQL target only (the target is a SQLite folder)")
    from ragtune.index.sqlite_store import DB_NAME, SqliteStore

    folder = Path(target.removeprefix("sqlite:")).expanduser().resolve()
    if folder.exists() and not folder.is_dir():
        raise RagtuneError(f"--to {folder}: a file, not a folder; a SQLite index is a folder")
    if (folder / DB_NAME).exists():
        return SqliteStore(folder, None, None, ann)
    if folder.is_dir() and any(folder.iterdir()):
        # Guards against writing an index into a folder of the user's own files by a slip of the path.
        raise RagtuneError(f"--to {folder}: the folder holds files but no ragtune index; give a new or empty folder")
    try:
        return SqliteStore(folder, embedder_identity, dimension, ann)
    except OSError as exc:
        raise RagtuneError(f"--to {folder}: cannot create an index there: {exc}") from None
