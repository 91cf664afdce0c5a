"""LightGCN: the Recommender contract, early stopping on a given validation split, exact fold-in."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest
import scipy.sparse as sp

import graph.embedding as embedding
from graph.lightgcn import LightGCNRecommender
from graph.training import split_holdout
from recsys.errors import ValidationError
from recsys.models.base import Recommender
from recsys.models.types import Profile, TrainData
from tests.graph.fast_config import FAST
from tests.recsys.models.contract import RecommenderContract, make_contract_data


class TestLightGCNContract(RecommenderContract):
    min_hit_rate: ClassVar[float] = 0.95  # 1.0 measured here; a margin for other BLAS / torch builds

    def make_model(self) -> Recommender:
        return LightGCNRecommender(**FAST)


class TestLightGCNMeanFoldInContract(RecommenderContract):
    min_hit_rate: ClassVar[float] = 0.95

    def make_model(self) -> Recommender:
        return LightGCNRecommender(fold_in="mean", **FAST)


def test_given_validation_split_drives_early_stopping() -> None:
    cdata = make_contract_data()
    train, val = split_holdout(cdata.data.user_items, 0.2, np.random.default_rng(3))
    data = TrainData(train)
    model = LightGCNRecommender(**{**FAST, "max_epochs": 200, "patience": 3}).fit(data, validation=val)
    info = model.training_
    evaluated = [h for h in info["history"] if "ndcg" in h]
    assert evaluated, "validation was never evaluated"
    best = max(evaluated, key=lambda h: h["ndcg"])
    assert info["best_epoch"] == int(best["epoch"]) and info["best_metric"] == pytest.approx(best["ndcg"])
    assert info["stop_reason"] == "patience" and info["epochs_run"] < 200
    # the held-out positives rank well: most validation items are in their user's top 5 of unseen items
    recs = model.recommend(np.arange(data.n_users), k=5)
    hits = [bool(set(val[u].indices) & set(r.items.tolist())) for u, r in enumerate(recs) if val[u].nnz]
    assert np.mean(hits) > 0.8


def test_validation_of_the_wrong_shape_is_refused() -> None:
    data = make_contract_data().data
    with pytest.raises(ValidationError, match="validation has shape"):
        LightGCNRecommender(**FAST).fit(data, validation=sp.csr_matrix((3, 3)))


def test_unknown_hyper_parameter_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown training parameter"):
        LightGCNRecommender(embedding_size=8)
    with pytest.raises(ValidationError, match="fold_in"):
        LightGCNRecommender(fold_in="median")  # type: ignore[arg-type]


def test_propagate_fold_in_of_a_users_items_is_that_users_embedding(monkeypatch: pytest.MonkeyPatch) -> None:
    """A profile of exactly a user's items folds in to that user's final embedding minus its own ego
    term alpha * x_u^(0): the fold-in replays LightGCN's propagation for a new node."""
    captured = {}
    real = embedding.train_bpr

    def spy(*args, **kwargs):
        captured["result"] = result = real(*args, **kwargs)
        return result

    monkeypatch.setattr(embedding, "train_bpr", spy)
    data = make_contract_data().data
    model = LightGCNRecommender(**{**FAST, "val_fraction": 0.0, "max_epochs": 5}).fit(data)
    alpha = 1.0 / (FAST["num_layers"] + 1)
    ego_users = captured["result"].weight[: data.n_users]
    for u in range(0, data.n_users, 5):
        profile = Profile(liked_items=tuple(int(i) for i in data.user_items[u].indices))
        folded = model._profile_vectors([profile])[0]
        np.testing.assert_allclose(
            folded + alpha * ego_users[u], model.user_factors_[u], rtol=1e-4, atol=1e-5
        )


def test_item_weights_and_dislikes_move_the_profile_vector() -> None:
    cdata = make_contract_data()
    model = LightGCNRecommender(**FAST).fit(cdata.data)
    a, b = (int(i) for i in cdata.block_items(0)[:2])
    heavy_a = model._profile_vectors([Profile(liked_items=(a, b), item_weights=(5.0, 1.0))])[0]
    heavy_b = model._profile_vectors([Profile(liked_items=(a, b), item_weights=(1.0, 5.0))])[0]
    fa, fb = model.item_fold_in_[a], model.item_fold_in_[b]
    assert np.dot(heavy_a, fa) - np.dot(heavy_a, fb) > np.dot(heavy_b, fa) - np.dot(heavy_b, fb)
    other = int(cdata.block_items(1)[0])
    plain = model._profile_vectors([Profile(liked_items=(a,))])[0]
    disliked = model._profile_vectors([Profile(liked_items=(a,), disliked_items=(other,))])[0]
    np.testing.assert_allclose(
        plain - disliked, model.disliked_weight * model.item_fold_in_[other], rtol=1e-5
    )
