"""What the advisor is told: the team's answers (``Questionnaire``) and every price and assumption
of the cost projection (``CostModel``), both loadable from TOML.

Unknown keys are errors, as in ``ragtune.toml``: a misspelt answer must not silently become a
default and change the recommendation. Every assumption is a named field with its source, so a
reader can see (and override) what the 12-month projection rests on.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ragtune.config import ChunkingConfig, CostConfig, ModelPrice, RagtuneConfig, format_validation_error
from ragtune.errors import ConfigError

Approach = Literal["prompt", "rag", "extract", "ft", "hybrid"]
APPROACHES: tuple[Approach, ...] = ("prompt", "rag", "extract", "ft", "hybrid")
"""``extract`` is retrieval + the extractive reader (``[answer] mode = "extract"``): the answer is
the shortest span of a visible source, quoted verbatim, and no language model is called."""
RETRIEVAL_APPROACHES: frozenset[str] = frozenset({"rag", "extract", "hybrid"})
"""Approaches that search the documents at question time (so they index, re-index and store them)."""
TRAINED_APPROACHES: frozenset[str] = frozenset({"ft", "hybrid"})
"""Approaches that serve a fine-tuned model (so they train, and retrain to stay current)."""
MODEL_FREE_APPROACHES: frozenset[str] = frozenset({"extract"})
"""Approaches that call no language model: no tokens, so a hosted model's token prices never apply."""

ChangeFrequency = Literal["never", "yearly", "quarterly", "monthly", "weekly", "daily"]
OutputFormat = Literal["free", "structured", "strict"]


class _Model(BaseModel):
    # Attribute docstrings become field descriptions: the interactive questions are read from them.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_attribute_docstrings=True)


class Questionnaire(_Model):
    """The team's answers. The defaults describe a typical internal assistant: private documents
    that change monthly, free-text answers, no per-user visibility."""

    knowledge_changes: ChangeFrequency = "monthly"
    """How often does the knowledge the assistant must know change?"""
    needs_citations: bool = False
    """Must answers cite their sources (auditable answers)?"""
    access_control: bool = False
    """May different users see different documents?"""
    output_format: OutputFormat = "free"
    """How strict is the output format: free text, structured (e.g. JSON), or a strict format every answer must follow?"""
    classification: bool = False
    """Is the main need classification or routing (a label per input) rather than answering?"""
    private_knowledge: bool = True
    """Do answers need private or domain facts from your documents (facts a public model does not know)?"""
    style: bool = False
    """Must the assistant learn a specific tone, style or house format?"""
    quotable_answers: bool = False
    """Are most answers a fact stated in one place of a document (a price, rule, date), so a quoted passage can be the answer?"""
    latency_budget_ms: float = Field(default=10_000, gt=0)
    """Latency budget: the 95th-percentile time to a complete answer, in milliseconds."""
    queries_per_month: int = Field(default=10_000, ge=0)
    """How many questions per month?"""
    documents: int = Field(default=1_000, ge=0)
    """How many documents hold the knowledge?"""
    avg_document_tokens: int = Field(default=1_000, ge=1)
    """Average document size in tokens (about 250 tokens per KB of English text)."""
    changed_share: float = Field(default=0.05, ge=0, le=1)
    """Share of the documents that change in each change event (0.05 = 5 %)."""
    monthly_budget_usd: float | None = Field(default=None, ge=0)
    """Monthly budget in USD for running the assistant (empty: no budget)."""


class ApproachProfile(_Model):
    """What one question costs an approach. Defaults per approach are in ``QueryProfiles``."""

    prompt_tokens: float = Field(ge=0)
    """Tokens the model reads per question (question, instructions and, with retrieval, the sources)."""
    completion_tokens: float = Field(ge=0)
    """Tokens the model writes per answer."""
    seconds: float | None = Field(default=None, ge=0)
    """Wall seconds per question on ``cores`` cores; None derives it from the tokens and the
    prefill/decode rates (plus ``retrieval_seconds`` for retrieval approaches)."""
    p95_ms: float | None = Field(default=None, ge=0)
    """95th-percentile latency; None estimates it as ``seconds × p95_over_p50``."""
    training_hours: float | None = Field(default=None, ge=0)
    """Hours per fine-tuning run of this approach; None uses the cost model's ``training_hours``.
    Only ``ft`` and ``hybrid`` train."""


class QueryProfiles(_Model):
    """Per-approach question costs. Retrieval prompts are long: five ~180-token sources ≈ 900
    tokens (bench/generation.py measured a p50 of 1,234 prompt tokens for five COVID-QA chunks);
    without retrieval the prompt is the question plus instructions. 60 tokens out is the measured
    p50 completion of the same bench. ``extract`` calls no model: 0 tokens either way, and its
    seconds are ``retrieval_seconds + extract_seconds``."""

    prompt: ApproachProfile = Field(default_factory=lambda: ApproachProfile(prompt_tokens=60, completion_tokens=60))
    rag: ApproachProfile = Field(default_factory=lambda: ApproachProfile(prompt_tokens=900, completion_tokens=60))
    extract: ApproachProfile = Field(default_factory=lambda: ApproachProfile(prompt_tokens=0, completion_tokens=0))
    ft: ApproachProfile = Field(default_factory=lambda: ApproachProfile(prompt_tokens=60, completion_tokens=60))
    hybrid: ApproachProfile = Field(default_factory=lambda: ApproachProfile(prompt_tokens=900, completion_tokens=60))

    @model_validator(mode="after")
    def _only_trained_approaches_train(self) -> QueryProfiles:
        for name in APPROACHES:
            if name not in TRAINED_APPROACHES and getattr(self, name).training_hours is not None:
                raise ValueError(f"{name}.training_hours: '{name}' never trains (only "
                                 f"{' and '.join(sorted(TRAINED_APPROACHES))} serve a fine-tuned model)")
        return self


class PeopleTime(_Model):
    """People time per update, the cost that machine time leaves out: every fine-tuning update is a
    project (curate the new training data, review the evaluation, deploy the model), while
    re-indexing is automated and needs a short look at its result. The defaults are assumptions, not
    measurements: order-of-magnitude figures for a small team, to be replaced with your own (in a
    ``--costs`` file, ``[people]``). An hour set to 0 charges nothing: its line item stays in the
    projection at $0, as every other item does when nothing happens.

    Only recurring updates are charged here; the one-off build (first data set, first pipeline) is
    ``setup_usd``, so it is not counted twice."""

    hourly_rate_usd: float = Field(default=75.0, ge=0)
    """Dollars per person-hour, fully loaded (salary, overhead). Assumption: about $135,000 a year of
    engineer cost over 1,800 working hours; use your team's rate (0 leaves people time out)."""
    curation_hours: float = Field(default=4.0, ge=0)
    """Hours of dataset curation per retraining run (``ft``, ``hybrid``): turn the changed documents
    into training examples and check a sample of them by hand (``ragtune data raft`` drafts them, the
    checking stays). Assumption."""
    review_hours: float = Field(default=2.0, ge=0)
    """Hours of evaluation review per retraining run: read the regression evaluation and sample
    answers before the new model goes out (a retrained model can forget what it knew). Assumption."""
    deployment_hours: float = Field(default=1.0, ge=0)
    """Hours to deploy each retrained model: swap the adapter or model, smoke-test, record the
    version and how to roll back. Assumption."""
    reindex_review_hours: float = Field(default=0.25, ge=0)
    """Hours per re-indexing event (``rag``, ``extract``, ``hybrid``): re-indexing runs by itself
    (``ragtune sync``), a person reads its summary and the evaluation diff. Assumption."""


class CostModel(_Model):
    """Every unit price and assumption of the 12-month total cost of ownership. Defaults are the
    project machine class (2 cores, no GPU) running the bundled models; bench/RESULTS.md holds the
    measurements they come from."""

    cpu_hour_usd: float = Field(default=CostConfig.model_fields["cpu_hour_usd"].default, ge=0)
    """Dollars per CPU core-hour (the default of ``[cost] cpu_hour_usd`` in ragtune.toml)."""
    cores: int = Field(default=2, ge=1)
    """Cores the local work (embedding, search, a local model, CPU training) occupies."""
    gpu_hour_usd: float = Field(default=1.0, ge=0)
    """Dollars per GPU-hour when ``training_device = "gpu"`` (order of an on-demand L4/A10G-class GPU)."""

    embed_seconds_per_chunk: float = Field(default=0.025, ge=0)
    """Wall seconds to embed and store one chunk on ``cores`` cores: bench/RESULTS.md measured
    41–42 chunks/s for the default ONNX MiniLM embedder on 2 cores (ingest of SciFact and COVID-QA)."""
    chunk_tokens: int = Field(default=ChunkingConfig.model_fields["chunk_tokens"].default, ge=8)
    """Tokens per chunk (ragtune's default chunking)."""
    overlap_tokens: int = Field(default=ChunkingConfig.model_fields["overlap_tokens"].default, ge=0)
    """Tokens shared by neighbouring chunks: a document of T tokens gives ceil(T / (chunk - overlap)) chunks."""
    chunks_per_document: float | None = Field(default=None, gt=0)
    """Override the chunk count derived from the document size."""
    storage_usd_per_gb_month: float = Field(default=0.10, ge=0)
    """Dollars per GB-month of disk for the index (order of cloud block storage)."""
    bytes_per_chunk: int = Field(default=5_000, ge=0)
    """Index bytes per chunk: vector (384 × 4 B), text, FTS5 postings and metadata. bench/ann_scale.py
    stored 100,000 chunks in a 457 MB database (~4,600 B per chunk)."""

    prefill_tokens_per_s: float = Field(default=240, gt=0)
    """Prompt tokens read per second by the local model (bench/generation.py: SmolLM2-135M, 2 cores)."""
    decode_tokens_per_s: float = Field(default=60, gt=0)
    """Tokens written per second by the local model (same bench: 59–60 decode tokens/s)."""
    retrieval_seconds: float = Field(default=0.05, ge=0)
    """Seconds of search per question for retrieval approaches (same bench: retrieval p50 51 ms)."""
    extract_seconds: float = Field(default=0.05, ge=0)
    """Seconds the extractive reader (``extract``) takes per answer after the search: cutting the
    sources into candidates and scoring them, no model call (tens of ms per answer, bench/RESULTS.md
    extractive reader)."""
    p95_over_p50: float = Field(default=1.2, ge=1)
    """How much slower the 95th-percentile answer is than the typical one (same bench: 7,427 / 6,166 ms)."""
    queries: QueryProfiles = Field(default_factory=QueryProfiles)
    """Tokens, seconds and training hours per approach."""

    token_prices: ModelPrice | None = None
    """A hosted model's dollars per million prompt and completion tokens. When set, questions are
    charged by tokens instead of local CPU time (except ``extract``'s, which call no model)."""
    fine_tuned_price_factor: float = Field(default=1.0, ge=0)
    """Hosted fine-tuned models are often priced above their base model (e.g. 2×); multiplies
    ``token_prices`` for ``ft`` and ``hybrid``. (``extract`` calls no model: it is always charged by
    local CPU time.)"""

    training_hours: float = Field(default=1.0, ge=0)
    """Hours per fine-tuning run. Order of magnitude: a LoRA on SmolLM2-135M took 0.24 h for 269
    examples × 2 epochs on 2 cores (bench/RESULTS.md); a data set drawn from a whole corpus is larger."""
    training_device: Literal["cpu", "gpu"] = "cpu"
    """Where training runs: ``cpu`` costs ``cores × cpu_hour_usd`` per hour, ``gpu`` costs ``gpu_hour_usd``."""
    style_changes: ChangeFrequency = "quarterly"
    """How often the tone/format a model learns changes: the retraining cadence of ``hybrid`` (its
    facts come from retrieval) and of ``ft`` when no private knowledge lives in its weights."""

    eval_runs_per_month: float = Field(default=1.0, ge=0)
    """Evaluation runs per month (regression checks after re-indexing or retraining)."""
    eval_seconds_per_run: float = Field(default=600, ge=0)
    """Wall seconds per evaluation run on ``cores`` cores (about 100 questions at ~5 s)."""
    setup_usd: dict[Approach, float] = Field(default_factory=dict)
    """One-off engineering cost per approach, charged in month 1 (default 0: not modelled)."""
    people: PeopleTime = Field(default_factory=PeopleTime)
    """People time per update and its hourly rate (``[people]`` in a ``--costs`` file): curation,
    evaluation review and deployment per retraining run, a review per re-indexing event."""

    def profile(self, approach: Approach) -> ApproachProfile:
        return getattr(self.queries, approach)

    def chunks_per_doc(self, avg_document_tokens: int) -> float:
        if self.chunks_per_document is not None:
            return self.chunks_per_document
        return float(max(1, math.ceil(avg_document_tokens / max(self.chunk_tokens - self.overlap_tokens, 1))))

    @model_validator(mode="after")
    def _overlap_below_size(self) -> CostModel:
        if self.overlap_tokens >= self.chunk_tokens:
            raise ValueError(f"overlap_tokens ({self.overlap_tokens}) must be smaller than chunk_tokens ({self.chunk_tokens})")
        return self


M = TypeVar("M", bound=BaseModel)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _validate(cls: type[M], raw: dict[str, Any], path: Path) -> M:
    try:
        return cls.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(path, exc)) from None


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` on top of ``base``, table by table, so ``[queries.rag] prompt_tokens = 1200``
    keeps rag's other defaults."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_questionnaire(path: Path) -> Questionnaire:
    """The answers in a TOML file (see examples/advise.toml); unset answers keep their defaults."""
    return _validate(Questionnaire, _read_toml(path), path)


def load_cost_model(path: Path, base: CostModel | None = None) -> CostModel:
    """``base`` (default: all defaults) with the overrides in a TOML file."""
    start = (base or CostModel()).model_dump(exclude_none=True)
    return _validate(CostModel, _merge(start, _read_toml(path)), path)


def workspace_cost_model(config: RagtuneConfig, costs: Path | None = None) -> CostModel:
    """The defaults, then the workspace's ``[cost]`` prices (a remote model priced there is charged
    by tokens, as in evaluation reports), then a ``--costs`` file."""
    base: dict[str, Any] = {"cpu_hour_usd": config.cost.cpu_hour_usd}
    if config.cost.cores:
        base["cores"] = config.cost.cores
    price = config.cost.prices.get(config.llm.model) if config.llm.backend == "openai" else None
    if price is not None:
        base["token_prices"] = price
    model = CostModel(**base)
    return load_cost_model(costs, base=model) if costs is not None else model
