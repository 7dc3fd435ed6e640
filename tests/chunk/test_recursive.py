from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ragtune.chunk.recursive import RecursiveTokenSplitter
from ragtune.testing.chunker import assert_no_text_lost, assert_sizes_and_overlap, assert_spans_round_trip
from ragtune.types import Document


def doc(text: str) -> Document:
    return Document(id="doc-1", source="mem://doc-1", text=text, format="text")


def test_short_text_is_one_chunk(tokenizer):
    splitter = RecursiveTokenSplitter(tokenizer, chunk_tokens=50, overlap_tokens=5)
    chunks = splitter.chunk(doc("  A short note about leave.\n"))
    assert [c.text for c in chunks] == ["A short note about leave."]
    assert (chunks[0].start, chunks[0].end) == (2, 27)


def test_prefers_paragraph_boundaries(tokenizer):
    paragraphs = [f"Paragraph {i} says something about topic {i}." for i in range(6)]
    text = "\n\n".join(paragraphs)
    splitter = RecursiveTokenSplitter(tokenizer, chunk_tokens=25, overlap_tokens=0)
    chunks = splitter.chunk(doc(text))
    assert len(chunks) > 1
    for chunk in chunks:  # every chunk is whole paragraphs
        for piece in chunk.text.split("\n\n"):
            assert piece in paragraphs
    assert_no_text_lost(doc(text), chunks)


def test_overlap_repeats_trailing_sentences(tokenizer):
    text = " ".join(f"Sentence number {i} is here." for i in range(40))
    splitter = RecursiveTokenSplitter(tokenizer, chunk_tokens=40, overlap_tokens=15)
    chunks = splitter.chunk(doc(text))
    assert len(chunks) >= 3
    overlapping = [a for a, b in zip(chunks, chunks[1:]) if b.start < a.end]
    assert overlapping, "consecutive chunks should share their boundary sentences"
    assert_sizes_and_overlap(chunks, tokenizer, 40, 15)


def test_unbroken_string_is_cut_between_tokens(tokenizer):
    # No separator at all, but many tokens: BERT splits on punctuation. (A long run of letters
    # would be a single [UNK] token to WordPiece, which is what the embedder sees too.)
    text = "-".join(f"segment{i}" for i in range(300))
    splitter = RecursiveTokenSplitter(tokenizer, chunk_tokens=30, overlap_tokens=5)
    chunks = splitter.chunk(doc(text))
    assert len(chunks) > 5
    assert "".join(c.text for c in chunks) == text
    assert_sizes_and_overlap(chunks, tokenizer, 30, 5)


def test_ids_are_deterministic(tokenizer):
    text = "\n\n".join(f"Block {i}: " + "word " * 30 for i in range(10))
    splitter = RecursiveTokenSplitter(tokenizer, chunk_tokens=40, overlap_tokens=8)
    assert [c.id for c in splitter.chunk(doc(text))] == [c.id for c in splitter.chunk(doc(text))]


def test_rejects_overlap_not_below_size(tokenizer):
    with pytest.raises(ValueError):
        RecursiveTokenSplitter(tokenizer, chunk_tokens=10, overlap_tokens=10)


def test_long_text_tokenized_beyond_model_truncation(tokenizer):
    # The bundled tokenizer.json truncates at 128 tokens; counting must see the whole text.
    text = "word " * 1000
    assert tokenizer.count(text) == 1000


_alphabet = st.sampled_from(
    list("abcdefghij klmnop.,;!?\n\n") + ["\n\n", ". ", "Ünïcode", "日本語", "😀", "-", "\t", "https://x.y/z"]
)
texts = st.lists(_alphabet, min_size=0, max_size=400).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, size=st.integers(min_value=4, max_value=60), overlap_ratio=st.floats(0, 0.9))
def test_properties_hold_for_any_text(tokenizer, text, size, overlap_ratio):
    overlap = min(size - 1, int(size * overlap_ratio))
    document = doc(text)
    chunks = RecursiveTokenSplitter(tokenizer, chunk_tokens=size, overlap_tokens=overlap).chunk(document)
    assert_spans_round_trip(document, chunks)
    assert_no_text_lost(document, chunks)
    assert_sizes_and_overlap(chunks, tokenizer, size, overlap)


words = st.lists(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12),
    max_size=120,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=words, seps=st.lists(st.sampled_from([" ", "\n", "\n\n", ". ", ", "]), min_size=1))
def test_properties_hold_for_arbitrary_unicode(tokenizer, parts, seps):
    text = "".join(p + seps[i % len(seps)] for i, p in enumerate(parts))
    document = doc(text)
    chunks = RecursiveTokenSplitter(tokenizer, chunk_tokens=16, overlap_tokens=4).chunk(document)
    assert_spans_round_trip(document, chunks)
    assert_no_text_lost(document, chunks)
    assert_sizes_and_overlap(chunks, tokenizer, 16, 4)
