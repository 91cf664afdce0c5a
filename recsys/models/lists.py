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
# top_k_row: rows at least this wide are first cut at a threshold from every _SAMPLE_STEP-th value,
# chosen so that about _SAMPLE_SURPLUS x k values reach it
_SAMPLE_MIN_WIDTH = 2048
_SAMPLE_STEP = 16
_SAMPLE_SURPLUS = 3


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
    *,
    keep: Sequence[np.ndarray] | None = None,
    checked: bool = False,
) -> list[TopList]:
    """One generator's top-`depth` (items, scores) per row, best first, ties by item index, without
    `blocked` items and restricted to `allowed`. Uses the generator's dense scores and a vectorised top-k
    (no per-item Trace objects); a generator that overrides `recommend` is asked through it instead.

    For the fusion, which queries several generators with the same rows: `keep` is the rows' masks of
    the items that may be returned (`keep_masks(n_items, blocked, allowed)`, computed once for all of
    them), and `checked=True` says the profiles were validated already (not again per generator)."""
    if type(gen).recommend is not Recommender.recommend:
        cand = None if allowed is None else np.flatnonzero(allowed)
        recs = gen.recommend(
            users, profiles=profiles, k=depth, exclude=blocked, filter_seen=False, candidates=cand
        )
        return [(r.items, r.scores) for r in recs]
    if users is not None:
        raw = gen.score_users(users)
    elif checked and type(gen).score_profiles is Recommender.score_profiles:
        raw = gen.route_profiles(profiles)  # type: ignore[arg-type]
    else:
        raw = gen.score_profiles(profiles)  # type: ignore[arg-type]
    if len(blocked) == 1:
        mask = keep[0] if keep is not None else keep_masks(raw.shape[1], blocked, allowed)[0]
        return [_top_list_row(np.asarray(raw[0], dtype=np.float32), depth, mask)]
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


def keep_masks(n_items: int, blocked: Sequence[np.ndarray], allowed: np.ndarray | None) -> list[np.ndarray]:
    """Per row, a bool mask of the items that may be returned: `allowed` (all when None) minus `blocked`."""
    out = []
    for b in blocked:
        mask = np.ones(n_items, dtype=bool) if allowed is None else np.array(allowed, dtype=bool, copy=True)
        mask[b] = False
        out.append(mask)
    return out


def _top_list_row(row: np.ndarray, depth: int, keep: np.ndarray) -> TopList:
    """`top_lists` for one query (the dialogue's case): the top `depth` of the row with the items
    outside `keep` at -inf, without the -inf ones (the masked path's result, one row at a time)."""
    masked = np.where(keep, row, np.float32(-np.inf))
    cols = top_k_columns(masked[None, :], min(depth, len(masked)))[0]
    vals = masked[cols]
    n_finite = int(np.count_nonzero(np.isfinite(vals)))  # -inf sorts last
    return cols[:n_finite].astype(np.int64, copy=False), vals[:n_finite]


def top_k_columns(values: np.ndarray, k: int) -> np.ndarray:
    """Per row, the columns of the k largest values, best first, ties by lower column. The same as a
    stable full sort's first k columns, but O(width) per row plus a sort of k."""
    n_rows, width = values.shape
    if width <= k:
        return np.argsort(-values, axis=1, kind="stable")
    if n_rows == 1:  # the dialogue's case: 3x faster than the masks below for one row
        return top_k_row(values[0], k)[None, :]
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


def top_k_row(row: np.ndarray, k: int) -> np.ndarray:
    """The columns of one row's k largest values (1 <= k < len(row)), best first, ties by lower column.

    A long row is first cut to the candidates at or above a threshold taken from a strided sample (about
    `_SAMPLE_SURPLUS` x k of them): when at least k items reach it, the k-th best value reaches it too,
    so every item of the top k (and every item tied with the k-th) is a candidate and the result is
    exactly that of the whole row; otherwise the whole row is used. When fewer than k candidates lie
    strictly above the threshold, the threshold is the k-th value itself and no partition is needed (the
    usual case for sparse models, whose rows are mostly zeros); when k or more do, the k-th value is
    above it and only those are partitioned."""
    width = len(row)
    cand: np.ndarray | None = None
    if width >= _SAMPLE_MIN_WIDTH and k * _SAMPLE_STEP <= width:
        sample = np.sort(row[::_SAMPLE_STEP])  # NaN last: a NaN threshold leaves no candidate
        threshold = sample[len(sample) - 1 - min(len(sample) - 1, (_SAMPLE_SURPLUS * k) // _SAMPLE_STEP)]
        cand = np.flatnonzero(row >= threshold)
        if len(cand) < k:
            cand = None
        else:
            above = row[cand] > threshold
            n_above = int(np.count_nonzero(above))
            if n_above < k:  # the k-th best value is the threshold: above it, then the first ties
                cols = np.concatenate([cand[above], cand[~above][: k - n_above]])
                return cols[np.lexsort((cols, -row[cols]))]
            cand = cand[above]
    values = row if cand is None else row[cand]
    kth = -np.partition(-values, k - 1)[k - 1]  # (numpy partitions faster near the start, see base._top_k)
    above_idx = np.flatnonzero(values > kth)
    cols = np.concatenate([above_idx, np.flatnonzero(values == kth)[: k - len(above_idx)]])
    if cand is not None:
        cols = cand[cols]
    return cols[np.lexsort((cols, -row[cols]))]
