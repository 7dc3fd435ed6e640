"""The sensitivity grid: update cadence × people's hourly rate, the ft ÷ rag ratio and the finding."""

from __future__ import annotations

import json

import pytest

from ragtune.decide.advisor_config import CostModel, PeopleTime, Questionnaire
from ragtune.decide.sensitivity import CADENCES, default_rates, ratio_text, sensitivity
from ragtune.decide.tco import project

WEEKLY_RUNS_PER_YEAR = 52


def machine_only(q: Questionnaire, approach: str) -> float:
    return project(approach, q, CostModel(people=PeopleTime(hourly_rate_usd=0))).total  # type: ignore[arg-type]


def test_grid_shape_and_default_rates():
    s = sensitivity(Questionnaire(knowledge_changes="weekly"), CostModel())
    assert s.cadences == list(CADENCES) == ["yearly", "quarterly", "monthly", "weekly", "daily"]
    assert s.hourly_rates == [0, 37.5, 75, 150]  # 0, ½×, 1×, 2× the configured $75/h
    assert len(s.cells) == 20 and s.approaches == ["rag", "ft", "hybrid"]
    assert (s.cadence, s.hourly_rate_usd) == ("weekly", 75)
    assert [c.hourly_rate_usd for c in s.row("monthly")] == s.hourly_rates


def test_cells_are_the_projection_with_cadence_and_rate_changed():
    q = Questionnaire(knowledge_changes="weekly")
    s = sensitivity(q, CostModel())
    cell = s.cell("quarterly", 150)
    cost = CostModel(people=PeopleTime(hourly_rate_usd=150))
    quarterly = q.model_copy(update={"knowledge_changes": "quarterly"})
    for approach in ("rag", "ft", "hybrid"):
        assert cell.totals[approach] == pytest.approx(project(approach, quarterly, cost).total)
    assert cell.ratio == pytest.approx(cell.totals["ft"] / cell.totals["rag"])
    assert cell.cheapest == min(cell.totals, key=cell.totals.get)


def test_weekly_ratio_rises_with_the_hourly_rate():
    """More expensive people make fine-tuning relatively dearer: every weekly run costs 4 + 2 + 1 h,
    every weekly re-indexing 0.25 h, so the ratio climbs from machine time alone towards 7 / 0.25 = 28."""
    q = Questionnaire(knowledge_changes="weekly")
    s = sensitivity(q, CostModel())
    rag0, ft0 = machine_only(q, "rag"), machine_only(q, "ft")
    ratios = [c.ratio for c in s.row("weekly")]
    expected = [(ft0 + WEEKLY_RUNS_PER_YEAR * 7 * r) / (rag0 + WEEKLY_RUNS_PER_YEAR * 0.25 * r) for r in s.hourly_rates]
    assert ratios == pytest.approx(expected)
    assert ratios == sorted(ratios) and len(set(ratios)) == 4
    assert ratios[0] == pytest.approx(0.595, abs=0.001)  # machine time alone: ft is the cheaper one
    assert ratios[1:] == pytest.approx([27.29, 27.64, 27.82], abs=0.01)
    assert all(r < 28 for r in ratios)
    assert [c.cheapest for c in s.row("weekly")] == ["ft", "rag", "rag", "rag"]


def test_ratio_rises_with_the_cadence_at_the_configured_rate():
    s = sensitivity(Questionnaire(), CostModel())
    column = [s.cell(c, 75).ratio for c in s.cadences]
    assert column == sorted(column)


def test_finding_names_the_configured_cell_and_where_rag_is_cheaper():
    s = sensitivity(Questionnaire(knowledge_changes="weekly"), CostModel())
    assert s.finding == ("fine-tuning costs 27.6× RAG at weekly updates and $75/h; RAG is cheaper at every cadence "
                         "(yearly to daily updates) at any rate ≥ $37.5/h.")


def test_finding_with_little_people_time_per_run():
    # 0.03 h per retraining and no re-index review: ft is cheaper at yearly and quarterly updates at any
    # rate; from monthly upwards RAG is cheaper at $75/h and more (at $37.5/h monthly ft still wins).
    people = PeopleTime(curation_hours=0.03, review_hours=0, deployment_hours=0, reindex_review_hours=0)
    q = Questionnaire(knowledge_changes="weekly", queries_per_month=20_000, documents=3_000, avg_document_tokens=1_500,
                      changed_share=0.02)
    s = sensitivity(q, CostModel(people=people))
    assert s.cell("monthly", 37.5).cheapest == "ft" and s.cell("monthly", 75).cheapest == "rag"
    assert s.finding == ("fine-tuning costs 4.9× RAG at weekly updates and $75/h; RAG is cheaper from monthly updates "
                         "upwards at any rate ≥ $75/h.")


def test_finding_when_machine_time_alone_favours_rag():
    s = sensitivity(Questionnaire(knowledge_changes="weekly"), CostModel(training_device="gpu", gpu_hour_usd=100))
    assert s.cell("yearly", 0).cheapest == "rag"
    assert s.finding.endswith("RAG is cheaper at every cadence (yearly to daily updates) at any rate, even $0/h "
                              "(machine time alone).")


def test_finding_when_rag_is_cheaper_nowhere():
    people = PeopleTime(hourly_rate_usd=0, reindex_review_hours=0)
    # Machine time only, and updates no more often than weekly: ft's short prompts are cheaper than rag's long ones.
    s = sensitivity(Questionnaire(knowledge_changes="monthly"), CostModel(people=people),
                    cadences=["yearly", "quarterly", "monthly", "weekly"], hourly_rates=[0])
    assert all(c.cheapest != "rag" and c.ratio < 1 for c in s.cells)
    assert s.finding.startswith("fine-tuning costs 0.35× RAG at monthly updates and $0/h; ")
    assert s.finding.endswith("RAG is cheaper than fine-tuning nowhere in the grid (yearly to weekly updates, $0/h).")


def test_custom_grid_adds_the_configured_cell():
    s = sensitivity(Questionnaire(knowledge_changes="never"), CostModel(people=PeopleTime(hourly_rate_usd=90)),
                    cadences=["monthly", "weekly"], hourly_rates=[100, 0])
    assert s.cadences == ["never", "monthly", "weekly"]
    assert s.hourly_rates == [0, 90, 100]
    assert s.cell("never", 90).totals["ft"] == pytest.approx(machine_only(Questionnaire(knowledge_changes="never"), "ft"))
    with pytest.raises(KeyError):
        s.cell("daily", 90)


def test_zero_configured_rate_still_shows_the_default_rates():
    assert default_rates(CostModel(people=PeopleTime(hourly_rate_usd=0))) == [0, 37.5, 75, 150]
    assert default_rates(CostModel(people=PeopleTime(hourly_rate_usd=50))) == [0, 25, 50, 100]


def test_to_dict_is_json_and_says_which_way_the_ratio_goes():
    s = sensitivity(Questionnaire(), CostModel())
    data = json.loads(json.dumps(s.to_dict()))
    assert data["finding"] == s.finding and "ft" in data["ratio"] and "divided by rag" in data["ratio"]
    assert len(data["cells"]) == 20
    first = data["cells"][0]
    assert set(first) == {"cadence", "hourly_rate_usd", "totals_usd", "ft_over_rag", "cheapest"}
    assert first["ft_over_rag"] == pytest.approx(first["totals_usd"]["ft"] / first["totals_usd"]["rag"])


def test_rag_and_ft_must_be_compared():
    with pytest.raises(ValueError, match="ft against rag"):
        sensitivity(Questionnaire(), CostModel(), approaches=("rag", "hybrid"))


@pytest.mark.parametrize(("ratio", "text"), [(None, "–"), (0.4321, "0.43×"), (3.21, "3.2×"), (27.64, "27.6×"),
                                             (123.4, "123×")])
def test_ratio_text(ratio, text):
    assert ratio_text(ratio) == text


def test_finding_when_rag_is_cheaper_in_scattered_cells_only():
    # 0.1 h of curation per run, no reviews: ft stays cheaper, except at daily updates with free people time,
    # where 30 machine-time trainings a month outweigh rag's longer prompts; at any positive rate ft wins again.
    people = PeopleTime(curation_hours=0.1, review_hours=0, deployment_hours=0)
    q = Questionnaire(knowledge_changes="weekly", queries_per_month=20_000, documents=3_000, avg_document_tokens=1_500,
                      changed_share=0.02)
    s = sensitivity(q, CostModel(people=people))
    assert [c.cheapest for c in s.row("daily")] == ["rag", "ft", "ft", "ft"]
    assert s.finding.endswith("RAG is cheaper in 1 of 20 cells only (daily at $0/h).")
