"""Choosing the fusion's method, depth, generator weights and repeat boost on validation samples.

Objective: NDCG@10 + Recall@10 + Recall@50 on `full` (with the boost) plus the same on `dedup` (context
movies excluded, no boost): the top of the list, the first page and the reach count alike, on both
protocols (Recall@1 alone is too noisy on a few hundred validation dialogues; NDCG@10 carries it).
Search: for each method (rrf with each rrf_k, weighted) and depth, coordinate ascent over a grid of weights
started from equal weights and from the best single generator; then a grid over the boost (seeker weight,
recommender weight, decay) for the best weights; then one more weight ascent under that boost. Plain RRF
with equal weights is always a candidate, so the choice is never worse on validation than untuned RRF.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from recsys.eval.redial_context import BoostConfig
from recsys.eval.redial_fusion import FusionPools, FusionSetting
from recsys.eval.redial_metrics import summarize

WEIGHT_GRID = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
BOOST_WEIGHTS = (0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 1.0, 2.0)
BOOST_DECAYS = (0.5, 0.7, 0.85, 1.0)


@dataclass(frozen=True)
class TuningSpace:
    """What the search tries."""

    methods: tuple[str, ...] = ("rrf",)  # "weighted" never won on the validation dialogues
    rrf_ks: tuple[float, ...] = (30.0, 60.0)
    depths: tuple[int, ...] = (500,)  # deep lists: every generator votes on many items (validation)
    weight_grid: tuple[float, ...] = WEIGHT_GRID
    boost_weights: tuple[float, ...] = BOOST_WEIGHTS
    boost_decays: tuple[float, ...] = BOOST_DECAYS
    rounds: int = 2
    start_boost: BoostConfig = field(default_factory=lambda: BoostConfig(0.2, 0.2, 0.7))


@dataclass(frozen=True)
class Tuned:
    """The chosen setting, its validation score and figures, and what else was tried."""

    setting: FusionSetting
    score: float
    names: tuple[str, ...]
    validation: dict[str, dict[str, float | int]]  # "full" / "dedup" figures of the chosen setting
    plain_rrf_score: float
    singles: dict[str, float]
    evaluations: int
    seconds: float
    candidates: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        s = self.setting
        return {
            "objective": "ndcg@10 + recall@10 + recall@50 on full (boosted) + the same on dedup",
            "method": s.method,
            "rrf_k": s.rrf_k,
            "depth": s.depth,
            "weights": dict(zip(self.names, s.weights, strict=True)),
            "boost": {"seeker": s.boost.seeker, "recommender": s.boost.recommender, "decay": s.boost.decay},
            "score": self.score,
            "plain_rrf_score": self.plain_rrf_score,
            "single_generator_scores": self.singles,
            "validation": self.validation,
            "evaluations": self.evaluations,
            "seconds": round(self.seconds, 2),
            "candidates": self.candidates,
        }


def _objective(ranks: np.ndarray) -> float:
    m = summarize(ranks)
    return float(m["ndcg@10"]) + float(m["recall@10"]) + float(m["recall@50"])


class _Evaluator:
    def __init__(self, full: Mapping[int, FusionPools], dedup: Mapping[int, FusionPools]) -> None:
        self.full, self.dedup = full, dedup
        self.count = 0
        self._dedup_cache: dict[tuple[str, float, int, tuple[float, ...]], float] = {}

    def __call__(self, setting: FusionSetting) -> float:
        self.count += 1
        full = _objective(self.full[setting.depth].ranks(setting))
        key = (setting.method, setting.rrf_k, setting.depth, setting.weights)
        if key not in self._dedup_cache:  # the boost does not change dedup (nothing boostable there)
            plain = replace(setting, boost=BoostConfig())
            self._dedup_cache[key] = _objective(self.dedup[setting.depth].ranks(plain))
        return full + self._dedup_cache[key]


def _ascent(
    evaluate: Callable[[FusionSetting], float], start: FusionSetting, grid: Sequence[float], rounds: int
) -> tuple[FusionSetting, float]:
    best, best_score = start, evaluate(start)
    for _ in range(rounds):
        improved = False
        for g in range(len(best.weights)):
            for value in grid:
                if value == best.weights[g]:
                    continue
                weights = list(best.weights)
                weights[g] = value
                if not any(w > 0 for w in weights):
                    continue
                trial = replace(best, weights=tuple(weights))
                score = evaluate(trial)
                if score > best_score + 1e-12:
                    best, best_score, improved = trial, score, True
        if not improved:
            break
    return best, best_score


def _boost_search(
    evaluate: Callable[[FusionSetting], float], setting: FusionSetting, space: TuningSpace
) -> tuple[FusionSetting, float]:
    best, best_score = setting, evaluate(setting)
    for seeker, recommender, decay in itertools.product(
        space.boost_weights, space.boost_weights, space.boost_decays
    ):
        trial = replace(setting, boost=BoostConfig(seeker=seeker, recommender=recommender, decay=decay))
        score = evaluate(trial)
        if score > best_score + 1e-12:
            best, best_score = trial, score
    return best, best_score


def tune_fusion_setting(
    names: Sequence[str],
    full: Mapping[int, FusionPools],
    dedup: Mapping[int, FusionPools],
    space: TuningSpace | None = None,
) -> Tuned:
    """Search `space` on validation pools (one per depth in space.depths, for full and for dedup)."""
    started = time.perf_counter()
    space = space or TuningSpace()
    evaluate = _Evaluator(full, dedup)
    n = len(names)
    ones = (1.0,) * n
    plain = FusionSetting("rrf", 60.0, space.depths[0], ones, space.start_boost)
    plain_score = evaluate(plain)
    singles = {}
    for g, name in enumerate(names):
        onehot = tuple(1.0 if j == g else 0.0 for j in range(n))
        singles[name] = evaluate(replace(plain, weights=onehot))
    best_single = max(range(n), key=lambda g: singles[names[g]])
    candidates: list[tuple[FusionSetting, float, str]] = [(plain, plain_score, "rrf (equal weights)")]
    for method in space.methods:
        for rrf_k in space.rrf_ks if method == "rrf" else (60.0,):
            for depth in space.depths:
                starts = [ones, tuple(1.0 if j == best_single else 0.0 for j in range(n))]
                found = [
                    _ascent(
                        evaluate,
                        FusionSetting(method, float(rrf_k), depth, w, space.start_boost),
                        space.weight_grid,
                        space.rounds,
                    )
                    for w in starts
                ]
                setting, score = max(found, key=lambda pair: pair[1])
                candidates.append((setting, score, f"{method} k={rrf_k:g} depth={depth}"))
            for pools in (*full.values(), *dedup.values()):
                pools.drop()  # bounded memory: one (method, rrf_k) cached at a time
    setting, score, _ = max(candidates, key=lambda c: c[1])
    setting, score = _boost_search(evaluate, setting, space)
    setting, score = _ascent(evaluate, setting, space.weight_grid, 1)
    candidates.append((setting, score, "chosen (after the boost search)"))
    chosen_full = full[setting.depth].ranks(setting)
    chosen_dedup = dedup[setting.depth].ranks(replace(setting, boost=BoostConfig()))
    return Tuned(
        setting=setting,
        score=score,
        names=tuple(names),
        validation={"full": summarize(chosen_full), "dedup": summarize(chosen_dedup)},
        plain_rrf_score=plain_score,
        singles=singles,
        evaluations=evaluate.count,
        seconds=time.perf_counter() - started,
        candidates=[
            {"label": label, "score": sc, "weights": dict(zip(names, s.weights, strict=True))}
            for s, sc, label in candidates
        ],
    )
