"""Invariants every chunker must keep, shared by the chunker tests."""

from __future__ import annotations

from ragtune.chunk.tokenizer import Tokenizer
from ragtune.types import Chunk, Document


def assert_spans_round_trip(document: Document, chunks: list[Chunk]) -> None:
    for chunk in chunks:
        assert document.text[chunk.start : chunk.end] == chunk.text
        assert chunk.text == chunk.text.strip() and chunk.text
        assert chunk.document_id == document.id and chunk.source == document.source
        assert chunk.id == Chunk.make_id(document.id, chunk.start, chunk.end)


def assert_no_text_lost(document: Document, chunks: list[Chunk]) -> None:
    covered = bytearray(len(document.text))
    for chunk in chunks:
        covered[chunk.start : chunk.end] = b"\x01" * (chunk.end - chunk.start)
    lost = [i for i, ch in enumerate(document.text) if not ch.isspace() and not covered[i]]
    assert not lost, f"characters not in any chunk at {lost[:10]}: {document.text[lost[0]:lost[0]+40]!r}"


def assert_sizes_and_overlap(
    chunks: list[Chunk], tokenizer: Tokenizer, chunk_tokens: int, overlap_tokens: int
) -> None:
    for chunk in chunks:
        # Counted on its own, exactly as the embedder will see it.
        assert tokenizer.count(chunk.text) <= chunk_tokens, (chunk.token_count, chunk.text[:80])
    ordered = sorted(chunks, key=lambda c: (c.start, c.end))
    for a, b in zip(ordered, ordered[1:]):
        assert a.start < b.start, "two chunks start at the same place"
        assert a.end < b.end, "a chunk lies inside its predecessor"
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.start >= a.end:
                break
            shared = a.text[b.start - a.start :]
            assert tokenizer.count(shared) <= overlap_tokens, (
                f"chunks share {tokenizer.count(shared)} tokens > overlap {overlap_tokens}"
            )
