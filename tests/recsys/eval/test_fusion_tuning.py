"""Learning fusion weights on constructed validation sets with known best answers."""

from __future__ import annotations

from collections.abc import Sequence
from math import log2

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.errors import ValidationError
from recsys.eval.fusion_tuning import tune_fusion
from recsys.eval.metrics import ranking_metrics
from recsys.models.base import Recommender
from recsys.models.fusion import FusionRanker
from recsys.models.lists import top_k_columns
from recsys.models.types import Profile, TrainData


class Fixed(Recommender):
    """Scores from a fixed users x items matrix."""

    def __init__(self, name: str, scores: np.ndarray) -> None:
        super().__init__()
        self.name = name  # type: ignore[misc]
        self.scores = np.asarray(scores, dtype=np.float32)

    def _fit(self, data: TrainData, *, show_progress: bool) -> None:
        pass

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        return self.scores[users]

    def _score_profiles(self, profiles: Sequence[Profile]) -> np.ndarray:
        return np.repeat(self.scores[:1], len(profiles), axis=0)


def _truth(rows: list[list[int]], n_items: int) -> sp.csr_matrix:
    r = [u for u, items in enumerate(rows) for _ in items]
    c = [i for items in rows for i in items]
    return sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=(len(rows), n_items))


def _scores_from_order(order: list[int]) -> np.ndarray:
    scores = np.zeros(len(order), dtype=np.float32)
    scores[order] = np.arange(len(order), 0, -1)
    return scores


def test_learned_weights_drop_a_useless_generator() -> None:
    rng = np.random.default_rng(0)
    n_users, n_items = 30, 40
    truth_rows = [sorted(rng.choice(n_items, size=2, replace=False).tolist()) for _ in range(n_users)]
    good = rng.random((n_users, n_items))
    for u, items in enumerate(truth_rows):
        good[u, items] += 10.0  # the validation items first
    bad = rng.random((n_users, n_items))
    data = TrainData(user_items=sp.csr_matrix((n_users, n_items), dtype=np.float32))
    fusion = FusionRanker([Fixed("good", good), Fixed("bad", bad)], depth=20).fit(data)
    result = tune_fusion(fusion, _truth(truth_rows, n_items), grid=(0.0, 0.5, 1.0, 2.0))
    assert result.singles["good"] == pytest.approx(1.0)
    assert result.singles["bad"] < 0.5
    assert result.chosen.score == pytest.approx(1.0)
    assert result.chosen.weights["bad"] == 0.0 and result.chosen.weights["good"] > 0
    assert result.baseline.score < 1.0  # equal-weight RRF is hurt by the bad generator
    # applied to the ranker: the bad generator is no longer queried, and fused lists are perfect
    assert [n for n, _, _ in fusion.active] == ["good"]
    recs = fusion.recommend(np.arange(n_users), k=2)
    assert [sorted(r.items.tolist()) for r in recs] == truth_rows
    assert fusion.tuning_ is result


def test_complementary_generators_are_both_kept() -> None:
    # truth {0, 1}; gen1 ranks 0 first and 1 tenth, gen2 the reverse, other items in opposite orders
    others = list(range(2, 20))
    order1 = [0, *others[:8], 1, *others[8:]]
    rev = others[::-1]
    order2 = [1, *rev[:8], 0, *rev[8:]]
    n_users = 4
    g1 = np.tile(_scores_from_order(order1), (n_users, 1))
    g2 = np.tile(_scores_from_order(order2), (n_users, 1))
    data = TrainData(user_items=sp.csr_matrix((n_users, 20), dtype=np.float32))
    fusion = FusionRanker([Fixed("g1", g1), Fixed("g2", g2)], depth=20).fit(data)
    result = tune_fusion(fusion, _truth([[0, 1]] * n_users, 20), k=10)
    single = (1 + 1 / log2(11)) / (1 + 1 / log2(3))  # hits at ranks 1 and 10
    assert result.singles == pytest.approx({"g1": single, "g2": single})
    assert result.chosen.score == pytest.approx(1.0)
    assert min(result.chosen.weights.values()) > 0
    assert {c.method for c in result.candidates} == {"rrf", "weighted"}


def test_tuned_score_equals_the_real_fused_ranking() -> None:
    rng = np.random.default_rng(5)
    n_users, n_items = 40, 50
    truth_rows = [rng.choice(n_items, size=int(rng.integers(1, 5)), replace=False) for _ in range(n_users)]
    truth = _truth([t.tolist() for t in truth_rows], n_items)
    gens = []
    for noise in (0.5, 1.0, 3.0):
        scores = rng.random((n_users, n_items)) * noise
        scores += truth.toarray()  # signal, buried in more or less noise
        gens.append(Fixed(f"n{noise:g}", scores))
    seen = sp.csr_matrix((rng.random((n_users, n_items)) < 0.05).astype(np.float32))
    seen = seen - seen.multiply(truth)
    seen.eliminate_zeros()
    fusion = FusionRanker(gens, depth=15).fit(TrainData(user_items=sp.csr_matrix(seen)))
    result = fusion.tune(truth, rrf_ks=(10, 60), depths=(10, 25))
    recs = fusion.recommend(np.arange(n_users), k=10)
    measured = ranking_metrics([r.items for r in recs], truth_rows, ks=(10,))["ndcg@10"]
    assert measured == pytest.approx(result.chosen.score, abs=1e-9)
    assert result.chosen.score >= max(result.singles.values()) - 1e-12
    assert result.chosen.score >= result.baseline.score - 1e-12
    assert (fusion.method, fusion.depth, fusion.rrf_k) == (
        result.chosen.method,
        result.chosen.depth,
        result.chosen.rrf_k,
    )
    assert len(result.candidates) == 1 + 2 * 2 + 2  # baseline, rrf x rrf_ks x depths, weighted x depths


def test_tuning_rejects_bad_truth() -> None:
    data = TrainData(user_items=sp.csr_matrix((3, 5), dtype=np.float32))
    fusion = FusionRanker([Fixed("a", np.random.default_rng(0).random((3, 5)))]).fit(data)
    with pytest.raises(ValidationError, match="shape"):
        tune_fusion(fusion, sp.csr_matrix((3, 4)))
    with pytest.raises(ValidationError, match="no validation user"):
        tune_fusion(fusion, sp.csr_matrix((3, 5)))


def test_top_k_columns_matches_a_stable_full_sort() -> None:
    rng = np.random.default_rng(0)
    for _ in range(100):
        values = rng.integers(0, 4, size=(6, 25)).astype(np.float64)  # many ties
        values[rng.random(values.shape) < 0.2] = -np.inf
        k = int(rng.integers(1, 30))
        expected = np.argsort(-values, axis=1, kind="stable")[:, :k]
        np.testing.assert_array_equal(top_k_columns(values, k), expected)


def test_ascent_ignores_gains_below_min_gain() -> None:
    from recsys.eval.fusion_tuning import _ascent

    def evaluate(w: np.ndarray) -> float:  # generator 1 adds 0.4% at weight 0.5, 3% at weight 2
        return 0.5 * (1 + {0.0: 0.0, 0.5: 0.004, 1.0: -0.01, 2.0: 0.03}[float(w[1])]) if w[0] == 1 else 0.1

    grid = (0.0, 0.5, 1.0)
    assert _ascent(evaluate, np.array([1.0, 0.0]), grid, 3, 0.0)[0].tolist() == [1.0, 0.5]
    assert _ascent(evaluate, np.array([1.0, 0.0]), grid, 3, 0.01)[0].tolist() == [1.0, 0.0]
    w, score = _ascent(evaluate, np.array([1.0, 0.0]), (*grid, 2.0), 3, 0.01)
    assert w.tolist() == [1.0, 2.0] and score == pytest.approx(0.515)
