"""The bundled MiniLM through torch and through ONNX Runtime: same vector space, cached export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from ragtune.embed import onnx_export
from ragtune.embed.onnx import OnnxEmbedder
from ragtune.testing.embedder import TEXTS
from tests.conftest import SHARED

pytestmark = pytest.mark.integration


def comparison_texts() -> list[str]:
    """Short queries, edge cases and, where the shared data sets are present, real abstracts
    (long enough to be truncated at 256 tokens)."""
    texts = list(TEXTS) + ["What causes anaemia in pregnancy?", "covid vaccine side effects", "a", "?" * 5]
    corpus = SHARED / "datasets" / "scifact" / "corpus.jsonl"
    if corpus.is_file():
        with corpus.open(encoding="utf-8") as fh:
            for _, line in zip(range(24), fh):
                record = json.loads(line)
                texts.append(f"{record['title']}\n\n{record['text']}")
    return texts


@pytest.fixture(scope="module")
def torch_vectors(st_embedder) -> np.ndarray:
    return st_embedder.embed(comparison_texts())


def test_onnx_fp32_is_the_torch_vector_space(onnx_embedder, st_embedder, torch_vectors):
    assert onnx_embedder.identity == st_embedder.identity == "all-MiniLM-L6-v2"
    assert onnx_embedder.dimension == st_embedder.dimension == 384
    cosine = np.sum(onnx_embedder.embed(comparison_texts()) * torch_vectors, axis=1)
    assert cosine.min() >= 0.9999


def test_onnx_int8_is_close_to_torch_under_its_own_identity(onnx_int8_embedder, torch_vectors, record_property):
    assert onnx_int8_embedder.identity == "all-MiniLM-L6-v2+int8"
    cosine = np.sum(onnx_int8_embedder.embed(comparison_texts()) * torch_vectors, axis=1)
    record_property("int8_min_cosine", float(cosine.min()))
    record_property("int8_mean_cosine", float(cosine.mean()))
    # Measured here: min 0.974 (the empty text; sentences stay above 0.99), mean 0.993.
    assert cosine.min() >= 0.96
    assert cosine.mean() >= 0.985


@pytest.mark.parametrize("name", ["st_embedder", "onnx_embedder"])
def test_text_beyond_max_tokens_is_cut_off(name, request):
    embedder = request.getfixturevalue(name)
    long = "Protein folding is studied with many methods. " * 60  # about 480 tokens
    head, with_more_tail, half = embedder.embed([long, long + " Completely different words at the end.", long[:400]])
    assert head @ with_more_tail >= 0.99999  # the tail past 256 tokens is never seen
    assert head @ half < 0.9999  # but the first 256 tokens are


def test_second_construction_reuses_the_export(onnx_embedder, cache_root, monkeypatch):
    path = onnx_embedder.model_path
    assert path.parent.parent == cache_root / "onnx"
    modified = path.stat().st_mtime_ns

    def no_export(*args, **kwargs):
        raise AssertionError("exported again despite a cached file")

    monkeypatch.setattr(onnx_export, "export_fp32", no_export)
    again = OnnxEmbedder(cache_dir=cache_root / "onnx")
    assert again.model_path == path
    assert path.stat().st_mtime_ns == modified
    # No temporary file of the atomic write is left behind.
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(".")) == []


def test_cached_model_runs_without_torch(onnx_embedder, cache_root):
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from ragtune.embed.onnx import OnnxEmbedder
        vectors = OnnxEmbedder(cache_dir=Path({str(cache_root / "onnx")!r})).embed(["no torch needed here"])
        assert vectors.shape == (1, 384), vectors.shape
        heavy = sorted(m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules)
        assert not heavy, heavy
        """
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
