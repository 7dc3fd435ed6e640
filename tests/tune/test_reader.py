"""The reader: a cross-encoder trained on (question, answering sentence) positives and
same-document hard negatives, registered as kind "reader", and served through a registry
reference as the reranker (and the answer scorer)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ragtune.config import RagtuneConfig
from ragtune.errors import LoadError, RegistryError
from ragtune.tune.reader import (
    ReaderExample,
    beir_data,
    corpus_lookup,
    evalset_data,
    holds_answer,
    ranking_scores,
    split_examples,
    squad_data,
)
from ragtune.tune.reader_config import ReaderTuneConfig
from ragtune.registry.store import ModelRegistry
from ragtune.registry.references import resolve_references
from tests.evaluate.datasets import write_beir
from tests.test_cli import run

ARTICLES = [
    ("Bikes", "The Commuter 200 Belt costs 899 EUR in every store. Its frame is made of aluminium. "
              "The belt drive needs no oil and lasts for years. A front light is included with each bike. "
              "Deliveries take five working days within the country. Test rides are free on Saturdays.",
     [("What does the Commuter 200 Belt cost?", "899 EUR"), ("What is the frame made of?", "aluminium"),
      ("How long do deliveries take?", "five working days")]),
    ("Leave", "Employees get 27 days of paid annual leave per year. Unused days expire at the end of March. "
              "Sick leave needs a doctor's note after three days. Parental leave is granted for up to two years. "
              "Requests go through the HR portal. Managers approve requests within a week.",
     [("How many days of paid annual leave do employees get?", "27 days"),
      ("When do unused leave days expire?", "the end of March"),
      ("When is a doctor's note needed for sick leave?", "after three days")]),
    ("Travel", "The hotel cap per night in London is 180 EUR. Meals are refunded up to 40 EUR per day. "
               "Trains are preferred over flights under four hours. Taxis need a receipt to be refunded. "
               "Travel is booked through the company agency. Business class is never refunded.",
     [("What is the hotel cap per night in London?", "180 EUR"), ("How much are meals refunded per day?", "40 EUR"),
      ("When are trains preferred over flights?", "under four hours")]),
]


def write_squad(path: Path, articles=ARTICLES) -> Path:  # type: ignore[no-untyped-def]
    data = {"data": [
        {"title": title, "paragraphs": [{"context": context, "qas": [
            {"id": f"{title}-{n}", "question": q, "answers": [{"text": a, "answer_start": context.index(a)}]}
            for n, (q, a) in enumerate(qas)]}]}
        for title, context, qas in articles]}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_squad_examples_pair_the_answering_sentence_with_other_sentences_of_its_document(tmp_path: Path) -> None:
    data = squad_data(write_squad(tmp_path / "squad.json"), ReaderTuneConfig(negatives=3))
    assert len(data.examples) == 9 and not data.skipped
    assert data.source["layout"] == "squad" and len(data.source["file_sha256"]) == 64
    contexts = {q: (context, a) for _, context, qas in ARTICLES for q, a in qas}
    for ex in data.examples:
        context, answer = contexts[ex.question]
        (positive,) = ex.positives
        assert answer in positive and positive in context
        assert len(ex.negatives) == 3 and len(set(ex.negatives)) == 3
        assert all(n in context and answer not in n and n != positive for n in ex.negatives)
    belt = next(ex for ex in data.examples if ex.id == "Bikes-0")
    assert belt.positives == ("The Commuter 200 Belt costs 899 EUR in every store.",)


def test_negatives_are_seeded_and_independent_of_input_order(tmp_path: Path) -> None:
    config = ReaderTuneConfig(negatives=2)
    first = squad_data(write_squad(tmp_path / "a.json"), config)
    again = squad_data(write_squad(tmp_path / "b.json"), config)
    reordered = squad_data(write_squad(tmp_path / "c.json", list(reversed(ARTICLES))), config)
    assert first.examples == again.examples and first.content_hash() == again.content_hash()
    assert sorted(first.examples, key=lambda e: e.id) == sorted(reordered.examples, key=lambda e: e.id)
    other_seeds = [squad_data(tmp_path / "a.json", ReaderTuneConfig(negatives=2, seed=s)).examples for s in (1, 2, 3)]
    assert any(examples != first.examples for examples in other_seeds)  # 4+ candidates each: the seed matters


def test_answers_match_whole_tokens_and_unanswerable_questions_are_skipped(tmp_path: Path) -> None:
    assert holds_answer("Returns are accepted within 2 weeks.", ["2"])
    assert not holds_answer("Prices changed in 2020.", ["2"])
    assert holds_answer("The hotel  cap is 180\nEUR.", ["180 eur"])
    articles = [("Odd", "A sentence about nothing. Another one about bikes. A third one about trains.",
                 [("What is the price?", "nothing")])]
    path = write_squad(tmp_path / "odd.json", articles)
    raw = json.loads(path.read_text())
    raw["data"][0]["paragraphs"][0]["qas"].append({"id": "gone", "question": "Where?", "answers": [{"text": "Mars"}]})
    path.write_text(json.dumps(raw))
    data = squad_data(path, ReaderTuneConfig())
    assert [ex.id for ex in data.examples] == ["Odd-0"]
    assert data.skipped == ["gone: no sentence of its document holds a gold answer"]


def test_evalset_examples_come_from_the_relevant_documents_of_a_corpus(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "hr").mkdir(parents=True)
    (docs / "hr" / "leave.md").write_text("# Leave\n\n" + ARTICLES[1][1] + "\n")
    (docs / "travel.md").write_text("# Travel\n\n" + ARTICLES[2][1] + "\n")
    evalset = tmp_path / "eval.jsonl"
    evalset.write_text("\n".join(json.dumps(r) for r in [
        {"id": "a", "question": "How many days of paid annual leave do employees get?", "answers": ["27 days"],
         "relevant_doc_ids": ["hr/leave.md"]},
        {"id": "b", "question": "What is the hotel cap per night in London?", "answers": ["180 EUR"],
         "relevant_doc_ids": ["travel.md"]},
        {"id": "c", "question": "Who founded the company?", "answers": ["Ada"], "relevant_doc_ids": ["about.md"]},
        {"id": "d", "question": "Is there a canteen?", "expect_refusal": True},
    ]) + "\n")
    lookup, problems = corpus_lookup([docs], RagtuneConfig().ingest)
    data = evalset_data(evalset, lookup, ReaderTuneConfig(negatives=10), corpus=str(docs))
    assert not problems and [ex.id for ex in data.examples] == ["a", "b"]
    leave, hotel = data.examples
    assert leave.positives == ("Employees get 27 days of paid annual leave per year.",)
    assert set(leave.negatives) <= set(ARTICLES[1][1].replace(". ", ".\n").splitlines()) and len(leave.negatives) == 5
    assert all("London" not in n for n in leave.negatives) and "180 EUR" in hotel.positives[0]
    assert [s.split(":")[0] for s in data.skipped] == ["c", "d"]


def test_without_a_corpus_each_question_reads_the_index_as_its_principal(tmp_path: Path) -> None:
    from ragtune.tune.api import reader_data
    from ragtune.workspace import Workspace
    from tests.test_cli import fast_workspace

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "leave.md").write_text("# Leave\n\n" + ARTICLES[1][1] + "\n")
    ws = fast_workspace(tmp_path / "ws")
    assert run("ingest", str(docs), "--groups", "hr", "-w", str(ws), cwd=tmp_path).returncode == 0
    evalset = tmp_path / "eval.jsonl"
    question = {"question": "How many days of paid annual leave do employees get?", "answers": ["27 days"],
                "relevant_doc_ids": ["leave.md"]}
    evalset.write_text(json.dumps({**question, "id": "hr", "principal": {"user": "hanna", "groups": ["hr"]}}) + "\n"
                       + json.dumps({**question, "id": "staff", "principal": {"user": "erik", "groups": ["staff"]}}) + "\n")
    data = reader_data(Workspace(ws), ReaderTuneConfig(), evalset=evalset)
    assert [ex.id for ex in data.examples] == ["hr"] and data.source["corpus"] == "workspace index"
    assert data.skipped == ["staff: none of its relevant documents (leave.md) was found visible to its principal in the index"]


def test_beir_examples_use_judged_positives_and_unjudged_bm25_negatives(tmp_path: Path) -> None:
    root = write_beir(tmp_path / "beir", docs=30, queries=10)
    data = beir_data(root, "dev", ReaderTuneConfig(negatives=3))
    corpus = {r["_id"]: f"{r['title']} {r['text']}" for r in map(json.loads, (root / "corpus.jsonl").read_text().splitlines())}
    qrels = [line.split("\t") for line in (root / "qrels" / "dev.tsv").read_text().splitlines()[1:]]
    assert len(data.examples) == 5 and data.source["split"] == "dev"
    for ex in data.examples:
        judged = {corpus[d] for q, d, _ in qrels if q == ex.id}
        assert set(ex.positives) == judged and len(ex.negatives) == 3 and not set(ex.negatives) & judged
    assert beir_data(root, "dev", ReaderTuneConfig(negatives=3)).examples == data.examples


def test_split_by_question_and_ranking_scores() -> None:
    examples = [ReaderExample(f"q{i}", f"question {i // 2}?", ("p",), ("n1", "n2")) for i in range(20)]
    train, held = split_examples(examples, 0.2, seed=0)
    assert len(held) == 4 and not {e.group for e in train} & {e.group for e in held}
    assert split_examples(list(reversed(examples)), 0.2, seed=0)[1] == list(reversed(held))
    assert len(split_examples(examples[:2], 0.1, seed=0)[1]) == 0  # one question: nothing held out
    assert len(split_examples(examples[:4], 0.1, seed=0)[1]) == 2  # two questions: one held out

    def perfect(pairs):  # type: ignore[no-untyped-def]
        return np.array([1.0 if text == "p" else 0.0 for _, text in pairs])

    assert ranking_scores(examples, perfect) == {"accuracy@1": 1.0, "mrr": 1.0}
    assert ranking_scores(examples, lambda pairs: np.zeros(len(pairs))) == {"accuracy@1": 0.0, "mrr": round(1 / 3, 4)}


def _register_fake(models: Path, kind: str) -> None:
    registry = ModelRegistry(models)
    with registry.staging("other") as staging:
        (staging / "model").mkdir()
        registry.register(staging, name="other", kind=kind, base_model="x", data={}, hyperparameters={}, metrics={},
                          training_seconds=0, artifacts={"model": "model"})


def test_reader_references_name_the_field_when_they_fail(tmp_path: Path) -> None:
    models = tmp_path / "models"
    _register_fake(models, "embedder")
    config = RagtuneConfig()
    wrong_kind = config.model_copy(update={"retrieval": config.retrieval.model_copy(update={"rerank_model": "other@v1"})})
    with pytest.raises(RegistryError, match="retrieval.rerank_model: other@v1 is of kind 'embedder', not a reader"):
        resolve_references(wrong_kind, models)
    missing = config.model_copy(update={"answer": config.answer.model_copy(update={"scorer": "other@v7"})})
    with pytest.raises(RegistryError, match="answer.scorer: no model other@v7"):
        resolve_references(missing, models)
    from ragtune.errors import ConfigError
    from ragtune.retrieve.api import open_cross_encoder

    with pytest.raises(ConfigError, match="answer.scorer: '.*nowhere' is not a folder"):
        open_cross_encoder(str(tmp_path / "nowhere"), field="answer.scorer")


def test_missing_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="nope.json: no such file"):
        squad_data(tmp_path / "nope.json", ReaderTuneConfig())
    done = run("tune", "reader", "r", "--evalset", str(tmp_path / "nope.jsonl"), "--corpus", str(tmp_path),
               "-w", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2 and "nope.jsonl: no such file" in done.stderr
    done = run("tune", "reader", "r", "--squad", "a.json", "--beir", "b", "-w", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2 and "exactly one source" in done.stderr


@pytest.mark.integration
def test_a_trained_reader_reranks_through_a_registry_reference(tmp_path: Path) -> None:
    squad = write_squad(tmp_path / "squad.json")
    ws = tmp_path / "ws"
    ws.mkdir()
    done = run("tune", "reader", "faq", "--squad", str(squad), "--max-steps", "3", "--batch-size", "4",
               "--validation", "0.34", "--json", "-w", str(ws), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    entry = json.loads(done.stdout)
    assert entry["kind"] == "reader" and entry["artifacts"] == {"model": "model"}
    assert entry["data"]["layout"] == "squad" and entry["data"]["rows"] == {"train": 6, "validation": 3}
    assert {"accuracy@1", "mrr", "accuracy@1_base", "mrr_base"} <= entry["metrics"].keys()
    assert entry["extra"]["steps"] == 3 and len(entry["data"]["sha256"]) == 64

    (ws / "ragtune.toml").write_text('[retrieval]\nrerank_model = "faq@v1"\n\n[answer]\nscorer = "faq@latest"\n')
    from ragtune.retrieve.api import open_cross_encoder
    from ragtune.workspace import Workspace

    config = Workspace(ws).load_config()
    folder = ws / "models" / "faq" / "v1" / "model"
    assert Path(config.retrieval.rerank_model) == folder and Path(config.answer.scorer) == folder
    reranker = open_cross_encoder(config.retrieval.rerank_model)
    scores = reranker.score("What does the Commuter 200 Belt cost?", ["It costs 899 EUR.", "Trains are preferred."])
    assert reranker.identity == "faq@v1" and scores.shape == (2,) and np.isfinite(scores).all()
    shown = run("models", "list", "-w", str(ws), cwd=tmp_path)
    assert shown.returncode == 0 and "reader" in shown.stdout
