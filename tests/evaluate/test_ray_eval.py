"""`eval retrieval|qa --ray`: the questions spread over a real two-node Ray cluster give the rows
and summary of a local run (timings aside), each question still asked as its own principal."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragtune.evaluate.api import run_qa_eval, run_retrieval_eval
from ragtune.evaluate.data import from_evalset
from ragtune.evaluate.ray_map import shards_of
from ragtune.evaluate.variants import Variant, mode_variants
from ragtune.ingest.api import ingest
from ragtune.workspace import Workspace
from tests.ray_fixtures import ray_cluster  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _comparable(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in ("timings_ms", "cost_usd")} for row in rows]


def _summary(run) -> dict:  # type: ignore[no-untyped-def]
    return {variant: {k: v for k, v in scores.items() if "latency" not in k and "cost" not in k and "ms" not in k}
            for variant, scores in run.summary.items()}


@pytest.fixture
def sample(tmp_path, config) -> Workspace:  # type: ignore[no-untyped-def]
    workspace = Workspace(tmp_path / "ws")
    ingest(workspace, [EXAMPLES / "sample_corpus"], config=config, groups=["staff"])
    return workspace


def test_shards_are_contiguous_and_cover_every_item_once() -> None:
    items = list(range(10))
    assert shards_of(items, 3) == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]  # type: ignore[arg-type]
    assert shards_of(items[:2], 8) == [[0], [1]]  # type: ignore[arg-type]


def test_retrieval_and_extractive_qa_on_ray_equal_a_local_run(sample, config, ray_cluster) -> None:
    data = from_evalset(EXAMPLES / "sample_eval.jsonl")
    assert len({item.principal for item in data.items}) > 1  # questions asked as different principals
    variants = mode_variants(["bm25", "hybrid"])
    local = run_retrieval_eval(sample, data, variants, config=config, save=False)
    remote = run_retrieval_eval(sample, data, variants, config=config, save=False, ray_address=ray_cluster.address)
    assert _comparable(remote.rows) == _comparable(local.rows) and len(remote.rows) == 2 * len(data.items)
    assert _summary(remote) == _summary(local)

    extract = [Variant("extract", {"answer.mode": "extract"})]
    local = run_qa_eval(sample, data, extract, config=config, save=False)
    remote = run_qa_eval(sample, data, extract, config=config, save=False, ray_address=ray_cluster.address)
    assert _comparable(remote.rows) == _comparable(local.rows)
    assert any(row["expects_refusal"] for row in remote.rows) and any(row["answer"] for row in remote.rows)
    assert _summary(remote) == _summary(local)
