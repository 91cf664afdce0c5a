"""Offline evaluation splits, following RecBole's general-recommendation protocol.

1. Ratings >= `threshold` are positives; the others are dropped (RecBole's `val_interval`).
2. Iterative k-core filtering: users and items with fewer than `core` positives are removed until both
   conditions hold at once.
3. Per user, a seeded random 80/10/10 split (RecBole's `RS: [0.8, 0.1, 0.1]`, `group_by: user`, with the
   same rounding as RecBole's `_calcu_split_ids`), or a temporal leave-last-out split (last positive by
   timestamp to test, second-last to validation).

Users and items are re-indexed densely (sorted external ids) so the result plugs into the Recommender
contract. Models are trained on `train` only; the validation split is for tuning (fusion weights).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.errors import ValidationError
from recsys.models.types import TrainData

SplitProtocol = Literal["random", "temporal"]
Stage = Literal["valid", "test"]


@dataclass(frozen=True)
class EvalSplit:
    """Train / validation / test interactions over one dense user and item index.

    `valid` and `test` are n_users x n_items CSR matrices of held-out positives (1.0). `protocol` records
    how the split was made and the counts after filtering (it goes verbatim into benchmark reports).
    """

    train: TrainData
    valid: sp.csr_matrix
    test: sp.csr_matrix
    protocol: dict[str, Any] = field(default_factory=dict)

    @property
    def n_users(self) -> int:
        return self.train.n_users

    @property
    def n_items(self) -> int:
        return self.train.n_items

    def truth(self, stage: Stage) -> sp.csr_matrix:
        """Held-out positives of a stage."""
        if stage == "valid":
            return self.valid
        if stage == "test":
            return self.test
        raise ValidationError(f"stage must be 'valid' or 'test', got {stage!r}")

    def excluded(self, stage: Stage, users: np.ndarray) -> list[np.ndarray]:
        """Items to exclude besides the training items: the validation items when testing (RecBole)."""
        if stage == "valid":
            return [np.empty(0, dtype=np.int64) for _ in users]
        return [self.valid.indices[self.valid.indptr[u] : self.valid.indptr[u + 1]] for u in users]

    def users_with_truth(self, stage: Stage) -> np.ndarray:
        """Users that have at least one held-out positive in the stage (the only ones evaluated)."""
        return np.flatnonzero(np.diff(self.truth(stage).indptr) > 0).astype(np.int64)


def filter_positives(frame: pd.DataFrame, threshold: float | None) -> pd.DataFrame:
    """Rows with rating >= threshold (all when threshold is None); one row per (user, item), the latest."""
    out = frame if threshold is None else frame[frame["rating"] >= threshold]
    out = out.sort_values(["user_id", "item_id", "timestamp"], kind="stable")
    return out.drop_duplicates(["user_id", "item_id"], keep="last").reset_index(drop=True)


def k_core(frame: pd.DataFrame, core: int) -> pd.DataFrame:
    """Iteratively drop users and items with fewer than `core` rows until both hold (RecBole's filter)."""
    if core <= 1:
        return frame.reset_index(drop=True)
    out = frame
    while True:
        user_counts = out["user_id"].map(out["user_id"].value_counts())
        item_counts = out["item_id"].map(out["item_id"].value_counts())
        keep = (user_counts >= core) & (item_counts >= core)
        if bool(keep.all()):
            return out.reset_index(drop=True)
        out = out[keep]


def ratio_counts(n: int, ratios: Sequence[float]) -> list[int]:
    """How many of a user's `n` rows go to each part: RecBole's `_calcu_split_ids` rounding.

    Every part but the first gets floor(ratio * n); a part whose share is in (0, 1) gets one row taken
    from the first part, as long as the first part keeps more than one row.
    """
    counts = [int(r * n) for r in ratios]
    counts[0] = n - sum(counts[1:])
    for i in range(1, len(ratios)):
        if counts[0] <= 1:
            break
        if 0 < ratios[-i] * n < 1:
            counts[-i] += 1
            counts[0] -= 1
    return counts


def _random_parts(frame: pd.DataFrame, ratios: Sequence[float], seed: int) -> np.ndarray:
    """Part label (0 train, 1 valid, 2 test) of each row: per user, a seeded shuffle cut by `ratio_counts`."""
    rng = np.random.default_rng(seed)
    part = np.zeros(len(frame), dtype=np.int8)
    users = frame["user_id"].to_numpy()
    order = np.argsort(users, kind="stable")
    bounds = np.flatnonzero(np.diff(users[order])) + 1
    for rows in np.split(order, bounds):
        if len(rows) == 0:
            continue
        shuffled = rows[rng.permutation(len(rows))]
        cuts = np.cumsum(ratio_counts(len(rows), ratios))[:-1]
        for label, chunk in enumerate(np.split(shuffled, cuts)):
            part[chunk] = label
    return part


def _temporal_parts(frame: pd.DataFrame) -> np.ndarray:
    """Part label of each row: per user, the last positive by timestamp is test and the one before is
    validation (ties broken by item id, so the split is deterministic)."""
    ordered = frame.sort_values(["user_id", "timestamp", "item_id"], kind="stable")
    from_end = ordered.groupby("user_id", sort=False).cumcount(ascending=False).to_numpy()
    part = np.zeros(len(frame), dtype=np.int8)
    labels = np.where(from_end == 0, 2, np.where(from_end == 1, 1, 0)).astype(np.int8)
    part[ordered.index.to_numpy()] = labels
    return part


def build_split(
    interactions: pd.DataFrame,
    *,
    protocol: SplitProtocol = "random",
    threshold: float | None = 3.0,
    core: int = 10,
    seed: int = 42,
    ratios: Sequence[float] = (0.8, 0.1, 0.1),
    item_attributes: sp.csr_matrix | None = None,
    attribute_names: tuple[str, ...] = (),
    attribute_item_ids: np.ndarray | None = None,
) -> EvalSplit:
    """Filter, re-index and split an interactions frame (columns user_id, item_id, rating, timestamp).

    item_attributes (rows in the order of `attribute_item_ids`, external item ids) are re-indexed to the
    split's items; items without a row get no attributes.
    """
    if protocol not in ("random", "temporal"):
        raise ValidationError(f"protocol must be 'random' or 'temporal', got {protocol!r}")
    if len(ratios) != 3 or abs(sum(ratios) - 1.0) > 1e-6 or min(ratios) < 0:
        raise ValidationError(f"ratios must be three non-negative shares summing to 1, got {tuple(ratios)}")
    n_raw = len(interactions)
    positives = filter_positives(interactions, threshold)
    n_positive = len(positives)
    kept = k_core(positives, core)
    if kept.empty:
        raise ValidationError(
            f"no interactions left after keeping ratings >= {threshold} and {core}-core filtering "
            f"({n_raw} ratings, {n_positive} positives)"
        )
    parts = _random_parts(kept, ratios, seed) if protocol == "random" else _temporal_parts(kept)

    user_ids = np.sort(kept["user_id"].unique()).astype(np.int64)
    item_ids = np.sort(kept["item_id"].unique()).astype(np.int64)
    rows = np.searchsorted(user_ids, kept["user_id"].to_numpy())
    cols = np.searchsorted(item_ids, kept["item_id"].to_numpy())
    shape = (len(user_ids), len(item_ids))

    def matrix(label: int) -> sp.csr_matrix:
        sel = parts == label
        ones = np.ones(int(sel.sum()), dtype=np.float32)
        mat = sp.csr_matrix((ones, (rows[sel], cols[sel])), shape=shape, dtype=np.float32)
        mat.sort_indices()
        return mat

    attrs = None
    if item_attributes is not None:
        attrs = _reindex_attributes(item_attributes, attribute_item_ids, item_ids)
    train = TrainData(
        user_items=matrix(0),
        item_ids=item_ids,
        user_ids=user_ids,
        item_attributes=attrs,
        attribute_names=tuple(attribute_names) if attrs is not None else (),
    )
    valid, test = matrix(1), matrix(2)
    info: dict[str, Any] = {
        "split": "random 80/10/10 per user" if protocol == "random" else "temporal leave-last-out",
        "protocol": protocol,
        "ratios": list(ratios) if protocol == "random" else None,
        "threshold": threshold,
        "core": core,
        "seed": seed,
        "n_ratings": n_raw,
        "n_positives": n_positive,
        "n_users": shape[0],
        "n_items": shape[1],
        "n_interactions": len(kept),
        "n_train": int(train.user_items.nnz),
        "n_valid": int(valid.nnz),
        "n_test": int(test.nnz),
        "ranking": "full ranking over all items; training items excluded, validation items too when testing",
    }
    return EvalSplit(train=train, valid=valid, test=test, protocol=info)


def _reindex_attributes(
    attributes: sp.csr_matrix, source_ids: np.ndarray | None, item_ids: np.ndarray
) -> sp.csr_matrix:
    """Rows of `attributes` (ordered by `source_ids`) picked for `item_ids`; missing items get empty rows."""
    attributes = sp.csr_matrix(attributes, dtype=np.float32)
    if source_ids is None:
        raise ValidationError("item_attributes needs attribute_item_ids (the external id of each row)")
    source_ids = np.asarray(source_ids, dtype=np.int64)
    if len(source_ids) != attributes.shape[0]:
        raise ValidationError(
            f"{len(source_ids)} attribute item ids for {attributes.shape[0]} attribute rows"
        )
    if len(source_ids) == 0:
        return sp.csr_matrix((len(item_ids), attributes.shape[1]), dtype=np.float32)
    order = np.argsort(source_ids, kind="stable")
    pos = np.clip(np.searchsorted(source_ids[order], item_ids), 0, len(source_ids) - 1)
    found = source_ids[order][pos] == item_ids
    picker = sp.csr_matrix(
        (np.ones(int(np.sum(found)), dtype=np.float32), (np.flatnonzero(found), order[pos[found]])),
        shape=(len(item_ids), attributes.shape[0]),
    )
    return sp.csr_matrix(picker @ attributes, dtype=np.float32)
