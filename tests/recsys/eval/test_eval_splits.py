"""Split invariants: positives, iterative k-core, per-user proportions, no overlap, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys.errors import ValidationError
from recsys.eval.splits import build_split, filter_positives, k_core, ratio_counts


def _frame(rows: list[tuple[int, int, float, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])


def _random_ratings(n_users: int = 60, n_items: int = 50, per_user: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        n = int(rng.integers(per_user // 2, per_user + 1))
        for i in rng.choice(n_items, size=n, replace=False):
            rows.append((u + 100, int(i) + 1000, float(rng.choice([1, 2, 3, 4, 5])), int(rng.integers(1e9))))
    return _frame(rows)


def test_ratio_counts_follow_recbole_rounding() -> None:
    assert ratio_counts(10, (0.8, 0.1, 0.1)) == [8, 1, 1]
    assert ratio_counts(15, (0.8, 0.1, 0.1)) == [13, 1, 1]
    assert ratio_counts(25, (0.8, 0.1, 0.1)) == [21, 2, 2]
    assert ratio_counts(9, (0.8, 0.1, 0.1)) == [7, 1, 1]  # 0.9 rows -> 1, taken from train
    assert ratio_counts(2, (0.8, 0.1, 0.1)) == [1, 0, 1]  # train keeps at least one row


def test_filter_positives_keeps_threshold_and_latest_duplicate() -> None:
    f = _frame([(1, 10, 4.0, 5), (1, 11, 2.5, 5), (1, 10, 3.0, 9), (2, 10, 3.0, 1)])
    out = filter_positives(f, 3.0)
    assert sorted(zip(out.user_id, out.item_id, out.rating, strict=True)) == [(1, 10, 3.0), (2, 10, 3.0)]


def test_k_core_is_iterative() -> None:
    # item 12 has one rating -> dropped; then user 3 has one rating -> dropped; the rest is 2-core.
    f = _frame([(1, 10, 5, 0), (1, 11, 5, 0), (2, 10, 5, 0), (2, 11, 5, 0), (3, 10, 5, 0), (3, 12, 5, 0)])
    out = k_core(f, 2)
    assert sorted(zip(out.user_id, out.item_id, strict=True)) == [(1, 10), (1, 11), (2, 10), (2, 11)]


def test_random_split_invariants() -> None:
    ratings = _random_ratings()
    split = build_split(ratings, protocol="random", threshold=3.0, core=10, seed=7)
    train, valid, test = split.train.user_items, split.valid, split.test
    full = train + valid + test
    # only positives, and the 10-core holds on everything that was kept
    assert full.max() == 1.0
    assert np.diff(full.indptr).min() >= 10
    assert np.asarray((full > 0).sum(axis=0)).min() >= 10
    # no overlap between the parts
    assert train.multiply(valid).nnz == 0 and train.multiply(test).nnz == 0 and valid.multiply(test).nnz == 0
    # per-user proportions are RecBole's 80/10/10 counts
    for u in range(split.n_users):
        n = full.indptr[u + 1] - full.indptr[u]
        got = [m.indptr[u + 1] - m.indptr[u] for m in (train, valid, test)]
        assert got == ratio_counts(int(n), (0.8, 0.1, 0.1))
    # the kept interactions are exactly the filtered positives
    kept = k_core(filter_positives(ratings, 3.0), 10)
    assert full.nnz == len(kept) == split.protocol["n_interactions"]
    ext = {
        (int(split.train.user_ids[r]), int(split.train.item_ids[c]))
        for r, c in zip(*full.nonzero(), strict=True)
    }
    assert ext == set(zip(kept.user_id, kept.item_id, strict=True))
    assert split.protocol["n_users"] == split.n_users and split.protocol["core"] == 10


def test_random_split_is_seeded() -> None:
    ratings = _random_ratings()
    a = build_split(ratings, seed=1)
    b = build_split(ratings, seed=1)
    c = build_split(ratings, seed=2)
    assert (a.test != b.test).nnz == 0 and (a.valid != b.valid).nnz == 0
    assert (a.test != c.test).nnz > 0


def test_temporal_split_holds_out_last_and_second_last() -> None:
    ratings = _random_ratings(seed=3)
    split = build_split(ratings, protocol="temporal", core=10)
    kept = k_core(filter_positives(ratings, 3.0), 10)
    for u, ext_user in enumerate(split.train.user_ids):
        rows = kept[kept.user_id == ext_user].sort_values(["timestamp", "item_id"])
        last, second = rows.item_id.iloc[-1], rows.item_id.iloc[-2]
        assert split.train.item_ids[split.test[u].indices].tolist() == [last]
        assert split.train.item_ids[split.valid[u].indices].tolist() == [second]
        assert split.train.user_items[u].nnz == len(rows) - 2


def test_split_exclusions_and_users_with_truth() -> None:
    split = build_split(_random_ratings(), seed=0)
    users = np.array([0, 1])
    assert [len(e) for e in split.excluded("valid", users)] == [0, 0]
    assert [e.tolist() for e in split.excluded("test", users)] == [
        split.valid[u].indices.tolist() for u in users
    ]
    assert len(split.users_with_truth("test")) == split.n_users


def test_attributes_are_reindexed_to_split_items() -> None:
    ratings = _random_ratings()
    all_items = np.sort(ratings.item_id.unique())[::-1]  # a different order than the split's
    attrs = sp.csr_matrix(np.eye(len(all_items), 2)[:, :2])  # first two rows in that order have attrs
    split = build_split(
        ratings, item_attributes=attrs, attribute_names=("a", "b"), attribute_item_ids=all_items
    )
    ia = split.train.item_attributes
    assert ia is not None and ia.shape == (split.n_items, 2)
    for col, ext in enumerate(all_items[:2]):
        pos = np.flatnonzero(split.train.item_ids == ext)
        if len(pos):
            assert ia[pos[0], col] == 1.0
    assert ia.sum() == sum(int(np.any(split.train.item_ids == e)) for e in all_items[:2])


def test_bad_arguments_raise_validation_errors() -> None:
    ratings = _random_ratings()
    with pytest.raises(ValidationError, match="protocol"):
        build_split(ratings, protocol="weird")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="ratios"):
        build_split(ratings, ratios=(0.5, 0.1, 0.1))
    with pytest.raises(ValidationError, match="no interactions left"):
        build_split(ratings, core=1000)
