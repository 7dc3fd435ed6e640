"""One-time export of a sentence-transformers BERT model to ONNX (and int8), cached on disk.

Only the export needs torch and transformers; the cache lookup and everything at query time do
not, so this module imports them inside the functions that export.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import uuid
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ragtune.cache import user_cache
from ragtune.embed.models import LocalModel, read_json
from ragtune.errors import ConfigError, EmbedderError

# Part of the cache key: changing how models are exported must invalidate earlier exports.
EXPORT_RECIPE = "ragtune-onnx-export/2 eager-attention bert-fusion opset=17 output=last_hidden_state"
OPSET = 17
# Model types whose export was checked against sentence-transformers (tests/embed).
SUPPORTED_MODEL_TYPES = ("bert",)
_WEIGHT_SUFFIXES = (".safetensors", ".bin")


def default_cache_dir() -> Path:
    return user_cache("onnx")


@dataclass(frozen=True)
class OnnxSpec:
    """What the ONNX runtime must reproduce of the sentence-transformers pipeline."""

    dimension: int
    lowercase: bool
    """sentence-transformers lowercases texts itself when ``do_lower_case`` is set."""


def onnx_spec(model: LocalModel) -> OnnxSpec:
    """The model's pipeline if it is Transformer → mean Pooling [→ Normalize] over a BERT model,
    the only shape whose export is verified; otherwise ConfigError saying why."""
    modules = read_json(model.path / "modules.json")
    if not isinstance(modules, list) or not modules:
        raise ConfigError(f"embedder '{model.name}': no modules.json, so not a sentence-transformers model for the onnx backend")
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or any(k not in ("Transformer", "Pooling", "Normalize") for k in kinds):
        raise ConfigError(
            f"embedder '{model.name}': the onnx backend runs Transformer → Pooling [→ Normalize] models; "
            f"this one is {' → '.join(kinds)}: use backend 'sentence-transformers'"
        )
    pooling = read_json(model.path / modules[1].get("path", "1_Pooling") / "config.json") or {}
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v is True}
    if modes != {"pooling_mode_mean_tokens"}:
        raise ConfigError(
            f"embedder '{model.name}': the onnx backend does mean pooling only, this model pools by "
            f"{', '.join(sorted(modes)) or 'nothing'}: use backend 'sentence-transformers'"
        )
    config = read_json(model.path / "config.json") or {}
    if config.get("model_type") not in SUPPORTED_MODEL_TYPES:
        raise ConfigError(
            f"embedder '{model.name}': model type '{config.get('model_type')}' is not one the onnx export "
            f"is verified for ({', '.join(SUPPORTED_MODEL_TYPES)}): use backend 'sentence-transformers'"
        )
    if not (model.path / "tokenizer.json").is_file():
        raise ConfigError(f"embedder '{model.name}': no tokenizer.json in {model.path}")
    st_config = read_json(model.path / "sentence_bert_config.json") or {}
    dimension = pooling.get("word_embedding_dimension") or config.get("hidden_size")
    return OnnxSpec(dimension=int(dimension), lowercase=bool(st_config.get("do_lower_case", False)))


def cache_key(model_dir: Path) -> str:
    """sha256 over the export recipe, the model config and the weights: a changed model (or a
    changed recipe) gets a new file instead of a stale export."""
    digest = hashlib.sha256(EXPORT_RECIPE.encode())
    files = [p for p in sorted(model_dir.iterdir()) if p.name == "config.json" or p.suffix in _WEIGHT_SUFFIXES]
    for path in files:
        with path.open("rb") as fh:
            file_hash = hashlib.file_digest(fh, "sha256").digest()
        digest.update(path.name.encode() + b"\0" + file_hash)
    return digest.hexdigest()[:16]


def cached_onnx(model: LocalModel, cache_dir: Path, *, quantize: bool) -> Path:
    """The cached .onnx file for ``model``, exported (and quantised) first if missing."""
    folder = cache_dir / re.sub(r"[^\w.+-]", "_", model.name)
    key = cache_key(model.path)
    fp32 = folder / f"{key}.onnx"
    if not fp32.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomically(fp32, lambda tmp: export_fp32(model.path, tmp), f"exporting '{model.name}' to ONNX")
    if not quantize:
        return fp32
    int8 = folder / f"{key}.int8.onnx"
    if not int8.is_file():
        _write_atomically(int8, lambda tmp: quantize_int8(fp32, tmp), f"quantising '{model.name}' to int8")
    return int8


def _write_atomically(dest: Path, write: Callable[[Path], None], what: str) -> None:
    # A crash or a concurrent run must never leave a half-written model under the final name:
    # write beside it, then rename (atomic within one file system).
    tmp = dest.with_name(f".{dest.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp.onnx")
    try:
        write(tmp)
        os.replace(tmp, dest)
    except (ConfigError, EmbedderError):
        raise
    except Exception as exc:  # torch's exporter and the quantiser raise many kinds
        raise EmbedderError(f"{what} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)


def _not_preprocessing_advice(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith("Please consider to run pre-processing")


@contextmanager
def _quiet():
    # The TorchScript exporter warns about tracing details that do not apply to this model
    # (verify_export checks the result), and the quantiser logs advice meant for static image
    # quantisation; users should not see either on their first ingest.
    root = logging.getLogger()
    root.addFilter(_not_preprocessing_advice)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.removeFilter(_not_preprocessing_advice)


def export_fp32(model_dir: Path, dest: Path) -> None:
    try:
        import torch
        from transformers import AutoModel
    except ImportError as exc:
        raise ConfigError(
            f"exporting the embedder to ONNX needs torch and transformers once ({exc}): pip install 'ragtune[local]'"
        ) from exc

    # Eager attention: the SDPA path traces into a long chain of mask arithmetic that ONNX
    # Runtime's BERT fusion does not recognise, and it ran slower than torch (bench/RESULTS.md).
    bert = AutoModel.from_pretrained(str(model_dir), local_files_only=True, attn_implementation="eager")
    bert.eval()
    names = _input_names(bert)

    class LastHiddenState(torch.nn.Module):
        # use_cache=False: with the cache on, the traced graph grows past-key-value outputs.
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(names, inputs)), use_cache=False).last_hidden_state

    # The sample batch holds padding: traced with an all-ones mask, the attention code may skip
    # masking altogether and the graph would ignore the mask for every later batch.
    sample = _sample_inputs(torch, names, batch=2, length=8)
    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, "last_hidden_state"]}
    traced = dest.with_name(dest.name + ".traced.onnx")
    # eval() on the wrapper too: the exporter restores the wrapper's own mode afterwards, and a
    # fresh Module is in training mode, which would switch dropout on in the wrapped model.
    wrapper = LastHiddenState(bert).eval()
    with _quiet(), torch.no_grad():
        torch.onnx.export(
            wrapper,
            tuple(sample.values()),
            str(traced),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
    try:
        fuse_bert(traced, dest, bert.config)
    finally:
        traced.unlink(missing_ok=True)
    verify_export(bert, dest, names)


def fuse_bert(traced: Path, dest: Path, config) -> None:
    """ONNX Runtime's offline BERT fusion: attention, embedding + LayerNorm, skip + LayerNorm
    and bias + GELU each become one fused CPU kernel. The fused attention reads the mask as
    per-row lengths, which holds because the tokenizer pads on the right."""
    from onnxruntime.transformers.optimizer import optimize_model

    with _quiet():
        fused = optimize_model(
            str(traced), model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size
        )
        fused.save_model_to_file(str(dest))


def _input_names(model) -> list[str]:
    import inspect

    accepted = inspect.signature(model.forward).parameters
    return [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in accepted]


def _sample_inputs(torch, names: list[str], *, batch: int, length: int) -> dict:
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, 2000, (batch, length), generator=generator)
    mask = torch.ones(batch, length, dtype=torch.long)
    mask[-1, length // 2 :] = 0
    values = {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}
    return {n: values[n] for n in names}


def verify_export(model, path: Path, names: list[str]) -> None:
    """Run the export on a batch of another shape, with padding, against torch: a broken trace
    must fail here, not silently corrupt an index."""
    import numpy as np
    import onnxruntime
    import torch

    sample = _sample_inputs(torch, names, batch=3, length=13)
    with torch.inference_mode():
        expected = model(**sample, use_cache=False).last_hidden_state.numpy()
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(["last_hidden_state"], {n: v.numpy() for n, v in sample.items()})[0]
    mask = sample["attention_mask"].numpy().astype(bool)
    error = float(np.abs(got - expected)[mask].max())
    if error > 1e-3:
        raise EmbedderError(f"ONNX export of {path.name} differs from torch by {error:.2e}; not cached")


def quantize_int8(fp32: Path, dest: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Per-channel weight scales: per-tensor int8 moved some MiniLM vectors to cosine 0.90 of
    # fp32; per-channel keeps abstracts above 0.99 (bench/RESULTS.md). The fused operators'
    # outputs have no inferred type, hence DefaultTensorType (1 = float).
    with _quiet():
        quantize_dynamic(
            str(fp32), str(dest), weight_type=QuantType.QInt8, per_channel=True, extra_options={"DefaultTensorType": 1}
        )
