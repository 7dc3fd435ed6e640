"""Exceptions that carry a message meant for the user, not a traceback."""

from __future__ import annotations


class RagtuneError(Exception):
    """Base class: its message is printed to the user as is."""


class ConfigError(RagtuneError):
    """The configuration (ragtune.toml or a command-line option) is invalid."""


class LoadError(RagtuneError):
    """A whole file could not be turned into documents; the message names the reason."""


class UnsupportedFormatError(LoadError):
    """No loader handles this file."""


class EmbedderError(RagtuneError):
    """An embedder failed at run time (a server error, a malformed answer, a failed export)."""


class GenerationError(RagtuneError):
    """A language model failed or cannot do what was asked (a server error, an unloadable model,
    a JSON schema the backend cannot enforce)."""


class EvalDataError(LoadError):
    """An evaluation data set (BEIR folder, SQuAD file, eval JSONL) is missing or malformed;
    the message names the file and, where there is one, the line."""


class RegistryError(RagtuneError):
    """A model reference names nothing, a stage change is not allowed, or a registry entry is
    corrupt; the message names the entry's file."""


class TrainingError(RagtuneError):
    """A fine-tuning run cannot start or failed (bad data for the task, an unusable base model)."""
