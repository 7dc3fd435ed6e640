"""Fine-tuning use cases as Python functions: train, register with lineage, serve, re-index.
The CLI (and the server) only call these."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ragtune.errors import RegistryError, TrainingError
from ragtune.tune.classifier import ClassifierResult, Prediction
from ragtune.tune.classifier_config import ClassifierTuneConfig
from ragtune.tune.embedder_config import EmbedderTuneConfig
from ragtune.tune.embedder_pairs import Pair, split_pairs
from ragtune.tune.lora import LoraResult
from ragtune.tune.lora_config import LoraTuneConfig
from ragtune.tune.prepare import SPLITS, PreparedData
from ragtune.tune.registry import ModelRegistry, ModelVersion
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
    from ragtune.ingest.api import ingest

    entry = registry(workspace).get(ref)
    if entry.kind != "embedder":
        raise RegistryError(f"{entry.ref} is a {entry.kind}, not an embedder")
    config = workspace.load_config()
    config = config.model_copy(update={"embedder": config.embedder.model_copy(update={"model": str(entry.artifact("model"))})})
    building = replace(workspace, index_name="index.rebuilding")
    shutil.rmtree(building.index_dir, ignore_errors=True)
    report = ingest(building, list(paths), config=config, groups=groups, users=users, on_embedded=on_embedded)
    if report.has_failures and not any(s.status in ("ok", "partial") for s in report.sources):
        shutil.rmtree(building.index_dir, ignore_errors=True)
        raise TrainingError("re-indexing failed for every source; the index and ragtune.toml are unchanged")
    retired = workspace.root / "index.replaced"
    shutil.rmtree(retired, ignore_errors=True)
    if workspace.index_dir.exists():
        os.rename(workspace.index_dir, retired)
    os.rename(building.index_dir, workspace.index_dir)
    write_settings(workspace.config_path, {"embedder.model": entry.ref})
    shutil.rmtree(retired, ignore_errors=True)
    return report
