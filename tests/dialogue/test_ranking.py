"""Ranking conditioned on the dialogue state: seeds, dislikes, exclusions, critiques, profiles, presets."""

from __future__ import annotations

import numpy as np
import pytest

from dialogue.catalog_index import CatalogIndex
from dialogue.preferences import ActiveCritique, Preferences
from dialogue.ranking import RankedItem, RankingWeights, RankOnce, StateRanker, reweighted
from dialogue.state import (
    AttributePreferred,
    CritiqueGiven,
    Event,
    ItemMentioned,
    ItemRejected,
    ItemsRecommended,
    SessionStarted,
    SlotSet,
    UserProfile,
)
from dialogue.state.state import DialogueState
from recsys.errors import ConfigError
from recsys.models.fusion import FusionRanker
from recsys.models.itemknn import ItemKNN
from tests.dialogue.world import CLUSTERS, HORROR, ID, SCI_FI, WAR

N = 29  # items in the world


def state_of(*events: Event) -> DialogueState:
    return DialogueState.start(SessionStarted("s1")).apply_all(events)


def liked(title: str) -> ItemMentioned:
    return ItemMentioned(item_id=ID[title], polarity="liked", turn=1)


@pytest.fixture(params=["fusion", "knn"])
def ranker(
    request: pytest.FixtureRequest, world_fusion: FusionRanker, world_knn: ItemKNN, world_index: CatalogIndex
):
    """Both paths: the fusion's boost hook, and re-ranking the top-N of a plain Recommender."""
    model = world_fusion if request.param == "fusion" else world_knn
    r = StateRanker(model, world_index)
    assert r.boost_hook == (request.param == "fusion")
    return r


def ids(ranked) -> list[int]:
    return [r.item_id for r in ranked]


def test_a_liked_movies_cluster_comes_first(ranker: StateRanker) -> None:
    top = ids(ranker.rank(Preferences.from_state(state_of(liked("The Matrix"))), 5))
    assert set(top) <= SCI_FI - {ID["The Matrix"]}
    assert ID["The Matrix"] not in top


def test_disliked_items_are_never_recommended(ranker: StateRanker) -> None:
    state = state_of(
        liked("The Matrix"), ItemMentioned(item_id=ID["Blade Runner"], polarity="disliked", turn=1)
    )
    everything = ids(ranker.rank(Preferences.from_state(state), N))
    assert ID["Blade Runner"] not in everything
    assert len(everything) == N - 2  # every other movie can still come up


def test_a_disliked_genre_never_comes_up(ranker: StateRanker) -> None:
    state = state_of(
        ItemMentioned(item_id=ID["The Shining"], polarity="liked", turn=1),  # even with a horror seed
        AttributePreferred(attribute="genre:horror", polarity="disliked", turn=2),
    )
    everything = ids(ranker.rank(Preferences.from_state(state), N))
    assert not set(everything) & HORROR
    assert len(everything) == N - len(HORROR)


def test_shown_and_rejected_items_are_not_repeated_unless_asked(ranker: StateRanker) -> None:
    first = ids(ranker.rank(Preferences.from_state(state_of(liked("The Matrix"))), 3))
    state = state_of(
        liked("The Matrix"),
        ItemsRecommended(turn=1, item_ids=tuple(first), scores=(0.9, 0.8, 0.7)),
        ItemRejected(turn=2, item_id=first[0]),
    )
    prefs = Preferences.from_state(state)
    again = ids(ranker.rank(prefs, N))
    assert not set(again) & set(first)
    assert set(ids(ranker.rank(prefs, N, allow_shown=True))) >= set(first)


def test_more_recent_puts_newer_movies_first(ranker: StateRanker, world_index: CatalogIndex) -> None:
    base = state_of(liked("The Matrix"))
    plain = ids(ranker.rank(Preferences.from_state(base), 4))
    recent = ids(
        ranker.rank(
            Preferences.from_state(
                base.copy().apply(CritiqueGiven(turn=2, dimension="recency", direction="more"))
            ),
            4,
        )
    )
    years = world_index.years
    assert np.mean(years[recent]) > np.mean(years[plain])
    assert recent[0] in {ID["Arrival"], ID["Interstellar"], ID["Inception"]}  # the newest sci-fi
    # the comparative form also narrows the window (the manager sets year_min): nothing older comes up
    window = base.copy().apply(SlotSet(name="year_min", value=2000))
    everything = ids(ranker.rank(Preferences.from_state(window), N))
    assert everything and all(years[i] >= 2000 for i in everything)


def test_less_violent_drops_violent_movies(ranker: StateRanker, world_index: CatalogIndex) -> None:
    violent = set(world_index.groups["violent"].tolist())
    assert {ID["The Matrix"], ID["Inception"], ID["Saving Private Ryan"], ID["The Shining"]} <= violent
    base = state_of(liked("Blade Runner"))
    plain = ids(ranker.rank(Preferences.from_state(base), 5))
    assert set(plain) & violent  # The Matrix / Inception are close to Blade Runner
    critique = CritiqueGiven(turn=2, dimension="violence", direction="less")
    calmer = ids(ranker.rank(Preferences.from_state(base.copy().apply(critique)), 5))
    assert not set(calmer) & violent
    assert len(set(calmer) & SCI_FI) >= 4  # still Blade Runner's neighbours, the calm ones


def test_like_x_but_funnier_anchors_on_x_and_boosts_comedy(ranker: StateRanker) -> None:
    state = state_of(
        CritiqueGiven(turn=1, dimension="humor", direction="more", reference_item=ID["The Matrix"])
    )
    prefs = Preferences.from_state(state)
    assert prefs.reference_items == (ID["The Matrix"],)
    top = ids(ranker.rank(prefs, 2))
    assert set(top) == {ID["Men in Black"], ID["Galaxy Quest"]}  # the sci-fi comedies


def test_liked_attributes_alone_rank_matching_movies(ranker: StateRanker, world_index: CatalogIndex) -> None:
    state = state_of(AttributePreferred(attribute="genre:war", polarity="liked", turn=1))
    top = ids(ranker.rank(Preferences.from_state(state), 4))
    assert top == sorted(WAR, key=lambda i: (-world_index.popularity[i], i))  # the best known first
    both = state.copy().apply(AttributePreferred(attribute="genre:action", polarity="liked", turn=1))
    top = ids(ranker.rank(Preferences.from_state(both), 3))
    assert top[0] == ID["Dunkirk"]  # the only war + action movie: matches both wishes


def test_profile_likes_are_weaker_seeds_and_profile_dislikes_hold(ranker: StateRanker) -> None:
    profile = UserProfile(user_id="u")
    profile.liked_items.add(ID["Saving Private Ryan"])
    profile.disliked_attributes.add("genre:comedy")
    prefs = Preferences.from_state(state_of(), profile)
    top = ids(ranker.rank(prefs, 3))
    assert set(top) <= WAR - {ID["Saving Private Ryan"]}
    session_like = Preferences.from_state(state_of(liked("Toy Story")), profile)
    assert session_like.seed_items[0] == ID["Toy Story"]  # the session's own like comes first
    top = ids(ranker.rank(session_like, N))
    assert ID["Saving Private Ryan"] not in top  # liked before: seen, not recommended again
    assert not {ID["Men in Black"], ID["Galaxy Quest"], ID["Shrek"]} & set(top)  # comedies stay out


def test_filters_that_leave_few_items_return_only_allowed_ones(ranker: StateRanker) -> None:
    events = [
        AttributePreferred(attribute=f"genre:{g}", polarity="disliked", turn=1)
        for g in ("sci-fi", "comedy", "horror", "war", "animation", "drama")
    ]
    some = ids(ranker.rank(Preferences.from_state(state_of(*events[:5])), 10))
    assert set(some) == {ID["Casablanca"], ID["Titanic"], ID["Before Sunrise"]}  # all that is left
    everything = ids(ranker.rank(Preferences.from_state(state_of(*events)), 10))
    assert everything == []  # nothing is left, and nothing is made up


def test_popularity_mode_ranks_allowed_items_by_popularity(world_fusion: FusionRanker, world_index) -> None:
    ranker = StateRanker(world_fusion, world_index, mode="popularity")
    state = state_of(liked("The Matrix"), AttributePreferred(attribute="genre:horror", polarity="disliked"))
    top = ids(ranker.rank(Preferences.from_state(state), 6))
    pop = world_index.popularity
    assert [pop[i] for i in top] == sorted((pop[i] for i in top), reverse=True)
    expected = [int(i) for i in world_index.by_popularity if i not in HORROR and i != ID["The Matrix"]][:6]
    assert top == expected


def test_reweighted_fusion_changes_weights_only(world_fusion: FusionRanker) -> None:
    only_knn = reweighted(world_fusion, {"ease": 0.0})
    assert only_knn is not world_fusion and [n for n, _, _ in only_knn.active] == ["itemknn"]
    assert world_fusion.weights.tolist() == [1.0, 1.0]
    assert reweighted(world_fusion, None) is world_fusion
    with pytest.raises(ConfigError, match="unknown generators"):
        reweighted(world_fusion, {"als": 1.0})


def test_weights_are_validated() -> None:
    with pytest.raises(ValueError, match="critique_penalty"):
        RankingWeights(critique_penalty=-1)


def test_clusters_are_what_the_world_says(world_knn: ItemKNN) -> None:
    """The world's premise: a movie's collaborative neighbours are the other movies of its cluster."""
    sim = world_knn.sim.toarray()
    for members in CLUSTERS.values():
        inside = np.ix_(members, members)
        assert (sim[inside] + np.eye(len(members)) > 0).all()  # every pair of a cluster co-occurs
        others = [i for i in range(N) if i not in members]
        assert not sim[np.ix_(members, others)].any()  # and no pair across clusters


def test_the_allowed_mask_is_exactly_the_items_without_a_disliked_attribute(
    ranker: StateRanker, world_index: CatalogIndex
) -> None:
    disliked = ("genre:horror", "genre:war", "genre:no-such-genre")
    state = state_of(*(AttributePreferred(attribute=a, polarity="disliked", turn=1) for a in disliked))
    allowed = ranker.conditioning(Preferences.from_state(state)).allowed
    expected = [not (world_index.item_attributes[i] & set(disliked)) for i in range(N)]
    assert allowed.tolist() == expected
    assert 0 < sum(expected) < N  # the world has items of both kinds


def _tied_fusion(world_data, depth: int) -> FusionRanker:
    """A fusion of two generators with known, heavily tied scores over the world's items."""
    from tests.recsys.models.test_lists import Fixed

    n = world_data.n_items
    a = (np.arange(n) % 3).astype(np.float32)  # 2, 1, 0 repeating: ties everywhere
    b = (np.arange(n)[::-1] % 4).astype(np.float32)
    return FusionRanker([Fixed("a", a), Fixed("b", b)], depth=depth).fit(world_data)


def test_a_ranking_is_the_head_of_any_deeper_one_within_the_prefix_depth(world_data, world_index) -> None:
    ranker = StateRanker(_tied_fusion(world_data, depth=12), world_index)
    assert ranker.prefix_depth == 12
    prefs = Preferences(
        liked_items=(ID["The Matrix"],),
        excluded_items=frozenset({ID["The Matrix"]}),
        liked_attributes=("genre:comedy",),  # a boost: items join through it, ties with fused ones
    )
    deep = ranker.rank(prefs, 12)
    for j in range(1, 12):
        assert ranker.rank(prefs, j) == deep[:j]
    shared = RankOnce(lambda d: ranker.rank(prefs, d), ranker.prefix_depth)
    assert shared(12) == deep and shared(5) == deep[:5] and shared(1) == deep[:1]
    assert shared.calls == 1


def test_rank_once_ranks_again_beyond_the_prefix_depth_or_when_deeper() -> None:
    asked: list[int] = []

    def rank(depth: int) -> list:
        asked.append(depth)
        return [RankedItem(i, 1.0 / (i + 1)) for i in range(depth)]

    shared = RankOnce(rank, prefix_depth=10)
    assert [r.item_id for r in shared(3)] == [0, 1, 2]
    assert [r.item_id for r in shared(8)] == list(range(8))  # deeper than what was ranked: again
    assert len(shared(5)) == 5 and asked == [3, 8]  # within both: the head of the 8
    beyond = RankOnce(rank, prefix_depth=10)
    beyond(50)
    assert len(beyond(5)) == 5 and asked == [3, 8, 50, 5]  # 50 > prefix depth: not a head of it
    assert len(beyond(50)) == 50 and asked == [3, 8, 50, 5]  # the same depth again: reused
    assert beyond.calls == 2


def test_prefix_depth_of_each_path(world_fusion, world_knn, world_index) -> None:
    assert StateRanker(world_fusion, world_index).prefix_depth == world_fusion.depth
    assert StateRanker(world_knn, world_index).prefix_depth == RankingWeights().depth
    assert StateRanker(world_knn, world_index, mode="popularity").prefix_depth > 10**6


def _reference_boost(prefs: Preferences, index: CatalogIndex, w: RankingWeights) -> np.ndarray:
    """The boost computed from scratch (no memoised critique effects)."""
    from dialogue.ranking import critique_effect

    boost = np.zeros(len(index))
    for attrs, weight in (
        (prefs.liked_attributes, w.attribute_boost),
        (prefs.profile_liked_attributes, w.profile_attribute_boost),
    ):
        known = [a for a in attrs if index.knows(a)]
        for a in known:
            boost[index.items_with(a)] += weight / len(known)
    for critique in prefs.critiques:
        boost += critique_effect(critique, index, w)
    positive = boost > 0
    boost[positive] += w.popularity_tiebreak * index.popularity_rank[positive]
    return boost


def test_memoised_critique_effects_give_the_reference_boost(
    world_knn: ItemKNN, world_index: CatalogIndex
) -> None:
    from dialogue.preferences import ActiveCritique

    ranker = StateRanker(world_knn, world_index)
    dims = ["recency", "popularity", "violence", "humor", "scariness", "darkness", "genre:horror", "length"]
    cases = [
        Preferences(critiques=(ActiveCritique(d, direction),), liked_attributes=attrs)
        for d in dims
        for direction in ("more", "less", "same")
        for attrs in ((), ("genre:sci-fi",), ("genre:war", "genre:no-such-genre"))
    ]
    cases.append(
        Preferences(critiques=(ActiveCritique("humor", "more"), ActiveCritique("recency", "less", 3, turn=2)))
    )
    for _ in range(2):  # the second pass is served from the memo
        for prefs in cases:
            got = ranker.conditioning(prefs).boost
            assert np.array_equal(got, _reference_boost(prefs, world_index, ranker.weights))
            got[:] = 1.0  # the caller may write into its boost; the memo must not change
    stronger = RankingWeights(critique_boost=0.5, critique_penalty=0.9)
    ranker.weights = stronger  # new weights are part of the memo's key
    prefs = Preferences(critiques=(ActiveCritique("violence", "less"), ActiveCritique("recency", "more")))
    assert np.array_equal(ranker.conditioning(prefs).boost, _reference_boost(prefs, world_index, stronger))


def test_cold_start_top_k_is_the_head_of_the_fully_sorted_allowed_items(ranker: StateRanker) -> None:
    """The cold start sorts only its top k: the same items, scores and ties (lower id first) as a full
    sort of every allowed item by score, then id, at every k."""
    prefs = Preferences(
        liked_attributes=("genre:comedy",),
        disliked_attributes=("genre:horror",),
        critiques=(ActiveCritique("recency", "more", None, 1),),
    )
    cond = ranker.conditioning(prefs)
    score = cond.boost + ranker.weights.cold_start_popularity * ranker.index.popularity_rank
    allowed = np.flatnonzero(cond.allowed)
    full = allowed[np.lexsort((allowed, -score[allowed]))]
    assert len(full) < N and not set(full.tolist()) & HORROR
    for k in range(1, len(full) + 3):
        ranked = ranker.rank(prefs, k)
        assert ids(ranked)[: len(full)] == full[:k].tolist()
        assert [r.score for r in ranked[: len(full)]] == score[full[:k]].tolist()
