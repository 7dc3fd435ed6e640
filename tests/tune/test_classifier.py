"""A real classifier fine-tune on a stratified Banking77 subset (the shared data set), served from
the registry through ``ragtune classify``; and the few-shot sampler on its own."""

from __future__ import annotations

import csv
import json
import random
from collections import Counter
from pathlib import Path

import pytest

from ragtune.tune.classifier import classification_metrics, few_shot, top_confusions
from ragtune.tune.dataset_formats import Example
from tests.conftest import SHARED
from tests.test_cli import run

BANKING77 = SHARED / "datasets" / "banking77"
LABELS = 12


def test_few_shot_takes_n_per_label_reproducibly() -> None:
    sizes = {"a": 9, "b": 9, "c": 2}
    rows = [Example("classification", {"text": f"{label} {i}", "label": label}, i) for label, n in sizes.items() for i in range(n)]
    picked = few_shot(rows, 3, seed=1)
    assert Counter(e.label for e in picked) == {"a": 3, "b": 3, "c": 2}
    assert [e.data for e in few_shot(rows, 3, seed=1)] == [e.data for e in picked]
    assert [e.data for e in few_shot(rows, 3, seed=2)] != [e.data for e in picked]


def test_metrics_and_confusions() -> None:
    scored = classification_metrics(["a", "a", "b", "c"], ["a", "b", "b", "b"], ["a", "b", "c"])
    assert scored["accuracy"] == 0.5 and scored["confusion"] == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    assert scored["macro_f1"] == round((2 / 3 + 0.5 + 0) / 3, 4)
    assert top_confusions(scored["confusion"], ["a", "b", "c"]) == [("a", "b", 1), ("c", "b", 1)]


def _subset(path: Path, source: Path, per_label: int, labels: list[str], seed: int) -> Path:
    rows = list(csv.DictReader(source.open(encoding="utf-8")))
    rng = random.Random(seed)
    picked = [r for label in labels for r in rng.sample([r for r in rows if r["category"] == label], per_label)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["text", "category"])
        writer.writeheader()
        writer.writerows(picked)
    return path


@pytest.mark.integration
def test_fine_tuned_classifier_on_banking77_beats_chance_and_frozen_embeddings(tmp_path: Path) -> None:
    if not BANKING77.is_dir():
        pytest.skip(f"Banking77 is not at {BANKING77} (the shared data sets are absent)")
    everything = sorted({r["category"] for r in csv.DictReader((BANKING77 / "train.csv").open(encoding="utf-8"))})
    labels = random.Random(0).sample(everything, LABELS)
    train = _subset(tmp_path / "train.csv", BANKING77 / "train.csv", 24, labels, seed=0)
    test = _subset(tmp_path / "test.csv", BANKING77 / "test.csv", 15, labels, seed=0)
    ws = tmp_path / "ws"
    done = run("tune", "classifier", "--train", str(train), "--test", str(test), "--label-column", "category",
               "--name", "intents", "--shots", "8", "--json", "-w", str(ws), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    entry = json.loads(done.stdout)
    metrics = entry["metrics"]
    assert entry["hyperparameters"]["method"] == "setfit" and entry["extra"]["train_rows"] == 8 * LABELS
    assert metrics["test_rows"] == 15 * LABELS
    assert metrics["accuracy"] > 0.7 > 3 / LABELS
    assert metrics["accuracy"] >= metrics["baseline_accuracy"]
    confusion = json.loads((ws / "models" / "intents" / "v1" / "confusion.json").read_text())
    assert sum(map(sum, confusion["matrix"])) == 15 * LABELS
    assert run("models", "promote", "intents@v1", "-w", str(ws), cwd=tmp_path).returncode == 0
    text = next(r for r in csv.DictReader(test.open()) if r["category"] == labels[0])["text"]
    classified = run("classify", text, "--model", "intents", "--top", "3", "--json", "-w", str(ws), cwd=tmp_path)
    assert classified.returncode == 0, classified.stderr
    result = json.loads(classified.stdout)
    assert result["model"] == "intents@v1" and len(result["predictions"][0]["top"]) == 3
    assert result["predictions"][0]["label"] in labels
