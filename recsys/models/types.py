"""Types shared by every recommender: training data, ad-hoc profiles, ranked lists with provenance.

Ids on the contract are dense indices: users 0..n_users-1, items 0..n_items-1, attributes
0..n_attributes-1. `TrainData.item_ids` / `user_ids` map them back to external ids (MovieLens ids in the
benchmark; for the dialogue's models, item index == catalog id).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

# Attribute names carry their kind as a prefix: "genre:sci-fi", "director:christopher nolan",
# "writer:...", "star:...", "tag:dark", "decade:1990s".
ATTRIBUTE_KINDS = ("genre", "director", "writer", "star", "tag", "decade")


@dataclass(frozen=True)
class TrainData:
    """What a recommender is fitted on.

    user_items: n_users x n_items CSR, float32 weights (1.0 for an implicit positive).
    item_attributes: n_items x n_attributes CSR (0/1), optional; names in `attribute_names`.
    item_item: n_items x n_items CSR of co-mention counts (ReDial), optional.
    """

    user_items: sp.csr_matrix
    item_ids: np.ndarray | None = None
    user_ids: np.ndarray | None = None
    item_attributes: sp.csr_matrix | None = None
    attribute_names: tuple[str, ...] = ()
    item_item: sp.csr_matrix | None = None

    def __post_init__(self) -> None:
        ui = self.user_items
        if not sp.issparse(ui):
            raise TypeError("user_items must be a scipy.sparse matrix")
        object.__setattr__(self, "user_items", sp.csr_matrix(ui, dtype=np.float32))
        n_users, n_items = self.user_items.shape
        if self.item_ids is not None and len(self.item_ids) != n_items:
            raise ValueError(f"item_ids has {len(self.item_ids)} entries for {n_items} items")
        if self.user_ids is not None and len(self.user_ids) != n_users:
            raise ValueError(f"user_ids has {len(self.user_ids)} entries for {n_users} users")
        if self.item_attributes is not None:
            ia = sp.csr_matrix(self.item_attributes, dtype=np.float32)
            object.__setattr__(self, "item_attributes", ia)
            if ia.shape[0] != n_items:
                raise ValueError(f"item_attributes has {ia.shape[0]} rows for {n_items} items")
            if len(self.attribute_names) != ia.shape[1]:
                raise ValueError(
                    f"attribute_names has {len(self.attribute_names)} names for {ia.shape[1]} attributes"
                )
        if self.item_item is not None:
            ii = sp.csr_matrix(self.item_item, dtype=np.float32)
            object.__setattr__(self, "item_item", ii)
            if ii.shape != (n_items, n_items):
                raise ValueError(f"item_item has shape {ii.shape}, expected {(n_items, n_items)}")

    @property
    def n_users(self) -> int:
        return int(self.user_items.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.user_items.shape[1])

    @property
    def n_attributes(self) -> int:
        return 0 if self.item_attributes is None else int(self.item_attributes.shape[1])

    def item_popularity(self) -> np.ndarray:
        """Number of users with a positive for each item (float32, length n_items)."""
        return np.asarray((self.user_items > 0).sum(axis=0), dtype=np.float32).ravel()


@dataclass(frozen=True)
class Profile:
    """An ad-hoc user described by seeds (item and attribute indices), e.g. from a dialogue."""

    liked_items: tuple[int, ...] = ()
    disliked_items: tuple[int, ...] = ()
    liked_attributes: tuple[int, ...] = ()
    disliked_attributes: tuple[int, ...] = ()
    # Optional weights for liked items (same length as liked_items); default 1.0 each.
    item_weights: tuple[float, ...] | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.liked_items or self.liked_attributes)


@dataclass(frozen=True)
class Trace:
    """One generator's view of a candidate: its raw score and its 1-based rank in that generator's list."""

    score: float
    rank: int


@dataclass(frozen=True)
class Recommendations:
    """One ranked list: item indices, final scores (descending) and, per item, each generator's trace.

    `provenance[i]` maps generator name -> Trace for items[i]. A single generator's list has one entry
    per item, under its own name; the fusion ranker keeps every contributing generator's entry.
    """

    items: np.ndarray  # int64, length <= k
    scores: np.ndarray  # float32, same length, non-increasing
    provenance: tuple[Mapping[str, Trace], ...] = field(default=())

    def __len__(self) -> int:
        return len(self.items)

    def to_list(self) -> list[tuple[int, float]]:
        return [(int(i), float(s)) for i, s in zip(self.items, self.scores, strict=True)]
