"""Fine-tunes a comparison trains on the fly (``ragtune compare --train``): the ``ft`` model on
closed-book question/answer pairs, the ``raft`` model on RAFT examples; both LoRA tunes of the
configured base model, registered with their lineage like any ``ragtune tune lora`` run."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ragtune.atomic_files import write_text_atomic
from ragtune.errors import TrainingError
from ragtune.evaluate.items import EvalItem
from ragtune.tune.lora_config import LoraTuneConfig
from ragtune.tune.prepare import PreparedData
from ragtune.workspace import Workspace

TRAIN_FRACTIONS = (0.9, 0.1, 0.0)
"""A tenth of the examples measures validation loss (early stopping); the comparison's own test
questions are the test set."""


@dataclass(frozen=True)
class Trained:
    ref: str
    """``name@vN`` in the workspace's registry."""
    seconds: float
    examples: int


def closed_book_examples(items: Sequence[EvalItem], not_found_text: str) -> list[dict[str, object]]:
    """One chat example per question with a gold answer, in the closed-book arms' prompt."""
    from ragtune.decide.closed_book import closed_book_messages

    return [
        {"messages": [m.to_dict() for m in closed_book_messages(item.question, not_found_text)]
         + [{"role": "assistant", "content": item.answers[0]}]}
        for item in items if item.answers
    ]


def _prepared(examples: Sequence[dict[str, object]], path: Path, config: LoraTuneConfig) -> PreparedData:
    from ragtune.generate.base_model import chat_token_counter
    from ragtune.tune.prepare import prepare

    if not examples:
        raise TrainingError(f"no training examples for {path.stem}: the training questions need gold answers")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in examples))
    return prepare(path, "chat", fractions=TRAIN_FRACTIONS, seed=config.seed,
                   count_tokens=chat_token_counter(config.base), max_tokens=config.max_length)


def train_on(workspace: Workspace, examples: Sequence[dict[str, object]], name: str, folder: Path,
             config: LoraTuneConfig, *, progress: bool = True) -> Trained:
    """Write ``examples`` under ``folder``, prepare them (too long ones are excluded, counted by
    the base model's chat template) and LoRA-tune ``name``."""
    from ragtune.tune.api import tune_lora

    data = _prepared(examples, folder / f"{name}.jsonl", config)
    entry, result = tune_lora(workspace, data, name, config, resume=False, progress=progress)
    return Trained(entry.ref, result.train_seconds, len(data.splits["train"]))
