"""Real data: the COVID-QA articles (long scientific texts) written as files and ingested."""

from __future__ import annotations

import json

import pytest

from ragtune.ingest.api import ingest
from ragtune.types import Chunk, Document
from ragtune.workspace import Workspace
from tests.chunk.checks import assert_no_text_lost, assert_sizes_and_overlap

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
    staged = [json.loads(line) for line in ws.staging_path.read_text().splitlines()]
    by_name = {r["document"]["source"].rsplit("/", 1)[1]: r for r in staged}
    for i, text in enumerate(articles):
        record = by_name[f"article_{i:03d}.txt"]
        document = Document(record["document"]["id"], record["document"]["source"], text, "text")
        chunks = [Chunk(**{**c, "heading_path": tuple(c["heading_path"])}) for c in record["chunks"]]
        for chunk in chunks:
            assert text[chunk.start : chunk.end] == chunk.text
        assert_no_text_lost(document, chunks)
        if i < 10:  # the independent re-tokenization check is the slow part
            assert_sizes_and_overlap(chunks, tokenizer, config.chunking.chunk_tokens, config.chunking.overlap_tokens)
    # Re-ingesting gives the same chunk ids: ids depend only on document and span.
    first_ids = [c["id"] for r in staged for c in r["chunks"]]
    ingest(ws, [folder], config=config)
    again = [c["id"] for line in ws.staging_path.read_text().splitlines() for c in json.loads(line)["chunks"]]
    assert first_ids == again
