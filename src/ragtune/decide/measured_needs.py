"""Behaviour needs decided by measurement: does fine-tuning actually buy the format, house style or
routing that the questionnaire says the team needs?

A compare run with behaviour metrics (``format_valid``, ``style``, ``label_correct``) measures, for
each need, the best arm with a fine-tuned model (``ft``, ``hybrid``, ``raft``, ``classifier``)
against the best arm on the base model (``prompt``, ``rag``, ``extract``), grammar-constrained
variants (``ft+grammar``) on their model's side. A need is

- **confirmed** when the fine-tuned arm is better by ``QUALITY_MARGIN`` or more and the run's
  paired confidence interval of that gap (where saved) excludes 0: the answer is set to "needed",
  even where the questionnaire said otherwise;
- **not confirmed** when both sides were measured and the gap is smaller or may be chance: the
  answer is set to "not needed" — training did not buy it on these questions, so it is not paid
  for;
- **unmeasured** otherwise: the questionnaire's answer stands.

    need                   metric          questionnaire answer it sets
    strict output format   format_valid    output_format = "strict" (confirmed) / "structured"
                                           if it was "strict" (not confirmed: a schema or a
                                           template in the prompt is what is left)
    house style            style           style = true / false
    routing                label_correct   classification = true / false
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ragtune.decide.advisor_config import Questionnaire
from ragtune.evaluate.runs import EvalRun

QUALITY_MARGIN = 0.05
"""A measured gap (absolute, on a 0–1 metric) at least this large counts as "clearly" better or
worse, unless the run's paired confidence interval of the gap reaches zero (then it may be
chance). The advisor uses it for the knowledge metrics too."""
TRAINED_ARMS = ("ft", "hybrid", "raft", "classifier")
BASE_ARMS = ("prompt", "rag", "extract")
NEEDS = (("format_valid", "format", "output_format"), ("style", "style", "style"),
         ("label_correct", "label", "classification"))
"""(per-answer metric, its name in reasons, the questionnaire answer it decides)."""


@dataclass(frozen=True)
class BehaviourGap:
    metric: str
    trained_arm: str
    trained: float
    base_arm: str
    base: float
    interval: tuple[float, float] | None
    """Paired 95 % interval of trained − base, where the run saved one."""

    @property
    def confirmed(self) -> bool:
        clear = self.trained - self.base >= QUALITY_MARGIN
        return clear and (self.interval is None or self.interval[0] > 0)

    def describe(self, name: str) -> str:
        ci = "" if self.interval is None else f", paired 95% CI of the gap [{self.interval[0]:+.2f}, {self.interval[1]:+.2f}]"
        return f"{self.trained_arm} {name} {self.trained:.2f} vs {self.base_arm} {self.base:.2f}{ci}"


def _plain(arm: str) -> str:
    """The arm without its grammar: ``ft+grammar`` is a fine-tuned arm, ``prompt+grammar`` a base one."""
    return arm.removesuffix("+grammar")


def _interval(run: EvalRun, a: str, b: str, metric: str) -> tuple[float, float] | None:
    """The run's paired interval of ``a − b`` on ``metric`` (it stores each pair once, later − earlier)."""
    for later, earlier, sign in ((a, b, 1), (b, a, -1)):
        d = (run.summary.get(later, {}).get("vs") or {}).get(earlier, {}).get(metric)
        if isinstance(d, dict) and d.get("low") is not None:
            low, high = sorted((sign * d["low"], sign * d["high"]))
            return low, high
    return None


def behaviour_gaps(run: EvalRun) -> dict[str, BehaviourGap]:
    """Per behaviour metric measured on a fine-tuned and a base arm: the best of each side."""
    gaps: dict[str, BehaviourGap] = {}
    for metric, _, _ in NEEDS:
        scores = {arm: s["metrics"].get(metric) for arm, s in run.summary.items() if s.get("metrics")}
        trained = {a: v for a, v in scores.items() if _plain(a) in TRAINED_ARMS and v is not None}
        base = {a: v for a, v in scores.items() if _plain(a) in BASE_ARMS and v is not None}
        if not trained or not base:
            continue
        t = max(trained, key=lambda a: trained[a])
        b = max(base, key=lambda a: base[a])
        gaps[metric] = BehaviourGap(metric, t, trained[t], b, base[b], _interval(run, t, b, metric))
    return gaps


def measured_needs(q: Questionnaire, gaps: dict[str, BehaviourGap], run_id: str) -> tuple[Questionnaire, list[str]]:
    """The questionnaire with each measured need set by its measurement, and one reason per need."""
    update: dict[str, Any] = {}
    reasons: list[str] = []
    for metric, name, answer in NEEDS:
        gap = gaps.get(metric)
        if gap is None:
            continue
        said = getattr(q, answer)
        if answer == "output_format":
            now = "strict" if gap.confirmed else ("structured" if said == "strict" else said)
        else:
            now = gap.confirmed
        verdict = ("fine-tuning clearly improves it" if gap.confirmed else
                   "fine-tuning did not clearly improve it on these questions")
        change = (f"; {answer} = {_toml(said)} in the answers is replaced by the measurement: {answer} = {_toml(now)}"
                  if now != said else f"; this agrees with {answer} = {_toml(said)}")
        reasons.append(f"measured on compare run {run_id}: {name} {gap.describe(name)}: {verdict}{change}.")
        if now != said:
            update[answer] = now
    return (q.model_copy(update=update) if update else q), reasons


def _toml(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else f'"{value}"'
