"""(query, relevant passage) pairs for embedder fine-tuning, from three sources:

- a BEIR folder's qrels (``--beir DIR --split train``): every judged-relevant document;
- a JSONL file of ``{"query": ..., "positive": ...}`` objects (``anchor`` is read as ``query``);
- the user's own documents (``--generate N --corpus PATH``): N chunks, sampled with a seed, each
  given a question written by the configured LLM.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ragtune.errors import LoadError
from ragtune.tune.dataset_formats import RowError, json_lines


@dataclass(frozen=True)
class Pair:
    query: str
    positive: str
    group: str
    """What keeps a query's pairs together when pairs are split (the query id or text)."""


def beir_pairs(root: Path, split: str = "train") -> list[Pair]:
    from ragtune.evaluate.beir import load_beir

    beir = load_beir(root, split)
    wanted = {doc for item in beir.items for doc, grade in item.relevant.items() if grade > 0}
    corpus = beir.corpus_texts(wanted)
    return [
        Pair(item.question, corpus[doc], item.id)
        for item in beir.items for doc, grade in sorted(item.relevant.items()) if grade > 0 and doc in corpus
    ]


def jsonl_pairs(path: Path) -> tuple[list[Pair], list[RowError]]:
    if not path.is_file():
        raise LoadError(f"{path}: no such file")
    pairs, errors = [], []
    for number, record in json_lines(path):
        if isinstance(record, RowError):
            errors.append(record)
            continue
        query = record.get("query", record.get("anchor")) if isinstance(record, dict) else None
        positive = record.get("positive") if isinstance(record, dict) else None
        if not (isinstance(query, str) and query.strip() and isinstance(positive, str) and positive.strip()):
            errors.append(RowError(number, "needs non-empty string fields 'query' and 'positive'"))
            continue
        pairs.append(Pair(query, positive, query.strip().casefold()))
    return pairs, errors


QUESTION_PROMPT = (
    "Write one question that the passage below answers. The question must make sense without the "
    "passage. Reply with the question only.\n\nPassage:\n{passage}"
)


def generated_pairs(passages: Sequence[str], ask: Callable[[str], str], count: int, seed: int = 0) -> list[Pair]:
    """``count`` passages sampled with ``seed``, each paired with the question ``ask`` writes for it.
    Empty or overlong replies are dropped (a small model sometimes rambles)."""
    chosen = random.Random(seed).sample(list(passages), min(count, len(passages)))
    pairs = []
    for number, passage in enumerate(chosen):
        question = " ".join(ask(QUESTION_PROMPT.format(passage=passage)).split())
        if 3 <= len(question.split()) <= 60:
            pairs.append(Pair(question, passage, f"generated-{number}"))
    return pairs


class _Collect:
    def __init__(self) -> None:
        self.texts: list[str] = []

    def write(self, document, chunks, origin) -> None:  # type: ignore[no-untyped-def]
        self.texts.extend(chunk.text for chunk in chunks if chunk.text.strip())


def corpus_passages(paths: Iterable[Path], config) -> list[str]:  # type: ignore[no-untyped-def]
    """The chunks ``ragtune ingest`` would index for ``paths``, without touching the index."""
    from ragtune.chunk.factory import build_chunker
    from ragtune.ingest.pipeline import IngestPipeline

    sink = _Collect()
    IngestPipeline(config.ingest, build_chunker(config.chunking, config.embedder), sink).run(list(paths), [])
    return sink.texts


def split_pairs(pairs: Sequence[Pair], held_out: float, seed: int) -> tuple[list[Pair], list[Pair]]:
    """(train, held out), by query group so no held-out query was seen in training."""
    groups = sorted({p.group for p in pairs})
    random.Random(seed).shuffle(groups)
    cut = int(round(len(groups) * held_out))
    kept_out = set(groups[:cut])
    return [p for p in pairs if p.group not in kept_out], [p for p in pairs if p.group in kept_out]
