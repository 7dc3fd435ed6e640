import pytest

from ragtune.evaluate.behaviour.readability import reading_grade, syllables, word_count


def test_word_count_counts_words_and_numbers():
    assert word_count("Refunds take 5–7 working days for card payments.") == 9  # 5 and 7


@pytest.mark.parametrize(("word", "count"), [("the", 1), ("refunded", 3), ("reaching", 2), ("42", 1)])
def test_syllables(word, count):  # hyphenation points: approximate (Pyphen splits "battery" once)
    assert syllables(word) == count


def test_plain_text_reads_at_a_lower_grade_than_dense_text():
    plain = "We got your bike. We will fix it this week. You pay nothing."
    dense = ("Notwithstanding the aforementioned contractual limitations, manufacturer warranty obligations "
             "encompass comprehensive replacement of defective electrical componentry.")
    assert reading_grade(plain) < 3 < 15 < reading_grade(dense)
    assert reading_grade("") is None
