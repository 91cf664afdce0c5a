"""The fusion ranker on ReDial samples: every generator is asked once, every fused ranking follows from that.

`generator_lists` asks each generator for its top `depth + extra` list per profile (restricted to the ReDial
movies, nothing filtered). A generator's list with some items excluded is the same list with those items
removed (the contract's top-k is a total order: score, then item index), so one pass serves both `full`
(no exclusion) and `dedup` (the context's movies excluded).

`FusionPools` holds, per sample, the union of the generators' top-`depth` lists plus the boostable context
movies, and ranks them exactly as `FusionRanker.recommend(..., item_boost=...)` does (same contributions,
same order of additions, same tie-break by item index): this is how the fusion's weights and the repeat
boost are tuned on validation samples cheaply, and how the ablations are computed. The benchmark checks the
equivalence against the real `FusionRanker` on a subset of the test samples.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from recsys.eval.redial_context import BoostConfig, boost_value, repeat_boost
from recsys.models.base import Recommender
from recsys.models.fusion import FusionRanker
from recsys.models.lists import contributions
from recsys.models.types import Profile, Recommendations, TrainData

_PAD = np.iinfo(np.int64).max  # item id of padding slots (sorts last, never a target)


@dataclass(frozen=True)
class FusionSetting:
    """A fused ranking: method, rrf_k, depth, one weight per generator (in pool order), repeat boost."""

    method: str
    rrf_k: float
    depth: int
    weights: tuple[float, ...]
    boost: BoostConfig = field(default_factory=BoostConfig)


def generator_lists(
    generator: Recommender,
    profiles: Sequence[Profile],
    candidates: np.ndarray,
    k: int,
    *,
    batch_size: int = 512,
    show_progress: bool = False,
    desc: str = "",
) -> list[Recommendations]:
    """Top-k of every profile (no exclusion, nothing filtered), in batches, without provenance."""
    out: list[Recommendations] = []
    starts = range(0, len(profiles), batch_size)
    bar = tqdm(starts, desc=desc or generator.name, unit="batch", disable=not show_progress, leave=False)
    for start in bar:
        batch = list(profiles[start : start + batch_size])
        recs = generator.recommend(profiles=batch, k=k, filter_seen=False, candidates=candidates)
        # keep items and scores only: the provenance (a dict and a Trace per item) would take gigabytes
        out.extend(Recommendations(r.items, r.scores) for r in recs)
    return out


def trim(rec: Recommendations, exclude: np.ndarray | None, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """(items, scores) of a list without the excluded items, cut to `depth`."""
    items, scores = rec.items, rec.scores
    if exclude is not None and len(exclude):
        keep = ~np.isin(items, exclude)
        items, scores = items[keep], scores[keep]
    return items[:depth], scores[:depth]


class FusionPools:
    """Per-sample candidate pools of one depth, for fast fused rankings (see the module docstring).

    lists: per generator, one Recommendations per sample (at least depth + len(exclusion) long).
    exclusions: per sample, items removed from every list (None: nothing excluded).
    boost_ages: per sample, boostable context item -> (seeker age, recommender age) (None: no boost).
    candidates: boolean mask of the items a boost may add (the ranked item set).
    """

    def __init__(
        self,
        lists: Sequence[Sequence[Recommendations]],
        targets: np.ndarray,
        depth: int,
        *,
        exclusions: Sequence[np.ndarray] | None = None,
        boost_ages: Sequence[Mapping[int, tuple[float, float]]] | None = None,
        candidates: np.ndarray | None = None,
    ) -> None:
        n_gen, n = len(lists), len(targets)
        self.depth, self.n_gen = depth, n_gen
        rows = [
            [trim(lists[g][s], None if exclusions is None else exclusions[s], depth) for g in range(n_gen)]
            for s in range(n)
        ]
        self.context: list[tuple[np.ndarray, list[tuple[float, float]]]] = []
        pools = []
        for s in range(n):
            ages = dict(boost_ages[s]) if boost_ages is not None else {}
            if candidates is not None:
                ages = {i: a for i, a in ages.items() if candidates[i]}
            ctx_items = np.fromiter(ages.keys(), dtype=np.int64, count=len(ages))
            self.context.append((ctx_items, list(ages.values())))
            pools.append(np.unique(np.concatenate([r[0] for r in rows[s]] + [ctx_items])))
        width = max([len(p) for p in pools] + [1])
        self.items = np.full((n, width), _PAD, dtype=np.int64)
        # generator-major (n_gen x n_samples x width): one generator's slice is contiguous
        self.present = np.zeros((n_gen, n, width), dtype=bool)
        self.rank = np.ones((n_gen, n, width), dtype=np.int32)
        self.scores = np.zeros((n_gen, n, width), dtype=np.float32)  # the generators' own scores
        self.ctx_slots: list[np.ndarray] = []
        for s, pool in enumerate(pools):
            self.items[s, : len(pool)] = pool
            for g, (items, scores) in enumerate(rows[s]):
                pos = np.searchsorted(pool, items)
                self.present[g, s, pos] = True
                self.rank[g, s, pos] = np.arange(1, len(items) + 1)
                self.scores[g, s, pos] = scores
            self.ctx_slots.append(np.searchsorted(pool, self.context[s][0]))
        self.targets = np.asarray(targets, dtype=np.int64)
        hit = self.items == self.targets[:, None]
        self.target_slot = np.where(hit.any(axis=1), hit.argmax(axis=1), -1)
        self._contrib: dict[tuple[str, float], np.ndarray] = {}
        self._boosts: dict[BoostConfig, np.ndarray] = {}

    def contrib(self, method: str, rrf_k: float) -> np.ndarray:
        """n_gen x n_samples x width contributions (`recsys.models.fusion.contributions`, 0 when absent);
        cached per (method, rrf_k) until `drop`."""
        key = (method, rrf_k if method == "rrf" else 0.0)
        if key not in self._contrib:
            if method == "rrf":
                value = (rrf_k + 1.0) / (rrf_k + self.rank.astype(np.float64))
            elif method == "weighted":
                value = self._minmax()
            else:
                contributions(method, np.empty(0), rrf_k)  # raises ConfigError naming the valid methods
            self._contrib[key] = np.where(self.present, value, 0.0)
        return self._contrib[key]

    def drop(self) -> None:
        """Forget the cached contributions (they take n_gen x n_samples x width floats each)."""
        self._contrib.clear()

    def _minmax(self) -> np.ndarray:
        """Each list's scores min-max normalised over the list, exactly as `contributions("weighted")`."""
        scores = self.scores.astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            lo = np.where(self.present, scores, np.inf).min(axis=2, keepdims=True)
            hi = np.where(self.present, scores, -np.inf).max(axis=2, keepdims=True)
            span = hi - lo
            flat = ~(span > 1e-12 * np.maximum(np.abs(hi), 1.0))  # also true for empty lists (nan)
            return np.where(flat, 1.0, (scores - lo) / np.where(flat, 1.0, span))

    def boost(self, config: BoostConfig) -> np.ndarray:
        """n_samples x width boost of the pool items (0 outside the context); the last two are cached."""
        if config not in self._boosts:
            out = np.zeros(self.items.shape, dtype=np.float64)
            if config.active:
                for s, (_, ages) in enumerate(self.context):
                    if ages:
                        out[s, self.ctx_slots[s]] = [boost_value(a, config) for a in ages]
            if len(self._boosts) >= 2:
                self._boosts.pop(next(iter(self._boosts)))
            self._boosts[config] = out
        return self._boosts[config]

    def fused(self, setting: FusionSetting) -> np.ndarray:
        """Fused scores (n_samples x width), -inf where an item is not ranked."""
        if setting.depth != self.depth or len(setting.weights) != self.n_gen:
            raise ValueError("the setting does not match these pools (depth or number of generators)")
        contrib = self.contrib(setting.method, setting.rrf_k)
        weights = np.asarray(setting.weights, dtype=np.float64)
        active = np.flatnonzero(weights > 0)
        total = np.zeros(self.items.shape, dtype=np.float64)
        for g in active:  # same order of additions as FusionRanker._fuse (absent items add exactly 0.0)
            total += weights[g] * contrib[g]
        fused = total / weights[active].sum()
        in_pool = self.present[active].any(axis=0)
        if setting.boost.active:
            boost = self.boost(setting.boost)
            fused = fused + boost
            in_pool |= boost > 0
        return np.where(in_pool, fused, -np.inf)

    def ranks(self, setting: FusionSetting, k: int = 50) -> np.ndarray:
        """1-based rank of each sample's target in the fused top-k (0: not in it)."""
        fused = self.fused(setting)
        n = len(self.targets)
        slot = self.target_slot
        rows = np.flatnonzero(slot >= 0)
        out = np.zeros(n, dtype=np.int64)
        if len(rows) == 0:
            return out
        ft = fused[rows, slot[rows]]
        ok = np.isfinite(ft)
        better = (fused[rows] > ft[:, None]) | (
            (fused[rows] == ft[:, None]) & (self.items[rows] < self.targets[rows, None])
        )
        rank = better.sum(axis=1) + 1
        out[rows] = np.where(ok & (rank <= k), rank, 0)
        return out

    def rankings(self, setting: FusionSetting, k: int = 50) -> list[np.ndarray]:
        """The fused top-k item lists (for checks against FusionRanker)."""
        fused = self.fused(setting)
        out = []
        for s in range(len(self.targets)):
            valid = np.flatnonzero(np.isfinite(fused[s]))
            order = valid[np.lexsort((self.items[s, valid], -fused[s, valid]))][:k]
            out.append(self.items[s, order])
        return out


def check_rows(n_samples: int, n_checked: int, seed: int) -> np.ndarray:
    """A seeded random subset of sample indices (sorted) to re-rank with the real FusionRanker."""
    n = min(max(n_checked, 0), n_samples)
    return np.sort(np.random.default_rng(seed).choice(n_samples, size=n, replace=False))


def check_against_ranker(
    generators: Mapping[str, Recommender],
    data: TrainData,
    setting: FusionSetting,
    samples: Any,
    pooled_full: Mapping[int, np.ndarray],
    pooled_dedup: Mapping[int, np.ndarray],
    candidates: np.ndarray,
    k: int,
) -> dict[str, int]:
    """Re-rank samples with a real FusionRanker configured as `setting` and count the top-k lists identical
    to the pooled ones. samples: an Encoded (profiles, queries, exclusions); pooled_full / pooled_dedup: row
    index -> the pools' top-k in `full` (boosted) / `dedup` (context excluded)."""
    fusion = FusionRanker(
        dict(generators),
        method=setting.method,  # type: ignore[arg-type]
        rrf_k=setting.rrf_k,
        depth=setting.depth,
        weights=list(setting.weights),
    )
    fusion.fit(data)  # the generators are fitted already: nothing is refitted
    rows, dedup_rows = sorted(pooled_full), sorted(pooled_dedup)
    boosts = [repeat_boost(samples.queries[i], data.n_items, setting.boost) for i in rows]
    real = fusion.recommend(
        profiles=[samples.profiles[i] for i in rows], k=k, filter_seen=False,
        candidates=candidates, item_boost=boosts,
    ) if rows else []  # fmt: skip
    real_d = fusion.recommend(
        profiles=[samples.profiles[i] for i in dedup_rows], k=k, filter_seen=False,
        candidates=candidates, exclude=[samples.exclusions[i] for i in dedup_rows],
    ) if dedup_rows else []  # fmt: skip
    same = sum(np.array_equal(r.items, pooled_full[i]) for r, i in zip(real, rows, strict=True))
    same_d = sum(np.array_equal(r.items, pooled_dedup[i]) for r, i in zip(real_d, dedup_rows, strict=True))
    return {
        "samples_full": len(rows),
        "identical_full": int(same),
        "samples_dedup": len(dedup_rows),
        "identical_dedup": int(same_d),
    }
