"""`compare --ray`: each arm's test questions answered on a real two-node Ray cluster give the
rows a local comparison gives (timings aside); indexing stays on the driver."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragtune.decide import compare_data
from ragtune.decide.arms import parse_arms
from ragtune.decide.compare import CompareOptions, run_compare
from ragtune.workspace import Workspace
from tests.ray_fixtures import ray_cluster  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_extract_arm_on_ray_equals_a_local_comparison(tmp_path, config, ray_cluster) -> None:
    data = compare_data.from_evalset(EXAMPLES / "sample_eval.jsonl", corpus=EXAMPLES / "sample_corpus")
    options = CompareOptions(arms=parse_arms(["extract"]), progress=False)
    workspace = Workspace(tmp_path / "ws")
    local = run_compare(workspace, data, options, config=config, save=False)
    remote = run_compare(workspace, data, options, config=config, save=False, ray_address=ray_cluster.address)
    strip = lambda rows: [{k: v for k, v in r.items() if k not in ("timings_ms", "cost_usd")} for r in rows]  # noqa: E731
    assert strip(remote.rows) == strip(local.rows) and len(remote.rows) == len(data.test)
    assert remote.summary["extract"]["metrics"] == local.summary["extract"]["metrics"]
    assert remote.summary["extract"]["metrics"]["answer_hit"] > 0.5
