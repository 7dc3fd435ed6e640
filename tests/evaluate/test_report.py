"""The HTML report holds its plots as images and opens in a real browser."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import numpy as np
from matplotlib.image import imread

from ragtune.config import RagtuneConfig
from ragtune.evaluate.api import run_retrieval_eval
from ragtune.evaluate.data import from_beir
from ragtune.evaluate.report import render_report
from ragtune.evaluate.runs import RunStore
from ragtune.evaluate.variants import mode_variants
from ragtune.workspace import Workspace
from tests.browser import screenshot
from tests.evaluate.datasets import write_beir

PNG = b"\x89PNG\r\n\x1a\n"


def test_report_embeds_plots_and_renders_in_chromium(tmp_path: Path) -> None:
    config = RagtuneConfig.model_validate({"embedder": {"backend": "hashing", "dimension": 256}})
    ws = Workspace(tmp_path / "ws")
    run = run_retrieval_eval(ws, from_beir(write_beir(tmp_path / "tiny"), "test"), mode_variants(["bm25", "dense"]), config=config)
    assert RunStore(ws).load(run.id).summary == run.summary

    page = render_report([run], tmp_path / "report.html").read_text()
    images = dict(re.findall(r'id="plot-(\w+)"[^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page))
    assert set(images) == {"metrics", "latency", "recall"}
    for data in images.values():
        assert base64.b64decode(data).startswith(PNG)
    assert "<table id='summary'>" in page and "lowest ndcg@10" in page
    assert page.count("<tr>") >= 3 + 2 * 10  # summary rows + ten worst queries per variant (plus headers)

    shot = imread(screenshot(tmp_path / "report.html", tmp_path / "report.png"))
    assert shot.shape[0] >= 2000 and shot.shape[1] >= 1100
    # A page that failed to load is one flat colour; the report has text, bars and lines.
    assert np.unique(shot.reshape(-1, shot.shape[-1])[::97], axis=0).shape[0] > 50
