import pytest

from ragtune.evaluate.behaviour.labels import label_scores, stated_label

LABELS = ["billing", "shipping", "warranty", "battery_safety"]


@pytest.mark.parametrize(("text", "label"), [
    ('{"queue": "shipping", "reply": "on its way"}', "shipping"),
    ('{"label": "Battery Safety"}', "battery_safety"),
    ("Hi there,\nYour parcel left today.\n\nQueue: shipping\n— Northwind Support", "shipping"),
    ("**Category:** warranty", "warranty"),
    ("This is a battery-safety question, not billing.", "battery_safety"),  # the first named
    ("I would route this to billing.", "billing"),
    ("No idea where this goes.", None),
    ("Queue: returns", None),  # not an allowed label, and no allowed label named
    ("reshipping the order", None),  # whole words only
])
def test_stated_label(text, label):
    assert stated_label(text, LABELS) == label


def test_label_field_of_a_json_answer_wins():
    assert stated_label('{"team": "billing", "route": "shipping"}', LABELS, field="route") == "shipping"


def test_label_scores_match_scikit_learn():
    sklearn = pytest.importorskip("sklearn.metrics")
    truth = ["billing", "billing", "shipping", "warranty", "warranty", "battery_safety"]
    predicted = ["billing", "shipping", "shipping", "warranty", None, "billing"]
    scores = label_scores(truth, predicted, LABELS)
    assert scores["label_accuracy"] == pytest.approx(sklearn.accuracy_score(truth, [p or "none" for p in predicted]))
    expected = sklearn.f1_score(truth, [p or "none" for p in predicted], labels=LABELS, average="macro", zero_division=0)
    assert scores["label_macro_f1"] == pytest.approx(expected)
