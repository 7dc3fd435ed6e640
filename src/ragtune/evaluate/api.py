"""Evaluation use cases as Python functions; the CLI calls these.

A run evaluates one data set under one or more variants (configuration overrides) and is saved
under the workspace so it can be reported on and diffed later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from ragtune.config import RagtuneConfig
from ragtune.evaluate.behaviour.suite import behaviour_settings, open_behaviour
from ragtune.evaluate.data import EvalData, Track, index_key, no_track
from ragtune.evaluate.items import EvalItem
from ragtune.evaluate.judge import LLMJudge
from ragtune.evaluate.qa_eval import evaluate_answers
from ragtune.evaluate.retrieval_eval import evaluate_retrieval
from ragtune.evaluate.retrieval_metrics import DEFAULT_METRICS, Metric, parse_metric
from ragtune.evaluate.runs import EvalRun, RunStore
from ragtune.evaluate.summary import summarise
from ragtune.evaluate.variants import Variant, apply_overrides
from ragtune.types import Principal
from ragtune.workspace import Workspace

DEFAULT_PRINCIPAL = Principal("eval")


def _variant_configs(data: EvalData, base: RagtuneConfig, variants: Sequence[Variant]) -> list[tuple[Variant, RagtuneConfig]]:
    configs = []
    for variant in variants:
        config = apply_overrides(base, variant.overrides)
        if data.configure:
            data.configure(config)
        configs.append((variant, config))
    return configs


def _grouped_by_index(configs: list[tuple[Variant, RagtuneConfig]]) -> dict[str, list[tuple[Variant, RagtuneConfig]]]:
    groups: dict[str, list[tuple[Variant, RagtuneConfig]]] = {}
    for variant, config in configs:
        groups.setdefault(index_key(config), []).append((variant, config))
    return groups


def _record(variant: Variant, config: RagtuneConfig, sections: Sequence[str]) -> dict[str, Any]:
    effective = {s: getattr(config, s).model_dump(mode="json", by_alias=True) for s in sections}
    return {"overrides": dict(variant.overrides), **effective}


def _check_index_overrides(data: EvalData, configs: list[tuple[Variant, RagtuneConfig]], workspace: Workspace) -> None:
    if not data.corpus and len(_grouped_by_index(configs)) > 1:
        from ragtune.errors import ConfigError

        raise ConfigError(
            f"{data.info['path']}: an eval set without its own corpus runs on the index of {workspace.root}; "
            "chunking, embedder, ingest and index settings cannot vary across its variants"
        )


def run_retrieval_eval(
    workspace: Workspace,
    data: EvalData,
    variants: Sequence[Variant],
    *,
    config: RagtuneConfig | None = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    principal: Principal = DEFAULT_PRINCIPAL,
    track: Track = no_track,
    on_embedded: Callable[[int], None] | None = None,
    save: bool = True,
    ray_address: str | None = None,
) -> EvalRun:
    """``ray_address``: spread the questions over that Ray cluster (``evaluate/ray_map.py``)."""
    parsed = [parse_metric(m) for m in metrics]
    configs = _variant_configs(data, config or workspace.load_config(), variants)
    _check_index_overrides(data, configs, workspace)
    run = EvalRun("retrieval", dict(data.info), {}, [])
    with _cluster(ray_address) as ray:
        for group in _grouped_by_index(configs).values():
            target = data.prepare(workspace, group[0][1], on_embedded)
            for variant, variant_config, rows in _retrieval_rows(target, group, data, parsed, principal, track, ray):
                run.rows.extend(rows)
                run.variants[variant.name] = _record(variant, variant_config, ("chunking", "embedder", "retrieval"))
                run.summary[variant.name] = summarise(rows)
    if save:
        RunStore(workspace).save(run)
    return run


@contextmanager
def _cluster(address: str | None) -> Iterator[Any]:
    """The connected ``ray`` module for the block, or None for a local run."""
    if address is None:
        yield None
        return
    from ragtune.ray_cluster import connected

    with connected(address) as ray:
        yield ray


def _retrieval_rows(target: Workspace, group: list[tuple[Variant, RagtuneConfig]], data: EvalData,
                    metrics: Sequence[Metric], principal: Principal, track: Track,
                    ray: Any) -> Iterator[tuple[Variant, RagtuneConfig, list[dict[str, Any]]]]:
    if ray is not None:
        from ragtune.evaluate.ray_map import map_questions, retrieval_shard, worker_config

        for variant, variant_config in group:
            shard = partial(retrieval_shard, str(target.root), worker_config(variant_config), variant.name, metrics,
                            principal)
            yield variant, variant_config, map_questions(ray, data.items, shard, track=track,
                                                         label=f"retrieval {variant.name}")
        return
    from ragtune.retrieve.api import open_retriever

    first = group[0][1]
    rerankers: dict[str, Any] = {}
    expanders: dict[str, Any] = {}
    retriever = open_retriever(target, first)
    if retriever.reranker is not None:  # open_retriever loaded the first variant's model already
        rerankers.setdefault(first.retrieval.rerank_model, retriever.reranker)  # type: ignore[arg-type]
    try:
        for variant, variant_config in group:
            retriever.config = variant_config.retrieval
            retriever.reranker = _reranker(variant_config, rerankers)
            retriever.expander = _expander(variant_config, expanders)
            yield variant, variant_config, evaluate_retrieval(retriever, data.items, variant.name, variant_config,
                                                              metrics, principal, track=track)
    finally:
        retriever.expander = None
        try:
            retriever.close()
        finally:
            for expander in expanders.values():
                expander.close()


def _expander(config: RagtuneConfig, loaded: dict[str, Any]) -> Any:
    """The variant's query expander (``[retrieval] expand``): one per language-model setting, its
    model loaded at the first question expanded and its cache shared by every variant, so
    comparing fusion settings under expansion calls the model once per question."""
    if config.retrieval.expand == "off":
        return None
    from ragtune.generate.expand import LLMQueryExpander

    key = config.llm.model_dump_json()
    if key not in loaded:
        loaded[key] = LLMQueryExpander.from_config(config.llm)
    return loaded[key]


def _reranker(config: RagtuneConfig, loaded: dict[str, Any]) -> Any:
    """The variant's cross-encoder, loaded once per run however many variants use it."""
    model = config.retrieval.rerank_model
    if not model:
        return None
    if model not in loaded:
        from ragtune.retrieve.rerank import CrossEncoderReranker

        loaded[model] = CrossEncoderReranker(model)
    return loaded[model]


def run_qa_eval(
    workspace: Workspace,
    data: EvalData,
    variants: Sequence[Variant],
    *,
    config: RagtuneConfig | None = None,
    principal: Principal = DEFAULT_PRINCIPAL,
    judge_repeats: int = 0,
    track: Track = no_track,
    on_embedded: Callable[[int], None] | None = None,
    save: bool = True,
    behaviour_file: Path | None = None,
    ray_address: str | None = None,
) -> EvalRun:
    """``behaviour_file``: behaviour settings (``--behaviour``) instead of the workspace's
    ``[eval.behaviour]``; ``ray_address``: spread the questions over that Ray cluster."""
    base = config or workspace.load_config()
    configs = _variant_configs(data, base, variants)
    _check_index_overrides(data, configs, workspace)
    run = EvalRun("qa", dict(data.info), {}, [])
    settings, root = behaviour_settings(base, workspace.root, behaviour_file)
    items_root = Path(data.info["path"]).parent if data.info.get("path") else None
    behaviour = open_behaviour(settings, root, data.items, items_root=items_root, embedder_config=base.embedder)
    if behaviour is not None:
        run.dataset["behaviour"] = behaviour.info
    behaviour_args = (settings, root, data.items, items_root, base.embedder) if behaviour is not None else None
    with _cluster(ray_address) as ray:
        for group in _grouped_by_index(configs).values():
            target = data.prepare(workspace, group[0][1], on_embedded)
            for variant, variant_config in group:
                if ray is not None:
                    from ragtune.evaluate.ray_map import map_questions, qa_shard, worker_config

                    shard = partial(qa_shard, str(target.root), worker_config(variant_config), variant.name, principal,
                                    judge_repeats, behaviour_args)
                    rows = map_questions(ray, data.items, shard, track=track, label=f"answers {variant.name}")
                else:
                    rows = answer_rows(target, variant.name, variant_config, data.items, principal, judge_repeats, track,
                                       behaviour)
                run.rows.extend(rows)
                run.variants[variant.name] = _record(variant, variant_config, ("chunking", "retrieval", "llm", "answer"))
                run.summary[variant.name] = summarise(rows)
    if save:
        RunStore(workspace).save(run)
    return run


def answer_rows(target: Workspace, variant: str, config: RagtuneConfig, items: Sequence[EvalItem], principal: Principal,
                judge_repeats: int, track: Track = no_track, behaviour: Any = None) -> list[dict[str, Any]]:
    """One variant's answers to ``items``: here, or on a Ray worker (``ray_map.qa_shard``)."""
    from ragtune.generate.api import close_assistant, open_assistant

    # The judge needs the language model even where the answers are extracted without one.
    assistant = open_assistant(target, config, with_llm=True if judge_repeats else None)
    try:
        judge = LLMJudge(assistant.llm, judge_repeats, seed=config.llm.seed) if judge_repeats else None
        return evaluate_answers(assistant, items, variant, config, principal, judge=judge, track=track,
                                behaviour=behaviour)
    finally:
        close_assistant(assistant)
