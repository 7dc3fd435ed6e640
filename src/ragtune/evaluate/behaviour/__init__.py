"""Behaviour metrics: does an answer keep the required format, write in the house style, and
route to the right label? The knowledge metrics (EM, F1, faithfulness) cannot see any of these,
and they are where fine-tuning is expected to beat retrieval. One module per metric; the suite
(``suite.py``) builds them from ``[eval.behaviour]`` and the eval set, and scores each answer."""

from ragtune.evaluate.behaviour.format_check import FormatCheck
from ragtune.evaluate.behaviour.labels import label_scores, stated_label
from ragtune.evaluate.behaviour.readability import reading_grade, word_count
from ragtune.evaluate.behaviour.style import StyleScorer
from ragtune.evaluate.behaviour.suite import BehaviourSuite, open_behaviour

__all__ = ["BehaviourSuite", "FormatCheck", "StyleScorer", "label_scores", "open_behaviour", "reading_grade",
           "stated_label", "word_count"]
