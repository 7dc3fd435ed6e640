from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragtune.decide import compare_data
from ragtune.decide.arms import parse_arms
from ragtune.errors import ConfigError, EvalDataError
from ragtune.evaluate.squad import load_squad
from ragtune.workspace import Workspace
from tests.decide.tiny_squad import PLANTS, write_tiny_squad


def test_a_squad_set_is_split_by_article_so_no_test_fact_is_trained_on(tmp_path: Path) -> None:
    path = write_tiny_squad(tmp_path / "tiny.json")
    data = compare_data.from_squad(path, Workspace(tmp_path / "ws"), test_share=0.34, seed=2)
    test_docs = {d for item in data.test for d in item.relevant}
    train_docs = {d for item in data.train for d in item.relevant}
    assert len(test_docs) == 2 and len(train_docs) == len(PLANTS) - 2 and not test_docs & train_docs
    assert len(data.test) + len(data.train) == 3 * len(PLANTS)
    assert data.info["test_articles"] == 2 and data.info["split"] == "by article"
    assert sorted(p.name for p in data.corpus.iterdir()) == [f"context_{i:04d}.txt" for i in range(len(PLANTS))]
    again = compare_data.from_squad(path, Workspace(tmp_path / "ws"), test_share=0.34, seed=2)
    assert [i.id for i in again.test] == [i.id for i in data.test]  # reproducible


def test_limits_sample_after_the_split_and_freshness_changes_only_trained_facts(tmp_path: Path) -> None:
    path = write_tiny_squad(tmp_path / "tiny.json")
    data = compare_data.from_squad(path, Workspace(tmp_path / "ws"), test_share=0.34, limit=2, train_limit=8,
                                   freshness=3)
    assert len(data.test) == 2 and len(data.train) == 8 and data.info["train_articles"] == 4
    assert data.update is not None and 1 <= len(data.update.items) <= 3
    trained = {i.question for i in data.train}
    assert all(item.question in trained for item in data.update.items)
    squad = load_squad(path)
    for name, text in data.update.files.items():
        assert text != squad.contexts[int(name[8:12])]


def test_one_article_cannot_be_split(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"data": [{"paragraphs": [{"context": "A b c.", "qas": [
        {"id": "1", "question": "What?", "answers": [{"text": "b", "answer_start": 2}]}]}]}]}))
    with pytest.raises(EvalDataError, match="one.json: splitting 1 article"):
        compare_data.from_squad(path, Workspace(tmp_path / "ws"))


def _evalset(path: Path, questions: list[str]) -> Path:
    path.write_text("".join(json.dumps({"id": str(i), "question": q, "answers": ["x"]}) + "\n"
                            for i, q in enumerate(questions)))
    return path


def test_an_eval_set_update_needs_its_corpus_copy_and_both_halves(tmp_path: Path) -> None:
    test = _evalset(tmp_path / "test.jsonl", ["What is a?", "What is b?"])
    docs = tmp_path / "docs"
    docs.mkdir()
    with pytest.raises(EvalDataError, match="needs both --update-docs"):
        compare_data.from_evalset(test, corpus=docs, update_docs=docs)
    with pytest.raises(EvalDataError, match="--update-docs needs --corpus"):
        compare_data.from_evalset(test, update_docs=docs, update_evalset=test)
    with pytest.raises(EvalDataError, match="--corpus .*: not a folder"):
        compare_data.from_evalset(test, corpus=tmp_path / "nothing")


def test_training_questions_that_are_also_test_questions_are_warned_about(tmp_path: Path) -> None:
    test = _evalset(tmp_path / "test.jsonl", ["What is a?", "What is b?"])
    train = _evalset(tmp_path / "train.jsonl", ["what is A? ", "What is c?"])
    data = compare_data.from_evalset(test, train=train)
    assert data.corpus is None and len(data.train) == 2
    assert data.warnings == ["1 test question(s) also appear in the training questions: the fine-tuned arms have "
                             "seen their answers"]


def test_arms_are_named_and_unknown_ones_refused() -> None:
    assert [a.name for a in parse_arms(["rag", " ft", "rag"])] == ["rag", "ft"]
    assert [a.retrieval for a in parse_arms(["prompt", "rag", "extract", "ft", "hybrid", "raft"])] == [
        False, True, True, False, True, True]
    assert parse_arms(["extract"])[0].model == "none"  # the extractive reader: no model to train or load
    with pytest.raises(ConfigError, match="unknown arm\\(s\\) rga: choose from prompt, rag, extract, ft, hybrid, raft"):
        parse_arms(["rga"])
