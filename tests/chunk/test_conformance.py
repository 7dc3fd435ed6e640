"""The Chunker suite of ragtune.testing.chunker, run against every chunker ragtune ships, with the
bundled embedder's real tokenizer and a budget small enough that every sample document splits."""

from __future__ import annotations

import pytest

from ragtune.chunk.factory import AutoChunker
from ragtune.chunk.headings import HeadingSplitter
from ragtune.chunk.recursive import RecursiveTokenSplitter
from ragtune.chunk.table import TableRowSplitter
from ragtune.testing.chunker import Budget, ChunkerConformance

CHUNK_TOKENS, OVERLAP_TOKENS = 40, 8


class ShippedChunker(ChunkerConformance):
    @pytest.fixture
    def recursive(self, tokenizer):  # type: ignore[no-untyped-def]
        return RecursiveTokenSplitter(tokenizer, CHUNK_TOKENS, OVERLAP_TOKENS)

    @pytest.fixture
    def budget(self, tokenizer):  # type: ignore[no-untyped-def]
        return Budget(tokenizer, CHUNK_TOKENS, OVERLAP_TOKENS)


class TestRecursiveTokenSplitter(ShippedChunker):
    @pytest.fixture
    def chunker(self, recursive):  # type: ignore[no-untyped-def]
        return recursive


class TestHeadingSplitter(ShippedChunker):
    @pytest.fixture
    def chunker(self, recursive):  # type: ignore[no-untyped-def]
        return HeadingSplitter(recursive)


class TestTableRowSplitter(ShippedChunker):
    @pytest.fixture
    def chunker(self, recursive):  # type: ignore[no-untyped-def]
        return TableRowSplitter(recursive)


class TestAutoChunker(ShippedChunker):
    @pytest.fixture
    def chunker(self, recursive):  # type: ignore[no-untyped-def]
        return AutoChunker(recursive)
