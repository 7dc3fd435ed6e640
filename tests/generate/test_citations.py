"""The citation verifier: supported, unsupported, out-of-range and attributed citations."""

from __future__ import annotations

import pytest

from ragtune.generate.citations import CitationVerifier, VerifierSettings
from ragtune.generate.terms import content_terms
from ragtune.index.base import Hit

TRAVEL = (
    "Travel policy. Meals on travel days are refunded up to 40 EUR per day against receipts. "
    "Taxis are refunded only after 22:00."
)
PRICES = "The Commuter 200 Belt costs 899 EUR and has a 3 year warranty."


def hit(number: int, text: str, start: int = 100, page: int | None = None) -> Hit:
    return Hit(f"c{number}", f"d{number}", f"doc{number}.md", text, start, start + len(text), page, page, (), {}, 1.0)


SOURCES = [hit(1, TRAVEL, page=2), hit(2, PRICES, start=0)]


def verify(answer: str, **settings) -> object:  # type: ignore[no-untyped-def]
    return CitationVerifier(VerifierSettings(**settings)).verify(answer, SOURCES)


def test_supported_citation_is_kept_with_quote_span_and_page() -> None:
    result = verify("Meals are refunded up to 40 EUR per day [1].")
    assert result.text == "Meals are refunded up to 40 EUR per day [1]."
    assert result.rejected == []
    (citation,) = result.citations
    assert (citation.number, citation.origin, citation.page, citation.document_id) == (1, "model", 2, "d1")
    assert citation.quote == "Meals on travel days are refunded up to 40 EUR per day against receipts."
    # The quote's span is in document coordinates: the chunk starts at 100.
    assert TRAVEL[citation.quote_start - 100 : citation.quote_end - 100] == citation.quote
    assert citation.support == pytest.approx(1.0)
    assert result.faithfulness == 1.0


def test_wrong_number_makes_a_citation_unsupported_and_it_is_removed() -> None:
    result = verify("Meals are refunded up to 50 EUR per day [1].")
    assert result.citations == []
    assert result.text == "Meals are refunded up to 50 EUR per day."
    (rejected,) = result.rejected
    assert rejected.number == 1 and "50" in rejected.reason
    assert result.unsupported_sentences == ["Meals are refunded up to 50 EUR per day."]
    assert result.faithfulness == 0.0


def test_unrelated_sentence_is_unsupported_and_flag_mode_keeps_the_marker() -> None:
    result = verify("Bicycles are the best way to see Rotterdam [2].", unsupported="flag", attribute_uncited=False)
    assert result.text == "Bicycles are the best way to see Rotterdam [2]."
    assert [r.number for r in result.rejected] == [2] and "support" in result.rejected[0].reason
    assert result.citations == []


def test_out_of_range_citation_is_rejected_and_valid_ones_in_the_group_stay() -> None:
    result = verify("The Commuter 200 Belt costs 899 EUR [2, 7]. It is great [3].")
    assert result.text == "The Commuter 200 Belt costs 899 EUR [2]. It is great."
    reasons = {r.number: r.reason for r in result.rejected}
    assert set(reasons) == {7, 3}
    assert all("out of range: 2 sources" in reason for reason in reasons.values())
    assert [c.number for c in result.citations] == [2]


def test_marker_after_the_full_stop_belongs_to_the_sentence_before() -> None:
    result = verify("The Commuter 200 Belt costs 899 EUR. [2] Taxis are refunded only after 22:00. [1]")
    assert [(c.number, c.sentence) for c in result.citations] == [
        (2, "The Commuter 200 Belt costs 899 EUR."),
        (1, "Taxis are refunded only after 22:00."),
    ]


def test_uncited_supported_sentence_is_attributed_and_marked() -> None:
    result = verify("The Commuter 200 Belt has a 3 year warranty.")
    assert result.text == "The Commuter 200 Belt has a 3 year warranty [2]."
    (citation,) = result.citations
    assert citation.origin == "attributed" and citation.number == 2


def test_attribution_can_be_switched_off() -> None:
    result = verify("The Commuter 200 Belt has a 3 year warranty.", attribute_uncited=False)
    assert result.citations == [] and result.text == "The Commuter 200 Belt has a 3 year warranty."
    assert result.faithfulness == 0.0


def test_labelled_markers_are_understood() -> None:
    result = verify("Taxis are refunded only after 22:00 [Source 1].")
    assert [c.number for c in result.citations] == [1]


def test_content_free_sentences_are_not_checked() -> None:
    result = verify("Yes.")
    assert result.checked_sentences == 0 and result.faithfulness is None


def test_semantic_threshold_accepts_a_paraphrase_the_words_miss() -> None:
    def similarity(a: str, b: str) -> float:  # a stand-in for embedding cosine, fixed per pair
        return 0.9 if "Dinner" in a and "Meals" in b else 0.1

    answer = "Dinner costs are covered when travelling [1]."
    strict = CitationVerifier(VerifierSettings()).verify(answer, SOURCES)
    lenient = CitationVerifier(VerifierSettings(semantic_threshold=0.8), similarity).verify(answer, SOURCES)
    assert strict.citations == [] and [c.number for c in lenient.citations] == [1]
    with pytest.raises(ValueError, match="similarity"):
        CitationVerifier(VerifierSettings(semantic_threshold=0.8))


def test_terms_fold_inflections_and_keep_numbers_whole() -> None:
    assert content_terms("Bikes, biking and the bike cost 1,299.50 EUR") == ["bik", "bik", "bik", "cost", "1299.50", "eur"]
