"""How the RAG-or-fine-tuning cost comparison moves with the update cadence and the price of people
time: the two assumptions the 12-month projection is most sensitive to.

For every cell of a grid (update cadence × hourly rate) the projection (``ragtune.decide.tco``) is
recomputed with only those two changed:

* cadence is the questionnaire's ``knowledge_changes``: it drives ``ft``'s retraining (when
  ``private_knowledge = true``: the facts live in the weights) and the re-indexing of the retrieval
  approaches. ``hybrid`` retrains at ``style_changes`` in every row (its facts come from retrieval),
  and with ``private_knowledge = false`` so does ``ft``.
* the hourly rate is ``CostModel.people.hourly_rate_usd`` (the people hours per update stay as
  configured). By default the rates are 0, ½×, 1× and 2× the configured rate (the default rate
  when the configured one is 0), so the first column is machine time only.

Each cell holds the 12-month totals, the **fine-tuning : RAG ratio** (``ft`` total ÷ ``rag``
total: above 1, fine-tuning costs more) and the cheapest of the approaches compared (costs only: the
hard constraints, such as access control ruling out ``ft``, are the advisor's business, not this
table's). ``finding`` sums the grid up in one computed sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ragtune.decide.advisor_config import Approach, ChangeFrequency, CostModel, PeopleTime, Questionnaire
from ragtune.decide.tco import CHANGES_PER_MONTH, num, project, usd

CADENCES: tuple[ChangeFrequency, ...] = ("yearly", "quarterly", "monthly", "weekly", "daily")
"""The default rows: every answer to ``knowledge_changes`` that updates something (the
questionnaire's own answer is added when it is ``never``)."""
RATE_FACTORS: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0)
"""The default columns, as multiples of the configured hourly rate."""
COMPARED: tuple[Approach, ...] = ("rag", "ft", "hybrid")


@dataclass(frozen=True, slots=True)
class SensitivityCell:
    cadence: ChangeFrequency
    """``knowledge_changes`` in this cell."""
    hourly_rate_usd: float
    totals: dict[Approach, float]
    """12-month total of each approach compared."""
    ratio: float | None
    """``ft`` total ÷ ``rag`` total (fine-tuning costs this many times RAG); None when rag costs
    nothing or either was not compared."""
    cheapest: Approach

    def to_dict(self) -> dict[str, Any]:
        return {"cadence": self.cadence, "hourly_rate_usd": self.hourly_rate_usd, "totals_usd": dict(self.totals),
                "ft_over_rag": self.ratio, "cheapest": self.cheapest}


@dataclass
class Sensitivity:
    months: int
    cadences: list[ChangeFrequency]
    hourly_rates: list[float]
    approaches: list[Approach]
    cells: list[SensitivityCell]
    """Row by row: every rate of the first cadence, then the next cadence."""
    cadence: ChangeFrequency
    """The questionnaire's ``knowledge_changes`` (the configured cell's row)."""
    hourly_rate_usd: float
    """The configured rate (the configured cell's column)."""
    finding: str = field(init=False)

    def __post_init__(self) -> None:
        self.finding = finding(self)

    def cell(self, cadence: ChangeFrequency, hourly_rate_usd: float) -> SensitivityCell:
        for c in self.cells:
            if c.cadence == cadence and c.hourly_rate_usd == hourly_rate_usd:
                return c
        raise KeyError(f"no cell for {cadence} at {usd(hourly_rate_usd)}/h")

    def row(self, cadence: ChangeFrequency) -> list[SensitivityCell]:
        return [c for c in self.cells if c.cadence == cadence]

    def to_dict(self) -> dict[str, Any]:
        return {"months": self.months, "cadences": list(self.cadences), "hourly_rates_usd": list(self.hourly_rates),
                "approaches": list(self.approaches), "cadence": self.cadence, "hourly_rate_usd": self.hourly_rate_usd,
                "ratio": "ft_over_rag: the 12-month total of ft divided by rag's (above 1: fine-tuning costs more)",
                "cells": [c.to_dict() for c in self.cells], "finding": self.finding}


def default_rates(cost: CostModel) -> list[float]:
    """0, ½×, 1× and 2× the configured hourly rate (the default rate when it is 0)."""
    base = cost.people.hourly_rate_usd or PeopleTime.model_fields["hourly_rate_usd"].default
    return sorted({factor * base for factor in RATE_FACTORS} | {cost.people.hourly_rate_usd})


def sensitivity(questionnaire: Questionnaire, cost_model: CostModel, *, cadences: list[ChangeFrequency] | None = None,
                hourly_rates: list[float] | None = None, approaches: tuple[Approach, ...] = COMPARED,
                months: int = 12) -> Sensitivity:
    """The 12-month totals of ``approaches`` for every cadence × hourly rate. The configured cell
    (the questionnaire's cadence, the cost model's rate) is always part of the grid."""
    if "rag" not in approaches or "ft" not in approaches:
        raise ValueError("the sensitivity compares ft against rag: both must be among the approaches")
    rows = set(cadences or CADENCES) | {questionnaire.knowledge_changes}
    rows_sorted: list[ChangeFrequency] = sorted(rows, key=lambda c: CHANGES_PER_MONTH[c])
    rates = sorted(set(hourly_rates if hourly_rates is not None else default_rates(cost_model))
                   | {cost_model.people.hourly_rate_usd})
    cells = []
    for cadence in rows_sorted:
        q = questionnaire.model_copy(update={"knowledge_changes": cadence})
        for rate in rates:
            cost = cost_model.model_copy(update={"people": cost_model.people.model_copy(update={"hourly_rate_usd": rate})})
            totals = {a: project(a, q, cost, months).total for a in approaches}
            ratio = totals["ft"] / totals["rag"] if totals["rag"] > 0 else None
            cells.append(SensitivityCell(cadence, rate, totals, ratio, min(approaches, key=lambda a: totals[a])))
    return Sensitivity(months=months, cadences=rows_sorted, hourly_rates=rates, approaches=list(approaches),
                       cells=cells, cadence=questionnaire.knowledge_changes,
                       hourly_rate_usd=cost_model.people.hourly_rate_usd)


def ratio_text(ratio: float | None) -> str:
    if ratio is None:
        return "–"
    return f"{ratio:,.0f}×" if ratio >= 100 else f"{ratio:.2g}×" if ratio < 1 else f"{ratio:.1f}×"


def _rate(rate: float) -> str:
    return f"${num(rate)}/h"


def _rag_cheaper_block(s: Sensitivity) -> tuple[float, ChangeFrequency, ChangeFrequency] | None:
    """Where RAG is cheaper than fine-tuning, as a block of the grid: a run of neighbouring cadences
    (first, last) and the lowest rate R such that rag costs less than ft in every cell of that run at
    every rate from R upwards. The widest run wins, then the lowest rate, then the less frequent
    cadences; None when no cell has rag cheaper at its rate and every higher one."""
    best: tuple[int, int, int, int] | None = None  # (-width, rate index, first, last)
    n = len(s.cadences)
    for r_index in range(len(s.hourly_rates)):
        rates = s.hourly_rates[r_index:]
        cheaper = [all(s.cell(c, r).totals["rag"] < s.cell(c, r).totals["ft"] for r in rates) for c in s.cadences]
        first = 0
        while first < n:
            if not cheaper[first]:
                first += 1
                continue
            last = first
            while last + 1 < n and cheaper[last + 1]:
                last += 1
            key = (-(last - first + 1), r_index, first, last)
            best = key if best is None or key < best else best
            first = last + 1
    if best is None:
        return None
    return s.hourly_rates[best[1]], s.cadences[best[2]], s.cadences[best[3]]


def finding(s: Sensitivity) -> str:
    """The grid in one computed sentence, e.g. ``fine-tuning costs 27.3× RAG at weekly updates and
    $75/h; RAG is cheaper from monthly updates upwards at any rate ≥ $37.5/h``."""
    here = s.cell(s.cadence, s.hourly_rate_usd)
    head = (f"fine-tuning costs {ratio_text(here.ratio)} RAG at {s.cadence} updates and {_rate(s.hourly_rate_usd)}"
            if here.ratio is not None else f"RAG costs nothing at {s.cadence} updates and {_rate(s.hourly_rate_usd)}")
    block = _rag_cheaper_block(s)
    cheaper = [c for c in s.cells if c.totals["rag"] < c.totals["ft"]]
    if not cheaper:
        low, high = _rate(s.hourly_rates[0]), _rate(s.hourly_rates[-1])
        tail = (f"RAG is cheaper than fine-tuning nowhere in the grid ({s.cadences[0]} to {s.cadences[-1]} updates, "
                f"{low if low == high else f'{low} to {high}'})")
    elif block is None:  # cheaper only in cells whose higher rates are not (people time favouring ft)
        cells = ", ".join(f"{c.cadence} at {_rate(c.hourly_rate_usd)}" for c in cheaper[:3])
        tail = (f"RAG is cheaper in {len(cheaper)} of {len(s.cells)} cells only "
                f"({cells}{', …' if len(cheaper) > 3 else ''})")
    else:
        rate, first, last = block
        if first == s.cadences[0] and last == s.cadences[-1]:
            where = f"at every cadence ({first} to {last} updates)"
        elif last == s.cadences[-1]:
            where = f"from {first} updates upwards"
        elif first == s.cadences[0]:
            where = f"up to {last} updates" if first != last else f"at {first} updates only"
        else:
            where = f"from {first} to {last} updates" if first != last else f"at {first} updates only"
        at = "at any rate, even $0/h (machine time alone)" if rate == s.hourly_rates[0] == 0 else f"at any rate ≥ {_rate(rate)}"
        tail = f"RAG is cheaper {where} {at}"
    return f"{head}; {tail}."
