"""Re-ingesting: unchanged documents cost nothing, changed ones are replaced, vanished ones go
(with sync), access-only changes never re-embed, and a broken file keeps its last good version.
Every test runs on both backends: the state lives in the store, not in local files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from ragtune.config import EmbedderConfig, IndexConfig, RagtuneConfig
from ragtune.embed.hashing import HashingEmbedder
from ragtune.index.base import SearchRequest
from ragtune.index.factory import build_store
from ragtune.ingest.api import ingest
from ragtune.types import Principal
from ragtune.workspace import Workspace
from tests.pg_fixtures import new_schema


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, counting how many texts it was asked to embed."""

    def __init__(self) -> None:
        super().__init__(64)
        self.texts = 0

    def embed(self, texts: Sequence[str], *, progress=None) -> np.ndarray:  # type: ignore[no-untyped-def]
        self.texts += len(texts)
        return super().embed(texts, progress=progress)


@pytest.fixture(params=["sqlite", "postgres"])
def config(request: pytest.FixtureRequest) -> RagtuneConfig:
    if request.param == "sqlite":
        return RagtuneConfig(embedder=EmbedderConfig(backend="hashing"))
    return RagtuneConfig(embedder=EmbedderConfig(backend="hashing"), index=IndexConfig(
        backend="postgres", url=request.getfixturevalue("postgres_url"), schema=new_schema()))


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    (folder / "team").mkdir(parents=True)
    (folder / "bikes.md").write_text(
        "# Bikes\n\nThe city bike costs 499 euros.\n\nThe mountain bike costs 899 euros.\n"
    )
    (folder / "helmets.txt").write_text("Helmets must be worn on every test ride.\n")
    (folder / "team" / "salaries.md").write_text("---\nallowed_groups: [hr]\n---\nSalary band B starts at 52,000.\n")
    (folder / "faq.jsonl").write_text(
        '{"id": "q1", "text": "Returns within 30 days."}\n{"id": "q2", "text": "Shipping is free over 100 euros."}\n'
    )
    return folder


def _run(ws: Workspace, folder: Path, config: RagtuneConfig, embedder: CountingEmbedder, sync: bool = False):  # type: ignore[no-untyped-def]
    embedder.texts = 0
    return ingest(ws, [folder], config=config, embedder=embedder, sync=sync)


def _texts(ws: Workspace, config: RagtuneConfig, principal: Principal, query: str) -> list[str]:
    with build_store(ws, config, None) as store:
        return [h.text for h in store.search(SearchRequest(principal, None, query, 50)).keyword]


HR = Principal("hanna", frozenset({"hr"}))
ANYONE = Principal("sam")


def test_unchanged_corpus_costs_zero_embedding_calls(tmp_path, corpus, config) -> None:
    ws, embedder = Workspace(tmp_path / "ws"), CountingEmbedder()
    first = _run(ws, corpus, config, embedder)
    assert first.index["added"] == 5 and embedder.texts == first.chunks
    again = _run(ws, corpus, config, embedder)
    assert embedder.texts == 0
    assert again.index == {**again.index, "added": 0, "updated": 0, "unchanged": 5, "chunks_embedded": 0}


def test_changed_document_is_replaced_and_only_new_text_embedded(tmp_path, corpus, config) -> None:
    ws, embedder = Workspace(tmp_path / "ws"), CountingEmbedder()
    _run(ws, corpus, config, embedder)
    (corpus / "bikes.md").write_text(
        "# Bikes\n\nThe city bike costs 549 euros.\n\nThe mountain bike costs 899 euros.\n"
    )
    report = _run(ws, corpus, config, embedder)
    assert report.index["updated"] == 1 and report.index["unchanged"] == 4
    assert embedder.texts == report.index["chunks_embedded"] >= 1
    texts = " ".join(_texts(ws, config, ANYONE, "city bike costs"))
    assert "549" in texts and "499" not in texts


def test_access_only_change_updates_without_re_embedding(tmp_path, corpus, config) -> None:
    ws, embedder = Workspace(tmp_path / "ws"), CountingEmbedder()
    _run(ws, corpus, config, embedder)
    assert _texts(ws, config, ANYONE, "salary band") == []
    (corpus / "team" / "salaries.md.acl.json").write_text(
        '{"allowed_groups": ["hr", "staff"], "allowed_users": ["sam"]}'
    )
    report = _run(ws, corpus, config, embedder)
    assert embedder.texts == 0 and report.index["access_updated"] == 1
    assert _texts(ws, config, ANYONE, "salary band") and _texts(ws, config, HR, "salary band")


def test_sync_deletes_vanished_files_and_records_but_plain_ingest_does_not(tmp_path, corpus, config) -> None:
    ws, embedder = Workspace(tmp_path / "ws"), CountingEmbedder()
    _run(ws, corpus, config, embedder)
    (corpus / "helmets.txt").unlink()
    (corpus / "faq.jsonl").write_text('{"id": "q1", "text": "Returns within 30 days."}\n')
    plain = _run(ws, corpus, config, embedder)
    assert plain.index["deleted"] == 0 and _texts(ws, config, ANYONE, "helmets")
    synced = _run(ws, corpus, config, embedder, sync=True)
    assert synced.index["deleted"] == 2 and embedder.texts == 0
    assert _texts(ws, config, ANYONE, "helmets") == [] and _texts(ws, config, ANYONE, "shipping") == []
    assert _texts(ws, config, ANYONE, "returns")


def test_sync_keeps_the_last_good_version_of_a_file_that_now_fails(tmp_path, corpus, config) -> None:
    ws, embedder = Workspace(tmp_path / "ws"), CountingEmbedder()
    _run(ws, corpus, config, embedder)
    (corpus / "helmets.txt").write_bytes(b"\x00\x01\x02binary garbage\x00" * 20)
    report = _run(ws, corpus, config, embedder, sync=True)
    assert report.failed == 1 and report.index["deleted"] == 0
    assert _texts(ws, config, ANYONE, "helmets")


def test_sync_of_a_removed_folder_deletes_its_documents(tmp_path, corpus, config) -> None:
    ws, embedder = Workspace(tmp_path / "ws"), CountingEmbedder()
    _run(ws, corpus, config, embedder)
    for path in (corpus / "team").iterdir():
        path.unlink()
    (corpus / "team").rmdir()
    report = ingest(ws, [corpus / "team"], config=config, embedder=embedder, sync=True)
    assert report.index["deleted"] == 1
    assert _texts(ws, config, HR, "salary") == [] and _texts(ws, config, ANYONE, "helmets")


class CountingLoads:
    """Counts the files the pipeline actually reads and parses."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from ragtune.ingest import pipeline

        self.paths: list[str] = []
        real = pipeline.load_file

        def counted(found, config):  # type: ignore[no-untyped-def]
            self.paths.append(found.file.path.name)
            return real(found, config)

        monkeypatch.setattr(pipeline, "load_file", counted)


def test_unchanged_files_are_not_even_read_and_any_change_is(tmp_path, corpus, config, monkeypatch) -> None:
    ws, embedder = Workspace(tmp_path / "ws"), CountingEmbedder()
    first = _run(ws, corpus, config, embedder)
    loads = CountingLoads(monkeypatch)
    again = _run(ws, corpus, config, embedder)
    assert loads.paths == [] and embedder.texts == 0
    assert again.index["unchanged"] == first.documents == again.documents and again.chunks == first.chunks
    assert [s.status for s in again.sources] == [s.status for s in first.sources]
    (corpus / "helmets.txt").write_text("Helmets must be worn on every ride.\n")  # content
    (corpus / "team" / ".ragtune-acl.json").write_text('{"allowed_groups": ["hr", "staff"]}')  # folder access
    changed = _run(ws, corpus, config, embedder)
    assert sorted(loads.paths) == ["helmets.txt", "salaries.md"]
    assert changed.index["updated"] == 1 and changed.index["unchanged"] == first.documents - 1
    loads.paths.clear()
    _run(ws, corpus, config.model_copy(update={"chunking": config.chunking.model_copy(update={"overlap_tokens": 3})}), embedder)
    assert len(loads.paths) == 4  # a chunking setting changes what every file becomes
