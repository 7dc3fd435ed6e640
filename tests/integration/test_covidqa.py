"""Real data: the COVID-QA articles (long scientific texts) written as files and ingested."""

from __future__ import annotations

import json
import sqlite3

import pytest

from ragtune.ingest.api import ingest
from ragtune.testing.chunker import assert_no_text_lost, assert_sizes_and_overlap
from ragtune.types import Chunk, Document
from ragtune.workspace import Workspace

pytestmark = pytest.mark.integration


def test_covidqa_articles_chunk_cleanly(shared_datasets, tmp_path, config, tokenizer):
    data = json.loads((shared_datasets / "covidqa" / "covidqa.json").read_text())
    articles = [p["context"] for a in data["data"] for p in a["paragraphs"]]
    assert len(articles) >= 90
    folder = tmp_path / "covidqa"
    folder.mkdir()
    for i, text in enumerate(articles):
        (folder / f"article_{i:03d}.txt").write_text(text, encoding="utf-8")
    ws = Workspace(tmp_path / "ws")
    report = ingest(ws, [folder], config=config)
    assert report.failed == 0 and report.succeeded == len(articles)
    assert report.chunks > len(articles) * 10  # ~30k-char articles make many chunks
    db = sqlite3.connect(ws.index_dir / "ragtune.db")
    rows = db.execute(
        "SELECT d.source, d.id, c.id, c.text, c.start, c.end, c.heading_path, c.token_count FROM chunks c "
        "JOIN documents d ON d.rowid = c.doc ORDER BY d.source, c.ordinal"
    )
    by_name: dict[str, list[Chunk]] = {}
    for source, doc_id, chunk_id, text, start, end, heading_path, tokens in rows:
        chunk = Chunk(chunk_id, doc_id, source, text, start, end, heading_path=tuple(json.loads(heading_path)), token_count=tokens)
        by_name.setdefault(source.rsplit("/", 1)[1], []).append(chunk)
    first_ids = sorted(r[0] for r in db.execute("SELECT id FROM chunks"))
    db.close()
    for i, text in enumerate(articles):
        chunks = by_name[f"article_{i:03d}.txt"]
        document = Document(chunks[0].document_id, chunks[0].source, text, "text")
        for chunk in chunks:
            assert text[chunk.start : chunk.end] == chunk.text
        assert_no_text_lost(document, chunks)
        if i < 10:  # the independent re-tokenization check is the slow part
            assert_sizes_and_overlap(chunks, tokenizer, config.chunking.chunk_tokens, config.chunking.overlap_tokens)
    # Re-ingesting changes nothing: ids depend only on document and span, and nothing is re-embedded.
    again = ingest(ws, [folder], config=config)
    assert again.index["unchanged"] == len(articles) and again.index["chunks_embedded"] == 0
    db = sqlite3.connect(ws.index_dir / "ragtune.db")
    assert sorted(r[0] for r in db.execute("SELECT id FROM chunks")) == first_ids
    db.close()
