"""Per-corpus retrieval tuning: search fusion, chunk size, rerank depth and the ``SEARCHABLE``
settings asked for (query expansion) on a dev split, report the winner's score on held-out
queries, and write it to ragtune.toml.

Fusion helps on some corpora and hurts on others (on SciFact, BM25 alone beats every hybrid
setting with the bundled MiniLM), so the choice is measured, not assumed.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ragtune.config import RagtuneConfig
from ragtune.evaluate.api import DEFAULT_PRINCIPAL, run_retrieval_eval
from ragtune.evaluate.data import EvalData, Track, no_track
from ragtune.evaluate.runs import EvalRun
from ragtune.evaluate.variants import Variant, variant_name
from ragtune.retrieve.expansion import changes_nothing
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


SEARCHABLE: dict[str, tuple[Any, ...]] = {
    # A setting `--search KEY` adds to the search, with the values it tries (the first is the
    # simplest: ties go to it). One line here makes another setting searchable.
    "retrieval.expand": ("off", "hyde", "multi"),  # each question expanded once by [llm], cached
    # Index-side: each value is its own index of the corpus (as chunk sizes are), so only with --beir.
    "chunking.context_header": (False, True),
}


def searched_settings(requests: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """``--search`` values as settings and the values to try: ``retrieval.expand`` tries every
    value ``SEARCHABLE`` lists, ``retrieval.expand=off,hyde`` only those."""
    from ragtune.errors import ConfigError

    chosen: dict[str, tuple[Any, ...]] = {}
    for request in requests:
        key, _, listed = request.partition("=")
        key = key.strip()
        if key not in SEARCHABLE:
            raise ConfigError(f"--search {key}: not a searchable setting; searchable: {', '.join(SEARCHABLE)}")
        allowed = SEARCHABLE[key]
        if not listed.strip():
            chosen[key] = allowed
            continue
        values = []
        for given in (v.strip() for v in listed.split(",") if v.strip()):
            match = [v for v in allowed if str(v).lower() == given.lower()]
            if not match:
                raise ConfigError(f"--search {key}: '{given}' is not one of {', '.join(map(str, allowed))}")
            values.append(match[0])
        chosen[key] = tuple(dict.fromkeys(values))
    return chosen


def _no_op(overrides: Mapping[str, Any]) -> bool:
    """A combination that is another one under a longer name (``changes_nothing``)."""
    return changes_nothing(str(overrides.get("retrieval.expand")), str(overrides.get("retrieval.mode")))


def search_space(config: RagtuneConfig, chunk_sizes: Sequence[int] = (), rerank_depths: Sequence[int] = (),
                 settings: Mapping[str, Sequence[Any]] | None = None) -> list[Variant]:
    """Fusion settings x chunk sizes x rerank depths (the last only with a rerank model) x each
    of ``settings`` (a ``SEARCHABLE`` key and its values: ``searched_settings``)."""
    sizes = list(chunk_sizes) or [None]
    depths = list(rerank_depths) if config.retrieval.rerank_model else []
    extra = list((settings or {}).items())
    variants = []
    for size in sizes:
        for fusion in FUSIONS:
            for depth in depths or [None]:
                for combo in itertools.product(*(values for _, values in extra)):
                    overrides = dict(fusion)
                    if size is not None:
                        overrides["chunking.chunk_tokens"] = size
                    if depth is not None:
                        overrides["retrieval.rerank_top_n"] = depth
                    overrides.update(zip((key for key, _ in extra), combo))
                    if not _no_op(overrides):
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
    settings: Mapping[str, Sequence[Any]] | None = None,
    principal: Principal = DEFAULT_PRINCIPAL,
    track: Track = no_track,
    on_embedded: Callable[[int], None] | None = None,
) -> TuningResult:
    """``settings``: more settings to search (``searched_settings``), e.g. ``retrieval.expand``."""
    config = config or workspace.load_config()
    variants = search_space(config, chunk_sizes, rerank_depths, settings)
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
