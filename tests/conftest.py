from __future__ import annotations

from pathlib import Path

import anyio
import anyio.abc
import pytest

from ragtune.chunk.tokenizer import Tokenizer, load_tokenizer
from ragtune.config import ChunkingConfig, EmbedderConfig, IngestConfig, RagtuneConfig
from tests.llm_fixtures import gguf_path, llama_llm, llama_server  # noqa: F401  (shared fixtures)
from tests.pg_fixtures import postgres_url  # noqa: F401  (shared fixture)

# anyio (≥ 4.16) imports its submodules on first attribute access, and under pytest that import is
# assertion-rewritten (anyio ships a pytest plugin), i.e. parsed with ast.parse. CPython 3.11's
# ast.parse can fail with "SystemError: AST constructor recursion depth mismatch" when it runs deep
# in a request's call stack (CI, stop 28: a FileResponse's first anyio.open_file). Resolving every
# lazy name here, at a shallow stack, does those imports once, before any test runs.
for _module in (anyio, anyio.abc):
    for _name in dir(_module):
        getattr(_module, _name)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def tokenizer() -> Tokenizer:
    """The bundled embedder's real tokenizer (all-MiniLM-L6-v2 WordPiece)."""
    return load_tokenizer(ChunkingConfig(), EmbedderConfig())


@pytest.fixture
def ingest_config() -> IngestConfig:
    return IngestConfig()


@pytest.fixture
def config() -> RagtuneConfig:
    """Defaults, except the model-free hashing embedder: fast, for tests of everything around it.
    Tests of the real embedder use ``real_config``."""
    return RagtuneConfig(embedder=EmbedderConfig(backend="hashing"))


@pytest.fixture
def real_config() -> RagtuneConfig:
    return RagtuneConfig()


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    path = SHARED / "datasets"
    if not path.is_dir():
        pytest.skip(f"shared data sets not found at {path} (they live beside the repository)")
    return path
