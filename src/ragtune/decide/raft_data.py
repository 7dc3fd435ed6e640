"""``ragtune data raft``: RAFT examples from a SQuAD set (its contexts are the corpus, its gold
spans the quoted answers) or from an eval set over a corpus folder or the workspace's index."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ragtune.config import RagtuneConfig
from ragtune.evaluate.data import Track, index_key, no_track, squad_corpus
from ragtune.evaluate.evalset import load_evalset
from ragtune.evaluate.items import EvalItem
from ragtune.evaluate.runs import file_hash
from ragtune.evaluate.squad import load_squad
from ragtune.generate.base import LLM
from ragtune.tune.raft import RaftBuilder, RaftData
from ragtune.tune.raft_config import RaftConfig
from ragtune.types import Principal
from ragtune.workspace import Workspace


def _questions(workspace: Workspace, path: Path, limit: int | None, seed: int) -> tuple[list[EvalItem], Path | None]:
    """(items, the corpus they come with, if any)."""
    if path.suffix.lower() == ".json":
        squad = load_squad(path)
        corpus = squad_corpus(squad, path, file_hash(path), workspace)
        return squad.items(limit, seed), corpus
    import random

    items = list(load_evalset(path).items)
    if limit and limit < len(items):
        items = random.Random(seed).sample(items, limit)
    return items, None


def build_raft_data(workspace: Workspace, questions: Path, config: RaftConfig, *, corpus: Path | None = None,
                    limit: int | None = None, principal: Principal | None = None, track: Track = no_track,
                    on_embedded: Callable[[int], None] | None = None) -> RaftData:
    from ragtune.generate.factory import build_llm
    from ragtune.ingest.api import ingest

    principal = principal or Principal("eval")
    settings = workspace.load_config()
    items, own_corpus = _questions(workspace, questions, limit, config.seed)
    corpus = corpus or own_corpus
    target = workspace
    if corpus is not None:
        target = Workspace(workspace.scratch_dir("raft", f"{corpus.name}-{index_key(settings)}"))
        ingest(target, [corpus], config=settings, sync=True, on_embedded=on_embedded)
    llm = build_llm(settings.llm) if any(not i.answers for i in items) else None
    try:
        return raft_examples(target, settings, items, config, principal, track, llm)
    finally:
        if llm is not None:
            llm.close()


def raft_examples(target: Workspace, settings: RagtuneConfig, items: Sequence[EvalItem], config: RaftConfig,
                  principal: Principal, track: Track = no_track, llm: LLM | None = None) -> RaftData:
    """RAFT examples for ``items`` from the index of ``target``; ``llm`` answers the questions
    without gold answers (without one they are skipped)."""
    from ragtune.generate.expand import attach_expander
    from ragtune.retrieve.api import open_retriever

    retriever = attach_expander(open_retriever(target, settings), settings.llm, llm=llm)
    try:
        builder = RaftBuilder(retriever, config, not_found_text=settings.answer.not_found_text,
                              principal=principal, llm=llm)
        return builder.build(items, len(items), track)
    finally:
        retriever.close()
