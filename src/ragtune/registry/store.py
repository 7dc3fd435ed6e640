"""The model registry: every trained artifact as a numbered version with its lineage and stage.

Layout, inside the workspace::

    models/<name>/v<N>/model.json   lineage, metrics, stage and its history
    models/<name>/v<N>/...          the artifacts model.json lists (adapter, model folder, GGUF)

A version is built in a staging folder beside its final place and renamed into place with its
``model.json`` already written, so a half-trained model is never listed. Stage changes rewrite
``model.json`` atomically under a registry-wide lock. References: ``name@v3`` (or ``name@3``),
``name@production``, ``name@candidate`` (the newest candidate), ``name@latest``, and a bare
``name`` meaning its production version.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ragtune.atomic_files import write_text_atomic
from ragtune.errors import RegistryError
from ragtune.version import code_version

STAGES = ("candidate", "production", "archived")
MODEL_KINDS = ("llm", "classifier", "embedder", "reader")
ENTRY = "model.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_VERSION_DIR = re.compile(r"^v(\d+)$")


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise RegistryError(f"model name {name!r}: use letters, digits, '.', '_' or '-' (at most 64, no '@')")
    return name


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class ModelVersion:
    name: str
    version: int
    kind: str
    """``llm`` (a LoRA adapter on a base causal LM), ``classifier``, ``embedder`` or ``reader`` (a
    cross-encoder that reranks chunks and scores answer candidates)."""
    base_model: str
    data: dict[str, Any]
    """``path``, ``sha256`` (the prepared data set's content hash), ``kind`` and split sizes."""
    hyperparameters: dict[str, Any]
    code_version: str
    created_at: str
    training_seconds: float
    metrics: dict[str, Any]
    """Scores on the held-out (test) split."""
    artifacts: dict[str, str]
    """Role -> path relative to the version folder (``adapter``, ``model``, ``gguf_adapter`` ...)."""
    stage: str = "candidate"
    history: list[dict[str, Any]] = field(default_factory=list)
    """Stage changes in order: ``{"stage", "at", "seq"}``; ``seq`` orders them across versions."""
    extra: dict[str, Any] = field(default_factory=dict)
    path: Path = field(default=Path("."), compare=False)

    @property
    def ref(self) -> str:
        return f"{self.name}@v{self.version}"

    def artifact(self, role: str) -> Path | None:
        relative = self.artifacts.get(role)
        return self.path / relative if relative else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("path")
        return data


_REQUIRED = {f for f in ModelVersion.__dataclass_fields__ if f not in ("stage", "history", "extra", "path")}


def _read_entry(folder: Path) -> ModelVersion:
    path = folder / ENTRY
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryError(f"{path}: corrupt registry entry: the file is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RegistryError(f"{path}: corrupt registry entry: {exc}") from None
    if not isinstance(raw, dict):
        raise RegistryError(f"{path}: corrupt registry entry: not a JSON object")
    missing = sorted(_REQUIRED - raw.keys())
    if missing:
        raise RegistryError(f"{path}: corrupt registry entry: missing {', '.join(missing)}")
    unknown = sorted(raw.keys() - ModelVersion.__dataclass_fields__.keys())
    if unknown:
        raise RegistryError(f"{path}: corrupt registry entry: unknown field(s) {', '.join(unknown)}")
    entry = ModelVersion(**raw, path=folder)
    if entry.stage not in STAGES or entry.kind not in MODEL_KINDS or not isinstance(entry.version, int):
        raise RegistryError(f"{path}: corrupt registry entry: stage {entry.stage!r}, kind {entry.kind!r}, "
                            f"version {entry.version!r}")
    if f"v{entry.version}" != folder.name or entry.name != folder.parent.name:
        raise RegistryError(f"{path}: corrupt registry entry: it says {entry.name}@v{entry.version} "
                            f"but lies in {folder.parent.name}/{folder.name}")
    for role, relative in entry.artifacts.items():
        if not (folder / relative).exists():
            raise RegistryError(f"{path}: corrupt registry entry: its {role} ({relative}) is missing")
    return entry


def _write_entry(entry: ModelVersion, folder: Path) -> None:
    write_text_atomic(folder / ENTRY, json.dumps(entry.to_dict(), indent=2, ensure_ascii=False) + "\n")


class ModelRegistry:
    def __init__(self, root: Path) -> None:
        self.root = root

    @contextmanager
    def _lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def staging(self, name: str) -> Iterator[Path]:
        """A fresh folder to train into; removed unless ``register`` moved it into place."""
        parent = self.root / check_name(name)
        parent.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=".staging-", dir=parent))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def register(self, staging: Path, *, name: str, kind: str, base_model: str, data: dict[str, Any],
                 hyperparameters: dict[str, Any], metrics: dict[str, Any], training_seconds: float,
                 artifacts: dict[str, str], extra: dict[str, Any] | None = None) -> ModelVersion:
        if kind not in MODEL_KINDS:
            raise RegistryError(f"unknown model kind {kind!r}")
        for role, relative in artifacts.items():
            if not (staging / relative).exists():
                raise RegistryError(f"cannot register {name}: its {role} ({relative}) was not written")
        with self._lock():
            version = 1 + max((int(m.group(1)) for m in self._version_dirs(name)), default=0)
            entry = ModelVersion(
                name=check_name(name), version=version, kind=kind, base_model=base_model, data=data,
                hyperparameters=hyperparameters, code_version=code_version(), created_at=now(),
                training_seconds=round(training_seconds, 3), metrics=metrics, artifacts=artifacts,
                history=[{"stage": "candidate", "at": now(), "seq": self._next_seq(name)}], extra=extra or {},
            )
            _write_entry(entry, staging)
            target = self.root / name / f"v{version}"
            os.rename(staging, target)
        entry.path = target
        return entry

    def _version_dirs(self, name: str) -> Iterator[re.Match[str]]:
        folder = self.root / name
        if folder.is_dir():
            for child in folder.iterdir():
                match = _VERSION_DIR.match(child.name)
                if match and child.is_dir():
                    yield match

    def _next_seq(self, name: str) -> int:
        entries, _ = self._entries(name)
        return 1 + max((event.get("seq", 0) for e in entries for event in e.history), default=0)

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and _NAME.match(p.name))

    def _entries(self, name: str) -> tuple[list[ModelVersion], list[RegistryError]]:
        entries, problems = [], []
        for match in self._version_dirs(name):
            try:
                entries.append(_read_entry(self.root / name / match.group(0)))
            except RegistryError as exc:
                problems.append(exc)
        entries.sort(key=lambda e: e.version)
        return entries, problems

    def list(self, name: str | None = None) -> tuple[list[ModelVersion], list[RegistryError]]:
        """Every readable version (by name, then version) and an error for each corrupt one."""
        entries, problems = [], []
        for each in [check_name(name)] if name else self.names():
            found, bad = self._entries(each)
            entries.extend(found)
            problems.extend(bad)
        return entries, problems

    def get(self, ref: str) -> ModelVersion:
        name, _, selector = ref.partition("@")
        check_name(name)
        selector = selector or "production"
        numbered = re.fullmatch(r"v?(\d+)", selector)
        if numbered:
            folder = self.root / name / f"v{int(numbered.group(1))}"
            if not folder.is_dir():
                raise RegistryError(f"no model {name}@v{int(numbered.group(1))}{self._known(name)}")
            return _read_entry(folder)
        entries, problems = self._entries(name)
        if selector == "latest":
            chosen = entries[-1:]
        elif selector in STAGES:
            chosen = [e for e in entries if e.stage == selector][-1:]
        else:
            raise RegistryError(f"{ref}: after '@' give a version (v3), a stage ({', '.join(STAGES)}) or 'latest'")
        if not chosen:
            if problems:
                raise problems[0]
            hint = "; promote one with `ragtune models promote`" if selector == "production" and entries else ""
            raise RegistryError(f"no {selector} version of model '{name}'{self._known(name)}{hint}")
        return chosen[0]

    def _known(self, name: str) -> str:
        entries, _ = self._entries(name)
        if entries:
            return f" (versions: {', '.join(f'v{e.version} {e.stage}' for e in entries)})"
        names = self.names()
        return f" (registered models: {', '.join(names)})" if names else " (the registry is empty)"

    def _set_stage(self, entry: ModelVersion, stage: str, seq: int) -> None:
        entry.stage = stage
        entry.history.append({"stage": stage, "at": now(), "seq": seq})
        _write_entry(entry, entry.path)

    def promote(self, ref: str, stage: str = "production") -> tuple[ModelVersion, ModelVersion | None]:
        """Move ``ref`` to ``stage``; promoting to production archives the version it replaces,
        which is returned second."""
        if stage not in STAGES:
            raise RegistryError(f"unknown stage {stage!r}; stages are {', '.join(STAGES)}")
        with self._lock():
            entry = self.get(ref)
            if entry.stage == stage:
                raise RegistryError(f"{entry.ref} is already {stage}")
            seq = self._next_seq(entry.name)
            replaced = None
            if stage == "production":
                entries, _ = self._entries(entry.name)
                for other in entries:
                    if other.stage == "production":
                        self._set_stage(other, "archived", seq)
                        replaced = other
                        seq += 1
            self._set_stage(entry, stage, seq)
        return entry, replaced

    def rollback(self, name: str) -> tuple[ModelVersion, ModelVersion]:
        """Archive the production version of ``name`` and bring back the one that was production
        before it. Returns (restored, retired)."""
        with self._lock():
            current = self.get(f"{name}@production")
            entries, _ = self._entries(name)

            def last_production(e: ModelVersion) -> int:
                return max((h.get("seq", 0) for h in e.history if h.get("stage") == "production"), default=0)

            earlier = [e for e in entries if e.version != current.version and last_production(e) > 0]
            if not earlier:
                raise RegistryError(f"{current.ref} is the only version of '{name}' that was ever in production; "
                                    "nothing to roll back to")
            previous = max(earlier, key=last_production)
            seq = self._next_seq(name)
            self._set_stage(current, "archived", seq)
            self._set_stage(previous, "production", seq + 1)
        return previous, current

    def delete(self, ref: str, *, force: bool = False) -> ModelVersion:
        with self._lock():
            entry = self.get(ref)
            if entry.stage == "production" and not force:
                raise RegistryError(f"{entry.ref} is in production; promote another version first, or pass --force")
            trash = entry.path.with_name(f".deleting-{entry.path.name}")
            os.rename(entry.path, trash)  # gone from listings at once, even if removal is slow
            shutil.rmtree(trash)
        return entry
