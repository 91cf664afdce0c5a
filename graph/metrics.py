"""Top-k ranking metrics on dense score matrices, used for early stopping and the graph benchmark."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def top_k_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Per row, the indices of the k highest scores, best first (rows x min(k, n_cols))."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def recall_ndcg_at_k(top: np.ndarray, truth: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-row Recall@k (hits / min(k, |truth|)) and NDCG@k (binary gains) of ranked lists `top`.

    Rows of `truth` with no relevant item get NaN (the caller averages with nanmean).
    """
    top = top[:, :k]
    truth = sp.csr_matrix(truth)
    n_rel = np.diff(truth.indptr)
    hits = np.zeros(top.shape, dtype=bool)
    for r in range(top.shape[0]):
        rel = truth.indices[truth.indptr[r] : truth.indptr[r + 1]]
        if len(rel):
            hits[r] = np.isin(top[r], rel)
    discounts = 1.0 / np.log2(np.arange(2, top.shape[1] + 2))
    dcg = (hits * discounts).sum(axis=1)
    ideal = np.array([discounts[: min(n, top.shape[1])].sum() for n in n_rel])
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(n_rel > 0, hits.sum(axis=1) / np.minimum(n_rel, k), np.nan)
        ndcg = np.where(n_rel > 0, dcg / ideal, np.nan)
    return recall, ndcg
