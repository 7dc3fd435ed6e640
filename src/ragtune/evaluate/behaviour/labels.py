"""The ``label`` metrics of routing/classification eval sets: which of the allowed labels does an
answer state, and the accuracy and macro-F1 of those labels over a run.

An answer states a label when (in this order):
1. it is a JSON object whose ``label_field`` (or ``label``/``category``/``queue``/``team``/``intent``)
   holds one;
2. a line reads ``Label: X`` (or Category/Queue/Team/Route/Intent/Routing);
3. a label is named in the text as whole words (punctuation and ``_`` read as spaces, case ignored); of
   several, the one named first.
Otherwise it states none, which counts as wrong. Matching never guesses beyond the allowed labels.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ragtune.evaluate.behaviour.format_check import parse_json_answer

KEYS = ("label", "category", "queue", "team", "intent", "route")
_LINE = re.compile(r"(?im)^[\s*_#>-]*(?:label|category|queue|team|route|routing|intent)\s*[:=-]\s*[*_\"'`]*([^\n*_\"'`]+)")


def normalise_label(text: str) -> str:
    """Lower case, punctuation and underscores read as spaces: "Battery_Safety." -> "battery safety"."""
    return " ".join(re.sub(r"[\W_]+", " ", text.lower()).split())


def _match(value: object, labels: Sequence[str]) -> str | None:
    if not isinstance(value, str):
        return None
    wanted = normalise_label(value)
    return next((label for label in labels if normalise_label(label) == wanted), None)


def stated_label(text: str, labels: Sequence[str], field: str = "label") -> str | None:
    try:
        value = parse_json_answer(text)
    except ValueError:
        value = None
    if isinstance(value, dict):
        for key in dict.fromkeys((field, *KEYS)):
            found = _match(value.get(key), labels)
            if found:
                return found
    for line in _LINE.finditer(text):
        found = _match(line.group(1), labels)
        if found:
            return found
    words = f" {normalise_label(text)} "
    positions = {label: words.find(f" {normalise_label(label)} ") for label in labels}
    named = [(at, label) for label, at in positions.items() if at >= 0]
    return min(named)[1] if named else None


def label_scores(truth: Sequence[str], predicted: Sequence[str | None], labels: Sequence[str]) -> dict[str, float]:
    """Accuracy and macro-F1 (the unweighted mean of each gold label's F1; a label never predicted
    nor gold is left out, as in scikit-learn's ``f1_score(average="macro")`` over the labels that
    occur). ``None`` predictions count as wrong."""
    if not truth:
        return {}
    accuracy = sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth)
    occurring = [label for label in labels if label in truth or label in predicted]
    f1s = []
    for label in occurring:
        tp = sum(t == label and p == label for t, p in zip(truth, predicted, strict=True))
        fp = sum(t != label and p == label for t, p in zip(truth, predicted, strict=True))
        fn = sum(t == label and p != label for t, p in zip(truth, predicted, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return {"label_accuracy": accuracy, "label_macro_f1": sum(f1s) / len(f1s) if f1s else 0.0}

