"""The extractive reader and the verified-or-quoted policy.

Candidates and spans are pure functions; the reader runs on the shipped sample corpus with the
real default embedder and store. The policy is driven by a scripted model that always writes the
same unsupported sentence, so each setting's effect is certain (the real model's wording varies
by CPU); the real model goes through the same path in test_assistant.py."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from ragtune.config import AnswerConfig, RagtuneConfig
from ragtune.errors import GenerationError
from ragtune.generate.answer_span import cell_answer, number_phrase, shortest_answer
from ragtune.generate.api import close_assistant, open_assistant
from ragtune.generate.assistant import REPLACED_FLAG, UNSUPPORTED_FLAG, Assistant, is_supported
from ragtune.generate.base import Delta, GenerationOptions, Message, Usage
from ragtune.generate.candidates import candidate_spans, split_candidates
from ragtune.ingest.api import ingest
from ragtune.types import Principal
from ragtune.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample_corpus"
EMPLOYEE = Principal("erik", frozenset({"staff"}))
HR = Principal("hanna", frozenset({"staff", "hr"}))


# -- candidates -------------------------------------------------------------------------------
def test_prose_splits_into_sentences_not_at_abbreviations_decimals_or_wrapped_lines() -> None:
    text = ("# Travel\n\nStaff travel by train, e.g. to Paris. Prices rose 3.5 % in\n2024 after Dr. Lee's review. "
            "Why? Cost.\n\nA new paragraph starts here.\n\nA title without a full stop")
    pieces = [text[s:e] for s, e in candidate_spans(text)]
    assert pieces == ["Staff travel by train, e.g. to Paris.", "Prices rose 3.5 % in\n2024 after Dr. Lee's review.",
                      "Why?", "Cost.", "A new paragraph starts here."]


def test_table_rows_and_list_items_are_whole_candidates() -> None:
    text = ("Intro line one.\n- first item. With two sentences.\n2) second item\n"
            "sku: NC-1 | product: Bell | price_eur: 9\nsku: NC-2 | product: Lamp | price_eur: 19")
    found = [(c.kind, text[c.start : c.end]) for c in split_candidates(text)]
    assert found == [
        ("sentence", "Intro line one."),
        ("item", "- first item. With two sentences."),
        ("item", "2) second item"),
        ("row", "sku: NC-1 | product: Bell | price_eur: 9"),
        ("row", "sku: NC-2 | product: Lamp | price_eur: 19"),
    ]


def test_pdf_title_lines_are_not_glued_to_the_first_sentence() -> None:
    text = "Batteries and fire safety\nE-bike batteries are charged in bay 3. A drill is held\nevery quarter."
    assert [text[s:e] for s, e in candidate_spans(text)] == [
        "E-bike batteries are charged in bay 3.", "A drill is held\nevery quarter."]


def test_every_candidate_is_an_exact_slice() -> None:
    for path in sorted(SAMPLE.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        for c in split_candidates(text):
            assert text[c.start : c.end] == text[c.start : c.end].strip() and c.end > c.start


# -- spans ------------------------------------------------------------------------------------
ROW = "sku: NC-C200 | product: Commuter 200 Belt | category: city bike | price_eur: 899 | warranty_years: 3 | in_stock: yes"


def test_table_cell_answers_with_the_unit_of_its_column() -> None:
    assert cell_answer("What does the Commuter 200 Belt cost?", ROW) == "899 EUR"
    assert cell_answer("What is the warranty of the Commuter 200 Belt?", ROW) == "3 years"
    assert cell_answer("Is the Commuter 200 Belt in stock?", ROW) == "yes"
    assert cell_answer("Tell me about the Commuter 200 Belt", ROW) is None  # no column named: the whole row
    assert shortest_answer("Tell me about the Commuter 200 Belt", ROW, "row") == ROW


def test_number_spans_keep_what_they_count_and_refuse_to_guess_between_numbers() -> None:
    meals = "Meals on travel days are refunded up to 40 EUR per day against receipts."
    assert shortest_answer("How much are meals refunded per day?", meals, "sentence") == "up to 40 EUR per day"
    leave = "Full-time employees receive 27 days of paid annual leave."
    assert shortest_answer("How many days of paid annual leave do employees get?", leave, "sentence") == \
        "27 days of paid annual leave"
    remote = "Employees may work remotely up to three days per week after their probation period of six months."
    assert shortest_answer("How many days per week may employees work remotely?", remote, "sentence") == \
        "up to three days per week"
    hotel = "Hotel nights are capped at 120 EUR in most cities and at 180 EUR in London."
    assert number_phrase("What is the hotel cap per night in London?", hotel) is None  # two amounts, neither named
    # ... so both amounts stay, each with its condition; only the subject restating the question goes.
    assert shortest_answer("What is the hotel cap per night in London?", hotel, "sentence") == \
        "capped at 120 EUR in most cities and at 180 EUR in London"
    # A number the question itself states is not the answer; "when" keeps the whole sentence.
    assert shortest_answer("How many people work at the 2011 company?", "Founded in 2011, it employs 140 people.",
                           "sentence") == "140 people"
    # A unit hyphenated to its number is part of it ("10-year", not "10").
    frames = "Frames carry a **10-year warranty** against manufacturing defects."
    assert shortest_answer("How long is the warranty on the frame?", frames, "sentence") == "10-year"
    drill = "A fire drill takes place on the first Monday of every quarter at 11:00."
    assert shortest_answer("When is the fire drill?", drill, "sentence") == "takes place on the first Monday of every quarter at 11:00"


def test_words_that_only_restate_the_question_are_trimmed_from_the_ends() -> None:
    question = "What types of viruses can be used to study the connectivity of neuronal circuitry?"
    assert shortest_answer(question, "rVSV vectors can be used to study the connectivity of neuronal circuitry.",
                           "sentence") == "rVSV vectors"
    batteries = "E-bike batteries are charged only in the fireproof charging cabinet in bay 3, never unattended."
    assert shortest_answer("Where are e-bike batteries charged?", batteries, "sentence") == \
        "fireproof charging cabinet in bay 3, never unattended"
    # Nothing new left: the whole sentence, not an empty answer.
    assert shortest_answer("Are e-bike batteries charged?", "E-bike batteries are charged.", "sentence") == \
        "E-bike batteries are charged."


def test_negating_a_word_of_the_question_counts_against_a_candidate() -> None:
    from ragtune.generate.answer_scorer import FeatureAnswerScorer, negated_terms

    assert negated_terms("Bikes not in stock take 4 to 6 weeks.") == {"stock", "tak"}  # folded content words
    assert negated_terms("charged in bay 3, never overnight") == {"overnight"}
    scores = FeatureAnswerScorer().score("How long does delivery take for bikes in stock?",
                                         ["Bikes not in stock take 4 to 6 weeks.", "Bikes in stock ship within 3 working days."])
    assert scores[1] > scores[0]


def test_spans_are_slices_of_the_candidate() -> None:
    for question, text in [("How many unused days carry over?", "- Up to 5 unused days carry over to next year."),
                           ("How long is the trip?", "The trip takes about 3.5 hours by train.")]:
        span = shortest_answer(question, text, "item" if text.startswith("-") else "sentence")
        assert span in text and span[0].isalnum()


# -- the reader on the sample corpus ----------------------------------------------------------
@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    corpus = tmp_path_factory.mktemp("corpus") / "sample"
    shutil.copytree(SAMPLE, corpus)
    ws = Workspace(tmp_path_factory.mktemp("ws"))
    assert ingest(ws, [corpus], groups=["staff"]).failed == 0
    return ws


@pytest.fixture(scope="module")
def extractive(workspace: Workspace) -> Iterator[Assistant]:
    assistant = open_assistant(workspace, RagtuneConfig(answer=AnswerConfig(mode="extract")))
    assert assistant.llm is None  # extract mode loads no language model
    yield assistant
    close_assistant(assistant)


@pytest.mark.integration
@pytest.mark.parametrize(("question", "principal", "expected", "source", "page"), [
    ("What does the Commuter 200 Belt cost?", EMPLOYEE, "899 EUR", "price-list.csv", None),
    ("How much are meals refunded per day on a business trip?", EMPLOYEE, "40 EUR per day", "travel.md", None),
    ("Where are e-bike batteries charged in the workshop?", EMPLOYEE, "bay 3", "safety-handbook.pdf", 2),
    ("How many days of paid annual leave do employees get?", HR, "27 days", "leave.md", None),
    ("How long does delivery take for bikes in stock?", EMPLOYEE, "3 working days", "faq.jsonl", None),
])
def test_extractive_answers_quote_the_right_cell_or_sentence(extractive: Assistant, question: str, principal: Principal,
                                                             expected: str, source: str, page: int | None) -> None:
    answer = extractive.ask(question, principal)
    assert answer.found and answer.mode == "extract" and answer.usage.completion_tokens == 0
    assert expected in answer.text and answer.faithfulness == 1.0
    best = answer.evidence[0]
    assert source in best.source and best.page == page
    document = extractive.retriever.store.document(best.document_id, principal)
    assert document is not None and document.text[best.quote_start : best.quote_end] == best.quote  # exact span
    assert answer.to_dict()["evidence"][0]["quote"] == best.quote


@pytest.mark.integration
def test_extract_mode_refuses_what_the_principal_may_not_see(extractive: Assistant) -> None:
    answer = extractive.ask("How many days of paid annual leave do employees get?", EMPLOYEE)
    assert not answer.found and answer.text == extractive.config.not_found_text
    assert not any("/hr/" in hit.source for hit in answer.hits)


@pytest.mark.integration
def test_extract_mode_without_a_model_refuses_generation_clearly(extractive: Assistant) -> None:
    with pytest.raises(GenerationError, match="no language model"):
        extractive.ask("What does the Commuter 200 Belt cost?", EMPLOYEE, answer_mode="generate")
    with pytest.raises(GenerationError, match="answer mode 'guess'"):
        extractive.ask("What does the Commuter 200 Belt cost?", EMPLOYEE, answer_mode="guess")  # type: ignore[arg-type]


# -- the verified-or-quoted policy ------------------------------------------------------------
class ScriptedLLM:
    """Writes the same reply to every prompt, in small pieces, like a streaming model."""

    identity, context_size = "scripted", 4096

    def __init__(self, reply: str, parameters: int | None = None) -> None:
        self.reply, self.prompts = reply, []
        if parameters is not None:
            self.parameters = parameters


    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def count_prompt_tokens(self, messages: Sequence[Message]) -> int:
        return sum(len(m.content.split()) for m in messages)

    def stream(self, messages: Sequence[Message], options: GenerationOptions) -> Iterator[Delta]:
        self.prompts.append(list(messages))
        words = self.reply.split(" ")
        for i, word in enumerate(words):
            last = i == len(words) - 1
            yield Delta(word + ("" if last else " "), Usage(10, len(words)) if last else None, "stop" if last else None)

    def close(self) -> None:
        pass


WRONG = "The Commuter 200 Belt is a bike designed for the UK and it costs 35 GBP."


def _assistant(workspace: Workspace, reply: str, policy: str) -> Assistant:
    config = RagtuneConfig(answer=AnswerConfig(on_unsupported=policy))  # type: ignore[arg-type]
    return open_assistant(workspace, config, llm=ScriptedLLM(reply))


@pytest.mark.integration
def test_quote_replaces_an_unsupported_answer_and_keeps_what_was_rejected(workspace: Workspace) -> None:
    assistant = _assistant(workspace, WRONG, "quote")
    try:
        stream = assistant.stream("What does the Commuter 200 Belt cost?", EMPLOYEE)
        streamed = "".join(stream)
        answer = stream.result()
    finally:
        close_assistant(assistant)
    assert streamed == WRONG  # the stream showed the model's text as it came ...
    assert answer.supported is False and answer.rejected_text == WRONG  # ... and the final answer replaces it
    assert answer.mode == "quoted" and "899 EUR" in answer.text and "35" not in answer.text
    assert REPLACED_FLAG in answer.flags and answer.evidence[0].source.endswith("price-list.csv")
    assert answer.to_dict()["rejected_text"] == WRONG


@pytest.mark.integration
def test_flag_and_show_keep_the_text_and_only_flag_marks_it(workspace: Workspace) -> None:
    for policy, flagged in (("flag", True), ("show", False)):
        assistant = _assistant(workspace, WRONG, policy)
        try:
            answer = assistant.ask("What does the Commuter 200 Belt cost?", EMPLOYEE)
        finally:
            close_assistant(assistant)
        assert answer.text == WRONG and answer.mode == "generate" and answer.supported is False
        assert (UNSUPPORTED_FLAG in answer.flags) is flagged and answer.rejected_text is None


@pytest.mark.integration
def test_a_supported_answer_is_shown_as_written(workspace: Workspace) -> None:
    right = "The Commuter 200 Belt costs 899 EUR [1]."
    assistant = _assistant(workspace, right, "quote")
    try:
        answer = assistant.ask("What does the Commuter 200 Belt cost?", EMPLOYEE)
    finally:
        close_assistant(assistant)
    assert answer.supported is True and answer.mode == "generate" and answer.rejected_text is None
    assert "899 EUR" in answer.text and answer.citations and answer.citations[0].origin == "model"


@pytest.mark.integration
def test_refusal_is_unchanged_by_the_policy(workspace: Workspace) -> None:
    assistant = _assistant(workspace, WRONG, "quote")
    try:
        answer = assistant.ask("How many days of paid annual leave do employees get?", EMPLOYEE)
    finally:
        close_assistant(assistant)
    assert not answer.found and answer.text == assistant.config.not_found_text and answer.supported is None


def test_a_number_no_source_states_makes_an_answer_unsupported() -> None:
    from ragtune.generate.answer import Answer
    from ragtune.index.base import Hit

    hit = Hit("c1", "d1", "price-list.csv", "price_eur: 899", 0, 14, None, None, (), {}, 1.0)
    def answer(text: str, faithfulness: float | None) -> Answer:
        return Answer("q", text, True, "m", "u", sources=[hit], faithfulness=faithfulness)

    assert is_supported(answer("It costs 899 EUR [1].", 1.0))
    assert not is_supported(answer("It costs 899 EUR, or 35 GBP [1].", 0.5))  # one number no source states
    assert not is_supported(answer("A bike for the UK.", 0.0))  # nothing supported
    assert not is_supported(answer("   ", None))  # nothing said


@pytest.mark.integration
def test_a_small_model_gets_fewer_sources_each_led_by_its_best_candidate(workspace: Workspace) -> None:
    question = "Where are e-bike batteries charged in the workshop?"
    answers = {}
    for parameters in (135_000_000, 7_000_000_000):
        llm = ScriptedLLM("E-bike batteries are charged in bay 3.", parameters)
        assistant = open_assistant(workspace, RagtuneConfig(), llm=llm)
        try:
            answers[parameters] = (assistant.ask(question, EMPLOYEE), llm.prompts[-1][-1].content)
        finally:
            close_assistant(assistant)
    small, small_prompt = answers[135_000_000]
    large, large_prompt = answers[7_000_000_000]
    assert len(small.sources) <= 3 < len(large.sources)
    # The small model reads the answering sentence first; the large one reads the chunk as stored
    # (the handbook's page 2 section: its heading, then the sentence).
    best = "E-bike batteries are charged only in the fireproof charging cabinet in bay 3"
    assert small_prompt.index(best) < small_prompt.index("Batteries and fire safety")
    assert large_prompt.index("Batteries and fire safety") < large_prompt.index(best)
    # Citations are checked and located against the stored chunk, not the reordered prompt text.
    for citation in small.citations:
        hit = small.sources[citation.number - 1]
        assert hit.text[citation.quote_start - hit.start : citation.quote_end - hit.start] == citation.quote


def test_an_amount_question_needs_an_amount_and_json_values_need_a_source() -> None:
    from ragtune.generate.answer import Answer
    from ragtune.generate.assistant import answers_the_kind_asked, unstated_values
    from ragtune.index.base import Hit

    hit = Hit("c1", "d1", "price-list.csv", "product: Commuter 200 Belt | price_eur: 899 | warranty_years: 3",
              0, 60, None, None, (), {}, 1.0)
    def answer(text: str) -> Answer:
        return Answer("What does the Commuter 200 Belt cost?", text, True, "m", "u", sources=[hit])

    assert not answers_the_kind_asked(answer("The Commuter 200 Belt is a product of the E-Trek eBike [1]."))
    assert answers_the_kind_asked(answer("It costs 899 EUR [1]."))
    assert unstated_values({"product": "2018-04-30 15:59:56.783", "warranty_years": 3}, [hit]) == ["2018-04-30 15:59:56.783"]
    assert unstated_values({"product": "Commuter 200 Belt", "warranty_years": 3}, [hit]) == []
