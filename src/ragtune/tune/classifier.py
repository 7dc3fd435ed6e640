"""Intent / ticket classifiers on the bundled MiniLM encoder.

Two methods, chosen by how much data there is (``ClassifierTuneConfig.resolved_method``):
- ``finetune``: the whole encoder plus a classification head, trained with transformers'
  ``Trainer`` (validation accuracy picks the best epoch);
- ``setfit``: SetFit's contrastive fine-tune of the sentence embedding, then a logistic head;
  it needs far fewer examples.
Both are scored on the test split with accuracy, macro-F1 and a confusion matrix, next to a
logistic regression on the frozen embeddings of the same training rows.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ragtune.errors import ConfigError, TrainingError
from ragtune.generate.base_model import offline
from ragtune.tune.classifier_config import ClassifierTuneConfig
from ragtune.tune.dataset_formats import Example
from ragtune.tune.prepare import PreparedData

HEAD_PARAMS = {"C": 10.0, "max_iter": 2000}
"""Logistic-regression head on unit-length embeddings: sklearn's default C=1 underfits them."""
METHOD_FILE = "ragtune_classifier.json"
"""Written beside the saved model: which method saved it and the label order."""


@dataclass(frozen=True)
class Prediction:
    label: str
    score: float
    scores: dict[str, float]


class Classifier(Protocol):
    labels: list[str]

    def predict(self, texts: Sequence[str]) -> list[Prediction]: ...


def _predictions(probabilities: np.ndarray, labels: list[str]) -> list[Prediction]:
    out = []
    for row in probabilities:
        best = int(np.argmax(row))
        out.append(Prediction(labels[best], float(row[best]), {label: float(p) for label, p in zip(labels, row)}))
    return out


class FineTunedClassifier:
    def __init__(self, folder: Path, max_length: int = 128) -> None:
        offline()
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self._torch = torch
        self._tokenizer = AutoTokenizer.from_pretrained(str(folder))
        self._model = AutoModelForSequenceClassification.from_pretrained(str(folder)).eval()
        config = self._model.config
        self.labels = [config.id2label[i] for i in range(config.num_labels)]
        self.max_length = max_length

    def predict(self, texts: Sequence[str], batch_size: int = 64) -> list[Prediction]:
        chunks = []
        for start in range(0, len(texts), batch_size):
            batch = self._tokenizer(list(texts[start : start + batch_size]), padding=True, truncation=True,
                                    max_length=self.max_length, return_tensors="pt")
            with self._torch.inference_mode():
                chunks.append(self._model(**batch).logits.softmax(-1).numpy())
        return _predictions(np.concatenate(chunks) if chunks else np.zeros((0, len(self.labels))), self.labels)


class SetFitClassifier:
    def __init__(self, folder: Path) -> None:
        offline()
        from setfit import SetFitModel

        self._model = SetFitModel.from_pretrained(str(folder))
        self.labels = list(self._model.labels)

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        probabilities = np.asarray(self._model.predict_proba(list(texts), as_numpy=True))
        return _predictions(probabilities, self.labels)


def load_classifier(folder: Path) -> Classifier:
    try:
        info = json.loads((folder / METHOD_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{folder}: not a ragtune classifier ({METHOD_FILE}: {exc})") from None
    if info.get("method") == "setfit":
        return SetFitClassifier(folder)
    return FineTunedClassifier(folder, info.get("max_length", 128))


def few_shot(examples: Sequence[Example], shots: int, seed: int) -> list[Example]:
    """``shots`` examples of every label (all of a label's rows when it has fewer), seeded."""
    by_label: dict[str, list[Example]] = {}
    for example in examples:
        by_label.setdefault(example.label or "", []).append(example)
    rng = random.Random(seed)
    picked = [e for label in sorted(by_label) for e in rng.sample(by_label[label], min(shots, len(by_label[label])))]
    rng.shuffle(picked)
    return picked


def classification_metrics(truth: Sequence[str], predicted: Sequence[str], labels: list[str]) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    return {
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)), 4),
        "confusion": confusion_matrix(truth, predicted, labels=labels).tolist(),
    }


def top_confusions(confusion: list[list[int]], labels: list[str], n: int = 5) -> list[tuple[str, str, int]]:
    """The ``n`` most frequent (true label, predicted label, count) mistakes."""
    pairs = [(labels[i], labels[j], c) for i, row in enumerate(confusion) for j, c in enumerate(row) if i != j and c]
    return sorted(pairs, key=lambda p: -p[2])[:n]


@dataclass
class ClassifierResult:
    method: str
    metrics: dict[str, Any]
    confusion: list[list[int]]
    labels: list[str]
    train_rows: int
    train_seconds: float


def _resolve_encoder(name: str) -> Path:
    from ragtune.embed.models import resolve_local_model

    try:
        return resolve_local_model(name).path
    except ConfigError as exc:
        raise ConfigError(str(exc).replace("embedder.model", "--base")) from None


def train_classifier(data: PreparedData, config: ClassifierTuneConfig, output: Path, *, progress: bool = True) -> ClassifierResult:
    """Train into ``output`` (a model folder plus ``METHOD_FILE``) and score on the test split."""
    if data.kind != "classification":
        raise TrainingError(f"tune classifier trains on labelled text, not {data.kind} data (use tune lora)")
    train = data.splits["train"]
    if config.shots:
        train = few_shot(train, config.shots, config.seed)
    labels = sorted({e.label for e in train if e.label})
    if len(labels) < 2:
        raise TrainingError(f"the training split has {len(labels)} label(s); a classifier needs at least 2")
    missing = sorted({e.label for e in data.splits["test"] if e.label} - set(labels))
    if missing:
        raise TrainingError(f"test labels never seen in training: {', '.join(missing[:5])}; prepare with a larger "
                            "training share or --min-per-label")
    method = config.resolved_method(len(train) / len(labels))
    encoder = _resolve_encoder(config.base)
    offline()
    started = time.perf_counter()
    if method == "setfit":
        _train_setfit(train, labels, encoder, config, output, progress)
        classifier: Classifier = SetFitClassifier(output)
    else:
        _train_finetune(train, data.splits["validation"], labels, encoder, config, output, progress)
        classifier = FineTunedClassifier(output, config.max_length)
    seconds = time.perf_counter() - started
    info = {"method": method, "labels": labels, "max_length": config.max_length}
    (output / METHOD_FILE).write_text(json.dumps(info), encoding="utf-8")
    test = data.splits["test"] or data.splits["validation"]
    if not test:
        raise TrainingError("no test or validation rows to score the classifier on; prepare with a held-out share")
    truth = [e.label or "" for e in test]
    scored = classification_metrics(truth, [p.label for p in classifier.predict([e.data["text"] for e in test])], labels)
    metrics: dict[str, Any] = {"accuracy": scored["accuracy"], "macro_f1": scored["macro_f1"], "test_rows": len(test)}
    if config.baseline:
        baseline = frozen_baseline(encoder, train, test, labels)
        metrics.update(baseline_accuracy=baseline["accuracy"], baseline_macro_f1=baseline["macro_f1"])
    return ClassifierResult(method, metrics, scored["confusion"], labels, len(train), seconds)


def _train_setfit(train: Sequence[Example], labels: list[str], encoder: Path, config: ClassifierTuneConfig,
                  output: Path, progress: bool) -> None:
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments

    # The same head as the frozen baseline, so the comparison measures the contrastive tuning alone.
    model = SetFitModel.from_pretrained(str(encoder), labels=labels, head_params=dict(HEAD_PARAMS))
    args = TrainingArguments(
        batch_size=config.batch_size, num_epochs=1, num_iterations=config.setfit_iterations,
        body_learning_rate=2e-5, max_length=config.max_length, seed=config.seed, show_progress_bar=progress,
        report_to="none", save_strategy="no", output_dir=str(output / ".setfit-checkpoints"),
    )
    trainer = Trainer(model=model, args=args, train_dataset=Dataset.from_list([e.data for e in train]))
    trainer.train()
    model.save_pretrained(str(output))


def _train_finetune(train: Sequence[Example], validation: Sequence[Example], labels: list[str], encoder: Path,
                    config: ClassifierTuneConfig, output: Path, progress: bool) -> None:
    import torch
    from datasets import Dataset
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainingArguments

    index = {label: i for i, label in enumerate(labels)}
    tokenizer = AutoTokenizer.from_pretrained(str(encoder))
    model = AutoModelForSequenceClassification.from_pretrained(
        str(encoder), num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=index,
    )

    def encode(rows: Sequence[Example]) -> Any:
        kept = [e for e in rows if e.label in index]
        dataset = Dataset.from_dict({"text": [e.data["text"] for e in kept], "label": [index[e.label or ""] for e in kept]})
        return dataset.map(lambda b: tokenizer(b["text"], truncation=True, max_length=config.max_length), batched=True,
                           remove_columns=["text"])

    def accuracy(prediction: Any) -> dict[str, float]:
        return {"accuracy": float((np.argmax(prediction.predictions, -1) == prediction.label_ids).mean())}

    checkpoints = output / ".checkpoints"
    has_validation = any(e.label in index for e in validation)
    args = TrainingArguments(
        output_dir=str(checkpoints), num_train_epochs=config.epochs, learning_rate=config.learning_rate,
        per_device_train_batch_size=config.batch_size, per_device_eval_batch_size=64,
        warmup_steps=config.warmup_ratio, weight_decay=config.weight_decay, seed=config.seed, data_seed=config.seed,
        eval_strategy="epoch" if has_validation else "no", save_strategy="epoch" if has_validation else "no",
        save_total_limit=1, load_best_model_at_end=has_validation, metric_for_best_model="accuracy",
        logging_strategy="epoch", report_to=[], disable_tqdm=not progress, use_cpu=not torch.cuda.is_available(),
    )
    trainer = Trainer(
        model=model, args=args, train_dataset=encode(train), eval_dataset=encode(validation) if has_validation else None,
        processing_class=tokenizer, compute_metrics=accuracy,
    )
    trainer.train()
    trainer.save_model(str(output))
    import shutil

    shutil.rmtree(checkpoints, ignore_errors=True)


def frozen_baseline(encoder: Path, train: Sequence[Example], test: Sequence[Example], labels: list[str]) -> dict[str, Any]:
    """Logistic regression on the untuned encoder's sentence embeddings."""
    from sentence_transformers import SentenceTransformer
    from sklearn.linear_model import LogisticRegression

    model = SentenceTransformer(str(encoder), device="cpu")
    x_train = model.encode([e.data["text"] for e in train], batch_size=64, normalize_embeddings=True)
    x_test = model.encode([e.data["text"] for e in test], batch_size=64, normalize_embeddings=True)
    head = LogisticRegression(**HEAD_PARAMS).fit(x_train, [e.label for e in train])
    return classification_metrics([e.label or "" for e in test], list(head.predict(x_test)), labels)
