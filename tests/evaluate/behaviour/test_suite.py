"""The behaviour suite from settings and eval items, and its metrics inside ``evaluate_answers``
and the run summary (label accuracy and macro-F1, bootstrap intervals)."""

import json
from pathlib import Path

import pytest

from ragtune.config import BehaviourConfig, FormatConfig, RagtuneConfig
from ragtune.embed.hashing import HashingEmbedder
from ragtune.errors import ConfigError, EvalDataError
from ragtune.evaluate.behaviour.suite import behaviour_settings, load_behaviour_file, open_behaviour
from ragtune.evaluate.evalset import load_evalset
from ragtune.evaluate.items import EvalItem
from ragtune.evaluate.qa_eval import evaluate_answers
from ragtune.evaluate.summary import summarise
from ragtune.generate.answer import Answer
from ragtune.types import Principal

SUPPORT = Path(__file__).resolve().parents[3] / "examples" / "support"
REPLY = "Hi there,\n\nRefunds take 5 working days [1].\n\nQueue: returns\nNorthwind Support"


class Scripted:
    """Answers each question with the scripted text; ``None`` is a refusal."""

    def __init__(self, replies):
        self.replies = replies

    def ask(self, question, principal):
        text = self.replies[question]
        if text is None:
            return Answer(question, "I could not find this.", False, "scripted", principal.user_id)
        return Answer(question, text, True, "scripted", principal.user_id)


def test_no_settings_and_no_behaviour_fields_means_no_suite(tmp_path):
    assert open_behaviour(BehaviourConfig(), tmp_path, [EvalItem("q", "question?", ("a",))]) is None


def test_the_shipped_settings_file_loads_with_paths_from_its_folder():
    settings, root = behaviour_settings(RagtuneConfig(), Path("/nowhere"), SUPPORT / "behaviour.toml")
    assert root == SUPPORT and settings.format.sections == ["Queue:"] and "battery_safety" in settings.labels
    assert (root / settings.style_examples).is_file()


def test_settings_file_errors_name_the_file_and_field(tmp_path):
    bad = tmp_path / "b.toml"
    bad.write_text('labels = "billing"\n')
    with pytest.raises(ConfigError, match=r"b.toml: invalid configuration\n  labels: "):
        load_behaviour_file(bad)
    (tmp_path / "w.toml").write_text('[eval.behaviour]\nlabel_field = "queue"\n')
    assert load_behaviour_file(tmp_path / "w.toml").label_field == "queue"  # the ragtune.toml layout


def test_eval_set_behaviour_fields_and_their_errors(tmp_path):
    path = tmp_path / "set.jsonl"
    rows = [{"id": "a", "question": "Where is my parcel?", "label": "shipping", "format": {"max_words": 50}},
            {"id": "b", "question": "q?", "label": 3},
            {"id": "c", "question": "q?", "format": {"max_words": 0}},
            {"id": "d", "question": "q?", "format": "json"}]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    data = load_evalset(path)
    assert [i.id for i in data.items] == ["a"]
    assert data.items[0].label == "shipping" and data.items[0].format == FormatConfig(max_words=50)
    assert data.errors[0].endswith(":2: 'label' must be a non-empty string, found 3")
    assert "'format.max_words'" in data.errors[1] and data.errors[1].split(":")[1] == "3"
    assert data.errors[2].endswith(":4: 'format' must be an object (json_schema, regex, sections, min_words, max_words)")


def test_a_label_outside_the_configured_labels_is_an_error(tmp_path):
    items = [EvalItem("t1", "q?", label="refunds")]
    with pytest.raises(EvalDataError, match=r"eval item\(s\) t1: label not among eval.behaviour.labels \(billing\)"):
        open_behaviour(BehaviourConfig(labels=["billing"]), tmp_path, items)


def test_style_needs_both_sides(tmp_path):
    with pytest.raises(EvalDataError, match=r"eval.behaviour.neutral_examples is not set"):
        open_behaviour(BehaviourConfig(style_examples="house.txt"), tmp_path, [EvalItem("q", "q?")])


def test_behaviour_metrics_in_rows_and_summary(tmp_path):
    (tmp_path / "house.txt").write_text("\n\n".join(f"Hi there,\nReply number {i} to you.\nNorthwind Support" for i in range(6)))
    (tmp_path / "neutral.txt").write_text("\n\n".join(f"Statement {i}: the policy applies." for i in range(6)))
    settings = BehaviourConfig(style_examples="house.txt", neutral_examples="neutral.txt",
                               format=FormatConfig(regex=r"^Hi there,", sections=["Queue:"]))
    items = [EvalItem("a", "refund?", ("5 working days",), label="returns"),
             EvalItem("b", "parcel?", ("49 EUR",), label="shipping", format=FormatConfig(max_words=3)),
             EvalItem("c", "salary?", (), expect_refusal=True, label="billing"),
             EvalItem("d", "card?", ("3 working days",), label="billing")]
    suite = open_behaviour(settings, tmp_path, items, embedder=HashingEmbedder(256))
    assert suite is not None and suite.labels == ("billing", "returns", "shipping")
    replies = {"refund?": REPLY, "parcel?": "It costs 49 EUR, shipping queue.", "salary?": None, "card?": None}
    rows = evaluate_answers(Scripted(replies), items, "v", RagtuneConfig(), Principal("eval"), retrieval=False,
                            behaviour=suite)
    by_id = {r["query_id"]: r for r in rows}
    a, b, c, d = (by_id[k]["metrics"] for k in "abcd")
    assert (a["regex_match"], a["sections_present"], a["format_valid"], a["label_correct"]) == (1.0, 1.0, 1.0, 1.0)
    assert a["words"] == 11.0  # the [1] marker is not a word the reader sees (with it: 12)
    assert b["length_ok"] == 0.0 and "regex_match" not in b  # its own format replaces the set's
    assert b["label_correct"] == 1.0 and by_id["b"]["label"] == {"gold": "shipping", "stated": "shipping"}
    assert "style" not in c and "label_correct" not in c  # an expected refusal is not scored on behaviour
    assert d["format_valid"] == 0.0 and d["label_correct"] == 0.0  # a refusal where an answer was due
    assert 0.0 <= a["style"] <= 1.0
    summary = summarise(rows)
    assert summary["labels"] == {"questions": 3, "label_accuracy": pytest.approx(2 / 3),
                                 "label_macro_f1": pytest.approx((1 + 1 + 0) / 3)}
    ci = summary["intervals"]["label_correct"]
    assert ci["n"] == 3 and ci["low"] <= ci["mean"] <= ci["high"]
    assert summary["metrics"]["format_valid"] == pytest.approx(1 / 3)


def test_labels_only_scores_the_label_and_nothing_else(tmp_path):
    items = [EvalItem("a", "refund?", ("5 working days",), label="returns")]
    suite = open_behaviour(BehaviourConfig(format=FormatConfig(sections=["Queue:"])), tmp_path, items)
    rows = evaluate_answers(Scripted({"refund?": "returns"}), items, "classifier", RagtuneConfig(), Principal("eval"),
                            retrieval=False, behaviour=suite, labels_only=True)
    metrics = rows[0]["metrics"]
    assert metrics["label_correct"] == 1.0
    assert metrics["f1"] is None and metrics["answer_hit"] is None and "format_valid" not in metrics
