"""Registry references in the configuration: which ``[llm]`` settings serve a registered LoRA."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragtune.config import RagtuneConfig
from ragtune.errors import RegistryError
from ragtune.registry.references import llm_settings, registry_identity, resolve_references
from ragtune.registry.store import ModelRegistry, ModelVersion


def register_lora(registry: ModelRegistry, artifacts: dict[str, str], base: str = "smollm2-135m") -> ModelVersion:
    with registry.staging("tickets") as staging:
        for relative in artifacts.values():
            (staging / relative).mkdir()
            (staging / relative / "weights").write_bytes(b"\0")
        return registry.register(staging, name="tickets", kind="llm", base_model=base, data={}, hyperparameters={},
                                 metrics={}, training_seconds=1.0, artifacts=artifacts)


def test_a_gguf_adapter_is_served_by_llama_cpp_and_otherwise_transformers_loads_the_base(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    both = register_lora(registry, {"adapter": "adapter", "gguf_adapter": "adapter.gguf"})
    assert llm_settings(both, "llama-cpp") == {"backend": "llama-cpp", "model": "smollm2-135m",
                                               "adapter": str(both.artifact("gguf_adapter"))}
    # transformers gets the base by name; build_llm loads its dequantised copy (generate.base_model).
    assert llm_settings(both, "transformers") == {"backend": "transformers", "model": "smollm2-135m",
                                                  "adapter": str(both.artifact("adapter"))}
    merged = register_lora(registry, {"adapter": "adapter", "merged": "merged"})
    assert llm_settings(merged, "llama-cpp") == {"backend": "transformers", "model": str(merged.artifact("merged"))}
    assert registry_identity(merged.artifact("merged")) == merged.ref == "tickets@v2"


def test_references_in_the_config_resolve_and_wrong_kinds_are_named(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    entry = register_lora(registry, {"adapter": "adapter", "gguf_adapter": "adapter.gguf"})
    config = RagtuneConfig.model_validate({"llm": {"model": "tickets@v1"}})
    resolved = resolve_references(config, tmp_path / "models")
    assert resolved.llm.adapter == str(entry.artifact("gguf_adapter")) and resolved.llm.model == "smollm2-135m"
    wrong = RagtuneConfig.model_validate({"embedder": {"model": "tickets@v1"}})
    with pytest.raises(RegistryError, match=r"\[embedder\] model: tickets@v1 is a llm, not an embedder"):
        resolve_references(wrong, tmp_path / "models")
