"""The advisor: which approach the answers call for, why, and what it costs over 12 months.

Hard constraints come first, because no amount of quality makes up for them: retrieval is
*required* when users may see different documents (fine-tuned weights cannot hide a document
from one user), when answers must cite sources, or when private knowledge changes monthly or
more often (a fine-tuned model would be stale between retraining runs). Then a need that
training serves (strict format, style, classification) decides whether a fine-tuned model sits
on top.

    answers                                                       recommendation
    access_control, or needs_citations, or private knowledge      rag; hybrid if strict format,
      changing monthly or more often (retrieval required)           style or classification
    private knowledge changing less than monthly, no citations    rag (ft is possible: compare it
      or access control                                             against rag); hybrid as above
    no private knowledge + strict format, style or classification ft
    no private knowledge, nothing to learn                        prompt

Afterwards, checks that warn but do not override the hard constraints: the recommendation's
estimated (or measured) p95 latency against the budget and its 12-month monthly average against
the budget, each naming a cheaper approach that meets the hard constraints and fits, if any.

With a saved compare run (``Measured``), measured quality, latency and tokens replace the
assumptions; when the recommendation scores clearly worse than another approach that meets the
hard constraints (by ``QUALITY_MARGIN`` or more, and, where the run saved paired differences, with
a confidence interval that excludes no difference), the advice switches to it and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ragtune.config import RagtuneConfig
from ragtune.decide.advisor_config import (
    APPROACHES,
    TRAINED_APPROACHES,
    Approach,
    CostModel,
    Questionnaire,
    workspace_cost_model,
)
from ragtune.decide.tco import CHANGES_PER_MONTH, Projection, num, project_all, usd
from ragtune.errors import RagtuneError
from ragtune.evaluate.runs import EvalRun, RunStore
from ragtune.workspace import Workspace

QUALITY_MARGIN = 0.05
"""A measured quality gap (absolute, on a 0–1 metric) at least this large counts as "clearly worse",
unless the run's paired confidence interval of the gap reaches zero (then it may be chance)."""
MIN_EMBEDDED_CHUNKS = 50
"""Fewest chunks a compare run must have embedded for its indexing time to count as a measured speed."""
QUALITY_METRICS = ("f1", "faithfulness", "exact_match")
"""Quality metrics in order of preference; the first one measured on at least two arms is compared
(faithfulness, for one, exists only for arms that retrieve)."""
METRIC_LABELS = {"f1": "F1", "faithfulness": "faithfulness", "exact_match": "exact match"}
COMPARE_ARMS: dict[str, Approach] = {"prompt": "prompt", "rag": "rag", "ft": "ft", "hybrid": "hybrid", "raft": "hybrid"}
"""Compare-run arm -> the approach it measures. RAFT (fine-tuning on retrieved sources) is a way
of doing hybrid."""


@dataclass(frozen=True, slots=True)
class ArmMeasure:
    """One arm of a compare run, as the advisor uses it."""

    arm: str
    """The compare run's arm name (``raft`` when RAFT stands for hybrid)."""
    queries: int
    metrics: dict[str, float | None]
    p50_ms: float | None
    p95_ms: float | None
    prompt_tokens: float | None
    completion_tokens: float | None
    training_seconds: float | None
    freshness: float | None
    """Share of changed facts answered correctly after a document update."""
    versus: dict[str, Any] = field(default_factory=dict)
    """The run's paired differences against earlier arms: ``versus[arm][metric]`` holds
    ``difference``, ``low``, ``high`` (this arm minus that one) and ``confidence``."""


@dataclass
class Measured:
    run_id: str
    arms: dict[Approach, ArmMeasure]
    metric: str | None
    """The quality metric compared (see ``QUALITY_METRICS``); None: qualities are not compared. Arms
    without it are unscored."""
    embed_seconds_per_chunk: float | None = None
    """The run's indexing seconds per chunk."""
    notes: list[str] = field(default_factory=list)
    """How arms were mapped onto approaches (RAFT standing for hybrid)."""

    def quality(self, approach: Approach) -> float | None:
        arm = self.arms.get(approach)
        return None if arm is None or self.metric is None else arm.metrics.get(self.metric)


@dataclass
class Advice:
    recommendation: Approach
    reasons: list[str]
    warnings: list[str]
    projections: dict[Approach, Projection]
    evidence: str
    """``assumed``, or ``measured in compare run <id>``."""
    allowed: list[Approach]
    """The approaches that meet the hard constraints."""
    cost_model: CostModel
    """The cost model the projections used: the one given, with measurements in place of assumptions."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "recommendation": self.recommendation, "reasons": self.reasons, "warnings": self.warnings,
            "evidence": self.evidence, "allowed": self.allowed, "cost_model": self.cost_model.model_dump(mode="json"),
            "projections": {a: p.to_dict() for a, p in self.projections.items()},
        }


def _get(mapping: Any, *keys: str) -> Any:
    """``mapping[k1][k2]…`` or None where a level is missing: compare runs may lack any part."""
    for key in keys:
        if not isinstance(mapping, dict):
            return None
        mapping = mapping.get(key)
    return mapping


def _arm(run: EvalRun, name: str) -> ArmMeasure:
    summary = run.summary[name]
    return ArmMeasure(
        arm=name,
        queries=int(summary.get("queries") or 0),
        metrics=dict(summary.get("metrics") or {}),
        p50_ms=_get(summary, "latency_ms", "total", "p50"),
        p95_ms=_get(summary, "latency_ms", "total", "p95"),
        prompt_tokens=summary.get("prompt_tokens"),
        completion_tokens=summary.get("completion_tokens"),
        training_seconds=_get(run.variants, name, "training", "seconds"),
        freshness=_get(summary, "freshness", "answered"),
        versus=dict(summary.get("vs") or {}),
    )


def _raft_for_hybrid(raft: ArmMeasure, hybrid: ArmMeasure | None, metric: str | None,
                     arms: dict[Approach, ArmMeasure]) -> str:
    """Let RAFT stand for hybrid when hybrid was not measured or RAFT scored better; the note says which."""
    what = "RAFT (fine-tuning on retrieved sources) is a way of doing hybrid"
    if hybrid is None:
        arms["hybrid"] = raft
        return f"{what}; it stands for hybrid here."
    if metric is None or raft.metrics.get(metric) is None or hybrid.metrics.get(metric) is None:
        return f"{what}; without a quality metric measured on both arms, plain hybrid is kept."
    scores = f"{METRIC_LABELS[metric]} {raft.metrics[metric]:.2f} vs hybrid {hybrid.metrics[metric]:.2f}"
    if raft.metrics[metric] > hybrid.metrics[metric]:  # type: ignore[operator]
        arms["hybrid"] = raft
        return f"{what}, and it scored better ({scores}): it stands for hybrid here."
    return f"{what}, but it did not score better ({scores}): plain hybrid is kept."


def measured_from_run(run: EvalRun) -> Measured:
    """What a saved compare run measured, arm by arm, mapped onto the four approaches."""
    if run.kind != "compare":
        raise RagtuneError(f"run {run.id} is a '{run.kind}' run, not a compare run (ragtune compare writes those)")
    raw = {name: _arm(run, name) for name in run.summary if name in COMPARE_ARMS}
    needed = min(2, len(raw))
    metric = next((m for m in QUALITY_METRICS if raw and sum(a.metrics.get(m) is not None for a in raw.values()) >= needed), None)
    arms: dict[Approach, ArmMeasure] = {COMPARE_ARMS[n]: a for n, a in raw.items() if n != "raft"}
    notes: list[str] = []
    if "raft" in raw:
        notes.append(_raft_for_hybrid(raw["raft"], raw.get("hybrid"), metric, arms))
    # Only a run that embedded a real share of the corpus measures embedding speed: a run on a
    # cached index re-embeds nothing and its seconds are mostly overhead.
    index_seconds, embedded = _get(run.dataset, "corpus", "index_seconds"), _get(run.dataset, "corpus", "chunks_embedded")
    embed = index_seconds / embedded if index_seconds and embedded and embedded >= MIN_EMBEDDED_CHUNKS else None
    return Measured(run_id=run.id, arms=arms, metric=metric, embed_seconds_per_chunk=embed, notes=notes)


def latest_compare_run(workspace: Workspace) -> EvalRun | None:
    store = RunStore(workspace)
    ids = [i for i in store.ids() if i.startswith("compare-")]
    return store.load(ids[-1]) if ids else None


def apply_measured(cost: CostModel, measured: Measured) -> CostModel:
    """The cost model with measured tokens, per-question seconds (the p50 latency), p95 latency,
    training time and indexing speed in place of the assumptions."""
    profiles = {}
    for approach, arm in measured.arms.items():
        update: dict[str, float] = {}
        for key, value in (("prompt_tokens", arm.prompt_tokens), ("completion_tokens", arm.completion_tokens),
                           ("p95_ms", arm.p95_ms)):
            if value is not None:
                update[key] = value
        if arm.p50_ms is not None:
            update["seconds"] = arm.p50_ms / 1000
        if approach in TRAINED_APPROACHES and arm.training_seconds:
            update["training_hours"] = arm.training_seconds / 3600
        profiles[approach] = cost.profile(approach).model_copy(update=update)
    changed: dict[str, Any] = {"queries": cost.queries.model_copy(update=profiles)}
    if measured.embed_seconds_per_chunk is not None:
        changed["embed_seconds_per_chunk"] = measured.embed_seconds_per_chunk
    return cost.model_copy(update=changed)


@dataclass
class _Decision:
    recommendation: Approach
    allowed: list[Approach]
    reasons: list[str]
    tuning_needs: list[str]
    """The answers that call for a fine-tuned model, e.g. ``style = true``."""


def _decide(q: Questionnaire) -> _Decision:
    """The table in the module docstring, with one reason per answer that drove it."""
    changes = CHANGES_PER_MONTH[q.knowledge_changes]
    required: list[str] = []
    if q.access_control:
        required.append("access_control = true: different users may see different documents, which only retrieval can "
                        "enforce, inside the search; fine-tuning can never satisfy this, because a model's weights cannot "
                        "hide a document from one user.")
    if q.needs_citations:
        required.append("needs_citations = true: answers must cite their sources, and only retrieval gives the model "
                        "passages to cite and ragtune a source to check each citation against.")
    if q.private_knowledge and changes >= 1:
        required.append(f"knowledge_changes = {q.knowledge_changes} with private_knowledge = true: retrieval serves a changed "
                        f"document after re-indexing it, while a fine-tuned model would need retraining {num(changes)} "
                        "time(s) a month and is stale in between.")
    tuning = {}  # the answer -> why training serves it
    if q.output_format == "strict":
        tuning["output_format = strict"] = ("a fine-tuned model learns to write the format by itself (bench/RESULTS.md: "
                                            "a LoRA wrote 91 % valid output unconstrained, the base model 0 %).")
    if q.style:
        tuning["style = true"] = "a tone or house style is learnt by fine-tuning; a prompt can only describe it."
    if q.classification:
        tuning["classification = true"] = "labelling or routing is a task fine-tuning learns directly."
    learn = [f"{answer}: {why}" for answer, why in tuning.items()]
    structured = (["output_format = structured: a JSON schema enforced at generation time gives the structure without "
                   "fine-tuning."] if q.output_format == "structured" else [])
    needs = ", ".join(tuning)

    if required or q.private_knowledge:
        allowed: list[Approach] = ["rag", "hybrid"] if required else ["rag", "ft", "hybrid"]
        reasons = list(required)
        if not required:
            reasons.append(f"private_knowledge = true, knowledge_changes = {q.knowledge_changes}, and neither citations nor "
                           "access control are needed: fine-tuning the facts into the weights (ft) is possible, but "
                           "retrieval is simpler to keep current and less prone to invented facts; compare ft against rag "
                           "on your own questions (ragtune compare) before choosing ft.")
        if tuning:
            return _Decision("hybrid", allowed, reasons + learn + structured + [
                f"{needs} on top of retrieval: hybrid, a fine-tuned model that reads retrieved sources."], list(tuning))
        return _Decision("rag", allowed, reasons + structured + [
            "style = false, classification = false and no strict output format: nothing for training to learn, so the "
            "base model with retrieval (rag) suffices and no training runs have to be paid for."], [])

    allowed = list(APPROACHES)
    reasons = ["private_knowledge = false, no citations, no access control: the base model's own knowledge suffices, "
               "so no retrieval is needed."]
    if tuning:
        return _Decision("ft", allowed, reasons + learn + structured, list(tuning))
    return _Decision("prompt", allowed, reasons + structured + [
        "style = false, classification = false and no strict output format: nothing to learn, so prompt engineering on "
        "the base model is enough."], [])


def _cheapest(allowed: list[Approach], but: Approach, projections: dict[Approach, Projection],
              fits: Callable[[Projection], bool]) -> Projection | None:
    """The cheapest approach other than ``but`` that meets the hard constraints and ``fits``."""
    options = [projections[a] for a in allowed if a != but and fits(projections[a])]
    return min(options, key=lambda p: p.total, default=None)


def _budget_warnings(q: Questionnaire, d: _Decision, projections: dict[Approach, Projection], measured_p95: bool) -> list[str]:
    rec = projections[d.recommendation]
    warnings = []
    if rec.p95_ms > q.latency_budget_ms:
        how = "measured" if measured_p95 else "estimated"
        alt = _cheapest(d.allowed, d.recommendation, projections, lambda p: p.p95_ms <= q.latency_budget_ms)
        warnings.append(
            f"latency: {rec.approach}'s {how} p95 of {num(round(rec.p95_ms))} ms exceeds latency_budget_ms = "
            f"{num(q.latency_budget_ms)}; " + (
                f"{alt.approach} fits it (p95 {num(round(alt.p95_ms))} ms, {usd(alt.monthly_average)}/month) and also meets "
                "the hard constraints." if alt else
                "no approach that meets the hard constraints fits it: use fewer or shorter sources, a faster model or "
                "more cores, or raise the budget."))
    budget = q.monthly_budget_usd
    if budget is not None and rec.monthly_average > budget:
        alt = _cheapest(d.allowed, d.recommendation, projections, lambda p: p.monthly_average <= budget)
        warnings.append(
            f"budget: {rec.approach} averages {usd(rec.monthly_average)}/month over {rec.months} months, above "
            f"monthly_budget_usd = {usd(budget)}; " + (
                f"{alt.approach} averages {usd(alt.monthly_average)}/month and also meets the hard constraints."
                if alt else "no approach that meets the hard constraints stays within it."))
    return warnings


def _gap_interval(measured: Measured, better: Approach, worse: Approach) -> tuple[float, float, float] | None:
    """The run's paired confidence interval (low, high, level) of ``better - worse`` on the compared
    metric, when it saved one (compare runs store each pair once, the later arm minus the earlier)."""
    b, w = measured.arms[better], measured.arms[worse]
    for d, sign in ((_get(b.versus, w.arm, measured.metric or ""), 1), (_get(w.versus, b.arm, measured.metric or ""), -1)):
        if isinstance(d, dict) and d.get("low") is not None and d.get("high") is not None:
            low, high = sorted((sign * d["low"], sign * d["high"]))
            return low, high, d.get("confidence") or 0.95
    return None


def _apply_quality(d: _Decision, measured: Measured) -> tuple[list[str], list[str]]:
    """Reasons from the measured qualities, switching ``d.recommendation`` when it is clearly worse."""
    reasons = list(measured.notes)
    warnings: list[str] = []
    scored = {a: s for a in APPROACHES if (s := measured.quality(a)) is not None}
    if not scored:
        return reasons + [f"compare run {measured.run_id} has no quality metric measured on two arms; costs and "
                          "latency use its measurements, the choice rests on the answers."], warnings
    label = METRIC_LABELS[measured.metric]  # type: ignore[index]
    ranked = " vs ".join(f"{a} {label} {s:.2f}" for a, s in sorted(scored.items(), key=lambda kv: -kv[1]))
    reasons.append(f"measured on compare run {measured.run_id}: {ranked}.")
    fresh = {a: arm.freshness for a, arm in measured.arms.items() if arm.freshness is not None}
    if fresh:
        reasons.append(f"measured on compare run {measured.run_id}: share of changed facts answered after a document "
                       "update: " + ", ".join(f"{a} {v:.2f}" for a, v in fresh.items()) + ".")
    current = scored.get(d.recommendation)
    if current is None:
        warnings.append(f"compare run {measured.run_id} did not measure {d.recommendation}: its quality is unknown and its "
                        "costs are assumptions.")
        return reasons, warnings
    best = max((a for a in d.allowed if a in scored), key=lambda a: scored[a])
    if scored[best] - current < QUALITY_MARGIN:
        return reasons, warnings
    interval = _gap_interval(measured, best, d.recommendation)
    ci = "" if interval is None else f" (paired {interval[2]:.0%} interval of the gap [{interval[0]:+.2f}, {interval[1]:+.2f}])"
    if interval is not None and interval[0] <= 0:
        reasons.append(f"measured: {best} scores {label} {scored[best]:.2f} against {current:.2f} for {d.recommendation}, "
                       f"but the gap may be chance{ci}, so {d.recommendation} stays; measure on more questions to settle it.")
        return reasons, warnings
    reasons.append(f"measured: {d.recommendation} ({label} {current:.2f}) is clearly worse than {best} ({scored[best]:.2f})"
                   f"{ci}, and {best} also meets the hard constraints, so the recommendation switches from "
                   f"{d.recommendation} to {best}.")
    if d.tuning_needs and best not in TRAINED_APPROACHES:
        warnings.append(f"{best} uses the base model: check that prompts (or a JSON schema) cover "
                        f"{', '.join(d.tuning_needs)}.")
    d.recommendation = best
    return reasons, warnings


def advise(questionnaire: Questionnaire, cost_model: CostModel, measured: Measured | None = None) -> Advice:
    """The recommended approach with its reasons, warnings and 12-month projections of all four."""
    decision = _decide(questionnaire)
    warnings: list[str] = []
    if measured is not None:
        cost_model = apply_measured(cost_model, measured)
        reasons, warnings = _apply_quality(decision, measured)
        decision.reasons += reasons
    projections = project_all(questionnaire, cost_model)
    arm = measured.arms.get(decision.recommendation) if measured is not None else None
    measured_p95 = arm is not None and arm.p95_ms is not None
    warnings += _budget_warnings(questionnaire, decision, projections, measured_p95)
    return Advice(
        recommendation=decision.recommendation, reasons=decision.reasons, warnings=warnings, projections=projections,
        evidence=f"measured in compare run {measured.run_id}" if measured is not None else "assumed",
        allowed=decision.allowed, cost_model=cost_model,
    )


def advise_on_run(run: EvalRun, config: RagtuneConfig, questionnaire: Questionnaire | None = None) -> Advice:
    """The advice a comparison's report shows: the questionnaire (defaults when none), the
    workspace's prices, and the run's measurements."""
    return advise(questionnaire or Questionnaire(), workspace_cost_model(config), measured_from_run(run))
