"""Every loader, through the same checks: spans round-trip, ids stable, chunks valid.

Add a sample to SAMPLES when adding a loader; the registry test fails until you do.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ragtune.chunk.factory import build_chunker
from ragtune.ingest.files import SourceFile
from ragtune.ingest.registry import LOADERS, loader_for_name
from tests import samples
from tests.chunk.checks import assert_no_text_lost, assert_sizes_and_overlap, assert_spans_round_trip

LONG = " ".join(f"Sentence {i} explains one more detail of the leave policy." for i in range(120))


def _md(p: Path) -> Path:
    p.write_text(f"---\ntitle: Leave\n---\n# Leave\n\n{LONG}\n\n## Carry over\n\nFive days.\n")
    return p


SAMPLES = {
    "markdown": ("leave.md", _md),
    "text": ("notes.txt", lambda p: (p.write_text(LONG + "\n\nSecond paragraph."), p)[1]),
    "html": ("travel.html", lambda p: (p.write_text(samples.HTML_PAGE), p)[1]),
    "pdf": ("policy.pdf", lambda p: samples.write_pdf(p, [LONG[:1500], "Page two text.", LONG[1500:3000]])),
    "docx": ("handbook.docx", lambda p: samples.write_docx(
        p, [("h1", "Handbook"), ("p", LONG), ("h2", "Table"), ("table", [["a", "b"], ["1", "2"]])])),
    "csv": ("prices.csv", lambda p: (p.write_text("sku,name,price\n" + "".join(
        f"S{i},Item {i},{i}.5\n" for i in range(80))), p)[1]),
    "xlsx": ("prices.xlsx", lambda p: samples.write_xlsx(
        p, {"Prices": [["sku", "price"], *[[f"S{i}", i] for i in range(50)]], "Notes": [["note"], ["hi"]]})),
    "json": ("faq.json", lambda p: (p.write_text('[{"title": "Q1", "text": "' + LONG[:600] + '"}]'), p)[1]),
    "jsonl": ("faq.jsonl", lambda p: samples.write_jsonl(p, [{"text": LONG[:900]}, {"text": "short"}])),
}


def test_every_registered_loader_has_a_sample():
    assert {loader.name for loader in LOADERS} == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_loader_conformance(name, tmp_path, ingest_config, config, tokenizer):
    filename, make = SAMPLES[name]
    path = make(tmp_path / filename)
    loader = loader_for_name(filename)
    assert loader is not None and loader.name == name
    result = loader.load(SourceFile(path), path.read_bytes(), ingest_config)
    assert result.documents and not result.errors
    again = loader.load(SourceFile(path), path.read_bytes(), ingest_config)
    assert [d.id for d in again.documents] == [d.id for d in result.documents]
    chunker = build_chunker(config.chunking, config.embedder, tokenizer)
    for document in result.documents:
        assert document.text.strip()
        assert document.source.startswith(str(path))
        for heading in document.outline:
            assert 0 <= heading.start < len(document.text)
            if document.format == "table":  # a sheet's heading marks its first row
                assert any(start == heading.start for start, _ in document.row_spans)
            else:  # the heading's own line starts there (Markdown keeps its '#' marks)
                line = document.text[heading.start :].split("\n", 1)[0]
                assert heading.title in " ".join(line.split())
        for start, end in document.row_spans:
            assert 0 <= start < end <= len(document.text)
        chunks = chunker.chunk(document)
        assert chunks
        assert_spans_round_trip(document, chunks)
        assert_no_text_lost(document, chunks)
        assert_sizes_and_overlap(chunks, tokenizer, config.chunking.chunk_tokens, config.chunking.overlap_tokens)
