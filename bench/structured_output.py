"""Structured output: ticket -> {category, priority, summary} JSON, before and after a LoRA tune.

    .venv/bin/python bench/structured_output.py                 # 30 train / 20 test tickets per category
    .venv/bin/python bench/structured_output.py --per-label 10 --epochs 1   # a quicker look

The task is built from Banking77 texts: ten intents, each with a fixed priority, and a summary
that is the ticket's first twelve words. The same system prompt (it lists the categories and
priorities) goes to every arm:

- ``base``: SmolLM2-135M (the bundled GGUF, llama.cpp), unconstrained;
- ``base + grammar``: the same model with the JSON schema turned into a llama.cpp grammar;
- ``lora``: the base with a LoRA trained by ``ragtune.tune.lora.train_lora`` on the train tickets,
  served by llama.cpp through the GGUF adapter, unconstrained;
- ``lora + grammar``: the same LoRA with the schema's grammar (the schema guarantees the shape and
  the allowed values; the LoRA has to choose the right ones).

For each arm: the share of outputs that parse as a JSON object with the three keys and allowed
values (``valid``), the share whose category is right, and seconds per answer. For training:
seconds per optimiser step and training tokens per second on this CPU.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ragtune.generate.base import GenerationOptions, Message, complete
from ragtune.generate.llama_cpp import LlamaCppLLM
from ragtune.generate.models import resolve_gguf
from ragtune.tune.lora import train_lora
from ragtune.tune.lora_config import LoraTuneConfig
from ragtune.tune.prepare import prepare

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "banking77"
PRIORITIES = {
    "lost_or_stolen_card": "high",
    "compromised_card": "high",
    "card_swallowed": "high",
    "cash_withdrawal_not_recognised": "high",
    "declined_card_payment": "medium",
    "pending_transfer": "medium",
    "card_arrival": "medium",
    "exchange_rate": "low",
    "change_pin": "low",
    "top_up_limits": "low",
}
SCHEMA = {
    "type": "object",
    "properties": {
        "category": {"type": "string", "enum": sorted(PRIORITIES)},
        "priority": {"type": "string", "enum": ["low", "medium", "high"]},
        "summary": {"type": "string", "maxLength": 160},
    },
    "required": ["category", "priority", "summary"],
    "additionalProperties": False,
}
SYSTEM = (
    "You route bank support tickets. Reply with one JSON object and nothing else, with the keys "
    '"category", "priority" and "summary". category is one of: ' + ", ".join(sorted(PRIORITIES)) + ". "
    'priority is "high" for lost, stolen, compromised or swallowed cards and unrecognised withdrawals, '
    '"medium" for declined payments, pending transfers and card arrival, "low" otherwise. '
    "summary is one short sentence."
)


def target(text: str, category: str) -> dict[str, str]:
    return {"category": category, "priority": PRIORITIES[category], "summary": " ".join(text.split()[:12])}


def tickets(path: Path, per_label: int, seed: int) -> list[tuple[str, str]]:
    by_label: dict[str, list[str]] = {label: [] for label in PRIORITIES}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["category"] in by_label:
                by_label[row["category"]].append(row["text"].strip())
    rng = random.Random(seed)
    chosen = []
    for label, texts in sorted(by_label.items()):
        chosen += [(text, label) for text in rng.sample(texts, min(per_label, len(texts)))]
    rng.shuffle(chosen)
    return chosen


def grade(output: str, category: str) -> tuple[bool, bool, bool]:
    """(well-formed: a JSON object with exactly the three keys; valid: and allowed values;
    category right)."""
    try:
        value = json.loads(output)
    except json.JSONDecodeError:
        return False, False, False
    if not isinstance(value, dict) or set(value) != set(SCHEMA["required"]):
        return False, False, False
    valid = (value["category"] in PRIORITIES and value["priority"] in ("low", "medium", "high")
             and isinstance(value["summary"], str) and bool(value["summary"].strip()))
    return True, valid, valid and value["category"] == category


def evaluate(llm: LlamaCppLLM, test: list[tuple[str, str]], schema: dict | None) -> dict[str, Any]:
    options = GenerationOptions(max_tokens=128, json_schema=schema)
    formed = valid = right = cut = 0
    started = time.perf_counter()
    examples, failures = [], []
    for text, category in test:
        done = complete(llm, [Message("system", SYSTEM), Message("user", text)], options)
        out = done.text.strip()
        shaped, ok, correct = grade(out, category)
        formed += shaped
        valid += ok
        right += correct
        cut += done.finish_reason == "length"
        if len(examples) < 2:
            examples.append(out)
        if not ok and len(failures) < 3:
            failures.append(out)
    n = len(test)
    return {"formed": formed / n, "valid": valid / n, "category": right / n, "cut": cut / n,
            "seconds": (time.perf_counter() - started) / n, "examples": examples, "failures": failures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--per-label", type=int, default=30, help="training tickets per category")
    parser.add_argument("--test-per-label", type=int, default=20)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not (args.data / "train.csv").is_file():
        sys.exit(f"Banking77 not found at {args.data}: the shared data sets are absent")
    train = tickets(args.data / "train.csv", args.per_label, args.seed)
    test = tickets(args.data / "test.csv", args.test_per_label, args.seed)
    gguf, _ = resolve_gguf("smollm2-135m")

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        rows = work / "tickets.jsonl"
        rows.write_text("".join(json.dumps({"system": SYSTEM, "prompt": text,
                                            "completion": json.dumps(target(text, label))}) + "\n"
                                for text, label in train), encoding="utf-8")
        data = prepare(rows, fractions=(0.9, 0.1, 0))
        config = LoraTuneConfig(epochs=args.epochs, batch_size=args.batch_size, eval_steps=10, seed=args.seed)
        result = train_lora(data, config, work / "out", work / "checkpoints", progress=True)
        arms = {}
        base = LlamaCppLLM(gguf, name="smollm2-135m")
        train_tokens = sum(base.count_prompt_tokens(
            [Message("system", SYSTEM), Message("user", e.data["prompt"]), Message("assistant", e.data["completion"])])
            for e in data.splits["train"])
        arms["base"] = evaluate(base, test, None)
        arms["base + grammar"] = evaluate(base, test, SCHEMA)
        base.close()
        tuned = LlamaCppLLM(gguf, name="smollm2-135m+lora", adapter=work / "out" / "adapter.gguf")
        arms["lora"] = evaluate(tuned, test, None)
        arms["lora + grammar"] = evaluate(tuned, test, SCHEMA)
        tuned.close()

    steps = max(result.steps, 1)
    print(f"structured output: {len(train)} train tickets ({len(data.splits['train'])} after the validation split), "
          f"{len(test)} test tickets, 10 categories")
    print(f"training: {result.steps} steps in {result.train_seconds:.0f} s ({result.train_seconds / steps:.1f} s/step, "
          f"{result.precision}, batch {args.batch_size}), {train_tokens * args.epochs / result.train_seconds:.0f} "
          "training tokens/s")
    print(f"  held-out metrics: {result.metrics}")
    print("| arm | JSON with the 3 keys | and allowed values | category right | cut at max_tokens | s/answer |")
    print("|---|---|---|---|---|---|")
    for name, arm in arms.items():
        print(f"| {name} | {arm['formed']:.1%} | {arm['valid']:.1%} | {arm['category']:.1%} | {arm['cut']:.1%} | "
              f"{arm['seconds']:.2f} |")
    for name, arm in arms.items():
        print(f"{name} sample: {arm['examples'][0][:200]!r}")
        for failure in arm["failures"]:
            print(f"{name} invalid: {failure[:200]!r}")


if __name__ == "__main__":
    main()
