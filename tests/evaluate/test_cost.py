from __future__ import annotations

import pytest

from ragtune.config import CostConfig
from ragtune.evaluate.cost import local_cores, query_cost
from ragtune.evaluate.summary import judge_spread


def test_local_work_is_priced_by_core_seconds_and_priced_models_by_tokens() -> None:
    prices = {"gpt-x": {"prompt_per_million": 2.0, "completion_per_million": 8.0}}
    cost = CostConfig.model_validate({"cpu_hour_usd": 0.36, "prices": prices})
    assert query_cost(cost, seconds=10, cores=2) == pytest.approx(10 * 2 * 0.36 / 3600)
    assert query_cost(cost, seconds=10, cores=2, model="smollm2-135m", prompt_tokens=500) == pytest.approx(0.002)
    assert query_cost(cost, seconds=10, cores=2, model="gpt-x", prompt_tokens=1000, completion_tokens=100) == pytest.approx(
        (1000 * 2.0 + 100 * 8.0) / 1e6
    )
    assert local_cores(CostConfig(cores=3), 2) == 3 and local_cores(CostConfig(), 2) == 2


def test_judge_spread_is_the_deviation_of_repeat_means() -> None:
    spread = judge_spread([[1.0, 0.0], [1.0, None], [0.6, 0.4]])
    # repeat means: (1 + 1 + .6) / 3 = .8667 and (0 + .4) / 2 = .2
    assert spread["mean"] == pytest.approx((0.8667 + 0.2) / 2, abs=1e-4)
    assert spread["std"] == pytest.approx(abs(0.86667 - 0.2) / 2**0.5, abs=1e-4)
    assert spread["repeats"] == 2
