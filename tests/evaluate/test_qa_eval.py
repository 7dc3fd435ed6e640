"""``evaluate_answers``' answer_hit and expected refusals, on the shipped sample corpus indexed into a
real SQLite store (hashing embedder) with its real access lists: the HR folder is for group hr,
policies/security.md for staff and it, everything else for staff."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ragtune.config import RagtuneConfig
from ragtune.evaluate.items import EvalItem
from ragtune.evaluate.qa_eval import evaluate_answers
from ragtune.evaluate.visibility import RelevantVisibility
from ragtune.generate.answer import Answer
from ragtune.ingest.api import ingest
from ragtune.retrieve.api import open_retriever
from ragtune.retrieve.retriever import Retriever
from ragtune.types import Principal
from ragtune.workspace import Workspace
from tests.evaluate.datasets import HASHING_TOML

ROOT = Path(__file__).resolve().parents[2]
EMPLOYEE = Principal("erik", frozenset({"staff"}))
HR = Principal("hanna", frozenset({"staff", "hr"}))
IT = Principal("ines", frozenset({"it"}))
GUEST = Principal("gast", frozenset({"visitors"}))
LEAVE = "How many days of paid annual leave do employees get?"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    corpus = shutil.copytree(ROOT / "examples" / "sample_corpus", tmp_path_factory.mktemp("docs") / "sample_corpus")
    ws = Workspace(tmp_path_factory.mktemp("ws"))
    (ws.root / "ragtune.toml").write_text(HASHING_TOML)
    report = ingest(ws, [corpus], groups=["staff"], sync=True)
    assert report.failed == 0
    return ws


@pytest.fixture
def retriever(workspace: Workspace) -> Iterator[Retriever]:
    retriever = open_retriever(workspace)
    yield retriever
    retriever.store.close()


class ScriptedAnswerer:
    """Retrieves for real as the principal, then gives the scripted reply for (question, user);
    ``None`` is a refusal, as the relevance gate gives it (no sources, no model)."""

    def __init__(self, retriever: Retriever, replies: dict[tuple[str, str], str | None]) -> None:
        self.retriever = retriever
        self.replies = replies

    def ask(self, question: str, principal: Principal) -> Answer:
        hits = self.retriever.search(question, principal, k=5).hits
        reply = self.replies[(question, principal.user_id)]
        if reply is None:
            return Answer(question, "I could not find this.", False, "scripted", principal.user_id, hits=hits)
        return Answer(question, reply, True, "scripted", principal.user_id, sources=hits, hits=hits)


def rows_by_id(answerer: ScriptedAnswerer, items: list[EvalItem], **kwargs: object) -> dict[str, dict]:
    rows = evaluate_answers(answerer, items, "v", RagtuneConfig(), Principal("eval"), **kwargs)  # type: ignore[arg-type]
    return {r["query_id"]: r for r in rows}


def test_visibility_is_the_stores_access_check(retriever: Retriever) -> None:
    visibility = RelevantVisibility(retriever.store)
    leave, security = {"hr/leave.md": 1}, {"policies/security.md": 1}
    assert visibility.hidden(leave, EMPLOYEE) and not visibility.hidden(leave, HR)
    assert not visibility.hidden(security, EMPLOYEE) and not visibility.hidden(security, IT)
    assert visibility.hidden(security, GUEST)
    assert visibility.hidden({"hr/leave.md": 1, "travel.md": 1}, GUEST)
    assert not visibility.hidden({"hr/leave.md": 1, "travel.md": 1}, EMPLOYEE)  # one visible is enough
    assert not visibility.hidden({"hr/leave.md": 0}, EMPLOYEE)  # judged not relevant
    assert not visibility.hidden({}, EMPLOYEE)
    # An id no stored file answers to (a typo, an unsynced folder) never becomes an expected refusal.
    assert not visibility.hidden({"hr/leaves.md": 1}, EMPLOYEE)
    assert visibility.hidden({"salary-bands.csv": 1}, EMPLOYEE) and not visibility.hidden({"salary-bands.csv": 1}, HR)
    assert any(s.endswith("hr/leave.md") for s in visibility.visible_sources(HR))
    assert not any("/hr/" in s for s in visibility.visible_sources(EMPLOYEE))


def test_answer_hit_scores_expected_refusals_and_gold_answers(retriever: Retriever) -> None:
    security = "How long must passwords be?"
    items = [
        EvalItem("leave-employee", LEAVE, ("27 days",), {"hr/leave.md": 1}, EMPLOYEE),
        EvalItem("leave-hr", LEAVE, ("27 days",), {"hr/leave.md": 1}, HR),
        EvalItem("security-staff", security, ("14 characters",), {"policies/security.md": 1}, EMPLOYEE),
        EvalItem("security-guest", security, ("14 characters",), {"policies/security.md": 1}, GUEST),
        EvalItem("declared", "What is the CEO's salary?", (), {}, EMPLOYEE, expect_refusal=True),
        EvalItem("unscored", "Tell me about bikes.", (), {}, EMPLOYEE),
    ]
    refusing = {(LEAVE, "erik"): None, (LEAVE, "hanna"): "Full-time employees receive 27 days [1].",
                (security, "erik"): "At least 14 characters [1].", (security, "gast"): None,
                ("What is the CEO's salary?", "erik"): None, ("Tell me about bikes.", "erik"): "City bikes."}
    rows = rows_by_id(ScriptedAnswerer(retriever, refusing), items)
    hit = {q: r["metrics"]["answer_hit"] for q, r in rows.items()}
    assert hit == {"leave-employee": 1.0, "leave-hr": 1.0, "security-staff": 1.0, "security-guest": 1.0,
                   "declared": 1.0, "unscored": None}
    assert {q for q, r in rows.items() if r["expects_refusal"]} == {"leave-employee", "security-guest", "declared"}
    assert list(rows["leave-hr"]["metrics"])[:3] == ["exact_match", "f1", "answer_hit"]
    assert rows["leave-hr"]["metrics"]["exact_match"] == 0.0  # a sentence never equals the short gold span

    # Answering where a refusal is expected, or refusing where an answer is, scores 0.
    wrong = {**refusing, (LEAVE, "erik"): "27 days [1].", (LEAVE, "hanna"): None,
             (security, "erik"): "At least 12 characters.", ("What is the CEO's salary?", "erik"): "A lot."}
    rows = rows_by_id(ScriptedAnswerer(retriever, wrong), items)
    hit = {q: r["metrics"]["answer_hit"] for q, r in rows.items()}
    assert hit == {"leave-employee": 0.0, "leave-hr": 0.0, "security-staff": 0.0, "security-guest": 1.0,
                   "declared": 0.0, "unscored": None}


def test_without_a_store_only_declared_refusals_are_expected(retriever: Retriever) -> None:
    items = [EvalItem("leave-employee", LEAVE, ("27 days",), {"hr/leave.md": 1}, EMPLOYEE),
             EvalItem("declared", LEAVE, ("27 days",), {"hr/leave.md": 1}, HR, expect_refusal=True)]
    answerer = ScriptedAnswerer(retriever, {(LEAVE, "erik"): None, (LEAVE, "hanna"): None})
    closed_book = rows_by_id(answerer, items, retrieval=False)
    assert {q: r["expects_refusal"] for q, r in closed_book.items()} == {"leave-employee": False, "declared": True}
    assert closed_book["leave-employee"]["metrics"]["answer_hit"] == 0.0
    # An explicit store decides as the answerer's own retriever would.
    given = rows_by_id(answerer, items, store=retriever.store)
    assert {q: r["expects_refusal"] for q, r in given.items()} == {"leave-employee": True, "declared": True}


def test_numeric_match_is_scored_only_where_the_gold_is_a_number(retriever: Retriever) -> None:
    from ragtune.evaluate.summary import summarise

    budget = "What is the travel budget?"
    items = [
        EvalItem("number-right", budget, ("$1577.00",), {}, EMPLOYEE),
        EvalItem("number-wrong", LEAVE, ("27",), {}, EMPLOYEE),
        EvalItem("number-refused", "What is the CEO's salary?", ("65.4%",), {}, EMPLOYEE),
        EvalItem("words", "Tell me about bikes.", ("city bikes",), {}, EMPLOYEE),
    ]
    replies = {(budget, "erik"): "It was $1.577 billion [1].", (LEAVE, "erik"): "28 days [1].",
               ("What is the CEO's salary?", "erik"): None, ("Tell me about bikes.", "erik"): "City bikes."}
    rows = rows_by_id(ScriptedAnswerer(retriever, replies), items)
    numeric = {q: r["metrics"]["numeric_match"] for q, r in rows.items()}
    assert numeric == {"number-right": 1.0, "number-wrong": 0.0, "number-refused": 0.0, "words": None}
    assert rows["number-right"]["metrics"]["answer_hit"] == 0.0  # the plain match misses "$1.577 billion"
    summary = summarise(list(rows.values()))
    assert summary["numeric_questions"] == 3
    assert summary["metrics"]["numeric_match"] == pytest.approx(1 / 3)
