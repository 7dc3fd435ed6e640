"""The ``style`` metric: how much an answer reads like the house style, 0–1.

A linear head on frozen embeddings: logistic regression on the configured embedder's vectors of
house-style texts (1) against neutral texts on the same topics (0); an answer's score is the
predicted probability of house style. Cheap (one embedding per answer), deterministic, and trained
in a second from a few dozen examples. Its held-out accuracy (stratified cross-validation over the
examples) is reported with every run, so a scorer that cannot tell the two apart is visible as
such rather than trusted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ragtune.embed.base import Embedder
from ragtune.errors import ConfigError, EvalDataError

MIN_EXAMPLES = 4
"""Fewest texts per side: fewer cannot be cross-validated, nor trusted."""


def read_examples(path: Path, where: str) -> list[str]:
    """Texts from ``.jsonl`` (a ``text`` field per line) or any other text file (one text per
    blank-line-separated paragraph). Errors name the setting, file and line."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read {path}: {exc}") from None
    if path.suffix.lower() != ".jsonl":
        return [" ".join(p.split()) for p in raw.split("\n\n") if p.strip()]
    texts = []
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalDataError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
        text = record.get("text") if isinstance(record, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise EvalDataError(f"{path}:{number}: 'text' is missing or empty")
        texts.append(text.strip())
    return texts


@dataclass
class StyleScorer:
    embedder: Embedder
    model: Any
    """A fitted ``sklearn.linear_model.LogisticRegression``."""
    info: dict[str, Any] = field(default_factory=dict)
    """Examples per side and the held-out accuracy."""

    @classmethod
    def train(cls, embedder: Embedder, house: Sequence[str], neutral: Sequence[str], *, seed: int = 0) -> StyleScorer:
        try:
            from sklearn.linear_model import LogisticRegression
            from sklearn.model_selection import StratifiedKFold, cross_val_score
        except ImportError:
            raise ConfigError("the style metric needs scikit-learn: pip install 'ragtune[tune]'") from None
        for name, texts in (("style_examples", house), ("neutral_examples", neutral)):
            if len(texts) < MIN_EXAMPLES:
                raise ConfigError(f"eval.behaviour.{name}: {len(texts)} text(s); the style scorer needs at least "
                                  f"{MIN_EXAMPLES} on each side")
        vectors = embedder.embed([*house, *neutral])
        target = np.array([1] * len(house) + [0] * len(neutral))
        folds = StratifiedKFold(n_splits=min(5, len(house), len(neutral)), shuffle=True, random_state=seed)
        held_out = cross_val_score(LogisticRegression(max_iter=1000), vectors, target, cv=folds)
        model = LogisticRegression(max_iter=1000).fit(vectors, target)
        info = {"method": "logistic regression on frozen embeddings", "house_examples": len(house),
                "neutral_examples": len(neutral), "held_out_accuracy": float(np.mean(held_out)),
                "folds": folds.get_n_splits()}
        return cls(embedder, model, info)

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """Probability of the house style for each text (an empty text scores 0)."""
        scores = np.zeros(len(texts))
        filled = [i for i, t in enumerate(texts) if t.strip()]
        if filled:
            vectors = self.embedder.embed([texts[i] for i in filled])
            scores[filled] = self.model.predict_proba(vectors)[:, 1]
        return scores
