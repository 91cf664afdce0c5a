"""graph/ppr_cache.py: the LRU of seed walks (bounded by bytes, thread-safe) and the exact mix."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from graph.ppr import PersonalizedPageRank
from graph.ppr_cache import ENTRY_OVERHEAD, SeedWalk, SeedWalkCache, mix_walks
from recsys.models.types import Profile
from tests.graph.test_ppr_walk import sparse_graph_data


def walk_of(value: float, n: int = 10, mass: float = 1.0) -> SeedWalk:
    items = np.full(n, value, dtype=np.float32)
    items.flags.writeable = False
    return SeedWalk(items, mass)


def test_from_walk_takes_the_mass_from_the_dangling_share() -> None:
    # 4 nodes, 2 items; 10% of the walk at the dangling node 3: u = 1 / (1 + (0.5 / 0.5) * 0.1)
    walk = np.array([0.5, 0.3, 0.1, 0.1], dtype=np.float32)
    seed = SeedWalk.from_walk(walk, 2, np.array([3]), alpha=0.5)
    assert seed.mass == pytest.approx(1 / 1.1)
    np.testing.assert_allclose(seed.items, [0.5 / 1.1, 0.3 / 1.1], rtol=1e-6)
    assert not seed.items.flags.writeable
    assert seed.nbytes == 2 * 4 + ENTRY_OVERHEAD


def test_mix_weights_each_seed_by_its_mass_and_normalises() -> None:
    a = SeedWalk(np.array([0.4, 0.0, 0.1], dtype=np.float32), mass=0.5)  # stored as u_s * x_s
    b = SeedWalk(np.array([0.0, 0.9, 0.0], dtype=np.float32), mass=1.0)
    # restart 0.25 e_a + 0.75 e_b: (0.25 a + 0.75 b) / (0.25 * 0.5 + 0.75 * 1.0)
    expected = (0.25 * a.items + 0.75 * b.items) / 0.875
    np.testing.assert_allclose(mix_walks([a, b], [0.25, 0.75]), expected, rtol=1e-6)
    np.testing.assert_allclose(mix_walks([a, b], [1.0, 3.0]), expected, rtol=1e-6)  # any scale
    np.testing.assert_allclose(mix_walks([a], [0.3]), a.items / 0.5, rtol=1e-6)
    assert mix_walks([a], [1.0]) is not a.items
    with pytest.raises(ValueError, match="2 walks for 1 weights"):
        mix_walks([a, b], [1.0])


def test_lru_by_bytes_evicts_the_least_recently_used() -> None:
    one = 10 * 4 + ENTRY_OVERHEAD
    cache = SeedWalkCache(3 * one)
    for node in (1, 2, 3):
        cache.put(node, walk_of(node))
    assert cache.get(1) is not None  # 1 is now the most recent: 2 goes first
    cache.put(4, walk_of(4))
    assert [n for n in (1, 2, 3, 4) if n in cache] == [1, 3, 4]
    assert cache.nbytes == 3 * one and len(cache) == 3
    assert cache.get(2) is None and (cache.hits, cache.misses) == (1, 1)
    cache.clear()
    assert len(cache) == 0 and cache.nbytes == 0


def test_put_keeps_the_first_entry_and_refuses_what_cannot_fit() -> None:
    cache = SeedWalkCache(1000)
    first, second = walk_of(1.0), walk_of(1.0)
    assert cache.put(7, first) is first
    assert cache.put(7, second) is first and cache.get(7) is first
    big = walk_of(0.0, n=1000)
    assert cache.put(8, big) is big and 8 not in cache and cache.nbytes == first.nbytes
    assert len(SeedWalkCache(0)) == 0
    with pytest.raises(ValueError):
        SeedWalkCache(-1)


def test_concurrent_puts_and_gets_keep_the_cache_consistent_and_bounded() -> None:
    cache = SeedWalkCache(20 * (10 * 4 + ENTRY_OVERHEAD))
    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        rng = np.random.default_rng(offset)
        try:
            for node in rng.integers(0, 60, 3000):
                got = cache.get(int(node))
                if got is None:
                    got = cache.put(int(node), walk_of(float(node)))
                assert got.items[0] == node  # never another node's walk
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(cache) == 20 and cache.nbytes == sum(w.nbytes for w in cache._walks.values())
    assert cache.hits + cache.misses == 4 * 3000


def test_two_threads_scoring_profiles_get_the_single_threaded_scores() -> None:
    model = PersonalizedPageRank(collab_neighbors=5).fit(sparse_graph_data(seed=6))
    rng = np.random.default_rng(6)
    profiles = [
        Profile(liked_items=tuple(int(i) for i in rng.choice(40, 3, replace=False)), disliked_items=(50,))
        for _ in range(30)
    ]
    fresh = PersonalizedPageRank(collab_neighbors=5).fit(sparse_graph_data(seed=6))
    expected = fresh.score_profiles(profiles)
    results: dict[int, np.ndarray] = {}

    def worker(tid: int) -> None:
        results[tid] = np.stack([model.score_profiles([p])[0] for p in profiles[tid::2] * 3])

    threads = [threading.Thread(target=worker, args=(tid,)) for tid in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for tid in (0, 1):
        np.testing.assert_array_equal(results[tid], np.tile(expected[tid::2], (3, 1)))
    assert len(model.seed_cache) <= 41  # items 0..39 and 50, each walked once and kept
