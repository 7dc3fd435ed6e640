"""Dollar cost of one query from its measured time and tokens and the ``[cost]`` price table."""

from __future__ import annotations

import os

from ragtune.config import CostConfig


def local_cores(cost: CostConfig, llm_threads: int | None) -> int:
    return cost.cores or llm_threads or os.cpu_count() or 1


def query_cost(
    cost: CostConfig,
    *,
    seconds: float,
    cores: int,
    model: str | None = None,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
) -> float:
    """CPU time on this machine at ``cpu_hour_usd``; a model with a price entry is charged by
    its tokens instead (its time then is the provider's, not ours, beyond the local part)."""
    price = cost.prices.get(model) if model else None
    if price is not None:
        return (prompt_tokens * price.prompt_per_million + completion_tokens * price.completion_per_million) / 1e6
    return seconds * cores * cost.cpu_hour_usd / 3600
