"""[embedder] configuration: which combinations are valid, and what build_embedder makes of them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

import ragtune.embed
from ragtune.config import DEFAULT_CONFIG_TOML, EmbedderConfig, RagtuneConfig
from ragtune.embed import factory
from ragtune.embed.factory import build_embedder, choose_backend
from ragtune.embed.hashing import HashingEmbedder
from ragtune.embed.openai import OpenAIEmbedder
from ragtune.errors import ConfigError, EmbedderError
from tests.embed.test_onnx_export import write_model


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"backend": "openai"}, "backend 'openai' needs base_url"),
        ({"backend": "openai", "base_url": "localhost:8000"}, "must start with http"),
        ({"backend": "onnx", "base_url": "http://x/v1"}, "base_url does not apply to backend 'onnx'"),
        ({"api_key_env": "KEY"}, "api_key_env does not apply to backend 'auto'"),
        ({"backend": "sentence-transformers", "quantize": True}, "quantize does not apply"),
        ({"backend": "onnx", "dimension": 384}, "dimension does not apply"),
        ({"backend": "openai", "base_url": "http://x/v1", "threads": 2}, "threads does not apply"),
        ({"threads": 0}, "greater than or equal to 1"),
        ({"batch_size": 0}, "greater than or equal to 1"),
        ({"backend": "torch"}, "Input should be"),
    ],
)
def test_invalid_combinations_are_refused(fields, message):
    with pytest.raises(ValidationError, match=message):
        EmbedderConfig(**fields)


def test_a_pasted_key_is_refused_without_echoing_it(tmp_path):
    path = tmp_path / "ragtune.toml"
    path.write_text('[embedder]\nbackend = "openai"\nbase_url = "http://x/v1"\napi_key_env = "sk-live-abc123def456"\n')
    with pytest.raises(ConfigError, match=r"name\* of an environment variable") as error:
        RagtuneConfig.load(path)
    assert "abc123def456" not in str(error.value)


def test_config_file_errors_name_the_section(tmp_path):
    path = tmp_path / "ragtune.toml"
    path.write_text('[embedder]\nbackend = "openai"\n')
    with pytest.raises(ConfigError, match=r"embedder: .*needs base_url"):
        RagtuneConfig.load(path)


def test_default_config_documents_every_embedder_key():
    block = DEFAULT_CONFIG_TOML.split("[embedder]", 1)[1].split("\n\n", 1)[0]
    documented = set(re.findall(r"^#?\s*(\w+) =", block, flags=re.MULTILINE))
    assert documented == set(EmbedderConfig.model_fields)


def test_explicit_backends_are_kept():
    assert choose_backend(EmbedderConfig(backend="sentence-transformers")) == "sentence-transformers"
    assert choose_backend(EmbedderConfig(backend="hashing")) == "hashing"


def test_auto_with_quantize_means_onnx():
    assert choose_backend(EmbedderConfig(quantize=True)) == "onnx"


def test_auto_follows_the_benchmark_decision(monkeypatch):
    monkeypatch.setattr(factory, "AUTO_PREFERS_ONNX", True)
    assert choose_backend(EmbedderConfig()) == "onnx"
    monkeypatch.setattr(factory, "AUTO_PREFERS_ONNX", False)
    assert choose_backend(EmbedderConfig()) == "sentence-transformers"


def test_auto_falls_back_to_torch_without_onnxruntime(monkeypatch):
    monkeypatch.setattr(factory, "AUTO_PREFERS_ONNX", True)
    real_find_spec = factory.importlib.util.find_spec
    monkeypatch.setattr(factory.importlib.util, "find_spec", lambda name: None if name == "onnxruntime" else real_find_spec(name))
    assert choose_backend(EmbedderConfig()) == "sentence-transformers"


def test_auto_runs_models_the_export_does_not_cover_with_torch(monkeypatch, tmp_path):
    monkeypatch.setattr(factory, "AUTO_PREFERS_ONNX", True)
    model = write_model(tmp_path / "cls-model", pooling="cls")
    assert choose_backend(EmbedderConfig(model=str(model))) == "sentence-transformers"
    assert choose_backend(EmbedderConfig(model=str(write_model(tmp_path / "mean-model")))) == "onnx"


@pytest.mark.parametrize("backend", ["auto", "sentence-transformers", "onnx"])
def test_unknown_model_is_a_config_error_listing_bundled_models(backend):
    with pytest.raises(ConfigError, match=r"embedder\.model: unknown model 'no-such-model'.*all-MiniLM-L6-v2"):
        build_embedder(EmbedderConfig(backend=backend, model="no-such-model"))


def test_hashing_backend():
    embedder = build_embedder(EmbedderConfig(backend="hashing", dimension=64))
    assert isinstance(embedder, HashingEmbedder)
    assert embedder.identity == "hashing-64"


def test_openai_backend_reads_the_key_from_the_named_variable(monkeypatch):
    monkeypatch.setenv("RAGTUNE_TEST_KEY", "sk-from-env")
    config = EmbedderConfig(
        backend="openai", base_url="http://127.0.0.1:9/v1", model="nomic-embed-text", api_key_env="RAGTUNE_TEST_KEY", batch_size=8
    )
    embedder = build_embedder(config)
    assert isinstance(embedder, OpenAIEmbedder)
    assert embedder.identity == "openai:nomic-embed-text"
    assert embedder.url == "http://127.0.0.1:9/v1/embeddings"
    assert embedder.batch_size == 8
    assert embedder._client.headers["Authorization"] == "Bearer sk-from-env"


def test_openai_backend_with_an_unset_variable_is_a_config_error(monkeypatch):
    monkeypatch.delenv("RAGTUNE_TEST_KEY", raising=False)
    config = EmbedderConfig(backend="openai", base_url="http://127.0.0.1:9/v1", api_key_env="RAGTUNE_TEST_KEY")
    with pytest.raises(ConfigError, match="RAGTUNE_TEST_KEY is not set"):
        build_embedder(config)


@pytest.mark.integration
def test_onnx_export_goes_to_the_given_cache_dir(onnx_embedder, cache_root: Path):
    # onnx_embedder is made by build_embedder(EmbedderConfig(backend="onnx"), cache_dir=cache_root).
    assert onnx_embedder.model_path.is_relative_to(cache_root / "onnx" / "all-MiniLM-L6-v2")


def test_public_names_resolve_lazily():
    for name in ragtune.embed.__all__:
        assert getattr(ragtune.embed, name) is not None
    with pytest.raises(AttributeError):
        ragtune.embed.NoSuchEmbedder  # noqa: B018


class FakeTorchEmbedder:
    def __init__(self, model, max_tokens, batch_size, threads):
        self.identity, self.dimension = "torch:" + model, 384


def test_auto_falls_back_to_torch_when_the_export_fails(monkeypatch, tmp_path, caplog):
    from ragtune.embed import onnx_export, sentence_transformers

    def broken_export(model_dir, dest):
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(factory, "AUTO_PREFERS_ONNX", True)
    monkeypatch.setattr(onnx_export, "export_fp32", broken_export)
    monkeypatch.setattr(sentence_transformers, "SentenceTransformerEmbedder", FakeTorchEmbedder)
    embedder = build_embedder(EmbedderConfig(), cache_dir=tmp_path)
    assert isinstance(embedder, FakeTorchEmbedder)
    assert "exporting 'all-MiniLM-L6-v2' to ONNX failed: RuntimeError: exporter exploded" in caplog.text
    assert list((tmp_path / "onnx" / "all-MiniLM-L6-v2").iterdir()) == []  # nothing half-written kept
    # Named explicitly, the onnx backend reports the failure instead.
    with pytest.raises(EmbedderError, match="exporter exploded"):
        build_embedder(EmbedderConfig(backend="onnx"), cache_dir=tmp_path)
