"""The shipped support example (examples/support/) through `ragtune compare`, CI-sized: rag, extract,
ft, hybrid and classifier arms with the bundled models, both fine-tunes trained for two steps, the
behaviour settings file (format, house style, routing labels) and the freshness update. Slow (about
two minutes): the real pipeline end to end, producing the report with its behaviour columns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragtune.cli import app
from ragtune.decide.advisor import advise_on_run
from ragtune.evaluate.runs import RunStore
from ragtune.workspace import Workspace

pytestmark = pytest.mark.integration

SUPPORT = Path(__file__).resolve().parents[2] / "examples" / "support"
ARMS = ["rag", "extract", "ft", "hybrid", "classifier"]


@pytest.fixture(scope="module")
def compared(tmp_path_factory):  # type: ignore[no-untyped-def]
    ws = tmp_path_factory.mktemp("support-ws")
    (ws / "ragtune.toml").write_text("[llm]\nmax_tokens = 48\n\n[answer]\nmax_sources = 3\n", encoding="utf-8")
    report = ws / "compare.html"
    result = CliRunner().invoke(app, [
        "compare", "--eval", str(SUPPORT / "tickets.jsonl"), "--corpus", str(SUPPORT / "kb"),
        "--train-evalset", str(SUPPORT / "train.jsonl"), "--behaviour", str(SUPPORT / "behaviour.toml"),
        "--update-docs", str(SUPPORT / "update"), "--update-evalset", str(SUPPORT / "update.jsonl"),
        "--arms", ",".join(ARMS), "--train", "--max-steps", "2", "--batch-size", "2", "--limit", "5",
        "--name", "support", "--json", "--report", str(report), "--workspace", str(ws),
    ])
    assert result.exit_code == 0, result.output + str(result.exception)
    return json.loads(result.stdout), Workspace(ws), report


def test_every_arm_carries_the_behaviour_metrics_it_can_have(compared) -> None:  # type: ignore[no-untyped-def]
    out, _, _ = compared
    summary = out["summary"]
    assert list(summary) == ARMS
    for name in ("rag", "extract", "ft", "hybrid"):
        metrics = summary[name]["metrics"]
        for metric in ("format_valid", "regex_match", "sections_present", "length_ok", "style", "label_correct"):
            assert metrics[metric] is not None and 0.0 <= metrics[metric] <= 1.0, (name, metric)
        assert metrics["words"] > 0 and summary[name]["labels"]["questions"] == 5
        assert summary[name]["intervals"]["style"]["low"] <= metrics["style"] <= summary[name]["intervals"]["style"]["high"]
    # The classifier states a label, nothing else: only the label is scored.
    classifier = summary["classifier"]["metrics"]
    assert classifier["f1"] is None and classifier["answer_hit"] is None and "style" not in classifier
    assert summary["classifier"]["labels"]["label_accuracy"] >= 0.6  # chance is 0.2 over five queues
    style = out["dataset"]["behaviour"]["style"]
    assert style["house_examples"] == 15 and style["neutral_examples"] == 16 and 0.5 < style["held_out_accuracy"] <= 1.0


def test_the_classifier_was_trained_and_registered_with_the_fine_tune(compared) -> None:  # type: ignore[no-untyped-def]
    out, ws, _ = compared
    from ragtune.tune.api import registry

    entries, errors = registry(ws).list()
    kinds = {e.name: e.kind for e in entries}
    assert not errors and kinds["support-classifier"] == "classifier" and kinds["support-ft"] == "llm"
    assert out["variants"]["classifier"]["training"]["examples"] > 0
    assert "freshness" not in out["summary"]["classifier"]  # it answers no facts
    assert out["summary"]["rag"]["freshness"]["questions"] == 1


def test_the_report_has_the_behaviour_table_and_the_advisor_cites_the_measurements(compared) -> None:  # type: ignore[no-untyped-def]
    out, ws, report = compared
    page = report.read_text(encoding="utf-8")
    assert "<table id='behaviour'>" in page and "label macro-F1" in page and "held-out accuracy" in page
    run = RunStore(ws).load(out["id"])
    advice = advise_on_run(run, ws.load_config())
    measured = [r for r in advice.reasons if r.startswith(f"measured on compare run {run.id}: label")]
    assert measured and "classifier label" in measured[0]
