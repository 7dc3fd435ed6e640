"""Build the configured LLM backend. Heavy libraries load only for the backend chosen."""

from __future__ import annotations

from pathlib import Path

from ragtune.config import LLMConfig
from ragtune.generate.base import LLM
from ragtune.registry.references import registry_identity


def _display_name(name: str, adapter: str | None) -> str:
    """The model's name in answers and evaluation runs; a tuned one names its registry version."""
    if adapter is None:
        return name

    return f"{name}+{registry_identity(Path(adapter)) or Path(adapter).name}"


def build_llm(config: LLMConfig) -> LLM:
    if config.backend == "llama-cpp":
        from ragtune.generate.llama_cpp import LlamaCppLLM
        from ragtune.generate.models import resolve_gguf

        path, name = resolve_gguf(config.model)
        name = _display_name(name, config.adapter)
        return LlamaCppLLM(
            path, context_size=config.context_size, threads=config.threads, seed=config.seed, name=name,
            adapter=config.adapter,
        )
    if config.backend == "openai":
        from ragtune.generate.openai_compat import OpenAICompatibleLLM

        assert config.base_url is not None  # checked by LLMConfig
        return OpenAICompatibleLLM(
            config.base_url, config.model, api_key_env=config.api_key_env, context_size=config.context_size,
            timeout=config.timeout, tokenizer=config.tokenizer,
        )
    from ragtune.generate.models import resolve_hf_model
    from ragtune.generate.transformers_llm import TransformersLLM

    if config.adapter is not None and not Path(config.model).expanduser().is_dir():
        # A registered LoRA on a GGUF base: the adapter was trained on the base's dequantised copy,
        # cached once (minutes) and loaded in a second after.
        from ragtune.generate.base_model import resolve_base

        folder, gguf_file = resolve_base(config.model).folder, None
    else:
        folder, gguf_file = resolve_hf_model(config.model)
    return TransformersLLM(
        folder, gguf_file=gguf_file, context_size=config.context_size, threads=config.threads,
        name=_display_name(config.model, config.adapter), adapter=config.adapter,
    )
