"""The style scorer with the bundled embedder, trained on part of the shipped support example's
house-style and neutral texts and judged on the rest (held out)."""

from pathlib import Path

import numpy as np
import pytest

from ragtune.config import EmbedderConfig
from ragtune.embed.factory import build_embedder
from ragtune.errors import ConfigError, EvalDataError
from ragtune.evaluate.behaviour.style import StyleScorer, read_examples

STYLE = Path(__file__).resolve().parents[3] / "examples" / "support" / "style"


@pytest.fixture(scope="module")
def embedder():
    return build_embedder(EmbedderConfig())


def test_held_out_house_style_scores_above_held_out_neutral_text(embedder):
    house = read_examples(STYLE / "house.txt", "style_examples")
    neutral = read_examples(STYLE / "neutral.txt", "neutral_examples")
    assert len(house) >= 12 and len(neutral) >= 12
    scorer = StyleScorer.train(embedder, house[:-4], neutral[:-4])
    held_house, held_neutral = scorer.score(house[-4:]), scorer.score(neutral[-4:])
    assert held_house.min() > held_neutral.max()
    assert ((held_house > 0.5).all() and (held_neutral < 0.5).all())
    assert scorer.info["held_out_accuracy"] >= 0.75  # cross-validation on the training examples
    assert scorer.info["house_examples"] == len(house) - 4
    assert scorer.score(["", "  "]).tolist() == [0.0, 0.0]
    # The same reply without its greeting, routing line and sign-off reads less like the house.
    plain = "Unused bikes and accessories can be returned within 30 days of delivery for a full refund."
    assert scorer.score([house[0]])[0] > scorer.score([plain])[0]


def test_too_few_examples_name_the_setting(embedder):
    with pytest.raises(ConfigError, match=r"eval.behaviour.neutral_examples: 2 text\(s\); .* at least 4"):
        StyleScorer.train(embedder, ["a reply"] * 5, ["plain", "text"])


def test_example_files(tmp_path):
    (tmp_path / "a.txt").write_text("First text\nwrapped.\n\nSecond text.\n\n\n")
    assert read_examples(tmp_path / "a.txt", "x") == ["First text wrapped.", "Second text."]
    (tmp_path / "b.jsonl").write_text('{"text": "one"}\n\n{"text": "two"}\n')
    assert read_examples(tmp_path / "b.jsonl", "x") == ["one", "two"]
    (tmp_path / "c.jsonl").write_text('{"text": "one"}\n{"body": "two"}\n')
    with pytest.raises(EvalDataError, match=r"c.jsonl:2: 'text' is missing"):
        read_examples(tmp_path / "c.jsonl", "x")
    with pytest.raises(ConfigError, match=r"eval.behaviour.style_examples: cannot read"):
        read_examples(tmp_path / "missing.txt", "eval.behaviour.style_examples")


def test_scores_are_probabilities(embedder):
    scorer = StyleScorer.train(embedder, [f"Hi there, thanks for asking about order {i}!" for i in range(5)],
                               [f"Order {i} status: dispatched." for i in range(5)])
    scores = scorer.score(["Hi there, your order is on its way!", "Status: dispatched."])
    assert np.all((scores >= 0) & (scores <= 1)) and scores[0] > scores[1]
