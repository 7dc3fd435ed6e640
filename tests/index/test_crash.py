"""Crash safety: SIGKILL an ingest at random moments; the index must always open consistent,
and finishing the ingest must give exactly the state of a run that was never interrupted."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ragtune.index.sqlite_store import SqliteStore
from ragtune.testing.store import WORDS

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


def _run(workspace: Path, corpus: Path) -> subprocess.Popen:
    """Start the worker and return once its imports are done (it prints ``ready``)."""
    process = subprocess.Popen(
        [sys.executable, str(WORKER), str(workspace), str(corpus)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == b"ready", process.stderr.read().decode()
    return process


def _reference_run(tmp_path: Path, corpus: Path) -> tuple[int, float]:
    """Ingest the reference corpus, doubling it until the writing itself lasts MIN_WRITE_SECONDS:
    a fast machine must not leave the kills nothing to interrupt."""
    files = MIN_FILES
    while True:
        _write_corpus(corpus, files, seed=1)
        reference = tmp_path / f"reference-{files}"
        process = _run(reference, corpus)
        started = time.monotonic()
        assert process.wait(timeout=300) == 0, process.stderr.read().decode()
        duration = time.monotonic() - started
        if duration >= MIN_WRITE_SECONDS or files >= MAX_FILES:
            return files, duration
        files *= 2


def _state(workspace: Path) -> dict[str, object]:
    db = sqlite3.connect(workspace / "index" / "ragtune.db")
    try:
        return {
            "documents": sorted(db.execute("SELECT id, origin, record_hash, access_hash, text FROM documents")),
            "chunks": sorted(
                db.execute(
                    "SELECT c.id, d.id, c.text, c.start, c.end, c.embedding FROM chunks c JOIN documents d ON d.rowid = c.doc"
                )
            ),
            "fts": sorted(
                db.execute(
                    "SELECT c.id FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid "
                    "WHERE chunks_fts MATCH 'salary OR bicycle'"
                )
            ),
        }
    finally:
        db.close()


@pytest.mark.integration
def test_sigkill_during_ingest_never_corrupts_and_converges(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    files, duration = _reference_run(tmp_path, corpus)
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
        process = _run(workspace, corpus)
        time.sleep(rng.uniform(0, duration))  # after the imports, before the end
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
        else:
            assert process.returncode == 0, process.stderr.read().decode()
        if (workspace / "index" / "ragtune.db").exists():
            with SqliteStore(workspace / "index", None, None) as store:
                assert store.check_integrity() == [], f"after kill {kills}"
    assert kills >= KILLS, f"only {kills} of {attempts} runs were still running when killed"

    _write_corpus(corpus, files, seed=1)  # back to the reference corpus
    finish = _run(workspace, corpus)
    assert finish.wait(timeout=300) == 0, finish.stderr.read().decode()
    assert _state(workspace) == _state(reference)
    with SqliteStore(workspace / "index", None, None) as store:
        assert store.check_integrity() == []
