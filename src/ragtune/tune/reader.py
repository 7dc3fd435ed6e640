"""Reader fine-tuning: a cross-encoder on the bundled MiniLM that scores (question, text) pairs.

One trained model serves two jobs: reranking retrieved chunks (``[retrieval] rerank_model``) and
choosing the sentence that answers (``[answer] scorer``). Its one-logit head starts untrained, so
it has to learn from examples, built here from three sources:

- a SQuAD-layout file: the positive is the sentence of the question's context that holds a gold
  answer; the hard negatives are other sentences of the same context;
- an eval set (JSONL) plus its documents (a corpus folder, or the workspace index read as each
  question's principal): the same, within the question's relevant documents;
- a BEIR folder: positives are the judged-relevant documents of ``qrels/<split>.tsv`` (train only
  for honest test scores); negatives are BM25 hits over the corpus that are not judged relevant.

Sentences, table rows and list items are cut by ``ragtune.generate.candidates``, exactly as the
extractive reader cuts them when it answers. Sentences that also hold a gold answer are never
used as negatives. Negatives are sampled per question with a seed derived from the question, so
the data set does not depend on the order of the input.

Training uses binary cross-entropy on (question, candidate, 0/1) pairs, positives weighted by the
negative/positive ratio. A held-out share of the questions is scored before and after: the
baseline is the cosine of the base model's own bi-encoder embeddings (what ships, untrained).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ragtune.errors import ConfigError, LoadError, TrainingError
from ragtune.tune.reader_config import ReaderTuneConfig

_WORDS = re.compile(r"\w+", re.UNICODE)
MIN_NEGATIVE_WORDS = 3
"""Shorter candidates ("Yes.", "1.") are never negatives: they teach nothing."""


@dataclass(frozen=True, slots=True)
class ReaderExample:
    id: str
    question: str
    positives: tuple[str, ...]
    negatives: tuple[str, ...]

    @property
    def group(self) -> str:
        """What keeps a question on one side of the split: its normalised text, so the same
        question asked twice (by two principals, in two files) never lands on both sides."""
        return " ".join(self.question.casefold().split())


@dataclass(slots=True)
class ReaderData:
    examples: list[ReaderExample]
    source: dict[str, Any]
    """Lineage: ``path``, ``layout`` and the input file's ``file_sha256`` (and ``split`` for BEIR)."""
    skipped: list[str] = field(default_factory=list)
    """One line per question left out, with the reason."""

    def content_hash(self) -> str:
        digest = hashlib.sha256()
        for ex in self.examples:
            digest.update(json.dumps([ex.id, ex.question, ex.positives, ex.negatives], ensure_ascii=False).encode())
            digest.update(b"\n")
        return digest.hexdigest()


# -- building examples ---------------------------------------------------------------------------

def candidate_texts(text: str) -> list[str]:
    """The answer candidates of ``text`` (sentences, table rows, list items), in order, once each."""
    from ragtune.generate.candidates import candidate_spans

    return list(dict.fromkeys(text[start:end].strip() for start, end in candidate_spans(text) if text[start:end].strip()))


def _squash(text: str) -> str:
    return " ".join(text.casefold().split())


def holds_answer(text: str, answers: Iterable[str]) -> bool:
    """``text`` contains a gold answer as a whole token sequence (case and spacing ignored): "2"
    is held by "in 2 weeks", not by "2020"."""
    haystack = _squash(text)
    for answer in answers:
        needle = _squash(answer)
        if needle and re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack):
            return True
    return False


def _rng(seed: int, key: str) -> random.Random:
    return random.Random(f"{seed}\x00{key}")  # str seeds are hashed with sha512: stable across runs


def _sample(rng: random.Random, pool: Sequence[str], n: int) -> tuple[str, ...]:
    if len(pool) <= n:
        return tuple(pool)
    chosen = sorted(rng.sample(range(len(pool)), n))
    return tuple(pool[i] for i in chosen)


def sentence_example(id: str, question: str, answers: Sequence[str], documents: Sequence[str],
                     negatives: int, seed: int) -> ReaderExample | str:
    """The example of one question over its gold document(s), or the reason there is none.

    The positive is the first candidate holding a gold answer; other candidates holding one are
    neither positive nor negative (they may answer too); the rest of the same document(s) are the
    pool the negatives are sampled from.
    """
    if not answers:
        return "no gold answer"
    positive: str | None = None
    pool: list[str] = []
    for text in documents:
        for candidate in candidate_texts(text):
            if holds_answer(candidate, answers):
                positive = positive or candidate
            elif len(_WORDS.findall(candidate)) >= MIN_NEGATIVE_WORDS:
                pool.append(candidate)
    if positive is None:
        return "no sentence of its document holds a gold answer"
    pool = [c for c in dict.fromkeys(pool) if c != positive]
    if not pool:
        return "its document has no other sentence to use as a negative"
    return ReaderExample(id, question, (positive,), _sample(_rng(seed, id), pool, negatives))


def _dedupe(examples: list[ReaderExample]) -> list[ReaderExample]:
    seen: set[tuple[str, tuple[str, ...]]] = set()
    kept = []
    for ex in examples:
        key = (ex.group, ex.positives)
        if key not in seen:
            seen.add(key)
            kept.append(ex)
    return kept


def _require_file(path: Path, what: str) -> None:
    if not path.is_file():
        raise LoadError(f"{path}: no such file ({what})")


def squad_data(path: Path, config: ReaderTuneConfig) -> ReaderData:
    from ragtune.evaluate.runs import file_hash
    from ragtune.evaluate.squad import load_squad

    _require_file(path, "a SQuAD-layout JSON file")
    squad = load_squad(path)
    examples, skipped = [], []
    for q in squad.questions:
        built = sentence_example(q.id, q.question, q.answers, [squad.contexts[q.context]], config.negatives, config.seed)
        if isinstance(built, str):
            skipped.append(f"{q.id}: {built}")
        else:
            examples.append(built)
    return ReaderData(_dedupe(examples), {"path": str(path.resolve()), "layout": "squad", "file_sha256": file_hash(path)},
                      skipped)


Lookup = Callable[[Any], list[str]]
"""An eval item -> the texts of its relevant documents that can be read."""


def evalset_data(path: Path, documents: Lookup, config: ReaderTuneConfig, *, corpus: str | None = None) -> ReaderData:
    from ragtune.evaluate.evalset import load_evalset
    from ragtune.evaluate.runs import file_hash

    _require_file(path, "an eval set: JSONL with question, answers, relevant_doc_ids")
    evalset = load_evalset(path)
    examples, skipped = [], [f"excluded {message}" for message in evalset.errors]
    for item in evalset.items:
        if getattr(item, "expect_refusal", False):
            skipped.append(f"{item.id}: expects a refusal")
            continue
        if not any(grade > 0 for grade in item.relevant.values()):
            skipped.append(f"{item.id}: no relevant_doc_ids")
            continue
        texts = documents(item)
        if not texts:
            skipped.append(f"{item.id}: none of its relevant documents ({', '.join(item.relevant)}) was found"
                           + ("" if corpus else " visible to its principal in the index"))
            continue
        built = sentence_example(item.id, item.question, item.answers, texts, config.negatives, config.seed)
        if isinstance(built, str):
            skipped.append(f"{item.id}: {built}")
        else:
            examples.append(built)
    source = {"path": str(path.resolve()), "layout": "evalset", "file_sha256": file_hash(path),
              "corpus": corpus or "workspace index"}
    return ReaderData(_dedupe(examples), source, skipped)


class _Source:
    """What ``evaluate.items.document_key`` reads of a hit: its source."""

    def __init__(self, source: str) -> None:
        self.source = source


def _relevant(documents: Iterable[tuple[str, str]], relevant: Mapping[str, int]) -> list[str]:
    """The second member of each (source, value) whose source is one of the relevant documents,
    matched as the evaluation matches hits (record id, whole source, or trailing path)."""
    from ragtune.evaluate.items import document_key

    wanted = {doc for doc, grade in relevant.items() if grade > 0}
    return [value for source, value in documents if document_key(_Source(source), relevant) in wanted]  # type: ignore[arg-type]


def corpus_lookup(paths: Sequence[Path], ingest_config: Any) -> tuple[Lookup, list[str]]:
    """Documents read from ``paths`` by the ingest loaders (no index, no access lists: the
    corpus is the training data itself), and one line per file that could not be read."""
    from ragtune.ingest.pipeline import load_file
    from ragtune.ingest.sources import PathSource, Skipped

    for path in paths:
        if not path.exists():
            raise LoadError(f"{path}: no such file or folder (--corpus)")
    documents: list[tuple[str, str]] = []
    problems: list[str] = []
    for found in PathSource(list(paths), ingest_config.include, ingest_config.exclude,
                            ingest_config.follow_symlinks).walk():
        if isinstance(found, Skipped):
            continue
        try:
            documents.extend((d.source, d.text) for d in load_file(found, ingest_config).documents)
        except LoadError as exc:
            problems.append(f"{found.file.uri}: {exc}")
    if not documents:
        raise LoadError(f"no readable document under {', '.join(map(str, paths))} (--corpus)")
    return (lambda item: _relevant(documents, item.relevant)), problems


def index_lookup(store: Any, default_principal: Any) -> Lookup:
    """Documents of the workspace index, each question reading only what its principal may see."""
    listed: dict[Any, list[tuple[str, str]]] = {}

    def visible(principal: Any) -> list[tuple[str, str]]:
        if principal not in listed:
            summaries, offset = [], 0
            while page := store.list_documents(principal, limit=500, offset=offset):
                summaries.extend(page)
                offset += len(page)
            listed[principal] = [(s.source, s.document_id) for s in summaries]
        return listed[principal]

    def lookup(item: Any) -> list[str]:
        principal = item.principal or default_principal
        texts = []
        for document_id in _relevant(visible(principal), item.relevant):
            document = store.document(document_id, principal)
            if document is not None:
                texts.append(document.text)
        return texts

    return lookup


def beir_data(root: Path, split: str, config: ReaderTuneConfig) -> ReaderData:
    """Positives: the judged-relevant documents of ``qrels/<split>.tsv``; negatives: sampled
    from the top ``negative_depth`` BM25 hits over the whole corpus that are not judged relevant.
    BM25 is SQLite FTS5 in memory with the index's own tokenizer and query (words OR-ed)."""
    from ragtune.evaluate.beir import load_beir
    from ragtune.evaluate.runs import file_hash
    from ragtune.index.keyword import fts_query

    if not root.is_dir():
        raise LoadError(f"{root}: no such folder (--beir: corpus.jsonl, queries.jsonl, qrels/{split}.tsv)")
    beir = load_beir(root, split)
    corpus = beir.corpus_texts()
    db = sqlite3.connect(":memory:")
    try:
        db.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, text, tokenize='porter unicode61 remove_diacritics 2')")
        db.executemany("INSERT INTO docs(id, text) VALUES (?, ?)", corpus.items())
        examples, skipped = [], []
        for item in beir.items:
            positives = tuple(corpus[d] for d, g in sorted(item.relevant.items()) if g > 0 and d in corpus)
            if not positives:
                skipped.append(f"{item.id}: none of its relevant documents is in the corpus")
                continue
            match = fts_query(item.question)
            judged = {d for d, g in item.relevant.items() if g > 0}
            hits = db.execute("SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?",
                              (match, config.negative_depth + len(judged))).fetchall() if match else []
            pool = [corpus[h] for (h,) in hits if h not in judged][: config.negative_depth]
            if not pool:
                skipped.append(f"{item.id}: BM25 finds no other document to use as a negative")
                continue
            examples.append(ReaderExample(item.id, item.question, positives,
                                          _sample(_rng(config.seed, item.id), pool, config.negatives)))
    finally:
        db.close()
    source = {"path": str(root.resolve()), "layout": "beir", "split": split,
              "file_sha256": file_hash(root / "qrels" / f"{split}.tsv"), "corpus_sha256": file_hash(beir.corpus)}
    return ReaderData(examples, source, skipped)


def split_examples(examples: Sequence[ReaderExample], share: float, seed: int) -> tuple[list[ReaderExample], list[ReaderExample]]:
    """(train, validation) by question, seeded, independent of the input order; with a share
    above zero and two questions or more, at least one question is held out."""
    groups = sorted({ex.group for ex in examples})
    random.Random(seed).shuffle(groups)
    cut = int(round(len(groups) * share))
    if share > 0 and len(groups) >= 2:
        cut = min(max(cut, 1), len(groups) - 1)
    held = set(groups[:cut])
    return [ex for ex in examples if ex.group not in held], [ex for ex in examples if ex.group in held]


# -- scoring ------------------------------------------------------------------------------------

Scorer = Callable[[Sequence[tuple[str, str]]], np.ndarray]
"""(question, candidate) pairs -> one score each, higher is better."""


def ranking_scores(examples: Sequence[ReaderExample], score: Scorer) -> dict[str, float]:
    """accuracy@1 (a positive ranked first among the question's candidates) and MRR (of the
    best-ranked positive). Ties count against the positive, so an untrained constant scorer
    gets no credit."""
    if not examples:
        return {}
    pairs = [(ex.question, text) for ex in examples for text in (*ex.positives, *ex.negatives)]
    scores = np.asarray(score(pairs), dtype=np.float64).reshape(-1)
    hits, reciprocal, at = 0, 0.0, 0
    for ex in examples:
        n_pos, n = len(ex.positives), len(ex.positives) + len(ex.negatives)
        mine = scores[at: at + n]
        at += n
        best = mine[:n_pos].max()
        rank = 1 + int((mine[n_pos:] >= best).sum())
        hits += rank == 1
        reciprocal += 1.0 / rank
    return {"accuracy@1": round(hits / len(examples), 4), "mrr": round(reciprocal / len(examples), 4)}


def bi_encoder_scorer(model: Any, batch_size: int = 64) -> Scorer:
    def score(pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        questions = sorted({q for q, _ in pairs})
        texts = sorted({t for _, t in pairs})
        encode = dict(batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True)
        q_vectors = dict(zip(questions, model.encode(questions, **encode)))
        t_vectors = dict(zip(texts, model.encode(texts, **encode)))
        return np.array([float(np.dot(q_vectors[q], t_vectors[t])) for q, t in pairs])

    return score


def cross_encoder_scorer(model: Any, batch_size: int = 64) -> Scorer:
    def score(pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        return np.asarray(model.predict(list(pairs), batch_size=batch_size, show_progress_bar=False)).reshape(-1)

    return score


# -- training -----------------------------------------------------------------------------------

@dataclass
class ReaderResult:
    metrics: dict[str, float]
    train_questions: int
    validation_questions: int
    train_pairs: int
    train_seconds: float
    steps: int
    losses: list[tuple[int, float]]
    device: str


def _pairs(examples: Sequence[ReaderExample]) -> tuple[list[str], list[str], list[float]]:
    queries, passages, labels = [], [], []
    for ex in examples:
        for text, label in [*((p, 1.0) for p in ex.positives), *((n, 0.0) for n in ex.negatives)]:
            queries.append(ex.question)
            passages.append(text)
            labels.append(label)
    return queries, passages, labels


def train_reader(train: Sequence[ReaderExample], validation: Sequence[ReaderExample], config: ReaderTuneConfig,
                 output: Path, *, progress: bool = True) -> ReaderResult:
    """Train a cross-encoder into ``output / "model"`` and score validation before and after."""
    from ragtune.embed.models import resolve_local_model
    from ragtune.generate.base_model import offline

    if not train:
        raise TrainingError("no training question left: nothing to learn from")
    try:
        encoder = resolve_local_model(config.base).path
    except ConfigError as exc:
        raise ConfigError(str(exc).replace("embedder.model", "--base")) from None
    offline()
    import torch
    from datasets import Dataset
    from sentence_transformers import CrossEncoder, SentenceTransformer
    from sentence_transformers.cross_encoder import CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    device = "cuda" if torch.cuda.is_available() else "cpu"
    baseline: dict[str, float] = {}
    if validation:
        bi_encoder = SentenceTransformer(str(encoder), device=device)
        baseline = ranking_scores(validation, bi_encoder_scorer(bi_encoder))
        del bi_encoder
    torch.manual_seed(config.seed)  # the new head's initial weights
    model = CrossEncoder(str(encoder), num_labels=1, max_length=config.max_length, device=device)
    queries, passages, labels = _pairs(train)
    positives = sum(labels)
    args = CrossEncoderTrainingArguments(
        output_dir=str(output / ".checkpoints"), num_train_epochs=config.epochs, max_steps=config.max_steps,
        learning_rate=config.learning_rate, per_device_train_batch_size=config.batch_size,
        warmup_steps=config.warmup_ratio, seed=config.seed, data_seed=config.seed, save_strategy="no",
        logging_steps=10, report_to=[], disable_tqdm=not progress, use_cpu=device == "cpu",
    )
    loss = BinaryCrossEntropyLoss(model, pos_weight=torch.tensor((len(labels) - positives) / max(positives, 1.0)))
    dataset = Dataset.from_dict({"query": queries, "passage": passages, "label": labels})
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=dataset, loss=loss)
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    losses = [(int(e["step"]), round(float(e["loss"]), 4)) for e in trainer.state.log_history if "loss" in e]
    metrics: dict[str, float] = {}
    if validation:  # tuned then untrained, metric by metric: accuracy@1, accuracy@1_base, mrr, mrr_base
        for key, value in ranking_scores(validation, cross_encoder_scorer(model)).items():
            metrics.update({key: value, f"{key}_base": baseline[key]})
    model.save_pretrained(str(output / "model"))
    import shutil

    shutil.rmtree(output / ".checkpoints", ignore_errors=True)
    return ReaderResult(metrics, len(train), len(validation), len(labels), seconds, int(trainer.state.global_step),
                        losses, device)
