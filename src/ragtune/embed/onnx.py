"""The sentence-transformers pipeline (Transformer → mean Pooling → Normalize) through ONNX Runtime.

After a one-time export (cached, see ``onnx_export``) it needs only onnxruntime and the Rust
``tokenizers``: no torch at query time. fp32 vectors are the torch backend's vectors (same
identity); int8 vectors are close but not equal, so they get their own identity.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ragtune.bundled import DEFAULT_EMBEDDER
from ragtune.embed.base import ProgressCallback, normalise
from ragtune.embed.models import check_max_tokens, resolve_local_model
from ragtune.embed.onnx_export import cached_onnx, default_cache_dir, onnx_spec
from ragtune.errors import ConfigError


class OnnxEmbedder:
    def __init__(
        self,
        model_dir_or_name: str | Path = DEFAULT_EMBEDDER,
        max_tokens: int = 256,
        batch_size: int = 32,
        threads: int | None = None,
        *,
        quantize: bool = False,
        cache_dir: Path | None = None,
    ) -> None:
        model = resolve_local_model(model_dir_or_name)
        check_max_tokens(model, max_tokens)
        spec = onnx_spec(model)
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ConfigError(
                f"embedder backend 'onnx' needs onnxruntime ({exc}): pip install 'ragtune[local]', "
                "or choose another embedder.backend"
            ) from exc
        self.model_path = cached_onnx(model, cache_dir or default_cache_dir(), quantize=quantize)
        self.identity = f"{model.name}+int8" if quantize else model.name
        self.dimension = spec.dimension
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self._lowercase = spec.lowercase

        options = onnxruntime.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1  # one graph at a time: parallelism is within operators
        self._session = onnxruntime.InferenceSession(str(self.model_path), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}

        self._tokenizer = Tokenizer.from_file(str(model.path / "tokenizer.json"))
        padding = self._tokenizer.padding or {}
        self._pad_id = int(padding.get("pad_id", 0))
        # Padding is done per batch below; truncation at max_tokens matches sentence-transformers'
        # max_seq_length (both count the special tokens).
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=max_tokens)

    def embed(self, texts: Sequence[str], *, progress: ProgressCallback | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch([t.lower() if self._lowercase else t for t in texts])
        # Batches of similar token length waste little work on padding.
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            feeds, mask = self._pad([encodings[i] for i in rows])
            hidden = self._session.run(["last_hidden_state"], feeds)[0]
            out[rows] = _mean_pool(hidden, mask)
            if progress is not None:
                progress(len(rows))
        return normalise(out)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def _pad(self, encodings: list) -> tuple[dict[str, np.ndarray], np.ndarray]:
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), self._pad_id, dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            n = len(encoding.ids)
            ids[row, :n] = encoding.ids
            mask[row, :n] = 1
            types[row, :n] = encoding.type_ids
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        return {k: v for k, v in feeds.items() if k in self._inputs}, mask


def _mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' mean pooling: the average of the non-padding token vectors."""
    weights = mask[..., None].astype(np.float32)
    return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
