"""Crash safety: SIGKILL an ingest at random moments; the index must always open consistent,
and finishing the ingest must give exactly the state of a run that was never interrupted."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ragtune.index.base import SearchRequest, Store
from ragtune.index.postgres_store import PostgresStore
from ragtune.index.sqlite_store import SqliteStore
from ragtune.testing.store import WORDS
from ragtune.types import Principal
from tests.pg_fixtures import new_schema

WORKER = Path(__file__).with_name("crash_worker.py")
KILLS = int(os.environ.get("RAGTUNE_CRASH_KILLS", "12"))
MIN_FILES = 200
MAX_FILES = 3200
MIN_WRITE_SECONDS = 1.0  # long enough for random kills to land inside many different commits


def _write_corpus(folder: Path, files: int, seed: int) -> None:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(files):
        paragraphs = ["\n".join(" ".join(rng.choices(WORDS, k=15)) for _ in range(3)) for _ in range(8)]
        (folder / f"note-{number:03d}.md").write_text(f"# Note {number}\n\n" + "\n\n".join(paragraphs))


class Target:
    """Where the worker writes: the workspace's SQLite folder, or a PostgreSQL schema per workspace."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self.schemas: dict[Path, str] = {}

    def args(self, workspace: Path) -> list[str]:
        if self.url is None:
            return []
        return [self.url, self.schemas.setdefault(workspace, new_schema())]

    def exists(self, workspace: Path) -> bool:
        return (workspace / "index" / "ragtune.db").exists() if self.url is None else workspace in self.schemas

    def open(self, workspace: Path) -> Store:
        if self.url is None:
            return SqliteStore(workspace / "index", None, None)
        return PostgresStore(self.url, None, None, schema=self.schemas[workspace], pool_size=1)


def _run(target: Target, workspace: Path, corpus: Path) -> subprocess.Popen:
    """Start the worker and return once its imports are done (it prints ``ready``)."""
    process = subprocess.Popen(
        [sys.executable, str(WORKER), str(workspace), str(corpus), *target.args(workspace)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == b"ready", process.stderr.read().decode()
    return process


def _reference_run(target: Target, tmp_path: Path, corpus: Path) -> tuple[int, float]:
    """Ingest the reference corpus, doubling it until the writing itself lasts MIN_WRITE_SECONDS:
    a fast machine must not leave the kills nothing to interrupt."""
    files = MIN_FILES
    while True:
        _write_corpus(corpus, files, seed=1)
        reference = tmp_path / f"reference-{files}"
        process = _run(target, reference, corpus)
        started = time.monotonic()
        assert process.wait(timeout=300) == 0, process.stderr.read().decode()
        duration = time.monotonic() - started
        if duration >= MIN_WRITE_SECONDS or files >= MAX_FILES:
            return files, duration
        files *= 2


def _state(target: Target, workspace: Path) -> dict[str, object]:
    """Everything a user can observe, read through the Store protocol (so any backend compares)."""
    with target.open(workspace) as store:
        writes = [w for batch in store.writes(batch=500) for w in batch]
        keyword = [h.chunk_id for h in store.search(SearchRequest(Principal("reader"), None, "salary bicycle", 10_000)).keyword]
        return {
            "documents": [(w.document.id, w.origin, w.document.text, w.document.access) for w in writes],
            "states": sorted((s.document_id, s.origin, s.record_hash, s.access_hash) for s in store.states_by_origin()),
            "chunks": [(c.id, c.text, c.start, c.end) for w in writes for c in w.chunks],
            "vectors": [v.tobytes() for w in writes for v in w.vectors],
            "keyword": sorted(keyword),
        }


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest) -> Target:
    if request.param == "sqlite":
        return Target(None)
    return Target(request.getfixturevalue("postgres_url"))


@pytest.mark.integration
def test_sigkill_during_ingest_never_corrupts_and_converges(tmp_path: Path, target: Target) -> None:
    corpus = tmp_path / "corpus"
    files, duration = _reference_run(target, tmp_path, corpus)
    reference = tmp_path / f"reference-{files}"

    workspace = tmp_path / "crashed"
    rng = random.Random(7)
    kills = 0
    attempts = 0
    while kills < KILLS and attempts < KILLS * 4:
        attempts += 1
        if attempts % 3 == 0:  # change the corpus now and then: updates and deletions get killed too
            _write_corpus(corpus, files, seed=attempts)
            (corpus / f"note-{rng.randrange(files):03d}.md").unlink(missing_ok=True)
        process = _run(target, workspace, corpus)
        time.sleep(rng.uniform(0, duration))  # after the imports, before the end
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
        else:
            assert process.returncode == 0, process.stderr.read().decode()
        if target.exists(workspace):
            try:
                store = target.open(workspace)
            except Exception as exc:  # killed before the schema or database existed: nothing to check
                assert "no index" in str(exc), exc
                continue
            with store:
                assert store.check_integrity() == [], f"after kill {kills}"
    assert kills >= KILLS, f"only {kills} of {attempts} runs were still running when killed"

    _write_corpus(corpus, files, seed=1)  # back to the reference corpus
    finish = _run(target, workspace, corpus)
    assert finish.wait(timeout=300) == 0, finish.stderr.read().decode()
    assert _state(target, workspace) == _state(target, reference)
    with target.open(workspace) as store:
        assert store.check_integrity() == []
