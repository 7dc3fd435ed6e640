"""The compare and data raft commands on small inputs: refusals before any work, RAFT data from a
SQuAD set, and the closed-book arm with the bundled model."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ragtune.cli import app
from ragtune.decide.closed_book import ClosedBookAssistant, closed_book_messages
from ragtune.tune.dataset_formats import read_examples
from ragtune.types import Principal
from tests.decide.tiny_squad import PLANTS, write_tiny_squad

HASHING = '[embedder]\nbackend = "hashing"\n'


def _invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200", "NO_COLOR": "1"})


def test_fine_tuned_arms_without_a_model_or_train_are_refused_before_any_work(tmp_path: Path) -> None:
    squad = write_tiny_squad(tmp_path / "tiny.json")
    result = _invoke("compare", "--squad", str(squad), "--arms", "rag,hybrid,raft", "-w", str(tmp_path / "ws"))
    assert result.exit_code == 2
    assert "arm(s) need a fine-tuned model (ft, raft): give --ft-model, --raft-model" in result.output
    assert not (tmp_path / "ws" / "evals" / "compare").exists()
    both = _invoke("compare", "--arms", "rag", "-w", str(tmp_path / "ws"))
    assert both.exit_code == 2 and "give exactly one of --squad, --eval" in both.output
    bad = _invoke("compare", "--squad", str(squad), "--arms", "rag,llm", "-w", str(tmp_path / "ws"))
    assert bad.exit_code == 2 and "unknown arm(s) llm" in bad.output
    unknown = _invoke("compare", "--squad", str(squad), "--arms", "ft", "--ft-model", "nope@v1", "-w", str(tmp_path / "ws"))
    assert unknown.exit_code == 2 and "nope" in unknown.output
    assert not (tmp_path / "ws" / "evals" / "compare").exists()
    mixed = _invoke("compare", "--squad", str(squad), "--corpus", str(tmp_path), "-w", str(tmp_path / "ws"))
    assert mixed.exit_code == 2 and "--corpus, --train-evalset and --update-* go with --eval" in mixed.output


def test_data_raft_writes_chat_examples_lora_can_train_on(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "ragtune.toml").write_text(HASHING)
    squad = write_tiny_squad(tmp_path / "tiny.json")
    out = tmp_path / "raft.jsonl"
    result = _invoke("data", "raft", "--questions", str(squad), "--out", str(out), "--distractors", "2",
                     "--no-golden", "0.3", "--json", "-w", str(ws))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["examples"] == 3 * len(PLANTS) and summary["skipped"] == []
    assert summary["with_golden"] + summary["without_golden"] == summary["examples"] and summary["without_golden"] > 0
    read = read_examples(out, "chat")
    assert not read.errors and len(read.examples) == summary["examples"]
    assert all(e.data["messages"][1]["content"].count("<source id=") == 3 for e in read.examples)
    missing = _invoke("data", "raft", "--questions", str(tmp_path / "none.json"), "--out", str(out), "-w", str(ws))
    assert missing.exit_code == 2 and "none.json" in missing.output


def test_the_closed_book_arm_sends_no_source_and_reports_usage(llama_llm) -> None:  # type: ignore[no-untyped-def]
    messages = closed_book_messages("  Who wrote Hamlet? ", "I do not know.")
    assert [m.role for m in messages] == ["system", "user"] and messages[1].content == "Who wrote Hamlet?"
    assert "<source" not in messages[0].content
    answer = ClosedBookAssistant(llama_llm).ask("Who wrote Hamlet?", Principal("u"))
    assert answer.found and answer.text and answer.sources == [] and answer.hits == []
    assert answer.usage.prompt_tokens > 10 and answer.usage.completion_tokens > 0
    assert answer.timings["total"] >= answer.timings["generate"] > 0
    assert answer.model == llama_llm.identity


def test_the_closed_book_arm_with_a_grammar_writes_json_valid_against_the_schema(llama_llm) -> None:  # type: ignore[no-untyped-def]
    import jsonschema

    schema = {"type": "object", "properties": {"queue": {"type": "string", "enum": ["billing", "shipping"]}},
              "required": ["queue"], "additionalProperties": False}
    answer = ClosedBookAssistant(llama_llm).ask("My card was charged twice. Which queue?", Principal("u"), json_schema=schema)
    jsonschema.validate(json.loads(answer.text), schema)


def test_grammar_arms_are_parsed_and_need_a_schema(tmp_path: Path) -> None:
    from ragtune.decide.arms import parse_arms

    arms = parse_arms(["prompt", "prompt+grammar", "ft+grammar"])
    assert [(a.name, a.model, a.retrieval, a.grammar) for a in arms] == [
        ("prompt", "base", False, False), ("prompt+grammar", "base", False, True), ("ft+grammar", "ft", False, True)]
    squad = write_tiny_squad(tmp_path / "tiny.json")
    for bad in ("extract+grammar", "classifier+grammar"):
        result = _invoke("compare", "--squad", str(squad), "--arms", bad, "-w", str(tmp_path / "ws"))
        assert result.exit_code == 2 and f"unknown arm(s) {bad}" in result.output
    result = _invoke("compare", "--squad", str(squad), "--arms", "rag,rag+grammar", "-w", str(tmp_path / "ws"))
    assert result.exit_code == 2 and "arm(s) rag+grammar constrain answers by a JSON schema: give --json-schema" in result.output
    assert not (tmp_path / "ws" / "evals" / "compare").exists()
