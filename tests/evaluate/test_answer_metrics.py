from __future__ import annotations

import pytest

from ragtune.evaluate.answer_metrics import (
    RELATIVE_TOLERANCE,
    answer_hit,
    answer_in_context,
    citation_precision,
    citation_recall,
    exact_match,
    normalize_answer,
    numeric_answer,
    numeric_match,
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


def test_answer_hit_needs_the_gold_as_whole_words_in_order() -> None:
    assert answer_hit("Charge them in the fireproof charging cabinet in bay 3 [1].", ["bay 3"]) == 1.0
    assert answer_hit("The Cabinet, in Bay 3!", ["bay 3"]) == 1.0
    assert answer_hit("up to three days per week", ["three days"]) == 1.0
    assert answer_hit("Employees wear safety glasses.", ["safety glasses"]) == 1.0
    assert answer_hit("glasses for safety", ["safety glasses"]) == 0.0  # order matters
    assert answer_hit("The IT desk number is 4400.", ["extension 4400"]) == 0.0
    assert answer_hit("in the workshop's bay", ["bay 3"]) == 0.0
    assert answer_hit("bay 30", ["bay 3"]) == 0.0
    assert answer_hit("the bikeshed", ["bike"]) == 0.0  # whole words only
    assert answer_hit("anything", []) == 0.0
    assert answer_hit("anything", ["the", "!"]) == 0.0  # a gold that normalises to nothing


def test_answer_hit_numbers_are_values_not_substrings() -> None:
    assert answer_hit("It costs 899 EUR.", ["89"]) == 0.0
    assert answer_hit("It costs 89 EUR.", ["899"]) == 0.0
    assert answer_hit("Employees get 27 weeks.", ["27 days"]) == 0.0
    assert answer_hit("Employees get 27 days.", ["7 days"]) == 0.0
    assert answer_hit("27 weeks, 5 days", ["27 days"]) == 0.0  # the unit word must stand by its number
    assert answer_hit("Employees receive 27 days of paid annual leave.", ["27 days"]) == 1.0
    assert answer_hit("27 working days", ["27 days"]) == 1.0  # one word may stand between
    assert answer_hit("27 paid working days", ["27 days"]) == 0.0
    assert answer_hit("a one-year warranty", ["1 year"]) == 1.0
    assert answer_hit("a warranty of 3 years", ["3 year"]) == 1.0  # a unit word's plural counts
    assert answer_hit("twenty-seven days", ["27 days"]) == 1.0
    assert answer_hit("version C200", ["200"]) == 0.0  # digits glued to a letter are part of a word


def test_answer_hit_reads_thousands_decimals_and_percentages() -> None:
    assert answer_hit("The band tops out at 1,200.", ["1200"]) == 1.0
    assert answer_hit("The band tops out at 1200, not more.", ["1,200"]) == 1.0
    assert answer_hit("pay is topped up to 80% of salary", ["80 %"]) == 1.0
    assert answer_hit("pay is topped up to 80 percent of salary", ["80 %"]) == 1.0
    assert answer_hit("eighty per cent", ["80%"]) == 1.0
    assert answer_hit("pay is topped up to 80 of salary", ["80 %"]) == 0.0  # a gold percentage needs its %
    assert answer_hit("about 80 %", ["80"]) == 1.0  # a bare gold number takes any unit
    assert answer_hit("a 3.0 year warranty", ["3"]) == 1.0
    assert answer_hit("3", ["3.0"]) == 1.0
    assert answer_hit("At 17:00 on weekdays.", ["17:00"]) == 1.0
    assert answer_hit("At 7:30 to 17:00.", ["07:30 to 17:00"]) == 1.0


def test_answer_hit_tolerance_is_relative() -> None:
    assert RELATIVE_TOLERANCE == 0.005
    assert answer_hit("about 1,205 people", ["1200"]) == 1.0  # 0.4 %
    assert answer_hit("about 1,210 people", ["1200"]) == 0.0  # 0.8 %
    assert answer_hit("27.1 days", ["27 days"]) == 1.0
    assert answer_hit("28 days", ["27 days"]) == 0.0
    assert answer_hit("0 %", ["0%"]) == 1.0


@pytest.mark.parametrize("prediction", ["EUR 899", "€899", "899 EUR", "899 euros", "899 €", "It costs EUR 899.",
                                        "The Commuter 200 Belt costs 899 euro [1]."])
def test_answer_hit_reads_every_way_of_writing_an_amount(prediction: str) -> None:
    assert answer_hit(prediction, ["899 EUR"]) == 1.0
    assert answer_hit(prediction, ["€899"]) == 1.0
    assert answer_hit(prediction, ["899"]) == 1.0


def test_answer_hit_amounts_need_their_currency() -> None:
    assert answer_hit("It costs 899.", ["899 EUR"]) == 0.0
    assert answer_hit("It costs $899.", ["899 EUR"]) == 0.0
    assert answer_hit("It costs 899 GBP.", ["899 EUR"]) == 0.0
    assert answer_hit("It costs 649 EUR; the belt 899.", ["899 EUR"]) == 0.0
    assert answer_hit("Hotels: 120 EUR in most cities, 180 EUR in London.", ["180 EUR"]) == 1.0
    assert answer_hit("Hotels: 120 EUR in most cities.", ["180 EUR"]) == 0.0
    assert answer_hit("Meals are refunded up to 40 EUR per day.", ["40 EUR"]) == 1.0
    assert answer_hit("Meals are refunded up to 40 EUR per day.", ["40 EUR per day"]) == 1.0
    assert answer_hit("Meals are refunded up to 40 EUR a week.", ["40 EUR per day"]) == 0.0


def test_answer_hit_takes_the_best_gold_answer() -> None:
    assert answer_hit("up to three days per week", ["27 days", "3 days"]) == 1.0
    assert answer_hit("up to three days per week", ["27 days", "4 days"]) == 0.0
    assert answer_hit("", ["27 days"]) == 0.0


@pytest.mark.parametrize("gold, numeric", [
    ("$1577.00", True), ("65.4%", True), ("0.66", True), ("-$473 million", True), ("(1,577)", True),
    ("1,577 million", True), ("$8.70.", True),
    ("AMCOR's Adj. EBITDA was $2,018mn in FY 2023", False), ("Yes. It decreased.", False), ("", False),
])
def test_numeric_answer_is_a_gold_that_is_one_amount(gold: str, numeric: bool) -> None:
    assert (numeric_answer(gold) is not None) is numeric


@pytest.mark.parametrize("prediction", ["1,577", "1577", "$1,577", "USD 1,577.0", "$1,577 million", "$1.577 billion",
                                        "Purchases of PP&E were (1,577) [1].", "1576.8", "$1,576.6 million"])
def test_numeric_match_forgives_formatting_scale_and_rounding(prediction: str) -> None:
    assert numeric_match(prediction, ["$1577.00"]) == 1.0


@pytest.mark.parametrize("prediction", ["1,557", "15.77", "-1,577", "$1.6 billion", "$1.58 billion", "1,577%", "€1,577",
                                        "2018: 1,490", "FY1577", "capital expenditure"])
def test_numeric_match_misses_other_amounts(prediction: str) -> None:
    assert numeric_match(prediction, ["$1577.00"]) == 0.0


def test_numeric_match_rounds_to_the_gold_precision_only() -> None:
    assert numeric_match("The ratio is 0.8312.", ["0.83"]) == 1.0
    assert numeric_match("0.655", ["0.66"]) == 1.0  # half up, in decimal (a float would round 0.655 down)
    assert numeric_match("0.8", ["0.83"]) == 0.0  # less precise than the gold, 3.6 % off
    assert numeric_match("0.84", ["0.83"]) == 0.0
    assert numeric_match("17.984", ["17.98"]) == 1.0
    assert numeric_match("17.99", ["17.98"]) == 1.0  # 0.06 %: within RELATIVE_TOLERANCE
    assert numeric_match("18.1", ["17.98"]) == 0.0  # 0.7 %


def test_numeric_match_percentages_and_fractions() -> None:
    assert numeric_match("65.4%", ["65.4%"]) == 1.0
    assert numeric_match("65.4 percent", ["65.4%"]) == 1.0
    assert numeric_match("65.4", ["65.4%"]) == 1.0
    assert numeric_match("0.654", ["65.4%"]) == 1.0
    assert numeric_match("65.38%", ["65.4%"]) == 1.0
    assert numeric_match("% Change: 101% [5, 2]", ["101.5%"]) == 0.0  # less precise, though 0.5 % off
    assert numeric_match("101.46%", ["101.5%"]) == 1.0
    assert numeric_match("6.54%", ["65.4%"]) == 0.0
    assert numeric_match("$65.4", ["65.4%"]) == 0.0  # an amount is not a percentage
    assert numeric_match("66%", ["0.66"]) == 1.0
    assert numeric_match("1.73x", ["1.73"]) == 1.0


def test_numeric_match_scale_words() -> None:
    assert numeric_match("$8.7 billion", ["$8.70"]) == 1.0  # asked "in USD billions"
    assert numeric_match("$8,700 million", ["$8.70"]) == 1.0
    assert numeric_match("8,700", ["$8.70"]) == 0.0  # no scale on either side: compared as written
    assert numeric_match("$1.577 billion", ["1,577 million"]) == 1.0
    assert numeric_match("$1,577 thousand", ["1,577 million"]) == 0.0  # both scales stated: they count
    assert numeric_match("$2,018mn", ["$2.018 billion"]) == 1.0
    assert numeric_match("$400 million", ["$0.40"]) == 1.0


def test_numeric_match_signs() -> None:
    assert numeric_match("Its net revenue was -$473 million.", ["-$473 million"]) == 1.0
    assert numeric_match("(473)", ["-$473 million"]) == 1.0
    assert numeric_match("$473 million", ["-$473 million"]) == 0.0
    assert numeric_match("-473", ["473"]) == 0.0
    assert numeric_match("(473)", ["473"]) == 1.0  # an outflow in accounting parentheses
    assert numeric_match("FY2019-2020 growth", ["-2020"]) == 0.0  # a hyphen between numbers is no minus


def test_numeric_match_falls_back_to_answer_hit_for_text_golds() -> None:
    gold = ["Trillium, Array, and Therachon"]
    assert numeric_match("It bought Trillium, Array, and Therachon.", gold) == 1.0
    assert numeric_match("It bought Trillium.", gold) == 0.0
    assert numeric_match("1,577", ["a lot", "$1577.00"]) == 1.0  # the best gold answer
    assert numeric_match("anything", []) == 0.0
