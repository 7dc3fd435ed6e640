from __future__ import annotations

import pytest

from ragtune.evaluate.answer_metrics import (
    answer_in_context,
    citation_precision,
    citation_recall,
    exact_match,
    normalize_answer,
    token_f1,
)
from ragtune.evaluate.qa_eval import strip_markers


def test_squad_normalisation() -> None:
    assert normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    assert normalize_answer("An apple, a pear and the plum.") == "apple pear and plum"


def test_exact_match_and_f1_take_the_best_gold_answer() -> None:
    golds = ["27 days", "twenty-seven days"]
    assert exact_match("27 Days.", golds) == 1.0
    assert exact_match("27", golds) == 0.0
    # "27" vs "27 days": precision 1, recall 1/2 -> F1 2/3
    assert token_f1("27", golds) == pytest.approx(2 / 3)
    assert token_f1("the weather", golds) == 0.0
    assert token_f1("anything", []) == 0.0


def test_answer_in_context_matches_whole_words_only() -> None:
    assert answer_in_context(["27 days"], ["Employees get 27 days of leave."]) == 1.0
    assert answer_in_context(["7 days"], ["Employees get 27 days of leave."]) == 0.0
    assert answer_in_context(["27 days"], []) == 0.0


def test_citation_precision_and_recall() -> None:
    assert citation_precision(["a", "b", "b"], ["a"]) == 0.5
    assert citation_precision([], ["a"]) is None
    assert citation_recall(["a"], ["a", "c"]) == 0.5
    assert citation_recall(["a"], []) is None


def test_markers_are_removed_before_comparing_with_gold() -> None:
    assert strip_markers("It is 27 days [1]. Really [1, 2][Source 3]") == "It is 27 days. Really"


def test_a_reasoned_answer_is_scored_on_its_last_answer_line() -> None:
    cot = 'Source [2] says: "It employs 240 people in three shifts." [2]\nAnswer: 240 people [2]'
    assert strip_markers(cot) == "240 people"
    assert strip_markers("First guess.\nanswer: 12\nAnswer : 14 days [1]") == "14 days"
    assert strip_markers("The answer: it depends [1].") == "The answer: it depends."  # not at a line start
