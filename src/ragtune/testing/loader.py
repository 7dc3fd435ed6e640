"""The conformance suite every ``Loader`` implementation must pass.

The contract (``ragtune.ingest.base``): ``load`` turns the bytes of one file into documents whose
ids are stable (the same file at the same place always gives the same ids) and unique, whose
``source`` names the file, and whose outline and table rows are offsets into the text; failures
of single records come back as ``errors`` that name the file and the record; a file with nothing
usable raises ``LoadError`` with the reason (the ingest report shows it against the file). The
documents must also chunk cleanly with ragtune's default chunker.

A loader subclasses ``LoaderConformance``, provides the ``loader`` fixture and writes its sample
files::

    class TestMyLoader(LoaderConformance):
        bad_reason = "not a valid FOO file"

        @pytest.fixture
        def loader(self):
            return FooLoader()

        def make_sample(self, folder):
            (folder / "a.foo").write_bytes(GOOD_FOO)
            return folder / "a.foo"

        def make_bad_sample(self, folder):
            (folder / "b.foo").write_bytes(b"garbage")
            return folder / "b.foo"

Needs ``pytest`` (``pip install 'ragtune[test]'``); the chunking check loads the bundled
embedder's tokenizer, as ragtune's default chunking does.
"""

from __future__ import annotations

import functools
import re
import shutil
from pathlib import Path

import pytest

from ragtune.chunk.factory import build_chunker
from ragtune.chunk.tokenizer import Tokenizer, load_tokenizer
from ragtune.config import ChunkingConfig, EmbedderConfig, IngestConfig
from ragtune.errors import LoadError
from ragtune.ingest.base import LoadResult, Loader
from ragtune.ingest.files import SourceFile
from ragtune.testing.chunker import assert_no_text_lost, assert_sizes_and_overlap, assert_spans_round_trip

__all__ = ["LoaderConformance"]


@functools.cache
def _default_tokenizer() -> Tokenizer:
    return load_tokenizer(ChunkingConfig(), EmbedderConfig())


def _load(loader: Loader, path: Path, config: IngestConfig) -> LoadResult:
    return loader.load(SourceFile(path), path.read_bytes(), config)


class LoaderConformance:
    bad_reason: str = ""
    """A fragment of the ``LoadError`` message that ``make_bad_sample``'s file must raise."""

    @pytest.fixture
    def loader(self) -> Loader:  # pragma: no cover - each loader overrides this
        raise NotImplementedError("provide a loader fixture returning the Loader under test")

    @pytest.fixture
    def ingest_config(self) -> IngestConfig:
        return IngestConfig()

    def make_sample(self, folder: Path) -> Path:  # pragma: no cover - each loader overrides this
        """Write a good file this loader reads into ``folder`` and return its path."""
        raise NotImplementedError

    def make_bad_sample(self, folder: Path) -> Path:  # pragma: no cover - each loader overrides this
        """Write a file with this loader's extension that holds nothing usable (``bad_reason``)."""
        raise NotImplementedError

    def make_partial_sample(self, folder: Path) -> Path | None:
        """For loaders of records: a file with good records and at least one bad one."""
        return None

    def _sample(self, tmp_path: Path) -> Path:
        folder = tmp_path / "sample"
        folder.mkdir(exist_ok=True)
        return self.make_sample(folder)

    def test_declares_what_it_reads(self, loader: Loader, tmp_path: Path) -> None:
        assert isinstance(loader.name, str) and loader.name
        assert isinstance(loader.extensions, tuple) and loader.extensions
        assert all(ext.startswith(".") and ext == ext.lower() for ext in loader.extensions)
        assert isinstance(loader.mime_types, tuple) and all("/" in mime for mime in loader.mime_types)
        assert SourceFile(self._sample(tmp_path)).suffix in loader.extensions

    def test_sample_loads_with_stable_ids_and_valid_offsets(
        self, loader: Loader, tmp_path: Path, ingest_config: IngestConfig
    ) -> None:
        path = self._sample(tmp_path)
        result = _load(loader, path, ingest_config)
        assert result.documents and not result.errors
        again = _load(loader, path, ingest_config)
        assert [d.id for d in again.documents] == [d.id for d in result.documents]
        assert len({d.id for d in result.documents}) == len(result.documents)
        for document in result.documents:
            assert document.text.strip()
            assert document.source.startswith(str(path))
            assert isinstance(document.format, str) and document.format
            for heading in document.outline:
                assert 0 <= heading.start < len(document.text)
                if document.format == "table":  # a sheet's heading marks its first row
                    assert any(start == heading.start for start, _ in document.row_spans)
                else:  # the heading's own line starts there (Markdown keeps its '#' marks)
                    line = document.text[heading.start :].split("\n", 1)[0]
                    assert heading.title in " ".join(line.split())
            for start, end in document.row_spans:
                assert 0 <= start < end <= len(document.text)
            for page_start in document.page_starts:
                assert 0 <= page_start <= len(document.text)
            assert document.page_starts == sorted(document.page_starts)

    def test_ids_belong_to_the_file_location(self, loader: Loader, tmp_path: Path, ingest_config: IngestConfig) -> None:
        path = self._sample(tmp_path)
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        copy = Path(shutil.copy(path, elsewhere / path.name))
        here = {d.id for d in _load(loader, path, ingest_config).documents}
        there = _load(loader, copy, ingest_config).documents
        assert here.isdisjoint(d.id for d in there), "two files at different places share document ids"
        assert all(d.source.startswith(str(copy)) for d in there)

    def test_documents_chunk_cleanly(self, loader: Loader, tmp_path: Path, ingest_config: IngestConfig) -> None:
        path = self._sample(tmp_path)
        result = _load(loader, path, ingest_config)
        chunking, tokenizer = ChunkingConfig(), _default_tokenizer()
        chunker = build_chunker(chunking, EmbedderConfig(backend="hashing"), tokenizer)
        for document in result.documents:
            chunks = chunker.chunk(document)
            assert chunks
            assert_spans_round_trip(document, chunks)
            assert_no_text_lost(document, chunks)
            assert_sizes_and_overlap(chunks, tokenizer, chunking.chunk_tokens, chunking.overlap_tokens)

    def test_unusable_file_raises_load_error_with_its_reason(
        self, loader: Loader, tmp_path: Path, ingest_config: IngestConfig
    ) -> None:
        assert self.bad_reason, "set bad_reason: the reason make_bad_sample's file must be refused with"
        folder = tmp_path / "bad"
        folder.mkdir()
        path = self.make_bad_sample(folder)
        with pytest.raises(LoadError, match=re.escape(self.bad_reason)):
            _load(loader, path, ingest_config)

    def test_bad_records_are_reported_with_the_file_and_record(
        self, loader: Loader, tmp_path: Path, ingest_config: IngestConfig
    ) -> None:
        folder = tmp_path / "partial"
        folder.mkdir()
        path = self.make_partial_sample(folder)
        if path is None:
            pytest.skip("this loader reads whole files, not records")
        result = _load(loader, path, ingest_config)
        assert result.documents and result.errors
        for error in result.errors:
            assert error.source == SourceFile(path).uri
            assert error.record and error.reason
        assert all(d.source.startswith(str(path)) for d in result.documents)
