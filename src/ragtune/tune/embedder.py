"""Embedder fine-tuning with sentence-transformers and MultipleNegativesRankingLoss.

Each (query, passage) pair is a positive; the other passages of the batch are its negatives, so
no negatives have to be mined. Batches never hold two pairs of the same query (``NO_DUPLICATES``),
or a query's second passage would count as a negative. Before and after training, the held-out
queries are scored by retrieving among every passage of the data set (nDCG@10, recall@10, MRR@10).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragtune.errors import ConfigError, TrainingError
from ragtune.generate.base_model import offline
from ragtune.tune.embedder_config import EmbedderTuneConfig
from ragtune.tune.embedder_pairs import Pair


@dataclass
class EmbedderResult:
    metrics: dict[str, float]
    train_pairs: int
    held_out_pairs: int
    train_seconds: float


def _retrieval_scores(model: Any, held_out: Sequence[Pair], passages: Sequence[str]) -> dict[str, float]:
    from sentence_transformers.evaluation import InformationRetrievalEvaluator

    corpus = {str(i): text for i, text in enumerate(passages)}
    ids = {text: str(i) for i, text in enumerate(passages)}
    queries: dict[str, str] = {}
    relevant: dict[str, set[str]] = {}
    for pair in held_out:
        queries[pair.group] = pair.query
        relevant.setdefault(pair.group, set()).add(ids[pair.positive])
    evaluator = InformationRetrievalEvaluator(
        queries, corpus, relevant, ndcg_at_k=[10], accuracy_at_k=[1, 10], precision_recall_at_k=[10], mrr_at_k=[10],
        map_at_k=[10], show_progress_bar=False, name="held_out",
    )
    raw = evaluator(model)
    wanted = {"ndcg@10": "ndcg@10", "recall@10": "recall@10", "mrr@10": "mrr@10"}
    return {short: round(float(v), 4) for key, v in raw.items() for suffix, short in wanted.items() if key.endswith(suffix)}


def train_embedder(train: Sequence[Pair], held_out: Sequence[Pair], config: EmbedderTuneConfig, output: Path,
                   *, progress: bool = True) -> EmbedderResult:
    """Fine-tune into ``output`` (a sentence-transformers folder) and score held-out retrieval."""
    from ragtune.embed.models import resolve_local_model

    if len(train) < 2:
        raise TrainingError(f"{len(train)} training pair(s); MultipleNegativesRankingLoss needs at least 2")
    try:
        encoder = resolve_local_model(config.base).path
    except ConfigError as exc:
        raise ConfigError(str(exc).replace("embedder.model", "--base")) from None
    offline()
    import torch
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.losses import MultipleNegativesRankingLoss
    from sentence_transformers.training_args import BatchSamplers

    model = SentenceTransformer(str(encoder), device="cuda" if torch.cuda.is_available() else "cpu")
    model.max_seq_length = config.max_length
    passages = sorted({p.positive for p in [*train, *held_out]})
    metrics: dict[str, float] = {}
    if held_out:
        metrics.update({f"{k}_base": v for k, v in _retrieval_scores(model, held_out, passages).items()})
    args = SentenceTransformerTrainingArguments(
        output_dir=str(output / ".checkpoints"), num_train_epochs=config.epochs, learning_rate=config.learning_rate,
        per_device_train_batch_size=config.batch_size, warmup_steps=config.warmup_ratio, seed=config.seed,
        data_seed=config.seed, batch_sampler=BatchSamplers.NO_DUPLICATES, save_strategy="no", logging_steps=10,
        report_to=[], disable_tqdm=not progress, use_cpu=not torch.cuda.is_available(),
    )
    dataset = Dataset.from_dict({"anchor": [p.query for p in train], "positive": [p.positive for p in train]})
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=dataset,
                                         loss=MultipleNegativesRankingLoss(model))
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    if held_out:
        metrics.update(_retrieval_scores(model, held_out, passages))
    model.save_pretrained(str(output / "model"))
    import shutil

    shutil.rmtree(output / ".checkpoints", ignore_errors=True)
    return EmbedderResult(metrics, len(train), len(held_out), seconds)
