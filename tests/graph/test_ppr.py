"""Personalized PageRank: the contract, the exact answer on a hand-built graph, seeds and dislikes."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from graph.ppr import PersonalizedPageRank
from recsys.errors import ValidationError
from recsys.models.base import Recommender
from recsys.models.types import Profile, TrainData
from tests.recsys.models.contract import RecommenderContract


class TestPPRContract(RecommenderContract):
    def make_model(self) -> Recommender:
        return PersonalizedPageRank()


# Hand-built graph: 6 items, no interactions worth a collaborative edge.
#   item 0: genre:x, director:d      item 1: genre:x      item 2: director:d
#   items 3, 4, 5: genre:y           co-mention 4 <-> 5 (count 2)
NAMES = ("genre:x", "genre:y", "director:d")


def hand_built() -> TrainData:
    ia = np.zeros((6, 3), dtype=np.float32)
    ia[0, [0, 2]] = 1
    ia[1, 0] = 1
    ia[2, 2] = 1
    ia[[3, 4, 5], 1] = 1
    ii = sp.csr_matrix(([2.0, 2.0], ([4, 5], [5, 4])), shape=(6, 6))
    ui = sp.csr_matrix(([1.0, 1.0], ([0, 1], [0, 3])), shape=(2, 6))
    return TrainData(ui, item_attributes=sp.csr_matrix(ia), attribute_names=NAMES, item_item=ii)


def reference_ppr(model: PersonalizedPageRank, restart: np.ndarray) -> np.ndarray:
    """Closed form x = alpha (I - (1 - alpha) P^T)^-1 r (no node of the hand-built graph is dangling)."""
    pt = model.transition_t_.toarray().astype(np.float64)
    a = model.alpha
    return a * np.linalg.solve(np.eye(len(pt)) - (1 - a) * pt, restart.astype(np.float64))


def test_transition_matrix_of_the_hand_built_graph() -> None:
    model = PersonalizedPageRank(collab_neighbors=0, attribute_weight=1.0, co_mention_weight=1.0).fit(
        hand_built()
    )
    p = model.transition_t_.T.toarray()
    # nodes: items 0..5, genre x (6), genre y (7), person d (8)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(p[0, [6, 8]], [0.5, 0.5])  # item 0: its two attributes
    np.testing.assert_allclose(p[4, [5, 7]], [0.5, 0.5])  # item 4: half co-mention, half genre y
    np.testing.assert_allclose(p[6, [0, 1]], [0.5, 0.5])  # genre x: its items, uniformly
    np.testing.assert_allclose(p[7, [3, 4, 5]], [1 / 3] * 3)


def test_power_iteration_matches_the_closed_form() -> None:
    model = PersonalizedPageRank(collab_neighbors=0, tol=1e-9, max_iter=500).fit(hand_built())
    r = model._restart((0,), None, ())
    np.testing.assert_allclose(model.pagerank(r), reference_ppr(model, r), atol=1e-6)


def test_an_items_attribute_neighbours_rank_above_unrelated_items() -> None:
    model = PersonalizedPageRank(collab_neighbors=0).fit(hand_built())
    rec = model.recommend(profiles=[Profile(liked_items=(0,))], k=5)[0]
    assert set(rec.items[:2].tolist()) == {1, 2}
    assert set(rec.items[2:].tolist()) == {3, 4, 5}


def test_attribute_seed_and_co_mentions() -> None:
    model = PersonalizedPageRank(collab_neighbors=0).fit(hand_built())
    rec = model.recommend(profiles=[Profile(liked_attributes=(1,))], k=3)[0]  # genre:y
    assert set(rec.items.tolist()) == {3, 4, 5}
    # seeded at item 4, its co-mentioned item 5 beats its genre-mate 3
    scores = model.score_profiles([Profile(liked_items=(4,))])[0]
    assert scores[5] > scores[3] > scores[0]


def test_dislikes_leave_the_restart_and_push_their_neighbourhood_down() -> None:
    model = PersonalizedPageRank(collab_neighbors=0).fit(hand_built())
    base, with_dislike = model.score_profiles(
        [Profile(liked_items=(0,)), Profile(liked_items=(0,), disliked_items=(2,))]
    )
    assert with_dislike[2] < base[2]
    assert with_dislike[1] > with_dislike[2]  # the genre-mate now beats the director-mate
    # the disliked walk is subtracted exactly (both discounted by in-degree^popularity_exponent)
    liked = model.item_walk(*model._restart_seeds((0,), None, ()))
    disliked = model.item_walk(*model._restart_seeds((2,), None, ()))
    expected = (liked - model.disliked_weight * disliked) * model.item_discount_
    np.testing.assert_allclose(with_dislike, expected, rtol=1e-5, atol=1e-7)


def test_known_user_restarts_at_their_training_items() -> None:
    data = hand_built()
    model = PersonalizedPageRank(collab_neighbors=0).fit(data)
    # a known user walks its restart at `tol`; a profile mixes seed walks taken to tol / 10: both are
    # within ~tol (L1) of the same fixed point, and tie-free orders agree
    user = model.score_users(np.array([1]))[0]
    profile = model.score_profiles([Profile(liked_items=(3,))])[0]
    np.testing.assert_allclose(user, profile, rtol=0, atol=model.tol)
    assert np.abs(user - profile).sum() < 2 * model.tol
    r = model._restart((3,), None, ())
    np.testing.assert_array_equal(user, model.pagerank(r)[:6] * model.item_discount_)


def test_popularity_exponent_discounts_hubs() -> None:
    plain = PersonalizedPageRank(collab_neighbors=0).fit(hand_built())
    tempered = PersonalizedPageRank(collab_neighbors=0, popularity_exponent=1.0).fit(hand_built())
    walk = plain.item_walk(*plain._restart_seeds((3,), None, ()))
    in_degree = np.asarray(plain.transition_t_.sum(axis=1)).ravel()[:6]
    np.testing.assert_allclose(
        tempered.score_profiles([Profile(liked_items=(3,))])[0], walk / in_degree, rtol=1e-5
    )


def test_collaborative_neighbours_link_co_rated_items() -> None:
    # items 0 and 1 are rated by the same users, item 2 by others; no attributes at all
    ui = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1]], dtype=np.float32))
    model = PersonalizedPageRank(collab_neighbors=1).fit(TrainData(ui))
    p = model.transition_t_.T.toarray()
    assert p[0, 1] == pytest.approx(1.0)  # item 0's single nearest neighbour is item 1
    assert np.diag(p).sum() == 0


@pytest.mark.parametrize(
    "kwargs",
    [{"alpha": 0.0}, {"alpha": 1.0}, {"max_iter": 0}, {"attribute_seed_share": 2.0}, {"collab_weight": -1}],
)
def test_bad_parameters_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValidationError):
        PersonalizedPageRank(**kwargs)


def test_seed_walks_come_from_the_cache_read_only_and_are_not_saved(tmp_path, monkeypatch) -> None:
    model = PersonalizedPageRank(collab_neighbors=0).fit(hand_built())
    walks = []
    real_walk = PersonalizedPageRank._walk

    def counting_walk(self: PersonalizedPageRank, r: np.ndarray, tol: float | None = None) -> np.ndarray:
        walks.append(np.flatnonzero(r).tolist())
        return real_walk(self, r, tol)

    monkeypatch.setattr(PersonalizedPageRank, "_walk", counting_walk)
    first = model.score_profiles([Profile(liked_items=(0,))])
    # the same seed again, with another seed, with another weight, as a dislike: walks of new seeds only
    model.score_profiles([Profile(liked_items=(0,))])
    model.score_profiles([Profile(liked_items=(0, 3), item_weights=(2.0, 1.0)), Profile(liked_items=(3,))])
    model.score_profiles([Profile(liked_items=(3,), disliked_items=(0,))])
    assert walks == [[0], [3]]
    assert not model.seed_walk(0).items.flags.writeable
    assert (model.seed_cache.hits, model.seed_cache.misses) == (6, 2)  # seed_walk(0) just above: a hit
    # the cache is never pickled, and a loaded model walks again to the same scores
    loaded = PersonalizedPageRank.load(model.save(tmp_path / "ppr.pkl"))
    assert "_seed_walks" not in loaded.__dict__
    np.testing.assert_array_equal(loaded.score_profiles([Profile(liked_items=(0,))]), first)
    assert walks[-1] == [0]
    # refitting forgets walks over the old graph
    model.fit(hand_built())
    assert "_seed_walks" not in model.__dict__
