"""Query expansion (``[retrieval] expand``): the reply parsing, HyDE's query vector, multi-query
fusion, the cache, access control, and the wiring into the assistant and the evaluation.

Exact assertions use ``ScriptedLLM``, a deterministic object implementing the ``LLM`` protocol
whose replies are fixed per question, over a real SQLite index with the hashing embedder (which
matches shared words only, so which chunk a wording can find is known). The bundled SmolLM2
(through llama.cpp) checks that a real model's replies parse into usable expansions.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from ragtune.config import AnswerConfig, EmbedderConfig, RagtuneConfig, RetrievalConfig
from ragtune.embed.base import normalise
from ragtune.evaluate.api import run_retrieval_eval
from ragtune.evaluate.data import from_evalset
from ragtune.evaluate.tuning import SEARCHABLE, search_space, searched_settings
from ragtune.evaluate.variants import Variant
from ragtune.errors import ConfigError
from ragtune.generate.api import open_assistant
from ragtune.generate.base import Delta, GenerationOptions, Message, Usage
from ragtune.generate.expand import (
    ExpansionCache,
    LLMQueryExpander,
    attach_expander,
    parse_passage,
    parse_reformulations,
)
from ragtune.index.base import SearchRequest
from ragtune.ingest.api import ingest
from ragtune.retrieve.api import open_retriever
from ragtune.retrieve.expansion import ExpansionUnavailable
from ragtune.retrieve.fusion import reciprocal_rank_fusion
from ragtune.retrieve.retriever import Retriever
from ragtune.types import Principal
from ragtune.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
STAFF = Principal("erik", frozenset({"staff"}))
HR = Principal("hanna", frozenset({"staff", "hr"}))

QUESTION = "refund for a damaged bicycle"
DOCUMENTS = {
    # What the question's own words find.
    "refunds.md": "Damaged bicycle: the shop will refund it.",
    # Only a rewording's words find these: no word in common with the question.
    "returns.md": "Broken bikes may be returned within thirty days, with reimbursement.",
    "warranty.md": "Warranty claims cover frame cracks and gear faults during two years.",
    # Filler the question's words do not reach either.
    "parking.md": "Staff park in the courtyard rack behind the workshop.",
    "canteen.md": "The canteen serves lunch from noon until two.",
}
HR_ONLY = {"hr/salaries.md": "Reimbursement of broken bikes follows the salary bands."}
REWORDINGS = "Here are three ways:\n1. Reimbursement for broken bikes?\n2) REFUND FOR A DAMAGED BICYCLE\n- warranty claims frame\n"
PASSAGE = "Passage: Broken bikes are returned for reimbursement within thirty days."


class ScriptedLLM:
    """The ``LLM`` protocol with fixed replies: the multi prompt gets ``rewordings``, the HyDE
    prompt ``passage``, anything else ``answer``. Every prompt it receives is recorded."""

    identity = "scripted:test"
    context_size = 2048
    parameters = None

    def __init__(self, rewordings: str = REWORDINGS, passage: str = PASSAGE, answer: str = "") -> None:
        self.rewordings, self.passage, self.answer = rewordings, passage, answer
        self.prompts: list[str] = []
        self.options: list[GenerationOptions] = []
        self.closed = False

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def count_prompt_tokens(self, messages: Sequence[Message]) -> int:
        return sum(self.count_tokens(m.content) + 4 for m in messages)

    def stream(self, messages: Sequence[Message], options: GenerationOptions) -> Iterator[Delta]:
        prompt = messages[-1].content
        self.prompts.append(prompt)
        self.options.append(options)
        reply = self.rewordings if "ways to ask" in prompt else self.passage if "passage" in prompt else self.answer
        if reply:
            yield Delta(reply)
        yield Delta(usage=Usage(self.count_prompt_tokens(messages), self.count_tokens(reply)), finish_reason="stop")

    def close(self) -> None:
        self.closed = True


class SpyStore:
    """The real store, with every search request recorded."""

    def __init__(self, store) -> None:  # type: ignore[no-untyped-def]
        self.store = store
        self.requests: list[SearchRequest] = []

    def search(self, request: SearchRequest):  # type: ignore[no-untyped-def]
        self.requests.append(request)
        return self.store.search(request)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.store, name)


def hashing_config(**retrieval: object) -> RagtuneConfig:
    return RagtuneConfig(embedder=EmbedderConfig(backend="hashing"), retrieval=RetrievalConfig(**retrieval))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    corpus = tmp_path_factory.mktemp("corpus")
    for name, text in DOCUMENTS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    restricted = tmp_path_factory.mktemp("restricted")
    for name, text in HR_ONLY.items():
        (restricted / name).parent.mkdir(parents=True, exist_ok=True)
        (restricted / name).write_text(text, encoding="utf-8")
    ws = Workspace(tmp_path_factory.mktemp("ws"))
    config = hashing_config()
    ws.config_path.write_text('[embedder]\nbackend = "hashing"\n', encoding="utf-8")
    assert ingest(ws, [corpus], config=config, groups=["staff"]).failed == 0
    assert ingest(ws, [restricted], config=config, groups=["hr"]).failed == 0
    return ws


@pytest.fixture
def retriever(workspace: Workspace) -> Iterator[Retriever]:
    opened = open_retriever(workspace, hashing_config())
    opened.store = SpyStore(opened.store)  # type: ignore[assignment]
    yield opened
    opened.close()


def sources(hits) -> list[str]:  # type: ignore[no-untyped-def]
    return [Path(h.source).name for h in hits]


# -- parsing a model's reply ----------------------------------------------------------------------
def test_rewordings_are_parsed_one_per_line_without_markers_preambles_or_duplicates() -> None:
    reply = (
        "Sure! Here are 4 ways to ask it:\n\n"
        "1. How do I get my money back for a broken bike?\n"
        "2) Question: Can a damaged bicycle be refunded?\n"
        "  - \"What is the refund policy for damaged bicycles?\"  \n"
        "* REFUND FOR A DAMAGED BICYCLE?\n"  # the question itself, differently cased
        "3. how do i get my money back for a broken bike\n"  # a duplicate of the first
        "4.\n"
        "• Who pays when a bike arrives damaged?\n"
        "5. One more that is over the cap?\n"
    )
    assert parse_reformulations(reply, QUESTION, 4) == [
        "How do I get my money back for a broken bike?",
        "Can a damaged bicycle be refunded?",
        "What is the refund policy for damaged bicycles?",
        "Who pays when a bike arrives damaged?",
    ]
    assert parse_reformulations(reply, QUESTION, 2) == [
        "How do I get my money back for a broken bike?",
        "Can a damaged bicycle be refunded?",
    ]
    assert parse_reformulations("", QUESTION, 3) == []
    assert parse_reformulations("refund for a damaged bicycle.\n\n---\n", QUESTION, 3) == []
    assert len(parse_reformulations("x" * 1000, QUESTION, 3)[0]) == 300


def test_the_passage_loses_its_label_and_spacing() -> None:
    assert parse_passage("  Passage:  Bikes are\n refunded.  ") == "Bikes are refunded."
    assert parse_passage("   \n") == ""


# -- expansion off --------------------------------------------------------------------------------
def test_off_searches_exactly_as_without_expansion_and_never_calls_the_model(retriever: Retriever) -> None:
    llm = ScriptedLLM()
    plain = retriever.search(QUESTION, STAFF, k=4)
    attach_expander(retriever, RagtuneConfig().llm, llm=llm)
    again = retriever.search(QUESTION, STAFF, k=4)
    assert llm.prompts == [] and "expand" not in again.timings and again.expansion is None
    assert [(h.chunk_id, h.score, h.scores) for h in again.hits] == [(h.chunk_id, h.score, h.scores) for h in plain.hits]
    # ... and that is the question's own dense and BM25 lists fused by RRF, nothing more.
    request = retriever.store.requests[-1]  # type: ignore[attr-defined]
    assert len(retriever.store.requests) == 2 and request.text == QUESTION and not request.with_vectors  # type: ignore[attr-defined]
    found = retriever.store.store.search(request)  # type: ignore[attr-defined]
    expected = reciprocal_rank_fusion({"dense": found.dense, "bm25": found.keyword}, {"dense": 1.0, "bm25": 1.0}, 60)
    assert [h.chunk_id for h in again.hits] == [h.chunk_id for h in expected[:4]]


def test_expansion_without_an_expander_is_refused_clearly(retriever: Retriever) -> None:
    retriever.config = RetrievalConfig(expand="multi")
    with pytest.raises(ExpansionUnavailable, match=r'retrieval.expand = "multi" needs the \[llm\] model.*attach_expander'):
        retriever.search(QUESTION, STAFF)


# -- multi ----------------------------------------------------------------------------------------
def test_multi_fuses_the_rewordings_lists_with_the_questions(retriever: Retriever) -> None:
    llm = ScriptedLLM()
    attach_expander(retriever, RagtuneConfig().llm, llm=llm)
    before = retriever.search(QUESTION, STAFF, k=3, mode="bm25")
    assert sources(before.hits) == ["refunds.md"]  # BM25 on the question alone finds one document

    retriever.config = RetrievalConfig(expand="multi", expand_queries=3)
    result = retriever.search(QUESTION, STAFF, k=3, mode="bm25")
    assert result.expansion is not None and result.expansion.texts == (
        "Reimbursement for broken bikes?", "warranty claims frame")  # preamble and the question itself dropped
    # Each is first in one list (the question's, or a rewording's): RRF gives each 1 / (60 + 1).
    assert set(sources(result.hits)) == {"refunds.md", "returns.md", "warranty.md"}
    assert [h.scores["fused"] for h in result.hits] == pytest.approx([1 / 61] * 3)
    searched = [r.text for r in retriever.store.requests[-3:]]  # type: ignore[attr-defined]
    assert searched == [QUESTION, "Reimbursement for broken bikes?", "warranty claims frame"]
    assert len(llm.prompts) == 1 and "3 different ways" in llm.prompts[0] and QUESTION in llm.prompts[0]
    assert llm.options[0].temperature == 0.0 and llm.options[0].max_tokens == RetrievalConfig().expand_max_tokens
    assert result.timings["expand"] > 0 and result.timings["search"] > 0
    assert json.loads(json.dumps(result.to_dict()))["expansion"]["texts"][0] == "Reimbursement for broken bikes?"


def test_multi_in_hybrid_keeps_dense_as_the_cosine_with_the_question(retriever: Retriever) -> None:
    """The relevance gate reads ``dense``: with expansion it is the store's own cosine of the chunk
    with the question, as without (not with whichever wording found the chunk last)."""
    plain = {h.chunk_id: h.scores["dense"] for h in retriever.search(QUESTION, STAFF, k=10, mode="dense").hits}
    attach_expander(retriever, RagtuneConfig().llm, llm=ScriptedLLM())
    retriever.config = RetrievalConfig(expand="multi")
    result = retriever.search(QUESTION, STAFF, k=10)
    assert {"returns.md", "warranty.md"} <= set(sources(result.hits))
    dense = {h.chunk_id: h.scores["dense"] for h in result.hits if "dense" in h.scores}
    assert len(dense) == len(plain) and dense == pytest.approx(plain, abs=1e-5)
    assert all(h.vector is None for h in result.hits)


def test_multi_never_shows_what_the_principal_may_not_see(retriever: Retriever) -> None:
    """A rewording that matches an HR-only document finds it for HR and for nobody else."""
    llm = ScriptedLLM(rewordings="Reimbursement of broken bikes?")
    attach_expander(retriever, RagtuneConfig().llm, llm=llm)
    retriever.config = RetrievalConfig(expand="multi")
    for principal, sees in ((STAFF, False), (HR, True)):
        retriever.store.requests.clear()  # type: ignore[attr-defined]
        hits = retriever.search(QUESTION, principal, k=10).hits
        assert ("salaries.md" in sources(hits)) is sees
        requests = retriever.store.requests  # type: ignore[attr-defined]
        assert len(requests) == 2 and all(r.principal == principal for r in requests)
    assert len(llm.prompts) == 1  # the second principal's question came from the cache


# -- hyde -----------------------------------------------------------------------------------------
def test_hyde_searches_the_mean_of_question_and_passage_with_bm25_on_the_question(retriever: Retriever) -> None:
    llm = ScriptedLLM()
    attach_expander(retriever, RagtuneConfig().llm, llm=llm)
    retriever.config = RetrievalConfig(expand="hyde")
    result = retriever.search(QUESTION, STAFF, k=2)
    embedder = retriever.embedder
    passage = "Broken bikes are returned for reimbursement within thirty days."
    assert result.expansion is not None and result.expansion.texts == (passage,)
    request = retriever.store.requests[-1]  # type: ignore[attr-defined]
    assert len(retriever.store.requests) == 1 and request.text == QUESTION  # type: ignore[attr-defined]
    expected = normalise(embedder.embed_query(QUESTION) + embedder.embed([passage])[0])  # type: ignore[union-attr]
    assert np.allclose(request.vector, expected, atol=1e-6)
    assert sorted(sources(result.hits)) == ["refunds.md", "returns.md"]  # the passage's words reached it
    retriever.config = RetrievalConfig()
    plain = {h.chunk_id: h.scores["dense"] for h in retriever.search(QUESTION, STAFF, k=10, mode="dense").hits}
    for hit in result.hits:  # dense: the cosine with the question; hyde: with the HyDE vector
        assert hit.scores["dense"] == pytest.approx(plain[hit.chunk_id], abs=1e-5)
        assert hit.scores["hyde"] != pytest.approx(hit.scores["dense"], abs=1e-3)


def test_hyde_with_bm25_alone_calls_no_model(retriever: Retriever) -> None:
    llm = ScriptedLLM()
    attach_expander(retriever, RagtuneConfig().llm, llm=llm)
    retriever.config = RetrievalConfig(expand="hyde", mode="bm25")
    assert sources(retriever.search(QUESTION, STAFF, k=3).hits) == ["refunds.md"]
    assert llm.prompts == []


# -- the cache and the model's lifetime -----------------------------------------------------------
def test_the_same_question_calls_the_model_once() -> None:
    llm = ScriptedLLM()
    expander = LLMQueryExpander(llm)
    first = expander.expand(QUESTION, "multi", count=3, max_tokens=64)
    second = expander.expand(QUESTION, "multi", count=3, max_tokens=64)
    assert (first.cached, second.cached) == (False, True) and second.seconds == 0.0
    assert first.texts == second.texts and len(llm.prompts) == 1 and expander.calls == 1
    # Another way, count or limit is another prompt: the model is asked again.
    expander.expand(QUESTION, "hyde", count=3, max_tokens=64)
    expander.expand(QUESTION, "multi", count=2, max_tokens=64)
    expander.expand(QUESTION, "multi", count=3, max_tokens=32)
    assert len(llm.prompts) == 4
    # A shared cache is keyed by the model too.
    other = ScriptedLLM()
    other.identity = "scripted:other"
    LLMQueryExpander(other, cache=expander.cache).expand(QUESTION, "multi", count=3, max_tokens=64)
    assert len(other.prompts) == 1


def test_the_cache_drops_the_least_recently_used() -> None:
    cache = ExpansionCache(max_entries=2)
    cache.put(("m", "a", 1), ("A",))
    cache.put(("m", "b", 1), ("B",))
    assert cache.get(("m", "a", 1)) == ("A",)
    cache.put(("m", "c", 1), ("C",))
    assert cache.get(("m", "b", 1)) is None and cache.get(("m", "a", 1)) == ("A",) and len(cache) == 2


def test_a_lent_model_stays_open_and_a_loaded_one_loads_late_and_is_closed() -> None:
    lent = ScriptedLLM()
    LLMQueryExpander(lent).close()
    assert not lent.closed
    loaded: list[ScriptedLLM] = []
    expander = LLMQueryExpander(lambda: loaded.append(ScriptedLLM()) or loaded[-1])
    assert loaded == []  # nothing loaded until a question needs it
    expander.expand(QUESTION, "hyde", count=1, max_tokens=16)
    expander.close()
    assert len(loaded) == 1 and loaded[0].closed


# -- wiring: the assistant, the evaluation, tuning ------------------------------------------------
def test_the_assistant_expands_with_its_own_model_as_configured(workspace: Workspace) -> None:
    llm = ScriptedLLM()
    config = hashing_config(expand="multi")
    config.answer = AnswerConfig(mode="extract", min_similarity=-1.0)
    with open_assistant(workspace, config, llm=llm) as assistant:
        answer = assistant.ask(QUESTION, STAFF, k=10)
        assert "returns.md" in sources(answer.hits)
        assert answer.timings["expand"] > 0 and answer.timings["retrieve"] >= 0
        assert len(llm.prompts) == 1 and "ways to ask" in llm.prompts[0]
    assert llm.closed  # the assistant closed its model, once


def test_retrieval_eval_expands_each_question_once_across_variants(workspace: Workspace, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[ScriptedLLM] = []

    def build_llm(config):  # type: ignore[no-untyped-def]
        built.append(ScriptedLLM())
        return built[-1]

    monkeypatch.setattr("ragtune.generate.factory.build_llm", build_llm)
    evalset = tmp_path / "eval.jsonl"
    evalset.write_text(json.dumps({"id": "q1", "question": QUESTION, "relevant_doc_ids": ["returns.md"],
                                   "principal": {"user": "erik", "groups": ["staff"]}}) + "\n", encoding="utf-8")
    variants = [
        Variant("off", {"retrieval.mode": "bm25"}),
        Variant("multi bm25", {"retrieval.mode": "bm25", "retrieval.expand": "multi"}),
        Variant("multi hybrid", {"retrieval.mode": "hybrid", "retrieval.expand": "multi"}),
    ]
    run = run_retrieval_eval(workspace, from_evalset(evalset), variants, config=hashing_config(),
                             metrics=["hit@5"], save=False)
    assert run.summary["off"]["metrics"]["hit@5"] == 0.0
    assert run.summary["multi bm25"]["metrics"]["hit@5"] == 1.0
    rows = {row["variant"]: row for row in run.rows}
    assert "expand" not in rows["off"]["timings_ms"] and rows["multi bm25"]["timings_ms"]["expand"] > 0
    assert rows["multi hybrid"]["timings_ms"]["expand"] == 0.0  # the cached expansion
    assert len(built) == 1 and len(built[0].prompts) == 1 and built[0].closed


def test_tuning_searches_expansion_when_asked() -> None:
    config = RagtuneConfig()
    plain = search_space(config)
    assert all("retrieval.expand" not in v.overrides for v in plain)
    settings = searched_settings(["retrieval.expand"])
    assert settings == {"retrieval.expand": SEARCHABLE["retrieval.expand"]}
    variants = search_space(config, settings=settings)
    modes = [v.overrides["retrieval.mode"] for v in variants]
    assert len(variants) == 3 * len(plain) - 1  # HyDE with BM25 alone is expansion off: not run twice
    assert not any(v.overrides["retrieval.expand"] == "hyde" and v.overrides["retrieval.mode"] == "bm25" for v in variants)
    assert modes.count("bm25") == 2 and variants[0].overrides == {"retrieval.mode": "bm25", "retrieval.expand": "off"}
    assert searched_settings(["retrieval.expand=HyDE, off"]) == {"retrieval.expand": ("hyde", "off")}
    with pytest.raises(ConfigError, match="searchable: retrieval.expand"):
        searched_settings(["retrieval.k"])
    with pytest.raises(ConfigError, match="'wide' is not one of off, hyde, multi"):
        searched_settings(["retrieval.expand=wide"])


def test_config_refuses_an_unknown_way() -> None:
    with pytest.raises(ValueError, match="expand"):
        RetrievalConfig(expand="both")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="expand_queries"):
        RetrievalConfig(expand_queries=0)


# -- the bundled model ----------------------------------------------------------------------------
@pytest.mark.integration
def test_the_bundled_model_writes_usable_expansions(llama_llm) -> None:  # type: ignore[no-untyped-def]
    expander = LLMQueryExpander(llama_llm)
    question = "How many days per week may employees work remotely?"
    hyde = expander.expand(question, "hyde", count=3, max_tokens=64)
    assert hyde.texts and len(hyde.texts[0].split()) >= 5 and hyde.model == llama_llm.identity and not hyde.cached
    multi = expander.expand(question, "multi", count=3, max_tokens=96)
    assert 1 <= len(multi.texts) <= 3
    assert all(t.strip() and t.casefold() != question.casefold() for t in multi.texts)
    assert len({t.casefold() for t in multi.texts}) == len(multi.texts)
    again = LLMQueryExpander(llama_llm).expand(question, "multi", count=3, max_tokens=96)
    assert again.texts == multi.texts  # greedy decoding: the same rewordings from a fresh cache
    assert expander.expand(question, "multi", count=3, max_tokens=96).cached


@pytest.mark.integration
def test_the_sample_corpus_with_the_bundled_model(tmp_path: Path, llama_llm) -> None:  # type: ignore[no-untyped-def]
    """Both ways end to end on the shipped sample: the access lists hold, the relevant policy is found."""
    corpus = tmp_path / "sample"
    shutil.copytree(ROOT / "examples" / "sample_corpus", corpus)
    ws = Workspace(tmp_path / "ws")
    config = hashing_config()
    assert ingest(ws, [corpus], config=config, groups=["staff"]).failed == 0
    with open_retriever(ws, config) as retriever:
        attach_expander(retriever, config.llm, llm=llama_llm)
        for way in ("hyde", "multi"):
            retriever.config = RetrievalConfig(expand=way)  # type: ignore[arg-type]
            result = retriever.search("How many days per week may employees work remotely?", STAFF, k=5)
            assert result.expansion is not None and result.expansion.texts, way
            assert "remote-work.md" in sources(result.hits), way
            hidden = retriever.search("salary bands", Principal("guest"), k=10)
            assert hidden.hits == [], way  # ingested for staff only: a guest sees nothing, expanded or not
