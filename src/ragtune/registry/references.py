"""Registry references in the configuration: ``[llm] model`` or ``[embedder] model`` written as
``name@stage`` / ``name@v3`` is replaced, when a workspace loads its config, by what serves it.

A LoRA tune is served by llama.cpp (the base GGUF with the GGUF adapter: fast, and the same
numbers as the trained model) when the entry has one and the configured backend is llama-cpp;
otherwise by transformers (the merged folder, or the dequantised base with the PEFT adapter).
An embedder entry becomes its model folder, whose vector-space identity is ``name@vN``. A reader
(``ragtune tune reader``) in ``[retrieval] rerank_model`` or ``[answer] scorer`` becomes its
cross-encoder folder: one trained model reranks chunks and scores answer candidates.
"""

from __future__ import annotations

import json
from pathlib import Path

from ragtune.bundled import BUNDLED_LLMS
from ragtune.config import RagtuneConfig
from ragtune.errors import RegistryError
from ragtune.registry.store import ENTRY, ModelRegistry, ModelVersion


def is_reference(value: str) -> bool:
    return "@" in value and not Path(value).expanduser().exists()


def llm_settings(entry: ModelVersion, backend: str) -> dict[str, str]:
    """``[llm]`` keys (backend, model, adapter) that serve a registered LoRA tune. With the
    transformers backend a GGUF base is loaded from its dequantised copy (``build_llm``)."""
    if entry.kind != "llm":
        raise RegistryError(f"{entry.ref} is a {entry.kind}, not a language model")
    base = entry.base_model
    gguf_adapter = entry.artifact("gguf_adapter")
    base_is_gguf = base in BUNDLED_LLMS or base.lower().endswith(".gguf")
    if gguf_adapter is not None and base_is_gguf and backend == "llama-cpp":
        return {"backend": "llama-cpp", "model": base, "adapter": str(gguf_adapter)}
    merged = entry.artifact("merged")
    if merged is not None:
        return {"backend": "transformers", "model": str(merged)}
    adapter = entry.artifact("adapter")
    if adapter is None:
        raise RegistryError(f"{entry.ref} has neither an adapter nor a merged model")
    return {"backend": "transformers", "model": base, "adapter": str(adapter)}


READER_FIELDS = (("retrieval", "rerank_model"), ("answer", "scorer"))
"""Configuration fields that take a reader (cross-encoder) reference."""


def reader_folder(entry: ModelVersion, field: str) -> Path:
    """The cross-encoder folder of a registered reader; ``field`` names the setting in errors."""
    if entry.kind != "reader":
        raise RegistryError(f"{field}: {entry.ref} is of kind '{entry.kind}', not a reader "
                            "(train one with `ragtune tune reader`)")
    folder = entry.artifact("model")
    if folder is None:
        raise RegistryError(f"{field}: {entry.ref} has no model folder")
    return folder


def resolve_references(config: RagtuneConfig, models_dir: Path) -> RagtuneConfig:
    llm_ref, embedder_ref = config.llm.model, config.embedder.model
    readers = [(section, key) for section, key in READER_FIELDS
               if isinstance(value := getattr(getattr(config, section), key), str) and is_reference(value)]
    if not (is_reference(llm_ref) or is_reference(embedder_ref) or readers):
        return config
    registry = ModelRegistry(models_dir)
    update = {}
    if is_reference(llm_ref):
        settings = llm_settings(registry.get(llm_ref), config.llm.backend)
        update["llm"] = config.llm.model_copy(update=settings)
    if is_reference(embedder_ref):
        entry = registry.get(embedder_ref)
        if entry.kind != "embedder":
            raise RegistryError(f"[embedder] model: {entry.ref} is a {entry.kind}, not an embedder")
        update["embedder"] = config.embedder.model_copy(update={"model": str(entry.artifact("model"))})
    for section, key in readers:
        field = f"{section}.{key}"  # dotted: a CLI error message must not read as rich markup
        try:
            entry = registry.get(getattr(getattr(config, section), key))
        except RegistryError as exc:
            raise RegistryError(f"{field}: {exc}") from None
        current = update.get(section, getattr(config, section))
        update[section] = current.model_copy(update={key: str(reader_folder(entry, field))})
    return config.model_copy(update=update)


def registry_identity(folder: Path) -> str | None:
    """``name@vN`` for a model folder inside a registry version, else None."""
    try:
        entry = json.loads((folder.parent / ENTRY).read_text(encoding="utf-8"))
        return f"{entry['name']}@v{entry['version']}"
    except (OSError, ValueError, KeyError, TypeError):
        return None


def config_with_model(config_path: Path, models_dir: Path, model: str) -> RagtuneConfig:
    """The configuration at ``config_path`` with ``[llm] model`` replaced by ``model``: a registry
    reference, a bare registered name (its production version), or any ``[llm] model`` value."""
    raw = RagtuneConfig.load(config_path)
    if "@" not in model and model in ModelRegistry(models_dir).names():
        model = f"{model}@production"
    raw = raw.model_copy(update={"llm": raw.llm.model_copy(update={"model": model})})
    return resolve_references(raw, models_dir)
