"""top_lists' one-row path and top_k_row's cut of long rows against the masked / stable-sort reference, with
ties; the fusion's shortcuts (one keep mask, profiles validated once) against the plain calls."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.errors import UnknownItemError, ValidationError
from recsys.models.base import Recommender
from recsys.models.fusion import FusionRanker
from recsys.models.lists import keep_masks, top_k_columns, top_k_row, top_lists
from recsys.models.types import Profile, TrainData

N_ITEMS = 40


class Fixed(Recommender):
    """Dense scores from a fixed row (any dtype); every profile gets that row."""

    def __init__(self, name: str, row: np.ndarray) -> None:
        super().__init__()
        self.name = name  # type: ignore[misc]
        self.row = np.asarray(row)

    def _fit(self, data: TrainData, *, show_progress: bool) -> None:
        pass

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        return np.repeat(self.row[None, :], len(users), axis=0)

    def _score_profiles(self, profiles: Sequence[Profile]) -> np.ndarray:
        return np.repeat(self.row[None, :], len(profiles), axis=0)


def _data(n_items: int = N_ITEMS) -> TrainData:
    return TrainData(user_items=sp.csr_matrix((2, n_items), dtype=np.float32))


def reference(
    row: np.ndarray, depth: int, blocked: np.ndarray, allowed: np.ndarray | None
) -> tuple[list[int], list[float]]:
    """What the masked path means: float32 scores, blocked and disallowed items at -inf, a stable sort
    (ties by item index), the first `depth`, without -inf."""
    s = np.array(row, dtype=np.float32)
    if allowed is not None:
        s[~allowed] = -np.inf
    s[blocked] = -np.inf
    order = np.argsort(-s, kind="stable")[:depth]
    order = order[np.isfinite(s[order])]
    return order.tolist(), s[order].tolist()


def test_one_row_path_equals_the_masked_reference_and_the_batch_path() -> None:
    rng = np.random.default_rng(11)
    gen_data = _data()
    for trial in range(300):
        row = rng.integers(0, 5, N_ITEMS).astype(np.float64)  # many ties
        if trial % 3 == 0:  # float64 scores equal after the cast to float32 tie as float32
            row = row + rng.choice([0.0, 1e-12], N_ITEMS)
        row[rng.random(N_ITEMS) < 0.1] = -np.inf
        gen = Fixed("g", row).fit(gen_data)
        depth = int(rng.integers(1, N_ITEMS + 5))
        blocked = rng.integers(0, N_ITEMS, int(rng.integers(0, 12)))  # duplicates too
        allowed = rng.random(N_ITEMS) < 0.7 if trial % 2 else None
        users = np.array([0])
        [(items, vals)] = top_lists(gen, users, None, depth, [blocked], allowed)
        want_items, want_vals = reference(row, depth, blocked, allowed)
        assert items.tolist() == want_items
        assert vals.dtype == np.float32 and vals.tolist() == want_vals
        assert items.dtype == np.int64
        # the batch path (two rows: masked copy) gives the same list for the same query
        batch = top_lists(gen, np.array([0, 0]), None, depth, [blocked, blocked], allowed)
        assert batch[0][0].tolist() == want_items and batch[1][0].tolist() == want_items


def test_many_blocked_items_take_the_masked_path_with_the_same_result() -> None:
    row = np.arange(N_ITEMS, dtype=np.float32) % 3  # scores 0, 1, 2 repeating: ties everywhere
    gen = Fixed("g", row).fit(_data())
    blocked = np.arange(0, N_ITEMS, 2)  # 20 items blocked, depth 2: more than 4 x depth
    [(items, _)] = top_lists(gen, np.array([0]), None, 2, [blocked], None)
    assert items.tolist() == [5, 11]  # the odd items scoring 2, lowest index first
    [(few, _)] = top_lists(gen, np.array([0]), None, 2, [blocked[:3]], None)  # 0, 2, 4 blocked
    assert few.tolist() == [5, 8]


def test_fusion_of_one_profile_equals_its_row_in_a_batch() -> None:
    rng = np.random.default_rng(12)
    a = rng.integers(0, 4, N_ITEMS).astype(np.float32)
    b = rng.integers(0, 4, N_ITEMS).astype(np.float32)
    a[[30, 31]] = b[[30, 31]] = -np.inf  # proposed by no generator: they come in through the boost
    fusion = FusionRanker([Fixed("a", a), Fixed("b", b)], depth=8).fit(_data())
    profile = Profile(liked_items=(1, 2), disliked_items=(3,))
    exclude = np.array([4, 5, 6])
    boost = np.zeros(N_ITEMS)
    boost[[7, 30, 31]] = [0.05, 1.0, 1.0]  # 30 and 31 tie: the lower index first
    one = fusion.recommend(profiles=[profile], k=12, exclude=[exclude], item_boost=[boost])[0]
    two = fusion.recommend(profiles=[profile, profile], k=12, exclude=[exclude, []], item_boost=[boost, None])
    assert one.items.tolist() == two[0].items.tolist()
    np.testing.assert_array_equal(one.scores, two[0].scores)
    assert one.provenance == two[0].provenance
    assert not {1, 2, 3, 4, 5, 6} & set(one.items.tolist())
    assert one.items.tolist()[:2] == [30, 31] and one.provenance[0] == {}


def test_fused_top_k_is_the_head_of_the_full_fused_order_with_ties_at_the_cut() -> None:
    rng = np.random.default_rng(13)
    for _ in range(20):
        a = rng.integers(0, 3, N_ITEMS).astype(np.float32)
        b = rng.integers(0, 3, N_ITEMS).astype(np.float32)
        fusion = FusionRanker([Fixed("a", a), Fixed("b", b)], depth=N_ITEMS).fit(_data())
        boost = np.where(rng.random(N_ITEMS) < 0.3, 0.5, 0.0)  # equal boosts: many fused ties
        profile = Profile(liked_items=(0,))
        full = fusion.recommend(profiles=[profile], k=N_ITEMS, item_boost=[boost])[0]
        fused = full.scores.astype(np.float64)
        assert all(  # the full order: score descending, then item index
            (fused[i], -full.items[i]) >= (fused[i + 1], -full.items[i + 1]) for i in range(len(fused) - 1)
        )
        for k in range(1, N_ITEMS):
            head = fusion.recommend(profiles=[profile], k=k, item_boost=[boost])[0]
            assert head.items.tolist() == full.items[:k].tolist()
            assert head.provenance == full.provenance[:k]


def _long_rows(rng: np.random.Generator, width: int) -> list[np.ndarray]:
    """Long float32 rows shaped like the generators' scores: continuous, mostly zeros (a sparse model),
    few distinct values (ties everywhere), partly -inf (masked), all equal."""
    sparse = np.zeros(width, dtype=np.float32)
    hit = rng.choice(width, 150, replace=False)
    sparse[hit] = rng.integers(1, 6, 150)
    masked = rng.random(width).astype(np.float32)
    masked[rng.random(width) < 0.95] = -np.inf
    return [
        rng.random(width).astype(np.float32),
        sparse,
        rng.integers(0, 7, width).astype(np.float32),
        masked,
        np.full(width, 0.5, dtype=np.float32),
        -rng.random(width).astype(np.float32),
    ]


def test_top_k_row_on_long_rows_equals_the_stable_sort() -> None:
    """The sampled-threshold cut of long rows (and its fallbacks) returns a stable sort's first k."""
    rng = np.random.default_rng(21)
    for width in (2048, 5000, 12000):
        for row in _long_rows(rng, width):
            expected = np.argsort(-row, kind="stable")
            for k in (1, 7, 100, 149, 150, 151, 300, width // 16, width - 1):
                got = top_k_row(row, k)
                assert got.tolist() == expected[:k].tolist(), (width, k)
                assert got.tolist() == top_k_columns(row[None, :], k)[0].tolist()


def test_keep_masks_and_checked_profiles_give_the_same_lists() -> None:
    """The fusion's shortcuts (one mask for all generators, profiles validated once) change nothing."""
    rng = np.random.default_rng(22)
    width = 3000
    row = rng.integers(0, 9, width).astype(np.float32)
    gen = Fixed("g", row).fit(_data(width))
    profile = [Profile(liked_items=(1, 2))]
    blocked = [rng.choice(width, 40, replace=False)]
    allowed = rng.random(width) < 0.8
    keep = keep_masks(width, blocked, allowed)
    assert keep[0].tolist() == (allowed & ~np.isin(np.arange(width), blocked[0])).tolist()
    plain = top_lists(gen, None, profile, 120, blocked, allowed)
    fast = top_lists(gen, None, profile, 120, blocked, allowed, keep=keep, checked=True)
    want_items, want_vals = reference(row, 120, blocked[0], allowed)
    for items, vals in (plain[0], fast[0]):
        assert items.tolist() == want_items and vals.tolist() == want_vals


def test_checked_profiles_still_go_through_an_overridden_score_profiles() -> None:
    class OwnScoring(Fixed):
        calls = 0

        def score_profiles(self, profiles: Sequence[Profile]) -> np.ndarray:
            OwnScoring.calls += 1
            return super().score_profiles(profiles)

    gen = OwnScoring("g", np.arange(N_ITEMS, dtype=np.float32)).fit(_data())
    [(items, _)] = top_lists(gen, None, [Profile(liked_items=(0,))], 3, [np.array([39])], None, checked=True)
    assert OwnScoring.calls == 1 and items.tolist() == [38, 37, 36]


def test_a_bad_profile_is_refused_once_by_the_fusion_with_a_clear_error() -> None:
    fusion = FusionRanker([Fixed("a", np.zeros(N_ITEMS)), Fixed("b", np.ones(N_ITEMS))]).fit(_data())
    with pytest.raises(UnknownItemError, match=r"fusion: unknown item index 99 \(0\.\.39\)"):
        fusion.recommend(profiles=[Profile(liked_items=(99,))], k=3)
    with pytest.raises(UnknownItemError, match="fusion: unknown item index -1"):
        fusion.recommend(profiles=[Profile(liked_items=(1,))], k=3, exclude=[np.array([-1])])
    with pytest.raises(ValidationError, match="item_weights"):
        fusion.recommend(profiles=[Profile(liked_items=(1,), item_weights=(1.0, 2.0))], k=3)


def test_the_fusions_unique_inverse_is_numpys() -> None:
    from recsys.models.fusion import _unique_inverse

    rng = np.random.default_rng(23)
    for n in (1, 2, 5, 300):
        items = rng.integers(0, 50, n).astype(np.int64)
        pool, inv = _unique_inverse(items)
        want_pool, want_inv = np.unique(items, return_inverse=True)
        assert pool.tolist() == want_pool.tolist() and inv.tolist() == want_inv.tolist()
