"""EASE (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data"): a closed-form item-item model.

B = I - P / diag(P) with P = (X^T X + l2 I)^-1, i.e. B_ij = -P_ij / P_jj for i != j and diag(B) = 0.
A user's scores are `user_row @ B`. B is a dense n_items x n_items float32 matrix (n_items^2 * 4 bytes:
376 MB for 9.7k items, 1.6 GB for 20k), so fitting refuses catalogues larger than `max_items`.

Fitting builds the Gram matrix a block at a time and inverts it in place with LAPACK (Cholesky: spotrf,
spotri), so the peak memory is about one n_items^2 float32 matrix.
Profiles fold in like ItemKNN: liked items (with weights) minus disliked_weight x disliked items, @ B.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack
from tqdm.auto import tqdm

from recsys.errors import NotFittedError, ValidationError
from recsys.models.base import Recommender, profiles_to_csr
from recsys.models.types import Profile, TrainData

_BLOCK_CELLS = 1 << 22  # Gram-matrix cells computed at once


class EASE(Recommender):
    """Closed-form linear item-item autoencoder with L2 regularisation `l2`."""

    name: ClassVar[str] = "ease"

    def __init__(self, l2: float = 500.0, *, max_items: int = 20_000, disliked_weight: float = 1.0) -> None:
        super().__init__()
        if l2 <= 0:
            raise ValidationError(f"l2 must be > 0, got {l2}")
        if max_items < 1:
            raise ValidationError(f"max_items must be >= 1, got {max_items}")
        if disliked_weight < 0:
            raise ValidationError(f"disliked_weight must be >= 0, got {disliked_weight}")
        self.l2 = l2
        self.max_items = max_items
        self.disliked_weight = disliked_weight
        self.weights_: np.ndarray | None = None

    def _fit(self, data: TrainData, *, show_progress: bool) -> None:
        n = data.n_items
        if n > self.max_items:
            gb = n * n * 4 / 1e9
            raise ValidationError(
                f"{self.name}: {n} items exceed max_items={self.max_items} (the dense item-item matrix "
                f"would take {gb:.1f} GB); raise max_items or use itemknn / als for this catalogue"
            )
        self.weights_ = ease_weights(data.user_items, self.l2, show_progress=show_progress)

    @property
    def weights(self) -> np.ndarray:
        """The fitted dense B (n_items x n_items, float32, zero diagonal)."""
        if self.weights_ is None:
            raise NotFittedError(f"{self.name}: call fit() or load() first")
        return self.weights_

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        return np.asarray(self.data.user_items[users] @ self.weights, dtype=np.float32)

    def _score_profiles(self, profiles: Sequence[Profile]) -> np.ndarray:
        rows = profiles_to_csr(profiles, self.n_items, disliked_weight=self.disliked_weight)
        return np.asarray(rows @ self.weights, dtype=np.float32)


def ease_weights(user_items: sp.csr_matrix, l2: float, *, show_progress: bool = False) -> np.ndarray:
    """The EASE matrix B for `user_items` (n_users x n_items): dense float32, zero diagonal."""
    x = sp.csr_matrix(user_items, dtype=np.float32)
    xt = x.T.tocsr()
    n = x.shape[1]
    block = max(1, _BLOCK_CELLS // max(n, 1))
    starts = range(0, n, block)
    # Fortran order so LAPACK works in place; the Gram matrix is symmetric, so memory order is moot.
    gram = np.empty((n, n), dtype=np.float32, order="F")
    with tqdm(total=len(starts) + 1, desc="ease", unit="step", disable=not show_progress) as bar:
        for start in starts:
            stop = min(start + block, n)
            gram[start:stop] = (xt[start:stop] @ x).toarray()
            bar.update(1)
        gram[np.arange(n), np.arange(n)] += np.float32(l2)
        chol, info = lapack.spotrf(gram, lower=False, clean=False, overwrite_a=True)
        if info != 0:
            raise ValidationError(f"ease: Gram matrix + l2 I is not positive definite (l2={l2}); raise l2")
        inv, info = lapack.spotri(chol, lower=False, overwrite_c=True)
        if info != 0:
            raise ValidationError(f"ease: inverting the Gram matrix failed (LAPACK info={info})")
        bar.update(1)
    _symmetrize_from_upper(inv)
    p = inv.T  # C-contiguous view of the same (symmetric) matrix, no copy
    diag = p.diagonal().copy()
    p /= -diag[None, :]
    np.fill_diagonal(p, 0.0)
    return p


def _symmetrize_from_upper(a: np.ndarray) -> None:
    """Copy the upper triangle of a square matrix onto its lower triangle, in place, a block at a time."""
    n = a.shape[0]
    block = max(1, _BLOCK_CELLS // max(n, 1))
    for r0 in range(0, n, block):
        r1 = min(r0 + block, n)
        a[r0:r1, :r0] = a[:r0, r0:r1].T
        diag_block = a[r0:r1, r0:r1]
        a[r0:r1, r0:r1] = np.triu(diag_block) + np.triu(diag_block, 1).T
