"""The workspace: one folder holding ragtune.toml and everything ragtune writes. Its layout is
listed here and nowhere else; every module asks ``Workspace`` for a path.

    ragtune.toml        the configuration (``config_path``)
    index/              the index of ``[index] backend`` (``index_dir``); ``index.replaced/`` is
                        the previous one for a moment while a rebuild swaps in (``retired_index_dir``)
    models/             the model registry (``models_dir``)
    evals/<run id>/     saved evaluation and compare runs (``evals_dir``)
    evals/<kind>/<name> scratch of evaluations: indexes of eval corpora, compare copies (``scratch_dir``)
    uploads/            documents uploaded to the server (``uploads_dir``)
    audit/audit.jsonl   the server's audit log (``audit_log``)
    keys.json           the server's API key hashes (``keys_path``); on PostgreSQL, in the database

The user cache (ONNX exports, dequantised bases) is shared by all workspaces: ``ragtune.cache``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ragtune.config import DEFAULT_CONFIG_TOML, RagtuneConfig
from ragtune.registry.references import resolve_references

DEFAULT_WORKSPACE = ".ragtune"
WORKSPACE_ENV = "RAGTUNE_WORKSPACE"
CONFIG_NAME = "ragtune.toml"


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
    def retired_index_dir(self) -> Path:
        """Where the replaced index waits while a rebuilt one is swapped in."""
        return self.root / f"{self.index_name}.replaced"

    @property
    def models_dir(self) -> Path:
        """The model registry: fine-tuned models with their lineage."""
        return self.root / "models"

    @property
    def evals_dir(self) -> Path:
        """Saved runs, one folder per run id."""
        return self.root / "evals"

    def scratch_dir(self, kind: str, name: str) -> Path:
        """A folder an evaluation of ``kind`` (``index``, ``corpora``, ``compare``, ``raft``) keeps
        between runs under ``name``: an eval corpus's index, a comparison's copy of the documents."""
        return self.evals_dir / kind / name

    @property
    def uploads_dir(self) -> Path:
        return self.root / "uploads"

    @property
    def audit_log(self) -> Path:
        return self.root / "audit" / "audit.jsonl"

    @property
    def keys_path(self) -> Path:
        """API key hashes of the server (never the keys)."""
        return self.root / "keys.json"

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
