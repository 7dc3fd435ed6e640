"""Per-corpus retrieval tuning: search fusion, chunk size and rerank depth on a dev split, report
the winner's score on held-out queries, and write it to ragtune.toml.

Fusion helps on some corpora and hurts on others (on SciFact, BM25 alone beats every hybrid
setting with the bundled MiniLM), so the choice is measured, not assumed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ragtune.config import RagtuneConfig
from ragtune.evaluate.api import DEFAULT_PRINCIPAL, run_retrieval_eval
from ragtune.evaluate.data import EvalData, Track, no_track
from ragtune.evaluate.runs import EvalRun
from ragtune.evaluate.variants import Variant, variant_name
from ragtune.types import Principal
from ragtune.workspace import Workspace

FUSIONS: tuple[dict[str, Any], ...] = (
    {"retrieval.mode": "bm25"},
    {"retrieval.mode": "dense"},
    {"retrieval.mode": "hybrid", "retrieval.fusion": "rrf", "retrieval.rrf_k": 10},
    {"retrieval.mode": "hybrid", "retrieval.fusion": "rrf", "retrieval.rrf_k": 60},
    *(
        {"retrieval.mode": "hybrid", "retrieval.fusion": "weighted",
         "retrieval.dense_weight": w, "retrieval.bm25_weight": round(1 - w, 2)}
        for w in (0.3, 0.5, 0.7)
    ),
)


def search_space(config: RagtuneConfig, chunk_sizes: Sequence[int] = (), rerank_depths: Sequence[int] = ()) -> list[Variant]:
    """Fusion settings x chunk sizes x rerank depths (the last only with a rerank model)."""
    sizes = list(chunk_sizes) or [None]
    depths = list(rerank_depths) if config.retrieval.rerank_model else []
    variants = []
    for size in sizes:
        for fusion in FUSIONS:
            for depth in depths or [None]:
                overrides = dict(fusion)
                if size is not None:
                    overrides["chunking.chunk_tokens"] = size
                if depth is not None:
                    overrides["retrieval.rerank_top_n"] = depth
                variants.append(Variant(variant_name(overrides), overrides))
    return variants


def split_items(data: EvalData, dev_share: float = 0.5, seed: int = 0) -> tuple[EvalData, EvalData]:
    """Dev and held-out test sets drawn from one set's questions, reproducibly."""
    items = list(data.items)
    random.Random(seed).shuffle(items)
    cut = max(1, min(len(items) - 1, round(len(items) * dev_share)))
    dev, test = items[:cut], items[cut:]
    return (
        replace(data, items=dev, info={**data.info, "items": len(dev), "part": "dev"}),
        replace(data, items=test, info={**data.info, "items": len(test), "part": "test"}),
    )


@dataclass(slots=True)
class TuningResult:
    metric: str
    best: Variant
    dev_scores: dict[str, float]
    test_configured: float
    test_tuned: float
    dev_run: EvalRun
    test_run: EvalRun


def tune_retrieval(
    workspace: Workspace,
    dev: EvalData,
    test: EvalData,
    *,
    config: RagtuneConfig | None = None,
    metric: str = "ndcg@10",
    chunk_sizes: Sequence[int] = (),
    rerank_depths: Sequence[int] = (),
    principal: Principal = DEFAULT_PRINCIPAL,
    track: Track = no_track,
    on_embedded: Callable[[int], None] | None = None,
) -> TuningResult:
    config = config or workspace.load_config()
    variants = search_space(config, chunk_sizes, rerank_depths)
    common = {"config": config, "metrics": [metric], "principal": principal, "track": track, "on_embedded": on_embedded}
    dev_run = run_retrieval_eval(workspace, dev, variants, **common)  # type: ignore[arg-type]
    scores = {v.name: dev_run.summary[v.name]["metrics"][metric] or 0.0 for v in variants}
    best = max(variants, key=lambda v: scores[v.name])  # max keeps the first of equals: the simpler setting
    tuned = Variant("tuned: " + best.name, best.overrides)
    test_run = run_retrieval_eval(workspace, test, [Variant("configured"), tuned], **common)  # type: ignore[arg-type]
    return TuningResult(
        metric, best, scores,
        test_run.summary["configured"]["metrics"][metric] or 0.0,
        test_run.summary[tuned.name]["metrics"][metric] or 0.0,
        dev_run, test_run,
    )


def write_settings(config_path: Path, overrides: dict[str, Any]) -> None:
    """Set dotted keys in ragtune.toml, keeping its comments and everything else as written."""
    import tomlkit

    document = tomlkit.parse(config_path.read_text(encoding="utf-8")) if config_path.exists() else tomlkit.document()
    for key, value in overrides.items():
        section, name = key.split(".", 1)
        if section not in document:
            document[section] = tomlkit.table()
        document[section][name] = value  # type: ignore[index]
    RagtuneConfig.model_validate(document.unwrap())  # never write a file that would not load
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(tomlkit.dumps(document), encoding="utf-8")
