"""Popularity: the contract (minus the block assertions it cannot meet) and its order."""

from __future__ import annotations

import numpy as np

from recsys.models.base import Recommender
from recsys.models.popularity import Popularity
from recsys.models.types import Profile
from tests.recsys.models.contract import ContractData, RecommenderContract


class TestPopularityContract(RecommenderContract):
    personalised = False
    handles_dislikes = False

    def make_model(self) -> Recommender:
        return Popularity()

    @staticmethod
    def _order(cdata: ContractData, without: set[int]) -> list[int]:
        pop = cdata.data.item_popularity()
        return [int(i) for i in np.lexsort((np.arange(len(pop)), -pop)) if int(i) not in without]

    def test_scores_are_normalised_log_popularity(self, model: Recommender, cdata: ContractData) -> None:
        pop = cdata.data.item_popularity()
        expected = np.log1p(pop) / np.log1p(pop).max()
        np.testing.assert_allclose(model.score_users(np.array([0, 5]))[1], expected, rtol=1e-6)
        assert model.score_users(np.array([0]))[0].max() == 1.0

    def test_every_query_gets_the_popularity_order_minus_what_it_excludes(
        self, model: Recommender, cdata: ContractData
    ) -> None:
        for u in (0, 17, 40):
            seen = set(cdata.seen(u).tolist())
            assert model.recommend([u], k=6)[0].items.tolist() == self._order(cdata, seen)[:6]
        p = Profile(liked_items=(0, 1), disliked_items=(2,))
        assert model.recommend(profiles=[p], k=6)[0].items.tolist() == self._order(cdata, {0, 1, 2})[:6]
        assert model.similar_items([3], k=6)[0].items.tolist() == self._order(cdata, {3})[:6]
