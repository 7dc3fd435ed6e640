"""Run by test_crash.py in a subprocess that gets SIGKILLed at a random moment:
``python crash_worker.py WORKSPACE CORPUS [POSTGRES_URL SCHEMA]``. Small batches mean many
commits to land in. With a URL the index is that PostgreSQL schema instead of the workspace's folder.
It prints ``ready`` once its imports are done, so the test times kills from the first write."""

from __future__ import annotations

import sys
from pathlib import Path

from ragtune.config import IndexConfig, RagtuneConfig
from ragtune.embed.hashing import HashingEmbedder
from ragtune.ingest.api import ingest
from ragtune.workspace import Workspace

if __name__ == "__main__":
    workspace, corpus = Workspace(Path(sys.argv[1])), Path(sys.argv[2])
    print("ready", flush=True)
    index = IndexConfig(batch_chunks=8, hnsw_min_vectors=64, hnsw_m=8, ef_construction=32)
    if len(sys.argv) > 3:
        index = index.model_copy(update={"backend": "postgres", "url": sys.argv[3], "schema_name": sys.argv[4]})
    config = RagtuneConfig(index=index)
    ingest(workspace, [corpus], config=config, embedder=HashingEmbedder(64), sync=True)
