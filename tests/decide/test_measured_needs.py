"""Behaviour needs set by a compare run's measurements instead of the questionnaire's answers."""

from ragtune.decide.advisor import advise, measured_from_run
from ragtune.decide.advisor_config import CostModel, Questionnaire
from ragtune.decide.measured_needs import behaviour_gaps, measured_needs
from tests.decide.test_advisor import arm, compare_run


def with_behaviour(**arms: dict) -> dict:
    """A compare summary: F1 as in ``compare_run``'s arms, plus each arm's behaviour metrics."""
    base = {"prompt": arm(0.10, 900.0, 1_100.0, 70.0), "rag": arm(0.41, 3_000.0, 3_500.0, 1_234.0),
            "ft": arm(0.12, 1_000.0, 1_300.0, 75.0), "hybrid": arm(0.40, 3_100.0, 3_700.0, 1_250.0)}
    for name, metrics in arms.items():
        base.setdefault(name, arm(None, 20.0, 30.0, 0.0, 0.0))["metrics"].update(metrics)
    return base


def vs(summary: dict, later: str, earlier: str, metric: str, low: float, high: float) -> None:
    summary[later].setdefault("vs", {}).setdefault(earlier, {})[metric] = {
        "n": 15, "difference": (low + high) / 2, "low": low, "high": high, "p_value": 0.01, "confidence": 0.95}


def test_a_clear_style_gain_makes_style_a_need_and_recommends_hybrid():
    summary = with_behaviour(rag={"style": 0.40}, extract={"style": 0.35}, hybrid={"style": 0.90}, ft={"style": 0.85})
    vs(summary, "hybrid", "rag", "style", 0.30, 0.65)
    run = compare_run(summary)
    gap = behaviour_gaps(run)["style"]
    assert (gap.trained_arm, gap.trained, gap.base_arm, gap.base, gap.interval) == ("hybrid", 0.90, "rag", 0.40, (0.30, 0.65))
    assert gap.confirmed
    advice = advise(Questionnaire(style=False), CostModel(), measured_from_run(run))
    assert advice.recommendation == "hybrid"
    reason = next(r for r in advice.reasons if "style hybrid" in r)
    assert "style hybrid style 0.90 vs rag 0.40, paired 95% CI of the gap [+0.30, +0.65]" in reason
    assert "style = false in the answers is replaced by the measurement: style = true" in reason


def test_a_claimed_style_that_training_did_not_improve_is_dropped():
    summary = with_behaviour(rag={"style": 0.40}, hybrid={"style": 0.43})
    run = compare_run(summary)
    assert advise(Questionnaire(style=True), CostModel()).recommendation == "hybrid"  # assumed
    advice = advise(Questionnaire(style=True), CostModel(), measured_from_run(run))
    assert advice.recommendation == "rag"
    assert any("fine-tuning did not clearly improve it on these questions; style = true in the answers is replaced "
               "by the measurement: style = false" in r for r in advice.reasons)


def test_a_large_gap_whose_interval_reaches_zero_is_not_a_confirmed_need():
    summary = with_behaviour(rag={"style": 0.40}, hybrid={"style": 0.60})
    vs(summary, "hybrid", "rag", "style", -0.05, 0.45)
    q, reasons = measured_needs(Questionnaire(style=True), behaviour_gaps(compare_run(summary)), "r")
    assert q.style is False and "[-0.05, +0.45]" in reasons[0]


def test_the_classifier_arm_confirms_routing():
    summary = with_behaviour(rag={"label_correct": 0.33}, extract={"label_correct": 0.13}, classifier={"label_correct": 1.0})
    vs(summary, "classifier", "rag", "label_correct", 0.47, 0.87)
    q, reasons = measured_needs(Questionnaire(), behaviour_gaps(compare_run(summary)), "r")
    assert q.classification is True
    assert reasons == ["measured on compare run r: label classifier label 1.00 vs rag 0.33, paired 95% CI of the gap "
                       "[+0.47, +0.87]: fine-tuning clearly improves it; classification = false in the answers is "
                       "replaced by the measurement: classification = true."]


def test_a_strict_format_training_did_not_improve_becomes_structured():
    summary = with_behaviour(rag={"format_valid": 0.0}, ft={"format_valid": 0.02})
    q, reasons = measured_needs(Questionnaire(output_format="strict"), behaviour_gaps(compare_run(summary)), "r")
    assert q.output_format == "structured" and 'output_format = "structured"' in reasons[0]
    q, _ = measured_needs(Questionnaire(output_format="free"), behaviour_gaps(compare_run(summary)), "r")
    assert q.output_format == "free"


def test_unmeasured_needs_keep_the_answers():
    run = compare_run()  # knowledge metrics only
    assert behaviour_gaps(run) == {}
    q = Questionnaire(style=True, classification=True)
    assert measured_needs(q, {}, run.id) == (q, [])
    summary = with_behaviour(rag={"style": 0.4})  # no fine-tuned arm measured it
    assert behaviour_gaps(compare_run(summary)) == {}
