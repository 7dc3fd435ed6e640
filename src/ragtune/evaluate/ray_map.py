"""An evaluation's questions spread over a Ray cluster (``ragtune eval … --ray ADDRESS``).

The questions are cut into contiguous shards, one Ray task each (``num_cpus=1``); a task opens
the retriever or assistant of the variant on its node, evaluates its shard exactly as a local run
does (each question as its own principal), and returns the rows. The rows come back in question
order, so a run's rows and summary equal a local run's, timings aside. Workers open the same
index: PostgreSQL through the URL resolved on the driver, SQLite through the same path (a shared
volume, or one machine).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ragtune.config import RagtuneConfig
from ragtune.evaluate.data import Track, no_track
from ragtune.evaluate.items import EvalItem
from ragtune.evaluate.retrieval_metrics import Metric
from ragtune.types import Principal
from ragtune.workspace import Workspace

Rows = list[dict[str, Any]]
ShardRunner = Callable[[list[EvalItem]], Rows]


def shards_of(items: Sequence[EvalItem], count: int) -> list[list[EvalItem]]:
    """``count`` contiguous, near-equal shards (fewer when there are fewer items)."""
    count = max(1, min(count, len(items)))
    size, extra = divmod(len(items), count)
    out, start = [], 0
    for n in range(count):
        end = start + size + (1 if n < extra else 0)
        out.append(list(items[start:end]))
        start = end
    return [shard for shard in out if shard]


def _run_shard(run_shard: ShardRunner, shard: list[EvalItem]) -> Rows:
    return run_shard(shard)


def map_questions(ray: Any, items: Sequence[EvalItem], run_shard: ShardRunner, *, track: Track = no_track,
                  label: str = "questions") -> Rows:
    """Rows of every item, in item order, computed by ``run_shard`` on the cluster's CPUs."""
    shards = shards_of(items, int(ray.cluster_resources().get("CPU", 1)))
    task = ray.remote(num_cpus=1)(_run_shard)
    refs = [task.remote(run_shard, shard) for shard in shards]
    results: dict[int, Rows] = {}

    def completed() -> Iterator[int]:
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                index = refs.index(ref)
                results[index] = ray.get(ref)
                yield index

    for _ in track(completed(), f"{label} (on Ray, {len(shards)} shards)", len(shards)):
        pass
    return [row for index in range(len(shards)) for row in results[index]]


def worker_config(config: RagtuneConfig) -> dict[str, Any]:
    from ragtune.ingest.ray_executor import config_for_workers

    return config_for_workers(config)


# -- what runs on the workers -------------------------------------------------------------------
def retrieval_shard(target: str, config: dict[str, Any], variant: str, metrics: Sequence[Metric],
                    principal: Principal, shard: list[EvalItem]) -> Rows:
    from ragtune.evaluate.retrieval_eval import evaluate_retrieval
    from ragtune.generate.expand import attach_expander
    from ragtune.retrieve.api import open_retriever

    settings = RagtuneConfig.model_validate(config)
    retriever = attach_expander(open_retriever(Workspace(Path(target)), settings), settings.llm)
    try:
        return evaluate_retrieval(retriever, shard, variant, settings, metrics, principal)
    finally:
        retriever.close()


def behaviour_on_worker(behaviour: tuple[Any, ...] | None) -> Any:
    """The behaviour suite from the arguments of ``open_behaviour`` (settings, root, all items,
    items root, embedder settings): built again on the worker rather than shipped with its models."""
    if behaviour is None:
        return None
    from ragtune.evaluate.behaviour.suite import open_behaviour

    settings, root, items, items_root, embedder = behaviour
    return open_behaviour(settings, root, items, items_root=items_root, embedder_config=embedder)


def qa_shard(target: str, config: dict[str, Any], variant: str, principal: Principal, judge_repeats: int,
             behaviour: tuple[Any, ...] | None, shard: list[EvalItem]) -> Rows:
    from ragtune.evaluate.api import answer_rows

    settings = RagtuneConfig.model_validate(config)
    return answer_rows(Workspace(Path(target)), variant, settings, shard, principal, judge_repeats,
                       behaviour=behaviour_on_worker(behaviour))
