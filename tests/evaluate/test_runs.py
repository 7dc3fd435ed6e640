from __future__ import annotations

from pathlib import Path

import pytest

from ragtune.errors import RagtuneError
from ragtune.evaluate.diff import diff_runs
from ragtune.evaluate.runs import EvalRun, RunStore
from ragtune.workspace import Workspace


def _run(kind: str, scores: list[float]) -> EvalRun:
    rows = [{"variant": "v", "query_id": f"q{i}", "metrics": {"f1": s}, "timings_ms": {"total": 10.0}}
            for i, s in enumerate(scores)]
    return EvalRun(kind, {"path": "x"}, {"v": {}}, rows, {"v": {"queries": len(rows)}})


def test_runs_saved_in_the_same_second_never_overwrite_each_other(tmp_path: Path) -> None:
    store = RunStore(Workspace(tmp_path))
    first, second = _run("qa", [0.1, 0.2]), _run("qa", [0.3, 0.4])
    store.save(first)
    store.save(second)
    assert first.id != second.id and store.ids() == [first.id, second.id]
    assert store.load("latest").rows == second.rows and store.load(first.id).rows == first.rows
    with pytest.raises(RagtuneError, match="'nope' is not a saved run"):
        store.load("nope")
    with pytest.raises(RagtuneError, match="matches several runs"):
        store.load("qa-")


def test_diff_pairs_queries_and_refuses_mismatched_kinds() -> None:
    a, b = _run("qa", [0.0, 0.5, 1.0]), _run("qa", [0.5, 0.5, 1.0])
    f1 = next(d for d in diff_runs(a, b) if d.metric == "f1")
    assert f1.result.n == 3 and f1.result.difference == pytest.approx(0.5 / 3)
    with pytest.raises(RagtuneError, match="cannot diff a qa run"):
        diff_runs(a, _run("retrieval", [1.0]))
