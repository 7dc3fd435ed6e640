"""A real LoRA fine-tune of the bundled SmolLM2 (dequantised from its GGUF) for a few steps: the
loss falls, the adapter saves, reloads and changes the logits, the merged model matches the
adapter, the GGUF adapter gives llama.cpp the same change, checkpoints resume, and the tuned model
answers through ``ragtune ask --model``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ragtune.tune.lora_config import LoraTuneConfig
from ragtune.tune.prepare import prepare
from ragtune.workspace import Workspace
from tests.test_cli import fast_workspace, run
from tests.tune.tickets import write_tickets

pytestmark = pytest.mark.integration
pytest.importorskip("peft", reason="LoRA needs ragtune[tune]")
pytest.importorskip("trl", reason="LoRA needs ragtune[tune]")

CONFIG = LoraTuneConfig(rank=8, alpha=16, max_steps=8, eval_steps=4, batch_size=4, merge=True, max_length=128)
PROMPT = [{"role": "user", "content": "Ticket: I lost my card near the harbour"}]


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory, gguf_path: Path):  # type: ignore[no-untyped-def]
    from ragtune.tune.api import tune_lora

    root = tmp_path_factory.mktemp("lora")
    data = prepare(write_tickets(root / "tickets.jsonl"), fractions=(0.7, 0.15, 0.15))
    ws = Workspace(fast_workspace(root / "ws"))
    entry, result = tune_lora(ws, data, "tickets", CONFIG, progress=False)
    return ws, data, entry, result


def test_training_lowers_the_loss_and_registers_the_lineage(tuned) -> None:  # type: ignore[no-untyped-def]
    ws, data, entry, result = tuned
    losses = [loss for _, loss in result.losses]
    assert result.steps == 8 and len(losses) == 8
    assert np.mean(losses[-2:]) < 0.7 * np.mean(losses[:2])
    assert entry.metrics["test_loss"] < entry.metrics["test_loss_base"]
    assert entry.ref == "tickets@v1" and entry.kind == "llm" and entry.base_model == "smollm2-135m"
    assert entry.data["sha256"] == data.content_hash and entry.data["rows"]["train"] == len(data.splits["train"])
    assert entry.hyperparameters["rank"] == 8 and entry.hyperparameters["learning_rate"] == CONFIG.learning_rate
    assert set(entry.artifacts) == {"adapter", "merged", "gguf_adapter"}
    assert entry.extra["validation_loss"][-1][1] < entry.extra["validation_loss"][0][1]
    checkpoints = ws.models_dir / "tickets" / ".checkpoints"
    assert not checkpoints.exists() or not any(checkpoints.iterdir())  # removed once registered


def _hf_logits(model, ids):  # type: ignore[no-untyped-def]
    import torch

    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].numpy()


def test_adapter_reloads_changes_logits_and_the_merged_model_matches(tuned) -> None:  # type: ignore[no-untyped-def]
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _, _, entry, result = tuned
    tokenizer = AutoTokenizer.from_pretrained(str(entry.artifact("adapter")))
    ids = tokenizer.apply_chat_template(PROMPT, add_generation_prompt=True, return_dict=True)["input_ids"]
    base = AutoModelForCausalLM.from_pretrained(str(result.base.folder))
    before = _hf_logits(base, ids)
    adapted = PeftModel.from_pretrained(base, str(entry.artifact("adapter")))
    after = _hf_logits(adapted, ids)
    assert np.abs(after - before).max() > 0.5
    merged = _hf_logits(AutoModelForCausalLM.from_pretrained(str(entry.artifact("merged"))), ids)
    np.testing.assert_allclose(merged, after, atol=2e-3)


def test_the_gguf_adapter_gives_llama_cpp_the_same_change(tuned, gguf_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.tune.test_gguf_adapter import logit_shift_agreement

    _, _, entry, result = tuned
    agreement = logit_shift_agreement(result.base.folder, gguf_path, entry.artifact("adapter"),
                                      entry.artifact("gguf_adapter"), PROMPT)
    assert agreement > 0.9  # an 8-step tune moves little; llama.cpp's quantised arithmetic is the rest


def test_an_interrupted_tune_resumes_from_its_checkpoint(tmp_path: Path, gguf_path: Path) -> None:
    from transformers import TrainerCallback

    from ragtune.tune.lora import train_lora

    class Crash(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
            if state.global_step == 6:
                raise KeyboardInterrupt("power cut")

    data = prepare(write_tickets(tmp_path / "t.jsonl"), fractions=(0.7, 0.15, 0.15))
    config = CONFIG.model_copy(update={"merge": False, "gguf": False})
    checkpoints = tmp_path / "checkpoints"
    with pytest.raises(KeyboardInterrupt):
        train_lora(data, config, tmp_path / "first", checkpoints, progress=False, callbacks=[Crash()])
    saved = sorted(p.name for p in checkpoints.glob("*/checkpoint-*"))
    assert saved == ["checkpoint-4"]
    class Count(TrainerCallback):
        steps: list[int] = []

        def on_step_end(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
            self.steps.append(state.global_step)

    result = train_lora(data, config, tmp_path / "second", checkpoints, progress=False, callbacks=[Count()])
    assert result.steps == 8
    assert Count.steps == [5, 6, 7, 8]  # steps 1-4 came from the checkpoint
    assert [step for step, _ in result.losses] == list(range(1, 9))  # with their logged losses
    assert not list(checkpoints.glob("*/checkpoint-*"))


def test_ask_with_the_tuned_model(tuned, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws, _, entry, _ = tuned
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "cards.md").write_text("# Lost cards\n\nA lost card is blocked at once. Call the card desk to order a new one.\n")
    assert run("ingest", str(corpus), "-w", str(ws.root), cwd=tmp_path).returncode == 0
    question = "What happens when a card is lost?"
    missing = run("ask", question, "--model", "tickets", "-w", str(ws.root), cwd=tmp_path)
    assert missing.returncode == 2 and "no production version of model 'tickets'" in missing.stderr
    done = run("ask", question, "--model", "tickets@v1", "--json", "-w", str(ws.root), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["model"] == "llama-cpp:smollm2-135m+tickets@v1"
    assert answer["usage"]["completion_tokens"] > 0
