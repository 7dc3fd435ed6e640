"""Cross-encoder reranking of the top candidates.

No cross-encoder ships its weights on PyPI (see ../shared/docs/models.md), so none is the
default: point ``[retrieval] rerank_model`` at a local sentence-transformers CrossEncoder folder
(for example one trained with ``ragtune tune reranker``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from ragtune.errors import ConfigError


class Reranker(Protocol):
    identity: str

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray: ...


class CrossEncoderReranker:
    def __init__(self, path: str | Path, batch_size: int = 16, max_length: int = 256) -> None:
        path = Path(path).expanduser()
        if not path.is_dir():
            raise ConfigError(f"retrieval.rerank_model: '{path}' is not a folder holding a CrossEncoder model")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import CrossEncoder

        self.identity = path.name
        self.batch_size = batch_size
        self._model = CrossEncoder(str(path), device="cpu", max_length=max_length)

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0, np.float32)
        pairs = [(query, t) for t in texts]
        return np.asarray(
            self._model.predict(pairs, batch_size=self.batch_size, show_progress_bar=False), dtype=np.float32
        ).reshape(-1)
