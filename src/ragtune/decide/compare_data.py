"""What a comparison runs on: test questions, training questions (for the fine-tunes), the
corpus to index, and optionally a document update for the freshness test."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragtune.decide.freshness import DocumentUpdate, load_update, synthesize_squad_update
from ragtune.errors import EvalDataError
from ragtune.evaluate.data import squad_corpus
from ragtune.evaluate.evalset import load_evalset
from ragtune.evaluate.items import EvalItem
from ragtune.evaluate.runs import file_hash
from ragtune.evaluate.squad import load_squad
from ragtune.workspace import Workspace


@dataclass
class CompareData:
    name: str
    test: list[EvalItem]
    train: list[EvalItem]
    corpus: Path | None
    """A folder of documents indexed for this comparison (a copy, so an update never touches the
    original); ``None``: the workspace's own index, read only."""
    info: dict[str, Any]
    update: DocumentUpdate | None = None
    warnings: list[str] = field(default_factory=list)


def _sample(items: list[Any], limit: int | None, seed: int) -> list[Any]:
    import random

    if not limit or limit >= len(items):
        return items
    return random.Random(seed).sample(items, limit)


def from_squad(path: Path, workspace: Workspace, *, test_share: float = 0.2, limit: int | None = None,
               train_limit: int | None = None, freshness: int = 0, seed: int = 0) -> CompareData:
    """Split by article: the fine-tunes never see a fact of a test question. ``freshness``
    changes a number in that many training answers' documents (see ``freshness``)."""
    squad = load_squad(path)
    digest = file_hash(path)
    train_q, test_q = squad.split_by_article(test_share, seed)
    if not test_q or not train_q:
        raise EvalDataError(f"{path}: splitting {len({q.article for q in squad.questions})} article(s) by "
                            f"{test_share:.0%} leaves no {'test' if not test_q else 'training'} question")
    articles = {"test_articles": len({q.article for q in test_q}), "train_articles": len({q.article for q in train_q})}
    train_q, test_q = _sample(train_q, train_limit, seed), _sample(test_q, limit, seed)
    corpus = squad_corpus(squad, path, digest, workspace)
    update = synthesize_squad_update(squad, train_q, freshness, seed) if freshness else None
    info = {"layout": "squad", "path": str(path.resolve()), "sha256": digest, "seed": seed, "split": "by article",
            "test_share": test_share, "items": len(test_q), "train_items": len(train_q), **articles}
    return CompareData(path.stem, [squad.item(q) for q in test_q], [squad.item(q) for q in train_q], corpus, info, update)


def from_evalset(path: Path, *, corpus: Path | None = None, train: Path | None = None, limit: int | None = None,
                 train_limit: int | None = None, update_docs: Path | None = None, update_evalset: Path | None = None,
                 seed: int = 0) -> CompareData:
    data = load_evalset(path)
    warnings = [f"skipped: {e}" for e in data.errors]
    train_items: list[EvalItem] = []
    if train is not None:
        train_set = load_evalset(train)
        warnings += [f"skipped: {e}" for e in train_set.errors]
        train_items = _sample(list(train_set.items), train_limit, seed)
        overlap = {i.question.strip().lower() for i in train_items} & {i.question.strip().lower() for i in data.items}
        if overlap:
            warnings.append(f"{len(overlap)} test question(s) also appear in the training questions: the fine-tuned "
                            "arms have seen their answers")
    if (update_docs is None) != (update_evalset is None):
        raise EvalDataError("the freshness test needs both --update-docs (changed documents) and --update-evalset "
                            "(questions about the new facts)")
    if update_docs is not None and corpus is None:
        raise EvalDataError("--update-docs needs --corpus: the update is applied to a copy of the corpus indexed "
                            "for the comparison, never to the workspace's own index")
    if corpus is not None and not corpus.is_dir():
        raise EvalDataError(f"--corpus {corpus}: not a folder")
    update = load_update(update_docs, update_evalset) if update_docs and update_evalset else None
    test = _sample(list(data.items), limit, seed)
    info = {"layout": "jsonl", "path": str(path.resolve()), "sha256": file_hash(path), "seed": seed,
            "items": len(test), "train_items": len(train_items), "corpus": str(corpus) if corpus else None}
    return CompareData(path.stem, test, train_items, corpus, info, update, warnings)
