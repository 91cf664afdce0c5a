"""Top-K ranking metrics with RecBole's definitions, plus catalog coverage and popularity bias.

Per user u with held-out items T_u and a ranked list L_u (hits h_i = [L_u[i] in T_u], i = 1..K):
- Recall@K = sum(h) / |T_u|
- NDCG@K   = DCG / IDCG, DCG = sum(h_i / log2(i + 1)), IDCG over min(|T_u|, K) ideal hits (binary relevance)
- MRR@K    = 1 / (rank of the first hit), 0 without a hit
- Hit@K    = 1 if any hit
- Precision@K = sum(h) / K
Averages are over users with at least one held-out item. Lists shorter than K count missing slots as misses.
Catalog coverage@K: share of the catalog appearing in at least one top-K list. Mean popularity@K: average
training-interaction count of the recommended items (over every slot of every list).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PER_USER_METRICS = ("recall", "ndcg", "mrr", "hit", "precision")


def hit_matrix(rankings: Sequence[np.ndarray], truth: Sequence[np.ndarray], k: int) -> np.ndarray:
    """Boolean n_users x k: whether the i-th recommended item of each user is a held-out item."""
    if len(rankings) != len(truth):
        raise ValueError(f"{len(rankings)} rankings for {len(truth)} truth sets")
    hits = np.zeros((len(rankings), k), dtype=bool)
    for row, (ranked, relevant) in enumerate(zip(rankings, truth, strict=True)):
        top = np.asarray(ranked, dtype=np.int64)[:k]
        hits[row, : len(top)] = np.isin(top, relevant)
    return hits


def recall(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    return hits.sum(axis=1) / np.maximum(n_relevant, 1)


def precision(hits: np.ndarray) -> np.ndarray:
    return hits.sum(axis=1) / hits.shape[1]


def ndcg(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    k = hits.shape[1]
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits * discounts).sum(axis=1)
    ideal = np.cumsum(discounts)[np.clip(np.minimum(n_relevant, k), 1, k) - 1]
    return np.where(n_relevant > 0, dcg / ideal, 0.0)


def mrr(hits: np.ndarray) -> np.ndarray:
    first = hits.argmax(axis=1)
    return np.where(hits.any(axis=1), 1.0 / (first + 1), 0.0)


def hit_rate(hits: np.ndarray) -> np.ndarray:
    return hits.any(axis=1).astype(np.float64)


def catalog_coverage(rankings: Sequence[np.ndarray], n_items: int, k: int) -> float:
    """Share of the n_items catalog that appears in at least one top-k list."""
    if n_items <= 0:
        raise ValueError("n_items must be positive")
    tops = [np.asarray(r, dtype=np.int64)[:k] for r in rankings]
    if not tops:
        return 0.0
    return float(len(np.unique(np.concatenate(tops)))) / n_items


def mean_popularity(rankings: Sequence[np.ndarray], popularity: np.ndarray, k: int) -> float:
    """Average popularity (training-interaction count) of every recommended item in the top-k lists."""
    tops = [np.asarray(r, dtype=np.int64)[:k] for r in rankings]
    flat = np.concatenate(tops) if tops else np.empty(0, dtype=np.int64)
    return float(np.asarray(popularity, dtype=np.float64)[flat].mean()) if len(flat) else 0.0


def ranking_metrics(
    rankings: Sequence[np.ndarray],
    truth: Sequence[np.ndarray],
    *,
    ks: Sequence[int] = (10, 20),
    n_items: int | None = None,
    popularity: np.ndarray | None = None,
) -> dict[str, float]:
    """All metrics at every K, averaged over the users that have held-out items.

    Keys are "<metric>@<K>" (recall, ndcg, mrr, hit, precision; coverage when n_items is given;
    mean_popularity when popularity is given). Users with an empty truth set are skipped.
    """
    keep = [i for i, t in enumerate(truth) if len(t)]
    ranks = [rankings[i] for i in keep]
    rel = [np.asarray(truth[i], dtype=np.int64) for i in keep]
    n_rel = np.array([len(t) for t in rel], dtype=np.int64)
    out: dict[str, float] = {}
    for k in ks:
        if k < 1:
            raise ValueError(f"K must be >= 1, got {k}")
        hits = hit_matrix(ranks, rel, k)
        per_user = {
            "recall": recall(hits, n_rel),
            "ndcg": ndcg(hits, n_rel),
            "mrr": mrr(hits),
            "hit": hit_rate(hits),
            "precision": precision(hits),
        }
        for name in PER_USER_METRICS:
            values = per_user[name]
            out[f"{name}@{k}"] = float(values.mean()) if len(values) else 0.0
        if n_items is not None:
            out[f"coverage@{k}"] = catalog_coverage(ranks, n_items, k)
        if popularity is not None:
            out[f"mean_popularity@{k}"] = mean_popularity(ranks, popularity, k)
    return out
