from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragtune.decide.freshness import freshness_metrics, load_update, synthesize_squad_update
from ragtune.errors import EvalDataError
from ragtune.evaluate.items import EvalItem
from ragtune.evaluate.squad import load_squad
from tests.decide.tiny_squad import PLANTS, write_tiny_squad


def test_a_synthesized_update_changes_the_trained_number_everywhere_in_its_document(tmp_path: Path) -> None:
    squad = load_squad(write_tiny_squad(tmp_path / "tiny.json"))
    staff_questions = [q for q in squad.questions if q.id.endswith("-staff")]
    update = synthesize_squad_update(squad, staff_questions, n=3, seed=1)
    assert len(update.items) == len(update.files) == 3
    for item in update.items:
        question = next(q for q in staff_questions if f"fresh-{q.id}" == item.id)
        old = str(PLANTS[question.context][3])
        (new,) = item.answers
        assert new != old and update.stale[item.id] == (old,)
        text = update.files[squad.context_file(question.context)]
        assert f"{new} people" in text and f" {old} people" not in text
        assert text.replace(f"{new} people", f"{old} people") == squad.contexts[question.context]
        assert item.question == question.question and item.relevant == {squad.context_file(question.context): 1}


def test_only_questions_with_a_number_in_the_answer_are_changed(tmp_path: Path) -> None:
    squad = load_squad(write_tiny_squad(tmp_path / "tiny.json"))
    managers = [q for q in squad.questions if q.id.endswith("-manager")]
    assert synthesize_squad_update(squad, managers, n=5).items == []


def test_freshness_scores_new_and_old_facts_as_whole_words() -> None:
    item = EvalItem("f1", "How many?", ("360",))
    stale = {"f1": ("240",)}
    assert freshness_metrics("It employs 360 people [1].", item, stale) == {"fresh": 1.0, "stale": 0.0}
    assert freshness_metrics("It employs 240 people.", item, stale) == {"fresh": 0.0, "stale": 1.0}
    assert freshness_metrics("It employs 3600 people.", item, {}) == {"fresh": 0.0, "stale": None}
    assert freshness_metrics("About 1360 of them.", item, stale) == {"fresh": 0.0, "stale": 0.0}  # whole words only


def test_a_user_update_names_its_files_and_needs_questions_with_answers(tmp_path: Path) -> None:
    docs = tmp_path / "update" / "prices"
    docs.mkdir(parents=True)
    (docs / "belt.md").write_text("The Commuter 200 Belt now costs 149 EUR.", encoding="utf-8")
    questions = tmp_path / "fresh.jsonl"
    questions.write_text(json.dumps({"id": "p", "question": "What does the belt cost?", "answers": ["149 EUR"]}) + "\n")
    update = load_update(tmp_path / "update", questions)
    assert update.files == {"prices/belt.md": "The Commuter 200 Belt now costs 149 EUR."}
    assert [i.answers for i in update.items] == [("149 EUR",)]
    unanswered = tmp_path / "none.jsonl"
    unanswered.write_text(json.dumps({"id": "p", "question": "What does the belt cost?"}) + "\n")
    with pytest.raises(EvalDataError, match="none.jsonl: no question with answers"):
        load_update(tmp_path / "update", unanswered)
    with pytest.raises(EvalDataError, match="not a folder"):
        load_update(tmp_path / "missing", questions)
