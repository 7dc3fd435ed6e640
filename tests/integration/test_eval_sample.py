"""``ragtune eval`` on the shipped sample corpus and eval set, with the real bundled embedder and
SmolLM2: access control holds inside evaluations, answers are scored, the judge reports spread."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_cli import RAGTUNE, run

REPO = Path(__file__).resolve().parents[2]
REFUSED = {"leave-employee", "salary-b3-employee", "password-length-visitor"}
"""The questions whose relevant documents the asker may not see (HR folder, security policy)."""


def run_long(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``run`` with room for the whole sample set: every answered question costs SmolLM2 an answer
    and two judge calls, minutes on two cores, past ``run``'s 120 s limit."""
    environment = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    environment.pop("RAGTUNE_WORKSPACE", None)
    return subprocess.run([str(RAGTUNE), *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=1800)


@pytest.mark.integration
def test_eval_qa_and_retrieval_on_the_sample_corpus(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "ragtune.toml").write_text("[llm]\nmax_tokens = 40\nthreads = 2\n")
    corpus = shutil.copytree(REPO / "examples" / "sample_corpus", tmp_path / "docs")
    assert run("sync", str(corpus), "--workspace", str(ws), "--groups", "staff", cwd=tmp_path).returncode == 0
    evalset = REPO / "examples" / "sample_eval.jsonl"

    retrieval = run("eval", "retrieval", "--evalset", str(evalset), "--mode", "hybrid", "--workspace", str(ws), "--json",
                    cwd=tmp_path)
    assert retrieval.returncode == 0, retrieval.stderr
    rid = json.loads(retrieval.stdout)["id"]
    rows = {r["query_id"]: r for r in map(json.loads, (ws / "evals" / rid / "queries.jsonl").read_text().splitlines())}
    assert rows["leave-hr"]["metrics"]["hit@10"] == 1.0
    assert rows["leave-employee"]["metrics"]["hit@10"] == 0.0  # the HR folder is invisible to erik
    assert all(rows[q]["metrics"]["hit@10"] == 1.0 for q in ("hotel-cap", "remote-days", "belt-price"))
    assert len(rows) >= 15  # every file type of the sample corpus has its questions
    assert {q for q, r in rows.items() if r["metrics"]["hit@10"] == 0.0} == REFUSED
    assert all(rows[q]["metrics"]["hit@10"] == 1.0 for q in rows.keys() - REFUSED)

    report = tmp_path / "qa.html"
    qa = run_long("eval", "qa", "--evalset", str(evalset), "--judge-repeats", "2", "--workspace", str(ws), "--json",
                  "--report", str(report), cwd=tmp_path)
    assert qa.returncode == 0, qa.stderr
    result = json.loads(qa.stdout)
    summary = result["summary"]["configured"]
    rows = {r["query_id"]: r for r in map(json.loads, (ws / "evals" / result["id"] / "queries.jsonl").read_text().splitlines())}
    employee, hr = rows["leave-employee"], rows["leave-hr"]
    assert employee["metrics"]["refused"] == 1.0 and employee["completion_tokens"] == 0
    assert "27" not in employee["answer"] and employee["metrics"]["context_hit"] == 0.0
    assert hr["metrics"]["refused"] == 0.0 and hr["metrics"]["context_hit"] == 1.0
    assert hr["metrics"]["answer_in_context"] == 1.0  # "27 days" was in what the model read
    # Exactly the questions whose documents the asker may not see are refused, and that is correct.
    assert {q for q, r in rows.items() if r["metrics"]["refused"]} == REFUSED
    assert summary["metrics"]["refused"] == pytest.approx(len(REFUSED) / len(rows))
    assert {q for q, r in rows.items() if r["expects_refusal"]} == REFUSED
    for q in REFUSED:
        assert rows[q]["metrics"]["answer_hit"] == 1.0 and rows[q]["completion_tokens"] == 0, q
        assert rows[q]["metrics"]["context_hit"] == 0.0 and rows[q]["metrics"]["answer_in_context"] == 0.0, q
    assert "58000" not in rows["salary-b3-employee"]["answer"] and "14" not in rows["password-length-visitor"]["answer"]
    for row in rows.values():
        m = row["metrics"]
        if row["expects_refusal"]:  # gold spans say nothing of a refusal
            assert m["f1"] is None and m["exact_match"] is None
        else:
            assert 0 <= m["f1"] <= 1 and m["exact_match"] in (0.0, 1.0)
        assert m["answer_hit"] in (0.0, 1.0)
        if not m["refused"]:
            assert row["prompt_tokens"] > 0 and row["cost_usd"] > 0
            assert len(row["judge_scores"]) == 2 and all(s is None or 0 <= s <= 1 for s in row["judge_scores"])
    assert summary["judge_spread"]["repeats"] == 2
    assert summary["latency_ms"]["time_to_first_token"]["p50"] > 0
    assert summary["cost_per_1k_queries_usd"] > 0
    page = report.read_text()
    assert page.count("data:image/png;base64,") == 2 and "lowest f1" in page  # no recall curve for answers
    assert "<th>answer_hit</th>" in page


@pytest.mark.integration
def test_extractive_answers_hit_every_sample_question_or_refuse(tmp_path: Path) -> None:
    """No model: every answer of the shipped eval set is right (the gold answer is in it) or a
    correct refusal, and every answer cites the document it quotes."""
    ws = tmp_path / "ws"
    ws.mkdir()
    corpus = shutil.copytree(REPO / "examples" / "sample_corpus", tmp_path / "docs")
    assert run("sync", str(corpus), "--workspace", str(ws), "--groups", "staff", cwd=tmp_path).returncode == 0
    qa = run("eval", "qa", "--evalset", str(REPO / "examples" / "sample_eval.jsonl"), "--answer-mode", "extract",
             "--workspace", str(ws), "--json", cwd=tmp_path)
    assert qa.returncode == 0, qa.stderr
    result = json.loads(qa.stdout)
    metrics = result["summary"]["extract"]["metrics"]
    rows = [json.loads(line) for line in (ws / "evals" / result["id"] / "queries.jsonl").read_text().splitlines()]
    missed = {r["query_id"]: r["answer"] for r in rows if r["metrics"]["answer_hit"] != 1.0}
    assert not missed, missed
    assert metrics["answer_hit"] == 1.0 and metrics["cited"] >= 0.8 and metrics["faithfulness"] == 1.0
    assert {r["query_id"] for r in rows if r["metrics"]["refused"]} == REFUSED
    assert all(r["completion_tokens"] == 0 for r in rows)
