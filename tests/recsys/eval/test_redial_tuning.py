"""Fusion tuning on constructed pools: it must find the informative generator and the repeat boost."""

from __future__ import annotations

import numpy as np

from recsys.eval.redial_fusion import FusionPools
from recsys.eval.redial_tuning import TuningSpace, tune_fusion_setting
from recsys.models.types import Recommendations

N_ITEMS, N = 200, 80
SPACE = TuningSpace(
    methods=("rrf",), rrf_ks=(60.0,), depths=(20,), weight_grid=(0.0, 1.0, 2.0), rounds=1,
    boost_weights=(0.0, 0.5, 2.0), boost_decays=(1.0,),
)  # fmt: skip


def _list(items: np.ndarray) -> Recommendations:
    return Recommendations(items.astype(np.int64), np.linspace(1.0, 0.5, len(items)).astype(np.float32))


def _case(seed: int = 0):
    """Half the targets are the (only) context movie, the others are ranked 2nd by `good`; `noise` is random
    and `pop` always ranks the same items first."""
    rng = np.random.default_rng(seed)
    targets = rng.choice(np.arange(100, N_ITEMS), size=N, replace=False)
    context = rng.choice(np.arange(0, 100), size=N)
    repeat = np.arange(N) % 2 == 0
    targets = np.where(repeat, context, targets)
    good, noise, pop = [], [], []
    for s in range(N):
        others = rng.permutation(np.setdiff1d(np.arange(N_ITEMS), [targets[s], context[s]]))
        first = others[:1] if repeat[s] else np.array([others[0], targets[s]])
        good.append(_list(np.concatenate([first, others[1:30]])[:30]))
        noise.append(_list(rng.permutation(np.setdiff1d(np.arange(N_ITEMS), [targets[s]]))[:30]))
        pop.append(_list(np.setdiff1d(np.arange(150, 200), [targets[s]])[:30]))
    ages = [{int(c): (1.0, np.inf)} for c in context]
    return [good, noise, pop], targets, ages, repeat, context


def test_tuning_prefers_the_informative_generator_and_boosts_context_movies() -> None:
    lists, targets, ages, repeat, context = _case()
    mask = np.ones(N_ITEMS, dtype=bool)
    full = FusionPools(lists, targets, 20, boost_ages=ages, candidates=mask)
    rows = np.flatnonzero(~repeat)
    dedup = FusionPools(
        [[lst[i] for i in rows] for lst in lists],
        targets[rows],
        20,
        exclusions=[np.array([context[i]]) for i in rows],
    )
    tuned = tune_fusion_setting(["good", "noise", "pop"], {20: full}, {20: dedup}, SPACE)
    w = dict(zip(tuned.names, tuned.setting.weights, strict=True))
    assert w["good"] > 0 and w["noise"] == 0 and w["pop"] == 0
    # the seeker's context movie is the target half of the time: only a boost above every fused score
    # (rrf contributions are <= 1) puts it first
    assert tuned.setting.boost.seeker == 2.0
    full_fig = tuned.validation["full"]
    # every repeat target is boosted to rank 1; every other target is 2nd in `good`'s list
    assert full_fig["recall@1"] == 0.5 and full_fig["recall@10"] == 1.0
    assert tuned.validation["dedup"]["recall@1"] == 0.0 and tuned.validation["dedup"]["recall@10"] == 1.0
    assert tuned.score >= tuned.plain_rrf_score
    assert tuned.singles["good"] > tuned.singles["noise"]
    assert tuned.as_dict()["weights"] == w
