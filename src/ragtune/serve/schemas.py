"""Request bodies of the HTTP API. OpenAI-compatible ones ignore fields they do not use, as
OpenAI-compatible servers do; native ones refuse unknown fields, so a typo is an error."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Mode = Literal["hybrid", "dense", "bm25"]


AnswerMode = Literal["generate", "extract"]

class RetrievalOptions(BaseModel):
    """How to retrieve, where a request may choose (``[retrieval]`` otherwise)."""

    model_config = ConfigDict(extra="forbid")
    k: int | None = Field(default=None, ge=1, le=100)
    mode: Mode | None = None
    filters: dict[str, Any] | None = None
    """Metadata filter, as for ``ragtune search --filter``."""


# -- OpenAI-compatible --------------------------------------------------------------------------
class ContentPart(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if self.content is None or isinstance(self.content, str):
            return self.content or ""
        parts = []
        for part in self.content:
            if part.type != "text" or part.text is None:
                raise ValueError(f"content parts of type '{part.type}' are not supported; send text")
            parts.append(part.text)
        return "\n".join(parts)


class JsonSchemaFormat(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = "answer"
    schema_: dict[str, Any] = Field(alias="schema")
    strict: bool | None = None


class ResponseFormat(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["text", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    model: str = Field(min_length=1, max_length=200)
    messages: list[ChatMessage] = Field(min_length=1, max_length=200)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=32768)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=32768)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    seed: int | None = None
    stop: str | list[str] | None = None
    n: int = Field(default=1, ge=1, le=1)
    response_format: ResponseFormat | None = None
    retrieval: RetrievalOptions | None = None
    """ragtune's own field (``extra_body`` in the openai client): k, mode, metadata filters."""
    answer_mode: AnswerMode | None = None
    """ragtune's own field: ``generate`` or ``extract``; ``[answer] mode`` otherwise."""


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    model: str = Field(min_length=1, max_length=200)
    input: str | list[str] = Field(min_length=1)
    encoding_format: Literal["float", "base64"] = "float"
    """``base64``: little-endian float32 bytes, what the openai client asks for by default."""


# -- native -------------------------------------------------------------------------------------
class SearchBody(RetrievalOptions):
    query: str = Field(min_length=1, max_length=4000)


class AskRequest(RetrievalOptions):
    question: str = Field(min_length=1, max_length=4000)
    model: str | None = Field(default=None, max_length=200)
    json_schema: dict[str, Any] | None = None
    stream: bool = False
    """Server-sent events: ``delta`` events with text, then one ``answer`` event."""
    answer_mode: AnswerMode | None = None
    """``generate`` or ``extract`` (quoted from the sources, no model); ``[answer] mode`` otherwise."""


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str = Field(min_length=1, max_length=200)
    """A registered classifier: ``name`` (production), ``name@v2``, ``name@candidate``."""
    texts: list[str] = Field(min_length=1, max_length=256)
