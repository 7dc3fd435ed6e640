"""Many machines, one database: two processes ingesting into one PostgreSQL schema at once (on
different documents, and racing on the same ones) end exactly as one process ingesting it all."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from ragtune.index.postgres_store import PostgresStore
from ragtune.testing.store import WORDS
from tests.pg_fixtures import new_schema

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _corpus(folder: Path, files: int, seed: int) -> Path:
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    for number in range(files):
        paragraphs = ["\n".join(" ".join(rng.choices(WORDS, k=15)) for _ in range(3)) for _ in range(6)]
        (folder / f"note-{number:03d}.md").write_text(f"# Note {number}\n\n" + "\n\n".join(paragraphs))
    return folder


def _ingest(url: str, schema: str, *paths: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.index.ingest_worker", url, schema, *map(str, paths)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _contents(url: str, schema: str) -> list[tuple]:
    with PostgresStore(url, None, None, schema=schema, pool_size=1) as store:
        assert store.check_integrity() == []
        return [(w.document.id, w.origin, w.document.access, [(c.id, c.start, c.end) for c in w.chunks],
                 w.vectors.tobytes()) for batch in store.writes(batch=200) for w in batch]


def test_two_ingesting_processes_neither_duplicate_nor_lose_a_document(postgres_url: str, tmp_path: Path) -> None:
    first = _corpus(tmp_path / "first", 60, seed=1)
    second = _corpus(tmp_path / "second", 60, seed=2)
    both = _corpus(tmp_path / "both", 40, seed=3)  # ingested by the two processes at the same time
    shared = new_schema()
    runs = [_ingest(postgres_url, shared, first, both), _ingest(postgres_url, shared, both, second)]
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        assert int(out) == 100
    reference = new_schema()
    alone = _ingest(postgres_url, reference, first, second, both)
    out, err = alone.communicate(timeout=300)
    assert alone.returncode == 0, err
    together = _contents(postgres_url, shared)
    assert len(together) == 160 == len({row[0] for row in together})
    assert together == _contents(postgres_url, reference)
