"""The advisor's decision table, its warnings, the measured path and the ``advise`` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragtune.cli import advise as cli_advise
from ragtune.cli import app
from ragtune.decide.advisor import advise, latest_compare_run, measured_from_run
from ragtune.decide.advisor_config import CostModel, Questionnaire
from ragtune.decide.tco import usd
from ragtune.errors import RagtuneError
from ragtune.evaluate.runs import EvalRun, RunStore
from ragtune.workspace import Workspace

RUN_ID = "compare-20260101-120000-abc123"


def reason_about(advice, answer: str) -> str:
    """The reason that cites ``answer``; fails the test when none does."""
    found = [r for r in advice.reasons if answer in r]
    assert found, f"no reason cites '{answer}': {advice.reasons}"
    return found[0]


# One row per branch of the decision table: the answers, the expected approach, and the answer a
# reason must cite as the driver.
BRANCHES = [
    pytest.param(dict(access_control=True, knowledge_changes="never"), "rag", "access_control = true", id="acl-rag"),
    pytest.param(dict(needs_citations=True, private_knowledge=False, knowledge_changes="never"), "rag",
                 "needs_citations = true", id="citations-rag"),
    pytest.param(dict(knowledge_changes="weekly"), "rag", "knowledge_changes = weekly", id="changing-knowledge-rag"),
    pytest.param(dict(knowledge_changes="daily", output_format="strict"), "hybrid", "output_format = strict",
                 id="retrieval-strict-hybrid"),
    pytest.param(dict(access_control=True, style=True), "hybrid", "style = true", id="retrieval-style-hybrid"),
    pytest.param(dict(needs_citations=True, classification=True), "hybrid", "classification = true",
                 id="retrieval-classification-hybrid"),
    pytest.param(dict(private_knowledge=False, style=True), "ft", "style = true", id="style-ft"),
    pytest.param(dict(private_knowledge=False, output_format="strict"), "ft", "output_format = strict", id="strict-ft"),
    pytest.param(dict(private_knowledge=False, classification=True), "ft", "classification = true", id="classification-ft"),
    pytest.param(dict(private_knowledge=False), "prompt", "private_knowledge = false", id="nothing-prompt"),
    pytest.param(dict(private_knowledge=False, output_format="structured"), "prompt", "output_format = structured",
                 id="structured-prompt"),
    pytest.param(dict(knowledge_changes="never"), "rag", "knowledge_changes = never", id="static-knowledge-rag"),
    pytest.param(dict(knowledge_changes="yearly", style=True), "hybrid", "style = true", id="static-knowledge-style-hybrid"),
]


@pytest.mark.parametrize(("answers", "expected", "driver"), BRANCHES)
def test_decision_branch(answers, expected, driver):
    advice = advise(Questionnaire(**answers), CostModel())
    assert advice.recommendation == expected, advice.reasons
    reason_about(advice, driver)
    assert advice.evidence == "assumed"
    assert set(advice.projections) == {"prompt", "rag", "extract", "ft", "hybrid"}


def test_access_control_rules_out_fine_tuning_alone():
    advice = advise(Questionnaire(access_control=True, private_knowledge=False, knowledge_changes="never"), CostModel())
    assert advice.allowed == ["rag", "extract", "hybrid"]
    assert "cannot hide a document from one user" in reason_about(advice, "access_control = true")


def test_static_private_knowledge_says_ft_is_possible_but_compare():
    advice = advise(Questionnaire(knowledge_changes="never"), CostModel())
    reason = reason_about(advice, "private_knowledge = true")
    assert "(ft) is possible" in reason and "compare ft against rag" in reason
    assert "ft" in advice.allowed


def test_latency_warning_names_a_faster_alternative_that_meets_the_constraints():
    # rag's estimated p95 is 4.8 s × 1.2 = 5,760 ms; ft (1.25 s × 1.2 = 1,500 ms) fits 2,000 ms.
    advice = advise(Questionnaire(knowledge_changes="never", latency_budget_ms=2_000), CostModel())
    assert advice.recommendation == "rag"
    [warning] = [w for w in advice.warnings if w.startswith("latency")]
    assert "estimated p95 of 5,760 ms" in warning and "latency_budget_ms = 2,000" in warning
    assert "ft fits it (p95 1,500 ms" in warning


def test_latency_warning_without_an_alternative_when_retrieval_is_required():
    advice = advise(Questionnaire(access_control=True, latency_budget_ms=2_000), CostModel())
    [warning] = [w for w in advice.warnings if w.startswith("latency")]
    assert "no approach that meets the hard constraints fits it" in warning


def test_no_latency_warning_within_budget():
    assert not advise(Questionnaire(latency_budget_ms=6_000), CostModel()).warnings


def test_budget_warning_compares_the_monthly_average():
    costs = CostModel(setup_usd={"rag": 1_200.0, "hybrid": 1_200.0})  # $100 a month averaged over 12 months
    advice = advise(Questionnaire(knowledge_changes="never", monthly_budget_usd=50), costs)
    [warning] = [w for w in advice.warnings if w.startswith("budget")]
    assert f"${advice.projections['rag'].monthly_average:,.2f}/month" in warning
    assert "monthly_budget_usd = $50.00" in warning and "ft averages" in warning
    assert not [w for w in advise(Questionnaire(monthly_budget_usd=500), costs).warnings if w.startswith("budget")]


# --- measured: a compare run built by hand -----------------------------------------------------


def arm(f1: float | None, p50: float, p95: float, prompt_tokens: float, completion_tokens: float = 40.0, **extra) -> dict:
    return {
        "queries": 50,
        "metrics": {"exact_match": None, "f1": f1, "faithfulness": None, "citation_precision": None, "refused": 0.0},
        "latency_ms": {"total": {"p50": p50, "p95": p95}, "retrieval": {"p50": 30.0, "p95": 50.0}},
        "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "cost_per_1k_queries_usd": 0.1, **extra,
    }


def compare_run(summary: dict | None = None, kind: str = "compare") -> EvalRun:
    summary = summary or {
        "prompt": arm(0.10, 900.0, 1_100.0, 70.0),
        "rag": arm(0.41, 3_000.0, 3_500.0, 1_234.0, freshness={"answered": 0.9, "questions": 10}),
        "ft": arm(0.12, 1_000.0, 1_300.0, 75.0, freshness={"answered": 0.1, "questions": 10}),
        "hybrid": arm(0.40, 3_100.0, 3_700.0, 1_250.0),
    }
    variants = {name: {"model": "smollm2-135m", "retrieval": name in ("rag", "hybrid", "raft"),
                       "training": {"seconds": 5_400.0, "examples": 300} if name in ("ft", "hybrid", "raft") else None}
                for name in summary}
    return EvalRun(kind=kind, id=RUN_ID if kind == "compare" else "qa-20260101-120000-abc123",
                   dataset={"corpus": {"documents": 20, "chunks": 80, "chunks_embedded": 80, "index_seconds": 4.0},
                            "freshness": {"changed_documents": 3, "reindex_seconds": 0.5, "questions": 10}},
                   variants=variants, summary=summary, code="test")


def test_a_run_on_a_cached_index_does_not_measure_embedding_speed():
    run = compare_run()
    run.dataset["corpus"].update(chunks_embedded=0, index_seconds=1.0)
    assert measured_from_run(run).embed_seconds_per_chunk is None
    assert advise(Questionnaire(), CostModel(), measured_from_run(run)).cost_model.embed_seconds_per_chunk == \
        CostModel().embed_seconds_per_chunk


def test_measured_numbers_replace_the_assumptions():
    measured = measured_from_run(compare_run())
    advice = advise(Questionnaire(), CostModel(), measured)
    assert advice.evidence == f"measured in compare run {RUN_ID}"
    rag = advice.projections["rag"]
    assert rag.p95_ms == 3_500.0 and rag.seconds_per_query == pytest.approx(3.0)
    assert rag.prompt_tokens == 1_234.0 and rag.completion_tokens == 40.0
    assert "10,000 queries × 3 s × 2 cores" in rag.item("queries").formula
    assert advice.cost_model.embed_seconds_per_chunk == pytest.approx(4.0 / 80)
    assert advice.cost_model.profile("ft").training_hours == pytest.approx(1.5)
    assert advice.projections["ft"].item("initial training").usd == pytest.approx(1.5 * 2 * 0.04)
    assert "measured on compare run " + RUN_ID + ": rag F1 0.41 vs hybrid F1 0.40" in reason_about(advice, "measured")
    assert "rag 0.90, ft 0.10" in reason_about(advice, "changed facts")


def test_measured_tokens_are_charged_at_token_prices():
    from ragtune.config import ModelPrice

    costs = CostModel(token_prices=ModelPrice(prompt_per_million=1.0, completion_per_million=1.0))
    advice = advise(Questionnaire(queries_per_month=1_000), costs, measured_from_run(compare_run()))
    assert advice.projections["rag"].item("queries").usd == pytest.approx(1_000 * (1_234 + 40) / 1e6)


def test_measured_p95_over_budget_is_called_measured():
    advice = advise(Questionnaire(latency_budget_ms=3_000), CostModel(), measured_from_run(compare_run()))
    [warning] = [w for w in advice.warnings if w.startswith("latency")]
    assert "measured p95 of 3,500 ms" in warning


def test_a_clear_measured_quality_gap_switches_the_recommendation():
    summary = {"rag": arm(0.20, 3_000.0, 3_500.0, 1_200.0), "ft": arm(0.60, 1_000.0, 1_300.0, 70.0)}
    # Knowledge that never changes, no citations or ACL: ft meets the hard constraints.
    advice = advise(Questionnaire(knowledge_changes="never"), CostModel(), measured_from_run(compare_run(summary)))
    assert advice.recommendation == "ft"
    switch = reason_about(advice, "switches from rag to ft")
    assert "rag (F1 0.20) is clearly worse than ft (0.60)" in switch


def paired(low: float, high: float) -> dict:
    """A compare run's ``vs`` entry: this arm minus an earlier one on F1."""
    return {"f1": {"n": 50, "difference": (low + high) / 2, "low": low, "high": high, "p_value": 0.01, "confidence": 0.95}}


def test_a_gap_whose_interval_reaches_zero_does_not_switch():
    summary = {"rag": arm(0.20, 3_000.0, 3_500.0, 1_200.0), "ft": arm(0.60, 1_000.0, 1_300.0, 70.0, vs={"rag": paired(-0.1, 0.9)})}
    advice = advise(Questionnaire(knowledge_changes="never"), CostModel(), measured_from_run(compare_run(summary)))
    assert advice.recommendation == "rag"
    assert "[-0.10, +0.90]" in reason_about(advice, "may be chance")

    summary["ft"]["vs"] = {"rag": paired(0.25, 0.55)}
    advice = advise(Questionnaire(knowledge_changes="never"), CostModel(), measured_from_run(compare_run(summary)))
    assert advice.recommendation == "ft"
    assert "95% interval of the gap [+0.25, +0.55]" in reason_about(advice, "switches from rag to ft")


def test_a_paired_interval_saved_on_the_other_arm_is_turned_round():
    # The run stores each pair once, later arm minus earlier: here rag - ft, so ft - rag is [-0.2, +0.3].
    summary = {"ft": arm(0.60, 1_000.0, 1_300.0, 70.0), "rag": arm(0.20, 3_000.0, 3_500.0, 1_200.0, vs={"ft": paired(-0.3, 0.2)})}
    advice = advise(Questionnaire(knowledge_changes="never"), CostModel(), measured_from_run(compare_run(summary)))
    assert advice.recommendation == "rag"
    assert "[-0.20, +0.30]" in reason_about(advice, "may be chance")


def test_a_small_quality_gap_does_not_switch():
    summary = {"rag": arm(0.40, 3_000.0, 3_500.0, 1_200.0), "ft": arm(0.43, 1_000.0, 1_300.0, 70.0)}
    advice = advise(Questionnaire(knowledge_changes="never"), CostModel(), measured_from_run(compare_run(summary)))
    assert advice.recommendation == "rag"
    assert not [r for r in advice.reasons if "switches" in r]


def test_quality_never_overrides_a_hard_constraint():
    summary = {"rag": arm(0.20, 3_000.0, 3_500.0, 1_200.0), "ft": arm(0.90, 1_000.0, 1_300.0, 70.0)}
    advice = advise(Questionnaire(access_control=True), CostModel(), measured_from_run(compare_run(summary)))
    assert advice.recommendation == "rag"
    reason_about(advice, "ft F1 0.90 vs rag F1 0.20")


def test_switch_away_from_training_warns_about_the_need_it_served():
    summary = {"rag": arm(0.60, 3_000.0, 3_500.0, 1_200.0), "hybrid": arm(0.20, 3_000.0, 3_500.0, 1_200.0)}
    advice = advise(Questionnaire(style=True), CostModel(), measured_from_run(compare_run(summary)))
    assert advice.recommendation == "rag"
    assert any("style = true" in w for w in advice.warnings), advice.warnings


def test_raft_stands_for_hybrid_when_it_scores_better():
    summary = {"rag": arm(0.30, 3_000.0, 3_500.0, 1_200.0), "hybrid": arm(0.40, 3_100.0, 3_600.0, 1_200.0),
               "raft": arm(0.50, 3_200.0, 3_800.0, 1_300.0)}
    measured = measured_from_run(compare_run(summary))
    assert measured.arms["hybrid"].arm == "raft"
    advice = advise(Questionnaire(style=True), CostModel(), measured)
    assert advice.recommendation == "hybrid"
    assert "F1 0.50 vs hybrid 0.40" in reason_about(advice, "RAFT")
    assert advice.projections["hybrid"].p95_ms == 3_800.0

    summary["raft"] = arm(0.35, 3_200.0, 3_800.0, 1_300.0)
    measured = measured_from_run(compare_run(summary))
    assert measured.arms["hybrid"].arm == "hybrid"
    assert "plain hybrid is kept" in measured.notes[0]


def test_quality_metric_falls_back_to_one_every_arm_has():
    summary = {"rag": arm(None, 3_000.0, 3_500.0, 1_200.0), "ft": arm(0.9, 1_000.0, 1_300.0, 70.0)}
    summary["rag"]["metrics"]["faithfulness"] = 0.7
    summary["ft"]["metrics"]["faithfulness"] = 0.3
    measured = measured_from_run(compare_run(summary))
    assert measured.metric == "faithfulness"
    assert measured.quality("rag") == 0.7

    # Without F1 anywhere, faithfulness is compared where it exists: arms that do not retrieve have none.
    summary = {"prompt": arm(None, 900.0, 1_000.0, 60.0), "rag": arm(None, 3_000.0, 3_500.0, 1_200.0),
               "hybrid": arm(None, 3_000.0, 3_500.0, 1_200.0)}
    summary["rag"]["metrics"]["faithfulness"] = 0.3
    summary["hybrid"]["metrics"]["faithfulness"] = 0.8
    advice = advise(Questionnaire(access_control=True), CostModel(), measured_from_run(compare_run(summary)))
    assert advice.recommendation == "hybrid"
    assert "hybrid faithfulness 0.80 vs rag faithfulness 0.30" in reason_about(advice, "measured on compare run")


def test_unmeasured_recommendation_is_flagged():
    summary = {"prompt": arm(0.1, 900.0, 1_000.0, 60.0), "ft": arm(0.2, 1_000.0, 1_300.0, 70.0)}
    advice = advise(Questionnaire(), CostModel(), measured_from_run(compare_run(summary)))
    assert advice.recommendation == "rag"
    assert any("did not measure rag" in w for w in advice.warnings)


def test_a_run_without_quality_metrics_still_supplies_costs():
    summary = {"rag": arm(None, 2_000.0, 2_500.0, 1_000.0), "ft": arm(None, 1_000.0, 1_300.0, 70.0)}
    advice = advise(Questionnaire(), CostModel(), measured_from_run(compare_run(summary)))
    assert advice.recommendation == "rag" and advice.evidence == f"measured in compare run {RUN_ID}"
    reason_about(advice, "no quality metric measured on two arms")
    assert advice.projections["rag"].p95_ms == 2_500.0


def test_only_compare_runs_are_read():
    with pytest.raises(RagtuneError, match="not a compare run"):
        measured_from_run(compare_run(kind="qa"))


def test_latest_compare_run_skips_other_kinds(tmp_path: Path):
    ws = Workspace(tmp_path / "ws")
    assert latest_compare_run(ws) is None
    store = RunStore(ws)
    store.save(compare_run())
    store.save(compare_run(kind="qa"))  # newer, but not a comparison
    latest = latest_compare_run(ws)
    assert latest is not None and latest.id == RUN_ID


# --- extract: retrieval + the extractive reader, no model call --------------------------------------

QUOTABLE = [
    pytest.param(dict(access_control=True), ["rag", "extract", "hybrid"], "access_control = true", id="acl"),
    pytest.param(dict(needs_citations=True, private_knowledge=False), ["rag", "extract", "hybrid"],
                 "needs_citations = true", id="citations"),
    pytest.param(dict(knowledge_changes="weekly"), ["rag", "extract", "hybrid"], "knowledge_changes = weekly", id="changing"),
    pytest.param(dict(knowledge_changes="never"), ["rag", "extract", "ft", "hybrid"], "knowledge_changes = never",
                 id="static"),
    pytest.param(dict(private_knowledge=False), ["prompt", "rag", "extract", "ft", "hybrid"], "private_knowledge = false",
                 id="public"),
]


@pytest.mark.parametrize(("answers", "allowed", "driver"), QUOTABLE)
def test_quotable_answers_recommend_extract(answers, allowed, driver):
    advice = advise(Questionnaire(quotable_answers=True, **answers), CostModel())
    assert advice.recommendation == "extract", advice.reasons
    assert advice.allowed == allowed
    reason_about(advice, driver)
    why = reason_about(advice, "quotable_answers = true, free-text answers")
    assert "no language model" in why and "faithful by construction" in why
    assert "citations and access control as in rag" in why and "cannot rephrase" in why
    assert not advice.warnings  # 120 ms and cents a month: within the default budgets


@pytest.mark.parametrize(("answers", "expected", "need"), [
    pytest.param(dict(style=True), "hybrid", "style = true", id="style-hybrid"),
    pytest.param(dict(output_format="strict", access_control=True), "hybrid", "output_format = strict", id="strict-hybrid"),
    pytest.param(dict(classification=True, private_knowledge=False), "ft", "classification = true", id="classification-ft"),
    pytest.param(dict(output_format="structured"), "rag", "output_format = structured", id="structured-rag"),
    pytest.param(dict(output_format="structured", private_knowledge=False), "prompt", "output_format = structured",
                 id="structured-prompt"),
])
def test_quotable_answers_do_not_override_a_format_or_something_to_learn(answers, expected, need):
    advice = advise(Questionnaire(quotable_answers=True, **answers), CostModel())
    assert advice.recommendation == expected, advice.reasons
    assert "extract is not recommended" in reason_about(advice, f"quotable_answers = true, but {need}")


def test_not_quotable_keeps_rag_with_extract_allowed():
    advice = advise(Questionnaire(), CostModel())
    assert advice.recommendation == "rag"
    assert "extract" in advice.allowed and advice.allowed.index("extract") > advice.allowed.index("rag")
    assert "extract" in reason_about(advice, "quotable_answers = false")
    assert advice.projections["extract"].total < advice.projections["rag"].total


def test_extract_is_allowed_exactly_where_rag_is():
    for answers in ({}, dict(access_control=True), dict(style=True), dict(private_knowledge=False),
                    dict(private_knowledge=False, style=True), dict(knowledge_changes="never", output_format="strict")):
        advice = advise(Questionnaire(**answers), CostModel())
        assert ("extract" in advice.allowed) == ("rag" in advice.allowed), answers


def test_latency_warning_points_to_extract_when_nothing_generated_fits():
    # access control leaves rag, extract and hybrid; only extract (0.05 s search + 0.05 s reading) × 1.2 = 120 ms fits.
    advice = advise(Questionnaire(access_control=True, latency_budget_ms=2_000), CostModel())
    assert advice.recommendation == "rag"
    [warning] = [w for w in advice.warnings if w.startswith("latency")]
    assert "fits it with a generated answer" in warning
    assert "extract (a quoted passage as the answer, no model call) fits it (p95 120 ms" in warning
    assert "quotable_answers = true" in warning


def test_budget_warning_names_extract_as_the_cheaper_alternative():
    costs = CostModel(setup_usd={"rag": 1_200.0, "hybrid": 1_200.0, "ft": 1_200.0})
    advice = advise(Questionnaire(access_control=True, monthly_budget_usd=50), costs)
    [warning] = [w for w in advice.warnings if w.startswith("budget")]
    assert "stays within it with a generated answer" in warning
    # People time (a re-index review per change) makes extract's average dollars, not cents.
    assert f"extract (a quoted passage as the answer, no model call) averages " \
           f"{usd(advice.projections['extract'].monthly_average)}/month" in warning


def test_no_extract_hint_where_quoting_cannot_serve():
    advice = advise(Questionnaire(access_control=True, style=True, latency_budget_ms=2_000), CostModel())
    assert advice.recommendation == "hybrid"
    [warning] = [w for w in advice.warnings if w.startswith("latency")]
    assert "extract" not in warning and "no approach that meets the hard constraints fits it:" in warning


def extract_run(rag_f1: float, extract_f1: float, ci: tuple[float, float] | None = None, **more) -> EvalRun:
    """rag and extract measured; ``ci``: the paired interval of extract − rag on F1."""
    extract = arm(extract_f1, 90.0, 140.0, 0.0, 0.0, **({"vs": {"rag": paired(*ci)}} if ci else {}))
    return compare_run({"rag": arm(rag_f1, 3_000.0, 3_500.0, 1_200.0), "extract": extract, **more})


def test_the_compare_runs_extract_arm_measures_extract():
    measured = measured_from_run(extract_run(0.40, 0.38))
    assert measured.arms["extract"].arm == "extract" and measured.quality("extract") == 0.38
    advice = advise(Questionnaire(quotable_answers=True), CostModel(), measured)
    projection = advice.projections["extract"]
    assert projection.seconds_per_query == pytest.approx(0.09) and projection.p95_ms == 140.0
    assert projection.prompt_tokens == 0 and projection.completion_tokens == 0


def test_measured_extract_not_clearly_worse_stays():
    advice = advise(Questionnaire(quotable_answers=True), CostModel(), measured_from_run(extract_run(0.40, 0.38)))
    assert advice.recommendation == "extract"
    assert "extract stays" in reason_about(advice, "measured: extract F1 0.38 vs rag 0.40")

    # A gap of 0.10 whose interval reaches 0 may be chance: extract stays.
    advice = advise(Questionnaire(quotable_answers=True), CostModel(),
                    measured_from_run(extract_run(0.50, 0.40, ci=(-0.25, 0.02))))
    assert advice.recommendation == "extract"
    assert "[-0.02, +0.25]" in reason_about(advice, "may be chance")


def test_measured_rag_clearly_better_switches_from_extract():
    advice = advise(Questionnaire(quotable_answers=True), CostModel(),
                    measured_from_run(extract_run(0.55, 0.30, ci=(-0.35, -0.15))))
    assert advice.recommendation == "rag"
    reason = reason_about(advice, "switches from extract to rag")
    assert "extract (F1 0.30) is clearly worse than rag (0.55)" in reason and "[+0.15, +0.35]" in reason


def test_measured_extract_clearly_better_switches_from_rag_with_a_warning():
    advice = advise(Questionnaire(), CostModel(), measured_from_run(extract_run(0.30, 0.55, ci=(0.15, 0.35))))
    assert advice.recommendation == "extract"
    assert "rag (F1 0.30) is clearly worse than extract (0.55)" in reason_about(advice, "switches from rag to extract")
    assert any("quotable_answers = false" in w and "quoted passage" in w for w in advice.warnings), advice.warnings


def test_measured_extract_better_but_not_clearly_is_mentioned_and_rag_stays():
    advice = advise(Questionnaire(), CostModel(), measured_from_run(extract_run(0.40, 0.43)))
    assert advice.recommendation == "rag"
    assert "rag stays" in reason_about(advice, "measured: extract F1 0.43 vs rag 0.40")

    advice = advise(Questionnaire(), CostModel(), measured_from_run(extract_run(0.30, 0.50, ci=(-0.05, 0.45))))
    assert advice.recommendation == "rag"
    assert "extract scores F1 0.50 against 0.30 for rag" in reason_about(advice, "may be chance")


def test_measured_extract_never_replaces_a_model_that_must_learn_something():
    run = extract_run(0.30, 0.70, ci=(0.3, 0.5), hybrid=arm(0.35, 3_100.0, 3_700.0, 1_250.0))
    advice = advise(Questionnaire(style=True), CostModel(), measured_from_run(run))
    assert advice.recommendation == "hybrid"
    reason_about(advice, "extract F1 0.70 vs hybrid F1 0.35")  # the ranking still shows it


# --- the command: `ragtune advise` ---------------------------------------------------------------


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(app, ["advise", *args], input=input, env={"COLUMNS": "200", "NO_COLOR": "1"})


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return tmp_path / "ws"


def test_cli_json_output_parses(ws: Path):
    result = invoke("--json", "-w", str(ws))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["recommendation"] == "rag" and data["evidence"] == "assumed"
    assert data["projections"]["rag"]["total_usd"] == pytest.approx(sum(data["projections"]["rag"]["monthly_totals"]))
    assert data["answers"]["knowledge_changes"] == "monthly"
    assert "using the default answers" in result.stderr


def test_cli_human_output(ws: Path, tmp_path: Path):
    answers = tmp_path / "answers.toml"
    answers.write_text('private_knowledge = false\nstyle = true\n')
    result = invoke("--answers", str(answers), "-w", str(ws))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "recommendation: ft" in out and "style = true" in out
    assert "12-month cost of ownership" in out and "ft: line items" in out and "retraining" in out
    assert "evidence: assumed" in out


def test_cli_answers_file_errors_name_file_and_field(ws: Path, tmp_path: Path):
    answers = tmp_path / "answers.toml"
    answers.write_text('knowledge_changes = "hourly"\nstyel = true\n')
    result = invoke("--answers", str(answers), "-w", str(ws))
    assert result.exit_code == 2
    assert str(answers) in result.stderr and "knowledge_changes" in result.stderr and "styel" in result.stderr
    assert "Traceback" not in result.output

    answers.write_text("style = \n")
    result = invoke("--answers", str(answers), "-w", str(ws))
    assert result.exit_code == 2 and "not valid TOML" in result.stderr


def test_cli_costs_file_and_workspace_prices(ws: Path, tmp_path: Path):
    ws.mkdir()
    (ws / "ragtune.toml").write_text("[cost]\ncpu_hour_usd = 0.08\ncores = 4\n")
    data = json.loads(invoke("--json", "-w", str(ws)).stdout)
    assert data["cost_model"]["cpu_hour_usd"] == 0.08 and data["cost_model"]["cores"] == 4

    costs = tmp_path / "costs.toml"
    costs.write_text("cores = 8\n")
    data = json.loads(invoke("--json", "--costs", str(costs), "-w", str(ws)).stdout)
    assert data["cost_model"]["cpu_hour_usd"] == 0.08 and data["cost_model"]["cores"] == 8

    costs.write_text("gpu_hour = 2\n")
    result = invoke("--costs", str(costs), "-w", str(ws))
    assert result.exit_code == 2 and str(costs) in result.stderr and "gpu_hour" in result.stderr


def test_cli_uses_the_latest_compare_run_unless_told_not_to(ws: Path):
    RunStore(Workspace(ws)).save(compare_run())
    result = invoke("--json", "-w", str(ws))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["evidence"] == f"measured in compare run {RUN_ID}"
    assert f"using the latest compare run {RUN_ID}" in result.stderr

    assert json.loads(invoke("--json", "--no-measured", "-w", str(ws)).stdout)["evidence"] == "assumed"
    named = invoke("--json", "--compare", RUN_ID, "-w", str(ws))
    assert json.loads(named.stdout)["evidence"] == f"measured in compare run {RUN_ID}"


def test_cli_unknown_or_wrong_runs_fail_cleanly(ws: Path):
    result = invoke("--compare", "compare-nope", "-w", str(ws))
    assert result.exit_code == 2 and "is not a saved run" in result.stderr

    result = invoke("--compare", "latest", "-w", str(ws))
    assert result.exit_code == 2 and "no compare run saved" in result.stderr

    RunStore(Workspace(ws)).save(compare_run(kind="qa"))
    result = invoke("--compare", "qa-", "-w", str(ws))
    assert result.exit_code == 2 and "not a compare run" in result.stderr

    result = invoke("--compare", "qa-", "--no-measured", "-w", str(ws))
    assert result.exit_code == 2 and "not both" in result.stderr


def test_cli_asks_on_a_terminal(ws: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(cli_advise, "_stdin_is_tty", lambda: True)
    # knowledge_changes, needs_citations, access_control, output_format, classification,
    # private_knowledge, style, latency, queries, documents, doc tokens, changed share (2 is refused,
    # then 0.1), budget.
    answers = ["daily", "y", "n", "strict", "n", "y", "n", "", "", "", "", "2", "0.1", ""]
    result = invoke("-w", str(ws), input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "recommendation: hybrid" in result.stdout
    assert "needs_citations = true" in result.stdout and "output_format = strict" in result.stdout
    assert "less than or equal to 1" in result.stderr


def test_cli_asks_whether_answers_are_quotable_when_quoting_could_serve(ws: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(cli_advise, "_stdin_is_tty", lambda: True)
    # knowledge_changes, needs_citations, access_control, output_format, classification,
    # private_knowledge, style, quotable_answers (asked: free text, nothing to learn), then the defaults.
    answers = ["weekly", "y", "n", "free", "n", "y", "n", "y", "", "", "", "", "", ""]
    result = invoke("-w", str(ws), input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "recommendation: extract" in result.stdout and "quotable_answers = true" in result.stdout
    assert "a quoted passage can be the answer?" in result.stdout
    assert "extract: line items" in result.stdout and "reading, no model" in result.stdout


def test_cli_table_and_json_show_extract_beside_the_others(ws: Path):
    result = invoke("-w", str(ws))
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if line.strip("│ ").startswith("extract")]
    assert rows and "yes" in rows[0] and "120" in rows[0]
    data = json.loads(invoke("--json", "-w", str(ws)).stdout)
    assert "extract" in data["allowed"] and data["answers"]["quotable_answers"] is False
    names = {item["name"] for item in data["projections"]["extract"]["items"]}
    assert names == {"initial indexing", "re-indexing", "storage", "queries", "evaluation", "re-index review"}


def test_compare_report_shows_extract_in_the_cost_table(tmp_path: Path):
    from ragtune.decide.report import _tco_table

    advice = advise(Questionnaire(quotable_answers=True), CostModel(), measured_from_run(extract_run(0.40, 0.38)))
    table = _tco_table(advice)
    assert "<td>extract ◀</td><td>yes</td>" in table and "<td>0 / 0</td>" in table
    assert all(f"<td>{a}" in table for a in ("prompt", "rag", "ft", "hybrid"))


# --- people time and the sensitivity grid in the advice ------------------------------------------------


def test_advice_carries_the_sensitivity_grid_on_its_cost_model():
    advice = advise(Questionnaire(knowledge_changes="weekly"), CostModel())
    s = advice.sensitivity
    assert s is not None and s.cadence == "weekly" and s.hourly_rate_usd == 75
    here = s.cell("weekly", 75)
    assert here.totals["rag"] == pytest.approx(advice.projections["rag"].total)
    assert here.totals["ft"] == pytest.approx(advice.projections["ft"].total)
    assert advice.to_dict()["sensitivity"]["finding"] == s.finding


def test_measured_sensitivity_uses_the_measured_cost_model():
    advice = advise(Questionnaire(), CostModel(), measured_from_run(compare_run()))
    assert advice.sensitivity.cell("monthly", 75).totals["ft"] == pytest.approx(advice.projections["ft"].total)


def test_cli_prints_people_time_and_the_sensitivity_table(ws: Path):
    result = invoke("-w", str(ws))
    assert result.exit_code == 0, result.output
    out = result.stdout
    # rag is recommended: its line items end with the re-index review, 1 monthly change × 0.25 h × $75.
    assert "re-index review" in out and "1 re-indexings/month (monthly) × 0.25 h re-index review × $75.00/h" in out
    assert "people time per month" in out and "[people] in --costs" in out and "ft $525.00" in out
    assert "12-month sensitivity: ft ÷ rag, cheapest" in out and "$75/h ◀" in out and "monthly ◀" in out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.startswith("│ weekly")}
    assert "27.6× rag" in rows["weekly"]
    advice = advise(Questionnaire(), CostModel())
    assert f"finding: {advice.sensitivity.finding}" in out.replace("\n", " ")


def test_cli_json_includes_the_sensitivity_grid(ws: Path):
    data = json.loads(invoke("--json", "-w", str(ws)).stdout)
    grid = data["sensitivity"]
    assert grid["cadence"] == "monthly" and grid["hourly_rates_usd"] == [0, 37.5, 75, 150]
    assert grid["finding"].startswith("fine-tuning costs ") and len(grid["cells"]) == 20
    people = {i["name"] for i in data["projections"]["ft"]["items"] if i["people"]}
    assert people == {"curation", "evaluation review", "deployment"}
    assert data["cost_model"]["people"]["hourly_rate_usd"] == 75


def test_compare_report_shows_the_sensitivity_table():
    from ragtune.decide.report import _sensitivity_table

    advice = advise(Questionnaire(knowledge_changes="weekly"), CostModel())
    table = _sensitivity_table(advice)
    assert "<table id='sensitivity'>" in table and "<th>$75/h ◀</th>" in table and "<td>weekly ◀</td>" in table
    assert "<td>27.6× rag</td>" in table and advice.sensitivity.finding in table
    assert "above 1: fine-tuning costs more" in table
