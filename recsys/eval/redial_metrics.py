"""Metrics of the ReDial benchmark: one target per sample, so everything follows from the target's rank.

For a sample whose target has 1-based rank r in the system's top-K list (r = 0: not in the list, or the
catalog does not know the target):
- Recall@K = [0 < r <= K] (one relevant item: recall, hit rate and accuracy coincide)
- NDCG@K   = 1 / log2(r + 1) if 0 < r <= K, else 0
- MRR@K    = 1 / r if 0 < r <= K, else 0
Figures are means over the samples. These are recsys.eval.metrics' definitions with |T_u| = 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RECALL_KS = (1, 10, 50)
METRIC_KEYS = ("recall@1", "recall@10", "recall@50", "ndcg@10", "mrr@10")
MISSING = -1  # target id of a sample whose movie the catalog does not know: never ranked


def target_ranks(rankings: Sequence[np.ndarray], targets: Sequence[int] | np.ndarray) -> np.ndarray:
    """1-based rank of each target in its ranking; 0 when absent (MISSING targets are always absent)."""
    if len(rankings) != len(targets):
        raise ValueError(f"{len(rankings)} rankings for {len(targets)} targets")
    ranks = np.zeros(len(targets), dtype=np.int64)
    for row, (ranked, target) in enumerate(zip(rankings, targets, strict=True)):
        if target < 0:
            continue
        where = np.flatnonzero(np.asarray(ranked, dtype=np.int64) == target)
        if len(where):
            ranks[row] = int(where[0]) + 1
    return ranks


def summarize(ranks: np.ndarray, *, depth: int = 50) -> dict[str, float | int]:
    """recall@1/10/50, ndcg@10, mrr@10 and the number of samples, from target ranks (0 = miss).

    `depth` is the length of the rankings the ranks come from; recall@K for K > depth is not defined.
    """
    ranks = np.asarray(ranks, dtype=np.int64)
    n = len(ranks)
    out: dict[str, float | int] = {}
    found = ranks > 0
    for k in RECALL_KS:
        if k > depth:
            raise ValueError(f"recall@{k} needs rankings of at least {k} items, got {depth}")
        out[f"recall@{k}"] = float((found & (ranks <= k)).mean()) if n else 0.0
    top10 = found & (ranks <= 10)
    safe = np.where(top10, ranks, 1)
    out["ndcg@10"] = float(np.where(top10, 1.0 / np.log2(safe + 1.0), 0.0).mean()) if n else 0.0
    out["mrr@10"] = float(np.where(top10, 1.0 / safe, 0.0).mean()) if n else 0.0
    out["samples"] = n
    return out
