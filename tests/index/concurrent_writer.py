"""Run by test_concurrency.py: flips one document between two versions as fast as it can,
``python concurrent_writer.py INDEX_DIR SECONDS [POSTGRES_URL SCHEMA]``."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ragtune.embed.hashing import HashingEmbedder
from ragtune.testing.store import write_for
from tests.index.test_concurrency import open_store, version

if __name__ == "__main__":
    embedder = HashingEmbedder(64)
    deadline = time.monotonic() + float(sys.argv[2])
    with open_store(Path(sys.argv[1]), sys.argv[3:], embedder) as store:
        flips = 0
        while time.monotonic() < deadline:
            store.upsert([write_for(version(flips % 2), embedder)])
            flips += 1
    print(flips)
