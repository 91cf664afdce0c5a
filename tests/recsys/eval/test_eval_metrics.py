"""Ranking metrics against hand-computed values (RecBole's definitions)."""

from __future__ import annotations

from math import log2

import numpy as np
import pytest

from recsys.eval.metrics import catalog_coverage, hit_matrix, mean_popularity, ranking_metrics

# user A: ranked [1, 2, 3, 4], relevant {2, 4, 9} -> hits at ranks 2 and 4
# user B: ranked [5, 6, 7, 8], relevant {10}       -> no hit
# user C: no relevant item                         -> not averaged
RANKINGS = [np.array([1, 2, 3, 4]), np.array([5, 6, 7, 8]), np.array([0, 1, 2, 3])]
TRUTH = [np.array([2, 4, 9]), np.array([10]), np.array([], dtype=np.int64)]


def test_hit_matrix_marks_relevant_positions_and_pads_short_lists() -> None:
    hits = hit_matrix([np.array([3, 1]), np.array([7])], [np.array([1]), np.array([7, 8])], 3)
    assert hits.tolist() == [[False, True, False], [True, False, False]]


def test_metrics_at_4_match_hand_computation() -> None:
    m = ranking_metrics(RANKINGS, TRUTH, ks=(4,))
    dcg_a = 1 / log2(3) + 1 / log2(5)
    idcg_a = 1 + 1 / log2(3) + 1 / log2(4)  # min(|T|=3, K=4) ideal hits
    assert m["recall@4"] == pytest.approx((2 / 3 + 0) / 2)
    assert m["ndcg@4"] == pytest.approx((dcg_a / idcg_a + 0) / 2)
    assert m["mrr@4"] == pytest.approx((1 / 2 + 0) / 2)
    assert m["hit@4"] == pytest.approx(0.5)
    assert m["precision@4"] == pytest.approx((2 / 4 + 0) / 2)


def test_ideal_dcg_is_capped_at_k() -> None:
    m = ranking_metrics(RANKINGS, TRUTH, ks=(2,))
    # top-2 of A is [1, 2]: one hit at rank 2; ideal DCG over min(3, 2) = 2 positions
    assert m["ndcg@2"] == pytest.approx((1 / log2(3)) / (1 + 1 / log2(3)) / 2)
    assert m["recall@2"] == pytest.approx((1 / 3) / 2)


def test_short_list_counts_missing_slots_as_misses() -> None:
    m = ranking_metrics([np.array([7])], [np.array([7, 8])], ks=(3,))
    assert m["recall@3"] == pytest.approx(0.5)
    assert m["ndcg@3"] == pytest.approx(1 / (1 + 1 / log2(3)))
    assert m["mrr@3"] == 1.0
    assert m["precision@3"] == pytest.approx(1 / 3)


def test_perfect_ranking_scores_one() -> None:
    m = ranking_metrics([np.array([4, 5, 6])], [np.array([5, 4])], ks=(2, 3))
    assert m["ndcg@2"] == pytest.approx(1.0)
    assert m["ndcg@3"] == pytest.approx(1.0)
    assert m["recall@2"] == 1.0


def test_coverage_and_mean_popularity() -> None:
    lists = [np.array([0, 1, 2]), np.array([1, 2, 3])]
    assert catalog_coverage(lists, 10, 2) == pytest.approx(3 / 10)  # {0, 1} | {1, 2}
    assert catalog_coverage(lists, 10, 3) == pytest.approx(4 / 10)
    pop = np.arange(10, dtype=np.float64) * 10  # item i has 10*i training interactions
    assert mean_popularity(lists, pop, 2) == pytest.approx((0 + 10 + 10 + 20) / 4)
    m = ranking_metrics(lists, [np.array([0]), np.array([3])], ks=(2,), n_items=10, popularity=pop)
    assert m["coverage@2"] == pytest.approx(0.3)
    assert m["mean_popularity@2"] == pytest.approx(10.0)


def test_users_without_truth_are_skipped_and_lengths_must_match() -> None:
    only_a = ranking_metrics(RANKINGS[:1], TRUTH[:1], ks=(4,))
    with_c = ranking_metrics([RANKINGS[0], RANKINGS[2]], [TRUTH[0], TRUTH[2]], ks=(4,))
    assert only_a == with_c
    with pytest.raises(ValueError, match="rankings"):
        hit_matrix(RANKINGS, TRUTH[:2], 3)
    with pytest.raises(ValueError, match="K must be"):
        ranking_metrics(RANKINGS, TRUTH, ks=(0,))
