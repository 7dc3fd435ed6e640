"""The 12-month cost projection, checked against arithmetic done by hand on round numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragtune.config import ModelPrice
from ragtune.decide.advisor_config import (
    ApproachProfile,
    CostModel,
    PeopleTime,
    QueryProfiles,
    Questionnaire,
    load_cost_model,
    load_questionnaire,
)
from ragtune.decide.tco import CHANGES_PER_MONTH, num, project, project_all
from ragtune.errors import ConfigError

# $0.36 per core-hour on 2 cores = $0.0002 per wall second: every figure below is that times seconds.
PER_SECOND = 0.0002
# People at $60/h: 5 h curation, 2 h evaluation review, 1 h deployment per retraining run; 0.5 h per re-indexing.
PEOPLE = PeopleTime(hourly_rate_usd=60, curation_hours=5, review_hours=2, deployment_hours=1, reindex_review_hours=0.5)
WEEKLY = 52 / 12


def small_case(**answers) -> Questionnaire:
    values = dict(queries_per_month=1_000, documents=100, avg_document_tokens=360, changed_share=0.1,
                  knowledge_changes="weekly", private_knowledge=True)
    return Questionnaire(**{**values, **answers})


def small_costs(**changes) -> CostModel:
    values = dict(
        cpu_hour_usd=0.36, cores=2, embed_seconds_per_chunk=0.5, bytes_per_chunk=1_000_000,
        storage_usd_per_gb_month=0.5, training_hours=2.0, style_changes="quarterly",
        eval_runs_per_month=2, eval_seconds_per_run=100, people=PEOPLE,
        queries=QueryProfiles(
            prompt=ApproachProfile(prompt_tokens=60, completion_tokens=60, seconds=1.0),
            rag=ApproachProfile(prompt_tokens=900, completion_tokens=60, seconds=3.0),
            ft=ApproachProfile(prompt_tokens=60, completion_tokens=60, seconds=1.0),
            hybrid=ApproachProfile(prompt_tokens=900, completion_tokens=60, seconds=3.0),
        ),
    )
    return CostModel(**{**values, **changes})


def usd_of(projection, name: str) -> float:
    item = projection.item(name)
    assert item is not None, f"{projection.approach} has no '{name}' item: {[i.name for i in projection.items]}"
    return item.usd


def test_change_table():
    assert CHANGES_PER_MONTH == pytest.approx(
        {"never": 0, "yearly": 1 / 12, "quarterly": 1 / 3, "monthly": 1, "weekly": 52 / 12, "daily": 30})


def test_rag_line_items_match_hand_arithmetic():
    rag = project("rag", small_case(), small_costs())
    # 360 tokens / (200 - 20) = 2 chunks per document; 100 documents = 200 chunks.
    assert usd_of(rag, "initial indexing") == pytest.approx(200 * 0.5 * PER_SECOND)  # $0.02
    assert usd_of(rag, "re-indexing") == pytest.approx(100 * 0.1 * 52 / 12 * 2 * 0.5 * PER_SECOND)
    assert usd_of(rag, "storage") == pytest.approx(200 * 1e6 / 1e9 * 0.5)  # 0.2 GB × $0.5 = $0.10
    assert usd_of(rag, "queries") == pytest.approx(1_000 * 3.0 * PER_SECOND)  # $0.60
    assert usd_of(rag, "evaluation") == pytest.approx(2 * 100 * PER_SECOND)  # $0.04
    assert rag.item("initial training") is None and rag.item("retraining") is None

    # People: 4.33 weekly re-indexings × 0.5 h × $60/h = $130 a month.
    assert usd_of(rag, "re-index review") == pytest.approx(WEEKLY * 0.5 * 60)
    monthly = 100 * 0.1 * 52 / 12 * 2 * 0.5 * PER_SECOND + 0.1 + 0.6 + 0.04 + 130
    assert rag.monthly_totals[0] == pytest.approx(0.02 + monthly)
    assert rag.monthly_totals[1:] == pytest.approx([monthly] * 11)
    assert rag.total == pytest.approx(0.02 + 12 * monthly)
    assert rag.monthly_average == pytest.approx(rag.total / 12)


def test_one_off_items_only_in_month_one():
    projection = project("hybrid", small_case(), small_costs(setup_usd={"hybrid": 500.0}))
    once = {i.name for i in projection.items if i.once}
    assert once == {"setup", "initial indexing", "initial training"}
    one_off = 500.0 + 200 * 0.5 * PER_SECOND + 2 * 3600 * PER_SECOND
    assert projection.monthly_totals[0] - projection.monthly_totals[1] == pytest.approx(one_off)
    assert len(set(round(t, 9) for t in projection.monthly_totals[1:])) == 1


def test_cumulative_is_the_running_sum():
    projection = project("ft", small_case(), small_costs(), months=5)
    assert len(projection.monthly_totals) == len(projection.cumulative) == 5
    running = 0.0
    for month, total in zip(projection.monthly_totals, projection.cumulative):
        running += month
        assert total == pytest.approx(running)


def test_reindexing_and_storage_only_for_retrieval_approaches():
    projections = project_all(small_case(), small_costs())
    for approach in ("rag", "extract", "hybrid"):
        assert projections[approach].item("re-indexing") is not None
        assert projections[approach].item("storage") is not None
    for approach in ("prompt", "ft"):
        names = {i.name for i in projections[approach].items}
        assert not names & {"initial indexing", "re-indexing", "storage"}, (approach, names)


def test_retraining_follows_knowledge_for_ft_and_style_for_hybrid():
    projections = project_all(small_case(knowledge_changes="weekly"), small_costs())
    run = 2 * 3600 * PER_SECOND  # 2 h on 2 cores at $0.36/h = $1.44
    assert usd_of(projections["ft"], "initial training") == pytest.approx(run)
    assert usd_of(projections["ft"], "retraining") == pytest.approx(52 / 12 * run)  # every weekly change
    assert usd_of(projections["hybrid"], "retraining") == pytest.approx(run / 3)  # quarterly style cadence
    assert "knowledge_changes" in projections["ft"].item("retraining").formula
    assert "style_changes" in projections["hybrid"].item("retraining").formula


def test_ft_without_private_knowledge_retrains_at_the_style_cadence():
    ft = project("ft", small_case(private_knowledge=False, knowledge_changes="daily"), small_costs())
    assert usd_of(ft, "retraining") == pytest.approx(2 * 3600 * PER_SECOND / 3)


def test_knowledge_that_never_changes_costs_no_reindexing_or_retraining():
    projections = project_all(small_case(knowledge_changes="never"), small_costs())
    assert usd_of(projections["rag"], "re-indexing") == 0
    assert usd_of(projections["ft"], "retraining") == 0


def test_gpu_training_is_priced_per_gpu_hour():
    ft = project("ft", small_case(), small_costs(training_device="gpu", gpu_hour_usd=3.0))
    assert usd_of(ft, "initial training") == pytest.approx(2 * 3.0)
    assert "$3.00/GPU-h" in ft.item("initial training").formula


def test_token_prices_replace_cpu_time_for_queries():
    costs = small_costs(token_prices=ModelPrice(prompt_per_million=2.0, completion_per_million=10.0),
                        fine_tuned_price_factor=2.0)
    projections = project_all(small_case(), costs)
    assert usd_of(projections["rag"], "queries") == pytest.approx(1_000 * (900 * 2 + 60 * 10) / 1e6)  # $2.40
    assert usd_of(projections["prompt"], "queries") == pytest.approx(1_000 * (60 * 2 + 60 * 10) / 1e6)
    assert usd_of(projections["ft"], "queries") == pytest.approx(2 * 1_000 * (60 * 2 + 60 * 10) / 1e6)
    formula = projections["rag"].item("queries").formula
    assert "900 in × $2.00/M" in formula and "cores" not in formula
    # CPU pricing of the same questions would have been 1,000 × 3 s × $0.0002/s.
    assert usd_of(project("rag", small_case(), small_costs()), "queries") == pytest.approx(0.6)


def test_extract_line_items_have_no_generation_cost_but_index_like_rag():
    projections = project_all(small_case(), small_costs())
    extract, rag = projections["extract"], projections["rag"]
    assert {i.name for i in extract.items} == {"initial indexing", "re-indexing", "storage", "queries", "evaluation",
                                               "re-index review"}
    for name in ("initial indexing", "re-indexing", "storage", "evaluation", "re-index review"):
        assert usd_of(extract, name) == pytest.approx(usd_of(rag, name)), name
    # No model: 0 tokens, and a question costs the search plus the reading, 0.05 s + 0.05 s by default.
    assert extract.prompt_tokens == 0 and extract.completion_tokens == 0
    assert extract.seconds_per_query == pytest.approx(0.1) and extract.p95_ms == pytest.approx(120)
    assert usd_of(extract, "queries") == pytest.approx(1_000 * 0.1 * PER_SECOND)  # $0.02
    assert extract.item("queries").formula == (
        "1,000 queries × 0.1 s (0.05 s search + 0.05 s reading, no model) × 2 cores × $0.36/h")


def test_extract_reading_cost_is_a_named_assumption():
    costs = small_costs(retrieval_seconds=0.2, extract_seconds=0.3)
    extract = project("extract", small_case(), costs)
    assert extract.seconds_per_query == pytest.approx(0.5)
    assert usd_of(extract, "queries") == pytest.approx(1_000 * 0.5 * PER_SECOND)
    assert "tens of ms per answer" in (CostModel.model_fields["extract_seconds"].description or "")


def test_token_prices_are_never_charged_to_extract():
    costs = small_costs(token_prices=ModelPrice(prompt_per_million=2.0, completion_per_million=10.0),
                        fine_tuned_price_factor=2.0,
                        queries=QueryProfiles(extract=ApproachProfile(prompt_tokens=500, completion_tokens=50)))
    extract = project("extract", small_case(), costs)
    assert usd_of(extract, "queries") == pytest.approx(1_000 * 0.1 * PER_SECOND)  # CPU time, not tokens
    formula = extract.item("queries").formula
    assert "/M" not in formula and "token_prices do not apply" in formula and "2 cores" in formula
    # The other approaches are still charged by tokens.
    assert usd_of(project("rag", small_case(), costs), "queries") == pytest.approx(1_000 * (900 * 2 + 60 * 10) / 1e6)


def test_extract_never_trains():
    assert project("extract", small_case(knowledge_changes="daily"), small_costs()).item("retraining") is None
    with pytest.raises(ValueError, match="extract.training_hours"):
        QueryProfiles(extract=ApproachProfile(prompt_tokens=0, completion_tokens=0, training_hours=1.0))


def test_formulas_show_the_numbers():
    rag = project("rag", small_case(), small_costs())
    assert rag.item("queries").formula == "1,000 queries × 3 s × 2 cores × $0.36/h"
    assert rag.item("initial indexing").formula == "100 docs × 2 chunks/doc × 0.5 s × 2 cores × $0.36/h"
    assert "0.2 GB × $0.50/GB-month" in rag.item("storage").formula


def test_seconds_and_p95_derived_from_tokens_when_not_given():
    rag = project("rag", Questionnaire(), CostModel())
    # 900 prompt tokens at 240/s + 60 completion tokens at 60/s + 0.05 s of search = 4.8 s.
    assert rag.seconds_per_query == pytest.approx(4.8)
    assert rag.p95_ms == pytest.approx(4.8 * 1.2 * 1000)
    assert "900 in ÷ 240/s + 60 out ÷ 60/s + 0.05 s search" in rag.item("queries").formula
    assert project("prompt", Questionnaire(), CostModel()).seconds_per_query == pytest.approx(1.25)


def test_unknown_approach_and_months_are_refused():
    with pytest.raises(ValueError, match="unknown approach"):
        project("raft", Questionnaire(), CostModel())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="months"):
        project("rag", Questionnaire(), CostModel(), months=0)


@pytest.mark.parametrize(("value", "text"), [(20_000, "20,000"), (1.2, "1.2"), (0.025, "0.025"), (1234.5, "1,234")])
def test_num(value, text):
    assert num(value) == text


def test_cost_file_overrides_keep_other_defaults(tmp_path: Path):
    path = tmp_path / "costs.toml"
    path.write_text("cpu_hour_usd = 0.1\n[queries.rag]\nprompt_tokens = 1200\n")
    costs = load_cost_model(path, base=CostModel(cores=4))
    assert costs.cpu_hour_usd == 0.1 and costs.cores == 4
    assert costs.profile("rag").prompt_tokens == 1200 and costs.profile("rag").completion_tokens == 60
    assert costs.profile("hybrid").prompt_tokens == 900


@pytest.mark.parametrize(("text", "field"), [
    ("cpu_hour_usd = -1\n", "cpu_hour_usd"),
    ("[queries.rag]\nprompt_tokenz = 5\n", "queries.rag.prompt_tokenz"),
    ("[queries.rag]\ntraining_hours = 5\n", "rag.training_hours"),
])
def test_cost_file_errors_name_file_and_field(tmp_path: Path, text: str, field: str):
    path = tmp_path / "costs.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_cost_model(path)
    assert str(path) in str(caught.value) and field in str(caught.value)


def test_questionnaire_defaults_and_file_errors(tmp_path: Path):
    Questionnaire()  # every answer has a default
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="nope.toml: file not found"):
        load_questionnaire(missing)
    broken = tmp_path / "broken.toml"
    broken.write_text("style = \n")
    with pytest.raises(ConfigError, match="broken.toml: not valid TOML"):
        load_questionnaire(broken)


def test_example_answers_file_loads():
    example = Path(__file__).resolve().parents[2] / "examples" / "advise.toml"
    answers = load_questionnaire(example)
    assert answers.access_control and answers.knowledge_changes == "weekly"


def test_quotable_answers_defaults_to_false_and_loads(tmp_path: Path):
    assert Questionnaire().quotable_answers is False
    path = tmp_path / "answers.toml"
    path.write_text("quotable_answers = true\n")
    assert load_questionnaire(path).quotable_answers is True


# --- people time ---------------------------------------------------------------------------------


def test_people_items_of_ft_follow_each_knowledge_change():
    ft = project("ft", small_case(knowledge_changes="weekly"), small_costs())
    # 4.33 runs a month × hours × $60/h: 5 h curation = $1,300, 2 h review = $520, 1 h deployment = $260.
    assert usd_of(ft, "curation") == pytest.approx(WEEKLY * 5 * 60) == pytest.approx(1_300)
    assert usd_of(ft, "evaluation review") == pytest.approx(520)
    assert usd_of(ft, "deployment") == pytest.approx(260)
    assert ft.item("curation").formula == "4.33 runs/month (weekly, knowledge_changes) × 5 h curation × $60.00/h"
    assert ft.item("deployment").formula == "4.33 runs/month (weekly, knowledge_changes) × 1 h deployment × $60.00/h"
    people = [i for i in ft.items if i.people]
    assert {i.name for i in people} == {"curation", "evaluation review", "deployment"}
    assert not any(i.once for i in people)  # the one-off build is setup_usd, not a people item
    machine = sum(i.usd for i in ft.items if not i.people and not i.once)
    assert ft.monthly_totals[1] == pytest.approx(machine + 1_300 + 520 + 260)
    assert ft.item("re-index review") is None


def test_people_items_of_hybrid_follow_style_changes_and_reindexing():
    hybrid = project("hybrid", small_case(knowledge_changes="weekly"), small_costs(style_changes="quarterly"))
    # Retraining a third of a run a month: 5 h × $60 / 3 = $100 curation, $40 review, $20 deployment.
    assert usd_of(hybrid, "curation") == pytest.approx(100)
    assert usd_of(hybrid, "evaluation review") == pytest.approx(40)
    assert usd_of(hybrid, "deployment") == pytest.approx(20)
    assert "0.333 runs/month (quarterly, style_changes)" in hybrid.item("curation").formula
    # …and it re-indexes at the knowledge cadence like rag: 4.33 × 0.5 h × $60 = $130.
    assert usd_of(hybrid, "re-index review") == pytest.approx(130)
    assert hybrid.item("re-index review").formula == "4.33 re-indexings/month (weekly) × 0.5 h re-index review × $60.00/h"


def test_ft_without_private_knowledge_pays_people_at_the_style_cadence():
    ft = project("ft", small_case(private_knowledge=False, knowledge_changes="daily"), small_costs())
    assert usd_of(ft, "curation") == pytest.approx(5 * 60 / 3)
    assert "style_changes" in ft.item("curation").formula


def test_prompt_has_no_people_time():
    prompt = project("prompt", small_case(knowledge_changes="daily"), small_costs())
    assert not [i for i in prompt.items if i.people]


@pytest.mark.parametrize("people", [
    PeopleTime(hourly_rate_usd=60, curation_hours=0, review_hours=0, deployment_hours=0, reindex_review_hours=0),
    PeopleTime(hourly_rate_usd=0),
], ids=["zero-hours", "zero-rate"])
def test_zero_hours_or_rate_charge_no_people_time(people: PeopleTime):
    with_people = project_all(small_case(), small_costs())
    without = project_all(small_case(), small_costs(people=people))
    for approach, projection in without.items():
        items = [i for i in projection.items if i.people]
        assert all(i.usd == 0 for i in items), items  # the items stay, at $0, like re-indexing when nothing changes
        assert {i.name for i in items} == {i.name for i in with_people[approach].items if i.people}
        machine = sum(i.usd for i in with_people[approach].items if not i.people and not i.once)
        assert projection.monthly_totals[1] == pytest.approx(machine), approach


def test_knowledge_that_never_changes_costs_no_people_time_for_ft():
    ft = project("ft", small_case(knowledge_changes="never"), small_costs())
    assert all(i.usd == 0 for i in ft.items if i.people)


def test_with_default_people_time_weekly_fine_tuning_costs_more_than_rag():
    """The issue's case (examples/advise.toml: weekly changes): machine time alone made ft the
    cheaper one; a person curating, reviewing and deploying every weekly retraining does not."""
    example = load_questionnaire(Path(__file__).resolve().parents[2] / "examples" / "advise.toml")
    assert example.knowledge_changes == "weekly"
    machine_only = project_all(example, CostModel(people=PeopleTime(hourly_rate_usd=0)))
    assert machine_only["ft"].total == pytest.approx(11.07, abs=0.005)
    assert machine_only["rag"].total == pytest.approx(25.95, abs=0.005)
    projections = project_all(example, CostModel())
    # Defaults: $75/h; ft 4 + 2 + 1 h per run, 52 runs a year = $27,300; rag 0.25 h per re-indexing = $975.
    assert projections["ft"].total == pytest.approx(machine_only["ft"].total + 52 * 7 * 75)
    assert projections["rag"].total == pytest.approx(machine_only["rag"].total + 52 * 0.25 * 75)
    assert projections["ft"].total > projections["rag"].total


def test_people_defaults_are_stated_assumptions():
    people = PeopleTime()
    assert (people.hourly_rate_usd, people.curation_hours, people.review_hours, people.deployment_hours,
            people.reindex_review_hours) == (75, 4, 2, 1, 0.25)
    for name, info in PeopleTime.model_fields.items():
        assert "ssumption" in (info.description or ""), name
    assert CostModel().people == people


def test_cost_file_people_table_keeps_other_defaults(tmp_path: Path):
    path = tmp_path / "costs.toml"
    path.write_text("[people]\nhourly_rate_usd = 120\ncuration_hours = 0\n")
    people = load_cost_model(path).people
    assert people.hourly_rate_usd == 120 and people.curation_hours == 0 and people.review_hours == 2
    path.write_text("[people]\ncuration_hour = 1\n")
    with pytest.raises(ConfigError, match="people.curation_hour"):
        load_cost_model(path)
