"""Answering a question as a principal: retrieve → gate → fit sources → generate → verify.

``Assistant.stream()`` yields the answer's text as the model writes it and resolves citations
when the stream ends; ``Assistant.ask()`` is the same run collected into one ``Answer``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

from ragtune.config import AnswerConfig, LLMConfig
from ragtune.errors import GenerationError
from ragtune.generate.answer import Answer
from ragtune.generate.base import LLM, GenerationOptions, Message, Usage
from ragtune.generate.citations import MARKER, CitationVerifier, Similarity, VerifierSettings
from ragtune.generate.answer_scorer import wants_number
from ragtune.generate.answer_span import WHEN
from ragtune.generate.extractive import ExtractiveReader
from ragtune.generate.prompt import LeakGuard, build_prompt, system_prompt
from ragtune.generate.structured import check_schema, leaves_in, parse_against, strings_in
from ragtune.generate.terms import content_terms, coverage, is_number
from ragtune.index.base import Hit
from ragtune.retrieve.retriever import Mode, Retriever
from ragtune.types import Principal


def relevance(question_terms: set[str], hit: Hit) -> tuple[float | None, float]:
    """(dense cosine if the hit has one, share of the question's content words in the chunk)."""
    dense = hit.scores.get("dense")
    return dense, coverage(question_terms, set(content_terms(hit.text)))


AnswerMode = Literal["generate", "extract"]
SMALL_MODEL_PARAMETERS = 1_000_000_000
REPLACED_FLAG = "the generated answer was not supported by the sources, so this answer is quoted from them"
UNSUPPORTED_FLAG = "not supported by the sources: no source states what this answer says"

SAMPLING_KEYS = frozenset({"max_tokens", "temperature", "top_p", "seed", "stop"})


def generation_options(config: LLMConfig, json_schema: Mapping[str, Any] | None = None) -> GenerationOptions:
    """The ``[llm]`` sampling settings as the options of one generation."""
    return GenerationOptions(
        max_tokens=config.max_tokens, temperature=config.temperature, top_p=config.top_p,
        repeat_penalty=config.repeat_penalty, seed=config.seed, json_schema=json_schema,
    )


class AnswerStream:
    """Iterate for the answer's text as it is generated; ``answer`` is set when iteration ends."""

    def __init__(self, pieces: Iterator[str]) -> None:
        self._pieces = pieces
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        return self._pieces

    def result(self) -> Answer:
        """Drain what is left of the stream and return the answer."""
        for _ in self._pieces:
            pass
        assert self.answer is not None
        return self.answer


class Assistant:
    def __init__(
        self,
        retriever: Retriever,
        llm: LLM | None,
        llm_config: LLMConfig | None = None,
        config: AnswerConfig | None = None,
        similarity: Similarity | None = None,
        reader: ExtractiveReader | None = None,
    ) -> None:
        """``llm`` may be None when every answer is extractive (``answer.mode = "extract"``);
        ``reader`` answers in extract mode and replaces unsupported generated answers (``quote``)."""
        self.retriever = retriever
        self.llm = llm
        self.reader = reader
        self.llm_config = llm_config or LLMConfig()
        self.config = config or AnswerConfig()
        self.system = system_prompt(self.config.not_found_text)
        self.verifier = CitationVerifier(
            VerifierSettings(
                support_threshold=self.config.support_threshold,
                semantic_threshold=self.config.semantic_threshold,
                unsupported=self.config.unsupported,
                attribute_uncited=self.config.attribute_uncited,
            ),
            similarity,
        )

    def close(self) -> None:
        """Close the index and free the language model, if one is loaded."""
        self.retriever.close()
        if self.llm is not None:
            self.llm.close()

    def __enter__(self) -> Assistant:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ask(self, question: str, principal: Principal, **kwargs: Any) -> Answer:
        return self.stream(question, principal, **kwargs).result()

    def stream(
        self,
        question: str,
        principal: Principal,
        *,
        k: int | None = None,
        mode: Mode | None = None,
        filters: Mapping[str, Any] | None = None,
        json_schema: Mapping[str, Any] | None = None,
        history: Sequence[Message] = (),
        sampling: Mapping[str, Any] | None = None,
        answer_mode: AnswerMode | None = None,
    ) -> AnswerStream:
        """``history``: earlier turns of a chat, given to the model before the question (retrieval
        uses the question alone). ``sampling``: per-request ``max_tokens``, ``temperature``,
        ``top_p``, ``seed`` or ``stop`` in place of the ``[llm]`` settings. ``answer_mode``:
        ``generate`` or ``extract`` in place of ``[answer] mode``."""
        if not question.strip():
            raise GenerationError("the question is empty")
        answer_mode = answer_mode or self.config.mode
        if answer_mode not in ("generate", "extract"):
            raise GenerationError(f"answer mode '{answer_mode}' is not one of: generate, extract")
        if answer_mode == "extract":
            if json_schema is not None:
                raise GenerationError("JSON-schema answers need a language model: use answer mode 'generate'")
            if self.reader is None:
                raise GenerationError("answer mode 'extract' needs an extractive reader")
        elif self.llm is None:
            raise GenerationError("no language model is loaded: only answer mode 'extract' is available")
        if json_schema is not None:
            check_schema(json_schema)
        stream = AnswerStream(iter(()))
        options = self._options(json_schema, sampling or {})
        if answer_mode == "extract":
            stream._pieces = self._extract(stream, question, principal, k, mode, filters)
        else:
            stream._pieces = self._run(stream, question, principal, k, mode, filters, options, history)
        return stream

    @property
    def _extract_identity(self) -> str:
        """``Answer.model`` of an extractive answer: no model, the scorer that chose the quote."""
        return f"extractive ({self.reader.scorer.identity})" if self.reader is not None else "extractive"

    def _retrieve(
        self, question: str, principal: Principal, k: int | None, mode: Mode | None, filters: Mapping[str, Any] | None,
        model: str,
    ) -> tuple[Answer, list[Hit], float]:
        """Search as the principal; (the answer so far, the relevant hits, start time)."""
        started = time.perf_counter()
        retrieval = self.retriever.search(
            question, principal, k=k or max(self.retriever.config.k, self.config.max_sources), mode=mode, filters=filters
        )
        rerank, expand = retrieval.timings.get("rerank", 0.0), retrieval.timings.get("expand")
        answer = Answer(question, "", False, model, principal.user_id, hits=retrieval.hits)
        answer.timings.update(retrieve=retrieval.timings["total"] - rerank - (expand or 0.0), rerank=rerank)
        if expand is not None:  # [retrieval] expand: the model's time writing the expansion
            answer.timings["expand"] = expand
        question_terms = set(content_terms(question))
        return answer, [hit for hit in retrieval.hits if self._relevant(question_terms, hit)], started

    def _refuse(self, stream: AnswerStream, answer: Answer, started: float) -> Iterator[str]:
        answer.text, answer.found = self.config.not_found_text, False
        answer.timings["total"] = time.perf_counter() - started
        stream.answer = answer
        yield answer.text

    def _extract(
        self,
        stream: AnswerStream,
        question: str,
        principal: Principal,
        k: int | None,
        mode: Mode | None,
        filters: Mapping[str, Any] | None,
    ) -> Iterator[str]:
        answer, relevant, started = self._retrieve(question, principal, k, mode, filters, self._extract_identity)
        answer.mode = "extract"
        tick = time.perf_counter()
        sources = relevant[: self.config.max_sources]
        extraction = self.reader.read(question, sources) if sources else None  # type: ignore[union-attr]
        answer.timings["read"] = time.perf_counter() - tick
        if extraction is None:
            yield from self._refuse(stream, answer, started)
            return
        answer.found, answer.sources, answer.supported = True, sources, True
        answer.text, answer.citations, answer.faithfulness = extraction.text, extraction.quotes, 1.0
        self._pin_pages(answer, principal)
        answer.timings["total"] = time.perf_counter() - started
        stream.answer = answer
        yield answer.text

    def _run(
        self,
        stream: AnswerStream,
        question: str,
        principal: Principal,
        k: int | None,
        mode: Mode | None,
        filters: Mapping[str, Any] | None,
        options: GenerationOptions,
        history: Sequence[Message] = (),
    ) -> Iterator[str]:
        cfg = self.config
        assert self.llm is not None
        answer, relevant, started = self._retrieve(question, principal, k, mode, filters, self.llm.identity)
        if not relevant:
            yield from self._refuse(stream, answer, started)
            return

        tick = time.perf_counter()
        hits, max_sources = self._prompt_sources(question, answer.hits, relevant)
        prompt = build_prompt(
            question, hits, self.llm, system=self.system,
            max_sources=max_sources, reserve_tokens=options.max_tokens, history=history,
        )
        # Citations are checked against the sources as stored, not as reordered for the prompt.
        original = {hit.chunk_id: hit for hit in answer.hits}
        answer.found, answer.sources = True, [original[hit.chunk_id] for hit in prompt.sources]
        if prompt.dropped:
            answer.flags.append(f"{prompt.dropped} retrieved chunk(s) did not fit the model's context")
        answer.timings["prompt"] = time.perf_counter() - tick

        tick = time.perf_counter()
        guard = LeakGuard(self.system)
        usage, finish = Usage(prompt.prompt_tokens, 0), None
        deltas = self.llm.stream(prompt.messages, options)
        try:
            for delta in deltas:
                if delta.text:
                    answer.timings.setdefault("time_to_first_token", time.perf_counter() - tick)
                    shown = guard.feed(delta.text)
                    if shown:
                        yield shown
                    if guard.leaked:
                        break
                usage = delta.usage or usage
                finish = delta.finish_reason or finish
        finally:
            close = getattr(deltas, "close", None)
            if close is not None:
                close()  # stops a remote stream or a local decode early when the guard cut it
        rest = guard.finish()
        if rest:
            yield rest
        answer.timings["generate"] = time.perf_counter() - tick
        answer.usage, answer.finish_reason = usage, ("withheld" if guard.leaked else finish)
        if guard.leaked:
            answer.flags.append("the answer began to repeat the assistant's instructions and was cut there")
        if finish == "length":
            answer.flags.append(f"the answer reached llm.max_tokens ({options.max_tokens}) and may be cut off")

        tick = time.perf_counter()
        self._verify(answer, guard.text, options.json_schema)
        if options.json_schema is None:
            self._apply_policy(answer, relevant)
        elif self.config.on_unsupported != "show":
            # JSON keeps its schema, so nothing replaces it: values no source states are flagged.
            unstated = unstated_values(answer.data, answer.sources)
            answer.supported = not unstated
            if unstated:
                answer.flags.append(f"{UNSUPPORTED_FLAG} ({', '.join(repr(v) for v in unstated[:3])})")
        self._pin_pages(answer, principal)
        answer.timings["verify"] = time.perf_counter() - tick
        answer.timings["total"] = time.perf_counter() - started
        stream.answer = answer

    def _relevant(self, question_terms: set[str], hit: Hit) -> bool:
        dense, overlap = relevance(question_terms, hit)
        return (dense is not None and dense >= self.config.min_similarity) or overlap >= self.config.min_term_overlap

    def _options(self, json_schema: Mapping[str, Any] | None, sampling: Mapping[str, Any]) -> GenerationOptions:
        unknown = set(sampling) - SAMPLING_KEYS
        if unknown:
            raise GenerationError(f"unknown sampling option(s): {', '.join(sorted(unknown))}")
        options = generation_options(self.llm_config, json_schema)
        given = {k: (tuple(v) if k == "stop" else v) for k, v in sampling.items() if v is not None}
        return replace(options, **given)

    def _verify(self, answer: Answer, text: str, json_schema: Mapping[str, Any] | None) -> None:
        if json_schema is None:
            verification = self.verifier.verify(text, answer.sources)
            answer.text = verification.text
        else:
            # The JSON stays exactly as generated (editing it could break the schema): citations
            # inside its strings are checked and failures listed, not removed.
            answer.text = text
            answer.data = parse_against(text, json_schema)
            verification = self.verifier.verify("\n".join(strings_in(answer.data)), answer.sources)
        answer.citations = verification.citations
        answer.rejected = verification.rejected
        answer.unsupported_sentences = verification.unsupported_sentences
        answer.faithfulness = verification.faithfulness

    def _prompt_sources(self, question: str, hits: list[Hit], relevant: list[Hit]) -> tuple[list[Hit], int]:
        """(the hits to fit into the prompt, how many at most). A local model under 1B parameters
        gets fewer, better sources, each led by its best answer candidate (``small_model_*``)."""
        cfg = self.config
        parameters = getattr(self.llm, "parameters", None)
        if not cfg.small_model_sources or self.reader is None or parameters is None or parameters >= SMALL_MODEL_PARAMETERS:
            return hits, cfg.max_sources
        dense = [hit.scores["dense"] for hit in relevant if "dense" in hit.scores]
        floor = max(dense) - cfg.small_model_margin if dense else None
        # A hit only BM25 found has no cosine to compare: it stays.
        better = [hit for hit in relevant if floor is None or hit.scores.get("dense", floor) >= floor]
        most = min(cfg.max_sources, cfg.small_model_sources)
        return self.reader.lead_with_best(question, better[:most]), most

    def _pin_pages(self, answer: Answer, principal: Principal) -> None:
        """A quote's own page: a chunk spanning pages starts on one, its quote may be on the next."""
        documents: dict[str, Any] = {}
        for citation in answer.citations:
            hit = answer.sources[citation.number - 1]
            if hit.page is None or hit.page_end in (None, hit.page):
                continue
            if citation.document_id not in documents:
                documents[citation.document_id] = self.retriever.store.document(citation.document_id, principal)
            document = documents[citation.document_id]
            if document is not None:
                citation.page = document.page_at(citation.quote_start)

    def _apply_policy(self, answer: Answer, relevant: Sequence[Hit]) -> None:
        """Verified-or-quoted: a generated answer that no source supports is not shown as the
        answer (``[answer] on_unsupported``)."""
        answer.supported = is_supported(answer) and answers_the_kind_asked(answer)
        if answer.supported:
            return
        policy = self.config.on_unsupported
        if policy == "flag":
            answer.flags.append(UNSUPPORTED_FLAG)
        if policy != "quote":
            return
        answer.rejected_text = answer.text
        answer.mode = "quoted"
        extraction = None
        if self.reader is not None:
            tick = time.perf_counter()
            extraction = self.reader.read(answer.question, relevant[: self.config.max_sources])
            answer.timings["read"] = time.perf_counter() - tick
        if extraction is None:  # nothing to quote: an honest refusal, never the unsupported text
            answer.text, answer.found, answer.citations = self.config.not_found_text, False, []
            answer.flags.append("the generated answer was not supported by the sources and nothing could be quoted")
            return
        answer.sources = list(relevant[: self.config.max_sources])
        answer.text, answer.citations, answer.faithfulness = extraction.text, extraction.quotes, 1.0
        answer.flags.append(REPLACED_FLAG)


def is_supported(answer: Answer) -> bool:
    """False when the answer is empty, when none of its checked sentences is supported by a
    source, or when it states a number that no source states (a wrong price or date is the
    costliest error)."""
    plain = MARKER.sub(" ", answer.text)
    if not plain.strip() or answer.faithfulness == 0.0:
        return False
    stated = {t for t in content_terms(plain) if is_number(t)}
    known = {t for hit in answer.sources for t in content_terms(hit.text) if is_number(t)} if stated else set()
    return stated <= known


def answers_the_kind_asked(answer: Answer) -> bool:
    """An answer to a question asking for an amount, count or duration must state a number the
    question does not ("The Commuter 200 Belt is a city bike" does not say what it costs)."""
    if not wants_number(answer.question) or WHEN.search(answer.question):
        return True
    asked = {t for t in content_terms(answer.question) if is_number(t)}
    return bool({t for t in content_terms(MARKER.sub(" ", answer.text)) if is_number(t)} - asked)


def unstated_values(data: Any, sources: Sequence[Hit]) -> list[str]:
    """The values of a JSON answer (strings of content words, numbers) that no source states."""
    known = {t for hit in sources for t in content_terms(hit.text)}
    unstated = []
    for value in leaves_in(data):
        terms = content_terms(str(value))
        if terms and not set(terms) <= known:
            unstated.append(str(value))
    return unstated

