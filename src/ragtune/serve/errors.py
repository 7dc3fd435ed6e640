"""Errors the service answers, in OpenAI's shape: ``{"error": {"message", "type", "code"}}``."""

from __future__ import annotations

from typing import Any

from ragtune.errors import RagtuneError


class ApiError(Exception):
    """An error answered as ``{"error": {"message", "type", "code"}}``, OpenAI's shape."""

    def __init__(self, status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.headers = status, message, kind, headers or {}


def error_body(message: str, kind: str, status: int) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": status}}


class StateUnavailable(RagtuneError):
    """The database holding the API keys and rate limits cannot be reached: answered with 503,
    since the request itself may be fine and a retry (or another replica) may succeed."""
