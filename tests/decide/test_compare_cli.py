"""The miniature comparison CI runs: five COVID-QA articles, every arm with the bundled models,
both fine-tunes trained for two steps, a synthesized document change; the complete report opens
in Chromium. Slow (about two minutes): it is the real pipeline end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragtune.cli import app
from ragtune.evaluate.runs import RunStore
from ragtune.workspace import Workspace
from tests.browser import screenshot

pytestmark = pytest.mark.integration

ARMS = ["prompt", "rag", "ft", "hybrid", "raft"]


@pytest.fixture(scope="module")
def compared(shared_datasets, tmp_path_factory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("compare")
    full = json.loads((shared_datasets / "covidqa" / "covidqa.json").read_text(encoding="utf-8"))
    squad = root / "covidqa-slice.json"
    squad.write_text(json.dumps({"version": "slice", "data": full["data"][:5]}), encoding="utf-8")
    ws = root / "ws"
    ws.mkdir()
    # Three sources per answer (and so two RAFT distractors) keep the prompts, and the test, short.
    (ws / "ragtune.toml").write_text("[llm]\nmax_tokens = 40\n\n[answer]\nmax_sources = 3\n", encoding="utf-8")
    report = root / "compare.html"
    result = CliRunner().invoke(app, [
        "compare", "--squad", str(squad), "--arms", ",".join(ARMS), "--train", "--test-share", "0.4",
        "--limit", "3", "--train-limit", "6", "--max-steps", "2", "--batch-size", "2", "--freshness", "2",
        "--name", "mini", "--json", "--report", str(report), "--workspace", str(ws),
    ])
    assert result.exit_code == 0, result.output + str(result.exception)
    return json.loads(result.stdout), Workspace(ws), report


def test_every_arm_is_scored_on_the_same_test_questions(compared) -> None:  # type: ignore[no-untyped-def]
    out, ws, _ = compared
    assert list(out["summary"]) == ARMS
    run = RunStore(ws).load(out["id"])
    questions = {arm: sorted(r["query_id"] for r in run.rows_of(arm)) for arm in ARMS}
    assert all(q == questions["rag"] and len(q) == 3 for q in questions.values())
    for arm in ARMS:
        summary = out["summary"][arm]
        assert summary["queries"] == 3 and summary["prompt_tokens"] > 0
        assert summary["latency_ms"]["total"]["p95"] >= summary["latency_ms"]["total"]["p50"] > 0
        assert summary["cost_per_1k_queries_usd"] > 0
        metrics = summary["metrics"]
        assert 0 <= metrics["f1"] <= 1 and metrics["refused"] is not None
        retrieval = out["variants"][arm]["retrieval"]
        assert retrieval == (arm in ("rag", "hybrid", "raft"))
        assert (metrics["context_hit"] is None) == (not retrieval)  # closed-book arms are not scored on sources
    prompt_in = out["summary"]["prompt"]["prompt_tokens"]
    assert out["summary"]["rag"]["prompt_tokens"] > 3 * prompt_in  # retrieved sources cost prompt tokens


def test_the_fine_tunes_were_trained_on_the_other_articles_and_registered(compared) -> None:  # type: ignore[no-untyped-def]
    out, ws, _ = compared
    assert out["dataset"]["train_articles"] + out["dataset"]["test_articles"] == 5
    corpus = out["dataset"]["corpus"]
    assert corpus["documents"] == 5 and 0 < corpus["chunks_embedded"] <= corpus["chunks"]
    from ragtune.tune.api import registry

    for arm, name in (("ft", "mini-ft"), ("hybrid", "mini-ft"), ("raft", "mini-raft")):
        variant = out["variants"][arm]
        assert variant["model"] == f"{name}@v1" and variant["training"]["seconds"] > 0
        entry = registry(ws).get(variant["model"])
        assert entry.extra["steps"] == 2 and entry.data["rows"]["train"] == variant["training"]["examples"]
    assert out["variants"]["ft"]["llm"]["adapter"]  # served by llama.cpp with the GGUF adapter
    raft_data = (ws.root / "evals" / "compare").glob("*/training/mini-raft.jsonl")
    examples = [json.loads(line) for path in raft_data for line in path.read_text().splitlines()]
    assert examples and all(e["messages"][1]["content"].count("<source id=") == 3 for e in examples)


def test_paired_intervals_and_the_freshness_test_are_recorded(compared) -> None:  # type: ignore[no-untyped-def]
    out, _, _ = compared
    versus = out["summary"]["rag"]["vs"]["prompt"]["f1"]
    assert versus["n"] == 3 and versus["low"] <= versus["difference"] <= versus["high"]
    assert set(out["summary"]["raft"]["vs"]) == {"prompt", "rag", "ft", "hybrid"}
    fresh = out["dataset"]["freshness"]
    assert 1 <= fresh["changed_documents"] == fresh["questions"] <= 2 and fresh["reindex_seconds"] > 0
    assert 0 < fresh["chunks_embedded"] < out["dataset"]["corpus"]["chunks"]  # only the changed documents
    for arm in ARMS:
        scores = out["summary"][arm]["freshness"]
        assert scores["questions"] == fresh["questions"] and 0 <= scores["answered"] <= 1


def test_the_report_is_complete_and_opens_in_a_browser(compared, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out, _, report = compared
    page = report.read_text(encoding="utf-8")
    for anchor in ("id='arms'", "id='paired'", 'id="plot-quality-cost"', 'id="plot-latency"', 'id="plot-freshness"',
                   'id="plot-tco"', "id='recommendation'", "id='answers'"):
        assert anchor in page, anchor
    assert out["recommendation"] in ("prompt", "rag", "ft", "hybrid")
    assert f"measured in compare run {out['id']}" in page
    png = screenshot(report, tmp_path / "compare.png")
    assert png.stat().st_size > 20_000


def test_eval_report_renders_a_saved_comparison_again(compared, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out, ws, _ = compared
    again = tmp_path / "again.html"
    result = CliRunner().invoke(app, ["eval", "report", out["id"], "--out", str(again), "--workspace", str(ws.root)])
    assert result.exit_code == 0, result.output
    page = again.read_text(encoding="utf-8")
    assert "id='arms'" in page and 'id="plot-tco"' in page and f"measured in compare run {out['id']}" in page
