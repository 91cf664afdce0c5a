"""Popularity: the most-interacted items first. The floor every other model must beat."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recsys.models.base import Recommender
from recsys.models.types import Profile, TrainData


class Popularity(Recommender):
    name = "popularity"

    def _fit(self, data: TrainData, *, show_progress: bool) -> None:
        pop = data.item_popularity()
        self.scores_ = (np.log1p(pop) / max(float(np.log1p(pop).max()), 1e-9)).astype(np.float32)

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.scores_, (len(users), self.n_items))

    def _score_profiles(self, profiles: Sequence[Profile]) -> np.ndarray:
        return np.broadcast_to(self.scores_, (len(profiles), self.n_items))
