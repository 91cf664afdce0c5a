"""Evaluate any Recommender on a split: batch top-K over the full catalog, then the ranking metrics.

Only the Recommender contract is used: `recommend(users=..., k=..., exclude=...)` with `filter_seen=True`
removes each user's training items; validation items are excluded too when testing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from tqdm.auto import tqdm

from recsys.eval.metrics import ranking_metrics
from recsys.eval.splits import EvalSplit, Stage
from recsys.models.base import Recommender


def rank_users(
    model: Recommender,
    split: EvalSplit,
    users: np.ndarray,
    *,
    stage: Stage,
    k: int,
    batch_size: int = 256,
    show_progress: bool = False,
    desc: str = "ranking",
) -> list[np.ndarray]:
    """Top-k item indices for each user (batch recommend), with the stage's exclusions applied."""
    out: list[np.ndarray] = []
    starts = range(0, len(users), batch_size)
    for start in tqdm(starts, desc=desc, unit="batch", disable=not show_progress, leave=False):
        batch = users[start : start + batch_size]
        recs = model.recommend(batch, k=k, exclude=split.excluded(stage, batch), filter_seen=True)
        out.extend(r.items for r in recs)
    return out


def truth_lists(split: EvalSplit, stage: Stage, users: np.ndarray) -> list[np.ndarray]:
    """Held-out item indices of each user in the stage."""
    truth = split.truth(stage)
    return [truth.indices[truth.indptr[u] : truth.indptr[u + 1]] for u in users]


def evaluate_model(
    model: Recommender,
    split: EvalSplit,
    *,
    stage: Stage = "test",
    ks: Sequence[int] = (10, 20),
    users: np.ndarray | None = None,
    batch_size: int = 256,
    show_progress: bool = False,
) -> dict[str, float]:
    """Metrics of a fitted model on the stage's held-out items (users without any are skipped)."""
    if users is None:
        users = split.users_with_truth(stage)
    rankings = rank_users(
        model,
        split,
        users,
        stage=stage,
        k=max(ks),
        batch_size=batch_size,
        show_progress=show_progress,
        desc=f"{model.name} {stage}",
    )
    return ranking_metrics(
        rankings,
        truth_lists(split, stage, users),
        ks=ks,
        n_items=split.n_items,
        popularity=split.train.item_popularity(),
    )
