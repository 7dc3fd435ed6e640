"""SQuAD-layout data sets (COVID-QA among them): each paragraph's context becomes a document,
each question keeps its gold answers and the index of the context that holds them."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from ragtune.errors import EvalDataError
from ragtune.evaluate.items import EvalItem


@dataclass(frozen=True, slots=True)
class SquadQuestion:
    id: str
    question: str
    answers: tuple[str, ...]
    context: int
    """Index into ``SquadSet.contexts`` of the passage holding the answers."""
    article: int = 0
    """Index of the article the passage belongs to: splits by article keep a document's facts
    on one side."""


@dataclass(frozen=True, slots=True)
class SquadSet:
    contexts: tuple[str, ...]
    questions: tuple[SquadQuestion, ...]

    def context_file(self, index: int) -> str:
        """The file name a context is written to by ``write_contexts``."""
        return f"context_{index:04d}.txt"

    def write_contexts(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for index, text in enumerate(self.contexts):
            (folder / self.context_file(index)).write_text(text, encoding="utf-8")
        return folder

    def items(self, limit: int | None = None, seed: int = 0) -> list[EvalItem]:
        """Answerable questions as eval items, the context's file the one relevant document;
        ``limit`` draws that many reproducibly."""
        chosen = self.sample(limit, seed) if limit else [q for q in self.questions if q.answers]
        return [self.item(q) for q in chosen]

    def item(self, question: SquadQuestion) -> EvalItem:
        return EvalItem(question.id, question.question, question.answers, {self.context_file(question.context): 1})

    def split_by_article(self, test_share: float, seed: int = 0) -> tuple[list[SquadQuestion], list[SquadQuestion]]:
        """(train, test) answerable questions, whole articles on each side, drawn reproducibly:
        a fine-tune on the train side has never seen the facts of the test side."""
        articles = sorted({q.article for q in self.questions})
        random.Random(seed).shuffle(articles)
        n_test = max(1, round(len(articles) * test_share)) if len(articles) > 1 else 0
        test_articles = set(articles[:n_test])
        answerable = [q for q in self.questions if q.answers]
        return ([q for q in answerable if q.article not in test_articles],
                [q for q in answerable if q.article in test_articles])

    def sample(self, n: int, seed: int = 0) -> list[SquadQuestion]:
        """``n`` answerable questions drawn reproducibly."""
        answerable = [q for q in self.questions if q.answers]
        return random.Random(seed).sample(answerable, min(n, len(answerable)))


def load_squad(path: Path) -> SquadSet:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EvalDataError(f"{path}: not a readable SQuAD JSON file: {exc}") from None
    contexts: list[str] = []
    questions: list[SquadQuestion] = []
    where = "data"
    try:
        for a, article in enumerate(data["data"]):
            for p, paragraph in enumerate(article["paragraphs"]):
                where = f"data[{a}].paragraphs[{p}]"
                contexts.append(paragraph["context"])
                for qa in paragraph.get("qas", []):
                    answers = tuple(dict.fromkeys(x["text"].strip() for x in qa.get("answers", []) if x["text"].strip()))
                    questions.append(SquadQuestion(str(qa["id"]), qa["question"], answers, len(contexts) - 1, a))
    except (KeyError, TypeError) as exc:
        raise EvalDataError(f"{path}: not in SQuAD layout ({where}: missing or wrong field {exc})") from None
    return SquadSet(tuple(contexts), tuple(questions))
