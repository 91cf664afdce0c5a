"""Profiles scored from cached per-seed walks: the same scores as one walk of the whole restart.

The reference is the previous scoring path, written out here: the dense restart of the profile, one
power iteration over all nodes (`_walk_reference`, the textbook loop), items discounted, the disliked
walk subtracted. Random graphs with dangling nodes (every 10th item has no edge), random weighted seed
sets with repeated items, attributes sharing the mass, and dislikes.
"""

from __future__ import annotations

import numpy as np
import pytest

import graph.ppr as ppr_module
from graph.ppr import PersonalizedPageRank
from graph.ppr_cache import SeedWalk
from recsys.errors import ValidationError
from recsys.models.types import Profile
from tests.graph.test_ppr_walk import sparse_graph_data

N_ATTRS = 12


def old_scores(model: PersonalizedPageRank, p: Profile, tol: float | None = None) -> np.ndarray:
    """The scores as computed before seed walks: one walk per restart."""
    n_items = len(model.item_discount_)

    def walk(items, weights, attrs) -> np.ndarray:
        r = model._restart(items, weights, attrs)
        return model._walk_reference(r, tol)[:n_items] * model.item_discount_ if r.any() else 0.0

    out = walk(p.liked_items, p.item_weights, p.liked_attributes)
    return out - model.disliked_weight * walk(p.disliked_items, None, p.disliked_attributes)


def random_profiles(rng: np.random.Generator, n_items: int, count: int) -> list[Profile]:
    profiles = []
    for _ in range(count):
        k = int(rng.integers(1, 6))
        items = rng.choice(n_items, k, replace=True)  # repeats add their weights up
        attrs = rng.choice(N_ATTRS, int(rng.integers(0, 3)), replace=False)
        disliked = [int(i) for i in rng.choice(n_items, int(rng.integers(0, 3))) if i not in items]
        profiles.append(
            Profile(
                liked_items=tuple(int(i) for i in items),
                item_weights=tuple(float(w) for w in rng.random(k) * 2 + 0.1),
                liked_attributes=tuple(int(a) for a in attrs),
                disliked_items=tuple(disliked),
                disliked_attributes=(int(rng.integers(N_ATTRS)),) if rng.random() < 0.2 else (),
            )
        )
    return profiles


@pytest.mark.parametrize(("graph_seed", "alpha"), [(0, 0.5), (1, 0.5), (2, 0.15)])
def test_mixed_seed_walks_equal_one_walk_of_the_restart(graph_seed: int, alpha: float) -> None:
    # converged walks (tol 1e-8; seeds to 1e-9, float32 stops improving near 1e-7): the mix is the
    # fixed point up to float32 rounding, ~1e-7 relative per entry, so rtol 1e-5 with atol 1e-8 for
    # entries near zero (scores here are 1e-4..1)
    model = PersonalizedPageRank(alpha=alpha, collab_neighbors=5, tol=1e-8, max_iter=400)
    model.fit(sparse_graph_data(seed=graph_seed))
    assert len(model._walk_operator().dangling) >= 30
    rng = np.random.default_rng(graph_seed)
    profiles = random_profiles(rng, model.data.n_items, 30)
    new = model.score_profiles(profiles)
    for row, p in enumerate(profiles):
        old = old_scores(model, p)
        np.testing.assert_allclose(new[row], old, rtol=1e-5, atol=1e-8)
        top_new = np.argsort(-new[row], kind="stable")[:20]
        np.testing.assert_array_equal(top_new, np.argsort(-old, kind="stable")[:20])


def test_at_the_default_tolerance_the_mix_is_within_the_old_walks_own_error() -> None:
    # the old walk stops once a step changes < tol (L1): it is within ~tol of the fixed point; seed walks
    # stop at tol / 10. Both are compared with the converged answer and with each other.
    model = PersonalizedPageRank(collab_neighbors=5).fit(sparse_graph_data(seed=3))
    profiles = random_profiles(np.random.default_rng(3), model.data.n_items, 40)
    new = model.score_profiles(profiles)
    worst_old = worst_new = 0.0
    for row, p in enumerate(profiles):
        old, exact = old_scores(model, p), old_scores(model, p, tol=1e-9)
        worst_old = max(worst_old, float(np.abs(old - exact).sum()))
        worst_new = max(worst_new, float(np.abs(new[row] - exact).sum()))
        assert np.abs(new[row] - old).sum() < 2 * model.tol
        np.testing.assert_allclose(new[row], old, rtol=0, atol=model.tol / 4)
    assert worst_new < worst_old / 3  # the mix is the closer one


def test_a_seed_walks_mass_is_its_unnormalised_sum() -> None:
    # u_s = sum(alpha (I - (1 - alpha) P)^-1 e_s), from the closed form, for a plain and a dangling seed
    model = PersonalizedPageRank(collab_neighbors=3, tol=1e-9, max_iter=400).fit(sparse_graph_data())
    p = model.transition_t_.toarray().astype(np.float64)
    a, n_items = model.alpha, model.data.n_items
    for seed in (1, 10):  # item 10 has no edge: all its mass is lost at once, u = alpha
        e = np.zeros(len(p))
        e[seed] = 1.0
        y = a * np.linalg.solve(np.eye(len(p)) - (1 - a) * p, e)
        walk = model.seed_walk(seed)
        assert walk.mass == pytest.approx(y.sum(), rel=1e-5)
        np.testing.assert_allclose(walk.items, y[:n_items], rtol=1e-4, atol=1e-8)
    assert model.seed_walk(10).mass == pytest.approx(a)


def test_restart_seeds_match_the_dense_restart() -> None:
    model = PersonalizedPageRank(collab_neighbors=0).fit(sparse_graph_data())
    nodes, mass = model._restart_seeds((5, 2, 5, 7), (1.0, 2.0, 0.5, 0.0), (3, 1))
    items_w = np.array([2.0, 1.5]) / 3.5  # item 7 has weight 0: no seed; item 5 twice: 1.5
    assert nodes[:2].tolist() == [2, 5] and len(nodes) == 4
    np.testing.assert_allclose(mass, [*(items_w * 0.5), 0.25, 0.25], rtol=1e-6)
    assert nodes[2:].tolist() == sorted(model.attribute_nodes_[[3, 1]].tolist())
    r = model._restart((5, 2, 5, 7), (1.0, 2.0, 0.5, 0.0), (3, 1))
    assert np.flatnonzero(r).tolist() == nodes.tolist()
    np.testing.assert_array_equal(r[nodes], mass)
    assert [len(x) for x in model._restart_seeds((), None, ())] == [0, 0]
    with pytest.raises(ValidationError, match="2 item weights for 1 items"):
        model._restart_seeds((1,), (1.0, 2.0), ())


def test_many_seeds_take_one_walk_and_leave_the_cache_alone(monkeypatch) -> None:
    model = PersonalizedPageRank(collab_neighbors=5).fit(sparse_graph_data(seed=4))
    monkeypatch.setattr(ppr_module, "MAX_MIXED_SEEDS", 3)
    p = Profile(liked_items=(1, 2, 3, 4))
    one_walk = model.score_profiles([p])[0]
    assert len(model.seed_cache) == 0
    monkeypatch.setattr(ppr_module, "MAX_MIXED_SEEDS", 32)
    mixed = model.score_profiles([p])[0]
    assert len(model.seed_cache) == 4
    np.testing.assert_allclose(one_walk, mixed, rtol=0, atol=model.tol / 10)


def test_warm_up_walks_popular_items_and_genres_once() -> None:
    model = PersonalizedPageRank(collab_neighbors=5).fit(sparse_graph_data(seed=5))
    assert model.warm_seed_cache(n_popular=20) == 20 + N_ATTRS
    assert model.warm_seed_cache(n_popular=20) == 0  # all there already
    popular = np.argsort(-model.data.item_popularity(), kind="stable")[:20]
    assert all(int(i) in model.seed_cache for i in popular)
    misses = model.seed_cache.misses
    model.score_profiles([Profile(liked_items=(int(popular[3]),), liked_attributes=(2,))])
    assert model.seed_cache.misses == misses
    assert model.warm_seed_cache(n_popular=5, attribute_kinds=("director",)) == 0  # no such attribute


def test_the_cache_bound_comes_from_the_settings(monkeypatch) -> None:
    class FakeSettings:
        ppr_seed_cache_mb = 3 * 400 / 2**20  # room for ~3 walks of 300 items (1.2 KB + overhead each)

    monkeypatch.setattr(ppr_module, "get_settings", lambda: FakeSettings())
    model = PersonalizedPageRank(collab_neighbors=0).fit(sparse_graph_data())
    model.score_profiles([Profile(liked_items=(1, 2, 3, 4, 5))])
    cache = model.seed_cache
    assert cache.max_bytes == 1200 and len(cache) == 0  # a walk (1200 B + overhead) does not fit
    FakeSettings.ppr_seed_cache_mb = 3.5 * (300 * 4 + 200) / 2**20
    model.fit(sparse_graph_data())
    model.score_profiles([Profile(liked_items=(1, 2, 3, 4, 5))])
    assert len(model.seed_cache) == 3 and model.seed_cache.nbytes <= model.seed_cache.max_bytes
    assert [n for n in (1, 2, 3, 4, 5) if n in model.seed_cache] == [3, 4, 5]  # the latest kept


def test_seed_walk_of_a_cache_that_keeps_nothing_is_still_right(monkeypatch) -> None:
    class NoCache:
        ppr_seed_cache_mb = 0.0

    monkeypatch.setattr(ppr_module, "get_settings", lambda: NoCache())
    model = PersonalizedPageRank(collab_neighbors=0, tol=1e-8, max_iter=400).fit(sparse_graph_data())
    p = Profile(liked_items=(4, 8))
    np.testing.assert_allclose(model.score_profiles([p])[0], old_scores(model, p), rtol=1e-5, atol=1e-8)
    assert len(model.seed_cache) == 0 and isinstance(model.seed_walk(4), SeedWalk)


def test_warm_up_stops_where_the_cache_is_full_attributes_first(monkeypatch) -> None:
    class Small:
        ppr_seed_cache_mb = 5 * (300 * 4 + 200) / 2**20  # 5 walks of 300 items

    monkeypatch.setattr(ppr_module, "get_settings", lambda: Small())
    model = PersonalizedPageRank(collab_neighbors=0).fit(sparse_graph_data())
    assert model.warm_seed_cache(n_popular=50) == 5
    assert [model.attribute_nodes_[a] in model.seed_cache for a in range(5)] == [True] * 5
    assert model.warm_seed_cache(n_popular=50) == 0
