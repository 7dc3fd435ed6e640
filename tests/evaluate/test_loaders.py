"""BEIR, SQuAD and eval-JSONL loaders: real shared data sets, tiny generated ones, malformed files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragtune.errors import EvalDataError
from ragtune.evaluate.beir import load_beir
from ragtune.evaluate.evalset import load_evalset
from ragtune.evaluate.squad import load_squad
from ragtune.types import Principal
from tests.evaluate.datasets import write_beir


def test_generated_beir_set_loads_with_graded_judgements(tmp_path: Path) -> None:
    data = load_beir(write_beir(tmp_path / "tiny"), "test")
    assert len(data.items) == 12 and data.skipped == 0
    assert sorted(data.items[0].relevant.values()) == [1, 2]


def test_beir_errors_name_the_file_and_line(tmp_path: Path) -> None:
    root = write_beir(tmp_path / "tiny")
    with pytest.raises(EvalDataError, match=r"qrels/train\.tsv is missing \(splits here: dev, test\)"):
        load_beir(root, "train")
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq0\td1\t1\nq2\td3\thigh\n")
    with pytest.raises(EvalDataError, match=r"test\.tsv:3: score 'high' is not an integer"):
        load_beir(root, "test")
    (root / "qrels" / "test.tsv").write_text("q0 d1 1\n")
    with pytest.raises(EvalDataError, match=r"test\.tsv:1: expected 'query-id<TAB>corpus-id<TAB>score'"):
        load_beir(root, "test")
    (root / "queries.jsonl").write_text('{"_id": "q0", "text": "fine"}\n{"_id": "q1"\n')
    with pytest.raises(EvalDataError, match=r"queries\.jsonl:2: not a query record"):
        load_beir(root, "dev")


def test_beir_corpus_texts_join_title_and_text_and_name_a_bad_line(tmp_path: Path) -> None:
    root = write_beir(tmp_path / "tiny")
    data = load_beir(root, "test")
    records = [json.loads(line) for line in data.corpus.read_text().splitlines() if line.strip()]
    first = records[0]
    texts = data.corpus_texts()
    assert len(texts) == len(records)
    assert texts[str(first["_id"])] == " ".join(p for p in (first.get("title"), first.get("text")) if p)
    assert list(data.corpus_texts({str(first["_id"])})) == [str(first["_id"])]
    with data.corpus.open("a") as handle:
        handle.write('{"title": "no id"}\n')
    with pytest.raises(EvalDataError, match=rf"corpus\.jsonl:{len(records) + 1}: not a corpus record with '_id'"):
        data.corpus_texts()


def test_scifact_from_shared(shared_datasets: Path) -> None:
    data = load_beir(shared_datasets / "scifact", "test")
    assert len(data.items) == 300
    assert all(any(g > 0 for g in item.relevant.values()) for item in data.items)


def test_covidqa_items_point_at_their_context_file(shared_datasets: Path) -> None:
    data = load_squad(shared_datasets / "covidqa" / "covidqa.json")
    items = data.items(limit=20, seed=1)
    assert len(items) == 20 and items == data.items(limit=20, seed=1)
    question = next(q for q in data.questions if q.id == items[0].id)
    assert items[0].relevant == {data.context_file(question.context): 1}
    assert items[0].answers == question.answers


def test_evalset_keeps_good_lines_and_reports_bad_ones_by_line(tmp_path: Path) -> None:
    path = tmp_path / "questions.jsonl"
    lines = [
        json.dumps({"question": "How many leave days?", "answers": ["27 days"], "relevant_doc_ids": ["hr/leave.md"],
                    "principal": {"user": "hanna", "groups": ["staff", "hr"]}, "id": "leave"}),
        "{not json",
        json.dumps({"answers": ["x"]}),
        json.dumps({"question": "Graded?", "relevant_doc_ids": {"a.md": 2, "b.md": 1}}),
        json.dumps({"question": "Who?", "principal": {"groups": ["hr"]}}),
        json.dumps({"question": "Dup", "id": "leave"}),
        "",
    ]
    path.write_text("\n".join(lines))
    data = load_evalset(path)
    assert [i.id for i in data.items] == ["leave", "line-4"]
    assert data.items[0].principal == Principal("hanna", frozenset({"staff", "hr"}))
    assert data.items[1].relevant == {"a.md": 2, "b.md": 1}
    assert [e.split(": ", 1)[0] for e in data.errors] == [f"{path}:2", f"{path}:3", f"{path}:5", f"{path}:6"]
    assert "'question' is missing" in data.errors[1] and "'principal'" in data.errors[2] and "duplicate id" in data.errors[3]


def test_evalset_with_no_usable_line_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"answers": ["x"]}\n')
    with pytest.raises(EvalDataError, match=r"no usable question.*bad\.jsonl:1: 'question' is missing"):
        load_evalset(path)
    with pytest.raises(EvalDataError, match="cannot read"):
        load_evalset(tmp_path / "absent.jsonl")


def test_evalset_reads_expect_refusal_and_names_the_line_of_a_bad_one(tmp_path: Path) -> None:
    path = tmp_path / "refusals.jsonl"
    lines = [
        json.dumps({"id": "must-refuse", "question": "Salary of the CEO?", "expect_refusal": True}),
        json.dumps({"id": "may-answer", "question": "Leave days?", "expect_refusal": False}),
        json.dumps({"id": "unsaid", "question": "Hotel cap?"}),
        json.dumps({"id": "bad", "question": "Refuse?", "expect_refusal": "yes"}),
        json.dumps({"id": "bad-number", "question": "Refuse?", "expect_refusal": 1}),
    ]
    path.write_text("\n".join(lines) + "\n")
    data = load_evalset(path)
    assert [(i.id, i.expect_refusal) for i in data.items] == [("must-refuse", True), ("may-answer", False), ("unsaid", False)]
    assert data.errors == (f"{path}:4: 'expect_refusal' must be true or false, found \"yes\"",
                           f"{path}:5: 'expect_refusal' must be true or false, found 1")
