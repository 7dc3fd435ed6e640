"""``ragtune eval`` and ``ragtune tune retrieval`` through the real console script, on a generated
BEIR set with the hashing embedder; saved runs, diffs, grids and the written configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import pytrec_eval

from ragtune.evaluate.items import ranked_documents
from ragtune.evaluate.runs import RunStore
from ragtune.retrieve.api import open_retriever
from ragtune.types import Principal
from ragtune.workspace import Workspace
from tests.evaluate.datasets import HASHING_TOML, write_beir
from tests.test_cli import run


@pytest.fixture
def beir(tmp_path: Path) -> Path:
    return write_beir(tmp_path / "tiny")


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "ragtune.toml").write_text(HASHING_TOML)
    return tmp_path / "ws"


def test_eval_retrieval_scores_every_mode_and_matches_trec_eval(tmp_path: Path, beir: Path, ws: Path) -> None:
    done = run("eval", "retrieval", "--beir", str(beir), "--workspace", str(ws), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result["summary"]) == {"bm25", "dense", "hybrid"}
    bm25 = result["summary"]["bm25"]["metrics"]
    assert bm25["hit@10"] > 0.9 and 0.5 < bm25["ndcg@10"] <= 1.0  # four of its words are in the query

    # The saved run's per-query nDCG equals trec_eval's on a fresh search of the same index.
    saved = RunStore(Workspace(ws)).load(result["id"])
    index = Workspace(next((ws / "evals" / "index").iterdir()))
    retriever = open_retriever(index, Workspace(ws).load_config())
    qrels, trec_run = {}, {}
    try:
        retriever.config.mode = "bm25"
        for row in saved.rows_of("bm25"):
            item_qrels = {line.split("\t")[1]: int(line.split("\t")[2]) for line in
                          (beir / "qrels" / "test.tsv").read_text().splitlines()[1:] if line.startswith(row["query_id"] + "\t")}
            hits = retriever.search(row["question"], Principal("eval"), k=100).hits
            ranked = ranked_documents(hits, item_qrels)
            qrels[row["query_id"]] = item_qrels
            trec_run[row["query_id"]] = {d: float(len(ranked) - i) for i, d in enumerate(ranked)}
    finally:
        retriever.store.close()
    trec = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10"}).evaluate(trec_run)
    for row in saved.rows_of("bm25"):
        assert row["metrics"]["ndcg@10"] == pytest.approx(trec[row["query_id"]]["ndcg_cut_10"], abs=1e-6)
    assert saved.dataset["sha256"] and saved.code.startswith("ragtune ")


def test_grid_run_diff_and_report(tmp_path: Path, beir: Path, ws: Path) -> None:
    plan = tmp_path / "eval.toml"
    plan.write_text(
        f'kind = "retrieval"\nmetrics = ["ndcg@10", "recall@10"]\nreport = "grid.html"\n'
        f'[dataset]\nbeir = "{beir}"\nsplit = "test"\n'
        '[grid]\n"retrieval.mode" = ["bm25", "dense"]\n"chunking.chunk_tokens" = [32, 64]\n'
    )
    done = run("eval", "run", "--config", str(plan), "--workspace", str(ws), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    grid = json.loads(done.stdout)
    assert len(grid["summary"]) == 4 and len(list((ws / "evals" / "index").iterdir())) == 2  # one index per chunk size
    assert (tmp_path / "grid.html").is_file()

    single = run("eval", "retrieval", "--beir", str(beir), "--mode", "bm25", "--workspace", str(ws), "--json", cwd=tmp_path)
    baseline = json.loads(single.stdout)["id"]
    diff = run("eval", "diff", baseline, grid["id"], "--variant-a", "bm25", "--variant-b", "mode=dense chunk_tokens=64",
               "--workspace", str(ws), "--json", cwd=tmp_path)
    assert diff.returncode == 0, diff.stderr
    rows = {d["metric"]: d for d in json.loads(diff.stdout)}
    assert set(rows) == {"ndcg@10", "recall@10", "latency_ms"} and rows["ndcg@10"]["n"] == 12
    ndcg = rows["ndcg@10"]
    assert ndcg["ci_low"] <= ndcg["difference"] <= ndcg["ci_high"] and 0 < ndcg["p_value"] <= 1
    assert ndcg["difference"] == pytest.approx(ndcg["mean_b"] - ndcg["mean_a"])

    table = run("eval", "diff", baseline, grid["id"], "--variant-a", "bm25", "--variant-b", "mode=dense chunk_tokens=64",
                "--workspace", str(ws), cwd=tmp_path)
    assert "95% CI" in table.stdout and "ndcg@10" in table.stdout
    missing = run("eval", "diff", baseline, "nope", "--workspace", str(ws), cwd=tmp_path)
    assert missing.returncode == 2 and "'nope' is not a saved run" in missing.stderr
    listed = run("eval", "list", "--workspace", str(ws), cwd=tmp_path)
    assert baseline in listed.stdout and grid["id"] in listed.stdout


def test_tune_retrieval_writes_the_winner_and_keeps_comments(tmp_path: Path, beir: Path, ws: Path) -> None:
    done = run("tune", "retrieval", "--beir", str(beir), "--dev-split", "dev", "--split", "test",
               "--chunk-tokens", "32,64", "--workspace", str(ws), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert len(result["dev"]) == 14  # 7 fusion settings x 2 chunk sizes
    best = max(result["dev"].values())
    assert result["dev"][next(k for k, v in result["dev"].items() if v == best)] == best
    assert set(result["best"]) >= {"retrieval.mode", "chunking.chunk_tokens"}
    written = (ws / "ragtune.toml").read_text()
    assert "# a comment tune retrieval must keep" in written
    config = Workspace(ws).load_config()
    assert config.retrieval.mode == result["best"]["retrieval.mode"]
    assert config.chunking.chunk_tokens == result["best"]["chunking.chunk_tokens"]
    assert 0 <= result["test_tuned"] <= 1 and 0 <= result["test_configured"] <= 1


def test_tune_retrieval_searches_context_headers_one_index_each(tmp_path: Path, beir: Path, ws: Path) -> None:
    done = run("tune", "retrieval", "--beir", str(beir), "--dev-split", "dev", "--split", "test",
               "--search", "chunking.context_header", "--dry-run", "--workspace", str(ws), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert len(result["dev"]) == 14  # 7 fusion settings x headers off/on
    assert sum("context_header=True" in name for name in result["dev"]) == 7
    assert result["best"]["chunking.context_header"] in (False, True)


def test_eval_errors_are_clear(tmp_path: Path, beir: Path, ws: Path) -> None:
    both = run("eval", "retrieval", "--beir", str(beir), "--evalset", str(beir / "queries.jsonl"), "--workspace", str(ws),
               cwd=tmp_path)
    assert both.returncode == 2 and "exactly one of --beir, --evalset" in both.stderr
    bad_mode = run("eval", "retrieval", "--beir", str(beir), "--mode", "fuzzy", "--workspace", str(ws), cwd=tmp_path)
    assert bad_mode.returncode == 2 and "unknown mode(s) fuzzy" in bad_mode.stderr
    plan = tmp_path / "bad.toml"
    plan.write_text('[dataset]\nbeir = "x"\nsquad = "y"\n[grid]\n"retrieval.nope" = [1]\n')
    bad_plan = run("eval", "run", "--config", str(plan), "--workspace", str(ws), cwd=tmp_path)
    assert bad_plan.returncode == 2 and "exactly one of beir, squad, evalset" in bad_plan.stderr


def test_eval_qa_scores_behaviour_from_a_settings_file(tmp_path: Path, ws: Path) -> None:
    support = Path(__file__).resolve().parents[2] / "examples" / "support"
    ingested = run("ingest", str(support / "kb"), "--workspace", str(ws), cwd=tmp_path)
    assert ingested.returncode == 0, ingested.stderr
    done = run("eval", "qa", "--evalset", str(support / "tickets.jsonl"), "--answer-mode", "extract",
               "--behaviour", str(support / "behaviour.toml"), "--workspace", str(ws), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    summary = result["summary"]["extract"]
    # A quoted passage never has the house greeting or the routing line.
    assert summary["metrics"]["sections_present"] == 0.0 and summary["metrics"]["format_valid"] == 0.0
    assert 0.0 <= summary["metrics"]["style"] <= 1.0 and summary["labels"]["questions"] == 15
    assert result["dataset"]["behaviour"]["labels"] == ["returns", "shipping", "warranty", "battery_safety", "billing"]
    missing = run("eval", "qa", "--evalset", str(support / "tickets.jsonl"), "--answer-mode", "extract",
                  "--behaviour", str(tmp_path / "nope.toml"), "--workspace", str(ws), cwd=tmp_path)
    assert missing.returncode != 0 and "--behaviour" in missing.stderr and "nope.toml" in missing.stderr
