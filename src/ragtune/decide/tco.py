"""The 12-month total cost of ownership of one approach, as line items a reader can check by hand.

Month 1 carries the one-off items (engineering setup, the first indexing, the first training
run); every month carries the recurring ones, machine time first, then people time:

    item               approaches             per month
    queries            all                    queries × seconds × cores × $/core-hour, or tokens × $/M tokens
    re-indexing        rag, extract, hybrid   changed documents × chunks × embed seconds × cores × $/core-hour
    storage            rag, extract, hybrid   chunks × bytes per chunk × $/GB-month
    retraining         ft, hybrid             training runs × hours × (cores × $/core-hour or $/GPU-hour)
    evaluation         all                    evaluation runs × seconds × cores × $/core-hour
    re-index review    rag, extract, hybrid   re-indexing events × reindex_review_hours × $/person-hour
    curation           ft, hybrid             training runs × curation_hours × $/person-hour
    evaluation review  ft, hybrid             training runs × review_hours × $/person-hour
    deployment         ft, hybrid             training runs × deployment_hours × $/person-hour

People time (``CostModel.people``) is charged per update only: the one-off build (the first data
set, the first pipeline) is ``setup_usd``, so month 1 carries no people item of its own and nothing
is counted twice. An hour or a rate set to 0 leaves its item in the projection at $0 (as
re-indexing is at $0 when nothing changes); ``prompt`` updates nothing and has no people items.

``extract`` (retrieval + the extractive reader) calls no model: its questions cost the search plus
the reading (``retrieval_seconds + extract_seconds``) on local cores, never a hosted model's token
prices, and it has no generation cost at all.

Retraining follows the knowledge for ``ft`` (its facts live in the weights, so every change
needs a new run to stay fresh) but only the style/format cadence for ``hybrid`` (its facts come
from retrieval). Every item keeps the arithmetic with its numbers as text, so the projection is
never a black box.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from itertools import accumulate
from typing import Any

from ragtune.decide.advisor_config import (
    APPROACHES,
    MODEL_FREE_APPROACHES,
    RETRIEVAL_APPROACHES,
    TRAINED_APPROACHES,
    Approach,
    ChangeFrequency,
    CostModel,
    Questionnaire,
)

CHANGES_PER_MONTH: dict[ChangeFrequency, float] = {
    "never": 0.0,
    "yearly": 1 / 12,
    "quarterly": 1 / 3,
    "monthly": 1.0,
    "weekly": 52 / 12,
    "daily": 30.0,
}
"""Change events per month for each answer to "how often does it change"."""


@dataclass(frozen=True, slots=True)
class LineItem:
    name: str
    usd: float
    formula: str
    """The arithmetic with its numbers, e.g. ``10,000 queries × 4.8 s × 2 cores × $0.04/h``."""
    once: bool = False
    """Charged in month 1 only (setup, first indexing, first training)."""
    people: bool = False
    """People time (curation, reviews, deployment) rather than machine time or storage."""


@dataclass
class Projection:
    approach: Approach
    months: int
    items: list[LineItem]
    seconds_per_query: float
    p95_ms: float
    """Estimated (or measured) 95th-percentile latency per question."""
    prompt_tokens: float
    completion_tokens: float
    monthly_totals: list[float] = field(init=False)
    cumulative: list[float] = field(init=False)
    """Running sum of ``monthly_totals``: what has been spent by the end of each month."""

    def __post_init__(self) -> None:
        once = sum(i.usd for i in self.items if i.once)
        recurring = sum(i.usd for i in self.items if not i.once)
        self.monthly_totals = [recurring + (once if month == 0 else 0.0) for month in range(self.months)]
        self.cumulative = list(accumulate(self.monthly_totals))

    @property
    def total(self) -> float:
        return self.cumulative[-1] if self.cumulative else 0.0

    @property
    def monthly_average(self) -> float:
        return self.total / self.months if self.months else 0.0

    def item(self, name: str) -> LineItem | None:
        return next((i for i in self.items if i.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total_usd": self.total, "monthly_average_usd": self.monthly_average}


def num(value: float) -> str:
    """A number as a person writes it: thousands separators, no trailing zeros, 3 significant
    digits below 1."""
    if value == int(value):
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def usd(value: float) -> str:
    """Dollars: cents from $0.10 up, three significant digits below (prices per hour, per token)."""
    return f"${value:,.2f}" if abs(value) >= 0.1 or value == 0 else f"${num(value)}"


def retrain_frequency(approach: Approach, questionnaire: Questionnaire, cost: CostModel) -> ChangeFrequency | None:
    """How often an approach's model is retrained; None for approaches that serve the base model."""
    if approach == "ft" and questionnaire.private_knowledge:
        return questionnaire.knowledge_changes
    if approach in TRAINED_APPROACHES:
        return cost.style_changes
    return None


def query_seconds(approach: Approach, cost: CostModel) -> tuple[float, str]:
    """Seconds per question and how they were obtained (empty when given or measured)."""
    profile = cost.profile(approach)
    if profile.seconds is not None:
        return profile.seconds, ""
    search = cost.retrieval_seconds if approach in RETRIEVAL_APPROACHES else 0.0
    if approach in MODEL_FREE_APPROACHES:  # no model: the search and the reading
        return search + cost.extract_seconds, f" ({num(search)} s search + {num(cost.extract_seconds)} s reading, no model)"
    seconds = profile.prompt_tokens / cost.prefill_tokens_per_s + profile.completion_tokens / cost.decode_tokens_per_s + search
    how = (f"{num(profile.prompt_tokens)} in ÷ {num(cost.prefill_tokens_per_s)}/s + "
           f"{num(profile.completion_tokens)} out ÷ {num(cost.decode_tokens_per_s)}/s")
    return seconds, f" ({how}{f' + {num(search)} s search' if search else ''})"


def p95_ms(approach: Approach, cost: CostModel) -> float:
    profile = cost.profile(approach)
    if profile.p95_ms is not None:
        return profile.p95_ms
    return query_seconds(approach, cost)[0] * cost.p95_over_p50 * 1000


def _cpu(cost: CostModel) -> tuple[float, str]:
    """Dollars per wall second of local work on ``cores`` cores, and its text."""
    return cost.cores * cost.cpu_hour_usd / 3600, f"{cost.cores} cores × {usd(cost.cpu_hour_usd)}/h"


def _training_run(approach: Approach, cost: CostModel) -> tuple[float, str]:
    hours = cost.profile(approach).training_hours
    hours = cost.training_hours if hours is None else hours
    if cost.training_device == "gpu":
        return hours * cost.gpu_hour_usd, f"{num(hours)} h × {usd(cost.gpu_hour_usd)}/GPU-h"
    per_second, rate = _cpu(cost)
    return hours * 3600 * per_second, f"{num(hours)} h × {rate}"


def _queries(approach: Approach, q: Questionnaire, cost: CostModel) -> LineItem:
    profile = cost.profile(approach)
    n = q.queries_per_month
    price = cost.token_prices
    if price is None or approach in MODEL_FREE_APPROACHES:  # no model, no tokens to buy: local CPU time
        seconds, how = query_seconds(approach, cost)
        per_second, rate = _cpu(cost)
        unpriced = "; no model call, so token_prices do not apply" if price is not None else ""
        return LineItem("queries", n * seconds * per_second, f"{num(n)} queries × {num(seconds)} s{how} × {rate}{unpriced}")
    factor = cost.fine_tuned_price_factor if approach in TRAINED_APPROACHES else 1.0
    per_query = (profile.prompt_tokens * price.prompt_per_million + profile.completion_tokens * price.completion_per_million) / 1e6
    formula = (f"{num(n)} queries × ({num(profile.prompt_tokens)} in × {usd(price.prompt_per_million)}/M + "
               f"{num(profile.completion_tokens)} out × {usd(price.completion_per_million)}/M)")
    if factor != 1.0:
        formula += f" × {num(factor)} fine-tuned model price"
    return LineItem("queries", n * per_query * factor, formula)


def _retrieval_items(q: Questionnaire, cost: CostModel) -> list[LineItem]:
    chunks = cost.chunks_per_doc(q.avg_document_tokens)
    per_second, rate = _cpu(cost)
    embed = f"{num(chunks)} chunks/doc × {num(cost.embed_seconds_per_chunk)} s × {rate}"
    changes = CHANGES_PER_MONTH[q.knowledge_changes]
    changed_docs = q.documents * q.changed_share * changes
    gigabytes = q.documents * chunks * cost.bytes_per_chunk / 1e9
    return [
        LineItem("initial indexing", q.documents * chunks * cost.embed_seconds_per_chunk * per_second,
                 f"{num(q.documents)} docs × {embed}", once=True),
        LineItem("re-indexing", changed_docs * chunks * cost.embed_seconds_per_chunk * per_second,
                 f"{num(q.documents)} docs × {num(q.changed_share)} changed × {num(changes)} changes/month "
                 f"({q.knowledge_changes}) × {embed}"),
        LineItem("storage", gigabytes * cost.storage_usd_per_gb_month,
                 f"{num(q.documents)} docs × {num(chunks)} chunks/doc × {num(cost.bytes_per_chunk)} B = "
                 f"{num(gigabytes)} GB × {usd(cost.storage_usd_per_gb_month)}/GB-month"),
    ]


def _training_items(approach: Approach, q: Questionnaire, cost: CostModel) -> list[LineItem]:
    run_usd, run = _training_run(approach, cost)
    cadence = retrain_frequency(approach, q, cost)
    assert cadence is not None
    runs = CHANGES_PER_MONTH[cadence]
    driver = "knowledge_changes: facts live in the weights" if approach == "ft" and q.private_knowledge else "style_changes"
    return [
        LineItem("initial training", run_usd, f"1 run × {run}", once=True),
        LineItem("retraining", runs * run_usd, f"{num(runs)} runs/month ({cadence}, {driver}) × {run}"),
    ]


def _person_hours(what: str, events: float, per_event: str, hours: float, rate: float) -> LineItem:
    return LineItem(what, events * hours * rate, f"{per_event} × {num(hours)} h {what} × {usd(rate)}/h", people=True)


def people_items(approach: Approach, q: Questionnaire, cost: CostModel) -> list[LineItem]:
    """People time per month: a review per re-indexing event for retrieval approaches; curation,
    evaluation review and deployment per retraining run for trained ones (at the retraining cadence,
    ``retrain_frequency``)."""
    people, rate = cost.people, cost.people.hourly_rate_usd
    items: list[LineItem] = []
    if approach in RETRIEVAL_APPROACHES:
        events = CHANGES_PER_MONTH[q.knowledge_changes]
        items.append(_person_hours("re-index review", events, f"{num(events)} re-indexings/month ({q.knowledge_changes})",
                                   people.reindex_review_hours, rate))
    cadence = retrain_frequency(approach, q, cost)
    if cadence is not None:
        runs = CHANGES_PER_MONTH[cadence]
        driver = "knowledge_changes" if approach == "ft" and q.private_knowledge else "style_changes"
        per_run = f"{num(runs)} runs/month ({cadence}, {driver})"
        for what, hours in (("curation", people.curation_hours), ("evaluation review", people.review_hours),
                            ("deployment", people.deployment_hours)):
            items.append(_person_hours(what, runs, per_run, hours, rate))
    return items


def project(approach: Approach, questionnaire: Questionnaire, cost_model: CostModel, months: int = 12) -> Projection:
    """The line items, monthly totals and cumulative cost of ``approach`` over ``months``."""
    if approach not in APPROACHES:
        raise ValueError(f"unknown approach '{approach}' (one of {', '.join(APPROACHES)})")
    if months < 1:
        raise ValueError("months must be at least 1")
    q, cost = questionnaire, cost_model
    items: list[LineItem] = []
    setup = cost.setup_usd.get(approach, 0.0)
    if setup:
        items.append(LineItem("setup", setup, f"engineering setup {usd(setup)} (setup_usd.{approach})", once=True))
    if approach in RETRIEVAL_APPROACHES:
        items += _retrieval_items(q, cost)
    if approach in TRAINED_APPROACHES:
        items += _training_items(approach, q, cost)
    items.append(_queries(approach, q, cost))
    per_second, rate = _cpu(cost)
    items.append(LineItem("evaluation", cost.eval_runs_per_month * cost.eval_seconds_per_run * per_second,
                          f"{num(cost.eval_runs_per_month)} runs × {num(cost.eval_seconds_per_run)} s × {rate}"))
    items += people_items(approach, q, cost)
    profile = cost.profile(approach)
    return Projection(
        approach=approach, months=months, items=items,
        seconds_per_query=query_seconds(approach, cost)[0], p95_ms=p95_ms(approach, cost),
        prompt_tokens=profile.prompt_tokens, completion_tokens=profile.completion_tokens,
    )


def project_all(questionnaire: Questionnaire, cost_model: CostModel, months: int = 12) -> dict[Approach, Projection]:
    return {a: project(a, questionnaire, cost_model, months) for a in APPROACHES}

