"""Export bookkeeping that needs no model: cache keys, which models the ONNX path accepts, lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ragtune.embed.models import LocalModel, check_max_tokens, resolve_local_model
from ragtune.embed.onnx_export import cache_key, onnx_spec
from ragtune.errors import ConfigError


def write_model(folder: Path, *, modules: list[str] | None = None, pooling: str = "mean", model_type: str = "bert") -> Path:
    """A model folder with the configuration files of a sentence-transformers model (no weights)."""
    folder.mkdir(parents=True, exist_ok=True)
    kinds = modules or ["Transformer", "Pooling", "Normalize"]
    paths = {"Transformer": "", "Pooling": "1_Pooling", "Normalize": "2_Normalize", "Dense": "2_Dense"}
    entries = [
        {"idx": i, "name": str(i), "path": paths[k], "type": f"sentence_transformers.models.{k}"} for i, k in enumerate(kinds)
    ]
    (folder / "modules.json").write_text(json.dumps(entries))
    (folder / "1_Pooling").mkdir(exist_ok=True)
    modes = {"pooling_mode_cls_token": pooling == "cls", "pooling_mode_mean_tokens": pooling == "mean"}
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 8, **modes}))
    (folder / "config.json").write_text(json.dumps({"model_type": model_type, "hidden_size": 8, "max_position_embeddings": 512}))
    (folder / "tokenizer.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"weights v1")
    return folder


def test_a_mean_pooling_bert_model_is_accepted(tmp_path):
    spec = onnx_spec(resolve_local_model(write_model(tmp_path / "tiny-bert")))
    assert spec.dimension == 8
    assert spec.lowercase is False


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"pooling": "cls"}, "mean pooling only"),
        ({"modules": ["Transformer", "Pooling", "Dense", "Normalize"]}, "Transformer → Pooling → Dense → Normalize"),
        ({"model_type": "t5"}, "model type 't5'"),
    ],
)
def test_models_the_export_is_not_verified_for_are_refused(tmp_path, change, reason):
    model = resolve_local_model(write_model(tmp_path / "other", **change))
    with pytest.raises(ConfigError, match="sentence-transformers") as error:
        onnx_spec(model)
    assert reason in str(error.value)


def test_cache_key_follows_weights_and_config_only(tmp_path):
    folder = write_model(tmp_path / "m")
    first = cache_key(folder)
    (folder / "README.md").write_text("docs do not change the export")
    assert cache_key(folder) == first
    (folder / "model.safetensors").write_bytes(b"weights v2")
    second = cache_key(folder)
    assert second != first
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_size": 16}))
    assert cache_key(folder) not in (first, second)


def test_local_model_identity_is_the_folder_name(tmp_path):
    model = resolve_local_model(write_model(tmp_path / "my-embedder"))
    assert model == LocalModel("my-embedder", (tmp_path / "my-embedder").resolve())


def test_bundled_model_has_one_identity_under_both_names():
    assert resolve_local_model("all-MiniLM-L6-v2").name == "all-MiniLM-L6-v2"
    assert resolve_local_model("sentence-transformers/all-MiniLM-L6-v2").name == "all-MiniLM-L6-v2"


def test_unknown_model_names_the_field_and_the_bundled_models(tmp_path):
    with pytest.raises(ConfigError, match=r"embedder\.model: unknown model 'nope'.*all-MiniLM-L6-v2"):
        resolve_local_model("nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no config.json"):
        resolve_local_model(tmp_path / "empty")


def test_max_tokens_beyond_the_position_table_is_refused(tmp_path):
    model = resolve_local_model(write_model(tmp_path / "m"))
    check_max_tokens(model, 512)
    with pytest.raises(ConfigError, match=r"embedder\.max_tokens \(513\)"):
        check_max_tokens(model, 513)


def test_importing_the_embed_package_imports_no_heavy_runtime():
    script = (
        "import sys, ragtune.embed, ragtune.embed.factory, ragtune.embed.onnx, ragtune.embed.onnx_export; "
        "from ragtune.embed import build_embedder, HashingEmbedder; "
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers', 'onnxruntime', 'httpx') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
