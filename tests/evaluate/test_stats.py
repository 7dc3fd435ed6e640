from __future__ import annotations

import random

import pytest

from ragtune.evaluate.stats import paired_difference, percentile


def test_identical_systems_show_no_difference() -> None:
    scores = [random.Random(1).random() for _ in range(50)]
    result = paired_difference(scores, scores)
    assert result.difference == 0 and result.low == 0 and result.high == 0 and result.p_value == 1.0


def test_a_consistent_gain_is_significant_and_its_interval_excludes_zero() -> None:
    rng = random.Random(2)
    a = [rng.random() for _ in range(100)]
    b = [x + 0.05 + rng.gauss(0, 0.02) for x in a]
    result = paired_difference(a, b, seed=3)
    assert result.difference == pytest.approx(0.05, abs=0.01)
    assert 0 < result.low < result.difference < result.high
    assert result.p_value < 0.001


def test_noise_is_not_significant() -> None:
    rng = random.Random(4)
    a = [rng.random() for _ in range(60)]
    b = [rng.random() for _ in range(60)]
    result = paired_difference(a, b, seed=5)
    assert result.low < 0 < result.high and result.p_value > 0.05


def test_unpaired_input_is_refused() -> None:
    with pytest.raises(ValueError, match="same, non-zero number"):
        paired_difference([1.0], [1.0, 2.0])
    assert percentile([1, 2, 3, 4], 50) == 2.5
