"""The freshness test: a document changes after the models were trained. Which arm answers the
new fact? Retrieval arms re-index the changed file (seconds); a fine-tune still says what it
learned until it is trained again.

An update is a set of changed files (their path relative to the corpus folder, and the new text)
and questions whose gold answers are the new facts. ``synthesize_squad_update`` makes one from a
SQuAD set: it changes a number in the gold answer of questions the fine-tune was trained on.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ragtune.errors import EvalDataError
from ragtune.evaluate.answer_metrics import answer_in_context
from ragtune.evaluate.evalset import load_evalset
from ragtune.evaluate.items import EvalItem
from ragtune.evaluate.squad import SquadQuestion, SquadSet

_NUMBER = re.compile(r"(?<![\w.\-])\d+(?:\.\d+)?(?!\w)")  # not inside a name like COVID-19


@dataclass
class DocumentUpdate:
    files: dict[str, str]
    """Path relative to the corpus folder -> the document's new text."""
    items: list[EvalItem]
    """Questions about the changed facts; their answers are the new facts."""
    stale: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Question id -> what the documents said before (an answer with it is out of date)."""
    source: str = ""


def _changed_number(value: str, context: str) -> str:
    """Another number of the same shape, one the document does not already contain."""
    decimals = len(value.split(".")[1]) if "." in value else 0
    number = float(value)
    for factor in (1.5, 2.0, 3.0, 5.0, 7.0):
        changed = number * factor + (1 if number == 0 else 0)
        text = f"{changed:.{decimals}f}"
        if text != value and not re.search(rf"(?<![\w.]){re.escape(text)}(?![\w])", context):
            return text
    return f"{value}1"


def synthesize_squad_update(squad: SquadSet, questions: Sequence[SquadQuestion], n: int, seed: int = 0) -> DocumentUpdate:
    """Change the number in the gold answer of up to ``n`` of ``questions`` (each in its own
    document), everywhere the answer occurs in that document."""
    files: dict[str, str] = {}
    items: list[EvalItem] = []
    stale: dict[str, tuple[str, ...]] = {}
    candidates = [q for q in questions if q.answers and _NUMBER.search(q.answers[0])]
    random.Random(seed).shuffle(candidates)
    for question in candidates:
        if len(items) >= n:
            break
        name = squad.context_file(question.context)
        if name in files:
            continue
        context, old_answer = squad.contexts[question.context], question.answers[0]
        if old_answer not in context:
            continue
        old_value = _NUMBER.search(old_answer).group(0)  # type: ignore[union-attr]
        new_value = _changed_number(old_value, context)
        new_answer = _NUMBER.sub(new_value, old_answer, count=1)
        files[name] = context.replace(old_answer, new_answer)
        items.append(EvalItem(f"fresh-{question.id}", question.question, (new_value,), {name: 1}))
        stale[items[-1].id] = (old_value,)
    return DocumentUpdate(files, items, stale, source=f"synthesized from {len(items)} training questions")


def load_update(folder: Path, evalset: Path) -> DocumentUpdate:
    """Changed documents from ``folder`` (paths relative to it name the corpus files they replace
    or add) and the questions about them from an eval set whose answers are the new facts."""
    if not folder.is_dir():
        raise EvalDataError(f"--update-docs {folder}: not a folder")
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        try:
            files[path.relative_to(folder).as_posix()] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise EvalDataError(f"{path}: not a readable text document: {exc}") from None
    if not files:
        raise EvalDataError(f"--update-docs {folder}: no files in it")
    data = load_evalset(evalset)
    items = [i for i in data.items if i.answers]
    if not items:
        raise EvalDataError(f"{evalset}: no question with answers (the new facts) to test freshness with")
    return DocumentUpdate(files, items, {}, source=str(folder))


def freshness_metrics(text: str, item: EvalItem, stale: Mapping[str, Sequence[str]]) -> dict[str, float | None]:
    """``fresh``: the answer states the new fact; ``stale``: it states the old one (when known)."""
    old = stale.get(item.id)
    return {"fresh": answer_in_context(item.answers, [text]), "stale": answer_in_context(old, [text]) if old else None}
