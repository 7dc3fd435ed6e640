"""Run by test_postgres_sharing.py: ``python ingest_worker.py URL SCHEMA PATH...`` ingests the
paths (no sync) into that PostgreSQL schema with the hashing embedder, one document per commit."""

from __future__ import annotations

import sys
from pathlib import Path

from ragtune.config import IndexConfig, RagtuneConfig
from ragtune.embed.hashing import HashingEmbedder
from ragtune.ingest.api import ingest
from ragtune.workspace import Workspace

if __name__ == "__main__":
    url, schema, paths = sys.argv[1], sys.argv[2], [Path(p) for p in sys.argv[3:]]
    config = RagtuneConfig(index=IndexConfig(backend="postgres", url=url, schema=schema, batch_chunks=4))
    report = ingest(Workspace(Path(paths[0]).parent / f".ws-{schema}"), paths, config=config, embedder=HashingEmbedder(64))
    print(report.documents, flush=True)
