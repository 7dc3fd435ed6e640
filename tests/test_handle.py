"""``ragtune.open``: the three-line path over the shipped sample corpus, with its access lists
(hashing embedder and extractive answers: no model to load)."""

from __future__ import annotations

import shutil
from pathlib import Path

import ragtune

ROOT = Path(__file__).resolve().parents[1]


def test_open_ingest_search_and_ask_as_a_principal(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "ragtune.toml").write_text('[embedder]\nbackend = "hashing"\n\n[answer]\nmode = "extract"\n')
    docs = shutil.copytree(ROOT / "examples" / "sample_corpus", tmp_path / "docs")
    with ragtune.open(ws) as rt:
        report = rt.ingest(docs, groups=["staff"])
        assert report.failed == 0 and report.succeeded > 5
        assert rt.status().chunks == report.chunks > 0  # a first ingest wrote every chunk
        staff = rt.search("paid annual leave days", user="erik", groups=["staff"], k=10)
        hr = rt.search("paid annual leave days", user="hanna", groups=["staff", "hr"], k=10)
        assert not any("/hr/" in h.source for h in staff.hits)  # hr/ is for the hr group only
        assert any(h.source.endswith("hr/leave.md") for h in hr.hits)
        answer = rt.ask("How many days of paid annual leave do employees get?", user="hanna", groups="hr")
        assert answer.found and "27 days" in answer.text and answer.mode == "extract"
        refused = rt.ask("How many days of paid annual leave do employees get?", user="erik", groups=["staff"])
        assert not refused.found or "27 days" not in refused.text
        # Ingesting again reopens the index for the next search: the new file is found.
        (docs / "policies" / "bikes.md").write_text("# Bike leasing\n\nStaff may lease one e-bike every 36 months.\n")
        rt.ingest(docs, groups=["staff"])
        assert any(h.source.endswith("bikes.md") for h in rt.search("lease e-bike months", user="erik", groups=["staff"]).hits)
    assert rt._retriever is None and rt._assistant is None  # closed by the with block


def test_open_creates_a_missing_workspace(tmp_path: Path) -> None:
    rt = ragtune.open(tmp_path / "new")
    try:
        assert (tmp_path / "new" / "ragtune.toml").is_file() and rt.root == tmp_path / "new"
    finally:
        rt.close()
