"""Embedder fine-tuning with MultipleNegativesRankingLoss on real MiniLM, then a re-index of the
workspace with the tuned model; and the pair sources on their own."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from ragtune.tune.embedder_pairs import Pair, beir_pairs, generated_pairs, jsonl_pairs, split_pairs
from tests.evaluate.datasets import write_beir
from tests.test_cli import run


def test_beir_qrels_become_pairs_with_the_document_text(tmp_path: Path) -> None:
    root = write_beir(tmp_path / "beir", docs=10, queries=6)
    pairs = beir_pairs(root, "test")
    assert len(pairs) == 6  # 3 test queries x 2 judged documents each
    corpus = {json.loads(line)["_id"]: json.loads(line) for line in (root / "corpus.jsonl").read_text().splitlines()}
    first = pairs[0]
    assert first.group == "q0" and any(first.positive == f"{d['title']} {d['text']}" for d in corpus.values())


def test_jsonl_pairs_report_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"query": "q1", "positive": "p1"}\nnope\n{"anchor": "q2", "positive": "p2"}\n{"query": "q3"}\n')
    pairs, errors = jsonl_pairs(path)
    assert [p.query for p in pairs] == ["q1", "q2"] and [e.line for e in errors] == [2, 4]


def test_generated_pairs_keep_sensible_questions_only() -> None:
    replies = iter(["What is the refund window for shoes?", "", "ok", "How   long is\nthe warranty?"])
    pairs = generated_pairs(["a", "b", "c", "d"], lambda prompt: next(replies), 4, seed=0)
    assert [p.query for p in pairs] == ["What is the refund window for shoes?", "How long is the warranty?"]


def test_held_out_split_keeps_a_query_together() -> None:
    pairs = [Pair(f"q{i // 2}", f"p{i}", f"g{i // 2}") for i in range(40)]
    train, held = split_pairs(pairs, 0.25, seed=0)
    assert len(held) == 10 and not {p.group for p in train} & {p.group for p in held}


@pytest.mark.integration
def test_tune_embedder_and_reindex(tmp_path: Path) -> None:
    beir = write_beir(tmp_path / "beir", docs=30, queries=40)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# Returns\n\nShoes can be returned within 30 days with the receipt.\n")
    (docs / "b.md").write_text("# Warranty\n\nBikes carry a two year warranty on the frame.\n")
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "ragtune.toml").write_text('[embedder]\nbackend = "sentence-transformers"\n')
    assert run("ingest", str(docs), "-w", str(ws), cwd=tmp_path).returncode == 0
    done = run("tune", "embedder", "--beir", str(beir), "--beir-split", "dev", "--name", "emb", "--held-out", "0.25",
               "--batch-size", "8", "--reindex", str(docs), "--json", "-w", str(ws), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    entry = json.loads(done.stdout)
    assert entry["kind"] == "embedder" and entry["data"]["split"] == "dev" and len(entry["data"]["sha256"]) == 64
    assert entry["data"]["rows"] == {"train": 30, "test": 10}  # 20 dev queries x 2 documents, 5 queries held out
    assert {"ndcg@10", "ndcg@10_base", "recall@10", "mrr@10"} <= entry["metrics"].keys()
    assert entry["reindexed"]["documents"] == 2
    config = tomllib.loads((ws / "ragtune.toml").read_text())
    assert config["embedder"] == {"backend": "sentence-transformers", "model": "emb@v1"}
    status = json.loads(run("status", "--json", "-w", str(ws), cwd=tmp_path).stdout)
    assert status["embedder"] == "emb@v1" and status["documents"] == 2
    found = run("search", "how long can I return shoes", "--json", "-w", str(ws), cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["hits"][0]["source"].endswith("a.md")


@pytest.mark.integration
def test_pairs_generated_from_the_users_documents_by_the_configured_llm(tmp_path: Path, gguf_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "ragtune.toml").write_text('[embedder]\nbackend = "sentence-transformers"\n')
    corpus = Path(__file__).resolve().parents[2] / "examples" / "sample_corpus"
    done = run("tune", "embedder", "--generate", "4", "--corpus", str(corpus), "--name", "gen", "--held-out", "0",
               "--batch-size", "2", "--json", "-w", str(ws), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)["data"]
    assert data["generated_by"] == "llama-cpp:smollm2-135m" and data["passages"] > 4
    assert 2 <= data["rows"]["train"] <= 4  # replies that are empty or rambling are dropped
