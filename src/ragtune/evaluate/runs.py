"""Saved evaluation runs: each under ``<workspace>/evals/<run id>/`` with the configuration, the
code version and the data set's hash, so that any two runs can be diffed later.

    run.json        what ran: kind, variants and their configs, data set, code version, summary
    queries.jsonl   one row per (variant, query): scores, latencies, tokens, cost, top hits
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ragtune.errors import RagtuneError
from ragtune.version import code_version
from ragtune.workspace import Workspace


def file_hash(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@dataclass(slots=True)
class EvalRun:
    kind: str
    """``retrieval`` or ``qa``."""
    dataset: dict[str, Any]
    """``path``, ``sha256``, ``split``/``limit`` and how many items were evaluated."""
    variants: dict[str, dict[str, Any]]
    """Variant name -> the settings it overrides (and its effective config sections)."""
    rows: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Variant name -> aggregated metrics."""
    id: str = ""
    created: str = ""
    code: str = ""

    def rows_of(self, variant: str, phase: str | None = None) -> list[dict[str, Any]]:
        """The variant's rows of the main evaluation, or of a later ``phase`` (a comparison's
        ``freshness`` questions)."""
        return [r for r in self.rows if r["variant"] == variant and r.get("phase") == phase]


class RunStore:
    def __init__(self, workspace: Workspace) -> None:
        self.root = workspace.evals_dir

    def save(self, run: EvalRun) -> Path:
        run.created = run.created or time.strftime("%Y-%m-%dT%H:%M:%S%z")
        run.code = run.code or code_version()
        if not run.id:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            salt = hashlib.sha256(json.dumps(run.variants, sort_keys=True, default=str).encode()).hexdigest()[:6]
            run.id = f"{run.kind}-{stamp}-{salt}"
            suffix = 1
            while (self.root / run.id).exists():  # the same run started twice within a second
                suffix += 1
                run.id = f"{run.kind}-{stamp}-{salt}-{suffix}"
        folder = self.root / run.id
        folder.mkdir(parents=True, exist_ok=True)
        meta = {k: v for k, v in asdict(run).items() if k != "rows"}
        with (folder / "queries.jsonl").open("w", encoding="utf-8") as handle:
            for row in run.rows:
                handle.write(json.dumps(row, default=str) + "\n")
        # run.json last: a run whose folder lacks it was interrupted and is not listed.
        (folder / "run.json").write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
        return folder

    def resolve(self, ref: str) -> Path:
        """A run folder from its id, a unique id prefix, ``latest``, or a path."""
        as_path = Path(ref)
        if (as_path / "run.json").is_file():
            return as_path
        ids = self.ids()
        if ref == "latest" and ids:
            return self.root / ids[-1]
        matches = [i for i in ids if i == ref] or [i for i in ids if i.startswith(ref)]
        if len(matches) == 1:
            return self.root / matches[0]
        known = ", ".join(ids[-5:]) or "none yet"
        what = "matches several runs" if matches else "is not a saved run"
        raise RagtuneError(f"'{ref}' {what} in {self.root} (latest: {known})")

    def load(self, ref: str) -> EvalRun:
        folder = self.resolve(ref)
        try:
            meta = json.loads((folder / "run.json").read_text(encoding="utf-8"))
            rows = [json.loads(line) for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines() if line]
            return EvalRun(rows=rows, **meta)
        except (OSError, json.JSONDecodeError, TypeError) as exc:
            raise RagtuneError(f"{folder}: not a readable evaluation run: {exc}") from None

    def ids(self) -> list[str]:
        """Saved run ids, oldest first."""
        if not self.root.is_dir():
            return []
        saved = [p for p in self.root.iterdir() if (p / "run.json").is_file()]
        return [p.name for p in sorted(saved, key=lambda p: ((p / "run.json").stat().st_mtime, p.name))]
