"""Fine-tuning use cases as Python functions: train, register with lineage, serve, re-index.
The CLI (and the server) only call these."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ragtune.errors import LoadError, RegistryError, TrainingError
from ragtune.tune.classifier import ClassifierResult, Prediction
from ragtune.tune.classifier_config import ClassifierTuneConfig
from ragtune.tune.embedder_config import EmbedderTuneConfig
from ragtune.tune.embedder_pairs import Pair, split_pairs
from ragtune.tune.lora import LoraResult
from ragtune.tune.lora_config import LoraTuneConfig
from ragtune.tune.prepare import SPLITS, PreparedData
from ragtune.tune.reader import ReaderData, ReaderResult
from ragtune.tune.reader_config import ReaderTuneConfig
from ragtune.registry.store import ModelRegistry, ModelVersion
from ragtune.workspace import Workspace


def registry(workspace: Workspace) -> ModelRegistry:
    return ModelRegistry(workspace.models_dir)


def data_lineage(data: PreparedData) -> dict[str, Any]:
    return {"path": data.source, "sha256": data.content_hash, "kind": data.kind,
            "rows": {name: len(data.splits[name]) for name in SPLITS}}


def tune_lora(workspace: Workspace, data: PreparedData, name: str, config: LoraTuneConfig, *,
              resume: bool = True, progress: bool = True) -> tuple[ModelVersion, LoraResult]:
    from ragtune.tune.lora import train_lora

    models = registry(workspace)
    checkpoints = models.root / name / ".checkpoints"
    with models.staging(name) as staging:
        started = time.perf_counter()
        result = train_lora(data, config, staging, checkpoints, resume=resume, progress=progress)
        entry = models.register(
            staging, name=name, kind="llm", base_model=config.base, data=data_lineage(data),
            hyperparameters=config.hyperparameters(), metrics=result.metrics,
            training_seconds=time.perf_counter() - started, artifacts=result.artifacts,
            extra={"device": result.device, "precision": result.precision, "steps": result.steps,
                   "train_loss": result.losses, "validation_loss": result.eval_losses,
                   "base_folder": str(result.base.folder)},
        )
    return entry, result


def tune_classifier(workspace: Workspace, data: PreparedData, name: str, config: ClassifierTuneConfig, *,
                    progress: bool = True) -> tuple[ModelVersion, ClassifierResult]:
    from ragtune.tune.classifier import train_classifier

    models = registry(workspace)
    with models.staging(name) as staging:
        (staging / "model").mkdir()
        result = train_classifier(data, config, staging / "model", progress=progress)
        (staging / "confusion.json").write_text(json.dumps({"labels": result.labels, "matrix": result.confusion}),
                                                encoding="utf-8")
        entry = models.register(
            staging, name=name, kind="classifier", base_model=config.base, data=data_lineage(data),
            hyperparameters={**config.model_dump(exclude={"baseline"}), "method": result.method},
            metrics=result.metrics, training_seconds=result.train_seconds,
            artifacts={"model": "model", "confusion": "confusion.json"},
            extra={"labels": result.labels, "train_rows": result.train_rows},
        )
    return entry, result


def tune_embedder(workspace: Workspace, pairs: Sequence[Pair], name: str, config: EmbedderTuneConfig, *,
                  source: dict[str, Any], progress: bool = True) -> ModelVersion:
    import hashlib

    from ragtune.tune.embedder import train_embedder

    train, held_out = split_pairs(pairs, config.held_out, config.seed)
    digest = hashlib.sha256()
    for pair in pairs:
        digest.update(json.dumps([pair.group, pair.query, pair.positive], ensure_ascii=False).encode() + b"\n")
    models = registry(workspace)
    with models.staging(name) as staging:
        result = train_embedder(train, held_out, config, staging, progress=progress)
        return models.register(
            staging, name=name, kind="embedder", base_model=config.base,
            data={**source, "sha256": digest.hexdigest(), "kind": "pairs",
                  "rows": {"train": result.train_pairs, "test": result.held_out_pairs}},
            hyperparameters=config.model_dump(), metrics=result.metrics, training_seconds=result.train_seconds,
            artifacts={"model": "model"},
        )


def reader_data(workspace: Workspace, config: ReaderTuneConfig, *, squad: Path | None = None,
                evalset: Path | None = None, corpus: Sequence[Path] = (), beir: Path | None = None,
                beir_split: str = "train") -> ReaderData:
    """The reader's examples from exactly one source: a SQuAD file, an eval set (with its
    documents from ``corpus``, or else from the workspace index as each question's principal), or a
    BEIR folder's ``beir_split`` qrels."""
    from ragtune.tune import reader

    if sum(x is not None for x in (squad, evalset, beir)) != 1:
        raise TrainingError("give exactly one source of training data: --squad, --evalset or --beir")
    if corpus and evalset is None:
        raise TrainingError("--corpus goes with --evalset: the documents its relevant_doc_ids name")
    if squad is not None:
        return reader.squad_data(squad, config)
    if beir is not None:
        return reader.beir_data(beir, beir_split, config)
    assert evalset is not None
    if not evalset.is_file():
        raise LoadError(f"{evalset}: no such file (an eval set: JSONL with question, answers, relevant_doc_ids)")
    if corpus:
        lookup, problems = reader.corpus_lookup(list(corpus), workspace.load_config().ingest)
        data = reader.evalset_data(evalset, lookup, config, corpus=", ".join(str(p) for p in corpus))
        data.skipped[:0] = [f"unreadable {p}" for p in problems]
        return data
    from ragtune.errors import RagtuneError
    from ragtune.index.factory import build_store, index_exists
    from ragtune.types import Principal

    if not index_exists(workspace, workspace.load_config()):
        raise RagtuneError(f"no index in workspace {workspace.root}: give --corpus DIR, or run 'ragtune ingest PATH' first")
    store = build_store(workspace, workspace.load_config(), None)
    try:
        return reader.evalset_data(evalset, reader.index_lookup(store, Principal("eval")), config)
    finally:
        store.close()


def tune_reader(workspace: Workspace, data: ReaderData, name: str, config: ReaderTuneConfig, *,
                progress: bool = True) -> tuple[ModelVersion, ReaderResult]:
    """Train a cross-encoder reader and register it (kind ``reader``, artifact ``model``)."""
    from ragtune.tune.reader import split_examples, train_reader

    if not data.examples:
        reasons = f" ({data.skipped[0]}{' …' if len(data.skipped) > 1 else ''})" if data.skipped else ""
        raise TrainingError(f"{data.source.get('path', 'the data')}: no usable training question{reasons}")
    train, validation = split_examples(data.examples, config.validation, config.seed)
    models = registry(workspace)
    with models.staging(name) as staging:
        result = train_reader(train, validation, config, staging, progress=progress)
        entry = models.register(
            staging, name=name, kind="reader", base_model=config.base,
            data={**data.source, "sha256": data.content_hash(), "kind": "reader",
                  "rows": {"train": result.train_questions, "validation": result.validation_questions},
                  "skipped": len(data.skipped)},
            hyperparameters=config.model_dump(), metrics=result.metrics, training_seconds=result.train_seconds,
            artifacts={"model": "model"},
            extra={"train_pairs": result.train_pairs, "steps": result.steps, "train_loss": result.losses,
                   "device": result.device,
                   "baseline": f"cosine of {config.base} bi-encoder embeddings (the *_base scores)"},
        )
    return entry, result


def load_classifier_ref(workspace: Workspace, ref: str):  # type: ignore[no-untyped-def]
    from ragtune.tune.classifier import load_classifier

    entry = registry(workspace).get(ref)
    if entry.kind != "classifier":
        raise RegistryError(f"{entry.ref} is a {entry.kind}, not a classifier")
    return entry, load_classifier(entry.artifact("model"))  # type: ignore[arg-type]


def classify(workspace: Workspace, ref: str, texts: Sequence[str]) -> tuple[ModelVersion, list[Prediction]]:
    entry, classifier = load_classifier_ref(workspace, ref)
    return entry, classifier.predict(texts)


def reindex(workspace: Workspace, ref: str, paths: Iterable[Path], *, groups: Iterable[str] = (),
            users: Iterable[str] = (), on_embedded: Any = None) -> Any:
    """Rebuild the workspace index with the embedder ``ref``, then point ragtune.toml at it.

    The new index is built beside the old one and swapped in only when complete, so searches keep
    working (on the old vectors) until then and a failed rebuild changes nothing.
    """
    from ragtune.evaluate.tuning import write_settings
    from ragtune.index.rebuild import rebuilding
    from ragtune.ingest.api import ingest

    entry = registry(workspace).get(ref)
    if entry.kind != "embedder":
        raise RegistryError(f"{entry.ref} is a {entry.kind}, not an embedder")
    config = workspace.load_config()
    config = config.model_copy(update={"embedder": config.embedder.model_copy(update={"model": str(entry.artifact("model"))})})
    with rebuilding(workspace, config) as (building, building_config):
        report = ingest(building, list(paths), config=building_config, groups=groups, users=users,
                        on_embedded=on_embedded)
        if report.has_failures and not any(s.status in ("ok", "partial") for s in report.sources):
            raise TrainingError("re-indexing failed for every source; the index and ragtune.toml are unchanged")
    write_settings(workspace.config_path, {"embedder.model": entry.ref})
    return report
