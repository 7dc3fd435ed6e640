"""Every retrieval metric against trec_eval (pytrec_eval) on the same random graded runs."""

from __future__ import annotations

import random

import pytest
import pytrec_eval

from ragtune.errors import ConfigError
from ragtune.evaluate.retrieval_metrics import parse_metric, score

TREC_NAMES = {
    "ndcg@10": "ndcg_cut_10",
    "ndcg@100": "ndcg_cut_100",
    "recall@10": "recall_10",
    "recall@100": "recall_100",
    "precision@10": "P_10",
    "map": "map",
    "map@100": "map_cut_100",
    "hit@10": "success_10",
    "mrr": "recip_rank",
}


def _random_case(rng: random.Random) -> tuple[dict[str, int], list[str]]:
    pool = [f"d{i}" for i in range(150)]
    judged = rng.sample(pool, rng.randint(1, 25))
    qrels = {d: rng.choice([0, 1, 1, 2, 3]) for d in judged}
    if not any(g > 0 for g in qrels.values()):
        qrels[judged[0]] = 1
    ranked = rng.sample(pool, rng.randint(0, 120))
    return qrels, ranked


def test_metrics_match_trec_eval_on_random_graded_runs() -> None:
    rng = random.Random(42)
    cases = {f"q{i}": _random_case(rng) for i in range(300)}
    qrels = {q: dict(judged) for q, (judged, _) in cases.items()}
    # Distinct descending scores: trec_eval ranks by score, so the order is exactly ours.
    run = {q: {d: float(len(ranked) - i) for i, d in enumerate(ranked)} for q, (_, ranked) in cases.items()}
    measures = {"ndcg_cut.10,100", "recall.10,100", "P.10", "map", "map_cut.100", "success.10", "recip_rank"}
    trec = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)
    metrics = [parse_metric(m) for m in TREC_NAMES]
    compared = 0
    for query, (judged, ranked) in cases.items():
        ours = score(ranked, judged, metrics)
        for name, trec_name in TREC_NAMES.items():
            expected = trec[query][trec_name] if query in trec else 0.0
            assert ours[name] == pytest.approx(expected, abs=1e-6), (query, name)
            compared += 1
    assert compared == 300 * len(TREC_NAMES)


def test_mrr_cut_off_matches_trec_on_the_truncated_run() -> None:
    rng = random.Random(7)
    qrels, run = {}, {}
    for i in range(100):
        judged, ranked = _random_case(rng)
        qrels[f"q{i}"], run[f"q{i}"] = judged, {d: float(100 - r) for r, d in enumerate(ranked[:10])}
    trec = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(run)
    mrr10 = parse_metric("mrr@10")
    for query, scores in run.items():
        ranked = sorted(scores, key=lambda d: -scores[d])
        assert mrr10(ranked, qrels[query]) == pytest.approx(trec.get(query, {}).get("recip_rank", 0.0), abs=1e-6)


def test_graded_ndcg_uses_the_grade_as_gain() -> None:
    ndcg = parse_metric("ndcg@2")
    # ideal: [3, 1] -> 3 + 1/log2(3); ranked [1, 3] -> 1 + 3/log2(3)
    assert ndcg(["b", "a"], {"a": 3, "b": 1}) == pytest.approx((1 + 3 / 1.5849625) / (3 + 1 / 1.5849625), abs=1e-6)


@pytest.mark.parametrize("spec", ["ndcg", "bleu@10", "recall@0", "ndcg@x"])
def test_bad_metric_names_are_refused_with_the_choices(spec: str) -> None:
    with pytest.raises(ConfigError, match="ndcg|cut-off"):
        parse_metric(spec)
