"""The advisor: which approach the answers call for, why, and what it costs over 12 months.

Hard constraints come first, because no amount of quality makes up for them: retrieval is
*required* when users may see different documents (fine-tuned weights cannot hide a document
from one user), when answers must cite sources, or when private knowledge changes monthly or
more often (a fine-tuned model would be stale between retraining runs). Then a need that
training serves (strict format, style, classification) decides whether a fine-tuned model sits
on top.

    answers                                                       recommendation
    access_control, or needs_citations, or private knowledge      rag; hybrid if strict format,
      changing monthly or more often (retrieval required)           style or classification;
                                                                    extract if quotable answers
    private knowledge changing less than monthly, no citations    rag (ft is possible: compare it
      or access control                                             against rag); hybrid, extract
                                                                    as above
    no private knowledge + strict format, style or classification ft
    no private knowledge, nothing to learn                        prompt; extract if quotable
                                                                    answers

``extract`` (retrieval + the extractive reader, no model call) is recommended only when
``quotable_answers = true`` and the answers are free text with nothing to learn: it quotes the
shortest span of a source verbatim, so it cannot rephrase, combine facts, or follow a format or
style. Elsewhere it is allowed wherever ``rag`` is (it meets the same hard constraints), so the
warnings name it as the cheaper, faster alternative and a measured run may switch to it.

Afterwards, checks that warn but do not override the hard constraints: the recommendation's
estimated (or measured) p95 latency against the budget and its 12-month monthly average against
the budget, each naming a cheaper approach that meets the hard constraints and fits, if any.

With a saved compare run (``Measured``), measured quality, latency and tokens replace the
assumptions; when the recommendation scores clearly worse than another approach that meets the
hard constraints (by ``QUALITY_MARGIN`` or more, and, where the run saved paired differences, with
a confidence interval that excludes no difference), the advice switches to it and says so. The
compare run's ``extract`` arm measures ``extract``; it is a switch target only where quoting fits
(free text, nothing to learn).
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
from ragtune.decide.measured_needs import QUALITY_MARGIN, BehaviourGap, behaviour_gaps, measured_needs
from ragtune.decide.sensitivity import Sensitivity, sensitivity
from ragtune.decide.tco import CHANGES_PER_MONTH, Projection, num, project_all, usd
from ragtune.errors import RagtuneError
from ragtune.evaluate.runs import EvalRun, RunStore
from ragtune.workspace import Workspace

MIN_EMBEDDED_CHUNKS = 50
"""Fewest chunks a compare run must have embedded for its indexing time to count as a measured speed."""
QUALITY_METRICS = ("f1", "faithfulness", "exact_match")
"""Quality metrics in order of preference; the first one measured on at least two arms is compared
(faithfulness, for one, exists only for arms that retrieve)."""
METRIC_LABELS = {"f1": "F1", "faithfulness": "faithfulness", "exact_match": "exact match"}
COMPARE_ARMS: dict[str, Approach] = {"prompt": "prompt", "rag": "rag", "extract": "extract", "ft": "ft",
                                     "hybrid": "hybrid", "raft": "hybrid"}
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
    behaviour: dict[str, BehaviourGap] = field(default_factory=dict)
    """Behaviour metric -> the best fine-tuned arm against the best base arm (``measured_needs``)."""

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
    sensitivity: Sensitivity | None = None
    """The 12-month totals of rag, ft and hybrid over update cadences × people hourly rates, on the
    same cost model (``ragtune.decide.sensitivity``)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "recommendation": self.recommendation, "reasons": self.reasons, "warnings": self.warnings,
            "evidence": self.evidence, "allowed": self.allowed, "cost_model": self.cost_model.model_dump(mode="json"),
            "projections": {a: p.to_dict() for a, p in self.projections.items()},
            "sensitivity": self.sensitivity.to_dict() if self.sensitivity is not None else None,
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
    """What a saved compare run measured, arm by arm, mapped onto the approaches."""
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
    return Measured(run_id=run.id, arms=arms, metric=metric, embed_seconds_per_chunk=embed, notes=notes,
                    behaviour=behaviour_gaps(run))


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
    quoting_fits: bool = False
    """Free-text answers with nothing to learn: a quoted passage (``extract``) could serve the need
    (whether it does is ``quotable_answers``, or a measurement)."""

    def candidates(self) -> list[Approach]:
        """The allowed approaches a measurement may switch to: ``extract`` only where quoting fits."""
        return [a for a in self.allowed if a != "extract" or self.quoting_fits]


EXTRACT_WHY = ("extract (retrieval + the extractive reader) answers with the shortest span of a retrieved source, "
               "quoted verbatim, and calls no language model: the cheapest and fastest approach (no prompt or "
               "completion tokens, tens of ms of reading after the search), faithful by construction (every quote is "
               "a slice of a source the user may see), with citations and access control as in rag. It cannot "
               "rephrase, combine facts from two places or explain; where many questions need that, rag is the choice.")


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
    quoting_fits = not tuning and q.output_format == "free"
    quote = _quotable_reasons(q, needs) if q.quotable_answers and not quoting_fits else []

    if required or q.private_knowledge:
        allowed: list[Approach] = ["rag", "extract", "hybrid"] if required else ["rag", "extract", "ft", "hybrid"]
        reasons = list(required)
        if not required:
            reasons.append(f"private_knowledge = true, knowledge_changes = {q.knowledge_changes}, and neither citations nor "
                           "access control are needed: fine-tuning the facts into the weights (ft) is possible, but "
                           "retrieval is simpler to keep current and less prone to invented facts; compare ft against rag "
                           "on your own questions (ragtune compare) before choosing ft.")
        if tuning:
            return _Decision("hybrid", allowed, reasons + learn + structured + quote + [
                f"{needs} on top of retrieval: hybrid, a fine-tuned model that reads retrieved sources."], list(tuning))
        if q.quotable_answers and quoting_fits:
            return _Decision("extract", allowed, reasons + [
                "quotable_answers = true, free-text answers and nothing for training to learn (style = false, "
                "classification = false): most answers are a fact stated in one place, so a quoted passage can be the "
                f"answer. {EXTRACT_WHY}"], [], quoting_fits)
        return _Decision("rag", allowed, reasons + structured + quote + [
            "style = false, classification = false and no strict output format: nothing for training to learn, so the "
            "base model with retrieval (rag) suffices and no training runs have to be paid for."]
            + _not_quotable(q, quoting_fits), [], quoting_fits)

    allowed = list(APPROACHES)
    reasons = ["private_knowledge = false, no citations, no access control: the base model's own knowledge suffices, "
               "so no retrieval is needed."]
    if tuning:
        return _Decision("ft", allowed, reasons + learn + structured + quote, list(tuning))
    if q.quotable_answers and quoting_fits:
        return _Decision("extract", allowed, [
            "private_knowledge = false, no citations, no access control: no retrieval is needed for the model to know "
            "the facts, but quotable_answers = true says they are stated in your documents.",
            "quotable_answers = true, free-text answers and nothing to learn: quoting the passage costs less than "
            "prompting the base model and is faithful to the documents rather than to the model's memory. "
            + EXTRACT_WHY], [], quoting_fits)
    return _Decision("prompt", allowed, reasons + structured + quote + [
        "style = false, classification = false and no strict output format: nothing to learn, so prompt engineering on "
        "the base model is enough."], [], quoting_fits)


def _quotable_reasons(q: Questionnaire, needs: str) -> list[str]:
    """Why ``quotable_answers = true`` does not pick extract when the output must follow a format or
    training has something to learn."""
    what = needs or f"output_format = {q.output_format}"
    return [f"quotable_answers = true, but {what}: the extractive reader (extract) only quotes a passage and cannot "
            "follow a format, a style or a labelling scheme, so extract is not recommended."]


def _not_quotable(q: Questionnaire, quoting_fits: bool) -> list[str]:
    if q.quotable_answers or not quoting_fits:
        return []
    return ["quotable_answers = false: most answers are not one quoted fact, so extract (a quoted passage, no model "
            "call) is not recommended; it meets the same hard constraints and costs less, so if many answers are a "
            "price, a rule or a date, measure it (the extract arm of ragtune compare)."]


def _cheapest(allowed: list[Approach], but: Approach, projections: dict[Approach, Projection],
              fits: Callable[[Projection], bool]) -> Projection | None:
    """The cheapest approach other than ``but`` that meets the hard constraints and ``fits``."""
    options = [projections[a] for a in allowed if a != but and fits(projections[a])]
    return min(options, key=lambda p: p.total, default=None)


def _budget_warnings(q: Questionnaire, d: _Decision, projections: dict[Approach, Projection], measured_p95: bool) -> list[str]:
    rec = projections[d.recommendation]
    # extract is a full alternative only when the answers are quotable; otherwise it is named after
    # the alternatives that generate, as the cheaper option if a quoted passage can serve.
    quotable = q.quotable_answers and d.quoting_fits
    generating = [a for a in d.allowed if a != "extract" or quotable]
    warnings = []
    if rec.p95_ms > q.latency_budget_ms:
        how = "measured" if measured_p95 else "estimated"
        def fast(p: Projection) -> bool:
            return p.p95_ms <= q.latency_budget_ms

        alt = _cheapest(generating, d.recommendation, projections, fast)
        hint = _extract_hint(q, d, projections, fast, alt, "fits it (p95 {p95} ms, {usd}/month)")
        warnings.append(
            f"latency: {rec.approach}'s {how} p95 of {num(round(rec.p95_ms))} ms exceeds latency_budget_ms = "
            f"{num(q.latency_budget_ms)}; " + (
                f"{alt.approach} fits it (p95 {num(round(alt.p95_ms))} ms, {usd(alt.monthly_average)}/month) and also meets "
                "the hard constraints." if alt else
                "no approach that meets the hard constraints fits it" + (" with a generated answer" if hint else "")
                + ": use fewer or shorter sources, a faster model or more cores, or raise the budget.") + hint)
    budget = q.monthly_budget_usd
    if budget is not None and rec.monthly_average > budget:
        limit: float = budget

        def cheap(p: Projection) -> bool:
            return p.monthly_average <= limit

        alt = _cheapest(generating, d.recommendation, projections, cheap)
        hint = _extract_hint(q, d, projections, cheap, alt, "averages {usd}/month")
        warnings.append(
            f"budget: {rec.approach} averages {usd(rec.monthly_average)}/month over {rec.months} months, above "
            f"monthly_budget_usd = {usd(budget)}; " + (
                f"{alt.approach} averages {usd(alt.monthly_average)}/month and also meets the hard constraints."
                if alt else "no approach that meets the hard constraints stays within it"
                + (" with a generated answer." if hint else ".")) + hint)
    return warnings


def _extract_hint(q: Questionnaire, d: _Decision, projections: dict[Approach, Projection],
                  fits: Callable[[Projection], bool], alt: Projection | None, what: str) -> str:
    """extract as the cheaper alternative, when the answers are not known to be quotable but quoting
    could serve (free text, nothing to learn), extract fits, and it costs less than ``alt``."""
    if q.quotable_answers or not d.quoting_fits or d.recommendation == "extract" or "extract" not in d.allowed:
        return ""
    ext = projections["extract"]
    if not fits(ext) or (alt is not None and alt.total <= ext.total):
        return ""
    said = what.format(p95=num(round(ext.p95_ms)), usd=usd(ext.monthly_average))
    return (f" extract (a quoted passage as the answer, no model call) {said} and meets the same hard constraints, "
            "if a quoted passage can answer most questions (quotable_answers = true).")


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
    best = max((a for a in d.candidates() if a in scored), key=lambda a: scored[a])
    if scored[best] - current < QUALITY_MARGIN:
        return reasons + _extract_kept(d, scored, label), warnings
    interval = _gap_interval(measured, best, d.recommendation)
    ci = "" if interval is None else f" (paired {interval[2]:.0%} interval of the gap [{interval[0]:+.2f}, {interval[1]:+.2f}])"
    if interval is not None and interval[0] <= 0:
        reasons.append(f"measured: {best} scores {label} {scored[best]:.2f} against {current:.2f} for {d.recommendation}, "
                       f"but the gap may be chance{ci}, so {d.recommendation} stays; measure on more questions to settle it.")
        return reasons + ([] if "extract" in (best, d.recommendation) else _extract_kept(d, scored, label)), warnings
    reasons.append(f"measured: {d.recommendation} ({label} {current:.2f}) is clearly worse than {best} ({scored[best]:.2f})"
                   f"{ci}, and {best} also meets the hard constraints, so the recommendation switches from "
                   f"{d.recommendation} to {best}.")
    if d.tuning_needs and best not in TRAINED_APPROACHES:
        warnings.append(f"{best} uses the base model: check that prompts (or a JSON schema) cover "
                        f"{', '.join(d.tuning_needs)}.")
    if best == "extract":
        warnings.append("extract answers with a quoted passage only, and quotable_answers = false: the measurement says "
                        "quoting serves these questions better; read its sample answers in the compare report, and "
                        "check that the compare questions are like your users' before relying on it.")
    d.recommendation = best
    return reasons, warnings


def _extract_kept(d: _Decision, scored: dict[Approach, float], label: str) -> list[str]:
    """When the recommendation stays and extract is in question: extract kept against rag, or
    extract scored higher than the recommendation without clearly beating it; the numbers, and why
    nothing switches."""
    rec = d.recommendation
    if rec == "extract" and "rag" in scored:
        how = "at least as well as" if scored["extract"] >= scored["rag"] else "not clearly worse than"
        return [f"measured: extract {label} {scored['extract']:.2f} vs rag {scored['rag']:.2f}: extract scored {how} rag, "
                "so extract stays: no model call, cheaper and faster for the same hard constraints."]
    if rec == "extract" or "extract" not in d.candidates() or "extract" not in scored:
        return []
    if scored["extract"] <= scored[rec]:
        return []
    return [f"measured: extract {label} {scored['extract']:.2f} vs {rec} {scored[rec]:.2f}: extract scored higher, but "
            f"not clearly (a switch needs a gap of {QUALITY_MARGIN} or more with a paired interval that excludes 0), so "
            f"{rec} stays; extract costs less, so measure on more questions if a quoted passage may serve."]


def advise(questionnaire: Questionnaire, cost_model: CostModel, measured: Measured | None = None) -> Advice:
    """The recommended approach with its reasons, warnings and 12-month projections of every approach.

    With measurements, the behaviour needs a compare run measured (format, style, routing) replace
    the questionnaire's answers before deciding (``measured_needs``)."""
    needs: list[str] = []
    if measured is not None and measured.behaviour:
        questionnaire, needs = measured_needs(questionnaire, measured.behaviour, measured.run_id)
    decision = _decide(questionnaire)
    decision.reasons = needs + decision.reasons  # first what the measurements set, then what follows from it
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
        allowed=decision.allowed, cost_model=cost_model, sensitivity=sensitivity(questionnaire, cost_model),
    )


def advise_on_run(run: EvalRun, config: RagtuneConfig, questionnaire: Questionnaire | None = None) -> Advice:
    """The advice a comparison's report shows: the questionnaire (defaults when none), the
    workspace's prices, and the run's measurements."""
    return advise(questionnaire or Questionnaire(), workspace_cost_model(config), measured_from_run(run))
