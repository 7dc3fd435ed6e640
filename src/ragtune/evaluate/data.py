"""An evaluation data set ready to run: its questions, and the corpus (if any) to index for it.

BEIR and SQuAD sets bring their own corpus, indexed into a cached workspace under
``<workspace>/evals/index/`` (one per index-shaping configuration, updated incrementally); a
user's eval set runs against the workspace's own index.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ragtune.config import RagtuneConfig
from ragtune.evaluate.beir import load_beir
from ragtune.evaluate.evalset import load_evalset
from ragtune.evaluate.items import EvalItem
from ragtune.evaluate.runs import file_hash
from ragtune.evaluate.squad import SquadSet, load_squad
from ragtune.workspace import Workspace

T = TypeVar("T")
Track = Callable[[Iterable[T], str, int], Iterable[T]]
"""Wraps a loop to show progress: ``track(items, description, total)``."""


def no_track(items: Iterable[T], description: str, total: int) -> Iterable[T]:
    return items


INDEX_SECTIONS = ("ingest", "chunking", "embedder", "index")
"""Configuration sections that shape the index: a change in them needs its own index."""


def index_key(config: RagtuneConfig) -> str:
    shape = {s: getattr(config, s).model_dump(mode="json", by_alias=True) for s in INDEX_SECTIONS}
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:10]


@dataclass(slots=True)
class EvalData:
    name: str
    items: list[EvalItem]
    info: dict[str, Any]
    """Recorded with each run: path, sha256, split, limit, counts."""
    corpus: list[Path] = field(default_factory=list)
    """Files or folders to index for this set; empty: use the workspace's own index."""
    configure: Callable[[RagtuneConfig], None] | None = None
    """Adjusts the configuration to read the corpus (e.g. BEIR's JSONL id field)."""
    errors: list[str] = field(default_factory=list)

    def prepare(self, workspace: Workspace, config: RagtuneConfig, on_embedded: Callable[[int], None] | None = None) -> Workspace:
        """The workspace to search: the user's own, or this set's corpus indexed with ``config``."""
        if not self.corpus:
            return workspace
        from ragtune.ingest.api import ingest

        target = Workspace(workspace.scratch_dir("index", f"{self.name}-{index_key(config)}"))
        ingest(target, self.corpus, config=config, sync=True, on_embedded=on_embedded)
        return target


def _limited(items: list[EvalItem], limit: int | None, seed: int) -> list[EvalItem]:
    if not limit or limit >= len(items):
        return items
    import random

    chosen = set(random.Random(seed).sample(range(len(items)), limit))
    return [item for i, item in enumerate(items) if i in chosen]  # keep the file's order


def from_beir(root: Path, split: str = "test", limit: int | None = None, seed: int = 0) -> EvalData:
    data = load_beir(root, split)

    def configure(config: RagtuneConfig) -> None:
        config.ingest.json_records = data.json_config()

    items = _limited(list(data.items), limit, seed)
    info = {
        "layout": "beir", "path": str(root.resolve()), "split": split, "limit": limit, "seed": seed,
        "sha256": file_hash(root / "qrels" / f"{split}.tsv"), "corpus_sha256": file_hash(data.corpus),
        "items": len(items), "skipped_queries": data.skipped,
    }
    return EvalData(data.name, items, info, [data.corpus], configure)


def squad_corpus(squad: SquadSet, path: Path, digest: str, workspace: Workspace) -> Path:
    """The contexts of the SQuAD file ``path`` (content hash ``digest``) written as documents,
    one folder per file content, under the workspace."""
    return squad.write_contexts(workspace.scratch_dir("corpora", f"{path.stem}-{digest[:10]}"))


def from_squad(path: Path, workspace: Workspace, limit: int | None = None, seed: int = 0) -> EvalData:
    data = load_squad(path)
    digest = file_hash(path)
    corpus = squad_corpus(data, path, digest, workspace)
    items = data.items(limit, seed)
    info = {"layout": "squad", "path": str(path.resolve()), "limit": limit, "seed": seed, "sha256": digest, "items": len(items)}
    return EvalData(path.stem, items, info, [corpus])


def from_evalset(path: Path, limit: int | None = None, seed: int = 0) -> EvalData:
    data = load_evalset(path)
    items = _limited(list(data.items), limit, seed)
    info = {
        "layout": "jsonl", "path": str(path.resolve()), "limit": limit, "seed": seed, "sha256": file_hash(path),
        "items": len(items), "malformed_lines": len(data.errors),
    }
    return EvalData(path.stem, items, info, errors=list(data.errors))
