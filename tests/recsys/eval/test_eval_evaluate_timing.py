"""evaluate_model (exclusions per stage) and the timing helpers, on models with known scores."""

from __future__ import annotations

from collections.abc import Sequence
from math import log2

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.eval.evaluate import evaluate_model
from recsys.eval.splits import EvalSplit
from recsys.eval.timing import batch_throughput, profile_latency, time_fit, user_profile
from recsys.models.base import Recommender
from recsys.models.types import Profile, TrainData


class Ordered(Recommender):
    """Every user gets the same fixed item scores; records the queries it receives."""

    name = "ordered"

    def __init__(self, scores: Sequence[float]) -> None:
        super().__init__()
        self.scores = np.asarray(scores, dtype=np.float32)
        self.profiles_seen: list[Profile] = []
        self.batch_sizes: list[int] = []

    def _fit(self, data: TrainData, *, show_progress: bool) -> None:
        pass

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        self.batch_sizes.append(len(users))
        return np.repeat(self.scores[None], len(users), axis=0)

    def _score_profiles(self, profiles: Sequence[Profile]) -> np.ndarray:
        self.profiles_seen.extend(profiles)
        return np.repeat(self.scores[None], len(profiles), axis=0)


def _csr(rows: list[list[int]], n_items: int) -> sp.csr_matrix:
    r = [u for u, items in enumerate(rows) for _ in items]
    c = [i for items in rows for i in items]
    return sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=(len(rows), n_items))


def _split() -> EvalSplit:
    # 8 items; the model ranks them 0 > 1 > ... > 7
    train = _csr([[0], [1, 2]], 8)
    valid = _csr([[1], [3]], 8)
    test = _csr([[2, 5], [4]], 8)
    return EvalSplit(TrainData(user_items=train), valid, test)


def test_evaluate_excludes_training_items_and_validation_items_when_testing() -> None:
    model = Ordered(np.arange(8, 0, -1)).fit(_split().train)
    test = evaluate_model(model, _split(), stage="test", ks=(2,))
    # user 0: 0 (train), 1 (valid) excluded -> [2, 3], hit at 1; user 1: 1, 2, 3 excluded -> [0, 4], hit at 2
    ndcg_0 = 1 / (1 + 1 / log2(3))
    ndcg_1 = 1 / log2(3)
    assert test["ndcg@2"] == pytest.approx((ndcg_0 + ndcg_1) / 2)
    assert test["recall@2"] == pytest.approx((1 / 2 + 1) / 2)
    assert test["coverage@2"] == pytest.approx(4 / 8)  # {2, 3} | {0, 4}
    valid = evaluate_model(model, _split(), stage="valid", ks=(1,))
    # user 0: [1] -> hit ; user 1: [0] -> miss (valid item 3 is third)
    assert valid["hit@1"] == pytest.approx(0.5)


def test_profile_latency_uses_each_users_training_items_as_a_profile() -> None:
    ui = _csr([[0, 3], [1], []], 6)
    model = Ordered(np.arange(6)).fit(TrainData(user_items=ui))
    stats = profile_latency(model, ui, n_users=10, warmup=2, seed=0)
    assert stats.n == 10 and 0 < stats.p50_ms <= stats.p99_ms <= stats.max_ms
    assert 0 <= stats.cpu_p50_ms <= stats.cpu_p99_ms
    liked = {p.liked_items for p in model.profiles_seen}
    assert liked <= {(0, 3), (1,)} and len(model.profiles_seen) == 12  # warm-up + timed, never user 2
    assert user_profile(ui, 0) == Profile(liked_items=(0, 3))


def test_batch_throughput_and_time_fit() -> None:
    ui = _csr([[i % 5] for i in range(300)], 5)
    model = Ordered(np.arange(5))
    assert time_fit(model, TrainData(user_items=ui)) >= 0
    rate = batch_throughput(model, 300, batch_size=256, repeats=2)
    assert rate > 0 and model.batch_sizes == [256, 256, 256]  # one warm-up call, two timed
