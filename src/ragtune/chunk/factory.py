"""Choose a chunker from configuration; ``auto`` picks per document."""

from __future__ import annotations

from ragtune.chunk.base import Chunker
from ragtune.chunk.context import ContextHeaderChunker
from ragtune.chunk.headings import HeadingSplitter
from ragtune.chunk.recursive import RecursiveTokenSplitter
from ragtune.chunk.table import TableRowSplitter
from ragtune.chunk.tokenizer import Tokenizer, load_tokenizer
from ragtune.config import ChunkingConfig, EmbedderConfig
from ragtune.types import Chunk, Document


class AutoChunker:
    """Tables by rows, documents with headings by section, everything else recursively."""

    name = "auto"

    def __init__(self, recursive: RecursiveTokenSplitter) -> None:
        self.recursive = recursive
        self.headings = HeadingSplitter(recursive)
        self.table = TableRowSplitter(recursive)

    def select(self, document: Document) -> Chunker:
        if document.row_spans:
            return self.table
        if document.outline:
            return self.headings
        return self.recursive

    def chunk(self, document: Document) -> list[Chunk]:
        return self.select(document).chunk(document)


def build_chunker(
    chunking: ChunkingConfig, embedder: EmbedderConfig, tokenizer: Tokenizer | None = None
) -> Chunker:
    tokenizer = tokenizer or load_tokenizer(chunking, embedder)
    recursive = RecursiveTokenSplitter(tokenizer, chunking.chunk_tokens, chunking.overlap_tokens)
    chunker: Chunker
    match chunking.strategy:
        case "recursive":
            chunker = recursive
        case "headings":
            chunker = HeadingSplitter(recursive)
        case "table":
            chunker = TableRowSplitter(recursive)
        case _:
            chunker = AutoChunker(recursive)
    return ContextHeaderChunker(chunker) if chunking.context_header else chunker
