"""The ``classifier`` arm of a comparison: a fine-tuned text classifier (``ragtune tune
classifier``) reads the question and states a label, nothing else. For routing eval sets
(``label`` on every item) it is the fine-tuning answer to "which queue?": no retrieval, no
generation, milliseconds per ticket. Its answers cannot be scored on facts, format or style."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ragtune.errors import TrainingError
from ragtune.evaluate.items import EvalItem
from ragtune.generate.answer import Answer
from ragtune.types import Principal
from ragtune.workspace import Workspace


class ClassifierAnswerer:
    """``ask`` answers with the predicted label; the ``Answer`` carries no sources."""

    llm = None  # nothing to close

    def __init__(self, classifier: Any, identity: str) -> None:
        self.classifier, self.identity = classifier, identity

    def ask(self, question: str, principal: Principal, **_: Any) -> Answer:
        started = time.perf_counter()
        prediction = self.classifier.predict([question])[0]
        answer = Answer(question, prediction.label, True, self.identity, principal.user_id)
        answer.data = {"label": prediction.label, "score": prediction.score}
        answer.mode = "classify"
        answer.timings["total"] = time.perf_counter() - started
        return answer


def open_classifier_arm(workspace: Workspace, ref: str) -> ClassifierAnswerer:
    from ragtune.tune.api import load_classifier_ref

    entry, classifier = load_classifier_ref(workspace, ref)
    return ClassifierAnswerer(classifier, entry.ref)


def train_classifier_arm(workspace: Workspace, items: Sequence[EvalItem], name: str, folder: Path, *, seed: int = 0,
                         progress: bool = True) -> tuple[str, float, int]:
    """Fine-tune ``name`` on the labelled training questions; (registry reference, seconds, examples)."""
    from ragtune.tune.api import tune_classifier
    from ragtune.tune.classifier_config import ClassifierTuneConfig
    from ragtune.tune.prepare import prepare

    labelled = [{"text": item.question, "label": item.label} for item in items if item.label]
    if not labelled:
        raise TrainingError("the classifier arm trains on labelled questions: give the training questions a 'label'")
    path = folder / f"{name}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in labelled), encoding="utf-8")
    # A fifth is held out: the registry entry records its accuracy (the comparison tests on its own questions).
    data = prepare(path, "classification", fractions=(0.8, 0.2, 0.0), seed=seed)
    entry, result = tune_classifier(workspace, data, name, ClassifierTuneConfig(seed=seed, baseline=False),
                                    progress=progress)
    return entry.ref, result.train_seconds, result.train_rows
