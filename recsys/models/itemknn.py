"""ItemKNN: item-item neighbourhood collaborative filtering on the user-item matrix.

The similarity of two items is computed from their columns of `user_items` (cosine, or Jaccard on the
binarised matrix), damped by a shrink term so that pairs seen together by only a few users count less.
Only the `k_neighbors` most similar items of each item are kept, so the model is a sparse
n_items x n_items matrix S and a user's scores are `user_row @ S`.

Profiles (ad-hoc users from a dialogue) fold in for free: their liked items (with weights) form the row;
disliked items enter with weight -disliked_weight, so items similar to a disliked one are pushed down.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

import numpy as np
import scipy.sparse as sp
from tqdm.auto import tqdm

from recsys.errors import NotFittedError, ValidationError
from recsys.models.base import Recommender, profiles_to_csr
from recsys.models.types import Profile, TrainData

Similarity = Literal["cosine", "jaccard"]
_FEW_PROFILES = 4  # up to this many profiles are scored row by row (_profile_row), not as a sparse product
_BLOCK_CELLS = 1 << 22  # dense cells computed at once while building S (~32 MB per float64 array)


class ItemKNN(Recommender):
    """Item-item kNN with shrunk cosine (or Jaccard) similarity, top-k neighbours per item."""

    name: ClassVar[str] = "itemknn"

    def __init__(
        self,
        k_neighbors: int = 100,
        shrink: float = 10.0,
        similarity: Similarity = "cosine",
        disliked_weight: float = 1.0,
    ) -> None:
        super().__init__()
        if k_neighbors < 1:
            raise ValidationError(f"k_neighbors must be >= 1, got {k_neighbors}")
        if shrink < 0:
            raise ValidationError(f"shrink must be >= 0, got {shrink}")
        if similarity not in ("cosine", "jaccard"):
            raise ValidationError(f"similarity must be 'cosine' or 'jaccard', got {similarity!r}")
        if disliked_weight < 0:
            raise ValidationError(f"disliked_weight must be >= 0, got {disliked_weight}")
        self.k_neighbors = k_neighbors
        self.shrink = shrink
        self.similarity: Similarity = similarity
        self.disliked_weight = disliked_weight
        self.similarity_: sp.csr_matrix | None = None

    def _fit(self, data: TrainData, *, show_progress: bool) -> None:
        self.similarity_ = item_similarity(
            data.user_items,
            k_neighbors=self.k_neighbors,
            shrink=self.shrink,
            similarity=self.similarity,
            show_progress=show_progress,
        )

    @property
    def sim(self) -> sp.csr_matrix:
        """The fitted sparse item-item matrix: row i holds item i's neighbours and their similarity."""
        if self.similarity_ is None:
            raise NotFittedError(f"{self.name}: call fit() or load() first")
        return self.similarity_

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        return np.asarray((self.data.user_items[users] @ self.sim).toarray(), dtype=np.float32)

    def _score_profiles(self, profiles: Sequence[Profile]) -> np.ndarray:
        if len(profiles) <= _FEW_PROFILES:  # the dialogue's case: no sparse matrices built per call
            rows = [self._profile_row(p) for p in profiles]
            if all(r is not None for r in rows):
                return np.stack(rows) if rows else np.zeros((0, self.n_items), dtype=np.float32)  # type: ignore[arg-type]
        rows = profiles_to_csr(profiles, self.n_items, disliked_weight=self.disliked_weight)
        return np.asarray((rows @ self.sim).toarray(), dtype=np.float32)

    def _profile_row(self, p: Profile) -> np.ndarray | None:
        """One profile's scores as the sum of its seeds' rows of S (liked items by weight, disliked ones
        by -disliked_weight), added seed by seed in ascending item order in float32: the same operations
        in the same order as scipy's sparse product of the profile's CSR row with S, hence the same
        floats. None (use the sparse product) when an item is a seed twice (scipy sums such duplicates
        first) or S is not a float32 matrix in canonical form."""
        items = list(p.liked_items)
        weights = list(p.item_weights) if p.item_weights else [1.0] * len(items)
        if self.disliked_weight and p.disliked_items:
            items += p.disliked_items
            weights += [-self.disliked_weight] * len(p.disliked_items)
        sim = self.sim
        if len(set(items)) != len(items) or sim.dtype != np.float32 or not sim.has_canonical_format:
            return None
        out = np.zeros(self.n_items, dtype=np.float32)
        w32 = np.asarray(weights, dtype=np.float32)
        for j in np.argsort(np.asarray(items, dtype=np.int64), kind="stable").tolist():
            item = int(items[j])
            lo, hi = sim.indptr[item], sim.indptr[item + 1]
            out[sim.indices[lo:hi]] += w32[j] * sim.data[lo:hi]
        return out


def item_similarity(
    user_items: sp.csr_matrix,
    *,
    k_neighbors: int,
    shrink: float = 0.0,
    similarity: Similarity = "cosine",
    show_progress: bool = False,
) -> sp.csr_matrix:
    """Top-`k_neighbors` item-item similarity (n_items x n_items CSR, float32, zero diagonal).

    cosine:  x_i.x_j / (|x_i| |x_j| + shrink) on the (weighted) item columns.
    jaccard: |U_i & U_j| / (|U_i| + |U_j| - |U_i & U_j| + shrink) on the binarised columns.
    Only positive similarities are kept; items nobody interacted with have no neighbours. The matrix is
    built a block of items at a time so memory stays bounded on large catalogues.
    """
    x = sp.csr_matrix(user_items, dtype=np.float32)
    if similarity == "jaccard":
        x = (x != 0).astype(np.float32)
    xt = x.T.tocsr()  # n_items x n_users
    n_items = x.shape[1]
    if similarity == "cosine":
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0), dtype=np.float64).ravel())
    else:
        norms = np.asarray(x.sum(axis=0), dtype=np.float64).ravel()  # |U_i|
    k = min(k_neighbors, max(n_items - 1, 0))
    block = max(1, _BLOCK_CELLS // max(n_items, 1))
    indptr = [0]
    indices: list[np.ndarray] = []
    values: list[np.ndarray] = []
    starts = range(0, n_items, block)
    for start in tqdm(starts, desc="itemknn similarity", unit="block", disable=not show_progress):
        stop = min(start + block, n_items)
        dots = np.asarray((xt[start:stop] @ x).toarray(), dtype=np.float64)  # block x n_items
        if similarity == "cosine":
            denom = norms[start:stop, None] * norms[None, :] + shrink
        else:
            denom = norms[start:stop, None] + norms[None, :] - dots + shrink
        with np.errstate(divide="ignore", invalid="ignore"):
            sims = np.where(denom > 0, dots / np.where(denom > 0, denom, 1.0), 0.0)
        sims[np.arange(stop - start), np.arange(start, stop)] = 0.0  # an item is not its own neighbour
        for row in sims:
            cols = _top_positive(row, k)
            indices.append(cols)
            values.append(row[cols].astype(np.float32))
            indptr.append(indptr[-1] + len(cols))
    return sp.csr_matrix(
        (
            np.concatenate(values) if values else np.empty(0, np.float32),
            np.concatenate(indices) if indices else np.empty(0, np.int64),
            np.asarray(indptr, dtype=np.int64),
        ),
        shape=(n_items, n_items),
    )


def _top_positive(row: np.ndarray, k: int) -> np.ndarray:
    """Column indices (ascending) of the k largest strictly positive entries of `row`."""
    pos = np.flatnonzero(row > 0)
    if len(pos) > k:
        pos = pos[np.argpartition(-row[pos], k - 1)[:k]]
    return np.sort(pos)
