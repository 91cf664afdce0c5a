"""Two generators built from ReDial's own mention statistics, used next to the registry's generators.

- `MentionPopularity`: how often each movie is mentioned in the training dialogues (log-scaled). The
  prior of the benchmark (MovieLens popularity is a different distribution: ReDial talks about recent
  mainstream films). Profiles do not change it.
- `CoMention`: item-to-item from `TrainData.item_item` (in how many training dialogues two movies are
  both mentioned), normalised like a cosine: S_ij = C_ij / (n_i^a * n_j^b + shrink) with n_i the number
  of dialogues mentioning i. A profile's scores are its weighted liked items times S, minus
  `disliked_weight` times its disliked items times S, plus `tie_break` times the log-scaled occurrence
  prior (movies co-mentioned with nothing in the profile are ordered by how often they are mentioned).

Both are ordinary `Recommender`s fitted on the dialogue's TrainData, so the fusion ranker can use them. Their
cold start (a profile without liked items) uses the ReDial counts as popularity, not the TrainData's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from recsys.catalog.types import Catalog
from recsys.data.types import Dialogue
from recsys.errors import ValidationError
from recsys.models.base import Recommender, profiles_to_csr
from recsys.models.types import Profile, TrainData


def mention_counts(catalog: Catalog, dialogues: Sequence[Dialogue]) -> np.ndarray:
    """`@id` mentions per catalog item over all messages (both speakers); unknown ids are not counted."""
    counts: Counter[int] = Counter()
    for dialogue in dialogues:
        for message in dialogue.messages:
            for span in message.mentions:
                item = catalog.from_redial(span.movie_id)
                if item is not None:
                    counts[item] += 1
    out = np.zeros(len(catalog), dtype=np.float32)
    if counts:
        out[np.fromiter(counts.keys(), dtype=np.int64)] = np.fromiter(counts.values(), dtype=np.float32)
    return out


def dialogue_occurrences(catalog: Catalog, dialogues: Sequence[Dialogue]) -> np.ndarray:
    """In how many dialogues each catalog item is mentioned (`@id` or `movieMentions`)."""
    out = np.zeros(len(catalog), dtype=np.float32)
    for dialogue in dialogues:
        ids = set(dialogue.movie_mentions) | {s.movie_id for m in dialogue.messages for s in m.mentions}
        items = {catalog.from_redial(r) for r in ids} - {None}
        out[list(items)] += 1.0
    return out


class MentionPopularity(Recommender):
    """The most mentioned movies of the training dialogues first, whatever the profile."""

    name: ClassVar[str] = "mention_pop"
    uses_attributes: ClassVar[bool] = True  # attribute-only profiles get the same prior

    def __init__(self, counts: np.ndarray) -> None:
        super().__init__()
        counts = np.asarray(counts, dtype=np.float64)
        if counts.ndim != 1 or (counts < 0).any():
            raise ValidationError("mention counts must be a 1-D array of non-negative numbers")
        self.counts = counts

    def _fit(self, data: TrainData, *, show_progress: bool) -> None:
        if len(self.counts) != data.n_items:
            raise ValidationError(f"{len(self.counts)} mention counts for {data.n_items} items")
        log = np.log1p(self.counts)
        self.scores_ = (log / max(float(log.max()), 1e-9)).astype(np.float32)
        self._popularity = self.counts.astype(np.float32)  # empty profiles: the same ranking

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.scores_, (len(users), self.n_items))

    def _score_profiles(self, profiles: Sequence[Profile]) -> np.ndarray:
        return np.broadcast_to(self.scores_, (len(profiles), self.n_items))


class CoMention(Recommender):
    """Item-to-item over ReDial co-mentions (see the module docstring)."""

    name: ClassVar[str] = "comention"

    def __init__(
        self,
        occurrences: np.ndarray,
        *,
        alpha: float = 0.5,
        beta: float = 0.5,
        shrink: float = 1.0,
        disliked_weight: float = 0.5,
        tie_break: float = 1e-3,
    ) -> None:
        super().__init__()
        occurrences = np.asarray(occurrences, dtype=np.float64)
        if occurrences.ndim != 1 or (occurrences < 0).any():
            raise ValidationError("occurrences must be a 1-D array of non-negative numbers")
        if min(alpha, beta, shrink, disliked_weight, tie_break) < 0:
            raise ValidationError("alpha, beta, shrink, disliked_weight and tie_break must be >= 0")
        self.occurrences = occurrences
        self.alpha, self.beta, self.shrink = float(alpha), float(beta), float(shrink)
        self.disliked_weight = float(disliked_weight)
        self.tie_break = float(tie_break)
        log = np.log1p(occurrences)
        self.prior_ = (log / max(float(log.max()), 1e-9)).astype(np.float32)
        self.similarity_: sp.csr_matrix | None = None

    def _fit(self, data: TrainData, *, show_progress: bool) -> None:
        if data.item_item is None:
            raise ValidationError(f"{self.name}: the TrainData has no co-mention matrix (item_item)")
        if len(self.occurrences) != data.n_items:
            raise ValidationError(f"{len(self.occurrences)} occurrence counts for {data.n_items} items")
        counts = sp.coo_matrix(data.item_item)
        n = np.maximum(self.occurrences, 1.0)
        denom = n[counts.row] ** self.alpha * n[counts.col] ** self.beta + self.shrink
        sim = sp.csr_matrix(
            (counts.data / denom, (counts.row, counts.col)), shape=counts.shape, dtype=np.float32
        )
        sim.eliminate_zeros()
        self.similarity_ = sim
        self._popularity = self.occurrences.astype(np.float32)  # cold start: ReDial, not MovieLens

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        assert self.similarity_ is not None
        scores = np.asarray((self.data.user_items[users] @ self.similarity_).toarray(), dtype=np.float32)
        return scores + self.tie_break * self.prior_

    def _score_profiles(self, profiles: Sequence[Profile]) -> np.ndarray:
        assert self.similarity_ is not None
        rows = profiles_to_csr(profiles, self.n_items, disliked_weight=self.disliked_weight)
        scores = np.asarray((rows @ self.similarity_).toarray(), dtype=np.float32)
        return scores + self.tie_break * self.prior_
