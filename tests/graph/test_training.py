"""The shared BPR loop: hold-out split, negative sampling, config checks, early stopping."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import graph.training as training
from graph.adjacency import bipartite_adjacency, sym_normalize
from graph.training import NegativeSampler, TrainConfig, split_holdout, train_bpr
from recsys.errors import ValidationError


def random_interactions(n_users: int = 40, n_items: int = 30, density: float = 0.3, seed: int = 0):
    rng = np.random.default_rng(seed)
    dense = (rng.random((n_users, n_items)) < density).astype(np.float32)
    dense[:, 0] = 1.0  # every user has at least one positive
    return sp.csr_matrix(dense)


def test_split_holdout_partitions_each_users_positives() -> None:
    ui = random_interactions()
    train, val = split_holdout(ui, 0.25, np.random.default_rng(1))
    assert (train + val != ui).nnz == 0  # nothing lost, nothing invented
    assert train.multiply(val).nnz == 0  # disjoint
    assert (np.diff(train.indptr) >= 1).all()  # every user keeps a training item
    share = val.nnz / ui.nnz
    assert 0.15 < share < 0.35
    one_item = sp.csr_matrix(np.eye(3, dtype=np.float32))
    t1, v1 = split_holdout(one_item, 0.4, np.random.default_rng(0))
    assert v1.nnz == 0 and t1.nnz == 3  # a single positive is never held out


def test_negative_sampler_avoids_positives() -> None:
    ui = sp.csr_matrix(np.array([[1, 1, 1, 0, 0], [0, 0, 0, 1, 1]], dtype=np.float32))
    sampler = NegativeSampler(ui, np.random.default_rng(0), max_rounds=50)
    users = np.repeat([0, 1], 500)
    negs = sampler.sample(users)
    assert set(negs[users == 0]) == {3, 4}
    assert set(negs[users == 1]) == {0, 1, 2}


def test_config_rejects_bad_values() -> None:
    with pytest.raises(ValidationError, match="embedding_dim"):
        TrainConfig(embedding_dim=0)
    with pytest.raises(ValidationError, match="val_fraction"):
        TrainConfig(val_fraction=0.7)
    with pytest.raises(ValidationError, match="unknown training parameter"):
        TrainConfig.from_params(learning_rate=0.1)
    base = TrainConfig(embedding_dim=8)
    assert TrainConfig.from_params(base, lr=0.5) == TrainConfig(embedding_dim=8, lr=0.5)


def _run(config: TrainConfig, validation: sp.csr_matrix | None):
    ui = random_interactions()
    adj = sym_normalize(bipartite_adjacency(ui))
    return train_bpr(adj, ui, item_offset=ui.shape[0], config=config, validation=validation)


def test_early_stopping_restores_the_best_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    scripted = iter([0.10, 0.30, 0.20, 0.25, 0.05, 0.01])  # best at the 2nd evaluation

    def fake_validate(*args, **kwargs):
        value = next(scripted)
        return value, value

    monkeypatch.setattr(training, "_validate", fake_validate)
    cfg = TrainConfig(embedding_dim=8, num_layers=2, batch_size=64, max_epochs=20, patience=3, eval_every=1)
    val = random_interactions(seed=5)
    result = _run(cfg, val)
    assert result.best_epoch == 2 and result.epochs_run == 5 and result.stop_reason == "patience"
    assert result.best_metric == pytest.approx(0.30)
    # the returned weights are exactly those after epoch 2 of the same seeded run
    two_epochs = _run(TrainConfig.from_params(cfg, max_epochs=2), None)
    np.testing.assert_array_equal(result.weight, two_epochs.weight)
    assert not np.array_equal(result.weight, _run(TrainConfig.from_params(cfg, max_epochs=5), None).weight)


def test_training_lowers_the_loss_and_is_reproducible() -> None:
    cfg = TrainConfig(embedding_dim=8, num_layers=2, batch_size=128, max_epochs=15, lr=0.05)
    a, b = _run(cfg, None), _run(cfg, None)
    np.testing.assert_array_equal(a.weight, b.weight)
    losses = [h["loss"] for h in a.history]
    assert losses[-1] < 0.8 * losses[0]
    assert a.stop_reason == "max_epochs" and a.best_metric is None


def test_time_budget_stops_training() -> None:
    cfg = TrainConfig(embedding_dim=8, num_layers=1, batch_size=8, max_epochs=10_000, time_budget_s=0.3)
    result = _run(cfg, None)
    assert result.stop_reason == "time_budget" and result.epochs_run < 10_000
