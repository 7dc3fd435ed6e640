"""The workspace: one folder holding ragtune.toml and everything ragtune writes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ragtune.config import DEFAULT_CONFIG_TOML, RagtuneConfig

DEFAULT_WORKSPACE = ".ragtune"
WORKSPACE_ENV = "RAGTUNE_WORKSPACE"
CONFIG_NAME = "ragtune.toml"


@dataclass(frozen=True)
class Workspace:
    root: Path

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
        return self.root / "index"

    def load_config(self) -> RagtuneConfig:
        return RagtuneConfig.load(self.config_path)

    def init(self) -> bool:
        """Create the folder and a commented default ragtune.toml; False if it already existed."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self.config_path.exists():
            return False
        self.config_path.write_text(DEFAULT_CONFIG_TOML, encoding="utf-8")
        return True
