"""The workspace: one folder holding ragtune.toml and everything ragtune writes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ragtune.config import DEFAULT_CONFIG_TOML, RagtuneConfig
from ragtune.registry.references import resolve_references

DEFAULT_WORKSPACE = ".ragtune"
WORKSPACE_ENV = "RAGTUNE_WORKSPACE"
CONFIG_NAME = "ragtune.toml"


def user_cache(name: str) -> Path:
    """A folder under the user's cache (``$XDG_CACHE_HOME/ragtune``) for files derived from
    models, shared by every workspace: ONNX exports, dequantised GGUF bases."""
    base = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(base).expanduser() / "ragtune" / name


@dataclass(frozen=True)
class Workspace:
    root: Path
    index_name: str = "index"
    """The index folder's name; a rebuild writes a sibling and swaps it in."""

    @classmethod
    def resolve(cls, path: Path | str | None = None) -> Workspace:
        """``path``, else $RAGTUNE_WORKSPACE, else ./.ragtune."""
        chosen = path or os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE
        return cls(Path(chosen).expanduser())

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def index_dir(self) -> Path:
        return self.root / self.index_name

    @property
    def models_dir(self) -> Path:
        """The model registry: fine-tuned models with their lineage."""
        return self.root / "models"

    def load_config(self) -> RagtuneConfig:
        """ragtune.toml, with registry references (``name@production``) resolved to the files
        that serve them."""
        return resolve_references(RagtuneConfig.load(self.config_path), self.models_dir)

    def init(self) -> bool:
        """Create the folder and a commented default ragtune.toml; False if it already existed."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self.config_path.exists():
            return False
        self.config_path.write_text(DEFAULT_CONFIG_TOML, encoding="utf-8")
        return True
