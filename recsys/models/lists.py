"""The building blocks of fusion: each generator's top list per query, and what a list position
contributes to a fused score (`recsys.models.fusion.FusionRanker` and `recsys.eval.fusion_tuning` use them).

- `blocked_items`: per query, the items never to return (seen items, explicit exclusions);
- `top_lists`: one generator's top-`depth` (items, scores) per query, from its dense scores with a
  vectorised top-k (`top_k_columns`), without per-item provenance objects;
- `contributions`: a ranked list's per-position contribution in [0, 1] ("rrf" or "weighted").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import scipy.sparse as sp

from recsys.errors import ConfigError
from recsys.models.base import Recommender
from recsys.models.types import Profile

FusionMethod = Literal["rrf", "weighted"]
FUSION_METHODS: tuple[str, ...] = ("rrf", "weighted")
TopList = tuple[np.ndarray, np.ndarray]  # one generator's list for one query: items (int64), scores
_FEW_BLOCKED = 4  # one-row queries blocking at most this x depth items take the unmasked path


def contributions(method: str, scores: np.ndarray, rrf_k: float) -> np.ndarray:
    """Per-position contribution in [0, 1] of one generator's ranked list (scores in rank order)."""
    n = len(scores)
    if method == "rrf":
        return ((rrf_k + 1.0) / (rrf_k + np.arange(1, n + 1, dtype=np.float64))).astype(np.float64)
    if method == "weighted":
        s = np.asarray(scores, dtype=np.float64)
        if n == 0:
            return s
        lo, hi = float(s.min()), float(s.max())
        return np.ones(n) if hi - lo <= 1e-12 * max(abs(hi), 1.0) else (s - lo) / (hi - lo)
    raise ConfigError(f"unknown fusion method {method!r}; valid: {', '.join(FUSION_METHODS)}")


def blocked_items(
    user_items: sp.csr_matrix,
    users: np.ndarray | None,
    profiles: Sequence[Profile] | None,
    exclude: Sequence[Sequence[int]] | None,
    filter_seen: bool,
) -> list[np.ndarray]:
    """Per query row, the items never to return: seen items (a user's training items, or a profile's
    liked and disliked items) when filter_seen, plus the row's `exclude`."""
    n_rows = len(users) if users is not None else len(profiles)  # type: ignore[arg-type]
    out = []
    for row in range(n_rows):
        parts = [np.asarray(exclude[row], dtype=np.int64)] if exclude is not None else []
        if filter_seen and users is not None:
            u = users[row]
            parts.append(user_items.indices[user_items.indptr[u] : user_items.indptr[u + 1]].astype(np.int64))
        elif filter_seen:
            p = profiles[row]  # type: ignore[index]
            parts.append(np.asarray(p.liked_items + p.disliked_items, dtype=np.int64))
        out.append(np.concatenate(parts) if parts else np.empty(0, np.int64))
    return out


def top_lists(
    gen: Recommender,
    users: np.ndarray | None,
    profiles: Sequence[Profile] | None,
    depth: int,
    blocked: Sequence[np.ndarray],
    allowed: np.ndarray | None,
) -> list[TopList]:
    """One generator's top-`depth` (items, scores) per row, best first, ties by item index, without
    `blocked` items and restricted to `allowed`. Uses the generator's dense scores and a vectorised top-k
    (no per-item Trace objects); a generator that overrides `recommend` is asked through it instead."""
    if type(gen).recommend is not Recommender.recommend:
        cand = None if allowed is None else np.flatnonzero(allowed)
        recs = gen.recommend(
            users, profiles=profiles, k=depth, exclude=blocked, filter_seen=False, candidates=cand
        )
        return [(r.items, r.scores) for r in recs]
    raw = gen.score_users(users) if users is not None else gen.score_profiles(profiles)  # type: ignore[arg-type]
    if len(blocked) == 1 and len(blocked[0]) <= _FEW_BLOCKED * depth:
        return [_top_list_row(np.asarray(raw[0], dtype=np.float32), depth, blocked[0], allowed)]
    scores = np.array(raw, dtype=np.float32, copy=True)
    if allowed is not None:
        scores[:, ~allowed] = -np.inf
    lengths = [len(b) for b in blocked]
    if sum(lengths):
        scores[np.repeat(np.arange(len(blocked)), lengths), np.concatenate(blocked)] = -np.inf
    cols = top_k_columns(scores, depth)
    vals = np.take_along_axis(scores, cols, axis=1)
    n_finite = np.isfinite(vals).sum(axis=1)  # -inf sorts last
    return [(cols[r, : n_finite[r]].astype(np.int64), vals[r, : n_finite[r]]) for r in range(len(cols))]


def _top_list_row(row: np.ndarray, depth: int, blocked: np.ndarray, allowed: np.ndarray | None) -> TopList:
    """`top_lists` for one query (the dialogue's case), without a copy of the score row masked with
    -inf: the top depth + len(blocked) of the allowed items in the same total order (score descending,
    then item index), minus the blocked ones. Identical to masking first, since removing items from a
    total order keeps the relative order of the others."""
    cand = None if allowed is None else np.flatnonzero(allowed)
    values = row if cand is None else row[cand]
    cols = top_k_columns(values[None, :], min(depth + len(blocked), len(values)))[0]
    if cand is not None:
        cols = cand[cols]
    if len(blocked):
        unblocked = np.ones(len(row), dtype=bool)  # a mask: cheaper than np.isin's sort for few items
        unblocked[blocked] = False
        cols = cols[unblocked[cols]]
    cols = cols[:depth]
    vals = row[cols]
    n_finite = int(np.isfinite(vals).sum())  # -inf sorts last, as in the masked path
    return cols[:n_finite].astype(np.int64, copy=False), vals[:n_finite]


def top_k_columns(values: np.ndarray, k: int) -> np.ndarray:
    """Per row, the columns of the k largest values, best first, ties by lower column. The same as a
    stable full sort's first k columns, but O(width) per row plus a sort of k."""
    n_rows, width = values.shape
    if width <= k:
        return np.argsort(-values, axis=1, kind="stable")
    if n_rows == 1:  # the dialogue's case: 3x faster than the masks below for one row
        row = values[0]
        kth = -np.partition(-row, k - 1)[k - 1]  # (numpy partitions faster near the start, see base._top_k)
        above = np.flatnonzero(row > kth)
        cols = np.concatenate([above, np.flatnonzero(row == kth)[: k - len(above)]])
        return cols[np.lexsort((cols, -row[cols]))][None, :]
    kth = np.partition(values, width - k, axis=1)[:, width - k : width - k + 1]
    above = values > kth
    ties = values == kth
    need = k - above.sum(axis=1, keepdims=True)
    chosen = above | ties
    crowded = np.flatnonzero(ties.sum(axis=1) > need[:, 0])  # rows where only the first ties fit
    if len(crowded):
        t = ties[crowded]
        chosen[crowded] = above[crowded] | (t & (np.cumsum(t, axis=1) <= need[crowded]))
    cols = np.nonzero(chosen)[1].reshape(n_rows, k)  # ascending column order within each row
    ranked = np.argsort(-np.take_along_axis(values, cols, axis=1), axis=1, kind="stable")
    return np.take_along_axis(cols, ranked, axis=1)
