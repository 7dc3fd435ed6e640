"""A local sentence-transformers model run by PyTorch on the CPU (the reference implementation)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ragtune.bundled import DEFAULT_EMBEDDER
from ragtune.embed.base import ProgressCallback, normalise
from ragtune.embed.models import check_max_tokens, resolve_local_model
from ragtune.errors import ConfigError


class SentenceTransformerEmbedder:
    def __init__(
        self,
        model_dir_or_name: str | Path = DEFAULT_EMBEDDER,
        max_tokens: int = 256,
        batch_size: int = 32,
        threads: int | None = None,
    ) -> None:
        model = resolve_local_model(model_dir_or_name)
        check_max_tokens(model, max_tokens)
        try:
            # Imported here: torch costs seconds and hundreds of MB, and only this backend needs it.
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ConfigError(
                f"embedder backend 'sentence-transformers' needs torch and sentence-transformers ({exc}): "
                "pip install 'ragtune[local]', or choose another embedder.backend"
            ) from exc
        self._torch = torch
        self._threads = threads
        self._set_threads()
        self._model = SentenceTransformer(str(model.path), device="cpu", local_files_only=True)
        self._model.max_seq_length = max_tokens
        self.identity = model.name
        self.dimension = int(self._model.get_embedding_dimension())
        self.batch_size = batch_size
        self.max_tokens = max_tokens

    def _set_threads(self) -> None:
        # torch's thread pool is process-wide, so it is set again before every call in case
        # another component changed it in between.
        if self._threads is not None and self._torch.get_num_threads() != self._threads:
            self._torch.set_num_threads(self._threads)

    def embed(self, texts: Sequence[str], *, progress: ProgressCallback | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        self._set_threads()
        # Batches of similar length waste little work on padding; characters are a good enough
        # proxy for tokens to sort by.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            vectors = self._model.encode(
                [texts[i] for i in rows],
                batch_size=len(rows),
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
            out[rows] = vectors
            if progress is not None:
                progress(len(rows))
        return normalise(out)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]
