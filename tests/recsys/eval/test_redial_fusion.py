"""The pooled fusion ranks exactly as FusionRanker.recommend (boost, exclusions, candidates, both methods)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from dialogue.understanding.types import Polarity
from recsys.eval.redial_context import BoostConfig, ContextQuery, MentionEvent, boost_ages, repeat_boost
from recsys.eval.redial_fusion import FusionPools, FusionSetting, generator_lists, trim
from recsys.eval.redial_generators import CoMention, MentionPopularity
from recsys.eval.redial_metrics import target_ranks
from recsys.models.fusion import FusionRanker
from recsys.models.itemknn import ItemKNN
from recsys.models.types import Profile, TrainData

N_ITEMS, DEPTH, K = 40, 12, 10


def _data(seed: int = 0) -> TrainData:
    ui = sp.random(30, N_ITEMS, density=0.2, random_state=seed, format="csr")
    ui.data[:] = 1.0
    co = sp.random(N_ITEMS, N_ITEMS, density=0.1, random_state=seed + 1)
    co = sp.csr_matrix(co + co.T)
    co.data = np.ceil(co.data * 3)
    co.setdiag(0)
    co.eliminate_zeros()
    return TrainData(user_items=ui, item_item=co)


@pytest.fixture(scope="module")
def setup():
    data = _data()
    rng = np.random.default_rng(1)
    occurrences = np.asarray((data.item_item > 0).sum(axis=1)).ravel() + 1.0
    gens = {
        "itemknn": ItemKNN(k_neighbors=10).fit(data),
        "comention": CoMention(occurrences).fit(data),
        "mention_pop": MentionPopularity(rng.integers(0, 20, N_ITEMS)).fit(data),
    }
    queries, profiles = [], []
    for _ in range(25):
        n_events = int(rng.integers(0, 5))
        events = tuple(
            MentionEvent(
                int(rng.integers(0, N_ITEMS)), pos, bool(rng.random() < 0.5),
                Polarity.DISLIKED if rng.random() < 0.15 else Polarity.LIKED, "at_id",
            )
            for pos in range(n_events)
        )  # fmt: skip
        queries.append(ContextQuery(position=n_events, events=events))
        liked = tuple(dict.fromkeys(e.item for e in events))
        profiles.append(Profile(liked_items=liked))
    candidates = np.sort(rng.choice(N_ITEMS, size=30, replace=False))
    targets = rng.integers(0, N_ITEMS, size=len(profiles))
    return data, gens, queries, profiles, candidates, targets


@pytest.mark.parametrize(
    ("method", "weights", "boost"),
    [
        ("rrf", (1.0, 1.0, 1.0), BoostConfig(0.3, 0.1, 0.7)),
        ("rrf", (2.0, 0.0, 0.5), BoostConfig(0.05, 0.2, 1.0)),
        ("weighted", (1.0, 0.25, 4.0), BoostConfig(0.5, 0.5, 0.5)),
        ("weighted", (0.0, 1.0, 0.0), BoostConfig()),
    ],
)
def test_pools_rank_like_the_fusion_ranker(setup, method: str, weights, boost: BoostConfig) -> None:
    data, gens, queries, profiles, candidates, targets = setup
    mask = np.zeros(N_ITEMS, dtype=bool)
    mask[candidates] = True
    exclusions = [np.asarray(q.items_by_recency(), dtype=np.int64) for q in queries]
    k_long = DEPTH + max(len(e) for e in exclusions)
    lists = [generator_lists(g, profiles, candidates, k_long, batch_size=7) for g in gens.values()]
    fusion = FusionRanker(gens, method=method, rrf_k=10, depth=DEPTH, weights=list(weights))  # type: ignore[arg-type]
    fusion.fit(data)
    setting = FusionSetting(method, 10.0, DEPTH, weights, boost)

    full = FusionPools(lists, targets, DEPTH, boost_ages=[boost_ages(q) for q in queries], candidates=mask)
    boosts = [repeat_boost(q, N_ITEMS, boost) for q in queries]
    real = fusion.recommend(
        profiles=profiles, k=K, filter_seen=False, candidates=candidates, item_boost=boosts
    )
    pooled = full.rankings(setting, K)
    for r, p in zip(real, pooled, strict=True):
        assert r.items.tolist() == p.tolist()
    assert full.ranks(setting, K).tolist() == target_ranks(pooled, targets).tolist()

    dedup = FusionPools(lists, targets, DEPTH, exclusions=exclusions)
    plain = FusionSetting(method, 10.0, DEPTH, weights)
    real_d = fusion.recommend(
        profiles=profiles, k=K, filter_seen=False, candidates=candidates, exclude=exclusions
    )
    pooled_d = dedup.rankings(plain, K)
    for r, p, ex in zip(real_d, pooled_d, exclusions, strict=True):
        assert r.items.tolist() == p.tolist()
        assert not set(p.tolist()) & set(ex.tolist())
    assert dedup.ranks(plain, K).tolist() == target_ranks(pooled_d, targets).tolist()


def test_trim_equals_recommend_with_exclusion(setup) -> None:
    _, gens, _, profiles, candidates, _ = setup
    gen = gens["itemknn"]
    long = gen.recommend(profiles=profiles[:5], k=20, filter_seen=False, candidates=candidates)
    excl = [np.asarray(candidates[:3]), None, np.asarray([candidates[5]]), np.zeros(0, np.int64), None]
    for rec, ex, profile in zip(long, excl, profiles[:5], strict=True):
        items, _ = trim(rec, ex, 8)
        direct = gen.recommend(
            profiles=[profile], k=8, filter_seen=False, candidates=candidates,
            exclude=[[] if ex is None else ex.tolist()],
        )[0]  # fmt: skip
        assert items.tolist() == direct.items.tolist()


def test_setting_must_match_the_pools(setup) -> None:
    _, gens, _, profiles, candidates, targets = setup
    lists = [generator_lists(g, profiles, candidates, DEPTH) for g in gens.values()]
    pools = FusionPools(lists, targets, DEPTH)
    with pytest.raises(ValueError):
        pools.ranks(FusionSetting("rrf", 60.0, DEPTH + 1, (1.0, 1.0, 1.0)))
    with pytest.raises(ValueError):
        pools.ranks(FusionSetting("rrf", 60.0, DEPTH, (1.0, 1.0)))
