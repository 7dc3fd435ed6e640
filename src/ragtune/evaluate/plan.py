"""``eval.toml``: a whole evaluation grid in one file, run by ``ragtune eval run --config``.

    kind = "retrieval"                    # or "qa"
    metrics = ["ndcg@10", "recall@100"]   # retrieval only; default: the standard set
    report = "scifact.html"               # optional, relative to this file

    [dataset]
    beir = "../shared/datasets/scifact"   # or squad = "covidqa.json", or evalset = "questions.jsonl"
    split = "test"
    limit = 100

    [principal]                           # who asks (items of an eval set may name their own)
    user = "eval"
    groups = []

    [grid]                                # every combination becomes a variant
    "retrieval.mode" = ["bm25", "hybrid"]
    "chunking.chunk_tokens" = [128, 254]
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ragtune.config import format_validation_error
from ragtune.errors import ConfigError
from ragtune.evaluate.data import EvalData, from_beir, from_evalset, from_squad
from ragtune.evaluate.retrieval_metrics import DEFAULT_METRICS
from ragtune.types import Principal
from ragtune.workspace import Workspace


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatasetPlan(_Strict):
    beir: Path | None = None
    squad: Path | None = None
    evalset: Path | None = None
    split: str = "test"
    limit: int | None = Field(default=None, ge=1)
    seed: int = 0

    @model_validator(mode="after")
    def _one_source(self) -> DatasetPlan:
        given = [n for n in ("beir", "squad", "evalset") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of beir, squad, evalset (found {', '.join(given) or 'none'})")
        return self

    def load(self, workspace: Workspace, base: Path) -> EvalData:
        if self.beir is not None:
            return from_beir(base / self.beir, self.split, self.limit, self.seed)
        if self.squad is not None:
            return from_squad(base / self.squad, workspace, self.limit, self.seed)
        assert self.evalset is not None
        return from_evalset(base / self.evalset, self.limit, self.seed)


class PrincipalPlan(_Strict):
    user: str = "eval"
    groups: list[str] = Field(default_factory=list)


class EvalPlan(_Strict):
    kind: Literal["retrieval", "qa"] = "retrieval"
    metrics: list[str] = Field(default_factory=lambda: list(DEFAULT_METRICS))
    report: Path | None = None
    judge_repeats: int = Field(default=0, ge=0)
    dataset: DatasetPlan
    principal: PrincipalPlan = Field(default_factory=PrincipalPlan)
    grid: dict[str, Any] = Field(default_factory=dict)

    @property
    def who(self) -> Principal:
        return Principal(self.principal.user, frozenset(self.principal.groups))


def load_plan(path: Path) -> EvalPlan:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable TOML eval plan: {exc}") from None
    try:
        return EvalPlan.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(path, exc)) from None
