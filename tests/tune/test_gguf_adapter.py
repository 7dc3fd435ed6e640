"""The GGUF adapter writer against llama.cpp itself: an adapter applied by llama.cpp to the
quantised base must shift the logits the way PEFT shifts them on the dequantised weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.integration
pytest.importorskip("peft", reason="needs ragtune[tune]")
PROMPT = [{"role": "user", "content": "Where do I charge the e-bike battery?"}]


def logit_shift_agreement(base_folder: Path, base_gguf: Path, adapter: Path, gguf_adapter: Path,
                          prompt: list[dict[str, str]] = PROMPT) -> float:
    """Cosine between the adapter's logit change in llama.cpp and in transformers + PEFT, over the
    last five prompt positions."""
    import torch
    from llama_cpp import Llama
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(base_folder))
    ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, return_dict=True)["input_ids"]

    def llama_logits(lora: Path | None) -> np.ndarray:
        llama = Llama(model_path=str(base_gguf), n_ctx=256, logits_all=True, verbose=False, n_threads=2,
                      lora_path=str(lora) if lora else None)
        llama.eval(ids)
        scores = np.array(llama.scores[: len(ids)])
        llama.close()
        return scores

    model = AutoModelForCausalLM.from_pretrained(str(base_folder))
    with torch.no_grad():
        hf_before = model(torch.tensor([ids])).logits[0].numpy()
        hf_after = PeftModel.from_pretrained(model, str(adapter))(torch.tensor([ids])).logits[0].numpy()
    cpp = (llama_logits(gguf_adapter) - llama_logits(None))[-5:].ravel()
    hf = (hf_after - hf_before)[-5:].ravel()
    return float(cpp @ hf / np.linalg.norm(cpp) / np.linalg.norm(hf))


def test_query_and_key_factors_are_permuted_for_llama_cpp(tmp_path: Path, gguf_path: Path) -> None:
    """An adapter on the query and key projections only: that is where llama.cpp's row order
    differs from transformers'. Measured: cosine .993 with the permutation, -.25 without it, on
    one machine; .926 with it on another CPU, whose bf16 training and llama.cpp kernels differ. The
    bound sits between the two cases, not at one machine's value.
    (A random adapter does not make a sharp test: its diffuse shift drowns in llama.cpp's
    quantised arithmetic, so this one is trained for a few steps.)"""
    from ragtune.tune.lora import train_lora
    from ragtune.tune.lora_config import LoraTuneConfig
    from ragtune.tune.prepare import prepare
    from tests.tune.tickets import write_tickets

    data = prepare(write_tickets(tmp_path / "tickets.jsonl"), fractions=(0.8, 0.2, 0))
    config = LoraTuneConfig(rank=8, alpha=16, target_modules="q_proj,k_proj", learning_rate=2e-3, max_steps=10,
                            eval_steps=10, max_length=128)
    result = train_lora(data, config, tmp_path / "out", tmp_path / "checkpoints", progress=False)
    adapter, gguf_adapter = tmp_path / "out" / "adapter", tmp_path / "out" / result.artifacts["gguf_adapter"]
    assert logit_shift_agreement(result.base.folder, gguf_path, adapter, gguf_adapter) > 0.8
