"""ReDial metrics on constructed rankings with hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recsys.eval import metrics
from recsys.eval.redial_metrics import MISSING, summarize, target_ranks

RANKINGS = [
    np.array([7, 3, 5]),  # target 7 at rank 1
    np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),  # target 12 at rank 12: beyond 10, within 50
    np.array([4, 9]),  # target 9 at rank 2
    np.array([1, 2]),  # target 5 absent
    np.array([1, 2]),  # unknown target: always a miss
]
TARGETS = [7, 12, 9, 5, MISSING]


def test_target_ranks() -> None:
    assert target_ranks(RANKINGS, TARGETS).tolist() == [1, 12, 2, 0, 0]
    with pytest.raises(ValueError):
        target_ranks(RANKINGS, TARGETS[:2])


def test_summary_values_by_hand() -> None:
    m = summarize(target_ranks(RANKINGS, TARGETS))
    assert m["samples"] == 5
    assert m["recall@1"] == pytest.approx(1 / 5)
    assert m["recall@10"] == pytest.approx(2 / 5)
    assert m["recall@50"] == pytest.approx(3 / 5)
    assert m["ndcg@10"] == pytest.approx((1.0 + 1 / math.log2(3)) / 5)
    assert m["mrr@10"] == pytest.approx((1.0 + 0.5) / 5)


def test_same_as_the_general_metrics_with_one_relevant_item() -> None:
    rng = np.random.default_rng(0)
    rankings = [rng.permutation(60)[:50] for _ in range(40)]
    targets = rng.integers(0, 60, size=40)
    ours = summarize(target_ranks(rankings, targets))
    general = metrics.ranking_metrics(rankings, [np.array([t]) for t in targets], ks=(1, 10, 50))
    for key in ("recall@1", "recall@10", "recall@50", "ndcg@10", "mrr@10"):
        assert ours[key] == pytest.approx(general[key])


def test_no_samples_and_too_short_rankings() -> None:
    assert summarize(np.zeros(0, dtype=np.int64))["recall@10"] == 0.0
    with pytest.raises(ValueError):
        summarize(np.array([1]), depth=10)
