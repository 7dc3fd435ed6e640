"""RAFT examples over a small indexed corpus (hashing embedder: fast, real index and retriever)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragtune.config import RagtuneConfig
from ragtune.evaluate.squad import load_squad
from ragtune.ingest.api import ingest
from ragtune.retrieve.api import open_retriever
from ragtune.tune.dataset_formats import read_examples
from ragtune.tune.raft import RaftBuilder, quoted_sentence
from ragtune.tune.raft_config import RaftConfig
from ragtune.types import Principal
from ragtune.workspace import Workspace
from tests.decide.tiny_squad import write_tiny_squad

NOT_FOUND = RagtuneConfig().answer.not_found_text
READER = Principal("reader")


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("raft")
    squad = load_squad(write_tiny_squad(root / "tiny.json"))
    config = RagtuneConfig.model_validate({"embedder": {"backend": "hashing"}})
    ws = Workspace(root / "ws")
    ingest(ws, [squad.write_contexts(root / "docs")], config=config)
    retriever = open_retriever(ws, config)
    yield squad, retriever
    retriever.store.close()


def _builder(retriever, **settings) -> RaftBuilder:  # type: ignore[no-untyped-def]
    return RaftBuilder(retriever, RaftConfig(**settings), not_found_text=NOT_FOUND, principal=READER)


def _sources(example: dict) -> list[str]:  # type: ignore[type-arg]
    user = example["messages"][1]["content"]
    return [part.split(">", 1)[1].split("</source>")[0] for part in user.split("<source ")[1:]]


def test_each_example_has_the_golden_chunk_among_distractors_from_other_documents(indexed) -> None:  # type: ignore[no-untyped-def]
    squad, retriever = indexed
    items = squad.items()
    data = _builder(retriever, distractors=3, no_golden_share=0.0).build(items, len(items))
    assert not data.skipped and len(data.examples) == len(items) == data.with_golden
    for item, example in zip(items, data.examples):
        system, user, assistant = example["messages"]
        assert system["role"] == "system" and NOT_FOUND in system["content"]
        assert user["content"].endswith(f"<question>{item.question}</question>")
        number = example["raft"]["golden"]
        sources = _sources(example)
        assert len(sources) == 4 and assistant["content"] == f"{item.answers[0]} [{number}]"
        assert item.answers[0] in sources[number - 1]
        assert all(item.answers[0] not in s for i, s in enumerate(sources, 1) if i != number)
        assert len(set(example["raft"]["distractors"])) == 3


def test_examples_without_the_golden_chunk_teach_refusal_or_recall(indexed) -> None:  # type: ignore[no-untyped-def]
    squad, retriever = indexed
    items = squad.items()
    refuse = _builder(retriever, distractors=2, no_golden_share=1.0).build(items, len(items))
    assert refuse.with_golden == 0
    for item, example in zip(items, refuse.examples):
        assert example["messages"][2]["content"] == NOT_FOUND and len(_sources(example)) == 3
        assert all(item.answers[0] not in s for s in _sources(example))
    recall = _builder(retriever, distractors=2, no_golden_share=1.0, without_golden="answer").build(items, len(items))
    assert [e["messages"][2]["content"] for e in recall.examples] == [i.answers[0] for i in items]
    mixed = _builder(retriever, no_golden_share=0.5, seed=3).build(items * 4, 4 * len(items))
    assert 0.25 < mixed.with_golden / len(mixed.examples) < 0.75


def test_chain_of_thought_quotes_the_sentence_then_gives_the_answer(indexed) -> None:  # type: ignore[no-untyped-def]
    squad, retriever = indexed
    item = squad.items()[0]
    example = _builder(retriever, style="cot", no_golden_share=0.0).example(item)
    n = example["raft"]["golden"]
    quote_line, answer_line = example["messages"][2]["content"].split("\n")
    assert quote_line == f'Source [{n}] says: "It employs 240 people in three shifts." [{n}]'
    assert answer_line == f"Answer: 240 people [{n}]"
    assert quoted_sentence("One. Two has 5 cats. Three.", "5 cats") == "Two has 5 cats."


def test_a_reply_is_learnt_as_written_with_its_relevant_document_as_the_golden_source(indexed) -> None:  # type: ignore[no-untyped-def]
    from ragtune.evaluate.items import EvalItem

    squad, retriever = indexed
    question = "How many people does the Aldwick works employ?"
    reply = "Hi there,\n\nThe works employs 240 people across its three shifts.\n\nKind regards"
    item = EvalItem("r", question, (reply,), {"context_0000.txt": 1})
    example = _builder(retriever, style="reply", no_golden_share=0.0, distractors=2).example(item)
    n = example["raft"]["golden"]
    assert example["messages"][2]["content"] == reply  # no quote, no marker added
    assert "240 people" in _sources(example)[n - 1]
    # Without a relevant document a reply has no golden source: skipped, as in the quote style.
    data = _builder(retriever, style="reply").build([EvalItem("s", question, (reply,))], 1)
    assert data.skipped == ["s: no chunk holds a gold answer (it may span two chunks)"]


def test_a_question_whose_answer_no_chunk_holds_is_skipped_with_its_reason(indexed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from ragtune.evaluate.items import EvalItem

    squad, retriever = indexed
    bogus = EvalItem("x", "How many people does the Aldwick works employ?", ("9999 people",), {"context_0000.txt": 1})
    data = _builder(retriever).build([bogus, squad.items()[0]], 2)
    assert len(data.examples) == 1 and data.skipped == ["x: no chunk holds a gold answer (it may span two chunks)"]
    path = data.write(tmp_path / "raft.jsonl")
    read = read_examples(path, "chat")
    assert not read.errors and len(read.examples) == 1
    assert json.loads(path.read_text())["raft"]["id"] == squad.items()[0].id


def test_without_gold_answers_the_llm_answers_from_the_golden_chunk(indexed, llama_llm) -> None:  # type: ignore[no-untyped-def]
    from ragtune.evaluate.items import EvalItem

    squad, retriever = indexed
    question = EvalItem("q", "Who is the manager of the Corran works?", (), {"context_0002.txt": 1})
    builder = RaftBuilder(retriever, RaftConfig(no_golden_share=0.0), not_found_text=NOT_FOUND, principal=READER,
                          llm=llama_llm)
    data = builder.build([question], 1)
    if data.skipped:  # the small model may find nothing: then the reason is the model's, stated
        assert data.skipped == ["q: the LLM found no answer in the golden chunk"]
        return
    (example,) = data.examples
    print("generated RAFT answer:", example["messages"][2]["content"])
    n = example["raft"]["golden"]
    assert "Corran" in _sources(example)[n - 1]
    answer = example["messages"][2]["content"]
    assert answer.endswith(f" [{n}]") and "[1]" not in answer[:-4]
