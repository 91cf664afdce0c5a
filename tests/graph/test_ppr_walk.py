"""The fast PPR walk: the same vectors as the textbook power iteration, the exact answer with dangling
nodes, and the in-place products of graph/walk_operator.py."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import graph.walk_operator as walk_operator
from graph.ppr import PersonalizedPageRank
from graph.walk_operator import WalkOperator
from recsys.models.types import TrainData

# P (column-stochastic, P[j, i] = probability i -> j) over 4 nodes; node 3 has no out-edges
P = np.array(
    [
        [0.0, 0.5, 1.0, 0.0],
        [0.5, 0.0, 0.0, 0.0],
        [0.25, 0.5, 0.0, 0.0],
        [0.25, 0.0, 0.0, 0.0],
    ],
    dtype=np.float32,
)


def test_operator_products_and_dangling_nodes() -> None:
    ops = WalkOperator(sp.csr_matrix(P), 0.5)
    assert ops.dangling.tolist() == [3]
    x = np.array([0.1, 0.2, 0.3, 0.4], dtype=np.float32)
    y = np.full(4, 1.0, dtype=np.float32)
    ops.matvec_add(x, y)
    np.testing.assert_allclose(y, 1.0 + 0.5 * P @ x, rtol=1e-6)
    r = np.array([0.0, 0.75, 0.0, 0.25], dtype=np.float32)  # sparse: out-edges of 1 (and none of 3)
    y = np.full(4, 2.0, dtype=np.float32)
    ops.sparse_matvec_add(r, np.array([1, 3]), y)
    np.testing.assert_allclose(y, [2.1875, 2.0, 2.1875, 2.0], rtol=1e-6)
    assert ops.sparse_cost(np.array([1, 3])) == pytest.approx(2 / 6)  # 2 of the 6 edges


def test_operator_without_the_scipy_kernel_gives_the_same_product(monkeypatch) -> None:
    ops = WalkOperator(sp.csr_matrix(P), 0.5)
    x = np.array([0.4, 0.3, 0.2, 0.1], dtype=np.float32)
    fast = np.zeros(4, dtype=np.float32)
    ops.matvec_add(x, fast)
    fast_sparse = np.zeros(4, dtype=np.float32)
    ops.sparse_matvec_add(x, np.arange(4), fast_sparse)
    monkeypatch.setattr(walk_operator, "_csr_matvec", None)
    monkeypatch.setattr(walk_operator, "_csc_matvec", None)
    slow, slow_sparse = np.zeros(4, dtype=np.float32), np.zeros(4, dtype=np.float32)
    ops.matvec_add(x, slow)
    ops.sparse_matvec_add(x, np.arange(4), slow_sparse)
    np.testing.assert_array_equal(fast, slow)
    np.testing.assert_allclose(fast_sparse, slow_sparse, rtol=1e-6)
    np.testing.assert_allclose(slow, 0.5 * P @ x, rtol=1e-6)


def sparse_graph_data(seed: int = 0, n_items: int = 300, n_attrs: int = 12) -> TrainData:
    """Random items, attributes, co-mentions and users; every 10th item has no edge at all (dangling)."""
    rng = np.random.default_rng(seed)
    ia = (rng.random((n_items, n_attrs)) < 0.15).astype(np.float32)
    ia[::10] = 0
    ii = sp.random(n_items, n_items, density=0.01, random_state=seed, format="csr") * 5
    ii = sp.csr_matrix(ii + ii.T)
    keep = np.ones(n_items, dtype=np.float32)
    keep[::10] = 0
    ii = sp.csr_matrix(sp.diags(keep) @ ii @ sp.diags(keep))
    ui = sp.csr_matrix((rng.random((40, n_items)) < 0.05).astype(np.float32) * keep)
    names = tuple(f"genre:g{i}" for i in range(n_attrs))
    return TrainData(ui, item_attributes=sp.csr_matrix(ia), attribute_names=names, item_item=ii)


def test_walk_with_dangling_nodes_has_the_exact_answer() -> None:
    # mass reaching a dangling node returns to the restart: the fixed point is y / sum(y) with
    # y = alpha (I - (1 - alpha) P)^-1 r, the walk whose dangling mass is simply lost
    model = PersonalizedPageRank(collab_neighbors=3, tol=1e-9, max_iter=500).fit(sparse_graph_data())
    assert len(model._walk_operator().dangling) >= 30
    p = model.transition_t_.toarray().astype(np.float64)
    r = model._restart((1, 2, 5), (1.0, 2.0, 1.0), (3,))
    y = model.alpha * np.linalg.solve(np.eye(len(p)) - (1 - model.alpha) * p, r.astype(np.float64))
    np.testing.assert_allclose(model.pagerank(r), y / y.sum(), atol=1e-6)


@pytest.mark.parametrize("alpha", [0.5, 0.15])
def test_fast_walk_matches_the_reference_iteration_on_random_restarts(alpha: float) -> None:
    model = PersonalizedPageRank(alpha=alpha, collab_neighbors=5).fit(sparse_graph_data(seed=1))
    rng = np.random.default_rng(2)
    n_items = model.data.n_items
    for trial in range(40):
        k = int(rng.integers(1, 6))
        items = rng.choice(n_items, k, replace=False)
        attrs = rng.choice(12, int(rng.integers(0, 3)), replace=False)
        r = model._restart(items, rng.random(k) + 0.1, attrs)
        if trial % 4 == 0:  # dense restarts (a known user's items) take the full product from step 1
            r = rng.random(model.n_nodes_).astype(np.float32)
            r /= r.sum()
        fast, ref = model._walk(r), model._walk_reference(r)
        assert np.abs(fast - ref).max() < 1e-6
        assert fast.sum() == pytest.approx(1.0, abs=1e-5)
        top_fast = np.argsort(-fast[:n_items] * model.item_discount_, kind="stable")[:20]
        top_ref = np.argsort(-ref[:n_items] * model.item_discount_, kind="stable")[:20]
        np.testing.assert_array_equal(top_fast, top_ref)


def test_the_operator_follows_the_graph_and_is_not_saved(tmp_path) -> None:
    model = PersonalizedPageRank(collab_neighbors=0).fit(sparse_graph_data())
    r = model._restart((4,), None, ())
    first = model.pagerank(r).copy()
    loaded = PersonalizedPageRank.load(model.save(tmp_path / "ppr.pkl"))
    assert "_walk_ops" not in loaded.__dict__
    np.testing.assert_array_equal(loaded.pagerank(r), first)
    model.fit(sparse_graph_data(seed=3))  # a new graph: the operator is rebuilt from it
    assert "_walk_ops" not in model.__dict__
    np.testing.assert_allclose(model.pagerank(r), model._walk_reference(r), atol=1e-6)
