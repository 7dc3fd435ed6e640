"""Rebuild an index beside the live one and swap it in only when complete (``tune embedder
--reindex``): searches keep using the old index until the swap, and a failed rebuild changes
nothing. Each backend swaps its own way: SQLite renames folders, PostgreSQL renames schemas in one
transaction (other servers resolve the schema by name on their next statement)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from ragtune.config import RagtuneConfig
from ragtune.workspace import Workspace


@contextmanager
def rebuilding(workspace: Workspace, config: RagtuneConfig) -> Iterator[tuple[Workspace, RagtuneConfig]]:
    """Where to build the replacement: ingest into the yielded workspace and configuration. On a
    normal exit it replaces the live index; on an exception it is removed and the live one kept."""
    if config.index.backend == "postgres":
        from ragtune.index.postgres_store import drop_schema, swap_schema

        url, live = config.index.server_url(), config.index.schema_name
        staging = f"{live[:50]}_rebuilding"
        drop_schema(url, staging)
        try:
            yield workspace, config.model_copy(
                update={"index": config.index.model_copy(update={"schema_name": staging})}
            )
        except BaseException:
            drop_schema(url, staging)
            raise
        swap_schema(url, staging, live)
        return
    building = replace(workspace, index_name="index.rebuilding")
    shutil.rmtree(building.index_dir, ignore_errors=True)
    try:
        yield building, config
    except BaseException:
        shutil.rmtree(building.index_dir, ignore_errors=True)
        raise
    retired = workspace.retired_index_dir
    shutil.rmtree(retired, ignore_errors=True)
    if workspace.index_dir.exists():
        os.rename(workspace.index_dir, retired)
    os.rename(building.index_dir, workspace.index_dir)
    shutil.rmtree(retired, ignore_errors=True)
