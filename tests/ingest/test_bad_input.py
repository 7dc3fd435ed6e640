"""A corpus of broken files: each gets one clear reason, the rest of the batch is processed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ragtune.errors import LoadError
from ragtune.index.sqlite_store import SqliteStore
from ragtune.ingest.api import ingest
from ragtune.ingest.files import SourceFile
from ragtune.workspace import Workspace
from tests.samples import make_bad_corpus


@pytest.fixture
def corpus(tmp_path):
    bad, good = make_bad_corpus(tmp_path / "corpus")
    return tmp_path / "corpus", bad, good


def test_every_bad_file_fails_alone_with_its_reason(corpus, tmp_path, config, tokenizer):
    folder, bad, good = corpus
    assert len(bad) >= 15
    report = ingest(Workspace(tmp_path / "ws"), [folder], config=config)
    by_name = {Path(s.source).name: s for s in report.sources}
    for name, reason in bad.items():
        source = by_name[name]
        assert source.status == "failed", (name, source)
        assert reason in source.reason, (name, source.reason)
        assert source.source.endswith(name)
    for name in good:
        assert by_name[name].status in ("ok", "partial") and by_name[name].chunks >= 1
    assert by_name["partial.jsonl"].status == "partial"
    assert [e.record for e in by_name["partial.jsonl"].errors] == ["line 2"]
    assert by_name["notes.xyz"].status == "skipped"
    assert report.failed == len(bad) and report.succeeded == len(good)
    assert "bad_acl.md.acl.json" not in by_name  # access files are never documents
    # What was indexed is only the good documents, and the latin-1 file was decoded.
    db = sqlite3.connect(tmp_path / "ws" / "index" / "ragtune.db")
    texts = " ".join(row[0] for row in db.execute("SELECT text FROM chunks"))
    sources = {Path(row[0].split("#")[0]).name for row in db.execute("SELECT source FROM documents")}
    db.close()
    assert "Café crème brûlée" in texts and "also kept" in texts
    assert sources == set(good)
    with SqliteStore(tmp_path / "ws" / "index", None, None) as store:
        assert store.check_integrity() == []


def test_permission_denied_is_reported(tmp_path, monkeypatch):
    path = tmp_path / "locked.txt"
    path.write_text("secret")

    def deny(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", deny)
    with pytest.raises(LoadError, match="permission denied"):
        SourceFile(path).read_bytes(1000)


def test_size_limit_is_configurable(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("x" * 2048)
    with pytest.raises(LoadError, match=r"file is 2.0 KB, over the 1.0 KB limit \(ingest.max_file_bytes\)"):
        SourceFile(path).read_bytes(1024)


def test_an_unforeseen_parser_crash_fails_only_its_file(tmp_path, config, monkeypatch):
    from ragtune.ingest.text import TextLoader

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "boom.txt").write_text("triggers the bug")
    (tmp_path / "docs" / "fine.md").write_text("# Fine\n\nStill ingested.\n")

    def crash(self, file, data, config):
        raise RuntimeError("parser bug")

    monkeypatch.setattr(TextLoader, "load", crash)
    report = ingest(Workspace(tmp_path / "ws"), [tmp_path / "docs"], config=config)
    by_name = {Path(s.source).name: s for s in report.sources}
    assert by_name["boom.txt"].status == "failed"
    assert by_name["boom.txt"].reason == "unexpected error: RuntimeError: parser bug"
    assert by_name["fine.md"].status == "ok"


def test_a_failing_sink_stops_the_run_instead_of_passing_as_a_bad_file(tmp_path, config, tokenizer):
    from ragtune.chunk.factory import build_chunker
    from ragtune.ingest.pipeline import IngestPipeline

    (tmp_path / "a.md").write_text("# A\n\nText.\n")

    class FullDisk:
        def write(self, document, chunks, origin):
            raise OSError(28, "No space left on device")

    pipeline = IngestPipeline(config.ingest, build_chunker(config.chunking, config.embedder, tokenizer), FullDisk())
    with pytest.raises(OSError, match="No space left"):
        pipeline.run([tmp_path])
